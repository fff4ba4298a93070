package apidocs

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	restful "github.com/emicklei/go-restful/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/mux"
	"k8s.io/apiserver/pkg/server/routes"
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

func TestOpenAPIDefinitions(t *testing.T) {
	for _, minor := range Minors() {
		d := mustDocs(t, minor)
		for _, tc := range []struct {
			name   string
			prefix string
			hasGVK bool // the GVK extension stays in v2 schemas and moves to the namer for v3
		}{
			{name: "v2", prefix: "#/definitions/", hasGVK: true},
			{name: "v3", prefix: "#/components/schemas/"},
		} {
			t.Run(minor+"/"+tc.name, func(t *testing.T) {
				get := d.OpenAPIV2Definitions()
				if tc.name == "v3" {
					get = d.OpenAPIV3Definitions()
				}
				defs := get(func(name string) spec.Ref { return spec.MustCreateRef(tc.prefix + name) })
				pod, ok := defs[podName]
				if !ok {
					t.Fatalf("no %s among %d definitions", podName, len(defs))
				}
				for _, dep := range []string{"io.k8s.api.core.v1.PodSpec", "io.k8s.api.core.v1.PodStatus", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"} {
					if !slices.Contains(pod.Dependencies, dep) {
						t.Errorf("Pod dependencies %v lack %s", pod.Dependencies, dep)
					}
				}
				if ref := pod.Schema.Properties["spec"].Ref; ref.String() != tc.prefix+"io.k8s.api.core.v1.PodSpec" &&
					pod.Schema.Properties["spec"].AllOf[0].Ref.String() != tc.prefix+"io.k8s.api.core.v1.PodSpec" {
					t.Errorf("Pod .spec ref = %q", ref.String())
				}
				for name, def := range defs { // the builder resolves dependencies recursively
					for _, dep := range def.Dependencies {
						if _, ok := defs[dep]; !ok {
							t.Errorf("%s depends on missing %s", name, dep)
						}
					}
				}
				if _, has := pod.Schema.Extensions[extensionGVK]; has != tc.hasGVK {
					t.Errorf("Pod schema has %s: %v", extensionGVK, has)
				}

				// A callback with another prefix rewrites refs without touching the parsed schemas.
				other := get(func(name string) spec.Ref { return spec.MustCreateRef("#/other/" + name) })
				if ref := other[podName].Schema.Properties["metadata"]; ref.Ref.String() != "#/other/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" &&
					ref.AllOf[0].Ref.String() != "#/other/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
					t.Errorf("rewritten ref: %+v", ref)
				}
				again := get(func(name string) spec.Ref { return spec.MustCreateRef(tc.prefix + name) })
				if !reflect.DeepEqual(again[podName], pod) {
					t.Error("a second GetDefinitions call differs from the first")
				}
			})
		}
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

// TestServedOpenAPI wires the definitions into the apiserver's own OpenAPI installers the way
// the shared server does and compares what they serve with the published documents.
func TestServedOpenAPI(t *testing.T) {
	for _, minor := range Minors() {
		t.Run(minor, func(t *testing.T) {
			d := mustDocs(t, minor)
			container := restful.NewContainer()
			container.Add(webService("/apis/apps/v1", "AppsV1", "deployments", appsv1.Deployment{}))
			container.Add(webService("/apis/batch/v1", "BatchV1", "jobs", batchv1.Job{}))
			container.Add(webService("/api/v1", "CoreV1", "pods", corev1.Pod{}))

			v2 := genericapiserver.DefaultOpenAPIConfig(d.OpenAPIV2Definitions(), openapinamer.NewDefinitionNamer())
			v3 := genericapiserver.DefaultOpenAPIV3Config(d.OpenAPIV3Definitions(), openapinamer.NewDefinitionNamer())
			v3.GetDefinitionName = d.OpenAPIV3DefinitionNamer()
			m := mux.NewPathRecorderMux("test")
			routes.OpenAPI{Config: v2, V3Config: v3}.InstallV2(container, m)
			routes.OpenAPI{Config: v2, V3Config: v3}.InstallV3(container, m)

			// v2: every served definition equals swagger.json's, GVK extension included.
			var published, served struct{ Definitions map[string]any }
			mustUnmarshal(t, mustGz(t, minor, "openapi/swagger.json"), &published)
			mustUnmarshal(t, get(t, m, "/openapi/v2"), &served)
			compareSchemas(t, "v2", served.Definitions, published.Definitions, 40)

			// v3: each group-version document equals the published one; DeleteOptions carries
			// only its own group-version and core v1, however many documents were built after it.
			for _, tc := range []struct{ path, file, group string }{
				{"apis/apps/v1", "apis__apps__v1", "apps"},
				{"apis/batch/v1", "apis__batch__v1", "batch"},
				{"api/v1", "api__v1", ""},
			} {
				var pub, srv struct {
					Components struct{ Schemas map[string]any }
				}
				mustUnmarshal(t, mustGz(t, minor, "openapi/v3/"+tc.file+"_openapi.json"), &pub)
				mustUnmarshal(t, get(t, m, "/openapi/v3/"+tc.path), &srv)
				gvks := srv.Components.Schemas[deleteOptionsName].(map[string]any)[extensionGVK].([]any)
				want := []any{map[string]any{"group": "", "version": "v1", "kind": "DeleteOptions"}}
				if tc.group != "" {
					want = append(want, map[string]any{"group": tc.group, "version": "v1", "kind": "DeleteOptions"})
				}
				if !reflect.DeepEqual(gvks, want) {
					t.Errorf("%s DeleteOptions kinds = %v, want %v", tc.path, gvks, want)
				}
				if minor == "1.32" { // its documents predate the narrowing the v0.37 library does
					delete(srv.Components.Schemas, deleteOptionsName)
					delete(srv.Components.Schemas, "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent")
				}
				compareSchemas(t, tc.path, srv.Components.Schemas, pub.Components.Schemas, 20)
			}
		})
	}
}

// webService serves GET and DELETE of one resource, enough to pull in its kind, DeleteOptions
// and Status like a real group-version's routes.
func webService(root, op, resource string, sample any) *restful.WebService {
	noop := func(*restful.Request, *restful.Response) {}
	ws := new(restful.WebService).Path(root).Produces("application/json").Consumes("application/json")
	path := "/namespaces/{namespace}/" + resource + "/{name}"
	ns, name := ws.PathParameter("namespace", "namespace"), ws.PathParameter("name", "name")
	ws.Route(ws.GET(path).To(noop).Operation("read"+op+"Namespaced").Param(ns).Param(name).Writes(sample).Returns(http.StatusOK, "OK", sample))
	ws.Route(ws.DELETE(path).To(noop).Operation("delete"+op+"Namespaced").Param(ns).Param(name).Reads(metav1.DeleteOptions{}).Returns(http.StatusOK, "OK", metav1.Status{}))
	return ws
}

func compareSchemas(t *testing.T, what string, served, published map[string]any, atLeast int) {
	t.Helper()
	if len(served) < atLeast {
		t.Errorf("%s: only %d schemas served", what, len(served))
	}
	for name, s := range served {
		if !reflect.DeepEqual(s, published[name]) {
			a, _ := json.Marshal(s)
			b, _ := json.Marshal(published[name])
			t.Errorf("%s: %s differs from the published document:\nserved    %.600s\npublished %.600s", what, name, a, b)
		}
	}
}

func get(t *testing.T, h http.Handler, path string) []byte {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Accept", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	return w.Body.Bytes()
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
