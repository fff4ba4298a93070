package tunnel

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// endpointMetrics are the embedded endpoint's aggregated metrics. No metric is labelled by
// cluster: thousands of clusters would make thousands of series; per-cluster detail is in
// States() (the /status document).
type endpointMetrics struct {
	requests      *prometheus.CounterVec
	sessions      *prometheus.GaugeVec
	sessionsTotal *prometheus.CounterVec
	duplicates    *prometheus.CounterVec
	clusters      *prometheus.GaugeVec
	checks        *prometheus.CounterVec
	duration      prometheus.Histogram
	lag           prometheus.Histogram
	closeTimeouts prometheus.Counter
}

const endpointMetricsNamespace, endpointMetricsSubsystem = "scale_agent", "endpoint"

func newEndpointMetrics(reg prometheus.Registerer) *endpointMetrics {
	ns, sub := endpointMetricsNamespace, endpointMetricsSubsystem
	m := &endpointMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "tunnel_requests_total",
			Help: "Tunnel requests to /v3/connect by result: accepted (authorized), unauthorized (401), bad_request (400), upgrade_failed (authorized, websocket upgrade failed).",
		}, []string{"result"}),
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "sessions",
			Help: "Tunnel sessions up, by tunnel (main, steve).",
		}, []string{"tunnel"}),
		sessionsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "sessions_total",
			Help: "Tunnel sessions accepted, by tunnel (main, steve).",
		}, []string{"tunnel"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "duplicate_sessions_total",
			Help: "Sessions accepted while another session with the same client key was up (remotedialer dials through the oldest).",
		}, []string{"tunnel"}),
		clusters: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "clusters",
			Help: "Registered clusters by state (pending, connecting, connected, ready, unavailable).",
		}, []string{"state"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "health_checks_total",
			Help: "Health checks by result: disconnected (no steve session or /ping failed), not_ready (readiness probe failed), ready.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "health_check_duration_seconds",
			Help:    "Duration of one health check (/ping, then the readiness probe).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "health_check_lag_seconds",
			Help:    "How late checks start after they are due; grows when the worker pool cannot keep up.",
			Buckets: []float64{.001, .01, .1, .5, 1, 2.5, 5, 10, 30},
		}),
		closeTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "stream_close_timeouts_total",
			Help: "Streams through a main tunnel closed after waiting in vain for the agent's end to close first.",
		}),
	}
	if reg != nil {
		m.requests = registerOrExisting(reg, m.requests)
		m.sessions = registerOrExisting(reg, m.sessions)
		m.sessionsTotal = registerOrExisting(reg, m.sessionsTotal)
		m.duplicates = registerOrExisting(reg, m.duplicates)
		m.clusters = registerOrExisting(reg, m.clusters)
		m.checks = registerOrExisting(reg, m.checks)
		m.duration = registerOrExisting(reg, m.duration)
		m.lag = registerOrExisting(reg, m.lag)
		m.closeTimeouts = registerOrExisting(reg, m.closeTimeouts)
	}
	return m
}

// registerOrExisting registers c, or returns the collector already registered under its
// name (a second endpoint on the same registry, as in tests, shares the series).
func registerOrExisting[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

func (m *endpointMetrics) tunnelRequest(result string) { m.requests.WithLabelValues(result).Inc() }

func (m *endpointMetrics) sessionStarted(tunnel string, duplicate bool) {
	m.sessions.WithLabelValues(tunnel).Inc()
	m.sessionsTotal.WithLabelValues(tunnel).Inc()
	if duplicate {
		m.duplicates.WithLabelValues(tunnel).Inc()
	}
}

func (m *endpointMetrics) sessionEnded(tunnel string) { m.sessions.WithLabelValues(tunnel).Dec() }

func (m *endpointMetrics) clusterState(from, to string) {
	if from != "" {
		m.clusters.WithLabelValues(from).Dec()
	}
	m.clusters.WithLabelValues(to).Inc()
}

func (m *endpointMetrics) checkDone(d time.Duration, res checkResult) {
	result := "ready"
	switch {
	case !res.connected:
		result = "disconnected"
	case res.probeErr != nil:
		result = "not_ready"
	}
	m.checks.WithLabelValues(result).Inc()
	m.duration.Observe(d.Seconds())
}

func (m *endpointMetrics) checkLag(d time.Duration) { m.lag.Observe(d.Seconds()) }

func (m *endpointMetrics) closeTimeout() { m.closeTimeouts.Inc() }
