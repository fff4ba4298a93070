package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/apiserver/pkg/server/healthz"

	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/status"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// The tunnel figures of issue #3: every simulated cluster connected to the embedded
// Rancher-compatible endpoint through its agent's two remotedialer tunnels.
//
//   - Connect: the binary with -clusters clusters and no connect pacing, /status polled until
//     every cluster is connected, then ready. Baseline: the same binary with --no-tunnels,
//     exec -> Serving, from the footprint runs: how much longer than the mock APIs alone a
//     fleet takes to be usable through Rancher.
//   - Footprint: the binary with tunnels, 1 vs -clusters clusters, connected and settled; the
//     per-cluster RSS includes the agent, the endpoint's side of both sessions and its health
//     checks, since they all live in the one process. Baseline: the --no-tunnels footprint
//     runs. Goroutines and heap come from a child running fleet.Start with Tunnels.
//   - Agent alone: the same with the endpoint in a process of its own ('endpoint
//     --endpoint-driver health') and the binary registering with it through --rancher-url, as
//     against a real Rancher: the run process's RSS is what a scale-tester's machine carries,
//     without Rancher's side of the tunnels; the endpoint's RSS is sampled alongside.
//     Baseline: the --no-tunnels footprint runs, as above.
//   - Latency: one GET to a cluster through its main tunnel, as Rancher reaches a cluster,
//     against the same GET made directly to the cluster's listener, in this process.

// tunnelBudgetKiB is the budget for one connected idle cluster with both tunnels,
// mock API included.
const tunnelBudgetKiB = 100

const (
	// tunnelHealthInterval is Rancher's check period, which the endpoint keeps.
	tunnelHealthInterval = 15 * time.Second
	// rssWindow is how long the RSS of a connected fleet is sampled: one health interval. The
	// endpoint checks every cluster once per interval and a fleet connected at once is checked
	// in one burst, so the RSS rises by the burst's garbage and falls when the fleet hands it
	// back (fleet.trimMemory): a single reading could land anywhere on that saw-tooth.
	rssWindow = tunnelHealthInterval
	rssStep   = 500 * time.Millisecond
	// statusPoll is how often /status is read while the fleet connects: the figure's
	// resolution, kept coarse because building the document for every cluster costs the
	// measured process CPU while it is connecting.
	statusPoll = 200 * time.Millisecond
	// connectTimeout bounds the wait for every cluster to be connected and ready.
	connectTimeout = 90 * time.Second
	// tunnelChildSettle is the tunnel child's wait between being touched and measured. The
	// child is measured while idle between two health-check bursts (its goroutines and live
	// heap, not its RSS, which comes from the binary), so it needs no full settle.
	tunnelChildSettle = 2 * time.Second
)

// benchTunnelConfig is the tunnel configuration of every tunnel fleet of the bench, as the
// binary's run with --connect-rate 0: no pacing, Rancher's health interval, default backoff.
func benchTunnelConfig() *fleet.TunnelConfig {
	return &fleet.TunnelConfig{ConnectRate: 0, HealthInterval: tunnelHealthInterval, Backoff: tunnel.DefaultBackoff}
}

// tunnelRun is one run of the binary with tunnels: how long its clusters took to connect and
// what it held once they were idle.
type tunnelRun struct {
	Clusters int `json:"clusters"`
	// Serving is the wall time from exec to the "Serving" line: the mock APIs are up and the
	// agents started (they start connecting before it).
	Serving time.Duration `json:"serving_ns"`
	// PolledConnected and PolledReady are the wall times from exec to the first /status that
	// counted every cluster connected, ready or active, and every cluster ready or active.
	PolledConnected time.Duration `json:"polled_connected_ns"`
	PolledReady     time.Duration `json:"polled_ready_ns"`
	// FirstConnected, Connected and Ready are the same from /status's own timestamps, once
	// every cluster was ready: the first and the last cluster to have both tunnels up
	// (connectedSince of its later tunnel), and the last cluster to turn ready (the endpoint's
	// readySince). They do not depend on when /status was polled.
	FirstConnected time.Duration `json:"first_connected_ns"`
	Connected      time.Duration `json:"connected_ns"`
	Ready          time.Duration `json:"ready_ns"`
	// Polls is how many times /status was read until every cluster was ready.
	Polls int `json:"polls"`
	// MaxFailed is the most clusters /status counted failed while connecting; Reconnects the
	// tunnels' reconnects summed over the clusters once every cluster was ready.
	MaxFailed  int   `json:"max_failed"`
	Reconnects int64 `json:"reconnects"`
	// RSS samples over rssWindow, from settle after every cluster was connected.
	RSSSamplesKiB []float64 `json:"rss_samples_kib"`
	RSSMeanKiB    float64   `json:"rss_mean_kib"`
	RSSMinKiB     float64   `json:"rss_min_kib"`
	RSSMaxKiB     float64   `json:"rss_max_kib"`
	Threads       int       `json:"threads"`
	// Goroutines is the binary's go_goroutines (/metrics) at the end of the window, a
	// cross-check of the child's figure.
	Goroutines int `json:"goroutines"`
	// After is /status's summary at the end of the window: every cluster should still be up.
	After status.Summary `json:"summary_after_window"`
	// Endpoint RSS samples, taken with the binary's, when the endpoint runs in a process of
	// its own.
	EndpointRSSSamplesKiB []float64 `json:"endpoint_rss_samples_kib,omitempty"`
	EndpointRSSMeanKiB    float64   `json:"endpoint_rss_mean_kib,omitempty"`
}

