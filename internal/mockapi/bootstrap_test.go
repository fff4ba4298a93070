package mockapi

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

var (
	crGVR  = rbacv1.SchemeGroupVersion.WithResource("clusterroles")
	crbGVR = rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings")
	roGVR  = rbacv1.SchemeGroupVersion.WithResource("roles")
	rbGVR  = rbacv1.SchemeGroupVersion.WithResource("rolebindings")
	asGVR  = apiregistrationv1.SchemeGroupVersion.WithResource("apiservices")
)

// bootCounts are the start-up objects of Kubernetes 1.36 per resource (apidocs tests pin them).
var bootCounts = map[schema.GroupVersionResource]int{crGVR: 69, crbGVR: 50, roGVR: 7, rbGVR: 7, asGVR: 21}

// bootCluster is a fresh cluster (see stCluster, plus kube-public, created a while ago) with a
// dynamic client.
func bootCluster(t *testing.T, objects ...runtime.Object) (*Cluster, dynamic.Interface) {
	t.Helper()
	c, cfg, _ := stCluster(t, 0, append([]runtime.Object{stNamespace("kube-public")}, objects...)...)
	// As if stCluster's kube-system had been created then (TestBootstrapPerVersion checks that).
	c.store.created = bootCreated.Unix()
	return c, dynamic.NewForConfigOrDie(cfg)
}

