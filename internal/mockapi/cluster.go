package mockapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/user"
)

// ClusterSpec describes one simulated cluster to serve.
type ClusterSpec struct {
	Name string
	// Version is what /version reports; empty means the emulated release's plain version.
	Version version.Info
	// Minor selects the emulated API ("1.36"); empty means apidocs.DefaultMinor.
	Minor string
	// AdminToken authenticates as the cluster admin.
	AdminToken string
	// Address to listen on; a port of 0 picks a free one. Empty means the server's bind
	// address with a free port.
	Address string
	// Objects are created in the cluster before it serves: typed k8s.io/api objects. The
	// cluster takes them over (the store keeps its own copies; uid and creationTimestamp are
	// filled in where missing).
	Objects []runtime.Object
}

// Cluster is one simulated cluster: its store, its tokens and its listener.
type Cluster struct {
	name    string
	version *versionServer
	info    versionInfo
	store   *Store
	log     *logrus.Entry

	adminToken string
	caCert     []byte
	seeding    bool // controllers leave the initial objects to the fixture
	signer     *tokenSigner
	// leasesRenewed is when the node leases were last renewed (UnixNano).
	leasesRenewed atomic.Int64
	mu            sync.RWMutex
	tokens        map[string]issuedToken // service-account tokens this cluster issued
	// legacyTokenDay is the day each used token Secret ("namespace/name") was last checked
	// for its last-used label.
	legacyTokenDay map[string]string

	listener net.Listener
	http     *http.Server
	cancel   context.CancelFunc // ends every request's context, open watches included
	done     chan struct{}
}

type clusterKey struct{}

// WithCluster returns a context carrying the cluster, as each listener sets it on every
// connection's context.
func WithCluster(ctx context.Context, c *Cluster) context.Context {
	return context.WithValue(ctx, clusterKey{}, c)
}

// ClusterFrom returns the cluster a request is for, or nil.
func ClusterFrom(ctx context.Context) *Cluster {
	c, _ := ctx.Value(clusterKey{}).(*Cluster)
	return c
}

// Name is the cluster's name.
func (c *Cluster) Name() string { return c.name }

// Address is host:port of the cluster's TLS listener.
func (c *Cluster) Address() string { return c.listener.Addr().String() }

// URL is the cluster's API server URL.
func (c *Cluster) URL() string { return "https://" + c.Address() }

// AdminToken is the bearer token of the cluster admin.
func (c *Cluster) AdminToken() string { return c.adminToken }

// GitVersion is the Kubernetes version the cluster reports.
func (c *Cluster) GitVersion() string { return c.info.GitVersion }

// Store is the cluster's object store.
func (c *Cluster) Store() *Store { return c.store }

func (c *Cluster) lookupToken(token string) (user.Info, bool) {
	if token == c.adminToken {
		return adminUser, true
	}
	c.mu.RLock()
	t, ok := c.tokens[token]
	c.mu.RUnlock()
	now := time.Now()
	if !ok || !t.expires.IsZero() && now.After(t.expires) {
		return nil, false
	}
	if t.secret != "" {
		c.noteLegacyTokenUse(t.secret, now)
	}
	return t.user, true
}

// IssueToken mints a bearer token that authenticates as u in this cluster.
func (c *Cluster) IssueToken(u user.Info) string {
	return c.issueToken(issuedToken{user: u})
}

func (c *Cluster) issueToken(t issuedToken) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	c.addToken(tok, t)
	return tok
}

func (c *Cluster) addToken(tok string, t issuedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = map[string]issuedToken{}
	}
	// Expired tokens are forgotten as new ones arrive, keeping the map bounded.
	now := time.Now()
	for k, old := range c.tokens {
		if !old.expires.IsZero() && now.After(old.expires) {
			delete(c.tokens, k)
		}
	}
	c.tokens[tok] = t
}

func (c *Cluster) seed(objects []runtime.Object) error {
	c.seeding = true
	defer func() { c.seeding = false }()
	// The cluster was created when its kube-system namespace was, if the fixture says; the
	// start-up objects materialised later carry that time.
	created := nowTime()
	for _, obj := range objects {
		if ns, ok := obj.(*corev1.Namespace); ok && ns.Name == metav1.NamespaceSystem && !ns.CreationTimestamp.IsZero() {
			created = ns.CreationTimestamp
		}
	}
	c.store.created = created.Unix()
	for _, obj := range objects {
		gvks, _, err := c.version.scheme.ObjectKinds(obj)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		hub, ok := c.version.scheme.hubOf(gvks[0].GroupKind())
		if !ok {
			return fmt.Errorf("seed: kind %s is not served by Kubernetes %s", gvks[0].GroupKind(), c.version.docs.Minor)
		}
		res, ok := c.version.registry.resourceOf(hub.GroupKind())
		if !ok {
			return fmt.Errorf("seed: no resource for kind %s", hub.GroupKind())
		}
		// Stored objects carry their defaults, as if created through the API.
		c.version.scheme.Default(obj)
		if err := prepareSeed(obj); err != nil {
			return err
		}
		if err := c.store.Seed(res.gvr, res.gvk, obj); err != nil {
			return err
		}
		c.observe(event{typ: watch.Added, gvr: res.gvr, obj: obj})
	}
	c.leasesRenewed.Store(time.Now().UnixNano())
	return nil
}

// prepareSeed fills the metadata the apiserver would have set on create.
func prepareSeed(obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if ts := m.GetCreationTimestamp(); ts.IsZero() {
		m.SetCreationTimestamp(nowTime())
	}
	if m.GetUID() == "" {
		m.SetUID(newUID())
	}
	return nil
}

func (c *Cluster) serve() {
	defer close(c.done)
	err := c.http.Serve(c.listener)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		c.log.WithError(err).Error("listener stopped")
	}
}

// Shutdown stops the cluster's listener and waits for open requests up to ctx's deadline;
// open watches are closed.
func (c *Cluster) Shutdown(ctx context.Context) error {
	c.cancel()
	// In-flight requests of a mock finish in milliseconds; a connection that never sent a
	// request would hold Shutdown for 5 s, so it gets a second before the listener is closed.
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err := c.http.Shutdown(sctx)
	if err != nil {
		_ = c.http.Close()
		if ctx.Err() == nil {
			err = nil
		}
	}
	select {
	case <-c.done:
	case <-time.After(time.Second):
	}
	return err
}
