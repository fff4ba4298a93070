package tunnel

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// deployKubectl skips the test when there is no kubectl, and under the race detector: a
// kubectl apply keeps the endpoint writing into the tunnel for a second or more, and
// remotedialer v0.6.1's server sets the websocket write deadline from its ping handler
// without the write lock (wsWrapper.setupDeadline), which -race reports when the agent's
// 5-second ping lands during a write. TestAgentDeployerConcurrency covers Deploy under -race
// with a stand-in kubectl.
func deployKubectl(t *testing.T) string {
	t.Helper()
	if raceEnabled {
		t.Skip("real kubectl through a tunnel trips remotedialer v0.6.1's ping-handler race under -race")
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skipf("no kubectl: %v", err)
	}
	return p
}

// deployCluster starts an endpoint, a mock cluster and the real Agent for it, and waits
// until the endpoint sees the cluster ready.
func deployCluster(t *testing.T) (*epEnv, string) {
	t.Helper()
	env := epStart(t, nil)
	mc := epMockCluster(t, env)
	a := NewAgent(mc.Name(), AgentOptions{
		ServerURL: env.e.URL(),
		Token:     env.e.Register(mc.Name()),
		Params:    ClusterParams{Address: mc.Address(), Token: mc.AdminToken(), CACert: base64.StdEncoding.EncodeToString(env.auth.CertPEM)},
		Dialer:    NewWebsocketDialer(env.pool, 5*time.Second),
		Backoff:   Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond, Jitter: 0.2, ResetAfter: time.Second},
		Log:       epQuietLog().WithField("cluster", mc.Name()),
	})
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		a.Run(ctx)
	}()
	// Before the endpoint's Shutdown (t.Cleanup runs last-registered first): the endpoint
	// goes first, then the agent, as in TestEndpointWithAgent.
	env.cleanup(func() {
		stop()
		<-stopped
	})
	epWait(t, 20*time.Second, "ready", func() bool { return epState(t, env.e, mc.Name()).Ready })
	return env, mc.Name()
}

