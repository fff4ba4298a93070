package mockapi

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
)

// versionInfo is what a cluster's /version reports, pre-encoded: Rancher probes it often.
type versionInfo struct {
	GitVersion string
	body       []byte
}

// newVersionInfo builds /version for gitVersion (falling back to the documents' release) in
// the shape of a real kube-apiserver of that minor.
func newVersionInfo(gitVersion, docsVersion, platform string) versionInfo {
	if gitVersion == "" {
		gitVersion = docsVersion
	}
	if platform == "" {
		platform = "linux/" + runtime.GOARCH
	}
	v, err := version.ParseGeneric(gitVersion)
	if err != nil {
		v = version.MustParseGeneric(docsVersion)
	}
	major, minor := itoa(v.Major()), itoa(v.Minor())
	// Managed distributions report a minor with a "+" (e.g. EKS "36+").
	reportedMinor := minor
	if strings.Contains(gitVersion, "-eks-") || strings.Contains(gitVersion, "-gke.") {
		reportedMinor += "+"
	}
	sum := sha1.Sum([]byte(gitVersion))
	info := apimachineryversion.Info{
		Major:        major,
		Minor:        reportedMinor,
		GitVersion:   gitVersion,
		GitCommit:    hex.EncodeToString(sum[:]),
		GitTreeState: "clean",
		BuildDate:    "2026-06-10T10:00:00Z",
		GoVersion:    "go1.25.9",
		Compiler:     "gc",
		Platform:     platform,
	}
	// The emulation fields exist since Kubernetes 1.33.
	if v.Major() == 1 && v.Minor() >= 33 {
		info.EmulationMajor, info.EmulationMinor = major, minor
		info.MinCompatibilityMajor, info.MinCompatibilityMinor = major, itoa(v.Minor()-1)
	}
	body, _ := json.MarshalIndent(info, "", "  ")
	return versionInfo{GitVersion: gitVersion, body: append(body, '\n')}
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

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

// minorOf returns "1.36" for "v1.36.3+k3s1", or "" when it does not parse.
func minorOf(gitVersion string) string {
	v, err := version.ParseGeneric(gitVersion)
	if err != nil {
		return ""
	}
	return itoa(v.Major()) + "." + itoa(v.Minor())
}
