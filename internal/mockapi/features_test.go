package mockapi

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// TestNoWatchCompression: watches, watch-lists included, are not compressed even when the
// client accepts gzip, as from a v1.36 kube-apiserver; small lists are not either.
func TestNoWatchCompression(t *testing.T) {
	_, cfg := testCluster(t)
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableCompression: true}}
	tests := []struct {
		name, query string
		watch       bool
	}{
		{name: "watch-list", query: "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true", watch: true},
		{name: "watch", query: "?watch=true&allowWatchBookmarks=true", watch: true},
		{name: "list", query: "?limit=500"},
	}
	for _, tt := range tests {
		for _, accept := range []string{"application/vnd.kubernetes.protobuf, application/json", "application/json"} {
			t.Run(tt.name+" "+accept, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/api/v1/namespaces"+tt.query, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+cfg.BearerToken)
				req.Header.Set("Accept", accept)
				req.Header.Set("Accept-Encoding", "gzip")
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %s", resp.Status)
				}
				if ce := resp.Header.Get("Content-Encoding"); ce != "" {
					t.Errorf("Content-Encoding %q, want none", ce)
				}
				if !tt.watch {
					_, _ = io.Copy(io.Discard, resp.Body)
				}
			})
		}
	}
}
