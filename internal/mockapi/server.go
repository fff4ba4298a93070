package mockapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	genericapifilters "k8s.io/apiserver/pkg/endpoints/filters"
	"k8s.io/apiserver/pkg/endpoints/filters/impersonation"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/compatibility"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

// Options configure a Server.
type Options struct {
	// BindAddress is the IP clusters listen on when their spec names none; default 127.0.0.1.
	BindAddress string
	// ServingCert is the TLS certificate every cluster listener presents.
	ServingCert tls.Certificate
	// CACert is the PEM of the CA that signed ServingCert; it goes into service-account
	// token Secrets.
	CACert []byte
	// WatchHistory is how many events each cluster keeps for resuming watches.
	WatchHistory int
	// Log receives the server's log lines; default logrus's standard logger.
	Log *logrus.Entry
}

// Server serves many simulated clusters. It builds one apiserver handler chain per emulated
// Kubernetes minor version, on first use, and shares it between every cluster of that version.
type Server struct {
	opts Options
	tls  *tls.Config

	mu       sync.Mutex
	versions map[string]*versionServer
	clusters map[string]*Cluster
	signer   tokenSigner
	// ctx ends the housekeeping of the shared apiservers at Shutdown.
	ctx    context.Context
	cancel context.CancelFunc
}

// NewServer returns a server with no clusters.
func NewServer(opts Options) *Server {
	if opts.BindAddress == "" {
		opts.BindAddress = "127.0.0.1"
	}
	if opts.Log == nil {
		opts.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		ctx: ctx, cancel: cancel,
		opts: opts,
		tls: &tls.Config{
			Certificates: []tls.Certificate{opts.ServingCert},
			MinVersion:   tls.VersionTLS12,
			// HTTP/1.1 only: what Rancher and client-go use through the tunnel, and an idle
			// HTTP/1.1 connection costs less than an HTTP/2 one.
			NextProtos: []string{"http/1.1"},
		},
		versions: map[string]*versionServer{},
		clusters: map[string]*Cluster{},
	}
}

// AddCluster seeds a cluster's store and starts its listener.
func (s *Server) AddCluster(spec ClusterSpec) (*Cluster, error) {
	if spec.Name == "" {
		return nil, errors.New("cluster name is required")
	}
	if spec.AdminToken == "" {
		return nil, fmt.Errorf("cluster %s: an admin token is required", spec.Name)
	}
	minor := spec.Minor
	if minor == "" {
		minor = apidocs.DefaultMinor
	}
	vs, err := s.version(minor)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", spec.Name, err)
	}
	s.mu.Lock()
	_, dup := s.clusters[spec.Name]
	s.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("cluster %s already exists", spec.Name)
	}
	c := &Cluster{
		name:       spec.Name,
		version:    vs,
		info:       vs.versionInfo(spec.Version),
		store:      NewStore(vs.scheme.Scheme, s.opts.WatchHistory),
		log:        s.opts.Log.WithField("cluster", spec.Name),
		adminToken: spec.AdminToken,
		caCert:     s.opts.CACert,
		signer:     &s.signer,
		done:       make(chan struct{}),
	}
	c.store.observer = c.observe
	c.store.boot = vs.bootstrap
	if err := c.seed(spec.Objects); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", spec.Name, err)
	}
	addr := spec.Address
	if addr == "" {
		addr = net.JoinHostPort(s.opts.BindAddress, "0")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: listen: %w", spec.Name, err)
	}
	c.listener = tls.NewListener(l, s.tls)
	base, cancel := context.WithCancel(WithCluster(context.Background(), c))
	c.cancel = cancel
	c.http = &http.Server{
		Handler:           vs.handler,
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       90 * time.Second,
		// TLS handshake errors from probing clients are not worth a log line each.
		ErrorLog: log.New(io.Discard, "", 0),
		// The listener offers HTTP/1.1 only; an empty map also spares the per-server HTTP/2
		// set-up net/http would otherwise do.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	s.mu.Lock()
	s.clusters[spec.Name] = c
	s.mu.Unlock()
	go c.serve()
	return c, nil
}

