package replay

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Result is one replayed request: the recording, what the harness sent, what came back, and
// how they differ.
type Result struct {
	Rec    Record
	Sent   Sent
	Actual Actual
	// Problems are the differences from the recording; none means a match.
	Problems []string
	// InitialRecorded is, for a watch-list, about how many objects the real server's initial
	// events held: its ADDED events less the objects created while the watch was open.
	InitialRecorded int
}

// Sent is the request as the harness sent it.
type Sent struct {
	URI     string
	Subject string // whose bearer token
	Body    string // excerpt of the body as sent (JSON, or the JSON it was encoded from)
	Err     error  // the request could not be built
}

// Actual is the mock's response.
type Actual struct {
	Status          int
	ContentType     string
	ContentEncoding string
	Body            body
	Err             error
	// Watches only: the events that arrived before the harness stopped reading, and why it
	// stopped.
	Events   []watchEvent
	WatchFor time.Duration
	WatchEnd string
}

func (r *Result) mismatch() bool { return len(r.Problems) > 0 }

// expectedKind is the kind the response must have: the recorded one when the recording kept
// it, else what the apiserver answers to that request (a Status for errors, the resource's
// kind, its List for a collection GET). "" means not checked (/version, /readyz, watches).
func expectedKind(rec *Record) string {
	if rec.RespKind != "" {
		return rec.RespKind
	}
	if rec.Status >= 400 {
		return "Status"
	}
	if rec.Watch {
		return ""
	}
	rp, ok := parseResourcePath(rec.path())
	if !ok || rp.sub != "" {
		return ""
	}
	kind := kindFor(rp.gvr())
	if kind == "" {
		return ""
	}
	switch {
	case rp.name == "" && rec.Method == "GET":
		return kind + "List"
	case rec.Method == "DELETE" && !returnsDeletedObject[rp.resource]:
		return "Status"
	}
	return kind
}

// returnsDeletedObject lists the resources whose DELETE answers with the deleted object
// (ReturnDeletedObject in kube-apiserver's registries, v1.36); the others answer a Status.
var returnsDeletedObject = map[string]bool{
	"pods": true, "services": true, "serviceaccounts": true, "namespaces": true, "resourcequotas": true,
	"persistentvolumes": true, "persistentvolumeclaims": true, "podtemplates": true,
	"storageclasses": true, "csidrivers": true, "csinodes": true, "volumeattachments": true,
	"volumeattributesclasses": true, "resourceclaims": true, "resourceclaimtemplates": true,
	"resourceslices": true, "deviceclasses": true, "devicetaintrules": true,
}

// check fills Problems.
func (r *Result) check() {
	rec, act := &r.Rec, &r.Actual
	if r.Sent.Err != nil {
		r.Problems = append(r.Problems, "not sent: "+r.Sent.Err.Error())
		return
	}
	if act.Err != nil && act.Status == 0 {
		r.Problems = append(r.Problems, "request failed: "+act.Err.Error())
		return
	}
	if act.Status != rec.Status {
		r.Problems = append(r.Problems, fmt.Sprintf("status %d, recorded %d", act.Status, rec.Status))
	}
	if normalizeContentType(act.ContentType) != normalizeContentType(rec.RespContentType) {
		r.Problems = append(r.Problems, fmt.Sprintf("media type %q, recorded %q", act.ContentType, rec.RespContentType))
	}
	if act.ContentEncoding != rec.RespContentEncoding {
		r.Problems = append(r.Problems, fmt.Sprintf("content encoding %q, recorded %q", act.ContentEncoding, rec.RespContentEncoding))
	}
	if want := expectedKind(rec); want != "" && act.Body.Kind != want {
		r.Problems = append(r.Problems, fmt.Sprintf("kind %q, expected %s", act.Body.Kind, want))
	}
	if rec.RespItems != nil && act.Body.IsList && act.Body.Items != *rec.RespItems {
		r.Problems = append(r.Problems, fmt.Sprintf("%d items, recorded %d", act.Body.Items, *rec.RespItems))
	}
	if rec.Watch && act.Status == rec.Status {
		r.checkWatch()
	}
}

// checkWatch compares the events that arrived within the harness's wait with what the
// recording says can arrive: no event type the real server never sent, and for a watch-list
// the initial state ended by the initial-events-end bookmark.
func (r *Result) checkWatch() {
	rec, act := &r.Rec, &r.Actual
	got := eventTypes(act.Events)
	initialAdded, initialDone := initialEvents(act.Events)
	for _, t := range sortedKeys(got) {
		if rec.WatchEventTypes[t] == 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("%s event ×%d, recorded only %s", t, got[t], eventCounts(rec.WatchEventTypes)))
		}
	}
	if !isWatchList(rec.URI) {
		return
	}
	if !initialDone {
		r.Problems = append(r.Problems, fmt.Sprintf("no initial-events-end BOOKMARK within %v", act.WatchFor.Round(time.Millisecond)))
		return
	}
	if r.InitialRecorded > 0 && initialAdded == 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("initial events empty; the real server's held about %d objects", r.InitialRecorded))
	}
}

// eventTypes counts events by type.
func eventTypes(evs []watchEvent) map[string]int {
	got := map[string]int{}
	for _, e := range evs {
		got[e.Type]++
	}
	return got
}

// initialEvents counts the ADDED events before the initial-events-end bookmark, and reports
// whether that bookmark came.
func initialEvents(evs []watchEvent) (added int, done bool) {
	for _, e := range evs {
		if e.initialEventsEnd() {
			return added, true
		}
		if e.Type == "ADDED" {
			added++
		}
	}
	return added, false
}

// isWatchList reports whether the URI asks for a watch with initial events (client-go's
// WatchList).
func isWatchList(uri string) bool {
	_, q, _ := strings.Cut(uri, "?")
	v, _ := url.ParseQuery(q)
	return v.Get("watch") == "true" && v.Get("sendInitialEvents") == "true"
}

// eventCounts formats event types and counts, in order.
func eventCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// initialRecorded estimates how many objects the real server sent as initial events of a
// watch-list: its ADDED events less the creates it saw while open. The service-account and
// root-CA controllers add a default ServiceAccount and a ConfigMap to each new namespace, so a
// namespace create counts for those resources too.
func initialRecorded(w *Record, recs []Record) int {
	added := w.WatchEventTypes["ADDED"]
	if added == 0 || !isWatchList(w.URI) {
		return 0
	}
	wp, ok := parseResourcePath(w.path())
	if !ok {
		return 0
	}
	_, q, _ := strings.Cut(w.URI, "?")
	v, _ := url.ParseQuery(q)
	if v.Get("fieldSelector") != "" {
		// Selects single objects by name; the trace creates none of them during its watch.
		return added
	}
	creates := 0
	for i := range recs {
		c := &recs[i]
		if c.Method != "POST" || c.Status != 201 || c.Time.Before(w.Time) || c.Time.After(w.End) {
			continue
		}
		cp, ok := parseResourcePath(c.path())
		if !ok {
			continue
		}
		if cp.gvr() == wp.gvr() && (wp.namespace == "" || wp.namespace == cp.namespace) {
			creates++
			continue
		}
		if cp.gvr().Resource == "namespaces" && cp.gv.Group == "" && (wp.resource == "serviceaccounts" || wp.resource == "configmaps") && wp.gv.Group == "" {
			var nsBody struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			_ = json.Unmarshal(c.ReqBody, &nsBody)
			if wp.namespace == "" || wp.namespace == nsBody.Metadata.Name {
				creates++
			}
		}
	}
	return max(0, added-creates)
}
