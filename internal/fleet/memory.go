package fleet

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// trimInterval is how often the fleet checks for heap it could hand back to the OS.
	trimInterval = 10 * time.Second
	// trimThreshold is how much free, unreturned heap justifies a collection: bursts of
	// connections (a Rancher reconnecting every tunnel, a scan of every cluster) leave tens of
	// KiB of garbage per cluster that the runtime would otherwise keep for minutes.
	trimThreshold = 32 << 20
)

// trimMemory returns free heap to the OS whenever enough has piled up, so that an idle fleet
// costs what its clusters hold rather than what its last burst allocated. A collection of the
// fleet's heap takes milliseconds; it runs at most every trimInterval.
func trimMemory(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	t := time.NewTicker(trimInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > trimThreshold {
				debug.FreeOSMemory()
			}
		}
	}
}
