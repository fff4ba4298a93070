package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/mockapi"
)

const (
	// liveWriters is how many connections create ConfigMaps during the live watch runs.
	liveWriters = 4
	// liveWindow bounds the creates not yet seen on the watch: the writers are paced by
	// delivery, so a run measures the create → watch pipeline, and the mock's per-watch queue
	// (which ends watches more than 10,000 events behind) is never the limit.
	liveWindow = 64
)

// liveCapture is what the mock's first live watch run captured for the baselines.
type liveCapture struct {
	created     *canned     // the response to a ConfigMap create
	watchHeader http.Header // the watch response's headers
	line        []byte      // one ADDED event as the watch sent it
	namespace   string      // where the ConfigMaps of that run are
	objects     int         // how many
}

// watchLive compares events/s delivered to one watch while liveWriters connections create
// ConfigMaps, paced by delivery, against a minimal server that answers each create with the
// captured response and streams the captured event line for it. Each mock run uses a new
// namespace so that its watch starts with nothing to replay.
func (b *throughputBench) watchLive() (figure, liveCapture, error) {
	var capt liveCapture
	runs := 0
	mockRun := func(d time.Duration) (sample, error) {
		runs++
		ns := fmt.Sprintf("bench-live-%d", runs)
		if err := b.createNamespace(ns); err != nil {
			return sample{}, err
		}
		if runs == 1 {
			return liveRun(b.mock, ns, d, &capt)
		}
		return liveRun(b.mock, ns, d, nil)
	}
	baseRun := func(d time.Duration) (sample, error) {
		// A fresh server per run, so that no event of an earlier run is left in its channel.
		addr, stop, err := serveBaseline(b.serverTLS, newLiveWatch(capt.created, capt.watchHeader, capt.line))
		if err != nil {
			return sample{}, err
		}
		defer stop()
		return liveRun(b.baseline(addr), "bench-baseline", d, nil)
	}
	mock, base, err := b.compare(mockRun, baseRun)
	if err != nil {
		return figure{}, capt, err
	}
	metric := fmt.Sprintf("WATCH configmaps, live, %d writers creating (%d B/event)", liveWriters, len(capt.line))
	return newFigure("throughput", metric, "events/s", mock, base), capt, nil
}

