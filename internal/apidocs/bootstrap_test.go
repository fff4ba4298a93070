package apidocs_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	clusterRoles        = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}
	clusterRoleBindings = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}
	roles               = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "roles"}
	roleBindings        = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}
	apiServices         = schema.GroupResource{Group: "apiregistration.k8s.io", Resource: "apiservices"}
)

// bootstrapObject is what the tests look at in an embedded object.
type bootstrapObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name, Namespace, UID, ResourceVersion string
		CreationTimestamp                     *string           `json:"creationTimestamp"`
		Labels                                map[string]string `json:"labels"`
		Annotations                           map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Group                string `json:"group"`
		Version              string `json:"version"`
		GroupPriorityMinimum int    `json:"groupPriorityMinimum"`
		VersionPriority      int    `json:"versionPriority"`
	} `json:"spec"`
}

func bootstrapObjects(t *testing.T, minor string, gr schema.GroupResource) []bootstrapObject {
	t.Helper()
	raw, err := mustLoad(t, minor).BootstrapObjects(gr)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]bootstrapObject, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatalf("%s %d: %v", gr, i, err)
		}
	}
	return out
}

// TestBootstrapObjects checks the counts a real kube-apiserver creates (v1.36: 31 policy + 38
// controller ClusterRoles, 12 + 38 bindings, 7 Roles and RoleBindings in kube-system and
// kube-public, 21 APIServices as the recorded v1.36.2 server's apiservices watch-list showed)
// and that each object is stored as the server stores it.
func TestBootstrapObjects(t *testing.T) {
	for _, tc := range []struct {
		minor string
		gr    schema.GroupResource
		kind  string
		n     int
		names []string // some that must be there
	}{
		{"1.36", clusterRoles, "ClusterRole", 31 + 38, []string{"admin", "cluster-admin", "view", "system:discovery", "system:controller:namespace-controller"}},
		{"1.36", clusterRoleBindings, "ClusterRoleBinding", 12 + 38, []string{"cluster-admin", "system:basic-user", "system:controller:namespace-controller"}},
		{"1.36", roles, "Role", 7, []string{"kube-public/system:controller:bootstrap-signer", "kube-system/extension-apiserver-authentication-reader"}},
		{"1.36", roleBindings, "RoleBinding", 7, []string{"kube-system/system::leader-locking-kube-scheduler"}},
		{"1.36", apiServices, "APIService", 21, []string{"v1.", "v1.apps", "v2.autoscaling", "v1.resource.k8s.io"}},
		{"1.32", clusterRoles, "ClusterRole", 26 + 38, []string{"admin", "system:controller:namespace-controller"}},
		{"1.32", clusterRoleBindings, "ClusterRoleBinding", 7 + 38, []string{"cluster-admin"}},
		{"1.32", roles, "Role", 7, nil},
		{"1.32", roleBindings, "RoleBinding", 7, nil},
		{"1.32", apiServices, "APIService", 20, []string{"v1.", "v1.flowcontrol.apiserver.k8s.io"}},
	} {
		t.Run(tc.minor+"/"+tc.gr.String(), func(t *testing.T) {
			objs := bootstrapObjects(t, tc.minor, tc.gr)
			if len(objs) != tc.n {
				t.Errorf("%d objects, want %d", len(objs), tc.n)
			}
			var names []string
			for _, o := range objs {
				key := o.Metadata.Name
				if o.Metadata.Namespace != "" {
					key = o.Metadata.Namespace + "/" + key
				}
				names = append(names, key)
				if o.Kind != tc.kind || o.Metadata.UID != "" || o.Metadata.ResourceVersion != "" || o.Metadata.CreationTimestamp != nil {
					t.Errorf("%s: kind %s uid %q rv %q creationTimestamp %v: want %s without store-assigned fields",
						key, o.Kind, o.Metadata.UID, o.Metadata.ResourceVersion, o.Metadata.CreationTimestamp, tc.kind)
				}
				if tc.gr.Group == "rbac.authorization.k8s.io" {
					if o.Metadata.Labels["kubernetes.io/bootstrapping"] != "rbac-defaults" ||
						o.Metadata.Annotations["rbac.authorization.kubernetes.io/autoupdate"] != "true" {
						t.Errorf("%s: labels %v annotations %v, want the bootstrap policy's", key, o.Metadata.Labels, o.Metadata.Annotations)
					}
					if ns := o.Metadata.Namespace; tc.gr.Resource[0] == 'r' && ns != "kube-system" && ns != "kube-public" {
						t.Errorf("%s: namespace %q", key, ns)
					}
				}
			}
			if !slices.IsSorted(names) {
				t.Errorf("not sorted by namespace and name: %v", names)
			}
			for _, n := range tc.names {
				if !slices.Contains(names, n) {
					t.Errorf("%s missing from %v", n, names)
				}
			}
		})
	}
}

