package tunnel

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// apiClient is the Rancher client of internal/rancher pointed at the endpoint, as `run`
// uses it.
func apiClient(t *testing.T, env *epEnv, creds rancher.Credentials) *rancher.Client {
	t.Helper()
	l := logrus.New()
	l.SetOutput(io.Discard)
	c, err := rancher.New(rancher.Config{
		URL: env.e.URL(), Credentials: creds, CAPool: env.pool, PollInterval: 20 * time.Millisecond,
		Retry: rancher.RetryPolicy{Attempts: 2, MinDelay: time.Millisecond}, Log: l,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// apiGet makes a raw request to the endpoint and decodes the JSON answer.
func apiDo(t *testing.T, env *epEnv, method, path, auth string, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, env.e.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := env.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func TestAPIAuthentication(t *testing.T) {
	env := epStart(t, nil)
	admin := env.e.AdminToken()
	if !validAPIToken(admin) || len(strings.SplitN(admin, ":", 2)[1]) != tokenLength {
		t.Fatalf("admin token %q does not look like Rancher's", admin)
	}
	login := func(user, pass string) (int, map[string]any) {
		body, _ := json.Marshal(map[string]string{"username": user, "password": pass, "responseType": "token"})
		code, _, m := apiDo(t, env, http.MethodPost, "/v3-public/localProviders/local?action=login", "", string(body))
		return code, m
	}
	code, m := login("admin", env.e.AdminPassword())
	if code != http.StatusCreated || m["type"] != "token" {
		t.Fatalf("login: %d %v", code, m)
	}
	loginToken, _ := m["token"].(string)
	if code, _ := login("admin", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("login with a wrong password: %d", code)
	}
	tests := []struct {
		name, auth string
		want       int
	}{
		{"no credentials", "", http.StatusUnauthorized},
		{"unknown token", "Bearer token-zzzzz:" + strings.Repeat("x", 54), http.StatusUnauthorized},
		{"registration token is no API token", "Bearer " + env.e.Register("x"), http.StatusUnauthorized},
		{"admin API token", "Bearer " + admin, http.StatusOK},
		{"admin API token as basic auth", "Basic " + basic(admin), http.StatusOK},
		{"login token", "Bearer " + loginToken, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, m := apiDo(t, env, http.MethodGet, "/v3/clusters", tt.auth, "")
			if code != tt.want {
				t.Fatalf("GET /v3/clusters: %d, want %d", code, tt.want)
			}
			if code == http.StatusUnauthorized {
				// Rancher's auth filter: a string status, no code, and the cattle auth header.
				if m["status"] != "401" || m["message"] != "must authenticate" || h.Get("X-Api-Cattle-Auth") != "false" {
					t.Errorf("401 answer %v, X-Api-Cattle-Auth %q", m, h.Get("X-Api-Cattle-Auth"))
				}
			}
		})
	}
	// The client logs in and out with the same calls.
	c := apiClient(t, env, rancher.LoginAuth("admin", env.e.AdminPassword()))
	if _, err := c.ListClusters(context.Background()); err != nil {
		t.Fatalf("list after login: %v", err)
	}
	if err := c.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := apiDo(t, env, http.MethodPost, "/v3/tokens?action=logout", "Bearer "+loginToken, ""); code != http.StatusOK {
		t.Errorf("logout: %d", code)
	}
	if code, _, _ := apiDo(t, env, http.MethodGet, "/v3/clusters", "Bearer "+loginToken, ""); code != http.StatusUnauthorized {
		t.Errorf("a logged-out token still works: %d", code)
	}
	if _, err := apiClient(t, env, rancher.TokenAuth("token-aaaaa:nope")).ListClusters(context.Background()); !rancher.IsUnauthorized(err) {
		t.Errorf("client with a wrong token: %v, want 401", err)
	}
}

func basic(token string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	user, pass, _ := strings.Cut(token, ":")
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// TestAPIClusterLifecycle registers a cluster through the client as `run` does, connects
// its tunnels, follows it to active and deletes it.
func TestAPIClusterLifecycle(t *testing.T) {
	env := epStart(t, func(o *EndpointOptions) { o.HealthInterval = time.Second })
	if err := env.e.ConfigureAPI(APIOptions{TokenDelay: 150 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	labels := map[string]string{rancher.LabelManagedBy: rancher.ManagedBy, rancher.LabelRun: "r1"}
	cl, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0001", Description: "test", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cl.ID, "c-") || len(cl.ID) != 7 || cl.Name != "sim-0001" || !cl.HasLabels(labels) || cl.Labels["cattle.io/creator"] != "norman" {
		t.Errorf("created %+v", cl)
	}
	// Rancher's create answer: active, no conditions; IsActive must not be fooled.
	if cl.State != "active" || len(cl.Conditions) != 0 || cl.IsActive() {
		t.Errorf("create answer: state %q, %d conditions, IsActive %v", cl.State, len(cl.Conditions), cl.IsActive())
	}
	_, err = c.CreateCluster(ctx, rancher.ClusterSpec{Name: "SIM-0001"})
	if !rancher.IsNotUnique(err) || !strings.Contains(err.Error(), `"Cluster name"`) {
		t.Errorf("duplicate name (other case): %v, want 422 NotUnique on Cluster name", err)
	}
	got, err := c.GetCluster(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "pending" || got.Condition("Waiting") == nil || got.Condition("Waiting").Message != "Waiting for API to be available" || got.Driver != "" {
		t.Errorf("before any tunnel: state %q, driver %q, conditions %+v", got.State, got.Driver, got.Conditions)
	}
	found, err := c.FindClusterByName(ctx, "sim-0001")
	if err != nil || found.ID != cl.ID {
		t.Errorf("find by name: %v, %v", found, err)
	}
	if _, err := c.FindClusterByName(ctx, "nope"); !rancher.IsNotFound(err) {
		t.Errorf("find of an unknown name: %v", err)
	}
	all, err := c.ListClusters(ctx)
	if err != nil || len(all) != 2 || all[1].ID != "local" || !all[1].Internal {
		t.Errorf("list: %+v, %v; want ours and local", all, err)
	}

	// The token reads empty at first, then filled.
	first, err := c.RegistrationToken(ctx, cl.ID)
	if err != nil || first.Token != "" || first.ID != cl.ID+":default-token" {
		t.Errorf("first read of the token: %v, %v; want default-token, still empty", first, err)
	}
	tok, err := c.WaitForRegistrationToken(ctx, cl.ID, rancher.TokenWaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.Token) != tokenLength || !strings.Contains(tok.ManifestURL, "/v3/import/"+tok.Token+"_"+cl.ID+".yaml") ||
		tok.TokenSecretName != "crt-token-default-token" || tok.ExpiresAt.IsZero() || !strings.Contains(tok.NodeCommand, env.e.CAChecksum()) {
		t.Errorf("token %+v, manifest %q", tok, tok.ManifestURL)
	}

	// Tunnels with that token: the cluster goes waiting, then active.
	f := epNewFakeAPI(t, env.auth, env.cleanup, 1)
	main := epConnectMain(t, env, tok.Token, f.params(env.auth.CertPEM), f.dialer())
	main.waitUp(t)
	epWait(t, 10*time.Second, "driver imported", func() bool {
		cl, err := c.GetCluster(ctx, cl.ID)
		return err == nil && cl.Driver == "imported" && cl.State == "waiting"
	})
	steve := epConnectSteve(t, env, tok.Token)
	steve.waitUp(t)
	active, err := c.WaitForCluster(ctx, cl.ID, rancher.WaitOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if active.APIEndpoint != "https://"+f.params(env.auth.CertPEM).Address || active.Transitioning != "no" || active.Condition("Connected").Status != "True" {
		t.Errorf("active cluster %+v", active)
	}

	// Delete: gone from the API, its token refused, its tunnels closed.
	epQuiesce(t, env.e, "sim-0001")
	if err := c.DeleteCluster(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteCluster(ctx, cl.ID); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.GetCluster(ctx, cl.ID); !rancher.IsNotFound(err) {
		t.Errorf("get after delete: %v", err)
	}
	for _, tu := range []*epTunnel{main, steve} {
		if _, ok := tu.ended(5 * time.Second); !ok {
			t.Fatal("tunnel still up after the cluster was deleted")
		}
	}
	if _, ok := env.e.ClusterState("sim-0001"); ok {
		t.Error("deleted cluster still has a state")
	}
	// The name is free again.
	if _, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0001"}); err != nil {
		t.Errorf("create after delete: %v", err)
	}
}

func TestAPIListPagination(t *testing.T) {
	env := epStart(t, nil)
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		if _, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	auth := "Bearer " + env.e.AdminToken()
	tests := []struct {
		query    string
		wantData int
		wantNext bool
	}{
		{"?limit=-1", 6, false},
		{"", 6, false},
		{"?limit=2", 2, true},
		{"?limit=10", 6, false},
		{"?name=c", 1, false},
		{"?name=C", 0, false}, // norman filters are exact
		{"?name=local", 1, false},
	}
	for _, tt := range tests {
		code, _, m := apiDo(t, env, http.MethodGet, "/v3/clusters"+tt.query, auth, "")
		data, _ := m["data"].([]any)
		pag, _ := m["pagination"].(map[string]any)
		_, hasNext := pag["next"]
		if code != 200 || len(data) != tt.wantData || hasNext != tt.wantNext || m["type"] != "collection" {
			t.Errorf("GET /v3/clusters%s: %d, %d items, next %v (%v)", tt.query, code, len(data), hasNext, pag)
		}
	}
	// Following next links visits every cluster once.
	seen := map[string]bool{}
	path := "/v3/clusters?limit=2"
	for path != "" {
		_, _, m := apiDo(t, env, http.MethodGet, path, auth, "")
		for _, d := range m["data"].([]any) {
			id := d.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s listed twice", id)
			}
			seen[id] = true
		}
		next, _ := m["pagination"].(map[string]any)["next"].(string)
		path = strings.TrimPrefix(next, env.e.URL())
	}
	if len(seen) != 6 {
		t.Errorf("pages gave %d clusters, want 6", len(seen))
	}
	// Tokens of one cluster, and of all.
	code, _, m := apiDo(t, env, http.MethodGet, "/v3/clusterregistrationtokens", auth, "")
	if data, _ := m["data"].([]any); code != 200 || len(data) != 5 {
		t.Errorf("all tokens: %d, %d", code, len(data))
	}
}

func TestAPIRegistrationTokens(t *testing.T) {
	env := epStart(t, nil)
	if err := env.e.ConfigureAPI(APIOptions{TokenDelay: -1}); err != nil {
		t.Fatal(err)
	}
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "rot"})
	if err != nil {
		t.Fatal(err)
	}
	old, err := c.WaitForRegistrationToken(ctx, cl.ID, rancher.TokenWaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A second token authenticates the same cluster.
	extra, err := c.CreateRegistrationToken(ctx, cl.ID)
	if err != nil || !strings.HasPrefix(extra.ID, cl.ID+":crt-") {
		t.Fatalf("create token: %v, %v", extra, err)
	}
	if _, err := c.CreateRegistrationToken(ctx, "c-nope1"); rancher.StatusCode(err) != 422 {
		t.Errorf("token for an unknown cluster: %v", err)
	}
	code, _, one := apiDo(t, env, http.MethodGet, "/v3/clusterRegistrationTokens/"+extra.ID, "Bearer "+env.e.AdminToken(), "")
	if code != 200 || one["id"] != extra.ID || one["token"] == "" {
		t.Errorf("GET one token: %d %v", code, one)
	}
	if got := env.e.clusterByToken(one["token"].(string)); got == nil || got.name != "rot" {
		t.Error("the created token does not authenticate the cluster")
	}

	// Rotation: the old token stops working, the client finds the new one.
	fresh, err := env.e.RotateRegistrationToken(cl.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if env.e.clusterByToken(old.Token) != nil {
		t.Error("the rotated-out token still authenticates")
	}
	tunnel := epDialTunnel(t, env, "/v3/connect/register", epMainHeaders(old.Token, ClusterParams{Address: "127.0.0.1:1", Token: "t", CACert: "Y2E="}), nil)
	if err, ok := tunnel.ended(5 * time.Second); !ok || err == nil {
		t.Errorf("tunnel with the old token: %v (ended %v), want refused", err, ok)
	}
	got, err := c.WaitForRegistrationToken(ctx, cl.ID, rancher.TokenWaitOptions{Replacing: old.Token})
	if err != nil || got.Token != fresh || got.Name != "default-token" {
		t.Errorf("re-read after rotation: %v, %v; want the new default-token", got, err)
	}

	// TTL rotation with a grace period: both work during the grace, then the old one goes.
	if err := env.e.ConfigureAPI(APIOptions{AdminToken: env.e.AdminToken(), TokenDelay: -1, TokenTTL: 300 * time.Millisecond, TokenGrace: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	epWait(t, 5*time.Second, "TTL rotation", func() bool {
		t, err := c.RegistrationToken(ctx, cl.ID)
		return err == nil && t.Token != fresh
	})
	if env.e.clusterByToken(fresh) == nil {
		t.Error("the previous token stopped working before its grace period ended")
	}
	epWait(t, 5*time.Second, "grace period over", func() bool { return env.e.clusterByToken(fresh) == nil })
}

func TestAPIRestoreCluster(t *testing.T) {
	env := epStart(t, nil)
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	ctx := context.Background()
	tok := newRegistrationToken()
	want := APICluster{ID: "c-abcde", Name: "kept", Token: tok, Labels: map[string]string{"a": "b"}}
	if err := env.e.RestoreCluster(want); err != nil {
		t.Fatal(err)
	}
	if err := env.e.RestoreCluster(want); err != nil {
		t.Errorf("restoring the same cluster twice: %v", err)
	}
	for _, bad := range []APICluster{
		{ID: "c-abcde", Name: "other", Token: tok},
		{ID: "c-fghij", Name: "KEPT", Token: tok},
		{ID: "local", Name: "x", Token: tok},
		{ID: "c-x", Name: "y"},
	} {
		if err := env.e.RestoreCluster(bad); err == nil {
			t.Errorf("RestoreCluster(%+v) succeeded", bad)
		}
	}
	got, err := c.RegistrationToken(ctx, "c-abcde")
	if err != nil || got.Token != tok {
		t.Errorf("restored token: %v, %v", got, err)
	}
	if cl, err := c.GetCluster(ctx, "c-abcde"); err != nil || cl.Name != "kept" || cl.Labels["a"] != "b" {
		t.Errorf("restored cluster: %+v, %v", cl, err)
	}
	if env.e.clusterByToken(tok) == nil {
		t.Error("the restored token does not authenticate tunnels")
	}
	if l := env.e.APIClusters(); len(l) != 1 || l[0].Token != tok || l[0].ID != "c-abcde" {
		t.Errorf("APIClusters: %+v", l)
	}
}

func TestV3Cluster(t *testing.T) {
	ready := []rancher.Condition{{Type: CondConnected, Status: "True"}, {Type: CondReady, Status: "True"}}
	tests := []struct {
		name                      string
		st                        EndpointClusterState
		state, transitioning, msg string
		apiEndpoint, version      string
		conditions                int
	}{
		{"not derived yet", EndpointClusterState{}, "pending", "yes", "", "", "", 0},
		{"created, no tunnel", EndpointClusterState{RancherState: "pending", Transitioning: "yes", Conditions: newConditions(time.Now()).clone()},
			"pending", "yes", "", "", "", len(initialConditions)},
		{"main tunnel reported its address, driver not set yet", EndpointClusterState{RancherState: "pending", Transitioning: "yes", Address: "127.0.0.1:6443"},
			"pending", "yes", "", "", "", 0},
		{"waiting", EndpointClusterState{RancherState: "waiting", Transitioning: "yes", TransitioningMessage: msgWaitingForAPI, Driver: "imported", Address: "127.0.0.1:6443"},
			"waiting", "yes", msgWaitingForAPI, "https://127.0.0.1:6443", "", 0},
		{"active", EndpointClusterState{RancherState: "active", Transitioning: "no", Driver: "imported", Address: "[::1]:6443", Version: "v1.36.3", Nodes: 3, Conditions: ready},
			"active", "no", "", "https://[::1]:6443", "v1.36.3", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := v3Cluster(tt.st)
			if v.State != tt.state || v.Transitioning != tt.transitioning || v.TransitioningMessage != tt.msg || v.APIEndpoint != tt.apiEndpoint ||
				len(v.Conditions) != tt.conditions || v.Conditions == nil || v.NodeCount != tt.st.Nodes {
				t.Errorf("got %+v", v)
			}
			if (v.Version == nil) != (tt.version == "") || v.Version != nil && v.Version.GitVersion != tt.version {
				t.Errorf("version %+v, want %q", v.Version, tt.version)
			}
		})
	}
	if v := versionInfo("v1.36.3+k3s1"); v.Major != "1" || v.Minor != "36" {
		t.Errorf("versionInfo: %+v", v)
	}
}
