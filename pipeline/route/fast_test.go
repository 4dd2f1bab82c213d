package route

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"everywhere/events"
	"everywhere/fixedjson/fixedjsontest"
	"everywhere/models/match"
)

// randomRecord encodes a random helper, need, outcome or watermark
// record, now and then with values the full parse must refuse or strings
// that need escapes, which the fast path leaves to it.
func randomRecord(r *rand.Rand) []byte {
	id := func() string {
		switch r.IntN(12) {
		case 0:
			return ""
		case 1:
			return strings.Repeat("x", 65)
		case 2:
			return `u"q\` + fmt.Sprint(r.IntN(100))
		case 3:
			return "用户" + fmt.Sprint(r.IntN(100))
		case 4:
			return "bad\xffutf8"
		}
		return fmt.Sprintf("u%d", r.IntN(1_000_000))
	}
	ts := func() int64 {
		if r.IntN(20) == 0 {
			return r.Int64N(1<<62) - 1<<61
		}
		return events.MinTS + r.Int64N(events.MaxTS-events.MinTS)
	}
	src, wm := r.IntN(70_000)-100, ts()
	switch r.IntN(4) {
	case 0:
		h := match.HelperState{ID: id(), PingMS: ts(), Lat: r.Float64()*200 - 100, Lng: r.Float64()*400 - 200,
			Available: r.IntN(2) == 0, Skills: events.SkillSet(r.IntN(256)), Credit: r.IntN(2000) - 500}
		if r.IntN(3) == 0 {
			h.AlertMS = ts()
		}
		if r.IntN(4) == 0 {
			h.Lat, h.Lng = float64(r.IntN(90)), -float64(r.IntN(180))
		}
		return AppendHelper(nil, src, wm, ts(), &h)
	case 1:
		o := events.Outcome{NeedID: id(), HelperID: id(), TS: ts(), Outcome: events.OutcomeKind(1 + r.IntN(4)), Rating: r.IntN(6)}
		if r.IntN(10) == 0 {
			o.Rating = 5 + r.IntN(3) // 6 and 7 are refused
		}
		return AppendOutcome(nil, src, wm, r.Int64N(1<<40)-10, &o)
	case 2:
		n := events.Need{NeedID: id(), UserID: id(), TS: ts(), Category: events.Category(r.IntN(7)),
			Lat: r.Float64()*200 - 100, Lng: r.Float64()*400 - 200, HasPlace: r.IntN(8) > 0, RadiusM: r.Float64()*25_000 - 1_000,
			Reward: r.Int64N(100_000), Currency: [...]string{"CNY", "CNY", "CNY", "USD"}[r.IntN(4)], ExpiresAt: ts(), Status: events.NeedStatus(1 + r.IntN(3))}
		if r.IntN(2) == 0 {
			n.ExpiresAt = n.TS + 1 + r.Int64N(3_600_000)
		}
		moves := 0
		if r.IntN(4) == 0 {
			moves = r.IntN(300) // above 255 is refused
		}
		return AppendNeed(nil, src, wm, moves, &n)
	default:
		return AppendWatermark(nil, src, wm, r.IntN(2) == 0)
	}
}

// recordAlphabet is what mutants of a record get (fixedjsontest.Mutate).
const recordAlphabet = `{}":,-.0123456789eE+tfnkhow\ x`

// agree checks one input: whatever the fast path accepts, the full parse
// accepts and reads the same. It reports whether the fast path accepted.
func agree(t *testing.T, b []byte) bool {
	t.Helper()
	var fast, full Record
	d, e := NewDecoder("CNY"), NewDecoder("CNY")
	if !d.decodeFast(b, &fast) {
		return false
	}
	if err := e.decodeFull(b, &full); err != nil {
		t.Fatalf("%s: the fast path accepted what the full parse refuses: %v", b, err)
	}
	same := fast.Kind == full.Kind && fast.Source == full.Source && fast.WM == full.WM && fast.TS == full.TS && fast.Idle == full.Idle
	switch fast.Kind {
	case KindHelper:
		same = same && fast.Helper == full.Helper
	case KindNeed:
		same = same && fast.Need == full.Need && fast.Moves == full.Moves
	case KindOutcome:
		same = same && fast.Offset == full.Offset && fast.Outcome == full.Outcome
	}
	if !same {
		t.Fatalf("%s:\nfast %+v\nfull %+v", b, fast, full)
	}
	return true
}

// TestFastDecodeAgreesWithFullParse: on records as the engine writes them,
// with values good and bad, and on those records mutated, every record
// the fast path accepts reads the same in the full parse; and the fast
// path does take the valid ones.
func TestFastDecodeAgreesWithFullParse(t *testing.T) {
	c := fixedjsontest.Compare(t, rand.New(rand.NewPCG(7, 11)), 20_000, fixedjsontest.Paths{
		Gen: randomRecord, Agree: agree, Alphabet: recordAlphabet,
		Valid: func(b []byte) bool { var rec Record; return NewDecoder("CNY").decodeFull(b, &rec) == nil }})
	if c.Valid < 5_000 || c.Taken < c.Valid*3/4 {
		t.Fatalf("%+v: the generator misses the cases", c)
	}
}

// FuzzFastDecode: for any bytes, the fast path accepts only what the full
// parse reads the same.
func FuzzFastDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		f.Add(randomRecord(r))
	}
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, b) })
}

// BenchmarkDecode is a regions partition's decoding of each kind of
// record the engine writes, field by field (the fast path, used) and by
// full JSON parse (what it falls back to).
func BenchmarkDecode(b *testing.B) {
	h := match.HelperState{ID: "u123456", PingMS: 1_764_000_000_123, Lat: 30.27412345, Lng: 120.15512345, Available: true, Skills: 5, Credit: 700}
	o := events.Outcome{NeedID: "n123456", HelperID: "u123456", TS: 1_764_000_000_000, Outcome: events.Completed, Rating: 4}
	n := events.Need{NeedID: "n123456", UserID: "u654321", TS: 1_764_000_000_000, Category: events.Errand, Lat: 30.2712345, Lng: 120.1612345,
		HasPlace: true, RadiusM: 3000, Reward: 2000, Currency: "CNY", ExpiresAt: 1_764_003_600_000, Status: events.Open}
	records := []struct {
		kind string
		b    []byte
	}{
		{"helper", AppendHelper(nil, 3, 1_764_000_000_000, 1_764_000_000_123, &h)},
		{"need", AppendNeed(nil, 3, 1_764_000_000_000, 0, &n)},
		{"outcome", AppendOutcome(nil, 3, 1_764_000_000_000, 42, &o)},
		{"watermark", AppendWatermark(nil, 3, 1_764_000_000_000, false)},
	}
	for _, rec := range records {
		for _, path := range []string{"fast", "full"} {
			b.Run(rec.kind+"/"+path, func(b *testing.B) {
				d := NewDecoder("CNY")
				decode := d.Decode
				if path == "full" {
					decode = d.decodeFull
				}
				var r Record
				b.ReportAllocs()
				for b.Loop() {
					if err := decode(rec.b, &r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
