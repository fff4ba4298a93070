package mockapi

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// addDefaultingFuncs registers the API defaulting of a 1.36 kube-apiserver
// (k8s.io/kubernetes/pkg/apis/<group>/<version>/defaults.go, the declarative +default
// markers of k8s.io/api, and the generated walk that applies both to every nested struct)
// for the built-in kinds, as scheme defaulting functions. The apiserver's decoders apply them
// to every request body (create, update, patch, apply), exactly as they apply the generated
// defaulters in a real server. Feature-gated defaults follow the gates' 1.36 defaults.
//
// apiextensions.k8s.io and apiregistration.k8s.io register their own defaulters in their
// AddToScheme. What a real registry sets on create (pod status.qosClass, cluster IPs and node
// ports, Job selectors) is not defaulting; see podQOSClass.
//
// The functions are keyed by Go type, so they also cover each kind's internal (hub) version,
// which shares the versioned type.
func addDefaultingFuncs(s *runtime.Scheme) {
	// core/v1
	addDefaulter(s, defaultConfigMap, func(l *corev1.ConfigMapList) []corev1.ConfigMap { return l.Items })
	addDefaulter(s, defaultEndpoints, func(l *corev1.EndpointsList) []corev1.Endpoints { return l.Items })
	addDefaulter(s, defaultLimitRange, func(l *corev1.LimitRangeList) []corev1.LimitRange { return l.Items })
	addDefaulter(s, defaultNamespace, func(l *corev1.NamespaceList) []corev1.Namespace { return l.Items })
	addDefaulter(s, defaultNode, func(l *corev1.NodeList) []corev1.Node { return l.Items })
	addDefaulter(s, defaultPersistentVolume, func(l *corev1.PersistentVolumeList) []corev1.PersistentVolume { return l.Items })
	addDefaulter(s, defaultPersistentVolumeClaim, func(l *corev1.PersistentVolumeClaimList) []corev1.PersistentVolumeClaim { return l.Items })
	addDefaulter(s, defaultPod, func(l *corev1.PodList) []corev1.Pod { return l.Items })
	addDefaulter(s, defaultPodTemplate, func(l *corev1.PodTemplateList) []corev1.PodTemplate { return l.Items })
	addDefaulter(s, defaultReplicationController, func(l *corev1.ReplicationControllerList) []corev1.ReplicationController { return l.Items })
	addDefaulter(s, defaultResourceQuota, func(l *corev1.ResourceQuotaList) []corev1.ResourceQuota { return l.Items })
	addDefaulter(s, defaultSecret, func(l *corev1.SecretList) []corev1.Secret { return l.Items })
	addDefaulter(s, defaultService, func(l *corev1.ServiceList) []corev1.Service { return l.Items })
	// PodLogOptions.stream is only defaulted with the PodLogsQuerySplitStreams gate (alpha).

	// apps/v1
	addDefaulter(s, defaultDaemonSet, func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items })
	addDefaulter(s, defaultDeployment, func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items })
	addDefaulter(s, defaultReplicaSet, func(l *appsv1.ReplicaSetList) []appsv1.ReplicaSet { return l.Items })
	addDefaulter(s, defaultStatefulSet, func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items })

	// batch/v1
	addDefaulter(s, defaultJob, func(l *batchv1.JobList) []batchv1.Job { return l.Items })
	addDefaulter(s, defaultCronJob, func(l *batchv1.CronJobList) []batchv1.CronJob { return l.Items })

	// autoscaling/v1 and v2
	addDefaulter(s, defaultHPAv1, func(l *autoscalingv1.HorizontalPodAutoscalerList) []autoscalingv1.HorizontalPodAutoscaler {
		return l.Items
	})
	addDefaulter(s, defaultHPAv2, func(l *autoscalingv2.HorizontalPodAutoscalerList) []autoscalingv2.HorizontalPodAutoscaler {
		return l.Items
	})

	// networking.k8s.io/v1
	addDefaulter(s, defaultNetworkPolicy, func(l *networkingv1.NetworkPolicyList) []networkingv1.NetworkPolicy { return l.Items })
	addDefaulter(s, defaultIngressClass, func(l *networkingv1.IngressClassList) []networkingv1.IngressClass { return l.Items })

	// rbac.authorization.k8s.io/v1
	addDefaulter(s, defaultRoleBinding, func(l *rbacv1.RoleBindingList) []rbacv1.RoleBinding { return l.Items })
	addDefaulter(s, defaultClusterRoleBinding, func(l *rbacv1.ClusterRoleBindingList) []rbacv1.ClusterRoleBinding { return l.Items })

	// storage.k8s.io/v1
	addDefaulter(s, defaultStorageClass, func(l *storagev1.StorageClassList) []storagev1.StorageClass { return l.Items })
	addDefaulter(s, defaultCSIDriver, func(l *storagev1.CSIDriverList) []storagev1.CSIDriver { return l.Items })
	addDefaulter(s, defaultVolumeAttachment, func(l *storagev1.VolumeAttachmentList) []storagev1.VolumeAttachment { return l.Items })

	// scheduling.k8s.io/v1
	addDefaulter(s, defaultPriorityClass, func(l *schedulingv1.PriorityClassList) []schedulingv1.PriorityClass { return l.Items })

	// discovery.k8s.io/v1
	addDefaulter(s, defaultEndpointSlice, func(l *discoveryv1.EndpointSliceList) []discoveryv1.EndpointSlice { return l.Items })

	// authentication.k8s.io/v1 (the serviceaccounts/token subresource)
	addObjectDefaulter(s, func(r *authenticationv1.TokenRequest) {
		if r.Spec.ExpirationSeconds == nil {
			r.Spec.ExpirationSeconds = ptr.To[int64](3600)
		}
	})

	// admissionregistration.k8s.io/v1
	addDefaulter(s, defaultValidatingWebhookConfiguration, func(l *admissionregistrationv1.ValidatingWebhookConfigurationList) []admissionregistrationv1.ValidatingWebhookConfiguration {
		return l.Items
	})
	addDefaulter(s, defaultMutatingWebhookConfiguration, func(l *admissionregistrationv1.MutatingWebhookConfigurationList) []admissionregistrationv1.MutatingWebhookConfiguration {
		return l.Items
	})
	addDefaulter(s, defaultValidatingAdmissionPolicy, func(l *admissionregistrationv1.ValidatingAdmissionPolicyList) []admissionregistrationv1.ValidatingAdmissionPolicy {
		return l.Items
	})
	addDefaulter(s, defaultValidatingAdmissionPolicyBinding, func(l *admissionregistrationv1.ValidatingAdmissionPolicyBindingList) []admissionregistrationv1.ValidatingAdmissionPolicyBinding {
		return l.Items
	})
	addDefaulter(s, defaultMutatingAdmissionPolicy, func(l *admissionregistrationv1.MutatingAdmissionPolicyList) []admissionregistrationv1.MutatingAdmissionPolicy {
		return l.Items
	})
	addDefaulter(s, defaultMutatingAdmissionPolicyBinding, func(l *admissionregistrationv1.MutatingAdmissionPolicyBindingList) []admissionregistrationv1.MutatingAdmissionPolicyBinding {
		return l.Items
	})

	// flowcontrol.apiserver.k8s.io/v1
	addDefaulter(s, defaultFlowSchema, func(l *flowcontrolv1.FlowSchemaList) []flowcontrolv1.FlowSchema { return l.Items })
	addDefaulter(s, defaultPriorityLevelConfiguration, func(l *flowcontrolv1.PriorityLevelConfigurationList) []flowcontrolv1.PriorityLevelConfiguration {
		return l.Items
	})

	// resource.k8s.io/v1
	addDefaulter(s, defaultResourceClaim, func(l *resourcev1.ResourceClaimList) []resourcev1.ResourceClaim { return l.Items })
	addDefaulter(s, defaultResourceClaimTemplate, func(l *resourcev1.ResourceClaimTemplateList) []resourcev1.ResourceClaimTemplate { return l.Items })
	addDefaulter(s, defaultResourceSlice, func(l *resourcev1.ResourceSliceList) []resourcev1.ResourceSlice { return l.Items })
}