// latencyStats are the latencies of one side of the latency comparison.
type latencyStats struct {
	N    int           `json:"n"`
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
	Mean time.Duration `json:"mean_ns"`
}

// tunnelLatency is the GET latency through a cluster's main tunnel and directly.
type tunnelLatency struct {
	Clusters        int          `json:"clusters"`
	Target          string       `json:"target_cluster"`
	BodyBytes       int          `json:"body_bytes"`
	KeepAliveDirect latencyStats `json:"keepalive_direct"`
	KeepAliveTunnel latencyStats `json:"keepalive_tunnel"`
	NewConnDirect   latencyStats `json:"newconn_direct"`
	NewConnTunnel   latencyStats `json:"newconn_tunnel"`
	// GoroutinesLeft is this process's goroutines after the fleet's Shutdown minus before
	// its Start.
	GoroutinesLeft int `json:"goroutines_left"`
}

// tunnelFigures are the raw measurements of the tunnel sections.
type tunnelFigures struct {
	Binary1 *tunnelRun `json:"binary_1,omitempty"`
	BinaryN *tunnelRun `json:"binary_n,omitempty"`
	// Agent1 and AgentN are the binary registering with the endpoint in its own process.
	Agent1  *tunnelRun     `json:"agent_1,omitempty"`
	AgentN  *tunnelRun     `json:"agent_n,omitempty"`
	Child1  *procStats     `json:"child_1,omitempty"`
	ChildN  *procStats     `json:"child_n,omitempty"`
	Latency *tunnelLatency `json:"latency,omitempty"`
}

// tunnels measures the tunnel figures and adds them to rep. A step that fails (a fleet that
// never fully connects, say) is reported as a failed check with its numbers, and the figures
// that need it are left out: the rest of the report still stands.
func tunnels(ctx context.Context, o options, rep *report) {
	n := o.clusters
	raw := &tunnelFigures{}
	rep.Raw.Tunnels = raw
	ok := func(what string, err error) bool {
		if err == nil {
			return true
		}
		// A process's error carries the tail of its stderr; its last lines say what happened.
		msg := fmt.Sprintf("tunnels: %s: %s", what, lastLines(err.Error(), 3))
		progress(msg)
		rep.Verdicts = append(rep.Verdicts, verdict{Name: "tunnels: " + what + " measured (see note)", Value: 1, Pass: false})
		rep.Notes = append(rep.Notes, msg)
		return false
	}
	if o.binary != "" {
		for _, c := range []struct {
			n        int
			separate bool
			what     string
			out      **tunnelRun
		}{
			{1, false, "binary", &raw.Binary1}, {n, false, "binary", &raw.BinaryN},
			{1, true, "binary against the endpoint in its own process", &raw.Agent1},
			{n, true, "binary against the endpoint in its own process", &raw.AgentN},
		} {
			progress(fmt.Sprintf("tunnels: %s, %d cluster(s) connecting, then idle", c.what, c.n))
			r, err := binaryTunnelRun(ctx, o.binary, c.n, o.settle, c.separate)
			if ok(fmt.Sprintf("%s with %d cluster(s)", c.what, c.n), err) {
				*c.out = &r
			}
		}
	} else {
		progress("tunnels: no -binary, skipping the connect and RSS figures")
	}
	for _, c := range []struct {
		n   int
		out **procStats
	}{{1, &raw.Child1}, {n, &raw.ChildN}} {
		progress(fmt.Sprintf("tunnels: fleet child with tunnels, %d cluster(s)", c.n))
		st, err := tunnelChildFootprint(ctx, c.n)
		if ok(fmt.Sprintf("fleet child with tunnels, %d cluster(s)", c.n), err) {
			*c.out = &st
		}
	}
	progress(fmt.Sprintf("tunnels: GET latency through the tunnel vs direct, %d clusters in this process", o.latencyClusters))
	lat, err := measureTunnelLatency(ctx, o)
	if ok("latency", err) {
		raw.Latency = lat
	}

	figs, verdicts, sections := tunnelFiguresOf(raw, &rep.Raw, o)
	rep.Sections = append(rep.Sections, sections...)
	rep.Figures = append(rep.Figures, figs...)
	rep.Verdicts = append(rep.Verdicts, verdicts...)
}

