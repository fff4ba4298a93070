package mockapi

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Printers for the apps group.
func addAppsTablePrinters(m map[schema.GroupResource]*tablePrinter) {
	apps := func(resource string) schema.GroupResource {
		return schema.GroupResource{Group: "apps", Resource: resource}
	}

	m[apps("deployments")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Ready", "string", "Number of the pod with ready state"),
		tableColumn("Up-to-date", "string", appsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]),
		tableColumn("Available", "string", appsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]),
		tableAgeColumn,
		tableContainersColumn,
		tableImagesColumn,
		tableWideColumn("Selector", "string", appsv1.DeploymentSpec{}.SwaggerDoc()["selector"]),
	}, tableCells(func(d *appsv1.Deployment) []interface{} {
		// Unlike the other workloads, an empty selector prints as "" rather than "<none>".
		selector := "<invalid>"
		if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
			selector = s.String()
		}
		names, images := tableContainers(d.Spec.Template.Spec.Containers)
		return []interface{}{
			d.Name,
			fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, tableInt32(d.Spec.Replicas)),
			int64(d.Status.UpdatedReplicas),
			int64(d.Status.AvailableReplicas),
			tableAge(d.CreationTimestamp),
			names, images, selector,
		}
	}))

	m[apps("replicasets")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Desired", "integer", appsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]),
		tableColumn("Current", "integer", appsv1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]),
		tableColumn("Ready", "integer", appsv1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]),
		tableAgeColumn,
		tableContainersColumn,
		tableImagesColumn,
		tableWideColumn("Selector", "string", appsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"]),
	}, tableCells(func(rs *appsv1.ReplicaSet) []interface{} {
		names, images := tableContainers(rs.Spec.Template.Spec.Containers)
		return []interface{}{
			rs.Name,
			int64(tableInt32(rs.Spec.Replicas)),
			int64(rs.Status.Replicas),
			int64(rs.Status.ReadyReplicas),
			tableAge(rs.CreationTimestamp),
			names, images, tableSelector(rs.Spec.Selector),
		}
	}))

	m[apps("daemonsets")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Desired", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["desiredNumberScheduled"]),
		tableColumn("Current", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["currentNumberScheduled"]),
		tableColumn("Ready", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["numberReady"]),
		tableColumn("Up-to-date", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["updatedNumberScheduled"]),
		tableColumn("Available", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["numberAvailable"]),
		tableColumn("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
		tableAgeColumn,
		tableContainersColumn,
		tableImagesColumn,
		tableWideColumn("Selector", "string", appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"]),
	}, tableCells(func(ds *appsv1.DaemonSet) []interface{} {
		names, images := tableContainers(ds.Spec.Template.Spec.Containers)
		return []interface{}{
			ds.Name,
			int64(ds.Status.DesiredNumberScheduled),
			int64(ds.Status.CurrentNumberScheduled),
			int64(ds.Status.NumberReady),
			int64(ds.Status.UpdatedNumberScheduled),
			int64(ds.Status.NumberAvailable),
			tableLabels(ds.Spec.Template.Spec.NodeSelector),
			tableAge(ds.CreationTimestamp),
			names, images, tableSelector(ds.Spec.Selector),
		}
	}))

	m[apps("statefulsets")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Ready", "string", "Number of the pod with ready state"),
		tableAgeColumn,
		tableContainersColumn,
		tableImagesColumn,
	}, tableCells(func(ss *appsv1.StatefulSet) []interface{} {
		names, images := tableContainers(ss.Spec.Template.Spec.Containers)
		return []interface{}{
			ss.Name,
			fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, tableInt32(ss.Spec.Replicas)),
			tableAge(ss.CreationTimestamp),
			names, images,
		}
	}))

	m[apps("controllerrevisions")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Controller", "string", "Controller of the object"),
		tableColumn("Revision", "string", appsv1.ControllerRevision{}.SwaggerDoc()["revision"]),
		tableAgeColumn,
	}, tableCells(func(cr *appsv1.ControllerRevision) []interface{} {
		return []interface{}{cr.Name, tableControllerName(cr), cr.Revision, tableAge(cr.CreationTimestamp)}
	}))
}

// tableControllerName renders the controller owner as "kind.group/name", e.g. "statefulset.apps/web".
func tableControllerName(obj metav1.Object) string {
	ref := metav1.GetControllerOf(obj)
	if ref == nil {
		return "<none>"
	}
	// Upstream fails the request on an unparsable apiVersion; we keep the group empty instead.
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	if gk.Empty() {
		return ref.Name
	}
	return strings.ToLower(gk.String()) + "/" + ref.Name
}
