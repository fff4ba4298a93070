package tunnel

import (
	"container/heap"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// The part of Rancher's API that registering imported clusters uses (rancher-agent-protocol.md
// §5), served by the embedded endpoint with the shapes a real v2.15 returns, so that `run`
// registers its clusters the same way with or without a real Rancher:
//
//	POST/GET       /v3/clusters                      (?name=, ?limit=, ?marker=)
//	GET/DELETE     /v3/clusters/<id>
//	GET/POST       /v3/clusterregistrationtokens     (?clusterId=)
//	GET            /v3/clusterregistrationtokens/<clusterId>:<name>
//	POST           /v3-public/localProviders/local?action=login
//	POST           /v3/tokens?action=logout
//	GET            /v3/import/<token>_<clusterId>.yaml   (no token needed; endpoint_import.go)
//
// and the v1 provisioning routes of endpoint_api_v1.go.
//
// Every /v3 call needs a bearer token: the admin API token generated at start (AdminToken),
// or one a login returned. Clusters are keyed by their display name in the endpoint (tunnel
// client keys, ClusterState); the API maps Rancher's ids (c-xxxxx) onto them.

// APIOptions configure the Rancher API of the endpoint. Call ConfigureAPI before Start.
type APIOptions struct {
	// AdminToken is the API token that authenticates as the admin, "token-xxxxx:<secret>";
	// generated when empty.
	AdminToken string
	// AdminPassword is the local user "admin"'s password for the login call; generated when
	// empty.
	AdminPassword string
	// TokenDelay is how long a new registration token reads empty, as Rancher fills it in
	// asynchronously. Default DefaultTokenDelay; negative means at once.
	TokenDelay time.Duration
	// TokenTTL, if above 0, rotates each default-token that old (Rancher's
	// crt-default-ttl-minutes, 30 days, made short to test rotation).
	TokenTTL time.Duration
	// TokenGrace is how long the previous token is accepted after a rotation (Rancher's grace
	// period, 3 h). When it ends the endpoint also closes the cluster's tunnels, so that an
	// agent still holding the old token meets the rejection at once rather than at its next
	// reconnect, which is when a real Rancher would refuse it.
	TokenGrace time.Duration
}

// DefaultTokenDelay is how long the endpoint's new registration tokens read empty.
const DefaultTokenDelay = 500 * time.Millisecond

// rancherAPI is the API's state. Its zero value is ready: ensure fills in what is missing.
type rancherAPI struct {
	mu     sync.Mutex
	init   bool
	opts   APIOptions
	logins map[string]time.Time   // login token → expiry
	byID   map[string]*apiCluster // by Rancher id
	byName map[string]*apiCluster // by lower-case display name: names are unique case-insensitively
	prov   provisioningClusters   // of the v1 route (endpoint_api_v1.go)
}

// apiCluster is a management cluster the API created.
type apiCluster struct {
	id, name, description string
	labels, annotations   map[string]string
	uid                   string
	created               time.Time
	tokens                []*apiToken
	importedConfig        bool // spec.importedConfig: made for a provisioning cluster (v1 route)
}

// apiToken is a cluster registration token.
type apiToken struct {
	name     string // default-token, crt-xxxxx
	value    string
	uid      string
	created  time.Time
	filledAt time.Time // reads empty before, as Rancher fills the secret in asynchronously
	rotated  time.Time // of the current value
	previous string    // accepted until graceUntil
	grace    time.Time
}

const (
	loginTTL       = 16 * time.Hour      // Rancher's default auth-user-session-ttl-minutes
	defaultCRTTTL  = 30 * 24 * time.Hour // crt-default-ttl-minutes
	crtGracePeriod = 3 * time.Hour       // crt-default-grace-period-minutes
	apiListLimit   = 1000                // norman's default page size
	maxAPIBody     = 1 << 20             // create bodies are tiny
	localClusterID = "local"             // Rancher's own cluster, listed but never touched
	tokenIDChars   = "bcdfghjklmnpqrstvwxz2456789"
	rotationTick   = 250 * time.Millisecond
)

// ConfigureAPI sets the API's options; call it before Start. Without it the endpoint
// generates an admin token and password.
func (e *Endpoint) ConfigureAPI(opts APIOptions) error {
	if opts.AdminToken != "" && !validAPIToken(opts.AdminToken) {
		return errors.New("endpoint API: the admin token must look like token-xxxxx:<secret>")
	}
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opts = opts
	a.init = false
	a.ensureLocked()
	return nil
}

// AdminToken is the API token that authenticates as the admin (Authorization: Bearer).
func (e *Endpoint) AdminToken() string {
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ensureLocked()
	return a.opts.AdminToken
}

// AdminPassword is the password of the local user "admin".
func (e *Endpoint) AdminPassword() string {
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ensureLocked()
	return a.opts.AdminPassword
}

func (a *rancherAPI) ensureLocked() {
	if a.init {
		return
	}
	a.init = true
	if a.opts.AdminToken == "" {
		a.opts.AdminToken = newAPIToken()
	}
	if a.opts.AdminPassword == "" {
		a.opts.AdminPassword = randomString(tokenIDChars, 24)
	}
	if a.opts.TokenDelay == 0 {
		a.opts.TokenDelay = DefaultTokenDelay
	}
	a.opts.TokenDelay = max(a.opts.TokenDelay, 0)
	if a.logins == nil {
		a.logins = map[string]time.Time{}
		a.byID = map[string]*apiCluster{}
		a.byName = map[string]*apiCluster{}
	}
}

// APICluster is a cluster of the endpoint's API, as a restarted endpoint takes it back.
type APICluster struct {
	ID, Name string
	// Token is the default-token's secret: the agent's registration token.
	Token  string
	Labels map[string]string
	// Namespace is the provisioning cluster's (named Name) when the cluster was created
	// through the v1 route; "" for v3.
	Namespace string
}

// RestoreCluster makes the API know a cluster with its id and token again, as a Rancher
// that restarted still knows its clusters (the embedded endpoint keeps nothing on disk).
// It fails if the id or the name is taken by another cluster.
func (e *Endpoint) RestoreCluster(c APICluster) error {
	if c.ID == "" || c.Name == "" || c.Token == "" || c.ID == localClusterID {
		return fmt.Errorf("restore cluster %q (%s): id, name and token are required", c.Name, c.ID)
	}
	a := &e.api
	a.mu.Lock()
	a.ensureLocked()
	if old := a.byID[c.ID]; old != nil {
		a.mu.Unlock()
		if old.name == c.Name {
			return nil
		}
		return fmt.Errorf("restore cluster %q: id %s is cluster %q", c.Name, c.ID, old.name)
	}
	if old := a.byName[strings.ToLower(c.Name)]; old != nil {
		a.mu.Unlock()
		return fmt.Errorf("restore cluster %q (%s): the name is cluster %s", c.Name, c.ID, old.id)
	}
	now := time.Now().UTC().Truncate(time.Second)
	cl := &apiCluster{id: c.ID, name: c.Name, labels: c.Labels, uid: uuid.NewString(), created: now}
	cl.tokens = []*apiToken{{name: rancher.DefaultTokenName, value: c.Token, uid: uuid.NewString(), created: now, filledAt: now, rotated: now}}
	a.byID[c.ID], a.byName[strings.ToLower(c.Name)] = cl, cl
	if c.Namespace != "" {
		a.restoreProvisioningLocked(cl, c.Namespace)
	}
	a.mu.Unlock()
	if got := e.RegisterWithToken(c.Name, c.Token); got != c.Token {
		e.addToken(c.Name, c.Token)
	}
	return nil
}

// APIClusters lists the clusters of the API (for RestoreCluster on a restarted endpoint).
func (e *Endpoint) APIClusters() []APICluster {
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]APICluster, 0, len(a.byID))
	for _, c := range a.byID {
		out = append(out, APICluster{ID: c.id, Name: c.name, Token: c.defaultToken().value, Labels: c.labels, Namespace: a.provisioningNamespaceLocked(c.id)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RotateRegistrationToken gives the cluster's default-token a new secret, as Rancher's TTL
// rotation does, and returns it. The previous secret is accepted for grace more (then the
// cluster's tunnels are closed, see APIOptions.TokenGrace); grace <= 0 ends it at once.
func (e *Endpoint) RotateRegistrationToken(clusterID string, grace time.Duration) (string, error) {
	a := &e.api
	a.mu.Lock()
	c := a.byID[clusterID]
	if c == nil {
		a.mu.Unlock()
		return "", fmt.Errorf("rotate token: no cluster %s", clusterID)
	}
	t := c.defaultToken()
	now := time.Now()
	if t.previous != "" {
		// A rotation within a grace period ends the earlier grace.
		e.dropToken(c.name, t.previous)
	}
	t.previous, t.value, t.rotated, t.filledAt = t.value, newRegistrationToken(), now, now
	t.grace = now.Add(grace)
	name, value := c.name, t.value
	a.mu.Unlock()
	e.addToken(name, value)
	e.log.WithField("cluster", name).WithField("id", clusterID).Info("registration token rotated")
	if grace <= 0 {
		e.expireGrace(now)
	}
	return value, nil
}

// addToken makes token authenticate the named cluster's tunnels and become its current one.
func (e *Endpoint) addToken(name, token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.clusters[name]; c != nil {
		e.tokens[token] = c
		c.token = token
	}
}

// dropToken stops token from authenticating the named cluster.
func (e *Endpoint) dropToken(name, token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.tokens[token]; c != nil && c.name == name {
		delete(e.tokens, token)
	}
}

// expireGrace ends the grace periods that are over: the previous tokens stop working and
// the clusters' tunnels are closed, so that agents holding them reconnect and are refused.
func (e *Endpoint) expireGrace(now time.Time) {
	a := &e.api
	type expired struct{ name, token string }
	var out []expired
	a.mu.Lock()
	for _, c := range a.byID {
		for _, t := range c.tokens {
			if t.previous != "" && !now.Before(t.grace) {
				out = append(out, expired{c.name, t.previous})
				t.previous = ""
			}
		}
	}
	a.mu.Unlock()
	for _, x := range out {
		e.dropToken(x.name, x.token)
		if n := e.CloseSessions(x.name); n > 0 {
			e.log.WithField("cluster", x.name).WithField("sessions", n).Info("grace period of the previous registration token over: tunnels closed")
		}
	}
}

// rotateDue rotates the default-tokens older than the TTL.
func (e *Endpoint) rotateDue(now time.Time) {
	a := &e.api
	a.mu.Lock()
	ttl, grace := a.opts.TokenTTL, a.opts.TokenGrace
	var due []string
	if ttl > 0 {
		for id, c := range a.byID {
			if t := c.defaultToken(); t.previous == "" && now.Sub(t.rotated) >= ttl {
				due = append(due, id)
			}
		}
	}
	a.mu.Unlock()
	for _, id := range due {
		_, _ = e.RotateRegistrationToken(id, grace)
	}
}

// runRotation ticks the TTL rotations and grace periods until the endpoint shuts down.
func (e *Endpoint) runRotation() {
	t := time.NewTicker(rotationTick)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case now := <-t.C:
			e.rotateDue(now)
			e.expireGrace(now)
		}
	}
}

func (c *apiCluster) defaultToken() *apiToken {
	for _, t := range c.tokens {
		if t.name == rancher.DefaultTokenName {
			return t
		}
	}
	return c.tokens[0]
}

// serveRancherAPI adds the API's routes to the endpoint's mux (called by Start).
func (e *Endpoint) serveRancherAPI(mux *http.ServeMux) {
	a := &e.api
	a.mu.Lock()
	a.ensureLocked()
	a.mu.Unlock()
	mux.HandleFunc("/v3/clusters", e.authenticated(e.serveClusters))
	mux.HandleFunc("/v3/clusters/{id}", e.authenticated(e.serveCluster))
	mux.HandleFunc("/v3/clusterregistrationtokens", e.authenticated(e.serveTokens))
	mux.HandleFunc("/v3/clusterregistrationtokens/{id}", e.authenticated(e.serveToken))
	mux.HandleFunc("/v3/clusterRegistrationTokens/{id}", e.authenticated(e.serveToken)) // as the links spell it
	mux.HandleFunc("/v3/tokens", e.authenticated(e.serveLogout))
	mux.HandleFunc("/v3-public/localProviders/local", e.serveLogin)
	mux.HandleFunc("/v3/import/{file}", e.serveImportManifest) // unauthenticated, like Rancher's
	e.serveRancherAPIv1(mux)
	go e.runRotation()
}

// authenticated is Rancher's auth filter: a bearer (or basic) API token, else 401 with
// Rancher's body and X-Api-Cattle-Auth: false.
func (e *Endpoint) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			if user, pass, basic := r.BasicAuth(); basic {
				tok, ok = user+":"+pass, true
			}
		}
		if !ok || !e.api.valid(strings.TrimSpace(tok)) {
			w.Header().Set(headerCattleAuth, "false")
			writeAPIJSON(w, http.StatusUnauthorized, map[string]any{"type": "error", "status": "401", "message": "must authenticate"})
			return
		}
		w.Header().Set(headerCattleAuth, "true")
		h(w, r)
	}
}

