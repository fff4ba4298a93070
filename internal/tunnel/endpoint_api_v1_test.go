package tunnel

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// TestAPIProvisioningLifecycle: the v1 route as the rancher client drives it: the create
// answer has no clusterName, the management cluster c-m-xxxxxxxx follows with the labels,
// importedConfig and administrated "false"; status.ready and state active follow its
// Connected; DELETE takes the management cluster along.
func TestAPIProvisioningLifecycle(t *testing.T) {
	env := epStart(t, func(o *EndpointOptions) { o.HealthInterval = time.Second })
	if err := env.e.ConfigureAPI(APIOptions{TokenDelay: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	admin := "Bearer " + env.e.AdminToken()
	labels := map[string]string{rancher.LabelManagedBy: rancher.ManagedBy, rancher.LabelRun: "r1"}

	// The raw create answer: 201, pending, no status.clusterName yet.
	code, _, m := apiDo(t, env, http.MethodPost, provisioningPath, admin,
		`{"type":"provisioning.cattle.io.cluster","metadata":{"namespace":"fleet-default","name":"sim-0001","labels":{"app.kubernetes.io/managed-by":"scale-cluster-agent","scale-cluster-agent/run":"r1"}},"spec":{}}`)
	status, _ := m["status"].(map[string]any)
	md, _ := m["metadata"].(map[string]any)
	if code != http.StatusCreated || m["id"] != "fleet-default/sim-0001" || status["clusterName"] != nil || md["state"].(map[string]any)["name"] != "pending" {
		t.Fatalf("create: %d %v", code, m)
	}
	id, err := c.WaitForManagementCluster(ctx, "fleet-default", "sim-0001", rancher.WaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if id != managementClusterID("fleet-default", "sim-0001") || len(id) != len("c-m-12345678") {
		t.Errorf("management cluster %q", id)
	}
	cl, err := c.GetCluster(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Name != "sim-0001" || !cl.HasLabels(labels) || cl.Annotations[annAdministrated] != "false" {
		t.Errorf("management cluster %+v", cl)
	}
	if ns, name, ok := rancher.ProvisioningOwner(cl); !ok || ns != "fleet-default" || name != "sim-0001" {
		t.Errorf("owner %q %q %v", ns, name, ok)
	}
	if _, _, raw := apiDo(t, env, http.MethodGet, "/v3/clusters/"+id, admin, ""); raw["importedConfig"] == nil {
		t.Errorf("v3 view lacks importedConfig: %v", raw)
	}
	p, err := c.GetProvisioningCluster(ctx, "fleet-default", "sim-0001")
	if err != nil || p.Status.Ready || p.IsActive() || p.Metadata.State == nil || p.Metadata.State.Name != "waiting" || p.Status.ClusterName != id {
		t.Fatalf("before any tunnel: %+v, %v", p, err)
	}

	// A duplicate is steve's 409 AlreadyExists, whatever route made the name.
	if _, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0001", API: rancher.APIv1}); !rancher.IsNotUnique(err) || rancher.StatusCode(err) != http.StatusConflict {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0001"}); !rancher.IsNotUnique(err) {
		t.Errorf("duplicate through v3: %v", err)
	}

	// Connected: ready and active, on the provisioning cluster as on the management one.
	tok, err := c.WaitForRegistrationToken(ctx, id, rancher.TokenWaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := epNewFakeAPI(t, env.auth, env.cleanup, 1)
	main := epConnectMain(t, env, tok.Token, f.params(env.auth.CertPEM), f.dialer())
	main.waitUp(t)
	steve := epConnectSteve(t, env, tok.Token)
	steve.waitUp(t)
	epWait(t, 10*time.Second, "provisioning cluster active", func() bool {
		p, err := c.GetProvisioningCluster(ctx, "fleet-default", "sim-0001")
		return err == nil && p.IsActive()
	})
	if _, err := c.WaitForCluster(ctx, id, rancher.WaitOptions{}, nil); err != nil {
		t.Fatal(err)
	}

	// Delete: both gone, the tunnels closed, the name free again.
	epQuiesce(t, env.e, "sim-0001")
	if err := c.DeleteProvisioningCluster(ctx, "fleet-default", "sim-0001"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteProvisioningCluster(ctx, "fleet-default", "sim-0001"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.GetCluster(ctx, id); !rancher.IsNotFound(err) {
		t.Errorf("management cluster after delete: %v", err)
	}
	if _, err := c.GetProvisioningCluster(ctx, "fleet-default", "sim-0001"); !rancher.IsNotFound(err) {
		t.Errorf("provisioning cluster after delete: %v", err)
	}
	for _, tu := range []*epTunnel{main, steve} {
		if _, ok := tu.ended(5 * time.Second); !ok {
			t.Fatal("tunnel still up after the cluster was deleted")
		}
	}
	if _, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0001", API: rancher.APIv1}); err != nil {
		t.Errorf("create after delete: %v", err)
	}
}

// TestAPIProvisioningRequests: the answers to requests the client does not make in the
// lifecycle: lists by namespace and label, bad bodies, unknown clusters, no token.
func TestAPIProvisioningRequests(t *testing.T) {
	env := epStart(t, nil)
	admin := "Bearer " + env.e.AdminToken()
	ctx := context.Background()
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	for _, s := range []rancher.ClusterSpec{
		{Name: "a-1", API: rancher.APIv1, Labels: map[string]string{"run": "x"}},
		{Name: "a-2", API: rancher.APIv1, Labels: map[string]string{"run": "y"}},
		{Name: "b-1", API: rancher.APIv1, Namespace: "other"},
		{Name: "v3-only"},
	} {
		if _, err := c.CreateCluster(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, method, path, auth, body string
		want                           int
		ids                            string // of a list answer
	}{
		{"all", http.MethodGet, provisioningPath, admin, "", 200, "fleet-default/a-1,fleet-default/a-2,other/b-1"},
		{"namespace", http.MethodGet, provisioningPath + "/fleet-default", admin, "", 200, "fleet-default/a-1,fleet-default/a-2"},
		{"label", http.MethodGet, provisioningPath + "/fleet-default?labelSelector=run%3Dy", admin, "", 200, "fleet-default/a-2"},
		{"label not", http.MethodGet, provisioningPath + "?labelSelector=run!%3Dy", admin, "", 200, "fleet-default/a-1,other/b-1"},
		{"bad selector", http.MethodGet, provisioningPath + "?labelSelector=%3D%3D", admin, "", 400, ""},
		{"empty namespace", http.MethodGet, provisioningPath + "/nobody", admin, "", 200, ""},
		{"one", http.MethodGet, provisioningPath + "/other/b-1", admin, "", 200, ""},
		{"unknown", http.MethodGet, provisioningPath + "/fleet-default/nope", admin, "", 404, ""},
		{"delete unknown", http.MethodDelete, provisioningPath + "/fleet-default/nope", admin, "", 404, ""},
		{"no token", http.MethodGet, provisioningPath, "", "", 401, ""},
		{"create without namespace", http.MethodPost, provisioningPath, admin, `{"metadata":{"name":"x"}}`, 422, ""},
		{"create with a bad name", http.MethodPost, provisioningPath, admin, `{"metadata":{"namespace":"fleet-default","name":"Not_A_Label"}}`, 422, ""},
		{"create not JSON", http.MethodPost, provisioningPath, admin, `{`, 400, ""},
		{"create of a v3 name", http.MethodPost, provisioningPath, admin, `{"metadata":{"namespace":"fleet-default","name":"v3-only"}}`, 409, ""},
		{"post to a namespace", http.MethodPost, provisioningPath + "/fleet-default", admin, `{}`, 405, ""},
		{"put", http.MethodPut, provisioningPath + "/other/b-1", admin, `{}`, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, m := apiDo(t, env, tt.method, tt.path, tt.auth, tt.body)
			if code != tt.want {
				t.Fatalf("%d, want %d: %v", code, tt.want, m)
			}
			if tt.want != 200 || m["type"] != "collection" {
				return
			}
			var ids []string
			for _, d := range m["data"].([]any) {
				ids = append(ids, d.(map[string]any)["id"].(string))
			}
			if got := strings.Join(ids, ","); got != tt.ids || m["count"].(float64) != float64(len(ids)) {
				t.Errorf("ids %q (count %v), want %q", got, m["count"], tt.ids)
			}
		})
	}
}

// TestAPIProvisioningRestore: a restarted endpoint given back a v1 cluster (APICluster's
// Namespace) knows its provisioning cluster again; APIClusters says which are v1.
func TestAPIProvisioningRestore(t *testing.T) {
	env := epStart(t, nil)
	tok := newRegistrationToken()
	if err := env.e.RestoreCluster(APICluster{ID: "c-m-0badcafe", Name: "sim-0007", Token: tok, Namespace: "fleet-default"}); err != nil {
		t.Fatal(err)
	}
	if err := env.e.RestoreCluster(APICluster{ID: "c-abcde", Name: "sim-0008", Token: newRegistrationToken()}); err != nil {
		t.Fatal(err)
	}
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	p, err := c.GetProvisioningCluster(context.Background(), "fleet-default", "sim-0007")
	if err != nil || p.Status.ClusterName != "c-m-0badcafe" {
		t.Fatalf("%+v, %v", p, err)
	}
	got := map[string]string{}
	for _, a := range env.e.APIClusters() {
		got[a.ID] = a.Namespace
	}
	if got["c-m-0badcafe"] != "fleet-default" || got["c-abcde"] != "" {
		t.Errorf("APIClusters namespaces %v", got)
	}
}
