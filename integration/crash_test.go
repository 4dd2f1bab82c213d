package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"everywhere/events"
	"everywhere/simulator"
)

// messages replays a list of messages as a stream.
type messages struct {
	msgs  []simulator.Message
	i     int
	start time.Time
}

func (s *messages) Start() time.Time { return s.start }

func (s *messages) Next(m *simulator.Message) bool {
	if s.i >= len(s.msgs) {
		return false
	}
	*m = s.msgs[s.i]
	s.i++
	return true
}

// alertIDs is the alerts a consumer that drops repeated ids sees: their
// ids, sorted.
func alertIDs(as []alertMsg) []string {
	ids := make([]string, len(as))
	for i := range as {
		ids[i] = as[i].AlertID
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// absent describes the alerts of as whose ids are not among ids, once each.
func absent(as []alertMsg, ids []string) []string {
	var out []string
	for _, a := range as {
		if d := a.AlertID + " " + a.Rule + " " + a.UserID; !slices.Contains(ids, a.AlertID) && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// names reports whether the list names any of users.
func (l suggestionList) names(users map[string]bool) bool {
	return slices.ContainsFunc(l.helpers(), func(h string) bool { return users[h] })
}

// finalLists is each need's final list of helpers, as a consumer that
// drops repeated ids sees it. Touched is the needs any version of whose
// list named one of the users in rings. Every version of every list must
// rank its helpers best first.
func (e *env) finalLists(rings map[string]bool) (final map[string][]string, touched map[string]bool) {
	final, touched = map[string][]string{}, map[string]bool{}
	for need, ls := range e.lists(e.topics.Suggestions) {
		final[need] = ls[len(ls)-1].helpers()
		for _, l := range ls {
			if l.names(rings) {
				touched[need] = true
			}
			for i := 1; i < len(l.Suggestions); i++ {
				if l.Suggestions[i].Score > l.Suggestions[i-1].Score {
					e.t.Errorf("need %s version %d is not best first: %s (%.4f) ranks above %s (%.4f)", need, l.Version,
						l.Suggestions[i-1].HelperID, l.Suggestions[i-1].Score, l.Suggestions[i].HelperID, l.Suggestions[i].Score)
				}
			}
		}
	}
	return final, touched
}

// TestCrashesLoseAndDoubleNothing streams four hours of a city into an
// engine killed with SIGKILL five times at random moments, each once it
// holds partitions (see engine.assigned), and restarted at once. After
// the stream is drained the aggregates must equal the input's totals,
// read the way the dashboards read them, and a consumer that drops
// repeated ids must see the same alerts and the same final suggestion
// lists as an engine that ran through the same input uninterrupted.
//
// Both runs read the stream from filled topics, and the kills come while
// the engine catches up, when every source of a regions partition has
// work. The live part does the same while the stream is published (see
// crashWhileStreaming).
//
// The city has fraud episodes of every pattern, money rings included, and
// each that the stream completes must raise its alert in the uninterrupted
// run. Every need's final list is compared, those that named a ring
// member included (the test logs how many): the regions find rings
// themselves, so a member leaves the lists at the same point of every
// run.
func TestCrashesLoseAndDoubleNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the engine five times")
	}
	t.Parallel() // beside the ClickHouse outage, which mostly waits: see the package doc
	msgs, start, labels := city(heavy(1, 4))
	want := uninterrupted(t, msgs, start, labels)

	e := newEnv(t, 4)
	if _, err := simulator.Publish(context.Background(), &messages{msgs: msgs, start: start}, publishConfig(e, 0)); err != nil {
		t.Fatal(err)
	}
	en := e.startEngine()
	r := rand.New(rand.NewPCG(21, 22))
	kills := heavy(5, 20)
	for range kills {
		en.assigned(t)
		time.Sleep(time.Duration(r.IntN(2000)) * time.Millisecond)
		en.kill()
		en = e.startEngine()
	}
	e.drained(heavy(3*time.Minute, 15*time.Minute))
	want.check(t, e, fmt.Sprintf("after %d kills", kills))

	t.Run("live", func(t *testing.T) { crashWhileStreaming(t, want, start) })
}

// crashWhileStreaming kills the engine five times while the simulator
// publishes the reference's stream live, compressed to about a minute,
// and restarts it at once each time (each kill comes once the engine
// holds partitions: see engine.assigned). Once the stream is drained
// the aggregates must equal the input's totals and, with repeated ids
// dropped, the alerts and every need's final list must be the
// uninterrupted run's.
//
// The engines run with engine.idle_after (see idleAfter). With it at 0,
// the default, a partition between two messages of a live stream tells
// the regions it is idle, they go on without it, and its next message
// reaches them late: what a list held when its need closed then depends
// on timing. Two uninterrupted live runs of this stream differed in 11
// of the 155 final lists that way, all of needs closed along the way.
func crashWhileStreaming(t *testing.T, ref *reference, start time.Time) {
	e := newEnv(t, 4)
	en := e.startEngine(idleAfter)
	span := ref.msgs[len(ref.msgs)-1].TS - ref.msgs[0].TS
	published := make(chan error, 1)
	go func() {
		_, err := simulator.Publish(context.Background(), &messages{msgs: ref.msgs, start: start},
			publishConfig(e, float64(span)/60_000))
		published <- err
	}()
	r := rand.New(rand.NewPCG(23, 24))
	kills := 0
	for ; kills < 5; kills++ {
		en.assigned(t)
		select {
		case err := <-published:
			t.Fatalf("the stream ended (err %v) before kill %d: the kills must come while it streams", err, kills+1)
		case <-time.After(time.Duration(r.IntN(1000)) * time.Millisecond):
		}
		en.kill()
		en = e.startEngine(idleAfter)
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	e.drained(heavy(3*time.Minute, 15*time.Minute))
	ref.check(t, e, "after five kills during a live stream")
}

// idleAfter has a partition say it is idle only once it has been caught
// up for 10 s, which the live stream never leaves one: the regions wait
// for every partition's next message and merge as over filled topics.
const idleAfter = "EVERYWHERE_ENGINE_IDLE_AFTER=10s"

// city is the stream the crash and scale-out tests use: four hours of a
// 2,000-user city from 10:00 with the given number of fraud episodes of
// every pattern, money rings included (under `make soak`, twelve hours
// of 10,000 users), and its labels (see
// TestCrashesLoseAndDoubleNothing).
//
// It ends with clock pings: unavailable users far from the city, two
// minutes after its last event. They move every region's clock past the
// end of the republish interval (30 s by default) of any change still
// held back, so that each open need's last list is its final one.
func city(episodes int) ([]simulator.Message, time.Time, []simulator.Label) {
	sc := simulator.DefaultConfig()
	sc.Users, sc.Episodes, sc.Duration = heavy(2000, 10_000), episodes, heavy(4*time.Hour, 12*time.Hour)
	sc.Start = sc.Start.Add(10 * time.Hour)
	sim := simulator.New(sc)
	msgs := collect(sim)
	tick := msgs[len(msgs)-1].TS + 2*60_000
	for i := range 16 {
		p := events.Ping{UserID: fmt.Sprintf("clock-%02d", i), TS: tick, Lat: -45, Lng: 170}
		msgs = append(msgs, simulator.Message{Topic: simulator.Pings, Key: p.UserID, Value: p.AppendJSON(nil), TS: tick})
	}
	return msgs, sc.Start, sim.Labels()
}

// reference is what an uninterrupted run of one engine made of a stream.
type reference struct {
	msgs    []simulator.Message
	alerts  []string   // ids, as alertIDs gives them
	raised  []alertMsg // the alerts themselves
	lists   map[string][]string
	rings   map[string]bool // members of the stream's money rings
	touched map[string]bool // needs whose lists named a ring member
}

// uninterrupted runs one engine over msgs, published first, to the end.
// Each fraud episode the stream completes must have raised its alert, and
// its money rings theirs: the comparisons are only as good as what the
// stream exercises.
func uninterrupted(t *testing.T, msgs []simulator.Message, start time.Time, labels []simulator.Label) *reference {
	clean := newEnv(t, 4)
	if _, err := simulator.Publish(context.Background(), &messages{msgs: msgs, start: start}, publishConfig(clean, 0)); err != nil {
		t.Fatal(err)
	}
	en := clean.startEngine()
	clean.drained(heavy(3*time.Minute, 15*time.Minute))
	rings := map[string]bool{}
	for _, l := range labels {
		if l.Pattern == simulator.RoundTrip && l.Fraud {
			rings[l.UserID] = true
		}
	}
	ref := &reference{msgs: msgs, rings: rings}
	ref.raised = clean.alerts()
	ref.alerts = alertIDs(ref.raised)
	ref.lists, ref.touched = clean.finalLists(rings)
	en.stop()
	if len(ref.alerts) == 0 || len(ref.lists) == 0 {
		t.Fatalf("the uninterrupted run published %d alerts and lists for %d needs: nothing to compare", len(ref.alerts), len(ref.lists))
	}
	alerted := map[string]bool{}
	for _, a := range ref.raised {
		alerted[a.UserID+" "+a.Rule] = true
		alerted[a.Rule] = true
	}
	end := msgs[len(msgs)-1].TS
	for _, l := range labels {
		if l.Fraud && l.ToTS <= end && !alerted[l.UserID+" "+l.Pattern] {
			t.Errorf("the uninterrupted run raised no %s alert for %s: the stream does not exercise it", l.Pattern, l.UserID)
		}
	}
	if len(rings) > 0 && !alerted[simulator.RoundTrip] {
		t.Errorf("the uninterrupted run raised no %s alert for the stream's rings", simulator.RoundTrip)
	}
	return ref
}

// check compares what e's engines made of the same stream with the
// reference: the aggregates against the input's totals, read the way the
// dashboards read them, and with repeated ids dropped the alerts and
// every need's final list.
func (ref *reference) check(t *testing.T, e *env, what string) {
	t.Helper()
	x := expect(ref.msgs)
	totals := map[string]uint64{}
	for _, c := range x.pings {
		totals["SELECT sum(pings) FROM ping_cell_minute"] += c[0]
		totals["SELECT sum(available_pings) FROM ping_cell_minute"] += c[1]
	}
	for _, c := range x.txns {
		totals["SELECT sum(txns) FROM txn_cell_minute"] += c[0]
		totals["SELECT sum(amount_total) FROM txn_cell_minute"] += c[1]
	}
	for _, s := range x.spend {
		totals["SELECT sum(purchases) FROM user_spend_day"] += s[0]
		totals["SELECT sum(purchase_total) FROM user_spend_day"] += s[1]
	}
	for _, c := range x.needs {
		totals["SELECT sum(needs) FROM need_cell_minute"] += c
	}
	totals["SELECT count() FROM outcomes FINAL"] = uint64(len(x.outcomes))
	totals["SELECT count() FROM alerts FINAL"] = uint64(len(ref.alerts))
	for q, want := range totals {
		if got := e.queryUint(q); got != want {
			t.Errorf("%s %s = %d, want %d", what, q, got, want)
		}
	}

	got := e.alerts()
	alerts := alertIDs(got)
	final, touched := e.finalLists(ref.rings)
	if !slices.Equal(alerts, ref.alerts) {
		t.Errorf("alerts %s differ from an uninterrupted run: missing %v, extra %v", what, absent(ref.raised, alerts), absent(got, ref.alerts))
	}
	members := 0
	for need, want := range ref.lists {
		if ref.touched[need] || touched[need] {
			members++
		}
		if got := final[need]; !slices.Equal(got, want) {
			t.Errorf("need %s: final list %v %s, %v uninterrupted", need, got, what, want)
		}
	}
	t.Logf("%s: compared the final lists of %d needs, %d of which named a ring member in some version", what, len(ref.lists), members)
	if len(ref.rings) > 0 && members == 0 {
		t.Errorf("no list named a ring member: the comparison does not show rings handled alike")
	}
	if len(final) != len(ref.lists) {
		t.Errorf("lists for %d needs %s, %d uninterrupted", len(final), what, len(ref.lists))
	}
}
