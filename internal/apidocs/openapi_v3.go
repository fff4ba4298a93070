package apidocs

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// NonGroupVersionOpenAPIV3 returns the published /openapi/v3 documents that describe no API
// group-version (discovery's "api", "apis" and "apis/<group>", "version", "logs",
// "openid/v1/jwks"), keyed by their path under /openapi/v3. A real server lists them in the
// /openapi/v3 index beside the group-versions, which the apiserver builds from its routes.
func (d *Docs) NonGroupVersionOpenAPIV3() (map[string][]byte, error) {
	names, err := listGz(d.Minor, "openapi/v3")
	if err != nil {
		return nil, err
	}
	served := map[string]bool{}
	for _, gv := range d.GroupVersions() {
		served[gvPath(gv)] = true
	}
	out := map[string][]byte{}
	for _, name := range names {
		base, ok := strings.CutSuffix(path.Base(name), "_openapi.json")
		if !ok {
			continue
		}
		p := strings.ReplaceAll(base, "__", "/")
		if served[p] {
			continue
		}
		b, err := readGz(d.Minor, name)
		if err != nil {
			return nil, fmt.Errorf("openapi v3 %s: %w", p, err)
		}
		out[p] = b
	}
	return out, nil
}

func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}
