package mockapi

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Printers for the core ("") group, plus events.k8s.io which shares the core Event printer.
func addCoreTablePrinters(m map[schema.GroupResource]*tablePrinter) {
	core := func(resource string) schema.GroupResource { return schema.GroupResource{Resource: resource} }

	pods := newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
		tableColumn("Status", "string", "The aggregate status of the containers in this pod."),
		tableColumn("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
		tableAgeColumn,
		tableWideColumn("IP", "string", corev1.PodStatus{}.SwaggerDoc()["podIP"]),
		tableWideColumn("Node", "string", corev1.PodSpec{}.SwaggerDoc()["nodeName"]),
		tableWideColumn("Nominated Node", "string", corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"]),
		tableWideColumn("Readiness Gates", "string", corev1.PodSpec{}.SwaggerDoc()["readinessGates"]),
	}, tableCells(tablePodCells))
	pods.conditions = tablePodConditions
	m[core("pods")] = pods

	m[core("nodes")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Status", "string", "The status of the node"),
		tableColumn("Roles", "string", "The roles of the node"),
		tableAgeColumn,
		tableColumn("Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]),
		tableWideColumn("Internal-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
		tableWideColumn("External-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
		tableWideColumn("OS-Image", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]),
		tableWideColumn("Kernel-Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]),
		tableWideColumn("Container-Runtime", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]),
	}, tableCells(tableNodeCells))

	m[core("namespaces")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Status", "string", "The status of the namespace"),
		tableAgeColumn,
	}, tableCells(func(ns *corev1.Namespace) []interface{} {
		return []interface{}{ns.Name, string(ns.Status.Phase), tableAge(ns.CreationTimestamp)}
	}))

	m[core("services")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Type", "string", corev1.ServiceSpec{}.SwaggerDoc()["type"]),
		tableColumn("Cluster-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]),
		tableColumn("External-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]),
		tableColumn("Port(s)", "string", corev1.ServiceSpec{}.SwaggerDoc()["ports"]),
		tableAgeColumn,
		tableWideColumn("Selector", "string", corev1.ServiceSpec{}.SwaggerDoc()["selector"]),
	}, tableCells(tableServiceCells))

	m[core("endpoints")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
		tableAgeColumn,
	}, tableCells(func(ep *corev1.Endpoints) []interface{} {
		return []interface{}{ep.Name, tableEndpoints(ep.Subsets), tableAge(ep.CreationTimestamp)}
	}))

	// The real server stores both event APIs as one internal type, hence one printer.
	events := newTablePrinter([]metav1.TableColumnDefinition{
		tableColumn("Last Seen", "string", corev1.Event{}.SwaggerDoc()["lastTimestamp"]),
		tableColumn("Type", "string", corev1.Event{}.SwaggerDoc()["type"]),
		tableColumn("Reason", "string", corev1.Event{}.SwaggerDoc()["reason"]),
		tableColumn("Object", "string", corev1.Event{}.SwaggerDoc()["involvedObject"]),
		tableWideColumn("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
		tableWideColumn("Source", "string", corev1.Event{}.SwaggerDoc()["source"]),
		tableColumn("Message", "string", corev1.Event{}.SwaggerDoc()["message"]),
		tableWideColumn("First Seen", "string", corev1.Event{}.SwaggerDoc()["firstTimestamp"]),
		tableWideColumn("Count", "string", corev1.Event{}.SwaggerDoc()["count"]),
		{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: tableObjectMetaDoc["name"]},
	}, tableCells(tableEventCells), tableCells(func(e *eventsv1.Event) []interface{} {
		return tableEventCells(tableCoreEvent(e))
	}))
	m[core("events")] = events
	m[schema.GroupResource{Group: "events.k8s.io", Resource: "events"}] = events

	m[core("configmaps")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]),
		tableAgeColumn,
	}, tableCells(func(cm *corev1.ConfigMap) []interface{} {
		return []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), tableAge(cm.CreationTimestamp)}
	}))

	m[core("secrets")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Type", "string", corev1.Secret{}.SwaggerDoc()["type"]),
		tableColumn("Data", "string", corev1.Secret{}.SwaggerDoc()["data"]),
		tableAgeColumn,
	}, tableCells(func(s *corev1.Secret) []interface{} {
		// Conversion to the internal type merges stringData into data before printing.
		keys := len(s.Data)
		for k := range s.StringData {
			if _, dup := s.Data[k]; !dup {
				keys++
			}
		}
		return []interface{}{s.Name, string(s.Type), int64(keys), tableAge(s.CreationTimestamp)}
	}))

	m[core("serviceaccounts")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableAgeColumn,
	}, tableCells(func(sa *corev1.ServiceAccount) []interface{} {
		return []interface{}{sa.Name, tableAge(sa.CreationTimestamp)}
	}))

	m[core("persistentvolumes")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Capacity", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["capacity"]),
		tableColumn("Access Modes", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["accessModes"]),
		tableColumn("Reclaim Policy", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["persistentVolumeReclaimPolicy"]),
		tableColumn("Status", "string", corev1.PersistentVolumeStatus{}.SwaggerDoc()["phase"]),
		tableColumn("Claim", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["claimRef"]),
		tableColumn("StorageClass", "string", "StorageClass of the pv"),
		tableColumn("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
		tableColumn("Reason", "string", corev1.PersistentVolumeStatus{}.SwaggerDoc()["reason"]),
		tableAgeColumn,
		tableWideColumn("VolumeMode", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["volumeMode"]),
	}, tableCells(tablePersistentVolumeCells))

	m[core("persistentvolumeclaims")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Status", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["phase"]),
		tableColumn("Volume", "string", corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeName"]),
		tableColumn("Capacity", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["capacity"]),
		tableColumn("Access Modes", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["accessModes"]),
		tableColumn("StorageClass", "string", "StorageClass of the pvc"),
		tableColumn("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
		tableAgeColumn,
		tableWideColumn("VolumeMode", "string", corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeMode"]),
	}, tableCells(tablePersistentVolumeClaimCells))

	m[core("replicationcontrollers")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Desired", "integer", corev1.ReplicationControllerSpec{}.SwaggerDoc()["replicas"]),
		tableColumn("Current", "integer", corev1.ReplicationControllerStatus{}.SwaggerDoc()["replicas"]),
		tableColumn("Ready", "integer", corev1.ReplicationControllerStatus{}.SwaggerDoc()["readyReplicas"]),
		tableAgeColumn,
		tableContainersColumn,
		tableImagesColumn,
		tableWideColumn("Selector", "string", corev1.ReplicationControllerSpec{}.SwaggerDoc()["selector"]),
	}, tableCells(func(rc *corev1.ReplicationController) []interface{} {
		var containers []corev1.Container
		if rc.Spec.Template != nil {
			containers = rc.Spec.Template.Spec.Containers
		}
		names, images := tableContainers(containers)
		return []interface{}{rc.Name, int64(tableInt32(rc.Spec.Replicas)), int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas),
			tableAge(rc.CreationTimestamp), names, images, tableLabels(rc.Spec.Selector)}
	}))

	m[core("podtemplates")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Containers", "string", "Names of each container in the template."),
		tableColumn("Images", "string", "Images referenced by each container in the template."),
		tableColumn("Pod Labels", "string", "The labels for the pod template."),
	}, tableCells(func(pt *corev1.PodTemplate) []interface{} {
		names, images := tableContainers(pt.Template.Spec.Containers)
		return []interface{}{pt.Name, names, images, tableLabels(pt.Template.Labels)}
	}))

	m[core("resourcequotas")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
		tableColumn("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
		tableAgeColumn,
	}, tableCells(tableResourceQuotaCells))

	m[core("componentstatuses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Status", "string", "Status of the component conditions"),
		tableColumn("Message", "string", "Message of the component conditions"),
		tableColumn("Error", "string", "Error of the component conditions"),
	}, tableCells(tableComponentStatusCells))
}

