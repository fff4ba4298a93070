package tunnel

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rancher/remotedialer"
	"github.com/sirupsen/logrus"
	"k8s.io/client-go/rest"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// The embedded Rancher-compatible endpoint: what a simulated cluster needs from Rancher to
// connect and become ready, and nothing else. Routes, authorizer chain, error bodies and
// health semantics follow Rancher v2.15 (see rancher-agent-protocol.md §2–§3).

const (
	// Rancher's health check period (clusterconnected and healthsyncer tick every 15 s).
	defaultHealthInterval = 15 * time.Second
	// healthsyncer makes 3 tries, 5 s apart, before it declares a cluster not ready.
	defaultHealthRetryInterval = 5 * time.Second
	defaultHealthRetries       = 3
	defaultHealthTimeout       = 10 * time.Second
	defaultHealthWorkers       = 16

	// restTimeout is the Timeout of the rest.Config Rancher builds for a downstream cluster.
	restTimeout = 45 * time.Second

	// tokenChars and tokenLength are those of Rancher's registration tokens: 54 characters
	// without vowels, so that no token spells a word.
	tokenChars  = "bcdfghjklmnpqrstvwxz2456789"
	tokenLength = 54

	// stevePrefix marks the steve-aggregation tunnel, in its bearer token and its client key.
	stevePrefix = "stv-cluster-"

	// Headers of the main tunnel (remotedialer.Token is the same header name).
	headerTunnelToken  = "X-API-Tunnel-Token"
	headerTunnelParams = "X-API-Tunnel-Params"
	// Rancher's auth filter sets this on every response of an unauthenticated request,
	// including the 400/401 of /v3/connect [live].
	headerCattleAuth = "X-Api-Cattle-Auth"
)

// EndpointOptions configure an Endpoint.
type EndpointOptions struct {
	// Address is the listen address; default "127.0.0.1:0".
	Address string
	// Certificate is the serving certificate (internal/pki Authority.ServingCert).
	Certificate tls.Certificate
	// CACertPEM is served as the cacerts setting and is what CAChecksum hashes. Empty means
	// "publicly trusted", as in Rancher: no checksum.
	CACertPEM []byte
	// HealthInterval is how often each cluster is checked; default 15 s, Rancher's.
	HealthInterval time.Duration
	// ReadyzCheck selects Rancher ≥ 2.14's readiness check, GET /readyz (any 2xx). False
	// selects the ≤ 2.13 check, GET /api/v1/namespaces/kube-system (200 or 404 pass).
	// Callers simulating a current Rancher should set it; the zero value is the legacy check.
	ReadyzCheck bool
	// Log receives the endpoint's lines; default logrus's standard logger.
	Log *logrus.Entry
	// Registerer receives the aggregated endpoint metrics; nil means none.
	Registerer prometheus.Registerer

	// HealthRetryInterval is the pause between the tries of a failing readiness check;
	// default 5 s, Rancher's.
	HealthRetryInterval time.Duration
	// HealthRetries is how many consecutive failed tries declare a cluster not ready;
	// default 3, Rancher's.
	HealthRetries int
	// HealthTimeout bounds the /ping check and, separately, the readiness probe of one
	// check; default 10 s.
	HealthTimeout time.Duration
	// HealthWorkers is how many checks run at once; default 16.
	HealthWorkers int

	// Driver is what the endpoint does to a connected cluster: DriverHealth (the default)
	// runs Rancher's health checks only, checking a cluster as soon as its tunnels come up;
	// DriverRancher runs Rancher's whole sequence on Rancher's 15 s ticks (driver.go).
	Driver string
	// Deployer applies the import manifest to a cluster (Rancher's clusterdeploy) under
	// DriverRancher; nil leaves AgentDeployed out, as for a cluster without nodes.
	Deployer Deployer
	// DriverInterval is the period of the controllers that keep visiting a cluster under
	// DriverRancher (provider detection, cluster-deploy's API check); default 10 s, Rancher's.
	DriverInterval time.Duration
	// ControllerStartCount is how many clusters start their user controllers at once under
	// DriverRancher; default 50, Rancher's cluster-controller-start-count.
	ControllerStartCount int
}

// Deployer applies a manifest to a cluster through the endpoint, as Rancher's clusterdeploy
// runs kubectl apply through its cluster proxy.
type Deployer interface {
	Deploy(ctx context.Context, e *Endpoint, clusterName string, manifest []byte) error
}

