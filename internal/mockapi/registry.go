package mockapi

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

// registry holds the REST storage of every resource of one emulated version.
type registry struct {
	scheme *apiScheme
	docs   *apidocs.Docs
	// stores holds one generic registry store per group-resource, shared by its versions.
	stores map[schema.GroupResource]*genericregistry.Store
	// hubs maps a served group-resource to where its objects are stored.
	hubs map[schema.GroupResource]resourceHub
	// groups are the API groups to install, legacy ("") first.
	groups []*genericapiserver.APIGroupInfo
	// skipped lists resources discovery advertises but this build cannot serve.
	skipped []string
}

type resourceHub struct {
	gvr        schema.GroupVersionResource
	gvk        schema.GroupVersionKind
	namespaced bool
}

func newRegistry(as *apiScheme, docs *apidocs.Docs) (*registry, error) {
	r := &registry{
		scheme: as,
		docs:   docs,
		stores: map[schema.GroupResource]*genericregistry.Store{},
		hubs:   map[schema.GroupResource]resourceHub{},
	}
	paramCodec := runtime.NewParameterCodec(as.Scheme)
	infos := map[string]*genericapiserver.APIGroupInfo{}
	var order []string
	servedVersions := map[schema.GroupResource][]schema.GroupVersion{}
	for _, res := range docs.Resources {
		gr := res.GroupVersion.WithResource(res.Name).GroupResource()
		servedVersions[gr] = append(servedVersions[gr], res.GroupVersion)
	}
	for _, res := range docs.Resources {
		gv := res.GroupVersion
		info, ok := infos[gv.Group]
		if !ok {
			i := genericapiserver.NewDefaultAPIGroupInfo(gv.Group, as.Scheme, paramCodec, as.Codecs)
			i.PrioritizedVersions = nil
			info = &i
			infos[gv.Group] = info
			order = append(order, gv.Group)
		}
		if !containsGV(info.PrioritizedVersions, gv) {
			info.PrioritizedVersions = append(info.PrioritizedVersions, gv)
		}
		storages, err := r.storagesFor(res, servedVersions[gv.WithResource(res.Name).GroupResource()])
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", gv.WithResource(res.Name), err)
		}
		if storages == nil {
			r.skipped = append(r.skipped, gv.WithResource(res.Name).String())
			continue
		}
		m := info.VersionedResourcesStorageMap[gv.Version]
		if m == nil {
			m = map[string]rest.Storage{}
			info.VersionedResourcesStorageMap[gv.Version] = m
		}
		for path, s := range storages {
			m[path] = s
		}
	}
	for _, g := range order {
		r.groups = append(r.groups, infos[g])
	}
	return r, nil
}

func containsGV(gvs []schema.GroupVersion, gv schema.GroupVersion) bool {
	for _, g := range gvs {
		if g == gv {
			return true
		}
	}
	return false
}

// storagesFor returns the REST storage of a resource and its subresources, keyed by the path
// the installer expects ("pods", "pods/status"), or nil when the resource cannot be served.
func (r *registry) storagesFor(res apidocs.Resource, versions []schema.GroupVersion) (map[string]rest.Storage, error) {
	gk := schema.GroupKind{Group: res.GroupVersion.Group, Kind: res.Kind}
	if v, ok := virtualResources[res.GroupVersion.WithResource(res.Name).GroupResource()]; ok {
		return v(r, res)
	}
	hub, ok := r.scheme.hubOf(gk)
	if !ok {
		return nil, nil
	}
	gr := schema.GroupResource{Group: gk.Group, Resource: res.Name}
	store, err := r.storeFor(gr, hub, res, versions)
	if err != nil {
		return nil, err
	}
	out := map[string]rest.Storage{res.Name: store}
	if gk == (schema.GroupKind{Kind: "Namespace"}) {
		out[res.Name] = &namespaceREST{Store: store, reg: r}
	}
	for _, sub := range res.Subresources {
		path := res.Name + "/" + sub.Name
		switch sub.Name {
		case "status":
			out[path] = newStatusREST(store, versions)
		case "scale":
			if s := newScaleREST(store, gr); s != nil {
				out[path] = s
			}
		default:
			if s := r.subresource(store, res, sub); s != nil {
				out[path] = s
			}
		}
	}
	return out, nil
}

