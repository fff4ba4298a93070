package apidocs

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
)

// TestOpenAPIV2 checks the served swagger.json against the published one: the served paths and
// every definition they reach are kept as published (CBOR aside), the paths of group-versions a default
// cluster does not serve are gone, and the definitions left are those of the v3 documents.
func TestOpenAPIV2(t *testing.T) {
	for _, tc := range []struct {
		minor      string
		served     []string // paths that must stay
		dropped    []string // alpha/beta paths that must go
		atLeast    int      // paths
		definition string   // a definition only dropped paths reach
	}{
		{
			minor:      "1.36",
			served:     []string{"/api/v1/namespaces/{namespace}/pods/{name}/exec", "/apis/apps/v1/namespaces/{namespace}/deployments", "/apis/", "/apis/apps/", "/version/", "/openid/v1/jwks/"},
			dropped:    []string{"/apis/resource.k8s.io/v1beta1/deviceclasses", "/apis/internal.apiserver.k8s.io/", "/apis/coordination.k8s.io/v1alpha2/leasecandidates"},
			atLeast:    400,
			definition: "io.k8s.api.coordination.v1alpha2.LeaseCandidate",
		},
		{
			minor:      "1.32",
			served:     []string{"/api/v1/pods", "/apis/batch/v1/jobs", "/apis/"},
			dropped:    []string{"/apis/resource.k8s.io/v1beta1/deviceclasses"},
			atLeast:    350,
			definition: "io.k8s.api.resource.v1beta1.DeviceClass",
		},
	} {
		t.Run(tc.minor, func(t *testing.T) {
			d := mustDocs(t, tc.minor)
			doc, err := d.OpenAPIV2()
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var served, published struct {
				Paths, Definitions, Parameters map[string]any
			}
			mustUnmarshal(t, b, &served)
			mustUnmarshal(t, mustGz(t, tc.minor, "openapi/swagger.json"), &published)
			withoutCBOR(published.Paths)

			if len(served.Paths) < tc.atLeast {
				t.Errorf("%d paths served", len(served.Paths))
			}
			for p, item := range published.Paths {
				_, ok := served.Paths[p]
				if ok != d.servesPath(p) {
					t.Errorf("path %s served: %v", p, ok)
				} else if ok && !reflect.DeepEqual(item, served.Paths[p]) {
					t.Errorf("path %s differs from the published one", p)
				}
			}
			for _, p := range tc.served {
				if _, ok := served.Paths[p]; !ok {
					t.Errorf("path %s missing", p)
				}
			}
			for _, p := range tc.dropped {
				if _, ok := served.Paths[p]; ok {
					t.Errorf("path %s served", p)
				}
			}

			v3 := map[string]bool{}
			for name := range d.parsedV3().schemas {
				v3[name] = true
			}
			if got, want := slices.Sorted(maps.Keys(served.Definitions)), slices.Sorted(maps.Keys(v3)); !slices.Equal(got, want) {
				t.Errorf("%d definitions served, the v3 documents have %d", len(got), len(want))
			}
			if _, ok := served.Definitions[tc.definition]; ok {
				t.Errorf("%s served", tc.definition)
			}
			for name, def := range served.Definitions {
				if !reflect.DeepEqual(def, published.Definitions[name]) {
					t.Errorf("definition %s differs from the published one", name)
				}
			}
			if !reflect.DeepEqual(served.Parameters, published.Parameters) { // all are used by served paths
				t.Errorf("%d shared parameters served, %d published", len(served.Parameters), len(published.Parameters))
			}

			// Everything outside paths, definitions and parameters is as published.
			var top, pub map[string]any
			mustUnmarshal(t, b, &top)
			mustUnmarshal(t, mustGz(t, tc.minor, "openapi/swagger.json"), &pub)
			for _, m := range []map[string]any{top, pub} {
				delete(m, "paths")
				delete(m, "definitions")
				delete(m, "parameters")
			}
			if !reflect.DeepEqual(top, pub) {
				t.Errorf("served %v, published %v", top, pub)
			}
		})
	}
}
