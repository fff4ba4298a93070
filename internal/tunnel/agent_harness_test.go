package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/remotedialer"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperServerEnv) != "" {
		runHelperServer()
		return
	}
	// What the CLI does: remotedialer's Info lines would drown the test output. Its Error
	// lines (one per failed handshake) are shown with -v only.
	QuietRemotedialerLogs()
	flag.Parse()
	if !testing.Verbose() {
		logrus.SetOutput(io.Discard)
	}
	os.Exit(m.Run())
}

// rdServer is a small Rancher stand-in: a real remotedialer server behind an httptest TLS
// server, with the cluster-token authorizer and the stv-cluster authorizer of Rancher, and
// a record of every upgrade request and of concurrent sessions per client key.
type rdServer struct {
	t      *testing.T
	tokens map[string]string // registration token → cluster

	mu       sync.Mutex
	rd       *remotedialer.Server
	srv      *httptest.Server
	conns    map[net.Conn]struct{}
	requests []upgradeRequest
	live     map[string]int // sessions being served now, per client key
	maxLive  map[string]int
	sessions map[string]int // sessions ever served, per client key
}

type upgradeRequest struct {
	at     time.Time
	path   string
	header http.Header
	key    string // client key; "" if not authorized
}

func newRDServer(t *testing.T, tokens map[string]string) *rdServer {
	s := &rdServer{t: t, tokens: tokens, conns: map[net.Conn]struct{}{}, live: map[string]int{},
		maxLive: map[string]int{}, sessions: map[string]int{}}
	s.start("")
	t.Cleanup(s.stop)
	return s
}

// authorize is Rancher's chain in short: stv-cluster bearer tokens, then the tunnel token.
// Unknown tokens are "not authenticated" (HTTP 401).
func (s *rdServer) authorize(req *http.Request) (string, bool, error) {
	if bearer, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer stv-cluster-"); ok {
		if c, ok := s.tokens[bearer]; ok {
			return "stv-cluster-" + c, true, nil
		}
		return "", false, nil
	}
	if c, ok := s.tokens[req.Header.Get("X-API-Tunnel-Token")]; ok {
		return c, true, nil
	}
	return "", false, nil
}

func (s *rdServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	key, ok, _ := s.authorize(req)
	s.mu.Lock()
	rd := s.rd
	s.requests = append(s.requests, upgradeRequest{at: time.Now(), path: req.URL.Path, header: req.Header.Clone(), key: key})
	if ok {
		s.live[key]++
		s.sessions[key]++
		s.maxLive[key] = max(s.maxLive[key], s.live[key])
	}
	s.mu.Unlock()
	if ok {
		defer func() {
			s.mu.Lock()
			s.live[key]--
			s.mu.Unlock()
		}()
	}
	rd.ServeHTTP(w, req) // blocks for the session's life
}

// start serves a new remotedialer server, on addr if set.
func (s *rdServer) start(addr string) {
	srv := httptest.NewUnstartedServer(s)
	if addr != "" {
		srv.Listener.Close()
		var err error
		for i := 0; i < 50; i++ {
			if srv.Listener, err = net.Listen("tcp", addr); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			s.t.Fatalf("listen %s again: %v", addr, err)
		}
	}
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch st {
		case http.StateNew:
			s.conns[c] = struct{}{}
		case http.StateClosed:
			delete(s.conns, c)
		}
	}
	srv.Config.ErrorLog = nil
	rd := remotedialer.New(s.authorize, remotedialer.DefaultErrorWriter)
	s.mu.Lock()
	s.rd, s.srv = rd, srv
	s.mu.Unlock()
	srv.StartTLS()
}

// stop kills the server as a dying process would: listener and every connection, the
// hijacked websockets included (httptest.Server.Close leaves those open).
func (s *rdServer) stop() {
	s.mu.Lock()
	srv := s.srv
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.conns = map[net.Conn]struct{}{}
	s.mu.Unlock()
	srv.Listener.Close()
	for _, c := range conns {
		c.Close()
	}
	srv.Close()
}

// restart stops the server and serves a fresh remotedialer server on the same address.
func (s *rdServer) restart(down time.Duration) {
	addr := s.srv.Listener.Addr().String()
	s.stop()
	time.Sleep(down)
	s.start(addr)
}

func (s *rdServer) server() *remotedialer.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rd
}

func (s *rdServer) URL() string { return s.srv.URL }

