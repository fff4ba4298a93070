package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sirupsen/logrus"
)

const (
	// wsReadBufferSize is the websocket read buffer every tunnel holds for its whole life.
	// Rancher → agent traffic is small (Connect frames, requests, pongs); gorilla reads
	// payloads larger than the buffer straight into the caller's slice, and with TLS a read
	// is served from the decrypted record anyway, so a small buffer costs no syscalls there
	// and saves 3.5 KiB per tunnel against gorilla's 4 KiB default.
	wsReadBufferSize = 512
	// wsWriteBufferSize is big enough for one remotedialer Data frame (32 KiB of payload, the
	// size its pipe reads) to go out as one websocket frame. Write buffers come from a pool
	// and are held only while a message is written, so idle tunnels hold none.
	wsWriteBufferSize = 32 << 10
	// tlsSessionCacheSize: every agent talks to the same Rancher host, so a few entries are
	// enough for all of them to resume sessions (cheaper reconnect storms, and a resumed
	// connection shares the cached peer certificates instead of parsing its own).
	tlsSessionCacheSize = 64
)

// NewWebsocketDialer returns the websocket dialer all agents share. rancherCA nil means the
// system roots. Tunnels speak HTTP/1.1 only (a websocket upgrade cannot ride HTTP/2), resume
// TLS sessions through a shared cache, read through small buffers and write through a shared
// buffer pool. No proxy support: the simulator talks to Rancher directly.
func NewWebsocketDialer(rancherCA *x509.CertPool, handshakeTimeout time.Duration) *websocket.Dialer {
	tlsConfig := &tls.Config{
		RootCAs:            rancherCA,
		MinVersion:         tls.VersionTLS12,
		NextProtos:         []string{"http/1.1"},
		ClientSessionCache: tls.NewLRUClientSessionCache(tlsSessionCacheSize),
	}
	nd := &net.Dialer{Timeout: handshakeTimeout}
	configs := &tlsConfigs{base: tlsConfig}
	return &websocket.Dialer{
		HandshakeTimeout: handshakeTimeout,
		TLSClientConfig:  tlsConfig,
		ReadBufferSize:   wsReadBufferSize,
		WriteBufferSize:  wsWriteBufferSize,
		WriteBufferPool:  &sync.Pool{},
		NetDialContext:   nd.DialContext,
		// The TLS dial is gorilla's, except that the per-host config is shared: a tls.Conn
		// keeps its config for life, and gorilla clones one per dial (~0.5 KiB per tunnel).
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			raw, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(raw, configs.forHost(host))
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return tc, nil
		},
	}
}

// tlsConfigs caches one client config per server name (there is one Rancher host).
type tlsConfigs struct {
	base   *tls.Config
	byHost sync.Map // server name → *tls.Config
}

func (c *tlsConfigs) forHost(host string) *tls.Config {
	if cfg, ok := c.byHost.Load(host); ok {
		return cfg.(*tls.Config)
	}
	cfg := c.base.Clone()
	cfg.ServerName = host
	actual, _ := c.byHost.LoadOrStore(host, cfg)
	return actual.(*tls.Config)
}

var (
	defaultDialerOnce sync.Once
	defaultDialer     *websocket.Dialer
)

// sharedDefaultDialer is used by agents created without a dialer: system roots, 10 s.
func sharedDefaultDialer() *websocket.Dialer {
	defaultDialerOnce.Do(func() { defaultDialer = NewWebsocketDialer(nil, 10*time.Second) })
	return defaultDialer
}

// HandshakeError is a websocket upgrade Rancher answered with something other than 101,
// e.g. 401 for an unknown token or 400 for params it rejects.
type HandshakeError struct {
	StatusCode int
	Body       string // the start of the response body, e.g. "failed authentication"
	Err        error
}

func (e *HandshakeError) Error() string {
	msg := fmt.Sprintf("%v (HTTP %d %s", e.Err, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg + ")"
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// handshakeError describes a failed websocket dial, with the response if there was one.
func handshakeError(err error, resp *http.Response) error {
	if resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		return err
	}
	body := ""
	if resp.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		resp.Body.Close()
		body = strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
		if i := strings.IndexAny(body, "\r\n"); i >= 0 {
			body = body[:i]
		}
	}
	return &HandshakeError{StatusCode: resp.StatusCode, Body: body, Err: err}
}

// connectURL is ws(s)://<host>/v3/connect for a Rancher base URL, as the agent builds it:
// only the host is kept, http(s) becomes ws(s), IPv6 hosts stay bracketed.
func connectURL(serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("server URL: %w", err)
	}
	scheme := ""
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		scheme = "wss"
	case "http", "ws":
		scheme = "ws"
	default:
		return "", fmt.Errorf("server URL %q: scheme must be https or http", serverURL)
	}
	host := u.Hostname()
	if host == "" {
		return "", fmt.Errorf("server URL %q has no host", serverURL)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		host += ":" + p
	}
	return scheme + "://" + host + "/v3/connect", nil
}