func (a *rancherAPI) valid(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if tok == a.opts.AdminToken {
		return true
	}
	exp, ok := a.logins[tok]
	if ok && time.Now().After(exp) {
		delete(a.logins, tok)
		return false
	}
	return ok
}

// apiError is norman's error document.
func apiError(status int, code, field, msg string) map[string]any {
	m := map[string]any{"baseType": "error", "type": "error", "status": status, "code": code, "message": msg}
	if field != "" {
		m["fieldName"] = field
	}
	return m
}

func writeAPIJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeAPIJSON(w, http.StatusMethodNotAllowed, apiError(http.StatusMethodNotAllowed, "MethodNotAllowed", "", ""))
}

// serverURL is the base of the links, built from the request's Host as Rancher does.
func serverURL(r *http.Request) string { return "https://" + r.Host }

// serveLogin is the local provider's login action: 201 with a new token.
func (e *Endpoint) serveLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Query().Get("action") != "login" {
		writeAPIJSON(w, http.StatusNotFound, apiError(http.StatusNotFound, "NotFound", "", "not found"))
		return
	}
	var in struct{ Username, Password, ResponseType string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody)).Decode(&in); err != nil {
		writeAPIJSON(w, http.StatusBadRequest, apiError(http.StatusBadRequest, "InvalidBodyContent", "", err.Error()))
		return
	}
	a := &e.api
	a.mu.Lock()
	if in.Username != "admin" || in.Password != a.opts.AdminPassword {
		a.mu.Unlock()
		writeAPIJSON(w, http.StatusUnauthorized, apiError(http.StatusUnauthorized, "Unauthorized", "", "authentication failed"))
		return
	}
	tok := newAPIToken()
	exp := time.Now().Add(loginTTL)
	a.logins[tok] = exp
	a.mu.Unlock()
	id, _, _ := strings.Cut(tok, ":")
	writeAPIJSON(w, http.StatusCreated, map[string]any{
		"baseType": "token", "type": "token", "id": id, "token": tok,
		"expiresAt": exp.UTC().Format(time.RFC3339),
	})
}

