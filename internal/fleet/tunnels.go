package fleet

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/rancher/scale-cluster-agent/internal/mockapi"
	"github.com/rancher/scale-cluster-agent/internal/rancher"
	"github.com/rancher/scale-cluster-agent/internal/status"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// TunnelConfig says how the clusters connect to Rancher. Without a Rancher URL they connect to
// the embedded endpoint, which registers them itself.
type TunnelConfig struct {
	// ConnectRate paces the clusters' first connects (per second); <= 0 means no pacing.
	ConnectRate float64
	Backoff     tunnel.Backoff
	// HealthInterval is the embedded endpoint's check period (Rancher's 15 s by default).
	HealthInterval time.Duration
	// LegacyHealthCheck makes the endpoint check GET /api/v1/namespaces/kube-system like
	// Rancher 2.13 and older, instead of /readyz.
	LegacyHealthCheck bool
	// Registerer receives the aggregated tunnel and endpoint metrics.
	Registerer prometheus.Registerer
}

// agentServiceAccount is the service account whose token the agent reports, as the import
// manifest creates it.
const agentNamespace, agentServiceAccount = "cattle-system", "cattle"

// clusterTunnels is one cluster's agent.
type clusterTunnels struct {
	cluster *mockapi.Cluster
	agent   *tunnel.Agent
	token   string
}

// startTunnels starts the embedded endpoint, registers every cluster with it and starts each
// cluster's agent, paced.
func (f *Fleet) startTunnels(ctx context.Context, cfg *TunnelConfig) error {
	cert := f.cert
	f.endpointOpts = func(addr string) tunnel.EndpointOptions {
		return tunnel.EndpointOptions{
			Address: addr, Certificate: cert, CACertPEM: f.Authority.CertPEM, HealthInterval: cfg.HealthInterval,
			ReadyzCheck: !cfg.LegacyHealthCheck, Log: f.log.WithField("component", "endpoint"), Registerer: cfg.Registerer,
		}
	}
	ep, err := tunnel.NewEndpoint(f.endpointOpts(""))
	if err != nil {
		return err
	}
	// The endpoint and the agents live until Shutdown, not as long as the start-up context;
	// Shutdown stops the agents first, then the endpoint.
	agentCtx, cancel := context.WithCancel(context.Background())
	f.stopAgents = cancel
	if err := ep.Start(context.Background()); err != nil {
		return fmt.Errorf("embedded endpoint: %w", err)
	}
	f.Endpoint = ep
	// Like the real agent: the CA comes from /v3/settings/cacerts, pinned by its checksum.
	insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	pool, _, err := rancher.FetchCACerts(ctx, ep.URL(), ep.CAChecksum(), insecure)
	if err != nil {
		return fmt.Errorf("rancher CA: %w", err)
	}
	wsDialer := tunnel.NewWebsocketDialer(pool, 10*time.Second)
	metrics := tunnel.NewAgentMetrics(cfg.Registerer)
	var limiter *rate.Limiter
	if cfg.ConnectRate > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.ConnectRate), max(1, int(cfg.ConnectRate/10)))
	}
	caCert := base64.StdEncoding.EncodeToString(f.Authority.CertPEM)
	for _, c := range f.Clusters {
		saToken, err := c.ServiceAccountToken(agentNamespace, agentServiceAccount)
		if err != nil {
			return fmt.Errorf("cluster %s: agent token: %w", c.Name(), err)
		}
		token := ep.Register(c.Name())
		a := tunnel.NewAgent(c.Name(), tunnel.AgentOptions{
			ServerURL: ep.URL(),
			Token:     token,
			Params:    tunnel.ClusterParams{Address: c.Address(), Token: saToken, CACert: caCert},
			Dialer:    wsDialer,
			Backoff:   cfg.Backoff,
			Log:       f.log.WithField("cluster", c.Name()),
			Metrics:   metrics,
			Limiter:   limiter,
		})
		f.tunnels = append(f.tunnels, clusterTunnels{cluster: c, agent: a, token: token})
		f.agents.Add(1)
		go func() {
			defer f.agents.Done()
			a.Run(agentCtx)
		}()
	}
	return nil
}

