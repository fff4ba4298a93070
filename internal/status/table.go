package status

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// PrintTable writes the report as kubectl-style columns: the summary, then one line per
// cluster.
func PrintTable(w io.Writer, r Report) error {
	s := r.Summary
	fmt.Fprintf(w, "TOTAL %d  registering %d  connecting %d  connected %d  ready %d  active %d  failed %d  (registered %d)\n\n",
		s.Total, s.Registering, s.Connecting, s.Connected, s.Ready, s.Active, s.Failed, s.Registered)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tRANCHER\tMAIN\tSTEVE\tCONNECTED\tRECONNECTS\tREFUSED\tLAST ERROR")
	for _, c := range r.Clusters {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", c.Name, c.State, rancherColumn(c.Endpoint), orNone(c.Main.State), orNone(c.Steve.State),
			since(c.ConnectedSince, r.Time), c.Reconnects, c.RefusedDials, orNone(lastError(c)))
	}
	return tw.Flush()
}

// rancherColumn is Rancher's id and state of the cluster, e.g. c-l2tzr/active.
func rancherColumn(e *Endpoint) string {
	switch {
	case e == nil || e.ID == "" && e.State == "":
		return "<none>"
	case e.ID == "":
		return e.State
	case e.State == "":
		return e.ID
	}
	return e.ID + "/" + e.State
}

// lastError is the cluster's own last error, else what Rancher says it waits for.
func lastError(c Cluster) string {
	if c.LastError != "" || c.Endpoint == nil {
		return c.LastError
	}
	if c.Endpoint.TransitioningMessage != "" && !c.Endpoint.Active {
		return "rancher: " + c.Endpoint.TransitioningMessage
	}
	return ""
}

func since(t *time.Time, now time.Time) string {
	if t == nil {
		return "<none>"
	}
	return now.Sub(*t).Round(time.Second).String()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
