package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
)

// Options tune a replay.
type Options struct {
	// Range selects the requests compared and reported. The writes before it are still sent,
	// uncompared, so that the cluster is in the state the range expects.
	Range SeqRange
	// WatchWait caps how long each watch is read; default 1.5 s. The recorded watches stayed
	// open for minutes; what matters is what arrives at once (the initial events and their
	// bookmark, and the changes the following requests make).
	WatchWait time.Duration
	// RequestTimeout bounds one non-watch request; default 10 s.
	RequestTimeout time.Duration
	// Overrides stand in for request bodies the recording lost.
	Overrides map[int]Override
	Log       *logrus.Entry
}

// Report is the outcome of a replay.
type Report struct {
	// Results are the compared requests, in the order they were sent.
	Results []*Result
	// Setup counts the writes before the range, sent but not compared.
	Setup int
	// Lookups counts the harness's own GETs (current uids and resourceVersions, tokens).
	Lookups   int64
	Learned   []string
	Took      time.Duration
	WatchWait time.Duration
	Range     SeqRange
}

// replayer sends the recorded requests to one target.
type replayer struct {
	t       Target
	opts    Options
	m       *mapping
	lookups atomic.Int64
	watches sync.WaitGroup

	mu     sync.Mutex
	tokens map[string]string // bearer tokens by subject
}

// Run replays recs (in the order of the recording, see order) against the target and
// compares every response with the recording.
func Run(ctx context.Context, t Target, recs []Record, opts Options) *Report {
	if opts.WatchWait <= 0 {
		opts.WatchWait = 1500 * time.Millisecond
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	r := &replayer{t: t, opts: opts, m: newMapping(), tokens: map[string]string{}}
	for sub, tok := range t.Tokens {
		r.tokens[sub] = tok
	}
	start := time.Now()
	rep := &Report{WatchWait: opts.WatchWait, Range: opts.Range}
	for _, rec := range order(recs) {
		switch {
		case opts.Range.Contains(rec.Seq):
			res := &Result{Rec: rec}
			if rec.Watch {
				res.InitialRecorded = initialRecorded(&res.Rec, recs)
			}
			r.send(ctx, res)
			rep.Results = append(rep.Results, res)
		case opts.Range.before(rec.Seq) && rec.isWrite():
			r.send(ctx, &Result{Rec: rec})
			rep.Setup++
		}
		if ctx.Err() != nil {
			break
		}
	}
	r.watches.Wait()
	for _, res := range rep.Results {
		res.check()
	}
	rep.Took = time.Since(start)
	rep.Lookups = r.lookups.Load()
	rep.Learned = r.m.report()
	return rep
}

// send sends one request and records the response; a watch is read on its own goroutine.
func (r *replayer) send(ctx context.Context, res *Result) {
	rec := &res.Rec
	req, err := r.build(ctx, res)
	if err != nil {
		res.Sent.Err = err
		r.opts.Log.WithError(err).WithField("seq", rec.Seq).Debug("not sent")
		return
	}
	if rec.Watch {
		r.watches.Add(1)
		go func() {
			defer r.watches.Done()
			r.watch(ctx, req, res)
		}()
		return
	}
	rctx, cancel := context.WithTimeout(ctx, r.opts.RequestTimeout)
	defer cancel()
	resp, err := r.t.Client.Do(req.WithContext(rctx))
	if err != nil {
		res.Actual.Err = err
		return
	}
	defer resp.Body.Close()
	r.readResponse(resp, res)
	r.learn(res)
}

func (r *replayer) readResponse(resp *http.Response, res *Result) {
	act := &res.Actual
	act.Status = resp.StatusCode
	act.ContentType = resp.Header.Get("Content-Type")
	act.ContentEncoding = resp.Header.Get("Content-Encoding")
	var rd io.Reader = resp.Body
	if act.ContentEncoding == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			act.Err = fmt.Errorf("gzip body: %w", err)
			return
		}
		defer gz.Close()
		rd = gz
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		act.Err = fmt.Errorf("read body: %w", err)
	}
	act.Body = decodeBody(act.ContentType, data)
}

// watch reads a watch's events until the stream ends or WatchWait passes.
func (r *replayer) watch(ctx context.Context, req *http.Request, res *Result) {
	act := &res.Actual
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, r.opts.WatchWait)
	defer cancel()
	defer func() { act.WatchFor = time.Since(start) }()
	resp, err := r.t.Client.Do(req.WithContext(wctx))
	if err != nil {
		act.Err = err
		return
	}
	defer resp.Body.Close()
	act.Status = resp.StatusCode
	act.ContentType = resp.Header.Get("Content-Type")
	act.ContentEncoding = resp.Header.Get("Content-Encoding")
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		act.Body = decodeBody(act.ContentType, data)
		return
	}
	var stream io.Reader = resp.Body
	if act.ContentEncoding == "gzip" {
		// Each flush is a complete gzip member; the reader reads them in turn.
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			act.WatchEnd = "gzip: " + err.Error()
			return
		}
		defer gz.Close()
		stream = gz
	}
	dec := newWatchDecoder(act.ContentType, stream)
	for {
		ev, err := dec.next()
		if err != nil {
			switch {
			case wctx.Err() != nil:
				act.WatchEnd = "harness stopped reading"
			case errors.Is(err, io.EOF):
				act.WatchEnd = "server ended the stream"
			default:
				act.WatchEnd = "read error: " + err.Error()
			}
			return
		}
		act.Events = append(act.Events, ev)
	}
}

