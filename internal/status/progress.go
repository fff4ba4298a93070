package status

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sirupsen/logrus"
)

// Progress reports a run as it goes: on a terminal, one line rewritten in place every second;
// otherwise a log line every logEvery, and whenever the summary changed in the meantime.
type Progress struct {
	Out      io.Writer // the terminal, when Terminal is true
	Terminal bool
	Log      *logrus.Entry
	LogEvery time.Duration
	Summary  func() Summary
}

// Run reports until ctx ends, then finishes the line.
func (p *Progress) Run(ctx context.Context) {
	tick := time.Second
	if !p.Terminal {
		tick = p.LogEvery
		if tick <= 0 {
			tick = 30 * time.Second
		}
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var last Summary
	for {
		select {
		case <-ctx.Done():
			if p.Terminal {
				fmt.Fprintln(p.Out)
			}
			return
		case <-t.C:
			s := p.Summary()
			if p.Terminal {
				fmt.Fprintf(p.Out, "\r\033[K%s", Line(s))
				continue
			}
			if s != last {
				p.Log.WithFields(logrus.Fields{
					"total": s.Total, "registering": s.Registering, "connecting": s.Connecting, "connected": s.Connected,
					"ready": s.Ready, "active": s.Active, "failed": s.Failed, "registered": s.Registered,
				}).Info("progress")
				last = s
			}
		}
	}
}

// Line is the one-line form of a summary: the buckets, then how many are registered.
func Line(s Summary) string {
	return fmt.Sprintf("clusters %d: registering %d, connecting %d, connected %d, ready %d, active %d, failed %d; registered %d",
		s.Total, s.Registering, s.Connecting, s.Connected, s.Ready, s.Active, s.Failed, s.Registered)
}
