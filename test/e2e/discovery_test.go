package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, c := range clients() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := opts{bin: c.bin}
			out := mustKubectlWith(t, o, ctx1, "version", "-o", "json")
			var v struct {
				ServerVersion map[string]string `json:"serverVersion"`
			}
			mustJSON(t, out, &v)
			want := map[string]string{
				"major": "1", "minor": "36", "gitVersion": serverGitVersion,
				"gitTreeState": "clean", "compiler": "gc", "platform": "linux/amd64",
			}
			for k, w := range want {
				if got := v.ServerVersion[k]; got != w {
					t.Errorf("serverVersion.%s = %q, want %q", k, got, w)
				}
			}
			for _, k := range []string{"gitCommit", "buildDate", "goVersion"} {
				if v.ServerVersion[k] == "" {
					t.Errorf("serverVersion.%s is empty", k)
				}
			}

			out = mustKubectlWith(t, o, ctx1, "version")
			requireContains(t, "kubectl version", out, "\nServer Version: "+serverGitVersion+"\n")
			if !strings.HasPrefix(out, "Client Version: v1.") {
				t.Errorf("kubectl version: first line %q, want Client Version", strings.SplitN(out, "\n", 2)[0])
			}
		})
	}
}

func TestAPIResources(t *testing.T) {
	t.Parallel()
	for _, c := range clients() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := opts{bin: c.bin}
			tb := parseTable(t, mustKubectlWith(t, o, ctx1, "api-resources"))
			if want := []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"}; !equalStrings(tb.header, want) {
				t.Fatalf("header %q, want %q", tb.header, want)
			}
			if len(tb.rows) < 60 {
				t.Errorf("api-resources lists %d resources, want >= 60", len(tb.rows))
			}
			for _, tc := range []struct {
				name, short, apiVersion, namespaced, kind string
			}{
				{"nodes", "no", "v1", "false", "Node"},
				{"pods", "po", "v1", "true", "Pod"},
				{"namespaces", "ns", "v1", "false", "Namespace"},
				{"componentstatuses", "cs", "v1", "false", "ComponentStatus"},
				{"deployments", "deploy", "apps/v1", "true", "Deployment"},
				{"leases", "", "coordination.k8s.io/v1", "true", "Lease"},
				{"customresourcedefinitions", "crd,crds", "apiextensions.k8s.io/v1", "false", "CustomResourceDefinition"},
			} {
				r := tb.row(t, "NAME", tc.name)
				got := []string{r["SHORTNAMES"], r["APIVERSION"], r["NAMESPACED"], r["KIND"]}
				if want := []string{tc.short, tc.apiVersion, tc.namespaced, tc.kind}; !equalStrings(got, want) {
					t.Errorf("api-resources row %s: %q, want %q", tc.name, got, want)
				}
			}

			names := mustKubectlWith(t, o, ctx1, "api-resources", "--api-group=apps", "-o", "name")
			if want := "controllerrevisions.apps\ndaemonsets.apps\ndeployments.apps\nreplicasets.apps\nstatefulsets.apps\n"; names != want {
				t.Errorf("api-resources --api-group=apps -o name = %q, want %q", names, want)
			}
			// componentstatuses only support get and list, as on a real server.
			wide := parseTable(t, mustKubectlWith(t, o, ctx1, "api-resources", "-o", "wide"))
			if got := wide.row(t, "NAME", "componentstatuses")["VERBS"]; got != "get,list" {
				t.Errorf("componentstatuses VERBS = %q, want %q", got, "get,list")
			}
			if got := wide.row(t, "NAME", "deployments")["VERBS"]; got != "create,delete,deletecollection,get,list,patch,update,watch" {
				t.Errorf("deployments VERBS = %q", got)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	for _, c := range clients() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := opts{bin: c.bin}
			for _, tc := range []struct {
				field string
				wants []string
			}{
				{"pods.spec.nodeName", []string{
					"KIND:       Pod\n", "VERSION:    v1\n", "FIELD: nodeName <string>\n", "DESCRIPTION:\n",
					"NodeName indicates in which node this pod is scheduled.",
				}},
				{"deployment.spec.replicas", []string{
					"GROUP:      apps\n", "KIND:       Deployment\n", "VERSION:    v1\n", "FIELD: replicas <integer>\n",
					"Number of desired pods. This is a pointer to distinguish between explicit\n    zero and not specified. Defaults to 1.",
				}},
				{"nodes.status.nodeInfo.kubeletVersion", []string{
					"KIND:       Node\n", "FIELD: kubeletVersion <string>\n", "Kubelet Version reported by the node.",
				}},
			} {
				out := mustKubectlWith(t, o, ctx1, "explain", tc.field)
				requireContains(t, "explain "+tc.field, out, tc.wants...)
			}
			errOut := failKubectl(t, o, ctx1, "explain", "pods.spec.nope")
			requireContains(t, "explain pods.spec.nope", errOut, `field "nope" does not exist`)
		})
	}
}

