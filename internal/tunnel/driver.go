package tunnel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The Rancher driver: what Rancher v2.15 does to an imported cluster once its agent has
// connected, beyond the health checks (rancher-agent-protocol.md §3–§4). One goroutine per
// cluster runs the sequence of Rancher's cluster controllers:
//
//  1. the provisioner sees driver "imported": Pending and Provisioned turn True (set when the
//     main tunnel's session starts, in either driver);
//  2. clustermanager's gate, GET /api/v1/namespaces/kube-system every 5 s until it answers;
//  3. the user controllers: informers (watch-list first, protobuf) on the types Rancher
//     watches, the RBAC/namespace writes and the impersonation set-up (GlobalAdminsSynced),
//     the agent Deployment touch, AgentTlsStrictCheck from stv-aggregation;
//  4. every 10 s: the provider detector's node lists and /version until it recognises the
//     distribution, and cluster-deploy's API-up GET of kube-system;
//  5. once the cluster has a node: clusterdeploy's kubectl apply of the import manifest
//     (AgentDeployed, SystemAccountCreated), then the provisioner's Updated.
//
// Connected, Ready and Waiting stay with the health checks (health.go).

const (
	// DriverRancher runs Rancher's whole sequence; DriverHealth only its health checks.
	DriverRancher = "rancher"
	DriverHealth  = "health"

	driverGateInterval   = 5 * time.Second
	driverCycle          = 10 * time.Second
	driverCacheSyncLimit = 10 * time.Minute
	// defaultControllerStartCount is Rancher's cluster-controller-start-count setting.
	defaultControllerStartCount = 50
)

// clusterDriver is one cluster's Rancher sequence.
type clusterDriver struct {
	e   *Endpoint
	c   *epCluster
	cs  kubernetes.Interface
	dyn dynamic.Interface
	// informers are the cluster's user-controller caches.
	informers *clusterInformers

	provider string // detected distribution, "" while unknown
	version  string // statsaggregator's status.version
	deployed bool
}

// startDriver starts the cluster's Rancher sequence once, on its first main tunnel.
func (e *Endpoint) startDriver(c *epCluster) {
	if e.opts.Driver != DriverRancher {
		return
	}
	c.mu.Lock()
	started := c.driverStarted
	c.driverStarted = true
	c.mu.Unlock()
	if started {
		return
	}
	d := &clusterDriver{e: e, c: c}
	e.mu.Lock()
	if e.quiesced {
		e.mu.Unlock()
		return
	}
	e.drivers.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.drivers.Done()
		d.run(e.ctx)
	}()
}

func (d *clusterDriver) run(ctx context.Context) {
	log := d.c.log
	cfg, err := d.e.driverRESTConfig(d.c.name)
	if err != nil {
		log.WithError(err).Warn("rancher driver: no client")
		return
	}
	cs, err := newRancherClients(cfg)
	if err != nil {
		log.WithError(err).Warn("rancher driver: no client")
		return
	}
	d.cs = cs
	// Last: the keep-alive connections go once the informers have stopped.
	defer cs.closeIdle()
	dynCfg := rest.CopyConfig(cfg)
	dynCfg.Timeout = 0
	dynHTTP, err := rest.HTTPClientFor(dynCfg)
	if err != nil {
		log.WithError(err).Warn("rancher driver: no client")
		return
	}
	defer utilnet.CloseIdleConnectionsFor(dynHTTP.Transport)
	dyn, err := dynamic.NewForConfigAndClient(dynCfg, dynHTTP)
	if err != nil {
		log.WithError(err).Warn("rancher driver: no client")
		return
	}
	d.dyn = dyn
	if err := d.gate(ctx); err != nil {
		return
	}
	// clustermanager starts at most cluster-controller-start-count clusters' controllers at
	// once (default 50): a fleet connecting together queues here, as it does in Rancher.
	select {
	case d.e.startSlots <- struct{}{}:
	case <-ctx.Done():
		return
	}
	err = d.startControllers(ctx)
	<-d.e.startSlots
	if err != nil {
		if ctx.Err() == nil {
			log.WithError(err).Warn("rancher driver: user controllers did not start")
			d.setConditions(cond{CondReady, statusFalse, "Error", err.Error()})
		}
		return
	}
	defer d.informers.stop()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !d.registered() {
			return // deleted through the API, as Rancher stops a removed cluster's controllers
		}
		d.cycle(ctx)
		iv := d.e.opts.DriverInterval
		t.Reset(iv - iv/10 + randomDuration(iv/5))
	}
}

