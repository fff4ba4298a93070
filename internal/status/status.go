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

// Summary counts clusters by how far they got. A cluster counts in the furthest state it
// reached: connecting (tunnels not up yet), connected (both tunnels up), ready (the
// endpoint's health checks pass), active (Rancher reports it active), failed (its last
// attempt failed and it is not connected).
type Summary struct {
	Total      int `json:"total"`
	Connecting int `json:"connecting"`
	Connected  int `json:"connected"`
	Ready      int `json:"ready"`
	Active     int `json:"active"`
	Failed     int `json:"failed"`
}

// Cluster is one simulated cluster's line of the report.
type Cluster struct {
	Name           string     `json:"name"`
	Address        string     `json:"address"`
	State          string     `json:"state"` // connecting | connected | ready | active | failed
	Main           Tunnel     `json:"main"`
	Steve          Tunnel     `json:"steve"`
	ConnectedSince *time.Time `json:"connectedSince,omitempty"`
	Reconnects     int64      `json:"reconnects"`
	RefusedDials   int64      `json:"refusedDials"`
	LastError      string     `json:"lastError,omitempty"`
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

// Endpoint is a cluster as the Rancher side sees it.
type Endpoint struct {
	State      string     `json:"state"`
	Connected  bool       `json:"connected"`
	Ready      bool       `json:"ready"`
	ReadySince *time.Time `json:"readySince,omitempty"`
	LastCheck  *time.Time `json:"lastCheck,omitempty"`
	LastError  string     `json:"lastError,omitempty"`
	Version    string     `json:"version,omitempty"`
	Nodes      int        `json:"nodes"`
}

// Summarize counts the clusters' states.
func Summarize(clusters []Cluster) Summary {
	s := Summary{Total: len(clusters)}
	for _, c := range clusters {
		switch c.State {
		case "active":
			s.Active++
		case "ready":
			s.Ready++
		case "connected":
			s.Connected++
		case "failed":
			s.Failed++
		default:
			s.Connecting++
		}
	}
	return s
}
