package mockapi

import (
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// selectableFields lists, per kind, the field labels a real kube-apiserver accepts in a
// fieldSelector (beyond metadata.name and metadata.namespace, which every kind supports).
// Each entry maps the label a client sends to the label the object's field set carries.
var selectableFields = map[schema.GroupKind]map[string]string{
	{Kind: "Pod"}: identity("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
		"spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
		"status.podIPs", "status.nominatedNodeName").with("spec.host", "spec.nodeName"),
	{Kind: "Node"}:                  identity("metadata.name", "spec.unschedulable"),
	{Kind: "ReplicationController"}: identity("metadata.name", "metadata.namespace", "status.replicas"),
	{Kind: "Event"}: identity("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
		"involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
		"involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
		"metadata.namespace", "metadata.name"),
	{Kind: "Namespace"}: identity("status.phase", "metadata.name"),
	{Kind: "Secret"}:    identity("type", "metadata.namespace", "metadata.name"),
	{Kind: "Service"}:   identity("metadata.namespace", "metadata.name", "spec.clusterIP", "spec.type"),
	{Group: "events.k8s.io", Kind: "Event"}: identity("type", "metadata.namespace", "metadata.name").
		with("deprecatedSource.component", "source").
		with("deprecatedSource.host", "source").
		with("regarding.kind", "involvedObject.kind").
		with("regarding.namespace", "involvedObject.namespace").
		with("regarding.name", "involvedObject.name").
		with("regarding.uid", "involvedObject.uid").
		with("regarding.apiVersion", "involvedObject.apiVersion").
		with("regarding.resourceVersion", "involvedObject.resourceVersion").
		with("regarding.fieldPath", "involvedObject.fieldPath").
		with("reportingController", "reportingComponent").
		with("reason", "reason"),
	{Group: "batch", Kind: "Job"}:                                     identity("metadata.name", "metadata.namespace", "status.successful"),
	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}: identity("metadata.name", "spec.signerName"),
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:                 identity("metadata.name", "spec.nodeName", "spec.driver"),
}

type fieldMap map[string]string

func identity(names ...string) fieldMap {
	m := fieldMap{}
	for _, n := range names {
		m[n] = n
	}
	return m
}

func (m fieldMap) with(from, to string) fieldMap {
	m[from] = to
	return m
}

// addFieldLabelConversions registers, for every served kind, the conversion the handler uses
// to reject unsupported field selectors with the same 400 a real server returns.
func addFieldLabelConversions(s *runtime.Scheme, gvk schema.GroupVersionKind) error {
	m, ok := selectableFields[gvk.GroupKind()]
	if !ok {
		return nil // the scheme's default accepts metadata.name and metadata.namespace
	}
	return s.AddFieldLabelConversionFunc(gvk, func(label, value string) (string, string, error) {
		if to, ok := m[label]; ok {
			return to, value, nil
		}
		return "", "", fmt.Errorf("field label not supported: %s", label)
	})
}

// objectFields returns the field set selectors are matched against, mirroring each kind's
// GetAttrs in the real registries.
func objectFields(obj runtime.Object) fields.Set {
	m, err := meta.Accessor(obj)
	if err != nil {
		return fields.Set{}
	}
	set := fields.Set{"metadata.name": m.GetName()}
	if ns := m.GetNamespace(); ns != "" {
		set["metadata.namespace"] = ns
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		set["spec.nodeName"] = o.Spec.NodeName
		set["spec.restartPolicy"] = string(o.Spec.RestartPolicy)
		set["spec.schedulerName"] = o.Spec.SchedulerName
		set["spec.serviceAccountName"] = o.Spec.ServiceAccountName
		set["spec.hostNetwork"] = strconv.FormatBool(o.Spec.HostNetwork)
		set["status.phase"] = string(o.Status.Phase)
		ips := make([]string, 0, len(o.Status.PodIPs))
		for _, ip := range o.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		set["status.podIPs"] = strings.Join(ips, ",")
		set["status.podIP"] = o.Status.PodIP
		set["status.nominatedNodeName"] = o.Status.NominatedNodeName
	case *corev1.Node:
		set["spec.unschedulable"] = strconv.FormatBool(o.Spec.Unschedulable)
	case *corev1.ReplicationController:
		set["status.replicas"] = strconv.Itoa(int(o.Status.Replicas))
	case *corev1.Event:
		addEventFields(set, o.InvolvedObject, o.Reason, o.ReportingController, o.Source.Component, o.Type)
	case *eventsv1.Event:
		addEventFields(set, o.Regarding, o.Reason, o.ReportingController, o.DeprecatedSource.Component, o.Type)
	case *corev1.Namespace:
		set["status.phase"] = string(o.Status.Phase)
	case *corev1.Secret:
		set["type"] = string(o.Type)
	case *corev1.Service:
		set["spec.clusterIP"] = o.Spec.ClusterIP
		set["spec.type"] = string(o.Spec.Type)
	case *batchv1.Job:
		set["status.successful"] = strconv.Itoa(int(o.Status.Succeeded))
	case *certificatesv1.CertificateSigningRequest:
		set["spec.signerName"] = o.Spec.SignerName
	case *resourcev1.ResourceSlice:
		if o.Spec.NodeName != nil {
			set["spec.nodeName"] = *o.Spec.NodeName
		} else {
			set["spec.nodeName"] = ""
		}
		set["spec.driver"] = o.Spec.Driver
	}
	return set
}

func addEventFields(set fields.Set, ref corev1.ObjectReference, reason, reportingController, source, typ string) {
	set["involvedObject.kind"] = ref.Kind
	set["involvedObject.namespace"] = ref.Namespace
	set["involvedObject.name"] = ref.Name
	set["involvedObject.uid"] = string(ref.UID)
	set["involvedObject.apiVersion"] = ref.APIVersion
	set["involvedObject.resourceVersion"] = ref.ResourceVersion
	set["involvedObject.fieldPath"] = ref.FieldPath
	set["reason"] = reason
	set["reportingComponent"] = reportingController
	set["source"] = source
	set["type"] = typ
}

// getAttrs is the storage.AttrFunc shared by every resource.
func getAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(m.GetLabels()), objectFields(obj), nil
}
