package replay

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Record is one request of the recording and what the real apiserver answered, as in
// requests.jsonl (see the trace's SUMMARY.md for the fields).
type Record struct {
	Seq             int                 `json:"seq"`
	TRel            float64             `json:"t_rel_s"`
	Time            time.Time           `json:"time"`
	End             time.Time           `json:"end"`
	Method          string              `json:"method"`
	URI             string              `json:"uri"`
	Accept          string              `json:"accept"`
	ContentType     string              `json:"content_type"`
	UserAgent       string              `json:"user_agent"`
	AuthSub         string              `json:"auth_sub"`
	ImpersonateUser string              `json:"impersonate_user"`
	ImpersonateGrp  []string            `json:"impersonate_group"`
	ImpersonateExtr map[string][]string `json:"impersonate_extra"`
	OtherHeaders    map[string]string   `json:"other_headers"`
	ReqBody         json.RawMessage     `json:"req_body"`
	ReqBodyEncoding string              `json:"req_body_encoding"`

	Status              int            `json:"status"`
	RespContentType     string         `json:"resp_content_type"`
	RespContentEncoding string         `json:"resp_content_encoding"`
	RespKind            string         `json:"resp_kind"`
	RespItems           *int           `json:"resp_items"`
	RespReason          string         `json:"resp_reason"`
	RespMessage         string         `json:"resp_message"`
	Watch               bool           `json:"watch"`
	WatchEvents         int            `json:"watch_events"`
	WatchEventTypes     map[string]int `json:"watch_event_types"`
	StreamOpen          float64        `json:"stream_open_s"`
	OpenAtShutdown      bool           `json:"open_at_shutdown"`
}

// isWrite reports whether the request changes the cluster.
func (r *Record) isWrite() bool {
	switch r.Method {
	case "POST", "PUT", "PATCH", "DELETE":
		return true
	}
	return false
}

// path is the URI without its query.
func (r *Record) path() string {
	p, _, _ := strings.Cut(r.URI, "?")
	return p
}

// LoadTrace reads a requests.jsonl file, gzipped when its name ends in .gz.
func LoadTrace(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	var out []Record
	sc := bufio.NewScanner(r)
	// Request bodies (full Deployments, namespaces with managedFields) make long lines.
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("trace %s line %d: %w", path, line, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	return out, nil
}

// SeqRange selects the requests to compare by their seq, both ends included; zero means
// open-ended on that side.
type SeqRange struct{ From, To int }

// ParseSeqRange reads "100-200", "100-", "-200" or "150"; "" selects everything.
func ParseSeqRange(s string) (SeqRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return SeqRange{}, nil
	}
	num := func(v string) (int, error) {
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return 0, fmt.Errorf("seq range %q: %q is not a positive number", s, v)
		}
		return n, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		to = from
	}
	var r SeqRange
	var err error
	if r.From, err = num(from); err != nil {
		return r, err
	}
	if r.To, err = num(to); err != nil {
		return r, err
	}
	if r.To != 0 && r.From > r.To {
		return r, fmt.Errorf("seq range %q is empty", s)
	}
	return r, nil
}

// Contains reports whether seq is in the range.
func (r SeqRange) Contains(seq int) bool {
	return (r.From == 0 || seq >= r.From) && (r.To == 0 || seq <= r.To)
}

// before reports whether seq comes before the range.
func (r SeqRange) before(seq int) bool { return r.From != 0 && seq < r.From }

func (r SeqRange) String() string {
	switch {
	case r.From == 0 && r.To == 0:
		return "all"
	case r.To == 0:
		return fmt.Sprintf("%d-", r.From)
	case r.From == r.To:
		return strconv.Itoa(r.From)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}
