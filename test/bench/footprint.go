package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/rancher/scale-cluster-agent/internal/kubeconfig"
	"github.com/rancher/scale-cluster-agent/internal/pki"
)

// Every footprint figure comes from a fresh process: the real binary for RSS, and this bench
// re-executed as a child (child.go) for the heap and goroutines, because a process that has
// already run a fleet keeps caches and leftovers that would blur a per-cluster figure of a
// few KiB.

// footprint measures the per-cluster and shared costs and adds their figures to rep.
func footprint(ctx context.Context, o options, rep *report) error {
	if err := measureFootprints(ctx, o, &rep.Raw); err != nil {
		return err
	}
	rep.Sections = append(rep.Sections,
		section{"process", fmt.Sprintf("Footprint of the binary, 1 vs %d clusters, each touched once (GET /version) then idle, medians of %d runs; baseline: as many minimal net/http TLS listeners in one process", o.clusters, o.reps)},
		section{"in-process", fmt.Sprintf("Footprint from runtime.ReadMemStats in a process running fleet.Start, 1 vs %d clusters, touched then idle; baseline: as many minimal net/http TLS listeners", o.clusters)},
	)
	figs, verdicts := footprintFigures(&rep.Raw, o.clusters)
	rep.Figures = append(rep.Figures, figs...)
	rep.Verdicts = append(rep.Verdicts, verdicts...)
	return nil
}

// measureFootprints runs the binary (if given) and the children, one process at a time.
func measureFootprints(ctx context.Context, o options, raw *rawFigures) error {
	n := o.clusters
	step := func(what string, out **procStats, fn func() (procStats, error)) error {
		progress("footprint: " + what)
		st, err := fn()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		*out = &st
		return nil
	}
	if o.binary != "" {
		// Interleaved, so that a busy phase of the machine hits both cluster counts.
		var ones, manys []procStats
		for i := 0; i < o.reps; i++ {
			var one, many *procStats
			if err := step(fmt.Sprintf("binary, 1 cluster (run %d/%d)", i+1, o.reps), &one, func() (procStats, error) {
				return binaryFootprint(ctx, o.binary, 1, o.settle)
			}); err != nil {
				return err
			}
			if err := step(fmt.Sprintf("binary, %d clusters (run %d/%d)", n, i+1, o.reps), &many, func() (procStats, error) {
				return binaryFootprint(ctx, o.binary, n, o.settle)
			}); err != nil {
				return err
			}
			ones, manys = append(ones, *one), append(manys, *many)
		}
		b1, bn := medianRun(ones), medianRun(manys)
		raw.Binary1, raw.BinaryN, raw.BinaryRuns1, raw.BinaryRunsN = &b1, &bn, ones, manys
	} else {
		progress("footprint: no -binary, skipping the figures of the real binary")
	}
	children := []struct {
		what, kind string
		n          int
		profile    string
		out        **procStats
	}{
		{"listeners child, 1 listener", "listeners", 1, "", &raw.Listeners1},
		{fmt.Sprintf("listeners child, %d listeners", n), "listeners", n, "", &raw.ListenersN},
		{"fleet child, 1 cluster", "fleet", 1, baseProfile(o.heapProfile), &raw.Fleet1},
		{fmt.Sprintf("fleet child, %d clusters", n), "fleet", n, o.heapProfile, &raw.FleetN},
	}
	for _, c := range children {
		if err := step(c.what, c.out, func() (procStats, error) {
			return childFootprint(ctx, c.kind, c.n, o.settle, c.profile)
		}); err != nil {
			return err
		}
	}
	if o.heapProfile != "" {
		progress(fmt.Sprintf("footprint: per-cluster heap contributors: go tool pprof -top -sample_index=inuse_space -diff_base %s %s",
			baseProfile(o.heapProfile), o.heapProfile))
	}
	return nil
}

