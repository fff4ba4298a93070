// Command bench measures what simulated clusters cost and how fast one of them answers, as
// ratios against baselines measured in the same run, because absolute figures on a shared
// machine are noise.
//
// Footprint: the real binary is started with 1 and with -clusters clusters and its RSS read
// from /proc; the heap and goroutines are read with runtime.ReadMemStats in a process running
// fleet.Start (this bench re-executed, child.go). The baseline is the same number of minimal
// net/http TLS listeners.
//
// Throughput: GETs, LISTs and WATCHes against one simulated cluster of a fleet of -clusters
// in this process, each against a minimal net/http TLS handler that answers with the bytes
// captured from the mock.
//
// Tunnels (tunnels.go): how long -clusters clusters take to connect to the embedded endpoint,
// what a connected idle cluster costs with both tunnels (with the endpoint in the binary's
// process, and in a process of its own as a real Rancher would be), and a GET through a
// cluster's main tunnel against the same GET made directly.
//
//	go run ./test/bench -binary bin/scale-cluster-agent [-clusters 1000] [-duration 3s] [-json out.json]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"k8s.io/klog/v2"
)

// rssBudgetKiB is the budget for one idle simulated cluster.
const rssBudgetKiB = 64

type options struct {
	clusters    int
	duration    time.Duration
	binary      string
	jsonPath    string
	conns       int
	settle      time.Duration
	heapProfile string
	reps        int
	rounds      int

	// Tunnel figures (tunnels.go).
	tunnels         bool
	latencyClusters int
	latencyRequests int
	latencyNewConns int

	// Child process mode (child.go).
	child    string
	stateDir string
}

func main() {
	var o options
	flag.IntVar(&o.clusters, "clusters", 1000, "simulated clusters in the footprint runs")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "measuring time per throughput metric, for the mock and again for its baseline")
	flag.StringVar(&o.binary, "binary", "", "scale-cluster-agent binary for the RSS figures (empty: skip them)")
	flag.StringVar(&o.jsonPath, "json", "", "also write the figures as JSON to this file")
	flag.IntVar(&o.conns, "conns", 16, "keep-alive connections of the load generator")
	flag.DurationVar(&o.settle, "settle", 15*time.Second, "wait after touching every cluster before reading RSS")
	flag.StringVar(&o.heapProfile, "heapprofile", "", "write heap profiles of processes serving -clusters clusters (FILE) and 1 cluster (FILE.base), for go tool pprof -top -diff_base")
	flag.IntVar(&o.rounds, "rounds", 3, "each throughput comparison alternates mock and baseline this many times, -duration/rounds each")
	flag.IntVar(&o.reps, "reps", 3, "runs of the binary per cluster count; medians are reported")
	flag.BoolVar(&o.tunnels, "tunnels", true, "also measure the clusters connected through their tunnels: connect time, footprint, GET latency")
	flag.IntVar(&o.latencyClusters, "latency-clusters", 10, "clusters with tunnels in this process for the latency figures")
	flag.IntVar(&o.latencyRequests, "latency-requests", 2000, "GETs each way, through the tunnel and direct, on a kept-alive connection")
	flag.IntVar(&o.latencyNewConns, "latency-new-conns", 300, "GETs each way on a new connection each")
	flag.StringVar(&o.child, "child", "", "internal: run as a footprint child serving a fleet (fleet, fleet-tunnels) or listeners")
	flag.StringVar(&o.stateDir, "state-dir", "", "internal: state directory of -child")
	flag.Parse()

	if o.child != "" {
		if err := childMain(o.child, o.clusters, o.stateDir, o.heapProfile); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		return
	}
	if o.rounds < 1 || o.reps < 1 || o.latencyClusters < 1 || o.latencyRequests < 1 || o.latencyNewConns < 1 {
		fmt.Fprintln(os.Stderr, "-rounds, -reps, -latency-clusters, -latency-requests and -latency-new-conns must be at least 1")
		os.Exit(2)
	}
	if o.clusters < 2 {
		fmt.Fprintln(os.Stderr, "-clusters must be at least 2: per-cluster figures compare N clusters with 1")
		os.Exit(2)
	}
	// Everything, this process and the children, runs on two Ps so that runs are comparable
	// across machines with more cores.
	runtime.GOMAXPROCS(2)
	quietKlog()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if o.jsonPath != "" {
		if err := rep.writeJSON(o.jsonPath); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

// quietKlog stops the apiserver libraries' klog output, as the binary does below debug level.
func quietKlog() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)
}

var benchStart = time.Now()

func progress(msg string) {
	fmt.Fprintf(os.Stderr, "[%5.1fs] %s\n", time.Since(benchStart).Seconds(), msg)
}

func run(ctx context.Context, o options) (*report, error) {
	rep := &report{Clusters: o.clusters, GOMAXPROCS: runtime.GOMAXPROCS(0), Conns: o.conns,
		DurationS: o.duration.Seconds(), Rounds: o.rounds, Reps: o.reps}
	if err := footprint(ctx, o, rep); err != nil {
		return nil, err
	}
	if err := throughput(ctx, o, rep); err != nil {
		return nil, err
	}
	if o.tunnels {
		tunnels(ctx, o, rep)
	}
	progress("done")
	return rep, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
