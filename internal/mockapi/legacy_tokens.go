package mockapi

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// legacyTokenLastUsedLabel is what kube-apiserver's legacy service-account token tracking
// (k8s.io/kubernetes pkg/serviceaccount/legacy.go) puts on a token Secret whose token
// authenticates: the day's date, UTC. Rancher's informer on its impersonation Secrets sees
// that change.
const legacyTokenLastUsedLabel = "kubernetes.io/legacy-token-last-used"

// noteLegacyTokenUse labels the token Secret ("namespace/name") with today's date unless it
// carries today's or tomorrow's already, as kube-apiserver does before it answers. The
// cluster remembers the day it last looked, so that a token in use costs a store read once a
// day rather than on every request; a label a client removes comes back the next day.
func (c *Cluster) noteLegacyTokenUse(secret string, now time.Time) {
	today := now.UTC().Format(time.DateOnly)
	c.mu.Lock()
	if c.legacyTokenDay[secret] == today {
		c.mu.Unlock()
		return
	}
	if c.legacyTokenDay == nil {
		c.legacyTokenDay = map[string]string{}
	}
	c.legacyTokenDay[secret] = today
	c.mu.Unlock()

	tomorrow := now.UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	ns, name, _ := strings.Cut(secret, "/")
	// A concurrent writer (the token controller, a client) makes the update conflict; the
	// label goes on the newer object.
	for range 3 {
		obj, err := c.store.get(secretsGVR, ns, name)
		if err != nil {
			return
		}
		s := obj.(*corev1.Secret)
		if day := s.Labels[legacyTokenLastUsedLabel]; day == today || day == tomorrow {
			return
		}
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[legacyTokenLastUsedLabel] = today
		if _, err := c.store.update(secretsGVR, s, resourceVersionOf(s)); err != errConflict {
			if err != nil {
				c.log.WithError(err).WithField("secret", secret).Debug("legacy token last-used label")
			}
			return
		}
	}
}
