package mockapi

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/utils/ptr"
)

// tableCase is one object and the exact cells a 1.36 kube-apiserver prints for it
// (wide, as the server always does).
type tableCase struct {
	name     string
	resource schema.GroupResource
	obj      runtime.Object
	cells    []interface{}
}

// Timestamps are relative to when the fixtures are built, right before printing, so ages
// with second precision stay exact however long other tests ran before.
func tableAgo(d time.Duration) metav1.Time { return metav1.NewTime(time.Now().Add(-d)) }

func tableMicroAgo(d time.Duration) metav1.MicroTime {
	return metav1.NewMicroTime(time.Now().Add(-d))
}

func tableMeta(name string, age time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: tableAgo(age)}
}

func tableGR(group, resource string) schema.GroupResource {
	return schema.GroupResource{Group: group, Resource: resource}
}

func tableContainerList(names ...string) []corev1.Container {
	out := make([]corev1.Container, len(names))
	for i, n := range names {
		out[i] = corev1.Container{Name: n, Image: "registry.local/" + n + ":1.0"}
	}
	return out
}

func tablePodTemplate(names ...string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: tableContainerList(names...)}}
}

func tableRunning(ready bool, restarts int32, lastRestart time.Duration) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Ready: ready, RestartCount: restarts, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	if lastRestart > 0 {
		cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: tableAgo(lastRestart)}
	}
	return cs
}

func tableWaiting(reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func tableTerminated(reason string, exitCode, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exitCode, Signal: signal}}}
}

func tableQty(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

var (
	tableCore        = tableGR("", "pods")
	tableNodes       = tableGR("", "nodes")
	tableServices    = tableGR("", "services")
	tableEventsCore  = tableGR("", "events")
	tableEventsGroup = tableGR("events.k8s.io", "events")
	tableHPAs        = tableGR("autoscaling", "horizontalpodautoscalers")
	tableJobs        = tableGR("batch", "jobs")
)

func tablePodCases() []tableCase {
	sidecar := corev1.ContainerRestartPolicyAlways
	return []tableCase{
		{
			name:     "running pod with restart, readiness gates and wide columns",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("web-0", 3*time.Hour+10*time.Minute),
				Spec: corev1.PodSpec{
					NodeName:       "node-1",
					Containers:     tableContainerList("app", "proxy"),
					ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}},
				},
				Status: corev1.PodStatus{
					Phase:             corev1.PodRunning,
					PodIP:             "10.42.0.7",
					PodIPs:            []corev1.PodIP{{IP: "10.42.0.7"}, {IP: "fd00::7"}},
					NominatedNodeName: "node-2",
					Conditions: []corev1.PodCondition{
						{Type: corev1.PodReady, Status: corev1.ConditionTrue},
						{Type: "example.com/lb", Status: corev1.ConditionTrue},
						{Type: "example.com/dns", Status: corev1.ConditionFalse},
					},
					ContainerStatuses: []corev1.ContainerStatus{tableRunning(true, 2, 5*time.Minute+20*time.Second), tableRunning(false, 1, 40*time.Minute)},
				},
			},
			cells: []interface{}{"web-0", "1/2", "Running", "3 (5m20s ago)", "3h10m", "10.42.0.7", "node-1", "node-2", "1/2"},
		},
		{
			name:     "crash loop",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("crash", 50*time.Minute),
				Spec:       corev1.PodSpec{Containers: tableContainerList("app")},
				Status: corev1.PodStatus{
					Phase:             corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{func() corev1.ContainerStatus { cs := tableWaiting("CrashLoopBackOff"); cs.RestartCount = 7; return cs }()},
				},
			},
			cells: []interface{}{"crash", "0/1", "CrashLoopBackOff", "7", "50m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "waiting for the second init container",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("init", 26*time.Hour),
				Spec:       corev1.PodSpec{InitContainers: tableContainerList("a", "b"), Containers: tableContainerList("app")},
				Status: corev1.PodStatus{
					Phase:                 corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{tableTerminated("Completed", 0, 0), tableRunning(false, 0, 0)},
					ContainerStatuses:     []corev1.ContainerStatus{tableWaiting("PodInitializing")},
				},
			},
			cells: []interface{}{"init", "0/1", "Init:1/2", "0", "26h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "init container crash looping",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("init-crash", 3*24*time.Hour+5*time.Hour),
				Spec:       corev1.PodSpec{InitContainers: tableContainerList("a"), Containers: tableContainerList("app")},
				Status: corev1.PodStatus{
					Phase:                 corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{func() corev1.ContainerStatus { cs := tableWaiting("CrashLoopBackOff"); cs.RestartCount = 4; return cs }()},
					ContainerStatuses:     []corev1.ContainerStatus{tableWaiting("PodInitializing")},
				},
			},
			cells: []interface{}{"init-crash", "0/1", "Init:CrashLoopBackOff", "4", "3d5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "init container killed by a signal",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("init-signal", 15*time.Minute),
				Spec:       corev1.PodSpec{InitContainers: tableContainerList("a"), Containers: tableContainerList("app")},
				Status: corev1.PodStatus{
					Phase:                 corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{tableTerminated("", 137, 9)},
				},
			},
			cells: []interface{}{"init-signal", "0/1", "Init:Signal:9", "0", "15m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "init container exit code",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("init-exit", 15*time.Minute),
				Spec:       corev1.PodSpec{InitContainers: tableContainerList("a"), Containers: tableContainerList("app")},
				Status: corev1.PodStatus{
					Phase:                 corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{tableTerminated("", 2, 0)},
				},
			},
			cells: []interface{}{"init-exit", "0/1", "Init:ExitCode:2", "0", "15m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "succeeded",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("done", 10*24*time.Hour),
				Spec:       corev1.PodSpec{NodeName: "node-1", Containers: tableContainerList("job")},
				Status: corev1.PodStatus{
					Phase:             corev1.PodSucceeded,
					PodIPs:            []corev1.PodIP{{IP: "10.42.0.9"}},
					ContainerStatuses: []corev1.ContainerStatus{tableTerminated("Completed", 0, 0)},
				},
			},
			cells: []interface{}{"done", "0/1", "Completed", "0", "10d", "10.42.0.9", "node-1", "<none>", "<none>"},
		},
		{
			name:     "completed container next to a running one without pod readiness",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("half", 5*time.Hour),
				Spec:       corev1.PodSpec{Containers: tableContainerList("a", "b")},
				Status: corev1.PodStatus{
					Phase:             corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{tableTerminated("Completed", 0, 0), tableRunning(true, 0, 0)},
				},
			},
			cells: []interface{}{"half", "1/2", "NotReady", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "error exit wins over completed",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("mixed", 5*time.Hour),
				Spec:       corev1.PodSpec{Containers: tableContainerList("a", "b")},
				Status: corev1.PodStatus{
					Phase:             corev1.PodFailed,
					ContainerStatuses: []corev1.ContainerStatus{tableTerminated("Completed", 0, 0), tableTerminated("", 3, 0)},
				},
			},
			cells: []interface{}{"mixed", "0/2", "ExitCode:3", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "terminating",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: func() metav1.ObjectMeta {
					m := tableMeta("bye", 5*time.Hour)
					m.DeletionTimestamp = ptr.To(tableAgo(30 * time.Second))
					return m
				}(),
				Spec:   corev1.PodSpec{Containers: tableContainerList("app")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{tableRunning(true, 0, 0)}},
			},
			cells: []interface{}{"bye", "1/1", "Terminating", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "node lost",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: func() metav1.ObjectMeta {
					m := tableMeta("lost", 5*time.Hour)
					m.DeletionTimestamp = ptr.To(tableAgo(30 * time.Second))
					return m
				}(),
				Spec:   corev1.PodSpec{Containers: tableContainerList("app")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"},
			},
			cells: []interface{}{"lost", "0/1", "Unknown", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "scheduling gated",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("gated", 4*time.Minute+30*time.Second),
				Spec:       corev1.PodSpec{Containers: tableContainerList("app")},
				Status: corev1.PodStatus{
					Phase:      corev1.PodPending,
					Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated}},
				},
			},
			cells: []interface{}{"gated", "0/1", "SchedulingGated", "0", "4m30s", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "evicted",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("evicted", 9*time.Hour),
				Spec:       corev1.PodSpec{Containers: tableContainerList("app")},
				Status:     corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"},
			},
			cells: []interface{}{"evicted", "0/1", "Evicted", "0", "9h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "started sidecar counts as ready, only its restarts count",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("sidecar", 3*time.Hour),
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "setup"}, {Name: "mesh", RestartPolicy: &sidecar}},
					Containers:     tableContainerList("app"),
				},
				Status: corev1.PodStatus{
					Phase:      corev1.PodRunning,
					Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
					InitContainerStatuses: []corev1.ContainerStatus{
						func() corev1.ContainerStatus {
							cs := tableTerminated("Completed", 0, 0)
							cs.Name, cs.RestartCount = "setup", 5
							return cs
						}(),
						func() corev1.ContainerStatus {
							cs := tableRunning(true, 1, 2*time.Hour+15*time.Minute)
							cs.Name, cs.Started = "mesh", ptr.To(true)
							return cs
						}(),
					},
					ContainerStatuses: []corev1.ContainerStatus{tableRunning(true, 0, 0)},
				},
			},
			cells: []interface{}{"sidecar", "2/2", "Running", "1 (135m ago)", "3h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name:     "podIP wins over a different podIPs[0]",
			resource: tableCore,
			obj: &corev1.Pod{
				ObjectMeta: tableMeta("ips", 3*time.Hour),
				Spec:       corev1.PodSpec{Containers: tableContainerList("app")},
				Status:     corev1.PodStatus{Phase: corev1.PodPending, PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.2"}}},
			},
			cells: []interface{}{"ips", "0/1", "Pending", "0", "3h", "10.0.0.1", "<none>", "<none>", "<none>"},
		},
	}
}

