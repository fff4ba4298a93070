package mockapi

import (
	"fmt"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Printers for batch, autoscaling and policy.
func addBatchTablePrinters(m map[schema.GroupResource]*tablePrinter) {
	m[schema.GroupResource{Group: "batch", Resource: "jobs"}] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Status", "string", "Status of the job."),
		tableColumn("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
		tableColumn("Duration", "string", "Time required to complete the job."),
		tableAgeColumn,
		tableContainersColumn,
		tableImagesColumn,
		tableWideColumn("Selector", "string", batchv1.JobSpec{}.SwaggerDoc()["selector"]),
	}, tableCells(tableJobCells))

	m[schema.GroupResource{Group: "batch", Resource: "cronjobs"}] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Schedule", "string", batchv1.CronJobSpec{}.SwaggerDoc()["schedule"]),
		tableColumn("Timezone", "string", batchv1.CronJobSpec{}.SwaggerDoc()["timeZone"]),
		tableColumn("Suspend", "boolean", batchv1.CronJobSpec{}.SwaggerDoc()["suspend"]),
		tableColumn("Active", "integer", batchv1.CronJobStatus{}.SwaggerDoc()["active"]),
		tableColumn("Last Schedule", "string", batchv1.CronJobStatus{}.SwaggerDoc()["lastScheduleTime"]),
		tableAgeColumn,
		tableContainersColumn,
		tableImagesColumn,
		tableWideColumn("Selector", "string", batchv1.JobSpec{}.SwaggerDoc()["selector"]),
	}, tableCells(func(cj *batchv1.CronJob) []interface{} {
		last := "<none>"
		if cj.Status.LastScheduleTime != nil {
			last = tableAge(*cj.Status.LastScheduleTime)
		}
		tz := "<none>"
		if cj.Spec.TimeZone != nil {
			tz = *cj.Spec.TimeZone
		}
		job := &cj.Spec.JobTemplate.Spec
		names, images := tableContainers(job.Template.Spec.Containers)
		return []interface{}{
			cj.Name, cj.Spec.Schedule, tz, tableBoolPtr(cj.Spec.Suspend), int64(len(cj.Status.Active)), last,
			tableAge(cj.CreationTimestamp), names, images, tableSelector(job.Selector),
		}
	}))

	m[schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"}] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Reference", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["scaleTargetRef"]),
		tableColumn("Targets", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["metrics"]),
		tableColumn("MinPods", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["minReplicas"]),
		tableColumn("MaxPods", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["maxReplicas"]),
		tableColumn("Replicas", "string", autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()["currentReplicas"]),
		tableAgeColumn,
	}, tableCells(tableHPACells), tableCells(func(h *autoscalingv1.HorizontalPodAutoscaler) []interface{} {
		return tableHPACells(tableHPAv2(h))
	}))

	m[schema.GroupResource{Group: "policy", Resource: "poddisruptionbudgets"}] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Min Available", "string", "The minimum number of pods that must be available."),
		tableColumn("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
		tableColumn("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
		tableAgeColumn,
	}, tableCells(func(pdb *policyv1.PodDisruptionBudget) []interface{} {
		minAvailable, maxUnavailable := "N/A", "N/A"
		if pdb.Spec.MinAvailable != nil {
			minAvailable = pdb.Spec.MinAvailable.String()
		}
		if pdb.Spec.MaxUnavailable != nil {
			maxUnavailable = pdb.Spec.MaxUnavailable.String()
		}
		return []interface{}{pdb.Name, minAvailable, maxUnavailable, int64(pdb.Status.DisruptionsAllowed), tableAge(pdb.CreationTimestamp)}
	}))
}

// Jobs.

