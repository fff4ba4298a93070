// Package app holds the scale-cluster-agent command line: flag parsing and wiring only.
package app

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

type globalFlags struct {
	logLevel  string
	logFormat string
}

// NewCommand returns the root command.
func NewCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	log := logrus.New()
	log.SetOutput(stderr)
	cmd := &cobra.Command{
		Use:   "scale-cluster-agent",
		Short: "Simulate many Kubernetes clusters for Rancher scale testing",
		Long: `scale-cluster-agent stands in for thousands of Kubernetes clusters on one machine.

Each simulated cluster serves a mock Kubernetes API built from the real apiserver
machinery (discovery, tables, watch, patch and server-side apply, Status errors) on its
own TLS port on 127.0.0.1, with nodes, namespaces and versions generated from a fixture.
Point kubectl at one with the kubeconfig that 'run' writes.`,
		SilenceUsage:  true,
		SilenceErrors: false,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return configureLogging(log, g)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: trace, debug, info, warn or error")
	cmd.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	cmd.AddCommand(newRunCommand(log), newCleanCommand(log), newEndpointCommand(log), newKubeconfigCommand(), newStatusCommand())
	return cmd
}

func configureLogging(log *logrus.Logger, g *globalFlags) error {
	lvl, err := logrus.ParseLevel(g.logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log.SetLevel(lvl)
	switch g.logFormat {
	case "text":
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	case "json":
		log.SetFormatter(&logrus.JSONFormatter{})
	default:
		return fmt.Errorf("--log-format: want text or json, got %q", g.logFormat)
	}
	// The apiserver libraries log through klog; their per-request lines are only worth
	// seeing when debugging.
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if lvl >= logrus.DebugLevel {
		_ = fs.Set("v", "2")
		klog.SetOutput(os.Stderr)
	} else {
		_ = fs.Set("logtostderr", "false")
		_ = fs.Set("alsologtostderr", "false")
		_ = fs.Set("stderrthreshold", "FATAL")
		klog.SetOutput(io.Discard)
	}
	return nil
}