// tunnelFiguresOf derives the figures from whatever was measured.
func tunnelFiguresOf(t *tunnelFigures, raw *rawFigures, o options) ([]figure, []verdict, []section) {
	n := o.clusters
	var figs []figure
	var verdicts []verdict
	perN := func(one, many float64) float64 { return (many - one) / float64(n-1) }
	kib := func(b uint64) float64 { return float64(b) / 1024 }
	sections := []section{
		{"tunnel-connect", fmt.Sprintf("Connecting %d clusters to the embedded endpoint, two tunnels each: the binary with --connect-rate 0, /status polled every %s until all were ready, times from its per-cluster connectedSince (later tunnel) and readySince; baseline: the same binary with --no-tunnels, exec -> Serving (median of the footprint runs above)", n, statusPoll)},
		{"tunnel-footprint", fmt.Sprintf("Footprint with both tunnels of every cluster connected (agent, mock API and endpoint side in one process), 1 vs %d clusters, touched once, RSS sampled every %s for %s (one health interval) from %s after all connected, one run each; baseline: the same without tunnels (the binary's --no-tunnels runs and the fleet child above)", n, rssStep, rssWindow, o.settle)},
		{"tunnel-agent", fmt.Sprintf("Footprint of the agent process alone, as against a real Rancher: 'endpoint --endpoint-driver health' in its own process, the binary registering with it (--rancher-url, --register-rate 0, --connect-rate 0), 1 vs %d clusters, touched once, both processes' RSS sampled every %s for %s from %s after all connected, one run each; baseline: the --no-tunnels footprint, as above", n, rssStep, rssWindow, o.settle)},
		{"tunnel-latency", fmt.Sprintf("Sequential GET /api/v1/namespaces/default (JSON) to one of %d clusters with tunnels in this process, net/http with the cluster's CA and admin token, HTTP/1.1, alternating rounds (ABBA); value: through the cluster's main tunnel (Endpoint.Dialer to the cluster's address, as Rancher); baseline: the same GET directly to the cluster's listener", o.latencyClusters)},
	}

	// The binary with tunnels against its --no-tunnels footprint runs, which precede it
	// whenever the binary is measured.
	b1, bn := t.Binary1, t.BinaryN
	plain1, plainN := raw.Binary1, raw.BinaryN
	if bn != nil && plainN != nil {
		base := plainN.Ready.Seconds()
		figs = append(figs,
			newFigure("tunnel-connect", "exec -> Serving (mock APIs up, agents started)", "s", bn.Serving.Seconds(), base),
			newFigure("tunnel-connect", "exec -> first cluster connected (both tunnels)", "s", bn.FirstConnected.Seconds(), base),
			newFigure("tunnel-connect", fmt.Sprintf("exec -> all %d connected (both tunnels)", n), "s", bn.Connected.Seconds(), base),
			newFigure("tunnel-connect", fmt.Sprintf("exec -> all %d ready (first health check passed)", n), "s", bn.Ready.Seconds(), base),
		)
		down := bn.After.Total - bn.After.Connected - bn.After.Ready - bn.After.Active
		verdicts = append(verdicts,
			verdict{Name: fmt.Sprintf("clusters counted failed while %d connected", n), Value: float64(bn.MaxFailed), Pass: bn.MaxFailed == 0},
			verdict{Name: fmt.Sprintf("tunnel reconnects while %d connected", n), Value: float64(bn.Reconnects), Pass: bn.Reconnects == 0},
			verdict{Name: fmt.Sprintf("clusters of %d no longer connected at the end of the idle window", n), Value: float64(down), Pass: down == 0},
		)
	}
	if b1 != nil && bn != nil && plain1 != nil && plainN != nil {
		rss := perN(b1.RSSMeanKiB, bn.RSSMeanKiB)
		plain := perN(plain1.RSSKiB, plainN.RSSKiB)
		figs = append(figs,
			newFigure("tunnel-footprint", "RSS per connected idle cluster, window mean, (RSS(N)-RSS(1))/(N-1)", "KiB", rss, plain),
			newFigure("tunnel-footprint", "  lowest sample, (min(N)-min(1))/(N-1)", "KiB", perN(b1.RSSMinKiB, bn.RSSMinKiB), plain),
			newFigure("tunnel-footprint", "  highest sample, (max(N)-max(1))/(N-1)", "KiB", perN(b1.RSSMaxKiB, bn.RSSMaxKiB), plain),
			newFigure("tunnel-footprint", "what the tunnels cost per cluster: window mean - --no-tunnels", "KiB", rss-plain, 0),
			newFigure("tunnel-footprint", "RSS with 1 cluster (shared setup), window mean", "MiB", b1.RSSMeanKiB/1024, plain1.RSSKiB/1024),
			newFigure("tunnel-footprint", fmt.Sprintf("RSS with %d clusters, window mean", n), "MiB", bn.RSSMeanKiB/1024, plainN.RSSKiB/1024),
			newFigure("tunnel-footprint", fmt.Sprintf("process RSS / %d (the acceptance check's figure)", n), "KiB", bn.RSSMeanKiB/float64(n), plainN.RSSKiB/float64(n)),
		)
		verdicts = append(verdicts, verdict{
			Name: "RSS per connected idle cluster with both tunnels, mock API included", Value: rss, Limit: tunnelBudgetKiB, Unit: "KiB", Pass: rss <= tunnelBudgetKiB,
		})
	}
	agentFigs, agentVerdicts := agentAloneFigures(t, raw, n)
	figs, verdicts = append(figs, agentFigs...), append(verdicts, agentVerdicts...)
	if c1, cn := t.Child1, t.ChildN; c1 != nil && cn != nil {
		f1, fn := raw.Fleet1, raw.FleetN // the fleet child without tunnels
		base := func(f func(*heapStats) float64) float64 {
			if f1 == nil || fn == nil {
				return 0
			}
			return perN(f(f1.Heap), f(fn.Heap))
		}
		goroutines := func(h *heapStats) float64 { return float64(h.Goroutines) }
		live := func(h *heapStats) float64 { return kib(h.HeapBytes) }
		stacks := func(h *heapStats) float64 { return kib(h.StackBytes) }
		figs = append(figs,
			newFigure("tunnel-footprint", "goroutines per connected cluster, fleet child, (G(N)-G(1))/(N-1)", "", perN(goroutines(c1.Heap), goroutines(cn.Heap)), base(goroutines)),
		)
		if b1 != nil && bn != nil && b1.Goroutines > 0 && bn.Goroutines > 0 {
			figs = append(figs, newFigure("tunnel-footprint", "goroutines per connected cluster, binary (go_goroutines)", "",
				perN(float64(b1.Goroutines), float64(bn.Goroutines)), base(goroutines)))
		}
		figs = append(figs,
			newFigure("tunnel-footprint", "heap per connected cluster, live, fleet child", "KiB", perN(live(c1.Heap), live(cn.Heap)), base(live)),
			newFigure("tunnel-footprint", "goroutine stacks per connected cluster, fleet child", "KiB", perN(stacks(c1.Heap), stacks(cn.Heap)), base(stacks)),
		)
	}
	if l := t.Latency; l != nil {
		add := func(metric string, tun, dir latencyStats) {
			figs = append(figs,
				newFigure("tunnel-latency", metric+", p50", "ms", ms(tun.P50), ms(dir.P50)),
				newFigure("tunnel-latency", metric+", p99", "ms", ms(tun.P99), ms(dir.P99)),
				newFigure("tunnel-latency", metric+", mean", "ms", ms(tun.Mean), ms(dir.Mean)),
			)
		}
		add(fmt.Sprintf("keep-alive, %d requests each way (%d B)", l.KeepAliveTunnel.N, l.BodyBytes), l.KeepAliveTunnel, l.KeepAliveDirect)
		add(fmt.Sprintf("new connection per request, %d each way", l.NewConnTunnel.N), l.NewConnTunnel, l.NewConnDirect)
		verdicts = append(verdicts, verdict{
			Name: "goroutines left after the tunnel fleet's Shutdown", Value: float64(l.GoroutinesLeft), Pass: l.GoroutinesLeft <= 0,
		})
	}
	return figs, verdicts, sections
}

