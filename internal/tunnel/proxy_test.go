package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/remotedialer"
)

// proxyStub is a stand-in cluster API on in-memory TLS connections behind a cluster's main
// tunnel: it answers every request with who it is and what it received, streams a watch
// whose events the test releases one by one, and answers the endpoint's health checks.
type proxyStub struct {
	name  string
	token string
	l     *epPipeListener

	mu   sync.Mutex
	seen []proxySeen

	events chan string // watch events to send; closed ends the watch
}

// proxySeen is one request as the cluster API received it.
type proxySeen struct {
	Method, Path, RawQuery, Host, Auth, Test, Body string
}

func newProxyStub(t *testing.T, env *epEnv, name string) *proxyStub {
	t.Helper()
	cert, err := env.auth.ServingCert("10.43.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s := &proxyStub{name: name, token: "sa-token-" + name, events: make(chan string)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/readyz":
			_, _ = w.Write([]byte("ok"))
			return
		case "/version":
			_, _ = w.Write([]byte(`{"major":"1","minor":"36","gitVersion":"v1.36.3"}`))
			return
		case "/api/v1/nodes":
			_, _ = w.Write([]byte(`{"kind":"NodeList","apiVersion":"v1","items":[{"metadata":{"name":"n"}}]}`))
			return
		}
		seen := proxySeen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Get("Authorization"), r.Header.Get("X-Test"), string(body)}
		s.mu.Lock()
		s.seen = append(s.seen, seen)
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+s.token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") == "true" {
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
			for {
				select {
				case ev, ok := <-s.events:
					if !ok {
						return
					}
					fmt.Fprintf(w, `{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":%q,"namespace":%q}}}`+"\n", ev, s.name)
					http.NewResponseController(w).Flush()
				case <-r.Context().Done():
					return
				}
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"cluster": s.name, "seen": seen})
	})
	s.l = epServePipes(env.cleanup, h, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	return s
}

func (s *proxyStub) dialer() remotedialer.Dialer {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != epFakeAddress {
			return nil, fmt.Errorf("dial %s refused", addr)
		}
		return s.l.dial(ctx, network, addr)
	}
}

func (s *proxyStub) last() proxySeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return proxySeen{}
	}
	return s.seen[len(s.seen)-1]
}

func (s *proxyStub) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// proxyCluster registers and connects a stub cluster (both tunnels), all clusters
// advertising the same in-cluster address as real agents do.
func proxyCluster(t *testing.T, env *epEnv, name string) *proxyStub {
	s := newProxyStub(t, env, name)
	p := ClusterParams{Address: epFakeAddress, Token: s.token, CACert: base64.StdEncoding.EncodeToString(env.auth.CertPEM)}
	epConnectAgent(t, env, name, p, s.dialer())
	return s
}

