package tunnel

import (
	"strings"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// The management cluster's conditions as Rancher v2.15 keeps them, and wrangler's summary
// rules (pkg/summary/summarizers.go: checkTransitioning) that turn them into the v3 API's
// state, transitioning and transitioningMessage (pkg/schemas/status/status.go).

// Condition types of management.cattle.io/v3 Cluster that the embedded endpoint sets.
const (
	CondCreatorMadeOwner              = "CreatorMadeOwner"
	CondInitialRolesPopulated         = "InitialRolesPopulated"
	CondBackingNamespaceCreated       = "BackingNamespaceCreated"
	CondDefaultProjectCreated         = "DefaultProjectCreated"
	CondSystemProjectCreated          = "SystemProjectCreated"
	CondPending                       = "Pending"
	CondProvisioned                   = "Provisioned"
	CondWaiting                       = "Waiting"
	CondNoDiskPressure                = "NoDiskPressure"
	CondNoMemoryPressure              = "NoMemoryPressure"
	CondServiceAccountSecretsMigrated = "ServiceAccountSecretsMigrated"
	CondConnected                     = "Connected"
	CondGlobalAdminsSynced            = "GlobalAdminsSynced"
	CondAgentTLSStrictCheck           = "AgentTlsStrictCheck"
	CondReady                         = "Ready"
	CondSystemAccountCreated          = "SystemAccountCreated"
	CondAgentDeployed                 = "AgentDeployed"
	CondUpdated                       = "Updated"
)

// Condition statuses.
const (
	statusTrue    = "True"
	statusFalse   = "False"
	statusUnknown = "Unknown"
)

// Messages and reasons Rancher writes (clusterprovisioner, clusterconnected).
const (
	msgWaitingForAPI   = "Waiting for API to be available"
	reasonDisconnected = "Disconnected"
	msgDisconnected    = "Cluster agent is not connected"
)

// Rancher states of a cluster in the v3 API.
const (
	RancherPending      = "pending"
	RancherWaiting      = "waiting"
	RancherProvisioning = "provisioning"
	RancherUpdating     = "updating"
	RancherActive       = "active"
	RancherUnavailable  = "unavailable"
)

// transitioningUnknown is wrangler's TransitioningUnknown for the types a cluster carries:
// Unknown means transitioning to this state, False means an error in it.
var transitioningUnknown = map[string]string{
	CondAgentDeployed:           "provisioning",
	CondBackingNamespaceCreated: "configuring",
	CondCreatorMadeOwner:        "configuring",
	CondDefaultProjectCreated:   "configuring",
	CondInitialRolesPopulated:   "activating",
	CondPending:                 "pending",
	CondProvisioned:             "provisioning",
	CondUpdated:                 "updating",
	CondWaiting:                 "waiting",
}

// initialConditions are those a freshly created imported cluster shows before any agent has
// connected (recorded from v2.15: the upstream-only controllers are done at once, the
// provisioner waits for the driver, clusterconnected has found no tunnel).
var initialConditions = []struct{ typ, status, message string }{
	{CondCreatorMadeOwner, statusTrue, ""},
	{CondInitialRolesPopulated, statusTrue, ""},
	{CondBackingNamespaceCreated, statusTrue, ""},
	{CondDefaultProjectCreated, statusTrue, ""},
	{CondSystemProjectCreated, statusTrue, ""},
	{CondPending, statusUnknown, ""},
	{CondProvisioned, statusUnknown, ""},
	{CondWaiting, statusUnknown, msgWaitingForAPI},
	{CondNoDiskPressure, statusTrue, ""},
	{CondNoMemoryPressure, statusTrue, ""},
	{CondServiceAccountSecretsMigrated, statusTrue, ""},
	{CondConnected, statusFalse, ""},
}

// conditions is a cluster's condition list, in the order Rancher added them: the summary
// depends on it (the first Unknown condition names the state).
type conditions []rancher.Condition

func newConditions(now time.Time) conditions {
	cs := make(conditions, 0, len(initialConditions)+6)
	for _, c := range initialConditions {
		cs.set(c.typ, c.status, "", c.message, now)
	}
	return cs
}

// get returns the condition of a type, nil if the cluster does not have it.
func (cs conditions) get(typ string) *rancher.Condition {
	for i := range cs {
		if cs[i].Type == typ {
			return &cs[i]
		}
	}
	return nil
}

// is says whether the condition exists with the given status.
func (cs conditions) is(typ, status string) bool {
	c := cs.get(typ)
	return c != nil && c.Status == status
}

// set updates or appends a condition and reports whether anything changed. Like norman's
// condition setters, lastUpdateTime moves only when status, reason or message change.
func (cs *conditions) set(typ, status, reason, message string, now time.Time) bool {
	t := rancher.Time{Time: now.UTC().Truncate(time.Second)}
	if c := cs.get(typ); c != nil {
		if c.Status == status && c.Reason == reason && c.Message == message {
			return false
		}
		if c.Status != status {
			c.LastTransitionTime = t
		}
		c.Status, c.Reason, c.Message, c.LastUpdateTime = status, reason, message, t
		return true
	}
	*cs = append(*cs, rancher.Condition{Type: typ, Status: status, Reason: reason, Message: message, LastUpdateTime: t})
	return true
}

// clone copies the list for a reader outside the cluster's lock.
func (cs conditions) clone() []rancher.Condition {
	return append([]rancher.Condition(nil), cs...)
}

// summary is the v3 API's view of a cluster's conditions.
type summary struct {
	State         string // "active", "waiting", "unavailable", ...
	Transitioning string // "yes", "no" or "error"
	Message       string
}

// summarize applies wrangler's rules: a transitioning type that is False is an error and
// names the state (the last such wins); otherwise the first Unknown one names it; otherwise
// Ready False makes the cluster unavailable (Ready Unknown: an error); otherwise it is
// active. Messages of the
// conditions that decided join with "; ".
func summarize(cs conditions) summary {
	var (
		state              string
		errored, trans     bool
		messages           []string
		readyFalse         bool
		readyFalseMessages string
	)
	for _, c := range cs {
		s, ok := transitioningUnknown[c.Type]
		if !ok {
			continue
		}
		switch {
		case c.Status == statusFalse:
			errored, state = true, s
			messages = append(messages, c.Message)
		case c.Status == statusUnknown && state == "":
			trans, state = true, s
			messages = append(messages, c.Message)
		}
	}
	if state == "" {
		// TransitioningFalse: Ready False is "unavailable" (decided below), Ready Unknown an
		// error in it.
		for _, c := range cs {
			if state != "" || c.Type != CondReady {
				continue
			}
			switch c.Status {
			case statusFalse:
				readyFalse, readyFalseMessages = true, c.Message
			case statusUnknown:
				errored, state = true, RancherUnavailable
				messages = append(messages, c.Message)
			}
		}
		if state == "" && readyFalse {
			trans, state = true, RancherUnavailable
			messages = append(messages, readyFalseMessages)
		}
	}
	out := summary{State: state, Transitioning: "no", Message: strings.Join(messages, "; ")}
	if out.State == "" {
		out.State = RancherActive
	}
	switch {
	case errored:
		out.Transitioning = "error"
	case trans:
		out.Transitioning = "yes"
	}
	return out
}