// Pods.

var (
	tablePodSucceeded = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodSucceeded), Message: "The pod has completed successfully."}}
	tablePodFailed    = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodFailed), Message: "The pod failed."}}
)

func tablePodConditions(obj runtime.Object) []metav1.TableRowCondition {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return tablePodSucceeded
	case corev1.PodFailed:
		return tablePodFailed
	}
	return nil
}

func tableIsSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// tableLastTerminated returns the later of t and the container's last termination time.
func tableLastTerminated(t metav1.Time, cs *corev1.ContainerStatus) metav1.Time {
	if term := cs.LastTerminationState.Terminated; term != nil && t.Before(&term.FinishedAt) {
		return term.FinishedAt
	}
	return t
}

func tablePodCondition(pod *corev1.Pod, typ corev1.PodConditionType) (corev1.ConditionStatus, bool) {
	for _, c := range pod.Status.Conditions {
		if c.Type == typ {
			return c.Status, true
		}
	}
	return "", false
}

// tablePodCells follows upstream printPod: READY counts ready containers (sidecars
// included), STATUS is the most telling container reason, RESTARTS gets "(X ago)".
func tablePodCells(pod *corev1.Pod) []interface{} {
	restarts, sidecarRestarts := 0, 0
	var lastRestart, lastSidecarRestart metav1.Time
	total := len(pod.Spec.Containers)
	ready := 0

	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}

	initContainers := make(map[string]*corev1.Container, len(pod.Spec.InitContainers))
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		initContainers[c.Name] = c
		if tableIsSidecar(c) {
			total++
		}
	}

	initializing := false
	for i := range pod.Status.InitContainerStatuses {
		cs := &pod.Status.InitContainerStatuses[i]
		restarts += int(cs.RestartCount)
		lastRestart = tableLastTerminated(lastRestart, cs)
		sidecar := tableIsSidecar(initContainers[cs.Name])
		if sidecar {
			sidecarRestarts += int(cs.RestartCount)
			lastSidecarRestart = tableLastTerminated(lastSidecarRestart, cs)
		}

		term, waiting := cs.State.Terminated, cs.State.Waiting
		if term != nil && term.ExitCode == 0 {
			continue
		}
		if sidecar && cs.Started != nil && *cs.Started {
			if cs.Ready {
				ready++
			}
			continue
		}
		// This init container blocks the pod: report it and stop looking.
		initializing = true
		switch {
		case term != nil && term.Reason != "":
			reason = "Init:" + term.Reason
		case term != nil && term.Signal != 0:
			reason = fmt.Sprintf("Init:Signal:%d", term.Signal)
		case term != nil:
			reason = fmt.Sprintf("Init:ExitCode:%d", term.ExitCode)
		case waiting != nil && waiting.Reason != "" && waiting.Reason != "PodInitializing":
			reason = "Init:" + waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		break
	}

	initialized, _ := tablePodCondition(pod, corev1.PodInitialized)
	if !initializing || initialized == corev1.ConditionTrue {
		// Init container restarts only count for sidecars once the pod is initialized.
		restarts, lastRestart = sidecarRestarts, lastSidecarRestart
		hasRunning := false
		errorReason := ""
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := &pod.Status.ContainerStatuses[i]
			restarts += int(cs.RestartCount)
			lastRestart = tableLastTerminated(lastRestart, cs)
			switch term := cs.State.Terminated; {
			case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
				reason = cs.State.Waiting.Reason
			case term != nil:
				switch {
				case term.Reason != "":
					reason = term.Reason
				case term.Signal != 0:
					reason = fmt.Sprintf("Signal:%d", term.Signal)
				default:
					reason = fmt.Sprintf("ExitCode:%d", term.ExitCode)
				}
				if term.ExitCode != 0 {
					errorReason = reason
				}
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				ready++
			}
		}
		// A completed container must not hide one that still runs.
		if reason == "Completed" {
			podReady, _ := tablePodCondition(pod, corev1.PodReady)
			switch {
			case hasRunning && podReady == corev1.ConditionTrue:
				reason = "Running"
			case errorReason != "":
				reason = errorReason
			case hasRunning:
				reason = "NotReady"
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == "NodeLost":
			reason = "Unknown"
		case pod.Status.Phase != corev1.PodFailed && pod.Status.Phase != corev1.PodSucceeded:
			reason = "Terminating"
		}
	}

	restartsCell := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		restartsCell = fmt.Sprintf("%d (%s ago)", restarts, tableAge(lastRestart))
	}

	// The internal type keeps only podIPs; conversion makes podIP authoritative.
	podIP := pod.Status.PodIP
	if podIP == "" && len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	readinessGates := "<none>"
	if n := len(pod.Spec.ReadinessGates); n > 0 {
		trueGates := 0
		for _, g := range pod.Spec.ReadinessGates {
			if s, _ := tablePodCondition(pod, g.ConditionType); s == corev1.ConditionTrue {
				trueGates++
			}
		}
		readinessGates = fmt.Sprintf("%d/%d", trueGates, n)
	}

	return []interface{}{
		pod.Name,
		fmt.Sprintf("%d/%d", ready, total),
		reason,
		restartsCell,
		tableAge(pod.CreationTimestamp),
		tableOrNone(podIP),
		tableOrNone(pod.Spec.NodeName),
		tableOrNone(pod.Status.NominatedNodeName),
		readinessGates,
	}
}

func tableOrNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func tableOrUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

// Nodes.

func tableNodeCells(node *corev1.Node) []interface{} {
	// Only the Ready condition is reported; the last one of that type wins, as upstream.
	var status []string
	var readyCond *corev1.NodeCondition
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == corev1.NodeReady {
			readyCond = &node.Status.Conditions[i]
		}
	}
	switch {
	case readyCond == nil:
		status = append(status, "Unknown")
	case readyCond.Status == corev1.ConditionTrue:
		status = append(status, "Ready")
	default:
		status = append(status, "NotReady")
	}
	if node.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}

	roles := tableNodeRoles(node.Labels)
	if roles == "" {
		roles = "<none>"
	}

	info := node.Status.NodeInfo
	kernel := tableOrUnknown(info.KernelVersion)
	if info.Architecture != "" {
		kernel += " (" + info.Architecture + ")"
	}
	return []interface{}{
		node.Name,
		strings.Join(status, ","),
		roles,
		tableAge(node.CreationTimestamp),
		info.KubeletVersion,
		tableNodeAddress(node, corev1.NodeInternalIP),
		tableNodeAddress(node, corev1.NodeExternalIP),
		tableOrUnknown(info.OSImage),
		kernel,
		tableOrUnknown(info.ContainerRuntimeVersion),
	}
}