func TestGetRaw(t *testing.T) {
	t.Parallel()
	jsonCheck := func(check func(t *testing.T, m map[string]interface{})) func(t *testing.T, out string) {
		return func(t *testing.T, out string) {
			t.Helper()
			var m map[string]interface{}
			mustJSON(t, out, &m)
			check(t, m)
		}
	}
	hasResource := func(t *testing.T, m map[string]interface{}, name string, verbs ...string) {
		t.Helper()
		rs, _ := m["resources"].([]interface{})
		for _, r := range rs {
			r := r.(map[string]interface{})
			if r["name"] != name {
				continue
			}
			got := map[string]bool{}
			vs, _ := r["verbs"].([]interface{})
			for _, v := range vs {
				got[v.(string)] = true
			}
			for _, v := range verbs {
				if !got[v] {
					t.Errorf("resource %s: verb %q missing from %v", name, v, vs)
				}
			}
			return
		}
		t.Errorf("resource %q missing from %s", name, m["groupVersion"])
	}
	for _, tc := range []struct {
		path  string
		check func(t *testing.T, out string)
	}{
		{"/api", jsonCheck(func(t *testing.T, m map[string]interface{}) {
			if m["kind"] != "APIVersions" {
				t.Errorf("kind = %v, want APIVersions", m["kind"])
			}
			if vs, _ := m["versions"].([]interface{}); len(vs) != 1 || vs[0] != "v1" {
				t.Errorf("versions = %v, want [v1]", m["versions"])
			}
		})},
		{"/apis", jsonCheck(func(t *testing.T, m map[string]interface{}) {
			if m["kind"] != "APIGroupList" || m["apiVersion"] != "v1" {
				t.Errorf("kind/apiVersion = %v/%v, want APIGroupList/v1", m["kind"], m["apiVersion"])
			}
			found := map[string]string{}
			gs, _ := m["groups"].([]interface{})
			for _, g := range gs {
				g := g.(map[string]interface{})
				pv, _ := g["preferredVersion"].(map[string]interface{})
				found[g["name"].(string)], _ = pv["groupVersion"].(string)
			}
			for g, pv := range map[string]string{
				"apps": "apps/v1", "batch": "batch/v1", "coordination.k8s.io": "coordination.k8s.io/v1",
				"rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1", "apiextensions.k8s.io": "apiextensions.k8s.io/v1",
			} {
				if found[g] != pv {
					t.Errorf("group %s preferred version %q, want %q", g, found[g], pv)
				}
			}
		})},
		{"/api/v1", jsonCheck(func(t *testing.T, m map[string]interface{}) {
			if m["kind"] != "APIResourceList" || m["groupVersion"] != "v1" {
				t.Errorf("kind/groupVersion = %v/%v", m["kind"], m["groupVersion"])
			}
			hasResource(t, m, "pods", "create", "delete", "get", "list", "patch", "update", "watch")
			hasResource(t, m, "pods/status", "get", "patch", "update")
			hasResource(t, m, "serviceaccounts/token", "create")
			hasResource(t, m, "componentstatuses", "get", "list")
		})},
		{"/apis/apps/v1", jsonCheck(func(t *testing.T, m map[string]interface{}) {
			if m["kind"] != "APIResourceList" || m["groupVersion"] != "apps/v1" {
				t.Errorf("kind/groupVersion = %v/%v", m["kind"], m["groupVersion"])
			}
			hasResource(t, m, "deployments", "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
			hasResource(t, m, "deployments/scale", "get", "patch", "update")
		})},
		{"/version", jsonCheck(func(t *testing.T, m map[string]interface{}) {
			if m["gitVersion"] != serverGitVersion || m["major"] != "1" || m["minor"] != "36" {
				t.Errorf("version = %v", m)
			}
		})},
		{"/openapi/v3", jsonCheck(func(t *testing.T, m map[string]interface{}) {
			paths, _ := m["paths"].(map[string]interface{})
			for _, p := range []string{"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/coordination.k8s.io/v1", "version"} {
				e, _ := paths[p].(map[string]interface{})
				u, _ := e["serverRelativeURL"].(string)
				if !strings.HasPrefix(u, "/openapi/v3/"+p+"?hash=") {
					t.Errorf("paths[%q].serverRelativeURL = %q", p, u)
				}
			}
		})},
		{"/readyz?verbose", func(t *testing.T, out string) {
			requireContains(t, "/readyz?verbose", out, "[+]ping ok\n", "[+]log ok\n", "[+]etcd ok\n")
			if !strings.HasSuffix(out, "readyz check passed\n") && !strings.HasSuffix(out, "readyz check passed") {
				t.Errorf("/readyz?verbose does not end with %q:\n%s", "readyz check passed", out)
			}
			if strings.Contains(out, "[-]") {
				t.Errorf("/readyz?verbose reports failing checks:\n%s", out)
			}
		}},
		{"/readyz", func(t *testing.T, out string) {
			if out != "ok" {
				t.Errorf("/readyz = %q, want %q", out, "ok")
			}
		}},
		{"/livez", func(t *testing.T, out string) {
			if out != "ok" {
				t.Errorf("/livez = %q, want %q", out, "ok")
			}
		}},
		{"/healthz", func(t *testing.T, out string) {
			if out != "ok" {
				t.Errorf("/healthz = %q, want %q", out, "ok")
			}
		}},
	} {
		t.Run(strings.NewReplacer("/", "_", "?", "_").Replace(strings.TrimPrefix(tc.path, "/")), func(t *testing.T) {
			out, errOut, err := kubectl(t, ctx1, "get", "--raw", tc.path)
			if err != nil {
				t.Fatalf("kubectl get --raw %s: %v\n%s", tc.path, err, errOut)
			}
			tc.check(t, out)
		})
	}

	t.Run("openapi-v3-document", func(t *testing.T) {
		var idx struct {
			Paths map[string]struct {
				ServerRelativeURL string `json:"serverRelativeURL"`
			} `json:"paths"`
		}
		mustJSON(t, mustKubectl(t, ctx1, "get", "--raw", "/openapi/v3"), &idx)
		u := idx.Paths["apis/apps/v1"].ServerRelativeURL
		if u == "" {
			t.Fatal("no apis/apps/v1 in /openapi/v3")
		}
		var doc struct {
			OpenAPI    string `json:"openapi"`
			Components struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		mustJSON(t, mustKubectl(t, ctx1, "get", "--raw", u), &doc)
		if !strings.HasPrefix(doc.OpenAPI, "3.") {
			t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
		}
		if _, ok := doc.Components.Schemas["io.k8s.api.apps.v1.Deployment"]; !ok {
			t.Errorf("schema io.k8s.api.apps.v1.Deployment missing from %s", u)
		}
	})
}

func TestAuthCanI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
	}{
		{[]string{"auth", "can-i", "*", "*"}},
		{[]string{"auth", "can-i", "create", "deployments.apps", "-n", "default"}},
		{[]string{"auth", "can-i", "delete", "nodes"}},
		{[]string{"auth", "can-i", "get", "/readyz"}},
	} {
		out, errOut, err := kubectl(t, ctx1, tc.args...)
		if err != nil || out != "yes\n" {
			t.Errorf("kubectl %s: stdout %q, err %v, stderr %q; want \"yes\" and exit 0", strings.Join(tc.args, " "), out, err, errOut)
		}
	}
}
