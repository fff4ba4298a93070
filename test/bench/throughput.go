package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rancher/scale-cluster-agent/internal/fleet"
	"github.com/rancher/scale-cluster-agent/internal/mockapi"
)

// Accept headers as client-go and kubectl send them.
const (
	acceptJSON     = "application/json"
	acceptProtobuf = "application/vnd.kubernetes.protobuf, application/json"
	acceptTable    = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)

// target is one server under load: the simulated cluster or a baseline.
type target struct {
	addr  string
	token string
	tls   *tls.Config
}

// throughputBench compares one simulated cluster with minimal servers sending its bytes.
type throughputBench struct {
	cluster   *mockapi.Cluster
	mock      target
	serverTLS *tls.Config // the baselines' TLS settings, as the mock's
	conns     int
	duration  time.Duration // per side and metric, split into rounds
	rounds    int
	progress  func(string)
}

// baseline is a target on a baseline server, sending the same requests as to the mock.
func (b *throughputBench) baseline(addr string) target {
	return target{addr: addr, token: b.mock.token, tls: b.mock.tls}
}

// sample is work done in a measured time.
type sample struct {
	ops  float64
	secs float64
}

func (s sample) rate() float64 { return s.ops / s.secs }

// runFunc does one measured run of about d.
type runFunc func(d time.Duration) (sample, error)

// compare runs the mock and the baseline alternately, rounds times each, in ABBA order (the
// mock first in the first round, so that a baseline can use what the mock's first run
// captured): a machine getting busier or quieter during the comparison weighs on both sides
// alike. It returns each side's overall rate.
func (b *throughputBench) compare(mock, base runFunc) (float64, float64, error) {
	per := b.duration / time.Duration(b.rounds)
	var m, bl sample
	for i := 0; i < b.rounds; i++ {
		mockFirst := i%2 == 0
		for _, isMock := range []bool{mockFirst, !mockFirst} {
			run, total, side := base, &bl, "baseline"
			if isMock {
				run, total, side = mock, &m, "mock"
			}
			s, err := run(per)
			if err != nil {
				return 0, 0, fmt.Errorf("%s: %w", side, err)
			}
			total.ops += s.ops
			total.secs += s.secs
		}
	}
	return m.rate(), bl.rate(), nil
}

// throughput starts a fleet in this process and compares one of its clusters with minimal
// servers sending the same bytes.
func throughput(ctx context.Context, o options, rep *report) error {
	stateDir, err := os.MkdirTemp("", "sca-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)
	before := measureHeap()
	progress(fmt.Sprintf("throughput: starting %d clusters in this process", o.clusters))
	log := logrus.New()
	log.SetOutput(io.Discard)
	fl, err := fleet.Start(ctx, fleet.Config{StateDir: stateDir, Clusters: o.clusters, Log: logrus.NewEntry(log)})
	if err != nil {
		return err
	}
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = fl.Shutdown(sctx)
	}
	// The baselines get a certificate from the same CA, with the same key type and names, as
	// the one fleet.Start issued for the clusters.
	cert, err := fl.Authority.ServingCert()
	if err != nil {
		shutdown()
		return err
	}
	c := fl.Clusters[0]
	rep.Target = c.Name()
	title := fmt.Sprintf("Throughput of %s (one of %d clusters in this process), %d keep-alive HTTP/1.1 conns, %s per side in %d alternating rounds; baseline: minimal net/http TLS handler sending the same bytes", c.Name(), o.clusters, o.conns, o.duration, o.rounds)
	rep.Sections = append(rep.Sections, section{"throughput", title})
	tb := &throughputBench{
		cluster:   c,
		mock:      target{addr: c.Address(), token: c.AdminToken(), tls: clientTLS(fl.Authority.CertPool())},
		serverTLS: serverTLS(cert),
		conns:     o.conns,
		duration:  o.duration,
		rounds:    o.rounds,
		progress:  func(s string) { progress("throughput: " + s) },
	}
	figs, verdicts, err := tb.run()
	shutdown()
	if err != nil {
		return err
	}
	rep.Figures = append(rep.Figures, figs...)
	rep.Verdicts = append(rep.Verdicts, verdicts...)
	left := measureHeap().Goroutines - before.Goroutines
	rep.Verdicts = append(rep.Verdicts, verdict{
		Name: "goroutines left after fleet.Shutdown", Value: float64(left), Pass: left <= 0,
	})
	return nil
}

