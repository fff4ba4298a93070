package tunnel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// TestAgentTunnels: both tunnels of two clusters against one server; what the agent sends;
// steve's /ping; a GET to the cluster's API through the main tunnel; a refused dial closes
// only that cluster's main session, is counted and logged once, and the agent reconnects
// on /v3/connect.
func TestAgentTunnels(t *testing.T) {
	srv := newRDServer(t, map[string]string{"tok-a": "c-a", "tok-b": "c-b"})
	target := newTarget(t)
	dialer := NewWebsocketDialer(srv.pool(), 5*time.Second)
	reg := prometheus.NewRegistry()
	metrics := NewAgentMetrics(reg)
	params := func(tok string) ClusterParams {
		return ClusterParams{Address: target.Listener.Addr().String(), Token: "sa-" + tok, CACert: base64.StdEncoding.EncodeToString([]byte("pem-" + tok))}
	}
	type refusal struct{ cluster, proto, address string }
	var refMu sync.Mutex
	var refusals []refusal
	onRefused := func(cluster, proto, address string) {
		refMu.Lock()
		refusals = append(refusals, refusal{cluster, proto, address})
		refMu.Unlock()
	}
	a := startAgent(t, "c-a", AgentOptions{ServerURL: srv.URL(), Token: "tok-a", Params: params("tok-a"), Dialer: dialer, Metrics: metrics, OnRefusedDial: onRefused})
	b := startAgent(t, "c-b", AgentOptions{ServerURL: srv.URL(), Token: "tok-b", Params: params("tok-b"), Dialer: dialer, Metrics: metrics})
	eventually(t, 5*time.Second, "both agents connected", func() bool { return a.connected() && b.connected() })
	rd := srv.server()
	for _, key := range []string{"c-a", "stv-cluster-c-a", "c-b", "stv-cluster-c-b"} {
		if !rd.HasSession(key) {
			t.Errorf("server has no session %q", key)
		}
	}
	if got := testutil.ToFloat64(metrics.connected[tunnelMain]); got != 2 {
		t.Errorf("connected{main} = %v, want 2", got)
	}

	t.Run("requests", func(t *testing.T) {
		main, steve := srv.requestsFor("c-a")
		if len(main) != 1 || len(steve) != 1 {
			t.Fatalf("got %d main and %d steve upgrade requests, want 1 and 1", len(main), len(steve))
		}
		m := main[0]
		if m.path != "/v3/connect/register" {
			t.Errorf("first main path %q, want /v3/connect/register", m.path)
		}
		if got := m.header.Get("X-API-Tunnel-Token"); got != "tok-a" {
			t.Errorf("X-API-Tunnel-Token %q", got)
		}
		for _, h := range []string{"Authorization", "X-API-Tunnel-ID"} {
			if v, ok := m.header[http.CanonicalHeaderKey(h)]; ok {
				t.Errorf("main tunnel sent %s: %q", h, v)
			}
		}
		raw, err := base64.StdEncoding.DecodeString(m.header.Get("X-API-Tunnel-Params"))
		if err != nil {
			t.Fatalf("params not base64: %v", err)
		}
		var p TunnelParams
		if err := json.Unmarshal(raw, &p); err != nil || p.Cluster == nil || *p.Cluster != params("tok-a") {
			t.Errorf("params %s (%v), want cluster %+v", raw, err, params("tok-a"))
		}
		if !strings.HasPrefix(string(raw), `{"cluster":{"address":`) {
			t.Errorf("params JSON %s", raw)
		}
		s := steve[0]
		if s.path != "/v3/connect" {
			t.Errorf("steve path %q, want /v3/connect", s.path)
		}
		if got := s.header.Get("Authorization"); got != "Bearer stv-cluster-tok-a" {
			t.Errorf("steve Authorization %q", got)
		}
		for _, h := range []string{"X-API-Tunnel-Token", "X-API-Tunnel-Params", "X-API-Tunnel-ID"} {
			if v := s.header.Get(h); v != "" {
				t.Errorf("steve tunnel sent %s: %q", h, v)
			}
		}
	})

	t.Run("steve ping", func(t *testing.T) {
		c := srv.httpVia("stv-cluster-c-a", nil)
		for _, tc := range []struct {
			url    string
			status int
			body   string
		}{
			{"http://not-used/ping", 200, "pong"},
			{"http://127.0.0.1:6080/ping", 200, "pong"},
			{"http://127.0.0.1:6080/v1/namespaces", 404, "404 page not found\n"},
		} {
			resp, err := c.Get(tc.url)
			if err != nil {
				t.Fatalf("GET %s: %v", tc.url, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Errorf("GET %s = %d %q, want %d %q", tc.url, resp.StatusCode, body, tc.status, tc.body)
			}
			if tc.status == 200 && resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q", tc.url, resp.Header.Get("Content-Type"))
			}
		}
	})

	t.Run("main GET reaches the cluster API", func(t *testing.T) {
		status, body := srv.getVia(t, "c-a", params("tok-a").Address, "/version", targetPool(target))
		if status != 200 || body != "target /version" {
			t.Errorf("got %d %q", status, body)
		}
	})

	t.Run("refused dial", func(t *testing.T) {
		other := "127.0.0.1:1"
		dialOther := func(addr string) {
			conn, err := srv.server().Dialer("c-a")(context.Background(), "tcp", addr)
			if err != nil {
				return // the session may already be gone
			}
			if err := readErr(t, conn); err == nil {
				t.Errorf("a dial to %s went through", addr)
			}
			conn.Close()
		}
		dialOther(other)
		eventually(t, 5*time.Second, "main tunnel back after a refusal", func() bool {
			st := a.Status().Main
			return st.RefusedDials == 1 && st.Reconnects == 1 && st.State == StateConnected && srv.server().HasSession("c-a")
		})
		st := a.Status()
		if st.Main.Connects != 2 || st.Main.Failures != 1 || !strings.Contains(st.Main.LastError, "connect not allowed") {
			t.Errorf("main status %+v", st.Main)
		}
		if st.Steve.Connects != 1 || st.Steve.Reconnects != 0 {
			t.Errorf("steve tunnel disturbed: %+v", st.Steve)
		}
		main, _ := srv.requestsFor("c-a")
		if len(main) != 2 || main[1].path != "/v3/connect" {
			t.Errorf("reconnect requests %+v, want a second one on /v3/connect", main)
		}
		// The other cluster did not notice.
		bs := b.Status()
		if bs.Main.Connects != 1 || bs.Main.RefusedDials != 0 || bs.Steve.Connects != 1 {
			t.Errorf("cluster b disturbed: %+v", bs)
		}
		if _, maxLive, sessions := srv.counts("c-b"); maxLive != 1 || sessions != 1 {
			t.Errorf("c-b sessions: max live %d, total %d; want 1, 1", maxLive, sessions)
		}

		// Same address again: counted, not logged again; a new address is logged.
		dialOther(other)
		eventually(t, 5*time.Second, "second refusal", func() bool {
			st := a.Status().Main
			return st.RefusedDials == 2 && st.State == StateConnected && srv.server().HasSession("c-a")
		})
		dialOther("10.0.0.1:443")
		eventually(t, 5*time.Second, "third refusal", func() bool {
			st := a.Status().Main
			return st.RefusedDials == 3 && st.State == StateConnected && srv.server().HasSession("c-a")
		})
		var warned []string
		for _, e := range a.hook.AllEntries() {
			if e.Level == logrus.WarnLevel && strings.Contains(e.Message, "refused") {
				warned = append(warned, e.Data["address"].(string))
				if e.Data["cluster"] != "c-a" {
					t.Errorf("refusal logged without the cluster field: %v", e.Data)
				}
			}
		}
		if strings.Join(warned, ",") != other+",10.0.0.1:443" {
			t.Errorf("refusal warnings for %v, want one per address", warned)
		}
		refMu.Lock()
		if len(refusals) != 3 || refusals[0] != (refusal{"c-a", "tcp", other}) {
			t.Errorf("OnRefusedDial calls %+v", refusals)
		}
		refMu.Unlock()
		if got := testutil.ToFloat64(metrics.refusals[tunnelMain]); got != 3 {
			t.Errorf("refused_dials_total{main} = %v", got)
		}
		if got := testutil.ToFloat64(metrics.reconnects[tunnelMain]); got != 3 {
			t.Errorf("reconnects_total{main} = %v", got)
		}
		if got := testutil.ToFloat64(metrics.connected[tunnelMain]); got != 2 {
			t.Errorf("connected{main} = %v, want 2", got)
		}
		// Never two sessions of one tunnel at once.
		for _, key := range []string{"c-a", "stv-cluster-c-a", "c-b", "stv-cluster-c-b"} {
			if _, maxLive, _ := srv.counts(key); maxLive != 1 {
				t.Errorf("%s: %d concurrent sessions", key, maxLive)
			}
		}
	})
}

