package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/status"
)

// TestRancherDriverRun: with the default --endpoint-driver rancher, the embedded endpoint does
// to each cluster what Rancher v2.15 does, and the clusters go active by Rancher's rules with
// the conditions a cluster with nodes gets; kubectl then finds Rancher's marks in the
// cluster: the impersonation namespace, the agent manifest's objects, the projects'
// namespace annotations.
func TestRancherDriverRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	deployed := func(r status.Report) bool {
		if !allActive(2)(r) {
			return false
		}
		for _, c := range r.Clusters {
			if c.Endpoint == nil || !hasCondition(c.Endpoint.Conditions, "AgentDeployed") || !hasCondition(c.Endpoint.Conditions, "Updated") {
				return false
			}
		}
		return true
	}
	p, r := runUntil(t, 90*time.Second, deployed, fastRunArgs(dir, 2)...)
	defer p.stop()
	for _, c := range r.Clusters {
		e := c.Endpoint
		for _, typ := range []string{"Pending", "Provisioned", "Waiting", "Connected", "Ready", "GlobalAdminsSynced", "SystemAccountCreated", "AgentDeployed", "Updated"} {
			if !hasCondition(e.Conditions, typ) {
				t.Errorf("%s: condition %s is not True: %+v", c.Name, typ, e.Conditions)
			}
		}
		if e.State != "active" || e.Transitioning != "no" {
			t.Errorf("%s: state %q transitioning %q", c.Name, e.State, e.Transitioning)
		}
	}

	kc := filepath.Join(dir, "kubeconfig")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "namespace", "cattle-impersonation-system", "-o", "jsonpath={.metadata.labels}"}, `authz.cluster.cattle.io/impersonator`},
		{[]string{"get", "namespace", "default", "-o", "jsonpath={.metadata.annotations}"}, `field.cattle.io/projectId`},
		{[]string{"-n", "cattle-system", "get", "deployment", "cattle-cluster-agent", "-o", "jsonpath={.spec.template.spec.containers[0].image}"}, "rancher/rancher-agent:v2.15.0"},
		{[]string{"get", "clusterrole", "proxy-clusterrole-kubeapiserver", "-o", "name"}, "clusterrole.rbac.authorization.k8s.io/proxy-clusterrole-kubeapiserver"},
		{[]string{"-n", "cattle-impersonation-system", "get", "secrets", "-o", "jsonpath={.items[*].type}"}, "kubernetes.io/service-account-token"},
	} {
		args := append([]string{"--kubeconfig", kc, "--context", "sim-0001"}, tc.args...)
		out, err := exec.Command("kubectl", args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("kubectl %s: %v\n%s\nwant %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
}

// hasCondition says whether the condition of that type is True.
func hasCondition(conds []status.Condition, typ string) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == "True"
		}
	}
	return false
}
