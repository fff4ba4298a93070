package rancher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Time is a timestamp as Rancher writes one: RFC 3339, or "" or null when unset (conditions
// of the local cluster carry lastUpdateTime "", the v3 API writes lastTransitionTime null).
type Time struct{ time.Time }

// UnmarshalJSON accepts RFC 3339, "" and null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || bytes.Equal(b, []byte(`""`)) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	t.Time = v
	return nil
}

// MarshalJSON writes null for the zero time, RFC 3339 otherwise.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

// Condition is one entry of a cluster's status.conditions. The v3 API gives the first six
// fields; steve's /v1 view adds its summary booleans Error and Transitioning.
type Condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"` // "True", "False" or "Unknown"
	Reason             string `json:"reason,omitempty"`
	Message            string `json:"message,omitempty"`
	LastUpdateTime     Time   `json:"lastUpdateTime"`
	LastTransitionTime Time   `json:"lastTransitionTime"`
	Error              bool   `json:"error,omitempty"`
	Transitioning      bool   `json:"transitioning,omitempty"`
}

// VersionInfo is the downstream's /version as Rancher stored it.
type VersionInfo struct {
	GitVersion string `json:"gitVersion"`
	Major      string `json:"major"`
	Minor      string `json:"minor"`
	Platform   string `json:"platform,omitempty"`
}

// Cluster is a management cluster as /v3/clusters shows it.
type Cluster struct {
	ID          string            `json:"id"`   // c-xxxxx (v3 route) or c-m-xxxxxxxx (v1 route)
	Name        string            `json:"name"` // the display name given at creation
	Description string            `json:"description,omitempty"`
	UUID        string            `json:"uuid,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`

	// State is norman's summary of the conditions (wrangler pkg/summary): pending, waiting,
	// active, unavailable, removing, ... Transitioning is "yes", "no" or "error", and
	// TransitioningMessage says what it waits for or what failed.
	State                string      `json:"state"`
	Transitioning        string      `json:"transitioning"`
	TransitioningMessage string      `json:"transitioningMessage"`
	Conditions           []Condition `json:"conditions,omitempty"`

	Driver      string       `json:"driver,omitempty"` // "" until the agent's first connect, then "imported"
	Provider    string       `json:"provider,omitempty"`
	Internal    bool         `json:"internal"` // true for "local"
	APIEndpoint string       `json:"apiEndpoint,omitempty"`
	AgentImage  string       `json:"agentImage,omitempty"`
	Version     *VersionInfo `json:"version,omitempty"`
	NodeCount   int          `json:"nodeCount"`

	Created   Time              `json:"created"`
	CreatorID string            `json:"creatorId,omitempty"`
	Removed   Time              `json:"removed"` // set once deletion has begun
	Links     map[string]string `json:"links,omitempty"`
	Actions   map[string]string `json:"actions,omitempty"`
}

// Condition returns the condition of that type, or nil.
func (c *Cluster) Condition(typ string) *Condition {
	for i := range c.Conditions {
		if c.Conditions[i].Type == typ {
			return &c.Conditions[i]
		}
	}
	return nil
}

// IsActive reports whether Rancher considers the cluster up: state active, not
// transitioning, and a Ready condition that is True. State alone is not enough: a cluster
// that has no conditions yet is summarised as active too, and that is exactly what Rancher
// v2.15 returns for the first seconds after POST /v3/clusters (recorded: state active,
// transitioning no, no conditions, driver unset, before it turns pending).
func (c *Cluster) IsActive() bool {
	if c.State != "active" || (c.Transitioning != "" && c.Transitioning != "no") {
		return false
	}
	ready := c.Condition("Ready")
	return ready != nil && ready.Status == "True"
}

// Blocker says briefly why the cluster is not active, from Rancher's own words: the
// transitioning message, else the conditions that are not True. It is "" for an active cluster.
func (c *Cluster) Blocker() string {
	if c.IsActive() {
		return ""
	}
	var parts []string
	if c.TransitioningMessage != "" {
		parts = append(parts, c.TransitioningMessage)
	}
	for _, cond := range c.Conditions {
		if cond.Status == "True" {
			continue
		}
		s := cond.Type + "=" + cond.Status
		if cond.Reason != "" {
			s += " " + cond.Reason
		}
		if cond.Message != "" && cond.Message != c.TransitioningMessage {
			s += ": " + cond.Message
		}
		parts = append(parts, s)
	}
	if c.Condition("Ready") == nil {
		parts = append(parts, "no Ready condition yet")
	}
	return fmt.Sprintf("%s: %s", c.State, strings.Join(parts, "; "))
}

