// Command apidocs regenerates internal/apidocs/data from the discovery and OpenAPI documents
// that kubernetes/kubernetes publishes under api/discovery and api/openapi-spec. They ship inside
// the k8s.io/kubernetes module zip, so `go mod download` fetches them without the module ever
// becoming a dependency of this project.
//
// The published documents are dumped from a kube-apiserver started with every alpha and beta API
// turned on. This program keeps only what a default-configured cluster of the release serves, so
// the embedded data can be served as is.
//
// From the same zip it also writes the objects such a cluster creates at start-up (bootstrap.go):
// the RBAC bootstrap policy and one APIService per served group-version.
//
// Usage (from anywhere inside the module): go run ./hack/apidocs [-out dir]
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// release is one emulated Kubernetes minor and the patch release its documents come from.
type release struct {
	minor   string // "1.36"
	version string // "v1.36.3", the k8s.io/kubernetes module version
	// betas lists the non-GA group-versions ("group/version") that a kube-apiserver of this
	// release serves with its default --runtime-config. GA versions are always kept.
	betas []string
}

// releases is the pinned list. Both minors serve no beta by default; the reasoning, checked
// against pkg/controlplane/instance.go of each release (DefaultAPIResourceConfigSource):
//
//   - 1.36 (v1.36.3): every beta/alpha present in the documents (admissionregistration v1beta1,
//     certificates v1beta1, coordination v1beta1, networking v1beta1, resource v1beta1/v1beta2,
//     storage v1beta1, storagemigration v1beta1, scheduling v1alpha2, ...) is listed in the
//     *DisabledByDefault lists. A real v1.36.2 kube-apiserver serves exactly 20 groups under /apis,
//     all GA.
//   - 1.32 (v1.32.4): the betas present are admissionregistration v1beta1, authentication v1beta1,
//     networking v1beta1, resource v1beta1 and storage v1beta1, all in
//     betaAPIGroupVersionsDisabledByDefault (new betas are off by default since 1.24, KEP-3136).
//     The pre-1.24 betas that were on by default are gone by 1.32 (flowcontrol v1beta3 was removed
//     in 1.32; flowcontrol v1 is GA since 1.29). resource.k8s.io has no GA version in 1.32, so the
//     group is absent: 19 groups under /apis.
func releases() []release {
	return []release{
		{minor: "1.32", version: "v1.32.4"},
		{minor: "1.36", version: "v1.36.3"},
	}
}

func main() {
	out := flag.String("out", "", "output directory (default: internal/apidocs/data of this module)")
	flag.Parse()
	log.SetFlags(0)

	if *out == "" {
		root, err := moduleRoot()
		if err != nil {
			log.Fatal(err)
		}
		*out = filepath.Join(root, "internal", "apidocs", "data")
	}
	for _, rel := range releases() {
		src, err := downloadDir("k8s.io/kubernetes", rel.version)
		if err != nil {
			log.Fatal(err)
		}
		dst := filepath.Join(*out, "v"+rel.minor)
		if err := generate(rel, src, dst); err != nil {
			log.Fatalf("%s: %v", rel.version, err)
		}
	}
}

// moduleRoot finds the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module; run from the project or pass -out")
	}
	return filepath.Dir(gomod), nil
}

// downloadDir returns the module cache directory of path@version. It runs outside the main
// module so go.mod and go.sum stay untouched.
func downloadDir(path, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", path+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(b, &info); jerr != nil && err == nil {
		err = jerr
	}
	if err != nil || info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %v %s %s", path, version, err, info.Error, stderr.String())
	}
	return info.Dir, nil
}

var gaVersion = regexp.MustCompile(`^v[0-9]+$`)

