package apidocs_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

const (
	acceptV2      = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	acceptV2beta1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
	acceptV2PB    = "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	protobuf      = "application/vnd.kubernetes.protobuf"
	// kubectl 1.32's discovery Accept header
	acceptKubectl = acceptV2 + "," + acceptV2beta1 + ",application/json"
)

// decoder reads every response shape a discovery client may get.
var decoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	for _, add := range []func(*runtime.Scheme) error{apidiscoveryv2.AddToScheme, apidiscoveryv2beta1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(s).UniversalDeserializer()
}()

func serve(t *testing.T, minor, method, target, accept string, header ...string) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	r := httptest.NewRequest(method, "https://10.1.2.3:6443"+target, nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	return w, mustLoad(t, minor).ServeDiscovery(w, r)
}

func TestNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name, minor, path, accept string
		status                    int
		contentType               string
		kind                      string // decoded kind; "" for no body check
		items                     int    // groups in APIGroupList/APIGroupDiscoveryList, versions in APIGroup
	}{
		{"apis legacy json", "1.36", "/apis", "", 200, "application/json", "APIGroupList", 20},
		{"apis legacy protobuf", "1.36", "/apis", protobuf + ",application/json", 200, protobuf, "APIGroupList", 20},
		{"apis aggregated", "1.36", "/apis", acceptV2, 200, acceptV2, "APIGroupDiscoveryList", 20},
		{"apis aggregated kubectl", "1.36", "/apis", acceptKubectl, 200, acceptV2, "APIGroupDiscoveryList", 20},
		{"apis aggregated protobuf", "1.36", "/apis", acceptV2PB, 200, acceptV2PB, "APIGroupDiscoveryList", 20},
		{"apis v2beta1 gone in 1.36", "1.36", "/apis", acceptV2beta1, 406, "application/json", "Status", 0},
		{"apis v2beta1 falls back to legacy", "1.36", "/apis", acceptV2beta1 + ",application/json", 200, "application/json", "APIGroupList", 20},
		{"apis v2beta1 in 1.32", "1.32", "/apis", acceptV2beta1, 200, acceptV2beta1, "APIGroupDiscoveryList", 19},
		{"apis trailing slash is legacy only", "1.36", "/apis/", acceptKubectl, 200, "application/json", "APIGroupList", 20},
		{"apis yaml", "1.36", "/apis", "application/yaml", 200, "application/yaml", "APIGroupList", 20},
		{"api aggregated", "1.36", "/api", acceptV2, 200, acceptV2, "APIGroupDiscoveryList", 1},
		{"api aggregated protobuf", "1.32", "/api", acceptV2PB, 200, acceptV2PB, "APIGroupDiscoveryList", 1},
		{"api legacy protobuf", "1.36", "/api", protobuf, 200, protobuf, "APIVersions", 0},
		{"api v1", "1.36", "/api/v1", "", 200, "application/json", "APIResourceList", 0},
		{"api v1 ignores aggregated", "1.36", "/api/v1/", acceptKubectl, 200, "application/json", "APIResourceList", 0},
		{"api v1 aggregated only", "1.36", "/api/v1", acceptV2, 406, "application/json", "Status", 0},
		{"group", "1.36", "/apis/resource.k8s.io", "", 200, "application/json", "APIGroup", 1},
		{"group two versions", "1.36", "/apis/autoscaling/", protobuf, 200, protobuf, "APIGroup", 2},
		{"group-version", "1.36", "/apis/apps/v1", protobuf, 200, protobuf, "APIResourceList", 0},
		{"unknown group", "1.36", "/apis/example.com", "", 404, "application/json", "Status", 0},
		{"alpha-only group", "1.36", "/apis/storagemigration.k8s.io", "", 404, "application/json", "Status", 0},
		{"beta version", "1.36", "/apis/resource.k8s.io/v1beta1", "", 404, "application/json", "Status", 0},
		{"beta version 1.32", "1.32", "/apis/authentication.k8s.io/v1beta1", protobuf, 404, protobuf, "Status", 0},
		{"unknown core version", "1.36", "/api/v2", "", 404, "application/json", "Status", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, handled := serve(t, tc.minor, http.MethodGet, tc.path, tc.accept)
			if !handled || w.Code != tc.status || w.Header().Get("Content-Type") != tc.contentType {
				t.Fatalf("handled %v, status %d, Content-Type %q; want %d %q\n%s", handled, w.Code, w.Header().Get("Content-Type"), tc.status, tc.contentType, w.Body)
			}
			// kube-apiserver omits apiVersion on core discovery types; clients decode them typed.
			obj, gvk, err := decoder.Decode(w.Body.Bytes(), &schema.GroupVersionKind{Version: "v1", Kind: tc.kind}, nil)
			if err != nil || gvk.Kind != tc.kind {
				t.Fatalf("decoded %v (%v), want %s", gvk, err, tc.kind)
			}
			n := -1
			switch o := obj.(type) {
			case *metav1.APIGroupList:
				n = len(o.Groups)
			case *apidiscoveryv2.APIGroupDiscoveryList:
				n = len(o.Items)
			case *apidiscoveryv2beta1.APIGroupDiscoveryList:
				n = len(o.Items)
			case *metav1.APIGroup:
				n = len(o.Versions)
			case *metav1.Status:
				if o.Code != int32(tc.status) || (tc.status == 404 && o.Reason != metav1.StatusReasonNotFound) {
					t.Errorf("Status %+v", o)
				}
			}
			if tc.items > 0 && n != tc.items {
				t.Errorf("%d items, want %d", n, tc.items)
			}
			if etag := w.Header().Get("ETag"); strings.Contains(tc.contentType, "as=APIGroupDiscoveryList") == (etag == "") {
				t.Errorf("ETag %q on %s", etag, tc.contentType)
			}
		})
	}
}

