package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

const ageRE = `re:^[0-9]+[smhdy]([0-9]+[smh])?$`

// cellMatches compares a table cell with want; want "re:<regexp>" matches by regexp.
func cellMatches(got, want string) bool {
	if strings.HasPrefix(want, "re:") {
		return regexp.MustCompile(want[3:]).MatchString(got)
	}
	return got == want
}

// checkRows requires, for every key in want, a row whose first matching column holds the
// key and whose other cells match.
func checkRows(t *testing.T, tb table, keyCol string, want map[string]map[string]string) {
	t.Helper()
	for key, cells := range want {
		r := tb.row(t, keyCol, key)
		for c, w := range cells {
			tb.col(t, c)
			if !cellMatches(r[c], w) {
				t.Errorf("row %s: column %s = %q, want %q", key, c, r[c], w)
			}
		}
	}
}

// inServiceCIDR reports whether s is an IPv4 address in kubeadm's default 10.96.0.0/12.
func inServiceCIDR(s string) bool {
	_, cidr, _ := net.ParseCIDR("10.96.0.0/12")
	ip := net.ParseIP(s)
	return ip != nil && cidr.Contains(ip)
}

// squeeze collapses the column padding of every line to one space.
func squeeze(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(strings.Join(strings.Fields(l), " ") + "\n")
	}
	return b.String()
}

// setupGetNamespace fills ns with one object of each kind the table checks look at.
func setupGetNamespace(t *testing.T, ns string) {
	t.Helper()
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "deployment", "web", "--image=nginx")
	mustKubectl(t, ctx1, "-n", ns, "run", "p1", "--image=nginx", "--labels=app=p1")
	mustKubectl(t, ctx1, "-n", ns, "create", "service", "clusterip", "s1", "--tcp=80:8080")
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "c1", "--from-literal=k=v")
	mustKubectl(t, ctx1, "-n", ns, "label", "configmap", "c1", "app=c1", "tier=gold")
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "c2", "--from-literal=k=other", "--from-literal=x=y")
	mustKubectl(t, ctx1, "-n", ns, "create", "secret", "generic", "s1", "--from-literal=password=hunter2")
	mustKubectl(t, ctx1, "-n", ns, "create", "serviceaccount", "bot")
	now := time.Now().UTC().Format(time.RFC3339)
	manifest := fmt.Sprintf(`apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: l1, namespace: %[1]s}
spec: {holderIdentity: h1, leaseDurationSeconds: 15}
---
apiVersion: v1
kind: Event
metadata: {name: e1, namespace: %[1]s}
involvedObject: {apiVersion: v1, kind: ConfigMap, name: c1, namespace: %[1]s}
reason: Tested
message: hello e2e
type: Normal
source: {component: e2e}
firstTimestamp: "%[2]s"
lastTimestamp: "%[2]s"
count: 1
`, ns, now)
	out := mustKubectlWith(t, opts{stdin: manifest}, ctx1, "create", "-f", "-")
	if want := "lease.coordination.k8s.io/l1 created\nevent/e1 created\n"; out != want {
		t.Fatalf("create -f: %q, want %q", out, want)
	}
}

