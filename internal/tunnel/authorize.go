package tunnel

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/rancher/remotedialer"
)

// The authorizer chain of Rancher's tunnel server (pkg/tunnelserver/chain.go): the first
// authorizer that authenticates the request wins; if none does, the first error is returned.
// remotedialer turns an error into HTTP 400 with the error text as body, and "not
// authenticated" into 401 "failed authentication".
//
// Both authorizers only read in-memory maps: remotedialer calls the authorizer on the
// request's goroutine before the upgrade, and a slow one would delay every agent connect.

// errClusterNotFound is Rancher's answer to an unknown registration token (HTTP 400).
var errClusterNotFound = errors.New("cluster not found")

func (e *Endpoint) authorize(req *http.Request) (string, bool, error) {
	var firstErr error
	for _, auth := range [...]remotedialer.Authorizer{e.authorizeSteve, e.authorizeMain} {
		key, ok, err := auth(req)
		if err == nil && ok {
			er := requestOf(req)
			er.authorized = true
			e.metrics.tunnelRequest("accepted")
			return key, true, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", false, firstErr
}

// authorizeSteve is pkg/api/steve/proxy/auth.go: "Authorization: Bearer stv-cluster-<token>"
// with a known token gives client key stv-cluster-<cluster>. An unknown token is not an
// error, just unauthenticated (so it ends as 401, not 400).
func (e *Endpoint) authorizeSteve(req *http.Request) (string, bool, error) {
	auth := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !strings.HasPrefix(auth, stevePrefix) {
		return "", false, nil
	}
	c := e.clusterByToken(strings.TrimPrefix(auth, stevePrefix))
	if c == nil {
		return "", false, nil
	}
	er := requestOf(req)
	er.cluster, er.steve = c, true
	return stevePrefix + c.name, true, nil
}

// authorizeMain is pkg/tunnelserver/mcmauthorizer/tunnel.go for a cluster agent: a known
// X-API-Tunnel-Token with valid X-API-Tunnel-Params gives client key <cluster>, and the
// params are stored as Rancher stores status.apiEndpoint, caCert and the service account
// token, on every connect.
func (e *Endpoint) authorizeMain(req *http.Request) (string, bool, error) {
	token := req.Header.Get(headerTunnelToken)
	if token == "" {
		return "", false, nil
	}
	c := e.clusterByToken(token)
	if c == nil {
		return "", false, errClusterNotFound
	}
	er := requestOf(req)
	er.cluster = c
	p, err := readTunnelParams(req.Header.Get(headerTunnelParams))
	if err != nil {
		return "", false, err
	}
	c.storeParams(*p)
	return c.name, true, nil
}

// readTunnelParams decodes X-API-Tunnel-Params with Rancher's checks (readInput) and error
// texts: base64 (standard), JSON, a cluster section, and non-empty address, token and caCert.
// A missing header decodes to nothing and fails as JSON, as in Rancher.
func readTunnelParams(header string) (*ClusterParams, error) {
	raw, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return nil, err
	}
	var in TunnelParams
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	switch {
	case in.Cluster == nil:
		return nil, errors.New("missing node or cluster registration info")
	case in.Cluster.Address == "":
		return nil, errors.New("invalid input, address empty")
	case in.Cluster.Token == "":
		return nil, errors.New("invalid input, token empty")
	case in.Cluster.CACert == "":
		return nil, errors.New("invalid input, caCert empty")
	}
	return in.Cluster, nil
}

// storeParams records what the main tunnel reported. A change (new address, token or CA,
// e.g. after an agent restart) drops the client built from the old values.
func (c *epCluster) storeParams(p ClusterParams) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.params != nil && *c.params == p {
		return
	}
	if c.params != nil {
		c.log.WithField("address", p.Address).Debug("cluster params changed")
	}
	c.params = &p
	c.st.Address = p.Address
	c.dropClientLocked()
}
