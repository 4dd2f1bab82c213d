package match

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"everywhere/events"
	"everywhere/geo"
)

// recorder keeps every list a matcher publishes.
type recorder struct{ lists []string }

func (r *recorder) publish(l *List) {
	ids := make([]string, len(l.Suggestions))
	for i, s := range l.Suggestions {
		ids[i] = s.HelperID
	}
	r.lists = append(r.lists, fmt.Sprintf("%s v%d @%d [%s]", l.NeedID, l.Version, l.EventTS-now, strings.Join(ids, " ")))
}

func (r *recorder) take() []string {
	l := r.lists
	r.lists = nil
	return l
}

func newRecorded(k int) (*Matcher, *recorder) {
	p := DefaultParams()
	m := NewMatcher(&p, k)
	r := &recorder{}
	m.Publish = r.publish
	return m, r
}

// at places a helper dy metres north of the need of the scenarios.
func helperAt(id string, ts int64, dy float64, avail bool) *HelperState {
	return &HelperState{ID: id, PingMS: ts, Lat: 30.27 + dy/111_195, Lng: 120.15, Available: avail}
}

func need(id string, ts int64) *events.Need {
	return &events.Need{NeedID: id, UserID: "req", TS: ts, Category: events.Errand, Lat: 30.27, Lng: 120.15,
		RadiusM: 3000, ExpiresAt: ts + 3600_000, Status: events.Open}
}

func expect(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	got := r.take()
	if !slices.Equal(got, want) {
		t.Fatalf("published\n  %q\nwant\n  %q", got, want)
	}
}

// TestMovedNeedVersionsStartAboveTheRegionsItLeft: a need that reaches a
// matcher after moving between regions' partitions numbers its lists
// from moves<<24 on, above anything the matchers it left published; closed
// and opened again after one more move, from one step higher. A need
// that never moved counts from 1 (the other tests).
func TestMovedNeedVersionsStartAboveTheRegionsItLeft(t *testing.T) {
	m, r := newRecorded(3)
	m.Helper(helperAt("mid", now, 1000, true), now)
	m.NeedMoved(need("n1", now+1), 2)
	m.Helper(helperAt("near", now+2, 100, true), now+2)
	expect(t, r, fmt.Sprintf("n1 v%d @1 [mid]", 2<<24+1), fmt.Sprintf("n1 v%d @2 [near mid]", 2<<24+2))

	gone := *need("n1", now+3)
	gone.Status = events.Cancelled
	m.NeedMoved(&gone, 2) // moved away: closed here
	m.NeedMoved(need("n1", now+4), 3)
	expect(t, r, fmt.Sprintf("n1 v%d @4 [near mid]", 3<<24+1))

	m.NeedMoved(need("n2", now+5), MaxMoves+7) // beyond the count kept: as MaxMoves
	expect(t, r, fmt.Sprintf("n2 v%d @5 [near mid]", MaxMoves<<24+1))
}

func TestRematchWhenABetterHelperArrivesAndWhenTheBestLeaves(t *testing.T) {
	m, r := newRecorded(3)
	m.Helper(helperAt("far", now, 2000, true), now)
	m.Helper(helperAt("mid", now, 1000, true), now)
	m.Need(need("n1", now+1))
	expect(t, r, "n1 v1 @1 [mid far]")

	m.Helper(helperAt("near", now+2, 100, true), now+2)
	expect(t, r, "n1 v2 @2 [near mid far]")

	// Nothing changes: the same place again publishes nothing.
	m.Helper(helperAt("near", now+3, 100, true), now+3)
	expect(t, r)

	// A fourth helper, worse than the third, does not enter a list of 3.
	m.Helper(helperAt("worst", now+4, 2900, true), now+4)
	expect(t, r)

	m.Helper(helperAt("near", now+5, 100, false), now+5) // goes unavailable
	expect(t, r, "n1 v3 @5 [mid far worst]")

	m.Helper(helperAt("mid", now+6, 5000, true), now+6) // moves out of reach
	expect(t, r, "n1 v4 @6 [far worst]")

	m.Helper(helperAt("mid", now+7, 500, true), now+7) // and back, now nearest
	expect(t, r, "n1 v5 @7 [mid far worst]")
}

