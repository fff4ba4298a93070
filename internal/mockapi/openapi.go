package mockapi

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/sirupsen/logrus"
	"k8s.io/apiserver/pkg/server/mux"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

// openAPI serves /openapi/v2 and /openapi/v3 from the release's published documents through
// kube-openapi's own handlers, so negotiation (JSON, protobuf, gzip on v2), ETags and 304s and the
// v3 hash URLs behave as on a kube-apiserver. Building them from the routes, as PrepareRun does,
// held ~22 MB of heap per version and cost ~0.3 s of start-up; here nothing is parsed until the
// first request of an endpoint. That request parses every document of the endpoint once, lets the
// handler turn it into JSON, then drops the parsed form: what stays is the handlers' bytes.
type openAPI struct {
	log *logrus.Entry

	v2     *handler.OpenAPIService
	v2Doc  *lazyDoc[spec.Swagger]
	v2Once sync.Once

	v3     *handler3.OpenAPIService
	v3Docs map[string]*lazyDoc[spec3.OpenAPI] // by path under /openapi/v3
	v3Once sync.Once
}

// installOpenAPI registers /openapi/v2 and /openapi/v3 (index and per-path documents) on m.
func installOpenAPI(m *mux.PathRecorderMux, docs *apidocs.Docs, log *logrus.Entry) (*openAPI, error) {
	paths, err := docs.OpenAPIV3Paths()
	if err != nil {
		return nil, fmt.Errorf("openapi v3: %w", err)
	}
	o := &openAPI{log: log, v3Docs: make(map[string]*lazyDoc[spec3.OpenAPI], len(paths))}

	o.v2Doc = &lazyDoc[spec.Swagger]{etag: docs.GitVersion + " swagger.json", parse: func() (*spec.Swagger, error) {
		s, err := docs.OpenAPIV2()
		if err != nil {
			return nil, err
		}
		// As routes.OpenAPI.InstallV2 does; the published definitions carry no defaults, so this is
		// normally a no-op.
		s.Definitions = handler.PruneDefaults(s.Definitions)
		return s, nil
	}}
	o.v2 = handler.NewOpenAPIServiceLazy(o.v2Doc)
	o.v2.RegisterOpenAPIVersionedService("/openapi/v2", warmingMux{m, o.warmV2})

	o.v3 = handler3.NewOpenAPIService()
	for _, p := range paths {
		doc := &lazyDoc[spec3.OpenAPI]{etag: docs.GitVersion + " " + p, parse: func() (*spec3.OpenAPI, error) { return docs.OpenAPIV3(p) }}
		o.v3Docs[p] = doc
		o.v3.UpdateGroupVersionLazy(p, doc)
	}
	if err := o.v3.RegisterOpenAPIV3VersionedService("/openapi/v3", warmingMux{m, o.warmV3}); err != nil {
		return nil, fmt.Errorf("openapi v3: %w", err)
	}
	return o, nil
}

// warmV2 has the v2 handler encode its JSON (protobuf is derived from that JSON), then drops the
// parsed swagger. Concurrent first requests wait for it.
func (o *openAPI) warmV2(h http.Handler) {
	o.v2Once.Do(func() {
		if err := warm(h, "/openapi/v2"); err != nil {
			o.log.WithError(err).Error("openapi v2")
			return
		}
		o.v2Doc.release()
	})
}

// warmV3 has the v3 handler encode each document in turn, dropping each parse before the next, so
// at most one parsed document is alive (the index, which needs every hash, would parse them all
// at once). The index is then merged from the cached JSON.
func (o *openAPI) warmV3(http.Handler) {
	o.v3Once.Do(func() {
		for p, doc := range o.v3Docs {
			if err := warm(http.HandlerFunc(o.v3.HandleGroupVersion), "/openapi/v3/"+p); err != nil {
				o.log.WithError(err).Errorf("openapi v3 %s", p)
				continue
			}
			doc.release()
		}
	})
}

// warm sends h a GET for path's JSON and reports whether it was served.
func warm(h http.Handler, path string) error {
	r, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	r.Header.Set("Accept", "application/json")
	w := &discardWriter{header: http.Header{}}
	h.ServeHTTP(w, r)
	if w.code != http.StatusOK || w.n == 0 {
		return fmt.Errorf("GET %s: status %d, %d bytes", path, w.code, w.n)
	}
	return nil
}

// warmingMux registers kube-openapi's handlers on the apiserver's mux behind a first-use step.
type warmingMux struct {
	m    *mux.PathRecorderMux
	warm func(http.Handler)
}

func (w warmingMux) Handle(path string, h http.Handler) { w.m.Handle(path, w.wrap(h)) }

func (w warmingMux) HandlePrefix(path string, h http.Handler) { w.m.HandlePrefix(path, w.wrap(h)) }

func (w warmingMux) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.warm(h)
		h.ServeHTTP(rw, r)
	})
}

// lazyDoc is the cached.Value a kube-openapi handler reads one document from: parsed on the first
// Get, under a fixed etag, so the handler encodes it once and from then on serves its own bytes.
type lazyDoc[T any] struct {
	etag  string
	parse func() (*T, error)

	once sync.Once
	doc  *T
	err  error
}

func (l *lazyDoc[T]) Get() (*T, string, error) {
	l.once.Do(func() { l.doc, l.err = l.parse() })
	return l.doc, l.etag, l.err
}

// release empties the parsed document once the handler has encoded it. The handler keeps the
// pointer (cached.LastSuccess and the JSON transform's input) for its lifetime but reads it again
// only if the etag changes, which it never does; emptying it is what frees the parse.
func (l *lazyDoc[T]) release() {
	if l.doc != nil {
		*l.doc = *new(T)
	}
}

// discardWriter is the ResponseWriter of a warm-up request: status and size, no body.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(b)
	return len(b), nil
}
