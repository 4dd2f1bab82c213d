package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"everywhere/simulator"
	"everywhere/sql"
	"everywhere/warehouse"
)

// TestReplayGivesTheSameOutputs runs a simulated city, with fraud
// episodes and bad input, through the engine twice: the second time from
// the beginning of the same topics, as another consumer group writing its
// own output and internal topics and a fresh database. Every output must
// be the same apart from processing timestamps: each need's lists,
// version by version; the alerts and the dead letters; and every
// ClickHouse table, read as the dashboards and analysts read it.
//
// The city has money rings. The partitions find a ring when its last
// path is read, which depends on timing; the regions find it themselves,
// at the transfer that closes it in their own event-time order, so a
// member leaves the lists at the same point of both runs, version by
// version.
func TestReplayGivesTheSameOutputs(t *testing.T) {
	outputs := []string{"replay.suggestions", "replay.alerts", "replay.deadletter", "replay.fraud.paths", "replay.match.regions"}
	e := newEnv(t, 4, outputs...)
	c := simulator.DefaultConfig()
	c.Users, c.Duration, c.Seed, c.Episodes = heavy(1000, 10_000), heavy(12*time.Hour, 24*time.Hour), 11, heavy(2, 4)
	x := expect(simulate(c))
	e.kcatPublish(x)
	for i, topic := range e.topics.Inputs() {
		e.kcatProduce(topic, []string{fmt.Sprintf("bad-%d\t{\"user_id\":", i), fmt.Sprintf("bad-%d\tnot json", i), fmt.Sprintf("bad-%d\t{}", i)})
	}

	first := e.startEngine()
	e.settled(t)
	if _, err := first.stop(); err != nil {
		t.Fatal(err)
	}

	db := e.ch
	db.Database += "_replay"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := warehouse.Migrate(ctx, db, sql.Migrations); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db.Database) })
	e.startEngine("EVERYWHERE_KAFKA_GROUP=replay", "EVERYWHERE_CLICKHOUSE_DATABASE="+db.Database,
		"EVERYWHERE_TOPIC_SUGGESTIONS=replay.suggestions", "EVERYWHERE_TOPIC_ALERTS=replay.alerts",
		"EVERYWHERE_TOPIC_DEADLETTER=replay.deadletter", "EVERYWHERE_TOPIC_PATHS=replay.fraud.paths",
		"EVERYWHERE_TOPIC_REGIONS=replay.match.regions")
	e.settledAs(t, "replay", append(e.topics.Inputs(), e.prefix+"replay.fraud.paths", e.prefix+"replay.match.regions"))

	lists := e.lists(e.topics.Suggestions)
	sameLists(t, lists, e.lists(e.prefix+"replay.suggestions"))
	members := map[string]bool{}
	for _, a := range e.alerts() {
		if a.Rule == "round_trip" {
			members[a.UserID] = true
		}
	}
	named := 0
	for _, ls := range lists {
		if slices.ContainsFunc(ls, func(l suggestionList) bool { return l.names(members) }) {
			named++
		}
	}
	t.Logf("%d ring members, named in the lists of %d needs", len(members), named)
	if named == 0 {
		t.Error("no list named a ring member: the comparison does not show rings handled alike")
	}

	// Alerts and dead letters carry no processing time: the same records,
	// whatever order the partitions interleave them in.
	rules := map[string]bool{}
	for _, a := range e.alerts() {
		rules[a.Rule] = true
	}
	if len(rules) < 4 || !rules["round_trip"] {
		t.Fatalf("alerts of %d rules (%v): the episodes should raise more, money rings among them", len(rules), rules)
	}
	for _, topic := range [][2]string{{e.topics.Alerts, "replay.alerts"}, {e.topics.DeadLetter, "replay.deadletter"}} {
		a, b := e.kcatConsume(topic[0]), e.kcatConsume(e.prefix+topic[1])
		slices.Sort(a)
		slices.Sort(b)
		a, b = slices.Compact(a), slices.Compact(b)
		if len(a) == 0 || !slices.Equal(a, b) {
			t.Errorf("%s: %d distinct records, %d on replay, or they differ", topic[0], len(a), len(b))
		}
	}
	if n := len(e.kcatConsume(e.topics.DeadLetter)); n != 3*len(e.topics.Inputs()) {
		t.Errorf("%d dead letters, want %d", n, 3*len(e.topics.Inputs()))
	}

	// Every table, as it is read: aggregates summed over their keys (how
	// the rows of a run are cut depends on timing, their sums do not),
	// outputs with FINAL, minus the time a dead letter was seen.
	for _, q := range []string{
		"SELECT cell, minute, sum(pings), sum(available_pings) FROM {db}.ping_cell_minute GROUP BY cell, minute ORDER BY cell, minute",
		"SELECT cell, minute, uniqExactMerge(users), uniqExactIfMerge(helpers) FROM {db}.ping_users GROUP BY cell, minute ORDER BY cell, minute",
		"SELECT cell, minute, category, status, sum(needs), sum(reward_total) FROM {db}.need_cell_minute GROUP BY cell, minute, category, status ORDER BY cell, minute, category, status",
		"SELECT cell, minute, kind, sum(txns), sum(amount_total), max(amount_max) FROM {db}.txn_cell_minute GROUP BY cell, minute, kind ORDER BY cell, minute, kind",
		"SELECT day, user_id, cell, sum(purchases), sum(purchase_total), sum(refunds), sum(refund_total) FROM {db}.user_spend_day GROUP BY day, user_id, cell ORDER BY day, user_id, cell",
		"SELECT * FROM {db}.suggestions FINAL ORDER BY need_id, version, rank",
		"SELECT * FROM {db}.outcomes FINAL ORDER BY need_id, helper_id, ts, outcome",
		"SELECT * FROM {db}.alerts FINAL ORDER BY alert_id",
		"SELECT topic, partition, offset, error, payload FROM {db}.dead_letters FINAL ORDER BY topic, partition, offset",
	} {
		a, b := e.rows(strings.ReplaceAll(q, "{db}", e.ch.Database)), e.rows(strings.ReplaceAll(q, "{db}", db.Database))
		if len(a) == 0 || !slices.Equal(a, b) {
			t.Errorf("%s: %d rows, %d on replay, or they differ", q, len(a), len(b))
		}
	}
}

