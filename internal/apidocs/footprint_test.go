package apidocs

import (
	"runtime"
	"testing"
	"time"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// TestFootprint logs what one emulated version costs (go test -v -run Footprint): Load's parse
// and pre-encoding, then the first OpenAPI v2 and v3 calls. It bypasses the per-minor cache.
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
		v2 := d.OpenAPIV2Definitions()(func(n string) spec.Ref { return spec.MustCreateRef("#/definitions/" + n) })
		v2Time := time.Since(start)
		start = time.Now()
		v3 := d.OpenAPIV3Definitions()(func(n string) spec.Ref { return spec.MustCreateRef("#/components/schemas/" + n) })
		v3Time := time.Since(start)
		openAPIHeap := heap() - base - loadHeap
		t.Logf("%s (%s): Load %v, heap %d KiB; OpenAPI v2 %d defs %v, v3 %d defs %v, heap +%d KiB",
			minor, d.GitVersion, loadTime.Round(time.Millisecond/10), loadHeap/1024,
			len(v2), v2Time.Round(time.Millisecond), len(v3), v3Time.Round(time.Millisecond), openAPIHeap/1024)
		runtime.KeepAlive(d)
		runtime.KeepAlive(v2)
		runtime.KeepAlive(v3)
	}
}
