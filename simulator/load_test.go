package simulator

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"everywhere/events"
)

func smallLoad() LoadConfig {
	c := DefaultLoad()
	c.Users, c.Events = 2000, 200_000
	return c
}

// TestLoadMixIsValidAndSteady checks the synthetic load: every event is
// accepted by the engine's decoders, the shares are those of the
// throughput budget, event time never runs backwards, the needs open at
// once stay about needLife, and the same seed gives the same stream.
func TestLoadMixIsValidAndSteady(t *testing.T) {
	l, again := NewLoad(smallLoad()), NewLoad(smallLoad())
	d := events.NewDecoder("CNY")
	var (
		m, m2 Message
		count [NumTopics]int
		last  int64
		open  = map[string]bool{}
		most  int
	)
	for l.Next(&m) {
		if !again.Next(&m2) || m2.Key != m.Key || !bytes.Equal(m2.Value, m.Value) {
			t.Fatalf("event %d differs between two runs of one seed", count[0]+count[1]+count[2]+count[3]+count[4])
		}
		if m.TS < last {
			t.Fatalf("event time ran backwards: %d after %d", m.TS, last)
		}
		last = m.TS
		var err error
		switch m.Topic {
		case Pings:
			var p events.Ping
			err = d.Ping(m.Value, &p)
		case Profiles:
			var p events.Profile
			err = d.Profile(m.Value, &p)
		case Transactions:
			var x events.Transaction
			err = d.Transaction(m.Value, &x)
		case Needs:
			var n events.Need
			if err = d.Need(m.Value, &n); err == nil {
				if n.Status == events.Open {
					open[strings.Clone(n.NeedID)] = true
				} else if !open[n.NeedID] {
					t.Fatalf("need %s closed but never opened", n.NeedID)
				} else {
					delete(open, n.NeedID)
				}
				most = max(most, len(open))
			}
		case Outcomes:
			var o events.Outcome
			err = d.Outcome(m.Value, &o)
		}
		if err != nil {
			t.Fatalf("%s message rejected: %v\n%s", m.Topic, err, m.Value)
		}
		count[m.Topic]++
	}
	total := 0
	for _, c := range count {
		total += c
	}
	if total != smallLoad().Events {
		t.Fatalf("%d events, want %d", total, smallLoad().Events)
	}
	share := func(n int) float64 { return float64(n) / float64(total) }
	for _, c := range []struct {
		what string
		got  float64
		want float64
	}{
		{"pings", share(count[Pings]), .80},
		{"transactions", share(count[Transactions]), .12},
		{"needs", share(count[Needs]), .05},
		{"other", share(count[Profiles] + count[Outcomes]), .03},
	} {
		if math.Abs(c.got-c.want) > c.want*0.05 {
			t.Errorf("%s are %.3f of the load, want %.2f", c.what, c.got, c.want)
		}
	}
	if most < needLife*9/10 || most > needLife {
		t.Errorf("at most %d needs open at once, want about %d", most, needLife)
	}
}
