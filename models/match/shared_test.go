package match

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"everywhere/events"
)

// TestMatchersSharingGuessesPublishWhatOwnTablesWould runs four matchers
// sharing one table of guesses at once, each on its own goroutine and
// stream of helpers and needs in the same few streets, and four with
// tables of their own one after the other: each stream's lists must be
// the same either way. A table only spares calls into C; under the race
// detector this also checks that the matchers share it safely.
func TestMatchersSharingGuessesPublishWhatOwnTablesWould(t *testing.T) {
	const streams = 4
	shared := NewGuesses()
	var got, want [streams][]byte
	var wg sync.WaitGroup
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = drive(NewMatcherSharing(&defaultParams, 10, shared), uint64(i))
		}()
	}
	wg.Wait()
	for i := range streams {
		want[i] = drive(NewMatcher(&defaultParams, 10), uint64(i))
		if len(want[i]) == 0 {
			t.Fatalf("stream %d published nothing", i)
		}
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("stream %d: sharing the table published\n%.2000s\nwith its own\n%.2000s", i, got[i], want[i])
		}
	}
}

var defaultParams = DefaultParams()

// drive gives m a random stream of seed, helpers' pings and needs in a
// square of about 4 km, and returns every list it published.
func drive(m *Matcher, seed uint64) []byte {
	var out []byte
	m.Publish = func(l *List) {
		out = strconv.AppendUint(append(append(out, l.NeedID...), " v"...), uint64(l.Version), 10)
		for _, sg := range l.Suggestions {
			out = append(append(out, ' '), sg.HelperID...)
		}
		out = append(out, '\n')
	}
	r := rand.New(rand.NewPCG(seed, 5))
	ts := now
	for range 4_000 {
		ts += r.Int64N(2_000)
		lat, lng := 30.25+r.Float64()*0.04, 120.13+r.Float64()*0.04
		if r.IntN(10) > 0 {
			m.Helper(&HelperState{ID: "h" + strconv.Itoa(r.IntN(500)), PingMS: ts, Lat: lat, Lng: lng,
				Available: r.IntN(5) > 0, Skills: events.SkillSet(r.IntN(128)) &^ 1, Credit: 350 + r.IntN(600)}, ts)
			continue
		}
		m.Need(&events.Need{NeedID: "n" + strconv.Itoa(r.IntN(200)), UserID: "u" + strconv.Itoa(r.IntN(300)), TS: ts,
			Category: events.Categories[r.IntN(6)], Lat: lat, Lng: lng, RadiusM: float64(500 + r.IntN(3000)),
			ExpiresAt: ts + r.Int64N(1800_000) + 1, Status: events.Open})
	}
	return out
}
