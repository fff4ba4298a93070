package apidocs

import (
	"runtime"
	"testing"
	"time"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// TestFootprint logs what one emulated version costs (go test -v -run Footprint): Load's parse
// and pre-encoding, the v3 definitions the apiserver builds type converters from, and the served
// swagger.json. It bypasses the per-minor cache.
func TestFootprint(t *testing.T) {
	for _, minor := range Minors() {
		heap := func() int64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return int64(m.HeapAlloc)
		}
		base := heap()
		start := time.Now()
		d, err := load(minor)
		if err != nil {
			t.Fatal(err)
		}
		loadTime, loadHeap := time.Since(start), heap()-base

		start = time.Now()
		v3 := d.OpenAPIV3Definitions()(func(n string) spec.Ref { return spec.MustCreateRef("#/components/schemas/" + n) })
		v3Time := time.Since(start)
		v3Heap := heap() - base - loadHeap

		// The served swagger.json, parsed only when /openapi/v2 is first requested.
		start = time.Now()
		v2, err := d.OpenAPIV2()
		if err != nil {
			t.Fatal(err)
		}
		v2Time := time.Since(start)
		v2Heap := heap() - base - loadHeap - v3Heap
		t.Logf("%s (%s): Load %v, heap %d KiB; v3 definitions %d in %v, heap +%d KiB; served swagger.json %d paths %d definitions in %v, heap +%d KiB",
			minor, d.GitVersion, loadTime.Round(time.Millisecond/10), loadHeap/1024,
			len(v3), v3Time.Round(time.Millisecond), v3Heap/1024,
			len(v2.Paths.Paths), len(v2.Definitions), v2Time.Round(time.Millisecond), v2Heap/1024)
		runtime.KeepAlive(d)
		runtime.KeepAlive(v2)
		runtime.KeepAlive(v3)
	}
}
