package fleet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

func v1Tunnels(rc *RancherConfig) *TunnelConfig {
	tc := fastTunnels(rc)
	tc.API = rancher.APIv1
	return tc
}

// TestFleetV1Embedded: through the v1 route the clusters are created as provisioning
// clusters, go active through their c-m- management clusters, state.json records the
// provisioning cluster, and a second run reuses them (the restarted endpoint knows the
// provisioning clusters again).
func TestFleetV1Embedded(t *testing.T) {
	dir := t.TempDir()
	fl := startFleet(t, dir, 2, v1Tunnels(nil))
	waitFor(t, fl, 30*time.Second, "active", allActive(2))
	for _, c := range fl.Report().Clusters {
		if e := c.Endpoint; e == nil || !strings.HasPrefix(e.ID, "c-m-") || e.State != "active" {
			t.Errorf("%s: %+v", c.Name, e)
		}
	}
	stopFleet(t, fl)
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range st.Clusters {
		if rec.Provisioning != rancher.DefaultNamespace+"/"+name || !strings.HasPrefix(rec.ClusterID, "c-m-") || rec.Origin != "created" {
			t.Errorf("%s: %+v", name, rec)
		}
	}

	fl2 := startFleet(t, dir, 2, v1Tunnels(nil))
	waitFor(t, fl2, 30*time.Second, "active again", allActive(2))
	for _, c := range fl2.RunReport().Clusters {
		if c.Origin != "reused" || c.ID != st.Clusters[c.Name].ClusterID {
			t.Errorf("%s: origin %q id %s, want reused %s", c.Name, c.Origin, c.ID, st.Clusters[c.Name].ClusterID)
		}
	}
	p, err := fl2.target.client.GetProvisioningCluster(context.Background(), rancher.DefaultNamespace, "sim-0001")
	if err != nil || p.Status.ClusterName != st.Clusters["sim-0001"].ClusterID || !p.IsActive() {
		t.Errorf("provisioning cluster after the restart: %+v, %v", p, err)
	}
}

// TestFleetV1Adoption: with the v1 route, a cluster of the fleet's name made through either
// route and carrying the tool's label is adopted; the rest are created as provisioning
// clusters.
func TestFleetV1Adoption(t *testing.T) {
	ep, rc := standaloneRancher(t)
	c, err := rancher.New(rancher.Config{URL: rc.URL, Credentials: rc.Credentials, Insecure: true, PollInterval: 50 * time.Millisecond, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	labels, _ := rancher.OwnerLabels("sca-otherrun00")
	v3, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0001", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0002", Labels: labels, API: rancher.APIv1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fl := startFleet(t, dir, 3, v1Tunnels(rc))
	waitFor(t, fl, 30*time.Second, "active", allActive(3))
	r := fl.RunReport()
	want := map[string]string{"sim-0001": "adopted " + v3.ID, "sim-0002": "adopted " + v1.ID, "sim-0003": "created c-m-"}
	for _, cl := range r.Clusters {
		if got := cl.Origin + " " + cl.ID; !strings.HasPrefix(got, want[cl.Name]) {
			t.Errorf("%s: %s, want %s", cl.Name, got, want[cl.Name])
		}
	}
	stopFleet(t, fl)
	st, _ := LoadState(dir)
	for name, wantProv := range map[string]string{"sim-0001": "", "sim-0002": "fleet-default/sim-0002", "sim-0003": "fleet-default/sim-0003"} {
		if got := st.Clusters[name].Provisioning; got != wantProv {
			t.Errorf("%s: provisioning %q, want %q", name, got, wantProv)
		}
	}
	if n := len(ep.APIClusters()); n != 3 {
		t.Errorf("Rancher has %d clusters, want 3", n)
	}
}

// TestCleanV1 deletes clusters of the v1 route through their provisioning clusters (which
// takes the management clusters along), those of v3 directly, and finds the run's
// provisioning clusters whose management cluster is gone.
func TestCleanV1(t *testing.T) {
	ep, rc := standaloneRancher(t)
	c, err := rancher.New(rancher.Config{URL: rc.URL, Credentials: rc.Credentials, Insecure: true, PollInterval: 50 * time.Millisecond, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	const run = "sca-thisrun000"
	ours, _ := rancher.OwnerLabels(run)
	create := func(name string, labels map[string]string, api rancher.API) *rancher.Cluster {
		cl, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: name, Labels: labels, API: api})
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	recorded := create("recorded", ours, rancher.APIv1)
	unrecorded := create("unrecorded", ours, rancher.APIv1) // the run crashed before writing state
	v3 := create("v3", ours, rancher.APIv3)
	orphan := create("orphan", ours, rancher.APIv1)
	create("not-ours", nil, rancher.APIv1)
	// The orphan's management cluster goes (as if deleted by hand): only its labelled
	// provisioning cluster is left.
	if err := c.DeleteCluster(ctx, orphan.ID); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := State{Version: stateVersion, RunID: run, Clusters: map[string]*ClusterRecord{
		"recorded": {RancherURL: rc.URL, ClusterID: recorded.ID, Provisioning: "fleet-default/recorded", Origin: "created"},
		"v3":       {RancherURL: rc.URL, ClusterID: v3.ID, Origin: "created"},
	}}
	raw, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, StateFile), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Clean(ctx, CleanConfig{StateDir: dir, Rancher: rc, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"orphan (fleet-default/orphan)", "recorded (" + recorded.ID + ")", "unrecorded (" + unrecorded.ID + ")", "v3 (" + v3.ID + ")"}
	if strings.Join(res.Deleted, ",") != strings.Join(want, ",") {
		t.Errorf("deleted %v, want %v", res.Deleted, want)
	}
	var left []string
	for _, cl := range ep.APIClusters() {
		left = append(left, cl.Name)
	}
	if strings.Join(left, ",") != "not-ours" {
		t.Errorf("Rancher keeps management clusters %v", left)
	}
	provs, err := c.ListProvisioningClusters(ctx, rancher.DefaultNamespace, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range provs {
		names = append(names, p.Metadata.Name)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "not-ours" {
		t.Errorf("Rancher keeps provisioning clusters %v", names)
	}
	if after, _ := LoadState(dir); len(after.Clusters) != 0 {
		t.Errorf("state.json keeps %v", after.Clusters)
	}
	res, err = Clean(ctx, CleanConfig{StateDir: dir, Rancher: rc, Log: quietLog()})
	if err != nil || len(res.Deleted) != 0 {
		t.Errorf("second clean: %+v, %v", res, err)
	}
}
