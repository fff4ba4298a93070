package tunnel

import (
	"container/heap"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/version"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
)

// Health checks, as Rancher runs them for every connected cluster:
//
//   - Connected (clusterconnected): a session with client key stv-cluster-<name> exists and
//     GET http://not-used/ping through it returns 200.
//   - Ready (healthsyncer): Connected, and through the main tunnel with the cluster's
//     rest.Config, GET /readyz passes (≤ 2.13: GET /api/v1/namespaces/kube-system, 200 or 404).
//     Here /version must also parse and a node list succeed, which Rancher needs right after
//     (statsaggregator, nodesyncer). A failing probe is tried 3 times 5 s apart before Ready
//     turns false; losing Connected makes Ready false at once.
//
// Thousands of clusters share one scheduler goroutine (a heap ordered by due time) and a
// small worker pool, instead of a goroutine and ticker each. A check that fails a readiness
// try reschedules itself HealthRetryInterval later instead of sleeping, so a slow or broken
// cluster holds a worker only for the length of its requests.

const (
	stateConnecting  = "connecting"
	statePending     = "pending"
	stateConnected   = "connected"
	stateReady       = "ready"
	stateUnavailable = "unavailable"

	// settleDelay and maxSettles bound how long a check waits for remotedialer to register
	// (or unregister) a session whose connection was just hijacked (or whose handler is
	// returning): the hijack comes a moment before the session is added.
	settleDelay = 20 * time.Millisecond
	maxSettles  = 50
)

// healthScheduler runs each cluster's checks when due on a bounded pool of workers.
type healthScheduler struct {
	e *Endpoint

	mu    sync.Mutex
	queue clusterHeap
	wake  chan struct{}
	work  chan dueCheck
	wg    sync.WaitGroup
}

type dueCheck struct {
	c   *epCluster
	due time.Time
}

func newHealthScheduler(e *Endpoint) *healthScheduler {
	return &healthScheduler{e: e, wake: make(chan struct{}, 1), work: make(chan dueCheck)}
}