// gate is clustermanager.doStart's check before the user controllers start.
func (d *clusterDriver) gate(ctx context.Context) error {
	return wait.PollUntilContextCancel(ctx, min(driverGateInterval, d.e.opts.DriverInterval), true, func(ctx context.Context) (bool, error) {
		if !d.registered() {
			return false, errors.New("cluster deleted")
		}
		return d.apiUp(ctx) == nil, nil
	})
}

// registered says whether the cluster is still the endpoint's.
func (d *clusterDriver) registered() bool { return d.e.cluster(d.c.name) == d.c }

// apiUp is GET /api/v1/namespaces/kube-system, where a 404 counts as up.
func (d *clusterDriver) apiUp(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.e.opts.HealthTimeout)
	defer cancel()
	_, err := d.cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// startControllers starts the informers, makes Rancher's writes and waits for the caches.
func (d *clusterDriver) startControllers(ctx context.Context) error {
	inf := newClusterInformers(d.cs, d.dyn)
	d.informers = inf
	inf.start(ctx)
	// The writes race the informers' initial lists, as in Rancher.
	setup := newClusterSetup(d.c.name)
	if err := syncClusterRBAC(ctx, d.cs, setup); err != nil {
		d.c.log.WithError(err).Debug("rancher driver: RBAC sync")
	} else {
		d.setConditions(cond{CondGlobalAdminsSynced, statusTrue, "", ""})
	}
	// The /k8s/clusters proxy's service accounts: the admin's on the first proxied request,
	// the cluster owner's (the provisioning cluster's creator) soon after.
	for _, u := range []impersonationUser{setup.adminImpersonation(), setup.ownerImpersonation()} {
		if _, err := ensureImpersonationFor(ctx, d.cs, u); err != nil {
			d.c.log.WithError(err).WithField("user", u.ID).Debug("rancher driver: impersonation set-up")
		}
	}
	syncCtx, cancel := context.WithTimeout(ctx, driverCacheSyncLimit)
	defer cancel()
	if !inf.waitForSync(syncCtx) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errors.New("timed out waiting for the caches of the cluster's user controllers to sync")
	}
	changes := []cond{}
	if inf.strictCACheck() {
		changes = append(changes, cond{CondAgentTLSStrictCheck, statusTrue, "", ""})
	}
	if inf.nodeCount() > 0 && d.e.opts.Deployer != nil {
		// clusterdeploy starts as soon as nodesyncer has a node.
		changes = append(changes, cond{CondAgentDeployed, statusUnknown, "", ""})
	}
	d.setConditions(changes...)
	// healthsyncer is one of the user controllers: Ready and Waiting follow from here on.
	d.c.mu.Lock()
	d.c.controllersStarted = true
	d.c.mu.Unlock()
	return nil
}

// cycle is one 10 s round of the controllers that keep visiting a cluster.
func (d *clusterDriver) cycle(ctx context.Context) {
	up := d.apiUp(ctx) == nil
	if v, err := d.cs.Discovery().ServerVersion(); err == nil {
		d.version = v.GitVersion
	}
	if d.provider == "" {
		d.provider = d.detectProvider(ctx)
		if d.provider != "" {
			d.c.mu.Lock()
			d.c.st.Provider = d.provider
			d.c.mu.Unlock()
		}
	}
	nodes := d.informers.nodeCount()
	d.c.mu.Lock()
	provisioned := d.c.conds.is(CondProvisioned, statusTrue)
	d.c.mu.Unlock()
	if !d.deployed && up && provisioned && nodes > 0 {
		d.deployAgent(ctx)
	}
	// The provisioner's lifecycle completes once the cluster has a version and a node.
	if d.deployed && d.version != "" && nodes > 0 {
		d.setConditions(cond{CondUpdated, statusTrue, "", ""})
	}
}

