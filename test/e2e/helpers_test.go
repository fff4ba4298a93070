package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// defaultTimeout bounds every kubectl invocation.
const defaultTimeout = 30 * time.Second

// client is one kubectl binary the checks run with.
type client struct {
	name string
	bin  string
}

// clients returns the dispatcher on PATH and, when installed, kubectl.1.33 (the newest
// kubectl the SDK ships; the server is v1.36).
func clients() []client {
	cs := []client{{name: "kubectl", bin: kubectlBin}}
	if kubectl133 != "" {
		cs = append(cs, client{name: "kubectl.1.33", bin: kubectl133})
	}
	return cs
}

// cacheDirs holds one kubectl --cache-dir per test.
var cacheDirs sync.Map // *testing.T -> string

func cacheDir(t *testing.T) string {
	if d, ok := cacheDirs.Load(t); ok {
		return d.(string)
	}
	d := t.TempDir()
	cacheDirs.Store(t, d)
	t.Cleanup(func() { cacheDirs.Delete(t) })
	return d
}

// opts tunes one kubectl invocation.
type opts struct {
	bin        string        // kubectl binary; default kubectlBin
	kubeconfig string        // default kubeconfigPath
	stdin      string        // fed to kubectl's stdin
	timeout    time.Duration // default defaultTimeout
}

// kubectl runs the kubectl on PATH against the simulated cluster kctx (a kubeconfig context).
func kubectl(t *testing.T, kctx string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return kubectlWith(t, opts{}, kctx, args...)
}

// kubectlWith runs kubectl with o against context kctx.
func kubectlWith(t *testing.T, o opts, kctx string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd, cancel := kubectlCmd(t, o, kctx, args...)
	defer cancel()
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	if o.stdin != "" {
		cmd.Stdin = strings.NewReader(o.stdin)
	}
	err = cmd.Run()
	return so.String(), cleanStderr(se.String()), err
}

// kubectlCmd prepares (does not start) a kubectl command; cancel kills it.
func kubectlCmd(t *testing.T, o opts, kctx string, args ...string) (*exec.Cmd, context.CancelFunc) {
	t.Helper()
	if o.bin == "" {
		o.bin = kubectlBin
	}
	if o.kubeconfig == "" {
		o.kubeconfig = kubeconfigPath
	}
	if o.timeout == 0 {
		o.timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	full := append([]string{"--kubeconfig", o.kubeconfig, "--context", kctx, "--cache-dir", cacheDir(t)}, args...)
	cmd := exec.CommandContext(ctx, o.bin, full...)
	cmd.WaitDelay = 2 * time.Second
	return cmd, cancel
}

// mustKubectl runs kubectl and fails the test when it exits non-zero.
func mustKubectl(t *testing.T, kctx string, args ...string) string {
	t.Helper()
	return mustKubectlWith(t, opts{}, kctx, args...)
}

func mustKubectlWith(t *testing.T, o opts, kctx string, args ...string) string {
	t.Helper()
	out, errOut, err := kubectlWith(t, o, kctx, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// failKubectl runs kubectl, requires exit code 1 and returns its stderr.
func failKubectl(t *testing.T, o opts, kctx string, args ...string) string {
	t.Helper()
	out, errOut, err := kubectlWith(t, o, kctx, args...)
	if code := exitCode(err); code != 1 {
		t.Fatalf("kubectl %s: exit code %d (err %v), want 1\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, err, out, errOut)
	}
	return errOut
}

// exitCode is the process exit code behind err (0 for nil, -1 when it did not exit).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

var skewWarning = regexp.MustCompile(`(?m)^WARNING: version difference between client \(1\.\d+\) and server \(1\.\d+\) exceeds the supported minor version skew of \+/-1\n?`)

// cleanStderr drops kubectl's version-skew warning (the clients are older than the server).
func cleanStderr(s string) string { return skewWarning.ReplaceAllString(s, "") }

// createNamespace creates ns in kctx and deletes it (without waiting) when the test ends.
func createNamespace(t *testing.T, kctx, ns string) {
	t.Helper()
	if out := mustKubectl(t, kctx, "create", "namespace", ns); out != "namespace/"+ns+" created\n" {
		t.Fatalf("create namespace %s: stdout %q", ns, out)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
		defer cancel()
		_ = exec.CommandContext(ctx, kubectlBin, "--kubeconfig", kubeconfigPath, "--context", kctx,
			"delete", "namespace", ns, "--ignore-not-found", "--wait=false").Run()
	})
}

// writeFile writes content to a file in the test's temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// table is kubectl's human-readable output split into cells by the header's column starts.
type table struct {
	header []string
	rows   [][]string
}

var headerCell = regexp.MustCompile(`\S+(?: \S+)*`)

// parseTable parses `kubectl get` table output; cells are cut at the header columns' offsets
// (kubectl pads every column with at least three spaces, so cells never straddle them).
func parseTable(t *testing.T, out string) table {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		t.Fatalf("no table in output %q", out)
	}
	locs := headerCell.FindAllStringIndex(lines[0], -1)
	var tb table
	for _, l := range locs {
		tb.header = append(tb.header, lines[0][l[0]:l[1]])
	}
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		row := make([]string, len(locs))
		for i, l := range locs {
			start := l[0]
			if start >= len(line) {
				continue
			}
			end := len(line)
			if i+1 < len(locs) && locs[i+1][0] < end {
				end = locs[i+1][0]
			}
			row[i] = strings.TrimSpace(line[start:end])
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// col returns the index of column name, failing the test when it is missing.
func (tb table) col(t *testing.T, name string) int {
	t.Helper()
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in header %q", name, tb.header)
	return -1
}

// row returns the row whose column key equals value.
func (tb table) row(t *testing.T, key, value string) map[string]string {
	t.Helper()
	k := tb.col(t, key)
	for _, r := range tb.rows {
		if r[k] == value {
			m := map[string]string{}
			for i, h := range tb.header {
				m[h] = r[i]
			}
			return m
		}
	}
	t.Fatalf("no row with %s=%q in %q", key, value, tb.rows)
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mustJSON decodes kubectl's JSON output into v.
func mustJSON(t *testing.T, out string, v interface{}) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, out)
	}
}

// requireContains fails unless s contains every one of wants.
func requireContains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, s)
		}
	}
}

