package match

import (
	"strconv"
	"strings"
	"testing"

	"everywhere/events"
	"everywhere/simulator"
)

// matchInput is one input of a matcher: a helper's state, a need or an
// outcome.
type matchInput struct {
	helper  *HelperState
	need    *events.Need
	outcome *events.Outcome
}

// apply hands x to m, as a region's handler does.
func (x matchInput) apply(m *Matcher) {
	switch {
	case x.helper != nil:
		m.Helper(x.helper, x.helper.PingMS)
	case x.need != nil:
		m.Need(x.need)
	default:
		m.Outcome(x.outcome, 0, -1, x.outcome.TS)
	}
}

// loadInputs turns the next n messages of the throughput benchmarks' load
// into matcher inputs, as the router would: pings of available users and
// of users already known, needs, and outcomes that teach (which reach
// every region).
// known tracks who has been sent.
func loadInputs(b *testing.B, l *simulator.Load, n int, known map[string]bool) []matchInput {
	d := events.NewDecoder("CNY")
	var (
		msg simulator.Message
		out []matchInput
	)
	for i := 0; i < n && l.Next(&msg); i++ {
		switch msg.Topic {
		case simulator.Pings:
			var p events.Ping
			if err := d.Ping(msg.Value, &p); err != nil {
				b.Fatal(err)
			}
			if !p.Available && !known[p.UserID] {
				continue
			}
			id := strings.Clone(p.UserID) // decoded strings are views
			known[id] = true
			out = append(out, matchInput{helper: &HelperState{ID: id, PingMS: p.TS, Lat: p.Lat, Lng: p.Lng, Available: p.Available}})
		case simulator.Needs:
			nd := new(events.Need)
			if err := d.Need(msg.Value, nd); err != nil {
				b.Fatal(err)
			}
			nd.NeedID, nd.UserID, nd.Currency = strings.Clone(nd.NeedID), strings.Clone(nd.UserID), ""
			out = append(out, matchInput{need: nd})
		case simulator.Outcomes:
			o := new(events.Outcome)
			if err := d.Outcome(msg.Value, o); err != nil {
				b.Fatal(err)
			}
			if !Teaches(o.Outcome, o.Rating) {
				continue
			}
			o.NeedID, o.HelperID = strings.Clone(o.NeedID), strings.Clone(o.HelperID)
			out = append(out, matchInput{outcome: o})
		}
	}
	return out
}

// BenchmarkMatcher is a region's matching work per input (helper state,
// need or outcome) on the load of the catch-up benchmark: 10,000 or 100,000 users,
// about 3,000 open needs, each helper's ping re-ranking the needs near
// it, and changes that only reorder a list gathered for 30 s, as the
// engine's default republish interval does. It is the matcher's share of
// what the engine does per routed record, without Kafka or decoding.
// The smaller city asks more per input: as many needs share a tenth of
// the helpers, so each helper is listed by ten times as many needs and
// each of its pings reaches those lists.
func BenchmarkMatcher(b *testing.B) {
	for _, users := range []int{10_000, 100_000} {
		b.Run("users="+strconv.Itoa(users), func(b *testing.B) { benchmarkMatcher(b, users) })
	}
}

func benchmarkMatcher(b *testing.B, users int) {
	lc := simulator.DefaultLoad()
	lc.Events = 1 << 30
	lc.Users = users
	l := simulator.NewLoad(lc)
	known := map[string]bool{}
	p := DefaultParams()
	m := NewMatcher(&p, 10)
	m.Republish = 30_000
	shown := 0 // the engine reads every list published
	m.Publish = func(l *List) { shown += len(l.Suggestions) }
	for _, x := range loadInputs(b, l, 600_000, known) { // five minutes of event time: needs open, helpers placed
		x.apply(m)
	}
	published := m.Published
	var in []matchInput
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if i == len(in) {
			b.StopTimer()
			in, i = loadInputs(b, l, 200_000, known), 0
			b.StartTimer()
		}
		in[i].apply(m)
		i++
	}
	b.ReportMetric(float64(m.OpenNeeds()), "open-needs")
	if shown == 0 {
		b.Fatal("no list was published")
	}
	b.ReportMetric(float64(m.Published-published)/float64(b.N), "lists/op")
}