// addObjectDefaulter registers f as the defaulting function of the Go type T.
func addObjectDefaulter[T runtime.Object](s *runtime.Scheme, f func(T)) {
	var zero T // a typed nil pointer: only its type is used
	s.AddTypeDefaultingFunc(zero, func(obj interface{}) { f(obj.(T)) })
}

// addDefaulter registers f for the kind *T and, item by item, for its list type L.
func addDefaulter[T any, PT interface {
	*T
	runtime.Object
}, L runtime.Object](s *runtime.Scheme, f func(*T), items func(L) []T) {
	addObjectDefaulter(s, func(obj PT) { f(obj) })
	addObjectDefaulter(s, func(list L) {
		its := items(list)
		for i := range its {
			f(&its[i])
		}
	})
}

// ---- networking.k8s.io/v1 ----

func defaultNetworkPolicy(np *networkingv1.NetworkPolicy) {
	if len(np.Spec.PolicyTypes) == 0 {
		// A policy without policyTypes is at least an ingress policy.
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) != 0 {
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	defaultPorts := func(ports []networkingv1.NetworkPolicyPort) {
		for i := range ports {
			if ports[i].Protocol == nil {
				ports[i].Protocol = ptr.To(corev1.ProtocolTCP)
			}
		}
	}
	for i := range np.Spec.Ingress {
		defaultPorts(np.Spec.Ingress[i].Ports)
	}
	for i := range np.Spec.Egress {
		defaultPorts(np.Spec.Egress[i].Ports)
	}
}

func defaultIngressClass(ic *networkingv1.IngressClass) {
	if p := ic.Spec.Parameters; p != nil && p.Scope == nil {
		p.Scope = ptr.To(networkingv1.IngressClassParametersReferenceScopeCluster)
	}
}

// ---- rbac.authorization.k8s.io/v1 ----

func defaultRoleBinding(rb *rbacv1.RoleBinding) {
	defaultRoleRef(&rb.RoleRef)
	defaultSubjects(rb.Subjects)
}

func defaultClusterRoleBinding(crb *rbacv1.ClusterRoleBinding) {
	defaultRoleRef(&crb.RoleRef)
	defaultSubjects(crb.Subjects)
}

func defaultRoleRef(ref *rbacv1.RoleRef) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
}

