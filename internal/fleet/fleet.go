// Package fleet runs the simulated clusters of a fixture: it generates them, serves each one's
// mock API and writes the kubeconfig that reaches them. With tunnels, it registers every
// cluster with Rancher through Rancher's API (the embedded endpoint's when no Rancher is
// given), runs each cluster's agent, follows Rancher's view of the clusters and keeps what
// it registered in <state-dir>/state.json.
package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
	"github.com/rancher/scale-cluster-agent/internal/fixtures"
	"github.com/rancher/scale-cluster-agent/internal/kubeconfig"
	"github.com/rancher/scale-cluster-agent/internal/mockapi"
	"github.com/rancher/scale-cluster-agent/internal/pki"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// Config says what to run.
type Config struct {
	// Fixture describes the clusters; nil means the embedded default.
	Fixture *fixtures.Fixture
	// Clusters overrides the fixture's total cluster count when > 0.
	Clusters int
	// StateDir keeps the CA, the token secret and the kubeconfig.
	StateDir string
	// BindAddress is the IP the mock API listeners bind to.
	BindAddress string
	// WatchHistory is how many events each cluster keeps for resuming watches.
	WatchHistory int
	// Tunnels, when set, registers every cluster with Rancher (the embedded endpoint unless
	// Tunnels.Rancher is set) and connects it as the cattle-cluster-agent does.
	Tunnels *TunnelConfig
	Log     *logrus.Entry
}

// Fleet is a running set of simulated clusters.
type Fleet struct {
	Server         *mockapi.Server
	Clusters       []*mockapi.Cluster
	KubeconfigPath string
	Authority      *pki.Authority
	// StartupTime is how long generating and starting every cluster took.
	StartupTime time.Duration

	// Endpoint is the embedded Rancher-compatible endpoint, when tunnels run against it.
	Endpoint *tunnel.Endpoint

	log      *logrus.Entry
	cert     tls.Certificate // for the mock APIs and the embedded endpoint alike
	stopTrim context.CancelFunc

	// With tunnels:
	tunnelCfg *TunnelConfig
	state     *stateStore
	target    *target
	members   []*member
	// endpointOpts are the embedded endpoint's options for a listen address.
	endpointOpts   func(addr string) tunnel.EndpointOptions
	agentDialer    *websocket.Dialer
	agentMetrics   *tunnel.AgentMetrics
	connectLimiter *rate.Limiter
	caCert         string // base64 of the CA PEM, as the agents report it
	runStarted     time.Time
	unsettled      chan struct{} // a cluster's tunnels dropped: follow closely again
	stopAgents     context.CancelFunc
	agents         sync.WaitGroup // agents, registration, follower, state writer
}

// LoadOptions are the fixture options matching what this build serves.
func LoadOptions() fixtures.LoadOptions {
	return fixtures.LoadOptions{SupportedMinors: apidocs.Minors()}
}

