package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// section returns the lines of `kubectl describe` output from the line starting with
// header up to (not including) the next unindented line.
func section(out, header string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, header) {
			continue
		}
		j := i + 1
		for j < len(lines) && (strings.HasPrefix(lines[j], " ") || lines[j] == "") {
			j++
		}
		return strings.Join(lines[i:j], "\n")
	}
	return ""
}

func TestDescribeNode(t *testing.T) {
	t.Parallel()
	for _, c := range clients() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := mustKubectlWith(t, opts{bin: c.bin}, ctx1, "describe", "node", "sim-0001-cp-1")
			for _, re := range []string{
				`(?m)^Name:\s+sim-0001-cp-1$`,
				`(?m)^Roles:\s+control-plane$`,
				`(?m)^Labels:\s+beta\.kubernetes\.io/arch=amd64$`,
				`(?m)^\s+kubernetes\.io/hostname=sim-0001-cp-1$`,
				`(?m)^\s+node-role\.kubernetes\.io/control-plane=$`,
				`(?m)^CreationTimestamp:\s+\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$`,
				`(?m)^Taints:\s+node-role\.kubernetes\.io/control-plane:NoSchedule$`,
				`(?m)^Unschedulable:\s+false$`,
			} {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("describe node: no match for %s in:\n%s", re, out)
				}
			}

			lease := section(out, "Lease:")
			if !regexp.MustCompile(`(?m)^  HolderIdentity:\s+sim-0001-cp-1$`).MatchString(lease) {
				t.Errorf("Lease section:\n%s", lease)
			}
			m := regexp.MustCompile(`(?m)^  RenewTime:\s+(.+)$`).FindStringSubmatch(lease)
			if m == nil {
				t.Errorf("no RenewTime in Lease section:\n%s", lease)
			} else if _, err := time.Parse(time.RFC1123Z, m[1]); err != nil {
				t.Errorf("RenewTime %q: %v", m[1], err)
			}

			conds := section(out, "Conditions:")
			if !regexp.MustCompile(`(?m)^  Type\s+Status\s+LastHeartbeatTime\s+LastTransitionTime\s+Reason\s+Message$`).MatchString(conds) {
				t.Errorf("Conditions header:\n%s", conds)
			}
			for _, re := range []string{
				`(?m)^  MemoryPressure\s+False\s+.+\s+KubeletHasSufficientMemory\s+kubelet has sufficient memory available$`,
				`(?m)^  DiskPressure\s+False\s+.+\s+KubeletHasNoDiskPressure\s+kubelet has no disk pressure$`,
				`(?m)^  PIDPressure\s+False\s+.+\s+KubeletHasSufficientPID\s+kubelet has sufficient PID available$`,
				`(?m)^  Ready\s+True\s+.+\s+KubeletReady\s+kubelet is posting ready status$`,
			} {
				if !regexp.MustCompile(re).MatchString(conds) {
					t.Errorf("Conditions: no match for %s in:\n%s", re, conds)
				}
			}

			addrs := section(out, "Addresses:")
			if !regexp.MustCompile(`(?m)^  InternalIP:\s+\d+\.\d+\.\d+\.\d+$`).MatchString(addrs) ||
				!regexp.MustCompile(`(?m)^  Hostname:\s+sim-0001-cp-1$`).MatchString(addrs) {
				t.Errorf("Addresses section:\n%s", addrs)
			}
			for _, name := range []string{"Capacity:", "Allocatable:"} {
				s := section(out, name)
				for _, r := range []string{"cpu", "ephemeral-storage", "hugepages-1Gi", "hugepages-2Mi", "memory", "pods"} {
					if !regexp.MustCompile(`(?m)^  ` + r + `:\s+\S+$`).MatchString(s) {
						t.Errorf("%s section lacks %s:\n%s", name, r, s)
					}
				}
			}
			info := section(out, "System Info:")
			for _, re := range []string{
				`(?m)^  Machine ID:\s+[0-9a-f]{32}$`,
				`(?m)^  System UUID:\s+\S+$`,
				`(?m)^  Boot ID:\s+\S+$`,
				`(?m)^  Kernel Version:\s+\S+$`,
				`(?m)^  OS Image:\s+\S.*$`,
				`(?m)^  Operating System:\s+linux$`,
				`(?m)^  Architecture:\s+amd64$`,
				`(?m)^  Container Runtime Version:\s+containerd://\S+$`,
				`(?m)^  Kubelet Version:\s+v1\.36\.3$`,
			} {
				if !regexp.MustCompile(re).MatchString(info) {
					t.Errorf("System Info: no match for %s in:\n%s", re, info)
				}
			}
			for _, re := range []string{
				`(?m)^PodCIDR:\s+\d+\.\d+\.\d+\.\d+/\d+$`,
				`(?m)^Non-terminated Pods:\s+\(\d+ in total\)$`,
				`(?m)^Allocated resources:$`,
				`(?m)^Events:`,
			} {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("describe node: no match for %s", re)
				}
			}
		})
	}
}

