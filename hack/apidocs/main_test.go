package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDataUpToDate regenerates every release into a temporary directory and compares it with
// internal/apidocs/data, so hand edits and stale data fail. It needs the k8s.io/kubernetes module
// zips (module cache or proxy).
func TestDataUpToDate(t *testing.T) {
	committed := filepath.Join("..", "..", "internal", "apidocs", "data")
	for _, rel := range releases() {
		t.Run(rel.minor, func(t *testing.T) {
			src, err := downloadDir("k8s.io/kubernetes", rel.version)
			if err != nil {
				t.Fatalf("documents unavailable: %v", err)
			}
			dst := t.TempDir()
			if err := generate(rel, src, dst); err != nil {
				t.Fatal(err)
			}
			want, got := readTree(t, filepath.Join(committed, "v"+rel.minor)), readTree(t, dst)
			for name, b := range got {
				if !bytes.Equal(b, want[name]) {
					t.Errorf("%s differs from the committed data: run `go run ./hack/apidocs`", name)
				}
			}
			for name := range want {
				if _, ok := got[name]; !ok {
					t.Errorf("%s is committed but no longer generated", name)
				}
			}
		})
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestFilter(t *testing.T) {
	served := func(g, v string) bool { return gaVersion.MatchString(v) }
	gv := func(g, v string) any { return map[string]any{"groupVersion": g + "/" + v, "version": v} }
	list := map[string]any{"groups": []any{
		map[string]any{"name": "a", "preferredVersion": gv("a", "v1"), "versions": []any{gv("a", "v1"), gv("a", "v1beta1")}},
		map[string]any{"name": "b", "preferredVersion": gv("b", "v2beta1"), "versions": []any{gv("b", "v2beta1"), gv("b", "v1")}},
		map[string]any{"name": "c", "preferredVersion": gv("c", "v1alpha1"), "versions": []any{gv("c", "v1alpha1")}},
	}}
	groups := filterGroupList(list, served)
	if len(groups) != 2 || groups[0].name != "a" || !slices.Equal(groups[0].versions, []string{"v1"}) ||
		groups[1].name != "b" || !slices.Equal(groups[1].versions, []string{"v1"}) {
		t.Fatalf("served groups %+v", groups)
	}
	b := list["groups"].([]any)[1].(map[string]any)
	if pref := b["preferredVersion"].(map[string]any)["version"]; pref != "v1" {
		t.Errorf("group b prefers %v after its beta was dropped", pref)
	}

	agg := map[string]any{"items": []any{
		map[string]any{"metadata": map[string]any{"name": "a"}, "versions": []any{map[string]any{"version": "v1"}, map[string]any{"version": "v1beta1"}}},
		map[string]any{"metadata": map[string]any{"name": "c"}, "versions": []any{map[string]any{"version": "v1alpha1"}}},
	}}
	gvs, err := filterAggregated(agg, served)
	if err != nil || !slices.Equal(gvs, []string{"a/v1"}) || len(agg["items"].([]any)) != 1 {
		t.Fatalf("aggregated: %v %v %v", gvs, err, agg)
	}
}
