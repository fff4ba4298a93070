package tunnel

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rancher/remotedialer"
	"github.com/sirupsen/logrus"
)

// tunnel is the state of one of an agent's two tunnels.
type tunnel struct {
	kind    tunnelKind
	refused atomic.Int64 // read by Status without the lock; written on the read loop

	mu          sync.Mutex
	state       TunnelState
	since       time.Time
	connects    int64
	reconnects  int64
	failures    int64
	lastErr     string
	lastErrTime time.Time
}

func (t *tunnel) status() TunnelStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := TunnelStatus{
		State:        t.state,
		Connects:     t.connects,
		Reconnects:   t.reconnects,
		Failures:     t.failures,
		RefusedDials: t.refused.Load(),
		LastError:    t.lastErr,
	}
	if !t.since.IsZero() {
		since := t.since
		s.ConnectedSince = &since
	}
	if !t.lastErrTime.IsZero() {
		at := t.lastErrTime
		s.LastErrorTime = &at
	}
	return s
}

func (t *tunnel) setState(s TunnelState) {
	t.mu.Lock()
	t.state = s
	t.mu.Unlock()
}

// normalized fills in what a Backoff leaves unset: the zero Backoff is DefaultBackoff; a
// missing Min, Max or ResetAfter takes DefaultBackoff's; Max is at least Min; Jitter stays
// within [0, 1).
func (b Backoff) normalized() Backoff {
	if b == (Backoff{}) {
		return DefaultBackoff
	}
	if b.Min <= 0 {
		b.Min = DefaultBackoff.Min
	}
	if b.Max <= 0 {
		b.Max = max(DefaultBackoff.Max, b.Min)
	}
	b.Max = max(b.Max, b.Min)
	b.Jitter = min(max(b.Jitter, 0), 0.99)
	if b.ResetAfter <= 0 {
		b.ResetAfter = DefaultBackoff.ResetAfter
	}
	return b
}

// delay is the wait before retry number n (1 = the first retry): Min doubling up to Max,
// then spread by ±Jitter, with r uniform in [0, 1).
func (b Backoff) delay(n int, r float64) time.Duration {
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return time.Duration(float64(d) * (1 + b.Jitter*(2*r-1)))
}

// sleepCtx waits d or until ctx ends; it reports whether the full wait passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// tunnelRequest is what one connect attempt sends.
type tunnelRequest struct {
	url     string
	headers http.Header
	allow   remotedialer.ConnectAuthorizer
	dial    remotedialer.Dialer
	token   string // the registration token it presents
}

// runTunnel is one tunnel's reconnect loop. One attempt at a time, each in this goroutine
// (the websocket dial, then the session's read loop), so a tunnel never has two sessions of
// its own: the next dial starts only after the previous websocket was closed.
func (a *Agent) runTunnel(ctx context.Context, t *tunnel) {
	defer a.stopped(t)
	if a.opts.Limiter != nil {
		if err := a.opts.Limiter.Wait(ctx); err != nil {
			return
		}
	}
	retry := 0 // retries since the last session that stayed up
	for ctx.Err() == nil {
		t.setState(StateConnecting)
		token := a.Token()
		uptime, wasUp, err := a.connect(ctx, t)
		if ctx.Err() != nil {
			return
		}
		a.failed(t, err, wasUp, uptime)
		if wasUp && uptime >= a.backoff.ResetAfter {
			retry = 0
		}
		if a.replaceRejected(ctx, t, token, err) {
			retry = 0 // a new token deserves a prompt try
		}
		retry++
		if !sleepCtx(ctx, a.backoff.delay(retry, rand.Float64())) {
			return
		}
	}
}

// connect runs one attempt: the websocket handshake and, if it succeeds, the remotedialer
// session until it ends.
//
// This is remotedialer.ConnectToProxyWithDialer without its extra goroutine: that function
// parks its caller in a select while Session.Serve runs in a goroutine of its own, which
// costs a goroutine (and its stack) per tunnel, and its deferred Session.Close races with
// Serve's startPings when the context is cancelled (remotedialer#269). Here Serve runs in
// the loop's goroutine, Close follows it in the same goroutine, and the end of ctx closes
// the websocket, which ends Serve. On the wire nothing changes: the same upgrade request,
// the same client session (steve's own aggregation client is built this way), and the
// websocket is closed without a close frame, as ConnectToProxy does.
func (a *Agent) connect(ctx context.Context, t *tunnel) (uptime time.Duration, wasUp bool, err error) {
	req, err := a.request(t.kind)
	if err != nil {
		return 0, false, err
	}
	ws, resp, err := a.dial(ctx, req)
	if err != nil {
		return 0, false, handshakeError(err, resp)
	}
	defer ws.Close()
	session := remotedialer.NewClientSessionWithDialer(req.allow, ws, req.dial)
	defer session.Close()
	// Cancelled when the session ends: the ping loop and the streams' dials end with it.
	sessionCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()

	since := a.sessionUp(t)
	_, err = session.Serve(sessionCtx)
	return time.Since(since), true, err
}

