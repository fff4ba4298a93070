package apidocs

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

const (
	podName           = "io.k8s.api.core.v1.Pod"
	deleteOptionsName = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
)

func mustDocs(t *testing.T, minor string) *Docs {
	t.Helper()
	d, err := Load(minor)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOpenAPIV3Definitions(t *testing.T) {
	const prefix = "#/components/schemas/"
	for _, minor := range Minors() {
		t.Run(minor, func(t *testing.T) {
			get := mustDocs(t, minor).OpenAPIV3Definitions()
			defs := get(func(name string) spec.Ref { return spec.MustCreateRef(prefix + name) })
			pod, ok := defs[podName]
			if !ok {
				t.Fatalf("no %s among %d definitions", podName, len(defs))
			}
			for _, dep := range []string{"io.k8s.api.core.v1.PodSpec", "io.k8s.api.core.v1.PodStatus", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"} {
				if !slices.Contains(pod.Dependencies, dep) {
					t.Errorf("Pod dependencies %v lack %s", pod.Dependencies, dep)
				}
			}
			if ref := pod.Schema.Properties["spec"].Ref; ref.String() != prefix+"io.k8s.api.core.v1.PodSpec" &&
				pod.Schema.Properties["spec"].AllOf[0].Ref.String() != prefix+"io.k8s.api.core.v1.PodSpec" {
				t.Errorf("Pod .spec ref = %q", ref.String())
			}
			for name, def := range defs { // the builder resolves dependencies recursively
				for _, dep := range def.Dependencies {
					if _, ok := defs[dep]; !ok {
						t.Errorf("%s depends on missing %s", name, dep)
					}
				}
			}
			// The GVK extension moves to the namer: the builder writes it into the schema.
			if _, has := pod.Schema.Extensions[extensionGVK]; has {
				t.Errorf("Pod schema has %s", extensionGVK)
			}

			// A callback with another prefix rewrites refs without touching the parsed schemas.
			other := get(func(name string) spec.Ref { return spec.MustCreateRef("#/other/" + name) })
			if ref := other[podName].Schema.Properties["metadata"]; ref.Ref.String() != "#/other/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" &&
				ref.AllOf[0].Ref.String() != "#/other/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
				t.Errorf("rewritten ref: %+v", ref)
			}
			again := get(func(name string) spec.Ref { return spec.MustCreateRef(prefix + name) })
			if !reflect.DeepEqual(again[podName], pod) {
				t.Error("a second GetDefinitions call differs from the first")
			}
		})
	}
}

func TestOpenAPIV3DefinitionNamer(t *testing.T) {
	namer := mustDocs(t, "1.36").OpenAPIV3DefinitionNamer()
	name, ext := namer(podName)
	want := []interface{}{map[string]interface{}{"group": "", "version": "v1", "kind": "Pod"}}
	if name != podName || !reflect.DeepEqual(ext[extensionGVK], want) {
		t.Fatalf("namer(Pod) = %q %v", name, ext)
	}
	ext[extensionGVK].([]interface{})[0].(map[string]interface{})["group"] = "mutated"
	if _, again := namer(podName); !reflect.DeepEqual(again[extensionGVK], want) {
		t.Fatal("namer hands out shared extension values")
	}
	if name, ext := namer("io.k8s.api.core.v1.PodSpec"); name != "io.k8s.api.core.v1.PodSpec" || ext != nil {
		t.Fatalf("namer(PodSpec) = %q %v", name, ext)
	}
	_, ext = namer(deleteOptionsName)
	gvks := ext[extensionGVK].([]interface{})
	if len(gvks) < 20 || !slices.ContainsFunc(gvks, func(g interface{}) bool { return g.(map[string]interface{})["group"] == "batch" }) {
		t.Fatalf("DeleteOptions kinds: %v", gvks)
	}
}

func mustGz(t *testing.T, minor, name string) []byte {
	t.Helper()
	b, err := readGz(minor, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
