package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPIErrors checks kubectl's message, the HTTP status and the Status reason of the
// server's error responses (the latter two from kubectl -v=6).
func TestAPIErrors(t *testing.T) {
	t.Parallel()
	const ns = "e2e-errors"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "stale", "--from-literal=a=1")
	staleYAML := mustKubectl(t, ctx1, "-n", ns, "get", "configmap", "stale", "-o", "yaml")
	mustKubectl(t, ctx1, "-n", ns, "patch", "configmap", "stale", "-p", `{"data":{"a":"2"}}`)
	staleYAML = strings.Replace(staleYAML, `a: "1"`, `a: "3"`, 1)

	const rfc1123Subdomain = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
	const rfc1123Label = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`

	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		last   string // kubectl's last stderr line, exactly (prefix match when it ends in "…")
		status string // HTTP status line of the failing request
		reason string // Status reason
	}{
		{"get-missing", []string{"-n", ns, "get", "configmap", "x"}, "",
			`Error from server (NotFound): configmaps "x" not found`, "404 Not Found", "NotFound"},
		{"get-missing-node", []string{"get", "node", "nope"}, "",
			`Error from server (NotFound): nodes "nope" not found`, "404 Not Found", "NotFound"},
		{"create-existing", []string{"create", "namespace", "default"}, "",
			`Error from server (AlreadyExists): namespaces "default" already exists`, "409 Conflict", "AlreadyExists"},
		{"create-existing-cm", []string{"-n", ns, "create", "configmap", "stale"}, "",
			`error: failed to create configmap: configmaps "stale" already exists`, "409 Conflict", "AlreadyExists"},
		{"create-in-missing-namespace", []string{"create", "-f", "-"},
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: e2e-no-such-ns}\n",
			`Error from server (NotFound): error when creating "STDIN": namespaces "e2e-no-such-ns" not found`, "404 Not Found", "NotFound"},
		{"create-cm-in-missing-namespace", []string{"-n", "e2e-no-such-ns", "create", "configmap", "x", "--from-literal=a=b"}, "",
			`error: failed to create configmap: namespaces "e2e-no-such-ns" not found`, "404 Not Found", "NotFound"},
		{"invalid-name", []string{"-n", ns, "create", "configmap", "Bad"}, "",
			`error: failed to create configmap: ConfigMap "Bad" is invalid: metadata.name: Invalid value: "Bad": ` + rfc1123Subdomain, "422 Unprocessable Entity", "Invalid"},
		{"invalid-name-file", []string{"create", "-f", "-"},
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad, namespace: " + ns + "}\n",
			`The ConfigMap "Bad" is invalid: metadata.name: Invalid value: "Bad": ` + rfc1123Subdomain, "422 Unprocessable Entity", "Invalid"},
		{"invalid-namespace-name", []string{"create", "-f", "-"},
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad}\n",
			`The Namespace "Bad" is invalid: metadata.name: Invalid value: "Bad": ` + rfc1123Label, "422 Unprocessable Entity", "Invalid"},
		{"invalid-deployment-selector", []string{"create", "-f", "-"},
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad, namespace: " + ns + "}\nspec:\n  selector: {matchLabels: {app: sel-a}}\n" +
				"  template:\n    metadata: {labels: {app: sel-b}}\n    spec: {containers: [{name: c, image: nginx}]}\n",
			`The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: …`, "422 Unprocessable Entity", "Invalid"},
		{"invalid-pod-no-containers", []string{"create", "-f", "-"},
			"apiVersion: v1\nkind: Pod\nmetadata: {name: empty, namespace: " + ns + "}\nspec: {containers: []}\n",
			`The Pod "empty" is invalid: spec.containers: Required value`, "422 Unprocessable Entity", "Invalid"},
		{"bad-field-selector", []string{"-n", ns, "get", "pods", "--field-selector", "foo=bar"}, "",
			`Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "foo=bar": field label not supported: foo`,
			"400 Bad Request", "BadRequest"},
		{"bad-field-selector-cm", []string{"-n", ns, "get", "configmaps", "--field-selector", "data.a=1"}, "",
			`Error from server (BadRequest): Unable to find "/v1, Resource=configmaps" that match label selector "", field selector "data.a=1": "data.a" is not a known field selector: only "metadata.name", "metadata.namespace"`,
			"400 Bad Request", "BadRequest"},
		{"stale-resource-version", []string{"replace", "-f", "-"}, staleYAML,
			`Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again`,
			"409 Conflict", "Conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			errOut := failKubectl(t, opts{stdin: tc.stdin}, ctx1, append([]string{"-v=6"}, tc.args...)...)
			last := lastLine(errOut)
			if strings.HasSuffix(tc.last, "…") {
				if !strings.HasPrefix(last, strings.TrimSuffix(tc.last, "…")) {
					t.Errorf("stderr ends with\n  %q\nwant prefix\n  %q", last, tc.last)
				}
			} else if last != tc.last {
				t.Errorf("stderr ends with\n  %q\nwant\n  %q", last, tc.last)
			}
			if got := lastHTTPStatus(errOut); got != tc.status {
				t.Errorf("HTTP status %q, want %q", got, tc.status)
			}
			// kubectl logs the Status of JSON responses only; its message names the reason
			// otherwise ("Error from server (<reason>)", "is invalid" for Invalid).
			if got := lastReason(errOut); got != "" && got != tc.reason {
				t.Errorf("Status reason %q, want %q", got, tc.reason)
			}
		})
	}

	t.Run("unknown-resource-type", func(t *testing.T) {
		t.Parallel()
		errOut := failKubectl(t, opts{}, ctx1, "get", "foos")
		if errOut != "error: the server doesn't have a resource type \"foos\"\n" {
			t.Errorf("get foos: %q", errOut)
		}
	})
	t.Run("stale-replace-leaves-object", func(t *testing.T) {
		t.Parallel()
		checkJSONPaths(t, ctx1, ns, []jsonpathCase{{"cm/stale", "{.data.a}", "2"}})
	})
}

func TestValidateStrict(t *testing.T) {
	t.Parallel()
	const ns = "e2e-validate"
	createNamespace(t, ctx1, ns)
	bogus := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + "}\ndata: {a: \"1\"}\nbogus: 1\n"
	}
	for _, tc := range []struct {
		name string
		args []string
		in   string
		last string
	}{
		{"create-strict", []string{"create", "--validate=strict", "-f", "-"}, bogus("v1"),
			`Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"`},
		{"apply-strict", []string{"apply", "--validate=strict", "-f", "-"}, bogus("v2"),
			`Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"`},
		{"create-default-is-strict", []string{"create", "-f", "-"}, bogus("v3"),
			`Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"`},
		{"nested-unknown-field", []string{"create", "--validate=strict", "-f", "-"},
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: " + ns + "}\nspec:\n  selector: {matchLabels: {app: d}}\n" +
				"  template:\n    metadata: {labels: {app: d}}\n    spec: {containers: [{name: c, image: nginx, imagex: oops}]}\n",
			`Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagex"`},
		{"ssa-strict", []string{"apply", "--server-side", "--validate=strict", "-f", "-"}, bogus("v4"),
			`Error from server: failed to create typed patch object (` + ns + `/v4; /v1, Kind=ConfigMap): .bogus: field not declared in schema`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errOut := failKubectl(t, opts{stdin: tc.in}, ctx1, tc.args...)
			if l := lastLine(errOut); l != tc.last {
				t.Errorf("stderr ends with\n  %q\nwant\n  %q", l, tc.last)
			}
		})
	}
	if out, _, _ := kubectl(t, ctx1, "-n", ns, "get", "configmaps", "--field-selector", "metadata.name!=kube-root-ca.crt", "-o", "name"); out != "" {
		t.Errorf("strict validation failures created %q", out)
	}

	t.Run("warn", func(t *testing.T) {
		out, errOut, err := kubectlWith(t, opts{stdin: bogus("w1")}, ctx1, "create", "--validate=warn", "-f", "-")
		if err != nil || out != "configmap/w1 created\n" || errOut != "Warning: unknown field \"bogus\"\n" {
			t.Errorf("--validate=warn: stdout %q stderr %q err %v", out, errOut, err)
		}
	})
	t.Run("ignore", func(t *testing.T) {
		out, errOut, err := kubectlWith(t, opts{stdin: bogus("w2")}, ctx1, "create", "--validate=false", "-f", "-")
		if err != nil || out != "configmap/w2 created\n" || errOut != "" {
			t.Errorf("--validate=false: stdout %q stderr %q err %v", out, errOut, err)
		}
		if got := mustKubectl(t, ctx1, "-n", ns, "get", "configmap", "w2", "-o", "json"); strings.Contains(got, "bogus") {
			t.Errorf("unknown field stored:\n%s", got)
		}
	})
}

