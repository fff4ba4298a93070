package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/report"
	"github.com/rancher/scale-cluster-agent/internal/status"
)

// TestRancherEmbedded: without --rancher-url, run registers its clusters with the embedded
// endpoint through Rancher's API, they go active, and at SIGTERM it prints the report and
// writes it as JSON; a second run with the same state directory reuses the clusters.
func TestRancherEmbedded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	reportFile := filepath.Join(t.TempDir(), "report.json")
	p, r := runUntil(t, 60*time.Second, allActive(3), append(fastRunArgs(dir, 3), "--report", reportFile)...)
	for _, c := range r.Clusters {
		e := c.Endpoint
		if e == nil || !strings.HasPrefix(e.ID, "c-") || e.State != "active" || !e.Ready || !e.Connected || len(e.Conditions) == 0 || !c.Registered {
			t.Errorf("%s: %+v", c.Name, e)
		}
	}
	out := p.stop()
	for _, want := range []string{"Clusters register with the embedded Rancher endpoint at https://127.0.0.1:", "FROM REGISTRATION TO", "active                 3/3", "Report written to " + reportFile} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	var rep report.Report
	raw, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	for _, m := range report.Milestones {
		if s := rep.Milestones[m]; s.Reached != 3 || s.Max <= 0 || s.P50 > s.Max {
			t.Errorf("%s: %+v", m, s)
		}
	}
	st := readState(t, dir)
	ids := map[string]string{}
	for name, rec := range st.Clusters {
		if !rec.Embedded || rec.Token == "" || rec.Origin != "created" {
			t.Errorf("%s: %+v", name, rec)
		}
		ids[name] = rec.ClusterID
	}
	if len(ids) != 3 {
		t.Fatalf("state.json has %d clusters", len(ids))
	}

	// The same state directory again: the same Rancher clusters.
	p, r = runUntil(t, 60*time.Second, allActive(3), fastRunArgs(dir, 3)...)
	for _, c := range r.Clusters {
		if c.Endpoint.ID != ids[c.Name] {
			t.Errorf("%s: id %s, was %s", c.Name, c.Endpoint.ID, ids[c.Name])
		}
	}
	p.stop()
}

