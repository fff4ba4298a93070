package tunnel

import (
	"context"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// TestAgentTokenRotation: Rancher rotates the cluster's registration token and, its grace
// period over, the agent's tunnels drop; the agent is refused (400) with the old token,
// OnRejected re-reads the token through the API and both tunnels come back with it.
func TestAgentTokenRotation(t *testing.T) {
	env := epStart(t, func(o *EndpointOptions) { o.HealthInterval = time.Second })
	if err := env.e.ConfigureAPI(APIOptions{TokenDelay: -1}); err != nil {
		t.Fatal(err)
	}
	mc := epMockCluster(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	cl, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: mc.Name()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.WaitForRegistrationToken(ctx, cl.ID, rancher.TokenWaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var rejected []int
	a := NewAgent(mc.Name(), AgentOptions{
		ServerURL: env.e.URL(),
		Token:     tok.Token,
		Params:    ClusterParams{Address: mc.Address(), Token: mc.AdminToken(), CACert: base64.StdEncoding.EncodeToString(env.auth.CertPEM)},
		Dialer:    NewWebsocketDialer(env.pool, 5*time.Second),
		Backoff:   Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond, Jitter: 0.2, ResetAfter: time.Second},
		Log:       epQuietLog().WithField("cluster", mc.Name()),
		OnRejected: func(ctx context.Context, old string, code int) string {
			mu.Lock()
			rejected = append(rejected, code)
			mu.Unlock()
			got, err := c.WaitForRegistrationToken(ctx, cl.ID, rancher.TokenWaitOptions{Replacing: old})
			if err != nil {
				return ""
			}
			return got.Token
		},
	})
	runCtx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		a.Run(runCtx)
	}()
	defer func() {
		epQuiesce(t, env.e, mc.Name())
		stop()
		<-stopped
	}()
	epWait(t, 20*time.Second, "ready", func() bool { return epState(t, env.e, mc.Name()).Ready })

	epQuiesce(t, env.e, mc.Name())
	fresh, err := env.e.RotateRegistrationToken(cl.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	epWait(t, 20*time.Second, "tunnels back with the new token", func() bool {
		st := a.Status()
		return a.Token() == fresh && st.Main.State == StateConnected && st.Steve.State == StateConnected &&
			st.Main.Connects == 2 && st.Steve.Connects == 2
	})
	epWait(t, 20*time.Second, "ready again", func() bool { return epState(t, env.e, mc.Name()).Ready })
	mu.Lock()
	defer mu.Unlock()
	if len(rejected) == 0 || len(rejected) > 2 {
		t.Errorf("OnRejected called with %v; want once or twice (one per tunnel at most)", rejected)
	}
	for _, code := range rejected {
		if code != 400 && code != 401 {
			t.Errorf("rejected with %d", code)
		}
	}
}

// TestAgentRejectedKeepsToken: without a replacement the agent keeps its token and backs off.
func TestAgentRejectedKeepsToken(t *testing.T) {
	env := epStart(t, nil)
	var calls int
	var mu sync.Mutex
	a := NewAgent("nope", AgentOptions{
		ServerURL: env.e.URL(), Token: "unknown",
		Params:  ClusterParams{Address: "127.0.0.1:1", Token: "t", CACert: "Y2E="},
		Dialer:  NewWebsocketDialer(env.pool, 5*time.Second),
		Backoff: Backoff{Min: 20 * time.Millisecond, Max: 50 * time.Millisecond, ResetAfter: time.Second},
		Log:     epQuietLog(),
		OnRejected: func(context.Context, string, int) string {
			mu.Lock()
			calls++
			mu.Unlock()
			return ""
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	a.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	if calls < 2 || a.Token() != "unknown" {
		t.Errorf("OnRejected called %d times, token %q", calls, a.Token())
	}
	if f := a.Status().Main.Failures; f < 2 {
		t.Errorf("main tunnel failures %d", f)
	}
}
