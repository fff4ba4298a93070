package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// CleanConfig says what `clean` deletes from where.
type CleanConfig struct {
	// StateDir is the state directory whose clusters are deleted.
	StateDir string
	// Rancher is where they are; nil means the embedded endpoint, which kept nothing.
	Rancher *RancherConfig
	// Rate paces the deletions (per second; <= 0: no pacing); Concurrency bounds them
	// (default 4).
	Rate        float64
	Concurrency int
	// DryRun lists what would be deleted and deletes nothing.
	DryRun bool
	Log    *logrus.Entry
}

// CleanResult says what Clean did.
type CleanResult struct {
	// RancherURL is the Rancher that was cleaned ("" without one).
	RancherURL string
	RunID      string
	// Deleted are the clusters deleted (or, with DryRun, to delete), as "name (id)".
	Deleted []string
	// Forgotten are records of clusters that were already gone from Rancher.
	Forgotten []string
	// Kept are recorded clusters left alone because they no longer carry the tool's label.
	Kept []string
	// Elsewhere counts recorded clusters registered with another Rancher (or the embedded
	// endpoint) than this one.
	Elsewhere map[string]int
}

// Clean deletes from Rancher the clusters the state directory created: those that carry
// the tool's managed-by label and either this state directory's run label or an id that
// state.json records. Nothing without the managed-by label is ever deleted. It is
// idempotent: deleted clusters leave state.json, and a cluster already gone counts as done.
func Clean(ctx context.Context, cfg CleanConfig) (*CleanResult, error) {
	if cfg.Log == nil {
		cfg.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	log := cfg.Log
	store, err := openStateStore(cfg.StateDir, log)
	if err != nil {
		return nil, err
	}
	res := &CleanResult{RunID: store.runID(), Elsewhere: map[string]int{}}
	if cfg.Rancher == nil {
		for _, name := range store.names() {
			r, _ := store.get(name)
			res.Elsewhere[where(r)]++
		}
		return res, nil
	}
	f := &Fleet{log: log, state: store}
	t, err := f.rancherTarget(ctx, cfg.Rancher)
	if err != nil {
		return nil, err
	}
	defer t.client.Close()
	defer func() { _ = t.client.Logout(context.WithoutCancel(ctx)) }()
	res.RancherURL = t.url
	all, err := t.client.ListClusters(ctx)
	if err != nil {
		return nil, fmt.Errorf("rancher at %s: %w", t.url, err)
	}
	recorded := map[string]string{} // id → name, of this Rancher's records
	provOf := map[string]string{}   // id → provisioning cluster, as recorded
	for _, name := range store.names() {
		r, _ := store.get(name)
		if t.matches(r) {
			recorded[r.ClusterID] = name
			provOf[r.ClusterID] = r.Provisioning
		} else {
			res.Elsewhere[where(r)]++
		}
	}
	var victims []victim
	inRancher := map[string]bool{}
	for i, c := range all {
		inRancher[c.ID] = true
		_, ours := recorded[c.ID]
		switch {
		case !rancher.OwnedBy(c.Labels, ""):
			if ours {
				res.Kept = append(res.Kept, fmt.Sprintf("%s (%s)", c.Name, c.ID))
			}
		case ours || c.Labels[rancher.LabelRun] == res.RunID:
			v := victim{name: c.Name, id: c.ID, provisioning: provOf[c.ID]}
			if v.provisioning == "" {
				v.provisioning = provisioningKey(&all[i])
			}
			victims = append(victims, v)
		}
	}
	orphans, err := provisioningOrphans(ctx, t.client, res.RunID, inRancher)
	if err != nil {
		// Only clusters whose management cluster never came are missed: say so, go on.
		log.WithError(err).Warn("could not list the run's provisioning clusters; those without a management cluster are left")
	}
	victims = append(victims, orphans...)
	for id, name := range recorded {
		if !inRancher[id] {
			res.Forgotten = append(res.Forgotten, fmt.Sprintf("%s (%s)", name, id))
			if !cfg.DryRun {
				store.remove(name)
			}
		}
	}
	sort.Slice(victims, func(i, j int) bool { return victims[i].name < victims[j].name })
	if cfg.DryRun {
		for _, v := range victims {
			res.Deleted = append(res.Deleted, v.String())
		}
		return res, nil
	}
	err = deleteClusters(ctx, cfg, t.client, victims, func(v victim) {
		name := recorded[v.id]
		if name == "" {
			name = v.name
		}
		if r, ok := store.get(name); ok && r.ClusterID == v.id {
			store.remove(name)
		}
	}, res)
	sort.Strings(res.Deleted)
	sort.Strings(res.Forgotten)
	return res, errors.Join(err, store.flush())
}

// deleteClusters deletes victims, paced, calling done for each one deleted (or gone).
func deleteClusters(ctx context.Context, cfg CleanConfig, c *rancher.Client, victims []victim, done func(victim), res *CleanResult) error {
	conc := cfg.Concurrency
	if conc <= 0 {
		conc = 4
	}
	var limiter *rate.Limiter
	if cfg.Rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, conc)
	for _, v := range victims {
		if limiter != nil {
			if err := limiter.Wait(ctx); err != nil {
				break
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := v.delete(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", v.name, err))
				return
			}
			l := cfg.Log.WithField("cluster", v.name).WithField("id", v.id)
			if v.provisioning != "" {
				l = l.WithField("provisioning", v.provisioning)
			}
			l.Info("deleted from Rancher")
			res.Deleted = append(res.Deleted, v.String())
			done(v)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// where names the Rancher a record belongs to.
func where(r ClusterRecord) string {
	if r.Embedded {
		return "the embedded endpoint"
	}
	return r.RancherURL
}

// victim is a cluster clean deletes, and how: a cluster created through the v1 route goes
// with its provisioning cluster, which owns the management cluster (deleting only the
// latter would leave the owner to make it again).
type victim struct {
	name string // display name
	id   string // management cluster id; "" for a provisioning cluster that never got one
	// provisioning is "<namespace>/<name>" of the owning provisioning cluster, "" for v3.
	provisioning string
}

func (v victim) String() string {
	if v.id == "" {
		return fmt.Sprintf("%s (%s)", v.name, v.provisioning)
	}
	return fmt.Sprintf("%s (%s)", v.name, v.id)
}

func (v victim) delete(ctx context.Context, c *rancher.Client) error {
	if ns, name, ok := strings.Cut(v.provisioning, "/"); ok {
		return c.DeleteProvisioningCluster(ctx, ns, name)
	}
	return c.DeleteCluster(ctx, v.id)
}

// provisioningOrphans are the run's provisioning clusters (v1 route) whose management
// cluster Rancher does not list: a run stopped between the create and status.clusterName,
// so neither state.json nor the management clusters know them.
func provisioningOrphans(ctx context.Context, c *rancher.Client, run string, inRancher map[string]bool) ([]victim, error) {
	all, err := c.ListProvisioningClusters(ctx, "", rancher.LabelRun+"="+run)
	if err != nil {
		return nil, err
	}
	var out []victim
	for _, p := range all {
		if !rancher.OwnedBy(p.Metadata.Labels, run) || !p.Metadata.DeletionTimestamp.IsZero() {
			continue
		}
		if id := p.Status.ClusterName; id == "" || !inRancher[id] {
			out = append(out, victim{name: p.Metadata.Name, provisioning: p.Metadata.Namespace + "/" + p.Metadata.Name})
		}
	}
	return out, nil
}
