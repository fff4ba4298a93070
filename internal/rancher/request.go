package rancher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// request is one API call, retried as a whole.
type request struct {
	method    string
	path      string     // below the server URL, e.g. /v3/clusters
	query     url.Values // may be nil
	body      any        // JSON-encoded when not nil
	public    bool       // send no Authorization (login, cacerts)
	noRelogin bool       // a 401 is final even with login credentials (logout)

	attempts int // set by do: how many were made; >1 means an earlier one may have had effect
}

func (r *request) target() string {
	if len(r.query) == 0 {
		return r.path
	}
	return r.path + "?" + r.query.Encode()
}

// transportError is a request that got no HTTP answer (connection refused or reset, TLS
// failure, timeout); the underlying error says which.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// notJSONError is a 2xx answer that is not JSON: a proxy's or the UI's HTML page, usually
// because the URL is not Rancher's server URL.
type notJSONError struct{ contentType, start string }

func (e *notJSONError) Error() string {
	return fmt.Sprintf("answer is %s, not JSON (is the URL Rancher's server URL?): %q", e.contentType, e.start)
}

// do sends r, retrying as c.retry allows, and decodes a 2xx body into out (if not nil).
// With login credentials a 401 drops the login token and tries once more with a new one.
func (c *Client) do(ctx context.Context, r *request, out any) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("%s %s: encoding the request: %w", r.method, r.path, err)
		}
	}
	relogged := false
	for attempt := 1; ; attempt++ {
		r.attempts = attempt
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return fmt.Errorf("%s %s: waiting for the rate limiter: %w", r.method, r.target(), err)
			}
		}
		tok, err := c.auth(ctx, r)
		if err != nil {
			return err
		}
		err = c.once(ctx, r, tok, body, out)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s %s: %w", r.method, r.target(), ctxErr)
		}
		if IsUnauthorized(err) && tok != "" && c.creds.isLogin() && !r.noRelogin && !relogged {
			// The login token expired or was deleted: log in again, once.
			c.log.WithField("path", r.path).Info("Rancher rejected the login token; logging in again")
			c.forgetLogin(tok)
			relogged = true
			continue
		}
		delay, ok := c.retry.retryDelay(attempt, err)
		if !ok {
			if attempt > 1 {
				return fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			return fmt.Errorf("%w (after %d attempts; no time left for another)", err, attempt)
		}
		c.log.WithField("method", r.method).WithField("path", r.target()).WithField("attempt", attempt).
			WithField("retryIn", delay.Round(time.Millisecond)).WithError(err).Debug("Rancher call failed; retrying")
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s %s: %w (while waiting to retry after: %v)", r.method, r.target(), ctx.Err(), err)
		case <-t.C:
		}
	}
}

// auth is the token to send with r, logging in first if need be ("" for public calls).
func (c *Client) auth(ctx context.Context, r *request) (secret, error) {
	if r.public {
		return "", nil
	}
	return c.bearer(ctx)
}

// once makes one attempt.
func (c *Client) once(ctx context.Context, r *request, tok secret, body []byte, out any) error {
	// r.path is escaped (ids go through url.PathEscape); parsing keeps it so.
	u, err := url.Parse(c.base.String() + r.path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.method, r.target(), err)
	}
	u.RawQuery = r.query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.method, r.target(), err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+string(tok))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &transportError{err: err} // a *url.Error: names method and URL, never headers
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return newAPIError(r.method, r.target(), resp, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return fmt.Errorf("%s %s: %w", r.method, r.target(), &notJSONError{contentType: mt, start: excerpt(data, 120)})
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return &transportError{err: fmt.Errorf("%s %s: reading the answer: %w", r.method, r.target(), io.ErrUnexpectedEOF)}
		}
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) {
			return fmt.Errorf("%s %s: decoding the answer: %w", r.method, r.target(), err)
		}
		return &transportError{err: fmt.Errorf("%s %s: reading the answer: %w", r.method, r.target(), err)}
	}
	return nil
}

// maxPages bounds a paginated list, against a server whose next link never ends.
const maxPages = 10000

// list GETs every page of a norman or steve collection: it follows pagination.next (norman,
// steve) or continue (steve). Only the path and query of a next link are used, against the
// client's own server URL, so the bearer token never goes to a host that a link names
// (Rancher builds links from the request's Host, which a proxy may change).
func list[T any](ctx context.Context, c *Client, path string, query url.Values) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	r := &request{method: http.MethodGet, path: path, query: query}
	for page := 1; ; page++ {
		var col collection[T]
		if err := c.do(ctx, r, &col); err != nil {
			return nil, err
		}
		all = append(all, col.Data...)
		next, err := c.nextPage(r, &col)
		if err != nil || next == nil {
			return all, err
		}
		key := next.target()
		if seen[key] || page >= maxPages {
			return nil, fmt.Errorf("GET %s: pagination does not end (page %d, next %s)", path, page, key)
		}
		seen[key] = true
		r = next
	}
}

func (c *Client) nextPage(cur *request, col interface{ next() (string, string) }) (*request, error) {
	link, cont := col.next()
	switch {
	case link != "":
		u, err := url.Parse(link)
		if err != nil {
			return nil, fmt.Errorf("GET %s: bad pagination link: %w", cur.path, err)
		}
		p := u.EscapedPath()
		if prefix := c.base.EscapedPath(); prefix != "" {
			p = strings.TrimPrefix(p, prefix)
		}
		return &request{method: http.MethodGet, path: p, query: u.Query()}, nil
	case cont != "":
		q := url.Values{}
		for k, v := range cur.query {
			q[k] = v
		}
		q.Set("continue", cont)
		return &request{method: http.MethodGet, path: cur.path, query: q}, nil
	}
	return nil, nil
}

func (col *collection[T]) next() (string, string) {
	link := ""
	if col.Pagination != nil {
		link = col.Pagination.Next
	}
	return link, col.Continue
}
