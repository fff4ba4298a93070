package mockapi

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Printers for storage.k8s.io. csistoragecapacities is deliberately absent: the real
// server registers it with the default convertor although a printer exists.
func addStorageTablePrinters(m map[schema.GroupResource]*tablePrinter) {
	storage := func(resource string) schema.GroupResource {
		return schema.GroupResource{Group: "storage.k8s.io", Resource: resource}
	}

	m[storage("storageclasses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Provisioner", "string", storagev1.StorageClass{}.SwaggerDoc()["provisioner"]),
		tableColumn("ReclaimPolicy", "string", storagev1.StorageClass{}.SwaggerDoc()["reclaimPolicy"]),
		tableColumn("VolumeBindingMode", "string", storagev1.StorageClass{}.SwaggerDoc()["volumeBindingMode"]),
		tableColumn("AllowVolumeExpansion", "string", storagev1.StorageClass{}.SwaggerDoc()["allowVolumeExpansion"]),
		tableAgeColumn,
	}, tableCells(func(sc *storagev1.StorageClass) []interface{} {
		name := sc.Name
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" ||
			sc.Annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true" {
			name += " (default)"
		}
		reclaim := string(corev1.PersistentVolumeReclaimDelete)
		if sc.ReclaimPolicy != nil {
			reclaim = string(*sc.ReclaimPolicy)
		}
		binding := string(storagev1.VolumeBindingImmediate)
		if sc.VolumeBindingMode != nil {
			binding = string(*sc.VolumeBindingMode)
		}
		expansion := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
		return []interface{}{name, sc.Provisioner, reclaim, binding, expansion, tableAge(sc.CreationTimestamp)}
	}))

	spec := storagev1.CSIDriverSpec{}.SwaggerDoc()
	m[storage("csidrivers")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("AttachRequired", "boolean", spec["attachRequired"]),
		tableColumn("PodInfoOnMount", "boolean", spec["podInfoOnMount"]),
		tableColumn("StorageCapacity", "boolean", spec["storageCapacity"]),
		tableColumn("TokenRequests", "string", spec["tokenRequests"]),
		tableColumn("RequiresRepublish", "boolean", spec["requiresRepublish"]),
		tableColumn("Modes", "string", spec["volumeLifecycleModes"]),
		tableAgeColumn,
	}, tableCells(tableCSIDriverCells))

	m[storage("csinodes")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
		tableAgeColumn,
	}, tableCells(func(n *storagev1.CSINode) []interface{} {
		return []interface{}{n.Name, int64(len(n.Spec.Drivers)), tableAge(n.CreationTimestamp)}
	}))

	m[storage("volumeattachments")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		// Upstream marks Attacher with the "name" format too.
		{Name: "Attacher", Type: "string", Format: "name", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["attacher"]},
		tableColumn("PV", "string", storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"]),
		tableColumn("Node", "string", storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["nodeName"]),
		tableColumn("Attached", "boolean", storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"]),
		tableAgeColumn,
	}, tableCells(func(va *storagev1.VolumeAttachment) []interface{} {
		pv := ""
		if va.Spec.Source.PersistentVolumeName != nil {
			pv = *va.Spec.Source.PersistentVolumeName
		}
		return []interface{}{va.Name, va.Spec.Attacher, pv, va.Spec.NodeName, va.Status.Attached, tableAge(va.CreationTimestamp)}
	}))

	m[storage("volumeattributesclasses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("DriverName", "string", storagev1.VolumeAttributesClass{}.SwaggerDoc()["driverName"]),
		tableAgeColumn,
	}, tableCells(func(c *storagev1.VolumeAttributesClass) []interface{} {
		return []interface{}{c.Name, c.DriverName, tableAge(c.CreationTimestamp)}
	}))
}

func tableCSIDriverCells(d *storagev1.CSIDriver) []interface{} {
	// Nil pointers print the API defaults, as upstream does.
	attachRequired := d.Spec.AttachRequired == nil || *d.Spec.AttachRequired
	podInfoOnMount := d.Spec.PodInfoOnMount != nil && *d.Spec.PodInfoOnMount
	storageCapacity := d.Spec.StorageCapacity != nil && *d.Spec.StorageCapacity
	requiresRepublish := d.Spec.RequiresRepublish != nil && *d.Spec.RequiresRepublish

	tokenRequests := "<unset>"
	if d.Spec.TokenRequests != nil {
		audiences := make([]string, len(d.Spec.TokenRequests))
		for i, t := range d.Spec.TokenRequests {
			audiences[i] = t.Audience
		}
		tokenRequests = strings.Join(audiences, ",")
	}
	modes := make([]string, len(d.Spec.VolumeLifecycleModes))
	for i, mode := range d.Spec.VolumeLifecycleModes {
		modes[i] = string(mode)
	}
	modesCell := strings.Join(modes, ",")
	if modesCell == "" {
		modesCell = "<none>"
	}
	return []interface{}{d.Name, attachRequired, podInfoOnMount, storageCapacity, tokenRequests, requiresRepublish, modesCell, tableAge(d.CreationTimestamp)}
}
