package rancher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func TestNewValidatesConfig(t *testing.T) {
	tok := TokenAuth("token-abcde:secret")
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" = no error
	}{
		{"ok", Config{URL: "https://rancher.example.com/", Credentials: tok}, ""},
		{"path prefix kept", Config{URL: "https://example.com/rancher", Credentials: tok}, ""},
		{"no url", Config{Credentials: tok}, "no URL"},
		{"bad scheme", Config{URL: "ftp://example.com", Credentials: tok}, "scheme"},
		{"no host", Config{URL: "https://", Credentials: tok}, "no host"},
		{"credentials in url", Config{URL: "https://admin:hunter2@example.com", Credentials: tok}, "not the URL"},
		{"no credentials", Config{URL: "https://example.com"}, "no credentials"},
		{"no password", Config{URL: "https://example.com", Credentials: LoginAuth("admin", "")}, "no password"},
		{"negative qps", Config{URL: "https://example.com", Credentials: tok, QPS: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("New: got %v, want an error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error leaks the password: %v", err)
			}
			if c != nil && strings.HasSuffix(c.URL(), "/") {
				t.Errorf("URL() = %q keeps a trailing slash", c.URL())
			}
		})
	}
}

func TestCredentialsNeverPrinted(t *testing.T) {
	const tokSecret = "qwertyuiopasdfghjklzxcvbnm1234567890qwertyuiopasdfgh"
	const pw = "correct horse battery staple"
	tests := []struct {
		name   string
		creds  Credentials
		secret string
		shows  string // what String should show instead
	}{
		{"api token", TokenAuth("token-abcde:" + tokSecret), tokSecret, "token-abcde:REDACTED"},
		{"token without key", TokenAuth(tokSecret), tokSecret, "token(REDACTED)"},
		{"ext token", TokenAuth("ext/tok-1:" + tokSecret), tokSecret, "ext/tok-1:REDACTED"},
		{"login", LoginAuth("admin", pw), pw, "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{URL: "https://example.com", Credentials: tt.creds}
			js, _ := json.Marshal(cfg)
			var logged bytes.Buffer
			l := logrus.New()
			l.SetOutput(&logged)
			l.WithField("creds", tt.creds).WithField("config", cfg).Info("x")
			outputs := map[string]string{
				"%v":      fmt.Sprintf("%v", tt.creds),
				"%+v":     fmt.Sprintf("%+v", tt.creds),
				"%#v":     fmt.Sprintf("%#v", tt.creds),
				"%s":      fmt.Sprintf("%s", tt.creds),
				"%q":      fmt.Sprintf("%q", tt.creds),
				"cfg %+v": fmt.Sprintf("%+v", cfg),
				"cfg %#v": fmt.Sprintf("%#v", cfg),
				"json":    string(js),
				"logrus":  logged.String(),
			}
			for verb, out := range outputs {
				if strings.Contains(out, tt.secret) {
					t.Errorf("%s prints the secret: %s", verb, out)
				}
			}
			if !strings.Contains(tt.creds.String(), tt.shows) {
				t.Errorf("String() = %q, want it to show %q", tt.creds.String(), tt.shows)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	s := newStandIn(t)
	tests := []struct {
		name      string
		creds     Credentials
		check     func(error) bool
		wantHits  int    // GET /v3/clusters/local requests
		wantInErr string // Rancher's words, quoted
	}{
		{"api token", TokenAuth(s.apiToken), nil, 1, ""},
		{"login", LoginAuth("admin", s.users["admin"]), nil, 1, ""},
		{"unknown token: 401, not retried", TokenAuth("token-nope:" + strings.Repeat("x", 54)), IsUnauthorized, 1, `"must authenticate"`},
		{"forbidden: 403, not retried", TokenAuth(s.forbiddenToken), IsForbidden, 1, "PermissionDenied"},
		{"wrong password", LoginAuth("admin", "wrong-password-123"), IsUnauthorized, 0, `"authentication failed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.hitCount("GET /v3/clusters/local")
			c := s.client(tt.creds)
			_, err := c.GetCluster(context.Background(), "local")
			if got := s.hitCount("GET /v3/clusters/local") - before; got != tt.wantHits {
				t.Errorf("%d requests, want %d", got, tt.wantHits)
			}
			if tt.check == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !tt.check(err) {
				t.Fatalf("got %v, want the typed error", err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not quote %s", err, tt.wantInErr)
			}
			if strings.Contains(err.Error(), "wrong-password-123") || strings.Contains(err.Error(), strings.Repeat("x", 54)) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestLoginIsSharedRenewedAndLoggedOut(t *testing.T) {
	s := newStandIn(t)
	c := s.client(LoginAuth("admin", s.users["admin"]))
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetCluster(ctx, "local"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	logins := func() int { s.mu.Lock(); defer s.mu.Unlock(); return s.logins }
	if logins() != 1 {
		t.Fatalf("%d logins for 50 concurrent calls, want 1", logins())
	}
	s.expireLogins()
	if _, err := c.GetCluster(ctx, "local"); err != nil {
		t.Fatalf("after the login token expired: %v", err)
	}
	if logins() != 2 {
		t.Fatalf("%d logins, want a second one after the 401", logins())
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logouts != 1 || len(s.loginTokens) != 0 {
		t.Fatalf("logout: %d logouts, %d tokens left", s.logouts, len(s.loginTokens))
	}
}

func TestRetries(t *testing.T) {
	const path = "/v3/clusters/local"
	tests := []struct {
		name     string
		fault    fault
		policy   RetryPolicy
		wantErr  func(error) bool
		wantHits int
		minTime  time.Duration
		inErr    string
	}{
		{name: "500 twice then success", fault: fault{status: 500, times: 2, body: `{"type":"error","status":500,"code":"ServerError","message":"etcdserver: request timed out"}`}, wantHits: 3},
		{name: "503 with Retry-After", fault: fault{status: 503, times: 1, retryAfter: "1"}, wantHits: 2, minTime: time.Second},
		{name: "429 then success", fault: fault{status: 429, times: 1}, wantHits: 2},
		{name: "connection dropped then success", fault: fault{drop: true, times: 2}, wantHits: 3},
		{name: "502 until the attempts run out", fault: fault{status: 502, times: 100, body: "<html>Bad Gateway</html>", contentType: "text/html"},
			wantErr: func(err error) bool { return StatusCode(err) == 502 }, wantHits: 5, inErr: "after 5 attempts"},
		{name: "Retry-After beyond the bound ends the call", fault: fault{status: 503, times: 100, retryAfter: "3600"},
			wantErr: func(err error) bool { return StatusCode(err) == 503 }, wantHits: 1},
		{name: "404 is not retried", fault: fault{status: 404, times: 100, body: `{"type":"error","status":404,"code":"NotFound","message":"clusters.management.cattle.io \"local\" not found"}`},
			wantErr: IsNotFound, wantHits: 1, inErr: `rancher says "clusters.management.cattle.io \"local\" not found"`},
		{name: "Attempts 1 disables retries", fault: fault{status: 500, times: 100}, policy: RetryPolicy{Attempts: 1},
			wantErr: func(err error) bool { return StatusCode(err) == 500 }, wantHits: 1},
		{name: "HTML answer to an API call is not retried", fault: fault{status: 200, times: 100, body: "<html>login</html>", contentType: "text/html"},
			wantErr: func(err error) bool { return strings.Contains(err.Error(), "not JSON") }, wantHits: 1},
		{name: "redirect is not followed", fault: fault{status: 302, times: 100, location: "/dashboard/auth/login"},
			wantErr: func(err error) bool { return StatusCode(err) == 302 }, wantHits: 1, inErr: "/dashboard/auth/login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t)
			f := tt.fault
			f.method, f.prefix = http.MethodGet, path
			s.inject(&f)
			cfg := s.config(TokenAuth(s.apiToken))
			if tt.policy.Attempts != 0 {
				cfg.Retry.Attempts = tt.policy.Attempts
			}
			cfg.Retry.MaxRetryAfter = 5 * time.Second
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			cl, err := c.GetCluster(context.Background(), "local")
			elapsed := time.Since(start)
			if got := s.hitCount("GET " + path); got != tt.wantHits {
				t.Errorf("%d requests, want %d", got, tt.wantHits)
			}
			if elapsed < tt.minTime {
				t.Errorf("took %v, want at least %v (Retry-After)", elapsed, tt.minTime)
			}
			if tt.wantErr == nil {
				if err != nil || cl.ID != "local" {
					t.Fatalf("got %v, %v", cl, err)
				}
				return
			}
			if err == nil || !tt.wantErr(err) {
				t.Fatalf("got error %v", err)
			}
			if !strings.Contains(err.Error(), tt.inErr) {
				t.Errorf("error %q does not contain %q", err, tt.inErr)
			}
		})
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	s := newStandIn(t)
	s.inject(&fault{method: http.MethodGet, prefix: "/v3/clusters/", status: 503, times: 1000})
	cfg := s.config(TokenAuth(s.apiToken))
	cfg.Retry = RetryPolicy{Attempts: 10, MinDelay: 10 * time.Second}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.GetCluster(ctx, "local")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("returned after %v, not at the cancel", d)
	}

	// With a deadline shorter than the next wait, give up at once with the real error.
	ctx, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	start = time.Now()
	_, err = c.GetCluster(ctx, "local")
	if StatusCode(err) != 503 || !strings.Contains(err.Error(), "no time left") {
		t.Fatalf("got %v, want the 503 and no time left", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("waited %v for a retry that could not happen", d)
	}
}

func TestUnverifiedCertificateIsNotRetried(t *testing.T) {
	s := newStandIn(t)
	cfg := s.config(TokenAuth(s.apiToken))
	cfg.CAPool = nil // the stand-in's certificate is self-signed
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetCluster(context.Background(), "local")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want a certificate error", err)
	}
	if strings.Contains(err.Error(), "attempts") {
		t.Errorf("a certificate error was retried: %v", err)
	}

	cfg.Insecure = true
	c, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCluster(context.Background(), "local"); err != nil {
		t.Fatalf("insecure: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	s := newStandIn(t)
	cfg := s.config(TokenAuth(s.apiToken))
	cfg.QPS, cfg.Burst = 20, 1
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetCluster(context.Background(), "local"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// 10 requests at 20/s with a burst of 1: the last leaves 450 ms after the first.
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("10 requests at 20 QPS took %v", d)
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	s := newStandIn(t)
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.DebugLevel)
	cfg := s.config(LoginAuth("admin", s.users["admin"]))
	cfg.Log = l
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.inject(&fault{method: http.MethodGet, prefix: "/v3/clusters/", status: 503, times: 2})
	if _, err := c.GetCluster(ctx, "local"); err != nil {
		t.Fatal(err)
	}
	s.expireLogins()
	cl, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0001"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.WaitForRegistrationToken(ctx, cl.ID, TokenWaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.WithField("token", tok).Info("registration token") // as a caller would
	secrets := []string{s.users["admin"], tok.Token}
	s.mu.Lock()
	for lt := range s.loginTokens {
		secrets = append(secrets, lt, strings.SplitN(lt, ":", 2)[1])
	}
	s.mu.Unlock()
	if !strings.Contains(buf.String(), "retrying") || !strings.Contains(buf.String(), "logging in again") {
		t.Fatalf("expected retry and re-login lines in the log:\n%s", buf.String())
	}
	for _, sec := range secrets {
		if strings.Contains(buf.String(), sec) {
			t.Fatalf("the log holds a secret:\n%s", buf.String())
		}
	}
}

func TestPathPrefixAndEscaping(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("marker") == "" && strings.HasSuffix(r.URL.Path, "/v3/clusters") {
			// A next link from a proxy that names another host and the prefix.
			fmt.Fprint(w, `{"data":[{"id":"c-1"}],"pagination":{"next":"https://elsewhere.invalid/rancher/v3/clusters?limit=1&marker=c-1"}}`)
			return
		}
		fmt.Fprint(w, `{"id":"x","data":[{"id":"c-2"}]}`)
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL + "/rancher/", Credentials: TokenAuth("token-a:b"), Insecure: true, Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.GetCluster(ctx, "odd/id?#"); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListClusters(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListClusters = %v, %v", all, err)
	}
	want := []string{
		"/rancher/v3/clusters/odd%2Fid%3F%23?",
		"/rancher/v3/clusters?limit=-1",
		"/rancher/v3/clusters?limit=1&marker=c-1",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
