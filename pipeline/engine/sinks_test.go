package engine

import (
	"slices"
	"testing"
	"time"

	"everywhere/config"
)

// TestTableSinksWriteAtSpreadPhases: the engine's table batchers (nine)
// and a few more each get a phase of clickhouse.flush_interval, no two
// closer than a twentieth of it, so that their inserts do not go out
// together.
func TestTableSinksWriteAtSpreadPhases(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{cfg: cfg}
	interval := cfg.ClickHouse.FlushInterval
	var phases []int64
	for range 12 {
		c := e.tableSink("t")
		if c.MaxWait != interval || c.Phase < 0 || c.Phase >= interval {
			t.Fatalf("phase %s of a %s interval", c.Phase, c.MaxWait)
		}
		phases = append(phases, int64(c.Phase))
	}
	slices.Sort(phases)
	for i := range phases {
		next := phases[(i+1)%len(phases)]
		if i == len(phases)-1 {
			next += int64(interval)
		}
		if gap := next - phases[i]; gap < int64(interval)/20 {
			t.Fatalf("phases %v: two are %d ns apart; want at least a twentieth of %s", phases, gap, interval)
		}
	}
}

// TestPendingRunsCoverTheLongestHold: a partition worker may leave
// enough runs waiting to cover twice the longest a batch is held (one and
// a half flush intervals), up to the cap; with the defaults, not fewer
// than the eight it always had.
func TestPendingRunsCoverTheLongestHold(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := pendingRuns(cfg.ClickHouse.FlushInterval, cfg.Engine.SealInterval); n < 8 {
		t.Errorf("defaults: %d pending runs, want at least 8", n)
	}
	for _, hold := range []time.Duration{10 * time.Millisecond, time.Second, 4 * time.Second, 5 * time.Minute} {
		for _, seal := range []time.Duration{time.Millisecond, 500 * time.Millisecond, time.Minute} {
			n := pendingRuns(hold, seal)
			if covered := time.Duration(n) * seal; n < 1024 && covered < 3*hold || n < 1 || n > 1024 {
				t.Errorf("hold %v, seal %v: %d pending runs cover %v", hold, seal, n, covered)
			}
		}
	}
}
