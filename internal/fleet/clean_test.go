package fleet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// TestClean deletes what the state directory created and nothing else, and is idempotent.
func TestClean(t *testing.T) {
	ep, rc := standaloneRancher(t)
	c, err := rancher.New(rancher.Config{URL: rc.URL, Credentials: rc.Credentials, Insecure: true, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	const run = "sca-thisrun000"
	ours, _ := rancher.OwnerLabels(run)
	other, _ := rancher.OwnerLabels("sca-otherrun00")
	create := func(name string, labels map[string]string) string {
		cl, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: name, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return cl.ID
	}
	ids := map[string]string{
		"recorded":         create("recorded", ours),
		"unrecorded":       create("unrecorded", ours),      // created, then the run crashed before writing state
		"adopted":          create("adopted", other),        // another run's, adopted by this one
		"other-run":        create("other-run", other),      // another state directory's
		"not-ours":         create("not-ours", nil),         // somebody's real cluster
		"recorded-unowned": create("recorded-unowned", nil), // recorded, but its label was removed
	}
	dir := t.TempDir()
	st := State{Version: stateVersion, RunID: run, Clusters: map[string]*ClusterRecord{}}
	for _, name := range []string{"recorded", "adopted", "recorded-unowned"} {
		st.Clusters[name] = &ClusterRecord{RancherURL: rc.URL, ClusterID: ids[name], Origin: "created"}
	}
	st.Clusters["gone"] = &ClusterRecord{RancherURL: rc.URL, ClusterID: "c-gone1"}
	st.Clusters["elsewhere"] = &ClusterRecord{RancherURL: "https://other.example.com", ClusterID: "c-other"}
	st.Clusters["embedded"] = &ClusterRecord{Embedded: true, ClusterID: "c-emb01"}
	raw, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, StateFile), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	remaining := func() []string {
		var out []string
		for _, cl := range ep.APIClusters() {
			out = append(out, cl.Name)
		}
		sort.Strings(out)
		return out
	}

	cfg := CleanConfig{StateDir: dir, Rancher: rc, Rate: 100, Log: quietLog(), DryRun: true}
	res, err := Clean(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 3 || len(remaining()) != 6 {
		t.Fatalf("dry run: would delete %v; Rancher has %v", res.Deleted, remaining())
	}

	cfg.DryRun = false
	res, err = Clean(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"adopted (" + ids["adopted"] + ")", "recorded (" + ids["recorded"] + ")", "unrecorded (" + ids["unrecorded"] + ")"}
	if strings.Join(res.Deleted, ",") != strings.Join(want, ",") {
		t.Errorf("deleted %v, want %v", res.Deleted, want)
	}
	if got := strings.Join(remaining(), ","); got != "not-ours,other-run,recorded-unowned" {
		t.Errorf("Rancher keeps %s", got)
	}
	if len(res.Forgotten) != 1 || !strings.HasPrefix(res.Forgotten[0], "gone ") || len(res.Kept) != 1 || !strings.HasPrefix(res.Kept[0], "recorded-unowned ") {
		t.Errorf("forgotten %v, kept %v", res.Forgotten, res.Kept)
	}
	if res.Elsewhere["https://other.example.com"] != 1 || res.Elsewhere["the embedded endpoint"] != 1 {
		t.Errorf("elsewhere %v", res.Elsewhere)
	}
	after, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range after.Clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "elsewhere,embedded,recorded-unowned" {
		t.Errorf("state.json keeps %s", got)
	}

	// Again: nothing to do.
	res, err = Clean(ctx, cfg)
	if err != nil || len(res.Deleted) != 0 || len(res.Forgotten) != 0 {
		t.Errorf("second clean: %+v, %v", res, err)
	}
	// Without a Rancher: nothing deleted, the records are named.
	res, err = Clean(ctx, CleanConfig{StateDir: dir, Log: quietLog()})
	if err != nil || res.RancherURL != "" || res.Elsewhere["the embedded endpoint"] != 1 || len(remaining()) != 3 {
		t.Errorf("clean without Rancher: %+v, %v", res, err)
	}
}
