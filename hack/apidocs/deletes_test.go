package main

import "testing"

func TestObjectPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want string
		ok   bool
	}{
		{"/api/v1/namespaces/{namespace}/pods/{name}", "pods", true},
		{"/api/v1/namespaces/{name}", "namespaces", true},
		{"/api/v1/nodes/{name}", "nodes", true},
		{"/apis/storage.k8s.io/v1/storageclasses/{name}", "storageclasses.storage.k8s.io", true},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "deployments.apps", true},
		{"/api/v1/namespaces/{namespace}/pods", "", false},
		{"/api/v1/namespaces/{namespace}/pods/{name}/status", "", false},
		{"/api/v1/namespaces/{name}/finalize", "", false},
		{"/apis/apps/v1/deployments", "", false},
		{"/version/", "", false},
	} {
		if got, ok := objectPath(tc.path); got != tc.want || ok != tc.ok {
			t.Errorf("objectPath(%q) = %q %v, want %q %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}
