package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/pki"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// Child process mode (-child fleet|fleet-tunnels|listeners): the bench re-executes itself
// so that each footprint figure comes from a fresh process.
//
// A child serves n simulated clusters through fleet.Start, as the binary does (with
// "fleet-tunnels", each connected to the embedded endpoint through its tunnels, and ready
// only once every cluster is), or n minimal TLS listeners (the baseline; it prints "listen
// ADDR" for each). When ready it prints "Serving ... in T". A "measure" line on stdin makes
// it collect garbage and print its live heap and goroutines as one "stats {json}" line. It
// exits when stdin closes, on SIGTERM, or after ten minutes, so that it never outlives the
// bench by much.
const (
	childReady = "Serving "
	childStats = "stats "
)

func childMain(kind string, n int, stateDir, heapProfile string) error {
	if heapProfile != "" {
		// Fine enough to attribute a few KiB per cluster.
		runtime.MemProfileRate = 4096
	}
	quietKlog()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()

	var startup time.Duration
	switch kind {
	case "fleet", childFleetTunnels:
		log := logrus.New()
		log.SetOutput(io.Discard)
		cfg := fleet.Config{StateDir: stateDir, Clusters: n, Log: logrus.NewEntry(log)}
		if kind == childFleetTunnels {
			tunnel.QuietRemotedialerLogs()
			cfg.Tunnels = benchTunnelConfig()
		}
		fl, err := fleet.Start(ctx, cfg)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = fl.Shutdown(sctx)
		}()
		startup = fl.StartupTime
		if kind == childFleetTunnels {
			// Ready, as far as the bench is concerned, once every cluster is.
			if err := waitAllReady(ctx, fl, connectTimeout); err != nil {
				return err
			}
		}
	case "listeners":
		auth, err := pki.LoadOrCreate(stateDir)
		if err != nil {
			return err
		}
		cert, err := auth.ServingCert()
		if err != nil {
			return err
		}
		start := time.Now()
		ls, err := startListeners(n, serverTLS(cert), versionHandler)
		if err != nil {
			return err
		}
		defer ls.close()
		startup = time.Since(start)
		for _, a := range ls.addrs {
			fmt.Printf("listen %s\n", a)
		}
	default:
		return fmt.Errorf("-child %q: want fleet, %s or listeners", kind, childFleetTunnels)
	}
	fmt.Printf("%s%d %s in %s\n", childReady, n, kind, startup)

	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
		close(cmds)
	}()
	for {
		select {
		case cmd, ok := <-cmds:
			if !ok {
				return nil
			}
			if cmd != "measure" {
				continue
			}
			st, err := childMeasure(heapProfile)
			if err != nil {
				return err
			}
			b, _ := json.Marshal(st)
			fmt.Printf("%s%s\n", childStats, b)
		case <-ctx.Done():
			return nil
		}
	}
}

// childMeasure reports the live heap and goroutines, what the heap held before collecting,
// and the RSS once the garbage is returned to the OS, with a breakdown of where it is.
func childMeasure(heapProfile string) (heapStats, error) {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	st := measureHeap()
	st.HeapBeforeGCBytes = before.HeapAlloc
	debug.FreeOSMemory()
	var err error
	if st.RSSAfterFreeKiB, _, err = readStatus(os.Getpid()); err != nil {
		return st, err
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	st.AfterFree = map[string]uint64{
		"heap_alloc": m.HeapAlloc, "heap_inuse": m.HeapInuse, "heap_idle_not_released": m.HeapIdle - m.HeapReleased,
		"stack_inuse": m.StackInuse, "mspan_inuse": m.MSpanInuse, "gc_sys": m.GCSys, "other_sys": m.OtherSys,
		"sys_not_released": m.Sys - m.HeapReleased,
	}
	if heapProfile != "" {
		return st, writeHeapProfile(heapProfile)
	}
	return st, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