// HasLabels reports whether the cluster carries every one of want.
func (c *Cluster) HasLabels(want map[string]string) bool { return hasLabels(c.Labels, want) }

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// RegistrationToken is a cluster registration token (CRT) as /v3/clusterregistrationtokens
// shows it. Token is the secret an agent presents; ManifestURL and the command fields embed
// it. Since Rancher 2.13.8/2.14.4 the token lives in Secret TokenSecretName and rotates:
// ExpiresAt is 30 days after creation by default, and the previous token keeps working for
// a grace period. Print it with %v freely: String redacts the secret.
type RegistrationToken struct {
	ID                   string `json:"id"` // "<clusterId>:<name>"
	Name                 string `json:"name"`
	ClusterID            string `json:"clusterId"`
	State                string `json:"state"`
	Transitioning        string `json:"transitioning"`
	TransitioningMessage string `json:"transitioningMessage"`

	Token                      string `json:"token"`
	ManifestURL                string `json:"manifestUrl"` // <server>/v3/import/<token>_<clusterId>.yaml
	Command                    string `json:"command"`
	InsecureCommand            string `json:"insecureCommand"`
	NodeCommand                string `json:"nodeCommand,omitempty"`
	InsecureNodeCommand        string `json:"insecureNodeCommand,omitempty"`
	WindowsNodeCommand         string `json:"windowsNodeCommand,omitempty"`
	InsecureWindowsNodeCommand string `json:"insecureWindowsNodeCommand,omitempty"`

	TokenSecretName      string `json:"tokenSecretName,omitempty"` // crt-token-<name>
	ExpiresAt            Time   `json:"expiresAt"`
	GracePeriodExpiresAt Time   `json:"gracePeriodExpiresAt"` // set during a rotation's grace period
	Created              Time   `json:"created"`
	UUID                 string `json:"uuid,omitempty"`
}

// String describes the token without its secret.
func (t RegistrationToken) String() string {
	filled := "empty"
	if t.Token != "" {
		filled = "set"
	}
	s := fmt.Sprintf("%s (token %s", t.ID, filled)
	if !t.ExpiresAt.IsZero() {
		s += ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return s + ")"
}

// GoString keeps %#v from printing the secret.
func (t RegistrationToken) GoString() string { return "rancher.RegistrationToken{" + t.String() + "}" }

// ObjectMeta is the part of a Kubernetes object's metadata that steve's /v1 view gives and
// the tool reads, with steve's summary State.
type ObjectMeta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	ResourceVersion   string            `json:"resourceVersion,omitempty"`
	CreationTimestamp Time              `json:"creationTimestamp"`
	DeletionTimestamp Time              `json:"deletionTimestamp"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	State             *SummaryState     `json:"state,omitempty"`
}

// SummaryState is steve's metadata.state: its summary of the object's conditions.
type SummaryState struct {
	Name          string `json:"name"` // active, pending, ...
	Message       string `json:"message,omitempty"`
	Error         bool   `json:"error"`
	Transitioning bool   `json:"transitioning"`
}

// ProvisioningCluster is a provisioning.cattle.io/v1 Cluster as /v1 shows it. For an
// imported cluster it only points at its management cluster (Status.ClusterName).
type ProvisioningCluster struct {
	ID       string                    `json:"id"` // "<namespace>/<name>"
	Metadata ObjectMeta                `json:"metadata"`
	Status   ProvisioningClusterStatus `json:"status"`
}

// ProvisioningClusterStatus is the status of a provisioning cluster.
type ProvisioningClusterStatus struct {
	ClusterName        string      `json:"clusterName,omitempty"` // the management cluster's id, once Rancher made it
	Ready              bool        `json:"ready"`                 // once the management cluster was Connected; never goes back
	ClientSecretName   string      `json:"clientSecretName,omitempty"`
	ObservedGeneration int64       `json:"observedGeneration,omitempty"`
	Conditions         []Condition `json:"conditions,omitempty"`
}

// IsActive is the v1 view of "active": status.ready and steve's state active.
func (p *ProvisioningCluster) IsActive() bool {
	return p.Status.Ready && p.Metadata.State != nil && p.Metadata.State.Name == "active"
}

// collection is a norman or steve list page.
type collection[T any] struct {
	Data       []T         `json:"data"`
	Pagination *pagination `json:"pagination,omitempty"` // norman and steve
	Continue   string      `json:"continue,omitempty"`   // steve
}

type pagination struct {
	Next    string `json:"next,omitempty"`
	Limit   int    `json:"limit,omitempty"`
	Total   int    `json:"total,omitempty"`
	Partial bool   `json:"partial,omitempty"`
}
