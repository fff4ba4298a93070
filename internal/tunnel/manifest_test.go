package tunnel

import (
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// recordedImportYAML is the manifest a real Rancher v2.15.0 served at a registration token's
// manifestUrl (server URL https://127.0.0.1:8443, no CATTLE_AGENT_IMAGE/CATTLE_SERVER_VERSION
// on the server, token redacted): a copy of shared/reference/rancher-v2.15-api/import.yaml.
const recordedImportYAML = "manifests/testdata/import-v2.15.0.yaml"

// recordedValues are the recording's values. Its token was replaced by "REDACTED" after
// base64 encoding; "REDACTED" is itself valid base64, so the token below encodes back to it.
func recordedValues(t *testing.T) ManifestValues {
	tok, err := base64.StdEncoding.DecodeString("REDACTED")
	if err != nil {
		t.Fatal(err)
	}
	return ManifestValues{
		ServerURL:     "https://127.0.0.1:8443",
		Token:         string(tok),
		CAChecksum:    "9e6840080272a8a936c8d1dc2fde8114cb4ef63a83aee844fc94af3190ab6580",
		AgentImage:    "rancher/rancher-agent:head",
		ServerVersion: "dev",
		InstallUUID:   "42c60bae-6409-4d08-bf16-9363be33058c",
	}
}

// TestRenderImportManifestRecorded renders the recording's values and compares byte for byte.
// The one difference explained away: the Secret's name hashes the real token, which the
// recording redacted, so the rendered name (three places) is replaced by the recorded one.
func TestRenderImportManifestRecorded(t *testing.T) {
	want, err := os.ReadFile(recordedImportYAML)
	if err != nil {
		t.Fatal(err)
	}
	v := recordedValues(t)
	got, err := RenderImportManifest(v)
	if err != nil {
		t.Fatal(err)
	}
	name := CredentialSecretName(v.ServerURL, v.Token, "")
	if n := bytes.Count(got, []byte(name)); n != 3 {
		t.Fatalf("credential name %s appears %d times, want 3 (Secret, env, volume)", name, n)
	}
	got = bytes.ReplaceAll(got, []byte(name), []byte("cattle-credentials-3858e378e5"))
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("first difference at line %d:\n got: %q\nwant: %q", i+1, g, w)
			}
		}
		t.Fatalf("rendered %d bytes, recorded %d", len(got), len(want))
	}
}

func TestCredentialSecretName(t *testing.T) {
	tests := []struct {
		url, token, ns, want string
	}{
		// sha256("https://r.example.com.tok.")[:10] and sha256("https://r.example.com.tok.c-abcde")[:10],
		// computed independently with sha256sum.
		{"https://r.example.com", "tok", "", "cattle-credentials-7dfe10b1f0"},
		{"https://r.example.com", "tok", "c-abcde", "cattle-credentials-c0bab66aa2"},
	}
	for _, tt := range tests {
		if got := CredentialSecretName(tt.url, tt.token, tt.ns); got != tt.want {
			t.Errorf("CredentialSecretName(%q, %q, %q) = %s, want %s", tt.url, tt.token, tt.ns, got, tt.want)
		}
	}
}

// manifestObjects decodes a rendered manifest into its objects.
func manifestObjects(t *testing.T, m []byte) []*unstructured.Unstructured {
	t.Helper()
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(m), 4096)
	var objs []*unstructured.Unstructured
	for {
		var o map[string]any
		if err := d.Decode(&o); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode: %v\n%s", err, m)
		}
		if o == nil {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: o})
	}
	return objs
}

