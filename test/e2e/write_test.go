package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// jsonpathCase is one `kubectl get -o jsonpath` expectation.
type jsonpathCase struct {
	object, path, want string
}

func checkJSONPaths(t *testing.T, kctx, ns string, cases []jsonpathCase) {
	t.Helper()
	for _, c := range cases {
		args := []string{"get", c.object, "-o", "jsonpath=" + c.path}
		if ns != "" {
			args = append([]string{"-n", ns}, args...)
		}
		out, errOut, err := kubectl(t, kctx, args...)
		if err != nil {
			t.Errorf("get %s %s: %v\n%s", c.object, c.path, err, errOut)
			continue
		}
		if !cellMatches(out, c.want) {
			t.Errorf("%s %s = %q, want %q", c.object, c.path, out, c.want)
		}
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	const ns = "e2e-create"
	createNamespace(t, ctx1, ns)
	for _, tc := range []struct {
		args   []string
		stdout string
	}{
		{[]string{"create", "configmap", "c1", "--from-literal=a=1", "--from-literal=b=two"}, "configmap/c1 created\n"},
		{[]string{"create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"}, "deployment.apps/web created\n"},
		{[]string{"create", "secret", "generic", "s1", "--from-literal=user=admin", "--from-literal=password=hunter2"}, "secret/s1 created\n"},
		{[]string{"create", "serviceaccount", "bot"}, "serviceaccount/bot created\n"},
		{[]string{"create", "sa", "bot2"}, "serviceaccount/bot2 created\n"},
		{[]string{"create", "service", "clusterip", "svc", "--tcp=8080:80"}, "service/svc created\n"},
		{[]string{"create", "role", "reader", "--verb=get,list", "--resource=pods"}, "role.rbac.authorization.k8s.io/reader created\n"},
		{[]string{"create", "rolebinding", "reader", "--role=reader", "--serviceaccount=" + ns + ":bot"}, "rolebinding.rbac.authorization.k8s.io/reader created\n"},
		{[]string{"create", "job", "once", "--image=busybox", "--", "true"}, "job.batch/once created\n"},
		{[]string{"create", "cronjob", "nightly", "--image=busybox", "--schedule=0 0 * * *"}, "cronjob.batch/nightly created\n"},
	} {
		out, errOut, err := kubectl(t, ctx1, append([]string{"-n", ns}, tc.args...)...)
		if err != nil || out != tc.stdout {
			t.Errorf("kubectl %s: stdout %q (want %q), err %v, stderr %q", strings.Join(tc.args, " "), out, tc.stdout, err, errOut)
		}
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	checkJSONPaths(t, ctx1, ns, []jsonpathCase{
		{"configmap/c1", "{.data}", `{"a":"1","b":"two"}`},
		{"deployment/web", "{.spec.replicas}", "2"},
		{"deployment/web", "{.spec.selector.matchLabels}", `{"app":"web"}`},
		{"deployment/web", "{.spec.template.metadata.labels}", `{"app":"web"}`},
		{"deployment/web", "{.spec.template.spec.containers[0].name} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}", "nginx nginx:1.27 80"},
		{"deployment/web", "{.metadata.generation}", "1"},
		{"secret/s1", "{.data.password} {.data.user}", b64("hunter2") + " " + b64("admin")},
		{"serviceaccount/bot", "{.metadata.name} {.metadata.namespace}", "bot " + ns},
		{"service/svc", "{.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector}", `8080 80 {"app":"svc"}`},
		{"rolebinding/reader", "{.roleRef.kind}/{.roleRef.name} {.subjects[0].kind}/{.subjects[0].namespace}/{.subjects[0].name}", "Role/reader ServiceAccount/" + ns + "/bot"},
		{"cronjob/nightly", "{.spec.schedule}", "0 0 * * *"},
	})
}

// TestServerDefaulting checks the defaults a kube-apiserver fills in on create.
func TestServerDefaulting(t *testing.T) {
	t.Parallel()
	const ns = "e2e-defaults"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "secret", "generic", "s1", "--from-literal=a=b")
	mustKubectl(t, ctx1, "-n", ns, "create", "deployment", "web", "--image=nginx")
	mustKubectl(t, ctx1, "-n", ns, "create", "service", "clusterip", "svc", "--tcp=80:8080")
	mustKubectl(t, ctx1, "-n", ns, "run", "pod", "--image=nginx")
	const tpl = "{.spec.template.spec"
	checkJSONPaths(t, ctx1, ns, []jsonpathCase{
		{"secret/s1", "{.type}", "Opaque"},
		{"deployment/web", "{.spec.strategy.type}", "RollingUpdate"},
		{"deployment/web", "{.spec.strategy.rollingUpdate.maxSurge} {.spec.strategy.rollingUpdate.maxUnavailable}", "25% 25%"},
		{"deployment/web", "{.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds}", "10 600"},
		{"deployment/web", tpl + ".restartPolicy} " + tpl + ".dnsPolicy} " + tpl + ".schedulerName} " + tpl + ".terminationGracePeriodSeconds}",
			"Always ClusterFirst default-scheduler 30"},
		{"deployment/web", tpl + ".containers[0].imagePullPolicy} " + tpl + ".containers[0].terminationMessagePath} " + tpl + ".containers[0].terminationMessagePolicy}",
			"Always /dev/termination-log File"},
		{"service/svc", "{.spec.sessionAffinity} {.spec.ipFamilyPolicy} {.spec.ipFamilies} {.spec.internalTrafficPolicy}", `None SingleStack ["IPv4"] Cluster`},
		{"service/svc", "{.spec.clusterIP}", `re:^10\.(9[6-9]|10[0-9]|11[01])\.[0-9]+\.[0-9]+$`},
		{"service/svc", "{.spec.clusterIPs[0]}", `re:^10\.(9[6-9]|10[0-9]|11[01])\.[0-9]+\.[0-9]+$`},
		{"pod/pod", "{.spec.schedulerName} {.spec.terminationGracePeriodSeconds} {.spec.enableServiceLinks}", "default-scheduler 30 true"},
		{"pod/pod", "{.spec.containers[0].imagePullPolicy} {.spec.containers[0].terminationMessagePath}", "Always /dev/termination-log"},
		{"pod/pod", "{.status.phase} {.status.qosClass}", "Pending BestEffort"},
		{"namespace/" + ns, "{.spec.finalizers} {.status.phase} {.metadata.labels}", `["kubernetes"] Active {"kubernetes.io/metadata.name":"` + ns + `"}`},
	})
	// Two services never get the same ClusterIP.
	mustKubectl(t, ctx1, "-n", ns, "create", "service", "clusterip", "svc2", "--tcp=80:8080")
	a := mustKubectl(t, ctx1, "-n", ns, "get", "svc", "svc", "-o", "jsonpath={.spec.clusterIP}")
	b := mustKubectl(t, ctx1, "-n", ns, "get", "svc", "svc2", "-o", "jsonpath={.spec.clusterIP}")
	if a == b || !inServiceCIDR(a) || !inServiceCIDR(b) {
		t.Errorf("clusterIPs %q and %q: want two distinct addresses in 10.96.0.0/12", a, b)
	}
}

// TestNewNamespaceContents: a namespace created with kubectl gets its default
// ServiceAccount and the kube-root-ca.crt ConfigMap, as the seeded ones have.
func TestNewNamespaceContents(t *testing.T) {
	t.Parallel()
	const ns = "e2e-nscontents"
	createNamespace(t, ctx1, ns)
	ca := mustKubectl(t, ctx1, "-n", "kube-system", "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}")
	eventually(t, 10*time.Second, func() string {
		out, errOut, err := kubectl(t, ctx1, "-n", ns, "get", "serviceaccounts,configmaps", "-o", "name")
		if err != nil {
			return errOut
		}
		if out != "serviceaccount/default\nconfigmap/kube-root-ca.crt\n" {
			return fmt.Sprintf("new namespace %s holds %q, want serviceaccount/default and configmap/kube-root-ca.crt", ns, out)
		}
		return ""
	})
	if got := mustKubectl(t, ctx1, "-n", ns, "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}"); got != ca || !strings.HasPrefix(ca, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("kube-root-ca.crt of %s differs from kube-system's", ns)
	}
}

// jwtClaims decodes the payload of a JWT.
func jwtClaims(t *testing.T, token string) map[string]interface{} {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %.20q… is not a JWT (%d dot-separated parts, want 3)", token, len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var claims map[string]interface{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("JWT claims: %v", err)
	}
	return claims
}

