package rancher

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultTokenName is the registration token Rancher creates for every management cluster.
const DefaultTokenName = "default-token"

const tokensPath = "/v3/clusterregistrationtokens"

// ListRegistrationTokens reads a cluster's registration tokens:
// GET /v3/clusterregistrationtokens?clusterId=<id>.
func (c *Client) ListRegistrationTokens(ctx context.Context, clusterID string) ([]RegistrationToken, error) {
	if clusterID == "" {
		return nil, fmt.Errorf("list registration tokens: no cluster id")
	}
	out, err := list[RegistrationToken](ctx, c, tokensPath, url.Values{"clusterId": {clusterID}})
	if err != nil {
		return nil, fmt.Errorf("registration tokens of %s: %w", clusterID, err)
	}
	return out, nil
}

// RegistrationToken returns the cluster's registration token as Rancher shows it now (read
// it again after Rancher rejected a token: rotation changes it). It prefers default-token,
// then the newest token whose secret is filled in. Token may still be "" (see
// WaitForRegistrationToken); no token at all is an error for which IsNotFound is true.
func (c *Client) RegistrationToken(ctx context.Context, clusterID string) (*RegistrationToken, error) {
	all, err := c.ListRegistrationTokens(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	if t := pickToken(all); t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("registration token of %s: %w", clusterID, ErrNotFound)
}

// pickToken chooses among a cluster's tokens: filled before empty, default-token before
// others, newer before older.
func pickToken(all []RegistrationToken) *RegistrationToken {
	var best *RegistrationToken
	rank := func(t *RegistrationToken) int {
		r := 0
		if t.Token != "" {
			r += 2
		}
		if t.Name == DefaultTokenName {
			r++
		}
		return r
	}
	for i := range all {
		t := &all[i]
		if best == nil || rank(t) > rank(best) || rank(t) == rank(best) && t.Created.After(best.Created.Time) {
			best = t
		}
	}
	return best
}

// createTokenRequest is norman's create body for a registration token.
type createTokenRequest struct {
	Type      string `json:"type"`
	ClusterID string `json:"clusterId"`
}

// CreateRegistrationToken adds a registration token to the cluster (POST
// /v3/clusterregistrationtokens); its id is <clusterId>:crt-xxxxx and its secret is filled in
// asynchronously. Rancher makes default-token by itself; call this only for a Rancher that
// did not, and not in a loop (rancher/rancher#38072: re-registering breaks agents).
func (c *Client) CreateRegistrationToken(ctx context.Context, clusterID string) (*RegistrationToken, error) {
	var out RegistrationToken
	err := c.do(ctx, &request{method: http.MethodPost, path: tokensPath, body: createTokenRequest{Type: "clusterRegistrationToken", ClusterID: clusterID}}, &out)
	if err != nil {
		return nil, fmt.Errorf("create registration token for %s: %w", clusterID, err)
	}
	return &out, nil
}

// TokenWaitOptions tune WaitForRegistrationToken.
type TokenWaitOptions struct {
	// Interval between polls; default Config.PollInterval (±10% drift).
	Interval time.Duration
	// Replacing, if set, is a token Rancher rejected: wait for a different one (a rotation).
	// Rancher keeps accepting the previous token during a grace period, so a rejected token
	// usually means the new one is already there.
	Replacing string
	// CreateAfter, if above 0, creates a registration token once when the cluster still has
	// none after that long. Zero waits for Rancher's default-token only.
	CreateAfter time.Duration
}

// WaitForRegistrationToken polls the cluster's registration tokens until one has its secret
// filled in (and differs from opts.Replacing), and returns it. Rancher fills token in
// asynchronously after creating the cluster. ctx bounds the wait.
func (c *Client) WaitForRegistrationToken(ctx context.Context, clusterID string, opts TokenWaitOptions) (*RegistrationToken, error) {
	start := time.Now()
	created := false
	var got *RegistrationToken
	err := c.pollUntil(ctx, opts.Interval, "the registration token of "+clusterID, func(ctx context.Context) (bool, error) {
		all, err := c.ListRegistrationTokens(ctx, clusterID)
		if err != nil {
			return false, err
		}
		var usable []RegistrationToken
		for _, t := range all {
			if t.Token != "" && t.Token != opts.Replacing {
				usable = append(usable, t)
			}
		}
		if got = pickToken(usable); got != nil {
			return true, nil
		}
		if len(all) == 0 && opts.CreateAfter > 0 && !created && time.Since(start) >= opts.CreateAfter {
			created = true
			t, err := c.CreateRegistrationToken(ctx, clusterID)
			if err != nil {
				return false, err
			}
			c.log.WithField("cluster", clusterID).WithField("token", t.ID).Info("the cluster had no registration token; created one")
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}
