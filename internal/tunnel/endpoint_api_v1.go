package tunnel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// The v1 (steve) route of creating an imported cluster, what Rancher's UI does
// (rancher-agent-protocol.md §5.3, recorded v1prov.json):
//
//	POST           /v1/provisioning.cattle.io.clusters
//	GET            /v1/provisioning.cattle.io.clusters[/<namespace>]   (?labelSelector=)
//	GET/DELETE     /v1/provisioning.cattle.io.clusters/<namespace>/<name>
//
// A provisioning cluster gets its management cluster (c-m-xxxxxxxx, display name = the
// provisioning cluster's name, spec.importedConfig, the provisioning cluster's labels and
// annotations) provisioningDelay after the create, as Rancher's controller makes it
// asynchronously; status.clusterName then names it. Deleting the provisioning cluster deletes
// its management cluster. Only clusters created through this route are listed: the
// provisioning objects Rancher keeps for v3-created clusters and "local" are left out.

// provisioningPath is steve's collection of provisioning clusters.
const provisioningPath = "/v1/provisioning.cattle.io.clusters"

// provisioningDelay is how long a new provisioning cluster waits for its management cluster.
const provisioningDelay = 200 * time.Millisecond

// Annotations Rancher puts on the management cluster of a provisioning cluster.
const (
	annAdministrated = "provisioning.cattle.io/administrated"
	annOwnerGVK      = "objectset.rio.cattle.io/owner-gvk"
	annOwnerName     = "objectset.rio.cattle.io/owner-name"
	annOwnerNS       = "objectset.rio.cattle.io/owner-namespace"
	provisioningGVK  = "provisioning.cattle.io/v1, Kind=Cluster"
)

// provisioningClusters are the provisioning clusters of the API (guarded by rancherAPI.mu).
type provisioningClusters struct {
	byKey     map[string]*apiProvisioning // by "<namespace>/<name>"
	byCluster map[string]*apiProvisioning // by management cluster id
}

// apiProvisioning is a provisioning cluster created through the v1 route.
type apiProvisioning struct {
	namespace, name     string
	labels, annotations map[string]string
	uid                 string
	created             time.Time
	clusterID           string    // status.clusterName, once the management cluster exists
	readySince          time.Time // status.ready: set at the first Connected, never cleared
	deleted             bool
}

func (p *apiProvisioning) key() string { return p.namespace + "/" + p.name }

func (a *rancherAPI) provLocked() *provisioningClusters {
	if a.prov.byKey == nil {
		a.prov.byKey = map[string]*apiProvisioning{}
		a.prov.byCluster = map[string]*apiProvisioning{}
	}
	return &a.prov
}

// serveRancherAPIv1 adds the provisioning routes to the endpoint's mux.
func (e *Endpoint) serveRancherAPIv1(mux *http.ServeMux) {
	mux.HandleFunc(provisioningPath, e.authenticated(e.serveProvisioningClusters))
	mux.HandleFunc(provisioningPath+"/{ns}", e.authenticated(e.serveProvisioningClusters))
	mux.HandleFunc(provisioningPath+"/{ns}/{name}", e.authenticated(e.serveProvisioningCluster))
}

// steveError is steve's error document.
func steveError(status int, code, msg string) map[string]any {
	return map[string]any{"type": "error", "links": map[string]any{}, "code": code, "message": msg, "status": status}
}

