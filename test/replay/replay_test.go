package replay

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/sirupsen/logrus"
	"k8s.io/klog/v2"
)

// TestReplay replays the recorded Rancher v2.15.0 traffic against a simulated cluster and
// fails, listing them, if any response differs from the recording. REPLAY_SEQ=from-to
// narrows the comparison to a range of requests; REPLAY_ALL=1 lists every compared request and
// what the harness mapped, REPLAY_DEBUG=1 (with -v) turns on the cluster's debug log.
func TestReplay(t *testing.T) {
	rng, err := ParseSeqRange(os.Getenv("REPLAY_SEQ"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := LoadTrace("testdata/requests.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	overrides, err := LoadOverrides("testdata/overrides.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	if testing.Verbose() && os.Getenv("REPLAY_DEBUG") != "" {
		log.SetLevel(logrus.DebugLevel)
	} else {
		// The apiserver library's klog lines and remotedialer's (logrus's standard logger)
		// would bury the report.
		klog.SetLogger(logr.Discard())
		logrus.SetLevel(logrus.ErrorLevel)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, "testdata/fixture.yaml", t.TempDir(), logrus.NewEntry(log))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	}()

	rep := Run(ctx, c.Target, recs, Options{Range: rng, Overrides: overrides, Log: logrus.NewEntry(log)})
	t.Log(rep.Summary())
	if len(rep.Results) == 0 {
		t.Fatalf("REPLAY_SEQ=%s selects no request of the %d recorded", rng, len(recs))
	}
	t.Logf("watch-lists (initial objects: recorded ≈ ADDED less the creates seen while open; replay = ADDED before the initial-events-end bookmark):\n%s", rep.WatchLists())
	if os.Getenv("REPLAY_ALL") != "" {
		t.Logf("every compared request:\n%s", rep.All())
		t.Logf("mapped:\n%s", strings.Join(rep.Learned, "\n"))
	}
	ms := rep.Mismatches()
	if len(ms) == 0 {
		return
	}
	t.Logf("mismatches by request and problem:\n%s", rep.Groups())
	t.Logf("mismatches:\n%s", rep.Table(150))
	t.Logf("details (request, recorded and actual response):\n%s", rep.Details(2))
	t.Errorf("%d of %d replayed requests differ from the recording (listed above)", len(ms), len(rep.Results))
}