// serveLogout deletes the login token the request carries.
func (e *Endpoint) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Query().Get("action") != "logout" {
		writeAPIJSON(w, http.StatusNotFound, apiError(http.StatusNotFound, "NotFound", "", "not found"))
		return
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	a := &e.api
	a.mu.Lock()
	delete(a.logins, tok)
	a.mu.Unlock()
	writeAPIJSON(w, http.StatusOK, map[string]any{})
}

// createClusterBody is norman's cluster create body, as far as the endpoint reads it.
type createClusterBody struct {
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func (e *Endpoint) serveClusters(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		e.listClusters(w, r)
	case http.MethodPost:
		e.createCluster(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

func (e *Endpoint) createCluster(w http.ResponseWriter, r *http.Request) {
	var in createClusterBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody)).Decode(&in); err != nil {
		writeAPIJSON(w, http.StatusUnprocessableEntity, apiError(http.StatusUnprocessableEntity, "InvalidBodyContent", "", err.Error()))
		return
	}
	if strings.TrimSpace(in.Name) == "" {
		writeAPIJSON(w, http.StatusUnprocessableEntity, apiError(http.StatusUnprocessableEntity, "MissingRequired", "name", ""))
		return
	}
	a := &e.api
	a.mu.Lock()
	key := strings.ToLower(in.Name)
	if a.byName[key] != nil || key == localClusterID {
		a.mu.Unlock()
		// cluster_store.go canUseClusterName: NotUnique on "Cluster name", no message.
		writeAPIJSON(w, http.StatusUnprocessableEntity, apiError(http.StatusUnprocessableEntity, "NotUnique", "Cluster name", ""))
		return
	}
	id := ""
	for id == "" || a.byID[id] != nil {
		id = "c-" + randomString(tokenIDChars, 5)
	}
	now := time.Now().UTC().Truncate(time.Second)
	token := newRegistrationToken()
	c := &apiCluster{
		id: id, name: in.Name, description: in.Description, labels: in.Labels, annotations: in.Annotations,
		uid: uuid.NewString(), created: now,
		tokens: []*apiToken{{
			name: rancher.DefaultTokenName, value: token, uid: uuid.NewString(),
			created: now, rotated: now, filledAt: time.Now().Add(a.opts.TokenDelay),
		}},
	}
	a.byID[id], a.byName[key] = c, c
	a.mu.Unlock()
	e.RegisterWithToken(in.Name, token)
	e.log.WithField("cluster", in.Name).WithField("id", id).Debug("cluster created through the API")
	// What Rancher answers right after the create: no conditions yet, which wrangler's
	// summary calls active (recorded); it turns pending moments later.
	out := e.v3ClusterJSON(serverURL(r), c, time.Time{}, true)
	writeAPIJSON(w, http.StatusCreated, out)
}

// clusterSnapshot is what the API keeps of a cluster, copied out of the lock.
func (a *rancherAPI) snapshot(filter func(*apiCluster) bool) []apiCluster {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]apiCluster, 0, len(a.byID))
	for _, c := range a.byID {
		if filter == nil || filter(c) {
			out = append(out, *c)
		}
	}
	return out
}

