package mockapi

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/storage"
	clienttesting "k8s.io/client-go/testing"
)

// DefaultWatchHistory is how many recent events a cluster keeps so that watches can resume
// from an older resourceVersion; older ones get 410 Expired, as from a compacted etcd.
const DefaultWatchHistory = 1000

// Store holds the objects of one simulated cluster. Objects live in a client-go ObjectTracker;
// Store adds what a real apiserver has on top: one monotonic resourceVersion per cluster
// stamped into every object, compare-and-swap on it, and a bounded event history with its own
// watch fan-out (the tracker's watchers block and never forget stopped watchers).
type Store struct {
	tracker clienttesting.ObjectTracker

	mu       sync.Mutex // serialises writes so that resourceVersion order is event order
	rv       uint64
	kinds    map[schema.GroupVersionResource]schema.GroupVersionKind
	history  eventRing
	watchers map[*watcher]struct{}
	// observer sees every recorded change, with mu held; it must not block.
	observer func(event)
	// snapshots keep paginated lists consistent across pages, briefly.
	snapshots []listSnapshot

	// boot holds the version's start-up objects, materialised per resource on first use
	// (bootstrap.go); booted has bit i set once boot.resources[i] is. nil: none.
	boot   *bootstrapSet
	booted atomic.Uint32
	// created is the cluster's creation time (Unix seconds), the start-up objects' creationTimestamp.
	created int64
}

// listSnapshot is a paginated list's full result at its first page's resourceVersion.
type listSnapshot struct {
	gvr     schema.GroupVersionResource
	ns      string
	rv      uint64
	items   []runtime.Object
	expires time.Time
}

const (
	// maxSnapshots bounds the paginated lists in flight per cluster; a client paging beyond
	// them gets the 410 etcd returns for a compacted revision and relists.
	maxSnapshots = 4
	snapshotTTL  = time.Minute
)

// event is one change, kept immutable once recorded: watchers share it.
type event struct {
	typ  watch.EventType
	gvr  schema.GroupVersionResource
	obj  runtime.Object
	prev runtime.Object // the object before a modification, for selector transitions
	rv   uint64
}

// NewStore returns an empty store keeping history events for watch resumption.
func NewStore(scheme *runtime.Scheme, history int) *Store {
	if history <= 0 {
		history = DefaultWatchHistory
	}
	return &Store{
		tracker:  clienttesting.NewObjectTracker(scheme, nil),
		kinds:    map[schema.GroupVersionResource]schema.GroupVersionKind{},
		history:  eventRing{max: history},
		watchers: map[*watcher]struct{}{},
	}
}

// ResourceVersion returns the cluster's current resourceVersion.
func (s *Store) ResourceVersion() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rv
}

func (s *Store) get(gvr schema.GroupVersionResource, ns, name string) (runtime.Object, error) {
	if err := s.materialise(gvr); err != nil {
		return nil, err
	}
	return s.tracker.Get(gvr, ns, name)
}

// list returns copies of the objects of a resource in ns ("" for all), sorted by namespace
// and name like etcd keys, and the resourceVersion they are current at.
func (s *Store) list(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, ns string) ([]runtime.Object, uint64, error) {
	if err := s.materialise(gvr); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	rv := s.rv
	l, err := s.tracker.List(gvr, gvk, ns)
	s.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	items, err := meta.ExtractList(l)
	if err != nil {
		return nil, 0, err
	}
	sort.Slice(items, func(i, j int) bool { return objectKey(items[i]) < objectKey(items[j]) })
	return items, rv, nil
}

// create stores obj (which the caller owns) with the next resourceVersion.
func (s *Store) create(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, obj runtime.Object) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if err := s.materialise(gvr); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.tracker.Get(gvr, m.GetNamespace(), m.GetName()); err == nil {
		return nil, storage.NewKeyExistsError(m.GetNamespace()+"/"+m.GetName(), 0)
	}
	rv := s.rv + 1
	m.SetResourceVersion(strconv.FormatUint(rv, 10))
	if err := s.tracker.Create(gvr, obj, m.GetNamespace()); err != nil {
		return nil, err
	}
	s.rv = rv
	s.kinds[gvr] = gvk
	s.record(event{typ: watch.Added, gvr: gvr, obj: obj, rv: rv})
	return obj, nil
}