func TestRequesterIsNeverSuggested(t *testing.T) {
	m, r := newRecorded(3)
	m.Helper(helperAt("req", now, 10, true), now)
	m.Helper(helperAt("h", now, 500, true), now)
	m.Need(need("n1", now+1))
	expect(t, r, "n1 v1 @1 [h]")
}

func TestListedHelperLeavesWhenItsPingGoesStale(t *testing.T) {
	m, r := newRecorded(3)
	m.Helper(helperAt("old", now, 100, true), now)
	m.Helper(helperAt("new", now+60_000, 900, true), now+60_000)
	m.Need(need("n1", now+60_001))
	expect(t, r, "n1 v1 @60001 [old new]")
	m.Advance(now + MaxPingAge)
	expect(t, r)
	m.Advance(now + MaxPingAge + 1)
	expect(t, r, fmt.Sprintf("n1 v2 @%d [new]", MaxPingAge+1))
	// A fresh ping brings it back.
	m.Helper(helperAt("old", now+MaxPingAge+10, 100, true), now+MaxPingAge+10)
	expect(t, r, fmt.Sprintf("n1 v3 @%d [old new]", MaxPingAge+10))
}

func TestAlertedHelperIsExcludedUntilItsWindowPasses(t *testing.T) {
	m, r := newRecorded(3)
	m.Helper(helperAt("h", now, 900, true), now)
	m.Helper(helperAt("x", now, 100, true), now)
	m.Need(need("n1", now+1))
	expect(t, r, "n1 v1 @1 [x h]")

	// A high alert raised against x removes it at once.
	alerted := helperAt("x", now, 100, true)
	alerted.AlertMS = now + 2
	m.Helper(alerted, now+2)
	expect(t, r, "n1 v2 @2 [h]")
	m.Need(&events.Need{NeedID: "n1", TS: now + 3, Status: events.Fulfilled})

	// Later: x alerted almost a day before a new need, pinging all along.
	end := now + 2 + AlertWindow
	late := helperAt("x", end-60_000, 100, true)
	late.AlertMS = now + 2
	m.Helper(helperAt("h", end-60_000, 900, true), end-60_000)
	m.Helper(late, end-60_000)
	m.Need(need("n2", end-30_000))
	expect(t, r, fmt.Sprintf("n2 v1 @%d [h]", end-30_000-now))
	// The window passes with no event of x's: it comes back by itself.
	m.Advance(end)
	expect(t, r, fmt.Sprintf("n2 v2 @%d [x h]", end-now))
}

func TestClosedAndExpiredNeedsPublishNothingMore(t *testing.T) {
	m, r := newRecorded(3)
	m.Helper(helperAt("a", now, 500, true), now)
	m.Need(need("n1", now+1))
	m.Need(need("n2", now+2))
	expect(t, r, "n1 v1 @1 [a]", "n2 v1 @2 [a]")
	m.Need(&events.Need{NeedID: "n1", TS: now + 3, Status: events.Cancelled})
	if m.OpenNeeds() != 1 {
		t.Fatalf("open needs %d, want 1", m.OpenNeeds())
	}
	m.Advance(now + 2 + 3600_000)
	expect(t, r, fmt.Sprintf("n2 v2 @%d []", MaxPingAge+1)) // a went stale first
	if m.OpenNeeds() != 0 {
		t.Fatalf("open needs %d after expiry, want 0", m.OpenNeeds())
	}
	m.Helper(helperAt("b", now+3600_010, 100, true), now+3600_010)
	expect(t, r)
}