// EndpointClusterState is a cluster as the endpoint (the Rancher side) sees it.
type EndpointClusterState struct {
	Registered bool `json:"registered"`
	// MainConnected and SteveConnected say whether a session of that tunnel is up now.
	MainConnected  bool `json:"mainConnected"`
	SteveConnected bool `json:"steveConnected"`
	// Connected is Rancher's Connected condition: a stv-cluster session exists and GET
	// http://not-used/ping through it returned 200 at the last check.
	Connected bool `json:"connected"`
	// Ready is Rancher's Ready condition: Connected, and the readiness check, /version and a
	// node list through the main tunnel passed (a failing check is retried before Ready
	// turns false).
	Ready          bool       `json:"ready"`
	ConnectedSince *time.Time `json:"connectedSince,omitempty"`
	ReadySince     *time.Time `json:"readySince,omitempty"`
	LastCheck      *time.Time `json:"lastCheck,omitempty"`
	LastError      string     `json:"lastError,omitempty"`
	// Version is the gitVersion from /version.
	Version string `json:"version,omitempty"`
	Nodes   int    `json:"nodes"`
	// State is "pending" (no tunnel ever), "connecting" (tunnels seen, not Connected),
	// "connected" (Connected, never ready yet), "ready", or "unavailable" (was ready, is not).
	State string `json:"state"`

	// Rancher's view, as the v3 API shows it: the management cluster's conditions in the
	// order Rancher added them, and the state, transitioning and transitioningMessage that
	// wrangler's summary derives from them ("pending", "waiting", "active", "unavailable"…).
	Conditions           []rancher.Condition `json:"conditions,omitempty"`
	RancherState         string              `json:"rancherState"`
	Transitioning        string              `json:"transitioning"`
	TransitioningMessage string              `json:"transitioningMessage,omitempty"`
	// Driver is "imported" once the main tunnel has connected, "" before.
	Driver string `json:"driver,omitempty"`
	// AgentImage is set once the import manifest has been applied.
	AgentImage string `json:"agentImage,omitempty"`
	// Provider is the distribution Rancher's detector recognised, "" while it has not.
	Provider string `json:"provider,omitempty"`
	// ActiveSince is when the cluster last became active.
	ActiveSince *time.Time `json:"activeSince,omitempty"`

	// Address is the API address the main tunnel's params advertise.
	Address string `json:"address,omitempty"`
	// Sessions counts the tunnel sessions accepted for the cluster (both tunnels).
	Sessions int64 `json:"sessions"`
	// DuplicateSessions counts sessions accepted while another session with the same client
	// key was still up. remotedialer keeps dialing through the oldest; a non-zero count
	// usually means an agent reconnected before its old tunnel was closed.
	DuplicateSessions int64 `json:"duplicateSessions,omitempty"`
	// TunnelError is why the last rejected tunnel request of this cluster (a known token)
	// was refused; cleared when a session is accepted.
	TunnelError string `json:"tunnelError,omitempty"`
}

// Endpoint is the embedded Rancher-compatible endpoint.
type Endpoint struct {
	opts     EndpointOptions
	log      *logrus.Entry
	tunnels  *remotedialer.Server
	metrics  *endpointMetrics
	checksum string
	created  time.Time

	// ctx ends the health checks; cancel is called by Shutdown.
	ctx    context.Context
	cancel context.CancelFunc

	health *healthScheduler
	// api is the Rancher API the endpoint serves (endpoint_api.go).
	api rancherAPI
	// drivers counts the clusters' Rancher sequences (DriverRancher), which end with ctx.
	drivers sync.WaitGroup
	// startSlots bounds the clusters whose user controllers are starting (see driver.go).
	startSlots chan struct{}
	// ping is shared by every cluster's /ping check: keep-alives are off and each dial is
	// routed by the cluster in the request's context, so no connection is ever reused across
	// clusters (they all dial "not-used:80").
	ping *http.Client

	mu       sync.Mutex
	clusters map[string]*epCluster // by name
	tokens   map[string]*epCluster // by registration token
	sessions map[*epSession]struct{}
	listener net.Listener
	srv      *http.Server
	errorLog *io.PipeWriter // the server's error log; closing it ends logrus's reader
	started  bool
	closed   bool
	quiesced bool
	// handlers counts /v3/connect requests in progress, sessions included, so that Shutdown
	// can wait until every session goroutine is gone.
	handlers sync.WaitGroup
	// openConns counts the health checks' connections through tunnels that are not fully
	// closed yet.
	openConns atomic.Int64

	// tlsConfigs are the checks' client TLS configurations by CA (see sharedTLSConfig).
	tlsMu      sync.Mutex
	tlsConfigs map[string]*tls.Config
}