func findObject(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func agentEnv(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	d := findObject(objs, "Deployment", "cattle-cluster-agent")
	if d == nil {
		t.Fatal("no Deployment cattle-cluster-agent")
	}
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	env := map[string]any{}
	for _, e := range cs[0].(map[string]any)["env"].([]any) {
		m := e.(map[string]any)
		env[m["name"].(string)] = m["value"]
	}
	return env
}

func TestRenderImportManifest(t *testing.T) {
	base := ManifestValues{ServerURL: "https://rancher.example.com", Token: "t0ken", CAChecksum: "abc"}
	tests := []struct {
		name   string
		mutate func(*ManifestValues)
		check  func(t *testing.T, objs []*unstructured.Unstructured, env map[string]any)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, objs []*unstructured.Unstructured, env map[string]any) {
				want := map[string]any{
					"CATTLE_SERVER": "https://rancher.example.com", "CATTLE_CA_CHECKSUM": "abc",
					"CATTLE_CLUSTER": "true", "CATTLE_K8S_MANAGED": "true", "CATTLE_SYSTEM_DEFAULT_REGISTRY": "",
					"CATTLE_CREDENTIAL_NAME":       CredentialSecretName(base.ServerURL, base.Token, ""),
					"CATTLE_SUC_APP_NAME_OVERRIDE": "", "CATTLE_SERVER_VERSION": "v2.15.0",
					"CATTLE_INSTALL_UUID": installUUID(base.ServerURL), "CATTLE_INGRESS_IP_DOMAIN": "sslip.io",
					"STRICT_VERIFY": "true",
				}
				if len(env) != len(want) {
					t.Errorf("env %v", env)
				}
				for k, v := range want {
					if env[k] != v {
						t.Errorf("env %s = %v, want %v", k, env[k], v)
					}
				}
				d := findObject(objs, "Deployment", "cattle-cluster-agent")
				cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
				if img := cs[0].(map[string]any)["image"]; img != DefaultAgentImage {
					t.Errorf("image %v", img)
				}
				s := findObject(objs, "Secret", CredentialSecretName(base.ServerURL, base.Token, ""))
				if s == nil {
					t.Fatal("no credentials Secret")
				}
				data, _, _ := unstructured.NestedStringMap(s.Object, "data")
				if data["url"] != base64.StdEncoding.EncodeToString([]byte(base.ServerURL)) ||
					data["token"] != base64.StdEncoding.EncodeToString([]byte(base.Token)) || data["namespace"] != "" {
					t.Errorf("secret data %v", data)
				}
			},
		},
		{
			name: "clusterdeploy: cluster id, features, taints, env vars",
			mutate: func(v *ManifestValues) {
				v.ClusterID = "c-abcde"
				v.Features = ClusterDeployFeatures
				v.Taints = []corev1.Taint{
					{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
					{Key: "dedicated", Value: "cp", Effect: corev1.TaintEffectNoExecute},
				}
				v.AgentEnvVars = []corev1.EnvVar{{Name: "HTTP_PROXY", Value: "http://proxy:3128"}, {Name: "STRICT_VERIFY", Value: "false"}}
				v.AgentImage, v.ServerVersion = "reg.example.com/rancher/rancher-agent:v2.15.0", "v2.15.0"
				v.SystemDefaultRegistry = "reg.example.com"
			},
			check: func(t *testing.T, objs []*unstructured.Unstructured, env map[string]any) {
				name := CredentialSecretName(base.ServerURL, base.Token, "c-abcde")
				s := findObject(objs, "Secret", name)
				if s == nil {
					t.Fatalf("no Secret %s", name)
				}
				if ns, _, _ := unstructured.NestedString(s.Object, "data", "namespace"); ns != base64.StdEncoding.EncodeToString([]byte("c-abcde")) {
					t.Errorf("data.namespace %q", ns)
				}
				if env["CATTLE_FEATURES"] != ClusterDeployFeatures || env["HTTP_PROXY"] != "http://proxy:3128" ||
					env["STRICT_VERIFY"] != "false" || env["CATTLE_CREDENTIAL_NAME"] != name ||
					env["CATTLE_SYSTEM_DEFAULT_REGISTRY"] != "reg.example.com" {
					t.Errorf("env %v", env)
				}
				d := findObject(objs, "Deployment", "cattle-cluster-agent")
				tols, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "tolerations")
				if len(tols) != 2 {
					t.Fatalf("tolerations %v", tols)
				}
				t0, t1 := tols[0].(map[string]any), tols[1].(map[string]any)
				if t0["operator"] != "Exists" || t0["key"] != "node-role.kubernetes.io/control-plane" || t0["value"] != nil ||
					t1["operator"] != "Equal" || t1["value"] != "cp" || t1["effect"] != "NoExecute" {
					t.Errorf("tolerations %v", tols)
				}
			},
		},
		{
			name:   "system-store TLS mode",
			mutate: func(v *ManifestValues) { v.InsecureAgentTLS = true },
			check: func(t *testing.T, _ []*unstructured.Unstructured, env map[string]any) {
				if env["STRICT_VERIFY"] != "false" {
					t.Errorf("STRICT_VERIFY %v", env["STRICT_VERIFY"])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := base
			if tt.mutate != nil {
				tt.mutate(&v)
			}
			m, err := RenderImportManifest(v)
			if err != nil {
				t.Fatal(err)
			}
			objs := manifestObjects(t, m)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.GetKind()]++
			}
			if len(objs) != 9 || kinds["ClusterRole"] != 2 || kinds["ClusterRoleBinding"] != 2 || kinds["Namespace"] != 1 ||
				kinds["ServiceAccount"] != 1 || kinds["Secret"] != 1 || kinds["Deployment"] != 1 || kinds["Service"] != 1 {
				t.Fatalf("objects by kind: %v", kinds)
			}
			tt.check(t, objs, agentEnv(t, objs))
		})
	}
}

func TestRenderImportManifestInvalid(t *testing.T) {
	tests := []struct {
		name string
		v    ManifestValues
	}{
		{"no URL", ManifestValues{Token: "t"}},
		{"no token", ManifestValues{ServerURL: "https://r"}},
		{"not a URL", ManifestValues{ServerURL: "r.example.com", Token: "t"}},
		{"quote in image", ManifestValues{ServerURL: "https://r", Token: "t", AgentImage: `a"b`}},
		{"newline in checksum", ManifestValues{ServerURL: "https://r", Token: "t", CAChecksum: "a\nb"}},
	}
	for _, tt := range tests {
		if _, err := RenderImportManifest(tt.v); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