// agentAloneFigures are the figures of the binary registering with the endpoint in its own
// process, against the --no-tunnels footprint runs.
func agentAloneFigures(t *tunnelFigures, raw *rawFigures, n int) ([]figure, []verdict) {
	a1, an := t.Agent1, t.AgentN
	plain1, plainN := raw.Binary1, raw.BinaryN
	if a1 == nil || an == nil || plain1 == nil || plainN == nil {
		return nil, nil
	}
	perN := func(one, many float64) float64 { return (many - one) / float64(n-1) }
	plain := perN(plain1.RSSKiB, plainN.RSSKiB)
	rss := perN(a1.RSSMeanKiB, an.RSSMeanKiB)
	endpoint := perN(a1.EndpointRSSMeanKiB, an.EndpointRSSMeanKiB)
	figs := []figure{
		newFigure("tunnel-agent", "RSS per connected idle cluster, run process, window mean, (RSS(N)-RSS(1))/(N-1)", "KiB", rss, plain),
		newFigure("tunnel-agent", "  lowest sample, (min(N)-min(1))/(N-1)", "KiB", perN(a1.RSSMinKiB, an.RSSMinKiB), plain),
		newFigure("tunnel-agent", "  highest sample, (max(N)-max(1))/(N-1)", "KiB", perN(a1.RSSMaxKiB, an.RSSMaxKiB), plain),
		newFigure("tunnel-agent", fmt.Sprintf("run process RSS / %d, window mean", n), "KiB", an.RSSMeanKiB/float64(n), plainN.RSSKiB/float64(n)),
	}
	// The goroutines' baseline is the fleet child's without tunnels, as for the binary above.
	if f1, fn := raw.Fleet1, raw.FleetN; f1 != nil && fn != nil && a1.Goroutines > 0 && an.Goroutines > 0 {
		figs = append(figs, newFigure("tunnel-agent", "goroutines per connected cluster, run process (go_goroutines)", "",
			perN(float64(a1.Goroutines), float64(an.Goroutines)), perN(float64(f1.Heap.Goroutines), float64(fn.Heap.Goroutines))))
	}
	figs = append(figs,
		newFigure("tunnel-agent", "RSS per connected idle cluster, endpoint process, window mean", "KiB", endpoint, plain),
		// Against the one-process figure: what splitting the processes saves or costs.
		newFigure("tunnel-agent", "  both processes together, window mean - --no-tunnels", "KiB", rss+endpoint-plain, 0),
	)
	// The figures stand only if the fleet stayed up through the window, as checked above for
	// the endpoint in the binary's process.
	down := an.After.Total - an.After.Connected - an.After.Ready - an.After.Active
	verdicts := []verdict{
		{Name: fmt.Sprintf("tunnel reconnects while %d connected to the endpoint in its own process", n), Value: float64(an.Reconnects), Pass: an.Reconnects == 0},
		{Name: fmt.Sprintf("clusters of %d no longer connected to the endpoint in its own process at the end of the idle window", n), Value: float64(down), Pass: down == 0},
		{Name: "RSS per connected idle cluster, run process alone (endpoint in its own process), mock API included", Value: rss, Limit: tunnelBudgetKiB, Unit: "KiB", Pass: rss <= tunnelBudgetKiB},
	}
	return figs, verdicts
}

