package replay

import (
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// Override stands in for what the recording lost of one request.
type Override struct {
	Seq int `json:"seq"`
	// Body replaces the recorded request body (JSON; encoded as the request's Content-Type).
	Body json.RawMessage `json:"body,omitempty"`
	// Creates is the name the real apiserver gave the object a generateName POST created; the
	// harness maps it to the name the mock gives.
	Creates string `json:"creates,omitempty"`
	// Why says where the stand-in comes from.
	Why string `json:"why,omitempty"`
}

// LoadOverrides reads a YAML list of overrides, keyed by seq.
func LoadOverrides(path string) (map[int]Override, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	var list []Override
	if err := yaml.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("overrides %s: %w", path, err)
	}
	out := make(map[int]Override, len(list))
	for _, o := range list {
		if _, dup := out[o.Seq]; dup {
			return nil, fmt.Errorf("overrides %s: seq %d listed twice", path, o.Seq)
		}
		out[o.Seq] = o
	}
	return out, nil
}

// order returns the records in the order the harness sends them: by arrival, except that of
// two writes to the same object whose requests overlapped, the one the server finished first
// goes first. Rancher's controllers race (two updates from the same resourceVersion); which
// one got the 409 was decided by the order the server committed them, not by arrival.
func order(recs []Record) []Record {
	out := append([]Record(nil), recs...)
	for i := 0; i < len(out); i++ {
		a := &out[i]
		if !a.isWrite() || a.Watch {
			continue
		}
		for j := i + 1; j < len(out) && out[j].Time.Before(a.End); j++ {
			b := out[j]
			if b.isWrite() && writeTarget(b) == writeTarget(*a) && b.End.Before(a.End) {
				copy(out[i+1:j+1], out[i:j])
				out[i] = b
				i-- // the moved write may itself overlap an earlier-finishing one
				break
			}
		}
	}
	return out
}

// writeTarget names the object a write changes: its path, or for a create the collection
// path and the body's name.
func writeTarget(r Record) string {
	if r.Method != "POST" {
		return r.path()
	}
	var body struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(r.ReqBody, &body)
	if body.Metadata.Name == "" {
		// A generateName create: every one makes a different object.
		return fmt.Sprintf("%s#%d", r.path(), r.Seq)
	}
	return r.path() + "/" + body.Metadata.Name
}