func TestTokenRequestWhoAmI(t *testing.T) {
	t.Parallel()
	const ns = "e2e-token"
	createNamespace(t, ctx1, ns)
	if out := mustKubectl(t, ctx1, "-n", ns, "create", "serviceaccount", "bot"); out != "serviceaccount/bot created\n" {
		t.Fatalf("create sa: %q", out)
	}
	saUID := mustKubectl(t, ctx1, "-n", ns, "get", "sa", "bot", "-o", "jsonpath={.metadata.uid}")
	token := strings.TrimSpace(mustKubectl(t, ctx1, "-n", ns, "create", "token", "bot"))
	if token == "" {
		t.Fatal("create token printed nothing")
	}
	sub := "system:serviceaccount:" + ns + ":bot"

	t.Run("jwt", func(t *testing.T) {
		claims := jwtClaims(t, token)
		if claims["sub"] != sub {
			t.Errorf("sub = %v, want %s", claims["sub"], sub)
		}
		iat, _ := claims["iat"].(float64)
		exp, _ := claims["exp"].(float64)
		if exp-iat != 3600 {
			t.Errorf("exp-iat = %v, want 3600 (TokenRequest default)", exp-iat)
		}
		k8s, _ := claims["kubernetes.io"].(map[string]interface{})
		sa, _ := k8s["serviceaccount"].(map[string]interface{})
		if k8s["namespace"] != ns || sa["name"] != "bot" || sa["uid"] != saUID {
			t.Errorf("kubernetes.io claim = %v", claims["kubernetes.io"])
		}
		if jti, _ := claims["jti"].(string); jti == "" {
			t.Errorf("no jti claim")
		}
	})

	t.Run("duration", func(t *testing.T) {
		var tr struct {
			Kind   string `json:"kind"`
			Status struct {
				Token               string `json:"token"`
				ExpirationTimestamp string `json:"expirationTimestamp"`
			} `json:"status"`
		}
		mustJSON(t, mustKubectl(t, ctx1, "-n", ns, "create", "token", "bot", "--duration=10m", "-o", "json"), &tr)
		if tr.Kind != "TokenRequest" {
			t.Errorf("kind %q, want TokenRequest", tr.Kind)
		}
		exp, err := time.Parse(time.RFC3339, tr.Status.ExpirationTimestamp)
		if err != nil || exp.Sub(time.Now()) > 10*time.Minute+5*time.Second || exp.Sub(time.Now()) < 9*time.Minute {
			t.Errorf("expirationTimestamp %q: want about 10 minutes from now (%v)", tr.Status.ExpirationTimestamp, err)
		}
		if tr.Status.Token != "" {
			c := jwtClaims(t, tr.Status.Token)
			exp, _ := c["exp"].(float64)
			iat, _ := c["iat"].(float64)
			if exp-iat != 600 {
				t.Errorf("--duration=10m token: exp-iat = %v, want 600", exp-iat)
			}
		}
	})

	t.Run("whoami", func(t *testing.T) {
		out := mustKubectl(t, ctx1, "--token", token, "auth", "whoami")
		requireContains(t, "auth whoami", out, "ATTRIBUTE", "VALUE")
		// The column is as wide as the longest attribute (the credential-id extra).
		if !regexp.MustCompile(`(?m)^Username\s+` + regexp.QuoteMeta(sub) + `$`).MatchString(out) {
			t.Errorf("auth whoami: no Username row for %s in:\n%s", sub, out)
		}
		var review struct {
			Kind   string `json:"kind"`
			Status struct {
				UserInfo struct {
					Username string              `json:"username"`
					UID      string              `json:"uid"`
					Groups   []string            `json:"groups"`
					Extra    map[string][]string `json:"extra"`
				} `json:"userInfo"`
			} `json:"status"`
		}
		mustJSON(t, mustKubectl(t, ctx1, "--token", token, "auth", "whoami", "-o", "json"), &review)
		u := review.Status.UserInfo
		if review.Kind != "SelfSubjectReview" || u.Username != sub || u.UID != saUID {
			t.Errorf("SelfSubjectReview kind %q user %q uid %q, want %s uid %s", review.Kind, u.Username, u.UID, sub, saUID)
		}
		if want := []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}; !equalStrings(u.Groups, want) {
			t.Errorf("groups %q, want %q", u.Groups, want)
		}
		jti, _ := jwtClaimsQuiet(token)["jti"].(string)
		if got := u.Extra["authentication.kubernetes.io/credential-id"]; len(got) != 1 || got[0] != "JTI="+jti {
			t.Errorf("extra authentication.kubernetes.io/credential-id = %q, want [JTI=%s]", got, jti)
		}
		// The admin identity of the kubeconfig is authenticated too.
		mustJSON(t, mustKubectl(t, ctx1, "auth", "whoami", "-o", "json"), &review)
		if !contains(review.Status.UserInfo.Groups, "system:authenticated") || review.Status.UserInfo.Username == "" {
			t.Errorf("admin whoami = %+v", review.Status.UserInfo)
		}
	})

	t.Run("token-is-per-cluster", func(t *testing.T) {
		errOut := failKubectl(t, opts{}, ctx2, "--token", token, "auth", "whoami")
		if l := lastLine(errOut); l != "error: You must be logged in to the server (Unauthorized)" {
			t.Errorf("sim-0001 token on sim-0002: %q", l)
		}
	})

	t.Run("missing-sa", func(t *testing.T) {
		errOut := failKubectl(t, opts{}, ctx1, "-n", ns, "create", "token", "nosuch")
		if errOut != "error: failed to create token: serviceaccounts \"nosuch\" not found\n" {
			t.Errorf("create token nosuch: stderr %q", errOut)
		}
	})

	t.Run("deleted-sa", func(t *testing.T) {
		mustKubectl(t, ctx1, "-n", ns, "create", "serviceaccount", "gone")
		tok := strings.TrimSpace(mustKubectl(t, ctx1, "-n", ns, "create", "token", "gone"))
		if out := mustKubectl(t, ctx1, "--token", tok, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); out != "system:serviceaccount:"+ns+":gone" {
			t.Errorf("whoami before delete: %q", out)
		}
		mustKubectl(t, ctx1, "-n", ns, "delete", "serviceaccount", "gone")
		errOut := failKubectl(t, opts{}, ctx1, "--token", tok, "auth", "whoami")
		if l := lastLine(errOut); l != "error: You must be logged in to the server (Unauthorized)" {
			t.Errorf("token of a deleted ServiceAccount: %q", l)
		}
	})
}

