package rancher

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// standIn is a Rancher API stand-in for the tests: an httptest TLS server that answers with
// the recorded v2.15 shapes (testdata/), keeps clusters, registration tokens and provisioning
// clusters in memory, and injects faults on demand.
type standIn struct {
	t   *testing.T
	srv *httptest.Server

	mu             sync.Mutex
	apiToken       string            // accepted bearer
	forbiddenToken string            // authenticated, but 403 on everything
	users          map[string]string // user -> password
	loginTokens    map[string]bool
	logins         int
	logouts        int
	nextID         int
	clusters       map[string]*fakeCluster // by id
	prov           map[string]*fakeProv    // by namespace/name
	tokenDelay     int                     // polls that show a new token empty
	provDelay      int                     // polls before a provisioning cluster has its management cluster
	pageSize       int                     // >0: page /v3/clusters lists even with limit=-1
	loopPages      bool                    // a next link that never ends
	noDefaultToken bool                    // new clusters get no default-token
	advanceOnGet   bool                    // each GET of a cluster moves it one phase on
	cacerts        string
	faults         []*fault
	hits           map[string]int // "METHOD /path" (no query)
	bodies         map[string][]map[string]any

	// recorded shapes
	clusterTmpl map[string]any
	crtCol      map[string]any
	crtTmpl     map[string]any
	provCol     map[string]any
	provTmpl    map[string]any
	loginTmpl   map[string]any
	phases      []map[string]any // conditions.jsonl rows
}

// Phases of a v3 cluster, indexes into conditions.jsonl.
const (
	phaseCreated = 0 // active, no conditions: what Rancher answers right after the create
	phasePending = 1
	phaseWaiting = 7 // driver imported, Ready=False "Cluster agent is not connected"
	phaseActive  = 8
)

type fakeCluster struct {
	id, name    string
	labels      map[string]string
	annotations map[string]string
	phase       int
	tokens      []*fakeToken
	provKey     string // owner, for clusters of the v1 route
}

type fakeToken struct {
	name    string
	value   string
	polls   int // reads left with an empty token
	created time.Time
}

type fakeProv struct {
	ns, name string
	labels   map[string]string
	polls    int
	mgmtID   string
}

// fault makes requests that match method and path prefix fail, times times.
type fault struct {
	method, prefix string
	times          int
	status         int
	retryAfter     string
	body           string
	contentType    string
	location       string
	drop           bool // close the connection without an answer
	afterHandling  bool // let the request take effect first (an ambiguous failure)
}

func newStandIn(t *testing.T) *standIn {
	t.Helper()
	s := &standIn{
		t:           t,
		apiToken:    "token-abcde:" + strings.Repeat("s", 54),
		users:       map[string]string{"admin": "correct horse battery staple"},
		loginTokens: map[string]bool{},
		clusters:    map[string]*fakeCluster{},
		prov:        map[string]*fakeProv{},
		hits:        map[string]int{},
		bodies:      map[string][]map[string]any{},
	}
	s.forbiddenToken = "token-zzzzz:" + strings.Repeat("f", 54)
	s.clusterTmpl = readJSON(t, "create-cluster.json")
	s.crtCol = readJSON(t, "crt.json")
	s.crtTmpl = s.crtCol["data"].([]any)[0].(map[string]any)
	s.provCol = readJSON(t, "v1prov.json")
	s.provTmpl = s.provCol["data"].([]any)[0].(map[string]any)
	s.loginTmpl = readJSON(t, "login.json")
	s.phases = readJSONLines(t, "conditions.jsonl")
	s.clusters["local"] = &fakeCluster{id: "local", name: "local", phase: phaseActive}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshake errors are expected in some tests
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	s.cacerts = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}))
	return s
}

func readJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func readJSONLines(t *testing.T, name string) []map[string]any {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, m)
	}
	return out
}

