package mockapi

import (
	"encoding/json"
	"math"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The apps/v1, batch/v1 and autoscaling defaulting of a 1.36 kube-apiserver.

// ---- apps/v1 ----

func defaultDeployment(d *appsv1.Deployment) {
	setIfNil(&d.Spec.Replicas, 1)
	strategy := &d.Spec.Strategy
	if strategy.Type == "" {
		strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		setIfNil(&strategy.RollingUpdate, appsv1.RollingUpdateDeployment{})
		setIfNil(&strategy.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
		setIfNil(&strategy.RollingUpdate.MaxSurge, intstr.FromString("25%"))
	}
	setIfNil(&d.Spec.RevisionHistoryLimit, 10)
	setIfNil(&d.Spec.ProgressDeadlineSeconds, 600)
	defaultPodTemplateSpec(&d.Spec.Template)
}

func defaultDaemonSet(ds *appsv1.DaemonSet) {
	strategy := &ds.Spec.UpdateStrategy
	if strategy.Type == "" {
		strategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if strategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		setIfNil(&strategy.RollingUpdate, appsv1.RollingUpdateDaemonSet{})
		setIfNil(&strategy.RollingUpdate.MaxUnavailable, intstr.FromInt32(1))
		setIfNil(&strategy.RollingUpdate.MaxSurge, intstr.FromInt32(0))
	}
	setIfNil(&ds.Spec.RevisionHistoryLimit, 10)
	defaultPodTemplateSpec(&ds.Spec.Template)
}

func defaultStatefulSet(ss *appsv1.StatefulSet) {
	spec := &ss.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		setIfNil(&spec.UpdateStrategy.RollingUpdate, appsv1.RollingUpdateStatefulSetStrategy{})
	}
	// An explicit RollingUpdate type without rollingUpdate stays without it.
	if spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && spec.UpdateStrategy.RollingUpdate != nil {
		setIfNil(&spec.UpdateStrategy.RollingUpdate.Partition, 0)
		// maxUnavailable is defaulted only with MaxUnavailableStatefulSet, beta and off in 1.36.
	}
	setIfNil(&spec.PersistentVolumeClaimRetentionPolicy, appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{})
	if spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted == "" {
		spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.PersistentVolumeClaimRetentionPolicy.WhenScaled == "" {
		spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	setIfNil(&spec.Replicas, 1)
	setIfNil(&spec.RevisionHistoryLimit, 10)
	defaultPodTemplateSpec(&spec.Template)
	// The claim templates are defaulted as claims, status.phase Pending included.
	for i := range spec.VolumeClaimTemplates {
		defaultPersistentVolumeClaim(&spec.VolumeClaimTemplates[i])
	}
}

func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	setIfNil(&rs.Spec.Replicas, 1)
	defaultPodTemplateSpec(&rs.Spec.Template)
}

// ---- batch/v1 ----

func defaultJob(job *batchv1.Job) {
	defaultJobSpec(&job.Spec)
	// A job without labels takes its template's.
	if labels := job.Spec.Template.Labels; labels != nil && len(job.Labels) == 0 {
		job.Labels = labels
	}
}

// defaultJobSpec is the defaulting of a Job's own spec; a CronJob's job template only gets
// the pod failure policy and pod template defaults.
func defaultJobSpec(spec *batchv1.JobSpec) {
	// A non-parallel job may leave both unset: both become 1.
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions = ptr.To[int32](1)
	}
	setIfNil(&spec.Parallelism, 1)
	if spec.BackoffLimit == nil {
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptr.To[int32](math.MaxInt32)
		} else {
			spec.BackoffLimit = ptr.To[int32](6)
		}
	}
	setIfNil(&spec.CompletionMode, batchv1.NonIndexedCompletion)
	setIfNil(&spec.Suspend, false)
	// JobPodReplacementPolicy is GA in 1.36.
	if spec.PodReplacementPolicy == nil {
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
		} else {
			spec.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		}
	}
	setIfNil(&spec.ManualSelector, false)
	defaultJobTemplateParts(spec)
}

