package mockapi

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The store, watch and storage tests share one Server per watch-history size, so that the
// apiserver handler chain is built once rather than per test; every test gets its own
// cluster on it, which also exercises the isolation between clusters of one server.

type stServer struct {
	srv *Server
	ca  []byte
}

var (
	stServersMu sync.Mutex
	stServers   = map[int]*stServer{}
	stClusterN  atomic.Int64
)

func stSharedServer(t *testing.T, history int) *stServer {
	t.Helper()
	stServersMu.Lock()
	defer stServersMu.Unlock()
	if s, ok := stServers[history]; ok {
		return s
	}
	dir, err := os.MkdirTemp("", "mockapi-store-test")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv, ca := newTestServer(t, dir, history)
	s := &stServer{srv: srv, ca: ca}
	stServers[history] = s
	return s
}

// stNamespace is an active namespace as the seed needs it.
func stNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
}

// stCluster serves a new cluster (namespaces default, kube-system, ns-a, ns-b and ns-c plus
// objects) on a shared server keeping history watch events (0: the default), and returns
// it with a client config and a clientset.
func stCluster(t *testing.T, history int, objects ...runtime.Object) (*Cluster, *rest.Config, kubernetes.Interface) {
	t.Helper()
	s := stSharedServer(t, history)
	base := []runtime.Object{stNamespace("default"), stNamespace("kube-system"), stNamespace("ns-a"), stNamespace("ns-b"), stNamespace("ns-c")}
	name := fmt.Sprintf("st-%d", stClusterN.Add(1))
	c, err := s.srv.AddCluster(ClusterSpec{Name: name, AdminToken: "admin-" + name, Objects: append(base, objects...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Shutdown(ctx)
	})
	cfg := &rest.Config{
		Host:            c.URL(),
		BearerToken:     c.AdminToken(),
		TLSClientConfig: rest.TLSClientConfig{CAData: s.ca},
		QPS:             -1,
	}
	return c, cfg, kubernetes.NewForConfigOrDie(cfg)
}

// stStorage returns the clusterStorage the registry serves a resource with.
func stStorage(t *testing.T, c *Cluster, gr schema.GroupResource) *clusterStorage {
	t.Helper()
	st, ok := c.version.registry.stores[gr]
	if !ok {
		t.Fatalf("no registry store for %s", gr)
	}
	cs, ok := st.Storage.Storage.(*clusterStorage)
	if !ok {
		t.Fatalf("storage of %s is %T, not *clusterStorage", gr, st.Storage.Storage)
	}
	return cs
}

// stKey returns the registry key of an object (ns "" for cluster-scoped ones).
func stKey(c *clusterStorage, ns, name string) string {
	if ns == "" {
		return c.prefix + "/" + name
	}
	return c.prefix + "/" + ns + "/" + name
}

var (
	cmGVR  = corev1.SchemeGroupVersion.WithResource("configmaps")
	cmGVK  = corev1.SchemeGroupVersion.WithKind("ConfigMap")
	secGVR = corev1.SchemeGroupVersion.WithResource("secrets")
	secGVK = corev1.SchemeGroupVersion.WithKind("Secret")
	podGVR = corev1.SchemeGroupVersion.WithResource("pods")
	podGVK = corev1.SchemeGroupVersion.WithKind("Pod")
)

func stConfigMap(ns, name string, labels map[string]string, data ...string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
	if len(data) > 0 {
		cm.Data = map[string]string{}
		for i := 0; i+1 < len(data); i += 2 {
			cm.Data[data[i]] = data[i+1]
		}
	}
	return cm
}

func stPod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func stRV(t *testing.T, obj runtime.Object) uint64 {
	t.Helper()
	m, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q of %s: %v", m.GetResourceVersion(), objectKey(obj), err)
	}
	return rv
}

func stListRV(t *testing.T, list runtime.Object) uint64 {
	t.Helper()
	m, err := meta.ListAccessor(list)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
	if err != nil {
		t.Fatalf("list resourceVersion %q: %v", m.GetResourceVersion(), err)
	}
	return rv
}

// stEv is an expected (or observed) watch event in a compact form.
type stEv struct {
	Type watch.EventType
	Key  string // namespace/name, or the Status reason for ERROR events
	RV   uint64 // 0: not compared
}

func (e stEv) String() string { return fmt.Sprintf("%s %s@%d", e.Type, e.Key, e.RV) }

func stDescribe(ev watch.Event) stEv {
	if ev.Type == watch.Error {
		if st, ok := ev.Object.(*metav1.Status); ok {
			return stEv{Type: ev.Type, Key: string(st.Reason)}
		}
		return stEv{Type: ev.Type, Key: fmt.Sprintf("%T", ev.Object)}
	}
	m, err := meta.Accessor(ev.Object)
	if err != nil {
		return stEv{Type: ev.Type, Key: fmt.Sprintf("%T", ev.Object)}
	}
	rv, _ := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
	return stEv{Type: ev.Type, Key: m.GetNamespace() + "/" + m.GetName(), RV: rv}
}

// stNext returns the next event, or false if the watch closed or nothing came within timeout.
func stNext(t *testing.T, w watch.Interface, timeout time.Duration) (watch.Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		return ev, ok
	case <-time.After(timeout):
		return watch.Event{}, false
	}
}

// stCollect reads n events, failing if they do not arrive within timeout.
func stCollect(t *testing.T, w watch.Interface, n int, timeout time.Duration) []watch.Event {
	t.Helper()
	var out []watch.Event
	deadline := time.After(timeout)
	for len(out) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %v", len(out), n, stDescribeAll(out))
			}
			out = append(out, ev)
		case <-deadline:
			t.Fatalf("got %d of %d events within %s: %v", len(out), n, timeout, stDescribeAll(out))
		}
	}
	return out
}

func stDescribeAll(evs []watch.Event) []stEv {
	out := make([]stEv, 0, len(evs))
	for _, e := range evs {
		out = append(out, stDescribe(e))
	}
	return out
}

// stExpect reads len(want) events and compares them, then checks that nothing else arrives
// within quiet.
func stExpect(t *testing.T, w watch.Interface, want []stEv, quiet time.Duration) {
	t.Helper()
	got := stDescribeAll(stCollect(t, w, len(want), 10*time.Second))
	for i := range want {
		g := got[i]
		if want[i].RV == 0 {
			g.RV = 0
		}
		if g != want[i] {
			t.Fatalf("events:\n got  %v\n want %v", got, want)
		}
	}
	if quiet > 0 {
		if ev, ok := stNext(t, w, quiet); ok {
			t.Fatalf("unexpected extra event %v after %v", stDescribe(ev), want)
		}
	}
}

// stEventually polls cond until it holds or timeout passes.
func stEventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stNames(t *testing.T, list runtime.Object) []string {
	t.Helper()
	items, err := meta.ExtractList(list)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, objectKey(it))
	}
	return out
}

func stSorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func stJoin(s []string) string { return "[" + strings.Join(s, " ") + "]" }
