package mockapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	"k8s.io/apiserver/pkg/server/mux"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

const (
	protoV2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	protoV3 = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
)

// newTestOpenAPI installs the OpenAPI endpoints of minor on a mux of their own.
func newTestOpenAPI(t *testing.T, minor string) (*openAPI, *apidocs.Docs, http.Handler) {
	t.Helper()
	docs, err := apidocs.Load(minor)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	m := mux.NewPathRecorderMux("test")
	o, err := installOpenAPI(m, docs, logrus.NewEntry(log))
	if err != nil {
		t.Fatal(err)
	}
	return o, docs, m
}

func serve(h http.Handler, path string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func etagOf(b []byte) string { return fmt.Sprintf("%X", sha512.Sum512(b)) }

// TestOpenAPIServing walks one fresh service through what clients do, in order: nothing is parsed
// before the first request, v3 never parses swagger.json, and the parsed documents are dropped
// once encoded without changing what is served afterwards.
func TestOpenAPIServing(t *testing.T) {
	o, docs, h := newTestOpenAPI(t, "1.36")
	if o.v2Doc.doc != nil {
		t.Fatal("swagger.json parsed before any request")
	}
	for p, d := range o.v3Docs {
		if d.doc != nil {
			t.Fatalf("%s parsed before any request", p)
		}
	}

	var (
		hash   string // of apis/apps/v1, from the index
		v3JSON []byte // apis/apps/v1
		v2JSON []byte
		v2ETag string
	)
	for _, tc := range []struct {
		name     string
		path     func() string
		header   func() map[string]string
		wantCode int
		wantType string
		check    func(t *testing.T, w *httptest.ResponseRecorder)
	}{
		{
			name: "v3 index", path: fixed("/openapi/v3"), wantCode: 200, wantType: "application/json",
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				var idx handler3.OpenAPIV3Discovery
				mustDecode(t, w.Body.Bytes(), &idx)
				want, _ := docs.OpenAPIV3Paths()
				var got []string
				for p, gv := range idx.Paths {
					got = append(got, p)
					if !strings.HasPrefix(gv.ServerRelativeURL, "/openapi/v3/"+p+"?hash=") {
						t.Errorf("%s: %s", p, gv.ServerRelativeURL)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("index lists %v, want %v", got, want)
				}
				hash = strings.TrimPrefix(idx.Paths["apis/apps/v1"].ServerRelativeURL, "/openapi/v3/apis/apps/v1?hash=")
				for p, d := range o.v3Docs {
					if d.doc == nil || !reflect.DeepEqual(*d.doc, spec3.OpenAPI{}) {
						t.Errorf("%s not released after encoding", p)
					}
				}
				if o.v2Doc.doc != nil {
					t.Error("swagger.json parsed for /openapi/v3")
				}
			},
		},
		{
			name: "v3 document by hash", path: func() string { return "/openapi/v3/apis/apps/v1?hash=" + hash },
			wantCode: 200, wantType: "application/json",
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				v3JSON = w.Body.Bytes()
				if got := etagOf(v3JSON); got != hash {
					t.Errorf("hash %s, body hashes to %s", hash, got)
				}
				if got := w.Header().Get("Etag"); got != strconv.Quote(hash) {
					t.Errorf("ETag %s", got)
				}
				if got := w.Header().Get("Cache-Control"); got != "public, immutable" {
					t.Errorf("Cache-Control %q", got)
				}
				published, err := docs.OpenAPIV3("apis/apps/v1")
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, v3JSON, published)
			},
		},
		{
			name: "v3 document, stale hash", path: fixed("/openapi/v3/apis/apps/v1?hash=0123"), wantCode: http.StatusMovedPermanently,
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				if got := w.Header().Get("Location"); got != "/openapi/v3/apis/apps/v1?hash="+hash {
					t.Errorf("Location %s", got)
				}
			},
		},
		{
			name: "v3 document, If-None-Match", path: fixed("/openapi/v3/apis/apps/v1"),
			header:   func() map[string]string { return map[string]string{"If-None-Match": strconv.Quote(hash)} },
			wantCode: http.StatusNotModified,
		},
		{
			name: "v3 document, protobuf", path: fixed("/openapi/v3/apis/apps/v1"), header: accept(protoV3),
			wantCode: 200, wantType: "application/com.github.proto-openapi.spec.v3.v1.0+protobuf",
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				want, err := handler3.ToV3ProtoBinary(v3JSON)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(w.Body.Bytes(), want) {
					t.Error("protobuf differs from the JSON document's")
				}
			},
		},
		{
			name: "v3 non-group-version document", path: fixed("/openapi/v3/version"), wantCode: 200, wantType: "application/json",
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				published, err := docs.OpenAPIV3("version")
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, w.Body.Bytes(), published)
			},
		},
		{
			name: "v2 JSON", path: fixed("/openapi/v2"), header: accept("application/json"), wantCode: 200, wantType: "application/json",
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				v2JSON, v2ETag = w.Body.Bytes(), w.Header().Get("Etag")
				if v2ETag != strconv.Quote(etagOf(v2JSON)) {
					t.Errorf("ETag %s", v2ETag)
				}
				published, err := docs.OpenAPIV2()
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, v2JSON, published)
				var doc spec.Swagger
				mustDecode(t, v2JSON, &doc)
				if _, ok := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments"]; !ok {
					t.Error("no deployments path")
				}
				if _, ok := doc.Paths.Paths["/apis/resource.k8s.io/v1beta1/deviceclasses"]; ok {
					t.Error("a beta path is served")
				}
				if o.v2Doc.doc == nil || !reflect.DeepEqual(*o.v2Doc.doc, spec.Swagger{}) {
					t.Error("swagger.json not released after encoding")
				}
			},
		},
		{
			name: "v2 protobuf", path: fixed("/openapi/v2"), header: accept(protoV2),
			wantCode: 200, wantType: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				want, err := handler.ToProtoBinary(v2JSON)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(w.Body.Bytes(), want) {
					t.Error("protobuf differs from the JSON document's")
				}
			},
		},
		{
			name: "v2 gzip", path: fixed("/openapi/v2"),
			header: func() map[string]string {
				return map[string]string{"Accept": "application/json", "Accept-Encoding": "gzip"}
			},
			wantCode: 200, wantType: "application/json",
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				if got := w.Header().Get("Content-Encoding"); got != "gzip" {
					t.Fatalf("Content-Encoding %q", got)
				}
				zr, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, v2JSON) {
					t.Error("gzipped body differs")
				}
			},
		},
		{
			name: "v2 If-None-Match", path: fixed("/openapi/v2"),
			header: func() map[string]string {
				return map[string]string{"Accept": "application/json", "If-None-Match": v2ETag}
			},
			wantCode: http.StatusNotModified,
		},
		{name: "v2 not acceptable", path: fixed("/openapi/v2"), header: accept("text/plain"), wantCode: http.StatusNotAcceptable},
		{
			name: "v2 JSON again", path: fixed("/openapi/v2"), wantCode: 200, wantType: "application/json",
			check: func(t *testing.T, w *httptest.ResponseRecorder) {
				if !bytes.Equal(w.Body.Bytes(), v2JSON) {
					t.Error("second response differs from the first")
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var header map[string]string
			if tc.header != nil {
				header = tc.header()
			}
			w := serve(h, tc.path(), header)
			if w.Code != tc.wantCode {
				t.Fatalf("status %d, want %d: %.200s", w.Code, tc.wantCode, w.Body)
			}
			if got := w.Header().Get("Content-Type"); tc.wantType != "" && got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
			if tc.check != nil {
				tc.check(t, w)
			}
		})
	}
}