// pool trusts the stand-in's certificate.
func (s *standIn) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// config is a Config for this stand-in with fast retries and polls.
func (s *standIn) config(creds Credentials) Config {
	return Config{
		URL:          s.srv.URL,
		Credentials:  creds,
		CAPool:       s.pool(),
		Retry:        RetryPolicy{Attempts: 5, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
		PollInterval: 5 * time.Millisecond,
		Timeout:      10 * time.Second,
		Log:          quietLogger(),
	}
}

func quietLogger() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func (s *standIn) client(creds Credentials) *Client {
	s.t.Helper()
	c, err := New(s.config(creds))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(c.Close)
	return c
}

func (s *standIn) inject(f *fault) {
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

func (s *standIn) hitCount(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[key]
}

func (s *standIn) set(f func(s *standIn)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// rotate gives the cluster's default-token a new secret, as a TTL rotation does.
func (s *standIn) rotate(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tok := range s.clusters[id].tokens {
		if tok.name == DefaultTokenName {
			tok.value = s.newSecret()
			return tok.value
		}
	}
	s.t.Fatalf("cluster %s has no default-token", id)
	return ""
}

func (s *standIn) newSecret() string {
	s.nextID++
	return fmt.Sprintf("%054d", s.nextID) // 54 characters, as recorded
}

func (s *standIn) newID(prefix string) string {
	s.nextID++
	return fmt.Sprintf("%s%05x", prefix, s.nextID)
}

func (s *standIn) takeFault(r *http.Request) *fault {
	for _, f := range s.faults {
		if f.times > 0 && f.method == r.Method && strings.HasPrefix(r.URL.Path, f.prefix) {
			f.times--
			return f
		}
	}
	return nil
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.Method+" "+r.URL.Path]++
	f := s.takeFault(r)
	s.mu.Unlock()
	if f != nil && !f.afterHandling {
		s.fail(w, f)
		return
	}
	if f != nil {
		s.route(httptest.NewRecorder(), r) // takes effect, answer lost
		s.fail(w, f)
		return
	}
	s.route(w, r)
}

func (s *standIn) fail(w http.ResponseWriter, f *fault) {
	if f.drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			s.t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
		return
	}
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	if f.location != "" {
		w.Header().Set("Location", f.location)
	}
	ct := f.contentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(f.status)
	w.Write([]byte(f.body))
}

func (s *standIn) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/ping":
		w.Write([]byte("pong"))
		return
	case p == "/v3/settings/cacerts":
		s.mu.Lock()
		v := s.cacerts
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"baseType": "setting", "id": "cacerts", "name": "cacerts", "type": "setting", "value": v})
		return
	case p == "/v3-public/localProviders/local" && r.Method == http.MethodPost && r.URL.Query().Get("action") == "login":
		s.login(w, r)
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	authed := ok && (tok == s.apiToken || tok == s.forbiddenToken || s.loginTokens[tok])
	s.mu.Unlock()
	if !authed {
		// Rancher's auth filter: string status, no code.
		writeJSON(w, 401, map[string]any{"type": "error", "status": "401", "message": "must authenticate"})
		return
	}
	if tok == s.forbiddenToken {
		writeJSON(w, 403, normanError(403, "PermissionDenied", "", `clusters.management.cattle.io is forbidden: User "u-abcde" cannot create resource "clusters" in API group "management.cattle.io" at the cluster scope`))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case p == "/v3/tokens" && r.URL.Query().Get("action") == "logout":
		delete(s.loginTokens, tok)
		s.logouts++
		writeJSON(w, 200, map[string]any{})
	case p == "/v3/clusters" && r.Method == http.MethodPost:
		s.createCluster(w, r)
	case p == "/v3/clusters" && r.Method == http.MethodGet:
		s.listClusters(w, r)
	case strings.HasPrefix(p, "/v3/clusters/"):
		s.cluster(w, r, strings.TrimPrefix(p, "/v3/clusters/"))
	case p == "/v3/clusterregistrationtokens" && r.Method == http.MethodGet:
		s.listTokens(w, r)
	case p == "/v3/clusterregistrationtokens" && r.Method == http.MethodPost:
		s.createToken(w, r)
	case p == provisioningPath && r.Method == http.MethodPost:
		s.createProv(w, r)
	case strings.HasPrefix(p, provisioningPath+"/"):
		s.provisioning(w, r, strings.TrimPrefix(p, provisioningPath+"/"))
	default:
		writeJSON(w, 404, normanError(404, "NotFound", "", "not found"))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// normanError is norman's toError: type, status (a number), code, message, fieldName.
func normanError(status int, code, field, msg string) map[string]any {
	m := map[string]any{"baseType": "error", "type": "error", "status": status, "code": code, "message": msg}
	if field != "" {
		m["fieldName"] = field
	}
	return m
}

// steveError is steve's apierror document.
func steveError(status int, code, msg string) map[string]any {
	return map[string]any{"type": "error", "links": map[string]any{}, "code": code, "message": msg, "status": status}
}

func (s *standIn) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Username, Password, ResponseType string }
	json.NewDecoder(r.Body).Decode(&in)
	s.mu.Lock()
	defer s.mu.Unlock()
	if pw, ok := s.users[in.Username]; !ok || pw != in.Password || in.ResponseType != "token" {
		writeJSON(w, 401, normanError(401, "Unauthorized", "", "authentication failed"))
		return
	}
	s.logins++
	tok := "token-" + s.newID("l") + ":" + s.newSecret()
	s.loginTokens[tok] = true
	out := clone(s.loginTmpl)
	out["token"] = tok
	out["id"] = strings.SplitN(tok, ":", 2)[0]
	writeJSON(w, 201, out)
}