func jwtClaimsQuiet(token string) map[string]interface{} {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]interface{}
	_ = json.Unmarshal(payload, &claims)
	return claims
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type managedField struct {
	Manager    string                 `json:"manager"`
	Operation  string                 `json:"operation"`
	APIVersion string                 `json:"apiVersion"`
	FieldsV1   map[string]interface{} `json:"fieldsV1"`
}

func managedFields(t *testing.T, kctx, ns, object string) []managedField {
	t.Helper()
	var o struct {
		Metadata struct {
			ManagedFields []managedField `json:"managedFields"`
		} `json:"metadata"`
	}
	mustJSON(t, mustKubectl(t, kctx, "-n", ns, "get", object, "-o", "json", "--show-managed-fields"), &o)
	return o.Metadata.ManagedFields
}

func TestApplyClientSide(t *testing.T) {
	t.Parallel()
	const ns = "e2e-apply"
	createNamespace(t, ctx1, ns)
	manifest := func(data string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a1\n  namespace: " + ns + "\n  labels: {app: a1}\ndata:\n" + data
	}
	for _, step := range []struct {
		data, stdout string
		want         string // resulting .data
	}{
		{"  a: \"1\"\n  b: \"2\"\n", "configmap/a1 created\n", `{"a":"1","b":"2"}`},
		{"  a: \"1\"\n  b: \"2\"\n", "configmap/a1 unchanged\n", `{"a":"1","b":"2"}`},
		{"  a: \"10\"\n  b: \"2\"\n  c: \"3\"\n", "configmap/a1 configured\n", `{"a":"10","b":"2","c":"3"}`},
		// keys dropped from the manifest are pruned (three-way merge with last-applied)
		{"  a: \"10\"\n", "configmap/a1 configured\n", `{"a":"10"}`},
	} {
		path := writeFile(t, "cm.yaml", manifest(step.data))
		out, errOut, err := kubectl(t, ctx1, "apply", "-f", path)
		if err != nil || out != step.stdout {
			t.Fatalf("apply: stdout %q (want %q) err %v stderr %q", out, step.stdout, err, errOut)
		}
		if got := mustKubectl(t, ctx1, "-n", ns, "get", "cm", "a1", "-o", "jsonpath={.data}"); got != step.want {
			t.Errorf("after apply %q: data %s, want %s", step.stdout, got, step.want)
		}
	}
	last := mustKubectl(t, ctx1, "-n", ns, "get", "cm", "a1", "-o", `jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}`)
	var applied map[string]interface{}
	mustJSON(t, last, &applied)
	if d, _ := applied["data"].(map[string]interface{}); applied["kind"] != "ConfigMap" || len(d) != 1 || d["a"] != "10" {
		t.Errorf("last-applied-configuration = %s", last)
	}
	var managers []string
	for _, m := range managedFields(t, ctx1, ns, "cm/a1") {
		managers = append(managers, m.Manager+"/"+m.Operation)
	}
	if !equalStrings(managers, []string{"kubectl-client-side-apply/Update"}) {
		t.Errorf("managedFields managers %q, want [kubectl-client-side-apply/Update]", managers)
	}
	if out := mustKubectl(t, ctx1, "apply", "view-last-applied", "-n", ns, "configmap/a1", "-o", "json"); !strings.Contains(out, `"a": "10"`) {
		t.Errorf("apply view-last-applied:\n%s", out)
	}
}

