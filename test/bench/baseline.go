package main

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// The baselines are the least a Go server can do for the same exchange: net/http over the same
// TLS settings, answering with bytes captured from the mock. A ratio against them is the
// product's overhead, independent of how fast this machine is today.

// serverTLS mirrors the TLS settings of mockapi.NewServer, so that the baseline pays the same
// for TLS as a simulated cluster.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

// listeners is a set of minimal net/http TLS servers, one listener each, with the same
// timeouts as a simulated cluster's http.Server.
type listeners struct {
	servers []*http.Server
	addrs   []string
	wg      sync.WaitGroup
}

func startListeners(n int, cfg *tls.Config, h http.Handler) (*listeners, error) {
	ls := &listeners{}
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			ls.close()
			return nil, err
		}
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       90 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
		}
		ls.servers = append(ls.servers, srv)
		ls.addrs = append(ls.addrs, l.Addr().String())
		ls.wg.Add(1)
		go func() {
			defer ls.wg.Done()
			_ = srv.Serve(tls.NewListener(l, cfg))
		}()
	}
	return ls, nil
}

func (ls *listeners) close() {
	for _, s := range ls.servers {
		_ = s.Close()
	}
	ls.wg.Wait()
}

// canned answers every request with a response captured from the mock: same status, same
// headers (Content-Type included), same body bytes.
type canned struct {
	status int
	header http.Header
	body   []byte
}

func cannedFrom(resp *http.Response, body []byte) *canned {
	h := resp.Header.Clone()
	// net/http writes these itself, as for the mock: one Write of the whole body is sent with
	// a Content-Length up to 2 KiB and chunked above, which is how the mock's responses
	// arrive (the 295-byte namespace with a Content-Length, the LISTs chunked).
	for _, k := range []string{"Date", "Content-Length", "Transfer-Encoding", "Connection"} {
		h.Del(k)
	}
	return &canned{status: resp.StatusCode, header: h, body: body}
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h := w.Header()
	for k, v := range c.header {
		h[k] = v
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body)
}

// versionBody is what the listener baseline answers to the footprint's touch: about the size
// of a simulated cluster's /version.
var versionBody = []byte(`{"major":"1","minor":"36","gitVersion":"v1.36.3","platform":"linux/amd64"}` + "\n")

var versionHandler = &canned{
	status: http.StatusOK,
	header: http.Header{"Content-Type": {"application/json"}},
	body:   versionBody,
}

// replayWatch streams n copies of one pre-encoded watch event line as fast as the client reads,
// flushing after each one as the apiserver does when its event channel is empty, then holds
// the watch open until the client leaves. With n = 0 it is an idle watch: headers only.
type replayWatch struct {
	header http.Header
	line   []byte
	n      int
}

func (rw *replayWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range rw.header {
		h[k] = v
	}
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	f.Flush()
	for i := 0; i < rw.n; i++ {
		if _, err := w.Write(rw.line); err != nil {
			return
		}
		f.Flush()
	}
	<-r.Context().Done()
}

// liveWatch is the baseline of a writer and a watcher on one server: a POST answers with the
// captured create response and hands the captured event line to the open watch, which
// streams it. That is the mock's create → fan-out → encode path with nothing in between.
type liveWatch struct {
	created     *canned
	watchHeader http.Header
	line        []byte
	events      chan struct{}
}

func newLiveWatch(created *canned, watchHeader http.Header, line []byte) *liveWatch {
	// The writer never has more than liveWindow events in flight, so this never blocks.
	return &liveWatch{created: created, watchHeader: watchHeader, line: line, events: make(chan struct{}, 4*liveWindow)}
}

func (lw *liveWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		select {
		case lw.events <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		lw.created.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	for k, v := range lw.watchHeader {
		h[k] = v
	}
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	f.Flush()
	for {
		select {
		case <-lw.events:
			if _, err := w.Write(lw.line); err != nil {
				return
			}
			f.Flush()
		case <-r.Context().Done():
			return
		}
	}
}

// serveBaseline starts a minimal server for h with the given TLS settings and returns its
// address and a stop function.
func serveBaseline(cfg *tls.Config, h http.Handler) (string, func(), error) {
	ls, err := startListeners(1, cfg, h)
	if err != nil {
		return "", nil, err
	}
	return ls.addrs[0], ls.close, nil
}
