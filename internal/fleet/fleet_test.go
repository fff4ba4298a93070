package fleet

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/sirupsen/logrus"
	"k8s.io/klog/v2"

	"github.com/rancher/scale-cluster-agent/internal/pki"
	"github.com/rancher/scale-cluster-agent/internal/rancher"
	"github.com/rancher/scale-cluster-agent/internal/report"
	"github.com/rancher/scale-cluster-agent/internal/status"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

func TestMain(m *testing.M) {
	// The apiserver libraries log through klog, remotedialer through logrus's standard logger.
	klog.SetLogger(logr.Discard())
	logrus.SetLevel(logrus.WarnLevel)
	os.Exit(m.Run())
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// fastTunnels registers and follows quickly, for tests.
func fastTunnels(rc *RancherConfig) *TunnelConfig {
	return &TunnelConfig{
		Rancher: rc, RegisterConcurrency: 8, FollowInterval: 100 * time.Millisecond, TokenDelay: 50 * time.Millisecond,
		HealthInterval: time.Second,
		Backoff:        tunnel.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond, Jitter: 0.2, ResetAfter: time.Second},
	}
}

func startFleet(t *testing.T, dir string, n int, tc *TunnelConfig) *Fleet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fl, err := Start(ctx, Config{StateDir: dir, Clusters: n, Log: quietLog(), Tunnels: tc})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			stopFleet(t, fl)
		}
	})
	return fl
}

func stopFleet(t *testing.T, fl *Fleet) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fl.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func waitFor(t *testing.T, fl *Fleet, timeout time.Duration, what string, ok func(status.Summary) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := fl.Report().Summary
		if ok(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %s; first: %+v", what, timeout, status.Line(s), fl.Report().Clusters[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func allActive(n int) func(status.Summary) bool {
	return func(s status.Summary) bool { return s.Total == n && s.Active == n && s.Registered == n }
}

// TestFleetEmbedded: the clusters register through the embedded endpoint's API, connect
// with their tokens and go active; state.json and the run report say so.
func TestFleetEmbedded(t *testing.T) {
	dir := t.TempDir()
	fl := startFleet(t, dir, 3, fastTunnels(nil))
	if !fl.Embedded() || fl.RancherURL() != fl.Endpoint.URL() {
		t.Fatalf("target %s, embedded %v", fl.RancherURL(), fl.Embedded())
	}
	waitFor(t, fl, 30*time.Second, "active", allActive(3))
	for _, c := range fl.Report().Clusters {
		e := c.Endpoint
		if e == nil || !strings.HasPrefix(e.ID, "c-") || e.State != "active" || !e.Connected || !e.Ready || e.Version != "v1.36.3" || e.Nodes != 3 || len(e.Conditions) < 10 {
			t.Errorf("%s: Rancher's view %+v", c.Name, e)
		}
	}
	// Milestones are the follower's observations, one interval behind /status at most.
	deadline := time.Now().Add(5 * time.Second)
	for fl.RunReport().Milestones[report.Active].Reached < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	r := fl.RunReport()
	for _, m := range report.Milestones {
		want := 3
		if m == report.AgentDeployed {
			want = 0 // the endpoint's health driver deploys no agent, as Rancher without its node syncer
		}
		if s := r.Milestones[m]; s.Reached != want {
			t.Errorf("%s reached by %d of 3, want %d", m, s.Reached, want)
		}
	}
	if r.Clusters[0].Origin != "created" {
		t.Errorf("origin %q", r.Clusters[0].Origin)
	}
	stopFleet(t, fl)
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clusters) != 3 || !strings.HasPrefix(st.RunID, "sca-") || st.CACert == "" {
		t.Fatalf("state: %d clusters, run %q", len(st.Clusters), st.RunID)
	}
	for name, rec := range st.Clusters {
		if !rec.Embedded || !strings.HasPrefix(rec.ClusterID, "c-") || len(rec.Token) != 54 || rec.Origin != "created" || rec.Address == "" || rec.ServiceAccountToken == "" || rec.Registered.IsZero() {
			t.Errorf("%s: %+v", name, rec)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, StateFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v %v", fi, err)
	}
}

// TestFleetReuse: a second run with the same state directory reuses the clusters (same ids,
// same tokens, the same listen addresses), creating none.
func TestFleetReuse(t *testing.T) {
	dir := t.TempDir()
	fl := startFleet(t, dir, 2, fastTunnels(nil))
	waitFor(t, fl, 30*time.Second, "active", allActive(2))
	stopFleet(t, fl)
	before, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}

	fl2 := startFleet(t, dir, 2, fastTunnels(nil))
	waitFor(t, fl2, 30*time.Second, "active again", allActive(2))
	if n := len(fl2.Endpoint.APIClusters()); n != 2 {
		t.Errorf("the endpoint has %d clusters, want 2", n)
	}
	for _, c := range fl2.RunReport().Clusters {
		if c.Origin != "reused" || c.ID != before.Clusters[c.Name].ClusterID {
			t.Errorf("%s: origin %q id %s, want reused %s", c.Name, c.Origin, c.ID, before.Clusters[c.Name].ClusterID)
		}
	}
	for _, c := range fl2.Clusters {
		if c.Address() != before.Clusters[c.Name()].Address {
			t.Errorf("%s listens on %s, was %s", c.Name(), c.Address(), before.Clusters[c.Name()].Address)
		}
	}
	stopFleet(t, fl2)
	after, _ := LoadState(dir)
	for name, r := range before.Clusters {
		if a := after.Clusters[name]; a.ClusterID != r.ClusterID || a.Token != r.Token || a.Registered != r.Registered || after.RunID != before.RunID {
			t.Errorf("%s: %+v became %+v", name, r, a)
		}
	}
}

