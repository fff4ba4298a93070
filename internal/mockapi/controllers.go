package mockapi

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const (
	defaultServiceAccount = "default"
	rootCAConfigMap       = "kube-root-ca.crt"
	// namespaceDefaultsDelay is how long the service-account and root-CA publisher
	// controllers take to populate a new namespace.
	namespaceDefaultsDelay = 100 * time.Millisecond
)

// ensureNamespaceDefaults is the service-account controller and the root CA publisher: every
// active namespace has a "default" ServiceAccount and a kube-root-ca.crt ConfigMap, recreated
// if deleted.
func (c *Cluster) ensureNamespaceDefaults(ns string) {
	time.AfterFunc(namespaceDefaultsDelay, func() {
		obj, err := c.store.get(namespacesGVR, "", ns)
		if err != nil || obj.(*corev1.Namespace).Status.Phase != corev1.NamespaceActive {
			return
		}
		c.createIfMissing(serviceAccountsGVR, corev1.SchemeGroupVersion.WithKind("ServiceAccount"),
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: defaultServiceAccount, Namespace: ns}})
		c.createIfMissing(configMapsGVR, corev1.SchemeGroupVersion.WithKind("ConfigMap"),
			&corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: rootCAConfigMap, Namespace: ns,
					Annotations: map[string]string{"kubernetes.io/description": rootCADescription}},
				Data: map[string]string{"ca.crt": string(c.caCert)},
			})
	})
}

// The annotation the root CA publisher puts on every kube-root-ca.crt.
const rootCADescription = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

func (c *Cluster) createIfMissing(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, obj runtime.Object) {
	m := obj.(metav1.Object)
	if _, err := c.store.get(gvr, m.GetNamespace(), m.GetName()); err == nil {
		return
	}
	m.SetUID(newUID())
	m.SetCreationTimestamp(nowTime())
	_, _ = c.store.create(gvr, gvk, obj)
}

// nodeLeaseRenewInterval is how often a kubelet renews its node Lease.
const nodeLeaseRenewInterval = 10 * time.Second

var leasesGVR = coordinationv1.SchemeGroupVersion.WithResource("leases")

// renewNodeLeases is the kubelets' lease heartbeat. It runs when someone reads leases rather
// than on a timer, so an idle cluster costs nothing and records no events, while every
// reader sees leases renewed within the last interval, as on a healthy cluster.
func (c *Cluster) renewNodeLeases() {
	now := time.Now()
	last := c.leasesRenewed.Load()
	if now.UnixNano()-last < int64(nodeLeaseRenewInterval) || !c.leasesRenewed.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	items, _, err := c.store.list(leasesGVR, coordinationv1.SchemeGroupVersion.WithKind("Lease"), corev1.NamespaceNodeLease)
	if err != nil {
		return
	}
	renew := metav1.NewMicroTime(now)
	for _, obj := range items {
		l := obj.(*coordinationv1.Lease)
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != l.Name {
			continue // not a kubelet's lease
		}
		l.Spec.RenewTime = &renew
		_, _ = c.store.update(leasesGVR, l, resourceVersionOf(l))
	}
}

// ServiceAccountToken returns a non-expiring token for service account ns/name, creating the
// namespace and the service account when they do not exist yet, as the agent's manifest would.
// The token authenticates until the service account is deleted.
func (c *Cluster) ServiceAccountToken(ns, name string) (string, error) {
	c.createIfMissing(namespacesGVR, corev1.SchemeGroupVersion.WithKind("Namespace"), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{corev1.LabelMetadataName: ns}},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	})
	c.createIfMissing(serviceAccountsGVR, corev1.SchemeGroupVersion.WithKind("ServiceAccount"),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})
	obj, err := c.store.get(serviceAccountsGVR, ns, name)
	if err != nil {
		return "", err
	}
	sa := obj.(*corev1.ServiceAccount)
	return c.issueSecretToken(ns, "", name, string(sa.UID))
}
