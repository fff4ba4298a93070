package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rancher/scale-cluster-agent/internal/fixtures"
	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/mockapi"
	"github.com/rancher/scale-cluster-agent/internal/rancher"
	"github.com/rancher/scale-cluster-agent/internal/report"
	"github.com/rancher/scale-cluster-agent/internal/status"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

type runFlags struct {
	config            string
	clusters          int
	stateDir          string
	duration          time.Duration
	bindAddress       string
	watchHistory      int
	statusAddr        string
	noTunnels         bool
	connectRate       float64
	backoffMin        time.Duration
	backoffMax        time.Duration
	perClusterMetrics bool
	endpoint          driverFlags

	rancher             rancherFlags
	rancherAPI          string
	registerRate        float64
	registerConcurrency int
	followInterval      time.Duration
	reportFile          string
}

func newRunCommand(log *logrus.Logger) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Serve the simulated clusters of a fixture and register them with Rancher",
		Long: `Serve the simulated clusters described by a fixture (--config; by default the
embedded fixture: two clusters of a generic Kubernetes v1.36 look), register each one
with Rancher as an imported cluster, and connect it the way cattle-cluster-agent does.

Each cluster gets a mock Kubernetes API on its own TLS port. The CA, the token secret
and a kubeconfig with one context per cluster go into --state-dir; the kubeconfig stays
valid across restarts with the same state directory.

Registration goes through Rancher's API: POST /v3/clusters (with the labels
app.kubernetes.io/managed-by=scale-cluster-agent and scale-cluster-agent/run=<run id>),
or with --rancher-api v1 the route Rancher's UI uses, POST
/v1/provisioning.cattle.io.clusters in fleet-default (the cluster names must then be DNS
labels) and a wait for the management cluster Rancher makes for it (c-m-xxxxxxxx); then
the cluster's registration token, paced by --register-rate and
--register-concurrency. Each cluster's agent starts as soon as its token exists, and
Rancher's view of every cluster (state, conditions, transitioning message) is read back
with one GET /v3/clusters?limit=-1 every --follow-interval until it is active.

Without --rancher-url the clusters register with an embedded Rancher-compatible endpoint
in this process, through the same calls. It then does to each connected cluster what
Rancher v2.15 does (--endpoint-driver rancher): informers with watch-list, RBAC and
impersonation writes, provider detection, kubectl apply of the import manifest (--kubectl),
health checks every --health-interval, and derives Rancher's conditions and state from
them; --endpoint-driver health only checks the clusters, which costs far less at thousands.

With --rancher-url they register with that Rancher, authenticated by --rancher-token (or
RANCHER_TOKEN), or by --rancher-user and --rancher-password (or RANCHER_PASSWORD). The
token is never logged.

What was registered (Rancher URL, cluster id, registration token, listen address and
service-account token per cluster) is kept in <state-dir>/state.json, written
atomically. A second run with the same state directory reuses the same Rancher
clusters; a cluster found in Rancher by name is adopted if it carries the
managed-by label, and left alone (the simulated cluster fails) if it does not. A
registration token Rancher refuses (rotation) is read again and the tunnels reconnect.
'scale-cluster-agent clean' deletes what a state directory created.

run serves until interrupted (SIGINT, SIGTERM) or until --duration has passed, then
shuts every cluster down cleanly and prints a report: per milestone (tunnels up,
Connected, Ready, AgentDeployed, active) how long the clusters took from registration, as p50, p95,
p99 and max, and the reconnects and failures (JSON with --report).`,
		Example: `  # two clusters from the embedded fixture, registered with the embedded endpoint
  scale-cluster-agent run

  # 500 clusters of your own fixture for ten minutes
  scale-cluster-agent run --config fleet.yaml --clusters 500 --duration 10m

  # 200 clusters registered with a real Rancher, 5 per second, report as JSON
  export RANCHER_TOKEN=token-abcde:...
  scale-cluster-agent run --rancher-url https://rancher.example.com \
      --ca-checksum 9e68...6580 --clusters 200 --register-rate 5 --report report.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, log, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "fixture file describing the clusters (default: the embedded fixture)")
	fl.IntVar(&f.clusters, "clusters", 0, "total number of clusters, overriding the fixture's counts")
	fl.StringVar(&f.stateDir, "state-dir", defaultStateDir, "directory for the CA, tokens and kubeconfig")
	fl.DurationVar(&f.duration, "duration", 0, "stop after this long (default: run until interrupted)")
	fl.StringVar(&f.bindAddress, "bind-address", "127.0.0.1", "IP address the mock API listeners bind to")
	fl.IntVar(&f.watchHistory, "watch-history", mockapi.DefaultWatchHistory, "events each cluster keeps so watches can resume")
	fl.StringVar(&f.statusAddr, "status-addr", defaultStatusAddr, "address for /status, /metrics and /debug/pprof (empty: none)")
	fl.BoolVar(&f.noTunnels, "no-tunnels", false, "serve the mock APIs only, without agent tunnels and endpoint")
	fl.Float64Var(&f.connectRate, "connect-rate", 100, "first connects per second across all clusters (0: no pacing)")
	fl.DurationVar(&f.backoffMin, "backoff-min", tunnel.DefaultBackoff.Min, "first reconnect delay; doubles up to --backoff-max, ±20% jitter")
	fl.DurationVar(&f.backoffMax, "backoff-max", tunnel.DefaultBackoff.Max, "longest reconnect delay")
	f.endpoint.addFlags(fl)
	fl.BoolVar(&f.perClusterMetrics, "per-cluster-metrics", false, "also export per-cluster series on /metrics (many series at thousands of clusters)")
	f.rancher.addFlags(fl)
	fl.StringVar(&f.rancherAPI, "rancher-api", string(rancher.APIv3), "route creating the clusters: v3 (POST /v3/clusters) or v1 (POST /v1/provisioning.cattle.io.clusters, as Rancher's UI)")
	fl.Float64Var(&f.registerRate, "register-rate", 10, "clusters registered per second (0: no pacing; unpaced against the embedded endpoint unless set)")
	fl.IntVar(&f.registerConcurrency, "register-concurrency", 16, "registrations in flight at once (create, then wait for the token; 64 against the embedded endpoint unless set)")
	fl.DurationVar(&f.followInterval, "follow-interval", 0, "how often Rancher's view of the clusters is read (default 5s; 1s with the embedded endpoint); six times less often once all are active")
	fl.StringVar(&f.reportFile, "report", "", "write the run's report (time to tunnels up, Connected, Ready, active) as JSON to this file at exit")
	return cmd
}

const defaultStateDir = ".scale-cluster-agent"

// largeRancherDriverFleet is the fleet size above which run warns what the embedded
// endpoint's Rancher driver costs (measured: 200 clusters active in 100 s on 2 cores, 1.7 GiB).
const largeRancherDriverFleet = 200

// embeddedRegisterConcurrency is --register-concurrency's default against the embedded
// endpoint: 1,000 clusters register in about 3 s (16 take 9 s, waiting for their tokens).
const embeddedRegisterConcurrency = 64

func run(cmd *cobra.Command, log *logrus.Logger, f *runFlags) error {
	if f.clusters < 0 {
		return fmt.Errorf("--clusters must be >= 0, got %d", f.clusters)
	}
	rc, err := f.rancher.config()
	if err != nil {
		return err
	}
	if f.noTunnels && rc != nil {
		return fmt.Errorf("--no-tunnels serves the mock APIs only; it cannot be combined with --rancher-url")
	}
	api, err := rancher.ParseAPI(f.rancherAPI)
	if err != nil {
		return fmt.Errorf("--rancher-api: %w", err)
	}
	if f.registerRate < 0 || f.registerConcurrency < 1 {
		return fmt.Errorf("--register-rate must be >= 0 and --register-concurrency >= 1")
	}
	// The embedded endpoint takes whatever comes: unpaced and wide unless told otherwise.
	registerRate, registerConcurrency := f.registerRate, f.registerConcurrency
	if rc == nil && !cmd.Flags().Changed("register-rate") {
		registerRate = 0
	}
	if rc == nil && !cmd.Flags().Changed("register-concurrency") {
		registerConcurrency = embeddedRegisterConcurrency
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	var fx *fixtures.Fixture
	if f.config != "" {
		if fx, err = fixtures.Load(f.config, fleet.LoadOptions()); err != nil {
			return err
		}
	}
	entry := logrus.NewEntry(log)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := fleet.Config{
		Fixture: fx, Clusters: f.clusters, StateDir: f.stateDir, BindAddress: f.bindAddress,
		WatchHistory: f.watchHistory, Log: entry,
	}
	if !f.noTunnels {
		driver, deployer, err := f.endpoint.options(entry)
		if err != nil && rc == nil {
			return err
		}
		if rc == nil && driver == tunnel.DriverRancher && f.clusters > largeRancherDriverFleet {
			entry.WithField("clusters", f.clusters).Warn("the embedded endpoint runs Rancher's whole sequence on every cluster: " +
				"about 7 MiB and 0.3 s of CPU per cluster in this process, 50 clusters' controllers starting at a time as in Rancher; " +
				"--endpoint-driver health checks them only")
		}
		tunnel.QuietRemotedialerLogs()
		b := tunnel.DefaultBackoff
		b.Min, b.Max = f.backoffMin, f.backoffMax
		cfg.Tunnels = &fleet.TunnelConfig{
			Rancher: rc, API: api, RegisterRate: registerRate, RegisterConcurrency: registerConcurrency,
			FollowInterval: f.followInterval,
			ConnectRate:    f.connectRate, Backoff: b, HealthInterval: f.endpoint.healthInterval,
			LegacyHealthCheck: f.endpoint.legacyHealthCheck, Registerer: reg,
			EndpointDriver: driver, EndpointDeployer: deployer,
		}
	}
	fl, err := fleet.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if f.perClusterMetrics {
		reg.MustRegister(status.NewClusterCollector(fl.Report))
	}
	var statusSrv *status.Server
	if f.statusAddr != "" {
		if statusSrv, err = status.NewServer(f.statusAddr, fl.Report, reg, entry.WithField("component", "status")); err != nil {
			_ = fl.Shutdown(context.Background())
			return err
		}
	}
	printWelcome(cmd, fl, statusSrv, f.stateDir)
	entry.WithFields(logrus.Fields{"clusters": len(fl.Clusters), "startup": fl.StartupTime.Round(time.Millisecond)}).Info("serving")
	if cfg.Tunnels != nil {
		out := cmd.OutOrStdout()
		p := &status.Progress{Out: out, Terminal: isTerminal(out), Log: entry, LogEvery: 30 * time.Second,
			Summary: func() status.Summary { return fl.Report().Summary }}
		go p.Run(ctx)
	}
	<-ctx.Done()
	entry.Info("shutting down")
	var rep *report.Report
	if cfg.Tunnels != nil {
		rep = fl.RunReport() // before the agents stop
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if statusSrv != nil {
		_ = statusSrv.Shutdown(sctx)
	}
	err = fl.Shutdown(sctx)
	if rep != nil {
		out := cmd.OutOrStdout()
		fmt.Fprintln(out)
		if perr := rep.PrintTable(out); perr != nil {
			err = errors.Join(err, perr)
		}
		if f.reportFile != "" {
			if werr := rep.WriteJSON(f.reportFile); werr != nil {
				err = errors.Join(err, werr)
			} else {
				fmt.Fprintf(out, "Report written to %s\n", f.reportFile)
			}
		}
	}
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func printWelcome(cmd *cobra.Command, fl *fleet.Fleet, statusSrv *status.Server, stateDir string) {
	out := cmd.OutOrStdout()
	names := make([]string, 0, 3)
	for i, c := range fl.Clusters {
		if i == 3 {
			names = append(names, fmt.Sprintf("… %d more", len(fl.Clusters)-3))
			break
		}
		names = append(names, c.Name())
	}
	first := fl.Clusters[0]
	fmt.Fprintf(out, "Serving %d simulated cluster(s) (%s) in %s: %s\n", len(fl.Clusters), first.GitVersion(),
		fl.StartupTime.Round(time.Millisecond), strings.Join(names, ", "))
	fmt.Fprintf(out, "Kubeconfig: %s (one context per cluster)\n", fl.KubeconfigPath)
	switch {
	case fl.Embedded():
		fmt.Fprintf(out, "Clusters register with the embedded Rancher endpoint at %s (state: %s)\n", fl.RancherURL(), filepath.Join(stateDir, fleet.StateFile))
	case fl.RancherURL() != "":
		fmt.Fprintf(out, "Clusters register with Rancher at %s as run %s (state: %s)\n", fl.RancherURL(), fl.RunID(), filepath.Join(stateDir, fleet.StateFile))
	}
	if statusSrv != nil {
		fmt.Fprintf(out, "Status: http://%s/status (or: scale-cluster-agent status --status-addr %s)\n", statusSrv.Address(), statusSrv.Address())
	}
	fmt.Fprintf(out, "\nTry:\n  kubectl --kubeconfig %s --context %s get nodes\n\n", fl.KubeconfigPath, first.Name())
}
