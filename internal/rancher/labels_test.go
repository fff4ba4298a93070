package rancher

import (
	"strings"
	"testing"
)

func TestOwnerLabels(t *testing.T) {
	tests := []struct {
		run     string
		wantErr bool
	}{
		{"run-20261126-0250", false},
		{"a", false},
		{"", true},
		{"has space", true},
		{"-leading-dash", true},
		{strings.Repeat("x", 64), true},
	}
	for _, tt := range tests {
		l, err := OwnerLabels(tt.run)
		if (err != nil) != tt.wantErr {
			t.Errorf("OwnerLabels(%q): %v", tt.run, err)
			continue
		}
		if err == nil && (!OwnedBy(l, tt.run) || !OwnedBy(l, "") || OwnedBy(l, tt.run+"x")) {
			t.Errorf("OwnedBy disagrees with OwnerLabels(%q) = %v", tt.run, l)
		}
	}
	if OwnedBy(map[string]string{LabelRun: "r"}, "r") {
		t.Error("a run label without the managed-by label counts as ours")
	}
	if OwnedBy(nil, "") {
		t.Error("no labels counts as ours")
	}
}
