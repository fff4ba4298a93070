package mockapi

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/retry"
)

func newConfigMapObject() runtime.Object { return &corev1.ConfigMap{} }

func stLabelPredicate(t *testing.T, selector string) storage.SelectionPredicate {
	t.Helper()
	if selector == "" {
		return storage.Everything
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		t.Fatal(err)
	}
	return storage.SelectionPredicate{Label: sel, Field: fields.Everything(), GetAttrs: getAttrs}
}

// ---------------------------------------------------------------------------------------
// Store level.
// ---------------------------------------------------------------------------------------

// TestStoreWatch: watches resumed from a resourceVersion get exactly the later events of
// their resource, namespace and selection, in order; initial events list the current state.
func TestStoreWatch(t *testing.T) {
	s := newTestStore(0)
	must := func(_ runtime.Object, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.create(cmGVR, cmGVK, stConfigMap("ns-a", "a", map[string]string{"app": "web"})))                     // 1
	must(s.create(cmGVR, cmGVK, stConfigMap("ns-b", "b", map[string]string{"app": "web"})))                     // 2
	must(s.create(secGVR, secGVK, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns-a", Name: "s"}})) // 3
	must(s.update(cmGVR, stConfigMap("ns-a", "a", map[string]string{"app": "db"}), 1))                          // 4
	must(s.remove(cmGVR, "ns-b", "b", 0))                                                                       // 5
	must(s.create(cmGVR, cmGVK, stConfigMap("ns-a", "c", map[string]string{"app": "web"})))                     // 6

	tests := []struct {
		name     string
		ns       string
		selector string
		from     uint64
		fromSet  bool
		initial  bool
		want     []stEv
	}{
		{name: "everything from 0", fromSet: true, want: []stEv{
			{watch.Added, "ns-a/a", 1}, {watch.Added, "ns-b/b", 2}, {watch.Modified, "ns-a/a", 4}, {watch.Deleted, "ns-b/b", 5}, {watch.Added, "ns-a/c", 6}}},
		{name: "from 3", from: 3, fromSet: true, want: []stEv{{watch.Modified, "ns-a/a", 4}, {watch.Deleted, "ns-b/b", 5}, {watch.Added, "ns-a/c", 6}}},
		{name: "from the current resourceVersion", from: 6, fromSet: true},
		{name: "namespace", ns: "ns-b", fromSet: true, want: []stEv{{watch.Added, "ns-b/b", 2}, {watch.Deleted, "ns-b/b", 5}}},
		{name: "selector with transition out", selector: "app=web", fromSet: true, want: []stEv{
			{watch.Added, "ns-a/a", 1}, {watch.Added, "ns-b/b", 2}, {watch.Deleted, "ns-a/a", 4}, {watch.Deleted, "ns-b/b", 5}, {watch.Added, "ns-a/c", 6}}},
		{name: "selector with transition in", selector: "app=db", fromSet: true, want: []stEv{{watch.Added, "ns-a/a", 4}}},
		{name: "initial events", initial: true, want: []stEv{{watch.Added, "ns-a/a", 4}, {watch.Added, "ns-a/c", 6}}},
		{name: "initial events, selector", initial: true, selector: "app=web", want: []stEv{{watch.Added, "ns-a/c", 6}}},
		{name: "no resourceVersion, no initial events", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := s.watch(ctx, watchRequest{gvr: cmGVR, gvk: cmGVK, ns: tt.ns, from: tt.from, fromSet: tt.fromSet, initial: tt.initial, pred: stLabelPredicate(t, tt.selector), initialEndBookmark: false, newObj: newConfigMapObject})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			stExpect(t, w, tt.want, 100*time.Millisecond)
		})
	}
}

// ---------------------------------------------------------------------------------------
// End to end through client-go.
// ---------------------------------------------------------------------------------------

// stWatchScript runs a fixed sequence of writes and returns the resourceVersion before it
// and the resourceVersion of each write (r[1] is the first).
func stWatchScript(t *testing.T, c *Cluster, cs kubernetes.Interface) (uint64, []uint64) {
	t.Helper()
	ctx := context.Background()
	cmA, cmB := cs.CoreV1().ConfigMaps("ns-a"), cs.CoreV1().ConfigMaps("ns-b")
	update := func(name string, mutate func(*corev1.ConfigMap)) (runtime.Object, error) {
		cm, err := cmA.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		mutate(cm)
		return cmA.Update(ctx, cm, metav1.UpdateOptions{})
	}
	steps := []func() (runtime.Object, error){
		func() (runtime.Object, error) { // 1
			return cmA.Create(ctx, stConfigMap("", "a", map[string]string{"app": "web"}), metav1.CreateOptions{})
		},
		func() (runtime.Object, error) { // 2
			return cmB.Create(ctx, stConfigMap("", "b", map[string]string{"app": "web"}), metav1.CreateOptions{})
		},
		func() (runtime.Object, error) { // 3
			return cs.CoreV1().Secrets("ns-a").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{})
		},
		func() (runtime.Object, error) { // 4
			return update("a", func(cm *corev1.ConfigMap) { cm.Data = map[string]string{"k": "v"} })
		},
		func() (runtime.Object, error) { // 5
			return cmA.Create(ctx, stConfigMap("", "c", map[string]string{"app": "db"}), metav1.CreateOptions{})
		},
		func() (runtime.Object, error) { return nil, cmB.Delete(ctx, "b", metav1.DeleteOptions{}) }, // 6
		func() (runtime.Object, error) { // 7
			return update("c", func(cm *corev1.ConfigMap) { cm.Labels["app"] = "web" })
		},
		func() (runtime.Object, error) { // 8
			return update("a", func(cm *corev1.ConfigMap) { cm.Labels["app"] = "db" })
		},
		func() (runtime.Object, error) { return nil, cmA.Delete(ctx, "a", metav1.DeleteOptions{}) }, // 9
	}
	r := []uint64{c.Store().ResourceVersion()}
	for i, step := range steps {
		obj, err := step()
		if err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
		rv := c.Store().ResourceVersion()
		if obj != nil && stRV(t, obj) != rv {
			t.Fatalf("write %d at %d, cluster at %d", i+1, stRV(t, obj), rv)
		}
		r = append(r, rv)
	}
	return r[0], r
}

