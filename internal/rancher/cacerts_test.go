package rancher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestCAChecksum(t *testing.T) {
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	tests := []struct{ value, want string }{
		{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", sum("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")},
		{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", sum("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")}, // jq -r adds the newline
	}
	for _, tt := range tests {
		if got := CAChecksum(tt.value); got != tt.want {
			t.Errorf("CAChecksum(%q) = %s, want %s", tt.value, got, tt.want)
		}
	}
}

func TestCACerts(t *testing.T) {
	s := newStandIn(t)
	pemText := s.cacerts
	trimmed := strings.TrimRight(pemText, "\n")
	tests := []struct {
		name     string
		value    string
		checksum string
		wantErr  string
		wantPool bool
	}{
		{"matching checksum", pemText, CAChecksum(pemText), "", true},
		{"value without trailing newline, checksum of value+newline", trimmed, CAChecksum(trimmed + "\n"), "", true},
		{"upper-case checksum", pemText, strings.ToUpper(CAChecksum(pemText)), "", true},
		{"no checksum given: not checked", pemText, "", "", true},
		{"wrong checksum", pemText, strings.Repeat("0", 64), "checksum mismatch", false},
		{"empty setting: publicly trusted, no pool", "", "", "", false},
		{"not a certificate", "hello", "", "not PEM", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.set(func(s *standIn) { s.cacerts = tt.value })
			c := s.client(TokenAuth(s.apiToken))
			ca, err := c.CACerts(context.Background(), tt.checksum)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (ca.Pool != nil) != tt.wantPool {
				t.Fatalf("pool %v, want one: %v", ca.Pool, tt.wantPool)
			}
			if tt.value == "" {
				if ca.PEM != nil || ca.Checksum != "" {
					t.Errorf("empty setting gave %+v", ca)
				}
				return
			}
			if ca.Checksum != CAChecksum(tt.value) {
				t.Errorf("checksum %s, want %s", ca.Checksum, CAChecksum(tt.value))
			}
		})
	}
	s.set(func(s *standIn) { s.cacerts = pemText })
	if got := s.hitCount("GET /v3/settings/cacerts"); got != len(tests) {
		t.Errorf("%d cacerts reads, want %d", got, len(tests))
	}
}

// FetchCA bootstraps trust in a private CA from its checksum, as the agent does.
func TestFetchCAThenVerify(t *testing.T) {
	s := newStandIn(t)
	ctx := context.Background()
	if _, err := FetchCA(ctx, s.srv.URL, ""); err == nil {
		t.Fatal("FetchCA without a checksum trusted an unverified CA")
	}
	if _, err := FetchCA(ctx, s.srv.URL, strings.Repeat("a", 64)); err == nil || !strings.Contains(err.Error(), "mismatch") {
		t.Fatalf("wrong checksum: %v", err)
	}
	ca, err := FetchCA(ctx, s.srv.URL, CAChecksum(s.cacerts))
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.config(TokenAuth(s.apiToken))
	cfg.CAPool = ca.Pool
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCluster(ctx, "local"); err != nil {
		t.Fatalf("with the fetched CA: %v", err)
	}
}
