package mockapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/storage"
)

// clusterStorage is the storage.Interface of one resource for every simulated cluster of a
// version: the generic registry (k8s.io/apiserver/pkg/registry/generic/registry) runs the
// real request semantics on top of it, and each call finds the cluster's Store in the request
// context, where the cluster's listener put it.
type clusterStorage struct {
	gvr         schema.GroupVersionResource // the hub version the objects are stored in
	gvk         schema.GroupVersionKind
	prefix      string // key prefix, "/<group>/<resource>"
	newFunc     func() runtime.Object
	newListFunc func() runtime.Object
}

var _ storage.Interface = (*clusterStorage)(nil)

var errNoCluster = errors.New("request reached storage without a cluster")

func (c *clusterStorage) store(ctx context.Context) (*Store, error) {
	cl := ClusterFrom(ctx)
	if cl == nil {
		return nil, apierrors.NewInternalError(errNoCluster)
	}
	return cl.store, nil
}

// beforeRead lets the simulated kubelets catch up on what a reader would see.
func (c *clusterStorage) beforeRead(ctx context.Context) {
	if c.gvr == leasesGVR {
		if cl := ClusterFrom(ctx); cl != nil {
			cl.renewNodeLeases()
		}
	}
}

// split turns a registry key into namespace and name ("" for cluster-scoped objects or for
// collection keys).
func (c *clusterStorage) split(key string) (ns, name string) {
	rest := strings.TrimPrefix(strings.TrimPrefix(key, c.prefix), "/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i], rest[i+1:]
	}
	return "", rest
}

func (c *clusterStorage) Versioner() storage.Versioner { return storage.APIObjectVersioner{} }

func (c *clusterStorage) Create(ctx context.Context, key string, obj, out runtime.Object, _ uint64) error {
	s, err := c.store(ctx)
	if err != nil {
		return err
	}
	if m, err := meta.Accessor(obj); err == nil && m.GetResourceVersion() != "" {
		return storage.ErrResourceVersionSetOnCreate
	}
	stored, err := s.create(c.gvr, c.gvk, obj.DeepCopyObject())
	if err != nil {
		return err
	}
	return copyInto(stored, out)
}

func (c *clusterStorage) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validateDeletion storage.ValidateObjectFunc, _ runtime.Object, _ storage.DeleteOptions) error {
	s, err := c.store(ctx)
	if err != nil {
		return err
	}
	ns, name := c.split(key)
	for {
		cur, err := s.get(c.gvr, ns, name)
		if err != nil {
			return storage.NewKeyNotFoundError(key, 0)
		}
		if preconditions != nil {
			if err := preconditions.Check(key, cur); err != nil {
				return err
			}
		}
		if err := validateDeletion(ctx, cur); err != nil {
			return err
		}
		deleted, err := s.remove(c.gvr, ns, name, resourceVersionOf(cur))
		if err == errConflict {
			continue
		}
		if err != nil {
			return storage.NewKeyNotFoundError(key, 0)
		}
		return copyInto(deleted, out)
	}
}

func (c *clusterStorage) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	s, err := c.store(ctx)
	if err != nil {
		return err
	}
	c.beforeRead(ctx)
	ns, name := c.split(key)
	obj, err := s.get(c.gvr, ns, name)
	if err != nil {
		if opts.IgnoreNotFound {
			return runtime.SetZeroValue(out)
		}
		return storage.NewKeyNotFoundError(key, 0)
	}
	return copyInto(obj, out)
}