// TestUnauthorized: a wrong bearer token is rejected with 401.
func TestUnauthorized(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(copied, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	o := opts{kubeconfig: copied}
	// With an empty cache kubectl starts with discovery, whose client words the same 401
	// differently.
	const viaDiscovery = "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
	for _, tc := range []struct {
		args []string
		last string
	}{
		{[]string{"get", "--raw", "/api/v1/nodes"}, "error: You must be logged in to the server (Unauthorized)"},
		{[]string{"get", "--raw", "/apis/apps/v1/namespaces/default/deployments"}, "error: You must be logged in to the server (Unauthorized)"},
		{[]string{"get", "nodes"}, viaDiscovery},
		{[]string{"-n", "default", "get", "configmap", "kube-root-ca.crt"}, viaDiscovery},
	} {
		name := strings.Join(tc.args, " ")
		errOut := failKubectl(t, o, ctx1, append([]string{"--token=nope", "-v=8"}, tc.args...)...)
		if l := lastLine(errOut); l != tc.last {
			t.Errorf("kubectl --token=nope %s: %q, want %q", name, l, tc.last)
		}
		if got := lastHTTPStatus(errOut); got != "401 Unauthorized" {
			t.Errorf("kubectl --token=nope %s: HTTP %q, want 401 Unauthorized", name, got)
		}
		if want := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`; !strings.Contains(errOut, want) {
			t.Errorf("kubectl --token=nope %s: response body is not %s", name, want)
		}
	}
	// the copied kubeconfig itself still works
	if out := mustKubectlWith(t, o, ctx1, "get", "--raw", "/api/v1/nodes/sim-0001-cp-1"); !strings.Contains(out, `"name":"sim-0001-cp-1"`) {
		t.Errorf("get --raw with the copied kubeconfig: %.200s", out)
	}
}

// TestIsolation: the two simulated clusters share nothing.
func TestIsolation(t *testing.T) {
	t.Parallel()
	const ns = "e2e-iso"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", "default", "create", "configmap", "e2e-iso-cm")
	t.Cleanup(func() { _, _, _ = kubectl(t, ctx1, "-n", "default", "delete", "configmap", "e2e-iso-cm") })

	if errOut := failKubectl(t, opts{}, ctx2, "get", "namespace", ns); errOut != "Error from server (NotFound): namespaces \""+ns+"\" not found\n" {
		t.Errorf("namespace of sim-0001 on sim-0002: %q", errOut)
	}
	if errOut := failKubectl(t, opts{}, ctx2, "-n", "default", "get", "configmap", "e2e-iso-cm"); errOut != "Error from server (NotFound): configmaps \"e2e-iso-cm\" not found\n" {
		t.Errorf("configmap of sim-0001 on sim-0002: %q", errOut)
	}
	if out := mustKubectl(t, ctx2, "get", "nodes", "-o", "name"); out != "node/sim-0002-cp-1\nnode/sim-0002-worker-1\nnode/sim-0002-worker-2\n" {
		t.Errorf("nodes of sim-0002: %q", out)
	}
	if out := mustKubectl(t, ctx2, "get", "namespaces", "-o", "name"); strings.Contains(out, "e2e-") {
		t.Errorf("sim-0002 lists namespaces created on sim-0001: %q", out)
	}
	// the same name can be created on the other cluster, as a different object
	createNamespace(t, ctx2, ns)
	uid1 := mustKubectl(t, ctx1, "get", "namespace", ns, "-o", "jsonpath={.metadata.uid}")
	uid2 := mustKubectl(t, ctx2, "get", "namespace", ns, "-o", "jsonpath={.metadata.uid}")
	if uid1 == "" || uid1 == uid2 {
		t.Errorf("namespace uids %q (sim-0001) and %q (sim-0002) must differ", uid1, uid2)
	}
	mustKubectl(t, ctx2, "delete", "namespace", ns, "--wait=true", "--timeout=30s")
	if out := mustKubectl(t, ctx1, "get", "namespace", ns, "-o", "name"); out != "namespace/"+ns+"\n" {
		t.Errorf("deleting on sim-0002 affected sim-0001: %q", out)
	}
	// server addresses differ: one listener per cluster
	s1 := mustKubectl(t, ctx1, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	s2 := mustKubectl(t, ctx2, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	if !strings.HasPrefix(s1, "https://127.0.0.1:") || !strings.HasPrefix(s2, "https://127.0.0.1:") || s1 == s2 {
		t.Errorf("servers %q and %q: want two distinct https://127.0.0.1 ports", s1, s2)
	}
}