func TestGetTables(t *testing.T) {
	t.Parallel()
	const ns = "e2e-get"
	setupGetNamespace(t, ns)

	type tc struct {
		resource string
		args     []string // extra args
		header   []string
		key      string // column identifying rows
		rows     map[string]map[string]string
	}
	cases := []tc{
		{"nodes", nil, []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"}, "NAME", map[string]map[string]string{
			"sim-0001-cp-1":     {"STATUS": "Ready", "ROLES": "control-plane", "AGE": ageRE, "VERSION": serverGitVersion},
			"sim-0001-worker-1": {"STATUS": "Ready", "ROLES": "<none>", "AGE": ageRE, "VERSION": serverGitVersion},
			"sim-0001-worker-2": {"STATUS": "Ready", "ROLES": "<none>", "AGE": ageRE, "VERSION": serverGitVersion},
		}},
		{"namespaces", nil, []string{"NAME", "STATUS", "AGE"}, "NAME", map[string]map[string]string{
			"default": {"STATUS": "Active", "AGE": ageRE}, "kube-system": {"STATUS": "Active"},
			"kube-public": {"STATUS": "Active"}, "kube-node-lease": {"STATUS": "Active"}, ns: {"STATUS": "Active"},
		}},
		{"pods", []string{"-n", ns}, []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}, "NAME", map[string]map[string]string{
			"p1": {"READY": "0/1", "STATUS": "Pending", "RESTARTS": "0", "AGE": ageRE},
		}},
		{"deployments", []string{"-n", ns}, []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}, "NAME", map[string]map[string]string{
			"web": {"READY": "re:^[01]/1$", "UP-TO-DATE": "re:^[01]$", "AVAILABLE": "re:^[01]$", "AGE": ageRE},
		}},
		{"services", []string{"-n", ns}, []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}, "NAME", map[string]map[string]string{
			"s1": {"TYPE": "ClusterIP", "CLUSTER-IP": `re:^10\.(9[6-9]|10[0-9]|11[01])\.[0-9]+\.[0-9]+$`, "EXTERNAL-IP": "<none>", "PORT(S)": "80/TCP", "AGE": ageRE},
		}},
		{"services", []string{"-n", "default"}, []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}, "NAME", map[string]map[string]string{
			"kubernetes": {"TYPE": "ClusterIP", "CLUSTER-IP": "10.96.0.1", "EXTERNAL-IP": "<none>", "PORT(S)": "443/TCP"},
		}},
		{"configmaps", []string{"-n", ns}, []string{"NAME", "DATA", "AGE"}, "NAME", map[string]map[string]string{
			"c1": {"DATA": "1", "AGE": ageRE}, "c2": {"DATA": "2"},
		}},
		{"configmaps", []string{"-n", "kube-system"}, []string{"NAME", "DATA", "AGE"}, "NAME", map[string]map[string]string{
			"kube-root-ca.crt": {"DATA": "1"},
		}},
		{"secrets", []string{"-n", ns}, []string{"NAME", "TYPE", "DATA", "AGE"}, "NAME", map[string]map[string]string{
			"s1": {"TYPE": "Opaque", "DATA": "1", "AGE": ageRE},
		}},
		{"serviceaccounts", []string{"-n", ns}, []string{"NAME", "AGE"}, "NAME", map[string]map[string]string{
			"bot": {"AGE": ageRE},
		}},
		{"serviceaccounts", []string{"-n", "kube-system"}, []string{"NAME", "AGE"}, "NAME", map[string]map[string]string{
			"default": {"AGE": ageRE},
		}},
		{"leases", []string{"-n", ns}, []string{"NAME", "HOLDER", "AGE"}, "NAME", map[string]map[string]string{
			"l1": {"HOLDER": "h1", "AGE": ageRE},
		}},
		{"leases", []string{"-n", "kube-node-lease"}, []string{"NAME", "HOLDER", "AGE"}, "NAME", map[string]map[string]string{
			"sim-0001-cp-1": {"HOLDER": "sim-0001-cp-1"}, "sim-0001-worker-1": {"HOLDER": "sim-0001-worker-1"},
		}},
		{"events", []string{"-n", ns}, []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}, "OBJECT", map[string]map[string]string{
			"configmap/c1": {"LAST SEEN": ageRE, "TYPE": "Normal", "REASON": "Tested", "MESSAGE": "hello e2e"},
		}},
		// -A adds the NAMESPACE column in front.
		{"configmaps", []string{"-A", "--field-selector=metadata.name=kube-root-ca.crt"}, []string{"NAMESPACE", "NAME", "DATA", "AGE"}, "NAMESPACE", map[string]map[string]string{
			"default": {"NAME": "kube-root-ca.crt", "DATA": "1"}, "kube-system": {"NAME": "kube-root-ca.crt"},
			"kube-public": {"NAME": "kube-root-ca.crt"}, "kube-node-lease": {"NAME": "kube-root-ca.crt"},
		}},
		{"pods", []string{"-A"}, []string{"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"}, "NAME", map[string]map[string]string{
			"p1": {"NAMESPACE": ns, "STATUS": "Pending"},
		}},
		{"events", []string{"-A"}, []string{"NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}, "OBJECT", map[string]map[string]string{
			"configmap/c1": {"NAMESPACE": ns, "REASON": "Tested"},
		}},
		// -o wide
		{"nodes", []string{"-o", "wide"}, []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"}, "NAME", map[string]map[string]string{
			"sim-0001-cp-1": {"STATUS": "Ready", "INTERNAL-IP": `re:^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`, "EXTERNAL-IP": "<none>",
				"OS-IMAGE": "re:^.+[^>]$", "KERNEL-VERSION": `re:^\S+ \(amd64\)$`, "CONTAINER-RUNTIME": `re:^containerd://[0-9.]+$`},
		}},
		{"pods", []string{"-n", ns, "-o", "wide"}, []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"}, "NAME", map[string]map[string]string{
			"p1": {"STATUS": "Pending", "IP": "<none>", "NODE": "<none>", "NOMINATED NODE": "<none>", "READINESS GATES": "<none>"},
		}},
		{"deployments", []string{"-n", ns, "-o", "wide"}, []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"}, "NAME", map[string]map[string]string{
			"web": {"CONTAINERS": "nginx", "IMAGES": "nginx", "SELECTOR": "app=web"},
		}},
		{"services", []string{"-n", ns, "-o", "wide"}, []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"}, "NAME", map[string]map[string]string{
			"s1": {"SELECTOR": "app=s1"},
		}},
		{"events", []string{"-n", ns, "-o", "wide"}, []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"}, "NAME", map[string]map[string]string{
			"e1": {"SOURCE": "e2e", "COUNT": "1", "OBJECT": "configmap/c1"},
		}},
		// --show-labels appends LABELS.
		{"nodes", []string{"--show-labels"}, []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "LABELS"}, "NAME", map[string]map[string]string{
			"sim-0001-cp-1": {"LABELS": `re:(^|,)kubernetes\.io/hostname=sim-0001-cp-1(,|$)`},
			"sim-0001-worker-1": {"LABELS": `re:^beta\.kubernetes\.io/arch=amd64,beta\.kubernetes\.io/os=linux,kubernetes\.io/arch=amd64,` +
				`kubernetes\.io/hostname=sim-0001-worker-1,kubernetes\.io/os=linux$`},
		}},
		{"configmaps", []string{"-n", ns, "--show-labels"}, []string{"NAME", "DATA", "AGE", "LABELS"}, "NAME", map[string]map[string]string{
			"c1": {"LABELS": "app=c1,tier=gold"}, "c2": {"LABELS": "<none>"},
		}},
		{"namespaces", []string{"--show-labels"}, []string{"NAME", "STATUS", "AGE", "LABELS"}, "NAME", map[string]map[string]string{
			"kube-system": {"LABELS": "kubernetes.io/metadata.name=kube-system"},
			ns:            {"LABELS": "kubernetes.io/metadata.name=" + ns},
		}},
	}
	for _, c := range clients() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				args := append([]string{"get", tc.resource}, tc.args...)
				name := strings.Join(args, " ")
				out, errOut, err := kubectlWith(t, opts{bin: c.bin}, ctx1, args...)
				if err != nil {
					t.Errorf("kubectl %s: %v\n%s", name, err, errOut)
					continue
				}
				tb := parseTable(t, out)
				if !equalStrings(tb.header, tc.header) {
					t.Errorf("kubectl %s: header %q, want %q\n%s", name, tb.header, tc.header, out)
					continue
				}
				t.Run(strings.Join(args[1:], "_"), func(t *testing.T) { checkRows(t, tb, tc.key, tc.rows) })
			}
		})
	}

	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		out, errOut, err := kubectl(t, ctx1, "get", "deployments", "-n", "kube-public")
		if err != nil || out != "" || errOut != "No resources found in kube-public namespace.\n" {
			t.Errorf("get deployments -n kube-public: stdout %q stderr %q err %v", out, errOut, err)
		}
	})

	t.Run("wide-matches-json", func(t *testing.T) {
		t.Parallel()
		var node struct {
			Status struct {
				Addresses []struct{ Type, Address string }
				NodeInfo  map[string]string
			}
		}
		mustJSON(t, mustKubectl(t, ctx1, "get", "node", "sim-0001-worker-1", "-o", "json"), &node)
		r := parseTable(t, mustKubectl(t, ctx1, "get", "node", "sim-0001-worker-1", "-o", "wide")).row(t, "NAME", "sim-0001-worker-1")
		internal := ""
		for _, a := range node.Status.Addresses {
			if a.Type == "InternalIP" {
				internal = a.Address
			}
		}
		for col, want := range map[string]string{
			"INTERNAL-IP":       internal,
			"OS-IMAGE":          node.Status.NodeInfo["osImage"],
			"KERNEL-VERSION":    node.Status.NodeInfo["kernelVersion"] + " (" + node.Status.NodeInfo["architecture"] + ")",
			"CONTAINER-RUNTIME": node.Status.NodeInfo["containerRuntimeVersion"],
			"VERSION":           node.Status.NodeInfo["kubeletVersion"],
		} {
			if r[col] != want || want == "" {
				t.Errorf("%s = %q, want %q (from -o json)", col, r[col], want)
			}
		}
	})
}