// RestartEndpoint stops the embedded endpoint, which ends every tunnel, and starts a new one
// on the same address that knows the same clusters and tokens, as a restarted Rancher does.
// The agents reconnect by themselves.
func (f *Fleet) RestartEndpoint(ctx context.Context) error {
	old := f.Endpoint
	if old == nil {
		return fmt.Errorf("no embedded endpoint")
	}
	addr := strings.TrimPrefix(old.URL(), "https://")
	if err := old.Shutdown(ctx); err != nil {
		return err
	}
	ep, err := tunnel.NewEndpoint(f.endpointOpts(addr))
	if err != nil {
		return err
	}
	for _, t := range f.tunnels {
		ep.RegisterWithToken(t.cluster.Name(), t.token)
	}
	if err := ep.Start(context.Background()); err != nil {
		return err
	}
	f.Endpoint = ep
	return nil
}

// stopTunnels stops every agent, then the endpoint.
func (f *Fleet) stopTunnels(ctx context.Context) error {
	if f.stopAgents == nil {
		return nil
	}
	f.stopAgents()
	done := make(chan struct{})
	go func() { f.agents.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	if f.Endpoint == nil {
		return nil
	}
	return f.Endpoint.Shutdown(ctx)
}

// Report is the run's /status document.
func (f *Fleet) Report() status.Report {
	r := status.Report{Time: time.Now()}
	if len(f.tunnels) == 0 {
		for _, c := range f.Clusters {
			r.Clusters = append(r.Clusters, status.Cluster{Name: c.Name(), Address: c.Address(), State: "serving"})
		}
		r.Summary = status.Summarize(nil)
		r.Summary.Total = len(r.Clusters)
		return r
	}
	states := f.Endpoint.States()
	r.Clusters = make([]status.Cluster, 0, len(f.tunnels))
	for _, t := range f.tunnels {
		r.Clusters = append(r.Clusters, clusterStatus(t, states[t.cluster.Name()]))
	}
	r.Summary = status.Summarize(r.Clusters)
	return r
}

func clusterStatus(t clusterTunnels, ep tunnel.EndpointClusterState) status.Cluster {
	as := t.agent.Status()
	c := status.Cluster{
		Name: t.cluster.Name(), Address: t.cluster.Address(),
		Main: tunnelStatus(as.Main), Steve: tunnelStatus(as.Steve),
		ConnectedSince: as.Main.ConnectedSince,
		Reconnects:     as.Main.Reconnects + as.Steve.Reconnects,
		RefusedDials:   as.Main.RefusedDials + as.Steve.RefusedDials,
		LastError:      as.Main.LastError,
		Endpoint: &status.Endpoint{
			State: ep.State, Connected: ep.Connected, Ready: ep.Ready, ReadySince: ep.ReadySince,
			LastCheck: ep.LastCheck, LastError: ep.LastError, Version: ep.Version, Nodes: ep.Nodes,
		},
	}
	if c.LastError == "" {
		c.LastError = as.Steve.LastError
	}
	up := as.Main.State == tunnel.StateConnected && as.Steve.State == tunnel.StateConnected
	switch {
	case up && ep.Ready:
		c.State = "ready"
	case up:
		c.State = "connected"
	case as.Main.Failures+as.Steve.Failures > 0 && c.LastError != "":
		c.State = "failed"
	default:
		c.State = "connecting"
	}
	return c
}

func tunnelStatus(s tunnel.TunnelStatus) status.Tunnel {
	return status.Tunnel{State: string(s.State), ConnectedSince: s.ConnectedSince, Connects: s.Connects,
		Reconnects: s.Reconnects, Failures: s.Failures, RefusedDials: s.RefusedDials, LastError: s.LastError}
}
