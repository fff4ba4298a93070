package tunnel

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	now := time.Date(2026, 11, 25, 22, 52, 53, 0, time.UTC)
	type step struct{ typ, status, reason, message string }
	// The steps replay the recorded v2.15 timeline of one imported cluster
	// (rancher-v2.15-trace/conditions.jsonl), then what a cluster with nodes adds.
	cases := []struct {
		name  string
		steps []step
		want  summary
	}{
		{"created", nil, summary{RancherPending, "yes", ""}},
		{"driver imported", []step{{CondPending, statusTrue, "", ""}, {CondProvisioned, statusTrue, "", ""}, {CondGlobalAdminsSynced, statusTrue, "", ""}},
			summary{RancherWaiting, "yes", msgWaitingForAPI}},
		{"not connected yet", []step{{CondPending, statusTrue, "", ""}, {CondProvisioned, statusTrue, "", ""},
			{CondReady, statusFalse, reasonDisconnected, msgDisconnected}},
			summary{RancherWaiting, "yes", msgWaitingForAPI}},
		{"healthy", []step{{CondPending, statusTrue, "", ""}, {CondProvisioned, statusTrue, "", ""}, {CondConnected, statusTrue, "", ""},
			{CondReady, statusTrue, "", ""}, {CondWaiting, statusTrue, "", ""}},
			summary{RancherActive, "no", ""}},
		{"agent deploying", []step{{CondPending, statusTrue, "", ""}, {CondProvisioned, statusTrue, "", ""}, {CondReady, statusTrue, "", ""},
			{CondWaiting, statusTrue, "", ""}, {CondAgentDeployed, statusUnknown, "", ""}},
			summary{RancherProvisioning, "yes", ""}},
		{"agent deploy failed", []step{{CondPending, statusTrue, "", ""}, {CondProvisioned, statusTrue, "", ""}, {CondReady, statusTrue, "", ""},
			{CondWaiting, statusTrue, "", ""}, {CondAgentDeployed, statusFalse, "Error", "kubectl apply: exit status 1"}},
			summary{RancherProvisioning, "error", "kubectl apply: exit status 1"}},
		{"lost after active", []step{{CondPending, statusTrue, "", ""}, {CondProvisioned, statusTrue, "", ""}, {CondWaiting, statusTrue, "", ""},
			{CondReady, statusFalse, reasonDisconnected, msgDisconnected}},
			summary{RancherUnavailable, "yes", msgDisconnected}},
		{"ready unknown", []step{{CondPending, statusTrue, "", ""}, {CondProvisioned, statusTrue, "", ""}, {CondWaiting, statusTrue, "", ""},
			{CondReady, statusUnknown, "", "checking"}},
			summary{RancherUnavailable, "error", "checking"}},
		{"updating", []step{{CondPending, statusTrue, "", ""}, {CondProvisioned, statusTrue, "", ""}, {CondWaiting, statusTrue, "", ""},
			{CondReady, statusTrue, "", ""}, {CondAgentDeployed, statusTrue, "", ""}, {CondUpdated, statusUnknown, "", ""}},
			summary{RancherUpdating, "yes", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs := newConditions(now)
			for _, s := range tc.steps {
				cs.set(s.typ, s.status, s.reason, s.message, now)
			}
			if got := summarize(cs); got != tc.want {
				t.Errorf("summarize = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestConditionsSet(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	cs := newConditions(t0)
	if cs.set(CondPending, statusUnknown, "", "", t0.Add(time.Minute)) {
		t.Error("setting an unchanged condition reported a change")
	}
	if got := cs.get(CondPending).LastUpdateTime.Time; !got.Equal(t0) {
		t.Errorf("unchanged condition moved lastUpdateTime to %v", got)
	}
	t1 := t0.Add(2 * time.Minute)
	if !cs.set(CondPending, statusTrue, "", "", t1) {
		t.Error("a status change was not reported")
	}
	c := cs.get(CondPending)
	if !c.LastUpdateTime.Time.Equal(t1) || !c.LastTransitionTime.Time.Equal(t1) {
		t.Errorf("times after a change: update %v transition %v", c.LastUpdateTime, c.LastTransitionTime)
	}
	n := len(cs)
	cs.set(CondReady, statusTrue, "", "", t1)
	if len(cs) != n+1 || cs[n].Type != CondReady {
		t.Errorf("a new condition is appended: %v", cs)
	}
	if !cs.is(CondReady, statusTrue) || cs.is(CondAgentDeployed, statusTrue) {
		t.Error("is")
	}
}
