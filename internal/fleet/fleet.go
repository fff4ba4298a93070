// Package fleet runs the simulated clusters of a fixture: it generates them, serves each one's
// mock API and writes the kubeconfig that reaches them.
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

	"github.com/sirupsen/logrus"

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
	// Tunnels, when set, connects every cluster to Rancher (the embedded endpoint) as the
	// cattle-cluster-agent does.
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
	tunnels  []clusterTunnels
	// endpointOpts are the embedded endpoint's options for a listen address.
	endpointOpts func(addr string) tunnel.EndpointOptions
	stopAgents   context.CancelFunc
	agents       sync.WaitGroup
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
	f := &Fleet{Server: srv, Authority: auth, log: log, cert: cert}
	var kc []kubeconfig.Cluster
	start := time.Now()
	// One cluster at a time: its generated objects become garbage as soon as the store has
	// its copies, so start-up memory stays flat however many clusters there are.
	err = fx.Each(fixtures.GenerateOptions{Count: cfg.Clusters, CACertPEM: auth.CertPEM}, func(spec fixtures.Cluster) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := srv.AddCluster(mockapi.ClusterSpec{
			Name: spec.Name, Version: spec.Version, Minor: spec.Minor,
			AdminToken: auth.Token(spec.Name), Objects: spec.Objects,
		})
		if err != nil {
			return err
		}
		f.Clusters = append(f.Clusters, c)
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

// bindHost returns the bind address to put in the serving certificate, unless it is a
// wildcard or loopback (always included).
func bindHost(addr string) string {
	ip := net.ParseIP(addr)
	if addr == "" || ip != nil && (ip.IsUnspecified() || ip.IsLoopback()) {
		return ""
	}
	return addr
}
