package mockapi

import (
	"context"
	"reflect"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
)

// scaleREST serves the scale subresource of a workload as an autoscaling/v1 Scale, reading
// and writing the workload's spec.replicas.
type scaleREST struct {
	store *genericregistry.Store
	gr    schema.GroupResource
}

func newScaleREST(store *genericregistry.Store, gr schema.GroupResource) *scaleREST {
	spec := reflect.ValueOf(store.New()).Elem().FieldByName("Spec")
	if !spec.IsValid() || !spec.FieldByName("Replicas").IsValid() {
		return nil
	}
	return &scaleREST{store: store, gr: gr}
}

var _ rest.GroupVersionKindProvider = (*scaleREST)(nil)

func (s *scaleREST) New() runtime.Object { return &autoscalingv1.Scale{} }

func (s *scaleREST) Destroy() {}

func (s *scaleREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return autoscalingv1.SchemeGroupVersion.WithKind("Scale")
}

func (s *scaleREST) Get(ctx context.Context, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	obj, err := s.store.Get(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	return scaleOf(obj)
}

func (s *scaleREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, _ rest.ValidateObjectFunc,
	_ rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, _, err := s.store.Update(ctx, name, &scaleUpdate{inner: objInfo, gr: s.gr}, rest.ValidateAllObjectFunc,
		rest.ValidateAllObjectUpdateFunc, false, options)
	if err != nil {
		return nil, false, err
	}
	scale, err := scaleOf(obj)
	return scale, false, err
}

// scaleUpdate applies the client's Scale to the stored workload inside the registry's
// guaranteed update, so a concurrent write is retried rather than lost.
type scaleUpdate struct {
	inner rest.UpdatedObjectInfo
	gr    schema.GroupResource
}

func (u *scaleUpdate) Preconditions() *metav1.Preconditions { return u.inner.Preconditions() }

func (u *scaleUpdate) UpdatedObject(ctx context.Context, old runtime.Object) (runtime.Object, error) {
	oldScale, err := scaleOf(old)
	if err != nil {
		return nil, err
	}
	obj, err := u.inner.UpdatedObject(ctx, oldScale)
	if err != nil {
		return nil, err
	}
	scale, ok := obj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest("expected an autoscaling/v1 Scale")
	}
	if scale.Spec.Replicas < 0 {
		return nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), scale.Name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), scale.Spec.Replicas, "must be greater than or equal to 0")})
	}
	if scale.ResourceVersion != "" && scale.ResourceVersion != oldScale.ResourceVersion {
		return nil, apierrors.NewConflict(u.gr, scale.Name, errConflictMessage)
	}
	out := old.DeepCopyObject()
	setReplicas(out, scale.Spec.Replicas)
	return out, nil
}

var errConflictMessage = errorString("the object has been modified; please apply your changes to the latest version and try again")

type errorString string

func (e errorString) Error() string { return string(e) }

func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(obj).Elem()
	scale := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp(),
		},
	}
	switch r := v.FieldByName("Spec").FieldByName("Replicas"); r.Kind() {
	case reflect.Ptr:
		if !r.IsNil() {
			scale.Spec.Replicas = int32(r.Elem().Int())
		} else {
			scale.Spec.Replicas = 1
		}
	case reflect.Int32:
		scale.Spec.Replicas = int32(r.Int())
	}
	if r := v.FieldByName("Status").FieldByName("Replicas"); r.IsValid() {
		scale.Status.Replicas = int32(r.Int())
	}
	switch sel := v.FieldByName("Spec").FieldByName("Selector").Interface().(type) {
	case *metav1.LabelSelector:
		if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && sel != nil {
			scale.Status.Selector = s.String()
		}
	case map[string]string:
		scale.Status.Selector = labels.SelectorFromSet(sel).String()
	}
	return scale, nil
}

func setReplicas(obj runtime.Object, n int32) {
	r := reflect.ValueOf(obj).Elem().FieldByName("Spec").FieldByName("Replicas")
	switch r.Kind() {
	case reflect.Ptr:
		r.Set(reflect.ValueOf(&n))
	case reflect.Int32:
		r.SetInt(int64(n))
	}
}