// tableJobCondition reports whether the first condition of the type is True.
func tableJobCondition(job *batchv1.Job, typ batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == typ {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func tableJobCells(job *batchv1.Job) []interface{} {
	var completions string
	switch parallelism := tableInt32(job.Spec.Parallelism); {
	case job.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", job.Status.Succeeded, *job.Spec.Completions)
	case parallelism > 1:
		completions = fmt.Sprintf("%d/1 of %d", job.Status.Succeeded, parallelism)
	default:
		completions = fmt.Sprintf("%d/1", job.Status.Succeeded)
	}

	var jobDuration string
	switch start, end := job.Status.StartTime, job.Status.CompletionTime; {
	case start == nil:
	case end == nil:
		jobDuration = duration.HumanDuration(time.Since(start.Time))
	default:
		jobDuration = duration.HumanDuration(end.Sub(start.Time))
	}

	// Order matters: terminal conditions first, then deletion, then transient ones.
	status := "Running"
	switch {
	case tableJobCondition(job, batchv1.JobComplete):
		status = "Complete"
	case tableJobCondition(job, batchv1.JobFailed):
		status = "Failed"
	case job.DeletionTimestamp != nil:
		status = "Terminating"
	case tableJobCondition(job, batchv1.JobSuspended):
		status = "Suspended"
	case tableJobCondition(job, batchv1.JobFailureTarget):
		status = "FailureTarget"
	case tableJobCondition(job, batchv1.JobSuccessCriteriaMet):
		status = "SuccessCriteriaMet"
	}

	names, images := tableContainers(job.Spec.Template.Spec.Containers)
	return []interface{}{job.Name, status, completions, jobDuration, tableAge(job.CreationTimestamp), names, images, tableSelector(job.Spec.Selector)}
}

// Horizontal pod autoscalers.

func tableHPACells(h *autoscalingv2.HorizontalPodAutoscaler) []interface{} {
	minPods := "<unset>"
	if h.Spec.MinReplicas != nil {
		minPods = fmt.Sprintf("%d", *h.Spec.MinReplicas)
	}
	return []interface{}{
		h.Name,
		h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name,
		tableHPAMetrics(h.Spec.Metrics, h.Status.CurrentMetrics),
		minPods,
		int64(h.Spec.MaxReplicas),
		int64(h.Status.CurrentReplicas),
		tableAge(h.CreationTimestamp),
	}
}

// tableHPAv2 converts an autoscaling/v1 HPA the way the real server does before printing:
// the CPU target becomes a Resource metric, defaulting to 80% when unset. (Metrics carried
// in the autoscaling.alpha.kubernetes.io annotations are not decoded.)
func tableHPAv2(h *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	target := int32(80)
	if h.Spec.TargetCPUUtilizationPercentage != nil {
		target = *h.Spec.TargetCPUUtilizationPercentage
	}
	out := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: h.ObjectMeta,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: h.Spec.ScaleTargetRef.Kind, Name: h.Spec.ScaleTargetRef.Name},
			MinReplicas:    h.Spec.MinReplicas,
			MaxReplicas:    h.Spec.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target},
				},
			}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: h.Status.CurrentReplicas},
	}
	if cur := h.Status.CurrentCPUUtilizationPercentage; cur != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name:    corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: cur},
			},
		}}
	}
	return out
}

// tableHPAMetrics renders "current/target" per metric, at most two, then "+ N more...".
func tableHPAMetrics(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	list := make([]string, 0, len(specs))
	for i, spec := range specs {
		var status *autoscalingv2.MetricStatus
		if i < len(statuses) {
			status = &statuses[i]
		}
		list = append(list, tableHPAMetric(spec, status))
	}
	const max = 2
	if len(list) > max {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:max], ", "), len(list)-max)
	}
	return strings.Join(list, ", ")
}

func tableHPAMetric(spec autoscalingv2.MetricSpec, status *autoscalingv2.MetricStatus) string {
	current := "<unknown>"
	switch {
	case spec.Type == autoscalingv2.ExternalMetricSourceType && spec.External != nil:
		t := spec.External.Target
		if t.AverageValue != nil {
			if status != nil && status.External != nil && status.External.Current.AverageValue != nil {
				current = status.External.Current.AverageValue.String()
			}
			return fmt.Sprintf("%s/%s (avg)", current, t.AverageValue.String())
		}
		if status != nil && status.External != nil {
			current = status.External.Current.Value.String()
		}
		return fmt.Sprintf("%s/%s", current, t.Value.String())

	case spec.Type == autoscalingv2.PodsMetricSourceType && spec.Pods != nil:
		if status != nil && status.Pods != nil {
			current = status.Pods.Current.AverageValue.String()
		}
		return fmt.Sprintf("%s/%s", current, spec.Pods.Target.AverageValue.String())

	case spec.Type == autoscalingv2.ObjectMetricSourceType && spec.Object != nil:
		t := spec.Object.Target
		if t.AverageValue != nil {
			if status != nil && status.Object != nil && status.Object.Current.AverageValue != nil {
				current = status.Object.Current.AverageValue.String()
			}
			return fmt.Sprintf("%s/%s (avg)", current, t.AverageValue.String())
		}
		if status != nil && status.Object != nil {
			current = status.Object.Current.Value.String()
		}
		return fmt.Sprintf("%s/%s", current, t.Value.String())

	case spec.Type == autoscalingv2.ResourceMetricSourceType && spec.Resource != nil:
		var cur *autoscalingv2.MetricValueStatus
		if status != nil && status.Resource != nil {
			cur = &status.Resource.Current
		}
		return spec.Resource.Name.String() + ": " + tableHPAResourceTarget(spec.Resource.Target, cur)

	case spec.Type == autoscalingv2.ContainerResourceMetricSourceType && spec.ContainerResource != nil:
		var cur *autoscalingv2.MetricValueStatus
		if status != nil && status.ContainerResource != nil {
			cur = &status.ContainerResource.Current
		}
		return spec.ContainerResource.Name.String() + ": " + tableHPAResourceTarget(spec.ContainerResource.Target, cur)
	}
	return "<unknown type>"
}

// tableHPAResourceTarget renders a (container) resource metric: an average value, or a
// utilization percentage ("<auto>" target when unset).
func tableHPAResourceTarget(target autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := "<unknown>"
	if target.AverageValue != nil {
		if cur != nil {
			current = cur.AverageValue.String()
		}
		return current + "/" + target.AverageValue.String()
	}
	if cur != nil && cur.AverageUtilization != nil {
		current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
	}
	want := "<auto>"
	if target.AverageUtilization != nil {
		want = fmt.Sprintf("%d%%", *target.AverageUtilization)
	}
	return current + "/" + want
}
