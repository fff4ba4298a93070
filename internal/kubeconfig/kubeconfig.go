// Package kubeconfig writes the kubeconfig that points kubectl at simulated clusters.
package kubeconfig

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/rancher/scale-cluster-agent/internal/atomicfile"
)

// FileName is the kubeconfig's name inside a state directory.
const FileName = "kubeconfig"

// Cluster is one simulated cluster as kubectl reaches it.
type Cluster struct {
	Name   string // context, cluster and user name
	Server string // https://127.0.0.1:port
	Token  string
}

// Build returns a kubeconfig with one context per cluster, the first one current.
func Build(clusters []Cluster, caPEM []byte) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	for i, c := range clusters {
		cfg.Clusters[c.Name] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: caPEM}
		cfg.AuthInfos[c.Name] = &clientcmdapi.AuthInfo{Token: c.Token}
		cfg.Contexts[c.Name] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: c.Name}
		if i == 0 {
			cfg.CurrentContext = c.Name
		}
	}
	return cfg
}

// Write stores the kubeconfig for clusters in dir, atomically and readable by the owner only:
// it holds admin tokens.
func Write(dir string, clusters []Cluster, caPEM []byte) (string, error) {
	data, err := clientcmd.Write(*Build(clusters, caPEM))
	if err != nil {
		return "", fmt.Errorf("encode kubeconfig: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return "", fmt.Errorf("write kubeconfig: %w", err)
	}
	return path, nil
}

// Read returns the kubeconfig stored in dir.
func Read(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("no kubeconfig in %s (is `scale-cluster-agent run --state-dir %s` running?): %w", dir, dir, err)
	}
	return b, nil
}