// generate writes the served subset of one release's documents, and the objects its
// kube-apiserver creates at start-up, from the module at root into dst.
func generate(rel release, root, dst string) error {
	src := filepath.Join(root, "api")
	discDir := filepath.Join(src, "discovery")
	v3Dir := filepath.Join(src, "openapi-spec", "v3")

	var groups map[string]any
	if err := readJSON(filepath.Join(discDir, "apis.json"), &groups); err != nil {
		return err
	}
	served := func(group, version string) bool {
		return gaVersion.MatchString(version) || slices.Contains(rel.betas, group+"/"+version)
	}
	// served group-versions in discovery order; the group's preferred version first.
	servedGroups := filterGroupList(groups, served)
	var gvs []string
	for _, g := range servedGroups {
		for _, v := range g.versions {
			gvs = append(gvs, g.name+"/"+v)
		}
	}

	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	w := writer{dir: dst}

	// Legacy discovery.
	w.copy(filepath.Join(discDir, "api.json"), "discovery/api.json")
	w.copy(filepath.Join(discDir, "api__v1.json"), "discovery/api__v1.json")
	w.json("discovery/apis.json", groups)
	for _, g := range servedGroups {
		var group map[string]any
		if err := readJSON(filepath.Join(discDir, "apis__"+g.name+".json"), &group); err != nil {
			return err
		}
		filterGroup(group, served)
		w.json("discovery/apis__"+g.name+".json", group)
		for _, v := range g.versions {
			w.copy(filepath.Join(discDir, "apis__"+g.name+"__"+v+".json"), "discovery/apis__"+g.name+"__"+v+".json")
		}
	}

	// Aggregated discovery (no core group in the published file; apidocs derives it from api__v1).
	var agg map[string]any
	if err := readJSON(filepath.Join(discDir, "aggregated_v2.json"), &agg); err != nil {
		return err
	}
	aggGVs, err := filterAggregated(agg, served)
	if err != nil {
		return err
	}
	if !slices.Equal(aggGVs, gvs) {
		return fmt.Errorf("aggregated_v2.json serves %v, apis.json %v", aggGVs, gvs)
	}
	w.json("discovery/aggregated_v2.json", agg)

	// OpenAPI: swagger.json whole (only its definitions are used), v3 for served group-versions
	// plus the documents of the non-resource paths (/api, /apis, /apis/<group>, /version, /logs,
	// /openid/v1/jwks) whose schemas the generic apiserver's own routes reference.
	w.copy(filepath.Join(src, "openapi-spec", "swagger.json"), "openapi/swagger.json")
	w.copy(filepath.Join(v3Dir, "api__v1_openapi.json"), "openapi/v3/api__v1_openapi.json")
	for _, g := range servedGroups {
		w.copy(filepath.Join(v3Dir, "apis__"+g.name+"_openapi.json"), "openapi/v3/apis__"+g.name+"_openapi.json")
		for _, v := range g.versions {
			name := "apis__" + g.name + "__" + v + "_openapi.json"
			w.copy(filepath.Join(v3Dir, name), "openapi/v3/"+name)
		}
	}
	entries, err := os.ReadDir(v3Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if name := e.Name(); !strings.HasPrefix(name, "apis__") && name != "api__v1_openapi.json" {
			w.copy(filepath.Join(v3Dir, name), "openapi/v3/"+name)
		}
	}

	servedGVs := append([]string{"v1"}, gvs...)
	counts, err := writeBootstrap(&w, root, servedGVs)
	if err != nil {
		return fmt.Errorf("bootstrap objects: %w", err)
	}

	deletes, err := deleteReturnsObject(v3Dir, servedGroups)
	if err != nil {
		return fmt.Errorf("delete responses: %w", err)
	}

	meta := map[string]any{
		"minor":         rel.minor,
		"gitVersion":    rel.version,
		"source":        "k8s.io/kubernetes@" + rel.version + " api/discovery, api/openapi-spec, " + rbacDir + ", " + strings.Join(priorityFiles, ", "),
		"groupVersions": servedGVs,
		"bootstrap":     counts,
		// Resources whose DELETE answers with the object, from the v3 documents' delete responses.
		"deleteReturnsObject": deletes,
	}
	w.plain("meta.json", meta)
	if w.err != nil {
		return w.err
	}
	log.Printf("%s (%s): %d groups, %d group-versions, %d files, %d bytes gzipped",
		rel.minor, rel.version, len(servedGroups), len(gvs)+1, w.files, w.bytes)
	return nil
}

