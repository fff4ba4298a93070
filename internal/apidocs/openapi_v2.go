package apidocs

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// OpenAPIV2 parses the published swagger.json into what a default-configured cluster of the
// release serves at /openapi/v2. The file is dumped from a kube-apiserver with every alpha and
// beta API enabled, so the paths of group-versions the release does not serve by default are
// dropped, and with them the definitions and shared parameters only they reference (for 1.36 and
// 1.32 the definitions left are exactly the union of the served v3 documents' schemas), and so are
// the CBOR media types (openapi_cbor.go). Each call parses afresh and returns a document the
// caller owns.
func (d *Docs) OpenAPIV2() (*spec.Swagger, error) {
	b, err := readGz(d.Minor, "openapi/swagger.json")
	if err != nil {
		return nil, err
	}
	if b, err = d.reduceSwagger(b); err != nil {
		return nil, fmt.Errorf("apidocs: %s swagger.json: %w", d.Minor, err)
	}
	var s spec.Swagger
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("apidocs: %s swagger.json: %w", d.Minor, err)
	}
	dropCBORV2(&s)
	return &s, nil
}

// swaggerRef matches the local references of a swagger.json: "$ref": "#/definitions/<name>" or
// "#/parameters/<name>".
var swaggerRef = regexp.MustCompile(`"\$ref":\s*"#/(definitions|parameters)/([^"]+)"`)

// reduceSwagger keeps the served paths of a swagger.json and what they reference, working on the
// raw JSON so that nothing dropped is ever parsed into schemas.
func (d *Docs) reduceSwagger(b []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	sections := map[string]map[string]json.RawMessage{}
	for _, name := range []string{"paths", "definitions", "parameters"} {
		var m map[string]json.RawMessage
		if raw, ok := doc[name]; ok {
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		sections[name] = m
	}
	kept := map[string]map[string]json.RawMessage{"paths": {}, "definitions": {}, "parameters": {}}
	var queue [][]byte
	for p, raw := range sections["paths"] {
		if d.servesPath(p) {
			kept["paths"][p] = raw
			queue = append(queue, raw)
		}
	}
	for len(queue) > 0 {
		raw := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, m := range swaggerRef.FindAllSubmatch(raw, -1) {
			section, name := string(m[1]), strings.NewReplacer("~1", "/", "~0", "~").Replace(string(m[2]))
			if _, done := kept[section][name]; done {
				continue
			}
			target, ok := sections[section][name]
			if !ok {
				return nil, fmt.Errorf("dangling reference #/%s/%s", section, name)
			}
			kept[section][name] = target
			queue = append(queue, target)
		}
	}
	for name, m := range kept {
		if _, ok := doc[name]; !ok {
			continue
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		doc[name] = raw
	}
	return json.Marshal(doc)
}
