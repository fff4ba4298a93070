package mockapi

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// tokenFillDelay is how long the simulated token controller takes to fill a new
// service-account token Secret; a real one takes a few milliseconds to a second.
const tokenFillDelay = 50 * time.Millisecond

// afterWrite runs the cluster's controllers on a stored object. They act asynchronously, like
// real controllers, and cost nothing while idle.
func (c *Cluster) afterWrite(gr schema.GroupResource, obj runtime.Object) {
	if gr == (schema.GroupResource{Resource: "secrets"}) {
		if s, ok := obj.(*corev1.Secret); ok && s.Type == corev1.SecretTypeServiceAccountToken && len(s.Data[corev1.ServiceAccountTokenKey]) == 0 {
			time.AfterFunc(tokenFillDelay, func() { c.fillTokenSecret(s.Namespace, s.Name) })
		}
	}
}

// fillTokenSecret is the token controller: it puts a token for the Secret's service account,
// the cluster CA and the namespace into the Secret; the token then authenticates as that
// service account.
func (c *Cluster) fillTokenSecret(ns, name string) {
	gvr := corev1.SchemeGroupVersion.WithResource("secrets")
	for {
		obj, err := c.store.get(gvr, ns, name)
		if err != nil {
			return
		}
		s := obj.(*corev1.Secret)
		if s.Type != corev1.SecretTypeServiceAccountToken || len(s.Data[corev1.ServiceAccountTokenKey]) > 0 {
			return
		}
		saName := s.Annotations[corev1.ServiceAccountNameKey]
		saObj, err := c.store.get(corev1.SchemeGroupVersion.WithResource("serviceaccounts"), ns, saName)
		if err != nil {
			// The real controller deletes token Secrets of missing service accounts.
			_, _ = c.store.remove(gvr, ns, name, resourceVersionOf(s))
			return
		}
		sa := saObj.(*corev1.ServiceAccount)
		if uid := s.Annotations[corev1.ServiceAccountUIDKey]; uid != "" && uid != string(sa.UID) {
			return
		}
		tok := c.IssueToken(serviceAccountUser(ns, saName, string(sa.UID)))
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[corev1.ServiceAccountUIDKey] = string(sa.UID)
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[corev1.ServiceAccountTokenKey] = []byte(tok)
		s.Data[corev1.ServiceAccountNamespaceKey] = []byte(ns)
		s.Data[corev1.ServiceAccountRootCAKey] = c.caCert
		if _, err := c.store.update(gvr, s, resourceVersionOf(s)); err == errConflict {
			c.forgetToken(tok)
			continue
		}
		return
	}
}

func (c *Cluster) forgetToken(tok string) {
	c.mu.Lock()
	delete(c.tokens, tok)
	c.mu.Unlock()
}
