package apidocs_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestDeleteReturnsObject checks the published documents against kube-apiserver's registries:
// those with ReturnDeletedObject (pkg/registry, v1.36) answer DELETE with the object. The
// namespace registry, which returns the namespace from its own Delete, documents a Status;
// the mock's namespace REST returns the namespace regardless.
func TestDeleteReturnsObject(t *testing.T) {
	core := func(r string) schema.GroupResource { return schema.GroupResource{Resource: r} }
	storage := func(r string) schema.GroupResource { return schema.GroupResource{Group: "storage.k8s.io", Resource: r} }
	resource := func(r string) schema.GroupResource {
		return schema.GroupResource{Group: "resource.k8s.io", Resource: r}
	}
	for _, tc := range []struct {
		gr   schema.GroupResource
		want map[string]bool // by minor
	}{
		{core("pods"), map[string]bool{"1.36": true, "1.32": true}},
		{core("services"), map[string]bool{"1.36": true, "1.32": true}},
		{core("serviceaccounts"), map[string]bool{"1.36": true, "1.32": true}},
		{core("persistentvolumes"), map[string]bool{"1.36": true, "1.32": true}},
		{core("persistentvolumeclaims"), map[string]bool{"1.36": true, "1.32": true}},
		{core("podtemplates"), map[string]bool{"1.36": true, "1.32": true}},
		{core("resourcequotas"), map[string]bool{"1.36": true, "1.32": true}},
		{storage("storageclasses"), map[string]bool{"1.36": true, "1.32": true}},
		{storage("csidrivers"), map[string]bool{"1.36": true, "1.32": true}},
		{storage("csinodes"), map[string]bool{"1.36": true, "1.32": true}},
		{storage("volumeattachments"), map[string]bool{"1.36": true, "1.32": true}},
		{storage("volumeattributesclasses"), map[string]bool{"1.36": true, "1.32": false}}, // beta, not served, in 1.32
		{resource("resourceclaims"), map[string]bool{"1.36": true, "1.32": false}},
		{resource("deviceclasses"), map[string]bool{"1.36": true, "1.32": false}},
		{core("namespaces"), map[string]bool{"1.36": false, "1.32": false}},
		{core("secrets"), map[string]bool{"1.36": false, "1.32": false}},
		{core("configmaps"), map[string]bool{"1.36": false, "1.32": false}},
		{core("nodes"), map[string]bool{"1.36": false, "1.32": false}},
		{schema.GroupResource{Group: "apps", Resource: "deployments"}, map[string]bool{"1.36": false, "1.32": false}},
		{schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, map[string]bool{"1.36": false, "1.32": false}},
		{schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"}, map[string]bool{"1.36": false, "1.32": false}},
	} {
		for minor, want := range tc.want {
			if got := mustLoad(t, minor).DeleteReturnsObject(tc.gr); got != want {
				t.Errorf("%s DeleteReturnsObject(%s) = %v, want %v", minor, tc.gr, got, want)
			}
		}
	}
}