// TestAgentBadTokenBackoff: a 401 handshake backs off like any failure, doubling from Min.
func TestAgentBadTokenBackoff(t *testing.T) {
	srv := newRDServer(t, map[string]string{})
	a := startAgent(t, "c-a", AgentOptions{ServerURL: srv.URL(), Token: "wrong", Params: ClusterParams{Address: "127.0.0.1:6443"},
		Dialer: NewWebsocketDialer(srv.pool(), 5*time.Second)})
	// 50+100+200+400 ms of waits: five attempts within ~0.75 s, the sixth 400 ms later.
	eventually(t, 5*time.Second, "six failed attempts", func() bool {
		main, _ := srv.requestsFor("")
		return len(main) >= 6 && a.Status().Main.Failures >= 6
	})
	a.stop()
	st := a.Status()
	if st.Main.State != StateStopped || st.Main.Connects != 0 || st.Main.Failures < 6 {
		t.Errorf("status %+v", st.Main)
	}
	if !strings.Contains(st.Main.LastError, "HTTP 401") {
		t.Errorf("last error %q does not name the 401", st.Main.LastError)
	}
	main, steve := srv.requestsFor("")
	for name, reqs := range map[string][]upgradeRequest{"main": main, "steve": steve} {
		want := testBackoff.Min
		for i := 1; i < len(reqs); i++ {
			gap := reqs[i].at.Sub(reqs[i-1].at)
			if gap < want || gap > want+300*time.Millisecond {
				t.Errorf("%s attempt %d came %v after the previous, want %v (+ a little)", name, i+1, gap, want)
			}
			want = min(2*want, testBackoff.Max)
		}
	}
	// Warned once, then quiet.
	warns := 0
	for _, e := range a.hook.AllEntries() {
		if e.Level == logrus.WarnLevel && e.Data["tunnel"] == "main" {
			warns++
		}
	}
	if warns != 1 {
		t.Errorf("%d warnings for the same failure, want 1", warns)
	}
}

