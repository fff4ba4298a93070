package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// httpConn is one keep-alive HTTP/1.1 connection over TLS. The load generator shares the two
// cores with the server it measures, so it is kept lean: requests are pre-encoded bytes and
// responses are parsed with http.ReadResponse and discarded.
type httpConn struct {
	conn net.Conn
	br   *bufio.Reader
}

func dialTLS(addr string, cfg *tls.Config) (*httpConn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	tc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	return &httpConn{conn: tc, br: bufio.NewReaderSize(tc, 64<<10)}, nil
}

func (c *httpConn) Close() error { return c.conn.Close() }

// roundTrip sends a pre-encoded request and reads the whole response, returning its status
// and body length.
func (c *httpConn) roundTrip(req []byte) (int, int64, error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, 0, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, n, err
}

// capture sends a request and returns the response with its body read, so that a baseline
// can answer with exactly the same bytes.
func (c *httpConn) capture(req []byte) (*http.Response, []byte, error) {
	_ = c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.conn.SetDeadline(time.Time{})
	if _, err := c.conn.Write(req); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, err
}

// request encodes an HTTP/1.1 request once, for sending many times.
type request struct {
	method, path string
	token        string
	accept       string
	contentType  string
	body         []byte
}

func (r request) encode(addr string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: scale-cluster-agent-bench\r\n", r.method, r.path, addr)
	if r.token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", r.token)
	}
	if r.accept != "" {
		fmt.Fprintf(&b, "Accept: %s\r\n", r.accept)
	}
	if r.body != nil {
		fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n", r.contentType, len(r.body))
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// do dials, sends one request, captures the response and closes the connection.
func do(addr string, cfg *tls.Config, r request) (*http.Response, []byte, error) {
	c, err := dialTLS(addr, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	return c.capture(r.encode(addr))
}

// clientTLS is what a client-go client of a simulated cluster would use: the fleet's CA and
// HTTP/1.1 only.
func clientTLS(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
}
