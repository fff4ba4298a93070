package mockapi

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

// virtualResources are resources with no stored objects: reviews answered on create, and
// component statuses computed on read.
var virtualResources = map[schema.GroupResource]func(*registry, apidocs.Resource) (map[string]rest.Storage, error){
	{Resource: "bindings"}: func(r *registry, res apidocs.Resource) (map[string]rest.Storage, error) {
		return map[string]rest.Storage{res.Name: &bindingREST{reg: r, singularName: singularName(res.SingularName)}}, nil
	},
	{Resource: "componentstatuses"}: func(r *registry, res apidocs.Resource) (map[string]rest.Storage, error) {
		return map[string]rest.Storage{res.Name: &componentStatusREST{singularName: singularName(res.SingularName), table: tableConvertorFor(schema.GroupResource{Resource: res.Name})}}, nil
	},
	{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}: review(func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} }, false,
		func(_ context.Context, obj runtime.Object) (runtime.Object, error) {
			o := obj.(*authorizationv1.SelfSubjectAccessReview)
			o.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true}
			return o, nil
		}),
	{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}: review(func() runtime.Object { return &authorizationv1.SubjectAccessReview{} }, false,
		func(_ context.Context, obj runtime.Object) (runtime.Object, error) {
			o := obj.(*authorizationv1.SubjectAccessReview)
			o.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true}
			return o, nil
		}),
	{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}: review(func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} }, true,
		func(_ context.Context, obj runtime.Object) (runtime.Object, error) {
			o := obj.(*authorizationv1.LocalSubjectAccessReview)
			o.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true}
			return o, nil
		}),
	{Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"}: review(func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} }, false,
		func(_ context.Context, obj runtime.Object) (runtime.Object, error) {
			o := obj.(*authorizationv1.SelfSubjectRulesReview)
			o.Status = authorizationv1.SubjectRulesReviewStatus{
				ResourceRules:    []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}},
				NonResourceRules: []authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
			}
			return o, nil
		}),
	{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}: review(func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }, false,
		func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			o := obj.(*authenticationv1.SelfSubjectReview)
			if u, ok := genericapirequest.UserFrom(ctx); ok {
				o.Status.UserInfo = userInfo(u)
			}
			return o, nil
		}),
	{Group: "authentication.k8s.io", Resource: "tokenreviews"}: review(func() runtime.Object { return &authenticationv1.TokenReview{} }, false,
		func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			o := obj.(*authenticationv1.TokenReview)
			if c := ClusterFrom(ctx); c != nil {
				if u, ok := c.lookupToken(o.Spec.Token); ok {
					o.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: userInfo(u),
						Audiences: o.Spec.Audiences}
				}
			}
			return o, nil
		}),
}

// bindingREST assigns a pod to a node, as the scheduler does through pods/binding.
type bindingREST struct {
	singularName
	reg *registry
}

func (b *bindingREST) New() runtime.Object   { return &corev1.Binding{} }
func (b *bindingREST) Destroy()              {}
func (b *bindingREST) NamespaceScoped() bool { return true }
func (b *bindingREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return corev1.SchemeGroupVersion.WithKind("Binding")
}

func (b *bindingREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, opts *metav1.CreateOptions) (runtime.Object, error) {
	binding := obj.(*corev1.Binding)
	return b.bind(ctx, binding.Name, binding, createValidation, opts)
}