// TestExactBodies pins documents byte for byte where kube-apiserver's shape has quirks.
func TestExactBodies(t *testing.T) {
	for _, tc := range []struct{ path, prefix string }{
		// the address is the request's Host; no apiVersion, as kube-apiserver strips it
		{"/api", `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"10.1.2.3:6443"}]}` + "\n"},
		{"/api/v1", `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"bindings","singularName":"binding","namespaced":true,"kind":"Binding","verbs":["create"]},`},
		{"/apis", `{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apiregistration.k8s.io","versions":[{"groupVersion":"apiregistration.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apiregistration.k8s.io/v1","version":"v1"}},{"name":"apps",`},
		{"/apis/apps", `{"kind":"APIGroup","apiVersion":"v1","name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}` + "\n"},
		{"/apis/apps/v1", `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[{"name":"controllerrevisions","singularName":"controllerrevision","namespaced":true,"kind":"ControllerRevision","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"storageVersionHash":"85nkx63pcBU="},`},
		{"/apis/nope", `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}` + "\n"},
	} {
		w, _ := serve(t, "1.36", http.MethodGet, tc.path, "application/json")
		if !strings.HasPrefix(w.Body.String(), tc.prefix) {
			t.Errorf("GET %s =\n%.400s\nwant prefix\n%s", tc.path, w.Body, tc.prefix)
		}
	}

	// The core group's aggregated entry, built from api__v1.json like kube-apiserver builds it.
	w, _ := serve(t, "1.36", http.MethodGet, "/api", acceptV2)
	for _, want := range []string{
		`{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[{"metadata":{},"versions":[{"version":"v1","resources":[{"resource":"bindings","responseKind":{"group":"","version":"","kind":"Binding"},"scope":"Namespaced","singularResource":"binding","verbs":["create"]},`,
		`{"resource":"nodes","responseKind":{"group":"","version":"","kind":"Node"},"scope":"Cluster","singularResource":"node","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["no"],"subresources":[{"subresource":"proxy","responseKind":{"group":"","version":"","kind":"NodeProxyOptions"},"verbs":["create","delete","get","patch","update"]},{"subresource":"status","responseKind":{"group":"","version":"","kind":"Node"},"verbs":["get","patch","update"]}]}`,
		`{"subresource":"eviction","responseKind":{"group":"policy","version":"v1","kind":"Eviction"},"verbs":["create"]}`,
		`"categories":["all"]`,
		`],"freshness":"Current"}]}]}` + "\n",
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("aggregated /api lacks %s", want)
		}
	}
}

