package tunnel

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The steve-aggregation tunnel: the real agent's embedded steve serves every dial Rancher
// makes through it (not-used:80 for the 15-second /ping, 127.0.0.1:6080 for the UI proxy)
// from an in-process listener. Here each dial becomes a net.Pipe whose server end is read by
// one short-lived goroutine that answers a single request with Connection: close (GET /ping
// → 200 "pong", anything else → 404) and ends once the client has closed. Nothing runs
// between pings: no listener, no accept loop, no idle keep-alive connection (which would
// hold three goroutines and their buffers per cluster between Rancher's checks); Rancher's
// HTTP client simply dials again next time.

// steveRequestTimeout bounds a piped connection's life: the request, and the wait for the
// client to close after the response.
const steveRequestTimeout = 30 * time.Second

// maxSteveBody is how much of a request body is drained before answering.
const maxSteveBody = 64 << 10

// dialSteve is the steve tunnel's local dialer.
func dialSteve(ctx context.Context, _, _ string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	client, server := net.Pipe()
	go serveSteveConn(server)
	return copyConn{client}, nil
}

var steveReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 1024) }}

// cannedResponse is a complete response; head is the length of its header part.
type cannedResponse struct {
	full []byte
	head int
}

func canned(status, contentType, extra, body string) cannedResponse {
	head := "HTTP/1.1 " + status + "\r\nContent-Type: " + contentType + "\r\n" + extra +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n"
	return cannedResponse{full: []byte(head + body), head: len(head)}
}

var (
	pongResponse       = canned("200 OK", "text/plain; charset=utf-8", "", "pong")
	notFoundResponse   = canned("404 Not Found", "text/plain; charset=utf-8", "X-Content-Type-Options: nosniff\r\n", "404 page not found\n")
	badRequestResponse = canned("400 Bad Request", "text/plain; charset=utf-8", "", "400 Bad Request")
)

// serveSteveConn answers one request on a piped connection, then waits for the client to
// close it.
func serveSteveConn(c net.Conn) {
	defer func() {
		// Clearing the deadline stops its timers, which would otherwise keep the closed
		// pipe reachable until they fire.
		_ = c.SetDeadline(time.Time{})
		c.Close()
	}()
	_ = c.SetDeadline(time.Now().Add(steveRequestTimeout))
	br := steveReaders.Get().(*bufio.Reader)
	br.Reset(c)
	defer func() {
		br.Reset(nil)
		steveReaders.Put(br)
	}()
	req, err := http.ReadRequest(br)
	if err != nil {
		if err != io.EOF {
			_, _ = c.Write(badRequestResponse.full)
		}
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, maxSteveBody))
	resp := steveResponse(req)
	out := resp.full
	if req.Method == http.MethodHead {
		out = out[:resp.head]
	}
	if _, err := c.Write(out); err != nil {
		return
	}
	// The response says Connection: close, so the client closes next. Wait for that rather
	// than closing at the same moment: simultaneous closes of both ends of a stream are what
	// trips remotedialer v0.6.1's data race on connection.err (remotedialer#254).
	_, _ = io.Copy(io.Discard, io.LimitReader(br, maxSteveBody))
}

// steveResponse is the ping handler: GET (or HEAD) /ping → 200 "pong", else 404.
func steveResponse(req *http.Request) cannedResponse {
	if (req.Method == http.MethodGet || req.Method == http.MethodHead) && req.URL.Path == "/ping" {
		return pongResponse
	}
	return notFoundResponse
}
