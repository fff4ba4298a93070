package replay

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Mismatches are the results that differ from the recording.
func (rep *Report) Mismatches() []*Result {
	var out []*Result
	for _, r := range rep.Results {
		if r.mismatch() {
			out = append(out, r)
		}
	}
	return out
}

// Summary is one paragraph on the run.
func (rep *Report) Summary() string {
	watches := 0
	for _, r := range rep.Results {
		if r.Rec.Watch {
			watches++
		}
	}
	setup := ""
	if rep.Setup > 0 {
		setup = fmt.Sprintf(" (after %d earlier writes, not compared)", rep.Setup)
	}
	return fmt.Sprintf("replayed seq %s: %d requests compared%s, %d of them watches read for up to %v each; "+
		"%d harness lookups; %d mapped names/uids/resourceVersions; took %v; %d mismatches",
		rep.Range, len(rep.Results), setup, watches, rep.WatchWait, rep.Lookups, len(rep.Learned),
		rep.Took.Round(time.Millisecond), len(rep.Mismatches()))
}

// counts strips the numbers of event counts so that like problems group together.
var counts = regexp.MustCompile(`×\d+`)

// group is mismatches with one method, path pattern and set of problems.
type group struct {
	key     string
	results []*Result
}

func (rep *Report) groups() []group {
	byKey := map[string]*group{}
	var order []string
	for _, r := range rep.Mismatches() {
		key := r.Rec.Method + " " + pathPattern(r.Rec.URI) + ": " + counts.ReplaceAllString(strings.Join(r.Problems, "; "), "×n")
		g, ok := byKey[key]
		if !ok {
			g = &group{key: key}
			byKey[key] = g
			order = append(order, key)
		}
		g.results = append(g.results, r)
	}
	out := make([]group, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].results) > len(out[j].results) })
	return out
}

// Groups lists the mismatches grouped by method, path pattern and problem, largest first.
func (rep *Report) Groups() string {
	var b strings.Builder
	for _, g := range rep.groups() {
		seqs := make([]string, 0, len(g.results))
		for i, r := range g.results {
			if i == 8 {
				seqs = append(seqs, "…")
				break
			}
			seqs = append(seqs, fmt.Sprint(r.Rec.Seq))
		}
		fmt.Fprintf(&b, "%5d × %s  [seq %s]\n", len(g.results), g.key, strings.Join(seqs, " "))
	}
	return b.String()
}

// abbreviations keep the table narrow.
var abbreviations = strings.NewReplacer(
	"application/vnd.kubernetes.protobuf", "pb",
	"application/json", "json",
	"text/plain; charset=utf-8", "text",
	";g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", ";disc-v2",
)

// Table lists the mismatches, up to limit rows (0: all).
func (rep *Report) Table(limit int) string { return table(rep.Mismatches(), limit) }

// All lists every compared request, matching or not.
func (rep *Report) All() string { return table(rep.Results, 0) }

func table(ms []*Result, limit int) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tMETHOD\tURI\tSTATUS rec/act\tKIND exp/act\tMEDIA rec/act\tACTUAL BODY\tPROBLEMS")
	for i, r := range ms {
		if limit > 0 && i == limit {
			fmt.Fprintf(tw, "…\t%d more\t(narrow with REPLAY_SEQ=from-to)\t\t\t\t\n", len(ms)-limit)
			break
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s/%s\t%s/%s\t%s\t%d\n", r.Rec.Seq, r.Rec.Method, excerpt(r.Rec.URI, 70),
			r.Rec.Status, r.Actual.Status, orDash(expectedKind(&r.Rec)), orDash(r.Actual.Body.Kind),
			abbreviations.Replace(r.Rec.RespContentType), abbreviations.Replace(orDash(r.Actual.ContentType)),
			excerpt(actualBody(r), 60), len(r.Problems))
	}
	_ = tw.Flush()
	return "media: pb = application/vnd.kubernetes.protobuf, json = application/json\n" + b.String()
}

// Details shows up to perGroup mismatches of each group in full: the request as recorded and
// as sent, and the recorded and the actual response side by side.
func (rep *Report) Details(perGroup int) string {
	var b strings.Builder
	for _, g := range rep.groups() {
		for i, r := range g.results {
			if perGroup > 0 && i == perGroup {
				fmt.Fprintf(&b, "    … %d more like this\n\n", len(g.results)-perGroup)
				break
			}
			b.WriteString(r.detail())
			b.WriteString("\n")
		}
	}
	return b.String()
}