// epCluster is one registered cluster.
type epCluster struct {
	name  string
	token string
	log   *logrus.Entry

	mu            sync.Mutex
	params        *ClusterParams
	client        *epClient // built on demand; dropped when the params change or the main tunnel goes
	mainSessions  int
	steveSessions int
	everSession   bool
	everReady     bool
	failures      int // consecutive failed readiness tries
	conds         conditions
	driverStarted bool
	// controllersStarted: under DriverRancher, the user controllers (healthsyncer among
	// them) run; until then a passing check sets Connected only.
	controllersStarted bool
	settles            int // consecutive checks postponed while a session was being (un)registered
	st                 EndpointClusterState

	// Scheduling, guarded by healthScheduler.mu.
	next    time.Time
	index   int // position in the heap, -1 when not in it
	running bool
	rerunAt time.Time
}

// epSession is one accepted tunnel session: its hijacked connection, so that Shutdown and
// CloseSessions can end it (remotedialer has no API for that).
type epSession struct {
	cluster *epCluster
	steve   bool
	conn    net.Conn
}

// NewEndpoint validates opts and returns an endpoint that is not listening yet.
func NewEndpoint(opts EndpointOptions) (*Endpoint, error) {
	if len(opts.Certificate.Certificate) == 0 {
		return nil, errors.New("endpoint: a serving certificate is required")
	}
	if opts.Address == "" {
		opts.Address = "127.0.0.1:0"
	}
	if opts.HealthInterval <= 0 {
		opts.HealthInterval = defaultHealthInterval
	}
	if opts.HealthRetryInterval <= 0 {
		opts.HealthRetryInterval = defaultHealthRetryInterval
	}
	if opts.HealthRetries <= 0 {
		opts.HealthRetries = defaultHealthRetries
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = defaultHealthTimeout
	}
	if opts.HealthWorkers <= 0 {
		opts.HealthWorkers = defaultHealthWorkers
	}
	if opts.Log == nil {
		opts.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	if opts.DriverInterval <= 0 {
		opts.DriverInterval = driverCycle
	}
	if opts.ControllerStartCount <= 0 {
		opts.ControllerStartCount = defaultControllerStartCount
	}
	switch opts.Driver {
	case "":
		opts.Driver = DriverHealth
	case DriverHealth, DriverRancher:
	default:
		return nil, fmt.Errorf("endpoint: unknown driver %q (want %q or %q)", opts.Driver, DriverRancher, DriverHealth)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Endpoint{
		opts:     opts,
		log:      opts.Log,
		metrics:  newEndpointMetrics(opts.Registerer),
		checksum: caChecksum(opts.CACertPEM),
		created:  time.Now().UTC().Truncate(time.Second),
		ctx:      ctx,
		cancel:   cancel,
		clusters: map[string]*epCluster{},
		tokens:   map[string]*epCluster{},
		sessions: map[*epSession]struct{}{},

		startSlots: make(chan struct{}, opts.ControllerStartCount),
	}
	e.tunnels = remotedialer.New(e.authorize, e.writeTunnelError)
	e.health = newHealthScheduler(e)
	e.ping = &http.Client{Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		DialContext:       e.dialFromContext,
	}}
	return e, nil
}

// Start listens and serves HTTPS until ctx ends or Shutdown is called; it returns once the
// listener is up.
func (e *Endpoint) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started || e.closed {
		return errors.New("endpoint: already started")
	}
	ln, err := net.Listen("tcp", e.opts.Address)
	if err != nil {
		return fmt.Errorf("endpoint: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", e.servePing)
	mux.HandleFunc("/healthz", e.serveHealthz)
	mux.HandleFunc("/v3/settings/cacerts", e.serveCACerts)
	mux.HandleFunc("/v3/connect", e.serveConnect)
	mux.HandleFunc("/v3/connect/register", e.serveConnect)
	e.serveRancherAPI(mux) // endpoint_api.go
	e.errorLog = e.log.WriterLevel(logrus.DebugLevel)
	e.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       90 * time.Second,
		// Failed handshakes (curl --insecure probing, agents going away) are routine here.
		ErrorLog: log.New(e.errorLog, "", 0),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{e.opts.Certificate},
			MinVersion:   tls.VersionTLS12,
			// Tunnels are HTTP/1.1 upgrades, and nothing else here gains from HTTP/2.
			NextProtos: []string{"http/1.1"},
		},
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	e.listener = ln
	e.started = true
	srv := e.srv
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.WithError(err).Error("embedded endpoint stopped serving")
		}
	}()
	e.health.start(e.ctx, e.opts.HealthWorkers)
	context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Shutdown(sctx)
	})
	e.log.WithField("url", e.urlLocked()).Info("embedded Rancher-compatible endpoint listening")
	return nil
}