// tableNodeRoles collects roles from node-role.kubernetes.io/<role> label keys and the
// kubernetes.io/role label value, sorted and de-duplicated.
func tableNodeRoles(nodeLabels map[string]string) string {
	set := map[string]bool{}
	for k, v := range nodeLabels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if role := strings.TrimPrefix(k, "node-role.kubernetes.io/"); role != "" {
				set[role] = true
			}
		case k == "kubernetes.io/role" && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return strings.Join(roles, ",")
}

func tableNodeAddress(node *corev1.Node, typ corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return "<none>"
}

// Services.

func tableServiceCells(svc *corev1.Service) []interface{} {
	// Upstream prints clusterIPs[0]; a real server always fills clusterIPs from clusterIP,
	// so fall back to the latter for objects stored without it.
	clusterIP := "<none>"
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	} else if svc.Spec.ClusterIP != "" {
		clusterIP = svc.Spec.ClusterIP
	}
	ports := make([]string, len(svc.Spec.Ports))
	for i, p := range svc.Spec.Ports {
		if p.NodePort > 0 {
			ports[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			ports[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	portsCell := strings.Join(ports, ",")
	if portsCell == "" {
		portsCell = "<none>"
	}
	return []interface{}{
		svc.Name,
		string(svc.Spec.Type),
		clusterIP,
		tableServiceExternalIP(svc),
		portsCell,
		tableAge(svc.CreationTimestamp),
		tableLabels(svc.Spec.Selector),
	}
}

func tableServiceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		ips := tableLoadBalancerIPs(svc.Status.LoadBalancer.Ingress)
		ips = append(ips, svc.Spec.ExternalIPs...)
		if len(ips) > 0 {
			return strings.Join(ips, ",")
		}
		return "<pending>"
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// tableLoadBalancerIPs returns the sorted, unique IPs (or hostnames) of load-balancer
// ingress points. The server prints wide, so the list is never clipped.
func tableLoadBalancerIPs(ingress []corev1.LoadBalancerIngress) []string {
	values := make([]string, len(ingress))
	for i, in := range ingress {
		values[i] = in.IP
		if in.IP == "" {
			values[i] = in.Hostname
		}
	}
	return tableSortedSet(values)
}

// Endpoints: up to three ip:port pairs, then "+ N more...".
func tableEndpoints(subsets []corev1.EndpointSubset) string {
	if len(subsets) == 0 {
		return "<none>"
	}
	var list []string
	for _, ss := range subsets {
		if len(ss.Ports) == 0 {
			// Headless services may have no ports.
			for _, a := range ss.Addresses {
				list = append(list, a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	return tableListWithMore(list, 3, "")
}

// Events.

func tableEventCells(e *corev1.Event) []interface{} {
	first := tableAge(e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		first = tableMicroAge(e.EventTime)
	}
	last := tableAge(e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = tableMicroAge(e.Series.LastObservedTime)
		count = e.Series.Count
	} else if count == 0 {
		// Singleton events of the new API have no count.
		count = 1
	}

	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}

	component, host := e.Source.Component, e.Source.Host
	if component == "" {
		component = e.ReportingController
	}
	if host == "" {
		host = e.ReportingInstance
	}
	source := component
	if host != "" {
		source += ", " + host
	}

	return []interface{}{
		last,
		e.Type,
		e.Reason,
		target,
		e.InvolvedObject.FieldPath,
		source,
		strings.TrimSpace(e.Message),
		first,
		int64(count),
		e.Name,
	}
}

// tableCoreEvent maps an events.k8s.io/v1 Event onto the core fields the printer reads,
// as the real server's conversion to the internal type does.
func tableCoreEvent(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		ObjectMeta:          e.ObjectMeta,
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

// Persistent volumes and claims.

func tableAccessModes(modes []corev1.PersistentVolumeAccessMode) string {
	has := map[corev1.PersistentVolumeAccessMode]bool{}
	for _, m := range modes {
		has[m] = true
	}
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	} {
		if has[m.mode] {
			out = append(out, m.short)
		}
	}
	return strings.Join(out, ",")
}

func tableUnsetOr[T ~string](p *T) string {
	if p == nil {
		return "<unset>"
	}
	return string(*p)
}

func tablePersistentVolumeCells(pv *corev1.PersistentVolume) []interface{} {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	// The beta annotation wins over the field.
	class, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]
	if !ok {
		class = pv.Spec.StorageClassName
	}
	return []interface{}{
		pv.Name,
		capacity.String(),
		tableAccessModes(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy),
		phase,
		claim,
		class,
		tableUnsetOr(pv.Spec.VolumeAttributesClassName),
		pv.Status.Reason,
		tableAge(pv.CreationTimestamp),
		tableUnsetOr(pv.Spec.VolumeMode),
	}
}

func tablePersistentVolumeClaimCells(pvc *corev1.PersistentVolumeClaim) []interface{} {
	phase := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	// Capacity and access modes are only meaningful once bound.
	capacity, modes := "", ""
	if pvc.Spec.VolumeName != "" {
		q := pvc.Status.Capacity[corev1.ResourceStorage]
		capacity = q.String()
		modes = tableAccessModes(pvc.Status.AccessModes)
	}
	class, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]
	if !ok && pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	return []interface{}{
		pvc.Name,
		phase,
		pvc.Spec.VolumeName,
		capacity,
		modes,
		class,
		tableUnsetOr(pvc.Spec.VolumeAttributesClassName),
		tableAge(pvc.CreationTimestamp),
		tableUnsetOr(pvc.Spec.VolumeMode),
	}
}

// Resource quotas: "resource: used/hard" pairs sorted by name, limits.* in their own column.
func tableResourceQuotaCells(rq *corev1.ResourceQuota) []interface{} {
	names := make([]string, 0, len(rq.Status.Hard))
	for n := range rq.Status.Hard {
		names = append(names, string(n))
	}
	sort.Strings(names)
	var requests, limits []string
	for _, n := range names {
		used := rq.Status.Used[corev1.ResourceName(n)]
		hard := rq.Status.Hard[corev1.ResourceName(n)]
		entry := fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
		if pieces := strings.Split(n, "."); len(pieces) > 1 && pieces[0] == "limits" {
			limits = append(limits, entry)
		} else {
			requests = append(requests, entry)
		}
	}
	return []interface{}{rq.Name, strings.Join(requests, ", "), strings.Join(limits, ", "), tableAge(rq.CreationTimestamp)}
}

func tableComponentStatusCells(cs *corev1.ComponentStatus) []interface{} {
	status, message, errMsg := "Unknown", "", ""
	for _, c := range cs.Conditions {
		if c.Type == corev1.ComponentHealthy {
			status = "Unhealthy"
			if c.Status == corev1.ConditionTrue {
				status = "Healthy"
			}
			message, errMsg = c.Message, c.Error
			break
		}
	}
	return []interface{}{cs.Name, status, message, errMsg}
}