func (s *rdServer) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// requestsFor returns the upgrade requests whose token belongs to cluster, per tunnel.
func (s *rdServer) requestsFor(cluster string) (main, steve []upgradeRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.requests {
		if bearer, ok := strings.CutPrefix(r.header.Get("Authorization"), "Bearer stv-cluster-"); ok {
			if s.tokens[bearer] == cluster {
				steve = append(steve, r)
			}
			continue
		}
		if s.tokens[r.header.Get("X-API-Tunnel-Token")] == cluster {
			main = append(main, r)
		}
	}
	return main, steve
}

func (s *rdServer) counts(key string) (live, maxLive, sessions int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[key], s.maxLive[key], s.sessions[key]
}

// httpVia is an HTTP client whose every connection is dialed through the server's session
// for key, as Rancher's clients are. No keep-alive: every request is a new tunnel stream.
func (s *rdServer) httpVia(key string, roots *x509.CertPool) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return s.server().Dialer(key)(ctx, network, addr)
			},
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			DisableKeepAlives: true,
		},
	}
}

// getVia GETs https://addr/path through the server's session for key and returns status and
// body. The stream ends in a fixed order: the target closes first (Connection: close), the
// client reads to EOF, on TLS and then on the tunnel stream, and only then closes. With an http.Client both ends close at the
// same moment, which trips remotedialer v0.6.1's data race on connection.err
// (remotedialer#254, fixed in v0.6.2) now and then, on either side of the tunnel;
// TestAgentRemotedialer254 shows it on demand.
func (s *rdServer) getVia(t *testing.T, key, addr, path string, roots *x509.CertPool) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := s.server().Dialer(key)(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s through %s: %v", addr, key, err)
	}
	host, _, _ := net.SplitHostPort(addr)
	conn := tls.Client(raw, &tls.Config{RootCAs: roots, ServerName: host})
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("TLS to %s through %s: %v", addr, key, err)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s through %s: %v", path, key, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := readErr(t, &readerConn{Conn: conn, r: br}); err != nil {
		t.Fatalf("GET %s through %s: reading to EOF: %v", path, key, err)
	}
	// TLS EOF is the target's close_notify; the stream's own EOF is the agent's close frame,
	// processed by the session's read loop. Close only after that.
	if err := readErr(t, raw); err != nil {
		t.Fatalf("GET %s through %s: waiting for the stream's end: %v", path, key, err)
	}
	return resp.StatusCode, string(body)
}

// readerConn reads through r (which holds what the response parser buffered).
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// newTarget stands in for a cluster's API: a TLS server answering every request.
func newTarget(t *testing.T) *httptest.Server {
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "target %s", r.URL.Path)
	}))
	t.Cleanup(target.Close)
	return target
}

func targetPool(target *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(target.Certificate())
	return p
}

// testBackoff is quick and exact (no jitter) so tests can check the delays.
var testBackoff = Backoff{Min: 50 * time.Millisecond, Max: 400 * time.Millisecond, ResetAfter: 10 * time.Second}

type testAgent struct {
	*Agent
	hook   *logtest.Hook
	cancel context.CancelFunc
	done   chan struct{}
}

// startAgent runs an agent until the test ends.
func startAgent(t *testing.T, name string, opts AgentOptions) *testAgent {
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	if opts.Log == nil {
		opts.Log = logger.WithField("cluster", name)
	}
	if opts.Backoff == (Backoff{}) {
		opts.Backoff = testBackoff
	}
	a := &testAgent{Agent: NewAgent(name, opts), hook: hook, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go func() {
		defer close(a.done)
		a.Run(ctx)
	}()
	t.Cleanup(a.stop)
	return a
}

func (a *testAgent) stop() {
	a.cancel()
	<-a.done
}

func (a *testAgent) connected() bool {
	st := a.Status()
	return st.Main.State == StateConnected && st.Steve.State == StateConnected
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settleGoroutines waits until at most base goroutines run, and dumps them if they don't.
func settleGoroutines(t *testing.T, base int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines still running, %d before:\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readErr reads a stream until it ends and returns the error (nil on EOF). No read deadline:
// remotedialer's deadlines are unsynchronised; a stuck read fails the test instead.
func readErr(t *testing.T, c net.Conn) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, c)
		done <- err
	}()
	select {
	case err := <-done:
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	case <-time.After(5 * time.Second):
		c.Close()
		t.Fatal("stream did not end within 5 s")
		return nil
	}
}