func (e *Endpoint) listClusters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, hasName := q["name"]
	filter := func(c *apiCluster) bool { return !hasName || c.name == name[0] } // norman filters are exact
	cs := e.api.snapshot(filter)
	items := make([]any, 0, len(cs)+1)
	base := serverURL(r)
	ids := make([]string, 0, len(cs)+1)
	byID := make(map[string]*apiCluster, len(cs))
	for i := range cs {
		ids = append(ids, cs[i].id)
		byID[cs[i].id] = &cs[i]
	}
	if !hasName || name[0] == localClusterID {
		ids = append(ids, localClusterID)
	}
	sort.Strings(ids)
	start, end, next := paginate(ids, q)
	for _, id := range ids[start:end] {
		if id == localClusterID {
			items = append(items, localClusterJSON(base, e.created))
			continue
		}
		items = append(items, e.v3ClusterJSON(base, byID[id], time.Time{}, false))
	}
	col := collection(base+"/v3/clusters", "cluster", items, len(ids), next, q)
	col["createTypes"] = map[string]string{"cluster": base + "/v3/clusters"}
	writeAPIJSON(w, http.StatusOK, col)
}

// paginate applies norman's limit (default 1000, -1 for all) and marker (the first id of
// the page) to sorted ids: the page is ids[start:end]; next is the marker of the following
// page, "" on the last.
func paginate(ids []string, q url.Values) (start, end int, next string) {
	limit := apiListLimit
	if v := q.Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && (n > 0 || n == -1) {
			limit = n
		}
	}
	if m := q.Get("marker"); m != "" {
		start = sort.SearchStrings(ids, m)
	}
	if limit == -1 || start+limit >= len(ids) {
		return start, len(ids), ""
	}
	return start, start + limit, ids[start+limit]
}

