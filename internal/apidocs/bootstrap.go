package apidocs

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// BootstrapResources returns the resources of which a kube-apiserver of the release creates
// objects at start-up, before any client: clusterroles, clusterrolebindings, roles and
// rolebindings of the RBAC bootstrap policy (the system:controller: roles included), and the
// apiservices of its own group-versions. Sorted by group, then resource.
func (d *Docs) BootstrapResources() []schema.GroupResource {
	grs := slices.Collect(maps.Keys(d.bootstrap))
	slices.SortFunc(grs, func(a, b schema.GroupResource) int {
		return strings.Compare(a.Group+"/"+a.Resource, b.Group+"/"+b.Resource)
	})
	return grs
}

// BootstrapObjects returns the JSON of the objects a kube-apiserver of the release creates for
// a resource at start-up, sorted by namespace and name, as it stores them less what the store
// assigns (uid, creationTimestamp, resourceVersion; for APIServices the condition's
// lastTransitionTime). Each call decompresses afresh: callers decode once and keep the result.
func (d *Docs) BootstrapObjects(gr schema.GroupResource) ([]json.RawMessage, error) {
	want, ok := d.bootstrap[gr]
	if !ok {
		return nil, fmt.Errorf("apidocs: %s: no bootstrap objects for %s", d.Minor, gr)
	}
	b, err := readGz(d.Minor, "bootstrap/"+gr.String()+".json")
	if err != nil {
		return nil, err
	}
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("apidocs: %s bootstrap %s: %w", d.Minor, gr, err)
	}
	if len(l.Items) != want {
		return nil, fmt.Errorf("apidocs: %s bootstrap %s: %d objects, meta.json says %d", d.Minor, gr, len(l.Items), want)
	}
	return l.Items, nil
}
