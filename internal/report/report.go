// Package report is the summary a run prints and writes when it ends: for every simulated
// cluster, how long it took from its registration in Rancher to its tunnels being up, to
// Rancher's Connected and Ready conditions and to active, with percentiles over the fleet,
// and the reconnects and failures seen on the way.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/atomicfile"
)

// Milestones, in the order a cluster reaches them.
const (
	TunnelUp  = "tunnelUp"  // both tunnels connected
	Connected = "connected" // Rancher's Connected condition True
	Ready     = "ready"     // Rancher's Ready condition True
	// AgentDeployed is Rancher's AgentDeployed condition True: clusterdeploy applied the
	// import manifest. Rancher does that only for clusters with nodes, and a real Rancher
	// only once its node syncer runs; clusters it never reaches count as not reached.
	AgentDeployed = "agentDeployed"
	Active        = "active" // Rancher's state active, not transitioning
)

// Milestones lists the milestone names in order.
var Milestones = []string{TunnelUp, Connected, Ready, AgentDeployed, Active}

// Report is the run's report.
type Report struct {
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Rancher is the server the clusters registered with ("embedded" for the run's own
	// endpoint).
	Rancher string `json:"rancher"`
	// Milestones holds the statistics of each milestone, by name (see Milestones).
	Milestones map[string]Stats `json:"milestones"`
	// Reconnects counts tunnel sessions established after a cluster's first ones, over the
	// fleet; TunnelFailures counts failed connect attempts and sessions that ended in error.
	Reconnects     int64 `json:"reconnects"`
	TunnelFailures int64 `json:"tunnelFailures"`
	// RegistrationFailures counts clusters whose registration in Rancher failed.
	RegistrationFailures int       `json:"registrationFailures"`
	Clusters             []Cluster `json:"clusters"`
}

// Cluster is one simulated cluster's line of the report.
type Cluster struct {
	Name string `json:"name"`
	// ID is Rancher's id; Origin says how this run got it: created, adopted (found in
	// Rancher by name) or reused (from state.json).
	ID     string `json:"id,omitempty"`
	Origin string `json:"origin,omitempty"`
	// Registered is when this run began registering the cluster; the milestones are seconds
	// since then (nil: not reached during the run).
	Registered time.Time           `json:"registered"`
	Seconds    map[string]*float64 `json:"seconds"`
	// State is the cluster's last bucket (see status.Summary) and RancherState Rancher's
	// last state of it.
	State        string `json:"state"`
	RancherState string `json:"rancherState,omitempty"`
	Reconnects   int64  `json:"reconnects"`
	Failures     int64  `json:"failures"`
	Error        string `json:"error,omitempty"`
}

// Stats describe one milestone over the fleet, in seconds since registration.
type Stats struct {
	// Reached counts the clusters that reached the milestone; Of is the fleet's size.
	Reached int     `json:"reached"`
	Of      int     `json:"of"`
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
}

// Reach records that a cluster reached a milestone at t (a no-op for a zero t).
func (c *Cluster) Reach(milestone string, t time.Time) {
	if t.IsZero() || c.Registered.IsZero() {
		return
	}
	if c.Seconds == nil {
		c.Seconds = map[string]*float64{}
	}
	s := math.Round(max(t.Sub(c.Registered).Seconds(), 0)*1000) / 1000
	c.Seconds[milestone] = &s
}

// Finish computes the statistics from the clusters.
func (r *Report) Finish() {
	r.Milestones = map[string]Stats{}
	r.Reconnects, r.TunnelFailures, r.RegistrationFailures = 0, 0, 0
	for _, m := range Milestones {
		var vals []float64
		for _, c := range r.Clusters {
			if v := c.Seconds[m]; v != nil {
				vals = append(vals, *v)
			}
		}
		r.Milestones[m] = stats(vals, len(r.Clusters))
	}
	for _, c := range r.Clusters {
		r.Reconnects += c.Reconnects
		r.TunnelFailures += c.Failures
		if c.ID == "" && c.Error != "" {
			r.RegistrationFailures++
		}
	}
}

func stats(vals []float64, of int) Stats {
	s := Stats{Reached: len(vals), Of: of}
	if len(vals) == 0 {
		return s
	}
	sort.Float64s(vals)
	s.P50, s.P95, s.P99, s.Max = percentile(vals, 50), percentile(vals, 95), percentile(vals, 99), vals[len(vals)-1]
	return s
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// WriteJSON writes the report to path, atomically.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// labels are the milestones' names in the table.
var labels = map[string]string{TunnelUp: "tunnel up", Connected: "Connected", Ready: "Ready", AgentDeployed: "AgentDeployed", Active: "active"}

// PrintTable writes the short form: one line per milestone, then the counts.
func (r *Report) PrintTable(w io.Writer) error {
	fmt.Fprintf(w, "Report: %d cluster(s) registered with %s, run of %s\n", len(r.Clusters), r.Rancher,
		r.Ended.Sub(r.Started).Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "FROM REGISTRATION TO\tREACHED\tP50\tP95\tP99\tMAX")
	for _, m := range Milestones {
		s := r.Milestones[m]
		if s.Reached == 0 {
			fmt.Fprintf(tw, "%s\t%d/%d\t-\t-\t-\t-\n", labels[m], s.Reached, s.Of)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\t%s\t%s\n", labels[m], s.Reached, s.Of, secs(s.P50), secs(s.P95), secs(s.P99), secs(s.Max))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "reconnects %d, tunnel failures %d, registration failures %d\n", r.Reconnects, r.TunnelFailures, r.RegistrationFailures)
	return err
}

func secs(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2fs", v)
	}
	return (time.Duration(v * float64(time.Second))).Round(time.Second).String()
}
