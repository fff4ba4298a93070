package replay

import (
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// resourcePath is a parsed API resource URL path.
type resourcePath struct {
	gv        schema.GroupVersion
	namespace string
	resource  string
	name      string
	sub       string
}

// parseResourcePath reads /api/v1/... and /apis/<group>/<version>/...; ok is false for
// anything else (/version, /readyz, discovery).
func parseResourcePath(p string) (resourcePath, bool) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	var rp resourcePath
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		rp.gv = schema.GroupVersion{Version: segs[1]}
		segs = segs[2:]
	case len(segs) >= 4 && segs[0] == "apis":
		rp.gv = schema.GroupVersion{Group: segs[1], Version: segs[2]}
		segs = segs[3:]
	default:
		return rp, false
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		rp.namespace, segs = segs[1], segs[2:]
	}
	rp.resource = segs[0]
	if len(segs) > 1 {
		rp.name = segs[1]
	}
	if len(segs) > 2 {
		rp.sub = strings.Join(segs[2:], "/")
	}
	return rp, true
}

// gvr is the path's group, version and resource.
func (rp resourcePath) gvr() schema.GroupVersionResource { return rp.gv.WithResource(rp.resource) }

// pattern is the path with names replaced by placeholders, for grouping.
func (rp resourcePath) pattern() string {
	var b strings.Builder
	if rp.gv.Group == "" {
		b.WriteString("/api/" + rp.gv.Version)
	} else {
		b.WriteString("/apis/" + rp.gv.Group + "/" + rp.gv.Version)
	}
	if rp.namespace != "" {
		b.WriteString("/namespaces/{ns}")
	}
	b.WriteString("/" + rp.resource)
	if rp.name != "" {
		b.WriteString("/{name}")
	}
	if rp.sub != "" {
		b.WriteString("/" + rp.sub)
	}
	return b.String()
}

// pathPattern is a URI's path with names replaced, or the path itself for non-resource URLs.
func pathPattern(uri string) string {
	p, _, _ := strings.Cut(uri, "?")
	if rp, ok := parseResourcePath(p); ok {
		return rp.pattern()
	}
	return p
}

var (
	kindsOnce sync.Once
	kinds     map[schema.GroupVersionResource]string
)

// kindFor is the kind a resource serves, from client-go's scheme (and the aggregator's
// APIService), independently of what the mock says.
func kindFor(gvr schema.GroupVersionResource) string {
	kindsOnce.Do(func() {
		kinds = map[schema.GroupVersionResource]string{}
		add := func(gvk schema.GroupVersionKind) {
			if strings.HasSuffix(gvk.Kind, "List") || strings.HasSuffix(gvk.Kind, "Options") || gvk.Kind == "WatchEvent" {
				return
			}
			plural, _ := meta.UnsafeGuessKindToResource(gvk)
			kinds[plural] = gvk.Kind
		}
		for gvk := range scheme.Scheme.AllKnownTypes() {
			add(gvk)
		}
		add(apiregistrationv1.SchemeGroupVersion.WithKind("APIService"))
	})
	return kinds[gvr]
}

// clusterScoped lists the kinds of cluster-scoped objects the trace's owner references and
// lookups name; everything else is looked up in the referring object's namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"APIService": true, "CustomResourceDefinition": true, "PersistentVolume": true,
	"StorageClass": true, "PriorityClass": true,
}

// objectPath is the URL path of one object.
func objectPath(apiVersion, kind, namespace, name string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return ""
	}
	plural, _ := meta.UnsafeGuessKindToResource(gv.WithKind(kind))
	prefix := "/apis/" + gv.Group + "/" + gv.Version
	if gv.Group == "" {
		prefix = "/api/" + gv.Version
	}
	if namespace != "" && !clusterScoped[kind] {
		prefix += "/namespaces/" + namespace
	}
	return prefix + "/" + plural.Resource + "/" + name
}
