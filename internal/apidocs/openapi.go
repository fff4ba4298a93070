package apidocs

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	openapicommon "k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/schemamutation"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// extensionGVK is the vendor extension naming the kinds a definition serves.
const extensionGVK = "x-kubernetes-group-version-kind"

// openAPIState is the merged v3 definitions, filled on first use. They feed OpenAPIV3Config,
// from which the apiserver builds each group's type converter (server-side apply, managedFields);
// the served documents are parsed separately (openapi_v2.go, openapi_v3.go).
type openAPIState struct {
	once    sync.Once
	schemas map[string]*spec.Schema
	deps    map[string][]string                  // names each schema references, sorted
	gvks    map[string][]schema.GroupVersionKind // the extension moved out of schemas
	err     error
}

// OpenAPIV3Definitions returns the union of the published v3 documents' components.schemas
// (defaults, oneOf and allOf as v3 has them), without x-kubernetes-group-version-kind: pair it
// with OpenAPIV3DefinitionNamer, which hands that extension out per call. The documents are
// parsed on the first call of the returned function, once per Docs; it panics if the embedded
// data does not parse (the package tests parse every version).
func (d *Docs) OpenAPIV3Definitions() openapicommon.GetOpenAPIDefinitions {
	return func(ref openapicommon.ReferenceCallback) map[string]openapicommon.OpenAPIDefinition {
		return definitions(d.parsedV3(), ref)
	}
}

// OpenAPIV3DefinitionNamer returns the GetDefinitionName for OpenAPIV3Config. Names stay as they
// are (io.k8s.api.core.v1.Pod, the model names k8s.io/* v0.36+ types report). The GVK extension
// comes from here, not from the schemas: the v3 builder writes it into the schema's own extension
// map, which is shared by every group-version document, and the apiserver then narrows the
// DeleteOptions/WatchEvent lists per document in place, so all documents would carry the list of
// the last one built. Each call returns a fresh list, as openapinamer.DefinitionNamer does.
func (d *Docs) OpenAPIV3DefinitionNamer() func(name string) (string, spec.Extensions) {
	return func(name string) (string, spec.Extensions) {
		gvks, ok := d.parsedV3().gvks[name]
		if !ok {
			return name, nil
		}
		list := make([]interface{}, 0, len(gvks))
		for _, gvk := range gvks {
			list = append(list, map[string]interface{}{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind})
		}
		return name, spec.Extensions{extensionGVK: list}
	}
}

// parsedV3 parses and merges the v3 documents once, moving the GVK extension into s.gvks.
func (d *Docs) parsedV3() *openAPIState {
	s := &d.v3
	s.once.Do(func() { s.err = d.parseV3(s) })
	if s.err != nil {
		panic(s.err)
	}
	return s
}

func (d *Docs) parseV3(s *openAPIState) error {
	names, err := listGz(d.Minor, "openapi/v3")
	if err != nil {
		return err
	}
	s.schemas = map[string]*spec.Schema{}
	s.gvks = map[string][]schema.GroupVersionKind{}
	for _, name := range names {
		var doc struct {
			Components struct {
				Schemas map[string]*spec.Schema `json:"schemas"`
			} `json:"components"`
		}
		b, err := readGz(d.Minor, name)
		if err == nil {
			err = json.Unmarshal(b, &doc)
		}
		if err != nil {
			return fmt.Errorf("apidocs: %s %s: %w", d.Minor, name, err)
		}
		for key, sch := range doc.Components.Schemas {
			gvks, err := takeGVKs(sch)
			if err != nil {
				return fmt.Errorf("apidocs: %s %s %s: %w", d.Minor, name, key, err)
			}
			// Documents narrow DeleteOptions/WatchEvent to their own group-version (from 1.36;
			// 1.32 lists all): the union is the full list the apiserver narrows again.
			for _, gvk := range gvks {
				if !slices.Contains(s.gvks[key], gvk) {
					s.gvks[key] = append(s.gvks[key], gvk)
				}
			}
			if _, seen := s.schemas[key]; !seen {
				s.schemas[key] = sch
			}
		}
	}
	for _, gvks := range s.gvks { // the order openapinamer.DefinitionNamer uses
		slices.SortFunc(gvks, func(a, b schema.GroupVersionKind) int {
			return strings.Compare(a.Group+"\x00"+a.Version+"\x00"+a.Kind, b.Group+"\x00"+b.Version+"\x00"+b.Kind)
		})
	}
	s.deps = dependencies(s.schemas)
	return nil
}

// takeGVKs removes x-kubernetes-group-version-kind from a freshly parsed schema and returns it.
// An emptied extension map becomes nil so the builder allocates its own rather than writing into ours.
func takeGVKs(s *spec.Schema) ([]schema.GroupVersionKind, error) {
	raw, ok := s.Extensions[extensionGVK]
	if !ok {
		return nil, nil
	}
	delete(s.Extensions, extensionGVK)
	if len(s.Extensions) == 0 {
		s.Extensions = nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var gvks []schema.GroupVersionKind
	if err := json.Unmarshal(b, &gvks); err != nil {
		return nil, fmt.Errorf("%s: %w", extensionGVK, err)
	}
	return gvks, nil
}

// dependencies lists, per schema, the definitions its $refs name.
func dependencies(schemas map[string]*spec.Schema) map[string][]string {
	deps := make(map[string][]string, len(schemas))
	for name, s := range schemas {
		var names []string
		w := schemamutation.Walker{SchemaCallback: schemamutation.SchemaCallBackNoop, RefCallback: func(r *spec.Ref) *spec.Ref {
			if n, ok := refName(r); ok && !slices.Contains(names, n) {
				names = append(names, n)
			}
			return r
		}}
		w.WalkSchema(s)
		slices.Sort(names)
		deps[name] = names
	}
	return deps
}

// refName extracts the definition name from a local $ref of either document kind.
func refName(r *spec.Ref) (string, bool) {
	s := r.String()
	for _, prefix := range []string{"#/definitions/", "#/components/schemas/"} {
		if name, ok := strings.CutPrefix(s, prefix); ok {
			return strings.NewReplacer("~1", "/", "~0", "~").Replace(name), true
		}
	}
	return "", false
}

// definitions rewrites every $ref through the builder's callback (a no-op copy-free walk when the
// prefix already matches) and returns the schemas with their dependencies.
func definitions(s *openAPIState, ref openapicommon.ReferenceCallback) map[string]openapicommon.OpenAPIDefinition {
	w := schemamutation.Walker{SchemaCallback: schemamutation.SchemaCallBackNoop, RefCallback: func(r *spec.Ref) *spec.Ref {
		name, ok := refName(r)
		if !ok {
			return r
		}
		if nr := ref(name); nr.String() != r.String() {
			return &nr
		}
		return r
	}}
	out := make(map[string]openapicommon.OpenAPIDefinition, len(s.schemas))
	for name, sch := range s.schemas {
		def := *w.WalkSchema(sch)
		// The builders add the namer's extensions into this map; keep the parsed one untouched.
		def.Extensions = maps.Clone(def.Extensions)
		out[name] = openapicommon.OpenAPIDefinition{Schema: def, Dependencies: s.deps[name]}
	}
	return out
}
