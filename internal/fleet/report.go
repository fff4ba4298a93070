package fleet

import (
	"time"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
	"github.com/rancher/scale-cluster-agent/internal/report"
	"github.com/rancher/scale-cluster-agent/internal/status"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

// Report is the run's /status document.
func (f *Fleet) Report() status.Report {
	r := status.Report{Time: time.Now()}
	if len(f.members) == 0 {
		for _, c := range f.Clusters {
			r.Clusters = append(r.Clusters, status.Cluster{Name: c.Name(), Address: c.Address(), State: "serving"})
		}
		r.Summary = status.Summarize(nil)
		r.Summary.Total = len(r.Clusters)
		return r
	}
	r.Clusters = make([]status.Cluster, 0, len(f.members))
	for _, m := range f.members {
		r.Clusters = append(r.Clusters, m.status())
	}
	r.Summary = status.Summarize(r.Clusters)
	return r
}

// status is the member's line of /status.
func (m *member) status() status.Cluster {
	m.mu.Lock()
	a, id, token, regErr := m.agent, m.id, m.token, m.regErr
	view, viewAt, gone := m.view, m.viewAt, m.gone
	m.mu.Unlock()
	c := status.Cluster{Name: m.name(), Address: m.cluster.Address(), Registered: id != "" && token != ""}
	if id != "" {
		c.Endpoint = rancherStatus(id, view, viewAt, gone)
	}
	if regErr != "" {
		c.State, c.LastError = "failed", regErr
		return c
	}
	if a == nil {
		c.State = "registering"
		return c
	}
	as := a.Status()
	c.Main, c.Steve = tunnelStatus(as.Main), tunnelStatus(as.Steve)
	c.ConnectedSince = as.Main.ConnectedSince
	c.Reconnects = as.Main.Reconnects + as.Steve.Reconnects
	c.RefusedDials = as.Main.RefusedDials + as.Steve.RefusedDials
	c.LastError = as.Main.LastError
	if c.LastError == "" {
		c.LastError = as.Steve.LastError
	}
	_, up := bothUp(as)
	ep := c.Endpoint
	switch {
	case up && ep != nil && ep.Active:
		// Rancher's view lags (its checks run every 15 s): without both tunnels the cluster is
		// reconnecting, whatever Rancher still shows.
		c.State = "active"
	case up && ep != nil && ep.Ready:
		c.State = "ready"
	case up:
		c.State = "connected"
	case as.Main.Failures+as.Steve.Failures > 0 && c.LastError != "":
		c.State = "failed"
	default:
		c.State = "connecting"
	}
	return c
}

// rancherStatus is Rancher's view of a cluster for /status.
func rancherStatus(id string, v *rancher.Cluster, at time.Time, gone bool) *status.Endpoint {
	e := &status.Endpoint{ID: id}
	if !at.IsZero() {
		e.LastCheck = &at
	}
	if gone {
		e.State, e.LastError = "missing", "not in Rancher's list of clusters (deleted?)"
		return e
	}
	if v == nil {
		return e
	}
	e.State, e.Transitioning, e.TransitioningMessage = v.State, v.Transitioning, v.TransitioningMessage
	e.Active, e.Nodes = v.IsActive(), v.NodeCount
	if v.Version != nil {
		e.Version = v.Version.GitVersion
	}
	for _, cond := range v.Conditions {
		sc := status.Condition{Type: cond.Type, Status: cond.Status, Reason: cond.Reason, Message: cond.Message}
		if t := cond.LastUpdateTime.Time; !t.IsZero() {
			sc.LastUpdate = &t
		}
		e.Conditions = append(e.Conditions, sc)
		switch {
		case cond.Type == "Connected":
			e.Connected = cond.Status == "True"
		case cond.Type == "Ready" && cond.Status == "True":
			e.Ready = true
			if t := cond.LastTransitionTime.Time; !t.IsZero() {
				e.ReadySince = &t
			} else if sc.LastUpdate != nil {
				e.ReadySince = sc.LastUpdate
			}
		}
	}
	if !e.Active && v.Transitioning == "error" {
		e.LastError = v.TransitioningMessage
	}
	return e
}

func tunnelStatus(s tunnel.TunnelStatus) status.Tunnel {
	return status.Tunnel{State: string(s.State), ConnectedSince: s.ConnectedSince, Connects: s.Connects,
		Reconnects: s.Reconnects, Failures: s.Failures, RefusedDials: s.RefusedDials, LastError: s.LastError}
}

// RunReport is the report of the run so far: per cluster the time from its registration to
// tunnels up, Connected, Ready and active, with percentiles, reconnects and failures.
func (f *Fleet) RunReport() *report.Report {
	r := &report.Report{Started: f.runStarted, Ended: time.Now(), Rancher: "none"}
	if f.target != nil {
		r.Rancher = f.target.url
		if f.target.embedded {
			r.Rancher = "the embedded endpoint"
		}
	}
	for _, m := range f.members {
		st := m.status()
		m.mu.Lock()
		c := report.Cluster{
			Name: m.name(), ID: m.id, Origin: m.origin, Registered: m.registering,
			State: st.State, Reconnects: st.Reconnects, Failures: st.Main.Failures + st.Steve.Failures, Error: m.regErr,
		}
		if m.view != nil {
			c.RancherState = m.view.State
		}
		c.Reach(report.TunnelUp, m.tunnelUp)
		c.Reach(report.Connected, m.connected)
		c.Reach(report.Ready, m.ready)
		c.Reach(report.AgentDeployed, m.agentDeployed)
		c.Reach(report.Active, m.active)
		m.mu.Unlock()
		r.Clusters = append(r.Clusters, c)
	}
	r.Finish()
	return r
}
