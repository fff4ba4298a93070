package rancher

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
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
func CAChecksum(value string) string {
	if !strings.HasSuffix(value, "\n") {
		value += "\n"
	}
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

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

// fetchCA wraps FetchCACerts, the rule the simulated agents follow too; client nil means
// unverified TLS.
func fetchCA(ctx context.Context, base, checksum string, client *http.Client) (*CACerts, error) {
	pool, pemBytes, err := FetchCACerts(ctx, base, checksum, client)
	if err != nil {
		return nil, err
	}
	out := &CACerts{Pool: pool, PEM: pemBytes}
	if pemBytes != nil {
		out.Checksum = CAChecksum(string(pemBytes))
	}
	return out, nil
}

// maxCACertsResponse bounds the settings response read.
const maxCACertsResponse = 1 << 20

// FetchCACerts gets Rancher's CA the way the real agent's run.sh does:
//
//  1. GET <server>/ping must succeed (curl --insecure);
//  2. GET <server>/v3/settings/cacerts (insecure) gives {"value": "<PEM>"};
//  3. if checksum is set, sha256 of the value, with a "\n" appended when it lacks one (jq -r
//     adds it, and Rancher's CAChecksum() computes the same), must equal checksum (hex);
//  4. an empty value means Rancher has a publicly trusted certificate: nil pool (system
//     roots) and nil PEM;
//  5. otherwise the value must hold PEM certificates, which form the returned pool.
//
// client nil means a private client that skips verification, as curl --insecure; a client
// passed in is used as is (it must skip verification if the CA is not yet trusted).
func FetchCACerts(ctx context.Context, serverURL, checksum string, client *http.Client) (*x509.CertPool, []byte, error) {
	if client == nil {
		client = &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
		}
	}
	base := strings.TrimSuffix(serverURL, "/")
	if _, err := get(ctx, client, base+"/ping"); err != nil {
		return nil, nil, fmt.Errorf("rancher not reachable: %w", err)
	}
	body, err := get(ctx, client, base+"/v3/settings/cacerts")
	if err != nil {
		return nil, nil, fmt.Errorf("rancher CA: %w", err)
	}
	var setting struct {
		Value *string `json:"value"`
	}
	if err := json.Unmarshal(body, &setting); err != nil {
		return nil, nil, fmt.Errorf("rancher CA: %s/v3/settings/cacerts: %w", base, err)
	}
	if setting.Value == nil {
		return nil, nil, fmt.Errorf("rancher CA: %s/v3/settings/cacerts has no value field", base)
	}
	value := *setting.Value
	if want := strings.ToLower(strings.TrimSpace(checksum)); want != "" {
		if got := CAChecksum(value); got != want {
			return nil, nil, fmt.Errorf("rancher CA checksum mismatch: %s/v3/settings/cacerts has sha256 %s, expected %s (CATTLE_CA_CHECKSUM)", base, got, want)
		}
	}
	if value == "" {
		return nil, nil, nil
	}
	pool, err := parseCertificates([]byte(value))
	if err != nil {
		return nil, nil, fmt.Errorf("rancher CA: %s/v3/settings/cacerts: %w", base, err)
	}
	return pool, []byte(value), nil
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCACertsResponse))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// parseCertificates requires at least one PEM CERTIFICATE block, every one of them valid.
func parseCertificates(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if strings.TrimSpace(string(rest)) != "" {
				return nil, errors.New("value has data that is not PEM")
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("value holds a PEM %q block, not a certificate", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("value is not a valid certificate: %w", err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("value holds no PEM certificate")
	}
	return pool, nil
}