func TestAggregatedETag(t *testing.T) {
	w, _ := serve(t, "1.36", http.MethodGet, "/apis", acceptV2)
	etag := w.Header().Get("ETag")
	if len(etag) != 130 || w.Header().Get("Vary") != "Accept" || w.Header().Get("Cache-Control") != "public" {
		t.Fatalf("headers %v", w.Header())
	}
	w, _ = serve(t, "1.36", http.MethodGet, "/apis", acceptV2PB, "If-None-Match", etag)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Fatalf("If-None-Match: %d %q", w.Code, w.Body)
	}
	w, _ = serve(t, "1.36", http.MethodGet, "/api", acceptV2, "If-None-Match", etag)
	if w.Code != http.StatusOK || w.Header().Get("ETag") == etag {
		t.Fatalf("/api shares the /apis ETag: %d %v", w.Code, w.Header())
	}
}

func TestPrettyAndHEAD(t *testing.T) {
	w, _ := serve(t, "1.36", http.MethodGet, "/apis/apps?pretty=true", "")
	if !strings.HasPrefix(w.Body.String(), "{\n  \"kind\": \"APIGroup\",\n  \"apiVersion\": \"v1\",") {
		t.Errorf("pretty: %s", w.Body)
	}
	w, _ = serve(t, "1.36", http.MethodGet, "/api", acceptV2, "User-Agent", "curl/8.5.0")
	if !strings.HasPrefix(w.Body.String(), "{\n  \"kind\": \"APIGroupDiscoveryList\",") {
		t.Errorf("curl gets indented JSON, got %.80s", w.Body)
	}
	w, _ = serve(t, "1.36", http.MethodGet, "/api", "", "User-Agent", "curl/8.5.0")
	if !strings.Contains(w.Body.String(), `"serverAddress": "10.1.2.3:6443"`) {
		t.Errorf("pretty /api: %s", w.Body)
	}
	if w, _ := serve(t, "1.36", http.MethodHead, "/apis", acceptV2); w.Code != http.StatusOK {
		t.Errorf("HEAD: %d", w.Code)
	}
}

func TestNotDiscovery(t *testing.T) {
	for _, path := range []string{"/", "/version", "/healthz", "/openapi/v3", "/api/v1/nodes", "/api/v1/namespaces/default/pods",
		"/apis/apps/v1/deployments", "/apis/apps/v1/namespaces/x/deployments/y/scale", "/apiz", "/apisx"} {
		w, handled := serve(t, "1.36", http.MethodGet, path, "")
		if handled || w.Code != 200 || w.Body.Len() != 0 || len(w.Header()) != 0 {
			t.Errorf("%s: handled %v, wrote %d %v %q", path, handled, w.Code, w.Header(), w.Body)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		w, handled := serve(t, "1.36", method, "/apis/apps/v1", "")
		var status metav1.Status
		if err := json.Unmarshal(w.Body.Bytes(), &status); !handled || w.Code != 405 || err != nil ||
			status.Kind != "Status" || status.Reason != metav1.StatusReasonMethodNotAllowed || status.Code != 405 {
			t.Errorf("%s: handled %v, %d %s", method, handled, w.Code, w.Body)
		}
	}
}

// TestConcurrentFirstUse races the lazily encoded variants (run with -race).
func TestConcurrentFirstUse(t *testing.T) {
	var wg sync.WaitGroup
	bodies := make([][]string, 8)
	for i := range bodies {
		wg.Go(func() {
			for _, accept := range []string{"application/yaml", acceptV2beta1, acceptV2, "application/json"} {
				for _, path := range []string{"/apis?pretty=1", "/api", "/apis/batch/v1"} {
					w, _ := serve(t, "1.32", http.MethodGet, path, accept)
					bodies[i] = append(bodies[i], w.Body.String())
				}
			}
		})
	}
	wg.Wait()
	for i := range bodies {
		if !slices.Equal(bodies[i], bodies[0]) {
			t.Fatal("concurrent first use produced different bodies")
		}
	}
}

// BenchmarkServeDiscovery measures the hot paths: kubectl's aggregated /apis and a legacy
// group-version document.
func BenchmarkServeDiscovery(b *testing.B) {
	d := mustLoad(b, apidocs.DefaultMinor)
	for _, tc := range []struct{ name, path, accept string }{
		{"aggregated", "/apis", acceptKubectl},
		{"legacy", "/apis/apps/v1", "application/json, */*"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			r.Header.Set("Accept", tc.accept)
			b.ReportAllocs()
			for b.Loop() {
				w := discardWriter{h: http.Header{}}
				d.ServeDiscovery(&w, r)
			}
		})
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