// replaceRejected asks OnRejected for a new token when Rancher refused this one (400, 401),
// and reports whether the token changed.
func (a *Agent) replaceRejected(ctx context.Context, t *tunnel, token string, err error) bool {
	var he *HandshakeError
	if a.opts.OnRejected == nil || !errors.As(err, &he) ||
		he.StatusCode != http.StatusBadRequest && he.StatusCode != http.StatusUnauthorized {
		return false
	}
	if cur := a.Token(); cur != token {
		return true // the other tunnel already replaced it
	}
	next := a.opts.OnRejected(ctx, token, he.StatusCode)
	if next == "" || next == token {
		return false
	}
	a.SetToken(next)
	a.log.WithField("tunnel", t.kind.String()).Info("registration token replaced after Rancher refused it")
	return true
}

// sessionUp records a session that came up.
func (a *Agent) sessionUp(t *tunnel) time.Time {
	now := time.Now()
	t.mu.Lock()
	t.connects++
	reconnect := t.connects > 1
	if reconnect {
		t.reconnects++
	}
	t.state = StateConnected
	t.since = now
	t.mu.Unlock()
	if t.kind == tunnelMain {
		// The real agent writes ./connected here: later connects use /v3/connect.
		a.registered.Store(true)
	}
	a.opts.Metrics.sessionUp(t.kind, reconnect)
	a.log.WithField("tunnel", t.kind.String()).Debug("tunnel connected")
	return now
}

// failed records an attempt or session that ended while the agent was still running.
// Logging: a session's end at Info; a failed attempt at Warn when its error differs from
// the previous one, else at Debug, so a fleet retrying against a down Rancher stays quiet.
func (a *Agent) failed(t *tunnel, err error, wasUp bool, uptime time.Duration) {
	msg := "session ended"
	if err != nil {
		msg = err.Error()
	}
	t.mu.Lock()
	down := t.state == StateConnected
	if down {
		t.state = StateConnecting
		t.since = time.Time{}
	}
	repeated := msg == t.lastErr
	t.failures++
	t.lastErr = msg
	t.lastErrTime = time.Now()
	t.mu.Unlock()
	if down {
		a.opts.Metrics.sessionDown(t.kind)
	}
	a.opts.Metrics.failure(t.kind)
	log := a.log.WithFields(logrus.Fields{"tunnel": t.kind.String(), "error": msg})
	switch {
	case wasUp:
		log.WithField("uptime", uptime.Round(time.Millisecond).String()).Info("tunnel disconnected, reconnecting")
	case !repeated:
		log.Warn("tunnel connect failed, retrying with backoff")
	default:
		log.Debug("tunnel connect failed, retrying with backoff")
	}
}

func (a *Agent) stopped(t *tunnel) {
	t.mu.Lock()
	down := t.state == StateConnected
	t.state = StateStopped
	t.since = time.Time{}
	t.mu.Unlock()
	if down {
		a.opts.Metrics.sessionDown(t.kind)
	}
}

type dialResult struct {
	ws   *websocket.Conn
	resp *http.Response
	err  error
}

// dial runs the websocket dial in a short-lived goroutine: the TLS handshake needs a deep
// stack, and a goroutine's stack only shrinks by half per GC (and only while it uses less
// than a quarter), so the long-lived loop goroutine would keep a larger stack.
func (a *Agent) dial(ctx context.Context, req tunnelRequest) (*websocket.Conn, *http.Response, error) {
	ch := make(chan dialResult, 1)
	go func() {
		ws, resp, err := a.dialer.DialContext(ctx, req.url, req.headers)
		ch <- dialResult{ws, resp, err}
	}()
	r := <-ch
	return r.ws, r.resp, r.err
}