func tableNodeCases() []tableCase {
	return []tableCase{
		{
			name:     "ready control plane",
			resource: tableNodes,
			obj: &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: "cp-1", CreationTimestamp: tableAgo(400 * 24 * time.Hour), Labels: map[string]string{
					"node-role.kubernetes.io/control-plane": "",
					"node-role.kubernetes.io/etcd":          "true",
					"node-role.kubernetes.io/":              "",
					"kubernetes.io/hostname":                "cp-1",
				}},
				Status: corev1.NodeStatus{
					Conditions: []corev1.NodeCondition{
						{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
						{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
					},
					Addresses: []corev1.NodeAddress{
						{Type: corev1.NodeHostName, Address: "cp-1"},
						{Type: corev1.NodeInternalIP, Address: "192.168.0.10"},
						{Type: corev1.NodeInternalIP, Address: "192.168.0.11"},
						{Type: corev1.NodeExternalIP, Address: "203.0.113.10"},
					},
					NodeInfo: corev1.NodeSystemInfo{
						KubeletVersion:          "v1.36.3",
						OSImage:                 "Ubuntu 24.04.2 LTS",
						KernelVersion:           "6.8.0-60-generic",
						Architecture:            "amd64",
						ContainerRuntimeVersion: "containerd://2.1.1",
					},
				},
			},
			cells: []interface{}{"cp-1", "Ready", "control-plane,etcd", "400d", "v1.36.3", "192.168.0.10", "203.0.113.10",
				"Ubuntu 24.04.2 LTS", "6.8.0-60-generic (amd64)", "containerd://2.1.1"},
		},
		{
			name:     "cordoned and not ready worker",
			resource: tableNodes,
			obj: &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: "w-1", CreationTimestamp: tableAgo(3 * 365 * 24 * time.Hour), Labels: map[string]string{"kubernetes.io/role": "worker"}},
				Spec:       corev1.NodeSpec{Unschedulable: true},
				Status: corev1.NodeStatus{
					Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}},
					NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.35.0"},
				},
			},
			cells: []interface{}{"w-1", "NotReady,SchedulingDisabled", "worker", "3y", "v1.35.0", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"},
		},
		{
			name:     "no conditions, no roles, no creation time",
			resource: tableNodes,
			obj:      &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "new"}},
			cells:    []interface{}{"new", "Unknown", "<none>", "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"},
		},
	}
}

func tableServiceCases() []tableCase {
	return []tableCase{
		{
			name:     "cluster IP",
			resource: tableServices,
			obj: &corev1.Service{
				ObjectMeta: tableMeta("web", 5*time.Hour),
				Spec: corev1.ServiceSpec{
					Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.43.0.10", ClusterIPs: []string{"10.43.0.10", "fd00::10"},
					Ports:    []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}, {Port: 53, Protocol: corev1.ProtocolUDP}},
					Selector: map[string]string{"app": "web", "tier": "front"},
				},
			},
			cells: []interface{}{"web", "ClusterIP", "10.43.0.10", "<none>", "80/TCP,53/UDP", "5h", "app=web,tier=front"},
		},
		{
			name:     "node port with external IPs",
			resource: tableServices,
			obj: &corev1.Service{
				ObjectMeta: tableMeta("np", 5*time.Hour),
				Spec: corev1.ServiceSpec{
					Type: corev1.ServiceTypeNodePort, ClusterIPs: []string{"10.43.0.11"}, ExternalIPs: []string{"1.2.3.4", "5.6.7.8"},
					Ports: []corev1.ServicePort{{Port: 443, NodePort: 30443, Protocol: corev1.ProtocolTCP}},
				},
			},
			cells: []interface{}{"np", "NodePort", "10.43.0.11", "1.2.3.4,5.6.7.8", "443:30443/TCP", "5h", "<none>"},
		},
		{
			name:     "pending load balancer",
			resource: tableServices,
			obj: &corev1.Service{
				ObjectMeta: tableMeta("lb", 5*time.Hour),
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.43.0.12"}},
			},
			cells: []interface{}{"lb", "LoadBalancer", "10.43.0.12", "<pending>", "<none>", "5h", "<none>"},
		},
		{
			name:     "load balancer addresses are sorted, unique and not clipped",
			resource: tableServices,
			obj: &corev1.Service{
				ObjectMeta: tableMeta("lb2", 5*time.Hour),
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.43.0.13"}, ExternalIPs: []string{"9.9.9.9"}},
				Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
					{Hostname: "lb.example.com"}, {IP: "203.0.113.1"}, {IP: "203.0.113.1"}, {IP: "198.51.100.1", Hostname: "ignored"},
				}}},
			},
			cells: []interface{}{"lb2", "LoadBalancer", "10.43.0.13", "198.51.100.1,203.0.113.1,lb.example.com,9.9.9.9", "<none>", "5h", "<none>"},
		},
		{
			name:     "external name",
			resource: tableServices,
			obj: &corev1.Service{
				ObjectMeta: tableMeta("ext", 5*time.Hour),
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"},
			},
			cells: []interface{}{"ext", "ExternalName", "<none>", "db.example.com", "<none>", "5h", "<none>"},
		},
		{
			name:     "headless",
			resource: tableServices,
			obj: &corev1.Service{
				ObjectMeta: tableMeta("headless", 5*time.Hour),
				Spec: corev1.ServiceSpec{
					Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", ClusterIPs: []string{"None"},
					Ports: []corev1.ServicePort{{Port: 5432, Protocol: corev1.ProtocolTCP}}, Selector: map[string]string{"app": "db"},
				},
			},
			cells: []interface{}{"headless", "ClusterIP", "None", "<none>", "5432/TCP", "5h", "app=db"},
		},
	}
}

