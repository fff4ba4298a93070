package tunnel

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveImportManifest serves a registration token's manifestUrl,
// /v3/import/<token>_<clusterId>.yaml: the import manifest with that token, rendered as
// Rancher renders it for the URL (no cluster id, see ManifestValues.ClusterID). Like
// Rancher it needs no authentication, the token in the path being the secret; an unknown
// token or cluster is 404. The token is matched against the cluster's current secrets,
// so a rotated-out one stops working with its grace period.
func (e *Endpoint) serveImportManifest(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	file, ok := strings.CutSuffix(r.PathValue("file"), ".yaml")
	// Cluster ids have no "_", tokens none either: the last one separates them.
	i := strings.LastIndex(file, "_")
	if !ok || i <= 0 || i == len(file)-1 || !e.api.knowsToken(file[i+1:], file[:i]) {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	manifest, err := RenderImportManifest(ManifestValues{ServerURL: serverURL(r), Token: file[:i], CAChecksum: e.checksum})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(len(manifest)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(manifest)
	}
}

// knowsToken reports whether token is a filled-in secret of one of the cluster's
// registration tokens, current or in its grace period.
func (a *rancherAPI) knowsToken(clusterID, token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.byID[clusterID]
	if c == nil || token == "" {
		return false
	}
	for _, t := range c.tokens {
		if t.value == token && !time.Now().Before(t.filledAt) || t.previous == token {
			return true
		}
	}
	return false
}
