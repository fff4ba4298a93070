package mockapi

import (
	"context"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rancher/scale-cluster-agent/internal/pki"
)

// newTestServer returns a server with a CA in dir, logging warnings only.
func newTestServer(t *testing.T, dir string, history int) (*Server, []byte) {
	t.Helper()
	auth, err := pki.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := auth.ServingCert()
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	return NewServer(Options{ServingCert: cert, CACert: auth.CertPEM, WatchHistory: history, Log: logrus.NewEntry(log)}), auth.CertPEM
}

// testCluster serves one cluster holding objects and returns a client config for it.
func testCluster(t *testing.T, objects ...runtime.Object) (*Cluster, *rest.Config) {
	t.Helper()
	srv, ca := newTestServer(t, t.TempDir(), 0)
	base := []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: map[string]string{corev1.LabelMetadataName: "default"}},
			Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
	}
	c, err := srv.AddCluster(ClusterSpec{Name: "test", AdminToken: "admin-token", Objects: append(base, objects...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return c, &rest.Config{
		Host:            c.URL(),
		BearerToken:     c.AdminToken(),
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS:             -1,
	}
}

func TestSmoke(t *testing.T) {
	_, cfg := testCluster(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("version %s", v.GitVersion)
	cm, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("created rv=%s uid=%s", cm.ResourceVersion, cm.UID)
	l, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 {
		t.Fatalf("got %d items", len(l.Items))
	}
}

func TestServiceAccountToken(t *testing.T) {
	c, cfg := testCluster(t)
	tok, err := c.ServiceAccountToken("cattle-system", "cattle")
	if err != nil {
		t.Fatal(err)
	}
	cfg.BearerToken = tok
	cs := kubernetes.NewForConfigOrDie(cfg)
	ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ssr.Status.UserInfo.Username; got != "system:serviceaccount:cattle-system:cattle" {
		t.Fatalf("token authenticates as %q", got)
	}
	if _, err := cs.CoreV1().ServiceAccounts("cattle-system").Get(context.Background(), "cattle", metav1.GetOptions{}); err != nil {
		t.Fatalf("service account not created: %v", err)
	}
	again, err := c.ServiceAccountToken("cattle-system", "cattle")
	if err != nil || again == "" {
		t.Fatalf("second token: %q %v", again, err)
	}
}
