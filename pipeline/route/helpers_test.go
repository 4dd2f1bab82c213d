package route

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"everywhere/events"
	"everywhere/geo"
	"everywhere/models/fraud"
	"everywhere/pipeline/ack"
)

// testRouter is the helpers and the needs router of one source over
// parts regions partitions (resolution 3, needs of up to 20 km), with
// what their sink is handed once end is called.
type testRouter struct {
	t   *testing.T
	d   *fraud.Detector // numbers the users, as the partition's does
	h   *Helpers
	n   *Needs
	reg *Regions
	out *Emitter
	c   *captured
	tk  *ack.Ticket
	end func()
}

func newTestRouter(t *testing.T, parts int) *testRouter {
	b, c := capture(t)
	out := NewEmitter(context.Background(), 0, parts, b, time.Hour, false, prometheus.NewCounter(prometheus.CounterOpts{Name: "routed"}))
	reg := NewRegions(3, 20_000, parts)
	d := fraud.New(&fraud.Rules{IdleEvict: 72 * time.Hour})
	r := &testRouter{t: t, d: d, h: NewHelpers(out, reg, d), n: NewNeeds(out, reg), reg: reg, out: out, c: c, tk: ack.New(10)}
	r.end = func() {
		if err := out.Seal(r.tk); err != nil {
			t.Fatal(err)
		}
		b.Stop(time.Second)
	}
	return r
}

func (r *testRouter) ping(user string, ts int64, at [2]float64, avail bool) {
	ev := events.Ping{UserID: user, TS: ts, Lat: at[0], Lng: at[1], Available: avail}
	r.h.Ping(&ev, r.d.Ping(&ev), geo.Cell(at[0], at[1], 9), r.tk)
}

// states returns, by partition, the helper states handed over, as
// "user@ping avail skills credit alert".
func (r *testRouter) states() map[int][]string {
	out := map[int][]string{}
	for p, recs := range r.c.recs {
		for _, rec := range recs {
			if rec.Kind == KindHelper {
				s := &rec.Helper
				out[p] = append(out[p], fmt.Sprintf("%s@%d %t %d %d %d", s.ID, s.PingMS-needT0, s.Available, s.Skills, s.Credit, s.AlertMS))
			}
		}
	}
	return out
}

// reach is the partitions a place's helpers go to, in order.
func (r *testRouter) reach(at [2]float64) []int {
	var ps []int
	for m := r.reg.Reach(geo.Cell(at[0], at[1], 9)); m != 0; m &= m - 1 {
		ps = append(ps, bits.TrailingZeros64(m))
	}
	return ps
}

// TestHelpersOutliveTheDetectorsEviction: the router keeps a user's
// record by the number the partition's detector gives them, and the
// detector evicting the idle user's fraud state keeps the number: a
// helper idle for days who comes back unavailable is still known, and
// the partitions that held them hear they are gone, with the skills the
// router kept. A user evicted while the router keeps nothing of them
// gives their number up.
func TestHelpersOutliveTheDetectorsEviction(t *testing.T) {
	r := newTestRouter(t, 8)
	here := [2]float64{30.27, 120.15}
	r.ping("u1", needT0, here, true)
	r.h.Profile(&events.Profile{UserID: "u1", TS: needT0 + 1, Skills: 1 << events.Ride, HasSkills: true}, r.tk)
	r.ping("walker", needT0, here, false)
	later := needT0 + 100*3600*1000
	if n := r.d.Evict(later); n != 2 || r.d.Users() != 0 {
		t.Fatalf("evicted %d, %d users left; want 2, 0", n, r.d.Users())
	}
	r.ping("newcomer", later, here, true) // must not take u1's number
	r.ping("u1", later+1, here, false)
	r.end()
	gone := fmt.Sprintf("u1@%d false %d 0 0", later+1-needT0, 1<<events.Ride)
	for _, p := range r.reach(here) {
		if got := r.states()[p]; len(got) != 4 || got[3] != gone {
			t.Errorf("partition %d got %v, want u1 held and then %q", p, got, gone)
		}
	}
}

// TestHelpersSendWholeStatesWhereTheyReach: an available user's ping goes,
// as the whole state, to every partition whose regions it reaches; moving
// out of a partition's reach sends it "unavailable" there; a ping older
// than the latest, an unknown user who is not available, a profile that
// says nothing of skills or credit, an older alert, and an alert that is
// not high or is a money ring's (the regions find rings themselves) send
// nothing; a profile and a high alert send the state with them to where
// the user is held.
func TestHelpersSendWholeStatesWhereTheyReach(t *testing.T) {
	const parts = 8
	r := newTestRouter(t, parts)
	here, there := twoRegions(t, r.reg)
	hereParts, thereParts := r.reach(here), r.reach(there)
	left := []int{}
	for _, p := range hereParts {
		if !slices.Contains(thereParts, p) {
			left = append(left, p)
		}
	}
	if len(left) == 0 {
		t.Fatal("every partition Hangzhou reaches is reached from the other city too")
	}

	r.ping("u1", needT0+1000, here, true)
	r.ping("u1", needT0+500, there, true) // older: nothing
	r.ping("ghost", needT0+600, here, false)
	r.h.Profile(&events.Profile{UserID: "u1", TS: needT0 + 1100}, r.tk) // nothing of skills or credit
	r.h.Profile(&events.Profile{UserID: "u1", TS: needT0 + 1200, Skills: 1 << events.Ride, HasSkills: true, CreditScore: 800}, r.tk)
	r.h.Alert(&fraud.Alert{UserID: "u1", TS: needT0 + 1300, Rule: fraud.RuleVelocity, Severity: fraud.Medium}, r.tk)
	r.h.Alert(&fraud.Alert{UserID: "u1", TS: needT0 + 1300, Rule: fraud.RuleRoundTrip, Severity: fraud.High}, r.tk)
	r.h.Alert(&fraud.Alert{UserID: "u1", TS: needT0 + 1400, Rule: fraud.RuleVelocity, Severity: fraud.High}, r.tk)
	r.h.Alert(&fraud.Alert{UserID: "u1", TS: needT0 + 1350, Rule: fraud.RuleImpossibleTravel, Severity: fraud.High}, r.tk) // older
	r.ping("u1", needT0+2000, there, true)
	r.end()

	ride := 1 << events.Ride
	opened := "u1@1000 true 0 0 0"
	skilled := fmt.Sprintf("u1@1000 true %d 800 0", ride)
	alerted := fmt.Sprintf("u1@1000 true %d 800 %d", ride, needT0+1400)
	moved := fmt.Sprintf("u1@2000 true %d 800 %d", ride, needT0+1400)
	gone := fmt.Sprintf("u1@2000 false %d 800 %d", ride, needT0+1400)
	got := r.states()
	for p := range parts {
		var want []string
		if slices.Contains(hereParts, p) {
			want = append(want, opened, skilled, alerted)
		}
		switch {
		case slices.Contains(thereParts, p):
			want = append(want, moved)
		case slices.Contains(hereParts, p):
			want = append(want, gone)
		}
		if fmt.Sprint(got[p]) != fmt.Sprint(want) {
			t.Errorf("partition %d got %v, want %v", p, got[p], want)
		}
	}
}