func (c *clusterStorage) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	s, err := c.store(ctx)
	if err != nil {
		return err
	}
	c.beforeRead(ctx)
	keyPrefix := c.prefix + "/"
	withRev, continueKey, err := storage.ValidateListOptions(keyPrefix, c.Versioner(), opts)
	if err != nil {
		return err
	}
	ns, name := c.split(key)
	if opts.Recursive {
		ns, name = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(key, c.prefix), "/"), "/"), ""
	}
	var items []runtime.Object
	var rv uint64
	if snap, ok := s.snapshot(c.gvr, ns, uint64(withRev)); ok && continueKey != "" && withRev > 0 {
		// Later pages read the snapshot of the first one, as etcd reads at a revision.
		items, rv = snap, uint64(withRev)
	} else {
		if items, rv, err = s.list(c.gvr, c.gvk, ns); err != nil {
			return err
		}
		if continueKey != "" && withRev > 0 && uint64(withRev) != rv {
			return inconsistentContinue(continueKey, keyPrefix)
		}
		if err := checkListResourceVersion(opts, rv); err != nil {
			return err
		}
	}
	pred := opts.Predicate
	var out []runtime.Object
	var lastKey string
	hasMore := false
	remaining := int64(0) // items in the key range from the continue key on, matching or not
	for _, it := range items {
		m, _ := meta.Accessor(it)
		itemKey := c.prefix + "/" + objectKey(it)
		if m.GetNamespace() == "" {
			itemKey = c.prefix + "/" + m.GetName()
		}
		if !opts.Recursive && m.GetName() != name {
			continue
		}
		if continueKey != "" && itemKey < continueKey {
			continue
		}
		remaining++
		if hasMore {
			continue
		}
		if !pred.Empty() {
			if ok, err := pred.Matches(it); err != nil || !ok {
				continue
			}
		}
		if pred.Limit > 0 && int64(len(out)) == pred.Limit {
			hasMore = true
			continue
		}
		out = append(out, it)
		lastKey = itemKey
	}
	if hasMore && continueKey == "" {
		s.saveSnapshot(c.gvr, ns, rv, items)
	}
	if err := meta.SetList(listObj, out); err != nil {
		return err
	}
	lm, err := meta.ListAccessor(listObj)
	if err != nil {
		return err
	}
	lm.SetResourceVersion(strconv.FormatUint(rv, 10))
	next, remainingCount, err := storage.PrepareContinueToken(lastKey, keyPrefix, int64(rv), remaining, hasMore, opts)
	if err != nil {
		return err
	}
	lm.SetContinue(next)
	lm.SetRemainingItemCount(remainingCount)
	return nil
}

// inconsistentContinue is etcd's answer to a continue token whose revision is compacted: 410
// with a token that continues at the latest state.
func inconsistentContinue(continueKey, keyPrefix string) error {
	token, err := storage.EncodeContinue(continueKey, keyPrefix, -1)
	if err != nil {
		return apierrors.NewResourceExpired(continueExpiredMessage)
	}
	status := apierrors.NewResourceExpired(inconsistentContinueMessage)
	status.ErrStatus.ListMeta.Continue = token
	return status
}

const (
	continueExpiredMessage = "The provided continue parameter is too old to display a consistent list result. " +
		"You can start a new list without the continue parameter."
	inconsistentContinueMessage = "The provided continue parameter is too old to display a consistent list result. " +
		"You can start a new list without the continue parameter, or use the continue token in this response to " +
		"retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - " +
		"objects that were created, modified, or deleted between the time the first chunk was returned and now may " +
		"show up in the list."
)

// checkListResourceVersion answers what an etcd-backed server would for a list at an exact
// resourceVersion this store no longer has: 410 Expired.
func checkListResourceVersion(opts storage.ListOptions, current uint64) error {
	if opts.ResourceVersion == "" || opts.ResourceVersion == "0" {
		return nil
	}
	rv, err := strconv.ParseUint(opts.ResourceVersion, 10, 64)
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid resource version: %v", err))
	}
	if rv > current {
		return storage.NewTooLargeResourceVersionError(rv, current, 1)
	}
	if opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact && rv != current {
		return apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", rv, current))
	}
	return nil
}

