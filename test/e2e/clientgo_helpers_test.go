package e2e

// Helpers of the client-go end-to-end tests (clientgo_test.go). Every identifier starts with
// "cg" so that they cannot collide with the kubectl tests sharing this package.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/rancher/scale-cluster-agent/internal/fleet"
)

const (
	cgProtobuf       = "application/vnd.kubernetes.protobuf"
	cgProtobufAccept = "application/vnd.kubernetes.protobuf,application/json"
)

var cgQuietOnce sync.Once

// cgQuiet silences the apiserver library's klog lines ("Adding GroupVersion …", authentication
// failures) that every in-process fleet would otherwise print.
func cgQuiet() {
	cgQuietOnce.Do(func() {
		klog.SetLogger(logr.Discard())
	})
}

func cgLog() *logrus.Entry {
	l := logrus.New()
	l.SetLevel(logrus.WarnLevel)
	return logrus.NewEntry(l)
}

// cgFleet is a running in-process fleet and the client connections made to it.
type cgFleet struct {
	*fleet.Fleet
	conns *cgConns
}

// cgStartFleet starts two simulated clusters of the default fixture in process, as the CLI
// does, and stops them when the test ends.
func cgStartFleet(t *testing.T) *cgFleet {
	t.Helper()
	cgQuiet()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fl, err := fleet.Start(ctx, fleet.Config{StateDir: t.TempDir(), Clusters: 2, Log: cgLog()})
	if err != nil {
		t.Fatalf("fleet.Start: %v", err)
	}
	f := &cgFleet{Fleet: fl, conns: &cgConns{}}
	t.Cleanup(func() {
		f.conns.closeAll()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = fl.Shutdown(ctx)
	})
	if len(fl.Clusters) != 2 {
		t.Fatalf("fleet started %d clusters, want 2", len(fl.Clusters))
	}
	return f
}

// cgConns tracks the client connections of a test. They are closed before the servers shut
// down: a connection a cancelled client dialled but never sent a request on stays in
// http.StateNew, and http.Server.Shutdown waits 5 s before treating such a connection as idle.
type cgConns struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *cgConns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext(ctx, network, addr)
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *cgConns) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

// cgConfig is a JSON client config for cluster i, as the admin.
func cgConfig(fl *cgFleet, i int) *rest.Config {
	c := fl.Clusters[i]
	return &rest.Config{
		Host:            c.URL(),
		BearerToken:     c.AdminToken(),
		TLSClientConfig: rest.TLSClientConfig{CAData: fl.Authority.CertPEM},
		QPS:             -1,
		Timeout:         30 * time.Second,
		Dial:            fl.conns.dial,
	}
}

// cgProtoConfig is cgConfig with protobuf, as Rancher's typed clients use it.
func cgProtoConfig(fl *cgFleet, i int) *rest.Config {
	cfg := cgConfig(fl, i)
	cfg.ContentType = cgProtobuf
	cfg.AcceptContentTypes = cgProtobufAccept
	return cfg
}

func cgClient(t *testing.T, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// cgCtx bounds a test's requests. Generously: a parallel subtest may start long after its
// parent made the context, once a slot is free behind the other parallel tests (the Rancher
// runs take a minute on 2 cores).
func cgCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// cgNamespace creates a namespace for one test.
func cgNamespace(t *testing.T, cs kubernetes.Interface, name string) *corev1.Namespace {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	// As on a real cluster, controllers add the default ServiceAccount and the
	// kube-root-ca.crt ConfigMap to a new namespace; wait for them so that tests watching the
	// namespace see only their own changes.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, errCM := cs.CoreV1().ConfigMaps(name).Get(context.Background(), "kube-root-ca.crt", metav1.GetOptions{})
		_, errSA := cs.CoreV1().ServiceAccounts(name).Get(context.Background(), "default", metav1.GetOptions{})
		if errCM == nil && errSA == nil {
			return ns
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s: no kube-root-ca.crt (%v) or default ServiceAccount (%v) after 5 s", name, errCM, errSA)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cgRequest is one request a client sent, with the response's status and content type.
type cgRequest struct {
	Method      string
	URL         *url.URL
	Accept      string
	ContentType string
	Status      int
	RespType    string
}

// cgRecorder records every request of the clients built from a config it wrapped.
type cgRecorder struct {
	mu   sync.Mutex
	reqs []cgRequest
}

func (r *cgRecorder) wrap(cfg *rest.Config) {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return cgRoundTripper{next: rt, rec: r}
	})
}

func (r *cgRecorder) all() []cgRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]cgRequest(nil), r.reqs...)
}

