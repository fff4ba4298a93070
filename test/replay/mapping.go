package replay

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// mapping translates what the recording names into what the mock has. The real apiserver
// and the mock generate some values differently: generateName suffixes, uids and
// resourceVersions. Each pair is learned once, from a response or a lookup, and then applied
// to every later request, so that a request reusing a stale recorded resourceVersion sends
// the equally stale mock one.
type mapping struct {
	mu    sync.Mutex
	names map[string]string // generated object names, recorded → mock
	uids  map[string]string // recorded → mock
	rvs   map[string]string // object path + " " + recorded resourceVersion → mock
	// learned lists every pair in the order it was learned, for the report.
	learned []string
}

func newMapping() *mapping {
	return &mapping{names: map[string]string{}, uids: map[string]string{}, rvs: map[string]string{}}
}

func (m *mapping) addName(recorded, mock, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if recorded == "" || mock == "" {
		return
	}
	m.names[recorded] = mock
	m.learned = append(m.learned, fmt.Sprintf("name %s → %s (%s)", recorded, mock, why))
}

func (m *mapping) uid(recorded string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.uids[recorded]
	return v, ok
}

func (m *mapping) addUID(recorded, mock, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.uids[recorded]; ok || recorded == "" || mock == "" {
		return
	}
	m.uids[recorded] = mock
	m.learned = append(m.learned, fmt.Sprintf("uid %s → %s (%s)", recorded, mock, why))
}

func (m *mapping) resourceVersion(path, recorded string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.rvs[path+" "+recorded]
	return v, ok
}

func (m *mapping) addResourceVersion(path, recorded, mock string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rvs[path+" "+recorded] = mock
	m.learned = append(m.learned, fmt.Sprintf("resourceVersion %s of %s → %s", recorded, path, mock))
}

// rewriteString replaces every recorded generated name and uid in s.
func (m *mapping) rewriteString(s string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, table := range []map[string]string{m.names, m.uids} {
		for from, to := range table {
			if strings.Contains(s, from) {
				s = strings.ReplaceAll(s, from, to)
			}
		}
	}
	return s
}

// rewriteValue applies rewriteString to every string (keys included) of a decoded JSON value.
func (m *mapping) rewriteValue(v any) any {
	switch t := v.(type) {
	case string:
		return m.rewriteString(t)
	case []any:
		for i := range t {
			t[i] = m.rewriteValue(t[i])
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[m.rewriteString(k)] = m.rewriteValue(val)
		}
		return out
	}
	return v
}

// rewritePath replaces recorded generated names in the path segments of a URI; the query
// is left to the caller.
func (m *mapping) rewritePath(uri string) string {
	p, q, hasQuery := strings.Cut(uri, "?")
	segs := strings.Split(p, "/")
	m.mu.Lock()
	for i, s := range segs {
		if to, ok := m.names[s]; ok {
			segs[i] = to
		}
	}
	m.mu.Unlock()
	p = strings.Join(segs, "/")
	if hasQuery {
		return p + "?" + q
	}
	return p
}

// report lists what was learned, in order.
func (m *mapping) report() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.learned...)
}

// queryWith returns the URI with one query parameter replaced, keeping the others' order.
func queryWith(uri, key, value string) string {
	p, q, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	parts := strings.Split(q, "&")
	for i, kv := range parts {
		k, _, _ := strings.Cut(kv, "=")
		if k == key {
			parts[i] = key + "=" + url.QueryEscape(value)
		}
	}
	return p + "?" + strings.Join(parts, "&")
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
