package fraud

import "everywhere/events"

// Replayer runs one detector over a stream that holds every user, as a
// backtest does: paths go straight back into the same detector instead of
// through Kafka.
type Replayer struct {
	D     *Detector
	queue []Path
}

// NewReplayer returns a replayer with rules r.
func NewReplayer(r *Rules) *Replayer {
	rp := &Replayer{D: New(r)}
	rp.D.EmitPath = func(p *Path) { rp.queue = append(rp.queue, *p) }
	return rp
}

// Transaction scores t and delivers the paths it forwards.
func (rp *Replayer) Transaction(t *events.Transaction, out []Alert) []Alert {
	out = rp.D.Transaction(t, out)
	for len(rp.queue) > 0 {
		p := rp.queue[0]
		rp.queue = rp.queue[1:]
		out = rp.D.Path(&p, out)
	}
	rp.queue = rp.queue[:0]
	return out
}
