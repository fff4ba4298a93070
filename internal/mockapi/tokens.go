package mockapi

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/user"
)

// tokenFillDelay is how long the simulated token controller takes to fill a new
// service-account token Secret; a real one takes a few milliseconds to a second.
const tokenFillDelay = 50 * time.Millisecond

var (
	secretsGVR         = corev1.SchemeGroupVersion.WithResource("secrets")
	serviceAccountsGVR = corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	namespacesGVR      = corev1.SchemeGroupVersion.WithResource("namespaces")
	configMapsGVR      = corev1.SchemeGroupVersion.WithResource("configmaps")
)

// issuedToken is a service-account token the cluster issued, and what it is bound to.
type issuedToken struct {
	user    user.Info
	expires time.Time // zero: never
	// secret is the token Secret holding it ("namespace/name"), if any: deleting the Secret
	// revokes the token.
	secret string
	saUID  string
}

// observe runs the cluster's controllers on every change the store records. It is called
// with the store locked, so the controllers act asynchronously, like real ones, and cost
// nothing while idle.
func (c *Cluster) observe(e event) {
	switch e.gvr {
	case secretsGVR:
		s, ok := e.obj.(*corev1.Secret)
		if !ok || s.Type != corev1.SecretTypeServiceAccountToken {
			return
		}
		if e.typ == watch.Deleted {
			c.revokeTokens(func(t issuedToken) bool { return t.secret == s.Namespace+"/"+s.Name })
			return
		}
		if len(s.Data[corev1.ServiceAccountTokenKey]) == 0 {
			time.AfterFunc(tokenFillDelay, func() { c.fillTokenSecret(s.Namespace, s.Name) })
		}
	case serviceAccountsGVR:
		sa, ok := e.obj.(*corev1.ServiceAccount)
		if !ok || e.typ != watch.Deleted {
			return
		}
		c.revokeTokens(func(t issuedToken) bool { return t.saUID == string(sa.UID) })
		time.AfterFunc(tokenFillDelay, func() { c.deleteTokenSecrets(sa) })
		if sa.Name == defaultServiceAccount {
			c.ensureNamespaceDefaults(sa.Namespace)
		}
	case namespacesGVR:
		if ns, ok := e.obj.(*corev1.Namespace); ok && e.typ == watch.Added && !c.seeding {
			c.ensureNamespaceDefaults(ns.Name)
		}
	case configMapsGVR:
		if cm, ok := e.obj.(*corev1.ConfigMap); ok && e.typ == watch.Deleted && cm.Name == rootCAConfigMap {
			c.ensureNamespaceDefaults(cm.Namespace)
		}
	}
}

// fillTokenSecret is the token controller: it puts a token for the Secret's service account,
// the cluster CA and the namespace into the Secret; the token then authenticates as that
// service account. A Secret whose service account is missing or was replaced is deleted.
func (c *Cluster) fillTokenSecret(ns, name string) {
	for {
		obj, err := c.store.get(secretsGVR, ns, name)
		if err != nil {
			return
		}
		s := obj.(*corev1.Secret)
		if s.Type != corev1.SecretTypeServiceAccountToken || len(s.Data[corev1.ServiceAccountTokenKey]) > 0 {
			return
		}
		saName := s.Annotations[corev1.ServiceAccountNameKey]
		saObj, err := c.store.get(serviceAccountsGVR, ns, saName)
		if err != nil {
			_, _ = c.store.remove(secretsGVR, ns, name, resourceVersionOf(s))
			return
		}
		sa := saObj.(*corev1.ServiceAccount)
		if uid := s.Annotations[corev1.ServiceAccountUIDKey]; uid != "" && uid != string(sa.UID) {
			_, _ = c.store.remove(secretsGVR, ns, name, resourceVersionOf(s))
			return
		}
		tok, err := c.issueSecretToken(ns, name, saName, string(sa.UID))
		if err != nil {
			c.log.WithError(err).Error("sign service-account token")
			return
		}
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
		if _, err := c.store.update(secretsGVR, s, resourceVersionOf(s)); err != nil {
			c.revokeTokens(func(t issuedToken) bool { return t.secret == ns+"/"+name })
			if err == errConflict {
				continue
			}
		}
		return
	}
}

// deleteTokenSecrets removes the token Secrets of a deleted service account.
func (c *Cluster) deleteTokenSecrets(sa *corev1.ServiceAccount) {
	secrets, _, err := c.store.list(secretsGVR, corev1.SchemeGroupVersion.WithKind("Secret"), sa.Namespace)
	if err != nil {
		return
	}
	for _, obj := range secrets {
		s := obj.(*corev1.Secret)
		if s.Type == corev1.SecretTypeServiceAccountToken && s.Annotations[corev1.ServiceAccountNameKey] == sa.Name &&
			(s.Annotations[corev1.ServiceAccountUIDKey] == "" || s.Annotations[corev1.ServiceAccountUIDKey] == string(sa.UID)) {
			_, _ = c.store.remove(secretsGVR, s.Namespace, s.Name, 0)
		}
	}
}

func (c *Cluster) revokeTokens(match func(issuedToken) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for tok, t := range c.tokens {
		if match(t) {
			delete(c.tokens, tok)
			delete(c.legacyTokenDay, t.secret)
		}
	}
}
