package rancher

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Labels that mark the clusters this tool created, so that clean deletes those and only
// those. They avoid Rancher's own cattle.io prefixes, which Rancher may rewrite or drop when
// it copies labels between management and provisioning clusters.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "scale-cluster-agent"
	LabelRun       = "scale-cluster-agent/run"
)

// OwnerLabels are the labels for a cluster that run creates. run must be a valid label
// value (at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends).
func OwnerLabels(run string) (map[string]string, error) {
	if run == "" {
		return nil, fmt.Errorf("run id is empty")
	}
	if errs := validation.IsValidLabelValue(run); len(errs) > 0 {
		return nil, fmt.Errorf("run id %q is not a valid label value: %s", run, strings.Join(errs, "; "))
	}
	return map[string]string{LabelManagedBy: ManagedBy, LabelRun: run}, nil
}

// OwnedBy reports whether labels mark a cluster of this tool, and of run unless run is "".
func OwnedBy(labels map[string]string, run string) bool {
	if labels[LabelManagedBy] != ManagedBy {
		return false
	}
	return run == "" || labels[LabelRun] == run
}
