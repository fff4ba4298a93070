package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// errNotOwned is a cluster of the fleet's name that exists in Rancher without the tool's
// label: somebody else's, which the fleet must not take over.
var errNotOwned = errors.New("a cluster of that name exists in Rancher and was not created by scale-cluster-agent; rename the simulated clusters (namePattern) or delete it")

// registerAttempts bounds how often one cluster's registration is tried; the waits between
// attempts grow.
var registerWaits = []time.Duration{5 * time.Second, 20 * time.Second}

// clusterIndex is Rancher's clusters at start, by id and by lower-case name.
type clusterIndex struct {
	byID, byName map[string]*rancher.Cluster
}

func indexClusters(all []rancher.Cluster) clusterIndex {
	idx := clusterIndex{byID: map[string]*rancher.Cluster{}, byName: map[string]*rancher.Cluster{}}
	for i := range all {
		c := &all[i]
		if !c.Removed.IsZero() {
			continue // being deleted
		}
		idx.byID[c.ID] = c
		idx.byName[strings.ToLower(c.Name)] = c
	}
	return idx
}

// registerAll registers every member, paced by RegisterRate and at most
// RegisterConcurrency at once, in the fleet's order.
func (f *Fleet) registerAll(ctx context.Context, existing []rancher.Cluster) {
	idx := indexClusters(existing)
	conc := f.tunnelCfg.RegisterConcurrency
	if conc <= 0 {
		conc = defaultRegisterConcurrency
	}
	var limiter *rate.Limiter
	if r := f.tunnelCfg.RegisterRate; r > 0 {
		limiter = rate.NewLimiter(rate.Limit(r), 1)
	}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, m := range f.members {
		if limiter != nil {
			if err := limiter.Wait(ctx); err != nil {
				return
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f.registerWithRetries(ctx, m, idx)
		}()
	}
}

func (f *Fleet) registerWithRetries(ctx context.Context, m *member, idx clusterIndex) {
	m.mu.Lock()
	m.registering = time.Now()
	m.mu.Unlock()
	for attempt := 0; ; attempt++ {
		err := f.register(ctx, m, idx)
		if err == nil || ctx.Err() != nil {
			return
		}
		final := attempt >= len(registerWaits) || !retryRegistration(err)
		l := m.log.WithError(err)
		if final {
			l.Error("registration in Rancher failed")
			m.mu.Lock()
			m.regErr = err.Error()
			m.mu.Unlock()
			return
		}
		l.WithField("retryIn", registerWaits[attempt]).Warn("registration in Rancher failed; retrying")
		select {
		case <-ctx.Done():
			return
		case <-time.After(registerWaits[attempt]):
		}
	}
}

// retryRegistration: another attempt may succeed (not a refusal that will stay).
func retryRegistration(err error) bool {
	if errors.Is(err, errNotOwned) || rancher.IsUnauthorized(err) || rancher.IsForbidden(err) {
		return false
	}
	code := rancher.StatusCode(err)
	return code == 0 || code >= 500 || code == 404 || code == 409 || code == 422 || code == 429
}

// register makes sure Rancher has the cluster (reused from state.json, adopted by name, or
// created), gets its registration token and starts its agent.
func (f *Fleet) register(ctx context.Context, m *member, idx clusterIndex) error {
	name := m.name()
	rec, hasRec := f.state.get(name)
	var cl *rancher.Cluster
	origin := ""
	switch {
	case hasRec && f.target.matches(rec) && idx.byID[rec.ClusterID] != nil && strings.EqualFold(idx.byID[rec.ClusterID].Name, name):
		cl, origin = idx.byID[rec.ClusterID], "reused"
	case idx.byName[strings.ToLower(name)] != nil:
		cl, origin = idx.byName[strings.ToLower(name)], "adopted"
	}
	if hasRec && f.target.matches(rec) && cl == nil {
		m.log.WithField("id", rec.ClusterID).Info("the cluster recorded in state.json is gone from Rancher; creating it again")
	}
	if cl == nil {
		var err error
		if cl, origin, err = f.create(ctx, name); err != nil {
			return err
		}
	}
	if origin == "adopted" && !rancher.OwnedBy(cl.Labels, "") {
		return fmt.Errorf("cluster %q (%s): %w", name, cl.ID, errNotOwned)
	}
	if origin == "adopted" && !(hasRec && rec.ClusterID == cl.ID) {
		m.log.WithField("id", cl.ID).Info("adopted the cluster of that name found in Rancher")
	}
	token := ""
	if origin == "reused" || hasRec && rec.ClusterID == cl.ID {
		token = rec.Token // a stale one is refused and re-read (reread)
	}
	first := !hasRec || rec.ClusterID != cl.ID
	f.state.update(name, func(r *ClusterRecord) {
		if first {
			*r = ClusterRecord{Registered: time.Now().UTC().Truncate(time.Second), Origin: "created"}
			if origin == "adopted" {
				r.Origin = "adopted"
			}
		}
		r.RancherURL, r.Embedded, r.ClusterID = f.target.url, f.target.embedded, cl.ID
		r.Provisioning = provisioningKey(cl)
		r.Address, r.ServiceAccountToken = m.cluster.Address(), m.saToken
		if token == "" {
			r.Token = ""
		}
	})
	m.mu.Lock()
	m.id, m.origin = cl.ID, origin
	m.mu.Unlock()
	if token == "" {
		tctx, cancel := context.WithTimeout(ctx, tokenWaitTimeout)
		defer cancel()
		tok, err := f.target.client.WaitForRegistrationToken(tctx, cl.ID, rancher.TokenWaitOptions{CreateAfter: time.Minute})
		if err != nil {
			return fmt.Errorf("registration token of %s: %w", cl.ID, err)
		}
		token = tok.Token
		f.state.update(name, func(r *ClusterRecord) { r.Token = token })
	}
	m.mu.Lock()
	m.token = token
	m.mu.Unlock()
	m.log.WithFields(map[string]any{"id": cl.ID, "origin": origin}).Debug("registered in Rancher")
	f.startAgent(ctx, m, token)
	return nil
}

// create creates the cluster with the owner labels. If the name is taken meanwhile (another
// process, or a list older than the cluster), the cluster of that name is adopted instead.
func (f *Fleet) create(ctx context.Context, name string) (*rancher.Cluster, string, error) {
	labels, err := rancher.OwnerLabels(f.state.runID())
	if err != nil {
		return nil, "", err
	}
	api := f.tunnelCfg.API
	cl, err := f.target.client.CreateCluster(ctx, rancher.ClusterSpec{
		Name: name, Labels: labels, Description: "simulated by scale-cluster-agent", API: api,
	})
	if err == nil {
		return cl, "created", nil
	}
	if !rancher.IsNotUnique(err) {
		return nil, "", err
	}
	if api == rancher.APIv1 {
		// The provisioning cluster exists: its management cluster may not yet, so the
		// lookup by display name below could miss it.
		if found, perr := f.adoptProvisioning(ctx, name); perr == nil {
			return found, "adopted", nil
		}
	}
	found, ferr := f.target.client.FindClusterByName(ctx, name)
	if ferr != nil {
		return nil, "", fmt.Errorf("%w; and then: %w", err, ferr)
	}
	return found, "adopted", nil
}

// adoptProvisioning returns the management cluster of the provisioning cluster of that
// name in fleet-default, waiting for Rancher to make it.
func (f *Fleet) adoptProvisioning(ctx context.Context, name string) (*rancher.Cluster, error) {
	c := f.target.client
	if _, err := c.GetProvisioningCluster(ctx, rancher.DefaultNamespace, name); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, tokenWaitTimeout)
	defer cancel()
	id, err := c.WaitForManagementCluster(wctx, rancher.DefaultNamespace, name, rancher.WaitOptions{})
	if err != nil {
		return nil, fmt.Errorf("adopt provisioning cluster %s/%s: %w", rancher.DefaultNamespace, name, err)
	}
	return c.GetCluster(ctx, id)
}

// provisioningKey is "<namespace>/<name>" of the provisioning cluster owning cl (a cluster
// created through the v1 route), "" otherwise.
func provisioningKey(cl *rancher.Cluster) string {
	if ns, name, ok := rancher.ProvisioningOwner(cl); ok {
		return ns + "/" + name
	}
	return ""
}
