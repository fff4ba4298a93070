// Package e2e drives one `scale-cluster-agent run` process with the real kubectl.
//
// TestMain starts the binary named by SCA_BINARY (or builds ./cmd/scale-cluster-agent when
// it is unset) with two simulated clusters, waits for its kubeconfig, runs every test against
// that one process and finally stops it with SIGTERM, requiring a clean exit.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// ctx1 and ctx2 are the kubeconfig contexts of the two simulated clusters of the
	// embedded default fixture.
	ctx1 = "sim-0001"
	ctx2 = "sim-0002"

	serverGitVersion = "v1.36.3"
	readyLine        = "Serving 2 simulated cluster(s)"
)

var (
	// kubeconfigPath is the kubeconfig the running process wrote into its state dir.
	kubeconfigPath string
	// kubectlBin is the kubectl found on PATH (on the project machines, the gcloud dispatcher).
	kubectlBin string
	// kubectl133 is kubectl.1.33 beside the dispatcher, or "" when it is not installed.
	kubectl133 string
	// binaryPath is the scale-cluster-agent binary under test.
	binaryPath string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// lockedBuffer collects a child's output while it is being written.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "sca-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	if kubectlBin, err = exec.LookPath("kubectl"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: kubectl is not on PATH:", err)
		return 1
	}
	kubectl133 = findKubectl133(kubectlBin)

	bin := os.Getenv("SCA_BINARY")
	if bin == "" {
		if bin, err = buildBinary(tmp); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}

	binaryPath = bin
	stateDir := filepath.Join(tmp, "state")
	kubeconfigPath = filepath.Join(stateDir, "kubeconfig")
	// The API suites need clusters no Rancher writes to (its RBAC objects, namespace
	// annotations and agent manifest would change what they list); the Rancher driver has
	// its own test (driver_test.go).
	cmd := exec.Command(bin, "run", "--state-dir", stateDir, "--clusters", "2", "--status-addr", "127.0.0.1:0",
		"--endpoint-driver", "health")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	var stdoutLog, stderrLog lockedBuffer
	cmd.Stderr = &stderrLog
	bindToParent(cmd)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start %s: %v\n", bin, err)
		return 1
	}
	ready := make(chan struct{})
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			stdoutLog.Write([]byte(line + "\n"))
			if !signalled && strings.Contains(line, readyLine) {
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	exited := make(chan error, 1)
	go func() {
		<-copied
		exited <- cmd.Wait()
	}()
	dump := func() {
		fmt.Fprintf(os.Stderr, "--- run stdout ---\n%s--- run stderr (tail) ---\n%s\n", stdoutLog.String(), tail(stderrLog.String(), 40))
	}

	select {
	case <-ready:
	case err := <-exited:
		fmt.Fprintf(os.Stderr, "e2e: %s run exited before it was ready: %v\n", bin, err)
		dump()
		return 1
	case <-time.After(90 * time.Second):
		fmt.Fprintf(os.Stderr, "e2e: no %q on stdout within 90s\n", readyLine)
		dump()
		_ = cmd.Process.Kill()
		return 1
	}
	if err := waitForFile(kubeconfigPath, 30*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		dump()
		_ = cmd.Process.Kill()
		return 1
	}

	code := m.Run()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: SIGTERM:", err)
		dump()
		return 1
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			fmt.Fprintf(os.Stderr, "e2e: run did not exit cleanly on SIGTERM: %v (exit code %d)\n", err, ee.ExitCode())
			dump()
			code = 1
		default:
			fmt.Fprintf(os.Stderr, "e2e: waiting for run: %v\n", err)
			code = 1
		}
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "e2e: run still alive 30s after SIGTERM; killing it")
		dump()
		_ = cmd.Process.Kill()
		code = 1
	}
	return code
}

// buildBinary builds ./cmd/scale-cluster-agent from the module root into dir.
func buildBinary(dir string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := filepath.Join(wd, "..", "..")
	out := filepath.Join(dir, "scale-cluster-agent")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/scale-cluster-agent")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/scale-cluster-agent: %v\n%s", err, b)
	}
	return out, nil
}

// findKubectl133 looks for kubectl.1.33 beside the kubectl on PATH (the gcloud SDK keeps the
// versioned binaries next to its dispatcher), then on PATH.
func findKubectl133(kubectl string) string {
	if resolved, err := filepath.EvalSymlinks(kubectl); err == nil {
		p := filepath.Join(filepath.Dir(resolved), "kubectl.1.33")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("kubectl.1.33"); err == nil {
		return p
	}
	return ""
}

func waitForFile(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %s", path, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