// footprintFigures derives the figures: a per-cluster figure is the difference between n
// clusters and 1 over n-1, so that the shared setup drops out.
func footprintFigures(raw *rawFigures, n int) ([]figure, []verdict) {
	var figs []figure
	var verdicts []verdict
	perN := func(one, many float64) float64 { return (many - one) / float64(n-1) }
	perMs := func(one, many time.Duration) float64 { return perN(ms(one), ms(many)) }
	kib := func(b uint64) float64 { return float64(b) / 1024 }
	l1, ln := raw.Listeners1, raw.ListenersN
	if b1, bn := raw.Binary1, raw.BinaryN; b1 != nil {
		rss := perN(b1.RSSKiB, bn.RSSKiB)
		figs = append(figs,
			newFigure("process", "RSS per idle cluster, (RSS(N)-RSS(1))/(N-1)", "KiB", rss, perN(l1.RSSKiB, ln.RSSKiB)),
			newFigure("process", "RSS with 1 cluster (shared setup)", "MiB", b1.RSSKiB/1024, l1.RSSKiB/1024),
			newFigure("process", fmt.Sprintf("RSS with %d clusters", n), "MiB", bn.RSSKiB/1024, ln.RSSKiB/1024),
			newFigure("process", "start-up per cluster, StartupTime(N)/N", "ms", ms(bn.Startup)/float64(n), ms(ln.Startup)/float64(n)),
			newFigure("process", "start-up per cluster, (T(N)-T(1))/(N-1)", "ms", perMs(b1.Startup, bn.Startup), perMs(l1.Startup, ln.Startup)),
			newFigure("process", fmt.Sprintf("wall time exec -> ready, %d clusters", n), "s", bn.Ready.Seconds(), ln.Ready.Seconds()),
			newFigure("process", "wall time exec -> ready, 1 cluster", "s", b1.Ready.Seconds(), l1.Ready.Seconds()),
		)
		verdicts = append(verdicts, verdict{
			Name: "RSS per idle cluster", Value: rss, Limit: rssBudgetKiB, Unit: "KiB", Pass: rss <= rssBudgetKiB,
		})
	}
	f1, fn := raw.Fleet1, raw.FleetN
	heap := func(f func(*heapStats) uint64) (float64, float64) {
		return perN(kib(f(f1.Heap)), kib(f(fn.Heap))), perN(kib(f(l1.Heap)), kib(f(ln.Heap)))
	}
	live, liveBase := heap(func(h *heapStats) uint64 { return h.HeapBytes })
	beforeGC, beforeGCBase := heap(func(h *heapStats) uint64 { return h.HeapBeforeGCBytes })
	stacks, stacksBase := heap(func(h *heapStats) uint64 { return h.StackBytes })
	figs = append(figs,
		newFigure("in-process", "heap per cluster, live, (heap(N)-heap(1))/(N-1)", "KiB", live, liveBase),
		newFigure("in-process", "heap per cluster, live + garbage before a forced GC", "KiB", beforeGC, beforeGCBase),
		newFigure("in-process", "goroutine stacks per cluster", "KiB", stacks, stacksBase),
		newFigure("in-process", "goroutines per cluster", "",
			perN(float64(f1.Heap.Goroutines), float64(fn.Heap.Goroutines)), perN(float64(l1.Heap.Goroutines), float64(ln.Heap.Goroutines))),
		newFigure("in-process", "RSS per idle cluster of this process", "KiB", perN(f1.RSSKiB, fn.RSSKiB), perN(l1.RSSKiB, ln.RSSKiB)),
		newFigure("in-process", "RSS per cluster after GC + debug.FreeOSMemory", "KiB",
			perN(f1.Heap.RSSAfterFreeKiB, fn.Heap.RSSAfterFreeKiB), perN(l1.Heap.RSSAfterFreeKiB, ln.Heap.RSSAfterFreeKiB)),
		newFigure("in-process", "heap with 1 cluster (shared setup)", "MiB", kib(f1.Heap.HeapBytes)/1024, kib(l1.Heap.HeapBytes)/1024),
		newFigure("in-process", "start-up per cluster, fleet.StartupTime(N)/N", "ms", ms(fn.Startup)/float64(n), ms(ln.Startup)/float64(n)),
		newFigure("in-process", "start-up with 1 cluster (shared setup)", "ms", ms(f1.Startup), ms(l1.Startup)),
	)
	return figs, verdicts
}

// endpoint is one listener to touch: a simulated cluster or a baseline listener.
type endpoint struct {
	addr, token string
}