// TestAgentServerRestart: Rancher goes away and comes back on the same address; each tunnel
// comes back with exactly one session, on /v3/connect.
func TestAgentServerRestart(t *testing.T) {
	srv := newRDServer(t, map[string]string{"tok-a": "c-a"})
	target := newTarget(t)
	a := startAgent(t, "c-a", AgentOptions{ServerURL: srv.URL(), Token: "tok-a", Params: ClusterParams{Address: target.Listener.Addr().String()},
		Dialer: NewWebsocketDialer(srv.pool(), 5*time.Second)})
	eventually(t, 5*time.Second, "connected", a.connected)
	srv.restart(150 * time.Millisecond)
	eventually(t, 5*time.Second, "reconnected to the new server", func() bool {
		rd := srv.server()
		return a.connected() && rd.HasSession("c-a") && rd.HasSession("stv-cluster-c-a")
	})
	if status, _ := srv.getVia(t, "c-a", target.Listener.Addr().String(), "/readyz", targetPool(target)); status != 200 {
		t.Errorf("GET through the new session: %d", status)
	}
	time.Sleep(300 * time.Millisecond) // room for a stray second session to show up
	for _, key := range []string{"c-a", "stv-cluster-c-a"} {
		live, maxLive, sessions := srv.counts(key)
		if live != 1 || maxLive != 1 || sessions != 2 {
			t.Errorf("%s: %d live, at most %d at once, %d in all; want 1, 1, 2", key, live, maxLive, sessions)
		}
	}
	st := a.Status()
	if st.Main.Reconnects != 1 || st.Steve.Reconnects != 1 {
		t.Errorf("reconnects main %d steve %d, want 1 each", st.Main.Reconnects, st.Steve.Reconnects)
	}
	main, _ := srv.requestsFor("c-a")
	if last := main[len(main)-1]; last.path != "/v3/connect" {
		t.Errorf("reconnect path %q", last.path)
	}
}

