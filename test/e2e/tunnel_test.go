package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/status"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// startTunnelFleet runs n clusters connected to the embedded endpoint, in this process.
func startTunnelFleet(t *testing.T, n int) *fleet.Fleet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fl, err := fleet.Start(ctx, fleet.Config{
		StateDir: t.TempDir(), Clusters: n, Log: cgLog(),
		Tunnels: &fleet.TunnelConfig{
			ConnectRate: 500, HealthInterval: 2 * time.Second,
			Backoff: tunnel.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second, Jitter: 0.2, ResetAfter: 5 * time.Second},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := fl.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return fl
}

func waitSummary(t *testing.T, fl *fleet.Fleet, timeout time.Duration, ok func(status.Summary) bool) status.Summary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := fl.Report().Summary
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			r := fl.Report()
			t.Fatalf("after %v: %s; first: %+v", timeout, status.Line(s), r.Clusters[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTunnelFiftyClustersReady: 50 clusters connect both tunnels to the embedded endpoint and
// pass its health checks (steve /ping, /readyz, /version, a node list through the main
// tunnel with client-go).
func TestTunnelFiftyClustersReady(t *testing.T) {
	t.Parallel()
	fl := startTunnelFleet(t, 50)
	start := time.Now()
	s := waitSummary(t, fl, 60*time.Second, func(s status.Summary) bool { return s.Ready+s.Active == 50 })
	t.Logf("50 clusters ready in %v: %s", time.Since(start).Round(time.Millisecond), status.Line(s))
	for _, c := range fl.Report().Clusters {
		if c.Main.Connects != 1 || c.Steve.Connects != 1 || c.RefusedDials != 0 {
			t.Errorf("%s: main connects %d, steve connects %d, refused %d; want 1, 1, 0", c.Name, c.Main.Connects, c.Steve.Connects, c.RefusedDials)
		}
		if c.Endpoint == nil || c.Endpoint.Version != "v1.36.3" || c.Endpoint.Nodes != 3 {
			t.Errorf("%s: endpoint saw %+v, want version v1.36.3 and 3 nodes", c.Name, c.Endpoint)
		}
	}
}

// TestTunnelKubectl: kubectl reads a cluster's nodes through the endpoint's tunnel dialer, as
// Rancher's /k8s/clusters proxy reaches a downstream cluster.
func TestTunnelKubectl(t *testing.T) {
	t.Parallel()
	fl := startTunnelFleet(t, 2)
	waitSummary(t, fl, 30*time.Second, func(s status.Summary) bool { return s.Ready+s.Active == 2 })
	c := fl.Clusters[1]
	dial := fl.Endpoint.Dialer(c.Name())
	// A local port whose connections the endpoint carries through the cluster's main tunnel
	// to the address the agent registered.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				up, err := dial(context.Background(), "tcp", c.Address())
				if err != nil {
					return
				}
				// Whichever side ends first ends the other: the API server keeps idle
				// connections open for a while.
				go func() { _, _ = io.Copy(up, conn); up.Close() }()
				_, _ = io.Copy(conn, up)
				up.Close()
			}()
		}
	}()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, fl.Authority.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: t, cluster: {server: "https://%s", certificate-authority: %q}}]
