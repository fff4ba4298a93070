package mockapi

import (
	"fmt"

	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// olderReleaseFeatures are apiserver-library features on by default in v0.37 that no release
// the mock emulates (1.32, 1.36) has. They change what clients observe, so they are off for
// every cluster of the process:
//
//   - WatchListCompression (beta in 1.37): gzip on watch-list streams when the client accepts
//     it. A v1.36 kube-apiserver sends them uncompressed; Rancher's informers ask for gzip and
//     the recorded trace has no compressed response.
var olderReleaseFeatures = map[string]bool{
	string(features.WatchListCompression): false,
}

func init() {
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(olderReleaseFeatures); err != nil {
		panic(fmt.Sprintf("mockapi: feature gates of the emulated releases: %v", err))
	}
}