// sameLists fails unless every need has the same lists in b as in a,
// version by version, apart from the processing time.
func sameLists(t *testing.T, a, b map[string][]suggestionList) {
	t.Helper()
	if len(a) == 0 {
		t.Fatal("no suggestions published")
	}
	versions := 0
	for need, la := range a {
		lb := b[need]
		versions += len(la)
		for i := range max(len(la), len(lb)) {
			if i >= len(la) || i >= len(lb) {
				t.Fatalf("%s: %d lists, then %d on replay", need, len(la), len(lb))
			}
			la[i].TS, lb[i].TS = 0, 0
			ja, _ := json.Marshal(la[i])
			jb, _ := json.Marshal(lb[i])
			if string(ja) != string(jb) {
				t.Fatalf("%s version %d differs on replay:\n  %s\n  %s", need, i+1, ja, jb)
			}
		}
	}
	if len(b) != len(a) {
		t.Fatalf("%d needs with lists, %d on replay", len(a), len(b))
	}
	t.Logf("%d needs, %d lists, identical on replay", len(a), versions)
}

// rows runs query q and returns each row printed.
func (e *env) rows(q string) []string {
	e.t.Helper()
	rows, err := e.conn.Query(context.Background(), q)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols := rows.ColumnTypes()
	vals := make([]any, len(cols))
	for i, c := range cols {
		vals[i] = reflect.New(c.ScanType()).Interface()
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
		var sb strings.Builder
		for _, v := range vals {
			fmt.Fprintf(&sb, "%v\t", reflect.ValueOf(v).Elem().Interface())
		}
		out = append(out, sb.String())
	}
	if err := rows.Err(); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return out
}