// defaultJobTemplateParts defaults what every JobSpec, a CronJob's included, gets.
func defaultJobTemplateParts(spec *batchv1.JobSpec) {
	if p := spec.PodFailurePolicy; p != nil {
		for i := range p.Rules {
			for j := range p.Rules[i].OnPodConditions {
				if c := &p.Rules[i].OnPodConditions[j]; c.Status == "" {
					c.Status = corev1.ConditionTrue
				}
			}
		}
	}
	defaultPodTemplateSpec(&spec.Template)
}

func defaultCronJob(cj *batchv1.CronJob) {
	if cj.Spec.ConcurrencyPolicy == "" {
		cj.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	setIfNil(&cj.Spec.Suspend, false)
	setIfNil(&cj.Spec.SuccessfulJobsHistoryLimit, 3)
	setIfNil(&cj.Spec.FailedJobsHistoryLimit, 1)
	defaultJobTemplateParts(&cj.Spec.JobTemplate.Spec)
}

// ---- autoscaling ----

// defaultCPUUtilization is the target of an HPA that names no metric.
const defaultCPUUtilization int32 = 80

// defaultHPAv1 sets minReplicas. A real server also ends up with an 80% CPU target for a v1
// HPA that names none: it stores autoscaling/v2, whose defaulting adds the CPU metric when
// the object is read back from storage. This server's store holds the v2 hub without that
// decode, so the target is defaulted here, unless the v1 object carries other metrics in
// its annotation (which the v2 object then has).
func defaultHPAv1(hpa *autoscalingv1.HorizontalPodAutoscaler) {
	setIfNil(&hpa.Spec.MinReplicas, 1)
	if hpa.Spec.TargetCPUUtilizationPercentage == nil {
		var metrics []json.RawMessage
		if raw, ok := hpa.Annotations["autoscaling.alpha.kubernetes.io/metrics"]; !ok ||
			json.Unmarshal([]byte(raw), &metrics) != nil || len(metrics) == 0 {
			hpa.Spec.TargetCPUUtilizationPercentage = ptr.To(defaultCPUUtilization)
		}
	}
}

func defaultHPAv2(hpa *autoscalingv2.HorizontalPodAutoscaler) {
	setIfNil(&hpa.Spec.MinReplicas, 1)
	if len(hpa.Spec.Metrics) == 0 {
		hpa.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{
					Type:               autoscalingv2.UtilizationMetricType,
					AverageUtilization: ptr.To(defaultCPUUtilization),
				},
			},
		}}
	}
	// A given behavior has each of its rules completed with the defaults (the historical
	// HPA behaviour); no behavior stays none.
	if b := hpa.Spec.Behavior; b != nil {
		b.ScaleUp = completeScalingRules(b.ScaleUp, defaultScaleUpRules())
		b.ScaleDown = completeScalingRules(b.ScaleDown, defaultScaleDownRules())
	}
}

// defaultScaleUpRules: no stabilization; each 15s at most 4 pods or 100% more, whichever is
// more.
func defaultScaleUpRules() *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: ptr.To[int32](0),
		SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// defaultScaleDownRules: each 15s at most 100% less; the stabilization window stays unset
// (the controller's --horizontal-pod-autoscaler-downscale-stabilization applies).
func defaultScaleDownRules() *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{
		SelectPolicy: ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// completeScalingRules returns defaults with every field given in rules taken from rules.
func completeScalingRules(rules, defaults *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if rules == nil {
		return defaults
	}
	if rules.SelectPolicy != nil {
		defaults.SelectPolicy = rules.SelectPolicy
	}
	if rules.StabilizationWindowSeconds != nil {
		defaults.StabilizationWindowSeconds = rules.StabilizationWindowSeconds
	}
	if rules.Policies != nil {
		defaults.Policies = rules.Policies
	}
	if rules.Tolerance != nil {
		defaults.Tolerance = rules.Tolerance
	}
	return defaults
}