// collection is norman's collection document.
func collection(self, resourceType string, data []any, total int, next string, q url.Values) map[string]any {
	pag := map[string]any{"total": total}
	if l := q.Get("limit"); l != "-1" {
		limit := apiListLimit
		if n, err := strconv.Atoi(l); err == nil && n > 0 {
			limit = n
		}
		pag["limit"] = limit
	}
	if next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("marker", next)
		pag["next"] = self + "?" + nq.Encode()
		pag["partial"] = true
	}
	filters := map[string]any{}
	for k, v := range q {
		if k != "limit" && k != "marker" && len(v) > 0 {
			filters[k] = []map[string]string{{"modifier": "eq", "value": v[0]}}
		}
	}
	return map[string]any{
		"type": "collection", "resourceType": resourceType, "actions": map[string]any{},
		"links": map[string]string{"self": self}, "pagination": pag, "filters": filters, "data": data,
	}
}

func (e *Endpoint) serveCluster(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	base := serverURL(r)
	if id == localClusterID {
		if r.Method != http.MethodGet {
			writeAPIJSON(w, http.StatusForbidden, apiError(http.StatusForbidden, "PermissionDenied", "", "the local cluster cannot be changed here"))
			return
		}
		writeAPIJSON(w, http.StatusOK, localClusterJSON(base, e.created))
		return
	}
	a := &e.api
	a.mu.Lock()
	c := a.byID[id]
	var snap apiCluster
	if c != nil {
		snap = *c
	}
	if c != nil && r.Method == http.MethodDelete {
		delete(a.byID, id)
		delete(a.byName, strings.ToLower(c.name))
	}
	a.mu.Unlock()
	if c == nil {
		writeAPIJSON(w, http.StatusNotFound, apiError(http.StatusNotFound, "NotFound", "", fmt.Sprintf("clusters.management.cattle.io %q not found", id)))
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeAPIJSON(w, http.StatusOK, e.v3ClusterJSON(base, &snap, time.Time{}, false))
	case http.MethodDelete:
		out := e.v3ClusterJSON(base, &snap, time.Now(), false)
		e.unregister(snap.name)
		e.log.WithField("cluster", snap.name).WithField("id", id).Info("cluster deleted through the API")
		writeAPIJSON(w, http.StatusOK, out)
	default:
		methodNotAllowed(w, "GET, DELETE")
	}
}

// unregister forgets the named cluster, as Rancher does for a deleted cluster: its tokens
// stop working and its tunnels are closed; the agent gets 400 on its next connect.
func (e *Endpoint) unregister(name string) {
	e.mu.Lock()
	c := e.clusters[name]
	if c != nil {
		delete(e.clusters, name)
		for tok, tc := range e.tokens {
			if tc == c {
				delete(e.tokens, tok)
			}
		}
	}
	e.mu.Unlock()
	if c == nil {
		return
	}
	// Out of the check schedule; a check running now requeues it once more, harmlessly: with
	// no session it finds nothing to check.
	s := e.health
	s.mu.Lock()
	if c.index >= 0 {
		heap.Remove(&s.queue, c.index)
	}
	s.mu.Unlock()
	e.CloseSessions(name)
}

