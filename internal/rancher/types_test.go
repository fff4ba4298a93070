package rancher

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func decodeFile(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestRecordedShapesDecode(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }

	var cl Cluster
	decodeFile(t, "create-cluster.json", &cl)
	if cl.ID != "c-l2tzr" || cl.Name != "sim-001" || cl.Labels["cattle.io/creator"] != "norman" ||
		cl.State != "active" || cl.Transitioning != "no" || !cl.Created.Equal(at("2026-11-25T22:29:28Z")) ||
		cl.Links["self"] == "" || cl.Actions["importYaml"] == "" {
		t.Errorf("create-cluster.json: %+v", cl)
	}
	if cl.IsActive() {
		t.Error("the create answer (state active, no conditions) counts as active")
	}

	var crts collection[RegistrationToken]
	decodeFile(t, "crt.json", &crts)
	if len(crts.Data) != 1 || crts.Pagination == nil || crts.Pagination.Next != "" || crts.Pagination.Total != 1 {
		t.Fatalf("crt.json: %+v", crts)
	}
	tok := crts.Data[0]
	want := RegistrationToken{
		ID: "c-l2tzr:default-token", Name: DefaultTokenName, ClusterID: "c-l2tzr", State: "active", Transitioning: "no",
		Token: "REDACTED", TokenSecretName: "crt-token-default-token",
		ManifestURL:     "https://127.0.0.1:8443/v3/import/REDACTED_c-l2tzr.yaml",
		Command:         "kubectl apply -f https://127.0.0.1:8443/v3/import/REDACTED_c-l2tzr.yaml",
		InsecureCommand: "curl --insecure -sfL https://127.0.0.1:8443/v3/import/REDACTED_c-l2tzr.yaml | kubectl apply -f -",
	}
	if tok.ID != want.ID || tok.Name != want.Name || tok.ClusterID != want.ClusterID || tok.State != want.State ||
		tok.Token != want.Token || tok.TokenSecretName != want.TokenSecretName || tok.ManifestURL != want.ManifestURL ||
		tok.Command != want.Command || tok.InsecureCommand != want.InsecureCommand {
		t.Errorf("crt.json token:\n got %#v\nwant %#v", tok, want)
	}
	if !tok.ExpiresAt.Equal(at("2026-12-25T22:29:28Z")) || !tok.GracePeriodExpiresAt.IsZero() {
		t.Errorf("crt.json times: expires %v, grace %v", tok.ExpiresAt, tok.GracePeriodExpiresAt)
	}
	if !strings.Contains(tok.NodeCommand, "--ca-checksum 9e6840080272a8a936c8d1dc2fde8114cb4ef63a83aee844fc94af3190ab6580") {
		t.Errorf("nodeCommand %q", tok.NodeCommand)
	}

	var login loginResponse
	decodeFile(t, "login.json", &login)
	if login.Token == "" || !login.ExpiresAt.Equal(at("2026-11-26T14:29:24Z")) {
		t.Errorf("login.json: %+v", login)
	}

	var prov collection[ProvisioningCluster]
	decodeFile(t, "v1prov.json", &prov)
	if len(prov.Data) != 2 {
		t.Fatalf("v1prov.json: %d items", len(prov.Data))
	}
	p := prov.Data[0]
	if p.ID != "fleet-default/c-l2tzr" || p.Metadata.Namespace != "fleet-default" || p.Status.ClusterName != "c-l2tzr" ||
		!p.IsActive() || p.Metadata.Annotations["provisioning.cattle.io/management-cluster-display-name"] != "sim-001" {
		t.Errorf("v1prov.json: %+v", p)
	}

	// The steve view of management clusters: conditions with lastUpdateTime "" (local).
	var mgmt collection[struct {
		ID     string `json:"id"`
		Status struct {
			Conditions []Condition `json:"conditions"`
			Driver     string      `json:"driver"`
		} `json:"status"`
	}]
	decodeFile(t, "v1clusters.json", &mgmt)
	for _, m := range mgmt.Data {
		c := Cluster{ID: m.ID, State: "active", Transitioning: "no", Conditions: m.Status.Conditions, Driver: m.Status.Driver}
		if !c.IsActive() || c.Driver != "imported" {
			t.Errorf("v1clusters.json %s: not active: %s", m.ID, c.Blocker())
		}
		if m.ID == "local" && !c.Condition("Ready").LastUpdateTime.IsZero() {
			t.Errorf("local's Ready lastUpdateTime \"\" decoded as %v", c.Condition("Ready").LastUpdateTime)
		}
	}
}

