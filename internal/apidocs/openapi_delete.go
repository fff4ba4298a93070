package apidocs

import "k8s.io/apimachinery/pkg/runtime/schema"

// DeleteReturnsObject reports whether a kube-apiserver of the release answers DELETE of one
// object of the resource with the deleted object (pods, services, service accounts, PVs, PVCs,
// storage classes, ...: ReturnDeletedObject in their registries) rather than a Status. The
// published v3 documents say so, the delete operation's 200 response being the resource's
// schema; hack/apidocs reads them and lists the resources in meta.json.
func (d *Docs) DeleteReturnsObject(gr schema.GroupResource) bool {
	return d.deletes[gr]
}
