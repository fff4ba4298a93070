package rancher

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrNotFound is returned (wrapped) by the lookups that search rather than GET one URL, such
// as FindClusterByName, when nothing matches. IsNotFound reports it as well as a 404.
var ErrNotFound = errors.New("not found")

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// APIError is a non-2xx answer from Rancher. Code, Message and FieldName are Rancher's own,
// from its error document: norman writes {"type":"error","status":422,"code":"NotUnique",
// "fieldName":"Cluster name","message":""}, steve {"type":"error","code":"NotFound",
// "message":"...","status":404}, and Rancher's authentication filter
// {"type":"error","status":"401","message":"must authenticate"} (a string status, no code).
type APIError struct {
	Method     string // of the request
	Path       string // of the request, with its query; never the host or credentials
	StatusCode int
	Code       string // Rancher's code (NotUnique, NotFound, PermissionDenied, AlreadyExists, ...); may be empty
	Message    string // Rancher's message, verbatim; may be empty (norman's NotUnique has none)
	FieldName  string // norman: the field the error is about
	Body       string // start of a body that was not a Rancher error document (a proxy's HTML page, ...)
	Location   string // where a 3xx pointed: Rancher redirects API calls it does not take as API calls
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" && e.Code != strings.ReplaceAll(http.StatusText(e.StatusCode), " ", "") {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.FieldName != "" {
		fmt.Fprintf(&b, " on field %q", e.FieldName)
	}
	switch {
	case e.Message != "":
		fmt.Fprintf(&b, ": rancher says %q", e.Message)
	case e.Body != "":
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.Location != "" {
		fmt.Fprintf(&b, " (redirect to %s: wrong URL, or not an API client?)", e.Location)
	}
	return b.String()
}

// errorDocument is the union of the error bodies Rancher writes (norman, steve, its auth
// filter) and a Kubernetes Status, which steve sometimes passes through. "status" is left
// out on purpose: it is a number in some and a string in others, and the HTTP status says it.
// "code" is a string in Rancher's documents but a number in a Status, hence raw.
type errorDocument struct {
	Type      string          `json:"type"`
	Kind      string          `json:"kind"`
	Code      json.RawMessage `json:"code"`
	Message   string          `json:"message"`
	FieldName string          `json:"fieldName"`
	Reason    string          `json:"reason"` // Kubernetes Status
}

// newAPIError builds the error for one response whose body (at most maxErrorBody) was read.
func newAPIError(method, path string, resp *http.Response, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: resp.StatusCode}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Location = resp.Header.Get("Location")
	}
	e.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	var doc errorDocument
	if json.Unmarshal(body, &doc) == nil && (doc.Type == "error" || doc.Type == "/meta/schemas/error" || doc.Kind == "Status" || len(doc.Code) > 0 || doc.Message != "") {
		_ = json.Unmarshal(doc.Code, &e.Code) // a number (Status) leaves it ""
		e.Message, e.FieldName = doc.Message, doc.FieldName
		if e.Code == "" {
			e.Code = doc.Reason
		}
		return e
	}
	e.Body = excerpt(body, 200)
	return e
}

// excerpt is the start of body on one line, cut at a rune boundary.
func excerpt(body []byte, n int) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// StatusCode is the HTTP status of the APIError in err's chain, or 0 if there is none.
func StatusCode(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound: Rancher answered 404, or a search found nothing (ErrNotFound).
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || StatusCode(err) == http.StatusNotFound
}

// IsNotUnique: the name is taken. norman answers 422 NotUnique (cluster names are compared
// case-insensitively); steve answers 409 AlreadyExists.
func IsNotUnique(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	switch {
	case e.Code == "NotUnique" || e.Code == "AlreadyExists":
		return true
	case e.StatusCode == http.StatusConflict:
		return e.Code == "" // a bare 409 on create; "Conflict" is a stale update instead
	}
	return false
}

// IsUnauthorized: 401, the credentials were not accepted (bad or expired token).
func IsUnauthorized(err error) bool { return StatusCode(err) == http.StatusUnauthorized }

// IsForbidden: 403, the credentials are valid but the user may not do this.
func IsForbidden(err error) bool { return StatusCode(err) == http.StatusForbidden }
