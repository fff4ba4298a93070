package apidocs_test

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

func mustLoad(t testing.TB, minor string) *apidocs.Docs {
	t.Helper()
	d, err := apidocs.Load(minor)
	if err != nil {
		t.Fatalf("Load(%q): %v", minor, err)
	}
	return d
}

func TestMinors(t *testing.T) {
	if got, want := apidocs.Minors(), []string{"1.32", "1.36"}; !slices.Equal(got, want) {
		t.Fatalf("Minors() = %v, want %v", got, want)
	}
	if !slices.Contains(apidocs.Minors(), apidocs.DefaultMinor) {
		t.Fatalf("DefaultMinor %q has no documents", apidocs.DefaultMinor)
	}
}

func TestLoad(t *testing.T) {
	_, err := apidocs.Load("1.99")
	if err == nil || !strings.Contains(err.Error(), "1.32, 1.36") {
		t.Fatalf("Load(1.99) error = %v, want one naming the available minors", err)
	}
	if a, b := mustLoad(t, "1.36"), mustLoad(t, "1.36"); a != b {
		t.Fatal("Load is not cached per minor")
	}
	for minor, git := range map[string]string{"1.36": "v1.36.3", "1.32": "v1.32.4"} {
		if d := mustLoad(t, minor); d.Minor != minor || d.GitVersion != git {
			t.Errorf("Load(%q) = Minor %q GitVersion %q, want %q", minor, d.Minor, d.GitVersion, git)
		}
	}
}

// TestServedGroups checks that only what a default-configured cluster serves is left.
func TestServedGroups(t *testing.T) {
	all20 := []string{"admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "apps",
		"authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
		"coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
		"networking.k8s.io", "node.k8s.io", "policy", "rbac.authorization.k8s.io", "resource.k8s.io",
		"scheduling.k8s.io", "storage.k8s.io"}
	for _, tc := range []struct {
		minor     string
		groups    []string
		gvs       int // including core v1
		resources int // kubectl api-resources rows
	}{
		{"1.36", all20, 22, 68},
		{"1.32", slices.DeleteFunc(slices.Clone(all20), func(g string) bool { return g == "resource.k8s.io" }), 21, 59},
	} {
		t.Run(tc.minor, func(t *testing.T) {
			d := mustLoad(t, tc.minor)
			gvs := d.GroupVersions()
			var groups []string
			for _, gv := range gvs {
				if !isGA(gv.Version) {
					t.Errorf("non-GA group-version %s served", gv)
				}
				if gv.Group != "" && !slices.Contains(groups, gv.Group) {
					groups = append(groups, gv.Group)
				}
			}
			slices.Sort(groups)
			if !slices.Equal(groups, tc.groups) {
				t.Errorf("groups = %v\nwant %v", groups, tc.groups)
			}
			if len(gvs) != tc.gvs || gvs[0] != (schema.GroupVersion{Version: "v1"}) {
				t.Errorf("group-versions = %v, want %d starting with core v1", gvs, tc.gvs)
			}
			if len(d.Resources) != tc.resources {
				t.Errorf("%d resources, want %d", len(d.Resources), tc.resources)
			}
		})
	}
}

func isGA(version string) bool {
	return !strings.Contains(version, "alpha") && !strings.Contains(version, "beta")
}

func TestResources(t *testing.T) {
	core := schema.GroupVersion{Version: "v1"}
	apps := schema.GroupVersion{Group: "apps", Version: "v1"}
	scale := apidocs.Subresource{Name: "scale", Kind: "Scale", GroupVersion: schema.GroupVersion{Group: "autoscaling", Version: "v1"}, Verbs: []string{"get", "patch", "update"}}
	crud := []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	for _, minor := range apidocs.Minors() {
		d := mustLoad(t, minor)
		for _, tc := range []struct {
			gv         schema.GroupVersion
			name       string
			kind       string
			namespaced bool
			shortNames []string
			verbs      []string
			subs       map[string]apidocs.Subresource // checked entries; nil: no subresources at all
		}{
			{core, "nodes", "Node", false, []string{"no"}, crud, map[string]apidocs.Subresource{
				"status": {Name: "status", Kind: "Node", GroupVersion: core, Verbs: []string{"get", "patch", "update"}},
				"proxy":  {Name: "proxy", Kind: "NodeProxyOptions", GroupVersion: core, Verbs: []string{"create", "delete", "get", "patch", "update"}},
			}},
			{core, "componentstatuses", "ComponentStatus", false, []string{"cs"}, []string{"get", "list"}, nil},
			{core, "pods", "Pod", true, []string{"po"}, crud, map[string]apidocs.Subresource{
				"eviction": {Name: "eviction", Kind: "Eviction", GroupVersion: schema.GroupVersion{Group: "policy", Version: "v1"}, Verbs: []string{"create"}},
				"binding":  {Name: "binding", Kind: "Binding", GroupVersion: core, Verbs: []string{"create"}},
				"log":      {Name: "log", Kind: "Pod", GroupVersion: core, Verbs: []string{"get"}},
				"exec":     {Name: "exec", Kind: "PodExecOptions", GroupVersion: core, Verbs: []string{"create", "get"}},
			}},
			{core, "serviceaccounts", "ServiceAccount", true, []string{"sa"}, crud, map[string]apidocs.Subresource{
				"token": {Name: "token", Kind: "TokenRequest", GroupVersion: schema.GroupVersion{Group: "authentication.k8s.io", Version: "v1"}, Verbs: []string{"create"}},
			}},
			{apps, "deployments", "Deployment", true, []string{"deploy"}, crud, map[string]apidocs.Subresource{
				"status": {Name: "status", Kind: "Deployment", GroupVersion: apps, Verbs: []string{"get", "patch", "update"}},
				"scale":  scale,
			}},
			{apps, "statefulsets", "StatefulSet", true, []string{"sts"}, crud, map[string]apidocs.Subresource{"scale": scale}},
			{schema.GroupVersion{Group: "coordination.k8s.io", Version: "v1"}, "leases", "Lease", true, nil, crud, nil},
		} {
			t.Run(minor+"/"+tc.name, func(t *testing.T) {
				i := slices.IndexFunc(d.Resources, func(r apidocs.Resource) bool { return r.GroupVersion == tc.gv && r.Name == tc.name })
				if i < 0 {
					t.Fatalf("%s %s not served", tc.gv, tc.name)
				}
				r := d.Resources[i]
				if r.Kind != tc.kind || r.Namespaced != tc.namespaced || !slices.Equal(r.ShortNames, tc.shortNames) || !slices.Equal(r.Verbs, tc.verbs) {
					t.Errorf("got kind %q namespaced %v shortNames %v verbs %v", r.Kind, r.Namespaced, r.ShortNames, r.Verbs)
				}
				if tc.subs == nil && len(r.Subresources) > 0 {
					t.Errorf("unexpected subresources %v", r.Subresources)
				}
				for name, want := range tc.subs {
					j := slices.IndexFunc(r.Subresources, func(s apidocs.Subresource) bool { return s.Name == name })
					if j < 0 {
						t.Errorf("no %s subresource in %v", name, r.Subresources)
					} else if got := r.Subresources[j]; got.Kind != want.Kind || got.GroupVersion != want.GroupVersion || !slices.Equal(got.Verbs, want.Verbs) {
						t.Errorf("subresource %s = %+v, want %+v", name, got, want)
					}
				}
			})
		}
	}
}
