package fleet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// RancherConfig is a real Rancher (or `scale-cluster-agent endpoint`) to register the
// clusters with, as its API and its agents see it.
type RancherConfig struct {
	// URL is Rancher's server URL.
	URL string
	// Credentials are an API token or a local user's login; never logged.
	Credentials rancher.Credentials
	// CAChecksum is Rancher's CATTLE_CA_CHECKSUM: the cacerts setting is fetched without
	// verification and trusted only if it matches; both the API client and the agents then
	// verify Rancher with it. Empty: the system roots verify the API, and the agents use the
	// cacerts setting read through that verified connection (as the real agent would with
	// the checksum Rancher's import command carries).
	CAChecksum string
	// Insecure skips verifying Rancher's certificate, for the API and the agents alike.
	Insecure bool
	// QPS bounds the requests to Rancher's API (0: no bound).
	QPS float64
}

// target is where the clusters register: its API client and how agents reach it.
type target struct {
	url      string
	embedded bool
	client   *rancher.Client
	// agentCA verifies Rancher for the agents (nil: system roots); agentInsecure skips it.
	agentCA       *x509.CertPool
	agentInsecure bool
}

// label names the target in logs and reports.
func (t *target) label() string {
	if t.embedded {
		return "the embedded endpoint (" + t.url + ")"
	}
	return t.url
}

// matches reports whether a state record belongs to this target.
func (t *target) matches(r ClusterRecord) bool {
	if r.ClusterID == "" {
		return false
	}
	if t.embedded || r.Embedded {
		return t.embedded && r.Embedded
	}
	return sameURL(r.RancherURL, t.url)
}

func sameURL(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

// embeddedTarget starts the embedded endpoint and talks to it through its API with the
// admin token it generated.
func (f *Fleet) embeddedTarget(ctx context.Context, cfg *TunnelConfig) (*target, error) {
	cert := f.cert
	f.endpointOpts = func(addr string) tunnel.EndpointOptions {
		return tunnel.EndpointOptions{
			Address: addr, Certificate: cert, CACertPEM: f.Authority.CertPEM, HealthInterval: cfg.HealthInterval,
			ReadyzCheck: !cfg.LegacyHealthCheck, Log: f.log.WithField("component", "endpoint"), Registerer: cfg.Registerer,
			Driver: cfg.EndpointDriver, Deployer: cfg.EndpointDeployer,
		}
	}
	ep, err := tunnel.NewEndpoint(f.endpointOpts(""))
	if err != nil {
		return nil, err
	}
	if err := ep.ConfigureAPI(tunnel.APIOptions{TokenDelay: cfg.tokenDelay()}); err != nil {
		return nil, err
	}
	// The endpoint lives until Shutdown, not as long as the start-up context.
	if err := ep.Start(context.Background()); err != nil {
		return nil, fmt.Errorf("embedded endpoint: %w", err)
	}
	f.Endpoint = ep
	client, err := rancher.New(rancher.Config{
		URL: ep.URL(), Credentials: rancher.TokenAuth(ep.AdminToken()), CAPool: f.Authority.CertPool(),
		PollInterval: 100 * time.Millisecond, Log: f.log.WithField("component", "rancher-client"),
	})
	if err != nil {
		return nil, err
	}
	// Like the real agent: the CA comes from /v3/settings/cacerts, pinned by its checksum.
	insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	pool, _, err := rancher.FetchCACerts(ctx, ep.URL(), ep.CAChecksum(), insecure)
	if err != nil {
		return nil, fmt.Errorf("rancher CA: %w", err)
	}
	return &target{url: ep.URL(), embedded: true, client: client, agentCA: pool}, nil
}

// rancherTarget connects to a real Rancher: its CA (pinned by checksum when given), its API
// client, and a login when the credentials are a user's.
func (f *Fleet) rancherTarget(ctx context.Context, rc *RancherConfig) (*target, error) {
	ccfg := rancher.Config{
		URL: rc.URL, Credentials: rc.Credentials, Insecure: rc.Insecure, QPS: rc.QPS, Burst: max(1, int(rc.QPS)),
		Log: f.log.WithField("component", "rancher-client"),
	}
	t := &target{agentInsecure: rc.Insecure}
	if rc.CAChecksum != "" {
		ca, err := rancher.FetchCA(ctx, rc.URL, rc.CAChecksum)
		if err != nil {
			return nil, err
		}
		ccfg.CAPool, t.agentCA = ca.Pool, ca.Pool
	}
	client, err := rancher.New(ccfg)
	if err != nil {
		return nil, err
	}
	t.client, t.url = client, client.URL()
	if rc.CAChecksum == "" {
		ca, err := client.CACerts(ctx, "")
		if err != nil {
			return nil, err
		}
		t.agentCA = ca.Pool
		if ca.Checksum != "" {
			f.log.WithField("checksum", ca.Checksum).Info("Rancher's CA, as read from its cacerts setting (pass it as --ca-checksum to pin it)")
		}
	}
	if err := client.Login(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// agentDialer is the websocket dialer every agent shares.
func (t *target) agentDialer() *websocket.Dialer {
	d := tunnel.NewWebsocketDialer(t.agentCA, 10*time.Second)
	if t.agentInsecure {
		// The dialer's TLS config is the base of its per-host configs, cloned on first use.
		d.TLSClientConfig.InsecureSkipVerify = true
	}
	return d
}