// URL is the endpoint's base URL, https://host:port; empty before Start.
func (e *Endpoint) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.urlLocked()
}

func (e *Endpoint) urlLocked() string {
	if e.listener == nil {
		return ""
	}
	addr := e.listener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		// A wildcard listener is reachable on loopback, which the serving certificate names.
		host = "127.0.0.1"
	}
	return "https://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// CAChecksum is what Rancher puts in CATTLE_CA_CHECKSUM: the sha256 (hex) of the cacerts
// setting with a trailing newline added when missing, because the agent's run.sh hashes the
// output of `jq -r .value`, which always ends with one. Empty when there is no CA.
func (e *Endpoint) CAChecksum() string { return e.checksum }

// caChecksum is what Rancher derives CATTLE_CA_CHECKSUM from: nothing for an empty cacerts
// setting (system roots), else the agent's rule.
func caChecksum(pem []byte) string {
	if len(pem) == 0 {
		return ""
	}
	return rancher.CAChecksum(string(pem))
}

// Register creates cluster name, as creating an imported cluster in Rancher does, and
// returns its registration token. It is idempotent: the same name gets the same token.
func (e *Endpoint) Register(name string) string {
	return e.RegisterWithToken(name, "")
}

// RegisterWithToken is Register with a given token (a new one when empty): a restarted
// endpoint takes its clusters back with the tokens their agents hold, as Rancher keeps them.
func (e *Endpoint) RegisterWithToken(name, token string) string {
	e.mu.Lock()
	if c, ok := e.clusters[name]; ok {
		e.mu.Unlock()
		return c.token
	}
	for token == "" {
		token = newRegistrationToken()
		if _, taken := e.tokens[token]; taken {
			token = ""
		}
	}
	c := &epCluster{
		name: name, token: token, index: -1,
		log:   e.log.WithField("cluster", name),
		st:    EndpointClusterState{Registered: true, State: statePending},
		conds: newConditions(time.Now()),
	}
	c.refreshRancherLocked(time.Now())
	e.clusters[name] = c
	e.tokens[token] = c
	e.mu.Unlock()
	e.metrics.clusterState("", statePending)
	// The first check comes at a random point of the first interval, so that a fleet
	// registered at once does not check in lockstep. A connecting session brings it forward.
	e.health.schedule(c, time.Now().Add(randomDuration(e.opts.HealthInterval)))
	return token
}

// Dialer dials through the cluster's main tunnel (client key = the cluster's name), as
// Rancher's dialer factory does; with no session it fails at once. The connections it
// returns ignore deadlines and close gracefully (see epConn).
func (e *Endpoint) Dialer(clusterName string) remotedialer.Dialer {
	return e.dialer(clusterName, nil, true)
}

// dialer dials through the session with the client key, wrapping each connection in an
// epConn; open, if set, counts the connections until they are fully closed; graceful
// selects the close order (see epConn).
func (e *Endpoint) dialer(clientKey string, open *atomic.Int64, graceful bool) remotedialer.Dialer {
	d := e.tunnels.Dialer(clientKey)
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := d(ctx, network, address)
		if err != nil {
			return nil, err
		}
		if open != nil {
			open.Add(1)
		}
		return &epConn{Conn: c, open: open, graceful: graceful, metrics: e.metrics}, nil
	}
}

// sessionReadBuffer is the websocket read buffer of a tunnel session (see Hijack).
const sessionReadBuffer = 1024

// epCloseGrace bounds how long a closed tunnel connection waits for the agent to close its end.
const epCloseGrace = 2 * time.Second

// epConn is a connection through a tunnel, as the endpoint uses it.
//
// Both ends of a stream closing at the same moment trips remotedialer v0.6.1's data race on
// connection.err (remotedialer#254, fixed in v0.6.2) on the agent's side, which -race
// reports in any test running agents and endpoint in one process. So each stream has one
// side that closes first, and the other waits for it:
//
//   - graceful (main tunnel, TLS to the cluster's API): Close returns at once, and a
//     goroutine reads until the agent's end is gone or epCloseGrace passes before closing the
//     remotedialer connection. crypto/tls has sent close_notify by then; the cluster's API
//     server answers it by closing, the agent sends the stream's end, and our close finds
//     the stream gone and sends nothing.
//   - not graceful (steve tunnel, /ping): Close closes at once, as Rancher's client does;
//     the agent's ping handler answers Connection: close and waits for that close.
//
// Deadlines are ignored: a write deadline on a remotedialer connection closes the stream
// once it passes, even after a successful write (crypto/tls sets one when it closes), and a
// read deadline is stored unsynchronised. Timeouts come from contexts instead.
type epConn struct {
	net.Conn
	closed   atomic.Bool
	open     *atomic.Int64 // counts the connection until fully closed; nil: not counted
	graceful bool
	metrics  *endpointMetrics
}

