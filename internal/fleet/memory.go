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
	// KiB of garbage per cluster that the runtime would otherwise keep for minutes. Since the
	// shared apiserver heap shrank to ~19 MiB (OpenAPI served lazily), a first request to each
	// of 1,000 clusters leaves ~30 MiB behind; 32 MiB let that stay resident (85 KiB RSS per
	// idle cluster measured, against 47 KiB after a collection).
	trimThreshold = 8 << 20
)

// trimMemory returns free heap to the OS whenever enough has piled up, so that an idle fleet
// costs what its clusters hold rather than what its last burst allocated. Garbage counts too:
// an idle fleet may not reach its next collection for minutes, and until then the garbage of
// the last burst stays resident. A collection of the fleet's heap takes milliseconds; it runs
// at most every trimInterval.
func trimMemory(ctx context.Context) {
	sample := []metrics.Sample{
		{Name: "/memory/classes/heap/free:bytes"},    // freed, not yet returned to the OS
		{Name: "/memory/classes/heap/objects:bytes"}, // live and not yet collected objects
		{Name: "/gc/heap/live:bytes"},                // live at the last collection
	}
	t := time.NewTicker(trimInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			metrics.Read(sample)
			if reclaimable(sample) > trimThreshold {
				debug.FreeOSMemory()
			}
		}
	}
}

// reclaimable is the free heap plus the objects allocated since the last collection beyond
// what was live then (an upper bound of the garbage).
func reclaimable(s []metrics.Sample) uint64 {
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	free, objects, live := v(0), v(1), v(2)
	if objects > live {
		return free + objects - live
	}
	return free
}