// binaryTunnelRun runs the binary with n clusters connecting without pacing, times how long
// they take to be connected and ready, touches every cluster once, and samples the RSS over
// rssWindow once settle has passed since every cluster was connected. The clusters register
// with the binary's embedded endpoint or, with separate, with an endpoint in a process of its
// own whose RSS is sampled too.
func binaryTunnelRun(ctx context.Context, binary string, n int, settle time.Duration, separate bool) (tunnelRun, error) {
	run := tunnelRun{Clusters: n}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout+settle+rssWindow+time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "sca-bench-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return run, err
	}
	argv := []string{binary, "run", "--state-dir", dir, "--clusters", strconv.Itoa(n), "--duration", "10m",
		"--log-level", "warn", "--status-addr", addr, "--connect-rate", "0"}
	var ep *separateEndpoint
	if separate {
		if ep, err = startEndpoint(ctx, binary, filepath.Join(dir, "endpoint")); err != nil {
			return run, err
		}
		defer ep.p.stop() // after the binary's stop, deferred below: its agents go first
		argv = append(argv, ep.runArgs()...)
	} else {
		// Health checks only: the figures are the tunnels' and the mock's cost, not the cost
		// of the endpoint doing Rancher's whole sequence (--endpoint-driver rancher).
		argv = append(argv, "--endpoint-driver", "health")
	}
	p, err := startProc(argv)
	if err != nil {
		return run, err
	}
	defer p.stop()
	if _, err := p.next(ctx, "Serving "); err != nil {
		return run, err
	}
	run.Serving = time.Since(p.start)

	client := &http.Client{Timeout: 10 * time.Second}
	deadline := p.start.Add(connectTimeout)
	for {
		r, err := getStatus(ctx, client, addr)
		if err != nil {
			return run, err
		}
		since := time.Since(p.start)
		run.Polls++
		s := r.Summary
		run.MaxFailed = max(run.MaxFailed, s.Failed)
		if run.PolledConnected == 0 && s.Total == n && s.Connected+s.Ready+s.Active == n {
			run.PolledConnected = since
		}
		if s.Total == n && s.Ready+s.Active == n {
			run.PolledReady = since
			run.timesFrom(r, p.start)
			break
		}
		if time.Now().After(deadline) {
			return run, fmt.Errorf("not every cluster connected and ready %s after exec (Serving after %.2f s, all connected after %.2f s or never (0)): %s",
				connectTimeout, run.Serving.Seconds(), run.PolledConnected.Seconds(), summaryString(s))
		}
		if err := sleepCtx(ctx, statusPoll); err != nil {
			return run, err
		}
	}
	if err := touchKubeconfig(dir, n); err != nil {
		return run, err
	}
	if err := sleepCtx(ctx, time.Until(p.start.Add(run.PolledConnected+settle))); err != nil {
		return run, err
	}
	for end := time.Now().Add(rssWindow); ; {
		rss, threads, err := readStatus(p.pid())
		if err != nil {
			return run, err
		}
		run.RSSSamplesKiB = append(run.RSSSamplesKiB, rss)
		run.Threads = max(run.Threads, threads)
		if ep != nil {
			if rss, _, err = readStatus(ep.p.pid()); err != nil {
				return run, err
			}
			run.EndpointRSSSamplesKiB = append(run.EndpointRSSSamplesKiB, rss)
		}
		if time.Now().Add(rssStep).After(end) {
			break
		}
		if err := sleepCtx(ctx, rssStep); err != nil {
			return run, err
		}
	}
	run.RSSMeanKiB, run.RSSMinKiB, run.RSSMaxKiB = meanMinMax(run.RSSSamplesKiB)
	run.EndpointRSSMeanKiB, _, _ = meanMinMax(run.EndpointRSSSamplesKiB)
	if run.Goroutines, err = metricsGoroutines(ctx, client, addr); err != nil {
		return run, err
	}
	r, err := getStatus(ctx, client, addr)
	if err != nil {
		return run, err
	}
	run.After = r.Summary
	return run, nil
}