func (b *bindingREST) bind(ctx context.Context, podName string, binding *corev1.Binding, createValidation rest.ValidateObjectFunc, opts *metav1.CreateOptions) (runtime.Object, error) {
	if createValidation != nil {
		if err := createValidation(ctx, binding); err != nil {
			return nil, err
		}
	}
	pods, ok := b.reg.stores[corev1.Resource("pods")]
	if !ok {
		return nil, apierrors.NewNotFound(corev1.Resource("pods"), podName)
	}
	if binding.Target.Name == "" {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), binding.Name,
			field.ErrorList{field.Required(field.NewPath("target", "name"), "")})
	}
	update := rest.DefaultUpdatedObjectInfo(nil, func(_ context.Context, obj, old runtime.Object) (runtime.Object, error) {
		pod := old.DeepCopyObject().(*corev1.Pod)
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(corev1.Resource("pods/binding"), podName,
				fmt.Errorf("pod %s is already assigned to node %q", podName, pod.Spec.NodeName))
		}
		pod.Spec.NodeName = binding.Target.Name
		return pod, nil
	})
	uo := &metav1.UpdateOptions{}
	if opts != nil {
		uo.DryRun = opts.DryRun
	}
	if _, _, err := pods.Update(ctx, podName, update, rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, uo); err != nil {
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess, Code: 201}, nil
}

// podBindingREST is pods/binding: the pod's name comes from the path.
type podBindingREST struct{ *bindingREST }

func (b podBindingREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, opts *metav1.CreateOptions) (runtime.Object, error) {
	return b.bind(ctx, name, obj.(*corev1.Binding), createValidation, opts)
}

func userInfo(u user.Info) authenticationv1.UserInfo {
	out := authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
	if extra := u.GetExtra(); len(extra) > 0 {
		out.Extra = make(map[string]authenticationv1.ExtraValue, len(extra))
		for k, v := range extra {
			out.Extra[k] = v
		}
	}
	return out
}

// singularName is the singular resource name discovery advertises.
type singularName string

func (s singularName) GetSingularName() string { return string(s) }

// review builds a create-only resource whose answer is computed from the request.
func review(newFunc func() runtime.Object, namespaced bool, answer func(context.Context, runtime.Object) (runtime.Object, error)) func(*registry, apidocs.Resource) (map[string]rest.Storage, error) {
	return func(_ *registry, res apidocs.Resource) (map[string]rest.Storage, error) {
		return map[string]rest.Storage{res.Name: &reviewREST{singularName: singularName(res.SingularName), newFunc: newFunc, namespaced: namespaced, answer: answer}}, nil
	}
}

type reviewREST struct {
	singularName
	newFunc    func() runtime.Object
	namespaced bool
	answer     func(context.Context, runtime.Object) (runtime.Object, error)
}

func (r *reviewREST) New() runtime.Object   { return r.newFunc() }
func (r *reviewREST) Destroy()              {}
func (r *reviewREST) NamespaceScoped() bool { return r.namespaced }

func (r *reviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	if createValidation != nil {
		if err := createValidation(ctx, obj); err != nil {
			return nil, err
		}
	}
	return r.answer(ctx, obj)
}

// componentStatusREST reports the control plane healthy, like a healthy real cluster.
type componentStatusREST struct {
	singularName
	table rest.TableConvertor
}

var componentNames = []string{"controller-manager", "scheduler", "etcd-0"}

func (r *componentStatusREST) New() runtime.Object     { return &corev1.ComponentStatus{} }
func (r *componentStatusREST) NewList() runtime.Object { return &corev1.ComponentStatusList{} }
func (r *componentStatusREST) Destroy()                {}
func (r *componentStatusREST) NamespaceScoped() bool   { return false }

func (r *componentStatusREST) status(name string) *corev1.ComponentStatus {
	msg := "ok"
	if name == "etcd-0" {
		msg = `{"health":"true","reason":""}`
	}
	return &corev1.ComponentStatus{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Conditions: []corev1.ComponentCondition{{Type: corev1.ComponentHealthy, Status: corev1.ConditionTrue, Message: msg}},
	}
}

func (r *componentStatusREST) Get(_ context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	for _, n := range componentNames {
		if n == name {
			return r.status(n), nil
		}
	}
	return nil, apierrors.NewNotFound(corev1.Resource("componentstatuses"), name)
}

