package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// Environment variables that stand in for the secret flags, so that secrets stay out of
// the process list and shell history.
const (
	envRancherToken    = "RANCHER_TOKEN"
	envRancherPassword = "RANCHER_PASSWORD"
)

// rancherFlags say which Rancher to talk to and how; run and clean share them.
type rancherFlags struct {
	url      string
	token    string
	user     string
	password string
	checksum string
	insecure bool
	qps      float64
}

func (r *rancherFlags) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&r.url, "rancher-url", "", "Rancher's server URL (default: the embedded endpoint, in this process)")
	fl.StringVar(&r.token, "rancher-token", "", "Rancher API token, token-xxxxx:<secret> (default $"+envRancherToken+"); never logged")
	fl.StringVar(&r.user, "rancher-user", "", "log in as this local Rancher user instead of using an API token")
	fl.StringVar(&r.password, "rancher-password", "", "password of --rancher-user (default $"+envRancherPassword+")")
	fl.StringVar(&r.checksum, "ca-checksum", "", "sha256 of Rancher's cacerts setting (CATTLE_CA_CHECKSUM): trust that CA, for the API and the agents")
	fl.BoolVar(&r.insecure, "insecure-skip-tls-verify", false, "do not verify Rancher's certificate (API and agents); for a lab Rancher only")
	fl.Float64Var(&r.qps, "rancher-qps", 50, "most API requests per second sent to Rancher (0: no limit)")
}

// config is the fleet's RancherConfig, nil without --rancher-url.
func (r *rancherFlags) config() (*fleet.RancherConfig, error) {
	token := r.token
	if token == "" {
		token = os.Getenv(envRancherToken)
	}
	password := r.password
	if password == "" {
		password = os.Getenv(envRancherPassword)
	}
	if r.url == "" {
		if r.token != "" || r.user != "" || r.checksum != "" || r.insecure {
			return nil, errors.New("--rancher-token, --rancher-user, --ca-checksum and --insecure-skip-tls-verify need --rancher-url")
		}
		return nil, nil
	}
	if r.qps < 0 {
		return nil, fmt.Errorf("--rancher-qps must be >= 0")
	}
	var creds rancher.Credentials
	switch {
	case r.user != "" && r.token != "":
		return nil, errors.New("give --rancher-token or --rancher-user, not both")
	case r.user != "":
		if password == "" {
			return nil, fmt.Errorf("--rancher-user %s needs --rancher-password or $%s", r.user, envRancherPassword)
		}
		creds = rancher.LoginAuth(r.user, password)
	case token != "":
		creds = rancher.TokenAuth(token)
	default:
		return nil, fmt.Errorf("--rancher-url needs credentials: --rancher-token (or $%s), or --rancher-user and --rancher-password", envRancherToken)
	}
	return &fleet.RancherConfig{URL: r.url, Credentials: creds, CAChecksum: r.checksum, Insecure: r.insecure, QPS: r.qps}, nil
}
