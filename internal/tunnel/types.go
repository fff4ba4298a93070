package tunnel

import (
	"time"
)

// ClusterParams is what the main tunnel's X-API-Tunnel-Params carries, as base64 of
// {"cluster": ClusterParams}.
type ClusterParams struct {
	// Address is host:port of the cluster's API server as Rancher should dial it.
	Address string `json:"address"`
	// Token is a bearer token the cluster's API accepts (the agent's service account).
	Token string `json:"token"`
	// CACert is base64 (standard) of the PEM CA that signed the API's serving certificate.
	CACert string `json:"caCert"`
}

// TunnelParams is the JSON document inside X-API-Tunnel-Params.
type TunnelParams struct {
	Cluster *ClusterParams `json:"cluster,omitempty"`
}

// TunnelState is the state of one tunnel of one cluster.
type TunnelState string

const (
	StateIdle       TunnelState = "idle"       // not started yet (paced)
	StateConnecting TunnelState = "connecting" // dialing or waiting to retry
	StateConnected  TunnelState = "connected"  // websocket session up
	StateStopped    TunnelState = "stopped"    // context ended
)

// TunnelStatus is a snapshot of one tunnel.
type TunnelStatus struct {
	State          TunnelState `json:"state"`
	ConnectedSince *time.Time  `json:"connectedSince,omitempty"`
	Connects       int64       `json:"connects"`   // sessions established
	Reconnects     int64       `json:"reconnects"` // sessions established after the first
	Failures       int64       `json:"failures"`   // attempts that failed or sessions that ended in error
	RefusedDials   int64       `json:"refusedDials"`
	LastError      string      `json:"lastError,omitempty"`
	LastErrorTime  *time.Time  `json:"lastErrorTime,omitempty"`
}

// Backoff is the reconnect delay policy: Min doubling up to Max, with ±Jitter (a fraction),
// reset once a session stayed up for ResetAfter.
type Backoff struct {
	Min, Max   time.Duration
	Jitter     float64
	ResetAfter time.Duration
}

// DefaultBackoff retries quickly at first and settles at a minute, spreading a fleet's
// reconnects by ±20 %.
var DefaultBackoff = Backoff{Min: time.Second, Max: time.Minute, Jitter: 0.2, ResetAfter: 30 * time.Second}
