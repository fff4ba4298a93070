package apidocs

import (
	"slices"
	"strings"

	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// The published documents are dumped from a kube-apiserver with every alpha feature on, so their
// operations also offer CBOR (application/cbor, application/cbor-seq,
// application/apply-patch+cbor). CBORServingAndStorage is alpha and off by default, and neither a
// default-configured cluster nor this server speaks CBOR, so the served documents leave it out.

func isCBOR(mediaType string) bool { return strings.Contains(mediaType, "cbor") }

// dropCBORV2 removes the CBOR media types from every operation's consumes and produces.
func dropCBORV2(s *spec.Swagger) {
	if s.Paths == nil {
		return
	}
	for _, item := range s.Paths.Paths {
		for _, op := range []*spec.Operation{item.Get, item.Put, item.Post, item.Delete, item.Options, item.Head, item.Patch} {
			if op != nil {
				op.Consumes = slices.DeleteFunc(op.Consumes, isCBOR)
				op.Produces = slices.DeleteFunc(op.Produces, isCBOR)
			}
		}
	}
}

// dropCBORV3 removes the CBOR media types from every request body and response.
func dropCBORV3(doc *spec3.OpenAPI) {
	if doc.Paths == nil {
		return
	}
	dropContent := func(content map[string]*spec3.MediaType) {
		for mediaType := range content {
			if isCBOR(mediaType) {
				delete(content, mediaType)
			}
		}
	}
	for _, p := range doc.Paths.Paths {
		if p == nil {
			continue
		}
		for _, op := range []*spec3.Operation{p.Get, p.Put, p.Post, p.Delete, p.Options, p.Head, p.Patch, p.Trace} {
			if op == nil {
				continue
			}
			if op.RequestBody != nil {
				dropContent(op.RequestBody.Content)
			}
			if op.Responses == nil {
				continue
			}
			if op.Responses.Default != nil {
				dropContent(op.Responses.Default.Content)
			}
			for _, r := range op.Responses.StatusCodeResponses {
				if r != nil {
					dropContent(r.Content)
				}
			}
		}
	}
}
