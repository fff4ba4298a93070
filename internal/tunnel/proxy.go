package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/sirupsen/logrus"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
)

// clusterProxy is the cluster proxy of Rancher (/k8s/clusters/<id>, clusterrouter's
// RemoteService) for one cluster: requests go to the cluster's API through its main tunnel,
// with the cluster's service-account token in place of the client's credentials.
type clusterProxy struct {
	name string
	rt   http.RoundTripper
	rp   *httputil.ReverseProxy
	log  *logrus.Entry
}

// ClusterProxy returns a handler that forwards every request (path, query, headers, body) to
// the named cluster's API through its main tunnel, as Rancher's cluster proxy does for its
// own (system) calls: the client's Authorization is replaced by the token the agent reported
// in its params; every other header (Impersonate-* included) passes unchanged, hop-by-hop
// and X-Forwarded-* ones aside. Responses stream as they arrive, so watches work. The
// handler can reach nothing but that cluster: scheme, host and dial are fixed by the
// cluster's params, whatever the request's URL or Host say, and dials go through that
// cluster's tunnel only.
//
// The handler itself authenticates nobody; whoever serves it must. It keeps connections
// through the tunnel alive between requests: its value has a CloseIdleConnections method,
// to call once it is no longer used. It fails until the cluster's main tunnel has connected.
func (e *Endpoint) ClusterProxy(name string) (http.Handler, error) {
	return e.clusterProxy(name)
}

func (e *Endpoint) clusterProxy(name string) (*clusterProxy, error) {
	cfg, err := e.RESTConfig(name)
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(cfg.Host)
	if err != nil || target.Host == "" {
		return nil, fmt.Errorf("cluster %q: API endpoint %q is not a URL", name, cfg.Host)
	}
	// Every dial goes through the tunnel, so an HTTP(S)_PROXY of the environment would only
	// misroute it. A Proxy function also keeps the transport out of client-go's TLS cache:
	// it is this handler's alone, and its idle connections close with it.
	cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: transport: %w", name, err)
	}
	p := &clusterProxy{name: name, rt: rt, log: e.log.WithField("cluster", name)}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// The bearer round tripper adds the cluster's token only when no Authorization
			// is set.
			pr.Out.Header.Del("Authorization")
		},
		Transport: rt,
		// Watches and logs stream: flush every write.
		FlushInterval: -1,
		ErrorHandler:  p.proxyError,
		ErrorLog:      log.New(logDebugWriter{p.log}, "", 0),
	}
	return p, nil
}

func (p *clusterProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		proxyStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "CONNECT is not proxied")
		return
	}
	p.rp.ServeHTTP(w, r)
}

// CloseIdleConnections closes the proxy's idle connections through the tunnel.
func (p *clusterProxy) CloseIdleConnections() { utilnet.CloseIdleConnectionsFor(p.rt) }

// proxyError answers a request the cluster could not be reached for with a Kubernetes
// Status, which kubectl prints as the reason.
func (p *clusterProxy) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, context.Canceled) || r.Context().Err() == nil {
		// Not merely the client going away.
		p.log.WithError(err).WithField("path", r.URL.Path).Debug("cluster proxy: request failed")
	}
	proxyStatus(w, http.StatusBadGateway, "ServiceUnavailable", fmt.Sprintf("cluster %s: %v", p.name, err))
}

// proxyStatus writes a metav1.Status failure.
func proxyStatus(w http.ResponseWriter, code int, reason, msg string) {
	body, _ := json.Marshal(map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code,
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// logDebugWriter logs each write at debug level; for net/http's and httputil's error logs.
type logDebugWriter struct{ log *logrus.Entry }

func (d logDebugWriter) Write(p []byte) (int, error) {
	d.log.Debug(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