func defaultSubjects(subjects []rbacv1.Subject) {
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup != "" {
			continue
		}
		switch s.Kind {
		case rbacv1.UserKind, rbacv1.GroupKind:
			s.APIGroup = rbacv1.GroupName
		}
		// ServiceAccount subjects keep the core group, "".
	}
}

// ---- storage.k8s.io/v1 ----

func defaultStorageClass(sc *storagev1.StorageClass) {
	if sc.ReclaimPolicy == nil {
		sc.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimDelete)
	}
	if sc.VolumeBindingMode == nil {
		sc.VolumeBindingMode = ptr.To(storagev1.VolumeBindingImmediate)
	}
}

func defaultCSIDriver(d *storagev1.CSIDriver) {
	spec := &d.Spec
	setIfNil(&spec.AttachRequired, true)
	setIfNil(&spec.PodInfoOnMount, false)
	setIfNil(&spec.StorageCapacity, false)
	setIfNil(&spec.FSGroupPolicy, storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy)
	if len(spec.VolumeLifecycleModes) == 0 {
		spec.VolumeLifecycleModes = append(spec.VolumeLifecycleModes, storagev1.VolumeLifecyclePersistent)
	}
	setIfNil(&spec.RequiresRepublish, false)
	// SELinuxMountReadWriteOncePod is GA in 1.36.
	setIfNil(&spec.SELinuxMount, false)
	// preventPodSchedulingIfMissing needs VolumeLimitScaling, alpha in 1.36.
}

