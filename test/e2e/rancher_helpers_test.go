package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/status"
)

// proc is a running scale-cluster-agent process whose stdout is read line by line.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	out    lockedBuffer
	errOut lockedBuffer
	exited chan error
}

// startProc starts the binary with args; it is killed at the end of the test if still running.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(binaryPath, args...), lines: make(chan string, 1024), exited: make(chan error, 1)}
	p.cmd.Stderr = &p.errOut
	bindToParent(p.cmd)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.out.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
	})
	return p
}

// waitLine returns the value after prefix on the first stdout line that starts with it.
func (p *proc) waitLine(prefix string, timeout time.Duration) string {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%v exited before printing %q\nstdout:\n%s\nstderr:\n%s", p.cmd.Args[1:], prefix, p.out.String(), tail(p.errOut.String(), 30))
			}
			if v, found := strings.CutPrefix(l, prefix); found {
				return strings.TrimSpace(v)
			}
		case <-deadline:
			p.t.Fatalf("no %q from %v within %v\nstdout:\n%s\nstderr:\n%s", prefix, p.cmd.Args[1:], timeout, p.out.String(), tail(p.errOut.String(), 30))
		}
	}
}

// stop sends SIGTERM and requires a clean exit; it returns the whole stdout.
func (p *proc) stop() string {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Fatalf("%v did not exit cleanly: %v\nstderr:\n%s", p.cmd.Args[1:], err, tail(p.errOut.String(), 30))
		}
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Fatalf("%v still running 40s after SIGTERM", p.cmd.Args[1:])
	}
	return p.out.String()
}

// kill ends the process with SIGKILL, as a crash would.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// rancherEndpoint is a `scale-cluster-agent endpoint` process standing in for Rancher.
type rancherEndpoint struct {
	*proc
	url, token, checksum string
}

func startEndpoint(t *testing.T, extra ...string) *rancherEndpoint {
	t.Helper()
	args := append([]string{"endpoint", "--listen", "127.0.0.1:0", "--state-dir", t.TempDir(), "--health-interval", "1s", "--token-delay", "200ms"}, extra...)
	e := &rancherEndpoint{proc: startProc(t, args...)}
	e.url = e.waitLine("Rancher-compatible endpoint at ", 30*time.Second)
	e.token = e.waitLine("API token: ", 5*time.Second)
	e.checksum = e.waitLine("CA checksum: ", 5*time.Second)
	t.Cleanup(func() {
		if e.cmd.ProcessState == nil {
			e.stop()
		}
	})
	return e
}

// rancherArgs are run's or clean's flags for this endpoint.
func (e *rancherEndpoint) rancherArgs() []string {
	return []string{"--rancher-url", e.url, "--rancher-token", e.token, "--ca-checksum", e.checksum}
}

// collection GETs a collection from the endpoint's API as its admin and returns its data.
func (e *rancherEndpoint) collection(t *testing.T, path string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var col struct{ Data []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&col); err != nil {
		t.Fatal(err)
	}
	return col.Data
}

// clusters lists the endpoint's clusters through its API (GET /v3/clusters?limit=-1).
func (e *rancherEndpoint) clusters(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, d := range e.collection(t, "/v3/clusters?limit=-1") {
		if d["id"] != "local" {
			out[d["name"].(string)] = d
		}
	}
	return out
}

// provisioningClusters lists the endpoint's provisioning clusters (the v1 route) through its
// API, by "<namespace>/<name>".
func (e *rancherEndpoint) provisioningClusters(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, d := range e.collection(t, "/v1/provisioning.cattle.io.clusters") {
		out[d["id"].(string)] = d
	}
	return out
}

// fastRunArgs make a run register, connect and follow quickly.
func fastRunArgs(stateDir string, clusters int) []string {
	return []string{"run", "--state-dir", stateDir, "--clusters", fmt.Sprint(clusters), "--status-addr", "127.0.0.1:0",
		"--follow-interval", "200ms", "--backoff-min", "100ms", "--backoff-max", "1s", "--health-interval", "1s"}
}

// runUntil starts `run` with args and waits until its /status satisfies ok.
func runUntil(t *testing.T, timeout time.Duration, ok func(status.Report) bool, args ...string) (*proc, status.Report) {
	t.Helper()
	p := startProc(t, args...)
	addr := p.waitLine("Status: http://", 90*time.Second)
	addr = strings.TrimSuffix(strings.Fields(addr)[0], "/status")
	deadline := time.Now().Add(timeout)
	var last status.Report
	for {
		r, err := getStatusReport(addr)
		if err == nil {
			last = r
			if ok(r) {
				return p, r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %v: not there after %v: %s\nstderr:\n%s", args, timeout, status.Line(last.Summary), tail(p.errOut.String(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getStatusReport(addr string) (status.Report, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return status.Report{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return status.Report{}, err
	}
	var r status.Report
	return r, json.Unmarshal(b, &r)
}

func allActive(n int) func(status.Report) bool {
	return func(r status.Report) bool { return r.Summary.Total == n && r.Summary.Active == n }
}

func readState(t *testing.T, dir string) *fleet.State {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, fleet.StateFile)); err != nil {
		t.Fatal(err)
	}
	st, err := fleet.LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