// TestOpenAPIFirstUse sends concurrent first requests of every kind to a fresh service: each waits
// for the one parse and all get the same bytes.
func TestOpenAPIFirstUse(t *testing.T) {
	_, _, h := newTestOpenAPI(t, "1.32")
	requests := []struct {
		path   string
		accept string
	}{
		{"/openapi/v2", "application/json"},
		{"/openapi/v2", protoV2},
		{"/openapi/v3", "application/json"},
		{"/openapi/v3/api/v1", "application/json"},
		{"/openapi/v3/apis/batch/v1", protoV3},
	}
	const each = 6
	bodies := make([][][]byte, len(requests))
	for i := range bodies {
		bodies[i] = make([][]byte, each)
	}
	var wg sync.WaitGroup
	for i, rq := range requests {
		for j := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := serve(h, rq.path, map[string]string{"Accept": rq.accept})
				if w.Code != http.StatusOK || w.Body.Len() == 0 {
					t.Errorf("GET %s (%s): %d, %d bytes", rq.path, rq.accept, w.Code, w.Body.Len())
				}
				bodies[i][j] = w.Body.Bytes()
			}()
		}
	}
	wg.Wait()
	for i, rq := range requests {
		for j := 1; j < each; j++ {
			if !bytes.Equal(bodies[i][j], bodies[i][0]) {
				t.Errorf("GET %s (%s): responses differ", rq.path, rq.accept)
			}
		}
	}
}