// liveRun opens a watch on ns's ConfigMaps and creates ConfigMaps on liveWriters other
// connections for d, never more than liveWindow ahead of the watch, and counts the events
// delivered. With capt set, it records the bytes the baselines need.
func liveRun(t target, ns string, d time.Duration, capt *liveCapture) (sample, error) {
	create := request{
		method: "POST", path: "/api/v1/namespaces/" + ns + "/configmaps", token: t.token, accept: acceptJSON,
		contentType: "application/json", body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"bench-"},"data":{"key":"value"}}`),
	}
	// One create before the watch: its response is the baseline's, and the watch's initial
	// ADDED event for it is the baseline's event line.
	resp, body, err := do(t.addr, t.tls, create)
	if err != nil {
		return sample{}, err
	}
	if resp.StatusCode != http.StatusCreated {
		return sample{}, fmt.Errorf("create: %s: %s", resp.Status, body)
	}
	w, err := dialTLS(t.addr, t.tls)
	if err != nil {
		return sample{}, err
	}
	defer w.Close()
	_ = w.conn.SetDeadline(time.Now().Add(30 * time.Second))
	watchReq := request{method: "GET", path: "/api/v1/namespaces/" + ns + "/configmaps?watch=1", token: t.token, accept: acceptJSON}
	if _, err := w.conn.Write(watchReq.encode(t.addr)); err != nil {
		return sample{}, err
	}
	wresp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return sample{}, err
	}
	if wresp.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("watch: %s", wresp.Status)
	}
	stream := bufio.NewReaderSize(wresp.Body, 64<<10)
	first, err := stream.ReadSlice('\n')
	if err != nil {
		return sample{}, fmt.Errorf("first event: %w", err)
	}
	if capt != nil {
		if !bytes.Contains(first, []byte(`"type":"ADDED"`)) {
			return sample{}, fmt.Errorf("first event is not an ADDED: %.200s", first)
		}
		capt.created = cannedFrom(resp, body)
		capt.watchHeader = cannedFrom(wresp, nil).header
		capt.line = bytes.Clone(first)
		capt.namespace = ns
	}

	writers := make([]*httpConn, 0, liveWriters)
	defer func() {
		for _, c := range writers {
			_ = c.Close()
		}
	}()
	for i := 0; i < liveWriters; i++ {
		c, err := dialTLS(t.addr, t.tls)
		if err != nil {
			return sample{}, err
		}
		writers = append(writers, c)
	}

	runtime.GC()
	start := time.Now()
	end := start.Add(d)
	_ = w.conn.SetDeadline(end)
	window := make(chan struct{}, liveWindow)
	stop := make(chan struct{})
	timer := time.AfterFunc(d, func() { close(stop) })
	defer timer.Stop()

	var events int64
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, err := stream.ReadSlice('\n'); err != nil {
				readErr <- err
				return
			}
			events++
			select {
			case <-window:
			default:
			}
		}
	}()

	var writes atomic.Int64
	writeErr := make(chan error, liveWriters)
	var wg sync.WaitGroup
	req := create.encode(t.addr)
	for _, c := range writers {
		wg.Add(1)
		go func(c *httpConn) {
			defer wg.Done()
			_ = c.conn.SetDeadline(end.Add(30 * time.Second))
			for {
				select {
				case window <- struct{}{}:
				case <-stop:
					return
				}
				status, _, err := c.roundTrip(req)
				if err == nil && status != http.StatusCreated {
					err = fmt.Errorf("create: status %d", status)
				}
				if err != nil {
					writeErr <- err
					return
				}
				writes.Add(1)
			}
		}(c)
	}
	err = <-readErr // the watch's read deadline is the end of the run
	elapsed := time.Since(start)
	wg.Wait()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return sample{}, fmt.Errorf("watch ended early after %d events: %v", events, err)
	}
	select {
	case err := <-writeErr:
		return sample{}, err
	default:
	}
	if capt != nil {
		capt.objects = int(writes.Load()) + 1
	}
	return sample{float64(events), elapsed.Seconds()}, nil
}

// watchReplay compares events/s of watches replaying a namespace's ConfigMaps as initial
// ADDED events (a watch without resourceVersion) against a minimal handler streaming as many
// captured event lines: both stream as fast as the client reads.
func (b *throughputBench) watchReplay(capt liveCapture) (figure, error) {
	path := "/api/v1/namespaces/" + capt.namespace + "/configmaps?watch=1"
	addr, stop, err := serveBaseline(b.serverTLS, &replayWatch{header: capt.watchHeader, line: capt.line, n: capt.objects})
	if err != nil {
		return figure{}, err
	}
	defer stop()
	mock, base, err := b.compare(
		func(d time.Duration) (sample, error) { return replayRun(b.mock, path, capt.objects, d) },
		func(d time.Duration) (sample, error) { return replayRun(b.baseline(addr), path, capt.objects, d) },
	)
	if err != nil {
		return figure{}, err
	}
	metric := fmt.Sprintf("WATCH configmaps, replay of %d objects", capt.objects)
	return newFigure("throughput", metric, "events/s", mock, base), nil
}

// replayRun reads the n initial events of one watch after another for d, each watch on a new
// connection (a client ends a watch by hanging up), and counts events.
func replayRun(t target, path string, n int, d time.Duration) (sample, error) {
	req := request{method: "GET", path: path, token: t.token, accept: acceptJSON}
	runtime.GC()
	start := time.Now()
	end := start.Add(d)
	events := 0
	for time.Now().Before(end) {
		got, err := replayOnce(t, req, n, end)
		events += got
		if err != nil {
			return sample{}, err
		}
	}
	return sample{float64(events), time.Since(start).Seconds()}, nil
}

// replayOnce opens one watch and reads up to n events before end. Running into end is not an
// error: the events read so far count.
func replayOnce(t target, req request, n int, end time.Time) (int, error) {
	c, err := dialTLS(t.addr, t.tls)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.conn.SetDeadline(end)
	if _, err := c.conn.Write(req.encode(t.addr)); err != nil {
		return 0, ignoreTimeout(err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, ignoreTimeout(err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("watch: %s", resp.Status)
	}
	stream := bufio.NewReaderSize(resp.Body, 64<<10)
	for i := 0; i < n; i++ {
		if _, err := stream.ReadSlice('\n'); err != nil {
			return i, ignoreTimeout(err)
		}
	}
	return n, nil
}

func ignoreTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}

// watchEstablish compares how many watches per second conns clients can open (new TLS
// connection, watch request, response headers, hang up) on an empty namespace, against a
// minimal handler that flushes the same headers and waits for the client to leave. Both pay
// the same TLS handshake, which dominates, so the ratio understates the difference in the
// handlers alone.
func (b *throughputBench) watchEstablish(ns string) (figure, error) {
	if err := b.createNamespace(ns); err != nil {
		return figure{}, err
	}
	req := request{method: "GET", path: "/api/v1/namespaces/" + ns + "/configmaps?watch=1", token: b.mock.token, accept: acceptJSON}
	header, err := establishOnce(b.mock, req.encode(b.mock.addr))
	if err != nil {
		return figure{}, err
	}
	addr, stop, err := serveBaseline(b.serverTLS, &replayWatch{header: header})
	if err != nil {
		return figure{}, err
	}
	defer stop()
	mock, base, err := b.compare(
		func(d time.Duration) (sample, error) { return establishRun(b.mock, req, b.conns, d) },
		func(d time.Duration) (sample, error) { return establishRun(b.baseline(addr), req, b.conns, d) },
	)
	if err != nil {
		return figure{}, err
	}
	return newFigure("throughput", "WATCH establishment, new TLS connection each", "watches/s", mock, base), nil
}

func establishRun(t target, r request, conns int, d time.Duration) (sample, error) {
	req := r.encode(t.addr)
	runtime.GC()
	start := time.Now()
	end := start.Add(d)
	var ok atomic.Int64
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if _, err := establishOnce(t, req); err != nil {
					errs <- err
					return
				}
				ok.Add(1)
			}
		}()
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

// establishOnce opens a watch, waits for its response headers, hangs up and returns the
// headers as a baseline should send them.
func establishOnce(t target, req []byte) (http.Header, error) {
	c, err := dialTLS(t.addr, t.tls)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write(req); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("watch: %s", resp.Status)
	}
	return cannedFrom(resp, nil).header, nil
}

// waitWatchersGone waits up to timeout for the cluster's open watches to drop to zero and
// returns how many are left.
func waitWatchersGone(c *mockapi.Cluster, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := c.Store().Watchers()
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}
