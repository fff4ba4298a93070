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
			Endpoint: &Endpoint{Ready: true}},
		{Name: "b", State: "connected", Main: Tunnel{State: "connected"}, Steve: Tunnel{State: "connected"}, Reconnects: 2, RefusedDials: 1},
		{Name: "c", State: "failed", Main: Tunnel{State: "connecting"}, Steve: Tunnel{State: "connecting"}, LastError: "HTTP 401"},
		{Name: "d", State: "connecting"},
		{Name: "e", State: "active"},
	}
	return Report{Time: now, Clusters: clusters, Summary: Summarize(clusters)}
}

func TestSummarize(t *testing.T) {
	got := sampleReport().Summary
	want := Summary{Total: 5, Connecting: 1, Connected: 1, Ready: 1, Active: 1, Failed: 1}
	if got != want {
		t.Fatalf("summary %+v, want %+v", got, want)
	}
	if line := Line(got); line != "clusters 5: connecting 1, connected 1, ready 1, active 1, failed 1" {
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
		"TOTAL 5  connecting 1  connected 1  ready 1  active 1  failed 1",
		"",
		"NAME   STATE        MAIN         STEVE        CONNECTED   RECONNECTS   REFUSED   LAST ERROR",
		"a      ready        connected    connected    1m30s       0            0         <none>",
		"b      connected    connected    connected    <none>      2            1         <none>",
		"c      failed       connecting   connecting   <none>      0            0         HTTP 401",
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
	if err := json.Unmarshal([]byte(get("/status")), &r); err != nil || r.Summary.Total != 5 || len(r.Clusters) != 5 {
		t.Fatalf("/status: %+v %v", r.Summary, err)
	}
	metrics := get("/metrics")
	for _, want := range []string{`scale_cluster_tunnel_connected{cluster="a",tunnel="main"} 1`, `scale_cluster_refused_dials_total{cluster="b"} 1`, `scale_cluster_ready{cluster="c"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(get("/debug/pprof/"), "goroutine") {
		t.Error("/debug/pprof/ index lacks goroutine")
	}
	if n := testutil.CollectAndCount(NewClusterCollector(src)); n != 25 {
		t.Errorf("%d per-cluster series, want 25", n)
	}
}