// TestNeedUpdatedToExpireStaysClosed: an update that moves a need's
// expiry to or before the region's clock closes it, and the opening read
// again after it (a source re-sends what it sent after its last commit)
// does not open it again, as after a cancellation or an expiry by time.
func TestNeedUpdatedToExpireStaysClosed(t *testing.T) {
	m, r := newRecorded(3)
	m.Helper(helperAt("a", now, 500, true), now)
	opened := need("n1", now+1)
	m.Need(opened)
	expect(t, r, "n1 v1 @1 [a]")
	m.Advance(now + 60_000)
	ended := *need("n1", now+60_000)
	ended.ExpiresAt = now + 30_000
	m.Need(&ended)
	if m.OpenNeeds() != 0 {
		t.Fatalf("open needs %d after an update to an expiry passed, want 0", m.OpenNeeds())
	}
	m.Need(opened) // read again
	m.Helper(helperAt("b", now+60_010, 100, true), now+60_010)
	expect(t, r)
	if m.OpenNeeds() != 0 {
		t.Fatalf("open needs %d after the opening was read again, want 0", m.OpenNeeds())
	}
}

// TestClosedNeedsAreForgottenOnceExpired: the needs remembered as closed
// are let go once they would have expired, at a sweep whenever their
// number has doubled since the last (from 4,096), so that what a region
// keeps follows the needs of the last hour, within twice their number,
// and not every need it ever closed; those closed and not yet expired
// are still recognised.
func TestClosedNeedsAreForgottenOnceExpired(t *testing.T) {
	m, _ := newRecorded(3)
	closeAt := func(id string, ts int64) {
		m.Need(need(id, ts))
		m.Need(&events.Need{NeedID: id, TS: ts + 1, Status: events.Fulfilled})
	}
	const old = 5000
	for i := range old {
		closeAt("old"+strconv.Itoa(i), now+int64(i))
	}
	late := now + 2*3600_000 // past every old one's expiry
	most, fresh := len(m.closed), 0
	for len(m.closed) >= most && fresh < 10_000 {
		closeAt("new"+strconv.Itoa(fresh), late+int64(fresh))
		fresh++
		most = max(most, len(m.closed))
	}
	if len(m.closed) != fresh || most > 2*old {
		t.Fatalf("after %d more closed: %d remembered (at most %d), want the %d not expired, at most %d", fresh, len(m.closed), most, fresh, 2*old)
	}
	m.Need(need("new0", late)) // an opening read again
	if m.OpenNeeds() != 0 {
		t.Fatal("a closed need opened again when its opening was read again")
	}
}

// TestRegionsOwnAlertOutlivesTheHelpersStates: an alert the region
// learnt of itself (a money ring's) keeps the user out whatever the
// user's states say after it, also for a user the region did not know
// yet, and ends by itself after the window.
func TestRegionsOwnAlertOutlivesTheHelpersStates(t *testing.T) {
	m, r := newRecorded(3)
	m.Helper(helperAt("h", now, 900, true), now)
	m.Helper(helperAt("x", now, 100, true), now)
	m.Need(need("n1", now+1))
	expect(t, r, "n1 v1 @1 [x h]")

	m.Advance(now + 2)
	m.Alert("x", now+2)
	expect(t, r, "n1 v2 @2 [h]")
	m.Alert("x", now+1) // an older one changes nothing
	expect(t, r)

	// x's router knows nothing of the ring: its next state has no alert,
	// and x stays out.
	m.Helper(helperAt("x", now+60_000, 50, true), now+60_000)
	expect(t, r)
	m.Need(&events.Need{NeedID: "n1", TS: now + 60_001, Status: events.Fulfilled})

	// A user unknown to the region when alerted is kept out once it
	// arrives.
	m.Alert("y", now+70_000)
	m.Helper(helperAt("y", now+80_000, 10, true), now+80_000)
	m.Helper(helperAt("h", now+80_000, 900, true), now+80_000)
	n2 := need("n2", now+80_001)
	n2.ExpiresAt = now + 2*AlertWindow
	m.Need(n2)
	expect(t, r, "n2 v1 @80001 [h]")

	// The window passes: x and y come back by themselves, at their own
	// alert's end (their pings kept fresh all along).
	for ts := now + 90_000; ts < now+2+AlertWindow; ts += 300_000 {
		m.Helper(helperAt("x", ts, 50, true), ts)
		m.Helper(helperAt("y", ts, 10, true), ts)
		m.Helper(helperAt("h", ts, 900, true), ts)
	}
	r.take()
	m.Advance(now + 2 + AlertWindow)
	expect(t, r, fmt.Sprintf("n2 v2 @%d [x h]", 2+AlertWindow))
	m.Advance(now + 70_000 + AlertWindow)
	expect(t, r, fmt.Sprintf("n2 v3 @%d [y x h]", 70_000+AlertWindow))
}