func tableEventCases() []tableCase {
	return []tableCase{
		{
			name:     "legacy event with count and source",
			resource: tableEventsCore,
			obj: &corev1.Event{
				ObjectMeta:     tableMeta("web-0.17f3a", 20*time.Minute),
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-0", FieldPath: "spec.containers{app}"},
				Reason:         "BackOff",
				Message:        "  Back-off restarting failed container\n",
				Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
				FirstTimestamp: tableAgo(20 * time.Minute),
				LastTimestamp:  tableAgo(3*time.Minute + 5*time.Second),
				Count:          12,
				Type:           corev1.EventTypeWarning,
			},
			cells: []interface{}{"3m5s", "Warning", "BackOff", "pod/web-0", "spec.containers{app}", "kubelet, node-1",
				"Back-off restarting failed container", "20m", int64(12), "web-0.17f3a"},
		},
		{
			name:     "new-style event with series and reporting controller",
			resource: tableEventsCore,
			obj: &corev1.Event{
				ObjectMeta:          tableMeta("ns.1", time.Hour),
				InvolvedObject:      corev1.ObjectReference{Kind: "Namespace"},
				Reason:              "Synced",
				Message:             "ok",
				EventTime:           tableMicroAgo(time.Hour),
				Series:              &corev1.EventSeries{Count: 4, LastObservedTime: tableMicroAgo(7 * time.Minute)},
				ReportingController: "example.com/controller",
				Type:                corev1.EventTypeNormal,
			},
			cells: []interface{}{"7m", "Normal", "Synced", "namespace", "", "example.com/controller", "ok", "60m", int64(4), "ns.1"},
		},
		{
			name:     "events.k8s.io event prints like its core form",
			resource: tableEventsGroup,
			obj: &eventsv1.Event{
				ObjectMeta:          tableMeta("deploy.2", 5*time.Hour),
				EventTime:           tableMicroAgo(5 * time.Hour),
				ReportingController: "deployment-controller",
				ReportingInstance:   "kcm-1",
				Reason:              "ScalingReplicaSet",
				Regarding:           corev1.ObjectReference{Kind: "Deployment", Name: "web"},
				Note:                "Scaled up replica set web-7d4 to 3",
				Type:                corev1.EventTypeNormal,
			},
			cells: []interface{}{"5h", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller, kcm-1",
				"Scaled up replica set web-7d4 to 3", "5h", int64(1), "deploy.2"},
		},
	}
}

