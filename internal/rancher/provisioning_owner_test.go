package rancher

import "testing"

func TestProvisioningOwner(t *testing.T) {
	owned := map[string]string{
		annotationOwnerGVK: provisioningClusterGVK, annotationOwnerName: "sim-0001", annotationOwnerNamespace: "fleet-default",
	}
	tests := []struct {
		name     string
		c        *Cluster
		ns, prov string
		ok       bool
	}{
		{"nil", nil, "", "", false},
		{"v3, no annotations", &Cluster{ID: "c-abcde"}, "", "", false},
		{"v1", &Cluster{ID: "c-m-12345678", Annotations: owned}, "fleet-default", "sim-0001", true},
		{"owned by something else", &Cluster{Annotations: map[string]string{
			annotationOwnerGVK: "management.cattle.io/v3, Kind=Cluster", annotationOwnerName: "x", annotationOwnerNamespace: "y",
		}}, "", "", false},
		{"no owner name", &Cluster{Annotations: map[string]string{annotationOwnerGVK: provisioningClusterGVK, annotationOwnerNamespace: "fleet-default"}}, "fleet-default", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, name, ok := ProvisioningOwner(tt.c)
			if ok != tt.ok || ok && (ns != tt.ns || name != tt.prov) {
				t.Errorf("got %q %q %v, want %q %q %v", ns, name, ok, tt.ns, tt.prov, tt.ok)
			}
		})
	}
}

func TestParseAPI(t *testing.T) {
	tests := []struct {
		in      string
		want    API
		wantErr bool
	}{
		{"", APIv3, false}, {"v3", APIv3, false}, {"V1", APIv1, false}, {" v1 ", APIv1, false}, {"v2", "", true}, {"steve", "", true},
	}
	for _, tt := range tests {
		got, err := ParseAPI(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseAPI(%q) = %q, %v", tt.in, got, err)
		}
	}
}