// separateEndpoint is 'scale-cluster-agent endpoint' running as a process of its own, with
// what it printed for run --rancher-url.
type separateEndpoint struct {
	p                    *proc
	url, token, checksum string
}

// startEndpoint starts the binary's endpoint command on a free loopback port, checking
// clusters only as the embedded endpoint of the other runs does, and reads its URL, admin
// token and CA checksum.
func startEndpoint(ctx context.Context, binary, stateDir string) (*separateEndpoint, error) {
	p, err := startProc([]string{binary, "endpoint", "--listen", "127.0.0.1:0", "--state-dir", stateDir,
		"--endpoint-driver", "health", "--log-level", "warn"})
	if err != nil {
		return nil, err
	}
	ep := &separateEndpoint{p: p}
	for _, v := range []struct {
		prefix string
		out    *string
	}{{"Rancher-compatible endpoint at ", &ep.url}, {"API token: ", &ep.token}, {"CA checksum: ", &ep.checksum}} {
		l, err := p.next(ctx, v.prefix)
		if err != nil {
			p.stop()
			return nil, err
		}
		*v.out = strings.TrimPrefix(l, v.prefix)
	}
	return ep, nil
}

// runArgs are run's flags to register with the endpoint. Registration is unpaced and
// unthrottled, as against the embedded endpoint, so that 1,000 clusters connect as quickly
// as in the other runs; the token is passed on the command line because the endpoint is a
// throwaway one.
func (ep *separateEndpoint) runArgs() []string {
	return []string{"--rancher-url", ep.url, "--rancher-token", ep.token, "--ca-checksum", ep.checksum,
		"--register-rate", "0", "--register-concurrency", "64", "--rancher-qps", "0"}
}

