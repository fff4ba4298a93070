package tunnel

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// tunnelKind indexes the two tunnels of an agent.
type tunnelKind int

const (
	tunnelMain tunnelKind = iota
	tunnelSteve
	numTunnelKinds
)

func (k tunnelKind) String() string {
	if k == tunnelSteve {
		return "steve"
	}
	return "main"
}

// AgentMetrics are the agents' aggregated counters, shared by all agents of a process. Series
// are per tunnel kind only: per-cluster labels would make thousands of series.
type AgentMetrics struct {
	connected  [numTunnelKinds]prometheus.Gauge
	connects   [numTunnelKinds]prometheus.Counter
	reconnects [numTunnelKinds]prometheus.Counter
	failures   [numTunnelKinds]prometheus.Counter
	refusals   [numTunnelKinds]prometheus.Counter
}

// NewAgentMetrics creates the agent metrics and registers them with reg (nil: not
// registered). Registering twice with the same registry reuses the registered collectors.
func NewAgentMetrics(reg prometheus.Registerer) *AgentMetrics {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "scale_agent", Subsystem: "tunnel", Name: name, Help: help}
	}
	connected := prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("connected",
		"Tunnels with a websocket session up, by tunnel (main or steve).")), []string{"tunnel"})
	connects := prometheus.NewCounterVec(prometheus.CounterOpts(opts("connects_total",
		"Tunnel sessions established.")), []string{"tunnel"})
	reconnects := prometheus.NewCounterVec(prometheus.CounterOpts(opts("reconnects_total",
		"Tunnel sessions established after the tunnel's first.")), []string{"tunnel"})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts(opts("failures_total",
		"Connect attempts that failed and sessions that ended in error.")), []string{"tunnel"})
	refusals := prometheus.NewCounterVec(prometheus.CounterOpts(opts("refused_dials_total",
		"Dials through a tunnel refused by the agent (each closes the session).")), []string{"tunnel"})
	if reg != nil {
		connected = register(reg, connected)
		connects = register(reg, connects)
		reconnects = register(reg, reconnects)
		failures = register(reg, failures)
		refusals = register(reg, refusals)
	}
	m := &AgentMetrics{}
	for k := range numTunnelKinds {
		l := k.String()
		m.connected[k] = connected.WithLabelValues(l)
		m.connects[k] = connects.WithLabelValues(l)
		m.reconnects[k] = reconnects.WithLabelValues(l)
		m.failures[k] = failures.WithLabelValues(l)
		m.refusals[k] = refusals.WithLabelValues(l)
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// The methods below accept a nil receiver: metrics are optional.

func (m *AgentMetrics) sessionUp(k tunnelKind, reconnect bool) {
	if m == nil {
		return
	}
	m.connects[k].Inc()
	if reconnect {
		m.reconnects[k].Inc()
	}
	m.connected[k].Inc()
}

func (m *AgentMetrics) sessionDown(k tunnelKind) {
	if m != nil {
		m.connected[k].Dec()
	}
}

func (m *AgentMetrics) failure(k tunnelKind) {
	if m != nil {
		m.failures[k].Inc()
	}
}

func (m *AgentMetrics) refused(k tunnelKind) {
	if m != nil {
		m.refusals[k].Inc()
	}
}