// build turns a record into the request to send: names, uids and resourceVersions mapped,
// the body encoded as the recorded Content-Type, the recorded headers and the bearer token of
// the recorded subject.
func (r *replayer) build(ctx context.Context, res *Result) (*http.Request, error) {
	rec := &res.Rec
	uri := r.m.rewritePath(rec.URI)
	if rv := queryValue(uri, "resourceVersion"); rec.Watch && rv != "" && rv != "0" {
		// The informer resumes from the last resourceVersion it saw, having seen every
		// change before it: the mock's current resourceVersion.
		cur, err := r.lookup(ctx, collectionURI(uri))
		if err != nil {
			return nil, fmt.Errorf("current resourceVersion for the watch: %w", err)
		}
		r.m.addResourceVersion(pathOf(uri), rv, cur.ListRV)
		uri = queryWith(uri, "resourceVersion", cur.ListRV)
	}
	res.Sent.URI = uri
	raw := rec.ReqBody
	if ov, ok := r.opts.Overrides[rec.Seq]; ok && len(ov.Body) > 0 {
		raw = ov.Body
	}
	var payload []byte
	if len(raw) > 0 && string(raw) != "null" {
		if string(raw) == `"REDACTED"` {
			return nil, errors.New("the recording redacted the body and testdata/overrides.yaml has no stand-in")
		}
		js, err := r.rewriteBody(ctx, rec.Method, pathOf(uri), raw)
		if err != nil {
			return nil, err
		}
		res.Sent.Body = string(js)
		if payload, err = encodeBody(rec.ContentType, js); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, rec.Method, r.t.Server+uri, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	for k, v := range rec.OtherHeaders {
		if !strings.EqualFold(k, "Content-Length") {
			req.Header.Set(k, v)
		}
	}
	setIf(req.Header, "Accept", rec.Accept)
	setIf(req.Header, "Content-Type", rec.ContentType)
	setIf(req.Header, "User-Agent", rec.UserAgent)
	if rec.AuthSub != "" {
		tok, err := r.token(ctx, rec.AuthSub)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res.Sent.Subject = rec.AuthSub
	}
	setIf(req.Header, "Impersonate-User", rec.ImpersonateUser)
	for _, g := range rec.ImpersonateGrp {
		req.Header.Add("Impersonate-Group", g)
	}
	for k, vs := range rec.ImpersonateExtr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req, nil
}

// rewriteBody maps the recorded uids, generated names and, for an update, the
// resourceVersion in a JSON body to the mock's. What is not yet mapped is looked up: the
// object an update replaces, the owners it references, the service account a token Secret
// names.
func (r *replayer) rewriteBody(ctx context.Context, method, path string, raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("recorded body: %w", err)
	}
	obj, _ := v.(map[string]any)
	md, _ := obj["metadata"].(map[string]any)
	rp, _ := parseResourcePath(path)
	ns, _ := md["namespace"].(string)
	if ns == "" {
		ns = rp.namespace
	}
	var current *body
	currentObject := func() *body {
		if current == nil {
			b, err := r.lookup(ctx, path)
			if err != nil {
				r.opts.Log.WithError(err).WithField("path", path).Debug("no current object")
			}
			current = &b
		}
		return current
	}
	if uid, _ := md["uid"].(string); uid != "" && method == "PUT" {
		if _, ok := r.m.uid(uid); !ok {
			r.m.addUID(uid, string(currentObject().Meta.UID), method+" "+path)
		}
	}
	refs, _ := md["ownerReferences"].([]any)
	for _, ref := range refs {
		o, _ := ref.(map[string]any)
		uid, _ := o["uid"].(string)
		if _, ok := r.m.uid(uid); ok || uid == "" {
			continue
		}
		apiVersion, _ := o["apiVersion"].(string)
		kind, _ := o["kind"].(string)
		name, _ := o["name"].(string)
		owner := objectPath(apiVersion, kind, ns, r.m.rewriteString(name))
		if b, err := r.lookup(ctx, owner); err == nil {
			r.m.addUID(uid, string(b.Meta.UID), "owner "+owner)
		}
	}
	ann, _ := md["annotations"].(map[string]any)
	if uid, _ := ann[corev1.ServiceAccountUIDKey].(string); uid != "" {
		if _, ok := r.m.uid(uid); !ok {
			sa, _ := ann[corev1.ServiceAccountNameKey].(string)
			p := objectPath("v1", "ServiceAccount", ns, sa)
			if b, err := r.lookup(ctx, p); err == nil {
				r.m.addUID(uid, string(b.Meta.UID), "service account "+p)
			}
		}
	}
	v = r.m.rewriteValue(v)
	obj, _ = v.(map[string]any)
	md, _ = obj["metadata"].(map[string]any)
	if rv, _ := md["resourceVersion"].(string); rv != "" && method == "PUT" {
		mapped, ok := r.m.resourceVersion(path, rv)
		if !ok {
			mapped = currentObject().Meta.ResourceVersion
			r.m.addResourceVersion(path, rv, mapped)
		}
		md["resourceVersion"] = mapped
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("rewritten body: %w", err)
	}
	return out, nil
}

