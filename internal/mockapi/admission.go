package mockapi

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
)

// namespaceLifecycle is the part of the NamespaceLifecycle admission plugin clients notice:
// no new objects in a namespace that does not exist (404) or is terminating (403), and the
// system namespaces cannot be deleted.
type namespaceLifecycle struct {
	*admission.Handler
}

func newAdmission() admission.Interface {
	return namespaceLifecycle{Handler: admission.NewHandler(admission.Create, admission.Delete)}
}

var _ admission.ValidationInterface = namespaceLifecycle{}

// immortalNamespaces are the namespaces the plugin refuses to delete.
var immortalNamespaces = map[string]bool{metav1.NamespaceDefault: true, metav1.NamespaceSystem: true, metav1.NamespacePublic: true}

func (namespaceLifecycle) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	isNamespace := a.GetKind().GroupKind() == corev1.SchemeGroupVersion.WithKind("Namespace").GroupKind() ||
		a.GetResource().GroupResource() == corev1.Resource("namespaces")
	if a.GetOperation() == admission.Delete {
		if isNamespace && a.GetSubresource() == "" && immortalNamespaces[a.GetName()] {
			return apierrors.NewForbidden(a.GetResource().GroupResource(), a.GetName(), fmt.Errorf("this namespace may not be deleted"))
		}
		return nil
	}
	ns := a.GetNamespace()
	if ns == "" || a.GetSubresource() != "" {
		return nil
	}
	if isNamespace {
		return nil
	}
	c := ClusterFrom(ctx)
	if c == nil {
		return nil
	}
	obj, err := c.store.get(corev1.SchemeGroupVersion.WithResource("namespaces"), "", ns)
	if err != nil {
		return apierrors.NewNotFound(corev1.Resource("namespaces"), ns)
	}
	if n := obj.(*corev1.Namespace); n.Status.Phase == corev1.NamespaceTerminating {
		err := admission.NewForbidden(a, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
		// Controllers recognise this refusal by its cause.
		if se, ok := err.(*apierrors.StatusError); ok && se.ErrStatus.Details != nil {
			se.ErrStatus.Details.Causes = append(se.ErrStatus.Details.Causes, metav1.StatusCause{
				Type:    corev1.NamespaceTerminatingCause,
				Message: fmt.Sprintf("namespace %s is being terminated", ns),
				Field:   "metadata.namespace",
			})
		}
		return err
	}
	return nil
}