func (b *throughputBench) run() ([]figure, []verdict, error) {
	var figs []figure
	goroutinesBefore := measureHeap().Goroutines
	gets := []struct {
		metric, path, accept string
		check                func(*http.Response, []byte) error
	}{
		{"GET /api/v1/nodes, LIST JSON", "/api/v1/nodes", acceptJSON, wantType("application/json", `"kind":"NodeList"`)},
		{"GET /api/v1/nodes, LIST protobuf", "/api/v1/nodes", acceptProtobuf, wantType("application/vnd.kubernetes.protobuf", "NodeList")},
		{"GET /api/v1/nodes, LIST Table", "/api/v1/nodes", acceptTable, wantType("application/json", `"kind":"Table"`)},
		{"GET /api/v1/namespaces/default, JSON", "/api/v1/namespaces/default", acceptJSON, wantType("application/json", `"kind":"Namespace"`)},
	}
	for _, g := range gets {
		b.progress(g.metric)
		f, err := b.get(g.metric, g.path, g.accept, g.check)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", g.metric, err)
		}
		figs = append(figs, f)
	}

	b.progress("WATCH live")
	live, capt, err := b.watchLive()
	if err != nil {
		return nil, nil, fmt.Errorf("watch live: %w", err)
	}
	figs = append(figs, live)
	b.progress("WATCH replay")
	replay, err := b.watchReplay(capt)
	if err != nil {
		return nil, nil, fmt.Errorf("watch replay: %w", err)
	}
	figs = append(figs, replay)
	b.progress("WATCH establishment")
	est, err := b.watchEstablish("bench-empty")
	if err != nil {
		return nil, nil, fmt.Errorf("watch establishment: %w", err)
	}
	figs = append(figs, est)

	// Every watch and connection of the runs is closed by now: the cluster should be back to
	// no watchers and the process to its goroutines before the runs.
	open := waitWatchersGone(b.cluster, 5*time.Second)
	leaked := measureHeap().Goroutines - goroutinesBefore
	verdicts := []verdict{
		{Name: "watches still open on the cluster after every client hung up", Value: float64(open), Pass: open == 0},
		{Name: "goroutines left after the throughput runs", Value: float64(leaked), Pass: leaked <= 0},
	}
	return figs, verdicts, nil
}

// get compares requests/s of one GET against the mock and against a minimal handler that
// answers with the bytes captured from the mock.
func (b *throughputBench) get(metric, path, accept string, check func(*http.Response, []byte) error) (figure, error) {
	r := request{method: "GET", path: path, token: b.mock.token, accept: accept}
	resp, body, err := do(b.mock.addr, b.mock.tls, r)
	if err != nil {
		return figure{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return figure{}, fmt.Errorf("status %s: %s", resp.Status, body)
	}
	if err := check(resp, body); err != nil {
		return figure{}, err
	}
	addr, stop, err := serveBaseline(b.serverTLS, cannedFrom(resp, body))
	if err != nil {
		return figure{}, err
	}
	defer stop()
	mock, base, err := b.compare(
		func(d time.Duration) (sample, error) { return hammer(b.mock, r, b.conns, d) },
		func(d time.Duration) (sample, error) { return hammer(b.baseline(addr), r, b.conns, d) },
	)
	if err != nil {
		return figure{}, err
	}
	return newFigure("throughput", fmt.Sprintf("%s (%d B)", metric, len(body)), "req/s", mock, base), nil
}

func wantType(contentType, bodyHas string) func(*http.Response, []byte) error {
	return func(resp *http.Response, body []byte) error {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, contentType) {
			return fmt.Errorf("Content-Type %q, want %s", ct, contentType)
		}
		if !bytes.Contains(body, []byte(bodyHas)) {
			return fmt.Errorf("body does not contain %s", bodyHas)
		}
		return nil
	}
}

// hammer sends r back to back on conns keep-alive connections for d and counts the 200s.
// Connections are opened and warmed up before the clock starts, so neither TLS handshakes
// nor first-use costs are counted.
func hammer(t target, r request, conns int, d time.Duration) (sample, error) {
	req := r.encode(t.addr)
	cs := make([]*httpConn, 0, conns)
	defer func() {
		for _, c := range cs {
			_ = c.Close()
		}
	}()
	for i := 0; i < conns; i++ {
		c, err := dialTLS(t.addr, t.tls)
		if err != nil {
			return sample{}, err
		}
		cs = append(cs, c)
		for j := 0; j < 5; j++ {
			if status, _, err := c.roundTrip(req); err != nil || status != http.StatusOK {
				return sample{}, fmt.Errorf("warm-up: status %d, %v", status, err)
			}
		}
	}
	runtime.GC() // start each run without the previous run's garbage
	start := time.Now()
	end := start.Add(d)
	var ok atomic.Int64
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func(c *httpConn) {
			defer wg.Done()
			_ = c.conn.SetDeadline(end.Add(30 * time.Second))
			n := int64(0)
			defer func() { ok.Add(n) }()
			for time.Now().Before(end) {
				status, _, err := c.roundTrip(req)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("status %d", status)
				}
				if err != nil {
					errs <- err
					return
				}
				n++
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		return sample{}, err
	default:
	}
	return sample{float64(ok.Load()), elapsed.Seconds()}, nil
}

func (b *throughputBench) createNamespace(name string) error {
	body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q}}`, name)
	resp, got, err := do(b.mock.addr, b.mock.tls, request{
		method: "POST", path: "/api/v1/namespaces", token: b.mock.token, accept: acceptJSON,
		contentType: "application/json", body: []byte(body),
	})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("create namespace %s: %s: %s", name, resp.Status, got)
	}
	return nil
}
