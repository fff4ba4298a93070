package tunnel

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

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
}

// runTunnel is one tunnel's reconnect loop. One attempt at a time: the next starts only
// after ConnectToProxyWithDialer returned, and it has closed its websocket by then, so a
// tunnel never has two sessions of its own.
func (a *Agent) runTunnel(ctx context.Context, t *tunnel) {
	defer a.stopped(t)
	if a.opts.Limiter != nil {
		if err := a.opts.Limiter.Wait(ctx); err != nil {
			return
		}
	}
	hooked := isHookedDialer(a.dialer)
	retry := 0 // retries since the last session that stayed up
	for ctx.Err() == nil {
		t.setState(StateConnecting)
		att := &attempt{run: ctx}
		err := a.connect(ctx, t, att, hooked)
		uptime, wasUp := a.ended(t, att)
		if ctx.Err() != nil {
			return
		}
		a.failed(t, err, wasUp, uptime)
		if wasUp && uptime >= a.backoff.ResetAfter {
			retry = 0
		}
		retry++
		if !sleepCtx(ctx, a.backoff.delay(retry, rand.Float64())) {
			return
		}
	}
}

// connect runs one attempt: the handshake and, if it succeeds, the session until it ends.
func (a *Agent) connect(ctx context.Context, t *tunnel, att *attempt, hooked bool) error {
	req, err := a.request(t.kind)
	if err != nil {
		return err
	}
	connCtx := ctx
	if hooked {
		// Never cancelled: the hooks end the session by closing its connection when ctx
		// ends (see attempt for why).
		connCtx = context.WithValue(context.WithoutCancel(ctx), attemptKey{}, att)
	}
	onConnect := func(context.Context, *remotedialer.Session) error {
		a.sessionUp(t, att)
		return nil
	}
	err = remotedialer.ConnectToProxyWithDialer(connCtx, req.url, req.headers, req.allow, a.dialer, req.dial, onConnect)
	return describeError(err, att)
}

// sessionUp is onConnect: it records the session and returns at once (remotedialer runs it
// in its own goroutine; it may run after the session already ended).
func (a *Agent) sessionUp(t *tunnel, att *attempt) {
	now := time.Now()
	t.mu.Lock()
	att.connected = true
	att.connectedAt = now
	t.connects++
	reconnect := t.connects > 1
	if reconnect {
		t.reconnects++
	}
	live := !att.ended
	if live {
		t.state = StateConnected
		t.since = now
	}
	t.mu.Unlock()
	if t.kind == tunnelMain {
		// The real agent writes ./connected here: later connects use /v3/connect.
		a.registered.Store(true)
	}
	a.opts.Metrics.sessionUp(t.kind, reconnect, live)
	a.log.WithField("tunnel", t.kind.String()).Debug("tunnel connected")
}

// ended records the end of an attempt and reports how long its session was up.
func (a *Agent) ended(t *tunnel, att *attempt) (uptime time.Duration, wasUp bool) {
	t.mu.Lock()
	att.ended = true
	if att.connected {
		uptime, wasUp = time.Since(att.connectedAt), true
	}
	down := t.state == StateConnected
	if down {
		t.state = StateConnecting
		t.since = time.Time{}
	}
	t.mu.Unlock()
	if down {
		a.opts.Metrics.sessionDown(t.kind)
	}
	return uptime, wasUp
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
	repeated := msg == t.lastErr
	t.failures++
	t.lastErr = msg
	t.lastErrTime = time.Now()
	t.mu.Unlock()
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