// normalizeHostPort makes host:port comparable: IPs in canonical form (IPv4-mapped IPv6
// unmapped), names lower-cased without a trailing dot, the port in plain decimal.
func normalizeHostPort(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return "", false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
	} else {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
	}
	return net.JoinHostPort(host, strconv.FormatUint(p, 10)), true
}

// allowMain is the main tunnel's ConnectAuthorizer: tcp to the cluster's API address only.
// It runs on the session's read loop, so it stays a pure in-memory check. Saying no makes
// remotedialer close the whole session ("connect not allowed"); the loop reconnects.
func (a *Agent) allowMain(proto, address string) bool {
	if proto == "tcp" && a.isTarget(address) {
		return true
	}
	a.refuse(proto, address)
	return false
}

func (a *Agent) isTarget(address string) bool {
	if a.target == "" {
		return false
	}
	if address == a.opts.Params.Address {
		return true
	}
	n, ok := normalizeHostPort(address)
	return ok && n == a.target
}

// dialMain is the main tunnel's local dialer. The authorizer has already refused anything
// else; the same rule here means no other address can ever be dialed.
func (a *Agent) dialMain(ctx context.Context, network, address string) (net.Conn, error) {
	if network != "tcp" || !a.isTarget(address) {
		a.refuse(network, address)
		return nil, fmt.Errorf("dial %s %s refused: only %s is allowed", network, address, a.opts.Params.Address)
	}
	c, err := localDialer.DialContext(ctx, "tcp", a.opts.Params.Address)
	if err != nil {
		return nil, err
	}
	return copyConn{c}, nil
}

var localDialer = &net.Dialer{Timeout: 10 * time.Second}

// allowSteve is the steve tunnel's authorizer: like steve's allowAll, every dial is allowed,
// because every dial ends in the in-process handler whatever its address.
func allowSteve(string, string) bool { return true }

// refuse counts a refused dial and logs it once per distinct address.
func (a *Agent) refuse(proto, address string) {
	a.main.refused.Add(1)
	a.opts.Metrics.refused(tunnelMain)
	if a.opts.OnRefusedDial != nil {
		a.opts.OnRefusedDial(a.name, proto, address)
	}
	a.refusedMu.Lock()
	first := false
	switch _, seen := a.refusedLogged[address]; {
	case seen:
	case len(a.refusedLogged) < maxRefusedLogged:
		if a.refusedLogged == nil {
			a.refusedLogged = map[string]struct{}{}
		}
		a.refusedLogged[address] = struct{}{}
		first = true
	}
	a.refusedMu.Unlock()
	if first {
		a.log.WithFields(logrus.Fields{"cluster": a.name, "proto": proto, "address": address, "allowed": a.opts.Params.Address}).
			Warn("refused a dial through the main tunnel (only the cluster's API address is allowed); the session is closed and reconnects")
	}
}

// maxRefusedLogged bounds the addresses remembered for log-once, against a peer that dials
// random addresses.
const maxRefusedLogged = 32

// copyConn gives a local connection io.ReaderFrom and io.WriterTo, which remotedialer's pipe
// (two io.Copy loops per proxied stream) then uses instead of allocating 32 KiB per
// direction per stream. A stream waiting for data holds a 1 KiB buffer; a 32 KiB one is
// borrowed from a pool while data keeps coming.
type copyConn struct{ net.Conn }

func (c copyConn) ReadFrom(r io.Reader) (int64, error) { return adaptiveCopy(c.Conn, r) }
func (c copyConn) WriteTo(w io.Writer) (int64, error)  { return adaptiveCopy(w, c.Conn) }

const (
	smallCopyBuf = 1 << 10
	bigCopyBuf   = 32 << 10
)

var (
	smallBufs = sync.Pool{New: func() any { b := make([]byte, smallCopyBuf); return &b }}
	bigBufs   = sync.Pool{New: func() any { b := make([]byte, bigCopyBuf); return &b }}
)

func adaptiveCopy(dst io.Writer, src io.Reader) (written int64, err error) {
	small := smallBufs.Get().(*[]byte)
	defer smallBufs.Put(small)
	var big *[]byte
	defer func() {
		if big != nil {
			bigBufs.Put(big)
		}
	}()
	buf := *small
	for {
		nr, er := src.Read(buf)
		if nr > 0 {
			nw, ew := dst.Write(buf[:nr])
			written += int64(nw)
			if ew != nil {
				return written, ew
			}
			if nw != nr {
				return written, io.ErrShortWrite
			}
		}
		if er != nil {
			if er == io.EOF {
				return written, nil
			}
			return written, er
		}
		switch {
		case big == nil && nr == len(buf): // more is coming: read in big chunks
			big = bigBufs.Get().(*[]byte)
			buf = *big
		case big != nil && nr < len(buf)/2: // drained: wait for more with the small one
			bigBufs.Put(big)
			big = nil
			buf = *small
		}
	}
}
