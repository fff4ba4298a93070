package mockapi

import (
	"context"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// strategy is the create/update/delete behaviour shared by every built-in resource: what the
// real registries have in common (status owned by the status subresource, generation bumped on
// spec changes, object metadata validated), plus the few per-kind rules in kindRules.
type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	defaulter  runtime.ObjectDefaulter
	gk         schema.GroupKind
	gvs        []schema.GroupVersion // the versions the resource is served in, for reset fields
	namespaced bool
	hasStatus  bool
	rules      kindRule
}

// statusMetaRule is what a status update resets of the object's metadata, besides generation.
type statusMetaRule int

const (
	statusKeepsMeta     statusMetaRule = iota // metadata changes are kept
	statusResetsLabels                        // Deployments
	statusResetsOwners                        // Pods: owner references and deletion timestamp
	statusResetsAllMeta                       // metav1.ResetObjectMetaForStatus
)

// kindRule holds what differs between kinds.
type kindRule struct {
	// keepStatusOnCreate: the creator owns status (kubelet creates Nodes with it).
	keepStatusOnCreate bool
	// generation: metadata.generation is tracked and bumped when the spec changes.
	generation bool
	// annotationsBumpGeneration: annotation changes bump generation too (Deployments copy
	// their annotations to their ReplicaSets).
	annotationsBumpGeneration bool
	// statusMeta says which metadata a status update may not change.
	statusMeta statusMetaRule
	// allowCreateOnUpdate: a PUT may create the object.
	allowCreateOnUpdate bool
	// nameValidator validates metadata.name; nil means a DNS-1123 subdomain.
	nameValidator metavalidation.ValidateNameFunc
	// prepareForCreate sets the defaults a real registry sets on create.
	prepareForCreate func(obj runtime.Object)
	// validate adds kind-specific validation.
	validate func(obj runtime.Object) field.ErrorList
}

func newStrategy(s *runtime.Scheme, gk schema.GroupKind, gvs []schema.GroupVersion, namespaced, hasStatus bool) *strategy {
	return &strategy{
		ObjectTyper: s, NameGenerator: names.SimpleNameGenerator, defaulter: s,
		gk: gk, gvs: gvs, namespaced: namespaced, hasStatus: hasStatus, rules: kindRules[gk],
	}
}

func (s *strategy) NamespaceScoped() bool { return s.namespaced }

func (s *strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	if s.hasStatus && !s.rules.keepStatusOnCreate {
		setStatus(obj, nil)
	}
	if s.rules.generation {
		if m, err := meta.Accessor(obj); err == nil {
			m.SetGeneration(1)
		}
	}
	if s.rules.prepareForCreate != nil {
		s.rules.prepareForCreate(obj)
	}
	// A real server re-defaults what it reads back from etcd; the reset status gets its
	// defaults here (e.g. a PersistentVolumeClaim's phase Pending).
	s.defaulter.Default(obj)
}

func (s *strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	if s.hasStatus {
		setStatus(obj, old)
	}
	if s.rules.generation {
		newMeta, err1 := meta.Accessor(obj)
		oldMeta, err2 := meta.Accessor(old)
		if err1 == nil && err2 == nil {
			gen := oldMeta.GetGeneration()
			if !apiequality.Semantic.DeepEqual(specOf(obj), specOf(old)) ||
				s.rules.annotationsBumpGeneration && !apiequality.Semantic.DeepEqual(newMeta.GetAnnotations(), oldMeta.GetAnnotations()) {
				gen++
			}
			newMeta.SetGeneration(gen)
		}
	}
}

func (s *strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	m, err := meta.Accessor(obj)
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), err)}
	}
	nameFn := s.rules.nameValidator
	if nameFn == nil {
		nameFn = pathSegmentAndSubdomain
	}
	errs := metavalidation.ValidateObjectMetaAccessor(m, s.namespaced, nameFn, field.NewPath("metadata"))
	if s.rules.validate != nil {
		errs = append(errs, s.rules.validate(obj)...)
	}
	return errs
}