func defaultVolumeAttachment(va *storagev1.VolumeAttachment) {
	if pv := va.Spec.Source.InlineVolumeSpec; pv != nil {
		roundResourceList(pv.Capacity)
		defaultPersistentVolumeSource(&pv.PersistentVolumeSource)
	}
}

// ---- scheduling.k8s.io/v1 ----

func defaultPriorityClass(pc *schedulingv1.PriorityClass) {
	setIfNil(&pc.PreemptionPolicy, corev1.PreemptLowerPriority)
}

// ---- discovery.k8s.io/v1 ----

func defaultEndpointSlice(es *discoveryv1.EndpointSlice) {
	for i := range es.Ports {
		setIfNil(&es.Ports[i].Name, "")
		setIfNil(&es.Ports[i].Protocol, corev1.ProtocolTCP)
	}
}

// ---- admissionregistration.k8s.io/v1 ----

// webhookDefaults defaults what validating and mutating webhooks have in common.
func webhookDefaults(failurePolicy **admissionregistrationv1.FailurePolicyType, matchPolicy **admissionregistrationv1.MatchPolicyType,
	namespaceSelector, objectSelector **metav1.LabelSelector, timeoutSeconds **int32,
	clientConfig *admissionregistrationv1.WebhookClientConfig, rules []admissionregistrationv1.RuleWithOperations) {
	setIfNil(failurePolicy, admissionregistrationv1.Fail)
	setIfNil(matchPolicy, admissionregistrationv1.Equivalent)
	setIfNil(namespaceSelector, metav1.LabelSelector{})
	setIfNil(objectSelector, metav1.LabelSelector{})
	setIfNil(timeoutSeconds, 10)
	if clientConfig.Service != nil {
		setIfNil(&clientConfig.Service.Port, 443)
	}
	defaultAdmissionRules(rules)
}

func defaultAdmissionRules(rules []admissionregistrationv1.RuleWithOperations) {
	for i := range rules {
		setIfNil(&rules[i].Scope, admissionregistrationv1.AllScopes)
	}
}

func defaultValidatingWebhookConfiguration(c *admissionregistrationv1.ValidatingWebhookConfiguration) {
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		webhookDefaults(&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector, &w.TimeoutSeconds, &w.ClientConfig, w.Rules)
	}
}

func defaultMutatingWebhookConfiguration(c *admissionregistrationv1.MutatingWebhookConfiguration) {
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		webhookDefaults(&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector, &w.TimeoutSeconds, &w.ClientConfig, w.Rules)
		setIfNil(&w.ReinvocationPolicy, admissionregistrationv1.NeverReinvocationPolicy)
	}
}

func defaultMatchResources(m *admissionregistrationv1.MatchResources) {
	if m == nil {
		return
	}
	setIfNil(&m.MatchPolicy, admissionregistrationv1.Equivalent)
	setIfNil(&m.NamespaceSelector, metav1.LabelSelector{})
	setIfNil(&m.ObjectSelector, metav1.LabelSelector{})
	for _, rules := range [][]admissionregistrationv1.NamedRuleWithOperations{m.ResourceRules, m.ExcludeResourceRules} {
		for i := range rules {
			setIfNil(&rules[i].Scope, admissionregistrationv1.AllScopes)
		}
	}
}

func defaultValidatingAdmissionPolicy(p *admissionregistrationv1.ValidatingAdmissionPolicy) {
	setIfNil(&p.Spec.FailurePolicy, admissionregistrationv1.Fail)
	defaultMatchResources(p.Spec.MatchConstraints)
}