// update replaces the object if its stored resourceVersion still equals expected.
func (s *Store) update(gvr schema.GroupVersionResource, obj runtime.Object, expected uint64) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if err := s.materialise(gvr); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.tracker.Get(gvr, m.GetNamespace(), m.GetName())
	if err != nil {
		return nil, err
	}
	if curRV := resourceVersionOf(cur); curRV != expected {
		return nil, errConflict
	}
	rv := s.rv + 1
	m.SetResourceVersion(strconv.FormatUint(rv, 10))
	if err := s.tracker.Update(gvr, obj, m.GetNamespace()); err != nil {
		return nil, err
	}
	s.rv = rv
	s.record(event{typ: watch.Modified, gvr: gvr, obj: obj, prev: cur, rv: rv})
	return obj, nil
}

// remove deletes the object if its stored resourceVersion still equals expected (0: any).
func (s *Store) remove(gvr schema.GroupVersionResource, ns, name string, expected uint64) (runtime.Object, error) {
	if err := s.materialise(gvr); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.tracker.Get(gvr, ns, name)
	if err != nil {
		return nil, err
	}
	if expected != 0 && resourceVersionOf(cur) != expected {
		return nil, errConflict
	}
	if err := s.tracker.Delete(gvr, ns, name); err != nil {
		return nil, err
	}
	rv := s.rv + 1
	s.rv = rv
	// Like etcd, the deletion event carries the revision of the delete.
	if m, err := meta.Accessor(cur); err == nil {
		m.SetResourceVersion(strconv.FormatUint(rv, 10))
	}
	s.record(event{typ: watch.Deleted, gvr: gvr, obj: cur, rv: rv})
	return cur, nil
}

func (s *Store) saveSnapshot(gvr schema.GroupVersionResource, ns string, rv uint64, items []runtime.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	kept := s.snapshots[:0]
	for _, sn := range s.snapshots {
		if now.Before(sn.expires) && !(sn.gvr == gvr && sn.ns == ns && sn.rv == rv) {
			kept = append(kept, sn)
		}
	}
	if len(kept) >= maxSnapshots {
		kept = kept[1:]
	}
	s.snapshots = append(kept, listSnapshot{gvr: gvr, ns: ns, rv: rv, items: items, expires: now.Add(snapshotTTL)})
}

func (s *Store) snapshot(gvr schema.GroupVersionResource, ns string, rv uint64) ([]runtime.Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sn := range s.snapshots {
		if sn.gvr == gvr && sn.ns == ns && sn.rv == rv && time.Now().Before(sn.expires) {
			return sn.items, true
		}
	}
	return nil, false
}

// Seed adds objects at start-up without recording watch events: nobody can have watched yet.
// Objects must be typed k8s.io/api objects of kinds the scheme knows. Seeding does not
// materialise the resource's start-up objects: those come on first use, except where a seeded
// object has the same name.
func (s *Store) Seed(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rv++
	m.SetResourceVersion(strconv.FormatUint(s.rv, 10))
	if err := s.tracker.Create(gvr, obj, m.GetNamespace()); err != nil {
		return fmt.Errorf("seed %s %s/%s: %w", gvr.Resource, m.GetNamespace(), m.GetName(), err)
	}
	s.kinds[gvr] = gvk
	s.history.start = s.rv
	return nil
}

// namespacedContents lists every namespaced object in ns, for namespace termination.
func (s *Store) namespacedContents(ns string, namespaced func(schema.GroupVersionResource) bool) []objectRef {
	s.mu.Lock()
	kinds := make(map[schema.GroupVersionResource]schema.GroupVersionKind, len(s.kinds))
	for gvr, gvk := range s.kinds {
		kinds[gvr] = gvk
	}
	s.mu.Unlock()
	var refs []objectRef
	for gvr, gvk := range kinds {
		if !namespaced(gvr) {
			continue
		}
		items, _, err := s.list(gvr, gvk, ns)
		if err != nil {
			continue
		}
		for _, it := range items {
			if m, err := meta.Accessor(it); err == nil {
				refs = append(refs, objectRef{gvr: gvr, namespace: ns, name: m.GetName()})
			}
		}
	}
	return refs
}