// learn maps what a response reveals: the name the mock gave a generateName create.
func (r *replayer) learn(res *Result) {
	ov, ok := r.opts.Overrides[res.Rec.Seq]
	if ok && ov.Creates != "" && res.Actual.Status == http.StatusCreated {
		r.m.addName(ov.Creates, res.Actual.Body.Meta.Name, fmt.Sprintf("created by seq %d", res.Rec.Seq))
	}
}

// lookup GETs a path as JSON with the agent's token. These requests are the harness's own and
// are not compared.
func (r *replayer) lookup(ctx context.Context, path string) (body, error) {
	r.lookups.Add(1)
	ctx, cancel := context.WithTimeout(ctx, r.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.t.Server+path, nil)
	if err != nil {
		return body{}, fmt.Errorf("lookup %s: %w", path, err)
	}
	req.Header.Set("Accept", mediaJSON)
	req.Header.Set("Authorization", "Bearer "+r.t.Tokens[agentSubject])
	req.Header.Set("User-Agent", "scale-cluster-agent-replay")
	resp, err := r.t.Client.Do(req)
	if err != nil {
		return body{}, fmt.Errorf("lookup %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return body{}, fmt.Errorf("lookup %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return body{}, fmt.Errorf("lookup %s: %s", path, resp.Status)
	}
	return decodeJSON(data), nil
}

// tokenWait bounds the wait for the token controller to fill a service account's Secret.
const tokenWait = 5 * time.Second

// token returns a bearer token that authenticates as sub: a known one, or for a service
// account the token its token Secret holds, waiting for the token controller as Rancher does.
func (r *replayer) token(ctx context.Context, sub string) (string, error) {
	r.mu.Lock()
	tok, ok := r.tokens[sub]
	r.mu.Unlock()
	if ok {
		return tok, nil
	}
	parts := strings.Split(sub, ":")
	if len(parts) != 4 || parts[0] != "system" || parts[1] != "serviceaccount" {
		return "", fmt.Errorf("no token for %s", sub)
	}
	ns, name := parts[2], parts[3]
	deadline := time.Now().Add(tokenWait)
	for {
		tok, err := r.secretToken(ctx, ns, name)
		if err == nil && tok != "" {
			r.mu.Lock()
			r.tokens[sub] = tok
			r.mu.Unlock()
			return tok, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("no token Secret filled in")
			}
			return "", fmt.Errorf("token of %s after %v: %w", sub, tokenWait, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// secretToken returns the token of a filled-in service-account token Secret of ns/name.
func (r *replayer) secretToken(ctx context.Context, ns, name string) (string, error) {
	r.lookups.Add(1)
	ctx, cancel := context.WithTimeout(ctx, r.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.t.Server+"/api/v1/namespaces/"+ns+"/secrets", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", mediaJSON)
	req.Header.Set("Authorization", "Bearer "+r.t.Tokens[agentSubject])
	resp, err := r.t.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("list secrets of %s: %w", ns, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("list secrets of %s: %s", ns, resp.Status)
	}
	var list corev1.SecretList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return "", fmt.Errorf("list secrets of %s: %w", ns, err)
	}
	for _, s := range list.Items {
		if s.Type == corev1.SecretTypeServiceAccountToken && s.Annotations[corev1.ServiceAccountNameKey] == name &&
			len(s.Data[corev1.ServiceAccountTokenKey]) > 0 {
			return string(s.Data[corev1.ServiceAccountTokenKey]), nil
		}
	}
	return "", nil
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

func pathOf(uri string) string {
	p, _, _ := strings.Cut(uri, "?")
	return p
}

func queryValue(uri, key string) string {
	_, q, _ := strings.Cut(uri, "?")
	v, _ := url.ParseQuery(q)
	return v.Get(key)
}

// collectionURI is a watch's collection as a one-item list: its response carries the
// collection's current resourceVersion.
func collectionURI(uri string) string {
	q := url.Values{"limit": {"1"}}
	if fs := queryValue(uri, "fieldSelector"); fs != "" {
		q.Set("fieldSelector", fs)
	}
	return pathOf(uri) + "?" + q.Encode()
}
