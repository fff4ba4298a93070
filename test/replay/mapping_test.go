package replay

import (
	"encoding/json"
	"testing"
)

func TestMappingRewrite(t *testing.T) {
	m := newMapping()
	m.addName("sa-token-bbxcl", "sa-token-x7k2p", "test")
	m.addUID("f2888923-eab4", "0d1c-mock", "test")
	if got := m.rewritePath("/api/v1/namespaces/imp/secrets/sa-token-bbxcl?timeout=45s"); got != "/api/v1/namespaces/imp/secrets/sa-token-x7k2p?timeout=45s" {
		t.Errorf("path %s", got)
	}
	// A name inside a longer segment is left alone in paths; in bodies every occurrence is
	// replaced, keys included (managedFields name owners by uid).
	if got := m.rewritePath("/api/v1/namespaces/imp/secrets/sa-token-bbxcl-2"); got != "/api/v1/namespaces/imp/secrets/sa-token-bbxcl-2" {
		t.Errorf("path %s", got)
	}
	var v any
	_ = json.Unmarshal([]byte(`{"metadata":{"annotations":{"ref":"imp/sa-token-bbxcl"},"managedFields":[{"fieldsV1":{"k:{\"uid\":\"f2888923-eab4\"}":{}}}]}}`), &v)
	out, _ := json.Marshal(m.rewriteValue(v))
	want := `{"metadata":{"annotations":{"ref":"imp/sa-token-x7k2p"},"managedFields":[{"fieldsV1":{"k:{\"uid\":\"0d1c-mock\"}":{}}}]}}`
	if string(out) != want {
		t.Errorf("body\n%s\nwant\n%s", out, want)
	}
	if got := queryWith("/api/v1/secrets?allowWatchBookmarks=true&resourceVersion=2716&watch=true", "resourceVersion", "109"); got != "/api/v1/secrets?allowWatchBookmarks=true&resourceVersion=109&watch=true" {
		t.Errorf("query %s", got)
	}
}
