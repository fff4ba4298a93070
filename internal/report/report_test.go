package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	vals := []float64{}
	for i := 1; i <= 100; i++ {
		vals = append(vals, float64(i))
	}
	tests := []struct {
		vals []float64
		p    float64
		want float64
	}{
		{vals, 50, 50}, {vals, 95, 95}, {vals, 99, 99}, {vals, 100, 100},
		{[]float64{7}, 50, 7}, {[]float64{7}, 99, 7},
		{[]float64{1, 2}, 50, 1}, {[]float64{1, 2}, 95, 2},
		{[]float64{1, 2, 3}, 50, 2},
	}
	for _, tt := range tests {
		if got := percentile(tt.vals, tt.p); got != tt.want {
			t.Errorf("p%v of %d values = %v, want %v", tt.p, len(tt.vals), got, tt.want)
		}
	}
}

func TestReport(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	r := &Report{Started: t0, Ended: t0.Add(2 * time.Minute), Rancher: "embedded"}
	for i := range 4 {
		c := Cluster{Name: string(rune('a' + i)), ID: "c-" + string(rune('a'+i)), Registered: t0, Reconnects: int64(i), Failures: 1}
		c.Reach(TunnelUp, t0.Add(time.Duration(i+1)*100*time.Millisecond))
		c.Reach(Connected, t0.Add(time.Duration(i+1)*time.Second))
		if i < 3 {
			c.Reach(Active, t0.Add(time.Duration(i+1)*15*time.Second))
		}
		c.Reach(Ready, time.Time{}) // not reached: nothing recorded
		r.Clusters = append(r.Clusters, c)
	}
	r.Clusters = append(r.Clusters, Cluster{Name: "e", Registered: t0, Error: "create cluster: 403"})
	r.Finish()
	want := map[string]Stats{
		TunnelUp:  {Reached: 4, Of: 5, P50: 0.2, P95: 0.4, P99: 0.4, Max: 0.4},
		Connected: {Reached: 4, Of: 5, P50: 2, P95: 4, P99: 4, Max: 4},
		Ready:     {Reached: 0, Of: 5},
		Active:    {Reached: 3, Of: 5, P50: 30, P95: 45, P99: 45, Max: 45},
	}
	for m, w := range want {
		if got := r.Milestones[m]; got != w {
			t.Errorf("%s: %+v, want %+v", m, got, w)
		}
	}
	if r.Reconnects != 6 || r.TunnelFailures != 4 || r.RegistrationFailures != 1 {
		t.Errorf("counts: reconnects %d failures %d registration failures %d", r.Reconnects, r.TunnelFailures, r.RegistrationFailures)
	}
	var b bytes.Buffer
	if err := r.PrintTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Report: 5 cluster(s) registered with embedded, run of 2m0s",
		"tunnel up              4/5       0.20s   0.40s   0.40s   0.40s",
		"Ready                  0/5       -       -       -       -",
		"active                 3/5       30s     45s     45s     45s",
		"reconnects 6, tunnel failures 4, registration failures 1",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Clusters) != 5 || *back.Clusters[0].Seconds[Active] != 15 || back.Clusters[4].Seconds[Active] != nil {
		t.Errorf("JSON round trip: %v, %+v", err, back.Clusters)
	}
}
