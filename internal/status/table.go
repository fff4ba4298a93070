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
	fmt.Fprintf(w, "TOTAL %d  connecting %d  connected %d  ready %d  active %d  failed %d\n\n",
		s.Total, s.Connecting, s.Connected, s.Ready, s.Active, s.Failed)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tMAIN\tSTEVE\tCONNECTED\tRECONNECTS\tREFUSED\tLAST ERROR")
	for _, c := range r.Clusters {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", c.Name, c.State, c.Main.State, c.Steve.State,
			since(c.ConnectedSince, r.Time), c.Reconnects, c.RefusedDials, orNone(c.LastError))
	}
	return tw.Flush()
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
