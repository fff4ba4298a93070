package rancher

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// API selects the route through which CreateCluster registers a cluster.
type API string

const (
	// APIv3 is norman's POST /v3/clusters (Rancher 2.6 to 2.15). The management id is c-xxxxx
	// and the cluster is deleted with DeleteCluster.
	APIv3 API = "v3"
	// APIv1 is steve's POST /v1/provisioning.cattle.io.clusters, what the UI's "Import
	// Existing" does. Rancher then makes management cluster c-m-xxxxxxxx; the provisioning
	// cluster owns it, so delete with DeleteProvisioningCluster.
	APIv1 API = "v1"
)

// DefaultNamespace is the namespace of provisioning clusters the v1 route creates.
const DefaultNamespace = "fleet-default"

// ClusterSpec is an imported cluster to create.
type ClusterSpec struct {
	// Name is the cluster's name in Rancher, unique case-insensitively. For APIv1 it is the
	// provisioning cluster's object name, so it must be a DNS label.
	Name        string
	Description string
	// Labels go on the cluster (OwnerLabels marks it as this tool's); APIv1 sets them on
	// the provisioning cluster.
	Labels      map[string]string
	Annotations map[string]string
	// API is the route; default APIv3.
	API API
	// Namespace of the provisioning cluster, APIv1 only; default DefaultNamespace.
	Namespace string
}

// createClusterRequest is norman's cluster create body.
type createClusterRequest struct {
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// CreateCluster creates an imported cluster and returns the management cluster as v3 shows
// it. No importedConfig is needed: the driver stays "" until the agent first connects.
//
// Through APIv1 it waits (polling every Config.PollInterval, bounded by ctx) until Rancher
// has made the management cluster, then GETs it.
//
// A name already in use fails with an error for which IsNotUnique is true. One case is
// resolved here: when an earlier attempt of this same call failed without an answer (or
// with a 5xx) and the retry then hit NotUnique, the first attempt most likely created the
// cluster; if spec.Labels is not empty and a cluster of that name carries all of them, it is
// returned as created.
func (c *Client) CreateCluster(ctx context.Context, spec ClusterSpec) (*Cluster, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("create cluster: no name")
	}
	switch spec.API {
	case "", APIv3:
		return c.createV3(ctx, spec)
	case APIv1:
		return c.createV1(ctx, spec)
	}
	return nil, fmt.Errorf("create cluster %q: unknown API %q (want %q or %q)", spec.Name, spec.API, APIv3, APIv1)
}

func (c *Client) createV3(ctx context.Context, spec ClusterSpec) (*Cluster, error) {
	r := &request{method: http.MethodPost, path: "/v3/clusters", body: createClusterRequest{
		Type:        "cluster",
		Name:        spec.Name,
		Description: spec.Description,
		Labels:      spec.Labels,
		Annotations: spec.Annotations,
	}}
	var out Cluster
	err := c.do(ctx, r, &out)
	if err == nil {
		if out.ID == "" {
			return nil, fmt.Errorf("create cluster %q: Rancher's answer has no id", spec.Name)
		}
		return &out, nil
	}
	if IsNotUnique(err) && r.attempts > 1 && len(spec.Labels) > 0 {
		if got, ferr := c.FindClusterByName(ctx, spec.Name); ferr == nil && got.HasLabels(spec.Labels) {
			c.log.WithField("cluster", spec.Name).WithField("id", got.ID).
				Info("create was retried after an unanswered attempt; the cluster that attempt made is used")
			return got, nil
		}
	}
	return nil, fmt.Errorf("create cluster %q: %w", spec.Name, err)
}

// GetCluster reads one management cluster: GET /v3/clusters/<id>.
func (c *Client) GetCluster(ctx context.Context, id string) (*Cluster, error) {
	if id == "" {
		return nil, fmt.Errorf("get cluster: no id")
	}
	var out Cluster
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/v3/clusters/" + url.PathEscape(id)}, &out); err != nil {
		return nil, fmt.Errorf("get cluster %s: %w", id, err)
	}
	return &out, nil
}

// ListClusters reads every management cluster ("local" included) with GET
// /v3/clusters?limit=-1, following pagination links should Rancher still page.
func (c *Client) ListClusters(ctx context.Context) ([]Cluster, error) {
	out, err := list[Cluster](ctx, c, "/v3/clusters", url.Values{"limit": {"-1"}})
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	return out, nil
}

// FindClusterByName returns the cluster named name, compared case-insensitively as Rancher
// does for uniqueness. It asks Rancher to filter by name and checks the answer itself.
// Nothing found is an error for which IsNotFound is true.
func (c *Client) FindClusterByName(ctx context.Context, name string) (*Cluster, error) {
	all, err := list[Cluster](ctx, c, "/v3/clusters", url.Values{"name": {name}, "limit": {"-1"}})
	if err != nil {
		return nil, fmt.Errorf("find cluster %q: %w", name, err)
	}
	var found []Cluster
	for _, cl := range all {
		if strings.EqualFold(cl.Name, name) && cl.Removed.IsZero() {
			found = append(found, cl)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("find cluster %q: %w", name, ErrNotFound)
	case 1:
		return &found[0], nil
	}
	ids := make([]string, len(found))
	for i, cl := range found {
		ids[i] = cl.ID
	}
	return nil, fmt.Errorf("find cluster %q: %d clusters have that name: %s", name, len(found), strings.Join(ids, ", "))
}

// DeleteCluster deletes a management cluster: DELETE /v3/clusters/<id>. A cluster that is
// already gone is success, so clean-up can be repeated. Rancher removes the cluster
// asynchronously (state removing, then 404).
func (c *Client) DeleteCluster(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("delete cluster: no id")
	}
	err := c.do(ctx, &request{method: http.MethodDelete, path: "/v3/clusters/" + url.PathEscape(id)}, nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete cluster %s: %w", id, err)
	}
	return nil
}

// WaitForCluster polls GET /v3/clusters/<id> until done reports true for it (nil done:
// until IsActive), and returns that view. It ends early on errors that retrying does not
// cure, e.g. a 404 because the cluster was deleted.
func (c *Client) WaitForCluster(ctx context.Context, id string, opts WaitOptions, done func(*Cluster) bool) (*Cluster, error) {
	if done == nil {
		done = (*Cluster).IsActive
	}
	var last *Cluster
	err := c.pollUntil(ctx, opts.Interval, "cluster "+id, func(ctx context.Context) (bool, error) {
		cl, err := c.GetCluster(ctx, id)
		if err != nil {
			return false, err
		}
		last = cl
		return done(cl), nil
	})
	if err != nil {
		if last != nil {
			seen := last.Blocker()
			if seen == "" {
				seen = last.State
			}
			return last, fmt.Errorf("%w (last seen %s)", err, seen)
		}
		return nil, err
	}
	return last, nil
}
