package tunnel

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
)

// TestImportManifestURL: a registration token's manifestUrl serves the import manifest
// with that token, without authentication, as kubectl apply -f <url> reads it; unknown
// tokens and clusters are 404.
func TestImportManifestURL(t *testing.T) {
	env := epStart(t, nil)
	if err := env.e.ConfigureAPI(APIOptions{TokenDelay: -1}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := apiClient(t, env, rancher.TokenAuth(env.e.AdminToken()))
	v3, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0001"})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := c.CreateCluster(ctx, rancher.ClusterSpec{Name: "sim-0002", API: rancher.APIv1})
	if err != nil {
		t.Fatal(err)
	}
	tok3, err := c.WaitForRegistrationToken(ctx, v3.ID, rancher.TokenWaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok1, err := c.WaitForRegistrationToken(ctx, v1.ID, rancher.TokenWaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(url string) (int, []byte) {
		t.Helper()
		resp, err := env.httpClient().Get(url) // no Authorization, as kubectl sends none
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	base := env.e.URL() + "/v3/import/"
	tests := []struct {
		name, url string
		token     string // the manifest's; "" for a 404
	}{
		{"v3 cluster", tok3.ManifestURL, tok3.Token},
		{"v1 cluster", tok1.ManifestURL, tok1.Token},
		{"unknown token", base + strings.Repeat("x", tokenLength) + "_" + v3.ID + ".yaml", ""},
		{"token of another cluster", base + tok1.Token + "_" + v3.ID + ".yaml", ""},
		{"unknown cluster", base + tok3.Token + "_c-zzzzz.yaml", ""},
		{"no cluster", base + tok3.Token + ".yaml", ""},
		{"not yaml", base + tok3.Token + "_" + v3.ID + ".json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(tt.url)
			if tt.token == "" {
				if code != http.StatusNotFound {
					t.Fatalf("%d, want 404", code)
				}
				return
			}
			if code != http.StatusOK {
				t.Fatalf("%d: %s", code, body)
			}
			want, err := RenderImportManifest(ManifestValues{ServerURL: env.e.URL(), Token: tt.token, CAChecksum: env.e.CAChecksum()})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, want) {
				t.Error("the manifest is not the one rendered for the token")
			}
			objs := decodeManifest(t, body)
			kinds := map[string]*unstructured.Unstructured{}
			for _, o := range objs {
				kinds[o.GetKind()+"/"+o.GetName()] = o
			}
			secret := kinds["Secret/"+CredentialSecretName(env.e.URL(), tt.token, "")]
			if secret == nil || kinds["Deployment/cattle-cluster-agent"] == nil || kinds["Namespace/cattle-system"] == nil {
				t.Fatalf("objects %v", keys(kinds))
			}
			enc, _, _ := unstructured.NestedString(secret.Object, "data", "token")
			if dec, _ := base64.StdEncoding.DecodeString(enc); string(dec) != tt.token {
				t.Errorf("the Secret carries token %q", dec)
			}
		})
	}
}

// decodeManifest reads the YAML documents as kubectl's builder does.
func decodeManifest(t *testing.T, b []byte) []*unstructured.Unstructured {
	t.Helper()
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := d.Decode(&m); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("document %d: %v", len(out)+1, err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			t.Fatalf("document %d has no kind or apiVersion: %v", len(out)+1, m)
		}
		out = append(out, u)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
