// Command scale-cluster-agent simulates many Kubernetes clusters in one process, each with a
// mock Kubernetes API, for testing Rancher at scale.
package main

import (
	"os"

	"github.com/rancher/scale-cluster-agent/cmd/scale-cluster-agent/app"
)

func main() {
	if err := app.NewCommand(os.Stdout, os.Stderr).Execute(); err != nil {
		os.Exit(1)
	}
}
