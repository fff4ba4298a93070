package tunnel

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rancher/remotedialer"
	"github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
	"github.com/rancher/scale-cluster-agent/internal/fixtures"
	"github.com/rancher/scale-cluster-agent/internal/mockapi"
	"github.com/rancher/scale-cluster-agent/internal/pki"
	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// Test helpers of the endpoint side are prefixed "ep" to stay clear of the agent side's.

// epEnv is a started endpoint with its CA.
type epEnv struct {
	auth *pki.Authority
	e    *Endpoint
	pool *x509.CertPool
	reg  *prometheus.Registry

	mu    sync.Mutex
	after []func()
}

// cleanup registers f to run at the end of the test after the endpoint's Shutdown (last
// registered first), so that no tunnel or cluster API goes away under a running check.
func (env *epEnv) cleanup(f func()) {
	env.mu.Lock()
	defer env.mu.Unlock()
	env.after = append(env.after, f)
}

func epQuietLog() *logrus.Entry {
	l := logrus.New()
	l.SetLevel(logrus.WarnLevel)
	return logrus.NewEntry(l)
}

// epStart starts an endpoint with the options mutate sets, shut down at the end of the test.
func epStart(t *testing.T, mutate func(*EndpointOptions)) *epEnv {
	t.Helper()
	auth, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := auth.ServingCert()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	opts := EndpointOptions{
		Certificate: cert, CACertPEM: auth.CertPEM, ReadyzCheck: true,
		Log: epQuietLog(), Registerer: reg,
	}
	if mutate != nil {
		mutate(&opts)
	}
	e, err := NewEndpoint(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := &epEnv{auth: auth, e: e, pool: auth.CertPool(), reg: reg}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		env.mu.Lock()
		after := env.after
		env.mu.Unlock()
		for i := len(after) - 1; i >= 0; i-- {
			after[i]()
		}
	})
	return env
}

func (env *epEnv) httpClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: env.pool}}}
}

func (env *epEnv) wsURL(path string) string {
	return strings.Replace(env.e.URL(), "https://", "wss://", 1) + path
}

// epTunnel is one remotedialer client session playing an agent's tunnel.
type epTunnel struct {
	t      *testing.T
	done   chan error
	up     chan struct{}
	cancel context.CancelFunc

	mu   sync.Mutex
	conn net.Conn
}

func epAllowTCP(proto, _ string) bool { return proto == "tcp" }

// epDialTunnel connects a remotedialer client to path with headers; local serves the dials
// the endpoint makes through it.
func epDialTunnel(t *testing.T, env *epEnv, path string, headers http.Header, local remotedialer.Dialer) *epTunnel {
	t.Helper()
	tu := epDialTunnelURL(t, env.pool, env.wsURL(path), headers, local)
	env.cleanup(tu.drop)
	return tu
}

// epDialTunnelURL is epDialTunnel for any URL; the caller ends the tunnel (drop).
func epDialTunnelURL(t *testing.T, pool *x509.CertPool, url string, headers http.Header, local remotedialer.Dialer) *epTunnel {
	ctx, cancel := context.WithCancel(context.Background())
	tu := &epTunnel{t: t, done: make(chan error, 1), up: make(chan struct{}), cancel: cancel}
	d := &websocket.Dialer{
		TLSClientConfig:  &tls.Config{RootCAs: pool},
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				tu.mu.Lock()
				tu.conn = c
				tu.mu.Unlock()
			}
			return c, err
		},
	}
	var once sync.Once
	onConnect := func(context.Context, *remotedialer.Session) error {
		once.Do(func() { close(tu.up) })
		return nil
	}
	go func() {
		tu.done <- remotedialer.ConnectToProxyWithDialer(ctx, url, headers, epAllowTCP, d, local, onConnect)
	}()
	return tu
}

// drop ends the tunnel from the agent's side by closing its connection, and waits for the
// client to return. Closing the connection rather than cancelling the client's context
// keeps clear of remotedialer#269 (a race between Session.Serve and Session.Close that
// cancelling provokes).
func (tu *epTunnel) drop() {
	tu.mu.Lock()
	c := tu.conn
	tu.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
	select {
	case err := <-tu.done:
		tu.done <- err // keep it for ended()
	case <-time.After(10 * time.Second):
		tu.t.Errorf("tunnel client did not return after its connection was closed")
	}
	tu.cancel()
}

