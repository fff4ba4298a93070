// Package status reports a run: the /status document, its table form, Prometheus metrics,
// pprof, and the progress line of a long run.
package status

import (
	"time"
)

// Report is the /status document.
type Report struct {
	Summary  Summary   `json:"summary"`
	Clusters []Cluster `json:"clusters"`
	// Time is when the report was taken.
	Time time.Time `json:"time"`
}

// Summary counts clusters by where they are now, each in one bucket: registering (being
// created in Rancher, or waiting for its registration token), connecting (tunnels not up
// yet), connected (both tunnels up), ready (Rancher's Ready condition is True), active
// (Rancher reports it active), failed (its registration failed, or its last tunnel attempt
// failed and it is not connected). Registered is not a bucket: it counts the clusters that
// Rancher knows and that have their token, whatever their bucket.
type Summary struct {
	Total       int `json:"total"`
	Registering int `json:"registering"`
	Connecting  int `json:"connecting"`
	Connected   int `json:"connected"`
	Ready       int `json:"ready"`
	Active      int `json:"active"`
	Failed      int `json:"failed"`
	Registered  int `json:"registered"`
}

// Cluster is one simulated cluster's line of the report.
type Cluster struct {
	Name           string     `json:"name"`
	Address        string     `json:"address"`
	State          string     `json:"state"` // registering | connecting | connected | ready | active | failed
	Main           Tunnel     `json:"main"`
	Steve          Tunnel     `json:"steve"`
	ConnectedSince *time.Time `json:"connectedSince,omitempty"`
	Reconnects     int64      `json:"reconnects"`
	RefusedDials   int64      `json:"refusedDials"`
	LastError      string     `json:"lastError,omitempty"`
	// Registered says Rancher knows the cluster and the agent has its registration token.
	Registered bool `json:"registered"`
	// Endpoint is the state as the Rancher side sees it (the embedded endpoint, or Rancher).
	Endpoint *Endpoint `json:"endpoint,omitempty"`
}

// Tunnel is one tunnel's state.
type Tunnel struct {
	State          string     `json:"state"`
	ConnectedSince *time.Time `json:"connectedSince,omitempty"`
	Connects       int64      `json:"connects"`
	Reconnects     int64      `json:"reconnects"`
	Failures       int64      `json:"failures"`
	RefusedDials   int64      `json:"refusedDials"`
	LastError      string     `json:"lastError,omitempty"`
}

// Endpoint is a cluster as the Rancher side sees it: Rancher's (or the embedded
// endpoint's) management cluster, as its v3 API last showed it.
type Endpoint struct {
	// ID is Rancher's id of the cluster (c-xxxxx).
	ID string `json:"id,omitempty"`
	// State is Rancher's state: pending, waiting, active, unavailable, ...
	State string `json:"state"`
	// Transitioning ("yes", "no", "error") and TransitioningMessage say what Rancher waits
	// for or what failed.
	Transitioning        string `json:"transitioning,omitempty"`
	TransitioningMessage string `json:"transitioningMessage,omitempty"`
	// Active is Rancher's active: state active, not transitioning, Ready True.
	Active bool `json:"active"`
	// Connected and Ready are Rancher's conditions of those names.
	Connected  bool       `json:"connected"`
	Ready      bool       `json:"ready"`
	ReadySince *time.Time `json:"readySince,omitempty"`
	// LastCheck is when Rancher's view was last read.
	LastCheck  *time.Time  `json:"lastCheck,omitempty"`
	LastError  string      `json:"lastError,omitempty"`
	Version    string      `json:"version,omitempty"`
	Nodes      int         `json:"nodes"`
	Conditions []Condition `json:"conditions,omitempty"`
}

// Condition is one of Rancher's conditions of the cluster.
type Condition struct {
	Type       string     `json:"type"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason,omitempty"`
	Message    string     `json:"message,omitempty"`
	LastUpdate *time.Time `json:"lastUpdateTime,omitempty"`
}

// Summarize counts the clusters' states.
func Summarize(clusters []Cluster) Summary {
	s := Summary{Total: len(clusters)}
	for _, c := range clusters {
		if c.Registered {
			s.Registered++
		}
		switch c.State {
		case "active":
			s.Active++
		case "ready":
			s.Ready++
		case "connected":
			s.Connected++
		case "failed":
			s.Failed++
		case "registering":
			s.Registering++
		default:
			s.Connecting++
		}
	}
	return s
}
