package apidocs

import (
	"net/http"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
)

// ServeDiscovery answers the discovery paths /api, /api/v1, /apis, /apis/<group> and
// /apis/<group>/<version> (with or without a trailing slash) as a kube-apiserver of this release
// does: legacy or aggregated documents by Accept header, in JSON, YAML or protobuf, with the
// aggregated ETag. Unknown groups and versions get a 404 Status, methods other than GET and HEAD
// a 405 Status. It returns false, writing nothing, for any other path.
func (d *Docs) ServeDiscovery(w http.ResponseWriter, r *http.Request) bool {
	return d.discovery.serve(w, r)
}

func (t *discoveryTable) serve(w http.ResponseWriter, r *http.Request) bool {
	ep, legacyOnly, ok := t.route(r.URL.Path)
	if !ok {
		return false
	}
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		t.writeError(w, r, apierrors.NewGenericServerResponse(http.StatusMethodNotAllowed, r.Method, schema.GroupResource{}, "", "", 0, false))
	case ep == nil:
		t.writeError(w, r, apierrors.NewGenericServerResponse(http.StatusNotFound, r.Method, schema.GroupResource{}, "", "", 0, false))
	case ep.agg != nil && !legacyOnly && t.serveAggregated(w, r, ep):
	default:
		t.serveLegacy(w, r, ep)
	}
	return true
}

// route maps a path to its endpoint. ok is false for paths that are not discovery; ep is nil for
// discovery paths of unknown groups or versions. "/apis/" is legacy only: kube-aggregator
// registers the aggregated handler for "/apis" alone.
func (t *discoveryTable) route(path string) (ep *endpoint, legacyOnly, ok bool) {
	trimmed := path
	if len(path) > 1 {
		trimmed = strings.TrimSuffix(path, "/")
	}
	var rest string
	switch {
	case trimmed == "/api" || trimmed == "/apis":
		return t.endpoints[trimmed], path == "/apis/", true
	case strings.HasPrefix(trimmed, "/api/"):
		rest = trimmed[len("/api/"):]
		if strings.Contains(rest, "/") {
			return nil, false, false
		}
	case strings.HasPrefix(trimmed, "/apis/"):
		rest = trimmed[len("/apis/"):]
		if strings.Count(rest, "/") > 1 {
			return nil, false, false
		}
	default:
		return nil, false, false
	}
	return t.endpoints[trimmed], false, true
}

// serveAggregated writes the aggregated document if the client asked for it and returns false
// otherwise, so the legacy document is negotiated next (as kube-apiserver's discovery wrapper).
func (t *discoveryTable) serveAggregated(w http.ResponseWriter, r *http.Request, ep *endpoint) bool {
	mediaType, info, err := negotiation.NegotiateOutputMediaType(r, t.aggCodecs, t.aggregated)
	if err != nil || !t.aggregated.allows(mediaType.Convert) {
		return false
	}
	h := w.Header()
	h.Set("ETag", ep.etag)
	h.Set("Vary", "Accept")
	h.Set("Cache-Control", "public")
	if r.Header.Get("If-None-Match") == ep.etag {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	gvk := mediaType.Convert
	body, err := ep.agg.body(variant{mediaType: info.MediaType, pretty: isPretty(info), gv: gvk.GroupVersion()}, info)
	if err != nil {
		t.writeError(w, r, apierrors.NewInternalError(err))
		return true
	}
	writeBody(w, info.MediaType+";g="+gvk.Group+";v="+gvk.Version+";as="+gvk.Kind, body)
	return true
}

func (t *discoveryTable) serveLegacy(w http.ResponseWriter, r *http.Request, ep *endpoint) {
	_, info, err := negotiation.NegotiateOutputMediaType(r, t.legacyCodecs, negotiation.DefaultEndpointRestrictions)
	if err != nil { // 406, written the way responsewriters.WriteObjectNegotiated does
		status := responsewriters.ErrorToAPIStatus(err)
		responsewriters.WriteRawJSON(int(status.Code), status, w)
		return
	}
	v := variant{mediaType: info.MediaType, pretty: isPretty(info)}
	var body []byte
	if ep.isRoot {
		body, err = t.root.body(r.Host, v, info)
	} else {
		body, err = ep.legacy.body(v, info)
	}
	if err != nil {
		t.writeError(w, r, apierrors.NewInternalError(err))
		return
	}
	writeBody(w, info.MediaType, body)
}

// writeError writes a metav1.Status negotiated like kube-apiserver's error responses.
func (t *discoveryTable) writeError(w http.ResponseWriter, r *http.Request, err error) {
	responsewriters.ErrorNegotiated(err, t.legacyCodecs, schema.GroupVersion{}, w, r)
}

func writeBody(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// isPretty reports whether negotiation picked the indenting serializer (?pretty=true, or a
// curl/wget/browser User-Agent).
func isPretty(info runtime.SerializerInfo) bool {
	return info.PrettySerializer != nil && info.Serializer == info.PrettySerializer
}

// aggregatedRestrictions accepts only the APIGroupDiscoveryList transforms the emulated release
// serves, like kube-apiserver's DiscoveryEndpointRestrictions but per release instead of by
// process-wide feature gate.
type aggregatedRestrictions struct{ v2beta1 bool }

func (a aggregatedRestrictions) allows(gvk *schema.GroupVersionKind) bool {
	if gvk == nil || gvk.Group != apidiscoveryv2.SchemeGroupVersion.Group || gvk.Kind != "APIGroupDiscoveryList" {
		return false
	}
	return gvk.Version == "v2" || (a.v2beta1 && gvk.Version == "v2beta1")
}

func (a aggregatedRestrictions) AllowsMediaTypeTransform(_, _ string, gvk *schema.GroupVersionKind) bool {
	return a.allows(gvk)
}
func (aggregatedRestrictions) AllowsServerVersion(string) bool  { return false }
func (aggregatedRestrictions) AllowsStreamSchema(s string) bool { return s == "watch" }