// deployAgent is clusterdeploy.deployAgent: kubectl apply of the import manifest.
func (d *clusterDriver) deployAgent(ctx context.Context) {
	if d.e.opts.Deployer == nil {
		return
	}
	d.setConditions(cond{CondAgentDeployed, statusUnknown, "", ""})
	manifest, err := d.e.importManifest(d.c)
	if err == nil {
		err = d.e.opts.Deployer.Deploy(ctx, d.e, d.c.name, manifest)
	}
	if err != nil {
		if ctx.Err() == nil {
			d.c.log.WithError(err).Warn("rancher driver: agent deployment failed")
			d.setConditions(cond{CondAgentDeployed, statusFalse, "Error", err.Error()})
		}
		return
	}
	d.deployed = true
	d.c.mu.Lock()
	d.c.st.AgentImage = DefaultAgentImage
	d.c.mu.Unlock()
	d.setConditions(cond{CondSystemAccountCreated, statusTrue, "", ""}, cond{CondAgentDeployed, statusTrue, "", ""})
}

// Provider detection (rancher/kubernetes-provider-detector): each detector looks at
// /version or at nodes found by a label selector; the first match names the provider.
var versionProviders = []struct{ marker, provider string }{
	{"+k3s", "k3s"}, {"+rke2", "rke2"}, {"-eks-", "eks"}, {".gke.", "gke"}, {"-gke.", "gke"},
}

var labelProviders = []struct{ selector, provider string }{
	{"harvesterhci.io/managed", "harvester"},
	{"kubernetes.azure.com/cluster", "aks"},
	{"kubernetes.io/os=windows", "windows"},
}

// detectProvider runs the detectors once and returns the provider, "" if none matched.
func (d *clusterDriver) detectProvider(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, d.e.opts.HealthTimeout)
	defer cancel()
	if d.version == "" {
		return ""
	}
	for _, p := range versionProviders {
		if strings.Contains(d.version, p.marker) {
			return p.provider
		}
	}
	for _, p := range labelProviders {
		sel, err := labels.Parse(p.selector)
		if err != nil {
			continue
		}
		l, err := d.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel.String(), Limit: 1})
		if err == nil && len(l.Items) > 0 {
			return p.provider
		}
	}
	// Node-based detectors that need every node (minikube, Docker Desktop, rke IP annotations).
	l, err := d.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return ""
	}
	for _, n := range l.Items {
		switch {
		case n.Labels["minikube.k8s.io/name"] != "":
			return "minikube"
		case n.Status.NodeInfo.OSImage == "Docker Desktop":
			return "docker"
		case n.Annotations["rke.cattle.io/external-ip"] != "" || n.Annotations["rke.cattle.io/internal-ip"] != "":
			return "rke"
		}
	}
	return ""
}

// cond is one condition change.
type cond struct{ typ, status, reason, message string }

// setConditions applies changes and refreshes the cluster's Rancher state.
func (d *clusterDriver) setConditions(changes ...cond) {
	c := d.c
	now := time.Now()
	c.mu.Lock()
	for _, ch := range changes {
		c.conds.set(ch.typ, ch.status, ch.reason, ch.message, now)
	}
	change := d.e.updateStateLocked(c)
	c.mu.Unlock()
	change.log()
}

// importManifest renders the cluster's import manifest as Rancher serves it.
func (e *Endpoint) importManifest(c *epCluster) ([]byte, error) {
	v := ManifestValues{
		ServerURL:  e.URL(),
		Token:      c.token,
		CAChecksum: e.checksum,
		ClusterID:  c.name,
	}
	b, err := RenderImportManifest(v)
	if err != nil {
		return nil, fmt.Errorf("import manifest: %w", err)
	}
	return b, nil
}
