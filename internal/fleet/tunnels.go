package fleet

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"github.com/rancher/scale-cluster-agent/internal/mockapi"
	"github.com/rancher/scale-cluster-agent/internal/rancher"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// TunnelConfig says how the clusters are registered with Rancher and connect to it. Without
// Rancher they register with the embedded endpoint, through the same API calls.
type TunnelConfig struct {
	// Rancher is the Rancher to register with; nil means the embedded endpoint.
	Rancher *RancherConfig
	// API is the route through which new clusters are created: rancher.APIv3 (the default,
	// POST /v3/clusters) or rancher.APIv1 (POST /v1/provisioning.cattle.io.clusters in
	// namespace fleet-default, as Rancher's UI does). Either way the clusters are then
	// followed through their management cluster.
	API rancher.API
	// RegisterRate paces the registrations (clusters per second); <= 0 means no pacing.
	RegisterRate float64
	// RegisterConcurrency bounds the registrations in flight (create, then wait for the
	// token); default 16.
	RegisterConcurrency int
	// FollowInterval is how often Rancher's view of every cluster is read (one
	// GET /v3/clusters?limit=-1); default 5 s, 1 s against the embedded endpoint. Once every
	// cluster is active it is read six times less often.
	FollowInterval time.Duration
	// TokenDelay is how long the embedded endpoint's new registration tokens read empty;
	// default 100 ms.
	TokenDelay time.Duration

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
	// EndpointDriver is what the embedded endpoint does to a connected cluster
	// (tunnel.DriverRancher or tunnel.DriverHealth, the default); EndpointDeployer applies
	// the import manifest under DriverRancher.
	EndpointDriver   string
	EndpointDeployer tunnel.Deployer
}

const (
	defaultRegisterConcurrency = 16
	defaultFollowInterval      = 5 * time.Second
	embeddedFollowInterval     = time.Second
	defaultTokenDelay          = 100 * time.Millisecond
	// tokenWaitTimeout bounds the wait for a new cluster's registration token.
	tokenWaitTimeout = 5 * time.Minute
	// rereadTimeout bounds a re-read of a refused token; the agent backs off and asks again.
	rereadTimeout = 30 * time.Second
	// stateFlushInterval is how often registrations are written to state.json.
	stateFlushInterval = 500 * time.Millisecond
)

func (c *TunnelConfig) tokenDelay() time.Duration {
	if c.TokenDelay == 0 {
		return defaultTokenDelay
	}
	return c.TokenDelay
}

func (c *TunnelConfig) followInterval(embedded bool) time.Duration {
	switch {
	case c.FollowInterval > 0:
		return c.FollowInterval
	case embedded:
		return embeddedFollowInterval
	}
	return defaultFollowInterval
}

// agentServiceAccount is the service account whose token the agent reports, as the import
// manifest creates it.
const agentNamespace, agentServiceAccount = "cattle-system", "cattle"

// member is one simulated cluster of a fleet with tunnels: its registration in Rancher, its
// agent, and what Rancher says of it.
type member struct {
	cluster *mockapi.Cluster
	saToken string
	log     *logrus.Entry

	mu     sync.Mutex
	id     string // Rancher's id
	origin string // created | adopted | reused
	token  string
	regErr string // the registration failed for good
	agent  *tunnel.Agent
	view   *rancher.Cluster // Rancher's last view, nil before the first
	viewAt time.Time
	gone   bool // no longer in Rancher's list
	up     bool // both tunnels were up when last looked at
	// The milestones of this run (zero: not reached).
	registering, tunnelUp, connected, ready, agentDeployed, active time.Time

	reread sync.Mutex // one re-read of a refused token at a time
}

func (m *member) name() string { return m.cluster.Name() }

// startTunnels opens the registration state, connects to Rancher (the embedded endpoint
// without a Rancher URL), and starts registering the clusters in the background: each
// cluster's agent starts as soon as its registration token exists.
func (f *Fleet) startTunnels(ctx context.Context, cfg *TunnelConfig) error {
	var t *target
	var err error
	if cfg.Rancher == nil {
		t, err = f.embeddedTarget(ctx, cfg)
	} else {
		t, err = f.rancherTarget(ctx, cfg.Rancher)
	}
	if err != nil {
		return err
	}
	f.target = t
	if t.embedded {
		f.restoreEmbedded()
	}
	// One list before anything else: it fails fast on a wrong URL or credentials, and says
	// which clusters exist already (to reuse or adopt).
	existing, err := t.client.ListClusters(ctx)
	if err != nil {
		return fmt.Errorf("rancher at %s: %w", t.url, err)
	}
	f.state.setCACert(string(f.Authority.CertPEM))

	// Registration, agents, follower and state writer live until Shutdown.
	runCtx, cancel := context.WithCancel(context.Background())
	f.stopAgents = cancel
	f.agentDialer = t.agentDialer()
	f.agentMetrics = tunnel.NewAgentMetrics(cfg.Registerer)
	if cfg.ConnectRate > 0 {
		f.connectLimiter = rate.NewLimiter(rate.Limit(cfg.ConnectRate), max(1, int(cfg.ConnectRate/10)))
	}
	f.caCert = base64.StdEncoding.EncodeToString(f.Authority.CertPEM)
	f.runStarted = time.Now()
	f.unsettled = make(chan struct{}, 1)
	f.background(func() { f.state.run(runCtx, stateFlushInterval) })
	f.background(func() { f.registerAll(runCtx, existing) })
	f.background(func() { f.follow(runCtx, cfg.followInterval(t.embedded)) })
	f.background(func() { f.watchTunnels(runCtx) })
	return nil
}