// TestWatchFromResourceVersion: a watch from resourceVersion N gets exactly the later
// events, in order, filtered by namespace, label and field selectors, both when resumed from
// the history and when open while the writes happen.
func TestWatchFromResourceVersion(t *testing.T) {
	ctx := context.Background()
	type row struct {
		name      string
		resource  string // "configmaps" (default) or "secrets"
		ns        string
		labelSel  string
		fieldSel  string
		fromIndex int // the write after which the watch starts (0: before all)
		want      func(r []uint64) []stEv
	}
	rows := []row{
		{name: "all", want: func(r []uint64) []stEv {
			return []stEv{{watch.Added, "ns-a/a", r[1]}, {watch.Added, "ns-b/b", r[2]}, {watch.Modified, "ns-a/a", r[4]}, {watch.Added, "ns-a/c", r[5]},
				{watch.Deleted, "ns-b/b", r[6]}, {watch.Modified, "ns-a/c", r[7]}, {watch.Modified, "ns-a/a", r[8]}, {watch.Deleted, "ns-a/a", r[9]}}
		}},
		{name: "all from write 4", fromIndex: 4, want: func(r []uint64) []stEv {
			return []stEv{{watch.Added, "ns-a/c", r[5]}, {watch.Deleted, "ns-b/b", r[6]}, {watch.Modified, "ns-a/c", r[7]}, {watch.Modified, "ns-a/a", r[8]}, {watch.Deleted, "ns-a/a", r[9]}}
		}},
		{name: "all from the last write", fromIndex: 9, want: func([]uint64) []stEv { return nil }},
		{name: "namespace ns-a", ns: "ns-a", want: func(r []uint64) []stEv {
			return []stEv{{watch.Added, "ns-a/a", r[1]}, {watch.Modified, "ns-a/a", r[4]}, {watch.Added, "ns-a/c", r[5]}, {watch.Modified, "ns-a/c", r[7]},
				{watch.Modified, "ns-a/a", r[8]}, {watch.Deleted, "ns-a/a", r[9]}}
		}},
		{name: "namespace ns-b", ns: "ns-b", want: func(r []uint64) []stEv {
			return []stEv{{watch.Added, "ns-b/b", r[2]}, {watch.Deleted, "ns-b/b", r[6]}}
		}},
		{name: "label app=web", labelSel: "app=web", want: func(r []uint64) []stEv {
			return []stEv{{watch.Added, "ns-a/a", r[1]}, {watch.Added, "ns-b/b", r[2]}, {watch.Modified, "ns-a/a", r[4]}, {watch.Deleted, "ns-b/b", r[6]},
				{watch.Added, "ns-a/c", r[7]}, {watch.Deleted, "ns-a/a", r[8]}}
		}},
		{name: "label app=db", labelSel: "app=db", want: func(r []uint64) []stEv {
			return []stEv{{watch.Added, "ns-a/c", r[5]}, {watch.Deleted, "ns-a/c", r[7]}, {watch.Added, "ns-a/a", r[8]}, {watch.Deleted, "ns-a/a", r[9]}}
		}},
		{name: "label app=web in ns-a from write 4", ns: "ns-a", labelSel: "app=web", fromIndex: 4, want: func(r []uint64) []stEv {
			return []stEv{{watch.Added, "ns-a/c", r[7]}, {watch.Deleted, "ns-a/a", r[8]}}
		}},
		{name: "field metadata.name=c", fieldSel: "metadata.name=c", want: func(r []uint64) []stEv {
			return []stEv{{watch.Added, "ns-a/c", r[5]}, {watch.Modified, "ns-a/c", r[7]}}
		}},
		{name: "secrets", resource: "secrets", want: func(r []uint64) []stEv { return []stEv{{watch.Added, "ns-a/s", r[3]}} }},
	}
	open := func(t *testing.T, cs kubernetes.Interface, rw row, from uint64) watch.Interface {
		opts := metav1.ListOptions{ResourceVersion: strconv.FormatUint(from, 10), LabelSelector: rw.labelSel, FieldSelector: rw.fieldSel}
		var w watch.Interface
		var err error
		if rw.resource == "secrets" {
			w, err = cs.CoreV1().Secrets(rw.ns).Watch(ctx, opts)
		} else {
			w, err = cs.CoreV1().ConfigMaps(rw.ns).Watch(ctx, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		return w
	}

	t.Run("resumed from history", func(t *testing.T) {
		c, _, cs := stCluster(t, 0)
		_, r := stWatchScript(t, c, cs)
		for _, rw := range rows {
			t.Run(rw.name, func(t *testing.T) {
				stExpect(t, open(t, cs, rw, r[rw.fromIndex]), rw.want(r), 200*time.Millisecond)
			})
		}
	})
	t.Run("open during the writes", func(t *testing.T) {
		c, _, cs := stCluster(t, 0)
		start := c.Store().ResourceVersion()
		watches := map[string]watch.Interface{}
		for _, rw := range rows {
			if rw.fromIndex == 0 {
				watches[rw.name] = open(t, cs, rw, start)
			}
		}
		_, r := stWatchScript(t, c, cs)
		for _, rw := range rows {
			if w, ok := watches[rw.name]; ok {
				t.Run(rw.name, func(t *testing.T) { stExpect(t, w, rw.want(r), 200*time.Millisecond) })
			}
		}
	})
}

// TestWatchSelectorTransitions: a change moving an object into a watch's selection is an
// ADDED, out of it a DELETED carrying the object's previous state at the new resourceVersion
// (as the watch cache sends it); changes outside the selection are not seen.
func TestWatchSelectorTransitions(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	rvNow := func() string { return strconv.FormatUint(c.Store().ResourceVersion(), 10) }

	t.Run("labels", func(t *testing.T) {
		cms := cs.CoreV1().ConfigMaps("ns-a")
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: rvNow(), LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		x, err := cms.Create(ctx, stConfigMap("", "x", map[string]string{"app": "db"}), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		set := func(app, data string) *corev1.ConfigMap {
			x.Labels["app"] = app
			x.Data = map[string]string{"d": data}
			if x, err = cms.Update(ctx, x, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			return x
		}
		in := set("web", "1")
		mod := set("web", "2")
		out := set("db", "3")
		set("db", "4")
		if err := cms.Delete(ctx, "x", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		evs := stCollect(t, w, 3, 5*time.Second)
		want := []stEv{{watch.Added, "ns-a/x", stRV(t, in)}, {watch.Modified, "ns-a/x", stRV(t, mod)}, {watch.Deleted, "ns-a/x", stRV(t, out)}}
		if got := stDescribeAll(evs); !reflect.DeepEqual(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if got := evs[0].Object.(*corev1.ConfigMap); got.Labels["app"] != "web" || got.Data["d"] != "1" {
			t.Errorf("ADDED object %v %v, want the new state", got.Labels, got.Data)
		}
		if got := evs[2].Object.(*corev1.ConfigMap); got.Labels["app"] != "web" || got.Data["d"] != "2" {
			t.Errorf("DELETED object labels %v data %v; want the previous state (app=web, d=2) at the new resourceVersion", got.Labels, got.Data)
		}
		if ev, ok := stNext(t, w, 200*time.Millisecond); ok {
			t.Errorf("unexpected event %v", stDescribe(ev))
		}
	})

	t.Run("pod spec.nodeName", func(t *testing.T) {
		pods := cs.CoreV1().Pods("ns-b")
		w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: rvNow(), FieldSelector: "spec.nodeName=n1"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if _, err := pods.Create(ctx, stPod("", "p", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		bound := c.Store().ResourceVersion()
		if err := pods.Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: stPtr64(0)}); err != nil {
			t.Fatal(err)
		}
		stExpect(t, w, []stEv{{watch.Added, "ns-b/p", bound}, {watch.Deleted, "ns-b/p", c.Store().ResourceVersion()}}, 200*time.Millisecond)
	})

	t.Run("namespace status.phase", func(t *testing.T) {
		nss := cs.CoreV1().Namespaces()
		w, err := nss.Watch(ctx, metav1.ListOptions{ResourceVersion: rvNow(), FieldSelector: "status.phase=Active"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if _, err := nss.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "leaving", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := nss.Delete(ctx, "leaving", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		evs := stCollect(t, w, 2, 5*time.Second)
		if got := stDescribeAll(evs); got[0].Type != watch.Added || got[1].Type != watch.Deleted || got[1].Key != "/leaving" {
			t.Errorf("events %v, want ADDED and DELETED of /leaving", got)
		}
	})
}

// TestWatchTooOldResourceVersion: resuming from before the kept history gets the real
// answer: the watch is established and its only event is an ERROR carrying a 410 Expired
// status "too old resource version: N (oldest-1)", as from the watch cache (and etcd3).
func TestWatchTooOldResourceVersion(t *testing.T) {
	ctx := context.Background()
	const history = 5
	c, _, cs := stCluster(t, history)
	for i := 0; i < 2*history; i++ {
		if _, err := cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", fmt.Sprintf("cm-%d", i), nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	current := c.Store().ResourceVersion()
	oldestKept := current - history + 1
	tests := []struct {
		name string
		from uint64
		want []stEv // nil with wantExpired
		// wantExpired: the single event is a 410 with this message.
		wantExpired string
	}{
		{name: "from just before the oldest kept event", from: oldestKept - 1, want: func() []stEv {
			var out []stEv
			for rv := oldestKept; rv <= current; rv++ {
				out = append(out, stEv{watch.Added, fmt.Sprintf("ns-a/cm-%d", 2*history-1-int(current-rv)), rv})
			}
			return out
		}()},
		{name: "from the current resourceVersion", from: current},
		{name: "one too old", from: oldestKept - 2, wantExpired: fmt.Sprintf("too old resource version: %d (%d)", oldestKept-2, oldestKept-1)},
		{name: "much too old", from: 1, wantExpired: fmt.Sprintf("too old resource version: 1 (%d)", oldestKept-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := cs.CoreV1().ConfigMaps("ns-a").Watch(ctx, metav1.ListOptions{ResourceVersion: strconv.FormatUint(tt.from, 10)})
			if err != nil {
				t.Fatalf("watch from %d failed with %v; a real apiserver establishes the watch and sends a 410 ERROR event", tt.from, err)
			}
			defer w.Stop()
			if tt.wantExpired == "" {
				stExpect(t, w, tt.want, 200*time.Millisecond)
				return
			}
			stExpectExpired(t, w, tt.wantExpired)
		})
	}

	t.Run("storage", func(t *testing.T) {
		st := stStorage(t, c, corev1.Resource("configmaps"))
		w, err := st.Watch(WithCluster(ctx, c), st.prefix, storage.ListOptions{ResourceVersion: "1", Recursive: true, Predicate: storage.Everything})
		if err != nil {
			t.Fatalf("storage Watch returned %v; the storage.Interface contract (cacher, etcd3) is a watch with a 410 ERROR event", err)
		}
		defer w.Stop()
		stExpectExpired(t, w, fmt.Sprintf("too old resource version: 1 (%d)", oldestKept-1))
	})
}

func stExpectExpired(t *testing.T, w watch.Interface, msg string) {
	t.Helper()
	ev, ok := stNext(t, w, 5*time.Second)
	if !ok {
		t.Fatal("no event")
	}
	st, isStatus := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !isStatus || st.Code != 410 || st.Reason != metav1.StatusReasonExpired || st.Message != msg {
		t.Fatalf("event %s %+v, want ERROR 410 Expired %q", ev.Type, ev.Object, msg)
	}
	if ev, ok := stNext(t, w, 5*time.Second); ok {
		t.Errorf("event %v after the ERROR, want the watch closed", stDescribe(ev))
	}
}

// TestWatchResourceVersionAhead: a plain watch from a resourceVersion the cluster has not
// reached yet is established and delivers only events after it, as the watch cache does; it
// is not an error.
func TestWatchResourceVersionAhead(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	current := c.Store().ResourceVersion()
	// No client retries: a 504 with Retry-After would otherwise be retried for 10s.
	w, err := cs.CoreV1().RESTClient().Get().Namespace("ns-a").Resource("configmaps").MaxRetries(0).
		VersionedParams(&metav1.ListOptions{Watch: true, ResourceVersion: strconv.FormatUint(current+3, 10)}, scheme.ParameterCodec).Watch(ctx)
	if err != nil {
		t.Fatalf("watch from %d (cluster at %d): %v; a real apiserver waits for the resourceVersion", current+3, current, err)
	}
	defer w.Stop()
	for i := 0; i < 4; i++ {
		if _, err := cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", fmt.Sprintf("cm-%d", i), nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	stExpect(t, w, []stEv{{watch.Added, "ns-a/cm-3", current + 4}}, 200*time.Millisecond)
}

// TestWatchListResourceVersionTooLarge: a watch-list (sendInitialEvents) that must be at
// least as new as a resourceVersion the cluster does not reach is established and fails
// with an ERROR event carrying the "Too large resource version" 504 status (reason Timeout,
// cause ResourceVersionTooLarge, retry after 1s), as the watch cache answers after its 3s wait.
func TestWatchListResourceVersionTooLarge(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	current := c.Store().ResourceVersion()
	ahead := current + 1000
	yes := true
	w, err := cs.CoreV1().RESTClient().Get().Namespace("ns-a").Resource("configmaps").MaxRetries(0).
		VersionedParams(&metav1.ListOptions{Watch: true, SendInitialEvents: &yes, AllowWatchBookmarks: true,
			ResourceVersion: strconv.FormatUint(ahead, 10), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}, scheme.ParameterCodec).
		Watch(ctx)
	if err != nil {
		t.Fatalf("watch failed with %v; a real apiserver establishes the watch and sends the 504 as an ERROR event", err)
	}
	defer w.Stop()
	ev, ok := stNext(t, w, 10*time.Second)
	if !ok {
		t.Fatal("no event")
	}
	st, isStatus := ev.Object.(*metav1.Status)
	want := fmt.Sprintf("Timeout: Too large resource version: %d, current: %d", ahead, current)
	if ev.Type != watch.Error || !isStatus || st.Code != 504 || st.Reason != metav1.StatusReasonTimeout || st.Message != want {
		t.Fatalf("event %s %+v, want ERROR 504 Timeout %q", ev.Type, ev.Object, want)
	}
	if st.Details == nil || st.Details.RetryAfterSeconds != 1 || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != metav1.CauseTypeResourceVersionTooLarge {
		t.Errorf("details %+v", st.Details)
	}
}

// TestWatchSendInitialEvents: sendInitialEvents=true streams the current matching objects
// as ADDED, then (with allowWatchBookmarks) a BOOKMARK annotated k8s.io/initial-events-end
// at the list resourceVersion, then live events.
func TestWatchSendInitialEvents(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	for _, o := range []*corev1.ConfigMap{
		stConfigMap("ns-a", "a", map[string]string{"app": "web"}), stConfigMap("ns-a", "b", map[string]string{"app": "db"}),
		stConfigMap("ns-a", "c", map[string]string{"app": "web"}), stConfigMap("ns-b", "d", map[string]string{"app": "web"}),
	} {
		if _, err := cs.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	yes, no := true, false
	tests := []struct {
		name       string
		ns         string
		selector   string
		send       *bool
		bookmarks  bool
		fromNow    bool // resourceVersion = current, else ""
		wantListed bool
	}{
		{name: "namespace", ns: "ns-a", send: &yes, bookmarks: true, wantListed: true},
		{name: "all namespaces with a selector", selector: "app=web", send: &yes, bookmarks: true, wantListed: true},
		{name: "from the current resourceVersion", ns: "ns-a", send: &yes, bookmarks: true, fromNow: true, wantListed: true},
		{name: "without bookmarks", ns: "ns-a", send: &yes, wantListed: true},
		{name: "sendInitialEvents=false", ns: "ns-a", send: &no, bookmarks: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := cs.CoreV1().ConfigMaps(tt.ns).List(ctx, metav1.ListOptions{LabelSelector: tt.selector})
			if err != nil {
				t.Fatal(err)
			}
			opts := metav1.ListOptions{LabelSelector: tt.selector, SendInitialEvents: tt.send, AllowWatchBookmarks: tt.bookmarks,
				ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}
			if tt.fromNow {
				opts.ResourceVersion = strconv.FormatUint(c.Store().ResourceVersion(), 10)
			}
			w, err := cs.CoreV1().ConfigMaps(tt.ns).Watch(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			if tt.wantListed {
				evs := stCollect(t, w, len(list.Items), 5*time.Second)
				var got []string
				for _, ev := range evs {
					if ev.Type != watch.Added {
						t.Fatalf("initial event %v, want ADDED", stDescribe(ev))
					}
					got = append(got, stDescribe(ev).Key)
				}
				if want := stNames(t, list); !reflect.DeepEqual(stSorted(got), stSorted(want)) {
					t.Errorf("initial events %v, want %v", got, want)
				}
				if tt.bookmarks {
					ev, ok := stNext(t, w, 5*time.Second)
					if !ok {
						t.Fatal("no bookmark after the initial events")
					}
					cm, isCM := ev.Object.(*corev1.ConfigMap)
					if ev.Type != watch.Bookmark || !isCM {
						t.Fatalf("event %v after the initial events, want BOOKMARK", stDescribe(ev))
					}
					if !reflect.DeepEqual(cm.Annotations, map[string]string{metav1.InitialEventsAnnotationKey: "true"}) {
						t.Errorf("bookmark annotations %v", cm.Annotations)
					}
					if cm.ResourceVersion != list.ResourceVersion {
						t.Errorf("bookmark at %s, list at %s", cm.ResourceVersion, list.ResourceVersion)
					}
				}
			}
			late, err := cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", fmt.Sprintf("late-%d", i), map[string]string{"app": "web"}), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			stExpect(t, w, []stEv{{watch.Added, "ns-a/" + late.Name, stRV(t, late)}}, 200*time.Millisecond)
		})
	}
}

// TestStalledWatcherDoesNotBlockWriters: a watcher that never reads costs the writers
// nothing; once too far behind it is closed, while other watchers get every event.
func TestStalledWatcherDoesNotBlockWriters(t *testing.T) {
	const writes = 20000
	s := newTestStore(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stalled, err := s.watch(ctx, watchRequest{gvr: cmGVR, gvk: cmGVK, ns: "", from: 0, fromSet: false, initial: false, pred: storage.Everything, initialEndBookmark: false, newObj: newConfigMapObject})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := s.watch(ctx, watchRequest{gvr: cmGVR, gvk: cmGVK, ns: "", from: 0, fromSet: false, initial: false, pred: storage.Everything, initialEndBookmark: false, newObj: newConfigMapObject})
	if err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for range reader.ResultChan() {
			if read.Add(1) == writes {
				return
			}
		}
	}()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < writes; i++ {
			if _, err := s.create(cmGVR, cmGVK, stConfigMap("ns-a", fmt.Sprintf("cm-%05d", i), nil)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("writers blocked: not done after 60s")
	}
	t.Logf("%d writes with a stalled watcher took %s", writes, time.Since(start))
	select {
	case <-readerDone:
	case <-time.After(30 * time.Second):
		t.Fatalf("reading watcher got %d of %d events", read.Load(), writes)
	}
	stEventually(t, 5*time.Second, "stalled watcher removed", func() bool { return s.Watchers() == 1 })
	got := 0
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for range stalled.ResultChan() {
			got++
		}
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("stalled watch not closed")
	}
	if got >= writes {
		t.Errorf("stalled watcher still got all %d events", got)
	}
	reader.Stop()
	stEventually(t, 5*time.Second, "watchers gone", func() bool { return s.Watchers() == 0 })
}

// TestStalledHTTPWatcher: the same through the apiserver, with a client that stops reading
// its watch stream.
func TestStalledHTTPWatcher(t *testing.T) {
	const writes = 20000
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	s := c.Store()
	w, err := cs.CoreV1().ConfigMaps("").Watch(ctx, metav1.ListOptions{ResourceVersion: strconv.FormatUint(s.ResourceVersion(), 10)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	stEventually(t, 5*time.Second, "watch registered", func() bool { return s.Watchers() == 1 })
	payload := strings.Repeat("x", 2048)
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < writes; i++ {
			if _, err := s.create(cmGVR, cmGVK, stConfigMap("ns-a", fmt.Sprintf("cm-%05d", i), nil, "payload", payload)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("writers blocked by a stalled HTTP watch")
	}
	t.Logf("%d writes with a stalled HTTP watch took %s", writes, time.Since(start))
	stEventually(t, 10*time.Second, "stalled HTTP watch removed", func() bool { return s.Watchers() == 0 })
	got := 0
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for range w.ResultChan() {
			got++
		}
	}()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("client watch not closed")
	}
	if got >= writes {
		t.Errorf("stalled client still got all %d events", got)
	}
}

// TestWatchersAreRemoved: however a watch ends, the store forgets it.
func TestWatchersAreRemoved(t *testing.T) {
	c, _, cs := stCluster(t, 0)
	s := c.Store()
	st := stStorage(t, c, corev1.Resource("configmaps"))
	tests := []struct {
		name  string
		start func(ctx context.Context) (watch.Interface, error)
		end   func(w watch.Interface, cancel context.CancelFunc)
	}{
		{"store watch, context cancelled", func(ctx context.Context) (watch.Interface, error) {
			return s.watch(ctx, watchRequest{gvr: cmGVR, gvk: cmGVK, ns: "", from: 0, fromSet: false, initial: false, pred: storage.Everything, initialEndBookmark: false, newObj: newConfigMapObject})
		}, func(_ watch.Interface, cancel context.CancelFunc) { cancel() }},
		{"store watch, stopped", func(ctx context.Context) (watch.Interface, error) {
			return s.watch(ctx, watchRequest{gvr: cmGVR, gvk: cmGVK, ns: "ns-a", from: 0, fromSet: false, initial: true, pred: storage.Everything, initialEndBookmark: true, newObj: newConfigMapObject})
		}, func(w watch.Interface, _ context.CancelFunc) { w.Stop() }},
		{"store watch, stopped twice", func(ctx context.Context) (watch.Interface, error) {
			return s.watch(ctx, watchRequest{gvr: cmGVR, gvk: cmGVK, ns: "", from: 0, fromSet: false, initial: false, pred: storage.Everything, initialEndBookmark: false, newObj: newConfigMapObject})
		}, func(w watch.Interface, _ context.CancelFunc) { w.Stop(); w.Stop() }},
		{"storage watch, context cancelled", func(ctx context.Context) (watch.Interface, error) {
			return st.Watch(WithCluster(ctx, c), st.prefix, storage.ListOptions{Recursive: true, Predicate: storage.Everything})
		}, func(_ watch.Interface, cancel context.CancelFunc) { cancel() }},
		{"HTTP watch, client stopped", func(ctx context.Context) (watch.Interface, error) {
			return cs.CoreV1().ConfigMaps("").Watch(ctx, metav1.ListOptions{})
		}, func(w watch.Interface, _ context.CancelFunc) { w.Stop() }},
		{"HTTP watch, request context cancelled", func(ctx context.Context) (watch.Interface, error) {
			return cs.CoreV1().ConfigMaps("ns-a").Watch(ctx, metav1.ListOptions{})
		}, func(_ watch.Interface, cancel context.CancelFunc) { cancel() }},
		{"HTTP watch, timeoutSeconds", func(ctx context.Context) (watch.Interface, error) {
			timeout := int64(1)
			return cs.CoreV1().ConfigMaps("ns-a").Watch(ctx, metav1.ListOptions{TimeoutSeconds: &timeout})
		}, func(watch.Interface, context.CancelFunc) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := s.Watchers()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := tt.start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			stEventually(t, 5*time.Second, "watch registered", func() bool { return s.Watchers() == base+1 })
			tt.end(w, cancel)
			stEventually(t, 10*time.Second, "watch forgotten", func() bool { return s.Watchers() == base })
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				for range w.ResultChan() {
				}
			}()
			select {
			case <-closed:
			case <-time.After(5 * time.Second):
				t.Error("result channel not closed")
			}
		})
	}
}

// TestConcurrentWritersAndReaders: writers through the API and through the storage layer,
// readers listing and getting, and watchers of both kinds, all at once (run with -race).
// Every watcher sees every write exactly once, in resourceVersion order; no update is lost.
func TestConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	s := c.Store()
	st := stStorage(t, c, corev1.Resource("configmaps"))
	sctx := WithCluster(ctx, c)
	for _, ns := range []string{"ns-a", "ns-b"} {
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, stConfigMap("", "counter", nil, "n", "0"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rv0 := strconv.FormatUint(s.ResourceVersion(), 10)
	var watchers []watch.Interface
	for i := 0; i < 3; i++ {
		w, err := cs.CoreV1().ConfigMaps("").Watch(ctx, metav1.ListOptions{ResourceVersion: rv0})
		if err != nil {
			t.Fatal(err)
		}
		watchers = append(watchers, w)
	}
	for i := 0; i < 2; i++ {
		w, err := st.Watch(sctx, st.prefix, storage.ListOptions{ResourceVersion: rv0, Recursive: true, Predicate: storage.Everything})
		if err != nil {
			t.Fatal(err)
		}
		watchers = append(watchers, w)
	}
	defer func() {
		for _, w := range watchers {
			w.Stop()
		}
	}()

	var writes atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	const apiWriters, perWriter = 4, 30
	for i := 0; i < apiWriters; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < perWriter; j++ {
				ns := []string{"ns-a", "ns-b", "ns-c"}[j%3]
				cms := cs.CoreV1().ConfigMaps(ns)
				cm, err := cms.Create(ctx, stConfigMap("", fmt.Sprintf("w%d-%d", i, j), map[string]string{"w": strconv.Itoa(i)}), metav1.CreateOptions{})
				if err != nil {
					fail(err)
					return
				}
				writes.Add(1)
				cm.Data = map[string]string{"j": strconv.Itoa(j)}
				if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
					fail(err)
					return
				}
				writes.Add(1)
				if j%2 == 0 {
					if err := cms.Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil {
						fail(err)
						return
					}
					writes.Add(1)
				}
			}
		}(i)
	}
	const storageWriters, increments = 2, 50
	for i := 0; i < storageWriters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < increments; j++ {
				var out corev1.ConfigMap
				err := st.GuaranteedUpdate(sctx, stKey(st, "ns-a", "counter"), &out, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
					cm := in.(*corev1.ConfigMap)
					n, _ := strconv.Atoi(cm.Data["n"])
					cm.Data["n"] = strconv.Itoa(n + 1)
					return cm, nil, nil
				}, nil)
				if err != nil {
					fail(err)
					return
				}
				writes.Add(1)
			}
		}()
	}
	const httpCounters, httpIncrements = 2, 25
	for i := 0; i < httpCounters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cms := cs.CoreV1().ConfigMaps("ns-b")
			for j := 0; j < httpIncrements; j++ {
				err := retry.RetryOnConflict(stManyRetries, func() error {
					cm, err := cms.Get(ctx, "counter", metav1.GetOptions{})
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(cm.Data["n"])
					cm.Data["n"] = strconv.Itoa(n + 1)
					_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
					return err
				})
				if err != nil {
					fail(err)
					return
				}
				writes.Add(1)
			}
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for i := 0; i < 4; i++ {
		readers.Add(1)
		go func(i int) {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch i {
				case 0:
					_, err = cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
				case 1:
					_, err = cs.CoreV1().ConfigMaps("ns-a").List(ctx, metav1.ListOptions{LabelSelector: "w=1", Limit: 3})
				case 2:
					_, err = cs.CoreV1().ConfigMaps("ns-b").Get(ctx, "counter", metav1.GetOptions{})
				case 3:
					var l corev1.ConfigMapList
					err = st.GetList(sctx, st.prefix, storage.ListOptions{Recursive: true, Predicate: storage.Everything}, &l)
				}
				if err != nil {
					fail(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	final := s.ResourceVersion()
	total := writes.Load()
	for i, w := range watchers {
		evs := stCollect(t, w, int(total), 30*time.Second)
		var last uint64
		for _, ev := range evs {
			rv := stRV(t, ev.Object)
			if rv <= last {
				t.Fatalf("watcher %d: event at %d after %d", i, rv, last)
			}
			last = rv
		}
		if last != final {
			t.Errorf("watcher %d: last event at %d, cluster at %d", i, last, final)
		}
		if ev, ok := stNext(t, w, 100*time.Millisecond); ok {
			t.Errorf("watcher %d: extra event %v", i, stDescribe(ev))
		}
	}
	for ns, want := range map[string]int{"ns-a": storageWriters * increments, "ns-b": httpCounters * httpIncrements} {
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "counter", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data["n"] != strconv.Itoa(want) {
			t.Errorf("%s/counter = %s, want %d", ns, cm.Data["n"], want)
		}
	}
}
