package apidocs

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DefaultMinor is the Kubernetes minor version emulated unless a cluster asks for another.
const DefaultMinor = "1.36"

// Resource is one served top-level resource, as listed by legacy discovery.
type Resource struct {
	GroupVersion schema.GroupVersion
	Name         string // plural, e.g. "deployments"
	SingularName string
	Kind         string
	Namespaced   bool
	Verbs        []string
	ShortNames   []string
	Categories   []string
	Subresources []Subresource // e.g. status, scale, eviction, binding, log, exec, token, as listed in discovery
}

// Subresource is one subresource of a Resource.
type Subresource struct {
	Name string // "status"
	Kind string
	// GroupVersion of the response kind: the resource's own unless discovery names another,
	// e.g. autoscaling/v1 for scale, policy/v1 for pods/eviction.
	GroupVersion schema.GroupVersion
	Verbs        []string
}

// Docs is the published discovery and OpenAPI of one Kubernetes release, reduced to what a
// default-configured cluster serves. It is immutable and shared by every cluster of the version.
type Docs struct {
	Minor      string     // "1.36"
	GitVersion string     // "v1.36.3": the release the documents came from
	Resources  []Resource // every served top-level resource, all served group-versions, in discovery order

	groupVersions []schema.GroupVersion
	discovery     *discoveryTable
	v3            openAPIState
	bootstrap     map[schema.GroupResource]int // object count per resource, from meta.json
	deletes       map[schema.GroupResource]bool
}

// GroupVersions returns the served group-versions in discovery order: core v1 first, then the
// groups as /apis lists them, each group's preferred version first.
func (d *Docs) GroupVersions() []schema.GroupVersion {
	return slices.Clone(d.groupVersions)
}

// loads caches Load per minor, so thousands of clusters share one parsed copy.
var loads sync.Map // minor -> *loadOnce

type loadOnce struct {
	once sync.Once
	docs *Docs
	err  error
}

// Load returns the documents of a minor version ("1.36"), parsing them on first use. It is safe
// for concurrent use; every call for the same minor returns the same *Docs.
func Load(minor string) (*Docs, error) {
	if !slices.Contains(Minors(), minor) {
		return nil, fmt.Errorf("apidocs: no documents for Kubernetes %q (available: %s)", minor, strings.Join(Minors(), ", "))
	}
	v, _ := loads.LoadOrStore(minor, &loadOnce{})
	l := v.(*loadOnce)
	l.once.Do(func() { l.docs, l.err = load(minor) })
	return l.docs, l.err
}

// parsedDiscovery is the legacy and aggregated discovery of one release, as published.
type parsedDiscovery struct {
	versions  metav1.APIVersions                   // /api
	core      metav1.APIResourceList               // /api/v1
	groupList metav1.APIGroupList                  // /apis
	groups    map[string]metav1.APIGroup           // /apis/<group>
	lists     map[string]metav1.APIResourceList    // /apis/<group>/<version>, keyed "group/version"
	agg       apidiscoveryv2.APIGroupDiscoveryList // /apis, aggregated (no core group)
}

