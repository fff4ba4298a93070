package replay

import (
	"encoding/json"
	"testing"
	"time"
)

func TestExpectedKind(t *testing.T) {
	tests := []struct {
		rec  Record
		want string
	}{
		{Record{Method: "GET", URI: "/api/v1/namespaces/kube-system?timeout=45s", Status: 200}, "Namespace"},
		{Record{Method: "GET", URI: "/api/v1/nodes?limit=1", Status: 200}, "NodeList"},
		{Record{Method: "GET", URI: "/api/v1/namespaces/a/secrets", Status: 200}, "SecretList"},
		{Record{Method: "PUT", URI: "/apis/apps/v1/namespaces/a/deployments/d", Status: 200}, "Deployment"},
		{Record{Method: "POST", URI: "/apis/rbac.authorization.k8s.io/v1/clusterroles", Status: 201}, "ClusterRole"},
		{Record{Method: "POST", URI: "/apis/rbac.authorization.k8s.io/v1/clusterroles", Status: 409}, "Status"},
		{Record{Method: "DELETE", URI: "/api/v1/namespaces/a/secrets/s", Status: 200}, "Status"},
		{Record{Method: "DELETE", URI: "/api/v1/namespaces/a/serviceaccounts/s", Status: 200}, "ServiceAccount"},
		{Record{Method: "GET", URI: "/api/v1/nodes?limit=500", Status: 200, RespKind: "Table"}, "Table"},
		{Record{Method: "GET", URI: "/api/v1/namespaces?watch=true", Status: 200, Watch: true}, ""},
		{Record{Method: "GET", URI: "/version?timeout=45s", Status: 200}, ""},
		{Record{Method: "GET", URI: "/readyz", Status: 200}, ""},
	}
	for _, tt := range tests {
		if got := expectedKind(&tt.rec); got != tt.want {
			t.Errorf("%s %s %d: expected kind %q, want %q", tt.rec.Method, tt.rec.URI, tt.rec.Status, got, tt.want)
		}
	}
}

func TestInitialRecorded(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 22, 54, 8, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	watch := func(uri string, added int) *Record {
		return &Record{Method: "GET", URI: uri, Watch: true, Time: at(0), End: at(100), WatchEventTypes: map[string]int{"ADDED": added, "BOOKMARK": 3}}
	}
	create := func(uri, name string, s float64) Record {
		return Record{Method: "POST", URI: uri, Status: 201, Time: at(s), ReqBody: json.RawMessage(`{"metadata":{"name":"` + name + `"}}`)}
	}
	const list = "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
	recs := []Record{
		create("/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings", "rb1", 1),
		create("/apis/rbac.authorization.k8s.io/v1/namespaces/b/rolebindings", "rb2", 2),
		create("/apis/rbac.authorization.k8s.io/v1/namespaces/b/rolebindings", "late", 200),
		create("/api/v1/namespaces", "imp", 3),
		create("/api/v1/namespaces/imp/serviceaccounts", "sa", 4),
	}
	tests := []struct {
		name string
		w    *Record
		want int
	}{
		{"cluster-wide: creates in every namespace while open", watch("/apis/rbac.authorization.k8s.io/v1/rolebindings"+list, 9), 7},
		{"namespaced: creates in that namespace", watch("/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings"+list, 3), 2},
		{"service accounts: a new namespace brings its default one", watch("/api/v1/namespaces/imp/serviceaccounts"+list, 2), 0},
		{"a plain watch has no initial events", watch("/apis/rbac.authorization.k8s.io/v1/rolebindings?watch=true", 9), 0},
	}
	for _, tt := range tests {
		if got := initialRecorded(tt.w, recs); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