func TestApplyServerSide(t *testing.T) {
	t.Parallel()
	const ns = "e2e-ssa"
	createNamespace(t, ctx1, ns)
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s1, namespace: " + ns + "}\ndata: {a: \"" + v + "\"}\n"
	}
	apply := func(stdin string, args ...string) (string, string, error) {
		return kubectlWith(t, opts{stdin: stdin}, ctx1, append([]string{"apply", "--server-side", "-f", "-"}, args...)...)
	}

	for _, v := range []string{"1", "2"} {
		out, errOut, err := apply(cm(v))
		if err != nil || out != "configmap/s1 serverside-applied\n" {
			t.Fatalf("apply --server-side (a=%s): stdout %q err %v stderr %q", v, out, err, errOut)
		}
	}
	if got := mustKubectl(t, ctx1, "-n", ns, "get", "cm", "s1", "-o", "jsonpath={.data.a}"); got != "2" {
		t.Errorf("data.a = %q, want 2", got)
	}
	mf := managedFields(t, ctx1, ns, "cm/s1")
	if len(mf) != 1 || mf[0].Manager != "kubectl" || mf[0].Operation != "Apply" || mf[0].APIVersion != "v1" {
		t.Fatalf("managedFields = %+v, want one entry manager kubectl operation Apply", mf)
	}
	if d, _ := mf[0].FieldsV1["f:data"].(map[string]interface{}); d == nil || d["f:a"] == nil {
		t.Errorf("kubectl does not own f:data.f:a: %v", mf[0].FieldsV1)
	}
	if mustKubectl(t, ctx1, "-n", ns, "get", "cm", "s1", "-o", `jsonpath={.metadata.annotations}`) != "" {
		t.Errorf("server-side apply set annotations (last-applied is client-side only)")
	}

	// another manager changing the same field conflicts
	out, errOut, err := apply(cm("3"), "--field-manager=other")
	if exitCode(err) != 1 {
		t.Fatalf("conflicting apply: exit %d, stdout %q", exitCode(err), out)
	}
	requireContains(t, "conflicting apply", errOut, `error: Apply failed with 1 conflict: conflict with "kubectl": .data.a`)
	if got := mustKubectl(t, ctx1, "-n", ns, "get", "cm", "s1", "-o", "jsonpath={.data.a}"); got != "2" {
		t.Errorf("after the conflict data.a = %q, want 2", got)
	}
	out, errOut, err = apply(cm("3"), "--field-manager=other", "--force-conflicts")
	if err != nil || out != "configmap/s1 serverside-applied\n" {
		t.Fatalf("apply --force-conflicts: stdout %q err %v stderr %q", out, err, errOut)
	}
	if got := mustKubectl(t, ctx1, "-n", ns, "get", "cm", "s1", "-o", "jsonpath={.data.a}"); got != "3" {
		t.Errorf("after --force-conflicts data.a = %q, want 3", got)
	}
	var owners []string
	for _, m := range managedFields(t, ctx1, ns, "cm/s1") {
		if d, _ := m.FieldsV1["f:data"].(map[string]interface{}); d != nil && d["f:a"] != nil {
			owners = append(owners, m.Manager+"/"+m.Operation)
		}
	}
	if !equalStrings(owners, []string{"other/Apply"}) {
		t.Errorf("owners of .data.a after forcing: %q, want [other/Apply]", owners)
	}

	// containers merge by name under server-side apply
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: " + ns + "}\n" +
		"spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n" +
		"    spec:\n      containers:\n      - {name: app, image: nginx}\n"
	if out, errOut, err := apply(deploy); err != nil || out != "deployment.apps/web serverside-applied\n" {
		t.Fatalf("apply deployment: %q %v %s", out, err, errOut)
	}
	side := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: " + ns + "}\n" +
		"spec:\n  template:\n    spec:\n      containers:\n      - {name: side, image: busybox}\n"
	if out, errOut, err := apply(side, "--field-manager=sidecar-injector"); err != nil || out != "deployment.apps/web serverside-applied\n" {
		t.Fatalf("apply sidecar: %q %v %s", out, err, errOut)
	}
	checkJSONPaths(t, ctx1, ns, []jsonpathCase{
		{"deployment/web", "{.spec.template.spec.containers[*].name}", "app side"},
		{"deployment/web", "{.spec.template.spec.containers[*].image}", "nginx busybox"},
	})
}

