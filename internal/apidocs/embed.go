package apidocs

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// data holds data/v<minor>/{meta.json,discovery/*.json.gz,openapi/...}, written by hack/apidocs.
// "all:" because one v3 document, .well-known__openid-configuration_openapi.json.gz, is a dot file.
//
//go:embed all:data
var data embed.FS

// Minors returns the emulated minor versions that have documents, oldest first.
func Minors() []string {
	entries, _ := fs.ReadDir(data, "data") // cannot fail: the directory is embedded
	var minors []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "v") {
			minors = append(minors, strings.TrimPrefix(e.Name(), "v"))
		}
	}
	slices.SortFunc(minors, compareMinor)
	return minors
}

// compareMinor orders "1.9" before "1.32" (numerically, not as strings).
func compareMinor(a, b string) int {
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	for i := range min(len(pa), len(pb)) {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea != nil || eb != nil {
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
			continue
		}
		if na != nb {
			return na - nb
		}
	}
	return len(pa) - len(pb)
}

// readGz returns the decompressed content of data/v<minor>/<name>.gz.
func readGz(minor, name string) ([]byte, error) {
	p := path.Join("data", "v"+minor, name+".gz")
	f, err := data.Open(p)
	if err != nil {
		return nil, fmt.Errorf("apidocs: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("apidocs: %s: %w", p, err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, zr); err != nil {
		return nil, fmt.Errorf("apidocs: %s: %w", p, err)
	}
	return buf.Bytes(), nil
}

// listGz returns the names (without ".gz") of the files in data/v<minor>/<dir>, sorted.
func listGz(minor, dir string) ([]string, error) {
	entries, err := fs.ReadDir(data, path.Join("data", "v"+minor, dir))
	if err != nil {
		return nil, fmt.Errorf("apidocs: %w", err)
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".gz"); ok && !e.IsDir() {
			names = append(names, path.Join(dir, name))
		}
	}
	return names, nil
}
