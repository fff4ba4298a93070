package mockapi

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	storeerr "k8s.io/apiserver/pkg/storage/errors"
)

// namespaceREST deletes namespaces the way a real cluster does: the first DELETE marks the
// namespace Terminating; the namespace controller then removes its contents, and the
// namespace goes away once its finalizers are done.
type namespaceREST struct {
	*genericregistry.Store
	reg *registry
}

func (n *namespaceREST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	c := ClusterFrom(ctx)
	if c == nil {
		return nil, false, apierrors.NewInternalError(errNoCluster)
	}
	if options == nil {
		options = &metav1.DeleteOptions{}
	}
	key, err := n.KeyFunc(ctx, name)
	if err != nil {
		return nil, false, err
	}
	out := n.NewFunc()
	dryRun := len(options.DryRun) > 0
	err = n.Storage.GuaranteedUpdate(ctx, key, out, false, nil,
		storage.SimpleUpdate(func(existing runtime.Object) (runtime.Object, error) {
			ns := existing.(*corev1.Namespace)
			if err := checkPreconditions(ns, options.Preconditions); err != nil {
				return nil, err
			}
			if err := deleteValidation(ctx, ns); err != nil {
				return nil, err
			}
			if ns.DeletionTimestamp != nil {
				return ns, nil
			}
			now := metav1.Now()
			ns.DeletionTimestamp = &now
			ns.Status.Phase = corev1.NamespaceTerminating
			return ns, nil
		}), dryRun, nil)
	if err != nil {
		if storage.IsNotFound(err) {
			return nil, false, apierrors.NewNotFound(corev1.Resource("namespaces"), name)
		}
		return nil, false, storeerr.InterpretUpdateError(err, corev1.Resource("namespaces"), name)
	}
	if !dryRun {
		go c.terminateNamespace(name, n.reg)
	}
	return out, false, nil
}

// checkPreconditions answers a failed delete precondition as the namespace registry does.
func checkPreconditions(ns *corev1.Namespace, p *metav1.Preconditions) error {
	if p == nil {
		return nil
	}
	if p.UID != nil && *p.UID != ns.UID {
		return apierrors.NewConflict(corev1.Resource("namespaces"), ns.Name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, ns.UID))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != ns.ResourceVersion {
		return apierrors.NewConflict(corev1.Resource("namespaces"), ns.Name,
			fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, ns.ResourceVersion))
	}
	return nil
}

// terminateNamespace is the namespace controller's work for one namespace.
func (c *Cluster) terminateNamespace(name string, reg *registry) {
	// Like the real controller, which acts shortly after the namespace turns Terminating.
	time.Sleep(100 * time.Millisecond)
	for _, ref := range c.store.namespacedContents(name, reg.isNamespaced) {
		_, _ = c.store.remove(ref.gvr, ref.namespace, ref.name, 0)
	}
	nsGVR := corev1.SchemeGroupVersion.WithResource("namespaces")
	for {
		obj, err := c.store.get(nsGVR, "", name)
		if err != nil {
			return
		}
		ns := obj.(*corev1.Namespace)
		rv := resourceVersionOf(ns)
		if len(ns.Finalizers) > 0 {
			// Others' finalizers keep it; the spec finalizer is ours to remove.
			ns.Spec.Finalizers = nil
			if _, err := c.store.update(nsGVR, ns, rv); err == errConflict {
				continue
			}
			return
		}
		if _, err := c.store.remove(nsGVR, "", name, rv); err == errConflict {
			continue
		}
		return
	}
}
