package tunnel

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Rancher's clusterdeploy tries `kubectl apply` of the agent manifest 5 times, sleeping 5 s
// after each failure (deployAgent), before it marks AgentDeployed failed and requeues. Here
// there is no sleep after the last try.
const (
	defaultDeployTries         = 5
	defaultDeployRetryInterval = 5 * time.Second
	defaultDeployConcurrency   = 4
	defaultDeployTryTimeout    = 2 * time.Minute
)

// AgentDeployer runs the real kubectl to apply a cluster's agent manifest through the
// cluster proxy, as Rancher's clusterdeploy controller does (rancher-agent-protocol.md §4
// row 11). One deployer serves every cluster; its zero value is ready to use.
//
// Each try serves Endpoint.ClusterProxy on a listener of its own on 127.0.0.1 (random port),
// under /k8s/clusters/<name> as Rancher's proxy is, behind a random bearer token that only
// that kubectl gets, so no other process on the machine can use it. TLS, not plain HTTP:
// kubectl sends no credentials to an http:// server (clientcmd drops them). The certificate
// is self-signed, made once per deployer and kept in memory; the kubeconfig pins it as its
// CA (Rancher's own kubeconfig skips verification). Everything a try sets up around kubectl
// costs about 1 ms of CPU (TestAgentDeployerTryOverhead), against 0.3–0.7 s for kubectl
// itself, so a shared listener routing by secret would save nothing worth its lifetime.
type AgentDeployer struct {
	// KubectlPath is the kubectl binary; default exec.LookPath("kubectl").
	KubectlPath string
	// Concurrency is how many kubectl processes run at once, for all clusters; default 4.
	Concurrency int
	// Retries is how many times kubectl is tried before Deploy fails; default 5, Rancher's.
	Retries int
	// RetryInterval is the pause after a failed try; default 5 s, Rancher's.
	RetryInterval time.Duration
	// TryTimeout bounds one kubectl run; default 2 minutes (Rancher sets none, but here a
	// hung run would hold a slot of Concurrency).
	TryTimeout time.Duration
	// Log receives debug lines with a cluster field; default logrus's standard logger.
	Log *logrus.Entry

	once    sync.Once
	initErr error
	kubectl string
	sem     chan struct{}
	log     *logrus.Entry
	cert    tls.Certificate
	certPEM []byte
}

// DeployError is a failed Deploy: kubectl's exit and standard error of the last try.
type DeployError struct {
	Cluster string
	Tries   int
	// Stderr is kubectl's standard error, with tokens redacted as Rancher does.
	Stderr string
	Err    error
}