// background runs fn until Shutdown waits for it.
func (f *Fleet) background(fn func()) {
	f.agents.Add(1)
	go func() {
		defer f.agents.Done()
		fn()
	}()
}

// restoreEmbedded gives the embedded endpoint back the clusters earlier runs with this
// state directory registered with theirs, as a Rancher that kept running would have them.
func (f *Fleet) restoreEmbedded() {
	for _, m := range f.members {
		r, ok := f.state.get(m.name())
		if !ok || !r.Embedded || r.ClusterID == "" || r.Token == "" {
			continue
		}
		labels, _ := rancher.OwnerLabels(f.state.runID())
		ns, _, _ := strings.Cut(r.Provisioning, "/")
		if err := f.Endpoint.RestoreCluster(tunnel.APICluster{ID: r.ClusterID, Name: m.name(), Token: r.Token, Labels: labels, Namespace: ns}); err != nil {
			m.log.WithError(err).Warn("could not restore the cluster in the embedded endpoint; it will be created again")
		}
	}
}

// startAgent starts the cluster's agent with its registration token.
func (f *Fleet) startAgent(ctx context.Context, m *member, token string) {
	c := m.cluster
	a := tunnel.NewAgent(c.Name(), tunnel.AgentOptions{
		ServerURL: f.target.url,
		Token:     token,
		Params:    tunnel.ClusterParams{Address: c.Address(), Token: m.saToken, CACert: f.caCert},
		Dialer:    f.agentDialer,
		Backoff:   f.tunnelCfg.Backoff,
		Log:       m.log,
		Metrics:   f.agentMetrics,
		Limiter:   f.connectLimiter,
		OnRejected: func(ctx context.Context, rejected string, code int) string {
			return f.reread(ctx, m, rejected, code)
		},
	})
	m.mu.Lock()
	m.agent = a
	m.mu.Unlock()
	f.background(func() { a.Run(ctx) })
}

// reread is the agent's answer to a refused token: read the cluster's registration token
// again (Rancher rotates it) and hand the new one over. Both tunnels may ask; one reads.
func (f *Fleet) reread(ctx context.Context, m *member, rejected string, code int) string {
	m.reread.Lock()
	defer m.reread.Unlock()
	m.mu.Lock()
	id, cur := m.id, m.token
	m.mu.Unlock()
	if cur != rejected {
		return cur
	}
	rctx, cancel := context.WithTimeout(ctx, rereadTimeout)
	defer cancel()
	tok, err := f.target.client.WaitForRegistrationToken(rctx, id, rancher.TokenWaitOptions{Replacing: rejected})
	if err != nil {
		if _, gerr := f.target.client.GetCluster(ctx, id); rancher.IsNotFound(gerr) {
			m.log.WithField("id", id).Warn("Rancher refuses the cluster's token: the cluster was deleted from Rancher")
		} else if ctx.Err() == nil {
			m.log.WithField("code", code).WithError(err).Warn("Rancher refuses the cluster's token and shows no other; retrying")
		}
		return ""
	}
	m.mu.Lock()
	m.token = tok.Token
	m.mu.Unlock()
	f.state.update(m.name(), func(r *ClusterRecord) { r.Token = tok.Token })
	m.log.WithField("id", id).WithField("code", code).Info("Rancher refused the registration token; re-read it (rotated)")
	return tok.Token
}

// RestartEndpoint stops the embedded endpoint, which ends every tunnel, and starts a new one
// on the same address that knows the same clusters, ids, tokens and admin token, as a
// restarted Rancher does. The agents reconnect by themselves.
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
	if err := ep.ConfigureAPI(tunnel.APIOptions{AdminToken: old.AdminToken(), AdminPassword: old.AdminPassword(), TokenDelay: f.tunnelCfg.tokenDelay()}); err != nil {
		return err
	}
	for _, c := range old.APIClusters() {
		if err := ep.RestoreCluster(c); err != nil {
			return err
		}
	}
	if err := ep.Start(context.Background()); err != nil {
		return err
	}
	f.Endpoint = ep
	return nil
}

// stopTunnels stops registering, following and every agent, writes the state, then stops
// the endpoint.
func (f *Fleet) stopTunnels(ctx context.Context) error {
	var err error
	if f.Endpoint != nil {
		// The endpoint's checks and drivers end first, so that no stream is open through a
		// tunnel when its agent goes.
		err = f.Endpoint.Quiesce(ctx)
	}
	if f.stopAgents != nil {
		f.stopAgents()
		done := make(chan struct{})
		go func() { f.agents.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.New("agents still stopping")
		}
	}
	if f.state != nil {
		if serr := f.state.flush(); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if f.target != nil {
		// A login's token is deleted, so that runs do not pile up tokens in Rancher.
		if lerr := f.target.client.Logout(ctx); lerr != nil {
			f.log.WithError(lerr).Warn("could not log out of Rancher")
		}
		f.target.client.Close()
	}
	if f.Endpoint != nil {
		err = errors.Join(err, f.Endpoint.Shutdown(ctx))
	}
	return err
}
