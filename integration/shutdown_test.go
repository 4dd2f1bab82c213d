package integration

import (
	"context"
	"testing"
	"time"

	"everywhere/simulator"
)

// TestSIGTERMMidStreamLosesNothing stops the engine with SIGTERM while the
// simulator is publishing, starts it again, and checks that the aggregates
// equal the input exactly: nothing lost, nothing counted twice.
func TestSIGTERMMidStreamLosesNothing(t *testing.T) {
	e := newEnv(t, 4)
	cfg := simulator.DefaultConfig()
	cfg.Users, cfg.Duration, cfg.Seed, cfg.Episodes = 1500, 6*time.Hour, 11, 1
	var wantPings, wantTxns, wantAmount uint64
	{
		x := expect(generate(cfg.Users, cfg.Duration, cfg.Seed))
		wantPings = uint64(x.published[simulator.Pings])
		for _, c := range x.txns {
			wantTxns += c[0]
			wantAmount += c[1]
		}
	}
	en := e.startEngine()
	pc := simulator.PublishConfig{Brokers: e.brokers, Speed: float64(cfg.Duration/time.Second) / 6} // about 6 s
	pc.Topics = [simulator.NumTopics]string{e.topics.Pings, e.topics.Profiles, e.topics.Transactions, e.topics.Needs, e.topics.Outcomes}
	published := make(chan error, 1)
	go func() {
		_, err := simulator.Publish(context.Background(), simulator.New(cfg), pc)
		published <- err
	}()
	wait(t, time.Minute, "engine wrote its first pings", func() bool {
		return e.queryUint("SELECT count() FROM ping_cell_minute") > 0
	})
	took, err := en.stop()
	if err != nil {
		t.Fatalf("engine exit after SIGTERM: %v", err)
	}
	if took > 10*time.Second {
		t.Errorf("engine took %s to drain after SIGTERM; want at most 10 s", took)
	}
	mid := e.queryUint("SELECT sum(pings) FROM ping_cell_minute")
	if mid >= wantPings {
		t.Fatalf("SIGTERM came after the stream ended (%d of %d pings); the test proves nothing", mid, wantPings)
	}
	e.startEngine()
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	wait(t, 2*time.Minute, "every ping counted once after the restart", func() bool {
		return e.lag() == 0 && e.queryUint("SELECT sum(pings) FROM ping_cell_minute") == wantPings
	})
	time.Sleep(time.Second)
	if got := e.queryUint("SELECT sum(pings) FROM ping_cell_minute"); got != wantPings {
		t.Errorf("pings %d, want %d", got, wantPings)
	}
	if got := e.queryUint("SELECT sum(txns) FROM txn_cell_minute"); got != wantTxns {
		t.Errorf("transactions %d, want %d", got, wantTxns)
	}
	if got := e.queryUint("SELECT sum(amount_total) FROM txn_cell_minute"); got != wantAmount {
		t.Errorf("amount %d, want %d", got, wantAmount)
	}
	t.Logf("SIGTERM at %d of %d pings; drained in %s", mid, wantPings, took.Round(time.Millisecond))
}
