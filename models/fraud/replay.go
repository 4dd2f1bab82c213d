package fraud

import "everywhere/events"

// loopback delivers a detector's paths straight back into it, for a
// detector that holds every user: a path goes on at once instead of
// through Kafka.
type loopback struct {
	d     *Detector
	queue []Path
}

func newLoopback(r *Rules) *loopback {
	l := &loopback{d: New(r)}
	l.d.EmitPath = func(p *Path) { l.queue = append(l.queue, *p) }
	return l
}

// drain delivers the paths forwarded so far, and those they forward.
func (l *loopback) drain(out []Alert) []Alert {
	for len(l.queue) > 0 {
		p := l.queue[0]
		l.queue = l.queue[1:]
		out = l.d.Path(&p, out)
	}
	l.queue = l.queue[:0]
	return out
}

// Replayer runs one detector over a stream that holds every user, as a
// backtest does.
type Replayer struct {
	D  *Detector
	lb *loopback
}

// NewReplayer returns a replayer with rules r.
func NewReplayer(r *Rules) *Replayer {
	lb := newLoopback(r)
	return &Replayer{D: lb.d, lb: lb}
}

// Transaction scores t and delivers the paths it forwards.
func (rp *Replayer) Transaction(t *events.Transaction, out []Alert) []Alert {
	return rp.lb.drain(rp.D.Transaction(t, out))
}
