package rancher

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestWaitForRegistrationToken(t *testing.T) {
	tests := []struct {
		name           string
		tokenDelay     int // reads that show the token empty
		noDefaultToken bool
		createAfter    time.Duration
		timeout        time.Duration
		wantErr        error
		wantMinPolls   int
		wantPosts      int
	}{
		{name: "filled at once", wantMinPolls: 1},
		{name: "slow fill-in: empty for the first 4 polls", tokenDelay: 4, wantMinPolls: 5},
		{name: "never filled: ends with ctx", tokenDelay: 1 << 30, timeout: 50 * time.Millisecond, wantErr: context.DeadlineExceeded},
		{name: "no token at all, none created", noDefaultToken: true, timeout: 50 * time.Millisecond, wantErr: context.DeadlineExceeded},
		{name: "no token at all: created once after CreateAfter", noDefaultToken: true, tokenDelay: 2, createAfter: 10 * time.Millisecond, wantMinPolls: 3, wantPosts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t)
			s.set(func(s *standIn) { s.tokenDelay, s.noDefaultToken = tt.tokenDelay, tt.noDefaultToken })
			c := s.client(TokenAuth(s.apiToken))
			ctx := context.Background()
			cl, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0001"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			tok, err := c.WaitForRegistrationToken(ctx, cl.ID, TokenWaitOptions{Interval: time.Millisecond, CreateAfter: tt.createAfter})
			if posts := s.hitCount("POST /v3/clusterregistrationtokens"); posts != tt.wantPosts {
				t.Errorf("%d tokens created, want %d", posts, tt.wantPosts)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, %v; want %v", tok, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if polls := s.hitCount("GET /v3/clusterregistrationtokens"); polls < tt.wantMinPolls {
				t.Errorf("%d polls, want at least %d", polls, tt.wantMinPolls)
			}
			if len(tok.Token) != 54 || tok.ClusterID != cl.ID || !strings.Contains(tok.ManifestURL, tok.Token+"_"+cl.ID+".yaml") ||
				tok.Command != "kubectl apply -f "+tok.ManifestURL || !strings.HasPrefix(tok.TokenSecretName, "crt-token-") {
				t.Errorf("token %#v", tok)
			}
			if got := tok.ExpiresAt.Sub(tok.Created.Time); got != 30*24*time.Hour {
				t.Errorf("expires %v after creation", got)
			}
		})
	}
}

func TestRegistrationTokenBeforeFillIn(t *testing.T) {
	s := newStandIn(t)
	s.set(func(s *standIn) { s.tokenDelay = 1 })
	c := s.client(TokenAuth(s.apiToken))
	ctx := context.Background()
	cl, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0001"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.RegistrationToken(ctx, cl.ID)
	if err != nil || tok.Token != "" || tok.Name != DefaultTokenName {
		t.Fatalf("first read: %#v, %v; want default-token, still empty", tok, err)
	}
	tok, err = c.RegistrationToken(ctx, cl.ID)
	if err != nil || tok.Token == "" {
		t.Fatalf("second read: %#v, %v", tok, err)
	}
	if _, err := c.RegistrationToken(ctx, "c-nothere"); !IsNotFound(err) {
		t.Fatalf("cluster without tokens: %v, want not found", err)
	}
}

func TestRotatedToken(t *testing.T) {
	s := newStandIn(t)
	c := s.client(TokenAuth(s.apiToken))
	ctx := context.Background()
	cl, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0001"})
	if err != nil {
		t.Fatal(err)
	}
	old, err := c.WaitForRegistrationToken(ctx, cl.ID, TokenWaitOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Rancher rejected the old token; the new one is not there yet: wait for it.
	done := make(chan *RegistrationToken)
	go func() {
		tok, err := c.WaitForRegistrationToken(ctx, cl.ID, TokenWaitOptions{Interval: 2 * time.Millisecond, Replacing: old.Token})
		if err != nil {
			t.Error(err)
		}
		done <- tok
	}()
	time.Sleep(20 * time.Millisecond)
	select {
	case tok := <-done:
		t.Fatalf("returned %v before the rotation", tok)
	default:
	}
	rotated := s.rotate(cl.ID)
	tok := <-done
	if tok == nil || tok.Token != rotated || tok.Token == old.Token {
		t.Fatalf("after rotation: %v", tok)
	}
	if !strings.Contains(tok.ManifestURL, rotated) {
		t.Errorf("manifest URL %q does not carry the new token", tok.ManifestURL)
	}
	// A plain read shows the current token too: nothing is cached.
	again, err := c.RegistrationToken(ctx, cl.ID)
	if err != nil || again.Token != rotated {
		t.Fatalf("re-read: %v, %v", again, err)
	}
}

func TestPickToken(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 22, 29, 28, 0, time.UTC)
	tok := func(name, secret string, age time.Duration) RegistrationToken {
		return RegistrationToken{Name: name, Token: secret, Created: Time{t0.Add(-age)}}
	}
	tests := []struct {
		name string
		in   []RegistrationToken
		want string // name
	}{
		{"none", nil, ""},
		{"default-token", []RegistrationToken{tok("crt-1", "a", 0), tok(DefaultTokenName, "b", time.Hour)}, DefaultTokenName},
		{"a filled token beats an empty default-token", []RegistrationToken{tok(DefaultTokenName, "", 0), tok("crt-1", "a", time.Hour)}, "crt-1"},
		{"newest of the others", []RegistrationToken{tok("crt-old", "a", time.Hour), tok("crt-new", "b", 0)}, "crt-new"},
		{"empty default-token beats empty others", []RegistrationToken{tok("crt-1", "", 0), tok(DefaultTokenName, "", time.Hour)}, DefaultTokenName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pickToken(tt.in)
			if (got == nil) != (tt.want == "") || got != nil && got.Name != tt.want {
				t.Fatalf("picked %v, want %q", got, tt.want)
			}
		})
	}
}

func TestTokenWaitSurvivesAnOutage(t *testing.T) {
	s := newStandIn(t)
	c := s.client(TokenAuth(s.apiToken))
	ctx := context.Background()
	cl, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0001"})
	if err != nil {
		t.Fatal(err)
	}
	// More 503s than one call's attempts: the wait polls on instead of failing.
	s.inject(&fault{method: http.MethodGet, prefix: "/v3/clusterregistrationtokens", status: 503, times: 12})
	tok, err := c.WaitForRegistrationToken(ctx, cl.ID, TokenWaitOptions{Interval: time.Millisecond})
	if err != nil || tok.Token == "" {
		t.Fatalf("got %v, %v", tok, err)
	}
	// A 403 ends it.
	c2 := s.client(TokenAuth(s.forbiddenToken))
	if _, err := c2.WaitForRegistrationToken(ctx, cl.ID, TokenWaitOptions{Interval: time.Millisecond}); !IsForbidden(err) {
		t.Fatalf("got %v, want 403", err)
	}
}
