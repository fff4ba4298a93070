package apidocs

import (
	"bytes"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	apidiscoveryv2conversion "k8s.io/apiserver/pkg/apis/apidiscovery/v2"
	"k8s.io/apiserver/pkg/endpoints"
)

// discoveryTable holds every discovery response of one release, encoded once and shared by all
// clusters of that release.
type discoveryTable struct {
	legacyCodecs serializer.CodecFactory // meta/v1 discovery types and Status: JSON, YAML, protobuf
	aggCodecs    serializer.CodecFactory // apidiscovery v2 (and v2beta1, converted) lists
	aggregated   aggregatedRestrictions
	endpoints    map[string]*endpoint // by path without trailing slash
	root         *apiVersions         // legacy /api, which depends on the request's Host
}

// endpoint is one discovery path.
type endpoint struct {
	legacy *response // APIGroupList, APIGroup or APIResourceList; nil for /api (see root)
	agg    *response // APIGroupDiscoveryList; only /api and /apis
	etag   string    // quoted ETag of agg
	isRoot bool      // /api
}

// variant is one negotiated encoding of a response.
type variant struct {
	mediaType string
	pretty    bool
	gv        schema.GroupVersion // target version of aggregated discovery; empty for legacy
}

// response is one discovery object and its encodings. JSON and protobuf are made at Load; YAML,
// pretty JSON and v2beta1 only on first request (rarely asked for).
type response struct {
	mu     sync.Mutex // serializes encoding: the versioning codec sets TypeMeta on obj in place
	obj    runtime.Object
	encode func(obj runtime.Object, v variant, info runtime.SerializerInfo) ([]byte, error)
	bodies sync.Map // variant -> []byte
}

func (r *response) body(v variant, info runtime.SerializerInfo) ([]byte, error) {
	if b, ok := r.bodies.Load(v); ok {
		return b.([]byte), nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.bodies.Load(v); ok {
		return b.([]byte), nil
	}
	b, err := r.encode(r.obj, v, info)
	if err != nil {
		return nil, fmt.Errorf("apidocs: encoding %T as %s: %w", r.obj, v.mediaType, err)
	}
	r.bodies.Store(v, b)
	return b, nil
}

// encodeRaw encodes with the bare serializer: TypeMeta is preset on the object, as the real
// handlers produce it (apiVersion "v1", or none where kube-apiserver strips it).
func encodeRaw(obj runtime.Object, v variant, info runtime.SerializerInfo) ([]byte, error) {
	s := info.Serializer
	if v.pretty {
		s = info.PrettySerializer
	}
	return runtime.Encode(s, obj)
}

func newDiscoveryTable(minor string, p *parsedDiscovery) (*discoveryTable, error) {
	legacyScheme := runtime.NewScheme()
	metav1.AddToGroupVersion(legacyScheme, schema.GroupVersion{Version: "v1"})
	aggScheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{apidiscoveryv2.AddToScheme, apidiscoveryv2beta1.AddToScheme, apidiscoveryv2conversion.RegisterConversions} {
		if err := add(aggScheme); err != nil {
			return nil, fmt.Errorf("apidocs: discovery scheme: %w", err)
		}
	}
	t := &discoveryTable{
		legacyCodecs: serializer.NewCodecFactory(legacyScheme),
		aggCodecs:    serializer.NewCodecFactory(aggScheme),
		// kube-apiserver stopped serving v2beta1 in 1.33 (AggregatedDiscoveryRemoveBetaType).
		aggregated: aggregatedRestrictions{v2beta1: compareMinor(minor, "1.33") < 0},
		endpoints:  map[string]*endpoint{},
		root:       &apiVersions{versions: p.versions.Versions},
	}
	encodeAgg := func(obj runtime.Object, v variant, info runtime.SerializerInfo) ([]byte, error) {
		s := info.Serializer
		if v.pretty {
			s = info.PrettySerializer
		}
		return runtime.Encode(t.aggCodecs.EncoderForVersion(s, v.gv), obj)
	}
	legacy := func(obj runtime.Object) *response { return &response{obj: obj, encode: encodeRaw} }

	// /api: legacy APIVersions is built per request (it names the Host); aggregated is core v1.
	coreResources, err := endpoints.ConvertGroupVersionIntoToDiscovery(p.core.APIResources)
	if err != nil {
		return nil, fmt.Errorf("apidocs: %s core discovery: %w", minor, err)
	}
	coreAgg := &apidiscoveryv2.APIGroupDiscoveryList{Items: []apidiscoveryv2.APIGroupDiscovery{{
		Versions: []apidiscoveryv2.APIVersionDiscovery{{
			Version: "v1", Resources: coreResources, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent,
		}},
	}}}
	if err := t.root.prepare(t.legacyCodecs); err != nil {
		return nil, err
	}
	t.endpoints["/api"] = &endpoint{isRoot: true, agg: &response{obj: coreAgg, encode: encodeAgg}}

	// kube-apiserver strips apiVersion from the core group's discovery (/api, /api/v1) only.
	core := p.core
	core.TypeMeta = metav1.TypeMeta{Kind: "APIResourceList"}
	t.endpoints["/api/v1"] = &endpoint{legacy: legacy(&core)}

	groupList := p.groupList
	groupList.TypeMeta = metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}
	agg := p.agg
	agg.TypeMeta = metav1.TypeMeta{}
	t.endpoints["/apis"] = &endpoint{legacy: legacy(&groupList), agg: &response{obj: &agg, encode: encodeAgg}}

	for name, group := range p.groups {
		group.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
		t.endpoints["/apis/"+name] = &endpoint{legacy: legacy(&group)}
	}
	for gv, list := range p.lists {
		list.TypeMeta = metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}
		t.endpoints["/apis/"+gv] = &endpoint{legacy: legacy(&list)}
	}

	// ETags first: encoding sets TypeMeta on the object, and kube-apiserver hashes it without.
	for _, ep := range []*endpoint{t.endpoints["/api"], t.endpoints["/apis"]} {
		b, err := json.Marshal(ep.agg.obj)
		if err != nil {
			return nil, fmt.Errorf("apidocs: %s aggregated discovery: %w", minor, err)
		}
		ep.etag = strconv.Quote(fmt.Sprintf("%X", sha512.Sum512(b)))
	}
	if err := t.preEncode(); err != nil {
		return nil, err
	}
	return t, nil
}