func TestLabelAnnotate(t *testing.T) {
	t.Parallel()
	const ns = "e2e-label"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "l1", "--from-literal=a=1")
	steps := []struct {
		args   []string
		stdout string
		stderr string // when set, the command must fail with this stderr
		check  jsonpathCase
	}{
		{[]string{"label", "cm", "l1", "tier=gold"}, "configmap/l1 labeled\n", "", jsonpathCase{"cm/l1", "{.metadata.labels}", `{"tier":"gold"}`}},
		{[]string{"label", "cm", "l1", "tier=silver"}, "", "error: 'tier' already has a value (gold), and --overwrite is false\n", jsonpathCase{"cm/l1", "{.metadata.labels.tier}", "gold"}},
		{[]string{"label", "cm", "l1", "tier=silver", "--overwrite"}, "configmap/l1 labeled\n", "", jsonpathCase{"cm/l1", "{.metadata.labels.tier}", "silver"}},
		{[]string{"label", "cm", "l1", "team=e2e", "env=test"}, "configmap/l1 labeled\n", "", jsonpathCase{"cm/l1", "{.metadata.labels}", `{"env":"test","team":"e2e","tier":"silver"}`}},
		{[]string{"label", "cm", "l1", "tier-", "env-"}, "configmap/l1 unlabeled\n", "", jsonpathCase{"cm/l1", "{.metadata.labels}", `{"team":"e2e"}`}},
		{[]string{"label", "cm", "l1", "team-"}, "configmap/l1 unlabeled\n", "", jsonpathCase{"cm/l1", "{.metadata.labels}", ""}},
		{[]string{"annotate", "cm", "l1", "note=x"}, "configmap/l1 annotated\n", "", jsonpathCase{"cm/l1", "{.metadata.annotations}", `{"note":"x"}`}},
		{[]string{"annotate", "cm", "l1", "note=y"}, "", "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (x)\n", jsonpathCase{"cm/l1", "{.metadata.annotations.note}", "x"}},
		{[]string{"annotate", "cm", "l1", "note=y", "--overwrite"}, "configmap/l1 annotated\n", "", jsonpathCase{"cm/l1", "{.metadata.annotations.note}", "y"}},
		{[]string{"annotate", "cm", "l1", "example.com/owner=team a"}, "configmap/l1 annotated\n", "", jsonpathCase{"cm/l1", "{.metadata.annotations}", `{"example.com/owner":"team a","note":"y"}`}},
		{[]string{"annotate", "cm", "l1", "note-"}, "configmap/l1 annotated\n", "", jsonpathCase{"cm/l1", "{.metadata.annotations}", `{"example.com/owner":"team a"}`}},
		{[]string{"annotate", "cm", "l1", "example.com/owner-"}, "configmap/l1 annotated\n", "", jsonpathCase{"cm/l1", "{.metadata.annotations}", ""}},
		// kubectl checks label values itself; label keys are left to the server
		{[]string{"label", "cm", "l1", "k=-bad-"}, "", "error: invalid label value: \"k=-bad-\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')\n", jsonpathCase{"cm/l1", "{.metadata.labels}", ""}},
		{[]string{"label", "cm", "l1", "Bad Key=x"}, "", "", jsonpathCase{"cm/l1", "{.metadata.labels}", ""}},
	}
	for _, s := range steps {
		out, errOut, err := kubectl(t, ctx1, append([]string{"-n", ns}, s.args...)...)
		name := strings.Join(s.args, " ")
		switch {
		case s.stdout != "":
			if err != nil || out != s.stdout {
				t.Errorf("%s: stdout %q (want %q) err %v stderr %q", name, out, s.stdout, err, errOut)
			}
		case s.stderr != "":
			if exitCode(err) != 1 || errOut != s.stderr {
				t.Errorf("%s: exit %d stderr %q, want exit 1 and %q", name, exitCode(err), errOut, s.stderr)
			}
		default: // rejected by the server's validation
			want := `The ConfigMap "l1" is invalid: metadata.labels: Invalid value: "Bad Key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')` + "\n"
			if exitCode(err) != 1 || errOut != want {
				t.Errorf("%s: exit %d stderr %q, want the server's 422 for the label key: %q", name, exitCode(err), errOut, want)
			}
		}
		checkJSONPaths(t, ctx1, ns, []jsonpathCase{s.check})
	}
	// label selection after relabelling; namespaces and nodes take labels as well
	mustKubectl(t, ctx1, "-n", ns, "label", "cm", "l1", "sel=yes")
	if out := mustKubectl(t, ctx1, "-n", ns, "get", "cm", "-l", "sel=yes", "-o", "name"); out != "configmap/l1\n" {
		t.Errorf("get -l sel=yes: %q", out)
	}
	if out := mustKubectl(t, ctx1, "label", "namespace", ns, "team=e2e"); out != "namespace/"+ns+" labeled\n" {
		t.Errorf("label namespace: %q", out)
	}
	if out := mustKubectl(t, ctx1, "get", "ns", "-l", "team=e2e", "-o", "name"); !strings.Contains(out, "namespace/"+ns+"\n") {
		t.Errorf("get ns -l team=e2e: %q", out)
	}
	if out := mustKubectl(t, ctx1, "label", "node", "sim-0001-worker-2", "e2e-label=yes"); out != "node/sim-0001-worker-2 labeled\n" {
		t.Errorf("label node: %q", out)
	}
	t.Cleanup(func() { _, _, _ = kubectl(t, ctx1, "label", "node", "sim-0001-worker-2", "e2e-label-") })
	if out := mustKubectl(t, ctx1, "get", "nodes", "-l", "e2e-label=yes", "-o", "name"); out != "node/sim-0001-worker-2\n" {
		t.Errorf("get nodes -l e2e-label=yes: %q", out)
	}
	if out := mustKubectl(t, ctx1, "label", "node", "sim-0001-worker-2", "e2e-label-"); out != "node/sim-0001-worker-2 unlabeled\n" {
		t.Errorf("unlabel node: %q", out)
	}
}

func TestPatch(t *testing.T) {
	t.Parallel()
	const ns = "e2e-patch"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "p1", "--from-literal=a=1", "--from-literal=b=2")
	mustKubectl(t, ctx1, "-n", ns, "create", "deployment", "web", "--image=nginx")
	const containers = "{.spec.template.spec.containers[*].name}={.spec.template.spec.containers[*].image}"
	for _, s := range []struct {
		name, object, typ, patch, stdout string
		check                            jsonpathCase
	}{
		{"cm-strategic", "configmap/p1", "strategic", `{"data":{"c":"3"}}`, "configmap/p1 patched\n",
			jsonpathCase{"cm/p1", "{.data}", `{"a":"1","b":"2","c":"3"}`}},
		{"cm-merge", "configmap/p1", "merge", `{"data":{"a":null},"metadata":{"labels":{"x":"y"}}}`, "configmap/p1 patched\n",
			jsonpathCase{"cm/p1", "{.data} {.metadata.labels}", `{"b":"2","c":"3"} {"x":"y"}`}},
		{"cm-json", "configmap/p1", "json", `[{"op":"replace","path":"/data/b","value":"20"},{"op":"remove","path":"/data/c"}]`, "configmap/p1 patched\n",
			jsonpathCase{"cm/p1", "{.data}", `{"b":"20"}`}},
		{"cm-no-change", "configmap/p1", "strategic", `{"data":{"b":"20"}}`, "configmap/p1 patched (no change)\n",
			jsonpathCase{"cm/p1", "{.data}", `{"b":"20"}`}},
		{"deploy-strategic-merge-by-name", "deployment/web", "strategic",
			`{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"},{"name":"side","image":"busybox"}]}}}}`,
			"deployment.apps/web patched\n", jsonpathCase{"deploy/web", containers, "nginx side=nginx:1.27 busybox"}},
		{"deploy-strategic-delete-directive", "deployment/web", "strategic",
			`{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}`,
			"deployment.apps/web patched\n", jsonpathCase{"deploy/web", containers, "nginx=nginx:1.27"}},
		{"deploy-merge-replaces-list", "deployment/web", "merge",
			`{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"busybox:1.36"}]}}}}`,
			"deployment.apps/web patched\n", jsonpathCase{"deploy/web", containers, "only=busybox:1.36"}},
		{"deploy-json-append", "deployment/web", "json",
			`[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"extra","image":"redis"}}]`,
			"deployment.apps/web patched\n", jsonpathCase{"deploy/web", containers, "only extra=busybox:1.36 redis"}},
		{"deploy-json-replace", "deployment/web", "json",
			`[{"op":"replace","path":"/spec/replicas","value":2}]`,
			"deployment.apps/web patched\n", jsonpathCase{"deploy/web", "{.spec.replicas} {.metadata.generation}", "2 6"}},
	} {
		out, errOut, err := kubectl(t, ctx1, "-n", ns, "patch", s.object, "--type", s.typ, "-p", s.patch)
		if err != nil || out != s.stdout {
			t.Errorf("%s: stdout %q (want %q) err %v stderr %q", s.name, out, s.stdout, err, errOut)
		}
		checkJSONPaths(t, ctx1, ns, []jsonpathCase{s.check})
	}

	// the status subresource changes status only and leaves the generation alone
	out, errOut, err := kubectl(t, ctx1, "-n", ns, "patch", "deployment", "web", "--subresource=status", "--type=merge",
		"-p", `{"status":{"observedGeneration":6,"replicas":2},"spec":{"replicas":9}}`)
	if err != nil || out != "deployment.apps/web patched\n" {
		t.Errorf("patch --subresource=status: %q %v %s", out, err, errOut)
	}
	checkJSONPaths(t, ctx1, ns, []jsonpathCase{{"deploy/web", "{.status.replicas} {.status.observedGeneration} {.spec.replicas} {.metadata.generation}", "2 6 2 6"}})

	// a JSON patch whose test fails, and patches of a missing object
	errOut = failKubectl(t, opts{}, ctx1, "-n", ns, "patch", "cm", "p1", "--type=json", "-p", `[{"op":"test","path":"/data/b","value":"nope"}]`)
	if errOut != "The request is invalid: the server rejected our request due to an error in our request\n" {
		t.Errorf("failing json patch test: %q", errOut)
	}
	errOut = failKubectl(t, opts{}, ctx1, "-n", ns, "patch", "cm", "nope", "-p", `{"data":{"a":"1"}}`)
	if errOut != "Error from server (NotFound): configmaps \"nope\" not found\n" {
		t.Errorf("patch missing object: %q", errOut)
	}
}