func (c *clusterStorage) GuaranteedUpdate(ctx context.Context, key string, destination runtime.Object, ignoreNotFound bool,
	preconditions *storage.Preconditions, tryUpdate storage.UpdateFunc, _ runtime.Object) error {
	s, err := c.store(ctx)
	if err != nil {
		return err
	}
	ns, name := c.split(key)
	for {
		cur, err := s.get(c.gvr, ns, name)
		exists := err == nil
		if !exists {
			if !ignoreNotFound {
				return storage.NewKeyNotFoundError(key, 0)
			}
			cur = c.newFunc()
		}
		if exists && preconditions != nil {
			if err := preconditions.Check(key, cur); err != nil {
				return err
			}
		}
		curRV := resourceVersionOf(cur)
		out, _, err := tryUpdate(cur.DeepCopyObject(), storage.ResponseMeta{ResourceVersion: curRV})
		if err != nil {
			return err
		}
		if !exists {
			if m, err := meta.Accessor(out); err == nil {
				m.SetResourceVersion("")
			}
			stored, err := s.create(c.gvr, c.gvk, out)
			if err != nil {
				if storage.IsExist(err) {
					continue
				}
				return err
			}
			return copyInto(stored, destination)
		}
		// An update that changes nothing is not written, as with etcd.
		if m, err := meta.Accessor(out); err == nil {
			m.SetResourceVersion(strconv.FormatUint(curRV, 10))
		}
		if equalObjects(cur, out) {
			return copyInto(cur, destination)
		}
		stored, err := s.update(c.gvr, out, curRV)
		if err == errConflict {
			continue
		}
		if err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return err
		}
		return copyInto(stored, destination)
	}
}

func (c *clusterStorage) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	s, err := c.store(ctx)
	if err != nil {
		return nil, err
	}
	ns := ""
	if opts.Recursive {
		ns = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(key, c.prefix), "/"), "/")
	} else {
		// A watch on one object: restrict by name, as the registry does with a field selector.
		ns, _ = c.split(key)
	}
	req := watchRequest{gvr: c.gvr, gvk: c.gvk, ns: ns, pred: opts.Predicate, newObj: c.newFunc}
	if opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
		req.from, err = strconv.ParseUint(opts.ResourceVersion, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version: %v", err))
		}
		req.fromSet = true
	}
	// Without a resourceVersion, or with 0, a watch starts with the current state (the
	// documented "Get State and Start at Most Recent"); sendInitialEvents makes it explicit.
	req.initial = !req.fromSet
	if opts.SendInitialEvents != nil {
		req.initial = *opts.SendInitialEvents
		req.initialEndBookmark = req.initial && opts.Predicate.AllowWatchBookmarks
		// Like the watch cache, the initial state must be at least as new as asked for.
		if req.initial && req.fromSet && !s.waitFor(ctx, req.from, tooLargeWait) {
			cur := s.ResourceVersion()
			return errorWatch(storage.NewTooLargeResourceVersionError(req.from, cur, 1)), nil
		}
	}
	if req.initial {
		req.fromSet = false
	}
	return s.watch(ctx, req)
}

// tooLargeWait is how long a watch-list waits for a resourceVersion the store has not reached,
// as the watch cache does, before answering 504 Too large resource version.
const tooLargeWait = 3 * time.Second

func (c *clusterStorage) Stats(ctx context.Context) (storage.Stats, error) {
	return storage.Stats{}, nil
}

func (c *clusterStorage) ReadinessCheck() error { return nil }

func (c *clusterStorage) RequestWatchProgress(context.Context) error { return nil }

func (c *clusterStorage) GetCurrentResourceVersion(ctx context.Context) (uint64, error) {
	s, err := c.store(ctx)
	if err != nil {
		return 0, err
	}
	return s.ResourceVersion(), nil
}

func (c *clusterStorage) EnableResourceSizeEstimation(storage.KeysFunc) error { return nil }

func (c *clusterStorage) CompactRevision() int64 { return 0 }

// copyInto sets out (a pointer to the storage's object type) to a copy of obj.
func copyInto(obj, out runtime.Object) error {
	if obj == out {
		return nil
	}
	dst, err := conversion.EnforcePtr(out)
	if err != nil {
		return err
	}
	src, err := conversion.EnforcePtr(obj.DeepCopyObject())
	if err != nil {
		return err
	}
	if src.Type() != dst.Type() {
		return fmt.Errorf("cannot store %v into %v", src.Type(), dst.Type())
	}
	dst.Set(src)
	return nil
}

// equalObjects reports whether an update changes nothing that etcd would store: the type
// meta the request carried does not count, as etcd always stores it.
func equalObjects(a, b runtime.Object) bool {
	ga, gb := a.GetObjectKind().GroupVersionKind(), b.GetObjectKind().GroupVersionKind()
	if ga == gb {
		return apiequality.Semantic.DeepEqual(a, b)
	}
	a, b = a.DeepCopyObject(), b.DeepCopyObject()
	a.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	b.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	return apiequality.Semantic.DeepEqual(a, b)
}
