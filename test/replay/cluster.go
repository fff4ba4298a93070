package replay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/rest"

	"github.com/rancher/scale-cluster-agent/internal/fixtures"
	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// agentSubject is who the token the agent reports in its tunnel params authenticates as; the
// recording's auth_sub for every request of Rancher's own controllers.
const agentSubject = "system:serviceaccount:cattle-system:cattle"

// Target is a simulated cluster as Rancher reaches it.
type Target struct {
	// Client sends requests to the cluster's API server through the main tunnel; it adds no
	// credentials and does not decompress.
	Client *http.Client
	// Server is the API server's base URL, as the agent reported it.
	Server string
	// Tokens are the bearer tokens known up front, by subject
	// (system:serviceaccount:<ns>:<name>).
	Tokens map[string]string
}

// Cluster is one simulated cluster whose agent is connected to the embedded endpoint.
type Cluster struct {
	Name   string
	Target Target
	fleet  *fleet.Fleet
}

// StartCluster serves the first cluster of the fixture file, connects its agent to the
// embedded endpoint, and returns it once Rancher's client for it (the endpoint's RESTConfig:
// the tunnel dialer, the agent's token, the reported CA) can be built.
func StartCluster(ctx context.Context, fixturePath, stateDir string, log *logrus.Entry) (*Cluster, error) {
	fx, err := fixtures.Load(fixturePath, fleet.LoadOptions())
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	fl, err := fleet.Start(ctx, fleet.Config{
		Fixture: fx, Clusters: 1, StateDir: stateDir, Log: log,
		Tunnels: &fleet.TunnelConfig{
			Backoff: tunnel.Backoff{Min: 100 * time.Millisecond, Max: time.Second, Jitter: 0.2, ResetAfter: 5 * time.Second},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	name := fl.Clusters[0].Name()
	cfg, err := waitRESTConfig(ctx, fl.Endpoint, name)
	if err != nil {
		_ = fl.Shutdown(context.Background())
		return nil, err
	}
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		_ = fl.Shutdown(context.Background())
		return nil, fmt.Errorf("cluster %s: tls config: %w", name, err)
	}
	tr := &http.Transport{
		DialContext:     cfg.Dial,
		TLSClientConfig: tlsCfg,
		// The recorded Accept-Encoding is sent as recorded and the body read as it came.
		DisableCompression:  true,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Cluster{
		Name:  name,
		fleet: fl,
		Target: Target{
			Client: &http.Client{Transport: tr},
			Server: cfg.Host,
			Tokens: map[string]string{agentSubject: cfg.BearerToken},
		},
	}, nil
}

// waitRESTConfig waits for the cluster's main tunnel to connect.
func waitRESTConfig(ctx context.Context, ep *tunnel.Endpoint, name string) (*rest.Config, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := ep.ClusterState(name)
		if st.MainConnected {
			cfg, err := ep.RESTConfig(name)
			if err == nil {
				return cfg, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("cluster %s: main tunnel not connected after 30s (%s)", name, st.TunnelError)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops the cluster, its agent and the endpoint.
func (c *Cluster) Close() error {
	if c == nil || c.fleet == nil {
		return errors.New("cluster not started")
	}
	c.Target.Client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.fleet.Shutdown(ctx)
}