// TestRancherReuseAndClean runs against a separate Rancher-compatible endpoint process, as
// against a real Rancher: a second run reuses the clusters (no duplicates), clean deletes
// them, and a second clean finds nothing.
func TestRancherReuseAndClean(t *testing.T) {
	t.Parallel()
	ep := startEndpoint(t)
	dir := t.TempDir()
	args := append(fastRunArgs(dir, 3), ep.rancherArgs()...)
	p, _ := runUntil(t, 60*time.Second, allActive(3), args...)
	out := p.stop()
	if !strings.Contains(out, "Clusters register with Rancher at "+ep.url+" as run sca-") {
		t.Errorf("welcome does not name Rancher and the run:\n%s", out)
	}
	if strings.Contains(out+p.errOut.String(), strings.SplitN(ep.token, ":", 2)[1]) {
		t.Error("run printed the Rancher token")
	}
	first := readState(t, dir)
	before := ep.clusters(t)
	if len(before) != 3 {
		t.Fatalf("Rancher has %d clusters after the first run", len(before))
	}

	p, _ = runUntil(t, 60*time.Second, allActive(3), args...)
	p.stop()
	after := ep.clusters(t)
	if len(after) != 3 {
		t.Errorf("Rancher has %d clusters after the second run, want 3 (no duplicates)", len(after))
	}
	second := readState(t, dir)
	for name, rec := range first.Clusters {
		if second.Clusters[name].ClusterID != rec.ClusterID || before[name]["id"] != rec.ClusterID {
			t.Errorf("%s: %s, then %s", name, rec.ClusterID, second.Clusters[name].ClusterID)
		}
		labels, _ := after[name]["labels"].(map[string]any)
		if labels["app.kubernetes.io/managed-by"] != "scale-cluster-agent" || labels["scale-cluster-agent/run"] != first.RunID {
			t.Errorf("%s labels %v", name, labels)
		}
	}

	clean := append([]string{"clean", "--state-dir", dir}, ep.rancherArgs()...)
	stdout, stderr, code := runAgent(t, 60*time.Second, clean...)
	if code != 0 || !strings.Contains(stdout, "Deleted 3 cluster(s) of run "+first.RunID) {
		t.Fatalf("clean: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(ep.clusters(t)); n != 0 {
		t.Errorf("Rancher has %d clusters after clean", n)
	}
	if st := readState(t, dir); len(st.Clusters) != 0 {
		t.Errorf("state.json keeps %d clusters after clean", len(st.Clusters))
	}
	stdout, _, code = runAgent(t, 60*time.Second, clean...)
	if code != 0 || !strings.Contains(stdout, "Nothing to delete") {
		t.Errorf("second clean: exit %d: %s", code, stdout)
	}
	stdout, _, code = runAgent(t, 20*time.Second, "clean", "--state-dir", dir)
	if code != 0 || !strings.Contains(stdout, "Nothing to delete without --rancher-url") {
		t.Errorf("clean without --rancher-url: exit %d: %s", code, stdout)
	}
}

// TestRancherCrashMidRegistration kills run (SIGKILL) while it registers and writes
// state.json: the file is whole, and the next run ends with every cluster active and no
// duplicate in Rancher (clusters created but not yet recorded are adopted by name).
func TestRancherCrashMidRegistration(t *testing.T) {
	t.Parallel()
	const n = 30
	// Rancher's health checks only: this test is about registration and state.json, and
	// Rancher's whole sequence (kubectl apply per cluster) would take minutes for 30.
	ep := startEndpoint(t, "--endpoint-driver", "health")
	dir := t.TempDir()
	args := append(fastRunArgs(dir, n), ep.rancherArgs()...)
	p := startProc(t, append(args, "--register-rate", "25", "--register-concurrency", "4")...)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if st, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil && strings.Count(string(st), `"clusterID"`) >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state.json never had 5 clusters\n%s", tail(p.errOut.String(), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Between two writes of state.json (every 500 ms), so that Rancher has clusters that
	// state.json does not record yet.
	time.Sleep(250 * time.Millisecond)
	p.kill()
	st := readState(t, dir) // parses: the atomic write left a whole file
	inRancher := ep.clusters(t)
	t.Logf("killed with %d cluster(s) in state.json and %d in Rancher", len(st.Clusters), len(inRancher))
	unrecorded := 0
	for name := range inRancher {
		if rec := st.Clusters[name]; rec == nil || rec.ClusterID == "" {
			unrecorded++
		}
	}
	if unrecorded == 0 {
		t.Logf("every cluster in Rancher was recorded when the kill came; adoption is not exercised this time")
	}

	p, r := runUntil(t, 90*time.Second, allActive(n), args...)
	p.stop()
	if got := len(ep.clusters(t)); got != n {
		t.Errorf("Rancher has %d clusters, want %d (no duplicates)", got, n)
	}
	after := readState(t, dir)
	adopted := 0
	for _, rec := range after.Clusters {
		if rec.Origin == "adopted" {
			adopted++
		}
	}
	if len(after.Clusters) != n || adopted != unrecorded {
		t.Errorf("state.json has %d clusters (want %d), %d adopted (want the %d unrecorded)", len(after.Clusters), n, adopted, unrecorded)
	}
	seen := map[string]bool{}
	for _, c := range r.Clusters {
		if seen[c.Endpoint.ID] {
			t.Errorf("id %s twice", c.Endpoint.ID)
		}
		seen[c.Endpoint.ID] = true
	}
	stdout, stderr, code := runAgent(t, 60*time.Second, append([]string{"clean", "--state-dir", dir}, ep.rancherArgs()...)...)
	if code != 0 || len(ep.clusters(t)) != 0 {
		t.Errorf("clean: exit %d, %d left\n%s%s", code, len(ep.clusters(t)), stdout, stderr)
	}
}

// TestRancherTokenRotation: Rancher rotates the registration tokens (TTL 3 s here, 30 days
// in Rancher) and refuses the old ones; run re-reads them, the tunnels reconnect with the
// new ones, state.json records them and the clusters are active again.
func TestRancherTokenRotation(t *testing.T) {
	t.Parallel()
	ep := startEndpoint(t, "--token-ttl", "3s", "--token-grace", "0s", "--endpoint-driver", "health")
	dir := t.TempDir()
	args := append(fastRunArgs(dir, 2), ep.rancherArgs()...)
	p, _ := runUntil(t, 60*time.Second, allActive(2), args...)
	first := readState(t, dir)
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, _ := getStatusReport(statusAddrOf(t, p))
		st, err := loadStateQuiet(dir)
		rotated := err == nil && len(st.Clusters) == 2
		for name, rec := range first.Clusters {
			rotated = rotated && st.Clusters[name].Token != rec.Token
		}
		reconnected := len(r.Clusters) == 2
		for _, c := range r.Clusters {
			reconnected = reconnected && c.Reconnects >= 2
		}
		if rotated && reconnected && allActive(2)(r) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tokens rotated %v, reconnected %v: %s\nstderr:\n%s", rotated, reconnected, status.Line(r.Summary), tail(p.errOut.String(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := p.stop()
	if !strings.Contains(p.errOut.String(), "re-read it (rotated)") {
		t.Errorf("no re-read logged:\n%s", tail(p.errOut.String(), 20))
	}
	_ = out
}

// statusAddrOf is the status address a run printed.
func statusAddrOf(t *testing.T, p *proc) string {
	t.Helper()
	for _, l := range strings.Split(p.out.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "Status: http://"); ok {
			return strings.TrimSuffix(strings.Fields(v)[0], "/status")
		}
	}
	t.Fatal("no status address printed")
	return ""
}

func loadStateQuiet(dir string) (*fleetState, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	var st fleetState
	return &st, json.Unmarshal(b, &st)
}

// fleetState is the part of state.json the tests read without the fleet package's checks.
type fleetState struct {
	Clusters map[string]struct {
		Token string `json:"token"`
	} `json:"clusters"`
}