// timesFrom sets the times from exec to the first and last cluster connected and the last
// ready from a /status document in which every cluster is ready, and sums the reconnects.
// A timestamp /status leaves out (it should not, for a ready cluster) counts as the poll's.
func (run *tunnelRun) timesFrom(r status.Report, start time.Time) {
	first, last, ready := time.Duration(math.MaxInt64), time.Duration(0), time.Duration(0)
	sincePoll := r.Time.Sub(start)
	at := func(t *time.Time) time.Duration {
		if t == nil {
			return sincePoll
		}
		return t.Sub(start)
	}
	for _, c := range r.Clusters {
		run.Reconnects += c.Reconnects
		up := max(at(c.Main.ConnectedSince), at(c.Steve.ConnectedSince))
		first, last = min(first, up), max(last, up)
		if c.Endpoint != nil {
			ready = max(ready, at(c.Endpoint.ReadySince))
		} else {
			ready = max(ready, sincePoll)
		}
	}
	run.FirstConnected, run.Connected, run.Ready = first, last, ready
}

// tunnelChildFootprint measures this bench re-executed as a child running fleet.Start with
// Tunnels for n clusters; the child prints its ready line once every cluster is ready.
func tunnelChildFootprint(ctx context.Context, n int) (procStats, error) {
	self, err := os.Executable()
	if err != nil {
		return procStats{}, err
	}
	dir, err := os.MkdirTemp("", "sca-bench-")
	if err != nil {
		return procStats{}, err
	}
	defer os.RemoveAll(dir)
	argv := []string{self, "-child", childFleetTunnels, "-clusters", strconv.Itoa(n), "-state-dir", dir}
	return measureProcess(ctx, argv, childReady, tunnelChildSettle, true, func([]string) error { return touchKubeconfig(dir, n) })
}

// childFleetTunnels is the -child kind running fleet.Start with Tunnels.
const childFleetTunnels = "fleet-tunnels"

// waitAllReady polls the fleet's report until every cluster is ready (or active).
func waitAllReady(ctx context.Context, fl *fleet.Fleet, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s := fl.Report().Summary
		if s.Total == len(fl.Clusters) && s.Ready+s.Active == s.Total {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not every cluster ready after %s: %s", timeout, summaryString(s))
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// measureTunnelLatency starts a small fleet with tunnels in this process and times one GET to
// its first cluster through the cluster's main tunnel and directly, sequentially: first on a
// kept-alive connection, then on a new connection per request.
func measureTunnelLatency(ctx context.Context, o options) (*tunnelLatency, error) {
	stateDir, err := os.MkdirTemp("", "sca-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stateDir)
	// The apiserver's log health check starts a process-wide goroutine on first use (a
	// sync.Once; the endpoint's /readyz checks use it): start it now, so that it does not
	// count as left behind by the fleet.
	_ = healthz.LogHealthz.Check(nil)
	before := measureHeap()
	tunnel.QuietRemotedialerLogs()
	log := logrus.New()
	log.SetOutput(io.Discard)
	fl, err := fleet.Start(ctx, fleet.Config{StateDir: stateDir, Clusters: o.latencyClusters, Log: logrus.NewEntry(log), Tunnels: benchTunnelConfig()})
	if err != nil {
		return nil, err
	}
	l, err := func() (*tunnelLatency, error) {
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = fl.Shutdown(sctx)
		}()
		if err := waitAllReady(ctx, fl, connectTimeout); err != nil {
			return nil, err
		}
		return latencyRuns(fl, o)
	}()
	if err != nil {
		return nil, err
	}
	l.GoroutinesLeft = measureHeap().Goroutines - before.Goroutines
	return l, nil
}

// latencyRuns is the comparison proper. Both sides use the same client code, TLS settings and
// request; only DialContext differs.
func latencyRuns(fl *fleet.Fleet, o options) (*tunnelLatency, error) {
	c := fl.Clusters[0]
	l := &tunnelLatency{Clusters: len(fl.Clusters), Target: c.Name()}
	transport := func(dial func(context.Context, string, string) (net.Conn, error), keepAlive bool) *http.Transport {
		return &http.Transport{
			DialContext:         dial,
			TLSClientConfig:     clientTLS(fl.Authority.CertPool()),
			DisableKeepAlives:   !keepAlive,
			MaxIdleConnsPerHost: 1,
			TLSHandshakeTimeout: 10 * time.Second,
		}
	}
	direct := (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	tunneled := fl.Endpoint.Dialer(c.Name())
	url := c.URL() + "/api/v1/namespaces/default"

	for _, pass := range []struct {
		// rounds: the ABBA rounds; warm: requests per side before the clock starts.
		name                 string
		keepAlive            bool
		n, rounds, warm      int
		directOut, tunnelOut *latencyStats
	}{
		{"keep-alive", true, o.latencyRequests, 20, 20, &l.KeepAliveDirect, &l.KeepAliveTunnel},
		{"new connection per request", false, o.latencyNewConns, 12, 5, &l.NewConnDirect, &l.NewConnTunnel},
	} {
		d, t := newLatencyClient(transport(direct, pass.keepAlive), url, c.AdminToken()), newLatencyClient(transport(tunneled, pass.keepAlive), url, c.AdminToken())
		err := func() error {
			defer d.close()
			defer t.close()
			// Warm-up, not counted: the first connection, the handlers' first use.
			for _, cl := range []*latencyClient{d, t} {
				for i := 0; i < pass.warm; i++ {
					if _, err := cl.get(); err != nil {
						return err
					}
				}
				cl.took = cl.took[:0]
			}
			// ABBA: direct first in even rounds, the tunnel first in odd ones, so that a
			// machine getting busier or quieter weighs on both sides alike.
			per := max(1, pass.n/pass.rounds)
			for i := 0; i < pass.rounds; i++ {
				order := []*latencyClient{d, t}
				if i%2 == 1 {
					order = []*latencyClient{t, d}
				}
				for _, cl := range order {
					for j := 0; j < per; j++ {
						size, err := cl.get()
						if err != nil {
							return err
						}
						l.BodyBytes = size
					}
				}
			}
			return nil
		}()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pass.name, err)
		}
		*pass.directOut, *pass.tunnelOut = latencyOf(d.took), latencyOf(t.took)
	}
	return l, nil
}

// latencyClient sends one request again and again and records how long each took, from
// sending to the body read to its end.
type latencyClient struct {
	tr   *http.Transport
	hc   *http.Client
	req  *http.Request
	took []time.Duration
}

func newLatencyClient(tr *http.Transport, url, token string) *latencyClient {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", acceptJSON)
	req.Header.Set("User-Agent", "scale-cluster-agent-bench")
	return &latencyClient{tr: tr, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}, req: req}
}