users: [{name: t, user: {token: %q}}]
contexts: [{name: t, context: {cluster: t, user: t}}]
current-context: t
`, l.Addr(), ca, c.AdminToken())), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustKubectlWith(t, opts{kubeconfig: kc}, "t", "get", "nodes", "--no-headers")
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 3 || !strings.Contains(out, c.Name()+"-cp-1") {
		t.Fatalf("kubectl get nodes through the tunnel: %d lines, want 3 nodes of %s:\n%s", n, c.Name(), out)
	}
}

// TestTunnelRefusedDial: a dial through a cluster's main tunnel to anything but its own API is
// refused and counted; the tunnel comes back and the other cluster is unaffected.
func TestTunnelRefusedDial(t *testing.T) {
	t.Parallel()
	fl := startTunnelFleet(t, 2)
	waitSummary(t, fl, 30*time.Second, func(s status.Summary) bool { return s.Ready+s.Active == 2 })
	a, b := fl.Clusters[0], fl.Clusters[1]
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	clusterA := func() status.Cluster {
		for _, c := range fl.Report().Clusters {
			if c.Name == a.Name() {
				return c
			}
		}
		t.Fatalf("no cluster %s in the report", a.Name())
		return status.Cluster{}
	}
	for i, target := range []string{b.Address(), other.Addr().String(), "192.0.2.10:443"} {
		conn, err := fl.Endpoint.Dialer(a.Name())(context.Background(), "tcp", target)
		if err == nil {
			// remotedialer reports a refused dial on the first read.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = conn.Read(make([]byte, 1))
			conn.Close()
		}
		if err == nil {
			t.Errorf("dial through %s's tunnel to %s succeeded", a.Name(), target)
		}
		// The refusal ends the session; the agent counts it and connects again.
		want := int64(i + 1)
		waitSummary(t, fl, 20*time.Second, func(status.Summary) bool {
			c := clusterA()
			st, _ := fl.Endpoint.ClusterState(a.Name())
			return c.RefusedDials == want && c.Main.State == "connected" && c.Main.Connects == want+1 && st.MainConnected
		})
	}
	var ra, rb status.Cluster
	for _, c := range fl.Report().Clusters {
		switch c.Name {
		case a.Name():
			ra = c
		case b.Name():
			rb = c
		}
	}
	if ra.RefusedDials != 3 {
		t.Errorf("%s refused dials %d, want 3", a.Name(), ra.RefusedDials)
	}
	if rb.RefusedDials != 0 || rb.Reconnects != 0 {
		t.Errorf("%s was affected: refused %d, reconnects %d", b.Name(), rb.RefusedDials, rb.Reconnects)
	}
	// The cluster is reachable again through its tunnel.
	cfg, err := fl.Endpoint.RESTConfig(a.Name())
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 3 {
		t.Fatalf("nodes through the tunnel after the refusals: %v, %v", nodes, err)
	}
}

// TestTunnelEndpointRestart: stopping and restarting the endpoint (same address, same
// tokens, like a restarted Rancher) brings every cluster back, with one session per tunnel.
func TestTunnelEndpointRestart(t *testing.T) {
	t.Parallel()
	const n = 20
	fl := startTunnelFleet(t, n)
	waitSummary(t, fl, 30*time.Second, func(s status.Summary) bool { return s.Ready+s.Active == n })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fl.RestartEndpoint(ctx); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, fl, 60*time.Second, func(s status.Summary) bool {
		if s.Ready+s.Active != n {
			return false
		}
		// The summary follows Rancher's view, which lags: wait for the reconnects themselves.
		for _, c := range fl.Report().Clusters {
			if c.Main.Connects < 2 || c.Steve.Connects < 2 {
				return false
			}
		}
		return true
	})
	for _, c := range fl.Report().Clusters {
		if c.Main.Connects != 2 || c.Steve.Connects != 2 {
			t.Errorf("%s: main connects %d, steve connects %d; want 2 each (one before, one after the restart)", c.Name, c.Main.Connects, c.Steve.Connects)
		}
		if c.Main.State != "connected" || c.Steve.State != "connected" {
			t.Errorf("%s: tunnels %s/%s after the restart", c.Name, c.Main.State, c.Steve.State)
		}
	}
	for name, st := range fl.Endpoint.States() {
		if !st.MainConnected || !st.SteveConnected || st.DuplicateSessions != 0 {
			t.Errorf("%s: endpoint sees main %v steve %v, duplicate sessions %d", name, st.MainConnected, st.SteveConnected, st.DuplicateSessions)
		}
	}
}
