package rancher

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

const provisioningPath = "/v1/provisioning.cattle.io.clusters"

// createProvisioningRequest is steve's create body for a provisioning cluster. An empty spec
// is an imported ("generic") cluster.
type createProvisioningRequest struct {
	Type     string         `json:"type"`
	Metadata createMetadata `json:"metadata"`
	Spec     struct{}       `json:"spec"`
}

type createMetadata struct {
	Namespace   string            `json:"namespace"`
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// descriptionAnnotation is where the UI keeps a provisioning cluster's description.
const descriptionAnnotation = "field.cattle.io/description"

func (c *Client) createV1(ctx context.Context, spec ClusterSpec) (*Cluster, error) {
	ns := spec.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	ann := spec.Annotations
	if spec.Description != "" {
		ann = make(map[string]string, len(spec.Annotations)+1)
		for k, v := range spec.Annotations {
			ann[k] = v
		}
		ann[descriptionAnnotation] = spec.Description
	}
	r := &request{method: http.MethodPost, path: provisioningPath, body: createProvisioningRequest{
		Type:     "provisioning.cattle.io.cluster",
		Metadata: createMetadata{Namespace: ns, Name: spec.Name, Labels: spec.Labels, Annotations: ann},
	}}
	var created ProvisioningCluster
	err := c.do(ctx, r, &created)
	if err != nil {
		adopted := false
		if IsNotUnique(err) && r.attempts > 1 && len(spec.Labels) > 0 {
			got, gerr := c.GetProvisioningCluster(ctx, ns, spec.Name)
			if gerr == nil && hasLabels(got.Metadata.Labels, spec.Labels) {
				c.log.WithField("cluster", ns+"/"+spec.Name).
					Info("create was retried after an unanswered attempt; the cluster that attempt made is used")
				adopted = true
			}
		}
		if !adopted {
			return nil, fmt.Errorf("create cluster %s/%s: %w", ns, spec.Name, err)
		}
	}
	id := created.Status.ClusterName // empty in the create answer, as a rule
	if id == "" {
		if id, err = c.WaitForManagementCluster(ctx, ns, spec.Name, WaitOptions{}); err != nil {
			return nil, fmt.Errorf("create cluster %s/%s: %w", ns, spec.Name, err)
		}
	}
	cl, err := c.GetCluster(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("create cluster %s/%s: %w", ns, spec.Name, err)
	}
	return cl, nil
}

// GetProvisioningCluster reads GET /v1/provisioning.cattle.io.clusters/<namespace>/<name>.
func (c *Client) GetProvisioningCluster(ctx context.Context, namespace, name string) (*ProvisioningCluster, error) {
	var out ProvisioningCluster
	err := c.do(ctx, &request{method: http.MethodGet, path: provisioningPath + "/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)}, &out)
	if err != nil {
		return nil, fmt.Errorf("get provisioning cluster %s/%s: %w", namespace, name, err)
	}
	return &out, nil
}

// ListProvisioningClusters lists the provisioning clusters of namespace ("" for all) that
// match labelSelector ("" for all), e.g. LabelRun+"=<run>" to find what a run created
// through APIv1.
func (c *Client) ListProvisioningClusters(ctx context.Context, namespace, labelSelector string) ([]ProvisioningCluster, error) {
	path := provisioningPath
	if namespace != "" {
		path += "/" + url.PathEscape(namespace)
	}
	q := url.Values{}
	if labelSelector != "" {
		q.Set("labelSelector", labelSelector)
	}
	out, err := list[ProvisioningCluster](ctx, c, path, q)
	if err != nil {
		return nil, fmt.Errorf("list provisioning clusters: %w", err)
	}
	return out, nil
}

// WaitForManagementCluster polls a provisioning cluster until Rancher has made its
// management cluster, and returns that cluster's id (status.clusterName).
func (c *Client) WaitForManagementCluster(ctx context.Context, namespace, name string, opts WaitOptions) (string, error) {
	var id string
	err := c.pollUntil(ctx, opts.Interval, "the management cluster of "+namespace+"/"+name, func(ctx context.Context) (bool, error) {
		p, err := c.GetProvisioningCluster(ctx, namespace, name)
		if err != nil {
			return false, err
		}
		id = p.Status.ClusterName
		return id != "", nil
	})
	return id, err
}

// DeleteProvisioningCluster deletes a provisioning cluster, and with it the management
// cluster it owns (clusters created through APIv1). Already gone is success.
func (c *Client) DeleteProvisioningCluster(ctx context.Context, namespace, name string) error {
	err := c.do(ctx, &request{method: http.MethodDelete, path: provisioningPath + "/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)}, nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete provisioning cluster %s/%s: %w", namespace, name, err)
	}
	return nil
}

// Annotations with which Rancher marks the management cluster it made for a provisioning
// cluster (wrangler's apply records the owner of what it creates).
const (
	annotationOwnerGVK       = "objectset.rio.cattle.io/owner-gvk"
	annotationOwnerName      = "objectset.rio.cattle.io/owner-name"
	annotationOwnerNamespace = "objectset.rio.cattle.io/owner-namespace"
	provisioningClusterGVK   = "provisioning.cattle.io/v1, Kind=Cluster"
)

// ProvisioningOwner returns the provisioning cluster that owns a management cluster, i.e.
// one created through APIv1, which must be deleted with DeleteProvisioningCluster. ok is
// false for a cluster created through APIv3 (its provisioning cluster, if any, is owned by
// it, not the other way round).
func ProvisioningOwner(c *Cluster) (namespace, name string, ok bool) {
	if c == nil || c.Annotations[annotationOwnerGVK] != provisioningClusterGVK {
		return "", "", false
	}
	namespace, name = c.Annotations[annotationOwnerNamespace], c.Annotations[annotationOwnerName]
	return namespace, name, namespace != "" && name != ""
}

// ParseAPI reads an API name as a flag gives it: "v3" (or "") or "v1".
func ParseAPI(s string) (API, error) {
	switch API(strings.ToLower(strings.TrimSpace(s))) {
	case "", APIv3:
		return APIv3, nil
	case APIv1:
		return APIv1, nil
	}
	return "", fmt.Errorf("unknown Rancher API %q: want %q (POST /v3/clusters) or %q (POST %s)", s, APIv3, APIv1, provisioningPath)
}
