package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// statusSchema is the v3 schema of metav1.Status, what most DELETEs answer.
const statusSchema = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"

// deleteReturnsObject lists the resources ("pods", "storageclasses.storage.k8s.io") whose DELETE
// of one object answers with the deleted object rather than a Status, as the published v3
// documents of the served group-versions say: the delete operation's 200 response is the
// resource's schema (ReturnDeletedObject in kube-apiserver's registries). Worked out here rather
// than when the mock starts, where scanning every document would cost a few hundred ms.
func deleteReturnsObject(v3Dir string, groups []servedGroup) ([]string, error) {
	files := []string{"api__v1_openapi.json"}
	for _, g := range groups {
		for _, v := range g.versions {
			files = append(files, "apis__"+g.name+"__"+v+"_openapi.json")
		}
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(v3Dir, f))
		if err != nil {
			return nil, err
		}
		var doc struct {
			Paths map[string]struct {
				Delete *struct {
					Responses map[string]struct {
						Content map[string]struct {
							Schema struct {
								Ref string `json:"$ref"`
							} `json:"schema"`
						} `json:"content"`
					} `json:"responses"`
				} `json:"delete"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for p, item := range doc.Paths {
			res, ok := objectPath(p)
			if !ok || item.Delete == nil {
				continue
			}
			ref := item.Delete.Responses["200"].Content["application/json"].Schema.Ref
			if ref == "" {
				return nil, fmt.Errorf("%s: DELETE %s documents no 200 response", f, p)
			}
			if ref != statusSchema && !slices.Contains(out, res) {
				out = append(out, res)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// objectPath returns the resource ("pods", "storageclasses.storage.k8s.io") of an object path
// ("/api/v1/namespaces/{namespace}/pods/{name}", "/apis/storage.k8s.io/v1/storageclasses/{name}");
// subresources and collections are not.
func objectPath(p string) (string, bool) {
	var group string
	var rest []string
	switch parts := strings.Split(strings.Trim(p, "/"), "/"); {
	case len(parts) > 2 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) > 3 && parts[0] == "apis":
		group, rest = parts[1], parts[3:]
	default:
		return "", false
	}
	if len(rest) == 4 && rest[0] == "namespaces" && rest[1] == "{namespace}" {
		rest = rest[2:]
	}
	if len(rest) != 2 || rest[1] != "{name}" {
		return "", false
	}
	if group == "" {
		return rest[0], true
	}
	return rest[0] + "." + group, true
}