func (c *epConn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

func (c *epConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

func (c *epConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if !c.graceful {
		if c.open != nil {
			defer c.open.Add(-1)
		}
		return c.Conn.Close()
	}
	go func() {
		if c.open != nil {
			defer c.open.Add(-1)
		}
		// Closing the connection ends the drain if the agent does not close in time.
		stop := time.AfterFunc(epCloseGrace, func() {
			c.metrics.closeTimeout()
			_ = c.Conn.Close()
		})
		var buf [512]byte
		for {
			if _, err := c.Conn.Read(buf[:]); err != nil {
				break
			}
		}
		stop.Stop()
		_ = c.Conn.Close()
	}()
	return nil
}

func (c *epConn) SetDeadline(time.Time) error      { return nil }
func (c *epConn) SetReadDeadline(time.Time) error  { return nil }
func (c *epConn) SetWriteDeadline(time.Time) error { return nil }

// RESTConfig is the client configuration Rancher builds for the cluster from what its main
// tunnel reported (clustermanager.ToRESTConfig): Host https://<address>, dials through the
// main tunnel, the reported bearer token, CAData = the reported CA (base64-decoded) followed
// by "\n<clusterName>" as Rancher does to keep client-go's TLS cache keys apart, HTTP/1.1,
// 45 s timeout, no client-side rate limit, protobuf first. It fails until the cluster's main
// tunnel has connected once.
func (e *Endpoint) RESTConfig(clusterName string) (*rest.Config, error) {
	return e.configFor(clusterName, nil)
}

// driverRESTConfig is RESTConfig for the Rancher driver: its connections are counted, so
// that Shutdown lets them close before it ends the sessions (see epConn).
func (e *Endpoint) driverRESTConfig(clusterName string) (*rest.Config, error) {
	return e.configFor(clusterName, &e.openConns)
}

// configFor builds the cluster's rest.Config from its stored params; open counts its
// connections (nil: not counted).
func (e *Endpoint) configFor(clusterName string, open *atomic.Int64) (*rest.Config, error) {
	c := e.cluster(clusterName)
	if c == nil {
		return nil, fmt.Errorf("cluster %q is not registered", clusterName)
	}
	c.mu.Lock()
	p := c.params
	c.mu.Unlock()
	if p == nil {
		return nil, fmt.Errorf("cluster %q: the agent has not connected its main tunnel yet", clusterName)
	}
	return e.restConfigFor(clusterName, *p, open)
}

func (e *Endpoint) restConfigFor(name string, p ClusterParams, open *atomic.Int64) (*rest.Config, error) {
	ca, err := base64.StdEncoding.DecodeString(p.CACert)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: caCert is not base64: %w", name, err)
	}
	return &rest.Config{
		Host:        apiEndpoint(p.Address),
		BearerToken: p.Token,
		Dial:        e.dialer(name, open, true),
		Timeout:     restTimeout,
		QPS:         -1, // no client-side rate limiter, as Rancher's cluster clients
		UserAgent:   rest.DefaultKubernetesUserAgent() + " cluster " + name,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:     append(ca, "\n"+name...),
			NextProtos: []string{"http/1.1"},
		},
		ContentConfig: rest.ContentConfig{
			AcceptContentTypes: "application/vnd.kubernetes.protobuf, application/json",
			ContentType:        "application/json",
		},
	}, nil
}

// apiEndpoint is Rancher's status.apiEndpoint for a params address: https:// plus the
// address, an IPv6 host bracketed.
func apiEndpoint(address string) string {
	if host, port, err := net.SplitHostPort(address); err == nil {
		return "https://" + net.JoinHostPort(host, port)
	}
	if ip := net.ParseIP(address); ip != nil && ip.To4() == nil {
		return "https://[" + address + "]"
	}
	return "https://" + address
}

