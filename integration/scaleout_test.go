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
// Under the race detector the engines are several times slower and the
// stop lands early in the catch-up, during the first rebalances: the case
// that found two ways a source could let the regions run ahead of records
// it had not sent (an idle said on the way out, and a chunk taken after
// an earlier one was refused).
func TestScaleOutGivesTheSameOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs up to three engines")
	}
	t.Parallel() // beside two other long tests: see the package doc
	msgs, start, labels := city(heavy(1, 4))
	want := uninterrupted(t, msgs, start, labels)
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
			want.check(t, e, fmt.Sprintf("with %d instances, one stopped midway,", n))
		})
	}
}
