package route

import (
	"fmt"
	"testing"

	"everywhere/events"
)

const needT0 = int64(1_764_000_000_000)

// routedNeed is a need record as a partition received it: what the
// tests below compare.
type routedNeed struct {
	id     string
	ts     int64
	status events.NeedStatus
	lat    float64
	moves  int
}

// needsIn returns the need records partition p was handed, in order.
func needsIn(c *captured, p int) []routedNeed {
	var out []routedNeed
	for _, r := range c.recs[p] {
		if r.Kind == KindNeed {
			out = append(out, routedNeed{r.Need.NeedID, r.Need.TS, r.Need.Status, r.Need.Lat, r.Moves})
		}
	}
	return out
}

// twoRegions returns a place in Hangzhou and one in another region whose
// partition differs, among a few cities far apart.
func twoRegions(t *testing.T, reg *Regions) (a, b [2]float64) {
	a = [2]float64{30.2741, 120.1551}
	_, pa := reg.Of(a[0], a[1])
	for _, c := range [][2]float64{{39.9042, 116.4074}, {31.2304, 121.4737}, {22.5431, 114.0579}, {23.1291, 113.2644}, {34.3416, 108.9398}} {
		if _, pc := reg.Of(c[0], c[1]); pc != pa {
			return a, c
		}
	}
	t.Fatal("every city's region falls in Hangzhou's partition")
	return a, b
}

// statusUpdate is a need's status update as the needs topic carries it:
// no place, decoded as the router gets it (the radius and currency the
// contract's defaults).
func statusUpdate(t *testing.T, id string, ts int64, status events.NeedStatus) events.Need {
	var n events.Need
	if err := events.NewDecoder("CNY").Need(fmt.Appendf(nil, `{"need_id":%q,"ts":%d,"status":%q}`, id, ts, status), &n); err != nil {
		t.Fatal(err)
	}
	n.NeedID = id // decoded strings are views
	return n
}

func openNeed(id string, ts int64, at [2]float64, expiresAt int64) events.Need {
	return events.Need{NeedID: id, UserID: "requester", TS: ts, Category: events.Errand, Lat: at[0], Lng: at[1], HasPlace: true,
		RadiusM: 3000, Reward: 1000, Currency: "CNY", ExpiresAt: expiresAt, Status: events.Open}
}

// TestNeedsFollowTheirRegion: a need goes to its region's partition only;
// a status update, which carries no place, follows it there; a need
// moved to another region's partition is cancelled in the old one, at
// the move's time, by a record the region accepts, and opened in the new
// one with the moves counted, and so again when it moves back; an update
// of a need the router never saw open (it opened before a restart) goes
// to every partition.
func TestNeedsFollowTheirRegion(t *testing.T) {
	const parts = 8
	r := newTestRouter(t, parts)
	n, tk, c := r.n, r.tk, r.c
	here, there := twoRegions(t, r.reg)
	_, pa := r.reg.Of(here[0], here[1])
	_, pb := r.reg.Of(there[0], there[1])

	opened := openNeed("n1", needT0, here, needT0+3_600_000)
	n.Need(&opened, tk)
	moved := openNeed("n1", needT0+1000, there, needT0+3_600_000)
	n.Need(&moved, tk)
	back := openNeed("n1", needT0+1500, here, needT0+3_600_000)
	n.Need(&back, tk)
	done := statusUpdate(t, "n1", needT0+2000, events.Fulfilled)
	n.Need(&done, tk)
	unknown := statusUpdate(t, "n2", needT0+3000, events.Cancelled)
	n.Need(&unknown, tk)
	r.end()

	want := map[int][]routedNeed{
		pa: {{"n1", needT0, events.Open, here[0], 0}, {"n1", needT0 + 1000, events.Cancelled, 0, 0},
			{"n1", needT0 + 1500, events.Open, here[0], 2}, {"n1", needT0 + 2000, events.Fulfilled, 0, 2}, {"n2", needT0 + 3000, events.Cancelled, 0, 0}},
		pb: {{"n1", needT0 + 1000, events.Open, there[0], 1}, {"n1", needT0 + 1500, events.Cancelled, 0, 1}, {"n2", needT0 + 3000, events.Cancelled, 0, 0}},
	}
	for p := range parts {
		w, ok := want[p]
		if !ok {
			w = []routedNeed{{"n2", needT0 + 3000, events.Cancelled, 0, 0}}
		}
		if got := needsIn(c, p); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("partition %d got %v, want %v", p, got, w)
		}
	}
	if n.Open() != 0 {
		t.Errorf("the router tracks %d needs after the only one it saw open was fulfilled", n.Open())
	}
}

// TestNeedsForgetExpired: every 4,096 needs the router lets go of those
// that expired before its watermark, which their regions closed by
// themselves, so that what it keeps follows the needs open now: a late
// update of a forgotten need then goes to every partition, while one of
// a need still open follows it to its own.
func TestNeedsForgetExpired(t *testing.T) {
	const parts = 4
	r := newTestRouter(t, parts)
	n, tk, c := r.n, r.tk, r.c
	here := [2]float64{30.2741, 120.1551}
	_, home := r.reg.Of(here[0], here[1])

	short := openNeed("short", needT0, here, needT0+60_000)
	n.Need(&short, tk)
	for i := 1; i < 4095; i++ {
		ev := openNeed(fmt.Sprintf("long%d", i), needT0+int64(i), here, needT0+3_600_000)
		n.Need(&ev, tk)
	}
	if n.Open() != 4095 {
		t.Fatalf("the router tracks %d needs, want 4095 before the sweep", n.Open())
	}
	// The 4,096th need moves the watermark past the first one's expiry
	// and sweeps.
	last := openNeed("last", needT0+120_000, here, needT0+3_600_000)
	n.Need(&last, tk)
	if n.Open() != 4095 {
		t.Fatalf("the router tracks %d needs after the sweep, want 4095 (the expired one gone, the last one added)", n.Open())
	}
	lateShort := statusUpdate(t, "short", needT0+130_000, events.Cancelled)
	n.Need(&lateShort, tk)
	lateLong := statusUpdate(t, "long7", needT0+131_000, events.Cancelled)
	n.Need(&lateLong, tk)
	r.end()

	for p := range parts {
		got := needsIn(c, p)
		var updates []routedNeed
		for _, r := range got {
			if r.status != events.Open {
				updates = append(updates, r)
			}
		}
		want := []routedNeed{{"short", needT0 + 130_000, events.Cancelled, 0, 0}}
		if p == home {
			want = append(want, routedNeed{"long7", needT0 + 131_000, events.Cancelled, 0, 0})
			if len(got)-len(updates) != 4096 {
				t.Errorf("the home partition got %d openings, want 4096", len(got)-len(updates))
			}
		}
		if fmt.Sprint(updates) != fmt.Sprint(want) {
			t.Errorf("partition %d got updates %v, want %v", p, updates, want)
		}
	}
}
