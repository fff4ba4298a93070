package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rancher/remotedialer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher/scale-cluster-agent/internal/pki"
)

// epFakeAddress is what the fake cluster advertises, as a real agent advertises the
// in-cluster service address: nothing listens there, the agent's dialer routes it.
const epFakeAddress = "10.43.0.1:443"

// epFakeAPI is a minimal cluster API on in-memory TLS connections: /readyz (which can be
// made to fail), /version, /api/v1/nodes and a 404 for kube-system. It counts requests
// and insists on the params' bearer token.
type epFakeAPI struct {
	token                                   string
	failReadyz                              atomic.Bool
	readyz, readyzFailed, kubeSystem, lists atomic.Int64
	l                                       *epPipeListener
	handler                                 http.Handler
	tls                                     *tls.Config
}

func epNewFakeAPI(t testing.TB, auth *pki.Authority, cleanup func(func()), nodes int) *epFakeAPI {
	cert, err := auth.ServingCert("10.43.0.1")
	if err != nil {
		t.Fatal(err)
	}
	f := &epFakeAPI{token: "fake-sa-token"}
	list := corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}}
	for i := range nodes {
		list.Items = append(list.Items, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i)}})
	}
	nodesJSON, _ := json.Marshal(list)
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, code int, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(body)
	}
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		f.readyz.Add(1)
		if f.failReadyz.Load() {
			f.readyzFailed.Add(1)
			http.Error(w, "[-]etcd failed: reason withheld\nreadyz check failed", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []byte(`{"major":"1","minor":"36","gitVersion":"v1.36.3","gitCommit":"x","gitTreeState":"clean","buildDate":"2026-01-01T00:00:00Z","goVersion":"go1.26","compiler":"gc","platform":"linux/amd64"}`))
	})
	mux.HandleFunc("/api/v1/nodes", func(w http.ResponseWriter, r *http.Request) {
		f.lists.Add(1)
		writeJSON(w, 200, nodesJSON)
	})
	mux.HandleFunc("/api/v1/namespaces/kube-system", func(w http.ResponseWriter, r *http.Request) {
		f.kubeSystem.Add(1)
		writeJSON(w, 404, []byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces \"kube-system\" not found","reason":"NotFound","details":{"name":"kube-system","kind":"namespaces"},"code":404}`))
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
	f.handler = h
	f.tls = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	f.l = epServePipes(cleanup, h, f.tls)
	return f
}

// dialer is the agent's local dialer for the main tunnel: the advertised address only.
func (f *epFakeAPI) dialer() remotedialer.Dialer {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != epFakeAddress {
			return nil, fmt.Errorf("dial %s refused", addr)
		}
		return f.l.dial(ctx, network, addr)
	}
}

func (f *epFakeAPI) params(caPEM []byte) ClusterParams {
	return ClusterParams{Address: epFakeAddress, Token: f.token, CACert: base64.StdEncoding.EncodeToString(caPEM)}
}

// TestHealthReadyzRetries: a failing /readyz keeps Ready until the third try in a row,
// tries are HealthRetryInterval apart, Connected stays true, and the cluster recovers.
func TestHealthReadyzRetries(t *testing.T) {
	env := epStart(t, func(o *EndpointOptions) {
		o.HealthInterval = 300 * time.Millisecond
		o.HealthRetryInterval = 100 * time.Millisecond
	})
	f := epNewFakeAPI(t, env.auth, env.cleanup, 3)
	epConnectAgent(t, env, "r", f.params(env.auth.CertPEM), f.dialer())
	epWait(t, 10*time.Second, "ready", func() bool { return epState(t, env.e, "r").Ready })
	s := epState(t, env.e, "r")
	if s.Version != "v1.36.3" || s.Nodes != 3 {
		t.Errorf("version %q nodes %d", s.Version, s.Nodes)
	}
	if f.readyz.Load() == 0 || f.kubeSystem.Load() != 0 {
		t.Errorf("readyz %d, kube-system %d: want the /readyz check only", f.readyz.Load(), f.kubeSystem.Load())
	}

	f.failReadyz.Store(true)
	sawReadyAfterFailure := false
	epWait(t, 10*time.Second, "not ready", func() bool {
		s := epState(t, env.e, "r")
		if s.Ready && f.readyzFailed.Load() >= 1 && strings.Contains(s.LastError, "readyz") {
			sawReadyAfterFailure = true
		}
		return !s.Ready
	})
	if n := f.readyzFailed.Load(); n < 3 {
		t.Errorf("not ready after %d failed /readyz tries, want 3", n)
	}
	if !sawReadyAfterFailure {
		t.Error("Ready turned false at the first failed try")
	}
	s = epState(t, env.e, "r")
	if !s.Connected || s.State != "unavailable" || !strings.Contains(s.LastError, "/readyz") {
		t.Errorf("state with failing /readyz: %+v", s)
	}

	f.failReadyz.Store(false)
	epWait(t, 10*time.Second, "ready again", func() bool { return epState(t, env.e, "r").Ready })
	if s := epState(t, env.e, "r"); s.State != "ready" || s.LastError != "" {
		t.Errorf("recovered state: %+v", s)
	}
}

// TestHealthLegacyCheck: with ReadyzCheck false the check is GET
// /api/v1/namespaces/kube-system, where 404 passes.
func TestHealthLegacyCheck(t *testing.T) {
	env := epStart(t, func(o *EndpointOptions) { o.ReadyzCheck = false })
	f := epNewFakeAPI(t, env.auth, env.cleanup, 1)
	epConnectAgent(t, env, "legacy", f.params(env.auth.CertPEM), f.dialer())
	epWait(t, 10*time.Second, "ready", func() bool { return epState(t, env.e, "legacy").Ready })
	if f.kubeSystem.Load() == 0 || f.readyz.Load() != 0 {
		t.Errorf("kube-system %d, readyz %d: want the legacy check only", f.kubeSystem.Load(), f.readyz.Load())
	}
}

// TestHealthMainTunnelLost: with only the steve tunnel up the cluster stays Connected but
// turns not ready after the retries.
func TestHealthMainTunnelLost(t *testing.T) {
	env := epStart(t, func(o *EndpointOptions) {
		o.HealthInterval = 300 * time.Millisecond
		o.HealthRetryInterval = 50 * time.Millisecond
	})
	f := epNewFakeAPI(t, env.auth, env.cleanup, 1)
	a := epConnectAgent(t, env, "m", f.params(env.auth.CertPEM), f.dialer())
	epWait(t, 10*time.Second, "ready", func() bool { return epState(t, env.e, "m").Ready })
	epQuiesce(t, env.e, "m")
	a.main.drop()
	epWait(t, 10*time.Second, "not ready", func() bool { return !epState(t, env.e, "m").Ready })
	s := epState(t, env.e, "m")
	if !s.Connected || s.MainConnected || !strings.Contains(s.LastError, "main tunnel") {
		t.Errorf("state without main tunnel: %+v", s)
	}
	if _, err := env.e.Dialer("m")(context.Background(), "tcp", epFakeAddress); err == nil {
		t.Error("Dialer without a main session should fail")
	}
}

// TestHealthSpread: the first checks of clusters registered at once spread over the
// interval, and every cluster keeps being checked.
func TestHealthSpread(t *testing.T) {
	const n, interval = 200, time.Second
	env := epStart(t, func(o *EndpointOptions) { o.HealthInterval = interval })
	start := time.Now()
	for i := range n {
		env.e.Register(fmt.Sprintf("c%03d", i))
	}
	var first []time.Time
	epWait(t, 3*interval, "every cluster checked", func() bool {
		first = first[:0]
		for _, s := range env.e.States() {
			if s.LastCheck == nil {
				return false
			}
			first = append(first, *s.LastCheck)
		}
		return true
	})
	lo, hi := first[0], first[0]
	for _, ts := range first {
		if ts.Before(lo) {
			lo = ts
		}
		if ts.After(hi) {
			hi = ts
		}
	}
	if spread := hi.Sub(lo); spread < interval/2 {
		t.Errorf("first checks of %d clusters spread over %v only (interval %v)", n, spread, interval)
	}
	for name, s := range env.e.States() {
		if s.State != "pending" || s.Connected || !strings.Contains(s.LastError, "not connected") {
			t.Fatalf("%s: %+v", name, s)
		}
	}
	// A second round comes about one interval later for each.
	time.Sleep(interval + interval/2)
	for name, s := range env.e.States() {
		if !s.LastCheck.After(start.Add(interval)) {
			t.Fatalf("%s not checked again: last check %v after start", name, s.LastCheck.Sub(start))
		}
	}
}

// TestEndpointCost measures what the endpoint costs per connected, ready cluster. The agents
// run in a child process (this test binary, TestEndpointCostAgents), so that only the
// endpoint's goroutines and memory are in this process. Opt-in: EP_COST_CLUSTERS=200.
func TestEndpointCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("EP_COST_CLUSTERS"))
	if n <= 0 {
		t.Skip("set EP_COST_CLUSTERS=<n> to measure the endpoint's cost per cluster")
	}
	if os.Getenv("EP_COST_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	env := epStart(t, nil) // Rancher's 15 s interval
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, env.auth.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	before := epMeasure()
	var tokens strings.Builder
	for i := range n {
		name := fmt.Sprintf("cost-%04d", i)
		fmt.Fprintf(&tokens, "%s %s\n", name, env.e.Register(name))
	}
	registered := epMeasure()
	tokFile := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokFile, []byte(tokens.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEndpointCostAgents$", "-test.v")
	cmd.Env = append(os.Environ(), // EP_COST_REAL_AGENT=1 passes through: the agent side's Agent
		"EP_COST_AGENTS_URL="+env.e.URL(), "EP_COST_AGENTS_CA="+caFile,
		"EP_COST_AGENTS_TOKENS="+tokFile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	defer func() {
		_ = stdin.Close()
		<-exited
	}()
	t0 := time.Now()
	epWait(t, 2*time.Minute, "every cluster ready", func() bool {
		select {
		case <-exited:
			t.Fatal("the agents' process exited")
		default:
		}
		for _, s := range env.e.States() {
			if !s.Ready {
				return false
			}
		}
		return true
	})
	t.Logf("%d clusters ready %v after the agents started", n, time.Since(t0).Round(time.Millisecond))
	if path := os.Getenv("EP_COST_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer func() {
				pprof.StopCPUProfile()
				_ = f.Close()
			}()
		}
	}
	cpu0, wall0 := epCPU(), time.Now()
	// Two full health rounds at Rancher's interval, then the steady state.
	time.Sleep(31 * time.Second)
	cpu := epCPU() - cpu0
	wall := time.Since(wall0)
	ready := epMeasure()
	if path := os.Getenv("EP_COST_HEAPPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	for _, s := range env.e.States() {
		if !s.Ready {
			t.Errorf("a cluster is not ready after two rounds: %+v", s)
			break
		}
	}
	per := func(a, b int64) float64 { return float64(a-b) / float64(n) }
	t.Logf("registered, per cluster: heap %.0f B, goroutines %.2f",
		per(registered.heap, before.heap), per(registered.goroutines, before.goroutines))
	t.Logf("connected and ready (2 sessions), per cluster: heap %.1f KiB, stacks %.1f KiB, goroutines %.2f, RSS %.1f KiB",
		per(ready.heap, before.heap)/1024, per(ready.stack, before.stack)/1024, per(ready.goroutines, before.goroutines), per(ready.rss, before.rss)/1024)
	t.Logf("CPU over %v (%.1f health checks per cluster): %.1f ms/s in total, %.1f µs per cluster per second",
		wall.Round(time.Second), wall.Seconds()/15, float64(cpu.Milliseconds())/wall.Seconds(),
		float64(cpu.Microseconds())/wall.Seconds()/float64(n))
}

type epUsage struct{ heap, stack, goroutines, rss int64 }

// epMeasure collects garbage and returns freed memory to the OS first, as the fleet's memory
// trimming does, so that RSS shows what is kept rather than what was churned.
func epMeasure() epUsage {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u := epUsage{heap: int64(ms.HeapAlloc), stack: int64(ms.StackInuse), goroutines: int64(runtime.NumGoroutine())}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				u.rss = kb * 1024
			}
		}
	}
	return u
}

func epCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestEndpointCostAgents is TestEndpointCost's child process: one fake agent (two
// tunnels) per cluster, all sharing one fake API, until its stdin closes.
func TestEndpointCostAgents(t *testing.T) {
	url := os.Getenv("EP_COST_AGENTS_URL")
	if url == "" {
		t.Skip("child process of TestEndpointCost")
	}
	caPEM, err := os.ReadFile(os.Getenv("EP_COST_AGENTS_CA"))
	if err != nil {
		t.Fatal(err)
	}
	// The clusters' own CA, as the params report it; the endpoint's CA is only for wss.
	auth, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	f := epNewFakeAPI(t, auth, t.Cleanup, 3)
	tokens, err := os.ReadFile(os.Getenv("EP_COST_AGENTS_TOKENS"))
	if err != nil {
		t.Fatal(err)
	}
	steve := remotedialer.Dialer(epSteveDialer)
	wss := strings.Replace(url, "https://", "wss://", 1)
	real := os.Getenv("EP_COST_REAL_AGENT") != ""
	var params ClusterParams
	var wsDialer *websocket.Dialer
	if real {
		// The real agent dials the cluster API over TCP: one listener for all of them.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: f.handler, TLSConfig: f.tls}
		go func() { _ = srv.ServeTLS(ln, "", "") }()
		t.Cleanup(func() { _ = srv.Close() })
		params = ClusterParams{Address: ln.Addr().String(), Token: f.token, CACert: base64.StdEncoding.EncodeToString(auth.CertPEM)}
		wsDialer = NewWebsocketDialer(pool, 10*time.Second)
	}
	ctx, stop := context.WithCancel(context.Background())
	var agents sync.WaitGroup
	t.Cleanup(func() {
		stop()
		agents.Wait()
	})
	sc := bufio.NewScanner(strings.NewReader(string(tokens)))
	count := 0
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		name, token := parts[0], parts[1]
		if real {
			a := NewAgent(name, AgentOptions{ServerURL: url, Token: token, Params: params, Dialer: wsDialer, Log: epQuietLog()})
			agents.Add(1)
			go func() {
				defer agents.Done()
				a.Run(ctx)
			}()
		} else {
			t.Cleanup(epDialTunnelURL(t, pool, wss+"/v3/connect/register", epMainHeaders(token, f.params(auth.CertPEM)), f.dialer()).drop)
			t.Cleanup(epDialTunnelURL(t, pool, wss+"/v3/connect", epSteveHeaders(token), steve).drop)
		}
		count++
		if count%50 == 0 {
			time.Sleep(50 * time.Millisecond) // paced like the agents' connect rate
		}
	}
	t.Logf("%d agents connecting", count)
	_, _ = bufio.NewReader(os.Stdin).ReadByte() // until the parent closes stdin
}