func TestDescribeNamespace(t *testing.T) {
	t.Parallel()
	const ns = "e2e-describe"
	createNamespace(t, ctx1, ns)
	mustKubectl(t, ctx1, "label", "namespace", ns, "team=e2e")
	for _, c := range clients() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := opts{bin: c.bin}
			want := "Name:         default\n" +
				"Labels:       kubernetes.io/metadata.name=default\n" +
				"Annotations:  <none>\n" +
				"Status:       Active\n" +
				"\n" +
				"No resource quota.\n" +
				"\n" +
				"No LimitRange resource.\n"
			if out := mustKubectlWith(t, o, ctx1, "describe", "namespace", "default"); out != want {
				t.Errorf("describe ns default:\n%s\nwant:\n%s", out, want)
			}
			out := mustKubectlWith(t, o, ctx1, "describe", "ns", ns)
			requireContains(t, "describe ns "+ns, out,
				"Name:         "+ns+"\n",
				"Labels:       kubernetes.io/metadata.name="+ns+"\n              team=e2e\n",
				"Status:       Active\n")
			errOut := failKubectl(t, o, ctx1, "describe", "ns", "e2e-no-such-ns")
			if errOut != "Error from server (NotFound): namespaces \"e2e-no-such-ns\" not found\n" {
				t.Errorf("describe missing ns: stderr %q", errOut)
			}
		})
	}
}

// TestNodeLeaseRenewed: a node's kubelet renews its Lease in kube-node-lease every 10 s
// (a quarter of leaseDurationSeconds 40); without renewals the node would turn NotReady.
func TestNodeLeaseRenewed(t *testing.T) {
	t.Parallel()
	const jp = "jsonpath={.spec.renewTime} {.spec.leaseDurationSeconds} {.spec.holderIdentity}"
	first := strings.Fields(mustKubectl(t, ctx1, "-n", "kube-node-lease", "get", "lease", "sim-0001-worker-1", "-o", jp))
	if len(first) != 3 || first[1] != "40" || first[2] != "sim-0001-worker-1" {
		t.Fatalf("lease sim-0001-worker-1: %q, want renewTime, 40, sim-0001-worker-1", first)
	}
	if _, err := time.Parse(time.RFC3339Nano, first[0]); err != nil {
		t.Fatalf("renewTime %q: %v", first[0], err)
	}
	eventually(t, 15*time.Second, func() string {
		now := strings.Fields(mustKubectl(t, ctx1, "-n", "kube-node-lease", "get", "lease", "sim-0001-worker-1", "-o", jp))
		if len(now) == 3 && now[0] != first[0] {
			return ""
		}
		return fmt.Sprintf("lease sim-0001-worker-1 renewTime still %s (now %s)", first[0], time.Now().UTC().Format(time.RFC3339))
	})
}
