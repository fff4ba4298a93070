package apidocs

import (
	"encoding/json"
	"strings"
	"testing"
)

// withoutCBOR removes, from a generic JSON document, the CBOR media types the served documents
// leave out: entries of consumes/produces lists (v2) and keys of content maps (v3).
func withoutCBOR(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			switch list, isList := child.([]any); {
			case (k == "consumes" || k == "produces") && isList:
				kept := []any{}
				for _, mt := range list {
					if !isCBOR(mt.(string)) {
						kept = append(kept, mt)
					}
				}
				v[k] = kept
			case k == "content":
				if content, ok := child.(map[string]any); ok {
					for mt := range content {
						if isCBOR(mt) {
							delete(content, mt)
						}
					}
				}
			}
			withoutCBOR(v[k])
		}
	case []any:
		for _, child := range v {
			withoutCBOR(child)
		}
	}
	return v
}

// TestNoCBOR checks that the published documents do offer CBOR and the served ones never do.
func TestNoCBOR(t *testing.T) {
	for _, minor := range Minors() {
		d := mustDocs(t, minor)
		if !strings.Contains(string(mustGz(t, minor, "openapi/swagger.json")), `"application/cbor"`) ||
			!strings.Contains(string(mustGz(t, minor, "openapi/v3/api__v1_openapi.json")), `"application/cbor"`) {
			t.Fatalf("%s: the published documents no longer offer CBOR; drop openapi_cbor.go", minor)
		}
		v2, err := d.OpenAPIV2()
		if err != nil {
			t.Fatal(err)
		}
		v3, err := d.OpenAPIV3("api/v1")
		if err != nil {
			t.Fatal(err)
		}
		for name, doc := range map[string]any{"swagger.json": v2, "v3 api/v1": v3} {
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), "cbor"); n > 0 {
				t.Errorf("%s %s: %d mentions of cbor", minor, name, n)
			}
		}
	}
}
