package mockapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// TestDeleteResponse: DELETE of one object answers with the deleted object where
// kube-apiserver's registry does (ReturnDeletedObject: pods, services, service accounts,
// PVs, PVCs, storage classes, ...; namespaces, which answer with the Terminating namespace),
// and with a Status otherwise.
func TestDeleteResponse(t *testing.T) {
	ctx := context.Background()
	_, cfg, _ := stCluster(t, 0)
	dc := dynamic.NewForConfigOrDie(cfg)
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	obj := func(apiVersion, kind, name string, fields map[string]any) *unstructured.Unstructured {
		u := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name}}
		for k, v := range fields {
			u[k] = v
		}
		return &unstructured.Unstructured{Object: u}
	}
	containers := map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox"}}}
	tests := []struct {
		gvr      schema.GroupVersionResource
		ns       string // "" for cluster-scoped
		obj      *unstructured.Unstructured
		wantKind string
	}{
		{schema.GroupVersionResource{Version: "v1", Resource: "pods"}, "default", obj("v1", "Pod", "p", map[string]any{"spec": containers}), "Pod"},
		{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "default",
			obj("v1", "Service", "s", map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}}), "Service"},
		{schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, "default", obj("v1", "ServiceAccount", "sa", nil), "ServiceAccount"},
		{schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, "default", obj("v1", "PersistentVolumeClaim", "pvc",
			map[string]any{"spec": map[string]any{"accessModes": []any{"ReadWriteOnce"}, "resources": map[string]any{"requests": map[string]any{"storage": "1Gi"}}}}),
			"PersistentVolumeClaim"},
		{schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}, "", obj("v1", "PersistentVolume", "pv",
			map[string]any{"spec": map[string]any{"accessModes": []any{"ReadWriteOnce"}, "capacity": map[string]any{"storage": "1Gi"},
				"hostPath": map[string]any{"path": "/tmp"}}}), "PersistentVolume"},
		{schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}, "default", obj("v1", "ResourceQuota", "q", nil), "ResourceQuota"},
		{schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}, "",
			obj("storage.k8s.io/v1", "StorageClass", "sc", map[string]any{"provisioner": "example.com/x"}), "StorageClass"},
		{schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "", obj("v1", "Namespace", "gone", nil), "Namespace"},
		{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "default", obj("v1", "ConfigMap", "cm", nil), "Status"},
		{schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "default", obj("v1", "Secret", "sec", nil), "Status"},
		{schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, "", obj("v1", "Node", "n", nil), "Status"},
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "default", obj("apps/v1", "Deployment", "d",
			map[string]any{"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"a": "b"}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}, "spec": containers}}}), "Status"},
		{crGVR, "", obj("rbac.authorization.k8s.io/v1", "ClusterRole", "cr", nil), "Status"},
	}
	for _, tt := range tests {
		t.Run(tt.gvr.Resource, func(t *testing.T) {
			if _, err := dc.Resource(tt.gvr).Namespace(tt.ns).Create(ctx, tt.obj, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			path := "/api/" + tt.gvr.Version
			if tt.gvr.Group != "" {
				path = "/apis/" + tt.gvr.Group + "/" + tt.gvr.Version
			}
			if tt.ns != "" {
				path += "/namespaces/" + tt.ns
			}
			path += "/" + tt.gvr.Resource + "/" + tt.obj.GetName()
			req, err := http.NewRequestWithContext(ctx, http.MethodDelete, cfg.Host+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "application/json")
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var got struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
			}
			if resp.StatusCode != http.StatusOK || got.Kind != tt.wantKind {
				t.Fatalf("DELETE %s: %d %s, want 200 %s", path, resp.StatusCode, got.Kind, tt.wantKind)
			}
			if tt.wantKind != "Status" && got.Metadata.Name != tt.obj.GetName() {
				t.Errorf("DELETE %s answered %s %q", path, got.Kind, got.Metadata.Name)
			}
		})
	}
}