// Start generates the clusters and serves them; it returns once every listener is up and the
// kubeconfig is written.
func Start(ctx context.Context, cfg Config) (*Fleet, error) {
	log := cfg.Log
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	fx := cfg.Fixture
	if fx == nil {
		var err error
		if fx, err = fixtures.Default(LoadOptions()); err != nil {
			return nil, fmt.Errorf("default fixture: %w", err)
		}
	}
	auth, err := pki.LoadOrCreate(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	cert, err := auth.ServingCert(bindHost(cfg.BindAddress))
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	srv := mockapi.NewServer(mockapi.Options{
		BindAddress: cfg.BindAddress, ServingCert: cert, CACert: auth.CertPEM,
		WatchHistory: cfg.WatchHistory, Log: log,
	})
	f := &Fleet{Server: srv, Authority: auth, log: log, cert: cert, tunnelCfg: cfg.Tunnels}
	if cfg.Tunnels != nil {
		if f.state, err = openStateStore(cfg.StateDir, log); err != nil {
			return nil, err
		}
	}
	var kc []kubeconfig.Cluster
	start := time.Now()
	// One cluster at a time: its generated objects become garbage as soon as the store has
	// its copies, so start-up memory stays flat however many clusters there are.
	err = fx.Each(fixtures.GenerateOptions{Count: cfg.Clusters, CACertPEM: auth.CertPEM}, func(spec fixtures.Cluster) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		cs := mockapi.ClusterSpec{
			Name: spec.Name, Version: spec.Version, Minor: spec.Minor,
			AdminToken: auth.Token(spec.Name), Objects: spec.Objects,
		}
		cs.Address = f.previousAddress(spec.Name, cfg.BindAddress)
		c, err := srv.AddCluster(cs)
		if err != nil && cs.Address != "" {
			// The port is taken now: any port will do, Rancher learns it at the next connect.
			cs.Address = ""
			c, err = srv.AddCluster(cs)
		}
		if err != nil {
			return err
		}
		f.Clusters = append(f.Clusters, c)
		if cfg.Tunnels != nil {
			saToken, err := c.ServiceAccountToken(agentNamespace, agentServiceAccount)
			if err != nil {
				return fmt.Errorf("cluster %s: agent token: %w", c.Name(), err)
			}
			f.members = append(f.members, &member{cluster: c, saToken: saToken, log: log.WithField("cluster", c.Name())})
		}
		kc = append(kc, kubeconfig.Cluster{Name: c.Name(), Server: c.URL(), Token: c.AdminToken()})
		return nil
	})
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return nil, err
	}
	f.StartupTime = time.Since(start)
	if f.KubeconfigPath, err = kubeconfig.Write(cfg.StateDir, kc, auth.CertPEM); err != nil {
		_ = srv.Shutdown(context.Background())
		return nil, err
	}
	if cfg.Tunnels != nil {
		if err := f.startTunnels(ctx, cfg.Tunnels); err != nil {
			_ = f.Shutdown(context.Background())
			return nil, err
		}
	}
	// Start-up allocates several times what the clusters keep; hand it back to the OS now
	// rather than carry it while idle, and keep doing so after bursts.
	debug.FreeOSMemory()
	trimCtx, stopTrim := context.WithCancel(context.Background())
	f.stopTrim = stopTrim
	go trimMemory(trimCtx)
	return f, nil
}

// Shutdown stops every cluster.
func (f *Fleet) Shutdown(ctx context.Context) error {
	if f.stopTrim != nil {
		f.stopTrim()
	}
	tErr := f.stopTunnels(ctx)
	return errors.Join(tErr, f.Server.Shutdown(ctx))
}

// previousAddress is the listen address the cluster had in the last run with this state
// directory, if it was on the same bind address: listening there again keeps the apiEndpoint
// Rancher stored.
func (f *Fleet) previousAddress(name, bind string) string {
	if f.state == nil {
		return ""
	}
	r, ok := f.state.get(name)
	if !ok || r.Address == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(r.Address)
	if err != nil || bind != "" && !net.ParseIP(host).Equal(net.ParseIP(bind)) {
		return ""
	}
	return r.Address
}

// RancherURL is the URL of the Rancher the clusters register with ("" without tunnels).
func (f *Fleet) RancherURL() string {
	if f.target == nil {
		return ""
	}
	return f.target.url
}

// Embedded reports whether the clusters register with the embedded endpoint.
func (f *Fleet) Embedded() bool { return f.target != nil && f.target.embedded }

// RunID is the label value naming the clusters this state directory created in Rancher.
func (f *Fleet) RunID() string {
	if f.state == nil {
		return ""
	}
	return f.state.runID()
}

// bindHost returns the bind address to put in the serving certificate, unless it is a
// wildcard or loopback (always included).
func bindHost(addr string) string {
	ip := net.ParseIP(addr)
	if addr == "" || ip != nil && (ip.IsUnspecified() || ip.IsLoopback()) {
		return ""
	}
	return addr
}
