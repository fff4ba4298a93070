package pki

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateIsStable(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.CertPEM) != string(b.CertPEM) {
		t.Error("a second load created a new CA")
	}
	if a.Token("sim-0001") != b.Token("sim-0001") || a.Token("sim-0001") == a.Token("sim-0002") {
		t.Error("tokens must be stable per name and differ between names")
	}
	for name, mode := range map[string]os.FileMode{caKeyFile: 0o600, tokenKeyFile: 0o600, caCertFile: 0o644} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v (%v), want %v", name, st.Mode().Perm(), err, mode)
		}
	}
}

func TestServingCertVerifies(t *testing.T) {
	a, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.ServingCert("10.43.0.1", "sim.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost", "10.43.0.1", "sim.example"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: a.CertPool()}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "10.0.0.9", Roots: a.CertPool()}); err == nil {
		t.Error("certificate verifies for an address it does not name")
	}
}

func TestLoadOrCreateHalfState(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, caKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Fatal("a CA certificate without its key must be an error, not silently replaced")
	}
}