// forPath returns the requests to exactly this URL path.
func (r *cgRecorder) forPath(path string) []cgRequest {
	var out []cgRequest
	for _, q := range r.all() {
		if q.URL.Path == path {
			out = append(out, q)
		}
	}
	return out
}

type cgRoundTripper struct {
	next http.RoundTripper
	rec  *cgRecorder
}

func (c cgRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	q := cgRequest{Method: req.Method, URL: req.URL, Accept: req.Header.Get("Accept"), ContentType: req.Header.Get("Content-Type")}
	if resp != nil {
		q.Status = resp.StatusCode
		q.RespType = resp.Header.Get("Content-Type")
	}
	c.rec.mu.Lock()
	c.rec.reqs = append(c.rec.reqs, q)
	c.rec.mu.Unlock()
	return resp, err
}

// cgEvents is a thread-safe log of what informer handlers saw.
type cgEvents struct {
	mu  sync.Mutex
	log []string
}

func (e *cgEvents) add(s string) {
	e.mu.Lock()
	e.log = append(e.log, s)
	e.mu.Unlock()
}

func (e *cgEvents) has(s string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.log {
		if l == s {
			return true
		}
	}
	return false
}

func (e *cgEvents) snapshot() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

// wait fails the test unless the log gets the entry within timeout.
func (e *cgEvents) wait(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	if !cgEventually(timeout, func() bool { return e.has(want) }) {
		t.Fatalf("handler never saw %q within %v; saw %q", want, timeout, cgTail(e.snapshot(), 20))
	}
}

func cgTail(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// cgEventually polls cond every 20 ms until it holds or timeout passes.
func cgEventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cgRecv returns the next watch event, failing if none arrives in time or the watch ends.
func cgRecv(t *testing.T, w watch.Interface, timeout time.Duration) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatalf("watch ended while waiting for an event")
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no watch event within %v", timeout)
	}
	return watch.Event{}
}

// cgNoEvent fails if the watch delivers an event within d.
func cgNoEvent(t *testing.T, w watch.Interface, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if ok {
			t.Errorf("unexpected watch event %s %s", ev.Type, cgDescribe(ev.Object))
		}
	case <-time.After(d):
	}
}

func cgDescribe(obj interface{}) string {
	switch o := obj.(type) {
	case *metav1.Status:
		return string(o.Reason) + ": " + o.Message
	case metav1.Object:
		return o.GetNamespace() + "/" + o.GetName() + "@" + o.GetResourceVersion()
	}
	return "?"
}

// cgStatus returns the metav1.Status of an API error, failing when err is not one.
func cgStatus(t *testing.T, err error) metav1.Status {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an API error, got none")
	}
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not an API status error", err, err)
	}
	return se.Status()
}

// cgCheckStatus compares the fields of a Status a client sees with what a real
// kube-apiserver returns.
func cgCheckStatus(t *testing.T, what string, got metav1.Status, code int32, reason metav1.StatusReason, message string) {
	t.Helper()
	if got.Status != metav1.StatusFailure || got.Code != code || got.Reason != reason {
		t.Errorf("%s: got status=%q code=%d reason=%q, want status=Failure code=%d reason=%q (message %q)",
			what, got.Status, got.Code, got.Reason, code, reason, got.Message)
	}
	if message != "" && got.Message != message {
		t.Errorf("%s: message\n got: %q\nwant: %q", what, got.Message, message)
	}
}

func cgHasAll(have []string, want ...string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

func cgQueryHas(u *url.URL, key, value string) bool {
	return u.Query().Get(key) == value
}

func cgIsWatch(q cgRequest) bool { return q.URL.Query().Get("watch") == "true" }

func cgURLs(reqs []cgRequest) string {
	var b strings.Builder
	for _, q := range reqs {
		b.WriteString("\n  " + q.Method + " " + q.URL.RequestURI())
	}
	return b.String()
}
