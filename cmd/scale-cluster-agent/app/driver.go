package app

import (
	"fmt"
	"os/exec"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// driverFlags choose what the embedded endpoint does to a connected cluster and how often it
// checks it; run and endpoint share them.
type driverFlags struct {
	driver            string
	kubectl           string
	healthInterval    time.Duration
	legacyHealthCheck bool
}

func (f *driverFlags) addFlags(fl *pflag.FlagSet) {
	fl.DurationVar(&f.healthInterval, "health-interval", 15*time.Second, "how often the endpoint checks each connected cluster, as Rancher does")
	fl.BoolVar(&f.legacyHealthCheck, "legacy-health-check", false, "check GET /api/v1/namespaces/kube-system (Rancher <= 2.13) instead of /readyz")
	fl.StringVar(&f.driver, "endpoint-driver", tunnel.DriverRancher,
		`what the embedded endpoint does to each connected cluster: "rancher" runs Rancher v2.15's whole sequence (informers, RBAC and impersonation writes, provider detection, kubectl apply of the import manifest, conditions and state on Rancher's ticks); "health" only its health checks, which costs far less at thousands of clusters`)
	fl.StringVar(&f.kubectl, "kubectl", "kubectl", "kubectl binary the rancher driver applies the import manifest with, as Rancher's clusterdeploy does")
}

// options returns the endpoint's driver and, for the rancher driver, its deployer.
func (f *driverFlags) options(log *logrus.Entry) (string, tunnel.Deployer, error) {
	switch f.driver {
	case tunnel.DriverHealth:
		return f.driver, nil, nil
	case tunnel.DriverRancher:
	default:
		return "", nil, fmt.Errorf("--endpoint-driver %q: want %q or %q", f.driver, tunnel.DriverRancher, tunnel.DriverHealth)
	}
	path, err := exec.LookPath(f.kubectl)
	if err != nil {
		return "", nil, fmt.Errorf("--endpoint-driver rancher applies the import manifest with kubectl: %w (install kubectl, name it with --kubectl, or use --endpoint-driver health)", err)
	}
	return f.driver, &tunnel.AgentDeployer{KubectlPath: path, Log: log.WithField("component", "clusterdeploy")}, nil
}