func TestGetOutputFormats(t *testing.T) {
	t.Parallel()
	const ns = "e2e-formats"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "fmt", "--from-literal=k=v", "--from-literal=n=1")
	mustKubectl(t, ctx1, "-n", ns, "label", "configmap", "fmt", "app=fmt", "tier=gold")
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "other", "--from-literal=k=w")
	mustKubectl(t, ctx1, "-n", ns, "label", "configmap", "other", "app=other", "tier=silver")
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "plain")
	mustKubectl(t, ctx1, "-n", ns, "run", "pod-a", "--image=nginx")

	type object struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name              string            `json:"name"`
			Namespace         string            `json:"namespace"`
			UID               string            `json:"uid"`
			ResourceVersion   string            `json:"resourceVersion"`
			CreationTimestamp string            `json:"creationTimestamp"`
			Labels            map[string]string `json:"labels"`
			ManagedFields     []interface{}     `json:"managedFields"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	checkObject := func(t *testing.T, o object) {
		t.Helper()
		if o.APIVersion != "v1" || o.Kind != "ConfigMap" || o.Metadata.Name != "fmt" || o.Metadata.Namespace != ns {
			t.Errorf("object identity %s %s %s/%s", o.APIVersion, o.Kind, o.Metadata.Namespace, o.Metadata.Name)
		}
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(o.Metadata.UID) {
			t.Errorf("uid %q is not a UUID", o.Metadata.UID)
		}
		if !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(o.Metadata.ResourceVersion) {
			t.Errorf("resourceVersion %q", o.Metadata.ResourceVersion)
		}
		if _, err := time.Parse(time.RFC3339, o.Metadata.CreationTimestamp); err != nil {
			t.Errorf("creationTimestamp %q: %v", o.Metadata.CreationTimestamp, err)
		}
		if o.Data["k"] != "v" || o.Data["n"] != "1" || len(o.Data) != 2 {
			t.Errorf("data = %v", o.Data)
		}
		if o.Metadata.Labels["app"] != "fmt" || o.Metadata.Labels["tier"] != "gold" {
			t.Errorf("labels = %v", o.Metadata.Labels)
		}
		if o.Metadata.ManagedFields != nil {
			t.Errorf("managedFields shown without --show-managed-fields")
		}
	}

	t.Run("yaml", func(t *testing.T) {
		t.Parallel()
		out := mustKubectl(t, ctx1, "-n", ns, "get", "configmap", "fmt", "-o", "yaml")
		if !strings.HasPrefix(out, "apiVersion: v1\ndata:\n  k: v\n  \"n\": \"1\"\nkind: ConfigMap\nmetadata:\n") {
			t.Errorf("-o yaml starts with:\n%s", out)
		}
		var o object
		if err := yaml.Unmarshal([]byte(out), &o); err != nil {
			t.Fatalf("yaml: %v\n%s", err, out)
		}
		checkObject(t, o)
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		var o object
		mustJSON(t, mustKubectl(t, ctx1, "-n", ns, "get", "configmap", "fmt", "-o", "json"), &o)
		checkObject(t, o)
	})
	t.Run("json-list", func(t *testing.T) {
		t.Parallel()
		var l struct {
			APIVersion string   `json:"apiVersion"`
			Kind       string   `json:"kind"`
			Items      []object `json:"items"`
		}
		mustJSON(t, mustKubectl(t, ctx1, "-n", ns, "get", "configmaps", "-l", "app=fmt", "-o", "json"), &l)
		if l.Kind != "List" || l.APIVersion != "v1" || len(l.Items) != 1 {
			t.Fatalf("list kind %q apiVersion %q with %d items", l.Kind, l.APIVersion, len(l.Items))
		}
		checkObject(t, l.Items[0])
	})
	t.Run("managed-fields", func(t *testing.T) {
		t.Parallel()
		var o struct {
			Metadata struct {
				ManagedFields []struct {
					Manager, Operation, APIVersion, FieldsType string
				} `json:"managedFields"`
			} `json:"metadata"`
		}
		mustJSON(t, mustKubectl(t, ctx1, "-n", ns, "get", "configmap", "fmt", "-o", "json", "--show-managed-fields"), &o)
		got := map[string]string{}
		for _, m := range o.Metadata.ManagedFields {
			got[m.Manager] = m.Operation + " " + m.APIVersion + " " + m.FieldsType
		}
		want := map[string]string{"kubectl-create": "Update v1 FieldsV1", "kubectl-label": "Update v1 FieldsV1"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("managedFields managers = %v, want %v", got, want)
		}
	})

	for _, tc := range []struct {
		name   string
		args   []string
		stdout string
	}{
		{"name", []string{"-n", ns, "get", "configmap", "fmt", "-o", "name"}, "configmap/fmt\n"},
		{"name-list", []string{"-n", ns, "get", "configmaps", "-l", "app", "-o", "name"}, "configmap/fmt\nconfigmap/other\n"},
		{"name-nodes", []string{"get", "nodes", "-o", "name"}, "node/sim-0001-cp-1\nnode/sim-0001-worker-1\nnode/sim-0001-worker-2\n"},
		{"name-deployments-kind", []string{"-n", ns, "get", "pods,configmaps", "-o", "name", "-l", "app=fmt"}, "configmap/fmt\n"},
		{"jsonpath", []string{"-n", ns, "get", "configmap", "fmt", "-o", "jsonpath={.data.k}"}, "v"},
		{"jsonpath-range", []string{"get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name}{" "}{.status.nodeInfo.kubeletVersion}{"\n"}{end}`},
			"sim-0001-cp-1 v1.36.3\nsim-0001-worker-1 v1.36.3\nsim-0001-worker-2 v1.36.3\n"},
		{"jsonpath-filter", []string{"get", "node", "sim-0001-cp-1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`}, "True"},
		{"jsonpath-labels", []string{"get", "ns", "kube-system", "-o", `jsonpath={.metadata.labels.kubernetes\.io/metadata\.name}`}, "kube-system"},
		{"custom-columns", []string{"-n", ns, "get", "configmaps", "-l", "app", "-o", "custom-columns=NAME:.metadata.name,K:.data.k,TIER:.metadata.labels.tier"},
			"NAME K TIER\nfmt v gold\nother w silver\n"},
		{"custom-columns-no-headers", []string{"-n", ns, "get", "configmaps", "-l", "app", "--no-headers", "-o", "custom-columns=NAME:.metadata.name,MISSING:.data.zzz"},
			"fmt <none>\nother <none>\n"},
		{"no-headers", []string{"-n", ns, "get", "configmaps", "-l", "tier=silver", "--no-headers", "-o", "custom-columns=N:.metadata.name"}, "other\n"},
		{"go-template", []string{"-n", ns, "get", "configmap", "fmt", "-o", "go-template={{.metadata.name}}:{{index .data \"n\"}}"}, "fmt:1"},
		// label selectors
		{"label-equals", []string{"-n", ns, "get", "configmaps", "-l", "tier=gold", "-o", "name"}, "configmap/fmt\n"},
		{"label-not-equals", []string{"-n", ns, "get", "configmaps", "-l", "tier!=gold,app", "-o", "name"}, "configmap/other\n"},
		{"label-set", []string{"-n", ns, "get", "configmaps", "-l", "tier in (gold,silver)", "-o", "name"}, "configmap/fmt\nconfigmap/other\n"},
		{"label-notin", []string{"-n", ns, "get", "configmaps", "-l", "app,tier notin (gold)", "-o", "name"}, "configmap/other\n"},
		{"label-exists-not", []string{"-n", ns, "get", "configmaps", "-l", "!tier", "--field-selector", "metadata.name!=kube-root-ca.crt", "-o", "name"}, "configmap/plain\n"},
		{"label-nodes", []string{"get", "nodes", "-l", "node-role.kubernetes.io/control-plane", "-o", "name"}, "node/sim-0001-cp-1\n"},
		// field selectors
		{"field-name", []string{"-n", ns, "get", "configmaps", "--field-selector", "metadata.name=other", "-o", "name"}, "configmap/other\n"},
		{"field-name-not", []string{"-n", ns, "get", "configmaps", "--field-selector", "metadata.name!=other,metadata.name!=kube-root-ca.crt", "-o", "name"}, "configmap/fmt\nconfigmap/plain\n"},
		{"field-namespace", []string{"get", "configmaps", "-A", "--field-selector", "metadata.namespace=" + ns, "-l", "app", "-o", "name"}, "configmap/fmt\nconfigmap/other\n"},
		{"field-ns", []string{"get", "namespaces", "--field-selector", "metadata.name=kube-system", "-o", "name"}, "namespace/kube-system\n"},
		{"field-pod-phase", []string{"-n", ns, "get", "pods", "--field-selector", "status.phase=Pending", "-o", "name"}, "pod/pod-a\n"},
		{"field-pod-node", []string{"get", "pods", "-A", "--field-selector", "spec.nodeName=sim-0001-worker-1", "-o", "name"}, ""},
		{"field-node-unschedulable", []string{"get", "nodes", "--field-selector", "spec.unschedulable=false", "-o", "name"}, "node/sim-0001-cp-1\nnode/sim-0001-worker-1\nnode/sim-0001-worker-2\n"},
		{"field-and-label", []string{"-n", ns, "get", "configmaps", "-l", "app", "--field-selector", "metadata.name=fmt", "-o", "name"}, "configmap/fmt\n"},
		// all namespaces
		{"all-namespaces-name", []string{"get", "namespaces", "-o", "name"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := mustKubectl(t, ctx1, tc.args...)
			if tc.name == "all-namespaces-name" {
				for _, n := range []string{"default", "kube-node-lease", "kube-public", "kube-system", ns} {
					requireContains(t, "get namespaces -o name", out, "namespace/"+n+"\n")
				}
				return
			}
			if strings.HasPrefix(tc.name, "custom-columns") {
				out = squeeze(out)
			}
			if out != tc.stdout {
				t.Errorf("kubectl %s:\n got %q\nwant %q", strings.Join(tc.args, " "), out, tc.stdout)
			}
		})
	}

	t.Run("all-namespaces-table", func(t *testing.T) {
		t.Parallel()
		tb := parseTable(t, mustKubectl(t, ctx1, "get", "configmaps", "-A", "-l", "app in (fmt,other)"))
		if want := []string{"NAMESPACE", "NAME", "DATA", "AGE"}; !equalStrings(tb.header, want) {
			t.Fatalf("header %q, want %q", tb.header, want)
		}
		if len(tb.rows) != 2 || tb.rows[0][0] != ns || tb.rows[0][1] != "fmt" || tb.rows[1][1] != "other" || tb.rows[0][2] != "2" {
			t.Errorf("rows %q", tb.rows)
		}
		var l struct {
			Items []object `json:"items"`
		}
		mustJSON(t, mustKubectl(t, ctx1, "get", "configmaps", "--all-namespaces", "-o", "json", "--field-selector", "metadata.name=kube-root-ca.crt"), &l)
		seen := map[string]bool{}
		for _, it := range l.Items {
			seen[it.Metadata.Namespace] = true
		}
		for _, n := range []string{"default", "kube-node-lease", "kube-public", "kube-system"} {
			if !seen[n] {
				t.Errorf("kube-root-ca.crt of namespace %s missing from get -A", n)
			}
		}
	})
	t.Run("no-match", func(t *testing.T) {
		t.Parallel()
		out, errOut, err := kubectl(t, ctx1, "-n", ns, "get", "configmaps", "-l", "app=none")
		if err != nil || out != "" || errOut != "No resources found in "+ns+" namespace.\n" {
			t.Errorf("get -l app=none: stdout %q stderr %q err %v", out, errOut, err)
		}
	})
	t.Run("nodes-json", func(t *testing.T) {
		t.Parallel()
		var l struct {
			Kind  string `json:"kind"`
			Items []struct {
				Metadata struct{ Name string } `json:"metadata"`
				Spec     struct {
					PodCIDR string `json:"podCIDR"`
				} `json:"spec"`
				Status struct {
					Capacity    map[string]string `json:"capacity"`
					Allocatable map[string]string `json:"allocatable"`
					Conditions  []struct{ Type, Status, Reason string }
					NodeInfo    map[string]string `json:"nodeInfo"`
				} `json:"status"`
			} `json:"items"`
		}
		mustJSON(t, mustKubectl(t, ctx1, "get", "nodes", "-o", "json"), &l)
		if l.Kind != "List" || len(l.Items) != 3 {
			t.Fatalf("kind %q with %d items, want List with 3", l.Kind, len(l.Items))
		}
		for _, n := range l.Items {
			if n.Status.NodeInfo["kubeletVersion"] != serverGitVersion || n.Status.NodeInfo["operatingSystem"] != "linux" || n.Status.NodeInfo["architecture"] != "amd64" {
				t.Errorf("%s nodeInfo = %v", n.Metadata.Name, n.Status.NodeInfo)
			}
			for _, r := range []string{"cpu", "memory", "pods", "ephemeral-storage"} {
				if n.Status.Capacity[r] == "" || n.Status.Allocatable[r] == "" {
					t.Errorf("%s: %s missing from capacity %v / allocatable %v", n.Metadata.Name, r, n.Status.Capacity, n.Status.Allocatable)
				}
			}
			ready := false
			for _, c := range n.Status.Conditions {
				if c.Type == "Ready" && c.Status == "True" && c.Reason == "KubeletReady" {
					ready = true
				}
			}
			if !ready {
				t.Errorf("%s: no Ready=True/KubeletReady condition in %v", n.Metadata.Name, n.Status.Conditions)
			}
		}
	})
}

