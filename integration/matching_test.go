package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"everywhere/pipeline/route"
)

type suggestionList struct {
	NeedID      string `json:"need_id"`
	RequesterID string `json:"requester_id"`
	Version     int    `json:"version"`
	EventTS     int64  `json:"event_ts"`
	TS          int64  `json:"ts"`
	Model       string `json:"model"`
	Suggestions []struct {
		Rank      int                `json:"rank"`
		HelperID  string             `json:"helper_id"`
		Score     float64            `json:"score"`
		DistanceM float64            `json:"distance_m"`
		Reasons   map[string]float64 `json:"reasons"`
	} `json:"suggestions"`
}

func (l *suggestionList) helpers() []string {
	ids := []string{}
	for _, s := range l.Suggestions {
		ids = append(ids, s.HelperID)
	}
	return ids
}

// lists reads the suggestions topic: every list of each need, by version.
func (e *env) lists(topic string) map[string][]suggestionList {
	out := map[string][]suggestionList{}
	for _, m := range e.kcatConsume(topic) {
		var l suggestionList
		if err := json.Unmarshal([]byte(m), &l); err != nil {
			e.t.Fatalf("suggestion list %s: %v", m, err)
		}
		out[l.NeedID] = append(out[l.NeedID], l)
	}
	for _, ls := range out {
		slices.SortFunc(ls, func(a, b suggestionList) int { return a.Version - b.Version })
	}
	return out
}

// settled waits until the engine has read everything, its own re-keyed
// topics included.
func (e *env) settled(t *testing.T) {
	t.Helper()
	e.settledAs(t, "everywhere", append(e.topics.Inputs(), e.topics.Internal()...))
}

func (e *env) settledAs(t *testing.T, group string, topics []string) {
	t.Helper()
	e.drainedAs(heavy(2*time.Minute, 15*time.Minute), group, topics)
	time.Sleep(300 * time.Millisecond) // the last lists leave the producer
}

// A scenario place: each sits 5.5 km from the next, farther than the
// 1 km radius of its needs, so scenarios do not see each other's helpers.
func place(i int) (float64, float64) { return 30.20 + 0.05*float64(i), 120.10 }

// at is dy metres north of place i.
func at(i int, dy float64) (float64, float64) {
	lat, lng := place(i)
	return lat + dy/111_195, lng
}

func ping(user string, ts int64, lat, lng float64, avail bool) string {
	return fmt.Sprintf(`%s	{"user_id":%q,"ts":%d,"lat":%.7f,"lng":%.7f,"available":%t}`, user, user, ts, lat, lng, avail)
}

func profile(user string, ts int64, skills string, credit int) string {
	return fmt.Sprintf(`%s	{"user_id":%q,"ts":%d,"skills":[%s],"credit_score":%d}`, user, user, ts, skills, credit)
}

func needAt(id, requester, category string, ts int64, i int) string {
	lat, lng := place(i)
	return fmt.Sprintf(`%s	{"need_id":%q,"user_id":%q,"ts":%d,"category":%q,"lat":%.7f,"lng":%.7f,"radius_m":1000,"reward":1000,"currency":"CNY","expires_at":%d,"status":"open"}`,
		id, id, requester, ts, category, lat, lng, ts+3600_000)
}

func outcome(need, helper string, ts int64, kind string, rating int) string {
	return fmt.Sprintf(`%s	{"need_id":%q,"helper_id":%q,"ts":%d,"outcome":%q,"rating":%d}`, need, need, helper, ts, kind, rating)
}

func paidAt(id, user string, ts int64, lat, lng float64) string {
	return fmt.Sprintf(`%s	{"txn_id":%q,"user_id":%q,"ts":%d,"amount":5000,"currency":"CNY","kind":"purchase","counterparty_id":"m1","counterparty_kind":"merchant","lat":%.4f,"lng":%.4f}`,
		user, id, user, ts, lat, lng)
}

