package apidocs

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestObjectPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want schema.GroupResource
		ok   bool
	}{
		{"/api/v1/namespaces/{namespace}/pods/{name}", schema.GroupResource{Resource: "pods"}, true},
		{"/api/v1/namespaces/{name}", schema.GroupResource{Resource: "namespaces"}, true},
		{"/api/v1/nodes/{name}", schema.GroupResource{Resource: "nodes"}, true},
		{"/apis/storage.k8s.io/v1/storageclasses/{name}", schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}, true},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", schema.GroupResource{Group: "apps", Resource: "deployments"}, true},
		{"/api/v1/namespaces/{namespace}/pods", schema.GroupResource{}, false},
		{"/api/v1/namespaces/{namespace}/pods/{name}/status", schema.GroupResource{}, false},
		{"/api/v1/namespaces/{name}/finalize", schema.GroupResource{}, false},
		{"/apis/apps/v1/deployments", schema.GroupResource{}, false},
		{"/version/", schema.GroupResource{}, false},
	} {
		if got, ok := objectPath(tc.path); got != tc.want || ok != tc.ok {
			t.Errorf("objectPath(%q) = %v %v, want %v %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}