func (r *componentStatusREST) List(_ context.Context, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	l := &corev1.ComponentStatusList{}
	for _, n := range componentNames {
		s := r.status(n)
		if opts != nil && opts.LabelSelector != nil && !opts.LabelSelector.Empty() {
			continue
		}
		l.Items = append(l.Items, *s)
	}
	return l, nil
}

func (r *componentStatusREST) ConvertToTable(ctx context.Context, obj runtime.Object, opts runtime.Object) (*metav1.Table, error) {
	return r.table.ConvertToTable(ctx, obj, opts)
}

// subresource returns the storage of subresources that act on their parent object.
func (r *registry) subresource(store *genericregistry.Store, res apidocs.Resource, sub apidocs.Subresource) rest.Storage {
	switch {
	case res.Name == "serviceaccounts" && sub.Name == "token":
		return &tokenRequestREST{store: store}
	case res.Name == "pods" && sub.Name == "eviction":
		return &evictionREST{store: store}
	case res.Name == "pods" && sub.Name == "binding":
		return podBindingREST{&bindingREST{reg: r, singularName: "binding"}}
	}
	return nil
}

// tokenRequestREST issues a bound token for a service account (kubectl create token).
type tokenRequestREST struct {
	store *genericregistry.Store
}

var _ rest.NamedCreater = (*tokenRequestREST)(nil)
var _ rest.GroupVersionKindProvider = (*tokenRequestREST)(nil)

func (t *tokenRequestREST) New() runtime.Object { return &authenticationv1.TokenRequest{} }
func (t *tokenRequestREST) Destroy()            {}
func (t *tokenRequestREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
}

func (t *tokenRequestREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	c := ClusterFrom(ctx)
	if c == nil {
		return nil, apierrors.NewInternalError(errNoCluster)
	}
	saObj, err := t.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)
	req := obj.(*authenticationv1.TokenRequest)
	if createValidation != nil {
		if err := createValidation(ctx, req); err != nil {
			return nil, err
		}
	}
	// Like the apiserver: one hour by default, at least ten minutes, for the API audiences.
	exp := int64(3600)
	if req.Spec.ExpirationSeconds != nil {
		exp = *req.Spec.ExpirationSeconds
	}
	if exp < 600 {
		return nil, apierrors.NewInvalid(authenticationv1.SchemeGroupVersion.WithKind("TokenRequest").GroupKind(), name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "expirationSeconds"), exp, "may not specify a duration less than 10 minutes")})
	}
	out := req.DeepCopy()
	if len(out.Spec.Audiences) == 0 {
		out.Spec.Audiences = []string{serviceAccountIssuer}
	}
	out.Name, out.Namespace = sa.Name, sa.Namespace
	out.CreationTimestamp = nowTime()
	out.Spec.ExpirationSeconds = &exp
	tok, expires, err := c.issueBoundToken(sa.Namespace, sa.Name, string(sa.UID), out.Spec.Audiences, time.Duration(exp)*time.Second)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	out.Status = authenticationv1.TokenRequestStatus{Token: tok, ExpirationTimestamp: metav1.NewTime(expires.Truncate(time.Second))}
	return out, nil
}

// evictionREST evicts a pod: with no disruption budgets enforced, that is a delete.
type evictionREST struct {
	store *genericregistry.Store
}

var _ rest.NamedCreater = (*evictionREST)(nil)
var _ rest.GroupVersionKindProvider = (*evictionREST)(nil)

func (e *evictionREST) New() runtime.Object { return &policyv1.Eviction{} }
func (e *evictionREST) Destroy()            {}
func (e *evictionREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return policyv1.SchemeGroupVersion.WithKind("Eviction")
}

func (e *evictionREST) Create(ctx context.Context, name string, obj runtime.Object, _ rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	ev := obj.(*policyv1.Eviction)
	opts := ev.DeleteOptions
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	if _, _, err := e.store.Delete(ctx, name, rest.ValidateAllObjectFunc, opts); err != nil {
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess, Code: 201}, nil
}
