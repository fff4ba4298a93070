package app

import (
	"context"
	"fmt"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/rancher/scale-cluster-agent/internal/pki"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

type endpointFlags struct {
	listen     string
	stateDir   string
	duration   time.Duration
	adminToken string
	tokenDelay time.Duration
	tokenTTL   time.Duration
	tokenGrace time.Duration
	driver     driverFlags
}

func newEndpointCommand(log *logrus.Logger) *cobra.Command {
	f := &endpointFlags{}
	cmd := &cobra.Command{
		Use:   "endpoint",
		Short: "Run the embedded Rancher-compatible endpoint on its own",
		Long: `Run the Rancher-compatible endpoint that 'run' embeds, as a process of its own, so
that 'run --rancher-url' can be tried (or tested) against it as against a real Rancher,
and so that the agents' and the Rancher side's costs show in separate processes.

It serves what registering and connecting imported clusters needs: Rancher's cluster and
registration-token API (/v3/clusters, /v3/clusterregistrationtokens, login), /ping,
/v3/settings/cacerts and the agents' tunnels (/v3/connect, /v3/connect/register), and it
checks every connected cluster through its tunnels as Rancher does.

It prints its URL, an admin API token (generated, or --admin-token), the admin user's
password and the CA checksum, then serves until interrupted or --duration has passed.
Its CA and serving certificate live in --state-dir. It keeps its clusters in memory
only: a restarted endpoint knows none.

--token-ttl rotates each cluster's registration token that old, as Rancher's
crt-token TTL does (30 days there); the previous token keeps working for --token-grace,
after which the endpoint also closes that cluster's tunnels, so that agents still
holding it are refused at once.`,
		Example: `  scale-cluster-agent endpoint --listen 127.0.0.1:8443
  # in another shell, with the token and checksum it printed:
  scale-cluster-agent run --rancher-url https://127.0.0.1:8443 --rancher-token token-... --ca-checksum ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEndpoint(cmd, log, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8443", "address to listen on (port 0: any free port)")
	fl.StringVar(&f.stateDir, "state-dir", ".scale-cluster-agent-endpoint", "directory for the endpoint's CA and serving certificate")
	fl.DurationVar(&f.duration, "duration", 0, "stop after this long (default: run until interrupted)")
	fl.StringVar(&f.adminToken, "admin-token", "", "API token to accept as the admin, token-xxxxx:<secret> (default: generated)")
	fl.DurationVar(&f.tokenDelay, "token-delay", tunnel.DefaultTokenDelay, "how long a new cluster's registration token reads empty, as Rancher fills it in asynchronously")
	fl.DurationVar(&f.tokenTTL, "token-ttl", 0, "rotate registration tokens this old (0: never)")
	fl.DurationVar(&f.tokenGrace, "token-grace", 0, "how long a rotated-out token keeps working")
	f.driver.addFlags(fl)
	return cmd
}

func runEndpoint(cmd *cobra.Command, log *logrus.Logger, f *endpointFlags) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", f.listen, err)
	}
	auth, err := pki.LoadOrCreate(f.stateDir)
	if err != nil {
		return err
	}
	var hosts []string
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified() && !ip.IsLoopback()) {
		hosts = append(hosts, host)
	}
	cert, err := auth.ServingCert(hosts...)
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	tunnel.QuietRemotedialerLogs()
	entry := logrus.NewEntry(log)
	driver, deployer, err := f.driver.options(entry)
	if err != nil {
		return err
	}
	ep, err := tunnel.NewEndpoint(tunnel.EndpointOptions{
		Address: f.listen, Certificate: cert, CACertPEM: auth.CertPEM, HealthInterval: f.driver.healthInterval,
		ReadyzCheck: !f.driver.legacyHealthCheck, Log: entry.WithField("component", "endpoint"),
		Driver: driver, Deployer: deployer,
	})
	if err != nil {
		return err
	}
	if err := ep.ConfigureAPI(tunnel.APIOptions{
		AdminToken: f.adminToken, TokenDelay: f.tokenDelay, TokenTTL: f.tokenTTL, TokenGrace: f.tokenGrace,
	}); err != nil {
		return err
	}
	if err := ep.Start(context.Background()); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Rancher-compatible endpoint at %s\n", ep.URL())
	fmt.Fprintf(out, "API token: %s\n", ep.AdminToken())
	fmt.Fprintf(out, "Admin password: %s\n", ep.AdminPassword())
	fmt.Fprintf(out, "CA checksum: %s\n", ep.CAChecksum())
	fmt.Fprintf(out, "\nRegister simulated clusters with it:\n  scale-cluster-agent run --rancher-url %s --rancher-token %s --ca-checksum %s\n\n",
		ep.URL(), ep.AdminToken(), ep.CAChecksum())
	<-ctx.Done()
	entry.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return ep.Shutdown(sctx)
}