// TestListsEqualAFreshQueryAfterEveryEvent drives a matcher with random
// helpers, needs, outcomes and alerts and checks, after every event, that
// each open need's list is what a fresh query gives at that moment: the
// lists settled without a query, and those re-ranked, miss no change.
// It also checks that whether a published helper is no longer a
// candidate is known, however little was asked to know it.
func TestListsEqualAFreshQueryAfterEveryEvent(t *testing.T) {
	p := DefaultParams()
	for seed := range uint64(6) {
		k := []int{2, 5}[seed%2]
		m := NewMatcher(&p, k)
		m.Republish = []int64{0, 0, 30_000}[seed%3] // gathered changes too
		r := rand.New(rand.NewPCG(seed, 7))
		step := 0
		// What is published, scores, distances and reasons, is what a
		// fresh query gives at the list's time, bit for bit.
		m.Publish = func(l *List) {
			n := &m.needs[m.byID[l.NeedID]]
			want := m.idx.Query(&n.ev, l.EventTS, k, nil)
			if !slices.EqualFunc(l.Suggestions, want, func(a, b Suggestion) bool {
				return a.HelperID == b.HelperID && a.Score == b.Score && a.DistanceM == b.DistanceM && a.Reasons == b.Reasons
			}) {
				t.Fatalf("seed %d step %d: need %s v%d at %d published\n  %+v\na fresh query gives\n  %+v", seed, step, l.NeedID, l.Version, l.EventTS, l.Suggestions, want)
			}
		}
		ts := now
		var twin HelperState
		for ; step < 4000; step++ {
			ts += r.Int64N(20_000)
			// A record from a source the region stopped waiting for (it
			// said it was idle) comes behind the region's clock: its
			// order key, and its event, are up to five minutes old.
			key := ts
			if r.IntN(8) == 0 {
				key = ts - r.Int64N(300_000)
			}
			lat, lng := 30.25+r.Float64()*0.05, 120.13+r.Float64()*0.05
			switch x := r.IntN(100); {
			case x < 72:
				s := &HelperState{ID: "h" + strconv.Itoa(r.IntN(80)), PingMS: key, Lat: lat, Lng: lng,
					Available: r.IntN(4) > 0, Skills: events.SkillSet(r.IntN(128)) &^ 1, Credit: 350 + r.IntN(600)}
				if r.IntN(50) == 0 {
					s.AlertMS = key - r.Int64N(AlertWindow)
				}
				m.Helper(s, key)
				if twin.ID != "" {
					m.Helper(&twin, ts) // late: its ping is older than ts
					twin.ID = ""
				}
				if r.IntN(4) == 0 {
					// A twin, sent with the next helper: the same place,
					// ping and profile, so until outcomes set them apart
					// the same score at every moment, and only its id ranks
					// it, whichever way each got into a list and however
					// often the list was brought to a later time since.
					twin = *s
					twin.ID = "t" + s.ID
				}
			case x < 87:
				m.Need(&events.Need{NeedID: "n" + strconv.Itoa(r.IntN(60)), UserID: "h" + strconv.Itoa(r.IntN(300)), TS: key,
					Category: events.Categories[r.IntN(6)], Lat: lat, Lng: lng, RadiusM: float64(500 + r.IntN(3000)),
					ExpiresAt: ts + r.Int64N(1800_000) + 1, Status: events.Open})
			case x < 89:
				m.Need(&events.Need{NeedID: "n" + strconv.Itoa(r.IntN(60)), TS: ts, Status: events.Fulfilled})
			case x < 90:
				// A ring's alert the region found itself: the latest
				// alert stands, whatever the helper's states say.
				m.Advance(key)
				m.Alert("h"+strconv.Itoa(r.IntN(80)), key-r.Int64N(60_000))
			case x < 99:
				kind := []events.OutcomeKind{events.Completed, events.NoShow, events.Accepted}[r.IntN(3)]
				m.Outcome(&events.Outcome{NeedID: "old", HelperID: "h" + strconv.Itoa(r.IntN(80)), TS: key, Outcome: kind, Rating: r.IntN(6)}, 0, -1, key)
			default:
				m.Advance(ts)
			}
			placedIn := 0 // places the open needs hold in the cells' lists
			for id, ni := range m.byID {
				n := &m.needs[ni]
				hd := m.heads[ni]
				m.sync(ni)
				if hd != m.heads[ni] {
					t.Fatalf("seed %d step %d: need %s has head %+v, its list says %+v", seed, step, id, hd, m.heads[ni])
				}
				for _, at := range n.cells {
					if l := m.places.cells.at[at.num]; int(at.pos) >= len(l) || l[at.pos].ni != ni {
						t.Fatalf("seed %d step %d: need %s is at %d in cell list %d, which holds %v", seed, step, id, at.pos, at.num, l)
					}
				}
				placedIn += len(n.cells)
				want := m.idx.Query(&n.ev, m.now, k, nil)
				if !sameHelpers(n.list[:min(k, len(n.list))], want) {
					var slots []int32
					for _, e := range n.list {
						slots = append(slots, e.slot)
					}
					for _, h := range want {
						slots = append(slots, h.slot)
					}
					for _, slot := range slots {
						lat, lng, av, ping, alert := m.idx.position(slot)
						sc, ok := m.idx.Suggest(slot, &n.ev, m.now)
						hc := geo.Cell(lat, lng, NeedResolution)
						_, known := m.places.cells.nums[hc]
						t.Logf("need slot %d r %.0f d %.0f cell known %v, need in its list %v, stamp %d/%d", ni, n.ev.RadiusM, geo.DistanceM(n.ev.Lat, n.ev.Lng, lat, lng), known, slices.ContainsFunc(m.places.needsIn(hc), func(nn nearNeed) bool { return nn.ni == ni }), m.heads[ni].stamp, m.stamp)
						t.Logf("%s %v %v %v ping %d alert %d score %v %v listed %+v", m.idx.id(slot), lat, lng, av, ping-m.now, alert-m.now, sc, ok, m.listing(slot))
					}
					t.Fatalf("seed %d step %d: need %s lists %v, a fresh query gives %v", seed, step, id, slots[:len(n.list)], ids(want))
				}
				// Past its republish interval a need's published list is
				// what a fresh query gives: no change was gathered and
				// left unsent.
				if n.version > 0 && m.now > n.pubAt+m.Republish && !slices.Equal(n.pub, slotsOf(want)) {
					t.Fatalf("seed %d step %d: need %s published %v at %d, a fresh query at %d gives %v", seed, step, id, n.pub, n.pubAt, m.now, slotsOf(want))
				}
				// dropsCandidate asks only about what may have changed
				// since it last asked: it must say what asking about
				// every published helper says.
				drops := false
				for _, slot := range n.pub {
					drops = drops || !m.idx.Candidate(slot, &n.ev, n.cosLat, n.reqHash, m.now)
				}
				if got := m.dropsCandidate(n, m.now); got != drops {
					t.Fatalf("seed %d step %d: need %s: dropsCandidate says %v, its published helpers %v", seed, step, id, got, drops)
				}
			}
			// Closed needs have left every cell's list.
			inLists := 0
			for _, l := range m.places.cells.at {
				inLists += len(l)
			}
			if inLists != placedIn {
				t.Fatalf("seed %d step %d: the cells' lists hold %d needs, the open needs %d places", seed, step, inLists, placedIn)
			}
		}
	}
}