// TestOpenAPIWired checks the endpoints through a cluster's real handler chain with client-go,
// after InstallAPIGroups has built the type converters from the v3 definitions: the served
// documents keep their own x-kubernetes-group-version-kind lists (the shared-map trap).
func TestOpenAPIWired(t *testing.T) {
	_, cfg := testCluster(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	v2, err := cs.Discovery().OpenAPISchema() // protobuf, as kubectl and Rancher ask for it
	if err != nil {
		t.Fatal(err)
	}
	docs, err := apidocs.Load(apidocs.DefaultMinor)
	if err != nil {
		t.Fatal(err)
	}
	published, err := docs.OpenAPIV2()
	if err != nil {
		t.Fatal(err)
	}
	if len(v2.GetPaths().GetPath()) != len(published.Paths.Paths) || len(v2.GetDefinitions().GetAdditionalProperties()) != len(published.Definitions) {
		t.Errorf("/openapi/v2 has %d paths and %d definitions, want the published %d and %d",
			len(v2.GetPaths().GetPath()), len(v2.GetDefinitions().GetAdditionalProperties()), len(published.Paths.Paths), len(published.Definitions))
	}

	paths, err := cs.Discovery().OpenAPIV3().Paths()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, group string }{{"api/v1", ""}, {"apis/apps/v1", "apps"}, {"apis/batch/v1", "batch"}} {
		gv, ok := paths[tc.path]
		if !ok {
			t.Fatalf("no %s in /openapi/v3", tc.path)
		}
		b, err := gv.Schema("application/json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Components struct{ Schemas map[string]map[string]any }
		}
		mustDecode(t, b, &doc)
		got := doc.Components.Schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]["x-kubernetes-group-version-kind"]
		want := []any{map[string]any{"group": "", "version": "v1", "kind": "DeleteOptions"}}
		if tc.group != "" {
			want = append(want, map[string]any{"group": tc.group, "version": "v1", "kind": "DeleteOptions"})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s DeleteOptions kinds = %v, want %v", tc.path, got, want)
		}
	}
	if _, err := cs.Discovery().RESTClient().Get().AbsPath("/openapi/v2").DoRaw(context.Background()); err != nil {
		t.Errorf("GET /openapi/v2: %v", err)
	}
}

func fixed(p string) func() string { return func() string { return p } }

func accept(mediaType string) func() map[string]string {
	return func() map[string]string { return map[string]string{"Accept": mediaType} }
}

func mustDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// sameJSON compares a served body with a document as generic JSON.
func sameJSON(t *testing.T, served []byte, doc any) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	mustDecode(t, served, &got)
	mustDecode(t, b, &want)
	if !reflect.DeepEqual(got, want) {
		t.Error("served document differs from the published one")
	}
}