// TestAgentDeployerMockCluster applies the real import manifest with the real kubectl through
// the tunnel to a mock cluster: every object exists afterwards, and a second apply changes
// nothing.
func TestAgentDeployerMockCluster(t *testing.T) {
	kubectl := deployKubectl(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the kubeconfig and kubectl's cache go, checked below
	env, name := deployCluster(t)
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	d := &AgentDeployer{KubectlPath: kubectl, Retries: 1, Log: logrus.NewEntry(log)}
	manifest, err := RenderImportManifest(ManifestValues{
		ServerURL: env.e.URL(), Token: env.e.Register(name), ClusterID: name,
		CAChecksum: env.e.CAChecksum(), Features: ClusterDeployFeatures,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	start, cpu := time.Now(), deployCPU()
	out, err := d.DeployOutput(ctx, env.e, name, manifest)
	if err != nil {
		t.Fatal(err)
	}
	// This process's CPU: proxy, tunnel (both ends) and the mock API.
	t.Logf("first apply in %v, %v CPU in this process:\n%s", time.Since(start).Round(time.Millisecond), (deployCPU() - cpu).Round(time.Millisecond), out)
	cfg, err := env.e.RESTConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer utilnet.CloseIdleConnectionsFor(hc.Transport)
	cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	secret := CredentialSecretName(env.e.URL(), env.e.Register(name), name)
	checks := []struct {
		what string
		get  func(context.Context) error
	}{
		{"namespace cattle-system", func(ctx context.Context) error {
			_, err := cs.CoreV1().Namespaces().Get(ctx, "cattle-system", metav1.GetOptions{})
			return err
		}},
		{"serviceaccount cattle", func(ctx context.Context) error {
			_, err := cs.CoreV1().ServiceAccounts("cattle-system").Get(ctx, "cattle", metav1.GetOptions{})
			return err
		}},
		{"secret " + secret, func(ctx context.Context) error {
			s, err := cs.CoreV1().Secrets("cattle-system").Get(ctx, secret, metav1.GetOptions{})
			if err == nil && (string(s.Data["url"]) != env.e.URL() || string(s.Data["namespace"]) != name) {
				return errors.New("wrong data")
			}
			return err
		}},
		{"deployment cattle-cluster-agent", func(ctx context.Context) error {
			dep, err := cs.AppsV1().Deployments("cattle-system").Get(ctx, "cattle-cluster-agent", metav1.GetOptions{})
			if err == nil && dep.Spec.Template.Spec.Containers[0].Image != DefaultAgentImage {
				return errors.New("wrong image " + dep.Spec.Template.Spec.Containers[0].Image)
			}
			return err
		}},
		{"service cattle-cluster-agent", func(ctx context.Context) error {
			_, err := cs.CoreV1().Services("cattle-system").Get(ctx, "cattle-cluster-agent", metav1.GetOptions{})
			return err
		}},
		{"clusterrole cattle-admin", func(ctx context.Context) error {
			_, err := cs.RbacV1().ClusterRoles().Get(ctx, "cattle-admin", metav1.GetOptions{})
			return err
		}},
		{"clusterrole proxy-clusterrole-kubeapiserver", func(ctx context.Context) error {
			_, err := cs.RbacV1().ClusterRoles().Get(ctx, "proxy-clusterrole-kubeapiserver", metav1.GetOptions{})
			return err
		}},
		{"clusterrolebinding cattle-admin-binding", func(ctx context.Context) error {
			_, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "cattle-admin-binding", metav1.GetOptions{})
			return err
		}},
		{"clusterrolebinding proxy-role-binding-kubernetes-master", func(ctx context.Context) error {
			_, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "proxy-role-binding-kubernetes-master", metav1.GetOptions{})
			return err
		}},
	}
	for _, c := range checks {
		if err := c.get(ctx); err != nil {
			t.Errorf("%s: %v", c.what, err)
		}
	}

	// Rancher re-applies the same manifest when it redeploys: nothing is created again.
	out, err = d.DeployOutput(ctx, env.e, name, manifest)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second apply:\n%s", out)
	for _, e := range hook.AllEntries() {
		if e.Message == "kubectl apply done" {
			t.Logf("kubectl run: wall %v, cpu %v", e.Data["wall"], e.Data["cpu"])
			if e.Data["cluster"] != name {
				t.Errorf("log line without the cluster: %v", e.Data)
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 9 {
		t.Errorf("second apply reported %d objects, want 9", len(lines))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, " unchanged") && !strings.HasSuffix(l, " configured") {
			t.Errorf("second apply: %q", l)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestAgentDeployerFailure: kubectl's complaint reaches the error, after every try.
func TestAgentDeployerFailure(t *testing.T) {
	kubectl := deployKubectl(t)
	env, name := deployCluster(t)
	d := &AgentDeployer{KubectlPath: kubectl, Retries: 2, RetryInterval: 10 * time.Millisecond, Log: epQuietLog()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bad := []byte("apiVersion: v1\nkind: NoSuchKind\nmetadata:\n  name: x\n")
	err := d.Deploy(ctx, env.e, name, bad)
	var de *DeployError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T), want a *DeployError", err, err)
	}
	if de.Tries != 2 || de.Cluster != name || !strings.Contains(de.Stderr, "NoSuchKind") || !strings.Contains(err.Error(), de.Stderr) {
		t.Errorf("error: %+v\n%v", de, err)
	}
	t.Logf("%v", err)

	// No main tunnel: every try fails before kubectl runs.
	env.e.Register("never")
	err = d.Deploy(ctx, env.e, "never", bad)
	if !errors.As(err, &de) || de.Tries != 2 || !strings.Contains(err.Error(), "not connected") {
		t.Errorf("cluster without tunnel: %v", err)
	}

	// The context ends the waits between tries.
	slow := &AgentDeployer{KubectlPath: kubectl, Retries: 5, RetryInterval: time.Hour, Log: epQuietLog()}
	cctx, ccancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer ccancel()
	start := time.Now()
	err = slow.Deploy(cctx, env.e, "never", bad)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled deploy: %v after %v", err, time.Since(start))
	}

	// No kubectl at all.
	none := &AgentDeployer{KubectlPath: filepath.Join(t.TempDir(), "kubectl"), Retries: 1, Log: epQuietLog()}
	if err := none.Deploy(ctx, env.e, name, bad); err == nil {
		t.Error("deploy without a kubectl binary succeeded")
	}
}

// fakeKubectl is a stand-in kubectl: it keeps its stdin, its arguments and the mode of the
// kubeconfig it was given, counts the runs in progress, and exits with code (printing
// stderr) after a pause.
const fakeKubectl = `#!/bin/sh
d="$FAKE_KUBECTL_DIR"
me="$d/run.$$"
cat > "$me"
echo "$@" > "$d/args"
stat -c %a "$2" > "$d/mode"
ls "$d" | grep -c '^run\.' >> "$d/counts"
sleep 0.2
cp "$me" "$d/stdin"
rm -f "$me"
if [ -n "$FAKE_KUBECTL_FAIL" ]; then
	echo "$FAKE_KUBECTL_FAIL" >&2
	exit 3
fi
echo "namespace/cattle-system unchanged"
`

// TestAgentDeployerConcurrency: one deployer runs at most Concurrency kubectl processes for
// all clusters, hands each the manifest on stdin and a private kubeconfig, cleans up, and
// reports a failing kubectl's stderr (tokens redacted) after Retries tries.
func TestAgentDeployerConcurrency(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh for the stand-in kubectl")
	}
	dir, tmp := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("FAKE_KUBECTL_DIR", dir)
	bin := filepath.Join(t.TempDir(), "kubectl")
	if err := os.WriteFile(bin, []byte(fakeKubectl), 0o755); err != nil {
		t.Fatal(err)
	}
	env := epStart(t, nil)
	proxyCluster(t, env, "a")
	proxyCluster(t, env, "b")
	d := &AgentDeployer{KubectlPath: bin, Concurrency: 2, Retries: 2, RetryInterval: 10 * time.Millisecond, Log: epQuietLog()}
	manifest := []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cattle-system\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	errs := make(chan error, 6)
	for i := range 6 {
		go func() {
			out, err := d.DeployOutput(ctx, env.e, []string{"a", "b"}[i%2], manifest)
			if err == nil && string(out) != "namespace/cattle-system unchanged\n" {
				err = errors.New("output " + string(out))
			}
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	counts, _ := os.ReadFile(filepath.Join(dir, "counts"))
	for _, f := range strings.Fields(string(counts)) {
		if n, err := strconv.Atoi(f); err != nil || n > 2 {
			t.Errorf("%s kubectl runs at once, Concurrency is 2", f)
		}
	}
	if n := len(strings.Fields(string(counts))); n != 6 {
		t.Errorf("%d kubectl runs, want 6", n)
	}
	if stdin, _ := os.ReadFile(filepath.Join(dir, "stdin")); string(stdin) != string(manifest) {
		t.Errorf("kubectl's stdin: %q", stdin)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if f := strings.Fields(string(args)); len(f) != 7 || f[0] != "--kubeconfig" || f[2] != "--cache-dir" ||
		strings.Join(f[4:], " ") != "apply -f -" {
		t.Errorf("kubectl's arguments: %q", args)
	}
	if mode, _ := os.ReadFile(filepath.Join(dir, "mode")); strings.TrimSpace(string(mode)) != "600" {
		t.Errorf("kubeconfig mode %q", mode)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	t.Setenv("FAKE_KUBECTL_FAIL", `error: Secret "x" is invalid: {"token":"s3cret"}`)
	err := d.Deploy(ctx, env.e, "a", manifest)
	var de *DeployError
	if !errors.As(err, &de) || de.Tries != 2 || de.Stderr != `error: Secret "x" is invalid: {"token":"REDACTED"}` ||
		!strings.Contains(err.Error(), "exit status 3") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("failing kubectl: %v", err)
	}
}

func deployCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestGuardBearer(t *testing.T) {
	var got *http.Request
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r })
	h := guardBearer("s3cret", "/k8s/clusters/c-1", next)
	tests := []struct {
		name, auth, target string
		code               int
		path               string
	}{
		{"no token", "", "/k8s/clusters/c-1/api", 401, ""},
		{"wrong token", "Bearer nope", "/k8s/clusters/c-1/api", 401, ""},
		{"other cluster", "Bearer s3cret", "/k8s/clusters/c-2/api", 404, ""},
		{"prefix of a longer name", "Bearer s3cret", "/k8s/clusters/c-10/api", 404, ""},
		{"outside the prefix", "Bearer s3cret", "/api", 404, ""},
		{"root", "Bearer s3cret", "/k8s/clusters/c-1", 200, "/"},
		{"path", "Bearer s3cret", "/k8s/clusters/c-1/apis/apps/v1?watch=true", 200, "/apis/apps/v1"},
		{"escaped", "Bearer s3cret", "/k8s/clusters/c-1/api/v1/namespaces/a%2Fb", 200, "/api/v1/namespaces/a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			req := httptest.NewRequest("GET", tt.target, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Fatalf("code %d, want %d", rec.Code, tt.code)
			}
			if tt.code != 200 {
				if got != nil {
					t.Error("request passed")
				}
				return
			}
			if tt.name == "escaped" && got.URL.EscapedPath() != "/api/v1/namespaces/a%2Fb" {
				t.Errorf("escaped path %s", got.URL.EscapedPath())
			}
			if got.URL.Path != tt.path || got.Header.Get("Authorization") != "" || got.URL.RawQuery != req.URL.RawQuery {
				t.Errorf("passed on %s?%s with Authorization %q", got.URL.Path, got.URL.RawQuery, got.Header.Get("Authorization"))
			}
		})
	}
}

func TestRedactTokens(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Error from server: {"token":"abc","url":"x"}`, `Error from server: {"token":"REDACTED","url":"x"}`},
		{`"data":{"token": "abc"} and {\"token\":\"def\"}`, `"data":{"token": "REDACTED"} and {\"token\":\"REDACTED\"}`},
		{`no secrets here`, `no secrets here`},
	}
	for _, tt := range tests {
		if got := redactTokens(tt.in); got != tt.want {
			t.Errorf("redactTokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAgentDeployerTryOverhead measures what a try costs around kubectl (cluster proxy, TLS
// listener, kubeconfig, temporary directory, clean-up), with /bin/true standing in for
// kubectl, against the fork and exec of /bin/true alone. It is what a listener per try costs
// next to one shared listener, which would save only the listener and the server.
func TestAgentDeployerTryOverhead(t *testing.T) {
	if _, err := os.Stat("/bin/true"); err != nil {
		t.Skip("no /bin/true")
	}
	const n = 20
	start := time.Now()
	for range n {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	}
	execOnly := time.Since(start) / n

	env := epStart(t, nil)
	proxyCluster(t, env, "c")
	d := &AgentDeployer{KubectlPath: "/bin/true", Retries: 1, Log: epQuietLog()}
	if err := d.Deploy(context.Background(), env.e, "c", nil); err != nil { // the deployer's certificate
		t.Fatal(err)
	}
	start, cpu := time.Now(), deployCPU()
	for range n {
		if err := d.Deploy(context.Background(), env.e, "c", nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("per try: %v wall, %v CPU in this process; exec of /bin/true alone: %v",
		(time.Since(start) / n).Round(time.Microsecond), ((deployCPU() - cpu) / n).Round(time.Microsecond), execOnly.Round(time.Microsecond))
}
