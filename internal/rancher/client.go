package rancher

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// Defaults of Config.
const (
	DefaultTimeout      = 60 * time.Second // one attempt, body included: a limit=-1 list of thousands of clusters is tens of MB
	DefaultPollInterval = 2 * time.Second
	DefaultUserAgent    = "scale-cluster-agent"
	defaultIdlePerHost  = 64 // every goroutine of a run talks to the same host
)

// Config says where Rancher is and how to talk to it. URL and Credentials are required.
type Config struct {
	// URL is Rancher's server URL (its server-url setting), e.g. https://rancher.example.com.
	URL string
	// Credentials authenticate every call but the public ones (login, /v3/settings/cacerts).
	Credentials Credentials

	// TLSConfig, if set, is cloned for every connection; CAPool and Insecure then modify the
	// clone. Without any of the three the system roots verify Rancher's certificate.
	TLSConfig *tls.Config
	// CAPool replaces the roots, e.g. with the pool FetchCA returned for a private CA.
	CAPool *x509.CertPool
	// Insecure skips certificate verification (a lab Rancher with a self-signed CA).
	Insecure bool

	// Timeout bounds one attempt, reading the body included. Default DefaultTimeout.
	Timeout time.Duration
	// QPS, if above 0, limits the requests this client sends (every attempt counts), with
	// bursts of up to Burst (default 1). It keeps thousands of goroutines from flooding Rancher.
	QPS   float64
	Burst int
	// Retry bounds the retries of 5xx, 429 and transport errors.
	Retry RetryPolicy
	// PollInterval is the default interval of the Wait calls. Default DefaultPollInterval.
	PollInterval time.Duration
	// UserAgent is sent with every request, and is the description of login tokens.
	UserAgent string
	// Log receives retries, logins and adoptions. Default logrus.StandardLogger().
	Log logrus.FieldLogger
}

// Client talks to one Rancher. It is safe for concurrent use and meant to be shared: it holds
// the one keep-alive HTTP client, the rate limiter and, after a login, the token.
type Client struct {
	base      *url.URL
	http      *http.Client
	creds     Credentials
	limiter   *rate.Limiter
	retry     RetryPolicy
	poll      time.Duration
	userAgent string
	log       logrus.FieldLogger

	loginSem chan struct{} // one login at a time
	mu       sync.Mutex    // guards token
	token    secret        // from a login
}

// New checks cfg and builds a Client. It does not contact Rancher (see Login and CACerts).
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Credentials.IsZero() {
		return nil, errors.New("rancher: no credentials: give an API token or a username and password")
	}
	if cfg.Credentials.isLogin() && cfg.Credentials.password == "" {
		return nil, fmt.Errorf("rancher: no password for user %q", cfg.Credentials.username)
	}
	if cfg.QPS < 0 || cfg.Burst < 0 {
		return nil, fmt.Errorf("rancher: negative rate limit (QPS %v, burst %d)", cfg.QPS, cfg.Burst)
	}
	c := &Client{
		base:      base,
		creds:     cfg.Credentials,
		retry:     cfg.Retry.withDefaults(),
		poll:      cfg.PollInterval,
		userAgent: cfg.UserAgent,
		log:       cfg.Log,
		loginSem:  make(chan struct{}, 1),
	}
	if c.poll <= 0 {
		c.poll = DefaultPollInterval
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.log == nil {
		c.log = logrus.StandardLogger()
	}
	c.log = c.log.WithField("rancher", base.Host)
	if cfg.QPS > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.QPS), max(cfg.Burst, 1))
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c.http = &http.Client{
		Transport: newTransport(tlsConfig(cfg)),
		Timeout:   timeout,
		// An API call is never redirected; Rancher redirects what it takes for a browser (to
		// its login page), and following that would hide the real answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// URL is Rancher's server URL as the client uses it (no trailing slash).
func (c *Client) URL() string { return c.base.String() }

// Close drops idle connections. The client must not be used afterwards.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("rancher: no URL")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("rancher: URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("rancher: URL %s: scheme must be https (or http)", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("rancher: URL %s has no host", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("rancher: URL %s: put credentials in Credentials, not the URL", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u, nil
}

func tlsConfig(cfg Config) *tls.Config {
	var t *tls.Config
	if cfg.TLSConfig != nil {
		t = cfg.TLSConfig.Clone()
	} else {
		t = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.CAPool != nil {
		t.RootCAs = cfg.CAPool
	}
	if cfg.Insecure {
		t.InsecureSkipVerify = true
	}
	return t
}

// newTransport is http.DefaultTransport's settings with more idle connections per host,
// since everything goes to one Rancher, and HTTP/2 kept despite the custom TLS config.
func newTransport(t *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       t,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          defaultIdlePerHost * 2,
		MaxIdleConnsPerHost:   defaultIdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
