package rancher

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestFetchCACerts(t *testing.T) {
	// The server's own certificate doubles as "the CA": any valid PEM certificate will do.
	var mu sync.Mutex // the handler runs in the server's goroutines
	var value string
	pingStatus := http.StatusOK
	set := func(v string, ping int) {
		mu.Lock()
		value, pingStatus = v, ping
		mu.Unlock()
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		v, ping := value, pingStatus
		mu.Unlock()
		switch r.URL.Path {
		case "/ping":
			w.WriteHeader(ping)
			w.Write([]byte("pong"))
		case "/v3/settings/cacerts":
			json.NewEncoder(w).Encode(map[string]any{"id": "cacerts", "type": "setting", "value": v})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	certNoNL := strings.TrimSuffix(certPEM, "\n")
	sum := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}

	for _, tc := range []struct {
		name       string
		value      string
		checksum   string
		pingStatus int
		wantPool   bool
		wantErr    []string
	}{
		{name: "checksum of the value with its newline", value: certPEM, checksum: sum(certPEM), wantPool: true},
		{name: "no trailing newline: checksum over value+newline", value: certNoNL, checksum: sum(certNoNL + "\n"), wantPool: true},
		{name: "no trailing newline: checksum over the bare value is wrong", value: certNoNL, checksum: sum(certNoNL),
			wantErr: []string{"checksum mismatch", sum(certNoNL + "\n"), sum(certNoNL)}},
		{name: "upper-case checksum", value: certPEM, checksum: strings.ToUpper(sum(certPEM)), wantPool: true},
		{name: "no checksum: not checked", value: certPEM, wantPool: true},
		{name: "mismatch quotes both", value: certPEM, checksum: strings.Repeat("ab", 32),
			wantErr: []string{"checksum mismatch", sum(certPEM), strings.Repeat("ab", 32)}},
		{name: "empty value: system roots", value: ""},
		{name: "empty value with a checksum", value: "", checksum: sum(certPEM), wantErr: []string{"checksum mismatch", sum("\n")}},
		{name: "not PEM", value: "hello\n", checksum: sum("hello\n"), wantErr: []string{"not PEM"}},
		{name: "not a certificate", value: "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n", wantErr: []string{"not a valid certificate"}},
		{name: "a key, not a certificate", value: "-----BEGIN PRIVATE KEY-----\naGVsbG8=\n-----END PRIVATE KEY-----\n", wantErr: []string{`"PRIVATE KEY"`}},
		{name: "two certificates", value: certPEM + certPEM, wantPool: true},
		{name: "ping fails", value: certPEM, pingStatus: http.StatusServiceUnavailable, wantErr: []string{"not reachable", "503"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ping := http.StatusOK
			if tc.pingStatus != 0 {
				ping = tc.pingStatus
			}
			set(tc.value, ping)
			pool, pemBytes, err := FetchCACerts(context.Background(), srv.URL+"/", tc.checksum, nil)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (pool != nil) != tc.wantPool {
				t.Errorf("pool %v, want one: %v", pool, tc.wantPool)
			}
			if tc.wantPool && string(pemBytes) != tc.value {
				t.Errorf("PEM %q", pemBytes)
			}
			if !tc.wantPool && pemBytes != nil {
				t.Errorf("PEM %q without a pool", pemBytes)
			}
		})
	}

	t.Run("the pool trusts the server", func(t *testing.T) {
		set(certPEM, http.StatusOK)
		pool, _, err := FetchCACerts(context.Background(), srv.URL, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := c.Get(srv.URL + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
	t.Run("caller's client is used", func(t *testing.T) {
		set(certPEM, http.StatusOK)
		_, _, err := FetchCACerts(context.Background(), srv.URL, "", &http.Client{})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("a verifying client fetched from an untrusted server: %v", err)
		}
	})
	t.Run("checksum", func(t *testing.T) {
		if CAChecksum("x") != sum("x\n") || CAChecksum("x\n") != sum("x\n") {
			t.Error("checksum rule")
		}
	})
}