func (e *Endpoint) serveProvisioningClusters(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet:
		e.listProvisioningClusters(w, r, r.PathValue("ns"))
	case r.Method == http.MethodPost && r.PathValue("ns") == "":
		e.createProvisioningCluster(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

// createProvisioningBody is steve's create body, as far as the endpoint reads it.
type createProvisioningBody struct {
	Type     string `json:"type"`
	Metadata struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

func (e *Endpoint) createProvisioningCluster(w http.ResponseWriter, r *http.Request) {
	var in createProvisioningBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody)).Decode(&in); err != nil {
		writeAPIJSON(w, http.StatusBadRequest, steveError(http.StatusBadRequest, "BadRequest", err.Error()))
		return
	}
	md := in.Metadata
	if md.Namespace == "" {
		writeAPIJSON(w, http.StatusUnprocessableEntity, steveError(http.StatusUnprocessableEntity, "InvalidBodyContent", "metadata.namespace is required"))
		return
	}
	// Rancher's webhook wants a DNS label: the name becomes labels and hostnames.
	if errs := validation.IsDNS1123Label(md.Name); len(errs) > 0 {
		msg := fmt.Sprintf("Cluster.provisioning.cattle.io %q is invalid: metadata.name: %s", md.Name, strings.Join(errs, "; "))
		writeAPIJSON(w, http.StatusUnprocessableEntity, steveError(http.StatusUnprocessableEntity, "Invalid", msg))
		return
	}
	a := &e.api
	a.mu.Lock()
	a.ensureLocked()
	pc := a.provLocked()
	key := md.Namespace + "/" + md.Name
	// The endpoint keys clusters by display name, so a management cluster of that name (one
	// created through v3) makes the name taken too.
	if pc.byKey[key] != nil || a.byName[strings.ToLower(md.Name)] != nil || md.Name == localClusterID {
		a.mu.Unlock()
		writeAPIJSON(w, http.StatusConflict, steveError(http.StatusConflict, "AlreadyExists", fmt.Sprintf("clusters.provisioning.cattle.io %q already exists", md.Name)))
		return
	}
	p := &apiProvisioning{
		namespace: md.Namespace, name: md.Name, labels: md.Labels, annotations: md.Annotations,
		uid: uuid.NewString(), created: time.Now().UTC().Truncate(time.Second),
	}
	pc.byKey[key] = p
	snap := *p
	a.mu.Unlock()
	time.AfterFunc(provisioningDelay, func() { e.makeManagementCluster(p) })
	e.log.WithField("cluster", md.Name).WithField("namespace", md.Namespace).Debug("provisioning cluster created through the API")
	writeAPIJSON(w, http.StatusCreated, e.provisioningJSON(serverURL(r), &snap))
}

// makeManagementCluster is Rancher's provisioning controller for an imported cluster: it
// creates the management cluster and its default-token, and fills status.clusterName.
func (e *Endpoint) makeManagementCluster(p *apiProvisioning) {
	if e.ctx.Err() != nil {
		return
	}
	a := &e.api
	a.mu.Lock()
	if p.deleted || p.clusterID != "" {
		a.mu.Unlock()
		return
	}
	if a.byName[strings.ToLower(p.name)] != nil {
		// A v3 create took the name meanwhile; Rancher would make a second cluster of that
		// display name, which the endpoint cannot key. Left pending.
		a.mu.Unlock()
		e.log.WithField("cluster", p.name).Warn("provisioning cluster left pending: a management cluster of that name exists")
		return
	}
	id := managementClusterID(p.namespace, p.name)
	for a.byID[id] != nil {
		id = "c-m-" + randomString("0123456789abcdef", 8)
	}
	annotations := map[string]string{}
	for k, v := range p.annotations {
		annotations[k] = v
	}
	annotations[annAdministrated] = "false"
	annotations[annOwnerGVK], annotations[annOwnerName], annotations[annOwnerNS] = provisioningGVK, p.name, p.namespace
	now := time.Now()
	token := newRegistrationToken()
	c := &apiCluster{
		id: id, name: p.name, description: p.annotations["field.cattle.io/description"],
		labels: p.labels, annotations: annotations, importedConfig: true,
		uid: uuid.NewString(), created: now.UTC().Truncate(time.Second),
		tokens: []*apiToken{{
			name: rancher.DefaultTokenName, value: token, uid: uuid.NewString(),
			created: now.UTC().Truncate(time.Second), rotated: now, filledAt: now.Add(a.opts.TokenDelay),
		}},
	}
	a.byID[id], a.byName[strings.ToLower(p.name)] = c, c
	p.clusterID = id
	a.provLocked().byCluster[id] = p
	a.mu.Unlock()
	e.RegisterWithToken(p.name, token)
	e.log.WithField("cluster", p.name).WithField("id", id).Debug("management cluster of the provisioning cluster created")
}

// managementClusterID is Rancher's name for a provisioning cluster's management cluster:
// c-m- and 8 hex characters of sha256("<namespace>/<name>").
func managementClusterID(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	return "c-m-" + hex.EncodeToString(sum[:])[:8]
}

// restoreProvisioningLocked gives a restored management cluster its provisioning cluster.
func (a *rancherAPI) restoreProvisioningLocked(c *apiCluster, namespace string) {
	c.importedConfig = true
	p := &apiProvisioning{
		namespace: namespace, name: c.name, labels: c.labels, uid: uuid.NewString(),
		created: c.created, clusterID: c.id,
	}
	pc := a.provLocked()
	pc.byKey[p.key()], pc.byCluster[c.id] = p, p
}

// provisioningNamespaceLocked is the namespace of the provisioning cluster owning the
// management cluster id, "" for a cluster created through v3.
func (a *rancherAPI) provisioningNamespaceLocked(id string) string {
	if p := a.provLocked().byCluster[id]; p != nil {
		return p.namespace
	}
	return ""
}

func (e *Endpoint) serveProvisioningCluster(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("ns") + "/" + r.PathValue("name")
	a := &e.api
	a.mu.Lock()
	pc := a.provLocked()
	p := pc.byKey[key]
	var snap apiProvisioning
	if p != nil {
		snap = *p
	}
	var mgmt *apiCluster
	if p != nil && r.Method == http.MethodDelete {
		delete(pc.byKey, key)
		p.deleted = true
		if p.clusterID != "" {
			delete(pc.byCluster, p.clusterID)
			if c := a.byID[p.clusterID]; c != nil {
				mgmt = c
				delete(a.byID, c.id)
				delete(a.byName, strings.ToLower(c.name))
			}
		}
	}
	a.mu.Unlock()
	if p == nil {
		writeAPIJSON(w, http.StatusNotFound, steveError(http.StatusNotFound, "NotFound", fmt.Sprintf("clusters.provisioning.cattle.io %q not found", r.PathValue("name"))))
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeAPIJSON(w, http.StatusOK, e.provisioningJSON(serverURL(r), &snap))
	case http.MethodDelete:
		out := e.provisioningJSON(serverURL(r), &snap)
		md := out["metadata"].(map[string]any)
		md["deletionTimestamp"] = time.Now().UTC().Format(time.RFC3339)
		md["state"] = map[string]any{"error": false, "message": "", "name": "removing", "transitioning": true}
		if mgmt != nil {
			e.unregister(mgmt.name)
		}
		e.log.WithField("cluster", snap.name).WithField("id", snap.clusterID).Info("provisioning cluster deleted through the API")
		writeAPIJSON(w, http.StatusOK, out)
	default:
		methodNotAllowed(w, "GET, DELETE")
	}
}

func (e *Endpoint) listProvisioningClusters(w http.ResponseWriter, r *http.Request, ns string) {
	sel := labels.Everything()
	if s := r.URL.Query().Get("labelSelector"); s != "" {
		var err error
		if sel, err = labels.Parse(s); err != nil {
			writeAPIJSON(w, http.StatusBadRequest, steveError(http.StatusBadRequest, "BadRequest", "labelSelector: "+err.Error()))
			return
		}
	}
	a := &e.api
	a.mu.Lock()
	var snaps []apiProvisioning
	for _, p := range a.provLocked().byKey {
		if (ns == "" || p.namespace == ns) && sel.Matches(labels.Set(p.labels)) {
			snaps = append(snaps, *p)
		}
	}
	a.mu.Unlock()
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].key() < snaps[j].key() })
	base := serverURL(r)
	data := make([]any, 0, len(snaps))
	for i := range snaps {
		data = append(data, e.provisioningJSON(base, &snaps[i]))
	}
	self := base + provisioningPath
	if ns != "" {
		self += "/" + url.PathEscape(ns)
	}
	writeAPIJSON(w, http.StatusOK, map[string]any{
		"type": "collection", "links": map[string]string{"self": self},
		"createTypes":  map[string]string{"provisioning.cattle.io.cluster": base + provisioningPath},
		"actions":      map[string]any{},
		"resourceType": "provisioning.cattle.io.cluster", "revision": fmt.Sprint(time.Now().UnixNano()),
		"count": len(data), "data": data,
	})
}

