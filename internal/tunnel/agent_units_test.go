package tunnel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestAgentBackoffDelay(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 10 * time.Second, Jitter: 0.2}
	for _, tc := range []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 0.5, time.Second},
		{2, 0.5, 2 * time.Second},
		{3, 0.5, 4 * time.Second},
		{4, 0.5, 8 * time.Second},
		{5, 0.5, 10 * time.Second},
		{500, 0.5, 10 * time.Second}, // no overflow
		{1, 0, 800 * time.Millisecond},
		{5, 0.999999, 12 * time.Second},
	} {
		got := b.delay(tc.n, tc.r)
		if d := got - tc.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("delay(%d, %v) = %v, want %v", tc.n, tc.r, got, tc.want)
		}
	}
}

func TestAgentBackoffNormalized(t *testing.T) {
	for _, tc := range []struct {
		in, want Backoff
	}{
		{Backoff{}, DefaultBackoff},
		{Backoff{Min: 2 * time.Second}, Backoff{Min: 2 * time.Second, Max: time.Minute, ResetAfter: DefaultBackoff.ResetAfter}},
		{Backoff{Min: 2 * time.Minute, Jitter: 3}, Backoff{Min: 2 * time.Minute, Max: 2 * time.Minute, Jitter: 0.99, ResetAfter: DefaultBackoff.ResetAfter}},
		{Backoff{Max: 100 * time.Millisecond, Jitter: -1, ResetAfter: time.Second}, Backoff{Min: time.Second, Max: time.Second, ResetAfter: time.Second}},
	} {
		if got := tc.in.normalized(); got != tc.want {
			t.Errorf("%+v.normalized() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestAgentConnectURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"https://rancher.example.com", "wss://rancher.example.com/v3/connect", ""},
		{"https://rancher.example.com:8443/", "wss://rancher.example.com:8443/v3/connect", ""},
		{"https://rancher.example.com/some/prefix", "wss://rancher.example.com/v3/connect", ""}, // the agent keeps only the host
		{"http://127.0.0.1:8080", "ws://127.0.0.1:8080/v3/connect", ""},
		{"https://[::1]:8443", "wss://[::1]:8443/v3/connect", ""},
		{"https://[fe80::1%25eth0]:443", "wss://[fe80::1%eth0]:443/v3/connect", ""},
		{"HTTPS://Rancher", "wss://Rancher/v3/connect", ""},
		{"ftp://rancher", "", "scheme"},
		{"https://", "", "no host"},
		{"::", "", "server URL"},
	} {
		got, err := connectURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("connectURL(%q) = %q, %v; want an error about %s", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("connectURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestAgentAllowMain: the main tunnel's authorizer and local dialer accept tcp to the
// cluster's address only, compared after normalising host:port.
func TestAgentAllowMain(t *testing.T) {
	for _, tc := range []struct {
		addr    string // Params.Address
		proto   string
		dial    string
		allowed bool
	}{
		{"127.0.0.1:6443", "tcp", "127.0.0.1:6443", true},
		{"127.0.0.1:6443", "tcp", "127.0.0.1:06443", true},
		{"127.0.0.1:6443", "tcp", "[::ffff:127.0.0.1]:6443", true},
		{"127.0.0.1:6443", "tcp", "127.0.0.1:6444", false},
		{"127.0.0.1:6443", "tcp", "127.0.0.2:6443", false},
		{"127.0.0.1:6443", "tcp", "localhost:6443", false}, // no name resolution
		{"127.0.0.1:6443", "udp", "127.0.0.1:6443", false},
		{"127.0.0.1:6443", "tcp4", "127.0.0.1:6443", false},
		{"127.0.0.1:6443", "unix", "/var/run/docker.sock", false},
		{"127.0.0.1:6443", "tcp", "127.0.0.1", false},
		{"127.0.0.1:6443", "tcp", "", false},
		{"[::1]:443", "tcp", "[0:0::1]:443", true},
		{"[::1]:443", "tcp", "::1:443", false},
		{"API.Example.com.:443", "tcp", "api.example.com:443", true},
		{"not-an-address", "tcp", "not-an-address", false}, // nothing is allowed then
	} {
		a := NewAgent("c", AgentOptions{Params: ClusterParams{Address: tc.addr}})
		a.log.Logger.SetOutput(io.Discard)
		if got := a.allowMain(tc.proto, tc.dial); got != tc.allowed {
			t.Errorf("Address %s: allow(%s, %q) = %v", tc.addr, tc.proto, tc.dial, got)
		}
		if tc.allowed {
			continue
		}
		if _, err := a.dialMain(context.Background(), tc.proto, tc.dial); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("Address %s: dial(%s, %q) = %v, want refused", tc.addr, tc.proto, tc.dial, err)
		}
		if got := a.Status().Main.RefusedDials; got != 2 {
			t.Errorf("%d refusals counted, want 2", got)
		}
	}
}

// TestAgentDialMainDialsTheAddress: an allowed dial reaches Params.Address.
func TestAgentDialMainDialsTheAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.WriteString(c, "hello")
			c.Close()
		}
	}()
	a := NewAgent("c", AgentOptions{Params: ClusterParams{Address: l.Addr().String()}})
	c, err := a.dialMain(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, _ := io.ReadAll(c)
	if string(b) != "hello" {
		t.Errorf("read %q", b)
	}
}

// TestAgentSteveHandler drives the steve local dialer the way remotedialer's pipe does.
func TestAgentSteveHandler(t *testing.T) {
	for _, tc := range []struct {
		name, request string
		status        int
		body          string
	}{
		{"ping", "GET /ping HTTP/1.1\r\nHost: not-used\r\n\r\n", 200, "pong"},
		{"ping absolute URL", "GET http://not-used/ping HTTP/1.1\r\nHost: not-used\r\n\r\n", 200, "pong"},
		{"ping with query", "GET /ping?x=1 HTTP/1.1\r\nHost: not-used\r\n\r\n", 200, "pong"},
		{"head ping", "HEAD /ping HTTP/1.1\r\nHost: not-used\r\n\r\n", 200, ""},
		{"post ping", "POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 404, "404 page not found\n"},
		{"other path", "GET /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1:6080\r\nImpersonate-User: admin\r\n\r\n", 404, "404 page not found\n"},
		{"HTTP/1.0", "GET /ping HTTP/1.0\r\n\r\n", 200, "pong"},
		{"garbage", "\x16\x03\x01 hello\r\n\r\n", 400, "400 Bad Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dialSteve(context.Background(), "tcp", "not-used:80")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go io.WriteString(c, tc.request)
			req, _ := http.ReadRequest(bufio.NewReader(strings.NewReader(tc.request)))
			resp, err := http.ReadResponse(bufio.NewReader(c), req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if !resp.Close {
				t.Error("response does not say Connection: close")
			}
		})
	}
	t.Run("waits for the client to close", func(t *testing.T) {
		c, _ := dialSteve(context.Background(), "tcp", "not-used:80")
		go io.WriteString(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		done := make(chan error, 1)
		go func() {
			_, err := br.ReadByte()
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("server side ended first (%v)", err)
		case <-time.After(50 * time.Millisecond):
		}
		c.Close()
		if err := <-done; err == nil {
			t.Error("read after close succeeded")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := dialSteve(ctx, "tcp", "x:1"); err == nil {
			t.Error("dial with a cancelled context succeeded")
		}
	})
}

func TestAgentAdaptiveCopy(t *testing.T) {
	data := make([]byte, 1<<20+123)
	rand.Read(data)
	for _, chunk := range []int{1, 100, smallCopyBuf, smallCopyBuf + 1, 20 << 10, bigCopyBuf, 1 << 20} {
		var out bytes.Buffer
		n, err := adaptiveCopy(&out, &chunkedReader{data: data, chunk: chunk})
		if err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
			t.Errorf("chunks of %d: copied %d, %v, equal %v", chunk, n, err, bytes.Equal(out.Bytes(), data))
		}
	}
	boom := errors.New("boom")
	if _, err := adaptiveCopy(io.Discard, io.MultiReader(strings.NewReader("x"), errReader{boom})); !errors.Is(err, boom) {
		t.Errorf("read error %v", err)
	}
	if _, err := adaptiveCopy(errWriter{boom}, strings.NewReader("x")); !errors.Is(err, boom) {
		t.Errorf("write error %v", err)
	}
	// copyConn offers both interfaces remotedialer's io.Copy loops look for.
	var c net.Conn = copyConn{}
	if _, ok := c.(io.WriterTo); !ok {
		t.Error("copyConn is no io.WriterTo")
	}
	if _, ok := c.(io.ReaderFrom); !ok {
		t.Error("copyConn is no io.ReaderFrom")
	}
}

type chunkedReader struct {
	data  []byte
	chunk int
}

func (r *chunkedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.chunk)], r.data)
	r.data = r.data[n:]
	return n, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestAgentHandshakeError(t *testing.T) {
	resp := &http.Response{StatusCode: 401, Body: io.NopCloser(strings.NewReader("failed authentication\nmore"))}
	err := handshakeError(websocket.ErrBadHandshake, resp)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 401 || !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("got %#v", err)
	}
	if want := "websocket: bad handshake (HTTP 401 Unauthorized: failed authentication)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	plain := fmt.Errorf("dial: refused")
	if got := handshakeError(plain, nil); got != plain {
		t.Errorf("no response: %v", got)
	}
}
