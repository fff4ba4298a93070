package app

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

type cleanFlags struct {
	stateDir    string
	rancher     rancherFlags
	rate        float64
	concurrency int
	dryRun      bool
}

func newCleanCommand(log *logrus.Logger) *cobra.Command {
	f := &cleanFlags{}
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Delete from Rancher the clusters a state directory created",
		Long: `Delete from Rancher the imported clusters that 'run' registered with the same
--state-dir, and only those: clusters carrying the label
` + rancher.LabelManagedBy + `=` + rancher.ManagedBy + ` and either this state directory's
run label (` + rancher.LabelRun + `=<run id in state.json>) or an id that state.json
records. A cluster without the managed-by label is never deleted, even if state.json
names it. A cluster that 'run --rancher-api v1' created is deleted through its
provisioning cluster (DELETE /v1/provisioning.cattle.io.clusters/<namespace>/<name>),
which owns the management cluster and takes it along; the run's labelled provisioning
clusters that never got a management cluster are deleted too.

Deletions are paced by --delete-rate and --delete-concurrency. clean is idempotent: each
deleted cluster leaves state.json, a cluster already gone counts as done, and a second
clean finds nothing to do.

Without --rancher-url there is nothing to delete: the embedded endpoint's clusters lived
in the run's process. clean says so, and names the Rancher servers state.json records.`,
		Example: `  # what would be deleted
  scale-cluster-agent clean --rancher-url https://rancher.example.com --state-dir .scale-cluster-agent --dry-run

  # delete, 5 clusters per second
  RANCHER_TOKEN=token-abcde:... scale-cluster-agent clean --rancher-url https://rancher.example.com --delete-rate 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return clean(cmd, log, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.stateDir, "state-dir", defaultStateDir, "state directory of the runs whose clusters to delete")
	f.rancher.addFlags(fl)
	fl.Float64Var(&f.rate, "delete-rate", 10, "clusters deleted per second (0: no pacing)")
	fl.IntVar(&f.concurrency, "delete-concurrency", 4, "deletions in flight at once")
	fl.BoolVar(&f.dryRun, "dry-run", false, "list what would be deleted, delete nothing")
	return cmd
}

func clean(cmd *cobra.Command, log *logrus.Logger, f *cleanFlags) error {
	rc, err := f.rancher.config()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(f.stateDir, fleet.StateFile)); err != nil && rc == nil {
		fmt.Fprintf(cmd.OutOrStdout(), "Nothing to clean: %s has no %s.\n", f.stateDir, fleet.StateFile)
		return nil
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := fleet.Clean(ctx, fleet.CleanConfig{
		StateDir: f.stateDir, Rancher: rc, Rate: f.rate, Concurrency: f.concurrency, DryRun: f.dryRun,
		Log: logrus.NewEntry(log),
	})
	if res != nil {
		printClean(cmd, res, f.dryRun)
	}
	return err
}

func printClean(cmd *cobra.Command, res *fleet.CleanResult, dryRun bool) {
	out := cmd.OutOrStdout()
	if res.RancherURL == "" {
		fmt.Fprintln(out, "Nothing to delete without --rancher-url: clusters registered with the embedded endpoint lived in their run's process.")
	} else {
		verb := "Deleted"
		if dryRun {
			verb = "Would delete"
		}
		if len(res.Deleted) == 0 {
			fmt.Fprintf(out, "Nothing to delete in %s for run %s.\n", res.RancherURL, res.RunID)
		} else {
			fmt.Fprintf(out, "%s %d cluster(s) of run %s from %s: %s\n", verb, len(res.Deleted), res.RunID, res.RancherURL, strings.Join(res.Deleted, ", "))
		}
		if len(res.Forgotten) > 0 {
			fmt.Fprintf(out, "Already gone from Rancher, removed from state.json: %s\n", strings.Join(res.Forgotten, ", "))
		}
		if len(res.Kept) > 0 {
			fmt.Fprintf(out, "Left alone (no %s=%s label any more): %s\n", rancher.LabelManagedBy, rancher.ManagedBy, strings.Join(res.Kept, ", "))
		}
	}
	where := make([]string, 0, len(res.Elsewhere))
	for w := range res.Elsewhere {
		where = append(where, w)
	}
	sort.Strings(where)
	for _, w := range where {
		fmt.Fprintf(out, "state.json also records %d cluster(s) registered with %s.\n", res.Elsewhere[w], w)
	}
}