// provisioningJSON is a provisioning cluster as steve shows it (recorded v1prov.json).
// status.ready turns true at the management cluster's first Connected and stays; then
// metadata.state is active (controller.go updateStatus, §3.1).
func (e *Endpoint) provisioningJSON(base string, p *apiProvisioning) map[string]any {
	key := p.key()
	self := base + provisioningPath + "/" + key
	labelsOut := map[string]string{}
	for k, v := range p.labels {
		labelsOut[k] = v
	}
	annotations := map[string]string{}
	for k, v := range p.annotations {
		annotations[k] = v
	}
	state := map[string]any{"error": false, "message": "", "name": "pending", "transitioning": true}
	status := map[string]any{"ready": false}
	if p.clusterID != "" {
		ready := e.provisioningReady(p)
		updated := p.created.Format(time.RFC3339)
		status = map[string]any{
			"clientSecretName": p.name + "-kubeconfig", "clusterName": p.clusterID, "observedGeneration": 1, "ready": ready,
			"conditions": []map[string]any{
				{"error": false, "lastUpdateTime": updated, "status": "False", "transitioning": false, "type": "Reconciling"},
				{"error": false, "lastUpdateTime": updated, "status": "False", "transitioning": false, "type": "Stalled"},
				{"error": false, "lastUpdateTime": updated, "status": "True", "transitioning": false, "type": "Created"},
			},
		}
		if ready {
			state = map[string]any{"error": false, "message": "Resource is current", "name": "active", "transitioning": false}
		} else {
			msg := "waiting for cluster agent to connect"
			if st, ok := e.ClusterState(p.name); ok && st.TransitioningMessage != "" {
				msg = st.TransitioningMessage
			}
			state = map[string]any{"error": false, "message": msg, "name": "waiting", "transitioning": true}
		}
	}
	return map[string]any{
		"id": key, "type": "provisioning.cattle.io.cluster", "_id": key,
		"links": map[string]string{
			"patch": self, "remove": self, "self": self, "update": self,
			"view": base + "/apis/provisioning.cattle.io/v1/namespaces/" + p.namespace + "/clusters/" + p.name,
		},
		"apiVersion": "provisioning.cattle.io/v1", "kind": "Cluster",
		"metadata": map[string]any{
			"annotations": annotations, "labels": labelsOut,
			"creationTimestamp": p.created.Format(time.RFC3339),
			"fields":            []any{p.name, nil, p.clusterID, p.created.Format(time.RFC3339), p.name + "-kubeconfig", fmt.Sprint(status["ready"])},
			"finalizers":        []string{"wrangler.cattle.io/cloud-config-secret-remover", "auth.cattle.io/capi-resources-cleanup"},
			"generation":        1, "name": p.name, "namespace": p.namespace,
			"resourceVersion": "1", "state": state, "uid": p.uid,
		},
		"spec":   map[string]any{"localClusterAuthEndpoint": map[string]any{}},
		"status": status,
	}
}

// provisioningReady is status.ready: true once the management cluster has been Connected.
func (e *Endpoint) provisioningReady(p *apiProvisioning) bool {
	if !p.readySince.IsZero() {
		return true
	}
	st, ok := e.ClusterState(p.name)
	if !ok || !st.Connected {
		return false
	}
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	if cur := a.provLocked().byKey[p.key()]; cur != nil && cur.readySince.IsZero() {
		cur.readySince = time.Now()
	}
	return true
}
