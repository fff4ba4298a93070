package apidocs

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"k8s.io/kube-openapi/pkg/spec3"
)

// OpenAPIV3Paths lists the published /openapi/v3 documents by their path under /openapi/v3:
// the served group-versions ("api/v1", "apis/apps/v1") and the documents that describe no
// group-version (discovery's "api", "apis" and "apis/<group>", "version", "logs",
// "openid/v1/jwks", ".well-known/openid-configuration"), sorted, as a kube-apiserver of the
// release lists them in its index.
func (d *Docs) OpenAPIV3Paths() ([]string, error) {
	names, err := listGz(d.Minor, "openapi/v3")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, name := range names {
		base, ok := strings.CutSuffix(path.Base(name), "_openapi.json")
		if !ok {
			continue
		}
		if p := strings.ReplaceAll(base, "__", "/"); d.servesPath("/" + p + "/") {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	return paths, nil
}

// OpenAPIV3 parses the published v3 document of a path OpenAPIV3Paths lists, without the CBOR
// media types (openapi_cbor.go). Each call parses afresh and returns a document the caller owns: nothing is shared with OpenAPIV3Definitions,
// whose schemas the apiserver's builders write into.
func (d *Docs) OpenAPIV3(p string) (*spec3.OpenAPI, error) {
	if strings.Contains(p, "__") || !d.servesPath("/"+p+"/") {
		return nil, fmt.Errorf("apidocs: %s: no openapi v3 document %q", d.Minor, p)
	}
	b, err := readGz(d.Minor, "openapi/v3/"+strings.ReplaceAll(p, "/", "__")+"_openapi.json")
	if err != nil {
		return nil, err
	}
	var doc spec3.OpenAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("apidocs: %s openapi v3 %s: %w", d.Minor, p, err)
	}
	dropCBORV3(&doc)
	return &doc, nil
}

// servesPath reports whether a default-configured cluster of the release serves an API path
// ("/apis/apps/v1/deployments", "/apis/apps/"): under /apis/ only for the served groups and
// group-versions; every other path (/api/v1, discovery roots, /version, /logs, service-account
// issuer discovery) always.
func (d *Docs) servesPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/apis/")
	if !ok || rest == "" {
		return true
	}
	group, rest, _ := strings.Cut(rest, "/")
	version, _, _ := strings.Cut(rest, "/")
	for _, gv := range d.groupVersions {
		if gv.Group == group && (version == "" || gv.Version == version) {
			return true
		}
	}
	return false
}
