package mockapi

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestLegacyTokenLastUsed: a request authenticated by a Secret's token labels that Secret
// with the day's date, as kube-apiserver's legacy token tracking does, unless the label says
// today or tomorrow already; TokenRequest tokens and the agent's token label nothing.
func TestLegacyTokenLastUsed(t *testing.T) {
	ctx := context.Background()
	c, cfg := testCluster(t)
	admin := kubernetes.NewForConfigOrDie(cfg)
	now := time.Now().UTC()
	today, yesterday, tomorrow := now.Format(time.DateOnly), now.AddDate(0, 0, -1).Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)
	tests := []struct {
		name      string
		label     string // the label before the request; "" for none
		want      string
		unchanged bool // the Secret is not written
	}{
		{name: "never used", want: today},
		{name: "used yesterday", label: yesterday, want: today},
		{name: "used today", label: today, want: today, unchanged: true},
		{name: "tomorrow (clock skew)", label: tomorrow, want: tomorrow, unchanged: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sa, err := admin.CoreV1().ServiceAccounts("default").Create(ctx,
				&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa-" + string(rune('a'+i))}}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sec, err := admin.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{GenerateName: sa.Name + "-token-", Annotations: map[string]string{corev1.ServiceAccountNameKey: sa.Name}},
				Type:       corev1.SecretTypeServiceAccountToken,
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(sec.Data[corev1.ServiceAccountTokenKey]) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("token controller did not fill the Secret")
				}
				time.Sleep(20 * time.Millisecond)
				if sec, err = admin.CoreV1().Secrets("default").Get(ctx, sec.Name, metav1.GetOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.label != "" {
				sec.Labels = map[string]string{legacyTokenLastUsedLabel: tt.label}
				if sec, err = admin.CoreV1().Secrets("default").Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			user := *cfg
			user.BearerToken = string(sec.Data[corev1.ServiceAccountTokenKey])
			if _, err := kubernetes.NewForConfigOrDie(&user).CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
				t.Fatalf("request with the Secret's token: %v", err)
			}
			after, err := admin.CoreV1().Secrets("default").Get(ctx, sec.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := after.Labels[legacyTokenLastUsedLabel]; got != tt.want {
				t.Errorf("label %q, want %q", got, tt.want)
			}
			if same := after.ResourceVersion == sec.ResourceVersion; same != tt.unchanged {
				t.Errorf("resourceVersion %s → %s; want unchanged %v", sec.ResourceVersion, after.ResourceVersion, tt.unchanged)
			}
		})
	}

	t.Run("tokens not from a Secret", func(t *testing.T) {
		tok, err := c.ServiceAccountToken("cattle-system", "cattle")
		if err != nil {
			t.Fatal(err)
		}
		rv := c.Store().ResourceVersion()
		user := *cfg
		user.BearerToken = tok
		if _, err := kubernetes.NewForConfigOrDie(&user).CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := c.Store().ResourceVersion(); got != rv {
			t.Errorf("a request with the agent's token wrote to the store (resourceVersion %d → %d)", rv, got)
		}
	})
}