// TestAgentRunStops: Run returns within 200 ms of cancellation whatever it is doing, and
// leaves no goroutine behind.
func TestAgentRunStops(t *testing.T) {
	srv := newRDServer(t, map[string]string{"tok-a": "c-a", "tok-b": "c-b", "tok-c": "c-c"})
	pool := srv.pool()
	// A server that accepts and never answers: the handshake hangs.
	black, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var heldMu sync.Mutex
	go func() {
		for {
			c, err := black.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, c)
			heldMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		black.Close()
		heldMu.Lock()
		for _, c := range held {
			c.Close()
		}
		heldMu.Unlock()
	})
	for _, tc := range []struct {
		name    string
		url     string
		token   string
		limiter *rate.Limiter
		ready   func(a *Agent) bool
	}{
		{name: "connected", url: srv.URL(), token: "tok-a", ready: func(a *Agent) bool {
			st := a.Status()
			return st.Main.State == StateConnected && st.Steve.State == StateConnected
		}},
		{name: "backing off", url: srv.URL(), token: "bad", ready: func(a *Agent) bool { return a.Status().Main.Failures > 0 }},
		{name: "pacing", url: srv.URL(), token: "tok-b", limiter: rate.NewLimiter(rate.Every(time.Hour), 1), ready: func(a *Agent) bool {
			st := a.Status()
			return st.Main.State == StateIdle || st.Steve.State == StateIdle // one got the token, one waits
		}},
		{name: "handshake hangs", url: "https://" + black.Addr().String(), token: "tok-c", ready: func(*Agent) bool {
			heldMu.Lock()
			defer heldMu.Unlock()
			return len(held) >= 2
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			time.Sleep(50 * time.Millisecond)
			base := runtime.NumGoroutine()
			a := NewAgent(tc.name, AgentOptions{ServerURL: tc.url, Token: tc.token, Params: ClusterParams{Address: "127.0.0.1:6443"},
				Dialer: NewWebsocketDialer(pool, 10*time.Second), Backoff: Backoff{Min: 10 * time.Second, ResetAfter: time.Minute},
				Limiter: tc.limiter, Log: logrus.NewEntry(logrus.New())})
			a.log.Logger.SetOutput(io.Discard)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				a.Run(ctx)
			}()
			eventually(t, 5*time.Second, "agent busy", func() bool { return tc.ready(a) })
			time.Sleep(20 * time.Millisecond)
			start := time.Now()
			cancel()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatal("Run did not return")
			}
			if took := time.Since(start); took > 200*time.Millisecond {
				t.Errorf("Run took %v to return", took)
			}
			st := a.Status()
			if st.Main.State != StateStopped || st.Steve.State != StateStopped {
				t.Errorf("states after Run: %s, %s", st.Main.State, st.Steve.State)
			}
			if tc.name == "connected" {
				eventually(t, 2*time.Second, "server sessions gone", func() bool {
					return !srv.server().HasSession("c-a") && !srv.server().HasSession("stv-cluster-c-a")
				})
				if st.Main.Failures != 0 {
					t.Errorf("stopping counted as a failure: %+v", st.Main)
				}
			}
			settleGoroutines(t, base, 3*time.Second)
		})
	}
}

