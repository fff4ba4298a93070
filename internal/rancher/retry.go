package rancher

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy bounds the retries of one call. Retried: 5xx answers that may heal (500, 502,
// 503, 504), 408, 429 and transport errors. Never retried: 401 and 403 (credentials do not
// heal), other 4xx, certificate errors and the caller's context ending.
type RetryPolicy struct {
	// Attempts is the most tries of one call, the first included; 1 disables retries.
	// Default 5.
	Attempts int
	// MinDelay is the wait before the first retry; it doubles each retry up to MaxDelay and
	// is jittered (the wait is between half and all of it). Defaults 500ms and 15s.
	MinDelay time.Duration
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for; a longer one ends the
	// call with the error instead. Default 2m.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.MinDelay <= 0 {
		p.MinDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = max(15*time.Second, p.MinDelay)
	}
	p.MaxDelay = max(p.MaxDelay, p.MinDelay)
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 2 * time.Minute
	}
	return p
}

// backoff is the jittered wait before retry n (1 = the first retry).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MinDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// retryDelay says whether err, from attempt number attempt, is worth another try and after
// how long.
func (p RetryPolicy) retryDelay(attempt int, err error) (time.Duration, bool) {
	if attempt >= p.Attempts || !retryable(err) {
		return 0, false
	}
	d := p.backoff(attempt)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > p.MaxRetryAfter {
			return 0, false
		}
		d = max(d, apiErr.RetryAfter)
	}
	return d, true
}

// retryable: an answer or failure that another try may not repeat. The caller's context
// having ended is checked before, by do; a context error here is the per-attempt timeout.
func retryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var (
		verifyErr   *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		syntaxErr   *json.SyntaxError
		typeErr     *json.UnmarshalTypeError
		notJSON     *notJSONError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return false // the certificate will not change by asking again
	case errors.As(err, &recordErr):
		return false // TLS to a plain-HTTP port
	case errors.As(err, &syntaxErr), errors.As(err, &typeErr), errors.As(err, &notJSON):
		return false // an answer we cannot read will not read better next time
	case errors.Is(err, io.ErrUnexpectedEOF):
		return true // the body was cut off
	}
	var te *transportError
	return errors.As(err, &te)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