// ClusterState returns the cluster's state, false if it is not registered.
func (e *Endpoint) ClusterState(name string) (EndpointClusterState, bool) {
	c := e.cluster(name)
	if c == nil {
		return EndpointClusterState{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateLocked(), true
}

// States returns every registered cluster's state.
func (e *Endpoint) States() map[string]EndpointClusterState {
	e.mu.Lock()
	cs := make([]*epCluster, 0, len(e.clusters))
	for _, c := range e.clusters {
		cs = append(cs, c)
	}
	e.mu.Unlock()
	out := make(map[string]EndpointClusterState, len(cs))
	for _, c := range cs {
		c.mu.Lock()
		out[c.name] = c.stateLocked()
		c.mu.Unlock()
	}
	return out
}

// CloseSessions ends every tunnel session of the cluster, as Rancher does for a removed
// cluster, and returns how many it ended. The agent sees its tunnels drop and reconnects.
func (e *Endpoint) CloseSessions(clusterName string) int {
	e.mu.Lock()
	var conns []net.Conn
	for s := range e.sessions {
		if s.cluster.name == clusterName {
			conns = append(conns, s.conn)
		}
	}
	e.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	return len(conns)
}

// Shutdown stops the listener, ends every tunnel session (their hijacked connections are
// closed, which ends remotedialer's session) and the health checks, and waits for all of it
// until ctx ends.
func (e *Endpoint) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	srv := e.srv
	conns := make([]net.Conn, 0, len(e.sessions))
	for s := range e.sessions {
		conns = append(conns, s.conn)
	}
	e.mu.Unlock()

	// Checks first, and their connections closed the graceful way, before the sessions go:
	// an agent whose session ends with a stream still open closes that stream concurrently
	// from two goroutines (remotedialer#254 again, on the agent's side).
	err := e.Quiesce(ctx)

	for _, c := range conns {
		_ = c.Close()
	}
	if srv != nil {
		if serr := srv.Shutdown(ctx); serr != nil && err == nil {
			err = serr
		}
	}
	if werr := waitContext(ctx, e.handlers.Wait); werr != nil && err == nil {
		err = fmt.Errorf("endpoint: tunnel sessions still ending: %w", werr)
	}
	if e.errorLog != nil {
		_ = e.errorLog.Close()
	}
	return err
}

// Quiesce stops what the endpoint does through the tunnels (health checks, Rancher
// drivers) and waits, within ctx, until their connections have closed; the tunnels stay up.
// Stopping agents after this ends their sessions with no stream in flight, which spares the
// log a remotedialer warning per open stream. Shutdown quiesces first; the endpoint is of no
// further use afterwards but to be shut down.
func (e *Endpoint) Quiesce(ctx context.Context) error {
	e.mu.Lock()
	e.quiesced = true // no driver starts after this
	e.mu.Unlock()
	e.cancel()
	var err error
	if werr := waitContext(ctx, e.health.wait); werr != nil {
		err = fmt.Errorf("endpoint: health checks still running: %w", werr)
	}
	if werr := waitContext(ctx, e.drivers.Wait); werr != nil && err == nil {
		err = fmt.Errorf("endpoint: rancher drivers still running: %w", werr)
	}
	e.ping.CloseIdleConnections()
	e.mu.Lock()
	cs := make([]*epCluster, 0, len(e.clusters))
	for _, c := range e.clusters {
		cs = append(cs, c)
	}
	e.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		c.dropClientLocked()
		c.mu.Unlock()
	}
	e.waitConnsClosed(ctx)
	return err
}