func slotsOf(l []Suggestion) []int32 {
	out := make([]int32, len(l))
	for i, s := range l {
		out[i] = s.slot
	}
	return out
}

func ids(l []Suggestion) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s.HelperID
	}
	return out
}

func TestReorderingsAreGatheredAndDroppedCandidatesGoAtOnce(t *testing.T) {
	m, r := newRecorded(3)
	m.Republish = 30_000
	m.Helper(helperAt("a", now, 1000, true), now)
	m.Need(need("n1", now))
	expect(t, r, "n1 v1 @0 [a]")
	m.Helper(helperAt("b", now+1000, 100, true), now+1000)
	m.Helper(helperAt("c", now+2000, 500, true), now+2000)
	expect(t, r) // better helpers, gathered until the interval ends
	m.Advance(now + 30_000)
	expect(t, r, "n1 v2 @30000 [b c a]")
	m.Helper(helperAt("b", now+31_000, 100, false), now+31_000)
	expect(t, r, "n1 v3 @31000 [c a]") // b is no candidate any more: at once
	m.Helper(helperAt("c", now+32_000, 2000, true), now+32_000)
	m.Helper(helperAt("c", now+33_000, 400, true), now+33_000)
	m.Advance(now + 61_000)
	expect(t, r) // c moved away and back: the list at the end is the one published
	m.Helper(helperAt("c", now+62_000, 2000, true), now+62_000)
	expect(t, r, "n1 v4 @62000 [a c]") // the interval since v3 is over: at once
}