// TestSuggestionScenarios publishes, with kcat, scenarios whose right
// answer is known, one per ranking factor and per exclusion rule, then
// re-matches when a better helper arrives and when the best one leaves,
// and a helper coming back when an alert's window passes.
func TestSuggestionScenarios(t *testing.T) {
	e := newEnv(t, 4)
	e.startEngine("EVERYWHERE_MATCHING_REPUBLISH_INTERVAL=0s") // every change its own version
	const t0 = int64(1_764_000_000_000)
	seen := t0 - 60_000 // when the helpers pinged

	var pings, profiles, outcomes, txns []string
	helper := func(id string, i int, dy float64, avail bool) {
		lat, lng := at(i, dy)
		pings = append(pings, ping(id, seen, lat, lng, avail))
	}
	// 0: distance. 1: reliability. 2: skill. 3: credit. The pair of each
	// differs in that factor alone (north and south at equal distance).
	helper("d-near", 0, 200, true)
	helper("d-far", 0, -800, true)
	helper("r-good", 1, 500, true)
	helper("r-bad", 1, -500, true)
	for k := range 3 {
		ts := t0 - 3600_000 + int64(k)*60_000
		outcomes = append(outcomes, outcome(fmt.Sprintf("old-g%d", k), "r-good", ts, "completed", 5),
			outcome(fmt.Sprintf("old-b%d", k), "r-bad", ts, "no_show", 1))
	}
	helper("s-yes", 2, 500, true)
	helper("s-no", 2, -500, true)
	profiles = append(profiles, profile("s-yes", t0-7200_000, `"repair"`, 700), profile("s-no", t0-7200_000, `"errand"`, 700))
	helper("c-high", 3, 500, true)
	helper("c-low", 3, -500, true)
	profiles = append(profiles, profile("c-high", t0-7200_000, "", 900), profile("c-low", t0-7200_000, "", 400))
	// 4: every exclusion rule, with one helper who breaks none.
	helper("e-ok", 4, 600, true)
	helper("req-4", 4, 50, true)
	helper("e-busy", 4, 100, false)
	helper("e-far", 4, -1500, true)
	helper("e-alert", 4, -100, true)
	lat, lng := at(4, 100)
	pings = append(pings, ping("e-stale", t0-11*60_000, lat, lng, true))
	// e-alert paid in Hangzhou and a minute later in Beijing: a high
	// impossible_travel alert two hours before the needs.
	alertTS := t0 - 7200_000 + 60_000
	txns = append(txns, paidAt("tx-1", "e-alert", alertTS-60_000, 30.2741, 120.1551), paidAt("tx-2", "e-alert", alertTS, 39.9042, 116.4074))
	// 5: re-matching.
	helper("m-a", 5, 800, true)

	e.kcatProduce(e.topics.Profiles, profiles)
	e.kcatProduce(e.topics.Outcomes, outcomes)
	e.kcatProduce(e.topics.Transactions, txns)
	e.settled(t)
	e.kcatProduce(e.topics.Pings, pings)
	e.settled(t)
	e.kcatProduce(e.topics.Needs, []string{
		needAt("n-dist", "req-0", "errand", t0, 0), needAt("n-rel", "req-1", "errand", t0, 1),
		needAt("n-skill", "req-2", "repair", t0, 2), needAt("n-credit", "req-3", "errand", t0, 3),
		needAt("n-excl", "req-4", "errand", t0, 4), needAt("n-rematch", "req-5", "errand", t0, 5),
	})
	e.settled(t)
	lat, lng = at(5, 100)
	e.kcatProduce(e.topics.Pings, []string{ping("m-b", t0+10_000, lat, lng, true)}) // a better helper arrives
	e.settled(t)
	e.kcatProduce(e.topics.Pings, []string{ping("m-b", t0+20_000, lat, lng, false)}) // and leaves
	e.settled(t)
	// The alert's window passes while a need is open: e-alert comes back
	// with no event of its own.
	end := alertTS + 24*3600_000
	lat, lng = at(6, 300)
	e.kcatProduce(e.topics.Pings, []string{ping("e-alert", end-120_000, lat, lng, true)})
	e.settled(t)
	e.kcatProduce(e.topics.Needs, []string{needAt("n-back", "req-6", "errand", end-60_000, 6)})
	e.settled(t)
	lat, lng = place(9)
	e.kcatProduce(e.topics.Pings, []string{ping("clock", end+60_000, lat, lng, false)}) // event time moves on
	e.settled(t)

	lists := e.lists(e.topics.Suggestions)
	check := func(need string, want ...[]string) {
		t.Helper()
		var got [][]string
		for _, l := range lists[need] {
			got = append(got, l.helpers())
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: lists %v, want %v", need, got, want)
		}
	}
	// Each list ends empty when its helpers' pings grow stale, ten minutes
	// after them and before the needs expire: the clock moved on a day.
	stale := []string{}
	check("n-dist", []string{"d-near", "d-far"}, stale)
	check("n-rel", []string{"r-good", "r-bad"}, stale)
	check("n-skill", []string{"s-yes", "s-no"}, stale)
	check("n-credit", []string{"c-high", "c-low"}, stale)
	check("n-excl", []string{"e-ok"}, stale)
	check("n-rematch", []string{"m-a"}, []string{"m-b", "m-a"}, []string{"m-a"}, stale)
	if ls := lists["n-dist"]; len(ls) == 2 && ls[1].EventTS != seen+10*60_000+1 {
		t.Errorf("n-dist went empty at %d, want a millisecond past ten minutes after the pings (%d)", ls[1].EventTS, seen+10*60_000+1)
	}
	check("n-back", []string{}, []string{"e-alert"})
	for need, ls := range lists {
		for i, l := range ls {
			if l.Version != i+1 || l.Model != "match-v1" {
				t.Errorf("%s: list %d has version %d, model %q", need, i, l.Version, l.Model)
			}
		}
	}
	if ls := lists["n-back"]; len(ls) == 2 && ls[1].EventTS != end {
		t.Errorf("n-back: e-alert back at %d, want the end of its alert window %d", ls[1].EventTS, end)
	}
	if ls := lists["n-rel"]; len(ls) > 0 && len(ls[0].Suggestions) == 2 {
		good, bad := ls[0].Suggestions[0], ls[0].Suggestions[1]
		if good.Reasons["reliability"] <= bad.Reasons["reliability"] || good.Reasons["distance"] != bad.Reasons["distance"] {
			t.Errorf("n-rel reasons: %v vs %v", good.Reasons, bad.Reasons)
		}
	}

	// Every published list is in ClickHouse, one row per helper.
	rows := 0
	for _, ls := range lists {
		for _, l := range ls {
			rows += len(l.Suggestions)
		}
	}
	wait(t, 30*time.Second, "every suggestion in ClickHouse", func() bool {
		return e.queryUint("SELECT count() FROM suggestions FINAL") == uint64(rows)
	})
	if n := e.queryUint("SELECT count() FROM suggestions FINAL WHERE need_id = 'n-rematch' AND version = 2 AND rank = 1 AND helper_id = 'm-b'"); n != 1 {
		t.Errorf("n-rematch version 2 rank 1 rows: %d", n)
	}
	if n := e.queryUint("SELECT count() FROM suggestions FINAL WHERE toUnixTimestamp(event_time) != intDiv(event_ts, 1000)"); n != 0 {
		t.Errorf("%d suggestion rows have an event_time other than their event_ts's second", n)
	}
	// The README's acceptance-by-rank query, on this database: d-near,
	// first for n-dist, accepted it.
	e.kcatProduce(e.topics.Outcomes, []string{outcome("n-dist", "d-near", end+120_000, "accepted", 5)})
	wait(t, 30*time.Second, "the outcome in ClickHouse", func() bool {
		return e.queryUint("SELECT count() FROM outcomes FINAL WHERE need_id = 'n-dist'") == 1
	})
	if n := e.queryUint(fmt.Sprintf("SELECT count() FROM outcomes FINAL WHERE need_id = 'n-dist' AND toUnixTimestamp(event_time) = %d", (end+120_000)/1000)); n != 1 {
		t.Errorf("the outcome's event_time is not its ts's second")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	q := string(readme)
	q = q[strings.Index(q, "SELECT rank, count() AS shown"):]
	q = strings.ReplaceAll(q[:strings.Index(q, "```")], "everywhere.", e.ch.Database+".")
	rows2, err := e.conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("README acceptance query: %v", err)
	}
	byRank := map[uint8][2]uint64{}
	for rows2.Next() {
		var rank uint8
		var shown, taken uint64
		var rate float64
		if err := rows2.Scan(&rank, &shown, &taken, &rate); err != nil {
			t.Fatal(err)
		}
		byRank[rank] = [2]uint64{shown, taken}
	}
	if byRank[1][1] != 1 || byRank[2][1] != 0 || byRank[1][0] < 7 {
		t.Errorf("acceptance by rank: %v", byRank)
	}
	if testing.Verbose() {
		for need, ls := range lists {
			for _, l := range ls {
				t.Logf("%s v%d %v", need, l.Version, strings.Join(l.helpers(), ","))
			}
		}
	}
}