func defaultValidatingAdmissionPolicyBinding(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	defaultMatchResources(b.Spec.MatchResources)
}

func defaultMutatingAdmissionPolicy(p *admissionregistrationv1.MutatingAdmissionPolicy) {
	setIfNil(&p.Spec.FailurePolicy, admissionregistrationv1.Fail)
	defaultMatchResources(p.Spec.MatchConstraints)
}

func defaultMutatingAdmissionPolicyBinding(b *admissionregistrationv1.MutatingAdmissionPolicyBinding) {
	defaultMatchResources(b.Spec.MatchResources)
}

// ---- flowcontrol.apiserver.k8s.io/v1 ----

func defaultFlowSchema(fs *flowcontrolv1.FlowSchema) {
	if fs.Spec.MatchingPrecedence == 0 {
		fs.Spec.MatchingPrecedence = 1000
	}
}

func defaultPriorityLevelConfiguration(plc *flowcontrolv1.PriorityLevelConfiguration) {
	if l := plc.Spec.Limited; l != nil {
		setIfNil(&l.NominalConcurrencyShares, 30)
		setIfNil(&l.LendablePercent, 0)
		if q := l.LimitResponse.Queuing; q != nil {
			if q.HandSize == 0 {
				q.HandSize = 8
			}
			if q.Queues == 0 {
				q.Queues = 64
			}
			if q.QueueLengthLimit == 0 {
				q.QueueLengthLimit = 50
			}
		}
	}
	if e := plc.Spec.Exempt; e != nil {
		setIfNil(&e.NominalConcurrencyShares, 0)
		setIfNil(&e.LendablePercent, 0)
	}
}

// ---- resource.k8s.io/v1 ----

func defaultDeviceRequests(requests []resourcev1.DeviceRequest) {
	defaultCount := func(mode *resourcev1.DeviceAllocationMode, count *int64) {
		if *mode == "" {
			*mode = resourcev1.DeviceAllocationModeExactCount
		}
		if *mode == resourcev1.DeviceAllocationModeExactCount && *count == 0 {
			*count = 1
		}
	}
	for i := range requests {
		r := &requests[i]
		if r.Exactly != nil {
			defaultCount(&r.Exactly.AllocationMode, &r.Exactly.Count)
			defaultTolerations(r.Exactly.Tolerations)
		}
		for j := range r.FirstAvailable {
			sub := &r.FirstAvailable[j]
			defaultCount(&sub.AllocationMode, &sub.Count)
			defaultTolerations(sub.Tolerations)
		}
	}
}

func defaultTolerations(tolerations []resourcev1.DeviceToleration) {
	for i := range tolerations {
		if tolerations[i].Operator == "" {
			tolerations[i].Operator = resourcev1.DeviceTolerationOpEqual
		}
	}
}

func defaultResourceClaim(c *resourcev1.ResourceClaim) {
	defaultDeviceRequests(c.Spec.Devices.Requests)
	if a := c.Status.Allocation; a != nil {
		for i := range a.Devices.Results {
			defaultTolerations(a.Devices.Results[i].Tolerations)
		}
	}
}

func defaultResourceClaimTemplate(t *resourcev1.ResourceClaimTemplate) {
	defaultDeviceRequests(t.Spec.Spec.Devices.Requests)
}

func defaultResourceSlice(s *resourcev1.ResourceSlice) {
	for i := range s.Spec.Devices {
		// 1.36 also defaults nodeAllocatableResourceMappings[*].allocationMultiplier to 1, an
		// alpha field the k8s.io/api types this server is built on no longer have.
		d := &s.Spec.Devices[i]
		for j := range d.Taints {
			if d.Taints[j].TimeAdded == nil {
				d.Taints[j].TimeAdded = &metav1.Time{Time: time.Now().Truncate(time.Second)}
			}
		}
	}
}

// ---- helpers ----

// setIfNil points *p at a copy of v when *p is nil.
func setIfNil[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}