func TestScale(t *testing.T) {
	t.Parallel()
	const ns = "e2e-scale"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "deployment", "web", "--image=nginx")
	if out := mustKubectl(t, ctx1, "-n", ns, "scale", "deployment", "web", "--replicas=3"); out != "deployment.apps/web scaled\n" {
		t.Errorf("scale: %q", out)
	}
	checkJSONPaths(t, ctx1, ns, []jsonpathCase{
		{"deploy/web", "{.spec.replicas}", "3"},
		{"deploy/web", "{.metadata.generation}", "2"},
	})
	r := parseTable(t, mustKubectl(t, ctx1, "-n", ns, "get", "deploy", "web")).row(t, "NAME", "web")
	if !regexp.MustCompile(`^[0-3]/3$`).MatchString(r["READY"]) {
		t.Errorf("READY = %q, want n/3", r["READY"])
	}
	var scale struct {
		Kind, APIVersion string
		Spec             struct{ Replicas int }
		Status           struct {
			Replicas int
			Selector string
		}
	}
	mustJSON(t, mustKubectl(t, ctx1, "get", "--raw", "/apis/apps/v1/namespaces/"+ns+"/deployments/web/scale"), &scale)
	if scale.Kind != "Scale" || scale.APIVersion != "autoscaling/v1" || scale.Spec.Replicas != 3 || scale.Status.Selector != "app=web" {
		t.Errorf("scale subresource = %+v, want autoscaling/v1 Scale with spec.replicas 3 and status.selector app=web", scale)
	}
	errOut := failKubectl(t, opts{}, ctx1, "-n", ns, "scale", "deployment", "web", "--current-replicas=2", "--replicas=5")
	if errOut != "error: Expected replicas to be 2, was 3\n" {
		t.Errorf("scale with a wrong --current-replicas: %q", errOut)
	}
	if out := mustKubectl(t, ctx1, "-n", ns, "scale", "deployment/web", "--current-replicas=3", "--replicas=0"); out != "deployment.apps/web scaled\n" {
		t.Errorf("scale to 0: %q", out)
	}
	checkJSONPaths(t, ctx1, ns, []jsonpathCase{{"deploy/web", "{.spec.replicas}", "0"}})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	const ns = "e2e-delete"
	createNamespace(t, ctx1, ns)
	for _, n := range []string{"d1", "d2", "d3", "keep"} {
		mustKubectl(t, ctx1, "-n", ns, "create", "configmap", n)
	}
	mustKubectl(t, ctx1, "-n", ns, "label", "configmap", "d2", "d3", "grp=x")
	file := writeFile(t, "d4.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d4, namespace: "+ns+"}\n")
	mustKubectl(t, ctx1, "create", "-f", file)

	for _, s := range []struct {
		args   []string
		stdout string
	}{
		{[]string{"-n", ns, "delete", "configmap", "d1"}, "configmap \"d1\" deleted\n"},
		{[]string{"-n", ns, "delete", "configmap", "-l", "grp=x"}, "configmap \"d2\" deleted\nconfigmap \"d3\" deleted\n"},
		{[]string{"delete", "-f", file}, "configmap \"d4\" deleted\n"},
		{[]string{"-n", ns, "delete", "configmap", "nope", "--ignore-not-found"}, ""},
	} {
		out, errOut, err := kubectl(t, ctx1, s.args...)
		if err != nil || out != s.stdout {
			t.Errorf("kubectl %s: stdout %q (want %q) err %v stderr %q", strings.Join(s.args, " "), out, s.stdout, err, errOut)
		}
	}
	if out := mustKubectl(t, ctx1, "-n", ns, "get", "configmaps", "--field-selector", "metadata.name!=kube-root-ca.crt", "-o", "name"); out != "configmap/keep\n" {
		t.Errorf("left after the deletes: %q, want configmap/keep", out)
	}
	if errOut := failKubectl(t, opts{}, ctx1, "-n", ns, "delete", "configmap", "d1"); errOut != "Error from server (NotFound): configmaps \"d1\" not found\n" {
		t.Errorf("delete again: %q", errOut)
	}
	if errOut := failKubectl(t, opts{}, ctx1, "-n", ns, "get", "configmap", "d1"); errOut != "Error from server (NotFound): configmaps \"d1\" not found\n" {
		t.Errorf("get deleted: %q", errOut)
	}

	t.Run("namespace", func(t *testing.T) {
		const gone = "e2e-delete-ns"
		mustKubectl(t, ctx1, "create", "namespace", gone)
		mustKubectl(t, ctx1, "-n", gone, "create", "configmap", "inside", "--from-literal=a=1")
		mustKubectl(t, ctx1, "-n", gone, "create", "deployment", "inside", "--image=nginx")
		mustKubectl(t, ctx1, "-n", gone, "create", "secret", "generic", "inside")
		mustKubectl(t, ctx1, "-n", gone, "create", "serviceaccount", "inside")
		out, errOut, err := kubectlWith(t, opts{timeout: 60 * time.Second}, ctx1, "delete", "namespace", gone, "--wait=true", "--timeout=45s")
		if err != nil || out != "namespace \""+gone+"\" deleted\n" {
			t.Fatalf("delete namespace: stdout %q err %v stderr %q", out, err, errOut)
		}
		if errOut := failKubectl(t, opts{}, ctx1, "get", "namespace", gone); errOut != "Error from server (NotFound): namespaces \""+gone+"\" not found\n" {
			t.Errorf("get deleted namespace: %q", errOut)
		}
		out, errOut, err = kubectl(t, ctx1, "-n", gone, "get", "configmaps,deployments,secrets,serviceaccounts")
		if err != nil || out != "" || errOut != "No resources found in "+gone+" namespace.\n" {
			t.Errorf("objects of the deleted namespace: stdout %q stderr %q err %v", out, errOut, err)
		}
		for _, r := range []string{"configmaps", "deployments", "secrets", "serviceaccounts"} {
			if out := mustKubectl(t, ctx1, "get", r, "-A", "--field-selector", "metadata.namespace="+gone, "-o", "name"); out != "" {
				t.Errorf("%s of the deleted namespace still listed: %q", r, out)
			}
		}
		// the name can be used again, and the new namespace starts empty
		mustKubectl(t, ctx1, "create", "namespace", gone)
		t.Cleanup(func() { _, _, _ = kubectl(t, ctx1, "delete", "namespace", gone, "--wait=false") })
		if out := mustKubectl(t, ctx1, "-n", gone, "get", "deployments,secrets", "-o", "name"); out != "" {
			t.Errorf("recreated namespace holds %q", out)
		}
	})

	// On sim-0002, which the other tests leave alone: should the server wrongly accept the
	// deletion, it must not take the system namespaces away from the tests on sim-0001.
	t.Run("protected-namespaces", func(t *testing.T) {
		for _, n := range []string{"default", "kube-system", "kube-public"} {
			errOut := failKubectl(t, opts{}, ctx2, "delete", "namespace", n)
			if want := "Error from server (Forbidden): namespaces \"" + n + "\" is forbidden: this namespace may not be deleted\n"; errOut != want {
				t.Errorf("delete namespace %s: %q, want %q", n, errOut, want)
			}
		}
	})
}

