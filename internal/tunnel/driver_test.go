package tunnel

import (
	"context"
	"encoding/base64"
	"os/exec"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestRancherDriver connects one simulated cluster to an endpoint running Rancher's whole
// sequence and follows its conditions to active: Pending/Provisioned on the first main
// tunnel, Connected/Ready/Waiting from the checks, GlobalAdminsSynced from the RBAC sync,
// AgentDeployed after the real kubectl applied the import manifest through the tunnel, then
// Updated.
func TestRancherDriver(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is needed: %v", err)
	}
	// Under the race detector the agent deployment stays out: a second of kubectl traffic
	// through the tunnel meets remotedialer v0.6.1's unsynchronised SetWriteDeadline in its
	// ping handler. Without a deployer the cluster ends like a cluster without nodes in
	// Rancher: active, with no AgentDeployed condition.
	deploy := !raceEnabled
	env := epStart(t, func(o *EndpointOptions) {
		o.Driver = DriverRancher
		o.HealthInterval = time.Second
		o.DriverInterval = 500 * time.Millisecond
		if deploy {
			o.Deployer = &AgentDeployer{KubectlPath: kubectl, Log: epQuietLog()}
		}
	})
	mc := epMockCluster(t, env)
	env.e.Register(mc.Name())
	st := epState(t, env.e, mc.Name())
	if st.RancherState != RancherPending || st.Transitioning != "yes" || st.Driver != "" {
		t.Errorf("before any tunnel: state %q transitioning %q driver %q", st.RancherState, st.Transitioning, st.Driver)
	}
	p := ClusterParams{Address: mc.Address(), Token: mc.AdminToken(), CACert: base64.StdEncoding.EncodeToString(env.auth.CertPEM)}
	start := time.Now()
	epConnectAgent(t, env, mc.Name(), p, epDialOnly(mc.Address()))
	epWait(t, 60*time.Second, "active with the agent deployed", func() bool {
		st := epState(t, env.e, mc.Name())
		return st.RancherState == RancherActive && (st.AgentImage != "" || !deploy)
	})
	t.Logf("active %v after the tunnels started", time.Since(start).Round(time.Millisecond))

	st = epState(t, env.e, mc.Name())
	if st.Driver != "imported" || st.Transitioning != "no" || st.ActiveSince == nil || (deploy && st.AgentImage != DefaultAgentImage) {
		t.Errorf("active: driver %q transitioning %q activeSince %v agentImage %q", st.Driver, st.Transitioning, st.ActiveSince, st.AgentImage)
	}
	byType := map[string]string{}
	for _, c := range st.Conditions {
		byType[c.Type] = c.Status
	}
	want := []string{CondPending, CondProvisioned, CondWaiting, CondConnected, CondReady, CondGlobalAdminsSynced}
	if deploy {
		want = append(want, CondAgentDeployed, CondSystemAccountCreated, CondUpdated)
	} else if _, ok := byType[CondAgentDeployed]; ok {
		t.Errorf("AgentDeployed without a deployer: %v", byType)
	}
	for _, typ := range want {
		if byType[typ] != statusTrue {
			t.Errorf("condition %s = %q, want True (all: %v)", typ, byType[typ], byType)
		}
	}
	if !deploy {
		return
	}

	// What Rancher left in the cluster: its impersonation namespace and the agent manifest's
	// objects, applied by kubectl.
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: mc.URL(), BearerToken: mc.AdminToken(),
		TLSClientConfig: rest.TLSClientConfig{CAData: env.auth.CertPEM}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, impersonationNamespace, metav1.GetOptions{}); err != nil {
		t.Errorf("impersonation namespace: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("cattle-system").Get(ctx, "cattle-cluster-agent", metav1.GetOptions{}); err != nil {
		t.Errorf("agent deployment: %v", err)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, "proxy-clusterrole-kubeapiserver", metav1.GetOptions{}); err != nil {
		t.Errorf("manifest ClusterRole: %v", err)
	}
}

func TestEndpointDriverOption(t *testing.T) {
	for _, tc := range []struct {
		driver, want string
		ok           bool
	}{{"", DriverHealth, true}, {DriverHealth, DriverHealth, true}, {DriverRancher, DriverRancher, true}, {"full", "", false}} {
		env := EndpointOptions{Driver: tc.driver}
		env.Certificate.Certificate = [][]byte{{1}}
		e, err := NewEndpoint(env)
		if (err == nil) != tc.ok {
			t.Errorf("driver %q: err %v", tc.driver, err)
			continue
		}
		if err == nil && e.opts.Driver != tc.want {
			t.Errorf("driver %q: got %q", tc.driver, e.opts.Driver)
		}
	}
}