type objectRef struct {
	gvr             schema.GroupVersionResource
	namespace, name string
}

// record appends an event to the history and hands it to every matching watcher.
// Called with s.mu held.
func (s *Store) record(e event) {
	s.history.add(e)
	if s.observer != nil {
		s.observer(e)
	}
	for w := range s.watchers {
		w.send(e)
	}
}

// watchRequest says what a watch wants.
type watchRequest struct {
	gvr  schema.GroupVersionResource
	gvk  schema.GroupVersionKind
	ns   string // "" for every namespace
	pred storage.SelectionPredicate
	// from is the resourceVersion to start after; fromSet distinguishes an explicit 0.
	from    uint64
	fromSet bool
	// initial delivers the current matching objects first, as ADDED events; with
	// initialEndBookmark they end with the k8s.io/initial-events-end bookmark.
	initial            bool
	initialEndBookmark bool
	newObj             func() runtime.Object
}

// watch starts a watcher. Errors a real server reports inside an established watch (a
// resourceVersion no longer in the history) come back as a watch with one ERROR event.
func (s *Store) watch(ctx context.Context, req watchRequest) (watch.Interface, error) {
	if err := s.materialise(req.gvr); err != nil {
		return nil, err
	}
	w := newWatcher(s, req.gvr, req.ns, req.pred, req.newObj)
	s.mu.Lock()
	switch {
	case req.initial:
		l, err := s.tracker.List(req.gvr, req.gvk, req.ns)
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		items, _ := meta.ExtractList(l)
		sort.Slice(items, func(i, j int) bool { return objectKey(items[i]) < objectKey(items[j]) })
		for _, it := range items {
			if w.matches(it) {
				w.queue = append(w.queue, watch.Event{Type: watch.Added, Object: it})
			}
		}
		if req.initialEndBookmark {
			w.queue = append(w.queue, w.bookmark(s.rv, true))
		}
	case req.fromSet && req.from >= s.rv:
		// A watch from the future waits for it: only later events are delivered.
		w.after = req.from
	case req.fromSet:
		events, ok := s.history.since(req.from)
		if !ok {
			start := s.history.start
			s.mu.Unlock()
			return errorWatch(apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", req.from, start))), nil
		}
		for _, e := range events {
			if e.gvr == req.gvr {
				w.enqueueLocked(e)
			}
		}
	}
	s.watchers[w] = struct{}{}
	s.mu.Unlock()
	go w.run(ctx)
	return w, nil
}

// waitFor waits up to timeout for the store to reach resourceVersion rv.
func (s *Store) waitFor(ctx context.Context, rv uint64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for s.ResourceVersion() < rv {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

func (s *Store) forget(w *watcher) {
	s.mu.Lock()
	delete(s.watchers, w)
	s.mu.Unlock()
}

// Watchers returns the number of open watches, for tests and metrics.
func (s *Store) Watchers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

var errConflict = fmt.Errorf("resourceVersion changed")

func resourceVersionOf(obj runtime.Object) uint64 {
	m, err := meta.Accessor(obj)
	if err != nil {
		return 0
	}
	rv, _ := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
	return rv
}

func objectKey(obj runtime.Object) string {
	m, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return m.GetNamespace() + "/" + m.GetName()
}

// eventRing keeps the last max events.
type eventRing struct {
	max    int
	events []event // oldest first once wrapped at head
	head   int
	start  uint64 // the resourceVersion the history starts after
}

func (r *eventRing) add(e event) {
	if len(r.events) < r.max {
		r.events = append(r.events, e)
		return
	}
	r.start = r.events[r.head].rv
	r.events[r.head] = e
	r.head = (r.head + 1) % r.max
}

// since returns the events after rv, or false when they are no longer all kept.
func (r *eventRing) since(rv uint64) ([]event, bool) {
	if rv < r.start {
		return nil, false
	}
	var out []event
	n := len(r.events)
	for i := 0; i < n; i++ {
		e := r.events[(r.head+i)%n]
		if e.rv > rv {
			out = append(out, e)
		}
	}
	return out, true
}

func (r *eventRing) oldest() uint64 { return r.start + 1 }