func load(minor string) (*Docs, error) {
	var meta struct {
		GitVersion    string         `json:"gitVersion"`
		GroupVersions []string       `json:"groupVersions"`
		Bootstrap     map[string]int `json:"bootstrap"`
		Deletes       []string       `json:"deleteReturnsObject"`
	}
	b, err := data.ReadFile(path.Join("data", "v"+minor, "meta.json"))
	if err == nil {
		err = json.Unmarshal(b, &meta)
	}
	if err != nil {
		return nil, fmt.Errorf("apidocs: %s meta.json: %w", minor, err)
	}

	p, err := parseDiscovery(minor)
	if err != nil {
		return nil, err
	}
	d := &Docs{Minor: minor, GitVersion: meta.GitVersion, bootstrap: map[schema.GroupResource]int{}}
	for gr, n := range meta.Bootstrap {
		d.bootstrap[schema.ParseGroupResource(gr)] = n
	}
	d.deletes = make(map[schema.GroupResource]bool, len(meta.Deletes))
	for _, gr := range meta.Deletes {
		d.deletes[schema.ParseGroupResource(gr)] = true
	}
	d.groupVersions = append(d.groupVersions, schema.GroupVersion{Version: "v1"})
	d.Resources = appendResources(d.Resources, schema.GroupVersion{Version: "v1"}, p.core.APIResources)
	for _, g := range p.groupList.Groups {
		for _, v := range g.Versions {
			gv := schema.GroupVersion{Group: g.Name, Version: v.Version}
			d.groupVersions = append(d.groupVersions, gv)
			d.Resources = appendResources(d.Resources, gv, p.lists[gv.String()].APIResources)
		}
	}
	var got []string
	for _, gv := range d.groupVersions {
		got = append(got, gv.String())
	}
	if !slices.Equal(got, meta.GroupVersions) {
		return nil, fmt.Errorf("apidocs: %s: discovery serves %v, meta.json says %v", minor, got, meta.GroupVersions)
	}
	if d.discovery, err = newDiscoveryTable(minor, p); err != nil {
		return nil, err
	}
	return d, nil
}

func parseDiscovery(minor string) (*parsedDiscovery, error) {
	p := &parsedDiscovery{groups: map[string]metav1.APIGroup{}, lists: map[string]metav1.APIResourceList{}}
	read := func(name string, v any) error {
		b, err := readGz(minor, "discovery/"+name+".json")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("apidocs: %s %s: %w", minor, name, err)
		}
		return nil
	}
	if err := read("api", &p.versions); err != nil {
		return nil, err
	}
	if err := read("api__v1", &p.core); err != nil {
		return nil, err
	}
	if err := read("apis", &p.groupList); err != nil {
		return nil, err
	}
	if err := read("aggregated_v2", &p.agg); err != nil {
		return nil, err
	}
	for _, g := range p.groupList.Groups {
		var group metav1.APIGroup
		if err := read("apis__"+g.Name, &group); err != nil {
			return nil, err
		}
		p.groups[g.Name] = group
		for _, v := range g.Versions {
			var list metav1.APIResourceList
			if err := read("apis__"+g.Name+"__"+v.Version, &list); err != nil {
				return nil, err
			}
			p.lists[v.GroupVersion] = list
		}
	}
	return p, nil
}

// appendResources adds the top-level resources of one group-version, with their subresources
// ("pods/status") attached, keeping the discovery order.
func appendResources(out []Resource, gv schema.GroupVersion, list []metav1.APIResource) []Resource {
	index := map[string]int{}
	for _, r := range list {
		if strings.Contains(r.Name, "/") {
			continue
		}
		index[r.Name] = len(out)
		out = append(out, Resource{
			GroupVersion: gv,
			Name:         r.Name,
			SingularName: r.SingularName,
			Kind:         r.Kind,
			Namespaced:   r.Namespaced,
			Verbs:        slices.Clone(r.Verbs),
			ShortNames:   slices.Clone(r.ShortNames),
			Categories:   slices.Clone(r.Categories),
		})
	}
	for _, r := range list {
		parent, sub, ok := strings.Cut(r.Name, "/")
		if !ok {
			continue
		}
		i, found := index[parent]
		if !found { // a subresource without a listed parent; kube-apiserver synthesizes one too
			i = len(out)
			index[parent] = i
			out = append(out, Resource{GroupVersion: gv, Name: parent, Namespaced: r.Namespaced})
		}
		subGV := gv
		if r.Version != "" {
			subGV = schema.GroupVersion{Group: r.Group, Version: r.Version}
		}
		out[i].Subresources = append(out[i].Subresources, Subresource{
			Name: sub, Kind: r.Kind, GroupVersion: subGV, Verbs: slices.Clone(r.Verbs),
		})
	}
	return out
}