func (c *latencyClient) get() (int, error) {
	start := time.Now()
	resp, err := c.hc.Do(c.req)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %s", resp.Status)
	}
	c.took = append(c.took, took)
	return int(n), nil
}

// close drops the kept-alive connection, so that nothing of the client outlives the fleet.
func (c *latencyClient) close() { c.tr.CloseIdleConnections() }

func latencyOf(d []time.Duration) latencyStats {
	if len(d) == 0 {
		return latencyStats{}
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	// Nearest-rank percentiles.
	rank := func(p float64) time.Duration { return s[max(0, int(math.Ceil(p*float64(len(s))))-1)] }
	return latencyStats{N: len(s), P50: rank(0.50), P99: rank(0.99), Mean: sum / time.Duration(len(s))}
}

// getStatus reads the run's /status document.
func getStatus(ctx context.Context, client *http.Client, addr string) (status.Report, error) {
	var r status.Report
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return r, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return r, fmt.Errorf("/status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("/status: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return r, fmt.Errorf("/status: %w", err)
	}
	return r, nil
}

// metricsGoroutines reads go_goroutines from the run's /metrics.
func metricsGoroutines(ctx context.Context, client *http.Client, addr string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("/metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("/metrics: no go_goroutines (%v)", sc.Err())
}

func summaryString(s status.Summary) string {
	return fmt.Sprintf("total %d, connecting %d, connected %d, ready %d, active %d, failed %d",
		s.Total, s.Connecting, s.Connected, s.Ready, s.Active, s.Failed)
}

func meanMinMax(v []float64) (mean, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	lo, hi = v[0], v[0]
	for _, x := range v {
		mean += x
		lo, hi = min(lo, x), max(hi, x)
	}
	return mean / float64(len(v)), lo, hi
}

// freeAddr returns a free loopback address for the binary's --status-addr. The port is
// taken below the kernel's ephemeral range: the binary binds its status server only after
// its clusters' listeners (port 0) and its tunnels' client connections, and any port the
// kernel hands out could be one of those; a port below the range is not handed out.
func freeAddr() (string, error) {
	low := 32768 // Linux's default ip_local_port_range starts here
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				low = v
			}
		}
	}
	const first = 10000
	if low <= first+1 {
		return "", fmt.Errorf("ephemeral port range starts at %d: no port below it to choose", low)
	}
	start := first + rand.IntN(low-first)
	for i := 0; i < low-first; i++ {
		port := first + (start-first+i)%(low-first)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		l.Close()
		return addr, nil
	}
	return "", fmt.Errorf("no free loopback port in %d-%d", first, low-1)
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