// waitConnsClosed waits, at most epCloseGrace and while ctx lasts, until the health checks'
// tunnel connections have closed. Connections of Dialer and RESTConfig users are not waited for.
func (e *Endpoint) waitConnsClosed(ctx context.Context) {
	deadline := time.NewTimer(epCloseGrace)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for e.openConns.Load() > 0 {
		select {
		case <-tick.C:
		case <-deadline.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// waitContext runs wait in a goroutine and returns when it does or ctx ends.
func waitContext(ctx context.Context, wait func()) error {
	done := make(chan struct{})
	go func() {
		wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Endpoint) cluster(name string) *epCluster {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clusters[name]
}

func (e *Endpoint) clusterByToken(token string) *epCluster {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokens[token]
}

// servePing answers like Rancher's /ping, which run.sh polls before anything else.
func (e *Endpoint) servePing(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("pong"))
}

func (e *Endpoint) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok"))
}

// caSetting is the subset of Rancher's norman setting object that agents and scripts read;
// run.sh only uses .value.
type caSetting struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	BaseType   string            `json:"baseType"`
	Name       string            `json:"name"`
	Value      string            `json:"value"`
	Default    string            `json:"default"`
	Customized bool              `json:"customized"`
	Source     string            `json:"source"`
	Created    string            `json:"created"`
	Links      map[string]string `json:"links"`
	Actions    map[string]string `json:"actions"`
}

// serveCACerts answers GET /v3/settings/cacerts, which is unauthenticated in Rancher.
func (e *Endpoint) serveCACerts(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, _ := json.Marshal(caSetting{
		ID: "cacerts", Type: "setting", BaseType: "setting", Name: "cacerts",
		Value:   string(e.opts.CACertPEM),
		Created: e.created.Format(time.RFC3339),
		Links:   map[string]string{"self": "https://" + r.Host + "/v3/settings/cacerts"},
		Actions: map[string]string{},
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// epRequestKey carries an *epRequest through a /v3/connect request, from the authorizer
// (which learns the cluster) to the hijack (which learns the connection).
type epRequestKey struct{}

type epRequest struct {
	cluster    *epCluster
	steve      bool
	authorized bool
	rejected   bool // the error writer already counted this request
	session    *epSession
}

func requestOf(r *http.Request) *epRequest {
	er, _ := r.Context().Value(epRequestKey{}).(*epRequest)
	if er == nil {
		// Only reached if the remotedialer server is called without serveConnect.
		er = &epRequest{}
	}
	return er
}

// serveConnect hands /v3/connect and /v3/connect/register to the one remotedialer server,
// tracking the session the request becomes.
//
// The remotedialer server runs on a goroutine of its own, which becomes the session's read
// loop, and this handler returns as soon as the connection is hijacked. net/http then drops
// its per-connection state, which would otherwise live as long as the session: the
// connection struct, its 4 KiB bufio.Writer and the request (whose params header alone is a
// few KiB). See epResponseWriter.Hijack for the bufio.Reader.
func (e *Endpoint) serveConnect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(headerCattleAuth, "false")
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	e.handlers.Add(1)
	e.mu.Unlock()

	er := &epRequest{}
	// Detached from the handler's context, which ends when this handler returns.
	r = r.WithContext(context.WithValue(context.WithoutCancel(r.Context()), epRequestKey{}, er))
	hw := &epResponseWriter{ResponseWriter: w, e: e, req: er, r: r, hijacked: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer e.handlers.Done()
		defer close(done)
		e.tunnels.ServeHTTP(hw, r)
		if er.session != nil {
			e.sessionEnded(er.session)
		}
	}()
	select {
	case <-hw.hijacked:
	case <-done: // refused (400, 401) or failed before the hijack: the response is written
	}
}

// epResponseWriter is the writer remotedialer gets: it records the connection the websocket
// upgrade hijacks, and lets the handler return from then on.
type epResponseWriter struct {
	http.ResponseWriter
	e        *Endpoint
	req      *epRequest
	r        *http.Request
	hijacked chan struct{}
	// done is set once hijacked: the handler may have returned, and net/http's writer must
	// not be touched again (remotedialer writes an error after a failed upgrade).
	done bool
}

func (w *epResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return conn, brw, err
	}
	w.done = true
	if w.req.authorized {
		w.req.session = &epSession{cluster: w.req.cluster, steve: w.req.steve, conn: conn}
		w.e.sessionStarted(w.req.session)
	}
	// gorilla adopts the hijacked bufio.Reader as its read buffer when it is larger than 256
	// bytes. net/http's reads through its connection struct and would keep it alive, and is
	// 4 KiB. With nothing buffered (a client sends nothing before the 101) a 1 KiB reader of
	// the connection replaces it: crypto/tls buffers whole records anyway, so a small buffer
	// only means more, cheap, copies. The writer only sizes the handshake buffer.
	if brw.Reader.Buffered() == 0 {
		brw = bufio.NewReadWriter(bufio.NewReaderSize(conn, sessionReadBuffer), bufio.NewWriterSize(conn, 16))
	}
	// Upgrade has read every header it needs by now; remotedialer keeps the request for the
	// session's lifetime but only uses its context.
	w.r.Header = nil
	close(w.hijacked)
	return conn, brw, nil
}

func (w *epResponseWriter) Header() http.Header {
	if w.done {
		return http.Header{}
	}
	return w.ResponseWriter.Header()
}

func (w *epResponseWriter) WriteHeader(code int) {
	if !w.done {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *epResponseWriter) Write(b []byte) (int, error) {
	if w.done {
		return 0, http.ErrHijacked
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer for anything else.
func (w *epResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeTunnelError is remotedialer's error writer: the body and codes of Rancher's
// tunnelserver.ErrorWriter (remotedialer.DefaultErrorWriter: status, then the error text),
// plus bookkeeping.
func (e *Endpoint) writeTunnelError(w http.ResponseWriter, r *http.Request, code int, err error) {
	er := requestOf(r)
	if !er.rejected {
		er.rejected = true
		result := "unauthorized"
		switch {
		case er.authorized:
			result = "upgrade_failed"
		case code == http.StatusBadRequest:
			result = "bad_request"
		}
		e.metrics.tunnelRequest(result)
		if er.cluster != nil {
			er.cluster.mu.Lock()
			er.cluster.st.TunnelError = err.Error()
			er.cluster.mu.Unlock()
		}
		l := e.log.WithFields(logrus.Fields{"path": r.URL.Path, "remote": r.RemoteAddr, "code": code})
		if er.cluster != nil {
			l = l.WithField("cluster", er.cluster.name)
		}
		l.WithError(err).Debug("tunnel request refused")
	}
	remotedialer.DefaultErrorWriter(w, r, code, err)
}

// sessionStarted runs when a tunnel request's connection has been hijacked, just before
// remotedialer adds the session.
func (e *Endpoint) sessionStarted(s *epSession) {
	e.mu.Lock()
	e.sessions[s] = struct{}{}
	closed := e.closed
	e.mu.Unlock()
	if closed {
		// Shutdown already collected the sessions; end this one here.
		_ = s.conn.Close()
	}
	c := s.cluster
	c.mu.Lock()
	n := &c.mainSessions
	if s.steve {
		n = &c.steveSessions
	}
	duplicate := *n > 0
	*n++
	c.everSession = true
	c.settles = 0
	c.st.Sessions++
	c.st.TunnelError = ""
	if duplicate {
		c.st.DuplicateSessions++
	}
	c.st.MainConnected, c.st.SteveConnected = c.mainSessions > 0, c.steveSessions > 0
	if !s.steve && c.st.Driver == "" {
		// The tunnel authorizer sets driver "imported" and the provisioner completes.
		c.st.Driver = "imported"
		now := time.Now()
		c.conds.set(CondPending, statusTrue, "", "", now)
		c.conds.set(CondProvisioned, statusTrue, "", "", now)
	}
	change := e.updateStateLocked(c)
	c.mu.Unlock()
	change.log()
	if !s.steve {
		e.startDriver(c)
	}

	label := tunnelLabel(s.steve)
	e.metrics.sessionStarted(label, duplicate)
	if duplicate {
		c.log.WithField("tunnel", label).Warn("second live session for the same client key; remotedialer keeps dialing through the oldest")
	}
	// Check now rather than at the next tick, so that a connecting cluster turns ready within
	// moments; Rancher's own timing (the next 15 s tick) under DriverRancher. The check waits
	// for remotedialer to have registered the session.
	if e.opts.Driver != DriverRancher {
		e.health.schedule(c, time.Now())
	}
}

// sessionEnded runs once remotedialer has removed the session and its handler returned.
func (e *Endpoint) sessionEnded(s *epSession) {
	e.mu.Lock()
	delete(e.sessions, s)
	e.mu.Unlock()
	c := s.cluster
	c.mu.Lock()
	if s.steve {
		c.steveSessions--
	} else {
		c.mainSessions--
		if c.mainSessions == 0 {
			// Nothing can reach the cluster until it reconnects: free its client now.
			c.dropClientLocked()
		}
	}
	c.settles = 0
	c.st.MainConnected, c.st.SteveConnected = c.mainSessions > 0, c.steveSessions > 0
	change := e.updateStateLocked(c)
	c.mu.Unlock()
	change.log()
	e.metrics.sessionEnded(tunnelLabel(s.steve))
	// Unlike Rancher, which notices at its next 15 s tick, re-check soon so that the state
	// reflects a lost tunnel within moments. Not at once: an agent going away ends its two
	// sessions a few milliseconds apart, and a check started in between would have a stream
	// open on the second as it ends, which remotedialer v0.6.1 races on (remotedialer#254).
	e.health.schedule(c, time.Now().Add(sessionEndCheckDelay))
}

// sessionEndCheckDelay is how long after a session ends its cluster is checked.
const sessionEndCheckDelay = 250 * time.Millisecond

func tunnelLabel(steve bool) string {
	if steve {
		return "steve"
	}
	return "main"
}

// dialFromContext dials through the session whose client key the request context carries;
// it is the ping client's DialContext.
func (e *Endpoint) dialFromContext(ctx context.Context, network, address string) (net.Conn, error) {
	key, _ := ctx.Value(epDialKey{}).(string)
	if key == "" {
		return nil, errors.New("endpoint: no tunnel selected for this dial")
	}
	return e.dialer(key, &e.openConns, false)(ctx, network, address)
}

type epDialKey struct{}

func newRegistrationToken() string {
	b := make([]byte, tokenLength)
	n := big.NewInt(int64(len(tokenChars)))
	for i := range b {
		r, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		b[i] = tokenChars[r.Int64()]
	}
	return string(b)
}

// randomDuration returns a uniformly random duration in [0, d).
func randomDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	r, err := rand.Int(rand.Reader, big.NewInt(int64(d)))
	if err != nil {
		return 0
	}
	return time.Duration(r.Int64())
}