// Cluster returns a served cluster by name.
func (s *Server) Cluster(name string) *Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clusters[name]
}

// Shutdown stops every cluster.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	clusters := make([]*Cluster, 0, len(s.clusters))
	for _, c := range s.clusters {
		clusters = append(clusters, c)
	}
	s.mu.Unlock()
	var errs []error
	defer s.cancel()
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, c := range clusters {
		wg.Add(1)
		go func(c *Cluster) {
			defer wg.Done()
			if err := c.Shutdown(ctx); err != nil {
				emu.Lock()
				errs = append(errs, fmt.Errorf("cluster %s: %w", c.name, err))
				emu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// versionServer is the apiserver of one emulated minor version, shared by its clusters.
type versionServer struct {
	docs      *apidocs.Docs
	scheme    *apiScheme
	registry  *registry
	bootstrap *bootstrapSet
	handler   http.Handler

	mu       sync.Mutex
	versions map[apimachineryversion.Info]versionInfo // /version bodies, shared by equal clusters
}

func (vs *versionServer) versionInfo(info apimachineryversion.Info) versionInfo {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if vi, ok := vs.versions[info]; ok {
		return vi
	}
	vi := newVersionInfo(info, vs.docs.GitVersion)
	if vs.versions == nil {
		vs.versions = map[apimachineryversion.Info]versionInfo{}
	}
	vs.versions[info] = vi
	return vi
}

func (s *Server) version(minor string) (*versionServer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if vs, ok := s.versions[minor]; ok {
		return vs, nil
	}
	start := time.Now()
	vs, err := newVersionServer(s.ctx, minor, s.opts.Log.WithField("version", minor))
	if err != nil {
		return nil, fmt.Errorf("kubernetes %s: %w", minor, err)
	}
	s.versions[minor] = vs
	s.opts.Log.WithFields(logrus.Fields{"version": minor, "took": time.Since(start).Round(time.Millisecond)}).
		Debug("apiserver ready")
	if len(vs.registry.skipped) > 0 {
		s.opts.Log.WithField("version", minor).Warnf("resources not served: %v", vs.registry.skipped)
	}
	return vs, nil
}

func newVersionServer(ctx context.Context, minor string, log *logrus.Entry) (*versionServer, error) {
	docs, err := apidocs.Load(minor)
	if err != nil {
		return nil, err
	}
	as, err := newAPIScheme(docs)
	if err != nil {
		return nil, fmt.Errorf("scheme: %w", err)
	}
	reg, err := newRegistry(as, docs)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	boot, err := newBootstrapSet(as, reg, docs)
	if err != nil {
		return nil, fmt.Errorf("start-up objects: %w", err)
	}
	vs := &versionServer{docs: docs, scheme: as, registry: reg, bootstrap: boot}

	cfg := genericapiserver.NewConfig(as.Codecs)
	cfg.EffectiveVersion = compatibility.NewEffectiveVersionFromString(minor, "", "")
	cfg.LoopbackClientConfig = &rest.Config{Host: "https://127.0.0.1"}
	cfg.ExternalAddress = "127.0.0.1:443"
	cfg.Authorization.Authorizer = authorizerfactory.NewAlwaysAllowAuthorizer()
	// InstallAPIGroups builds each group's type converter (server-side apply, managedFields) from
	// the v3 config. The served /openapi/v2 and /openapi/v3 come from the published documents
	// instead (openapi.go), so no v2 config is needed and PrepareRun installs neither.
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(docs.OpenAPIV3Definitions(), openapinamer.NewDefinitionNamer())
	cfg.OpenAPIV3Config.Info.Title = "Kubernetes"
	cfg.OpenAPIV3Config.GetDefinitionName = docs.OpenAPIV3DefinitionNamer()
	cfg.SkipOpenAPIInstallation = true
	cfg.EnableIndex = false
	cfg.EnableProfiling = false
	cfg.EnableDiscovery = false // discovery is served from the published documents
	cfg.AdmissionControl = newAdmission()
	// The checks a kube-apiserver reports beyond the generic ones; storage is in memory, so
	// they always pass.
	alwaysOK := func(*http.Request) error { return nil }
	cfg.AddHealthChecks(healthz.NamedCheck("etcd", alwaysOK))
	cfg.AddReadyzChecks(healthz.NamedCheck("etcd-readiness", alwaysOK), healthz.NamedCheck("informer-sync", alwaysOK))
	cfg.BuildHandlerChainFunc = func(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
		return vs.handlerChain(apiHandler, c)
	}
	gs, err := cfg.Complete(nil).New("scale-cluster-agent", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	for _, info := range reg.groups {
		if len(info.PrioritizedVersions) > 0 && info.PrioritizedVersions[0].Group == "" {
			if err := gs.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, info); err != nil {
				return nil, fmt.Errorf("install /api: %w", err)
			}
			continue
		}
		if err := gs.InstallAPIGroups(info); err != nil {
			return nil, fmt.Errorf("install group %s: %w", info.PrioritizedVersions[0].Group, err)
		}
	}
	for _, name := range kubeAPIServerHooks {
		if err := gs.AddPostStartHook(name, func(genericapiserver.PostStartHookContext) error { return nil }); err != nil {
			return nil, err
		}
	}
	if _, err := installOpenAPI(gs.Handler.NonGoRestfulMux, docs, log); err != nil {
		return nil, err
	}
	gs.PrepareRun()
	// The hooks start the library's housekeeping (in-flight watermarks, object counts) and
	// turn the health checks green; they end with the process.
	gs.RunPostStartHooks(ctx)
	vs.handler = gs.Handler
	return vs, nil
}

// kubeAPIServerHooks are post-start hooks a kube-apiserver lists in /readyz?verbose; here
// they are no-ops that keep the listing familiar.
var kubeAPIServerHooks = []string{
	"start-apiserver-admission-initializer",
	"generic-apiserver-start-informers",
	"start-apiextensions-informers",
	"start-apiextensions-controllers",
	"crd-informer-synced",
	"start-system-namespaces-controller",
	"start-cluster-authentication-info-controller",
	"start-legacy-token-tracking-controller",
	"start-service-ip-repair-controllers",
	"rbac/bootstrap-roles",
	"scheduling/bootstrap-system-priority-classes",
	"bootstrap-controller",
	"start-kube-aggregator-informers",
	"apiservice-registration-controller",
	"apiservice-discovery-controller",
	"kube-apiserver-autoregistration",
}

// handlerChain is the apiserver's filter chain: the real filters for what clients observe
// (authentication and its 401, impersonation, request info, audit context for patches,
// warnings, panics), without flow control, timeouts and audit logging.
func (vs *versionServer) handlerChain(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
	h := vs.withVersionAndDiscovery(apiHandler)
	h = impersonation.WithImpersonation(h, c.Authorization.Authorizer, c.Serializer)
	h = genericapifilters.WithAuthentication(h, requestAuthenticator(), genericapifilters.Unauthorized(c.Serializer), nil, nil)
	h = genericapifilters.WithWarningRecorder(h)
	h = genericapifilters.WithCacheControl(h)
	h = genericapifilters.WithRequestInfo(h, c.RequestInfoResolver)
	h = genericapifilters.WithRequestReceivedTimestamp(h)
	h = genericfilters.WithPanicRecovery(h, c.RequestInfoResolver)
	h = genericapifilters.WithAuditInit(h)
	return h
}

// withVersionAndDiscovery answers /version per cluster and discovery from the published
// documents; everything else goes to the apiserver.
func (vs *versionServer) withVersionAndDiscovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/version" || r.URL.Path == "/version/" {
			if c := ClusterFrom(r.Context()); c != nil {
				c.info.serve(w, r)
				return
			}
		}
		if vs.docs.ServeDiscovery(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

func nowTime() metav1.Time { return metav1.Now().Rfc3339Copy() }

func newUID() types.UID { return types.UID(uuid.New().String()) }