func tableWorkloadCases() []tableCase {
	return []tableCase{
		{
			name:     "deployment",
			resource: tableGR("apps", "deployments"),
			obj: &appsv1.Deployment{
				ObjectMeta: tableMeta("web", 6*time.Hour+59*time.Minute),
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr.To[int32](3),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}, MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}},
					Template: tablePodTemplate("app", "proxy"),
				},
				Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2},
			},
			cells: []interface{}{"web", "2/3", int64(3), int64(2), "6h59m", "app,proxy", "registry.local/app:1.0,registry.local/proxy:1.0", "app=web,tier in (a,b)"},
		},
		{
			name:     "deployment without replicas or selector",
			resource: tableGR("apps", "deployments"),
			obj:      &appsv1.Deployment{ObjectMeta: tableMeta("bare", 8*24*time.Hour)},
			cells:    []interface{}{"bare", "0/0", int64(0), int64(0), "8d", "", "", ""},
		},
		{
			name:     "replica set",
			resource: tableGR("apps", "replicasets"),
			obj: &appsv1.ReplicaSet{
				ObjectMeta: tableMeta("web-7d4", 6*time.Hour),
				Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: tablePodTemplate("app")},
				Status:     appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1},
			},
			cells: []interface{}{"web-7d4", int64(3), int64(3), int64(1), "6h", "app", "registry.local/app:1.0", "app=web"},
		},
		{
			name:     "replica set with empty selector",
			resource: tableGR("apps", "replicasets"),
			obj:      &appsv1.ReplicaSet{ObjectMeta: tableMeta("empty", 6*time.Hour), Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{}}},
			cells:    []interface{}{"empty", int64(0), int64(0), int64(0), "6h", "", "", "<none>"},
		},
		{
			name:     "daemon set",
			resource: tableGR("apps", "daemonsets"),
			obj: &appsv1.DaemonSet{
				ObjectMeta: tableMeta("agent", 6*time.Hour),
				Spec: appsv1.DaemonSetSpec{
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
					Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: tableContainerList("agent"), NodeSelector: map[string]string{"kubernetes.io/os": "linux"}}},
				},
				Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 5, CurrentNumberScheduled: 5, NumberReady: 4, UpdatedNumberScheduled: 3, NumberAvailable: 4},
			},
			cells: []interface{}{"agent", int64(5), int64(5), int64(4), int64(3), int64(4), "kubernetes.io/os=linux", "6h", "agent", "registry.local/agent:1.0", "app=agent"},
		},
		{
			name:     "stateful set",
			resource: tableGR("apps", "statefulsets"),
			obj: &appsv1.StatefulSet{
				ObjectMeta: tableMeta("db", 6*time.Hour),
				Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3), Template: tablePodTemplate("db", "metrics")},
				Status:     appsv1.StatefulSetStatus{ReadyReplicas: 3},
			},
			cells: []interface{}{"db", "3/3", "6h", "db,metrics", "registry.local/db:1.0,registry.local/metrics:1.0"},
		},
		{
			name:     "controller revision",
			resource: tableGR("apps", "controllerrevisions"),
			obj: &appsv1.ControllerRevision{
				ObjectMeta: func() metav1.ObjectMeta {
					m := tableMeta("db-6c8", 6*time.Hour)
					m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", Controller: ptr.To(true)}}
					return m
				}(),
				Revision: 4,
			},
			cells: []interface{}{"db-6c8", "statefulset.apps/db", int64(4), "6h"},
		},
		{
			name:     "replication controller",
			resource: tableGR("", "replicationcontrollers"),
			obj: &corev1.ReplicationController{
				ObjectMeta: tableMeta("legacy", 6*time.Hour),
				Spec:       corev1.ReplicationControllerSpec{Replicas: ptr.To[int32](2), Selector: map[string]string{"app": "legacy"}, Template: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: tableContainerList("app")}}},
				Status:     corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 2},
			},
			cells: []interface{}{"legacy", int64(2), int64(2), int64(2), "6h", "app", "registry.local/app:1.0", "app=legacy"},
		},
		{
			name:     "pod template",
			resource: tableGR("", "podtemplates"),
			obj: &corev1.PodTemplate{
				ObjectMeta: tableMeta("tpl", 6*time.Hour),
				Template:   corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}, Spec: corev1.PodSpec{Containers: tableContainerList("x")}},
			},
			cells: []interface{}{"tpl", "x", "registry.local/x:1.0", "app=x"},
		},
		{
			name:     "complete job",
			resource: tableJobs,
			obj: &batchv1.Job{
				ObjectMeta: tableMeta("once", 5*time.Hour),
				Spec:       batchv1.JobSpec{Completions: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/job-name": "once"}}, Template: tablePodTemplate("task")},
				Status: batchv1.JobStatus{
					Succeeded: 1, StartTime: ptr.To(tableAgo(5 * time.Hour)), CompletionTime: ptr.To(tableAgo(5*time.Hour - 95*time.Second)),
					Conditions: []batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue}, {Type: batchv1.JobComplete, Status: corev1.ConditionTrue}},
				},
			},
			cells: []interface{}{"once", "Complete", "1/1", "95s", "5h", "task", "registry.local/task:1.0", "batch.kubernetes.io/job-name=once"},
		},
		{
			name:     "running parallel job",
			resource: tableJobs,
			obj: &batchv1.Job{
				ObjectMeta: tableMeta("work", 5*time.Hour),
				Spec:       batchv1.JobSpec{Parallelism: ptr.To[int32](4), Template: tablePodTemplate("w")},
				Status:     batchv1.JobStatus{Succeeded: 2, StartTime: ptr.To(tableAgo(time.Hour + 10*time.Minute))},
			},
			cells: []interface{}{"work", "Running", "2/1 of 4", "70m", "5h", "w", "registry.local/w:1.0", "<none>"},
		},
		{
			name:     "failed job",
			resource: tableJobs,
			obj: &batchv1.Job{
				ObjectMeta: tableMeta("bad", 5*time.Hour),
				Status:     batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue}, {Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}},
			},
			cells: []interface{}{"bad", "Failed", "0/1", "", "5h", "", "", "<none>"},
		},
		{
			name:     "suspended job",
			resource: tableJobs,
			obj: &batchv1.Job{
				ObjectMeta: tableMeta("later", 5*time.Hour),
				Spec:       batchv1.JobSpec{Completions: ptr.To[int32](3)},
				Status:     batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionFalse}, {Type: batchv1.JobSuspended, Status: corev1.ConditionTrue}}},
			},
			cells: []interface{}{"later", "Suspended", "0/3", "", "5h", "", "", "<none>"},
		},
		{
			name:     "cron job",
			resource: tableGR("batch", "cronjobs"),
			obj: &batchv1.CronJob{
				ObjectMeta: tableMeta("nightly", 30*24*time.Hour),
				Spec: batchv1.CronJobSpec{
					Schedule: "0 2 * * *", TimeZone: ptr.To("Europe/Berlin"), Suspend: ptr.To(false),
					JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tablePodTemplate("backup")}},
				},
				Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "nightly-1"}}, LastScheduleTime: ptr.To(tableAgo(22 * time.Hour))},
			},
			cells: []interface{}{"nightly", "0 2 * * *", "Europe/Berlin", "False", int64(1), "22h", "30d", "backup", "registry.local/backup:1.0", "<none>"},
		},
		{
			name:     "cron job never scheduled",
			resource: tableGR("batch", "cronjobs"),
			obj:      &batchv1.CronJob{ObjectMeta: tableMeta("new", 30*24*time.Hour), Spec: batchv1.CronJobSpec{Schedule: "@hourly"}},
			cells:    []interface{}{"new", "@hourly", "<none>", "<unset>", int64(0), "<none>", "30d", "", "", "<none>"},
		},
	}
}

