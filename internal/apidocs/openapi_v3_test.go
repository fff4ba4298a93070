package apidocs

import (
	"encoding/json"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestOpenAPIV3 checks that every published v3 document is listed under its path and parses into
// a document that encodes back to the published content, CBOR aside.
func TestOpenAPIV3(t *testing.T) {
	for _, minor := range Minors() {
		t.Run(minor, func(t *testing.T) {
			d := mustDocs(t, minor)
			paths, err := d.OpenAPIV3Paths()
			if err != nil {
				t.Fatal(err)
			}
			files, err := listGz(minor, "openapi/v3")
			if err != nil {
				t.Fatal(err)
			}
			if len(paths) != len(files) {
				t.Errorf("%d paths for %d files: %v", len(paths), len(files), paths)
			}
			for _, gv := range d.GroupVersions() { // every served group-version, its group, and the rest
				for _, p := range []string{gvPath(gv), path.Dir(gvPath(gv))} {
					if !slices.Contains(paths, p) {
						t.Errorf("no %s among %v", p, paths)
					}
				}
			}
			for _, p := range []string{"apis", "version", "logs", "openid/v1/jwks", ".well-known/openid-configuration"} {
				if !slices.Contains(paths, p) {
					t.Errorf("no %s among %v", p, paths)
				}
			}
			for _, p := range paths {
				doc, err := d.OpenAPIV3(p)
				if err != nil {
					t.Fatal(err)
				}
				served, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				var got, want map[string]any
				mustUnmarshal(t, served, &got)
				mustUnmarshal(t, mustGz(t, minor, "openapi/v3/"+strings.ReplaceAll(p, "/", "__")+"_openapi.json"), &want)
				if !reflect.DeepEqual(got, withoutCBOR(want)) {
					t.Errorf("%s does not encode back to the published document", p)
				}
			}
		})
	}
}

func TestOpenAPIV3Unknown(t *testing.T) {
	d := mustDocs(t, "1.36")
	for _, p := range []string{"apis/example.com/v1", "apis/resource.k8s.io/v1beta1", "apis__apps__v1", "../meta.json", ""} {
		if _, err := d.OpenAPIV3(p); err == nil {
			t.Errorf("OpenAPIV3(%q) succeeded", p)
		}
	}
}

func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}
