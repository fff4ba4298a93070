package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestRancherV1Embedded: with --rancher-api v1 the clusters are created as provisioning
// clusters of the embedded endpoint and go active through their c-m- management clusters;
// state.json records the provisioning clusters.
func TestRancherV1Embedded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The health driver: this test is about registration, not Rancher's sequence.
	p, r := runUntil(t, 60*time.Second, allActive(3), append(fastRunArgs(dir, 3), "--rancher-api", "v1", "--endpoint-driver", "health")...)
	for _, c := range r.Clusters {
		if e := c.Endpoint; e == nil || !strings.HasPrefix(e.ID, "c-m-") || e.State != "active" {
			t.Errorf("%s: %+v", c.Name, e)
		}
	}
	p.stop()
	for name, rec := range readState(t, dir).Clusters {
		if rec.Provisioning != "fleet-default/"+name || !strings.HasPrefix(rec.ClusterID, "c-m-") || rec.Origin != "created" {
			t.Errorf("%s: %+v", name, rec)
		}
	}
}

// TestRancherV1Clean: run --rancher-api v1 against a separate endpoint process, then clean
// deletes the clusters through their provisioning clusters, management clusters included.
func TestRancherV1Clean(t *testing.T) {
	t.Parallel()
	ep := startEndpoint(t, "--endpoint-driver", "health")
	dir := t.TempDir()
	p, _ := runUntil(t, 60*time.Second, allActive(3), append(append(fastRunArgs(dir, 3), "--rancher-api", "v1"), ep.rancherArgs()...)...)
	p.stop()
	st := readState(t, dir)
	prov := ep.provisioningClusters(t)
	if len(prov) != 3 || len(ep.clusters(t)) != 3 {
		t.Fatalf("Rancher has %d provisioning and %d management clusters, want 3 of each", len(prov), len(ep.clusters(t)))
	}
	for name, rec := range st.Clusters {
		p := prov["fleet-default/"+name]
		status, _ := p["status"].(map[string]any)
		if p == nil || status["clusterName"] != rec.ClusterID || status["ready"] != true {
			t.Errorf("%s: recorded %+v, provisioning cluster %v", name, rec, p)
		}
	}

	clean := append([]string{"clean", "--state-dir", dir}, ep.rancherArgs()...)
	stdout, stderr, code := runAgent(t, 60*time.Second, clean...)
	if code != 0 || !strings.Contains(stdout, "Deleted 3 cluster(s) of run "+st.RunID) {
		t.Fatalf("clean: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n, m := len(ep.provisioningClusters(t)), len(ep.clusters(t)); n != 0 || m != 0 {
		t.Errorf("after clean Rancher has %d provisioning and %d management clusters", n, m)
	}
	if !strings.Contains(stderr, "fleet-default/sim-0001") {
		t.Errorf("clean did not log the provisioning route:\n%s", tail(stderr, 10))
	}
	stdout, _, code = runAgent(t, 60*time.Second, clean...)
	if code != 0 || !strings.Contains(stdout, "Nothing to delete") {
		t.Errorf("second clean: exit %d: %s", code, stdout)
	}
}
