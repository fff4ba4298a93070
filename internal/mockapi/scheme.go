package mockapi

import (
	"fmt"
	"reflect"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

// apiScheme is the scheme of one emulated Kubernetes version: the published k8s.io/api types,
// each served kind registered a second time as its group's internal version. The apiserver's
// handlers convert every request to the internal ("hub") version before storage; with the
// versioned type as the hub that conversion is a copy, so storage works on k8s.io/api types
// and no internal API types are needed.
type apiScheme struct {
	*runtime.Scheme
	Codecs serializer.CodecFactory
	// hub maps each served group-kind to the versioned kind whose Go type is its hub.
	hub map[schema.GroupKind]schema.GroupVersionKind
}

func newAPIScheme(docs *apidocs.Docs) (*apiScheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, apiregistrationv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	// The generic apiserver decodes query parameters and writes Status objects through these.
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	s.AddUnversionedTypes(schema.GroupVersion{Version: "v1"},
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})

	as := &apiScheme{Scheme: s, hub: map[schema.GroupKind]schema.GroupVersionKind{}}
	// Resources come in discovery order, where a group's preferred version comes first: its
	// type becomes the hub for a kind served in several versions.
	kinds := map[schema.GroupVersionKind]bool{}
	for _, r := range docs.Resources {
		kinds[r.GroupVersion.WithKind(r.Kind)] = true
		for _, sub := range r.Subresources {
			if sub.Kind != "" && sub.Kind != r.Kind {
				kinds[sub.GroupVersion.WithKind(sub.Kind)] = true
			}
		}
	}
	for _, r := range docs.Resources {
		gvk := r.GroupVersion.WithKind(r.Kind)
		if !s.Recognizes(gvk) {
			continue // reported by the registry, which skips the resource
		}
		if err := as.addHub(gvk); err != nil {
			return nil, err
		}
		if list := r.GroupVersion.WithKind(r.Kind + "List"); s.Recognizes(list) {
			if err := as.addHub(list); err != nil {
				return nil, err
			}
		}
		if err := addFieldLabelConversions(s, gvk); err != nil {
			return nil, err
		}
	}
	for gvk := range kinds {
		if s.Recognizes(gvk) {
			if err := as.addHub(gvk); err != nil {
				return nil, err
			}
		}
	}
	if err := addHubConversions(s); err != nil {
		return nil, err
	}
	addDefaultingFuncs(s)
	as.Codecs = serializer.NewCodecFactory(s)
	return as, nil
}

// addHub registers gvk's Go type as the internal version of its group-kind, unless another
// version already took that role.
func (as *apiScheme) addHub(gvk schema.GroupVersionKind) error {
	gk := gvk.GroupKind()
	if prev, ok := as.hub[gk]; ok {
		if prev != gvk && !as.hasConversion(prev, gvk) {
			return fmt.Errorf("kind %s is served as %s and %s and no conversion between them is known", gk, prev.Version, gvk.Version)
		}
		return nil
	}
	t, ok := as.AllKnownTypes()[gvk]
	if !ok {
		return fmt.Errorf("no Go type for %s", gvk)
	}
	as.hub[gk] = gvk
	as.AddKnownTypeWithName(schema.GroupVersionKind{Group: gvk.Group, Version: runtime.APIVersionInternal, Kind: gvk.Kind},
		reflect.New(t).Interface().(runtime.Object))
	return nil
}

func (as *apiScheme) hasConversion(a, b schema.GroupVersionKind) bool {
	_, ok := hubConversions[[2]schema.GroupVersionKind{a, b}]
	return ok
}

// hubOf returns the Go object that stores a group-kind: its hub version's type.
func (as *apiScheme) hubOf(gk schema.GroupKind) (schema.GroupVersionKind, bool) {
	gvk, ok := as.hub[gk]
	return gvk, ok
}