// TestBootstrapAPIServices checks the APIServices against the served group-versions and
// kube-apiserver's priority table.
func TestBootstrapAPIServices(t *testing.T) {
	for _, minor := range []string{"1.36", "1.32"} {
		d := mustLoad(t, minor)
		byName := map[string]bootstrapObject{}
		for _, o := range bootstrapObjects(t, minor, apiServices) {
			byName[o.Metadata.Name] = o
			if o.Metadata.Labels["kube-aggregator.kubernetes.io/automanaged"] != "onstart" {
				t.Errorf("%s %s: labels %v", minor, o.Metadata.Name, o.Metadata.Labels)
			}
		}
		for _, gv := range d.GroupVersions() {
			o, ok := byName[gv.Version+"."+gv.Group]
			// The aggregator serves apiregistration.k8s.io itself: it has no APIService.
			if want := gv.Group != "apiregistration.k8s.io"; ok != want {
				t.Errorf("%s %s: APIService present %v, want %v", minor, gv, ok, want)
				continue
			}
			if ok && (o.Spec.Group != gv.Group || o.Spec.Version != gv.Version) {
				t.Errorf("%s %s: spec %+v", minor, gv, o.Spec)
			}
		}
		for name, want := range map[string][2]int{"v1.": {18000, 1}, "v1.apps": {17800, 15}, "v2.autoscaling": {17500, 30},
			"v1.autoscaling": {17500, 15}, "v1.flowcontrol.apiserver.k8s.io": {16100, 21}, "v1.events.k8s.io": {17750, 15}} {
			if s := byName[name].Spec; s.GroupPriorityMinimum != want[0] || s.VersionPriority != want[1] {
				t.Errorf("%s %s: priorities %d/%d, want %d/%d", minor, name, s.GroupPriorityMinimum, s.VersionPriority, want[0], want[1])
			}
		}
	}
	if s := bootstrapObjects(t, "1.36", apiServices); !slices.ContainsFunc(s, func(o bootstrapObject) bool {
		return o.Metadata.Name == "v1.resource.k8s.io" && o.Spec.GroupPriorityMinimum == 16200 && o.Spec.VersionPriority == 21
	}) {
		t.Error("1.36: v1.resource.k8s.io not at kube-apiserver's 16200/21 (which overrides the generic table)")
	}
}

func TestBootstrapResources(t *testing.T) {
	for _, minor := range []string{"1.36", "1.32"} {
		d := mustLoad(t, minor)
		want := []schema.GroupResource{apiServices, clusterRoleBindings, clusterRoles, roleBindings, roles}
		if got := d.BootstrapResources(); !slices.Equal(got, want) {
			t.Errorf("%s: BootstrapResources() = %v, want %v", minor, got, want)
		}
		if _, err := d.BootstrapObjects(schema.GroupResource{Resource: "pods"}); err == nil || !strings.Contains(err.Error(), "no bootstrap objects") {
			t.Errorf("%s: BootstrapObjects(pods) error = %v", minor, err)
		}
	}
}