// TestNeedMovedToAnotherRegion: a need updated with a place in a region
// of another partition of the regions topic is closed where it was and
// ranked where it is now, with versions above the old region's, so that
// a consumer keeping the highest version keeps the new region's list.
// The old region publishes nothing more for it, even when its old helper
// moves again, and nothing goes to the dead letters.
func TestNeedMovedToAnotherRegion(t *testing.T) {
	e := newEnv(t, 4)
	e.startEngine("EVERYWHERE_MATCHING_REPUBLISH_INTERVAL=0s")
	const t0 = int64(1_764_000_000_000)
	// The engine's region layout at its defaults: resolution 3, needs of
	// up to 20 km, over the regions topic's partitions.
	reg := route.NewRegions(3, 20_000, e.parts)
	here := [2]float64{30.2741, 120.1551}
	_, from := reg.Of(here[0], here[1])
	var there [2]float64
	for _, c := range [][2]float64{{39.9042, 116.4074}, {31.2304, 121.4737}, {22.5431, 114.0579}, {34.3416, 108.9398}} {
		if _, p := reg.Of(c[0], c[1]); p != from {
			there = c
			break
		}
	}
	if there == ([2]float64{}) {
		t.Fatal("no city's region falls in a partition other than Hangzhou's")
	}
	need := func(ts int64, at [2]float64) string {
		return fmt.Sprintf(`n-move	{"need_id":"n-move","user_id":"req-move","ts":%d,"category":"errand","lat":%.5f,"lng":%.5f,"radius_m":1000,"reward":1000,"currency":"CNY","expires_at":%d,"status":"open"}`,
			ts, at[0], at[1], t0+3600_000)
	}
	e.kcatProduce(e.topics.Pings, []string{
		ping("h-here", t0-60_000, here[0]+0.002, here[1], true),
		ping("h-there", t0-60_000, there[0]+0.002, there[1], true),
	})
	e.settled(t)
	e.kcatProduce(e.topics.Needs, []string{need(t0, here)})
	e.settled(t)
	e.kcatProduce(e.topics.Needs, []string{need(t0+10_000, there)})
	e.settled(t)
	// The old region's helper moves closer: the need is gone from there.
	e.kcatProduce(e.topics.Pings, []string{ping("h-here", t0+20_000, here[0]+0.001, here[1], true)})
	e.settled(t)

	lists := e.lists(e.topics.Suggestions)["n-move"]
	var got []string
	for _, l := range lists {
		got = append(got, fmt.Sprintf("v%d %v", l.Version, l.helpers()))
	}
	want := []string{"v1 [h-here]", fmt.Sprintf("v%d [h-there]", 1<<24+1)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lists of the moved need: %v, want %v", got, want)
	}
	if dead := e.kcatConsume(e.topics.DeadLetter); len(dead) > 0 {
		t.Errorf("dead letters: %v", dead)
	}
}