// TestClusterProxy: requests through cluster a's proxy reach cluster a only, whatever the
// request names, with a's token in place of the client's; GET, POST and a watch stream.
func TestClusterProxy(t *testing.T) {
	env := epStart(t, nil)
	a := proxyCluster(t, env, "a")
	b := proxyCluster(t, env, "b")
	h, err := env.e.ClusterProxy("a")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	client := srv.Client()
	client.Timeout = 10 * time.Second

	tests := []struct {
		name     string
		method   string
		target   string // request target, as sent on the wire
		host     string // Host header; "" is the proxy's
		body     string
		wantPath string
		wantQ    string
	}{
		{name: "GET with query", method: "GET", target: "/api/v1/namespaces/default/configmaps?labelSelector=a%3Db&limit=1",
			wantPath: "/api/v1/namespaces/default/configmaps", wantQ: "labelSelector=a%3Db&limit=1"},
		{name: "POST body", method: "POST", target: "/api/v1/namespaces/default/configmaps", body: `{"kind":"ConfigMap"}`,
			wantPath: "/api/v1/namespaces/default/configmaps"},
		{name: "foreign Host header", method: "GET", target: "/version/x", host: "10.43.0.2:443", wantPath: "/version/x"},
		{name: "absolute-form target", method: "GET", target: "http://b.example:443/api/v1/namespaces", wantPath: "/api/v1/namespaces"},
		{name: "double slash", method: "GET", target: "//10.43.0.2/api", wantPath: "//10.43.0.2/api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bCount := b.count()
			resp := proxyRawRequest(t, srv.Listener.Addr().String(), tt.method, tt.target, tt.host, tt.body)
			if resp.code != http.StatusOK {
				t.Fatalf("status %d: %s", resp.code, resp.body)
			}
			var got struct {
				Cluster string
				Seen    proxySeen
			}
			if err := json.Unmarshal([]byte(resp.body), &got); err != nil {
				t.Fatalf("%v: %s", err, resp.body)
			}
			want := proxySeen{Method: tt.method, Path: tt.wantPath, RawQuery: tt.wantQ, Host: epFakeAddress,
				Auth: "Bearer " + a.token, Test: "kept", Body: tt.body}
			if got.Cluster != "a" || got.Seen != want {
				t.Errorf("cluster %s saw %+v\nwant %+v", got.Cluster, got.Seen, want)
			}
			if b.count() != bCount {
				t.Errorf("cluster b received a request")
			}
		})
	}

	t.Run("watch streams", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/configmaps?watch=true", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		for _, name := range []string{"one", "two"} {
			// The proxy must deliver each event while the response is still open.
			go func() { a.events <- name }()
			line, err := proxyReadLine(br, 5*time.Second)
			if err != nil {
				t.Fatalf("event %s: %v", name, err)
			}
			if !strings.Contains(line, `"name":"`+name+`"`) || !strings.Contains(line, `"namespace":"a"`) {
				t.Errorf("event %s: %s", name, line)
			}
		}
		cancel()
	})

	t.Run("CONNECT refused", func(t *testing.T) {
		resp := proxyRawRequest(t, srv.Listener.Addr().String(), "CONNECT", "10.43.0.1:443", "10.43.0.1:443", "")
		if resp.code != http.StatusMethodNotAllowed {
			t.Errorf("CONNECT: %d %s", resp.code, resp.body)
		}
	})
}

// TestClusterProxyUnavailable: no proxy for a cluster that is unknown or has no main tunnel
// yet; a proxy whose tunnel went away answers 502 with a Status.
func TestClusterProxyUnavailable(t *testing.T) {
	env := epStart(t, nil)
	if _, err := env.e.ClusterProxy("nope"); err == nil {
		t.Error("proxy for an unregistered cluster")
	}
	env.e.Register("idle")
	if _, err := env.e.ClusterProxy("idle"); err == nil {
		t.Error("proxy for a cluster that never connected")
	}

	s := newProxyStub(t, env, "c")
	tok := env.e.Register("c")
	main := epConnectMain(t, env, tok, ClusterParams{Address: epFakeAddress, Token: s.token, CACert: base64.StdEncoding.EncodeToString(env.auth.CertPEM)}, s.dialer())
	main.waitUp(t)
	h, err := env.e.ClusterProxy("c")
	if err != nil {
		t.Fatal(err)
	}
	epQuiesce(t, env.e, "c")
	main.drop()
	epWait(t, 5*time.Second, "main tunnel gone", func() bool { return !epState(t, env.e, "c").MainConnected })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/namespaces", nil))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), `"kind":"Status"`) {
		t.Errorf("without a tunnel: %d %s", rec.Code, rec.Body.String())
	}
}

type proxyResponse struct {
	code int
	body string
}

// proxyRawRequest sends one request with exactly the given target and Host, and a client
// Authorization and X-Test header, on a fresh connection.
func proxyRawRequest(t *testing.T, addr, method, target, host, body string) proxyResponse {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if host == "" {
		host = addr
	}
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer client-token\r\nX-Test: kept\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		method, target, host, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return proxyResponse{resp.StatusCode, string(b)}
}

func proxyReadLine(br *bufio.Reader, timeout time.Duration) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := br.ReadString('\n')
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(timeout):
		return "", fmt.Errorf("nothing within %v", timeout)
	}
}