// The recorded timeline of one import, from POST /v3/clusters to active: only the last row
// is active, although the first one already says "active".
func TestIsActiveAlongRecordedTimeline(t *testing.T) {
	rows := readJSONLines(t, "conditions.jsonl")
	wantBlocker := map[int]string{
		0: "no Ready condition yet",
		1: "Waiting=Unknown: Waiting for API to be available",
		7: "Ready=False Disconnected: Cluster agent is not connected",
	}
	for i, row := range rows {
		t.Run(fmt.Sprintf("t=%vs", row["t_rel_s"]), func(t *testing.T) {
			delete(row, "version") // the recorder flattened it to gitVersion; the API has an object
			b, _ := json.Marshal(row)
			var c Cluster
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			if want := i == len(rows)-1; c.IsActive() != want {
				t.Fatalf("state %s, IsActive %v, want %v (%s)", c.State, c.IsActive(), want, c.Blocker())
			}
			if w := wantBlocker[i]; w != "" && !strings.Contains(c.Blocker(), w) {
				t.Errorf("Blocker() = %q, want it to mention %q", c.Blocker(), w)
			}
		})
	}
}

func TestTimeJSON(t *testing.T) {
	tests := []struct {
		in      string
		zero    bool
		wantErr bool
	}{
		{`"2026-11-25T22:29:28Z"`, false, false},
		{`""`, true, false},
		{`null`, true, false},
		{`"yesterday"`, false, true},
		{`12`, false, true},
	}
	for _, tt := range tests {
		var v Time
		err := json.Unmarshal([]byte(tt.in), &v)
		if (err != nil) != tt.wantErr || err == nil && v.IsZero() != tt.zero {
			t.Errorf("%s: %v, %v", tt.in, v, err)
		}
		if err == nil {
			out, _ := json.Marshal(v)
			if tt.zero && string(out) != "null" || !tt.zero && string(out) != tt.in {
				t.Errorf("%s round-trips as %s", tt.in, out)
			}
		}
	}
}

func TestAPIErrorParsing(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		check      func(error) bool
		wantString string
	}{
		{"norman NotUnique (empty message)", 422, `{"baseType":"error","code":"NotUnique","fieldName":"Cluster name","message":"","status":422,"type":"error"}`,
			IsNotUnique, `422 Unprocessable Entity (NotUnique) on field "Cluster name"`},
		{"auth filter: string status, no code", 401, `{"type":"error","status":"401","message":"must authenticate"}`,
			IsUnauthorized, `401 Unauthorized: rancher says "must authenticate"`},
		{"steve AlreadyExists", 409, `{"type":"error","links":{},"code":"AlreadyExists","message":"x exists","status":409}`,
			IsNotUnique, `409 Conflict (AlreadyExists): rancher says "x exists"`},
		{"steve Conflict is not NotUnique", 409, `{"type":"error","code":"Conflict","message":"the object has been modified","status":409}`,
			func(err error) bool { return !IsNotUnique(err) }, `409 Conflict: rancher says "the object has been modified"`},
		{"kubernetes Status", 404, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"not found","reason":"NotFound","code":404}`,
			IsNotFound, `404 Not Found: rancher says "not found"`},
		{"proxy HTML", 504, "<html>\n<head><title>504 Gateway Time-out</title></head></html>",
			func(err error) bool { return StatusCode(err) == 504 }, `504 Gateway Timeout: "<html> <head><title>504 Gateway Time-out</title></head></html>"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &httpResponse{status: tt.status}
			err := error(newAPIError("GET", "/v3/x", resp.http(), []byte(tt.body)))
			wrapped := fmt.Errorf("context: %w", err)
			if !tt.check(wrapped) {
				t.Errorf("check failed for %v", wrapped)
			}
			if !strings.Contains(err.Error(), tt.wantString) {
				t.Errorf("Error() = %s\n want it to contain %s", err, tt.wantString)
			}
		})
	}
}
