package rancher

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"

	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// CACerts is Rancher's cacerts setting, fetched and checked.
type CACerts struct {
	// PEM is the setting's value: the CA that signed Rancher's certificate. It is nil when the
	// setting is empty, which means Rancher's certificate is publicly trusted.
	PEM []byte
	// Pool holds the certificates of PEM, or is nil (use the system roots).
	Pool *x509.CertPool
	// Checksum is what CATTLE_CA_CHECKSUM would be for this CA ("" when PEM is nil).
	Checksum string
}

// CAChecksum is the checksum the real agent compares with CATTLE_CA_CHECKSUM: the sha256
// (hex) of the cacerts value with a trailing newline added if it has none (run.sh reads the
// value with jq -r, which adds one, and Rancher's CAChecksum() computes the same).
func CAChecksum(value string) string { return tunnel.CACertsChecksum(value) }

// CACerts reads GET /v3/settings/cacerts (after GET /ping, as the agent's run.sh does), with
// no credentials, through this client's connection settings. If checksum is not empty the
// value must match it. Use it to learn the checksum to hand to agents, or to check that the
// Rancher the client verified is the one that checksum names.
func (c *Client) CACerts(ctx context.Context, checksum string) (*CACerts, error) {
	return fetchCA(ctx, c.base.String(), checksum, c.http)
}

// FetchCA is for before a Client exists, when Rancher's CA is private: it reads the cacerts
// setting without verifying Rancher's certificate (as the agent's curl --insecure does) and
// trusts it only if it matches checksum, which is therefore required. Put the Pool in
// Config.CAPool. An empty setting (a publicly trusted certificate) returns a nil Pool.
func FetchCA(ctx context.Context, serverURL, checksum string) (*CACerts, error) {
	if strings.TrimSpace(checksum) == "" {
		return nil, errors.New("rancher CA: a checksum is required to trust a CA fetched without verification")
	}
	base, err := parseBaseURL(serverURL)
	if err != nil {
		return nil, err
	}
	return fetchCA(ctx, base.String(), checksum, nil)
}

// fetchCA leaves the rule (ping, value, checksum, PEM parsing) to the tunnel package, so that
// the client and the simulated agents agree on it; client nil means unverified TLS.
func fetchCA(ctx context.Context, base, checksum string, client *http.Client) (*CACerts, error) {
	pool, pemBytes, err := tunnel.FetchCACerts(ctx, base, checksum, client)
	if err != nil {
		return nil, err
	}
	out := &CACerts{Pool: pool, PEM: pemBytes}
	if pemBytes != nil {
		out.Checksum = CAChecksum(string(pemBytes))
	}
	return out, nil
}