type servedGroup struct {
	name     string
	versions []string
}

// filterGroupList drops unserved versions and empty groups from an APIGroupList in place.
func filterGroupList(list map[string]any, served func(g, v string) bool) []servedGroup {
	var kept []any
	var out []servedGroup
	for _, item := range list["groups"].([]any) {
		group := item.(map[string]any)
		if vs := filterGroup(group, served); len(vs) > 0 {
			kept = append(kept, group)
			out = append(out, servedGroup{name: group["name"].(string), versions: vs})
		}
	}
	list["groups"] = kept
	return out
}

// filterGroup drops unserved versions from an APIGroup in place, keeping the preferred version
// if served and otherwise promoting the first remaining one, as the aggregator would.
func filterGroup(group map[string]any, served func(g, v string) bool) []string {
	name := group["name"].(string)
	var kept []any
	var versions []string
	for _, item := range group["versions"].([]any) {
		v := item.(map[string]any)["version"].(string)
		if served(name, v) {
			kept = append(kept, item)
			versions = append(versions, v)
		}
	}
	group["versions"] = kept
	if len(kept) > 0 {
		pref := group["preferredVersion"].(map[string]any)["version"].(string)
		if !served(name, pref) {
			group["preferredVersion"] = kept[0]
		}
	}
	return versions
}

// filterAggregated drops unserved versions and empty groups from an APIGroupDiscoveryList in
// place and returns the remaining group-versions in order.
func filterAggregated(list map[string]any, served func(g, v string) bool) ([]string, error) {
	var kept []any
	var gvs []string
	for _, item := range list["items"].([]any) {
		group := item.(map[string]any)
		name, _ := group["metadata"].(map[string]any)["name"].(string)
		if name == "" {
			return nil, errors.New("aggregated_v2.json unexpectedly lists the core group")
		}
		var versions []any
		for _, vi := range group["versions"].([]any) {
			v := vi.(map[string]any)["version"].(string)
			if served(name, v) {
				versions = append(versions, vi)
				gvs = append(gvs, name+"/"+v)
			}
		}
		if len(versions) > 0 {
			group["versions"] = versions
			kept = append(kept, group)
		}
	}
	list["items"] = kept
	return gvs, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers exactly as published
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writer writes gzipped files under dir and remembers the first error.
type writer struct {
	dir          string
	err          error
	files, bytes int
}

// copy stores a published document byte for byte.
func (w *writer) copy(src, name string) {
	if w.err != nil {
		return
	}
	b, err := os.ReadFile(src)
	if err != nil {
		w.err = err
		return
	}
	w.gzip(name, b)
}

// json stores a filtered document in the published layout (sorted keys, two-space indent).
func (w *writer) json(name string, v any) {
	if b, err := marshal(v); err != nil {
		w.err = errors.Join(w.err, fmt.Errorf("%s: %w", name, err))
	} else {
		w.gzip(name, b)
	}
}

// plain stores a small uncompressed JSON file (meta.json stays readable in diffs).
func (w *writer) plain(name string, v any) {
	b, err := marshal(v)
	if err == nil {
		err = w.write(name, b)
	}
	w.err = errors.Join(w.err, err)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// gzip compresses with an empty header (no name, no mtime) so output is reproducible.
func (w *writer) gzip(name string, b []byte) {
	if w.err != nil {
		return
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err == nil {
		_, err = zw.Write(b)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = w.write(name+".gz", buf.Bytes())
	}
	w.err = err
}

func (w *writer) write(name string, b []byte) error {
	path := filepath.Join(w.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, fs.FileMode(0o644)); err != nil {
		return err
	}
	w.files++
	w.bytes += len(b)
	return nil
}
