package integration

import (
	"slices"
	"testing"
	"time"
)

// TestStateSurvivesRestart kills the engine (SIGKILL) between the halves of
// a money ring and between a helper's ping and a need nearby. The
// restarted engine must rebuild its state from the topics: the ring is
// still caught for every member, and the helper seen before the kill is
// still suggested.
func TestStateSurvivesRestart(t *testing.T) {
	e := newEnv(t, 4)
	en := e.startEngine()
	const t0 = int64(1_764_000_000_000)
	lat, lng := place(0)
	e.kcatProduce(e.topics.Transactions, []string{
		transfer("r1", "alice", "bob", t0+60_000, 300_000),
		transfer("r2", "bob", "carol", t0+600_000, 295_000),
	})
	e.kcatProduce(e.topics.Profiles, []string{profile("h-before", t0, `"errand"`, 700)})
	e.kcatProduce(e.topics.Pings, []string{ping("h-before", t0+590_000, lat, lng, true)})
	e.drained(time.Minute)
	en.kill()

	e.startEngine()
	// The ring closes 5 s after its second hop: the regions find rings
	// themselves, and their clock is at the closing transfer when the need
	// may come, which must find the helper's ping fresh.
	e.kcatProduce(e.topics.Transactions, []string{transfer("r3", "carol", "alice", t0+605_000, 290_000)})
	e.kcatProduce(e.topics.Needs, []string{needAt("n-after", "someone", "errand", t0+600_000, 0)})
	wait(t, time.Minute, "round_trip alerts for alice, bob and carol", func() bool {
		var users []string
		for _, a := range e.alerts() {
			if a.Rule == "round_trip" && !slices.Contains(users, a.UserID) {
				users = append(users, a.UserID)
			}
		}
		return len(users) == 3
	})
	wait(t, time.Minute, "the helper seen before the restart suggested", func() bool {
		ls := e.lists(e.topics.Suggestions)["n-after"]
		return len(ls) > 0 && slices.Contains(ls[len(ls)-1].helpers(), "h-before")
	})
}