// preEncode fills every response's JSON and protobuf bodies, the encodings clients ask for.
func (t *discoveryTable) preEncode() error {
	for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		legacyInfo, ok1 := runtime.SerializerInfoForMediaType(t.legacyCodecs.SupportedMediaTypes(), mediaType)
		aggInfo, ok2 := runtime.SerializerInfoForMediaType(t.aggCodecs.SupportedMediaTypes(), mediaType)
		if !ok1 || !ok2 {
			return fmt.Errorf("apidocs: no serializer for %s", mediaType)
		}
		for _, ep := range t.endpoints {
			if ep.legacy != nil {
				if _, err := ep.legacy.body(variant{mediaType: mediaType}, legacyInfo); err != nil {
					return err
				}
			}
			if ep.agg == nil {
				continue
			}
			gvs := []schema.GroupVersion{apidiscoveryv2.SchemeGroupVersion}
			if t.aggregated.v2beta1 {
				gvs = append(gvs, apidiscoveryv2beta1.SchemeGroupVersion)
			}
			for _, gv := range gvs {
				if _, err := ep.agg.body(variant{mediaType: mediaType, gv: gv}, aggInfo); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// apiVersions is the legacy /api document. kube-apiserver fills serverAddressByClientCIDRs from
// its advertised address; here the request's Host stands in for it, so the compact JSON is
// pre-split around the address and other encodings are made per request.
type apiVersions struct {
	versions           []string
	jsonHead, jsonTail []byte
}

const hostPlaceholder = "apidocs-host-placeholder"

func (a *apiVersions) object(host string) *metav1.APIVersions {
	return &metav1.APIVersions{
		TypeMeta:                   metav1.TypeMeta{Kind: "APIVersions"},
		Versions:                   a.versions,
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: host}},
	}
}

func (a *apiVersions) prepare(codecs serializer.CodecFactory) error {
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		return fmt.Errorf("apidocs: no JSON serializer")
	}
	b, err := runtime.Encode(info.Serializer, a.object(hostPlaceholder))
	if err != nil {
		return fmt.Errorf("apidocs: encoding APIVersions: %w", err)
	}
	head, tail, ok := bytes.Cut(b, []byte(strconv.Quote(hostPlaceholder)))
	if !ok {
		return fmt.Errorf("apidocs: APIVersions encoding lacks the address: %s", b)
	}
	a.jsonHead, a.jsonTail = head, tail
	return nil
}

func (a *apiVersions) body(host string, v variant, info runtime.SerializerInfo) ([]byte, error) {
	if v.mediaType == runtime.ContentTypeJSON && !v.pretty {
		quoted, err := json.Marshal(host) // same escaping as the serializer's encoding/json
		if err != nil {
			return nil, err
		}
		b := make([]byte, 0, len(a.jsonHead)+len(quoted)+len(a.jsonTail))
		return append(append(append(b, a.jsonHead...), quoted...), a.jsonTail...), nil
	}
	return encodeRaw(a.object(host), v, info)
}
