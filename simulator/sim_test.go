package simulator

import (
	"bytes"
	"testing"
	"time"

	"everywhere/events"
)

func small() Config {
	c := DefaultConfig()
	c.Users = 800
	c.Duration = 12 * time.Hour
	c.Episodes = 2
	return c
}

func TestSameSeedSameStream(t *testing.T) {
	a, b := New(small()), New(small())
	var ma, mb Message
	n := 0
	for a.Next(&ma) {
		if !b.Next(&mb) {
			t.Fatalf("second run ended early at %d", n)
		}
		if ma.Topic != mb.Topic || ma.Key != mb.Key || !bytes.Equal(ma.Value, mb.Value) {
			t.Fatalf("message %d differs:\n%s\n%s", n, ma.Value, mb.Value)
		}
		n++
	}
	if b.Next(&mb) {
		t.Fatal("second run is longer")
	}
	if n < 10_000 {
		t.Fatalf("only %d messages", n)
	}
}

// TestEveryMessageIsValidAndInOrder checks that the city speaks the
// contract: the engine's decoders accept every message, and event time
// never runs backwards by more than the scheduled lateness of a message.
func TestEveryMessageIsValidAndInOrder(t *testing.T) {
	s := New(small())
	d := events.NewDecoder("CNY")
	var (
		m     Message
		count [NumTopics]int
		last  int64
	)
	for s.Next(&m) {
		var err error
		switch m.Topic {
		case Pings:
			var p events.Ping
			err = d.Ping(m.Value, &p)
			if err == nil && p.UserID != m.Key {
				t.Fatalf("ping keyed %q for user %q", m.Key, p.UserID)
			}
		case Profiles:
			err = d.Profile(m.Value, &events.Profile{})
		case Transactions:
			var tx events.Transaction
			err = d.Transaction(m.Value, &tx)
			if err == nil && tx.UserID != m.Key {
				t.Fatalf("transaction keyed %q for payer %q", m.Key, tx.UserID)
			}
		case Needs:
			err = d.Need(m.Value, &events.Need{})
		case Outcomes:
			err = d.Outcome(m.Value, &events.Outcome{})
		}
		if err != nil {
			t.Fatalf("%s message %s rejected: %v", m.Topic, m.Value, err)
		}
		if m.TS < last {
			t.Fatalf("event time went back from %d to %d", last, m.TS)
		}
		last = m.TS
		count[m.Topic]++
	}
	for topic, n := range count {
		if n == 0 {
			t.Fatalf("no %s generated", Topic(topic))
		}
	}
	if count[Pings] < count[Transactions] {
		t.Fatalf("pings %d fewer than transactions %d", count[Pings], count[Transactions])
	}
}

func TestLabelsCoverEveryPatternAndLookalike(t *testing.T) {
	s := New(small())
	var m Message
	for s.Next(&m) {
	}
	fraud := map[string]int{}
	look := map[string]int{}
	for _, l := range s.Labels() {
		if l.Fraud {
			fraud[l.Pattern]++
		} else {
			look[l.Lookalike]++
		}
	}
	for _, p := range Patterns {
		if fraud[p] == 0 {
			t.Errorf("no %s episode", p)
		}
	}
	for _, l := range []string{"rich_user_spending_as_usual", "flight_between_cities", "one_transfer_below_threshold", "friends_paying_back", "one_refunded_purchase"} {
		if look[l] == 0 {
			t.Errorf("no %s look-alike", l)
		}
	}
	var buf bytes.Buffer
	if err := WriteLabels(&buf, s.Labels()); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLabels(&buf)
	if err != nil || len(back) != len(s.Labels()) {
		t.Fatalf("labels round trip: %d of %d, %v", len(back), len(s.Labels()), err)
	}
}