var bootCreated = metav1.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// stored returns what the tracker holds for gvr, bypassing the store's materialisation.
func stored(t *testing.T, c *Cluster, gvr schema.GroupVersionResource) []runtime.Object {
	t.Helper()
	gvk := gvr.GroupVersion().WithKind(map[string]string{"clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding",
		"roles": "Role", "rolebindings": "RoleBinding", "apiservices": "APIService"}[gvr.Resource])
	l, err := c.store.tracker.List(gvr, gvk, "")
	if err != nil {
		t.Fatal(err)
	}
	items, err := meta.ExtractList(l)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// booted lists the resources a cluster has materialised.
func booted(c *Cluster) []string {
	var out []string
	for i, r := range c.store.boot.resources {
		if c.store.booted.Load()&(1<<i) != 0 {
			out = append(out, r.gvr.Resource)
		}
	}
	return out
}

func watchAll(t *testing.T, w watch.Interface, until func(watch.Event) bool) []watch.Event {
	t.Helper()
	defer w.Stop()
	var evs []watch.Event
	for {
		ev, ok := stNext(t, w, 5*time.Second)
		if !ok {
			t.Fatalf("watch ended after %d events", len(evs))
		}
		evs = append(evs, ev)
		if until(ev) {
			return evs
		}
	}
}

func countType(evs []watch.Event, typ watch.EventType) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestBootstrapFirstRequest: whichever request first touches a resource with start-up objects
// sees them, and only that resource is materialised.
func TestBootstrapFirstRequest(t *testing.T) {
	ctx := context.Background()
	yes := true
	tests := []struct {
		name  string
		gvr   schema.GroupVersionResource
		after int // objects stored afterwards; 0: bootCounts[gvr]
		first func(t *testing.T, c *Cluster, dc dynamic.Interface)
	}{
		{"GET clusterrole", crGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			u, err := dc.Resource(crGVR).Get(ctx, "cluster-admin", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if u.GetLabels()["kubernetes.io/bootstrapping"] != "rbac-defaults" || u.GetAnnotations()["rbac.authorization.kubernetes.io/autoupdate"] != "true" {
				t.Errorf("labels %v annotations %v", u.GetLabels(), u.GetAnnotations())
			}
		}},
		{"GET namespaced role", roGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			if _, err := dc.Resource(roGVR).Namespace("kube-system").Get(ctx, "extension-apiserver-authentication-reader", metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"GET missing apiservice", asGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			if _, err := dc.Resource(asGVR).Get(ctx, "v1beta1.metrics.k8s.io", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("got %v, want 404", err)
			}
		}},
		{"LIST clusterrolebindings", crbGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			l, err := dc.Resource(crbGVR).List(ctx, metav1.ListOptions{})
			if err != nil || len(l.Items) != 50 {
				t.Fatalf("%d items, %v", len(l.Items), err)
			}
		}},
		{"LIST roles in one namespace", roGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			l, err := dc.Resource(roGVR).Namespace("kube-public").List(ctx, metav1.ListOptions{})
			if err != nil || len(l.Items) == 0 || len(l.Items) >= 7 {
				t.Fatalf("%d items in kube-public, %v", len(l.Items), err)
			}
		}},
		{"LIST with a label selector", crGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			l, err := dc.Resource(crGVR).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/bootstrapping=rbac-defaults"})
			if err != nil || len(l.Items) != 69 {
				t.Fatalf("%d items, %v", len(l.Items), err)
			}
		}},
		{"LIST with a field selector", crGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			l, err := dc.Resource(crGVR).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=view"})
			if err != nil || len(l.Items) != 1 {
				t.Fatalf("%d items, %v", len(l.Items), err)
			}
		}},
		{"LIST paginated", asGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			var names []string
			cont, rv := "", ""
			for {
				l, err := dc.Resource(asGVR).List(ctx, metav1.ListOptions{Limit: 5, Continue: cont})
				if err != nil {
					t.Fatal(err)
				}
				if rv == "" {
					rv = l.GetResourceVersion()
				} else if l.GetResourceVersion() != rv {
					t.Errorf("page at %s, first at %s", l.GetResourceVersion(), rv)
				}
				for _, it := range l.Items {
					names = append(names, it.GetName())
				}
				if cont = l.GetContinue(); cont == "" {
					break
				}
			}
			if len(names) != 21 || !slices.IsSorted(names) || names[0] != "v1." {
				t.Errorf("pages hold %v", names)
			}
		}},
		{"WATCH-list", rbGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			w, err := dc.Resource(rbGVR).Watch(ctx, metav1.ListOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true,
				ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
			if err != nil {
				t.Fatal(err)
			}
			evs := watchAll(t, w, func(e watch.Event) bool { return e.Type == watch.Bookmark })
			if n := countType(evs, watch.Added); n != 7 {
				t.Errorf("%d initial ADDED, want 7", n)
			}
			if m, _ := meta.Accessor(evs[len(evs)-1].Object); m.GetAnnotations()[metav1.InitialEventsAnnotationKey] != "true" {
				t.Error("no initial-events-end bookmark")
			}
		}},
		{"WATCH from an older resourceVersion", asGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			before := c.store.ResourceVersion()
			w, err := dc.Resource(asGVR).Watch(ctx, metav1.ListOptions{ResourceVersion: fmt.Sprint(before)})
			if err != nil {
				t.Fatal(err)
			}
			evs := stCollect(t, w, 21, 5*time.Second)
			w.Stop()
			for _, e := range evs {
				if e.Type != watch.Added || stDescribe(e).RV <= before {
					t.Fatalf("event %v, want ADDED after %d", stDescribe(e), before)
				}
			}
		}},
		{"CREATE of a start-up name", crGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
				"metadata": map[string]any{"name": "admin"}}}
			if _, err := dc.Resource(crGVR).Create(ctx, u, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
				t.Fatalf("got %v, want 409 AlreadyExists", err)
			}
		}},
		{"CREATE", crbGVR, 51, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
				"metadata": map[string]any{"name": "cattle-admin-binding"},
				"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}}
			if _, err := dc.Resource(crbGVR).Create(ctx, u, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"DELETE", crGVR, 68, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			if err := dc.Resource(crGVR).Delete(ctx, "system:basic-user", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"PATCH", asGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			u, err := dc.Resource(asGVR).Patch(ctx, "v1.apps", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
			if err != nil || u.GetLabels()["x"] != "y" || u.GetLabels()["kube-aggregator.kubernetes.io/automanaged"] != "onstart" {
				t.Fatalf("labels %v, %v", u.GetLabels(), err)
			}
		}},
		{"DELETECOLLECTION", rbGVR, 0, func(t *testing.T, c *Cluster, dc dynamic.Interface) {
			if err := dc.Resource(rbGVR).Namespace("kube-system").DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "none=such"}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, dc := bootCluster(t)
			if got := booted(c); len(got) != 0 {
				t.Fatalf("materialised before any request: %v", got)
			}
			tt.first(t, c, dc)
			if got := booted(c); !slices.Equal(got, []string{tt.gvr.Resource}) {
				t.Errorf("materialised %v, want only %s", got, tt.gvr.Resource)
			}
			want := tt.after
			if want == 0 {
				want = bootCounts[tt.gvr]
			}
			if got := len(stored(t, c, tt.gvr)); got != want {
				t.Errorf("%d %s stored, want %d", got, tt.gvr.Resource, want)
			}
		})
	}
}

