package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/rancher/scale-cluster-agent/internal/status"
)

// defaultStatusAddr is where `run` serves /status, /metrics and pprof unless told otherwise.
const defaultStatusAddr = "127.0.0.1:9090"

func newStatusCommand() *cobra.Command {
	var addr, output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the clusters of a running 'run' and how far each got",
		Long: `Read /status from a running 'run' (its --status-addr) and print the summary
(total, registering, connecting, connected, ready, active, failed, and how many are
registered) and one line per cluster with Rancher's id and state of it, its tunnels,
time connected, reconnects, refused dials and last error (else what Rancher says it
waits for). -o json adds Rancher's transitioning message and conditions per cluster.`,
		Example: `  scale-cluster-agent status
  scale-cluster-agent status --status-addr 127.0.0.1:9191 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("no run answers on %s (is `scale-cluster-agent run --status-addr %s` running?): %w", addr, addr, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s/status: %s", addr, resp.Status)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			switch output {
			case "json":
				_, err = cmd.OutOrStdout().Write(body)
				return err
			case "table":
				var r status.Report
				if err := json.Unmarshal(body, &r); err != nil {
					return fmt.Errorf("%s/status: %w", addr, err)
				}
				return status.PrintTable(cmd.OutOrStdout(), r)
			default:
				return fmt.Errorf("-o: want table or json, got %q", output)
			}
		},
	}
	cmd.Flags().StringVar(&addr, "status-addr", defaultStatusAddr, "address of the run's status server")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}
