package mockapi

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// bootstrapGVRs are the resources with start-up objects, as Rancher's informers watch them.
var bootstrapGVRs = []struct {
	gvr schema.GroupVersionResource
	gvk schema.GroupVersionKind
}{
	{rbacv1.SchemeGroupVersion.WithResource("clusterroles"), rbacv1.SchemeGroupVersion.WithKind("ClusterRole")},
	{rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings"), rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding")},
	{rbacv1.SchemeGroupVersion.WithResource("roles"), rbacv1.SchemeGroupVersion.WithKind("Role")},
	{rbacv1.SchemeGroupVersion.WithResource("rolebindings"), rbacv1.SchemeGroupVersion.WithKind("RoleBinding")},
	{apiregistrationv1.SchemeGroupVersion.WithResource("apiservices"), apiregistrationv1.SchemeGroupVersion.WithKind("APIService")},
}

// footprintObjects is a small idle cluster: the namespaces every cluster has and one node.
func footprintObjects() []k8sruntime.Object {
	return []k8sruntime.Object{
		stNamespace("default"), stNamespace("kube-system"), stNamespace("kube-public"), stNamespace("kube-node-lease"),
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}},
	}
}

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestClusterFootprint logs what one idle simulated cluster costs in live heap: untouched, and
// once Rancher-like informers have touched the five resources with start-up objects; and how
// long the first request, which materialises them, takes. Run it alone for clean figures:
// go test ./internal/mockapi -run ClusterFootprint -v
func TestClusterFootprint(t *testing.T) {
	const n = 200
	srv, ca := newTestServer(t, t.TempDir(), 0)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	// The first cluster builds the version's apiserver, shared by all; not a per-cluster cost.
	first, err := srv.AddCluster(ClusterSpec{Name: "warm", AdminToken: "admin-warm", Objects: footprintObjects()})
	if err != nil {
		t.Fatal(err)
	}

	// The decoded templates every cluster of the version shares, built with the version.
	before := liveHeap()
	set, err := newBootstrapSet(first.version.scheme, first.version.registry, first.version.docs)
	if err != nil {
		t.Fatal(err)
	}
	shared := float64(liveHeap()-before) / 1024
	runtime.KeepAlive(set)

	base := liveHeap()
	clusters := make([]*Cluster, 0, n)
	for i := range n {
		c, err := srv.AddCluster(ClusterSpec{Name: fmt.Sprintf("fp-%d", i), AdminToken: "admin", Objects: footprintObjects()})
		if err != nil {
			t.Fatal(err)
		}
		clusters = append(clusters, c)
	}
	idle := liveHeap()
	perIdle := float64(idle-base) / n / 1024

	// What the informers' watch-lists leave in the store: the objects and their ADDED events.
	start := time.Now()
	for _, c := range clusters {
		for _, r := range bootstrapGVRs {
			if _, _, err := c.store.list(r.gvr, r.gvk, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	perTouch := time.Since(start) / n
	touched := liveHeap()
	perTouched := float64(touched-idle) / n / 1024

	// The first request of a resource through the API, which materialises it, and the next.
	cs := kubernetes.NewForConfigOrDie(&rest.Config{Host: first.URL(), BearerToken: first.AdminToken(),
		TLSClientConfig: rest.TLSClientConfig{CAData: ca}, QPS: -1})
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil { // connection set up
		t.Fatal(err)
	}
	var firstReq, secondReq time.Duration
	var items int
	for _, d := range []*time.Duration{&firstReq, &secondReq} {
		start := time.Now()
		l, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
		*d = time.Since(start)
		if err != nil {
			t.Fatalf("list clusterroles: %v", err)
		}
		items = len(l.Items)
	}
	t.Logf("per idle cluster: %.1f KiB live heap untouched; +%.1f KiB once the five resources are touched (%d clusters), "+
		"which took %v per cluster (store lists, materialising)", perIdle, perTouched, n, perTouch.Round(time.Microsecond))
	t.Logf("start-up object templates, shared by the version's clusters: %.0f KiB", shared)
	t.Logf("LIST clusterroles (%d items): first (materialises) %v, second %v", items, firstReq.Round(time.Microsecond), secondReq.Round(time.Microsecond))
	runtime.KeepAlive(clusters)
}