// TestWatch runs `kubectl get -w` in several output forms while a ConfigMap is created,
// modified and deleted.
func TestWatch(t *testing.T) {
	t.Parallel()
	const ns = "e2e-watch"
	createNamespace(t, ctx1, ns)
	cm := func(name, data string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s, labels: {e2e: watch}}\ndata: %s\n", name, ns, data)
	}
	mustKubectlWith(t, opts{stdin: cm("seed", "{a: '0'}")}, ctx1, "create", "-f", "-")
	const wait = 15 * time.Second
	o := opts{timeout: 60 * time.Second}
	sel := []string{"-n", ns, "get", "configmaps", "-l", "e2e=watch", "-w"}

	events, eventsErr := streamLines(t, o, ctx1, append(sel, "--output-watch-events")...)
	names, namesErr := streamLines(t, o, ctx1, append(sel, "-o", "name")...)
	// the JSON watch is pretty-printed, one object after another: collect and decode at the end.
	jsonCmd, jsonCancel := kubectlCmd(t, o, ctx1, append(sel, "--output-watch-events", "-o", "json")...)
	var jsonOut lockedBuffer
	jsonCmd.Stdout = &jsonOut
	if err := jsonCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jsonCancel(); _ = jsonCmd.Wait() })

	// Each stream begins with the existing objects (the list before the watch).
	nextLine(t, events, wait, eventsErr, regexp.MustCompile(`^EVENT\s+NAME\s+DATA\s+AGE$`))
	nextLine(t, events, wait, eventsErr, regexp.MustCompile(`^ADDED\s+seed\s+1\s+`))
	nextLine(t, names, wait, namesErr, regexp.MustCompile(`^configmap/seed$`))
	eventually(t, wait, func() string {
		if !regexp.MustCompile(`"type":\s*"ADDED"`).MatchString(jsonOut.String()) {
			return "JSON watch did not print the initial ADDED event: " + jsonOut.String()
		}
		return ""
	})

	// An object outside the selector must not show up.
	mustKubectl(t, ctx1, "-n", ns, "create", "configmap", "unlabelled", "--from-literal=a=1")
	if out := mustKubectlWith(t, opts{stdin: cm("c1", "{a: '1'}")}, ctx1, "create", "-f", "-"); out != "configmap/c1 created\n" {
		t.Errorf("create: %q", out)
	}
	nextLine(t, events, wait, eventsErr, regexp.MustCompile(`^ADDED\s+c1\s+1\s+`))
	nextLine(t, names, wait, namesErr, regexp.MustCompile(`^configmap/c1$`))

	if out := mustKubectl(t, ctx1, "-n", ns, "patch", "configmap", "c1", "-p", `{"data":{"b":"2"}}`); out != "configmap/c1 patched\n" {
		t.Errorf("patch: %q", out)
	}
	nextLine(t, events, wait, eventsErr, regexp.MustCompile(`^MODIFIED\s+c1\s+2\s+`))
	nextLine(t, names, wait, namesErr, regexp.MustCompile(`^configmap/c1$`))

	if out := mustKubectl(t, ctx1, "-n", ns, "delete", "configmap", "c1"); out != "configmap \"c1\" deleted\n" {
		t.Errorf("delete: %q", out)
	}
	nextLine(t, events, wait, eventsErr, regexp.MustCompile(`^DELETED\s+c1\s+2\s+`))
	nextLine(t, names, wait, namesErr, regexp.MustCompile(`^configmap/c1$`))

	type watchEvent struct {
		Type   string `json:"type"`
		Object struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name            string `json:"name"`
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		} `json:"object"`
	}
	var got []watchEvent
	eventually(t, wait, func() string {
		got = got[:0]
		dec := json.NewDecoder(strings.NewReader(jsonOut.String()))
		for {
			var e watchEvent
			if err := dec.Decode(&e); err != nil {
				break
			}
			got = append(got, e)
		}
		if len(got) < 4 {
			return fmt.Sprintf("JSON watch has %d events, want 4:\n%s", len(got), jsonOut.String())
		}
		return ""
	})
	want := []string{"ADDED seed", "ADDED c1", "MODIFIED c1", "DELETED c1"}
	var seq []string
	for _, e := range got {
		seq = append(seq, e.Type+" "+e.Object.Metadata.Name)
		if e.Object.Kind != "ConfigMap" {
			t.Errorf("watch event object kind %q", e.Object.Kind)
		}
	}
	if !equalStrings(seq, want) {
		t.Fatalf("JSON watch events %q, want %q", seq, want)
	}
	if got[2].Object.Data["b"] != "2" {
		t.Errorf("MODIFIED object data %v", got[2].Object.Data)
	}
	added, _ := strconv.ParseUint(got[1].Object.Metadata.ResourceVersion, 10, 64)
	modified, _ := strconv.ParseUint(got[2].Object.Metadata.ResourceVersion, 10, 64)
	if added == 0 || modified <= added {
		t.Errorf("resourceVersion did not grow: ADDED %q, MODIFIED %q", got[1].Object.Metadata.ResourceVersion, got[2].Object.Metadata.ResourceVersion)
	}

	// No further events: the unlabelled ConfigMap never reached the filtered watches.
	select {
	case l := <-names:
		t.Errorf("unexpected watch line %q", l)
	case <-time.After(300 * time.Millisecond):
	}
}