// storeFor builds, once per group-resource, the generic registry store over clusterStorage.
func (r *registry) storeFor(gr schema.GroupResource, hub schema.GroupVersionKind, res apidocs.Resource, versions []schema.GroupVersion) (*genericregistry.Store, error) {
	if s, ok := r.stores[gr]; ok {
		return s, nil
	}
	sch := r.scheme
	listGVK := hub.GroupVersion().WithKind(hub.Kind + "List")
	if _, err := sch.New(listGVK); err != nil {
		return nil, fmt.Errorf("no list type for %s: %w", hub, err)
	}
	hasStatus := false
	for _, sub := range res.Subresources {
		hasStatus = hasStatus || sub.Name == "status"
	}
	strat := newStrategy(sch.Scheme, hub.GroupKind(), versions, res.Namespaced, hasStatus)
	newFunc := func() runtime.Object { o, _ := sch.New(hub); return o }
	newListFunc := func() runtime.Object { o, _ := sch.New(listGVK); return o }
	hubGVR := hub.GroupVersion().WithResource(gr.Resource)
	store := &genericregistry.Store{
		NewFunc:                   newFunc,
		NewListFunc:               newListFunc,
		DefaultQualifiedResource:  gr,
		SingularQualifiedResource: schema.GroupResource{Group: gr.Group, Resource: res.SingularName},
		CreateStrategy:            strat,
		UpdateStrategy:            strat,
		DeleteStrategy:            strat,
		ResetFieldsStrategy:       strat,
		TableConvertor:            tableConvertorFor(gr),
		// DELETE answers with the object where kube-apiserver's registry does, else a Status.
		ReturnDeletedObject: r.docs.DeleteReturnsObject(gr),
	}
	decorator := func(_ *storagebackend.ConfigForResource, prefix string, _ func(runtime.Object) (string, error),
		newFunc, newListFunc func() runtime.Object, _ storage.AttrFunc, _ storage.IndexerFuncs, _ *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
		return &clusterStorage{gvr: hubGVR, gvk: hub, prefix: prefix, newFunc: newFunc, newListFunc: newListFunc}, func() {}, nil
	}
	opts := &generic.StoreOptions{
		RESTOptions: generic.RESTOptions{
			StorageConfig: &storagebackend.ConfigForResource{
				Config:        storagebackend.Config{Codec: sch.Codecs.LegacyCodec(hub.GroupVersion())},
				GroupResource: gr,
			},
			Decorator:               decorator,
			ResourcePrefix:          "/" + gr.Group + "/" + gr.Resource,
			DeleteCollectionWorkers: 1,
		},
		AttrFunc: getAttrs,
	}
	if err := store.CompleteWithOptions(opts); err != nil {
		return nil, err
	}
	if gr == servicesGVR.GroupResource() {
		store.BeginCreate = allocateServiceAddresses
	}
	r.stores[gr] = store
	r.hubs[gr] = resourceHub{gvr: hubGVR, gvk: hub, namespaced: res.Namespaced}
	return store, nil
}

// resourceOf returns where objects of a served group-kind are stored.
func (r *registry) resourceOf(gk schema.GroupKind) (resourceHub, bool) {
	for _, h := range r.hubs {
		if h.gvk.GroupKind() == gk {
			return h, true
		}
	}
	return resourceHub{}, false
}

// isNamespaced reports whether objects stored under gvr live in namespaces.
func (r *registry) isNamespaced(gvr schema.GroupVersionResource) bool {
	h, ok := r.hubs[gvr.GroupResource()]
	return ok && h.namespaced
}

// statusREST serves the status subresource: get, update and patch of .status only.
type statusREST struct {
	store *genericregistry.Store
	strat statusStrategy
}

func newStatusREST(store *genericregistry.Store, versions []schema.GroupVersion) *statusREST {
	st := *store
	strat := statusStrategy{strategy: store.UpdateStrategy.(*strategy)}
	st.CreateStrategy = nil
	st.UpdateStrategy = strat
	st.DeleteStrategy = nil
	st.ResetFieldsStrategy = strat
	return &statusREST{store: &st, strat: strat}
}

func (s *statusREST) New() runtime.Object { return s.store.New() }

func (s *statusREST) Destroy() {}

func (s *statusREST) Get(ctx context.Context, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return s.store.Get(ctx, name, opts)
}

func (s *statusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Status updates never create the object.
	return s.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

func (s *statusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return s.strat.GetResetFields()
}

func (s *statusREST) ConvertToTable(ctx context.Context, obj runtime.Object, opts runtime.Object) (*metav1.Table, error) {
	return s.store.ConvertToTable(ctx, obj, opts)
}
