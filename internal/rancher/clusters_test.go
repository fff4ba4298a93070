package rancher

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreateCluster(t *testing.T) {
	labels, err := OwnerLabels("run-1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		spec      ClusterSpec
		provDelay int
		wantID    string // prefix
	}{
		{"v3", ClusterSpec{Name: "sim-0001", Labels: labels, Description: "scale test"}, 0, "c-"},
		{"v3 is the default", ClusterSpec{Name: "sim-0002", API: "", Labels: labels}, 0, "c-"},
		{"v1 waits for the management cluster", ClusterSpec{Name: "sim-0003", API: APIv1, Labels: labels}, 3, "c-m-"},
		{"v1 in another namespace", ClusterSpec{Name: "sim-0004", API: APIv1, Namespace: "fleet-other", Labels: labels}, 0, "c-m-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t)
			s.set(func(s *standIn) { s.provDelay = tt.provDelay })
			c := s.client(TokenAuth(s.apiToken))
			ctx := context.Background()
			cl, err := c.CreateCluster(ctx, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(cl.ID, tt.wantID) || cl.Name != tt.spec.Name {
				t.Fatalf("created %s %q, want id %s… name %q", cl.ID, cl.Name, tt.wantID, tt.spec.Name)
			}
			// What Rancher answers at once is "active" with no conditions: not active for us.
			if cl.IsActive() {
				t.Errorf("a cluster just created counts as active: %+v", cl)
			}
			if tt.spec.API == APIv1 {
				ns := tt.spec.Namespace
				if ns == "" {
					ns = DefaultNamespace
				}
				if got := s.hitCount("GET " + provisioningPath + "/" + ns + "/" + tt.spec.Name); got != tt.provDelay+1 {
					t.Errorf("%d polls of the provisioning cluster, want %d", got, tt.provDelay+1)
				}
				p, err := c.GetProvisioningCluster(ctx, ns, tt.spec.Name)
				if err != nil {
					t.Fatal(err)
				}
				if p.Status.ClusterName != cl.ID || !OwnedBy(p.Metadata.Labels, "run-1") {
					t.Errorf("provisioning cluster %+v", p)
				}
				list, err := c.ListProvisioningClusters(ctx, ns, LabelRun+"=run-1")
				if err != nil || len(list) != 1 || list[0].ID != ns+"/"+tt.spec.Name {
					t.Errorf("ListProvisioningClusters = %+v, %v", list, err)
				}
				return
			}
			if !OwnedBy(cl.Labels, "run-1") || cl.Labels["cattle.io/creator"] != "norman" {
				t.Errorf("labels %v", cl.Labels)
			}
			s.mu.Lock()
			sent := s.bodies["POST /v3/clusters"][0]
			s.mu.Unlock()
			if sent["type"] != "cluster" || sent["name"] != tt.spec.Name {
				t.Errorf("create body %v", sent)
			}
			got, err := c.GetCluster(ctx, cl.ID)
			if err != nil || got.ID != cl.ID {
				t.Fatalf("GetCluster = %+v, %v", got, err)
			}
			found, err := c.FindClusterByName(ctx, tt.spec.Name)
			if err != nil || found.ID != cl.ID {
				t.Fatalf("FindClusterByName = %+v, %v", found, err)
			}
		})
	}
}

