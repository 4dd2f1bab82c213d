package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"everywhere/simulator"
)

// TestScaleOutGivesTheSameOutputs runs two and then three engines in one
// consumer group over the crash test's city and stops one of them (SIGTERM)
// while they work, so the group rebalances mid-stream. Partitions move
// between instances, and with them their state, rebuilt by the new owner
// (matching state is keyed by region). The aggregates, the alerts and,
// with repeated ids dropped, every need's final list must be those of one
// engine that ran alone.
//
// Lists are compared only without the race detector (`make soak` runs
// this test so): under it the engines are several times slower, the stop
// lands early in the catch-up, and some lists then differ. That gap is
// open (see the README's known limits).
func TestScaleOutGivesTheSameOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs up to three engines")
	}
	msgs, start := city()
	want := uninterrupted(t, msgs, start)
	lists := !raceBuild
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("instances=%d", n), func(t *testing.T) {
			e := newEnv(t, 4)
			if _, err := simulator.Publish(context.Background(), &messages{msgs: msgs, start: start}, publishConfig(e, 0)); err != nil {
				t.Fatal(err)
			}
			var engines []*engine
			for range n {
				engines = append(engines, e.startEngine())
			}
			time.Sleep(4 * time.Second)
			if _, err := engines[0].stop(); err != nil {
				t.Fatalf("stopping one instance: %v", err)
			}
			e.drained(heavy(3*time.Minute, 15*time.Minute))
			want.check(t, e, fmt.Sprintf("with %d instances, one stopped midway,", n), lists)
		})
	}
}
