package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/pipeline/sink"
)

type alertMsg struct {
	AlertID      string          `json:"alert_id"`
	UserID       string          `json:"user_id"`
	Rule         string          `json:"rule"`
	Severity     string          `json:"severity"`
	TxnIDs       []string        `json:"txn_ids"`
	Evidence     json.RawMessage `json:"evidence"`
	RulesVersion string          `json:"rules_version"`
}

func (e *env) alerts() []alertMsg {
	var out []alertMsg
	for _, raw := range e.kcatConsume(e.topics.Alerts) {
		var a alertMsg
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			e.t.Fatalf("alert %q: %v", raw, err)
		}
		out = append(out, a)
	}
	return out
}

func transfer(id, from, to string, ts, amount int64) string {
	return fmt.Sprintf(`%s	{"txn_id":%q,"user_id":%q,"ts":%d,"amount":%d,"currency":"CNY","kind":"transfer","counterparty_id":%q,"counterparty_kind":"user"}`,
		from, id, from, ts, amount, to)
}

func purchase(id, user string, ts, amount int64) string {
	return fmt.Sprintf(`%s	{"txn_id":%q,"user_id":%q,"ts":%d,"amount":%d,"currency":"CNY","kind":"purchase","counterparty_id":"m1","counterparty_kind":"merchant"}`,
		user, id, user, ts, amount)
}

// TestFraudAlertsThroughKafka publishes payments with kcat and checks the
// alerts the engine publishes: a ring of transfers across partitions is
// caught for every member, alerts land once in ClickHouse, and a changed
// rules file takes effect without a restart while a bad one is refused.
func TestFraudAlertsThroughKafka(t *testing.T) {
	e := newEnv(t, 4)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("rules:\n  velocity:\n    max_count: 30\n  version: lenient\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	en := e.startEngine("EVERYWHERE_FRAUD_RULES_FILE="+rules, "EVERYWHERE_FRAUD_RELOAD_INTERVAL=200ms")
	const t0 = int64(1_764_000_000_000)
	var lines []string
	for i := range 15 {
		lines = append(lines, purchase(fmt.Sprintf("s%d", i), "slow-rules", t0+int64(i)*5_000, 2_000))
	}
	// A ring across users whose partitions differ: its hops meet only
	// through the money-paths topic.
	lines = append(lines,
		transfer("r1", "alice", "bob", t0+60_000, 300_000),
		transfer("r2", "bob", "carol", t0+600_000, 295_000),
		transfer("r3", "carol", "alice", t0+1_200_000, 290_000),
		// Friends paying each other back: not a ring.
		transfer("f1", "dave", "erin", t0+60_000, 300_000),
		transfer("f2", "erin", "dave", t0+600_000, 300_000),
	)
	e.kcatProduce(e.topics.Transactions, lines)
	wait(t, time.Minute, "round_trip alerts for alice, bob and carol", func() bool {
		n := 0
		for _, a := range e.alerts() {
			if a.Rule == "round_trip" {
				n++
			}
		}
		return n >= 3
	})
	ring := map[string]bool{}
	for _, a := range e.alerts() {
		switch {
		case a.Rule == "round_trip":
			ring[a.UserID] = true
			if strings.Join(a.TxnIDs, ",") != "r1,r2,r3" || !strings.Contains(string(a.Evidence), "alice>bob>carol>alice") {
				t.Errorf("ring alert %+v", a)
			}
		case a.Rule == "velocity":
			t.Errorf("velocity fired under max_count 30: %+v", a)
		}
		if a.UserID == "dave" || a.UserID == "erin" {
			t.Errorf("friends paying back flagged: %+v", a)
		}
	}
	if !ring["alice"] || !ring["bob"] || !ring["carol"] {
		t.Fatalf("ring members alerted: %v", ring)
	}

	// A high ring closes in the last payer's partition, and every member
	// is kept out of the lists, wherever their partition is.
	members := []string{"hi-a", "hi-b", "hi-c"}
	parts := map[int]bool{}
	for _, u := range members {
		parts[sink.Balancer("murmur2").Balance(kafka.Message{Key: []byte(u)}, 0, 1, 2, 3)] = true
	}
	if len(parts) != len(members) {
		t.Fatalf("ring members share partitions %v: the test needs them apart", parts)
	}
	e.kcatProduce(e.topics.Transactions, []string{
		transfer("h1", "hi-a", "hi-b", t0+60_000, 700_000),
		transfer("h2", "hi-b", "hi-c", t0+600_000, 690_000),
		transfer("h3", "hi-c", "hi-a", t0+1_200_000, 680_000),
	})
	e.settled(t)
	var ps []string
	for i, u := range append(members, "plain") {
		lat, lng := at(8, float64(100*(i+1)))
		ps = append(ps, ping(u, t0+1_300_000, lat, lng, true))
	}
	e.kcatProduce(e.topics.Pings, ps)
	e.settled(t)
	e.kcatProduce(e.topics.Needs, []string{needAt("n-ring", "req-8", "errand", t0+1_400_000, 8)})
	e.settled(t)
	if ls := e.lists(e.topics.Suggestions)["n-ring"]; len(ls) != 1 || fmt.Sprint(ls[0].helpers()) != "[plain]" {
		t.Errorf("n-ring lists %+v, want only [plain]: every ring member has a high alert", ls)
	}

	// A bad rules file is refused and the rules in force stay.
	if err := os.WriteFile(rules, []byte("rules:\n  velocity:\n    max_count: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "the bad rules file rejected", func() bool {
		return metric(en.metrics(t), `everywhere_fraud_rules_reloads_total{result="rejected"}`) >= 1
	})
	if err := os.WriteFile(rules, []byte("rules:\n  velocity:\n    max_count: 10\n  version: strict\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "the new rules file applied", func() bool {
		return metric(en.metrics(t), `everywhere_fraud_rules_reloads_total{result="applied"}`) >= 1
	})
	lines = lines[:0]
	for i := range 15 {
		lines = append(lines, purchase(fmt.Sprintf("q%d", i), "fast-rules", t0+int64(i)*5_000, 2_000))
	}
	e.kcatProduce(e.topics.Transactions, lines)
	var velocity []alertMsg
	wait(t, time.Minute, "velocity alert under the new rules", func() bool {
		velocity = velocity[:0]
		for _, a := range e.alerts() {
			if a.Rule == "velocity" {
				velocity = append(velocity, a)
			}
		}
		return len(velocity) > 0
	})
	if len(velocity) != 1 || velocity[0].UserID != "fast-rules" || velocity[0].RulesVersion != "strict" || velocity[0].TxnIDs[0] != "q10" {
		t.Fatalf("velocity alerts: %+v", velocity)
	}

	ids := map[string]bool{}
	for _, a := range e.alerts() {
		ids[a.AlertID] = true
	}
	wait(t, 30*time.Second, "every alert in ClickHouse once", func() bool {
		return e.queryUint("SELECT count() FROM alerts FINAL") == uint64(len(ids))
	})
	if v := metric(en.metrics(t), `everywhere_alerts_total{rule="round_trip",severity="medium"}`) +
		metric(en.metrics(t), `everywhere_alerts_total{rule="round_trip",severity="high"}`); v < 3 {
		t.Errorf("round_trip alert metric = %v", v)
	}
}