func (e *DeployError) Error() string {
	msg := fmt.Sprintf("cluster %s: kubectl apply of the agent manifest failed after %d tries: %v", e.Cluster, e.Tries, e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *DeployError) Unwrap() error { return e.Err }

func (d *AgentDeployer) init() error {
	d.once.Do(func() {
		d.kubectl = d.KubectlPath
		if d.kubectl == "" {
			if d.kubectl, d.initErr = exec.LookPath("kubectl"); d.initErr != nil {
				d.initErr = fmt.Errorf("agent deployer: %w", d.initErr)
				return
			}
		}
		n := d.Concurrency
		if n <= 0 {
			n = defaultDeployConcurrency
		}
		d.sem = make(chan struct{}, n)
		if d.cert, d.certPEM, d.initErr = loopbackCert(); d.initErr != nil {
			d.initErr = fmt.Errorf("agent deployer: %w", d.initErr)
			return
		}
		d.log = d.Log
		if d.log == nil {
			d.log = logrus.NewEntry(logrus.StandardLogger())
		}
	})
	return d.initErr
}

// Deploy applies manifest to the cluster through e's cluster proxy with `kubectl apply -f -`,
// trying up to Retries times RetryInterval apart. On failure the error is a *DeployError
// quoting kubectl's standard error.
func (d *AgentDeployer) Deploy(ctx context.Context, e *Endpoint, clusterName string, manifest []byte) error {
	_, err := d.DeployOutput(ctx, e, clusterName, manifest)
	return err
}

// DeployOutput is Deploy returning kubectl's standard output of the successful try
// ("namespace/cattle-system unchanged" …), which Rancher puts in AgentDeployed's message.
func (d *AgentDeployer) DeployOutput(ctx context.Context, e *Endpoint, clusterName string, manifest []byte) ([]byte, error) {
	if err := d.init(); err != nil {
		return nil, err
	}
	tries := d.Retries
	if tries <= 0 {
		tries = defaultDeployTries
	}
	interval := d.RetryInterval
	if interval <= 0 {
		interval = defaultDeployRetryInterval
	}
	l := d.log.WithField("cluster", clusterName)
	var stderr string
	var err error
	for try := 1; ; try++ {
		var out []byte
		out, stderr, err = d.try(ctx, e, clusterName, manifest, l.WithField("try", try))
		if err == nil {
			return out, nil
		}
		if try == tries || ctx.Err() != nil {
			return nil, &DeployError{Cluster: clusterName, Tries: try, Stderr: stderr, Err: err}
		}
		t := time.NewTimer(interval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, &DeployError{Cluster: clusterName, Tries: try, Stderr: stderr, Err: fmt.Errorf("%w (last try: %v)", ctx.Err(), err)}
		}
	}
}

// try runs kubectl once against a private listener serving the cluster's proxy, and returns
// its standard output, its (redacted) standard error and why it failed.
func (d *AgentDeployer) try(ctx context.Context, e *Endpoint, name string, manifest []byte, l *logrus.Entry) ([]byte, string, error) {
	select {
	case d.sem <- struct{}{}:
		defer func() { <-d.sem }()
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	timeout := d.TryTimeout
	if timeout <= 0 {
		timeout = defaultDeployTryTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	proxy, err := e.clusterProxy(name)
	if err != nil {
		l.WithError(err).Debug("no cluster proxy")
		return nil, "", err
	}
	defer proxy.CloseIdleConnections() // after the server is gone, so that none is added later
	secret, err := randomHex(32)
	if err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("proxy listener: %w", err)
	}
	prefix := "/k8s/clusters/" + url.PathEscape(name)
	srv := &http.Server{
		Handler:           guardBearer(secret, prefix, proxy),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(logDebugWriter{l}, "", 0),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{d.cert}, MinVersion: tls.VersionTLS12},
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	defer func() {
		// kubectl has exited, so its connections are gone or going; handlers still running
		// end with their request's context.
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()

	dir, err := os.MkdirTemp("", "sca-kubectl-")
	if err != nil {
		return nil, "", fmt.Errorf("kubectl dir: %w", err)
	}
	defer os.RemoveAll(dir)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeProxyKubeconfig(kubeconfig, "https://"+ln.Addr().String()+prefix, d.certPEM, secret); err != nil {
		return nil, "", err
	}

	// A cache dir of its own: nothing lands in $HOME, and each run discovers the API afresh
	// as Rancher's first apply does.
	cmd := exec.CommandContext(ctx, d.kubectl, "--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(dir, "cache"), "apply", "-f", "-")
	cmd.Stdin = bytes.NewReader(manifest)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = kubectlEnv()
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	fields := logrus.Fields{"wall": wall.Round(time.Millisecond)}
	if ps := cmd.ProcessState; ps != nil {
		fields["cpu"] = (ps.UserTime() + ps.SystemTime()).Round(time.Millisecond)
	}
	errText := redactTokens(strings.TrimSpace(stderr.String()))
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", err, ctx.Err())
		}
		l.WithFields(fields).WithError(err).WithField("stderr", errText).Debug("kubectl apply failed")
		return nil, errText, fmt.Errorf("%s: %w", d.kubectl, err)
	}
	if errText != "" {
		fields["stderr"] = errText // warnings, e.g. of objects without last-applied-configuration
	}
	l.WithFields(fields).WithField("output", strings.TrimSpace(stdout.String())).Debug("kubectl apply done")
	return stdout.Bytes(), errText, nil
}

// guardBearer lets through only requests under prefix that carry the bearer secret, and
// hands them on without the prefix and without the secret.
func guardBearer(secret, prefix string, next http.Handler) http.Handler {
	want := []byte("Bearer " + secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			proxyStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
			return
		}
		// prefix is escaped, so compare escaped paths: a cluster name may need escaping.
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
		if !ok || (rest != "" && rest[0] != '/') {
			proxyStatus(w, http.StatusNotFound, "NotFound", "not found")
			return
		}
		if rest == "" {
			rest = "/"
		}
		path, err := url.PathUnescape(rest)
		if err != nil {
			proxyStatus(w, http.StatusBadRequest, "BadRequest", "bad path")
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = path, rest
		r2.Header.Del("Authorization")
		next.ServeHTTP(w, r2)
	})
}

// writeProxyKubeconfig writes (0600) a kubeconfig for server, trusting caPEM, with a bearer
// token.
func writeProxyKubeconfig(path, server string, caPEM []byte, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cluster"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "user"}
	cfg.CurrentContext = "default"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}

// kubectlEnv is the environment without what could point kubectl elsewhere than the
// flags say.
func kubectlEnv() []string {
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "KUBECONFIG", "KUBECTL_KUBERC", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "DISABLE_HTTP2":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// tokenPattern matches a token in kubectl's output (it may quote the applied objects), as
// clusterdeploy's formatKubectlApplyOutput redacts it.
var tokenPattern = regexp.MustCompile(`("token\\?":\s*\\?")[^"\\]*`)

func redactTokens(s string) string { return tokenPattern.ReplaceAllString(s, "${1}REDACTED") }

// loopbackCert makes a self-signed ECDSA serving certificate for 127.0.0.1.
func loopbackCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "scale-cluster-agent kubectl proxy"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