func TestWait(t *testing.T) {
	t.Parallel()
	const ns = "e2e-wait"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "w1")
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "w2", "--from-literal=k=v")

	// background waits, satisfied by changes made while they run; -v=6 shows when each
	// has started watching (delete, jsonpath) or polling (create)
	type result struct {
		out, errOut string
		err         error
	}
	start := func(ready string, args ...string) <-chan result {
		t.Helper()
		cmd, cancel := kubectlCmd(t, opts{timeout: 40 * time.Second}, ctx1, append([]string{"-v=6", "-n", ns}, args...)...)
		var so, se lockedBuffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		ch := make(chan result, 1)
		go func() {
			defer cancel()
			err := cmd.Wait()
			ch <- result{so.String(), cleanStderr(se.String()), err}
		}()
		eventually(t, 15*time.Second, func() string {
			if strings.Contains(se.String(), ready) {
				return ""
			}
			return fmt.Sprintf("kubectl %s did not log %q:\n%s", strings.Join(args, " "), ready, se.String())
		})
		return ch
	}
	forDelete := start("&watch=true", "wait", "--for=delete", "configmap/w1", "--timeout=30s")
	forJSONPath := start("&watch=true", "wait", "--for=jsonpath={.data.k}=later", "configmap/w2", "--timeout=30s")
	forCreate := start("404 Not Found", "wait", "--for=create", "configmap/w3", "--timeout=30s")
	mustKubectl(t, ctx1, "-n", ns, "delete", "configmap", "w1")
	mustKubectl(t, ctx1, "-n", ns, "patch", "configmap", "w2", "-p", `{"data":{"k":"later"}}`)
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "w3")
	for _, w := range []struct {
		name   string
		ch     <-chan result
		stdout string
	}{
		{"--for=delete", forDelete, "configmap/w1 condition met\n"},
		{"--for=jsonpath", forJSONPath, "configmap/w2 condition met\n"},
		{"--for=create", forCreate, "configmap/w3 condition met\n"},
	} {
		r := <-w.ch
		if r.err != nil || r.out != w.stdout {
			t.Errorf("wait %s: stdout %q (want %q) err %v stderr:\n%s", w.name, r.out, w.stdout, r.err, r.errOut)
		}
	}

	for _, s := range []struct {
		args   []string
		stdout string
	}{
		{[]string{"wait", "--for=condition=Ready", "node/sim-0001-cp-1", "--timeout=10s"}, "node/sim-0001-cp-1 condition met\n"},
		{[]string{"wait", "--for=condition=Ready", "nodes", "--all", "--timeout=10s"}, "node/sim-0001-cp-1 condition met\nnode/sim-0001-worker-1 condition met\nnode/sim-0001-worker-2 condition met\n"},
		{[]string{"-n", ns, "wait", "--for=jsonpath={.data.k}=later", "configmap/w2", "--timeout=10s"}, "configmap/w2 condition met\n"},
		{[]string{"wait", "--for=jsonpath={.status.phase}=Active", "namespace/" + ns, "--timeout=10s"}, "namespace/" + ns + " condition met\n"},
	} {
		out, errOut, err := kubectl(t, ctx1, s.args...)
		if err != nil || out != s.stdout {
			t.Errorf("kubectl %s: stdout %q (want %q) err %v stderr %q", strings.Join(s.args, " "), out, s.stdout, err, errOut)
		}
	}
	errOut := failKubectl(t, opts{}, ctx1, "-n", ns, "wait", "--for=jsonpath={.data.k}=never", "configmap/w2", "--timeout=1s")
	if errOut != "error: timed out waiting for the condition on configmaps/w2\n" {
		t.Errorf("wait timing out: %q", errOut)
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	const ns = "e2e-dryrun"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "existing", "--from-literal=a=1")

	var obj struct {
		Metadata struct {
			Name, UID, ResourceVersion, CreationTimestamp string
		}
		Data map[string]string
	}
	mustJSON(t, mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "dr", "--from-literal=a=b", "--dry-run=server", "-o", "json"), &obj)
	if obj.Metadata.Name != "dr" || obj.Metadata.UID == "" || obj.Metadata.CreationTimestamp == "" || obj.Metadata.ResourceVersion != "" || obj.Data["a"] != "b" {
		t.Errorf("server dry-run create returned %+v: want uid and creationTimestamp set, no resourceVersion", obj)
	}
	apply := writeFile(t, "dr.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dr2, namespace: "+ns+"}\ndata: {a: b}\n")
	for _, s := range []struct {
		args   []string
		stdout string
	}{
		{[]string{"-n", ns, "create", "configmap", "dr", "--dry-run=server"}, "configmap/dr created (server dry run)\n"},
		{[]string{"-n", ns, "create", "configmap", "dr", "--dry-run=client"}, "configmap/dr created (dry run)\n"},
		{[]string{"apply", "--dry-run=server", "-f", apply}, "configmap/dr2 created (server dry run)\n"},
		{[]string{"apply", "--server-side", "--dry-run=server", "-f", apply}, "configmap/dr2 serverside-applied (server dry run)\n"},
		{[]string{"-n", ns, "delete", "configmap", "existing", "--dry-run=server"}, "configmap \"existing\" deleted (server dry run)\n"},
		{[]string{"-n", ns, "label", "configmap", "existing", "x=y", "--dry-run=server"}, "configmap/existing labeled (server dry run)\n"},
		{[]string{"-n", ns, "patch", "configmap", "existing", "-p", `{"data":{"a":"2"}}`, "--dry-run=server"}, "configmap/existing patched\n"},
	} {
		out, errOut, err := kubectl(t, ctx1, s.args...)
		if err != nil || out != s.stdout {
			t.Errorf("kubectl %s: stdout %q (want %q) err %v stderr %q", strings.Join(s.args, " "), out, s.stdout, err, errOut)
		}
	}
	// nothing of that persisted
	if out := mustKubectl(t, ctx1, "-n", ns, "get", "configmaps", "--field-selector", "metadata.name!=kube-root-ca.crt", "-o", "name"); out != "configmap/existing\n" {
		t.Errorf("configmaps after the dry runs: %q, want only configmap/existing", out)
	}
	checkJSONPaths(t, ctx1, ns, []jsonpathCase{{"cm/existing", "{.data.a} {.metadata.labels}", "1 "}})
	// dry-run still validates
	errOut := failKubectl(t, opts{}, ctx1, "-n", ns, "create", "configmap", "Bad", "--dry-run=server")
	requireContains(t, "invalid dry run", errOut, `ConfigMap "Bad" is invalid: metadata.name: Invalid value: "Bad"`)
}