// detail is one result, request and responses side by side.
func (r *Result) detail() string {
	rec, act := &r.Rec, &r.Actual
	var b strings.Builder
	fmt.Fprintf(&b, "── seq %d  %s %s  (t=%+.3fs)\n", rec.Seq, rec.Method, rec.URI, rec.TRel)
	fmt.Fprintf(&b, "   problems: %s\n", strings.Join(r.Problems, "; "))
	sent := r.Sent.URI
	if sent == rec.URI {
		sent = "as recorded"
	}
	fmt.Fprintf(&b, "   sent:     %s %s, as %s\n", rec.Method, sent, orDash(r.Sent.Subject))
	hdr := "Accept: " + rec.Accept
	if rec.ContentType != "" {
		hdr += " | Content-Type: " + rec.ContentType
	}
	if rec.ImpersonateUser != "" {
		hdr += fmt.Sprintf(" | Impersonate-User: %s, groups %v, %d extra", rec.ImpersonateUser, rec.ImpersonateGrp, len(rec.ImpersonateExtr))
	}
	fmt.Fprintf(&b, "             %s\n", hdr)
	if r.Sent.Body != "" {
		fmt.Fprintf(&b, "             body: %s\n", excerpt(r.Sent.Body, 300))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "   \t\trecorded\tactual")
	fmt.Fprintf(tw, "   \tstatus\t%d\t%s\n", rec.Status, actualStatus(act))
	fmt.Fprintf(tw, "   \tmedia type\t%s\t%s\n", rec.RespContentType, orDash(act.ContentType))
	if rec.RespContentEncoding != "" || act.ContentEncoding != "" {
		fmt.Fprintf(tw, "   \tencoding\t%s\t%s\n", orDash(rec.RespContentEncoding), orDash(act.ContentEncoding))
	}
	if want := expectedKind(rec); want != "" || act.Body.Kind != "" {
		recKind := rec.RespKind
		if recKind == "" && want != "" {
			recKind = want + " (expected; not recorded)"
		}
		fmt.Fprintf(tw, "   \tkind\t%s\t%s\n", orDash(recKind), orDash(act.Body.Kind))
	}
	fmt.Fprintf(tw, "   \tbody\t%s\t%s\n", excerpt(recordedBody(rec), 70), excerpt(actualBody(r), 90))
	if rec.Watch {
		recW := fmt.Sprintf("%s (open %.0fs)", eventCounts(rec.WatchEventTypes), rec.StreamOpen)
		if r.InitialRecorded > 0 {
			recW += fmt.Sprintf(", ≈%d initial", r.InitialRecorded)
		}
		fmt.Fprintf(tw, "   \twatch events\t%s\t%s (read %v: %s)\n", recW, eventCounts(eventTypes(act.Events)),
			act.WatchFor.Round(time.Millisecond), orDash(act.WatchEnd))
	}
	_ = tw.Flush()
	return b.String()
}

func actualStatus(act *Actual) string {
	if act.Status == 0 && act.Err != nil {
		return "error: " + act.Err.Error()
	}
	if act.Status == 0 {
		return "-"
	}
	return fmt.Sprint(act.Status)
}

func recordedBody(rec *Record) string {
	switch {
	case rec.RespMessage != "" || rec.RespReason != "":
		return fmt.Sprintf("%s: %s", rec.RespReason, rec.RespMessage)
	case rec.RespItems != nil:
		return fmt.Sprintf("%d items", *rec.RespItems)
	}
	return "(not recorded)"
}

func actualBody(r *Result) string {
	switch {
	case r.Sent.Err != nil:
		return "not sent: " + r.Sent.Err.Error()
	case r.Actual.Err != nil && r.Actual.Status == 0:
		return r.Actual.Err.Error()
	case r.Rec.Watch && r.Actual.Status == 200:
		return fmt.Sprintf("%d events", len(r.Actual.Events))
	}
	return r.Actual.Body.Excerpt
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WatchLists compares the initial state of every watch-list: about how many objects the real
// server sent before its initial-events-end bookmark, and how many the mock sent.
func (rep *Report) WatchLists() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tWATCH-LIST\tINITIAL rec≈/replay\tEVENTS recorded (whole watch)\tEVENTS replay (first read)")
	for _, r := range rep.Results {
		if !r.Rec.Watch || !isWatchList(r.Rec.URI) {
			continue
		}
		added, done := initialEvents(r.Actual.Events)
		replay := fmt.Sprint(added)
		if !done {
			replay += " (no end bookmark)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d/%s\t%s\t%s\n", r.Rec.Seq, excerpt(r.Rec.URI, 60), r.InitialRecorded, replay,
			eventCounts(r.Rec.WatchEventTypes), eventCounts(eventTypes(r.Actual.Events)))
	}
	_ = tw.Flush()
	return b.String()
}
