package tunnel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"github.com/rancher/remotedialer"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// AgentOptions configure one simulated cluster's agent.
type AgentOptions struct {
	// ServerURL is Rancher's base URL, https://host[:port] (http:// gives ws://).
	ServerURL string
	// Token is the cluster registration token: X-API-Tunnel-Token on the main tunnel and
	// "stv-cluster-"+Token on the steve tunnel.
	Token string
	// Params is the cluster's own API as reported to Rancher. Params.Address is the only
	// address dials through the main tunnel may reach.
	Params ClusterParams
	// Dialer is shared by all agents; use NewWebsocketDialer. nil: system roots, 10 s.
	Dialer *websocket.Dialer
	// Backoff is the reconnect policy; the zero value means DefaultBackoff.
	Backoff Backoff
	// Log carries cluster=<name>; nil logs to a logger of this package's own.
	Log *logrus.Entry
	// Metrics are shared and aggregated; may be nil.
	Metrics *AgentMetrics
	// Limiter paces first connects across agents: Run waits on it before each tunnel's
	// first attempt. nil: no pacing.
	Limiter *rate.Limiter
	// OnRefusedDial, if set, is called for each refused dial, on the session's read loop:
	// keep it cheap and non-blocking.
	OnRefusedDial func(cluster, proto, address string)
	// OnRejected, if set, is called when Rancher refuses a tunnel's connect with 400 (unknown
	// token) or 401, with the token that was refused. It returns the token to use from now on,
	// or "" to keep it: Rancher rotates registration tokens, and a refused one is re-read.
	// It runs on the tunnel's reconnect loop and may block until ctx ends; both tunnels may
	// call it for the same refused token.
	OnRejected func(ctx context.Context, rejected string, statusCode int) string
}

// Agent is one simulated cluster's cattle-cluster-agent: the main tunnel, through which
// Rancher reaches the cluster's API, and the steve-aggregation tunnel, through which it
// pings. Idle, an agent with both tunnels up runs four goroutines: per tunnel, its loop
// (which runs the session's read loop) and remotedialer's ping loop.
type Agent struct {
	name    string
	opts    AgentOptions
	dialer  *websocket.Dialer
	backoff Backoff
	log     *logrus.Entry
	base    string // ws(s)://host/v3/connect
	baseErr error
	target  string // Params.Address normalised; "" if it is not host:port (nothing allowed)

	registered atomic.Bool // the main tunnel had a session: /v3/connect from now on
	running    atomic.Bool
	token      atomic.Pointer[string] // the registration token, replaced after a rejection

	main, steve tunnel

	refusedMu     sync.Mutex
	refusedLogged map[string]struct{} // addresses already logged, nil until the first
}

// AgentStatus is a snapshot of both tunnels.
type AgentStatus struct {
	Main  TunnelStatus `json:"main"`
	Steve TunnelStatus `json:"steve"`
}

var (
	ownLoggerOnce sync.Once
	ownLogger     *logrus.Logger
)

// defaultLog is a logger separate from logrus's standard logger, which
// QuietRemotedialerLogs turns down.
func defaultLog() *logrus.Logger {
	ownLoggerOnce.Do(func() { ownLogger = logrus.New() })
	return ownLogger
}

// NewAgent creates a cluster's agent; Run connects it.
func NewAgent(name string, opts AgentOptions) *Agent {
	a := &Agent{name: name, opts: opts, dialer: opts.Dialer, backoff: opts.Backoff.normalized(), log: opts.Log}
	if a.dialer == nil {
		a.dialer = sharedDefaultDialer()
	}
	if a.log == nil {
		a.log = logrus.NewEntry(defaultLog()).WithField("cluster", name)
	}
	a.token.Store(&opts.Token)
	a.base, a.baseErr = connectURL(opts.ServerURL)
	a.target, _ = normalizeHostPort(opts.Params.Address)
	a.main = tunnel{kind: tunnelMain, state: StateIdle}
	a.steve = tunnel{kind: tunnelSteve, state: StateIdle}
	return a
}

// Name is the cluster's name.
func (a *Agent) Name() string { return a.name }

// Run keeps both tunnels connected until ctx ends, and returns once both have stopped. An
// agent runs once at a time; a concurrent second Run returns at once.
func (a *Agent) Run(ctx context.Context) {
	if !a.running.CompareAndSwap(false, true) {
		a.log.Error("agent already running")
		return
	}
	defer a.running.Store(false)
	if a.target == "" {
		a.log.WithField("address", a.opts.Params.Address).Warn("cluster address is not host:port: every dial through the main tunnel will be refused")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.runTunnel(ctx, &a.steve)
	}()
	a.runTunnel(ctx, &a.main)
	<-done
}

// Token is the registration token the tunnels present now.
func (a *Agent) Token() string { return *a.token.Load() }

// SetToken replaces the registration token for the next connects; sessions that are up
// stay up, as Rancher keeps them.
func (a *Agent) SetToken(token string) { a.token.Store(&token) }

// Status is a snapshot of both tunnels; safe to call concurrently with Run.
func (a *Agent) Status() AgentStatus {
	return AgentStatus{Main: a.main.status(), Steve: a.steve.status()}
}

// request builds one attempt's URL, headers and dial rules, as the real agent sends them.
// Built per attempt rather than kept: the params header is a few KiB per cluster.
func (a *Agent) request(k tunnelKind) (tunnelRequest, error) {
	if a.baseErr != nil {
		return tunnelRequest{}, a.baseErr
	}
	h := http.Header{}
	token := a.Token()
	if k == tunnelSteve {
		// steve pkg/aggregation: the registration token with the stv-cluster- prefix.
		h.Set("Authorization", "Bearer stv-cluster-"+token)
		return tunnelRequest{url: a.base, headers: h, allow: allowSteve, dial: dialSteve, token: token}, nil
	}
	params, err := json.Marshal(TunnelParams{Cluster: &a.opts.Params})
	if err != nil {
		return tunnelRequest{}, err
	}
	// Exactly these two headers: no Authorization, and never X-API-Tunnel-ID, which with
	// X-API-Tunnel-Token would be remotedialer peer authentication.
	h.Set(remotedialer.Token, token)
	h.Set("X-API-Tunnel-Params", base64.StdEncoding.EncodeToString(params))
	url := a.base
	if !a.registered.Load() {
		url += "/register"
	}
	return tunnelRequest{url: url, headers: h, allow: a.allowMain, dial: a.dialMain, token: token}, nil
}

// QuietRemotedialerLogs turns logrus's standard logger down to Warn. remotedialer logs
// through logrus's package-level functions, i.e. the standard logger, and offers no logger
// of its own to configure. Its server side logs at Info on every session ("Handling backend
// connection request", "error in remotedialer server" when one ends), and its
// ConnectToProxy/ClientConnect at Info on every connect; at a thousand clusters that floods
// the log. (The agents here drive the client session directly and log through
// AgentOptions.Log, whose *logrus.Logger is not the standard one, so they keep their level.)
// remotedialer's Warn and Error lines stay visible. Call once, from the CLI; it never raises
// the level.
func QuietRemotedialerLogs() {
	if logrus.GetLevel() > logrus.WarnLevel {
		logrus.SetLevel(logrus.WarnLevel)
	}
}