func (s *healthScheduler) start(ctx context.Context, workers int) {
	s.wg.Add(1 + workers)
	go func() {
		defer s.wg.Done()
		s.run(ctx)
	}()
	for range workers {
		go func() {
			defer s.wg.Done()
			for {
				select {
				case d := <-s.work:
					s.e.metrics.checkLag(time.Since(d.due))
					next := s.e.check(ctx, d.c)
					s.done(d.c, next)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
}

// wait returns once the scheduler and its workers have stopped (after ctx ended).
func (s *healthScheduler) wait() { s.wg.Wait() }

// run hands due clusters to the workers. When all workers are busy it blocks on the hand-off,
// and the checks run late rather than pile up; the lag metric shows it.
func (s *healthScheduler) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var due *epCluster
		var at time.Time
		wait := time.Hour
		if len(s.queue) > 0 {
			if d := time.Until(s.queue[0].next); d <= 0 {
				due = heap.Pop(&s.queue).(*epCluster)
				due.running = true
				at = due.next
			} else {
				wait = d
			}
		}
		s.mu.Unlock()
		if due != nil {
			select {
			case s.work <- dueCheck{c: due, due: at}:
				continue
			case <-ctx.Done():
				return
			}
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
		case <-ctx.Done():
			return
		}
	}
}

// schedule makes the cluster's next check due no later than at. A running check is re-run at
// that time once it finishes.
func (s *healthScheduler) schedule(c *epCluster, at time.Time) {
	s.mu.Lock()
	switch {
	case c.running:
		if c.rerunAt.IsZero() || at.Before(c.rerunAt) {
			c.rerunAt = at
		}
		s.mu.Unlock()
		return
	case c.index >= 0:
		if !at.Before(c.next) {
			s.mu.Unlock()
			return
		}
		c.next = at
		heap.Fix(&s.queue, c.index)
	default:
		c.next = at
		heap.Push(&s.queue, c)
	}
	s.mu.Unlock()
	s.poke()
}

// done queues the cluster again after a check, at next or at an earlier re-run request.
func (s *healthScheduler) done(c *epCluster, next time.Time) {
	if s.e.cluster(c.name) != c {
		// Deleted while its check ran: not queued again.
		s.mu.Lock()
		c.running = false
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	c.running = false
	if !c.rerunAt.IsZero() && c.rerunAt.Before(next) {
		next = c.rerunAt
	}
	c.rerunAt = time.Time{}
	c.next = next
	heap.Push(&s.queue, c)
	s.mu.Unlock()
	s.poke()
}

func (s *healthScheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// clusterHeap orders clusters by their next check.
type clusterHeap []*epCluster

func (h clusterHeap) Len() int           { return len(h) }
func (h clusterHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h clusterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *clusterHeap) Push(x any) {
	c := x.(*epCluster)
	c.index = len(*h)
	*h = append(*h, c)
}
func (h *clusterHeap) Pop() any {
	old := *h
	n := len(old)
	c := old[n-1]
	old[n-1] = nil
	c.index = -1
	*h = old[:n-1]
	return c
}

// checkResult is what one check found.
type checkResult struct {
	connected bool
	probeErr  error // why the readiness probe failed
	err       error // why the cluster is not connected
	version   string
	nodes     int
}

// check runs one health check of c and returns when the next one is due.
func (e *Endpoint) check(ctx context.Context, c *epCluster) time.Time {
	start := time.Now()
	if ctx.Err() != nil {
		return start.Add(e.opts.HealthInterval)
	}
	steveKey := stevePrefix + c.name
	hasSteve, hasMain := e.tunnels.HasSession(steveKey), e.tunnels.HasSession(c.name)
	c.mu.Lock()
	liveSteve, liveMain := c.steveSessions > 0, c.mainSessions > 0
	params := c.params
	if (liveSteve != hasSteve || liveMain != hasMain) && c.settles < maxSettles {
		c.settles++
		c.mu.Unlock()
		return start.Add(settleDelay)
	}
	c.settles = 0
	c.mu.Unlock()

	var res checkResult
	switch {
	case !hasSteve:
		res.err = errors.New("cluster agent is not connected: no stv-cluster tunnel")
	default:
		if err := e.pingCluster(ctx, steveKey); err != nil {
			res.err = fmt.Errorf("GET /ping through the stv-cluster tunnel: %w", err)
			break
		}
		res.connected = true
		switch {
		case params == nil:
			res.probeErr = errors.New("the main tunnel has not connected yet")
		case !hasMain:
			res.probeErr = errors.New("cluster agent disconnected: no main tunnel")
		default:
			res.version, res.nodes, res.probeErr = e.probe(ctx, c)
		}
	}
	if ctx.Err() != nil {
		// Shutting down: a failure now says nothing about the cluster.
		return start.Add(e.opts.HealthInterval)
	}
	e.metrics.checkDone(time.Since(start), res)
	return e.apply(c, res)
}

// pingCluster is clusterconnected's check: GET http://not-used/ping through the steve tunnel.
func (e *Endpoint) pingCluster(ctx context.Context, steveKey string) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.HealthTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, epDialKey{}, steveKey)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://not-used/ping", nil)
	if err != nil {
		return err
	}
	resp, err := e.ping.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// probe is healthsyncer's readiness check plus /version and a node list, through the main
// tunnel with the rest.Config Rancher would build. Its connection is closed afterwards:
// keeping one idle TLS connection per cluster between checks would cost memory on both
// ends of every tunnel for thousands of clusters.
func (e *Endpoint) probe(ctx context.Context, c *epCluster) (string, int, error) {
	cl, err := e.clientFor(c)
	if err != nil {
		return "", 0, err
	}
	defer cl.closeIdle()
	ctx, cancel := context.WithTimeout(ctx, e.opts.HealthTimeout)
	defer cancel()
	rc := cl.core.RESTClient()
	if e.opts.ReadyzCheck {
		if err := rc.Get().AbsPath("/readyz").Do(ctx).Error(); err != nil {
			return "", 0, fmt.Errorf("GET /readyz: %w", err)
		}
	} else {
		_, err := cl.core.Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", 0, fmt.Errorf("GET /api/v1/namespaces/kube-system: %w", err)
		}
	}
	raw, err := rc.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", 0, fmt.Errorf("GET /version: %w", err)
	}
	var info version.Info
	if err := json.Unmarshal(raw, &info); err != nil || info.GitVersion == "" {
		return "", 0, fmt.Errorf("GET /version: no gitVersion in %.100q", raw)
	}
	nodes, err := cl.core.Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return info.GitVersion, 0, fmt.Errorf("list nodes: %w", err)
	}
	return info.GitVersion, len(nodes.Items), nil
}

