package status

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
)

func sampleReport() Report {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	since := now.Add(-90 * time.Second)
	clusters := []Cluster{
		{Name: "a", State: "ready", Main: Tunnel{State: "connected"}, Steve: Tunnel{State: "connected"}, ConnectedSince: &since,
			Registered: true, Endpoint: &Endpoint{ID: "c-aaaaa", State: "waiting", Ready: true, TransitioningMessage: "Waiting for API to be available"}},
		{Name: "b", State: "connected", Main: Tunnel{State: "connected"}, Steve: Tunnel{State: "connected"}, Reconnects: 2, RefusedDials: 1, Registered: true},
		{Name: "c", State: "failed", Main: Tunnel{State: "connecting"}, Steve: Tunnel{State: "connecting"}, LastError: "HTTP 401", Registered: true},
		{Name: "d", State: "connecting", Registered: true},
		{Name: "e", State: "active", Registered: true, Endpoint: &Endpoint{ID: "c-eeeee", State: "active", Active: true}},
		{Name: "f", State: "registering"},
	}
	return Report{Time: now, Clusters: clusters, Summary: Summarize(clusters)}
}

func TestSummarize(t *testing.T) {
	got := sampleReport().Summary
	want := Summary{Total: 6, Registering: 1, Connecting: 1, Connected: 1, Ready: 1, Active: 1, Failed: 1, Registered: 5}
	if got != want {
		t.Fatalf("summary %+v, want %+v", got, want)
	}
	if line := Line(got); line != "clusters 6: registering 1, connecting 1, connected 1, ready 1, active 1, failed 1; registered 5" {
		t.Errorf("line %q", line)
	}
}

func TestPrintTable(t *testing.T) {
	var b bytes.Buffer
	if err := PrintTable(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for i, want := range []string{
		"TOTAL 6  registering 1  connecting 1  connected 1  ready 1  active 1  failed 1  (registered 5)",
		"",
		"NAME   STATE         RANCHER           MAIN         STEVE        CONNECTED   RECONNECTS   REFUSED   LAST ERROR",
		"a      ready         c-aaaaa/waiting   connected    connected    1m30s       0            0         rancher: Waiting for API to be available",
		"b      connected     <none>            connected    connected    <none>      2            1         <none>",
		"c      failed        <none>            connecting   connecting   <none>      0            0         HTTP 401",
		"d      connecting    <none>            <none>       <none>       <none>      0            0         <none>",
		"e      active        c-eeeee/active    <none>       <none>       <none>      0            0         <none>",
	} {
		if lines[i] != want {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want)
		}
	}
}

func TestServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	src := func() Report { return sampleReport() }
	reg.MustRegister(NewClusterCollector(src))
	s, err := NewServer("127.0.0.1:0", src, reg, logrus.NewEntry(logrus.New()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	get := func(path string) string {
		resp, err := http.Get("http://" + s.Address() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	var r Report
	if err := json.Unmarshal([]byte(get("/status")), &r); err != nil || r.Summary.Total != 6 || len(r.Clusters) != 6 {
		t.Fatalf("/status: %+v %v", r.Summary, err)
	}
	metrics := get("/metrics")
	for _, want := range []string{`scale_cluster_tunnel_connected{cluster="a",tunnel="main"} 1`, `scale_cluster_refused_dials_total{cluster="b"} 1`, `scale_cluster_ready{cluster="c"} 0`, `scale_cluster_rancher_active{cluster="e"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(get("/debug/pprof/"), "goroutine") {
		t.Error("/debug/pprof/ index lacks goroutine")
	}
	if n := testutil.CollectAndCount(NewClusterCollector(src)); n != 36 {
		t.Errorf("%d per-cluster series, want 36", n)
	}
}
