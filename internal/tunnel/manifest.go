package tunnel

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The import manifest, rendered as Rancher v2.15 renders it (pkg/systemtemplate/import.go,
// SystemTemplate). What the source and the recorded v2.15.0 manifest say about each value:
//
//   - Secret cattle-credentials-<TokenKey>: TokenKey is the first 10 hex characters of
//     sha256("<url>.<token>.<namespace>") (older releases used md5(url+token+namespace)[:7]).
//     data.url, data.token and data.namespace are the standard base64 of the plain values.
//     The recording's token is redacted, so its hash (3858e378e5) cannot be recomputed.
//   - namespace is "" in the manifest served at a registration token's manifestUrl
//     (/v3/import/<token>_<cluster>.yaml, the recorded import.yaml: `namespace: ""`), and the
//     management cluster's name (c-xxxxx) in the one clusterdeploy applies itself
//     (systemtemplate.ForCluster); it is part of the hash, so the two manifests name their
//     Secret differently.
//   - token: the manifestUrl manifest carries that CRT's token (e.g. default-token); the
//     clusterdeploy manifest carries the token of the cluster's "system" CRT
//     (systemAccountManager.GetOrCreateSystemClusterToken).
//   - url and CATTLE_SERVER: the server-url setting.
//   - CATTLE_CA_CHECKSUM: sha256 hex of the cacerts setting with a trailing newline added
//     when missing; empty when cacerts is empty (a publicly trusted certificate).
//   - image: settings.AgentImage (CATTLE_AGENT_IMAGE of the server, rancher/rancher-agent:
//     v2.15.0 in the v2.15.0 image; "rancher/rancher-agent:head" when unset, as recorded),
//     prefixed with the system default registry when one is set (pkg/image).
//   - CATTLE_SERVER_VERSION, CATTLE_INSTALL_UUID, CATTLE_INGRESS_IP_DOMAIN: the agent
//     settings (settings.DefaultAgentSettingsAsEnvVars), marshalled with sigs.k8s.io/yaml,
//     followed by the cluster's spec.agentEnvVars and STRICT_VERIFY (agent-tls-mode).
//   - CATTLE_FEATURES: only when the feature string is not empty. The manifestUrl handler
//     of v2.15.0 passes none (the recording has no CATTLE_FEATURES); clusterdeploy passes
//     systemtemplate.GetDesiredFeatures(cluster), see ClusterDeployFeatures. Its place, first
//     in env, is that of older templates; the v2.15 template source was not at hand.
//   - tolerations: the defaults, or, when clusterdeploy found taints on control-plane
//     nodes, one toleration per taint (Exists without a value, Equal with one).

//go:embed manifests/import.yaml.tmpl
var importTemplateSource string

var importTemplate = template.Must(template.New("import").
	Funcs(template.FuncMap{"indent": manifestIndent}).
	Parse(importTemplateSource))

const (
	// DefaultAgentImage is the agent image of Rancher v2.15.0.
	DefaultAgentImage = "rancher/rancher-agent:v2.15.0"
	// DefaultServerVersion is CATTLE_SERVER_VERSION of Rancher v2.15.0.
	DefaultServerVersion = "v2.15.0"
	// defaultIngressIPDomain is the default of Rancher's ingress-ip-domain setting.
	defaultIngressIPDomain = "sslip.io"

	// ClusterDeployFeatures is CATTLE_FEATURES as clusterdeploy renders it for a generic
	// imported cluster: GetDesiredFeatures sorted by name, as read in a recent Rancher source;
	// the v2.15.0 set may lack a flag or two (turtles, provisioningprebootstrap), which
	// changes nothing a simulated cluster does with it.
	ClusterDeployFeatures = "fleet=false,managed-system-upgrade-controller=false," +
		"multi-cluster-management=false,multi-cluster-management-agent=true," +
		"provisioningprebootstrap=false,provisioningv2=false,rke2=false,turtles=false"
)

// ManifestValues are the inputs of one cluster's import manifest.
type ManifestValues struct {
	// ServerURL is Rancher's server-url setting, e.g. https://rancher.example.com. Required.
	ServerURL string
	// Token is the registration token the agent will present. Required.
	Token string
	// ClusterID is the management cluster's name (c-xxxxx) for the manifest clusterdeploy
	// applies; empty renders the manifest served at the token's manifestUrl.
	ClusterID string
	// CAChecksum is CATTLE_CA_CHECKSUM; empty when Rancher's certificate is publicly trusted.
	CAChecksum string
	// AgentImage defaults to DefaultAgentImage.
	AgentImage string
	// ServerVersion is CATTLE_SERVER_VERSION; default DefaultServerVersion.
	ServerVersion string
	// InstallUUID is CATTLE_INSTALL_UUID, Rancher's install-uuid setting; default a UUID
	// derived from ServerURL, so that one simulated Rancher keeps one.
	InstallUUID string
	// IngressIPDomain is CATTLE_INGRESS_IP_DOMAIN; default sslip.io.
	IngressIPDomain string
	// SystemDefaultRegistry is CATTLE_SYSTEM_DEFAULT_REGISTRY. It does not prefix AgentImage:
	// give the resolved image.
	SystemDefaultRegistry string
	// InsecureAgentTLS renders STRICT_VERIFY "false", as agent-tls-mode system-store does;
	// the default is Rancher's default, strict ("true").
	InsecureAgentTLS bool
	// Features is CATTLE_FEATURES; empty leaves the variable out (see ClusterDeployFeatures).
	Features string
	// Taints are the control-plane nodes' taints clusterdeploy found (it leaves out the
	// node.kubernetes.io/ ones); empty renders the default tolerations.
	Taints []corev1.Taint
	// AgentEnvVars are the cluster's spec.agentEnvVars, appended after the agent settings.
	AgentEnvVars []corev1.EnvVar
}

// importContext is what the template sees, as systemtemplate's clusterAgentContext.
type importContext struct {
	TokenKey, URL, Token, Namespace string
	URLPlain, CAChecksum            string
	AgentImage                      string
	SystemDefaultRegistry           string
	Features                        string
	Tolerations                     string
	AgentEnvVars                    string
}

// CredentialSecretName is the name of the cattle-credentials Secret of the manifest for
// serverURL, token and clusterID ("" for the manifestUrl manifest).
func CredentialSecretName(serverURL, token, clusterID string) string {
	return "cattle-credentials-" + credentialKey(serverURL, token, clusterID)
}

func credentialKey(serverURL, token, namespace string) string {
	d := sha256.Sum256([]byte(serverURL + "." + token + "." + namespace))
	return hex.EncodeToString(d[:])[:10]
}

// RenderImportManifest renders the import manifest for v.
func RenderImportManifest(v ManifestValues) ([]byte, error) {
	if v.ServerURL == "" || v.Token == "" {
		return nil, errors.New("import manifest: server URL and token are required")
	}
	if u, err := url.Parse(v.ServerURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("import manifest: server URL %q is not an http(s) URL", v.ServerURL)
	}
	// Values the template quotes itself: a quote or line break would break the YAML.
	for name, s := range map[string]string{
		"server URL": v.ServerURL, "CA checksum": v.CAChecksum, "agent image": v.AgentImage,
		"system default registry": v.SystemDefaultRegistry, "features": v.Features,
	} {
		if strings.ContainsAny(s, "\"\\\r\n") {
			return nil, fmt.Errorf("import manifest: %s %q contains a quote or line break", name, s)
		}
	}
	if v.AgentImage == "" {
		v.AgentImage = DefaultAgentImage
	}
	if v.ServerVersion == "" {
		v.ServerVersion = DefaultServerVersion
	}
	if v.InstallUUID == "" {
		v.InstallUUID = installUUID(v.ServerURL)
	}
	if v.IngressIPDomain == "" {
		v.IngressIPDomain = defaultIngressIPDomain
	}
	strict := "true"
	if v.InsecureAgentTLS {
		strict = "false"
	}
	// settings.DefaultAgentSettingsAsEnvVars, then spec.agentEnvVars, then STRICT_VERIFY
	// unless the cluster sets it itself.
	env := []corev1.EnvVar{
		{Name: "CATTLE_SERVER_VERSION", Value: v.ServerVersion},
		{Name: "CATTLE_INSTALL_UUID", Value: v.InstallUUID},
		{Name: "CATTLE_INGRESS_IP_DOMAIN", Value: v.IngressIPDomain},
	}
	env = append(env, v.AgentEnvVars...)
	hasStrict := false
	for _, e := range v.AgentEnvVars {
		hasStrict = hasStrict || e.Name == "STRICT_VERIFY"
	}
	if !hasStrict {
		env = append(env, corev1.EnvVar{Name: "STRICT_VERIFY", Value: strict})
	}
	envYAML, err := manifestYAML(env)
	if err != nil {
		return nil, fmt.Errorf("import manifest: agent env: %w", err)
	}
	var tolerations string
	if len(v.Taints) > 0 {
		ts := make([]corev1.Toleration, 0, len(v.Taints))
		for _, t := range v.Taints {
			tol := corev1.Toleration{Key: t.Key, Effect: t.Effect, Operator: corev1.TolerationOpExists}
			if t.Value != "" {
				tol.Operator, tol.Value = corev1.TolerationOpEqual, t.Value
			}
			ts = append(ts, tol)
		}
		if tolerations, err = manifestYAML(ts); err != nil {
			return nil, fmt.Errorf("import manifest: tolerations: %w", err)
		}
	}

	ctx := importContext{
		TokenKey:              credentialKey(v.ServerURL, v.Token, v.ClusterID),
		URL:                   base64.StdEncoding.EncodeToString([]byte(v.ServerURL)),
		Token:                 base64.StdEncoding.EncodeToString([]byte(v.Token)),
		Namespace:             base64.StdEncoding.EncodeToString([]byte(v.ClusterID)),
		URLPlain:              v.ServerURL,
		CAChecksum:            v.CAChecksum,
		AgentImage:            v.AgentImage,
		SystemDefaultRegistry: v.SystemDefaultRegistry,
		Features:              v.Features,
		Tolerations:           tolerations,
		AgentEnvVars:          envYAML,
	}
	var buf bytes.Buffer
	if err := importTemplate.Execute(&buf, ctx); err != nil {
		return nil, fmt.Errorf("import manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// manifestYAML is systemtemplate's toYAML: JSON, then YAML, without the final newline.
func manifestYAML(v any) (string, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(y), "\n"), nil
}

// manifestIndent is sprig's indent: n spaces before every line.
func manifestIndent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

// installUUID formats a hash of s as a version-4-shaped UUID.
func installUUID(s string) string {
	d := sha256.Sum256([]byte("install-uuid:" + s))
	d[6] = d[6]&0x0f | 0x40
	d[8] = d[8]&0x3f | 0x80
	h := hex.EncodeToString(d[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