func tableConfigCases() []tableCase {
	return []tableCase{
		{
			name:     "namespace",
			resource: tableGR("", "namespaces"),
			obj:      &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", CreationTimestamp: tableAgo(100 * 24 * time.Hour)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			cells:    []interface{}{"kube-system", "Active", "100d"},
		},
		{
			name:     "terminating namespace",
			resource: tableGR("", "namespaces"),
			obj:      &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "old", CreationTimestamp: tableAgo(100 * 24 * time.Hour)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			cells:    []interface{}{"old", "Terminating", "100d"},
		},
		{
			name:     "config map counts data and binary data",
			resource: tableGR("", "configmaps"),
			obj:      &corev1.ConfigMap{ObjectMeta: tableMeta("cfg", 5*time.Hour), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}},
			cells:    []interface{}{"cfg", int64(3), "5h"},
		},
		{
			name:     "secret counts stringData merged into data",
			resource: tableGR("", "secrets"),
			obj: &corev1.Secret{
				ObjectMeta: tableMeta("tls", 5*time.Hour), Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{"tls.crt": {1}, "tls.key": {2}}, StringData: map[string]string{"tls.key": "x", "ca.crt": "y"},
			},
			cells: []interface{}{"tls", "kubernetes.io/tls", int64(3), "5h"},
		},
		{
			name:     "service account",
			resource: tableGR("", "serviceaccounts"),
			obj:      &corev1.ServiceAccount{ObjectMeta: tableMeta("default", 5*time.Hour)},
			cells:    []interface{}{"default", "5h"},
		},
		{
			name:     "endpoints without subsets",
			resource: tableGR("", "endpoints"),
			obj:      &corev1.Endpoints{ObjectMeta: tableMeta("none", 5*time.Hour)},
			cells:    []interface{}{"none", "<none>", "5h"},
		},
		{
			name:     "endpoints with more than three address:port pairs",
			resource: tableGR("", "endpoints"),
			obj: &corev1.Endpoints{ObjectMeta: tableMeta("web", 5*time.Hour), Subsets: []corev1.EndpointSubset{{
				Addresses: []corev1.EndpointAddress{{IP: "10.42.0.1"}, {IP: "fd00::2"}},
				Ports:     []corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9090}},
			}, {
				Addresses: []corev1.EndpointAddress{{IP: "10.42.0.3"}},
			}}},
			cells: []interface{}{"web", "10.42.0.1:8080,[fd00::2]:8080,10.42.0.1:9090 + 2 more...", "5h"},
		},
		{
			name:     "endpoints subset without addresses",
			resource: tableGR("", "endpoints"),
			obj: &corev1.Endpoints{ObjectMeta: tableMeta("empty", 5*time.Hour), Subsets: []corev1.EndpointSubset{{
				NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.42.0.1"}}, Ports: []corev1.EndpointPort{{Port: 80}},
			}}},
			cells: []interface{}{"empty", "", "5h"},
		},
		{
			name:     "lease",
			resource: tableGR("coordination.k8s.io", "leases"),
			obj:      &coordinationv1.Lease{ObjectMeta: tableMeta("kube-scheduler", 5*time.Hour), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("cp-1_5f0c")}},
			cells:    []interface{}{"kube-scheduler", "cp-1_5f0c", "5h"},
		},
		{
			name:     "lease without holder",
			resource: tableGR("coordination.k8s.io", "leases"),
			obj:      &coordinationv1.Lease{ObjectMeta: tableMeta("free", 5*time.Hour)},
			cells:    []interface{}{"free", "", "5h"},
		},
		{
			name:     "resource quota",
			resource: tableGR("", "resourcequotas"),
			obj: &corev1.ResourceQuota{ObjectMeta: tableMeta("quota", 5*time.Hour), Status: corev1.ResourceQuotaStatus{
				Hard: corev1.ResourceList{"pods": resource.MustParse("10"), "requests.cpu": resource.MustParse("4"), "limits.memory": resource.MustParse("8Gi"), "limits.cpu": resource.MustParse("8")},
				Used: corev1.ResourceList{"pods": resource.MustParse("3"), "requests.cpu": resource.MustParse("1500m")},
			}},
			cells: []interface{}{"quota", "pods: 3/10, requests.cpu: 1500m/4", "limits.cpu: 0/8, limits.memory: 0/8Gi", "5h"},
		},
		{
			name:     "component status",
			resource: tableGR("", "componentstatuses"),
			obj: &corev1.ComponentStatus{ObjectMeta: metav1.ObjectMeta{Name: "etcd-0"}, Conditions: []corev1.ComponentCondition{
				{Type: corev1.ComponentHealthy, Status: corev1.ConditionTrue, Message: "ok"},
			}},
			cells: []interface{}{"etcd-0", "Healthy", "ok", ""},
		},
	}
}

func tableStorageCases() []tableCase {
	return []tableCase{
		{
			name:     "bound persistent volume with beta class annotation",
			resource: tableGR("", "persistentvolumes"),
			obj: &corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: "pv-1", CreationTimestamp: tableAgo(5 * time.Hour), Annotations: map[string]string{corev1.BetaStorageClassAnnotation: "legacy"}},
				Spec: corev1.PersistentVolumeSpec{
					Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
					AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOnce},
					PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
					ClaimRef:                      &corev1.ObjectReference{Namespace: "default", Name: "data"},
					StorageClassName:              "fast",
					VolumeMode:                    ptr.To(corev1.PersistentVolumeFilesystem),
				},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound},
			},
			cells: []interface{}{"pv-1", "10Gi", "RWO,RWX", "Retain", "Bound", "default/data", "legacy", "<unset>", "", "5h", "Filesystem"},
		},
		{
			name:     "terminating persistent volume",
			resource: tableGR("", "persistentvolumes"),
			obj: &corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: "pv-2", CreationTimestamp: tableAgo(5 * time.Hour), DeletionTimestamp: ptr.To(tableAgo(time.Minute))},
				Spec:       corev1.PersistentVolumeSpec{VolumeAttributesClassName: ptr.To("gold")},
				Status:     corev1.PersistentVolumeStatus{Phase: corev1.VolumeFailed, Reason: "Recycle failed"},
			},
			cells: []interface{}{"pv-2", "0", "", "", "Terminating", "", "", "gold", "Recycle failed", "5h", "<unset>"},
		},
		{
			name:     "bound claim",
			resource: tableGR("", "persistentvolumeclaims"),
			obj: &corev1.PersistentVolumeClaim{
				ObjectMeta: tableMeta("data", 5*time.Hour),
				Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: "pv-1", StorageClassName: ptr.To("fast"), VolumeMode: ptr.To(corev1.PersistentVolumeBlock)},
				Status: corev1.PersistentVolumeClaimStatus{
					Phase: corev1.ClaimBound, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadOnlyMany},
					Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
				},
			},
			cells: []interface{}{"data", "Bound", "pv-1", "10Gi", "ROX,RWOP", "fast", "<unset>", "5h", "Block"},
		},
		{
			name:     "pending claim",
			resource: tableGR("", "persistentvolumeclaims"),
			obj: &corev1.PersistentVolumeClaim{
				ObjectMeta: tableMeta("wait", 5*time.Hour),
				Spec:       corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
				Status:     corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
			},
			cells: []interface{}{"wait", "Pending", "", "", "", "", "<unset>", "5h", "<unset>"},
		},
		{
			name:     "default storage class with unset fields",
			resource: tableGR("storage.k8s.io", "storageclasses"),
			obj: &storagev1.StorageClass{
				ObjectMeta:  metav1.ObjectMeta{Name: "local-path", CreationTimestamp: tableAgo(5 * time.Hour), Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
				Provisioner: "rancher.io/local-path",
			},
			cells: []interface{}{"local-path (default)", "rancher.io/local-path", "Delete", "Immediate", false, "5h"},
		},
		{
			name:     "storage class",
			resource: tableGR("storage.k8s.io", "storageclasses"),
			obj: &storagev1.StorageClass{
				ObjectMeta:           metav1.ObjectMeta{Name: "fast", CreationTimestamp: tableAgo(5 * time.Hour), Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "false"}},
				Provisioner:          "ebs.csi.aws.com",
				ReclaimPolicy:        ptr.To(corev1.PersistentVolumeReclaimRetain),
				VolumeBindingMode:    ptr.To(storagev1.VolumeBindingWaitForFirstConsumer),
				AllowVolumeExpansion: ptr.To(true),
			},
			cells: []interface{}{"fast", "ebs.csi.aws.com", "Retain", "WaitForFirstConsumer", true, "5h"},
		},
		{
			name:     "csi driver with unset fields",
			resource: tableGR("storage.k8s.io", "csidrivers"),
			obj:      &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "csi.example.com", CreationTimestamp: tableAgo(5 * time.Hour)}},
			cells:    []interface{}{"csi.example.com", true, false, false, "<unset>", false, "<none>", "5h"},
		},
		{
			name:     "csi driver",
			resource: tableGR("storage.k8s.io", "csidrivers"),
			obj: &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "ebs.csi.aws.com", CreationTimestamp: tableAgo(5 * time.Hour)}, Spec: storagev1.CSIDriverSpec{
				AttachRequired: ptr.To(false), PodInfoOnMount: ptr.To(true), StorageCapacity: ptr.To(true), RequiresRepublish: ptr.To(true),
				TokenRequests:        []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "aws"}},
				VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent, storagev1.VolumeLifecycleEphemeral},
			}},
			cells: []interface{}{"ebs.csi.aws.com", false, true, true, "vault,aws", true, "Persistent,Ephemeral", "5h"},
		},
		{
			name:     "csi node",
			resource: tableGR("storage.k8s.io", "csinodes"),
			obj:      &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "node-1", CreationTimestamp: tableAgo(5 * time.Hour)}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{Name: "a"}, {Name: "b"}}}},
			cells:    []interface{}{"node-1", int64(2), "5h"},
		},
		{
			name:     "volume attachment",
			resource: tableGR("storage.k8s.io", "volumeattachments"),
			obj: &storagev1.VolumeAttachment{
				ObjectMeta: metav1.ObjectMeta{Name: "csi-123", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec:       storagev1.VolumeAttachmentSpec{Attacher: "ebs.csi.aws.com", NodeName: "node-1", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr.To("pv-1")}},
				Status:     storagev1.VolumeAttachmentStatus{Attached: true},
			},
			cells: []interface{}{"csi-123", "ebs.csi.aws.com", "pv-1", "node-1", true, "5h"},
		},
		{
			name:     "volume attributes class",
			resource: tableGR("storage.k8s.io", "volumeattributesclasses"),
			obj:      &storagev1.VolumeAttributesClass{ObjectMeta: metav1.ObjectMeta{Name: "gold", CreationTimestamp: tableAgo(5 * time.Hour)}, DriverName: "ebs.csi.aws.com"},
			cells:    []interface{}{"gold", "ebs.csi.aws.com", "5h"},
		},
	}
}