func (e *Endpoint) serveTokens(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		e.listTokens(w, r)
	case http.MethodPost:
		e.createToken(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

// tokenRef is a token with its cluster, copied out of the lock.
type tokenRef struct {
	clusterID string
	t         apiToken
}

func (e *Endpoint) listTokens(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clusterID, byCluster := q["clusterId"]
	a := &e.api
	a.mu.Lock()
	var refs []tokenRef
	for id, c := range a.byID {
		if byCluster && id != clusterID[0] {
			continue
		}
		for _, t := range c.tokens {
			refs = append(refs, tokenRef{id, *t})
		}
	}
	a.mu.Unlock()
	sort.Slice(refs, func(i, j int) bool {
		return refs[i].clusterID+":"+refs[i].t.name < refs[j].clusterID+":"+refs[j].t.name
	})
	ids := make([]string, len(refs))
	for i, ref := range refs {
		ids[i] = ref.clusterID + ":" + ref.t.name
	}
	start, end, next := paginate(ids, q)
	base := serverURL(r)
	data := make([]any, 0, end-start)
	for i := start; i < end; i++ {
		data = append(data, e.tokenJSON(base, refs[i].clusterID, &refs[i].t))
	}
	col := collection(base+"/v3/clusterregistrationtokens", "clusterRegistrationToken", data, len(ids), next, q)
	col["createTypes"] = map[string]string{"clusterRegistrationToken": base + "/v3/clusterregistrationtokens"}
	writeAPIJSON(w, http.StatusOK, col)
}

func (e *Endpoint) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	clusterID, name, _ := strings.Cut(r.PathValue("id"), ":")
	a := &e.api
	a.mu.Lock()
	var found *apiToken
	if c := a.byID[clusterID]; c != nil {
		for _, t := range c.tokens {
			if t.name == name {
				cp := *t
				found = &cp
			}
		}
	}
	a.mu.Unlock()
	if found == nil {
		writeAPIJSON(w, http.StatusNotFound, apiError(http.StatusNotFound, "NotFound", "", fmt.Sprintf("clusterregistrationtokens.management.cattle.io %q not found", r.PathValue("id"))))
		return
	}
	writeAPIJSON(w, http.StatusOK, e.tokenJSON(serverURL(r), clusterID, found))
}

func (e *Endpoint) createToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Type      string `json:"type"`
		ClusterID string `json:"clusterId"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody)).Decode(&in); err != nil {
		writeAPIJSON(w, http.StatusUnprocessableEntity, apiError(http.StatusUnprocessableEntity, "InvalidBodyContent", "", err.Error()))
		return
	}
	a := &e.api
	a.mu.Lock()
	c := a.byID[in.ClusterID]
	if c == nil {
		a.mu.Unlock()
		writeAPIJSON(w, http.StatusUnprocessableEntity, apiError(http.StatusUnprocessableEntity, "InvalidReference", "clusterId", ""))
		return
	}
	now := time.Now()
	t := &apiToken{
		name: "crt-" + randomString(tokenIDChars, 5), value: newRegistrationToken(), uid: uuid.NewString(),
		created: now.UTC().Truncate(time.Second), rotated: now, filledAt: now.Add(a.opts.TokenDelay),
	}
	c.tokens = append(c.tokens, t)
	cp, name := *t, c.name
	a.mu.Unlock()
	e.mu.Lock()
	if ec := e.clusters[name]; ec != nil {
		e.tokens[cp.value] = ec
	}
	e.mu.Unlock()
	writeAPIJSON(w, http.StatusCreated, e.tokenJSON(serverURL(r), in.ClusterID, &cp))
}

// tokenJSON is a registration token as norman's /v3 shows it (recorded crt.json), with the
// secret and the commands that embed it empty until the token is filled in.
func (e *Endpoint) tokenJSON(base, clusterID string, t *apiToken) map[string]any {
	id := clusterID + ":" + t.name
	filled := !time.Now().Before(t.filledAt)
	ttl := defaultCRTTTL
	a := &e.api
	a.mu.Lock()
	if a.opts.TokenTTL > 0 {
		ttl = a.opts.TokenTTL
	}
	a.mu.Unlock()
	out := map[string]any{
		"baseType": "clusterRegistrationToken", "type": "clusterRegistrationToken",
		"id": id, "name": t.name, "clusterId": clusterID, "namespaceId": nil, "creatorId": nil,
		"created": t.created.Format(time.RFC3339), "createdTS": t.created.UnixMilli(),
		"expiresAt": t.rotated.Add(ttl).UTC().Format(time.RFC3339), "ttl": ttl.Milliseconds(), "gracePeriod": crtGracePeriod.Milliseconds(),
		"state": "active", "transitioning": "no", "transitioningMessage": "",
		"tokenSecretName": "crt-token-" + t.name, "uuid": t.uid,
		"links": map[string]string{
			"remove": base + "/v3/clusterRegistrationTokens/" + id,
			"self":   base + "/v3/clusterRegistrationTokens/" + id,
			"update": base + "/v3/clusterRegistrationTokens/" + id,
		},
	}
	if t.previous != "" {
		out["gracePeriodExpiresAt"] = t.grace.UTC().Format(time.RFC3339)
	}
	token, manifest := "", ""
	cmd, insecureCmd, node, insecureNode, win, insecureWin := "", "", "", "", "", ""
	if filled {
		token = t.value
		manifest = base + "/v3/import/" + token + "_" + clusterID + ".yaml"
		cmd = "kubectl apply -f " + manifest
		insecureCmd = "curl --insecure -sfL " + manifest + " | kubectl apply -f -"
		sum := e.CAChecksum()
		node = " curl -fL " + base + "/system-agent-install.sh | sudo  sh -s - --server " + base + " --label 'cattle.io/os=linux' --token " + token + " --ca-checksum " + sum
		insecureNode = " curl --insecure -fL " + base + "/system-agent-install.sh | sudo  sh -s - --server " + base + " --label 'cattle.io/os=linux' --token " + token + " --ca-checksum " + sum
		win = " curl.exe -fL " + base + "/wins-agent-install.ps1 -o install.ps1; Set-ExecutionPolicy Bypass -Scope Process -Force; ./install.ps1 -Server " + base + " -Label 'cattle.io/os=windows' -Token " + token + " -Worker -CaChecksum " + sum
		insecureWin = " curl.exe --insecure -fL " + base + "/wins-agent-install.ps1 -o install.ps1; Set-ExecutionPolicy Bypass -Scope Process -Force; ./install.ps1 -Server " + base + " -Label 'cattle.io/os=windows' -Token " + token + " -Worker -CaChecksum " + sum
	}
	out["token"], out["manifestUrl"], out["command"], out["insecureCommand"] = token, manifest, cmd, insecureCmd
	out["nodeCommand"], out["insecureNodeCommand"] = node, insecureNode
	out["windowsNodeCommand"], out["insecureWindowsNodeCommand"] = win, insecureWin
	return out
}

// v3ClusterJSON is a management cluster as norman's /v3/clusters shows it (recorded
// create-cluster.json), with the state and conditions the endpoint's view of the cluster
// gives (v3Cluster). justCreated is the create answer (no conditions, summarised active);
// removed, if set, is a deletion in progress.
func (e *Endpoint) v3ClusterJSON(base string, c *apiCluster, removed time.Time, justCreated bool) map[string]any {
	self := base + "/v3/clusters/" + c.id
	labels := map[string]string{"cattle.io/creator": "norman"}
	for k, v := range c.labels {
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range c.annotations {
		annotations[k] = v
	}
	out := map[string]any{
		"actions": map[string]string{
			"generateKubeconfig": self + "?action=generateKubeconfig",
			"importYaml":         self + "?action=importYaml",
		},
		"annotations": annotations, "labels": labels,
		"appliedEnableNetworkPolicy": false, "baseType": "cluster", "type": "cluster",
		"created": c.created.Format(time.RFC3339), "createdTS": c.created.UnixMilli(),
		"creatorId": "user-admin", "defaultClusterRoleForProjectMembers": nil,
		"description": c.description, "dockerRootDir": "/var/lib/docker", "enableNetworkPolicy": false,
		"id": c.id, "name": c.name, "internal": false, "istioEnabled": false,
		"links": map[string]string{
			"apiServices":                 self + "/apiservices",
			"clusterRegistrationTokens":   self + "/clusterregistrationtokens",
			"clusterRoleTemplateBindings": self + "/clusterroletemplatebindings",
			"namespaces":                  self + "/namespaces",
			"nodes":                       self + "/nodes",
			"persistentVolumes":           self + "/persistentvolumes",
			"projects":                    self + "/projects",
			"remove":                      self,
			"self":                        self,
			"shell":                       strings.Replace(self, "https://", "wss://", 1) + "?shell=true",
			"storageClasses":              self + "/storageclasses",
			"subscribe":                   self + "/subscribe",
			"tokens":                      self + "/tokens",
			"update":                      self,
		},
		"linuxWorkerCount": 0, "nodeVersion": 0, "readyReconciling": false,
		"uuid": c.uid, "windowsPreferedCluster": false, "windowsWorkerCount": 0,
	}
	if c.importedConfig {
		out["importedConfig"] = map[string]any{"type": "importedConfig"}
	}
	if justCreated {
		out["state"], out["transitioning"], out["transitioningMessage"], out["nodeCount"] = "active", "no", "", 0
		return out
	}
	st, _ := e.ClusterState(c.name)
	v := v3Cluster(st)
	out["state"], out["transitioning"], out["transitioningMessage"] = v.State, v.Transitioning, v.TransitioningMessage
	out["conditions"], out["driver"], out["nodeCount"] = v.Conditions, v.Driver, v.NodeCount
	if v.APIEndpoint != "" {
		out["apiEndpoint"] = v.APIEndpoint
	}
	if v.Version != nil {
		out["version"] = v.Version
	}
	if v.AgentImage != "" {
		out["agentImage"] = v.AgentImage
	}
	if !removed.IsZero() {
		out["state"], out["transitioning"], out["transitioningMessage"] = "removing", "yes", ""
		out["removed"] = removed.UTC().Format(time.RFC3339)
	}
	return out
}

// localClusterJSON is Rancher's own cluster, which every /v3/clusters list includes.
func localClusterJSON(base string, created time.Time) map[string]any {
	self := base + "/v3/clusters/" + localClusterID
	conds := []rancher.Condition{}
	for _, typ := range []string{"Connected", "Pending", "Provisioned", "Waiting", "Ready"} {
		conds = append(conds, rancher.Condition{Type: typ, Status: "True"})
	}
	return map[string]any{
		"baseType": "cluster", "type": "cluster", "id": localClusterID, "name": localClusterID,
		"internal": true, "state": "active", "transitioning": "no", "transitioningMessage": "",
		"driver": "imported", "conditions": conds, "labels": map[string]string{"provider.cattle.io": "k3s"},
		"annotations": map[string]string{}, "created": created.Format(time.RFC3339), "createdTS": created.UnixMilli(),
		"links": map[string]string{"self": self}, "actions": map[string]string{}, "uuid": "local",
	}
}

// v3View is what v3Cluster derives for the v3 document.
type v3View struct {
	State, Transitioning, TransitioningMessage string
	Conditions                                 []rancher.Condition
	Driver, APIEndpoint, AgentImage            string
	Version                                    *rancher.VersionInfo
	NodeCount                                  int
}

// v3Cluster maps the endpoint's view of a cluster onto Rancher's management cluster as the
// v3 API shows it: the conditions, state, transitioning and message the endpoint derives by
// Rancher's rules, and what the main tunnel's params and the checks reported.
func v3Cluster(st EndpointClusterState) v3View {
	v := v3View{
		State: st.RancherState, Transitioning: st.Transitioning, TransitioningMessage: st.TransitioningMessage,
		Conditions: st.Conditions, Driver: st.Driver, AgentImage: st.AgentImage, NodeCount: st.Nodes,
	}
	if v.State == "" {
		// Not derived yet: what Rancher answers for a cluster without conditions.
		v.State, v.Transitioning = RancherPending, "yes"
	}
	if v.Conditions == nil {
		v.Conditions = []rancher.Condition{}
	}
	if st.Driver != "" && st.Address != "" {
		// The tunnel authorizer stores status.apiEndpoint with the driver.
		v.APIEndpoint = apiEndpoint(st.Address)
	}
	if st.Version != "" {
		v.Version = versionInfo(st.Version)
	}
	return v
}

// versionInfo splits a gitVersion (v1.36.3+k3s1) into Rancher's stored version.
func versionInfo(git string) *rancher.VersionInfo {
	v := &rancher.VersionInfo{GitVersion: git, Platform: "linux/amd64"}
	core, _, _ := strings.Cut(strings.TrimPrefix(git, "v"), "+")
	core, _, _ = strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) >= 2 {
		v.Major, v.Minor = parts[0], parts[1]
	}
	return v
}

// newAPIToken is an API token as Rancher makes them: token-<5 characters>:<54 characters>.
func newAPIToken() string {
	return "token-" + randomString(tokenIDChars, 5) + ":" + newRegistrationToken()
}

// validAPIToken: token-xxxxx:<secret>, or ext/<name>:<secret>.
func validAPIToken(s string) bool {
	key, secret, ok := strings.Cut(s, ":")
	return ok && secret != "" && (strings.HasPrefix(key, "token-") || strings.HasPrefix(key, "ext/"))
}

func randomString(chars string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}