// streamLines starts kubectl (for example a watch) and sends its stdout lines to the
// returned channel; the process is killed when the test ends.
func streamLines(t *testing.T, o opts, kctx string, args ...string) (<-chan string, func() string) {
	t.Helper()
	cmd, cancel := kubectlCmd(t, o, kctx, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var se lockedBuffer
	cmd.Stderr = &se
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = cmd.Wait()
	})
	return lines, func() string { return cleanStderr(se.String()) }
}

// nextLine waits for the next line on ch (which must match re) for at most timeout.
func nextLine(t *testing.T, ch <-chan string, timeout time.Duration, stderr func() string, re *regexp.Regexp) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("stream ended while waiting for a line matching %q; stderr: %s", re, stderr())
		}
		if !re.MatchString(l) {
			t.Fatalf("line %q does not match %q", l, re)
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("no line matching %q within %s; stderr: %s", re, timeout, stderr())
	}
	return ""
}

// verboseHTTP and verboseReason find the HTTP status and Status reason that `kubectl -v=6` logs
// (-v=8 logs the status as "Response Status: …").
var (
	verboseHTTP   = regexp.MustCompile(`round_trippers\.go:\d+\] (?:(?:GET|POST|PUT|PATCH|DELETE) \S+|Response Status:) (\d{3} [A-Za-z ]+?) in \d+ milliseconds`)
	verboseReason = regexp.MustCompile(`"reason": "([A-Za-z]+)"`)
)

// lastHTTPStatus returns the last error HTTP status ("422 Unprocessable Entity") logged by
// -v=6, or "" when every request succeeded.
func lastHTTPStatus(stderr string) string {
	m := verboseHTTP.FindAllStringSubmatch(stderr, -1)
	for i := len(m) - 1; i >= 0; i-- {
		if m[i][1] >= "400" {
			return m[i][1]
		}
	}
	return ""
}

// lastReason returns the last Status reason logged by -v=6 ("" when kubectl did not log the
// Status as JSON, as for protobuf responses).
func lastReason(stderr string) string {
	m := verboseReason.FindAllStringSubmatch(stderr, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}

// lastLine is the last non-empty line of s without klog's -v output.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return lines[i]
		}
	}
	return ""
}

// eventually retries f every 200ms until it returns "" or timeout passes, then fails
// with the last message.
func eventually(t *testing.T, timeout time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
