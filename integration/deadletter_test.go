package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

type deadLetter struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key"`
	Error     string `json:"error"`
	Payload   string `json:"payload"`
}

// TestBadInputGoesToDeadLetterWithReasons publishes malformed messages
// among valid ones with kcat: each bad one must reach the dead-letter topic
// with its reason and its exact bytes, each valid one must be counted, and
// the engine must keep going.
func TestBadInputGoesToDeadLetterWithReasons(t *testing.T) {
	e := newEnv(t, 2)
	en := e.startEngine()
	bad := map[string]string{ // payload -> reason it must name
		`not json at all`: "not valid JSON",
		`[1,2,3]`:         "not a JSON object",
		`{"ts":1764000000123,"lat":30.1,"lng":120.1}`:                                "user_id: is required",
		`{"user_id":"u1","ts":1764000000,"lat":30.1,"lng":120.1}`:                    "looks like seconds",
		`{"user_id":"u1","ts":1764000000123,"lat":130.1,"lng":120.1}`:                "lat: is 130.1",
		`{"user_id":"u1","ts":1764000000123,"lat":30.1,"lng":120.1,"available":"y"}`: "available: must be true or false",
	}
	badTxn := map[string]string{
		`{"txn_id":"t1","user_id":"u1","ts":1764000000123,"amount":-5,"currency":"CNY","kind":"purchase"}`:  "amount: is -5",
		`{"txn_id":"t2","user_id":"u1","ts":1764000000123,"amount":100,"currency":"USD","kind":"purchase"}`: "currency: is USD",
		`{"txn_id":"t3","user_id":"u1","ts":1764000000123,"amount":100,"currency":"CNY","kind":"gift"}`:     `kind: is "gift"`,
	}
	var pings, txns []string
	i := 0
	for payload := range bad {
		pings = append(pings, fmt.Sprintf("k%d\t%s", i, payload))
		pings = append(pings, fmt.Sprintf("u%d\t{\"user_id\":\"u%d\",\"ts\":1764000000123,\"lat\":30.27,\"lng\":120.15,\"available\":true}", i, i))
		i++
	}
	for payload := range badTxn {
		txns = append(txns, fmt.Sprintf("k%d\t%s", i, payload))
		txns = append(txns, fmt.Sprintf("u%d\t{\"txn_id\":\"ok%d\",\"user_id\":\"u%d\",\"ts\":1764000000123,\"amount\":100,\"currency\":\"CNY\",\"kind\":\"purchase\"}", i, i, i))
		i++
	}
	e.kcatProduce(e.topics.Pings, pings)
	e.kcatProduce(e.topics.Transactions, txns)

	wantDead := len(bad) + len(badTxn)
	var got []string
	wait(t, time.Minute, "every bad message in the dead-letter topic", func() bool {
		got = e.kcatConsume(e.topics.DeadLetter)
		return len(got) >= wantDead
	})
	if len(got) != wantDead {
		t.Fatalf("%d dead letters, want %d: %v", len(got), wantDead, got)
	}
	for _, raw := range got {
		var d deadLetter
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatalf("dead letter %q is not JSON: %v", raw, err)
		}
		reasons := bad
		if d.Topic == e.topics.Transactions {
			reasons = badTxn
		} else if d.Topic != e.topics.Pings {
			t.Fatalf("dead letter from topic %q", d.Topic)
		}
		want, ok := reasons[d.Payload]
		if !ok {
			t.Fatalf("dead letter payload %q is not one of the bad messages (bytes changed?)", d.Payload)
		}
		if !strings.Contains(d.Error, want) {
			t.Errorf("dead letter for %q says %q, want it to name %q", d.Payload, d.Error, want)
		}
		if !strings.HasPrefix(d.Key, "k") {
			t.Errorf("dead letter key %q, want the original key", d.Key)
		}
	}
	wait(t, time.Minute, "valid messages counted and dead letters recorded in ClickHouse", func() bool {
		return e.queryUint("SELECT sum(pings) FROM ping_cell_minute") == uint64(len(bad)) &&
			e.queryUint("SELECT sum(txns) FROM txn_cell_minute") == uint64(len(badTxn)) &&
			e.queryUint("SELECT count() FROM dead_letters FINAL") == uint64(wantDead)
	})
	m := en.metrics(t)
	if v := metric(m, fmt.Sprintf(`everywhere_deadletters_total{topic="%s"}`, e.topics.Pings)); v != float64(len(bad)) {
		t.Errorf("dead-letter metric for pings = %v, want %d", v, len(bad))
	}
	if v := metric(m, fmt.Sprintf(`everywhere_rejections_total{field="amount",topic="%s"}`, e.topics.Transactions)); v != 1 {
		t.Errorf("amount rejections = %v, want 1", v)
	}
}
