package mockapi

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

// Start-up objects. A kube-apiserver creates, before any client, the RBAC bootstrap policy
// (ClusterRoles, ClusterRoleBindings, Roles and RoleBindings) and one APIService per served
// group-version; every real cluster has them, and informers on those resources (Rancher's, on
// every cluster it manages) see them. Some 160 objects per cluster would be most of an idle
// cluster's memory, so each cluster's store materialises a resource's objects on the first
// request that touches the resource, whatever the verb: a cluster never asked pays nothing,
// one whose RBAC is watched pays what a real one would.
//
// Materialisation happens inside the store (get, list, create, update, remove, watch), so
// every path sees the objects: the generic registry's GET, LIST with selectors and pagination,
// WATCH and watch-list initial events, writes, deletecollection, and the mock's own
// controllers. It creates the objects like any write (next resourceVersions, ADDED events in
// the watch history), under the store's lock and exactly once per resource.
//
// The one visible difference from a real cluster: the materialised objects' resourceVersions
// are newer than those of the cluster's other objects, since they are created at first use
// rather than at start-up (their creationTimestamp is the cluster's creation time, though). A
// client that compares resourceVersions across resources (which the API does not promise
// anything about) would notice; a watch of the resource from an older resourceVersion
// receives them as ADDED events, consistently.

// bootstrapSet is the start-up objects of one emulated version, decoded and defaulted once and
// shared read-only by the version's clusters.
type bootstrapSet struct {
	resources []bootstrapResource // bit i of Store.booted is resources[i]
}

type bootstrapResource struct {
	gvr     schema.GroupVersionResource // where the store keeps them
	gvk     schema.GroupVersionKind
	objects []runtime.Object // templates, sorted by namespace and name; copied, never changed
}

// newBootstrapSet decodes the version's published start-up objects into the types its store
// keeps, with their defaults, as if created through the API.
func newBootstrapSet(as *apiScheme, reg *registry, docs *apidocs.Docs) (*bootstrapSet, error) {
	b := &bootstrapSet{}
	decoder := as.Codecs.UniversalDeserializer()
	for _, gr := range docs.BootstrapResources() {
		hub, ok := reg.hubs[gr]
		if !ok {
			return nil, fmt.Errorf("bootstrap objects of %s: resource not served", gr)
		}
		raw, err := docs.BootstrapObjects(gr)
		if err != nil {
			return nil, err
		}
		res := bootstrapResource{gvr: hub.gvr, gvk: hub.gvk, objects: make([]runtime.Object, 0, len(raw))}
		for i, r := range raw {
			obj, gvk, err := decoder.Decode(r, nil, nil)
			if err != nil {
				return nil, fmt.Errorf("bootstrap %s %d: %w", gr, i, err)
			}
			if *gvk != hub.gvk {
				return nil, fmt.Errorf("bootstrap %s %d: kind %s, the store keeps %s", gr, i, gvk, hub.gvk)
			}
			as.Default(obj)
			// Stored objects carry no type meta; the encoder sets it per response.
			obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
			res.objects = append(res.objects, obj)
		}
		b.resources = append(b.resources, res)
	}
	if len(b.resources) > 32 {
		return nil, fmt.Errorf("%d bootstrap resources, at most 32 fit the store's bitmask", len(b.resources))
	}
	return b, nil
}

// index returns the bit of gvr, or -1 when it has no start-up objects.
func (b *bootstrapSet) index(gvr schema.GroupVersionResource) int {
	for i := range b.resources {
		if b.resources[i].gvr == gvr {
			return i
		}
	}
	return -1
}

// materialise creates gvr's start-up objects in the store the first time the resource is used;
// objects of the same name already there (the fixture's) win. Concurrent first requests wait
// for the one that creates them.
func (s *Store) materialise(gvr schema.GroupVersionResource) error {
	if s.boot == nil {
		return nil
	}
	i := s.boot.index(gvr)
	if i < 0 {
		return nil
	}
	bit := uint32(1) << i
	if s.booted.Load()&bit != 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.booted.Load()&bit != 0 {
		return nil
	}
	res := &s.boot.resources[i]
	created := metav1.Unix(s.created, 0)
	for _, tmpl := range res.objects {
		m, _ := meta.Accessor(tmpl) // templates are decoded API objects
		if _, err := s.tracker.Get(gvr, m.GetNamespace(), m.GetName()); err == nil {
			continue
		}
		rv := s.rv + 1
		obj := stamped(tmpl, created, rv)
		if err := s.tracker.Create(gvr, obj, m.GetNamespace()); err != nil {
			return fmt.Errorf("materialise %s %s/%s: %w", gvr.Resource, m.GetNamespace(), m.GetName(), err)
		}
		s.rv = rv
		s.record(event{typ: watch.Added, gvr: gvr, obj: obj, rv: rv})
	}
	s.kinds[gvr] = res.gvk
	s.booted.Or(bit)
	return nil
}

// stamped returns a copy of a template with what the store assigns on create. The copy shares
// the template's maps and slices (labels, rules, subjects): the tracker stores a deep copy of
// it, and the watch history keeps it as recorded events are kept, never modified, which halves
// what materialising costs.
func stamped(tmpl runtime.Object, created metav1.Time, rv uint64) runtime.Object {
	v := reflect.New(reflect.TypeOf(tmpl).Elem())
	v.Elem().Set(reflect.ValueOf(tmpl).Elem())
	obj := v.Interface().(runtime.Object)
	m, _ := meta.Accessor(obj)
	m.SetUID(newUID())
	m.SetCreationTimestamp(created)
	m.SetResourceVersion(strconv.FormatUint(rv, 10))
	if svc, ok := obj.(*apiregistrationv1.APIService); ok {
		// The local availability controller set the condition as the server started.
		svc.Status.Conditions = slices.Clone(svc.Status.Conditions)
		for j := range svc.Status.Conditions {
			svc.Status.Conditions[j].LastTransitionTime = created
		}
	}
	return obj
}