// TestClientsWriteCycle runs the common write commands with every kubectl (the dispatcher
// picks kubectl 1.32 for a v1.36 server; kubectl.1.33 is the newest installed).
func TestClientsWriteCycle(t *testing.T) {
	t.Parallel()
	for i, c := range clients() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ns := fmt.Sprintf("e2e-cycle-%d", i)
			o := opts{bin: c.bin}
			run := func(stdin string, args ...string) string {
				t.Helper()
				o := o
				o.stdin = stdin
				return mustKubectlWith(t, o, ctx1, args...)
			}
			if out := run("", "create", "namespace", ns); out != "namespace/"+ns+" created\n" {
				t.Fatalf("create namespace: %q", out)
			}
			t.Cleanup(func() { _, _, _ = kubectl(t, ctx1, "delete", "namespace", ns, "--wait=false") })
			cm := func(v string) string {
				return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cyc, namespace: " + ns + "}\ndata: {v: \"" + v + "\"}\n"
			}
			for _, s := range []struct {
				stdin  string
				args   []string
				stdout string
			}{
				{cm("1"), []string{"apply", "-f", "-"}, "configmap/cyc created\n"},
				{cm("2"), []string{"apply", "-f", "-"}, "configmap/cyc configured\n"},
				{cm("3"), []string{"apply", "--server-side", "--force-conflicts", "-f", "-"}, "configmap/cyc serverside-applied\n"},
				{"", []string{"-n", ns, "patch", "configmap", "cyc", "--type=merge", "-p", `{"data":{"w":"x"}}`}, "configmap/cyc patched\n"},
				{"", []string{"-n", ns, "label", "configmap", "cyc", "k=v"}, "configmap/cyc labeled\n"},
				{"", []string{"-n", ns, "get", "configmap", "-l", "k=v", "-o", "jsonpath={.items[0].data}"}, `{"v":"3","w":"x"}`},
				{"", []string{"-n", ns, "create", "deployment", "d", "--image=nginx"}, "deployment.apps/d created\n"},
				{"", []string{"-n", ns, "scale", "deployment", "d", "--replicas=2"}, "deployment.apps/d scaled\n"},
				{"", []string{"-n", ns, "get", "deployment", "d", "-o", "jsonpath={.spec.replicas}"}, "2"},
				{"", []string{"-n", ns, "delete", "configmap", "cyc"}, "configmap \"cyc\" deleted\n"},
			} {
				if out := run(s.stdin, s.args...); out != s.stdout {
					t.Errorf("%s %s: %q, want %q", c.name, strings.Join(s.args, " "), out, s.stdout)
				}
			}
			if errOut := failKubectl(t, o, ctx1, "-n", ns, "get", "configmap", "cyc"); errOut != "Error from server (NotFound): configmaps \"cyc\" not found\n" {
				t.Errorf("get deleted: %q", errOut)
			}
			out, errOut, err := kubectlWith(t, opts{bin: c.bin, timeout: 60 * time.Second}, ctx1, "delete", "namespace", ns, "--wait=true", "--timeout=45s")
			if err != nil || out != "namespace \""+ns+"\" deleted\n" {
				t.Errorf("delete namespace: %q %v %s", out, err, errOut)
			}
		})
	}
}
