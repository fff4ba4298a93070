package apidocs_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

// TestClientGoDiscovery points client-go's discovery client at ServeDiscovery, in aggregated
// (default) and legacy mode, and checks both see the same served API.
func TestClientGoDiscovery(t *testing.T) {
	for _, minor := range apidocs.Minors() {
		t.Run(minor, func(t *testing.T) {
			d := mustLoad(t, minor)
			var mu sync.Mutex
			var paths []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.URL.Path)
				mu.Unlock()
				if !d.ServeDiscovery(w, r) {
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()

			seen := map[bool][]string{}
			for _, legacy := range []bool{false, true} {
				paths = nil
				dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
				if err != nil {
					t.Fatal(err)
				}
				dc.UseLegacyDiscovery = legacy
				groups, lists, err := dc.ServerGroupsAndResources()
				if err != nil {
					t.Fatalf("legacy=%v: %v", legacy, err)
				}
				wantGroups := 1 // core
				for i, gv := range d.GroupVersions() {
					if i > 0 && gv.Group != d.GroupVersions()[i-1].Group {
						wantGroups++
					}
				}
				if len(groups) != wantGroups || groups[0].Name != "" {
					t.Errorf("legacy=%v: %d groups, want %d starting with core", legacy, len(groups), wantGroups)
				}
				if len(lists) != len(d.GroupVersions()) {
					t.Errorf("legacy=%v: %d resource lists, want %d", legacy, len(lists), len(d.GroupVersions()))
				}
				seen[legacy] = summarize(lists)
				top := 0
				for _, l := range lists {
					for _, r := range l.APIResources {
						if !strings.Contains(r.Name, "/") {
							top++
						}
					}
				}
				if top != len(d.Resources) {
					t.Errorf("legacy=%v: %d top-level resources, want %d", legacy, top, len(d.Resources))
				}
				if want := len(d.GroupVersions()) + 2; !legacy && len(paths) != 2 || legacy && len(paths) != want {
					t.Errorf("legacy=%v: requests %v", legacy, paths)
				}
			}
			// aggregated_v2.json and the legacy per-group-version documents agree.
			if !slices.Equal(seen[false], seen[true]) {
				t.Errorf("aggregated and legacy discovery differ:\n%s", diff(seen[false], seen[true]))
			}

			// The path kubectl takes for api-resources.
			dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			preferred, err := dc.ServerPreferredResources()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, l := range preferred {
				n += len(l.APIResources)
			}
			if n != len(d.Resources)-1 { // autoscaling v1 and v2 both serve horizontalpodautoscalers
				t.Errorf("%d preferred resources, want %d", n, len(d.Resources)-1)
			}
		})
	}
}

// summarize renders each resource as one sortable line of the fields both discovery forms carry.
func summarize(lists []*metav1.APIResourceList) []string {
	var out []string
	for _, l := range lists {
		for _, r := range l.APIResources {
			singular := r.SingularName
			if strings.Contains(r.Name, "/") {
				singular = "" // aggregated discovery has no singular name for subresources
			}
			out = append(out, fmt.Sprintf("%s/%s %s %s/%s/%s ns=%v %v %v %v", l.GroupVersion, r.Name, singular,
				r.Group, r.Version, r.Kind, r.Namespaced, r.Verbs, r.ShortNames, r.Categories))
		}
	}
	slices.Sort(out)
	return out
}

func diff(a, b []string) string {
	var s strings.Builder
	for _, x := range a {
		if !slices.Contains(b, x) {
			s.WriteString("- " + x + "\n")
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			s.WriteString("+ " + x + "\n")
		}
	}
	return s.String()
}
