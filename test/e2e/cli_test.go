package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runAgent runs the binary to completion with args and returns its output and exit code.
func runAgent(t *testing.T, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryPath, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish within %v\nstderr: %s", args, timeout, se.String())
	}
	return so.String(), se.String(), exitCode(err)
}

// TestCLIKubeconfig: `kubeconfig --state-dir` prints exactly the kubeconfig `run` wrote.
func TestCLIKubeconfig(t *testing.T) {
	t.Parallel()
	out, stderr, code := runAgent(t, 20*time.Second, "kubeconfig", "--state-dir", filepath.Dir(kubeconfigPath))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("kubeconfig printed %d bytes that differ from the %d bytes of %s", len(out), len(want), kubeconfigPath)
	}
	_, stderr, code = runAgent(t, 20*time.Second, "kubeconfig", "--state-dir", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "no kubeconfig in") {
		t.Errorf("kubeconfig of an empty state dir: exit %d, stderr %q; want a clear error", code, stderr)
	}
}

// TestCLIMalformedFixture: a bad fixture stops `run` before it serves, naming file, line and
// field.
func TestCLIMalformedFixture(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fixture := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(fixture, []byte(`apiVersion: scale-cluster-agent/v1alpha1
kind: Fixture
clusters:
- class: old
  count: 1
  kubernetesVersion: v1.20.1
  nodePools:
  - name: cp
    count: -3
`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runAgent(t, 30*time.Second, "run", "--config", fixture, "--state-dir", filepath.Join(dir, "state"), "--duration", "10s", "--status-addr", "127.0.0.1:0")
	if code == 0 {
		t.Fatalf("run with a malformed fixture exited 0")
	}
	for _, want := range []string{
		fixture + ":6: clusters[0].kubernetesVersion: unsupported minor 1.20",
		fixture + ":9: clusters[0].nodePools[0].count: must be >= 0, got -3",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "kubeconfig")); err == nil {
		t.Errorf("a kubeconfig was written for a fixture that failed")
	}
}

// TestCLIVersionsAndDuration: one run serving a v1.36 and a v1.32 class (the second picked by
// --clusters' proportional share), each reporting and serving its own version, and exiting
// cleanly by itself after --duration.
func TestCLIVersionsAndDuration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fixture := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(fixture, []byte(`apiVersion: scale-cluster-agent/v1alpha1
kind: Fixture
clusters:
- class: new
  namePattern: "new-{index}"
  kubernetesVersion: v1.36.3
  nodePools: [{name: cp, roles: [control-plane]}]
- class: old
  namePattern: "old-{index}"
  kubernetesVersion: v1.32.4
  distribution: k3s
  nodePools: [{name: server, roles: [control-plane, etcd]}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryPath, "run", "--config", fixture, "--state-dir", state, "--clusters", "4", "--duration", "12s", "--status-addr", "127.0.0.1:0")
	var so, se lockedBuffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitForFile(filepath.Join(state, "kubeconfig"), 30*time.Second); err != nil {
		t.Fatalf("%v\nstderr: %s", err, se.String())
	}
	eventually(t, 10*time.Second, func() string {
		if !strings.Contains(so.String(), "Serving 4 simulated cluster(s)") {
			return "stdout lacks the serving line: " + so.String()
		}
		return ""
	})
	kc := filepath.Join(state, "kubeconfig")
	for _, tc := range []struct {
		ctx, version string
		resources    int
	}{
		// api-resources lists each resource once, in its preferred version (HPAs are served
		// as autoscaling/v2 and v1).
		{"new-1", "v1.36.3", 67},
		{"new-2", "v1.36.3", 67},
		{"old-1", "v1.32.4+k3s1", 58},
		{"old-2", "v1.32.4+k3s1", 58},
	} {
		v := mustKubectlWith(t, opts{kubeconfig: kc}, tc.ctx, "version", "-o", "json")
		if !strings.Contains(v, `"gitVersion": "`+tc.version+`"`) {
			t.Errorf("%s: version %s, want gitVersion %s", tc.ctx, v, tc.version)
		}
		res := strings.Split(strings.TrimSpace(mustKubectlWith(t, opts{kubeconfig: kc}, tc.ctx, "api-resources", "--no-headers")), "\n")
		if len(res) != tc.resources {
			t.Errorf("%s: %d api-resources, want %d", tc.ctx, len(res), tc.resources)
		}
		nodes := mustKubectlWith(t, opts{kubeconfig: kc}, tc.ctx, "get", "nodes", "--no-headers")
		if !strings.Contains(nodes, " Ready ") {
			t.Errorf("%s: nodes not Ready:\n%s", tc.ctx, nodes)
		}
	}
	err := cmd.Wait()
	if code := exitCode(err); code != 0 {
		t.Errorf("run --duration 12s exited %d: %s", code, se.String())
	}
	if d := time.Since(start); d < 11*time.Second || d > 40*time.Second {
		t.Errorf("run --duration 12s ran for %v", d)
	}
}