// TestBootstrapObjectsAsStored: materialised objects carry what the store assigns: unique
// uids, the cluster's creation time, new consecutive resourceVersions; APIServices their
// Available condition since then.
func TestBootstrapObjectsAsStored(t *testing.T) {
	c, _ := bootCluster(t)
	for _, r := range bootstrapGVRs {
		before := c.store.ResourceVersion()
		items, rv, err := c.store.list(r.gvr, r.gvk, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != bootCounts[r.gvr] || rv != before+uint64(len(items)) {
			t.Fatalf("%s: %d items at rv %d, before %d", r.gvr.Resource, len(items), rv, before)
		}
		var rvs []uint64
		uids := map[types.UID]bool{}
		for _, it := range items {
			m, _ := meta.Accessor(it)
			if ts := m.GetCreationTimestamp(); m.GetUID() == "" || uids[m.GetUID()] || !ts.Equal(&bootCreated) {
				t.Errorf("%s: uid %q (seen %v) creationTimestamp %v", objectKey(it), m.GetUID(), uids[m.GetUID()], m.GetCreationTimestamp())
			}
			uids[m.GetUID()] = true
			rvs = append(rvs, stRV(t, it))
			if svc, ok := it.(*apiregistrationv1.APIService); ok {
				if len(svc.Status.Conditions) != 1 || !svc.Status.Conditions[0].LastTransitionTime.Equal(&bootCreated) ||
					svc.Status.Conditions[0].Reason != "Local" {
					t.Errorf("%s: conditions %+v", svc.Name, svc.Status.Conditions)
				}
			}
		}
		slices.Sort(rvs)
		if rvs[0] != before+1 || rvs[len(rvs)-1] != rv {
			t.Errorf("%s: resourceVersions %d..%d, want %d..%d", r.gvr.Resource, rvs[0], rvs[len(rvs)-1], before+1, rv)
		}
	}
	// The templates shared by every cluster of the version are untouched.
	for _, r := range c.version.bootstrap.resources {
		for _, tmpl := range r.objects {
			if m, _ := meta.Accessor(tmpl); m.GetUID() != "" || m.GetResourceVersion() != "" {
				t.Fatalf("template %s was written to", objectKey(tmpl))
			}
		}
	}
}

// TestBootstrapConcurrentFirstRequests: concurrent first requests of every kind all see the
// whole set, which is created once.
func TestBootstrapConcurrentFirstRequests(t *testing.T) {
	ctx := context.Background()
	c, dc := bootCluster(t)
	yes := true
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0:
				l, err := dc.Resource(crGVR).List(ctx, metav1.ListOptions{})
				if err == nil && len(l.Items) != 69 {
					err = fmt.Errorf("LIST saw %d", len(l.Items))
				}
				errs <- err
			case 1:
				_, err := dc.Resource(crGVR).Get(ctx, "system:discovery", metav1.GetOptions{})
				errs <- err
			case 2:
				w, err := dc.Resource(crGVR).Watch(ctx, metav1.ListOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true,
					ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
				if err != nil {
					errs <- err
					return
				}
				n := 0
				for ev := range w.ResultChan() {
					if ev.Type == watch.Bookmark {
						break
					}
					n++
				}
				w.Stop()
				if n != 69 {
					err = fmt.Errorf("watch-list saw %d", n)
				}
				errs <- err
			case 3:
				_, _, err := c.store.list(crGVR, rbacv1.SchemeGroupVersion.WithKind("ClusterRole"), "")
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(stored(t, c, crGVR)); n != 69 {
		t.Errorf("%d stored", n)
	}
	c.store.mu.Lock()
	events, _ := c.store.history.since(c.store.history.start)
	c.store.mu.Unlock()
	added := 0
	for _, e := range events {
		if e.gvr == crGVR && e.typ == watch.Added {
			added++
		}
	}
	if added != 69 {
		t.Errorf("%d ADDED events recorded, want 69", added)
	}
}

// TestBootstrapFixtureWins: a fixture's object of a start-up name is kept as the fixture has it.
func TestBootstrapFixtureWins(t *testing.T) {
	mine := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "view", Labels: map[string]string{"fixture": "yes"}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}}
	c, dc := bootCluster(t, mine)
	if got := booted(c); len(got) != 0 {
		t.Fatalf("seeding materialised %v", got)
	}
	u, err := dc.Resource(crGVR).Get(context.Background(), "view", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rules, _, _ := unstructured.NestedSlice(u.Object, "rules")
	if u.GetLabels()["fixture"] != "yes" || len(rules) != 1 || u.Object["aggregationRule"] != nil {
		t.Errorf("view is %v, want the fixture's", u.Object)
	}
	if n := len(stored(t, c, crGVR)); n != 69 {
		t.Errorf("%d stored, want 69 (68 start-up ones and the fixture's view)", n)
	}
}

// TestBootstrapUntouched: a cluster whose start-up resources nobody asks for holds none of them.
func TestBootstrapUntouched(t *testing.T) {
	ctx := context.Background()
	c, cfg, cs := stCluster(t, 0)
	if _, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, stConfigMap("", "a", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cs.Discovery().ServerGroupsAndResources(); err != nil {
		t.Fatal(err)
	}
	w, err := dynamic.NewForConfigOrDie(cfg).Resource(corev1.SchemeGroupVersion.WithResource("pods")).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	if got := booted(c); len(got) != 0 {
		t.Errorf("materialised %v", got)
	}
	for gvr := range bootCounts {
		if n := len(stored(t, c, gvr)); n != 0 {
			t.Errorf("%d %s stored", n, gvr.Resource)
		}
	}
}

// TestBootstrapPerVersion: each emulated version materialises its own release's objects,
// created when the cluster's kube-system namespace was.
func TestBootstrapPerVersion(t *testing.T) {
	s := stSharedServer(t, 0)
	for minor, want := range map[string]map[schema.GroupVersionResource]int{
		"1.36": bootCounts,
		"1.32": {crGVR: 64, crbGVR: 45, roGVR: 7, rbGVR: 7, asGVR: 20},
	} {
		kubeSystem := stNamespace("kube-system")
		kubeSystem.CreationTimestamp = bootCreated
		c, err := s.srv.AddCluster(ClusterSpec{Name: "boot-" + minor, Minor: minor, AdminToken: "admin",
			Objects: []runtime.Object{stNamespace("default"), kubeSystem, stNamespace("kube-public")}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range bootstrapGVRs {
			items, _, err := c.store.list(r.gvr, r.gvk, "")
			if err != nil || len(items) != want[r.gvr] {
				t.Errorf("%s %s: %d objects, %v; want %d", minor, r.gvr.Resource, len(items), err, want[r.gvr])
				continue
			}
			if m, _ := meta.Accessor(items[0]); m.GetCreationTimestamp().Unix() != bootCreated.Unix() {
				t.Errorf("%s %s: created %v, want kube-system's %v", minor, r.gvr.Resource, m.GetCreationTimestamp(), bootCreated)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.Shutdown(ctx)
		cancel()
	}
}
