package integration

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"everywhere/kafkaadmin"
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

// drained waits until the engine's group has committed every input and
// internal topic.
func (e *env) drained(d time.Duration) {
	e.t.Helper()
	topics := append(e.topics.Inputs(), e.topics.Internal()...)
	deadline := time.Now().Add(d)
	for {
		lag, err := kafkaadmin.GroupLag(context.Background(), e.brokers, "everywhere", topics)
		if err == nil && lag == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, topic := range topics {
				l, _ := kafkaadmin.GroupLag(context.Background(), e.brokers, "everywhere", []string{topic})
				e.t.Logf("%s: lag %d", topic, l)
			}
			e.t.Fatalf("after %s the engine has not committed every topic", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// outputs is what a consumer that drops repeated ids sees: the alert ids,
// and each need's final list of helpers.
func (e *env) outputs() (alerts []string, final map[string][]string) {
	for _, a := range e.alerts() {
		if !slices.Contains(alerts, a.AlertID) {
			alerts = append(alerts, a.AlertID)
		}
	}
	slices.Sort(alerts)
	final = map[string][]string{}
	for need, ls := range e.lists(e.topics.Suggestions) {
		final[need] = ls[len(ls)-1].helpers()
	}
	return alerts, final
}

// TestCrashesLoseAndDoubleNothing streams four hours of a city into an
// engine killed with SIGKILL five times at random moments and restarted
// at once. After the stream is drained the
// aggregates must equal the input's totals, read the way the dashboards
// read them, and a consumer that drops repeated ids must see the same
// alerts and the same final suggestion lists as an engine that ran
// through the same input uninterrupted.
//
// Both runs read the stream from filled topics, and the kills come while
// the engine catches up, when every source of a regions partition has
// work. A source that has caught up with a live stream says it is idle,
// and the regions go on without it: when sources go idle depends on
// timing, and with it which records a list sees first. Two live runs
// can differ for that reason alone, crashes or not (a stream compressed
// 480 times makes a 2 s restart 16 minutes of event time).
//
// The city has no injected fraud episodes (its honest users still raise
// alerts): a money ring's hops meet through the paths topic, and when an
// alert reaches the regions depends on when its path was read, so with
// rings in the stream the lists of needs near a ring member can differ
// between two runs, crashes or not. Alerts and aggregates match either way.
func TestCrashesLoseAndDoubleNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the engine five times")
	}
	sc := simulator.DefaultConfig()
	sc.Users, sc.Episodes, sc.Duration = 2000, 0, 4*time.Hour
	sc.Start = sc.Start.Add(10 * time.Hour)
	msgs := collect(simulator.New(sc))
	ctx := context.Background()

	clean := newEnv(t, 4)
	if _, err := simulator.Publish(ctx, &messages{msgs: msgs, start: sc.Start}, publishConfig(clean, 0)); err != nil {
		t.Fatal(err)
	}
	cleanEngine := clean.startEngine()
	clean.drained(3 * time.Minute)
	wantAlerts, wantLists := clean.outputs()
	cleanEngine.stop()
	if len(wantAlerts) == 0 || len(wantLists) == 0 {
		t.Fatalf("the uninterrupted run published %d alerts and lists for %d needs: nothing to compare", len(wantAlerts), len(wantLists))
	}

	e := newEnv(t, 4)
	if _, err := simulator.Publish(ctx, &messages{msgs: msgs, start: sc.Start}, publishConfig(e, 0)); err != nil {
		t.Fatal(err)
	}
	en := e.startEngine()
	r := rand.New(rand.NewPCG(21, 22))
	for range 5 {
		time.Sleep(time.Duration(1000+r.IntN(2000)) * time.Millisecond)
		en.cmd.Process.Kill()
		<-en.done
		en = e.startEngine()
	}
	e.drained(3 * time.Minute)

	x := expect(msgs)
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
	totals["SELECT count() FROM alerts FINAL"] = uint64(len(wantAlerts))
	for q, want := range totals {
		if got := e.queryUint(q); got != want {
			t.Errorf("after five kills %s = %d, want %d", q, got, want)
		}
	}

	alerts, lists := e.outputs()
	if !slices.Equal(alerts, wantAlerts) {
		var missing, extra []string
		for _, a := range clean.alerts() {
			if !slices.Contains(alerts, a.AlertID) && !slices.Contains(missing, a.AlertID+" "+a.Rule+" "+a.UserID) {
				missing = append(missing, a.AlertID+" "+a.Rule+" "+a.UserID)
			}
		}
		for _, a := range e.alerts() {
			if !slices.Contains(wantAlerts, a.AlertID) && !slices.Contains(extra, a.AlertID+" "+a.Rule+" "+a.UserID) {
				extra = append(extra, a.AlertID+" "+a.Rule+" "+a.UserID)
			}
		}
		t.Errorf("alerts after five kills differ from an uninterrupted run: missing %v, extra %v", missing, extra)
	}
	for need, want := range wantLists {
		if got := lists[need]; !slices.Equal(got, want) {
			t.Errorf("need %s: final list %v after five kills, %v uninterrupted", need, got, want)
		}
	}
	if len(lists) != len(wantLists) {
		t.Errorf("lists for %d needs after five kills, %d uninterrupted", len(lists), len(wantLists))
	}
}