func tableNetworkingCases() []tableCase {
	return []tableCase{
		{
			name:     "ingress with many hosts and TLS",
			resource: tableGR("networking.k8s.io", "ingresses"),
			obj: &networkingv1.Ingress{
				ObjectMeta: tableMeta("web", 5*time.Hour),
				Spec: networkingv1.IngressSpec{
					IngressClassName: ptr.To("nginx"),
					TLS:              []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}},
					Rules:            []networkingv1.IngressRule{{Host: "a.example.com"}, {}, {Host: "b.example.com"}, {Host: "c.example.com"}, {Host: "d.example.com"}},
				},
				Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{
					{IP: "203.0.113.20"}, {Hostname: "a-very-long-load-balancer-name.elb.example.com"},
				}}},
			},
			cells: []interface{}{"web", "nginx", "a.example.com,b.example.com,c.example.com + 2 more...", "203.0.113.20,a-very-long-load-balancer-name.elb.example.com", "80, 443", "5h"},
		},
		{
			name:     "ingress without hosts",
			resource: tableGR("networking.k8s.io", "ingresses"),
			obj:      &networkingv1.Ingress{ObjectMeta: tableMeta("default", 5*time.Hour), Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{}}}},
			cells:    []interface{}{"default", "<none>", "*", "", "80", "5h"},
		},
		{
			name:     "default ingress class",
			resource: tableGR("networking.k8s.io", "ingressclasses"),
			obj: &networkingv1.IngressClass{
				ObjectMeta: metav1.ObjectMeta{Name: "nginx", CreationTimestamp: tableAgo(5 * time.Hour), Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
				Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx", Parameters: &networkingv1.IngressClassParametersReference{
					APIGroup: ptr.To("k8s.example.com"), Kind: "IngressParameters", Name: "external-lb",
				}},
			},
			cells: []interface{}{"nginx (default)", "k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/external-lb", "5h"},
		},
		{
			name:     "network policy",
			resource: tableGR("networking.k8s.io", "networkpolicies"),
			obj:      &networkingv1.NetworkPolicy{ObjectMeta: tableMeta("deny-all", 5*time.Hour)},
			cells:    []interface{}{"deny-all", "<none>", "5h"},
		},
		{
			name:     "service CIDR",
			resource: tableGR("networking.k8s.io", "servicecidrs"),
			obj:      &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", CreationTimestamp: tableAgo(5 * time.Hour)}, Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.43.0.0/16", "fd00:43::/108"}}},
			cells:    []interface{}{"kubernetes", "10.43.0.0/16,fd00:43::/108", "5h"},
		},
		{
			name:     "IP address",
			resource: tableGR("networking.k8s.io", "ipaddresses"),
			obj: &networkingv1.IPAddress{ObjectMeta: metav1.ObjectMeta{Name: "10.43.0.1", CreationTimestamp: tableAgo(5 * time.Hour)}, Spec: networkingv1.IPAddressSpec{
				ParentRef: &networkingv1.ParentReference{Resource: "services", Namespace: "default", Name: "kubernetes"},
			}},
			cells: []interface{}{"10.43.0.1", "services/default/kubernetes", "5h"},
		},
		{
			name:     "endpoint slice",
			resource: tableGR("discovery.k8s.io", "endpointslices"),
			obj: &discoveryv1.EndpointSlice{
				ObjectMeta:  tableMeta("web-abc", 5*time.Hour),
				AddressType: discoveryv1.AddressTypeIPv4,
				Ports:       []discoveryv1.EndpointPort{{Port: ptr.To[int32](80)}, {Name: ptr.To("metrics")}, {}, {Port: ptr.To[int32](443)}},
				Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.42.0.1"}}, {Addresses: []string{"10.42.0.2", "10.42.0.3"}}},
			},
			cells: []interface{}{"web-abc", "IPv4", "80,metrics,* + 1 more...", "10.42.0.1,10.42.0.2,10.42.0.3", "5h"},
		},
		{
			name:     "empty endpoint slice",
			resource: tableGR("discovery.k8s.io", "endpointslices"),
			obj:      &discoveryv1.EndpointSlice{ObjectMeta: tableMeta("none", 5*time.Hour), AddressType: discoveryv1.AddressTypeIPv6},
			cells:    []interface{}{"none", "IPv6", "<unset>", "<unset>", "5h"},
		},
	}
}