// expireLogins forgets every login token, as their TTL running out would.
func (s *standIn) expireLogins() {
	s.mu.Lock()
	s.loginTokens = map[string]bool{}
	s.mu.Unlock()
}

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// addCluster makes a management cluster with a default-token (caller holds mu).
func (s *standIn) addCluster(id, name string, labels, ann map[string]string) *fakeCluster {
	c := &fakeCluster{id: id, name: name, labels: labels, annotations: ann, phase: phaseCreated}
	if !s.noDefaultToken {
		c.tokens = append(c.tokens, &fakeToken{name: DefaultTokenName, value: s.newSecret(), polls: s.tokenDelay, created: time.Now()})
	}
	s.clusters[id] = c
	return c
}

func (s *standIn) createCluster(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	json.NewDecoder(r.Body).Decode(&in)
	s.bodies["POST /v3/clusters"] = append(s.bodies["POST /v3/clusters"], in)
	name, _ := in["name"].(string)
	if name == "" {
		writeJSON(w, 422, normanError(422, "MissingRequired", "Cluster name", ""))
		return
	}
	for _, c := range s.clusters {
		if strings.EqualFold(c.name, name) {
			// cluster_store.go canUseClusterName: NewFieldAPIError(NotUnique, "Cluster name", "")
			writeJSON(w, 422, normanError(422, "NotUnique", "Cluster name", ""))
			return
		}
	}
	c := s.addCluster(s.newID("c-"), name, toStrings(in["labels"]), toStrings(in["annotations"]))
	writeJSON(w, 201, s.clusterJSON(c))
}

func toStrings(v any) map[string]string {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k], _ = v.(string)
	}
	return out
}

// clusterJSON is the recorded create answer with this cluster's id, name, labels and the
// state, conditions and driver of its phase from the recorded timeline.
func (s *standIn) clusterJSON(c *fakeCluster) map[string]any {
	out := clone(s.clusterTmpl)
	raw, _ := json.Marshal(out)
	raw = []byte(strings.ReplaceAll(string(raw), "c-l2tzr", c.id))
	json.Unmarshal(raw, &out)
	out["id"], out["name"] = c.id, c.name
	labels := map[string]any{"cattle.io/creator": "norman"}
	for k, v := range c.labels {
		labels[k] = v
	}
	out["labels"] = labels
	ann := map[string]any{}
	for k, v := range c.annotations {
		ann[k] = v
	}
	out["annotations"] = ann
	ph := s.phases[c.phase]
	out["state"], out["transitioning"], out["transitioningMessage"] = ph["state"], ph["transitioning"], ph["transitioningMessage"]
	if conds, _ := ph["conditions"].([]any); len(conds) > 0 {
		out["conditions"] = conds
	}
	if d, ok := ph["driver"].(string); ok {
		out["driver"] = d
	}
	if c.id == "local" {
		out["internal"] = true
	}
	return out
}

