package fleet

import (
	"context"
	"time"

	"github.com/rancher/scale-cluster-agent/internal/rancher"
	"github.com/rancher/scale-cluster-agent/internal/tunnel"
)

const (
	// settledFactor and minSettledInterval slow the follower down once every cluster is
	// active and connected: a limit=-1 list of thousands of clusters is tens of MB for Rancher
	// to build. A cluster whose tunnels drop wakes it up again.
	settledFactor      = 6
	minSettledInterval = 30 * time.Second
	// tunnelWatchInterval is how often the agents are looked at for their first sessions;
	// the time recorded is the session's own, so this only needs to beat a reconnect.
	tunnelWatchInterval = 250 * time.Millisecond
)

// follow reads Rancher's view of every cluster with one bulk list per interval, until ctx
// ends: state, conditions, transitioning message, and the first time each cluster was seen
// Connected, Ready and active after its tunnels came up.
func (f *Fleet) follow(ctx context.Context, interval time.Duration) {
	failures := 0
	for {
		all, err := f.target.client.ListClusters(ctx)
		if ctx.Err() != nil {
			return
		}
		settled := false
		if err != nil {
			failures++
			l := f.log.WithError(err).WithField("rancher", f.target.url)
			if failures == 1 || failures%10 == 0 {
				l.Warn("could not read Rancher's view of the clusters; trying again")
			} else {
				l.Debug("could not read Rancher's view of the clusters; trying again")
			}
		} else {
			failures = 0
			settled = f.observe(all, time.Now())
		}
		wait := interval
		if settled {
			wait = max(interval*settledFactor, minSettledInterval)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-f.unsettled:
			t.Stop()
		}
	}
}

// observe records one view of Rancher's clusters; it reports whether every member is
// registered and active.
func (f *Fleet) observe(all []rancher.Cluster, now time.Time) bool {
	byID := make(map[string]*rancher.Cluster, len(all))
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	settled := true
	for _, m := range f.members {
		m.mu.Lock()
		if m.id == "" {
			settled = settled && m.regErr != ""
			m.mu.Unlock()
			continue
		}
		v := byID[m.id]
		m.gone = v == nil
		if m.agent != nil {
			at, up := bothUp(m.agent.Status())
			if up && m.tunnelUp.IsZero() {
				m.tunnelUp = at
			}
			m.up = up
		}
		if v != nil {
			m.view, m.viewAt = v, now
			if !m.tunnelUp.IsZero() {
				// Milestones count from the tunnels being up: a cluster reused from an
				// earlier run may still show active in Rancher before its agent is back.
				if c := v.Condition("Connected"); c != nil && c.Status == "True" && m.connected.IsZero() {
					m.connected = now
				}
				if c := v.Condition("Ready"); c != nil && c.Status == "True" && m.ready.IsZero() {
					m.ready = now
				}
				if c := v.Condition("AgentDeployed"); c != nil && c.Status == "True" && m.agentDeployed.IsZero() {
					m.agentDeployed = now
				}
				if v.IsActive() && m.active.IsZero() {
					m.active = now
				}
			}
		}
		settled = settled && v != nil && v.IsActive() && m.up
		m.mu.Unlock()
	}
	return settled
}

// watchTunnels records when each cluster first had both tunnels up, and wakes the follower
// when a cluster's tunnels drop.
func (f *Fleet) watchTunnels(ctx context.Context) {
	t := time.NewTicker(tunnelWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		dropped := false
		for _, m := range f.members {
			m.mu.Lock()
			a := m.agent
			m.mu.Unlock()
			if a == nil {
				continue
			}
			at, up := bothUp(a.Status())
			m.mu.Lock()
			if up && m.tunnelUp.IsZero() {
				m.tunnelUp = at
			}
			dropped = dropped || m.up && !up
			m.up = up
			m.mu.Unlock()
		}
		if dropped {
			select {
			case f.unsettled <- struct{}{}:
			default:
			}
		}
	}
}

// bothUp is when the later of the two tunnels came up, if both are up.
func bothUp(s tunnel.AgentStatus) (time.Time, bool) {
	if s.Main.State != tunnel.StateConnected || s.Steve.State != tunnel.StateConnected ||
		s.Main.ConnectedSince == nil || s.Steve.ConnectedSince == nil {
		return time.Time{}, false
	}
	at := *s.Main.ConnectedSince
	if s.Steve.ConnectedSince.After(at) {
		at = *s.Steve.ConnectedSince
	}
	return at, true
}