// epClient is a cluster's client-go client for the checks, kept while its params and main
// tunnel last. CoreV1 only: a full clientset builds ~50 REST clients per cluster.
type epClient struct {
	hc   *http.Client
	core *corev1client.CoreV1Client
}

func (cl *epClient) closeIdle() { utilnet.CloseIdleConnectionsFor(cl.hc.Transport) }

func (e *Endpoint) clientFor(c *epCluster) (*epClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	if c.params == nil {
		return nil, errors.New("the main tunnel has not connected yet")
	}
	cfg, err := e.restConfigFor(c.name, *c.params, &e.openConns)
	if err != nil {
		return nil, err
	}
	// The rest.Config Rancher would use, on a transport of our own: client-go would parse
	// the CA and build a TLS config per cluster (~8 KiB each), where every cluster of a fleet
	// has the same CA. Same verification: the CA as roots, the host of the address as server
	// name, HTTP/1.1 only.
	tlsConfig, err := e.sharedTLSConfig(c.params.CACert)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.name, err)
	}
	cfg.Transport = &http.Transport{
		DialContext:         cfg.Dial,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     time.Minute,
	}
	cfg.Dial = nil
	cfg.TLSClientConfig = rest.TLSClientConfig{}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	core, err := corev1client.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	c.client = &epClient{hc: hc, core: core}
	return c.client, nil
}