func (s *standIn) listClusters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var ids []string
	for id, c := range s.clusters {
		if name := q.Get("name"); name != "" && c.name != name { // norman filters are exact
			continue
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	start, _ := strconv.Atoi(q.Get("marker"))
	end := len(ids)
	col := map[string]any{"type": "collection", "resourceType": "cluster", "links": map[string]any{"self": s.srv.URL + "/v3/clusters"}}
	pag := map[string]any{"total": len(ids)}
	if s.pageSize > 0 {
		end = min(start+s.pageSize, len(ids))
		pag["limit"] = s.pageSize
		if end < len(ids) || s.loopPages {
			// Links are built from the Host Rancher saw; the client must not follow the host.
			next := end
			if s.loopPages {
				next = 0
			}
			pag["next"] = fmt.Sprintf("https://rancher.behind-a-proxy.invalid/v3/clusters?limit=%d&marker=%d", s.pageSize, next)
			pag["partial"] = true
		}
	}
	col["pagination"] = pag
	data := []any{}
	for _, id := range ids[min(start, len(ids)):end] {
		data = append(data, s.clusterJSON(s.clusters[id]))
	}
	col["data"] = data
	writeJSON(w, 200, col)
}

func (s *standIn) cluster(w http.ResponseWriter, r *http.Request, id string) {
	c, ok := s.clusters[id]
	if !ok {
		writeJSON(w, 404, normanError(404, "NotFound", "", fmt.Sprintf("clusters.management.cattle.io %q not found", id)))
		return
	}
	switch r.Method {
	case http.MethodGet:
		out := s.clusterJSON(c)
		if s.advanceOnGet {
			switch c.phase {
			case phaseCreated:
				c.phase = phasePending
			case phasePending:
				c.phase = phaseWaiting
			case phaseWaiting:
				c.phase = phaseActive
			}
		}
		writeJSON(w, 200, out)
	case http.MethodDelete:
		out := s.clusterJSON(c)
		out["state"] = "removing"
		delete(s.clusters, id)
		writeJSON(w, 200, out)
	default:
		writeJSON(w, 405, normanError(405, "MethodNotAllowed", "", ""))
	}
}

func (s *standIn) tokenJSON(c *fakeCluster, t *fakeToken) map[string]any {
	out := clone(s.crtTmpl)
	raw, _ := json.Marshal(out)
	str := strings.ReplaceAll(string(raw), "c-l2tzr", c.id)
	filled := t.polls <= 0
	if filled {
		str = strings.ReplaceAll(str, "REDACTED", t.value)
	}
	json.Unmarshal([]byte(str), &out)
	out["id"], out["name"], out["clusterId"] = c.id+":"+t.name, t.name, c.id
	out["tokenSecretName"] = "crt-token-" + t.name
	out["created"] = t.created.UTC().Format(time.RFC3339)
	out["expiresAt"] = t.created.Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	if !filled {
		t.polls--
		for _, k := range []string{"token", "manifestUrl", "command", "insecureCommand", "nodeCommand", "insecureNodeCommand", "windowsNodeCommand", "insecureWindowsNodeCommand"} {
			out[k] = ""
		}
	}
	return out
}

func (s *standIn) listTokens(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("clusterId")
	col := clone(s.crtCol)
	data := []any{}
	if c, ok := s.clusters[id]; ok {
		for _, t := range c.tokens {
			data = append(data, s.tokenJSON(c, t))
		}
	}
	col["data"] = data
	col["pagination"] = map[string]any{"limit": 1000, "total": len(data)}
	writeJSON(w, 200, col)
}

func (s *standIn) createToken(w http.ResponseWriter, r *http.Request) {
	var in struct{ Type, ClusterID string }
	json.NewDecoder(r.Body).Decode(&in)
	c, ok := s.clusters[in.ClusterID]
	if !ok {
		writeJSON(w, 422, normanError(422, "InvalidReference", "clusterId", ""))
		return
	}
	t := &fakeToken{name: s.newID("crt-"), value: s.newSecret(), polls: s.tokenDelay, created: time.Now()}
	c.tokens = append(c.tokens, t)
	writeJSON(w, 201, s.tokenJSON(c, t))
}

func (s *standIn) provJSON(p *fakeProv) map[string]any {
	out := clone(s.provTmpl)
	raw, _ := json.Marshal(out)
	str := strings.ReplaceAll(string(raw), "fleet-default/c-l2tzr", p.ns+"/"+p.name)
	json.Unmarshal([]byte(str), &out)
	out["id"] = p.ns + "/" + p.name
	md := out["metadata"].(map[string]any)
	md["name"], md["namespace"] = p.name, p.ns
	labels := map[string]any{}
	for k, v := range p.labels {
		labels[k] = v
	}
	md["labels"] = labels
	status := out["status"].(map[string]any)
	if p.mgmtID == "" {
		md["state"] = map[string]any{"error": false, "message": "", "name": "pending", "transitioning": true}
		status = map[string]any{}
	} else {
		status["clusterName"] = p.mgmtID
		c := s.clusters[p.mgmtID]
		status["ready"] = c != nil && c.phase == phaseActive
		if c == nil || c.phase != phaseActive {
			md["state"] = map[string]any{"error": false, "message": "", "name": "waiting", "transitioning": true}
		}
	}
	out["status"] = status
	return out
}

func (s *standIn) createProv(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Type     string
		Metadata struct {
			Name, Namespace string
			Labels          map[string]string
		}
	}
	json.NewDecoder(r.Body).Decode(&in)
	key := in.Metadata.Namespace + "/" + in.Metadata.Name
	if _, ok := s.prov[key]; ok {
		writeJSON(w, 409, steveError(409, "AlreadyExists", fmt.Sprintf("clusters.provisioning.cattle.io %q already exists", in.Metadata.Name)))
		return
	}
	p := &fakeProv{ns: in.Metadata.Namespace, name: in.Metadata.Name, labels: in.Metadata.Labels, polls: s.provDelay}
	s.prov[key] = p
	writeJSON(w, 201, s.provJSON(p))
}

