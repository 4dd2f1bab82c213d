package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/uber/h3-go/v4"

	"everywhere/events"
	"everywhere/simulator"
)

// expected holds the aggregates computed straight from the input, with
// h3-go and plain maps: an independent answer to compare ClickHouse with.
type expected struct {
	pings     map[[2]int64][2]uint64       // cell, minute -> pings, available
	users     map[[2]int64]map[string]bool // cell, minute -> user -> available
	txns      map[[3]int64][3]uint64       // cell, minute, kind -> count, total, max
	spend     map[string][4]uint64         // day|user -> purchases, total, refunds, refund total
	needs     map[[4]int64]uint64          // cell, minute, category, status -> count
	outcomes  map[string]bool              // need|helper|ts|outcome
	byTopic   map[simulator.Topic][]string // kcat lines
	published map[simulator.Topic]int
}

func cellOf(lat, lng float64) int64 {
	return int64(h3.LatLngToCell(h3.NewLatLng(lat, lng), 8))
}

func expect(msgs []simulator.Message) *expected {
	x := &expected{pings: map[[2]int64][2]uint64{}, users: map[[2]int64]map[string]bool{}, txns: map[[3]int64][3]uint64{},
		spend: map[string][4]uint64{}, needs: map[[4]int64]uint64{}, outcomes: map[string]bool{},
		byTopic: map[simulator.Topic][]string{}, published: map[simulator.Topic]int{}}
	d := events.NewDecoder("CNY")
	for _, m := range msgs {
		x.byTopic[m.Topic] = append(x.byTopic[m.Topic], m.Key+"\t"+string(m.Value))
		x.published[m.Topic]++
		switch m.Topic {
		case simulator.Pings:
			var p events.Ping
			must(d.Ping(m.Value, &p))
			k := [2]int64{cellOf(p.Lat, p.Lng), p.TS / 60000}
			c := x.pings[k]
			c[0]++
			if p.Available {
				c[1]++
			}
			x.pings[k] = c
			if x.users[k] == nil {
				x.users[k] = map[string]bool{}
			}
			user := strings.Clone(p.UserID) // decoded strings are views into the decoder
			x.users[k][user] = x.users[k][user] || p.Available
		case simulator.Transactions:
			var t events.Transaction
			must(d.Transaction(m.Value, &t))
			var cell int64
			if t.HasLocation {
				cell = cellOf(t.Lat, t.Lng)
			}
			k := [3]int64{cell, t.TS / 60000, int64(t.Kind)}
			c := x.txns[k]
			c[0]++
			c[1] += uint64(t.Amount)
			c[2] = max(c[2], uint64(t.Amount))
			x.txns[k] = c
			sk := fmt.Sprintf("%d|%s", t.TS/86_400_000, t.UserID)
			s := x.spend[sk]
			switch t.Kind {
			case events.Purchase:
				s[0]++
				s[1] += uint64(t.Amount)
			case events.Refund:
				s[2]++
				s[3] += uint64(t.Amount)
			}
			if t.Kind == events.Purchase || t.Kind == events.Refund {
				x.spend[sk] = s
			}
		case simulator.Needs:
			var n events.Need
			must(d.Need(m.Value, &n))
			if !n.HasPlace || n.Category == events.CategoryNone {
				continue // a status update without a place has no cell
			}
			x.needs[[4]int64{cellOf(n.Lat, n.Lng), n.TS / 60000, int64(n.Category), int64(n.Status)}]++
		case simulator.Outcomes:
			var o events.Outcome
			must(d.Outcome(m.Value, &o))
			x.outcomes[fmt.Sprintf("%s|%s|%d|%s", o.NeedID, o.HelperID, o.TS, o.Outcome)] = true
		}
	}
	return x
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func generate(users int, d time.Duration, seed uint64) []simulator.Message {
	c := simulator.DefaultConfig()
	c.Users, c.Duration, c.Seed, c.Episodes = users, d, seed, 1
	return simulate(c)
}

// simulate runs the simulated city and keeps every message.
func simulate(c simulator.Config) []simulator.Message {
	s := simulator.New(c)
	var out []simulator.Message
	var m simulator.Message
	for s.Next(&m) {
		out = append(out, m)
	}
	return out
}

// kcatPublish publishes a simulated stream to the input topics with kcat.
func (e *env) kcatPublish(x *expected) {
	e.t.Helper()
	topicName := map[simulator.Topic]string{simulator.Pings: e.topics.Pings, simulator.Profiles: e.topics.Profiles,
		simulator.Transactions: e.topics.Transactions, simulator.Needs: e.topics.Needs, simulator.Outcomes: e.topics.Outcomes}
	for topic, lines := range x.byTopic {
		e.kcatProduce(topicName[topic], lines)
	}
}

// TestKcatInputReachesAggregatesExactly publishes a simulated morning with
// kcat and checks every ClickHouse aggregate, row by row, against totals
// computed straight from the input.
func TestKcatInputReachesAggregatesExactly(t *testing.T) {
	e := newEnv(t, 4)
	x := expect(generate(400, 10*time.Hour, 7))
	en := e.startEngine()
	e.kcatPublish(x)
	wantPings := uint64(x.published[simulator.Pings])
	wait(t, 2*time.Minute, "engine caught up and wrote every ping", func() bool {
		return e.lag() == 0 && e.queryUint("SELECT sum(pings) FROM ping_cell_minute") == wantPings
	})
	time.Sleep(time.Second) // let the last seals of the other topics land

	ctx := context.Background()
	rows, err := e.conn.Query(ctx, "SELECT cell, toUnixTimestamp(minute), sum(pings), sum(available_pings) FROM ping_cell_minute GROUP BY cell, minute")
	must(err)
	got := map[[2]int64][2]uint64{}
	for rows.Next() {
		var cell uint64
		var minute uint32
		var p, a uint64
		must(rows.Scan(&cell, &minute, &p, &a))
		got[[2]int64{int64(cell), int64(minute) / 60}] = [2]uint64{p, a}
	}
	rows.Close()
	compare(t, "ping_cell_minute", x.pings, got)

	rows, err = e.conn.Query(ctx, "SELECT cell, toUnixTimestamp(minute), uniqExactMerge(users), uniqExactIfMerge(helpers) FROM ping_users GROUP BY cell, minute")
	must(err)
	gotUsers := map[[2]int64][2]uint64{}
	for rows.Next() {
		var cell uint64
		var minute uint32
		var u, h uint64
		must(rows.Scan(&cell, &minute, &u, &h))
		gotUsers[[2]int64{int64(cell), int64(minute) / 60}] = [2]uint64{u, h}
	}
	rows.Close()
	wantUsers := map[[2]int64][2]uint64{}
	for k, us := range x.users {
		var helpers uint64
		for _, avail := range us {
			if avail {
				helpers++
			}
		}
		wantUsers[k] = [2]uint64{uint64(len(us)), helpers}
	}
	compare(t, "ping_users", wantUsers, gotUsers)

	rows, err = e.conn.Query(ctx, "SELECT cell, toUnixTimestamp(minute), toInt64(kind), sum(txns), sum(amount_total), max(amount_max) FROM txn_cell_minute GROUP BY cell, minute, kind")
	must(err)
	gotTxns := map[[3]int64][3]uint64{}
	for rows.Next() {
		var cell uint64
		var minute uint32
		var kind int64
		var n, total, mx uint64
		must(rows.Scan(&cell, &minute, &kind, &n, &total, &mx))
		gotTxns[[3]int64{int64(cell), int64(minute) / 60, kind}] = [3]uint64{n, total, mx}
	}
	rows.Close()
	compare(t, "txn_cell_minute", x.txns, gotTxns)

	rows, err = e.conn.Query(ctx, "SELECT toUInt32(day), user_id, sum(purchases), sum(purchase_total), sum(refunds), sum(refund_total) FROM user_spend_day GROUP BY day, user_id")
	must(err)
	gotSpend := map[string][4]uint64{}
	for rows.Next() {
		var day uint32
		var user string
		var a, b, c, d uint64
		must(rows.Scan(&day, &user, &a, &b, &c, &d))
		gotSpend[fmt.Sprintf("%d|%s", day, user)] = [4]uint64{a, b, c, d}
	}
	rows.Close()
	compare(t, "user_spend_day", x.spend, gotSpend)

	rows, err = e.conn.Query(ctx, "SELECT cell, toUnixTimestamp(minute), toInt64(category), toInt64(status), sum(needs) FROM need_cell_minute GROUP BY cell, minute, category, status")
	must(err)
	gotNeeds := map[[4]int64]uint64{}
	for rows.Next() {
		var cell uint64
		var minute uint32
		var cat, status int64
		var n uint64
		must(rows.Scan(&cell, &minute, &cat, &status, &n))
		gotNeeds[[4]int64{int64(cell), int64(minute) / 60, cat, status}] = n
	}
	rows.Close()
	compare(t, "need_cell_minute", x.needs, gotNeeds)

	if n := e.queryUint("SELECT count() FROM outcomes FINAL"); n != uint64(len(x.outcomes)) {
		t.Errorf("outcomes: %d rows, want %d", n, len(x.outcomes))
	}
	m := en.metrics(t)
	lint := exec.Command("promtool", "check", "metrics")
	lint.Stdin = strings.NewReader(m)
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics on /metrics: %v\n%s", err, out)
	}
	if v := metric(m, fmt.Sprintf(`everywhere_events_in_total{result="ok",topic="%s"}`, e.topics.Pings)); v != float64(wantPings) {
		t.Errorf("events_in ok for pings = %v, want %d", v, wantPings)
	}
	// engine.heap_pages is huge by default: a reserve of heap is marked
	// for huge pages before the engine makes its state (64 MiB in a race
	// build, 1 GiB otherwise).
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		if v := metric(m, "everywhere_heap_huge_advised_bytes"); v < 64<<20 {
			t.Errorf("everywhere_heap_huge_advised_bytes = %v, want at least the reserve, 64 MiB", v)
		}
	}
	if d, err := en.stop(); err != nil || d > 10*time.Second {
		t.Errorf("SIGTERM: exit %v after %s; want a clean exit within 10 s", err, d)
	}
}

func compare[K comparable, V comparable](t *testing.T, table string, want, got map[K]V) {
	t.Helper()
	bad := 0
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			if bad < 5 {
				t.Errorf("%s %v: got %v (present %v), want %v", table, k, g, ok, w)
			}
			bad++
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			if bad < 5 {
				t.Errorf("%s %v: unexpected row %v", table, k, g)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d keys differ", table, bad, len(want))
	}
}