func tableClusterCases() []tableCase {
	subjects := []rbacv1.Subject{
		{Kind: rbacv1.UserKind, Name: "alice"}, {Kind: rbacv1.GroupKind, Name: "devs"}, {Kind: rbacv1.UserKind, Name: "bob"},
		{Kind: rbacv1.ServiceAccountKind, Namespace: "kube-system", Name: "ci"}, {Kind: "Other", Name: "x"},
	}
	return []tableCase{
		{
			name:     "cluster role binding",
			resource: tableGR("rbac.authorization.k8s.io", "clusterrolebindings"),
			obj: &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "admins", CreationTimestamp: tableAgo(5 * time.Hour)},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
				Subjects:   subjects,
			},
			cells: []interface{}{"admins", "ClusterRole/cluster-admin", "5h", "alice, bob", "devs", "kube-system/ci"},
		},
		{
			name:     "role binding",
			resource: tableGR("rbac.authorization.k8s.io", "rolebindings"),
			obj: &rbacv1.RoleBinding{
				ObjectMeta: tableMeta("readers", 5*time.Hour),
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"},
			},
			cells: []interface{}{"readers", "Role/reader", "5h", "", "", ""},
		},
		{
			name:     "priority class",
			resource: tableGR("scheduling.k8s.io", "priorityclasses"),
			obj: &schedulingv1.PriorityClass{
				ObjectMeta: metav1.ObjectMeta{Name: "system-node-critical", CreationTimestamp: tableAgo(5 * time.Hour)},
				Value:      2000001000, PreemptionPolicy: ptr.To(corev1.PreemptLowerPriority),
			},
			cells: []interface{}{"system-node-critical", int64(2000001000), false, "5h", "PreemptLowerPriority"},
		},
		{
			name:     "global default priority class",
			resource: tableGR("scheduling.k8s.io", "priorityclasses"),
			obj:      &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "default", CreationTimestamp: tableAgo(5 * time.Hour)}, Value: -5, GlobalDefault: true},
			cells:    []interface{}{"default", int64(-5), true, "5h", ""},
		},
		{
			name:     "HPA with several metrics",
			resource: tableHPAs,
			obj: &autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: tableMeta("web", 5*time.Hour),
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
					ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
					MinReplicas:    ptr.To[int32](2), MaxReplicas: 10,
					Metrics: []autoscalingv2.MetricSpec{
						{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](60)}}},
						{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: tableQty("100")}}},
						{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: tableQty("5")}}},
					},
				},
				Status: autoscalingv2.HorizontalPodAutoscalerStatus{
					CurrentReplicas: 3,
					CurrentMetrics: []autoscalingv2.MetricStatus{
						{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To[int32](45)}}},
					},
				},
			},
			cells: []interface{}{"web", "Deployment/web", "cpu: 45%/60%, <unknown>/100 + 1 more...", "2", int64(10), int64(3), "5h"},
		},
		{
			name:     "HPA with object and container metrics",
			resource: tableHPAs,
			obj: &autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: tableMeta("q", 5*time.Hour),
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
					ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "StatefulSet", Name: "q"},
					MaxReplicas:    4,
					Metrics: []autoscalingv2.MetricSpec{
						{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: tableQty("30")}}},
						{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: corev1.ResourceMemory, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: tableQty("512Mi")}}},
					},
				},
				Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentMetrics: []autoscalingv2.MetricStatus{
					{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{Current: autoscalingv2.MetricValueStatus{AverageValue: tableQty("12")}}},
					{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: corev1.ResourceMemory, Container: "app", Current: autoscalingv2.MetricValueStatus{AverageValue: tableQty("256Mi")}}},
				}},
			},
			cells: []interface{}{"q", "StatefulSet/q", "12/30 (avg), memory: 256Mi/512Mi", "<unset>", int64(4), int64(0), "5h"},
		},
		{
			name:     "autoscaling/v1 HPA",
			resource: tableHPAs,
			obj: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: tableMeta("v1", 5*time.Hour),
				Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
					ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
					MinReplicas:    ptr.To[int32](1), MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr.To[int32](70),
				},
				Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, CurrentCPUUtilizationPercentage: ptr.To[int32](33)},
			},
			cells: []interface{}{"v1", "Deployment/web", "cpu: 33%/70%", "1", int64(5), int64(2), "5h"},
		},
		{
			name:     "autoscaling/v1 HPA defaults to 80% CPU",
			resource: tableHPAs,
			obj: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: tableMeta("v1d", 5*time.Hour),
				Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}, MaxReplicas: 3},
			},
			cells: []interface{}{"v1d", "Deployment/web", "cpu: <unknown>/80%", "<unset>", int64(3), int64(0), "5h"},
		},
		{
			name:     "pod disruption budget",
			resource: tableGR("policy", "poddisruptionbudgets"),
			obj: &policyv1.PodDisruptionBudget{
				ObjectMeta: tableMeta("web", 5*time.Hour),
				Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromString("25%"))},
				Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1},
			},
			cells: []interface{}{"web", "N/A", "25%", int64(1), "5h"},
		},
		{
			name:     "pod disruption budget with min available",
			resource: tableGR("policy", "poddisruptionbudgets"),
			obj:      &policyv1.PodDisruptionBudget{ObjectMeta: tableMeta("db", 5*time.Hour), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2))}},
			cells:    []interface{}{"db", "2", "N/A", int64(0), "5h"},
		},
		{
			name:     "runtime class",
			resource: tableGR("node.k8s.io", "runtimeclasses"),
			obj:      &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "gvisor", CreationTimestamp: tableAgo(5 * time.Hour)}, Handler: "runsc"},
			cells:    []interface{}{"gvisor", "runsc", "5h"},
		},
		{
			name:     "mutating webhook configuration",
			resource: tableGR("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
			obj: &admissionregistrationv1.MutatingWebhookConfiguration{
				ObjectMeta: metav1.ObjectMeta{Name: "inject", CreationTimestamp: tableAgo(5 * time.Hour)},
				Webhooks:   []admissionregistrationv1.MutatingWebhook{{Name: "a.example.com"}, {Name: "b.example.com"}},
			},
			cells: []interface{}{"inject", int64(2), "5h"},
		},
		{
			name:     "validating webhook configuration",
			resource: tableGR("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
			obj:      &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "check", CreationTimestamp: tableAgo(5 * time.Hour)}},
			cells:    []interface{}{"check", int64(0), "5h"},
		},
		{
			name:     "validating admission policy",
			resource: tableGR("admissionregistration.k8s.io", "validatingadmissionpolicies"),
			obj: &admissionregistrationv1.ValidatingAdmissionPolicy{
				ObjectMeta: metav1.ObjectMeta{Name: "limits", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
					ParamKind:   &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
					Validations: []admissionregistrationv1.Validation{{Expression: "true"}},
				},
			},
			cells: []interface{}{"limits", int64(1), "v1/ConfigMap", "5h"},
		},
		{
			name:     "validating admission policy binding",
			resource: tableGR("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
			obj: &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "limits-binding", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec:       admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "limits", ParamRef: &admissionregistrationv1.ParamRef{Name: "limits-params"}},
			},
			cells: []interface{}{"limits-binding", "limits", "*/limits-params", "5h"},
		},
		{
			name:     "mutating admission policy",
			resource: tableGR("admissionregistration.k8s.io", "mutatingadmissionpolicies"),
			obj: &admissionregistrationv1.MutatingAdmissionPolicy{
				ObjectMeta: metav1.ObjectMeta{Name: "add-labels", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec:       admissionregistrationv1.MutatingAdmissionPolicySpec{Mutations: []admissionregistrationv1.Mutation{{}, {}}},
			},
			cells: []interface{}{"add-labels", int64(2), "<unset>", "5h"},
		},
		{
			name:     "mutating admission policy binding with a param selector",
			resource: tableGR("admissionregistration.k8s.io", "mutatingadmissionpolicybindings"),
			obj: &admissionregistrationv1.MutatingAdmissionPolicyBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "add-labels-binding", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{PolicyName: "add-labels", ParamRef: &admissionregistrationv1.ParamRef{
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
				}},
			},
			cells: []interface{}{"add-labels-binding", "add-labels", "&LabelSelector{MatchLabels:map[string]string{a: b,},MatchExpressions:[]LabelSelectorRequirement{},}", "5h"},
		},
		{
			name:     "device class",
			resource: tableGR("resource.k8s.io", "deviceclasses"),
			obj:      &resourcev1.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: "gpu.example.com", CreationTimestamp: tableAgo(5 * time.Hour)}},
			cells:    []interface{}{"gpu.example.com", "5h"},
		},
		{
			name:     "allocated and reserved resource claim",
			resource: tableGR("resource.k8s.io", "resourceclaims"),
			obj: &resourcev1.ResourceClaim{
				ObjectMeta: tableMeta("gpu", 5*time.Hour),
				Status:     resourcev1.ResourceClaimStatus{Allocation: &resourcev1.AllocationResult{}, ReservedFor: []resourcev1.ResourceClaimConsumerReference{{Resource: "pods", Name: "p"}}},
			},
			cells: []interface{}{"gpu", "allocated,reserved", "5h"},
		},
		{
			name:     "deleted pending resource claim",
			resource: tableGR("resource.k8s.io", "resourceclaims"),
			obj: &resourcev1.ResourceClaim{ObjectMeta: func() metav1.ObjectMeta {
				m := tableMeta("gone", 5*time.Hour)
				m.DeletionTimestamp = ptr.To(tableAgo(time.Minute))
				return m
			}()},
			cells: []interface{}{"gone", "deleted", "5h"},
		},
		{
			name:     "resource claim template",
			resource: tableGR("resource.k8s.io", "resourceclaimtemplates"),
			obj:      &resourcev1.ResourceClaimTemplate{ObjectMeta: tableMeta("gpu-template", 5*time.Hour)},
			cells:    []interface{}{"gpu-template", "5h"},
		},
		{
			name:     "resource slice",
			resource: tableGR("resource.k8s.io", "resourceslices"),
			obj: &resourcev1.ResourceSlice{
				ObjectMeta: metav1.ObjectMeta{Name: "node-1-gpu", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec:       resourcev1.ResourceSliceSpec{Driver: "gpu.example.com", NodeName: ptr.To("node-1"), Pool: resourcev1.ResourcePool{Name: "node-1"}},
			},
			cells: []interface{}{"node-1-gpu", "node-1", "gpu.example.com", "node-1", "5h"},
		},
		{
			name:     "certificate signing request",
			resource: tableGR("certificates.k8s.io", "certificatesigningrequests"),
			obj: &certificatesv1.CertificateSigningRequest{
				ObjectMeta: metav1.ObjectMeta{Name: "csr-abc", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec:       certificatesv1.CertificateSigningRequestSpec{SignerName: "kubernetes.io/kube-apiserver-client-kubelet", Username: "system:node:node-1", ExpirationSeconds: ptr.To[int32](86400)},
				Status: certificatesv1.CertificateSigningRequestStatus{
					Conditions:  []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}},
					Certificate: []byte("cert"),
				},
			},
			cells: []interface{}{"csr-abc", "5h", "kubernetes.io/kube-apiserver-client-kubelet", "system:node:node-1", "24h", "Approved,Issued"},
		},
		{
			name:     "priority level configuration",
			resource: tableGR("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
			obj: &flowcontrolv1.PriorityLevelConfiguration{
				ObjectMeta: metav1.ObjectMeta{Name: "workload-low", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited, Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
					NominalConcurrencyShares: ptr.To[int32](100),
					LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: &flowcontrolv1.QueuingConfiguration{
						Queues: 128, HandSize: 6, QueueLengthLimit: 50,
					}},
				}},
			},
			cells: []interface{}{"workload-low", "Limited", int64(100), int64(128), int64(6), int64(50), "5h"},
		},
		{
			name:     "exempt priority level configuration",
			resource: tableGR("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
			obj: &flowcontrolv1.PriorityLevelConfiguration{
				ObjectMeta: metav1.ObjectMeta{Name: "exempt", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec:       flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementExempt},
			},
			cells: []interface{}{"exempt", "Exempt", "<none>", "<none>", "<none>", "<none>", "5h"},
		},
		{
			name:     "flow schema",
			resource: tableGR("flowcontrol.apiserver.k8s.io", "flowschemas"),
			obj: &flowcontrolv1.FlowSchema{
				ObjectMeta: metav1.ObjectMeta{Name: "probes", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec: flowcontrolv1.FlowSchemaSpec{
					PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "exempt"},
					MatchingPrecedence:         2,
					DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
				},
				Status: flowcontrolv1.FlowSchemaStatus{Conditions: []flowcontrolv1.FlowSchemaCondition{{Type: flowcontrolv1.FlowSchemaConditionDangling, Status: flowcontrolv1.ConditionFalse}}},
			},
			cells: []interface{}{"probes", "exempt", int64(2), "ByUser", "5h", "False"},
		},
		{
			name:     "local API service",
			resource: tableGR("apiregistration.k8s.io", "apiservices"),
			obj: &apiregistrationv1.APIService{
				ObjectMeta: metav1.ObjectMeta{Name: "v1.apps", CreationTimestamp: tableAgo(5 * time.Hour)},
				Status:     apiregistrationv1.APIServiceStatus{Conditions: []apiregistrationv1.APIServiceCondition{{Type: apiregistrationv1.Available, Status: apiregistrationv1.ConditionTrue}}},
			},
			cells: []interface{}{"v1.apps", "Local", "True", "5h"},
		},
		{
			name:     "unavailable aggregated API service",
			resource: tableGR("apiregistration.k8s.io", "apiservices"),
			obj: &apiregistrationv1.APIService{
				ObjectMeta: metav1.ObjectMeta{Name: "v1beta1.metrics.k8s.io", CreationTimestamp: tableAgo(5 * time.Hour)},
				Spec:       apiregistrationv1.APIServiceSpec{Service: &apiregistrationv1.ServiceReference{Namespace: "kube-system", Name: "metrics-server"}},
				Status: apiregistrationv1.APIServiceStatus{Conditions: []apiregistrationv1.APIServiceCondition{
					{Type: apiregistrationv1.Available, Status: apiregistrationv1.ConditionFalse, Reason: "MissingEndpoints"},
				}},
			},
			cells: []interface{}{"v1beta1.metrics.k8s.io", "kube-system/metrics-server", "False (MissingEndpoints)", "5h"},
		},
	}
}

// tableAllCases is every fixture with a dedicated printer.
func tableAllCases() []tableCase {
	var all []tableCase
	for _, f := range []func() []tableCase{
		tablePodCases, tableNodeCases, tableServiceCases, tableEventCases, tableWorkloadCases,
		tableConfigCases, tableStorageCases, tableNetworkingCases, tableClusterCases,
	} {
		all = append(all, f()...)
	}
	return all
}
