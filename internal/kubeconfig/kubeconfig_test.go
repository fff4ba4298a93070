package kubeconfig

import (
	"os"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestWriteAndRead(t *testing.T) {
	dir := t.TempDir()
	clusters := []Cluster{
		{Name: "sim-0001", Server: "https://127.0.0.1:40001", Token: "t1"},
		{Name: "sim-0002", Server: "https://127.0.0.1:40002", Token: "t2"},
	}
	path, err := Write(dir, clusters, []byte("CA"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: the file holds admin tokens", st.Mode().Perm())
	}
	b, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "sim-0001" || len(cfg.Contexts) != 2 {
		t.Fatalf("current %q, %d contexts", cfg.CurrentContext, len(cfg.Contexts))
	}
	for _, c := range clusters {
		rc, err := clientcmd.NewNonInteractiveClientConfig(*cfg, c.Name, nil, nil).ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		if rc.Host != c.Server || rc.BearerToken != c.Token || string(rc.CAData) != "CA" {
			t.Errorf("context %s: host %s token %s", c.Name, rc.Host, rc.BearerToken)
		}
	}
	if _, err := Read(t.TempDir()); err == nil {
		t.Error("reading an empty state dir must fail")
	}
}