func (s *strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	newMeta, err1 := meta.Accessor(obj)
	oldMeta, err2 := meta.Accessor(old)
	if err1 != nil || err2 != nil {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), err1)}
	}
	errs := metavalidation.ValidateObjectMetaAccessorUpdate(newMeta, oldMeta, field.NewPath("metadata"))
	if s.rules.validate != nil {
		errs = append(errs, s.rules.validate(obj)...)
	}
	return errs
}

func (s *strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

func (s *strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func (s *strategy) Canonicalize(runtime.Object) {}

func (s *strategy) AllowCreateOnUpdate(context.Context) bool { return s.rules.allowCreateOnUpdate }

func (s *strategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// GetResetFields tells server-side apply that status belongs to the status subresource.
func (s *strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	if !s.hasStatus {
		return nil
	}
	return resetFields(s.gvs, fieldpath.MakePathOrDie("status"))
}

// statusStrategy serves the status subresource: only .status changes.
type statusStrategy struct {
	*strategy
}

func (s statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	// Everything but metadata and status comes from the stored object.
	nv, ov := reflect.ValueOf(obj).Elem(), reflect.ValueOf(old).Elem()
	for i := 0; i < nv.NumField(); i++ {
		switch nv.Type().Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
		default:
			nv.Field(i).Set(ov.Field(i))
		}
	}
	newMeta, err1 := meta.Accessor(obj)
	oldMeta, err2 := meta.Accessor(old)
	if err1 != nil || err2 != nil {
		return
	}
	newMeta.SetGeneration(oldMeta.GetGeneration())
	switch s.rules.statusMeta {
	case statusResetsLabels:
		newMeta.SetLabels(oldMeta.GetLabels())
	case statusResetsOwners:
		newMeta.SetOwnerReferences(oldMeta.GetOwnerReferences())
		newMeta.SetDeletionTimestamp(oldMeta.GetDeletionTimestamp())
	case statusResetsAllMeta:
		metav1.ResetObjectMetaForStatus(newMeta, oldMeta)
	}
}

func (s statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	newMeta, err1 := meta.Accessor(obj)
	oldMeta, err2 := meta.Accessor(old)
	if err1 != nil || err2 != nil {
		return nil
	}
	return metavalidation.ValidateObjectMetaAccessorUpdate(newMeta, oldMeta, field.NewPath("metadata"))
}

func (s statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return resetFields(s.gvs, fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"),
		fieldpath.MakePathOrDie("metadata", "annotations"))
}

func resetFields(gvs []schema.GroupVersion, paths ...fieldpath.Path) map[fieldpath.APIVersion]*fieldpath.Set {
	out := make(map[fieldpath.APIVersion]*fieldpath.Set, len(gvs))
	for _, gv := range gvs {
		out[fieldpath.APIVersion(gv.String())] = fieldpath.NewSet(paths...)
	}
	return out
}

// setStatus sets obj's Status field to from's, or to its zero value when from is nil.
func setStatus(obj, from runtime.Object) {
	f := reflect.ValueOf(obj).Elem().FieldByName("Status")
	if !f.IsValid() || !f.CanSet() {
		return
	}
	if from == nil {
		f.Set(reflect.Zero(f.Type()))
		return
	}
	if g := reflect.ValueOf(from).Elem().FieldByName("Status"); g.IsValid() && g.Type() == f.Type() {
		f.Set(g)
	}
}

// specOf returns what a generation tracks: the spec, or for kinds without one (e.g.
// PriorityClass, EndpointSlice) every field but the type, object metadata and status.
func specOf(obj runtime.Object) interface{} {
	v := reflect.ValueOf(obj).Elem()
	if f := v.FieldByName("Spec"); f.IsValid() {
		return f.Interface()
	}
	var fields []interface{}
	for i := 0; i < v.NumField(); i++ {
		switch v.Type().Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
		default:
			fields = append(fields, v.Field(i).Interface())
		}
	}
	return fields
}

func pathSegmentAndSubdomain(name string, prefix bool) []string {
	if errs := path.ValidatePathSegmentName(name, prefix); len(errs) > 0 {
		return errs
	}
	return metavalidation.NameIsDNSSubdomain(name, prefix)
}

// kindRules holds the per-kind behaviour of the real registries that clients notice.
var kindRules = map[schema.GroupKind]kindRule{
	{Kind: "Node"}: {keepStatusOnCreate: true},
	{Kind: "Namespace"}: {
		nameValidator: metavalidation.ValidateNamespaceName,
		prepareForCreate: func(obj runtime.Object) {
			ns := obj.(*corev1.Namespace)
			ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
			ns.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
			// The NamespaceDefaultLabelName admission sets this label on every namespace.
			if ns.Labels == nil {
				ns.Labels = map[string]string{}
			}
			ns.Labels[corev1.LabelMetadataName] = ns.Name
		},
	},
	{Kind: "Pod"}: {
		generation: true,
		statusMeta: statusResetsOwners,
		prepareForCreate: func(obj runtime.Object) {
			pod := obj.(*corev1.Pod)
			pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podQOSClass(pod)}
		},
		validate: validatePod,
	},
	{Kind: "PodTemplate"}:                                                             {generation: true},
	{Kind: "ConfigMap"}:                                                               {validate: validateConfigMap},
	{Kind: "Secret"}:                                                                  {validate: validateSecret},
	{Kind: "Service"}:                                                                 {nameValidator: metavalidation.NameIsDNS1035Label},
	{Kind: "Endpoints"}:                                                               {allowCreateOnUpdate: true},
	{Kind: "ReplicationController"}:                                                   {generation: true},
	{Group: "apps", Kind: "Deployment"}:                                               {generation: true, annotationsBumpGeneration: true, statusMeta: statusResetsLabels, validate: validateDeployment},
	{Group: "apps", Kind: "ReplicaSet"}:                                               {generation: true},
	{Group: "apps", Kind: "StatefulSet"}:                                              {generation: true},
	{Group: "apps", Kind: "DaemonSet"}:                                                {generation: true},
	{Group: "batch", Kind: "Job"}:                                                     {generation: true},
	{Group: "batch", Kind: "CronJob"}:                                                 {generation: true},
	{Group: "policy", Kind: "PodDisruptionBudget"}:                                    {generation: true},
	{Group: "networking.k8s.io", Kind: "Ingress"}:                                     {generation: true},
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                {generation: true},
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}:                               {generation: true},
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:                                 {statusMeta: statusResetsAllMeta},
	{Group: "discovery.k8s.io", Kind: "EndpointSlice"}:                                {generation: true},
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               {generation: true},
	{Group: "coordination.k8s.io", Kind: "Lease"}:                                     {allowCreateOnUpdate: true},
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               {statusMeta: statusResetsAllMeta},
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:                                 {generation: true},
	{Group: "resource.k8s.io", Kind: "DeviceClass"}:                                   {generation: true},
	{Group: "resource.k8s.io", Kind: "ResourceClaim"}:                                 {statusMeta: statusResetsAllMeta},
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       {generation: true},
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       {generation: true},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   {generation: true},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     {generation: true},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        {generation: true, statusMeta: statusResetsAllMeta},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: {generation: true},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}:          {generation: true},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicyBinding"}:   {generation: true},
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 {generation: true},
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:                                {nameValidator: pathSegmentName},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         {nameValidator: pathSegmentName},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:                         {nameValidator: pathSegmentName},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  {nameValidator: pathSegmentName},
}

// pathSegmentName is RBAC's name rule: anything usable as a URL path segment.
func pathSegmentName(name string, prefix bool) []string {
	return path.ValidatePathSegmentName(name, prefix)
}