// touchAll sends one GET /version to every endpoint, each on its own connection that is
// closed right after: every cluster has then served a request (whatever is set up lazily is
// set up) and is idle again, as a cluster an agent probed once.
func touchAll(eps []endpoint, cfg *tls.Config) error {
	const workers = 8
	work := make(chan endpoint)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ep := range work {
				resp, _, err := do(ep.addr, cfg, request{method: "GET", path: "/version", token: ep.token, accept: acceptJSON})
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %s", resp.Status)
				}
				if err != nil {
					errs <- fmt.Errorf("touch %s: %w", ep.addr, err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, ep := range eps {
		select {
		case work <- ep:
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// touchKubeconfig touches the n clusters of the kubeconfig a fleet wrote to stateDir.
func touchKubeconfig(stateDir string, n int) error {
	cfg, err := clientcmd.LoadFromFile(filepath.Join(stateDir, kubeconfig.FileName))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	var eps []endpoint
	for name, c := range cfg.Clusters {
		roots.AppendCertsFromPEM(c.CertificateAuthorityData)
		eps = append(eps, endpoint{addr: strings.TrimPrefix(c.Server, "https://"), token: cfg.AuthInfos[name].Token})
	}
	if len(eps) != n {
		return fmt.Errorf("kubeconfig has %d clusters, want %d", len(eps), n)
	}
	return touchAll(eps, clientTLS(roots))
}

// touchListed touches the "listen ADDR" lines a listeners child printed.
func touchListed(stateDir string, lines []string) error {
	auth, err := pki.LoadOrCreate(stateDir)
	if err != nil {
		return err
	}
	var eps []endpoint
	for _, l := range lines {
		if a, ok := strings.CutPrefix(l, "listen "); ok {
			eps = append(eps, endpoint{addr: a})
		}
	}
	return touchAll(eps, clientTLS(auth.CertPool()))
}

// binaryFootprint measures the real binary serving n clusters from a fresh state directory.
func binaryFootprint(ctx context.Context, binary string, n int, settle time.Duration) (procStats, error) {
	dir, err := os.MkdirTemp("", "sca-bench-")
	if err != nil {
		return procStats{}, err
	}
	defer os.RemoveAll(dir)
	argv := []string{binary, "run", "--state-dir", dir, "--clusters", strconv.Itoa(n), "--duration", "10m", "--log-level", "warn",
		// The mock APIs alone; the tunnels are measured on their own.
		"--no-tunnels", "--status-addr", ""}
	return measureProcess(ctx, argv, "Serving ", settle, false, func([]string) error { return touchKubeconfig(dir, n) })
}

// childFootprint measures this bench re-executed as a child serving n clusters (kind
// "fleet") or n minimal listeners (kind "listeners"), RSS and heap.
func childFootprint(ctx context.Context, kind string, n int, settle time.Duration, heapProfile string) (procStats, error) {
	self, err := os.Executable()
	if err != nil {
		return procStats{}, err
	}
	dir, err := os.MkdirTemp("", "sca-bench-")
	if err != nil {
		return procStats{}, err
	}
	defer os.RemoveAll(dir)
	argv := []string{self, "-child", kind, "-clusters", strconv.Itoa(n), "-state-dir", dir}
	if heapProfile != "" {
		argv = append(argv, "-heapprofile", heapProfile)
	}
	return measureProcess(ctx, argv, childReady, settle, true, func(lines []string) error {
		if kind == "fleet" {
			return touchKubeconfig(dir, n)
		}
		return touchListed(dir, lines)
	})
}

// medianRun is the per-field median of runs of the same process: how much garbage a Go
// process holds when idle depends on when its last GC ran, and its start-up on what else the
// machine is doing, both of which vary from one start to the next.
func medianRun(runs []procStats) procStats {
	median := func(field func(procStats) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = field(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return procStats{
		RSSKiB:  median(func(r procStats) float64 { return r.RSSKiB }),
		Threads: int(median(func(r procStats) float64 { return float64(r.Threads) })),
		Ready:   time.Duration(median(func(r procStats) float64 { return float64(r.Ready) })),
		Startup: time.Duration(median(func(r procStats) float64 { return float64(r.Startup) })),
	}
}

// baseProfile is where the 1-cluster heap profile goes, to diff the N-cluster one against.
func baseProfile(path string) string {
	if path == "" {
		return ""
	}
	return path + ".base"
}
