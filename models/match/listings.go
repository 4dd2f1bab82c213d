package match

// listing is the needs whose lists hold one helper, by slot in
// Matcher.listed: a listed helper's change re-ranks them, and its ping
// growing stale takes it out of them (arm).
type listing struct {
	needs   []int32
	staleAt int64 // the staleness timer set for the helper's current ping
}

// relist moves need ni's listings from the helpers of old to those of new.
func (m *Matcher) relist(ni int32, old, new []ranked) {
	for _, s := range old {
		if !listedIn(new, s.slot) {
			m.unlist(s.slot, ni)
		}
	}
	for _, s := range new {
		if !listedIn(old, s.slot) {
			m.list(s.slot, ni)
		}
	}
}

// list records that need ni lists the helper in slot, and arms the
// helper's staleness timer: a listed helper whose ping grows too old must
// leave the list even if it never pings again.
func (m *Matcher) list(slot, ni int32) {
	for int(slot) >= len(m.listed) {
		m.listed = append(m.listed, listing{})
	}
	l := &m.listed[slot]
	l.needs = append(l.needs, ni)
	m.arm(slot, l)
}

// listing returns the lists the helper in slot is in, nil for none.
func (m *Matcher) listing(slot int32) *listing {
	if int(slot) >= len(m.listed) || len(m.listed[slot].needs) == 0 {
		return nil
	}
	return &m.listed[slot]
}

func (m *Matcher) unlist(slot, ni int32) {
	l := &m.listed[slot]
	for i, x := range l.needs {
		if x == ni {
			l.needs = append(l.needs[:i], l.needs[i+1:]...)
			break
		}
	}
	if len(l.needs) == 0 {
		l.staleAt = 0 // its timer no longer stands
	}
}

// arm sets the staleness timer of a listed helper for its latest ping.
func (m *Matcher) arm(slot int32, l *listing) {
	_, _, _, ping, _ := m.idx.position(slot)
	if staleAt := ping + MaxPingAge + 1; l.staleAt != staleAt {
		l.staleAt = staleAt
		m.timers.Push(timer{at: staleAt, kind: helperStale, slot: slot, ref: staleAt})
	}
}