// TestPushedOutHelperStillPublishedGoesAtOnce: a helper of the published
// list pushed out of the list, while a new version is being gathered,
// and then no candidate any more is still put out at once, at the
// list's next change, though that change leaves the top k as they were.
func TestPushedOutHelperStillPublishedGoesAtOnce(t *testing.T) {
	m, r := newRecorded(2)
	m.Republish = 30_000
	m.Helper(helperAt("a", now, 100, true), now)
	m.Helper(helperAt("b", now, 200, true), now)
	m.Need(need("n1", now))
	expect(t, r, "n1 v1 @0 [a b]")
	// Six nearer than b: the first changes the top 2 (gathered), the
	// sixth pushes b out of the list (the top 2 and a reserve of 5).
	for i, id := range []string{"c", "d", "e", "f", "g", "h"} {
		ts := now + int64(1000*(i+1))
		m.Helper(helperAt(id, ts, float64(150+8*i), true), ts)
	}
	m.Helper(helperAt("b", now+7000, 200, false), now+7000) // b's lists no longer hold it
	expect(t, r)
	m.Helper(helperAt("g", now+8000, 182, true), now+8000) // within the reserve
	expect(t, r, "n1 v2 @8000 [a c]")
}

// TestOutcomesSentAgainAreLearntOnceAndLateOnesAreLearnt: after a restart
// a source sends again what it read after its last commit; an outcome
// older than others, for another need, is still news.
func TestOutcomesSentAgainAreLearntOnceAndLateOnesAreLearnt(t *testing.T) {
	m, _ := newRecorded(3)
	done := func(need string, ts int64) *events.Outcome {
		return &events.Outcome{NeedID: need, HelperID: "h", TS: ts, Outcome: events.Completed, Rating: 5}
	}
	m.Outcome(done("n1", now+2000), 0, 10, now+2000)
	m.Outcome(done("n2", now+1000), 1, 4, now+2000)  // late, from another source
	m.Outcome(done("n1", now+2000), 0, 10, now+2000) // sent again
	m.Outcome(done("n2", now+1000), 1, 4, now+2000)  // sent again
	m.Outcome(done("n3", now+500), 0, 11, now+2000)  // late, same source
	m.Outcome(done("n3", now+500), 0, 12, now+2000)  // a producer's retry
	h := &m.idx.helpers[m.idx.slotOf("h")]
	if h.record.Completed != 3 || h.record.Ratings != 3 {
		t.Fatalf("record %+v, want 3 jobs completed and rated", h.record)
	}
}