func (s *standIn) provisioning(w http.ResponseWriter, r *http.Request, key string) {
	p, ok := s.prov[key]
	if !ok {
		if r.Method == http.MethodGet && !strings.Contains(key, "/") {
			s.listProv(w, r, key)
			return
		}
		writeJSON(w, 404, steveError(404, "NotFound", fmt.Sprintf("clusters.provisioning.cattle.io %q not found", key)))
		return
	}
	switch r.Method {
	case http.MethodGet:
		if p.mgmtID == "" {
			if p.polls <= 0 {
				c := s.addCluster(s.newID("c-m-"), p.name, nil, map[string]string{
					"objectset.rio.cattle.io/owner-gvk":       "provisioning.cattle.io/v1, Kind=Cluster",
					"objectset.rio.cattle.io/owner-name":      p.name,
					"objectset.rio.cattle.io/owner-namespace": p.ns,
				})
				c.provKey = key
				p.mgmtID = c.id
			}
			p.polls--
		}
		writeJSON(w, 200, s.provJSON(p))
	case http.MethodDelete:
		out := s.provJSON(p)
		delete(s.prov, key)
		delete(s.clusters, p.mgmtID)
		writeJSON(w, 200, out)
	}
}

func (s *standIn) listProv(w http.ResponseWriter, r *http.Request, ns string) {
	sel := r.URL.Query().Get("labelSelector")
	k, v, _ := strings.Cut(sel, "=")
	var keys []string
	for key, p := range s.prov {
		if p.ns == ns && (sel == "" || p.labels[k] == v) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	col := clone(s.provCol)
	data := []any{}
	for _, key := range keys {
		data = append(data, s.provJSON(s.prov[key]))
	}
	col["data"], col["count"] = data, len(data)
	writeJSON(w, 200, col)
}

// httpResponse builds a bare *http.Response for error parsing tests.
type httpResponse struct{ status int }

func (r httpResponse) http() *http.Response {
	return &http.Response{StatusCode: r.status, Header: http.Header{}}
}