// TestFleetTokenRotation: Rancher rotates a cluster's token; the agent is refused, the fleet
// re-reads the token, the tunnels come back with it and state.json records it.
func TestFleetTokenRotation(t *testing.T) {
	dir := t.TempDir()
	fl := startFleet(t, dir, 2, fastTunnels(nil))
	waitFor(t, fl, 30*time.Second, "active", allActive(2))
	m := fl.members[0]
	m.mu.Lock()
	id, old := m.id, m.token
	m.mu.Unlock()
	fresh, err := fl.Endpoint.RotateRegistrationToken(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		m.mu.Lock()
		cur := m.token
		m.mu.Unlock()
		st := m.agent.Status()
		if cur == fresh && m.agent.Token() == fresh && st.Main.State == tunnel.StateConnected && st.Steve.State == tunnel.StateConnected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token %q→%q, agent %+v", old[:6], cur[:6], st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitFor(t, fl, 30*time.Second, "active after the rotation", allActive(2))
	if err := fl.state.flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := LoadState(dir)
	if st.Clusters[m.name()].Token != fresh {
		t.Error("state.json still has the rotated-out token")
	}
	if c := fl.Report().Clusters[0]; c.Reconnects < 1 {
		t.Errorf("%s reconnected %d times", c.Name, c.Reconnects)
	}
}

// standaloneRancher is an endpoint in the test standing in for a real Rancher.
func standaloneRancher(t *testing.T) (*tunnel.Endpoint, *RancherConfig) {
	t.Helper()
	auth, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := auth.ServingCert()
	if err != nil {
		t.Fatal(err)
	}
	ep, err := tunnel.NewEndpoint(tunnel.EndpointOptions{Certificate: cert, CACertPEM: auth.CertPEM, HealthInterval: time.Second, ReadyzCheck: true, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.ConfigureAPI(tunnel.APIOptions{TokenDelay: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := ep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ep.Shutdown(ctx)
	})
	return ep, &RancherConfig{URL: ep.URL(), Credentials: rancher.TokenAuth(ep.AdminToken()), CAChecksum: ep.CAChecksum()}
}

// TestFleetAdoption against a separate "Rancher": a cluster of the fleet's name carrying the
// tool's label (another state directory's) is adopted; one without it is left alone and the
// simulated cluster fails; the others are created.
func TestFleetAdoption(t *testing.T) {
	ep, rc := standaloneRancher(t)
	c, err := rancher.New(rancher.Config{URL: rc.URL, Credentials: rc.Credentials, Insecure: true, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	labels, _ := rancher.OwnerLabels("sca-otherrun00")
	ours, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0001", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0002"}); err != nil {
		t.Fatal(err)
	}
	fl := startFleet(t, t.TempDir(), 3, fastTunnels(rc))
	waitFor(t, fl, 30*time.Second, "two active, one failed", func(s status.Summary) bool { return s.Active == 2 && s.Failed == 1 })
	got := map[string]status.Cluster{}
	for _, c := range fl.Report().Clusters {
		got[c.Name] = c
	}
	if e := got["sim-0001"].Endpoint; e == nil || e.ID != ours.ID {
		t.Errorf("sim-0001 was not adopted: %+v", e)
	}
	if c := got["sim-0002"]; c.State != "failed" || !strings.Contains(c.LastError, "not created by scale-cluster-agent") {
		t.Errorf("sim-0002: %s %q", c.State, c.LastError)
	}
	r := fl.RunReport()
	if r.RegistrationFailures != 1 || r.Clusters[0].Origin != "adopted" || r.Clusters[2].Origin != "created" {
		t.Errorf("report: %d registration failures, origins %q %q", r.RegistrationFailures, r.Clusters[0].Origin, r.Clusters[2].Origin)
	}
	if n := len(ep.APIClusters()); n != 3 {
		t.Errorf("Rancher has %d clusters, want 3", n)
	}
}

// TestFleetBadCredentials: a wrong token stops Start with Rancher's 401.
func TestFleetBadCredentials(t *testing.T) {
	_, rc := standaloneRancher(t)
	rc.Credentials = rancher.TokenAuth("token-wrong:" + strings.Repeat("x", 54))
	_, err := Start(context.Background(), Config{StateDir: t.TempDir(), Clusters: 1, Log: quietLog(), Tunnels: fastTunnels(rc)})
	if !rancher.IsUnauthorized(err) {
		t.Fatalf("Start with a wrong token: %v, want 401", err)
	}
	if strings.Contains(err.Error(), strings.Repeat("x", 54)) {
		t.Error("the error quotes the token")
	}
}

// TestFleetLogin: with a user's name and password instead of an API token, run logs in and
// registers the same way.
func TestFleetLogin(t *testing.T) {
	ep, rc := standaloneRancher(t)
	rc.Credentials = rancher.LoginAuth("admin", ep.AdminPassword())
	fl := startFleet(t, t.TempDir(), 1, fastTunnels(rc))
	waitFor(t, fl, 30*time.Second, "active", allActive(1))
	if len(ep.APIClusters()) != 1 {
		t.Errorf("Rancher has %d clusters", len(ep.APIClusters()))
	}
}