// sharedTLSConfig returns the client TLS configuration for a params caCert (base64 PEM),
// one per distinct CA.
func (e *Endpoint) sharedTLSConfig(caCert string) (*tls.Config, error) {
	e.tlsMu.Lock()
	defer e.tlsMu.Unlock()
	if cfg, ok := e.tlsConfigs[caCert]; ok {
		return cfg, nil
	}
	pem, err := base64.StdEncoding.DecodeString(caCert)
	if err != nil {
		return nil, fmt.Errorf("caCert is not base64: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("caCert holds no PEM certificate")
	}
	cfg := &tls.Config{
		RootCAs: pool, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"},
		// Every check makes a full handshake (its connection is closed afterwards, see
		// probe). The default hybrid post-quantum key share costs about a fifth of that on
		// each side; the checks of a simulator gain nothing from it.
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
	}
	if e.tlsConfigs == nil {
		e.tlsConfigs = map[string]*tls.Config{}
	}
	e.tlsConfigs[caCert] = cfg
	return cfg, nil
}

func (c *epCluster) dropClientLocked() {
	if c.client != nil {
		c.client.closeIdle()
		c.client = nil
	}
}

// apply records a check's result and returns when the next check is due.
func (e *Endpoint) apply(c *epCluster, res checkResult) time.Time {
	now := time.Now()
	// ±10% per interval: clusters that connected together (and were checked on connect)
	// drift apart instead of being checked in one burst every interval.
	next := now.Add(e.opts.HealthInterval - e.opts.HealthInterval/10 + randomDuration(e.opts.HealthInterval/5))
	c.mu.Lock()
	c.st.LastCheck = &now
	switch {
	case !res.connected:
		// Rancher: Connected False forces Ready False (reason Disconnected) at once.
		c.setConnectedLocked(false, now)
		c.setReadyLocked(false, now)
		c.conds.set(CondConnected, statusFalse, "", "", now)
		c.conds.set(CondReady, statusFalse, reasonDisconnected, msgDisconnected, now)
		c.failures = 0
		c.st.LastError = res.err.Error()
	case res.probeErr == nil:
		c.setConnectedLocked(true, now)
		c.setReadyLocked(true, now)
		c.conds.set(CondConnected, statusTrue, "", "", now)
		if e.opts.Driver != DriverRancher || c.controllersStarted {
			c.conds.set(CondReady, statusTrue, "", "", now)
			c.conds.set(CondWaiting, statusTrue, "", "", now)
		}
		c.failures = 0
		c.st.LastError = ""
		c.st.Version, c.st.Nodes = res.version, res.nodes
	default:
		c.setConnectedLocked(true, now)
		c.conds.set(CondConnected, statusTrue, "", "", now)
		c.failures++
		c.st.LastError = res.probeErr.Error()
		if c.failures >= e.opts.HealthRetries {
			c.setReadyLocked(false, now)
			c.conds.set(CondReady, statusFalse, "", res.probeErr.Error(), now)
			c.failures = 0
		} else {
			// healthsyncer's next try, 5 s later; Ready keeps its value until the last try.
			next = now.Add(e.opts.HealthRetryInterval)
		}
	}
	change := e.updateStateLocked(c)
	c.mu.Unlock()
	change.log()
	return next
}

func (c *epCluster) setConnectedLocked(v bool, now time.Time) {
	if v == c.st.Connected {
		return
	}
	c.st.Connected = v
	c.st.ConnectedSince = nil
	if v {
		t := now
		c.st.ConnectedSince = &t
	}
}

func (c *epCluster) setReadyLocked(v bool, now time.Time) {
	if v == c.st.Ready {
		return
	}
	c.st.Ready = v
	c.st.ReadySince = nil
	if v {
		t := now
		c.st.ReadySince = &t
		c.everReady = true
	}
}

// stateChange is a cluster's state transition, logged once the cluster's lock is released.
type stateChange struct {
	c        *epCluster
	from, to string
	err      string
}

// refreshRancherLocked derives the v3 API's state from the conditions.
func (c *epCluster) refreshRancherLocked(now time.Time) {
	sum := summarize(c.conds)
	if sum.State == RancherActive && c.st.RancherState != RancherActive {
		t := now
		c.st.ActiveSince = &t
	}
	c.st.RancherState, c.st.Transitioning, c.st.TransitioningMessage = sum.State, sum.Transitioning, sum.Message
}

// stateLocked is the cluster's state for a reader; the conditions are copied only here, so
// that an idle fleet holds one list per cluster.
func (c *epCluster) stateLocked() EndpointClusterState {
	st := c.st
	st.Conditions = c.conds.clone()
	return st
}

// updateStateLocked derives the cluster's State and Rancher state and records a change in
// the metrics.
func (e *Endpoint) updateStateLocked(c *epCluster) stateChange {
	c.refreshRancherLocked(time.Now())
	var s string
	switch {
	case c.st.Ready:
		s = stateReady
	case c.everReady:
		s = stateUnavailable
	case c.st.Connected:
		s = stateConnected
	case c.everSession:
		s = stateConnecting
	default:
		s = statePending
	}
	if s == c.st.State {
		return stateChange{}
	}
	ch := stateChange{c: c, from: c.st.State, to: s, err: c.st.LastError}
	c.st.State = s
	e.metrics.clusterState(ch.from, ch.to)
	return ch
}

// stateRank orders the states by progress, to tell progress from regressions.
var stateRank = map[string]int{statePending: 0, stateConnecting: 1, stateUnavailable: 1, stateConnected: 2, stateReady: 3}

// log writes one line per change: Info for going unavailable or backwards, Debug for the
// steps of a normal start-up, so that a thousand clusters coming up log nothing per cluster
// (the progress line and /status tell that story).
func (ch stateChange) log() {
	if ch.c == nil {
		return
	}
	l := ch.c.log.WithFields(logrus.Fields{"state": ch.to, "previous": ch.from})
	if ch.err != "" && ch.to != stateReady {
		l = l.WithField("error", ch.err)
	}
	if ch.to == stateUnavailable || stateRank[ch.to] < stateRank[ch.from] {
		l.Info("cluster state changed")
	} else {
		l.Debug("cluster state changed")
	}
}
