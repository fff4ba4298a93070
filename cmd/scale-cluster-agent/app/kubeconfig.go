package app

import (
	"github.com/spf13/cobra"

	"github.com/rancher/scale-cluster-agent/internal/kubeconfig"
)

func newKubeconfigCommand() *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the kubeconfig of the simulated clusters",
		Long: `Print the kubeconfig that 'run' wrote to its state directory: one context per
simulated cluster, named after the cluster, with its admin token and CA.`,
		Example: `  scale-cluster-agent kubeconfig > /tmp/sim.kubeconfig
  kubectl --kubeconfig /tmp/sim.kubeconfig config get-contexts`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := kubeconfig.Read(stateDir)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", defaultStateDir, "state directory of the run")
	return cmd
}
