package mockapi

import (
	"encoding/json"
	"net/http"

	apimachineryversion "k8s.io/apimachinery/pkg/version"
)

// versionInfo is what a cluster's /version reports, pre-encoded: Rancher probes it often.
type versionInfo struct {
	GitVersion string
	body       []byte
}

// newVersionInfo encodes info, or when it is empty, a minimal /version for the release the
// API documents came from.
func newVersionInfo(info apimachineryversion.Info, docsVersion string) versionInfo {
	if info.GitVersion == "" {
		info = apimachineryversion.Info{GitVersion: docsVersion, GitTreeState: "clean", Compiler: "gc", Platform: "linux/amd64"}
	}
	body, _ := json.MarshalIndent(info, "", "  ")
	return versionInfo{GitVersion: info.GitVersion, body: append(body, '\n')}
}

func (vi versionInfo) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(vi.body)
}