// ended waits for the client to return and gives its error.
func (tu *epTunnel) ended(timeout time.Duration) (error, bool) {
	select {
	case err := <-tu.done:
		tu.done <- err
		return err, true
	case <-time.After(timeout):
		return nil, false
	}
}

func (tu *epTunnel) waitUp(t *testing.T) {
	t.Helper()
	select {
	case <-tu.up:
	case err := <-tu.done:
		t.Fatalf("tunnel ended before connecting: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("tunnel did not connect")
	}
}

// epAgent plays cattle-cluster-agent with its two tunnels.
type epAgent struct {
	main, steve *epTunnel
}

func epMainHeaders(token string, p ClusterParams) http.Header {
	raw, _ := json.Marshal(TunnelParams{Cluster: &p})
	h := http.Header{}
	h.Set(headerTunnelToken, token)
	h.Set(headerTunnelParams, base64.StdEncoding.EncodeToString(raw))
	return h
}

func epSteveHeaders(token string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+stevePrefix+token)
	return h
}

func epConnectMain(t *testing.T, env *epEnv, token string, p ClusterParams, mainDial remotedialer.Dialer) *epTunnel {
	return epDialTunnel(t, env, "/v3/connect/register", epMainHeaders(token, p), mainDial)
}

func epConnectSteve(t *testing.T, env *epEnv, token string) *epTunnel {
	return epDialTunnel(t, env, "/v3/connect", epSteveHeaders(token), epSteveDialer)
}

func epConnectAgent(t *testing.T, env *epEnv, name string, p ClusterParams, mainDial remotedialer.Dialer) *epAgent {
	token := env.e.Register(name)
	a := &epAgent{main: epConnectMain(t, env, token, p, mainDial)}
	a.steve = epConnectSteve(t, env, token)
	a.main.waitUp(t)
	a.steve.waitUp(t)
	return a
}

// epSteveDialer is the agent's steve aggregation as far as Rancher's check goes: each dial
// is a pipe answering one request (GET /ping → 200 pong) with Connection: close and then,
// like the agent side's handler, waiting for the client to close first (see epConn).
func epSteveDialer(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		br := bufio.NewReader(server)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		status, body := "404 Not Found", "404 page not found\n"
		if req.URL.Path == "/ping" {
			status, body = "200 OK", "pong"
		}
		fmt.Fprintf(server, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, len(body), body)
		_, _ = io.Copy(io.Discard, br)
	}()
	return client, nil
}

// epPipeListener hands in-memory connections to an http.Server, as steve's aggregation
// listener does.
type epPipeListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

type epPipeAddr struct{}

func (epPipeAddr) Network() string { return "pipe" }
func (epPipeAddr) String() string  { return "pipe" }

func (l *epPipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *epPipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *epPipeListener) Addr() net.Addr { return epPipeAddr{} }

