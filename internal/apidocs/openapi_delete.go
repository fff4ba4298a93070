package apidocs

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// statusSchema is the v3 schema of metav1.Status, what most DELETEs answer.
const statusSchema = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"

// deleteResponses is, per resource, whether deleting one object answers with the object; filled
// from the v3 documents on first use.
type deleteResponses struct {
	once    sync.Once
	objects map[schema.GroupResource]bool
	err     error
}

// DeleteReturnsObject reports whether a kube-apiserver of the release answers DELETE of one
// object of the resource with the deleted object (pods, services, namespaces, PVs, storage
// classes, ...: ReturnDeletedObject in their registries) rather than a Status. The published v3
// documents say so: the delete operation's 200 response is the resource's schema, not Status.
// It panics if the embedded data does not parse (the package tests parse every version).
func (d *Docs) DeleteReturnsObject(gr schema.GroupResource) bool {
	s := &d.deletes
	s.once.Do(func() { s.objects, s.err = d.parseDeletes() })
	if s.err != nil {
		panic(s.err)
	}
	return s.objects[gr]
}

func (d *Docs) parseDeletes() (map[schema.GroupResource]bool, error) {
	names, err := listGz(d.Minor, "openapi/v3")
	if err != nil {
		return nil, err
	}
	type media struct {
		Schema struct {
			Ref string `json:"$ref"`
		} `json:"schema"`
	}
	out := map[schema.GroupResource]bool{}
	for _, name := range names {
		var doc struct {
			Paths map[string]struct {
				Delete *struct {
					Responses map[string]struct {
						Content map[string]media `json:"content"`
					} `json:"responses"`
				} `json:"delete"`
			} `json:"paths"`
		}
		b, err := readGz(d.Minor, name)
		if err == nil {
			err = json.Unmarshal(b, &doc)
		}
		if err != nil {
			return nil, fmt.Errorf("apidocs: %s %s: %w", d.Minor, name, err)
		}
		for p, item := range doc.Paths {
			if item.Delete == nil {
				continue
			}
			gr, ok := objectPath(p)
			if !ok || !d.servesPath(p) {
				continue
			}
			ref := item.Delete.Responses["200"].Content["application/json"].Schema.Ref
			if ref == "" {
				return nil, fmt.Errorf("apidocs: %s %s: DELETE %s documents no 200 response", d.Minor, name, p)
			}
			out[gr] = out[gr] || ref != statusSchema
		}
	}
	return out, nil
}

// objectPath returns the resource of an object path ("/api/v1/namespaces/{namespace}/pods/{name}",
// "/apis/storage.k8s.io/v1/storageclasses/{name}"); subresources and collections are not.
func objectPath(p string) (schema.GroupResource, bool) {
	var group string
	var rest []string
	switch parts := strings.Split(strings.Trim(p, "/"), "/"); {
	case len(parts) > 2 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) > 3 && parts[0] == "apis":
		group, rest = parts[1], parts[3:]
	default:
		return schema.GroupResource{}, false
	}
	if len(rest) == 4 && rest[0] == "namespaces" && rest[1] == "{namespace}" {
		rest = rest[2:]
	}
	if len(rest) != 2 || rest[1] != "{name}" {
		return schema.GroupResource{}, false
	}
	return schema.GroupResource{Group: group, Resource: rest[0]}, true
}
