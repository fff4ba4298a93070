package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPriorityTable: entries of both files are read, the second overriding the first, as
// kube-apiserver merges its additions over the generic table; a file without the table fails.
func TestPriorityTable(t *testing.T) {
	entry := func(g, v string, gp, vp int) string {
		return "\t{Group: \"" + g + "\", Version: \"" + v + "\"}: {Group: " + strconv.Itoa(gp) + ", Version: " + strconv.Itoa(vp) + "},\n"
	}
	var generic, kube strings.Builder
	generic.WriteString("package x\n\nfunc DefaultGenericAPIServicePriorities() map[schema.GroupVersion]APIServicePriority {\n\treturn map[schema.GroupVersion]APIServicePriority{\n")
	kube.WriteString("package x\n\nvar apiVersionPriorities = merge(DefaultGenericAPIServicePriorities(), map[schema.GroupVersion]APIServicePriority{\n")
	for i := range 10 {
		generic.WriteString(entry("g"+strconv.Itoa(i)+".k8s.io", "v1", 16000+i, 15))
		kube.WriteString(entry("k"+strconv.Itoa(i), "v1", 17000+i, 15))
	}
	generic.WriteString(entry("", "v1", 1, 1) + entry("resource.k8s.io", "v1alpha3", 15900, 9) + "\t}\n}\n")
	kube.WriteString(entry("", "v1", 18000, 1) + entry("resource.k8s.io", "v1alpha3", 16200, 1) + "})\n")

	root := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(priorityFiles[0], generic.String())
	write(priorityFiles[1], kube.String())
	table, err := priorityTable(root)
	if err != nil {
		t.Fatal(err)
	}
	for gv, want := range map[string]priority{
		"v1": {18000, 1}, "resource.k8s.io/v1alpha3": {16200, 1}, "g3.k8s.io/v1": {16003, 15}, "k9/v1": {17009, 15},
	} {
		if got := table[gv]; got != want {
			t.Errorf("%s: %+v, want %+v", gv, got, want)
		}
	}
	if len(table) != 22 {
		t.Errorf("%d entries, want 22", len(table))
	}

	write(priorityFiles[1], "package x\n\nvar apiVersionPriorities = map[string]int{}\n")
	if _, err := priorityTable(root); err == nil || !strings.Contains(err.Error(), "expected the table") {
		t.Errorf("a file without the table: error %v", err)
	}
}

// TestAPIServices: one per served group-version in the table, named version.group ("v1." for
// the core group), labelled and available as kube-apiserver registers its own.
func TestAPIServices(t *testing.T) {
	table := map[string]priority{"v1": {18000, 1}, "apps/v1": {17800, 15}, "autoscaling/v2": {17500, 30}}
	items := apiServices([]string{"v1", "apiregistration.k8s.io/v1", "apps/v1", "autoscaling/v2"}, table)
	var names []string
	for _, it := range items {
		names = append(names, it["metadata"].(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "v1.,v1.apps,v2.autoscaling" {
		t.Fatalf("names %v", names)
	}
	core := items[0]
	spec := core["spec"].(map[string]any)
	if _, ok := spec["group"]; ok || spec["version"] != "v1" || spec["groupPriorityMinimum"] != int64(18000) || spec["versionPriority"] != int64(1) {
		t.Errorf("core spec %v", spec)
	}
	if l := core["metadata"].(map[string]any)["labels"].(map[string]any); l["kube-aggregator.kubernetes.io/automanaged"] != "onstart" {
		t.Errorf("labels %v", l)
	}
	cond := core["status"].(map[string]any)["conditions"].([]any)[0].(map[string]any)
	if cond["type"] != "Available" || cond["status"] != "True" || cond["reason"] != "Local" {
		t.Errorf("condition %v", cond)
	}
	if g := items[2]["spec"].(map[string]any)["group"]; g != "autoscaling" {
		t.Errorf("v2.autoscaling group %v", g)
	}
}