// TestAgentConcurrentRun: a second Run while one is running returns at once.
func TestAgentConcurrentRun(t *testing.T) {
	srv := newRDServer(t, map[string]string{"tok-a": "c-a"})
	a := startAgent(t, "c-a", AgentOptions{ServerURL: srv.URL(), Token: "tok-a", Params: ClusterParams{Address: "127.0.0.1:6443"},
		Dialer: NewWebsocketDialer(srv.pool(), 5*time.Second)})
	eventually(t, 5*time.Second, "connected", a.connected)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("second Run did not return")
	}
	if _, maxLive, _ := srv.counts("c-a"); maxLive != 1 {
		t.Errorf("%d concurrent sessions", maxLive)
	}
}

// TestAgentBadServerURL: an unusable URL is a failed attempt like any other.
func TestAgentBadServerURL(t *testing.T) {
	a := startAgent(t, "c-a", AgentOptions{ServerURL: "ftp://rancher", Token: "t"})
	eventually(t, 2*time.Second, "failure recorded", func() bool { return a.Status().Main.Failures > 0 })
	if st := a.Status().Main; !strings.Contains(st.LastError, "scheme") {
		t.Errorf("last error %q", st.LastError)
	}
}

func TestQuietRemotedialerLogs(t *testing.T) {
	std := logrus.StandardLogger()
	defer std.SetLevel(std.GetLevel())
	std.SetLevel(logrus.InfoLevel)
	QuietRemotedialerLogs()
	if std.GetLevel() != logrus.WarnLevel {
		t.Errorf("standard logger at %s", std.GetLevel())
	}
	std.SetLevel(logrus.ErrorLevel)
	QuietRemotedialerLogs()
	if std.GetLevel() != logrus.ErrorLevel {
		t.Errorf("QuietRemotedialerLogs raised the level to %s", std.GetLevel())
	}
	if defaultLog() == std || defaultLog().GetLevel() != logrus.InfoLevel {
		t.Error("the package's own logger is the standard one or was turned down")
	}
}

func TestNewAgentMetricsTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1, m2 := NewAgentMetrics(reg), NewAgentMetrics(reg)
	m1.failure(tunnelSteve)
	m2.failure(tunnelSteve)
	if got := testutil.ToFloat64(m1.failures[tunnelSteve]); got != 2 {
		t.Errorf("shared counter = %v", got)
	}
	var nilMetrics *AgentMetrics
	nilMetrics.sessionUp(tunnelMain, true) // must not panic
	if err := errors.Join(testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP scale_agent_tunnel_failures_total Connect attempts that failed and sessions that ended in error.
# TYPE scale_agent_tunnel_failures_total counter
scale_agent_tunnel_failures_total{tunnel="main"} 0
scale_agent_tunnel_failures_total{tunnel="steve"} 2
`), "scale_agent_tunnel_failures_total")); err != nil {
		t.Error(err)
	}
}

// TestAgentRemotedialer254 reproduces remotedialer#254 (a data race on connection.err in
// v0.6.1, fixed in v0.6.2) with ordinary http.Client GETs through the main tunnel, where
// Rancher's client and the cluster API close a stream at the same moment. Run it with -race
// and TUNNEL_TEST_RACE_254=1 to check a remotedialer upgrade.
func TestAgentRemotedialer254(t *testing.T) {
	if os.Getenv("TUNNEL_TEST_RACE_254") == "" {
		t.Skip("set TUNNEL_TEST_RACE_254=1 (and -race) to reproduce remotedialer#254")
	}
	srv := newRDServer(t, map[string]string{"tok-a": "c-a"})
	target := newTarget(t)
	a := startAgent(t, "c-a", AgentOptions{ServerURL: srv.URL(), Token: "tok-a", Params: ClusterParams{Address: target.Listener.Addr().String()},
		Dialer: NewWebsocketDialer(srv.pool(), 5*time.Second)})
	eventually(t, 5*time.Second, "connected", a.connected)
	c := srv.httpVia("c-a", targetPool(target))
	for range 100 {
		resp, err := c.Get("https://" + target.Listener.Addr().String() + "/version")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
