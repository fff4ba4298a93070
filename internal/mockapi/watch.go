package mockapi

import (
	"context"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/storage"
)

const (
	// maxWatchQueue bounds the events a slow watcher may lag behind; past it the watch is
	// closed (as the watch cache closes slow watchers) and the client resumes from its last
	// resourceVersion.
	maxWatchQueue = 10000
	// bookmarkInterval is how often a watch that allows bookmarks gets one, like the real
	// apiserver's roughly once a minute.
	bookmarkInterval = time.Minute
)

// watcher delivers one watch's events. Events are queued without blocking the writer and sent
// by the watcher's own goroutine.
type watcher struct {
	store  *Store
	gvr    schema.GroupVersionResource
	ns     string
	pred   storage.SelectionPredicate
	newObj func() runtime.Object

	result chan watch.Event
	notify chan struct{}
	done   chan struct{}
	once   sync.Once

	// after drops events up to this resourceVersion (a watch started from the future).
	after uint64

	mu    sync.Mutex
	queue []watch.Event
}

func newWatcher(s *Store, gvr schema.GroupVersionResource, ns string, pred storage.SelectionPredicate, newObj func() runtime.Object) *watcher {
	return &watcher{
		store: s, gvr: gvr, ns: ns, pred: pred, newObj: newObj,
		result: make(chan watch.Event),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

func (w *watcher) ResultChan() <-chan watch.Event { return w.result }

func (w *watcher) Stop() {
	w.once.Do(func() {
		close(w.done)
		w.store.forget(w)
	})
}

func (w *watcher) matches(obj runtime.Object) bool {
	if w.ns != "" {
		if m, err := meta.Accessor(obj); err != nil || m.GetNamespace() != w.ns {
			return false
		}
	}
	if w.pred.Empty() {
		return true
	}
	ok, err := w.pred.Matches(obj)
	return err == nil && ok
}

// send is called by the store with its lock held.
func (w *watcher) send(e event) {
	if e.gvr != w.gvr {
		return
	}
	w.mu.Lock()
	w.enqueueLocked(e)
	w.mu.Unlock()
}

// enqueueLocked turns a stored change into what this watcher sees: a modification moving an
// object into or out of the selection is an ADDED or DELETED, as from the watch cache.
func (w *watcher) enqueueLocked(e event) {
	if e.rv <= w.after {
		return
	}
	cur := w.matches(e.obj)
	typ, obj := e.typ, e.obj
	if e.typ == watch.Modified {
		prev := e.prev != nil && w.matches(e.prev)
		switch {
		case cur && !prev:
			typ = watch.Added
		case !cur && prev:
			// The object as last seen by this watcher, at the resourceVersion it left.
			typ, obj = watch.Deleted, withResourceVersion(e.prev, e.rv)
		case !cur && !prev:
			return
		}
	} else if !cur {
		return
	}
	if len(w.queue) >= maxWatchQueue {
		// Too far behind: end the watch; the client resumes from its last resourceVersion.
		go w.Stop()
		return
	}
	w.queue = append(w.queue, watch.Event{Type: typ, Object: obj})
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *watcher) bookmark(rv uint64, initialEnd bool) watch.Event {
	obj := w.newObj()
	m, _ := meta.Accessor(obj)
	m.SetResourceVersion(strconv.FormatUint(rv, 10))
	if initialEnd {
		m.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	}
	return watch.Event{Type: watch.Bookmark, Object: obj}
}

// idleResourceVersion returns the store's resourceVersion if nothing is queued for this
// watcher: only then may a bookmark promise that every earlier event was delivered.
func (w *watcher) idleResourceVersion() (uint64, bool) {
	w.store.mu.Lock()
	defer w.store.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.store.rv, len(w.queue) == 0
}

func (w *watcher) run(ctx context.Context) {
	defer close(w.result)
	defer w.Stop()
	var timer *time.Timer
	var tick <-chan time.Time
	if w.pred.AllowWatchBookmarks {
		timer = time.NewTimer(nextBookmark(ctx, time.Now()))
		defer timer.Stop()
		tick = timer.C
	}
	for {
		w.mu.Lock()
		batch := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, e := range batch {
			// The encoder sets the type meta of what it sends: each watch sends its own copy
			// of the objects the store shares between watchers.
			if e.Type != watch.Bookmark {
				e.Object = e.Object.DeepCopyObject()
			}
			select {
			case w.result <- e:
			case <-w.done:
				return
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-w.notify:
		case <-tick:
			timer.Reset(nextBookmark(ctx, time.Now()))
			rv, idle := w.idleResourceVersion()
			if !idle {
				continue
			}
			select {
			case w.result <- w.bookmark(rv, false):
			case <-w.done:
				return
			case <-ctx.Done():
				return
			}
		case <-w.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// nextBookmark is when the next bookmark is due: a minute from now, or two seconds before the
// watch times out if that is sooner, so that a client resumes from a fresh resourceVersion,
// as the watch cache schedules them.
func nextBookmark(ctx context.Context, now time.Time) time.Duration {
	d := bookmarkInterval
	if deadline, ok := ctx.Deadline(); ok {
		if early := deadline.Add(-2 * time.Second).Sub(now); early > 0 && early < d {
			d = early
		}
	}
	return d
}

func withResourceVersion(obj runtime.Object, rv uint64) runtime.Object {
	obj = obj.DeepCopyObject()
	if m, err := meta.Accessor(obj); err == nil {
		m.SetResourceVersion(strconv.FormatUint(rv, 10))
	}
	return obj
}

// errorWatch is an established watch whose only event is err, as a Status.
func errorWatch(err error) watch.Interface {
	ch := make(chan watch.Event, 1)
	var status metav1.Status
	if s, ok := err.(apierrors.APIStatus); ok {
		status = s.Status()
	} else {
		status = apierrors.NewInternalError(err).Status()
	}
	ch <- watch.Event{Type: watch.Error, Object: &status}
	close(ch)
	return errWatcher(ch)
}

type errWatcher chan watch.Event

func (e errWatcher) Stop()                          {}
func (e errWatcher) ResultChan() <-chan watch.Event { return e }