func TestCreateDuplicateName(t *testing.T) {
	tests := []struct {
		name   string
		first  ClusterSpec
		second ClusterSpec
		inErr  []string
	}{
		{"v3: 422 NotUnique", ClusterSpec{Name: "sim-0001"}, ClusterSpec{Name: "sim-0001"}, []string{"422", "NotUnique", `"Cluster name"`, `"sim-0001"`}},
		{"v3: names are unique whatever their case", ClusterSpec{Name: "sim-0001"}, ClusterSpec{Name: "SIM-0001"}, []string{"NotUnique"}},
		{"v1: 409 AlreadyExists", ClusterSpec{Name: "sim-0001", API: APIv1}, ClusterSpec{Name: "sim-0001", API: APIv1},
			[]string{"409", "AlreadyExists", `rancher says "clusters.provisioning.cattle.io \"sim-0001\" already exists"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t)
			c := s.client(TokenAuth(s.apiToken))
			if _, err := c.CreateCluster(context.Background(), tt.first); err != nil {
				t.Fatal(err)
			}
			_, err := c.CreateCluster(context.Background(), tt.second)
			if !IsNotUnique(err) {
				t.Fatalf("got %v, want IsNotUnique", err)
			}
			for _, want := range tt.inErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %s", err, want)
				}
			}
			if strings.Contains(err.Error(), "attempts") {
				t.Errorf("a 4xx was retried: %v", err)
			}
		})
	}
}

// An attempt that created the cluster but whose answer was lost is retried; the retry's
// NotUnique then means "you already made it", which the labels confirm.
func TestAmbiguousCreate(t *testing.T) {
	labels, _ := OwnerLabels("run-7")
	tests := []struct {
		name      string
		api       API
		prefix    string
		existing  bool // a cluster of that name existed before, without our labels
		wantErr   bool
		wantCount int // clusters of that name afterwards
	}{
		{"v3 adopted", APIv3, "/v3/clusters", false, false, 1},
		{"v1 adopted", APIv1, provisioningPath, false, false, 1},
		{"v3 someone else's cluster is not adopted", APIv3, "/v3/clusters", true, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t)
			c := s.client(TokenAuth(s.apiToken))
			ctx := context.Background()
			if tt.existing {
				if _, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0042", API: tt.api}); err != nil {
					t.Fatal(err)
				}
				s.inject(&fault{method: http.MethodPost, prefix: tt.prefix, drop: true, times: 1})
			} else {
				s.inject(&fault{method: http.MethodPost, prefix: tt.prefix, drop: true, afterHandling: true, times: 1})
			}
			cl, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0042", API: tt.api, Labels: labels})
			if tt.wantErr {
				if !IsNotUnique(err) {
					t.Fatalf("got %v, want NotUnique", err)
				}
			} else if err != nil || cl.Name != "sim-0042" {
				t.Fatalf("got %+v, %v", cl, err)
			}
			n := 0
			s.mu.Lock()
			for _, fc := range s.clusters {
				if fc.name == "sim-0042" {
					n++
				}
			}
			s.mu.Unlock()
			if n != tt.wantCount {
				t.Fatalf("%d clusters named sim-0042, want %d", n, tt.wantCount)
			}
		})
	}
}

func TestListClusters(t *testing.T) {
	tests := []struct {
		name     string
		clusters int
		pageSize int
		loop     bool
		wantErr  string
	}{
		{"one page", 12, 0, false, ""},
		{"paginated despite limit=-1, links name another host", 30, 7, false, ""},
		{"exact pages", 13, 7, false, ""}, // 13 + local = 14 = 2 pages
		{"next link that never ends", 5, 3, true, "pagination does not end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t)
			c := s.client(TokenAuth(s.apiToken))
			ctx := context.Background()
			for i := range tt.clusters {
				if _, err := c.CreateCluster(ctx, ClusterSpec{Name: fmt.Sprintf("sim-%04d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			s.set(func(s *standIn) { s.pageSize, s.loopPages = tt.pageSize, tt.loop })
			all, err := c.ListClusters(ctx)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, cl := range all {
				if seen[cl.ID] {
					t.Errorf("%s listed twice", cl.ID)
				}
				seen[cl.ID] = true
			}
			if len(seen) != tt.clusters+1 || !seen["local"] {
				t.Fatalf("listed %d clusters, want %d and local", len(seen), tt.clusters+1)
			}
		})
	}
}

func TestDeleteIsIdempotent(t *testing.T) {
	for _, api := range []API{APIv3, APIv1} {
		t.Run(string(api), func(t *testing.T) {
			s := newStandIn(t)
			c := s.client(TokenAuth(s.apiToken))
			ctx := context.Background()
			cl, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0001", API: api})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 { // the second finds nothing: 404, which is success
				if api == APIv1 {
					err = c.DeleteProvisioningCluster(ctx, DefaultNamespace, "sim-0001")
				} else {
					err = c.DeleteCluster(ctx, cl.ID)
				}
				if err != nil {
					t.Fatalf("delete #%d: %v", i+1, err)
				}
			}
			if _, err := c.GetCluster(ctx, cl.ID); !IsNotFound(err) {
				t.Fatalf("after delete: %v, want not found", err)
			}
			if _, err := c.FindClusterByName(ctx, "sim-0001"); !IsNotFound(err) {
				t.Fatalf("FindClusterByName after delete: %v, want not found", err)
			}
		})
	}
}

func TestDeleteErrorsOtherThanNotFound(t *testing.T) {
	s := newStandIn(t)
	c := s.client(TokenAuth(s.forbiddenToken))
	if err := c.DeleteCluster(context.Background(), "c-abcde"); !IsForbidden(err) {
		t.Fatalf("got %v, want 403", err)
	}
}

func TestWaitForCluster(t *testing.T) {
	s := newStandIn(t)
	c := s.client(TokenAuth(s.apiToken))
	ctx := context.Background()
	cl, err := c.CreateCluster(ctx, ClusterSpec{Name: "sim-0001"})
	if err != nil {
		t.Fatal(err)
	}
	// Never active: the wait ends with ctx and says what Rancher last said.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	s.set(func(s *standIn) { s.clusters[cl.ID].phase = phaseWaiting })
	_, err = c.WaitForCluster(short, cl.ID, WaitOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "Cluster agent is not connected") {
		t.Fatalf("got %v, want the Ready condition's message", err)
	}
	// created → pending → waiting → active, one phase per GET.
	s.set(func(s *standIn) { s.clusters[cl.ID].phase = phaseCreated; s.advanceOnGet = true })
	before := s.hitCount("GET /v3/clusters/" + cl.ID)
	got, err := c.WaitForCluster(ctx, cl.ID, WaitOptions{Interval: time.Millisecond}, nil)
	if err != nil || !got.IsActive() {
		t.Fatalf("got %+v, %v", got, err)
	}
	if n := s.hitCount("GET /v3/clusters/"+cl.ID) - before; n != 4 {
		t.Errorf("%d polls, want 4", n)
	}
	// A deleted cluster ends the wait at once.
	if err := c.DeleteCluster(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitForCluster(ctx, cl.ID, WaitOptions{}, nil); !IsNotFound(err) {
		t.Fatalf("got %v, want not found", err)
	}
}

// Many goroutines share one client, as a run does.
func TestConcurrentUse(t *testing.T) {
	s := newStandIn(t)
	s.set(func(s *standIn) { s.tokenDelay = 2 })
	cfg := s.config(LoginAuth("admin", s.users["admin"]))
	cfg.QPS, cfg.Burst = 2000, 50
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	labels, _ := OwnerLabels("run-c")
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api := APIv3
			if i%3 == 0 {
				api = APIv1
			}
			cl, err := c.CreateCluster(ctx, ClusterSpec{Name: fmt.Sprintf("sim-%04d", i), API: api, Labels: labels})
			if err != nil {
				t.Error(err)
				return
			}
			tok, err := c.WaitForRegistrationToken(ctx, cl.ID, TokenWaitOptions{Interval: time.Millisecond})
			if err != nil || tok.Token == "" || tok.ClusterID != cl.ID {
				t.Errorf("token of %s: %v, %v", cl.ID, tok, err)
			}
			if i%10 == 0 { // the stand-in builds every cluster's JSON: keep it cheap under -race
				if _, err := c.ListClusters(ctx); err != nil {
					t.Error(err)
				}
			}
			if api == APIv1 {
				err = c.DeleteProvisioningCluster(ctx, DefaultNamespace, cl.Name)
			} else {
				err = c.DeleteCluster(ctx, cl.ID)
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logins != 1 || len(s.clusters) != 1 {
		t.Fatalf("%d logins, %d clusters left; want 1 and local only", s.logins, len(s.clusters))
	}
}