func (l *epPipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	a, b := net.Pipe()
	select {
	case l.ch <- a:
		return b, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// epServePipes serves h (over TLS when cfg is set) on in-memory connections and returns
// the listener whose dial reaches it.
func epServePipes(cleanup func(func()), h http.Handler, cfg *tls.Config) *epPipeListener {
	l := &epPipeListener{ch: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: h, TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if cfg != nil {
			_ = srv.ServeTLS(l, "", "")
		} else {
			_ = srv.Serve(l)
		}
	}()
	cleanup(func() { _ = srv.Close() })
	return l
}

// epMockCluster serves one cluster of the default fixture on a real mock API listener.
func epMockCluster(t *testing.T, env *epEnv) *mockapi.Cluster {
	t.Helper()
	auth := env.auth
	fx, err := fixtures.Default(fixtures.LoadOptions{SupportedMinors: apidocs.Minors()})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := auth.ServingCert()
	if err != nil {
		t.Fatal(err)
	}
	srv := mockapi.NewServer(mockapi.Options{ServingCert: cert, CACert: auth.CertPEM, Log: epQuietLog()})
	env.cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	var c *mockapi.Cluster
	err = fx.Each(fixtures.GenerateOptions{Count: 1, CACertPEM: auth.CertPEM}, func(spec fixtures.Cluster) error {
		var err error
		c, err = srv.AddCluster(mockapi.ClusterSpec{
			Name: spec.Name, Version: spec.Version, Minor: spec.Minor,
			AdminToken: auth.Token(spec.Name), Objects: spec.Objects,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// epDialOnly dials address for exactly the cluster's API address, as the agent's local
// dialer does.
func epDialOnly(address string) remotedialer.Dialer {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != address {
			return nil, errors.New("dial refused: " + addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

// epWait polls cond until it holds or the timeout passes.
func epWait(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// epQuiesce waits until no check of the cluster runs or is due within 200 ms and the
// endpoint's tunnel connections are closed, so that the test can drop a tunnel with no
// stream in flight: a remotedialer v0.6.1 client whose session ends under an open stream
// races with itself (remotedialer#254), which is the agent's problem, not the endpoint's.
func epQuiesce(t *testing.T, e *Endpoint, name string) {
	t.Helper()
	c := e.cluster(name)
	epWait(t, 10*time.Second, "no check in flight", func() bool {
		e.health.mu.Lock()
		idle := !c.running && time.Until(c.next) > 200*time.Millisecond
		e.health.mu.Unlock()
		return idle && e.openConns.Load() == 0
	})
}

func epState(t *testing.T, e *Endpoint, name string) EndpointClusterState {
	t.Helper()
	s, ok := e.ClusterState(name)
	if !ok {
		t.Fatalf("cluster %s not registered", name)
	}
	return s
}

func TestEndpointRoutes(t *testing.T) {
	env := epStart(t, nil)
	c := env.httpClient()

	resp, err := c.Get(env.e.URL() + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "pong" {
		t.Fatalf("/ping: %d %q", resp.StatusCode, body)
	}

	resp, err = c.Get(env.e.URL() + "/v3/settings/cacerts")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("/v3/settings/cacerts: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var s map[string]any
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"id": "cacerts", "type": "setting", "baseType": "setting", "name": "cacerts", "value": string(env.auth.CertPEM)} {
		if s[k] != want {
			t.Errorf("cacerts %s = %q, want %q", k, s[k], want)
		}
	}
	// The agent pins the served value by the checksum the endpoint hands out.
	if got, want := rancher.CAChecksum(s["value"].(string)), env.e.CAChecksum(); got != want {
		t.Errorf("checksum of the served value %s != CAChecksum %s", got, want)
	}

	resp, err = c.Get(env.e.URL() + "/v3/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

func TestEndpointCAChecksum(t *testing.T) {
	auth, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := auth.ServingCert()
	if err != nil {
		t.Fatal(err)
	}
	sum := func(b string) string { s := sha256.Sum256([]byte(b)); return hex.EncodeToString(s[:]) }
	pem := string(auth.CertPEM)
	if !strings.HasSuffix(pem, "\n") {
		t.Fatal("pki PEM should end with a newline")
	}
	trimmed := strings.TrimRight(pem, "\n")
	for _, tc := range []struct {
		name, ca, want string
	}{
		{"with newline", pem, sum(pem)},
		{"without newline: one is added, as jq -r does", trimmed, sum(trimmed + "\n")},
		{"no CA: no checksum", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEndpoint(EndpointOptions{Certificate: cert, CACertPEM: []byte(tc.ca), Log: epQuietLog()})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.CAChecksum(); got != tc.want {
				t.Errorf("CAChecksum = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEndpointRegister(t *testing.T) {
	env := epStart(t, nil)
	a := env.e.Register("a")
	if a2 := env.e.Register("a"); a2 != a {
		t.Errorf("Register is not idempotent: %q then %q", a, a2)
	}
	b := env.e.Register("b")
	if a == b {
		t.Error("two clusters got the same token")
	}
	for _, tok := range []string{a, b} {
		if len(tok) != 54 || strings.Trim(tok, tokenChars) != "" {
			t.Errorf("token %q is not 54 characters of Rancher's alphabet", tok)
		}
	}
	s := epState(t, env.e, "a")
	if !s.Registered || s.State != "pending" || s.Connected || s.Ready {
		t.Errorf("fresh cluster state: %+v", s)
	}
	if _, ok := env.e.ClusterState("nope"); ok {
		t.Error("unknown cluster has a state")
	}
	if _, err := env.e.RESTConfig("a"); err == nil {
		t.Error("RESTConfig before the main tunnel connected should fail")
	}
	if _, err := env.e.RESTConfig("nope"); err == nil {
		t.Error("RESTConfig of an unknown cluster should fail")
	}
	if n := len(env.e.States()); n != 2 {
		t.Errorf("States has %d clusters", n)
	}
}

// TestEndpointTunnelAuth checks every answer of /v3/connect: 401 without credentials, 400
// for an unknown token or incomplete params (with Rancher's error texts), 101 for good ones.
func TestEndpointTunnelAuth(t *testing.T) {
	// Nobody answers dials on these bare websockets: the checks they trigger time out fast.
	env := epStart(t, func(o *EndpointOptions) { o.HealthTimeout = 200 * time.Millisecond })
	token := env.e.Register("c1")
	good := ClusterParams{Address: "10.43.0.1:443", Token: "sa-token", CACert: base64.StdEncoding.EncodeToString(env.auth.CertPEM)}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	withParams := func(p ClusterParams) http.Header { return epMainHeaders(token, p) }

	cases := []struct {
		name     string
		path     string
		header   http.Header
		code     int
		body     string // substring of the body
		cattleNo bool   // X-Api-Cattle-Auth: false expected
	}{
		{"no credentials", "/v3/connect", nil, 401, "failed authentication", true},
		{"no credentials, register", "/v3/connect/register", nil, 401, "failed authentication", true},
		{"unknown steve token", "/v3/connect", epSteveHeaders("nope"), 401, "failed authentication", true},
		{"bearer without stv-cluster prefix", "/v3/connect", hdr("Authorization", "Bearer "+token), 401, "failed authentication", true},
		{"unknown tunnel token", "/v3/connect/register", epMainHeaders("nope", good), 400, "cluster not found", true},
		{"no params", "/v3/connect", hdr(headerTunnelToken, token), 400, "unexpected end of JSON input", true},
		{"params not base64", "/v3/connect", hdr(headerTunnelToken, token, headerTunnelParams, "%%%"), 400, "illegal base64", true},
		{"params not JSON", "/v3/connect", hdr(headerTunnelToken, token, headerTunnelParams, b64("nope")), 400, "invalid character", true},
		{"params without cluster", "/v3/connect", hdr(headerTunnelToken, token, headerTunnelParams, b64(`{}`)), 400, "missing node or cluster registration info", true},
		{"empty address", "/v3/connect", withParams(ClusterParams{Token: "t", CACert: "c"}), 400, "invalid input, address empty", true},
		{"empty token", "/v3/connect", withParams(ClusterParams{Address: "a:1", CACert: "c"}), 400, "invalid input, token empty", true},
		{"empty caCert", "/v3/connect", withParams(ClusterParams{Address: "a:1", Token: "t"}), 400, "invalid input, caCert empty", true},
		{"main tunnel", "/v3/connect/register", withParams(good), 101, "", false},
		{"main tunnel on /v3/connect", "/v3/connect", withParams(good), 101, "", false},
		{"steve tunnel", "/v3/connect", epSteveHeaders(token), 101, "", false},
	}
	d := &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: env.pool}, HandshakeTimeout: 5 * time.Second}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp, err := d.Dial(env.wsURL(tc.path), tc.header)
			if ws != nil {
				// Closed after the endpoint's Shutdown, which first stops the checks.
				env.cleanup(func() { _ = ws.Close() })
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.code, err)
			}
			if tc.code == 101 {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), tc.body) {
				t.Errorf("body %q, want it to contain %q", body, tc.body)
			}
			if tc.cattleNo && resp.Header.Get("X-Api-Cattle-Auth") != "false" {
				t.Errorf("X-Api-Cattle-Auth = %q", resp.Header.Get("X-Api-Cattle-Auth"))
			}
		})
	}
	// The exact 401 body, as remotedialer (and so Rancher) writes it.
	_, resp, _ := d.Dial(env.wsURL("/v3/connect"), nil)
	if body, _ := io.ReadAll(resp.Body); string(body) != "failed authentication" {
		t.Errorf("401 body %q", body)
	}

	// The accepted main tunnel stored its params, as Rancher's status.apiEndpoint and caCert.
	cfg, err := env.e.RESTConfig("c1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://10.43.0.1:443" || cfg.BearerToken != "sa-token" || cfg.Timeout != 45*time.Second {
		t.Errorf("rest config: host %s token %s timeout %v", cfg.Host, cfg.BearerToken, cfg.Timeout)
	}
	if !strings.HasPrefix(string(cfg.CAData), string(env.auth.CertPEM)) || !strings.HasSuffix(string(cfg.CAData), "\nc1") {
		t.Errorf("CAData is not the CA followed by the cluster name: %q", cfg.CAData)
	}
	if len(cfg.NextProtos) != 1 || cfg.NextProtos[0] != "http/1.1" || cfg.Dial == nil ||
		cfg.AcceptContentTypes != "application/vnd.kubernetes.protobuf, application/json" {
		t.Errorf("rest config: %+v", cfg)
	}
	s := epState(t, env.e, "c1")
	if s.Address != "10.43.0.1:443" || s.Sessions != 3 {
		t.Errorf("state after the upgrades: %+v", s)
	}
	// 4 unauthenticated cases and the exact-body dial; 8 bad requests; 3 upgrades.
	for result, want := range map[string]float64{"unauthorized": 5, "bad_request": 8, "accepted": 3} {
		if got := testutil.ToFloat64(env.e.metrics.requests.WithLabelValues(result)); got != want {
			t.Errorf("tunnel_requests_total{result=%q} = %v", result, got)
		}
	}
}

// TestEndpointDuplicateSession: a second live session with the same client key is
// accepted (remotedialer keeps dialing through the oldest) and counted.
func TestEndpointDuplicateSession(t *testing.T) {
	env := epStart(t, nil)
	token := env.e.Register("dup")
	f := epNewFakeAPI(t, env.auth, env.cleanup, 1)
	p := f.params(env.auth.CertPEM)
	first := epConnectMain(t, env, token, p, f.dialer())
	first.waitUp(t)
	second := epConnectMain(t, env, token, p, f.dialer())
	second.waitUp(t)
	epWait(t, 5*time.Second, "duplicate recorded", func() bool { return epState(t, env.e, "dup").DuplicateSessions == 1 })
	if got := testutil.ToFloat64(env.e.metrics.duplicates.WithLabelValues("main")); got != 1 {
		t.Errorf("duplicate_sessions_total = %v", got)
	}
	epQuiesce(t, env.e, "dup")
	first.drop()
	second.drop()
	epWait(t, 5*time.Second, "sessions gone", func() bool { return !epState(t, env.e, "dup").MainConnected })
}

// TestEndpointMockCluster runs a fake agent against a real mock API cluster: the cluster
// turns Connected and Ready, client-go reaches it through e.RESTConfig, losing the steve
// tunnel makes it unavailable, and Shutdown ends the remaining session.
func TestEndpointMockCluster(t *testing.T) {
	env := epStart(t, func(o *EndpointOptions) { o.HealthInterval = time.Second })
	mc := epMockCluster(t, env)
	p := ClusterParams{Address: mc.Address(), Token: mc.AdminToken(), CACert: base64.StdEncoding.EncodeToString(env.auth.CertPEM)}
	start := time.Now()
	a := epConnectAgent(t, env, mc.Name(), p, epDialOnly(mc.Address()))
	epWait(t, 10*time.Second, "ready", func() bool { return epState(t, env.e, mc.Name()).Ready })
	t.Logf("ready %v after the tunnels started", time.Since(start).Round(time.Millisecond))

	s := epState(t, env.e, mc.Name())
	if !s.Connected || !s.MainConnected || !s.SteveConnected || s.State != "ready" ||
		s.ConnectedSince == nil || s.ReadySince == nil || s.LastCheck == nil || s.LastError != "" {
		t.Errorf("ready state: %+v", s)
	}
	if s.Version != mc.GitVersion() || s.Nodes < 1 {
		t.Errorf("version %q (want %q), nodes %d", s.Version, mc.GitVersion(), s.Nodes)
	}

	// Rancher's way in: client-go with the stored params, through the main tunnel.
	cfg, err := env.e.RESTConfig(mc.Name())
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Its keep-alive connection goes before the tunnels do (see epQuiesce).
	defer utilnet.CloseIdleConnectionsFor(hc.Transport)
	cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != s.Nodes {
		t.Errorf("client-go listed %d nodes, the check counted %d", len(nodes.Items), s.Nodes)
	}
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), "kube-system", metav1.GetOptions{}); err != nil {
		t.Errorf("get kube-system: %v", err)
	}

	// Without the steve tunnel the cluster is not Connected, and so not Ready.
	utilnet.CloseIdleConnectionsFor(hc.Transport)
	epQuiesce(t, env.e, mc.Name())
	a.steve.drop()
	epWait(t, 5*time.Second, "disconnected", func() bool {
		s := epState(t, env.e, mc.Name())
		return !s.Connected && !s.Ready && !s.SteveConnected
	})
	s = epState(t, env.e, mc.Name())
	if s.State != "unavailable" || s.ReadySince != nil || s.ConnectedSince != nil || s.LastError == "" {
		t.Errorf("state without steve tunnel: %+v", s)
	}

	// Back again.
	epConnectSteve(t, env, env.e.Register(mc.Name())).waitUp(t)
	epWait(t, 10*time.Second, "ready again", func() bool { return epState(t, env.e, mc.Name()).Ready })

	// Shutdown ends the sessions: the agent sees its main tunnel end.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	err, ok := a.main.ended(5 * time.Second)
	if !ok {
		t.Fatal("the main tunnel is still up after Shutdown")
	}
	t.Logf("main tunnel ended: %v", err)
	if got := testutil.ToFloat64(env.e.metrics.sessions.WithLabelValues("main")); got != 0 {
		t.Errorf("sessions{tunnel=main} = %v after Shutdown", got)
	}
	if _, err := env.httpClient().Get(env.e.URL() + "/ping"); err == nil {
		t.Error("still listening after Shutdown")
	}
}

// TestEndpointCloseSessions ends a cluster's sessions from the endpoint's side.
func TestEndpointCloseSessions(t *testing.T) {
	env := epStart(t, nil)
	token := env.e.Register("c")
	f := epNewFakeAPI(t, env.auth, env.cleanup, 1)
	m := epConnectMain(t, env, token, f.params(env.auth.CertPEM), f.dialer())
	st := epConnectSteve(t, env, token)
	m.waitUp(t)
	st.waitUp(t)
	epWait(t, 5*time.Second, "ready", func() bool { return epState(t, env.e, "c").Ready })
	epQuiesce(t, env.e, "c")
	if n := env.e.CloseSessions("c"); n != 2 {
		t.Errorf("closed %d sessions", n)
	}
	for _, tu := range []*epTunnel{m, st} {
		if _, ok := tu.ended(5 * time.Second); !ok {
			t.Fatal("tunnel still up after CloseSessions")
		}
	}
	epWait(t, 5*time.Second, "sessions gone", func() bool {
		s := epState(t, env.e, "c")
		return !s.MainConnected && !s.SteveConnected && s.State == "unavailable" && !s.Connected
	})
}

// TestEndpointWithAgent runs the agent side's Agent against the endpoint and a mock API
// cluster, the way `make run` wires them: the CA comes from /v3/settings/cacerts pinned by
// CAChecksum, both tunnels connect, the cluster turns Ready, and stopping the agent shows.
func TestEndpointWithAgent(t *testing.T) {
	env := epStart(t, func(o *EndpointOptions) { o.HealthInterval = time.Second })
	mc := epMockCluster(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, pem, err := rancher.FetchCACerts(ctx, env.e.URL(), env.e.CAChecksum(), nil)
	if err != nil {
		t.Fatalf("agent-side CA fetch: %v", err)
	}
	if string(pem) != string(env.auth.CertPEM) {
		t.Fatal("fetched CA differs from the endpoint's")
	}
	a := NewAgent(mc.Name(), AgentOptions{
		ServerURL: env.e.URL(),
		Token:     env.e.Register(mc.Name()),
		Params:    ClusterParams{Address: mc.Address(), Token: mc.AdminToken(), CACert: base64.StdEncoding.EncodeToString(env.auth.CertPEM)},
		Dialer:    NewWebsocketDialer(pool, 5*time.Second),
		Backoff:   Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond, Jitter: 0.2, ResetAfter: time.Second},
		Log:       epQuietLog().WithField("cluster", mc.Name()),
	})
	runCtx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		a.Run(runCtx)
	}()
	defer func() {
		stop()
		<-stopped
	}()
	epWait(t, 20*time.Second, "ready", func() bool { return epState(t, env.e, mc.Name()).Ready })
	s := epState(t, env.e, mc.Name())
	if s.Version != mc.GitVersion() || s.Nodes < 1 || s.DuplicateSessions != 0 || s.Address != mc.Address() {
		t.Errorf("state with the real agent: %+v", s)
	}
	st := a.Status()
	if st.Main.State != StateConnected || st.Steve.State != StateConnected || st.Main.RefusedDials != 0 {
		t.Errorf("agent status: %+v", st)
	}

	// The agent stops between two checks: the endpoint sees both tunnels go.
	if n := testutil.ToFloat64(env.e.metrics.closeTimeouts); n != 0 {
		t.Errorf("%v streams waited in vain for the agent to close first", n)
	}
	epQuiesce(t, env.e, mc.Name())
	stop()
	<-stopped
	epWait(t, 10*time.Second, "disconnected", func() bool {
		s := epState(t, env.e, mc.Name())
		return !s.MainConnected && !s.SteveConnected && !s.Connected && s.State == "unavailable"
	})
}
