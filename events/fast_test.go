package events

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"everywhere/fixedjson/fixedjsontest"
)

// randomPing writes a random ping as Ping.AppendJSON does, now and then
// with values the full parse must refuse, an id that needs escapes (which
// the fast path leaves to it) or no accuracy.
func randomPing(r *rand.Rand) []byte {
	p := Ping{UserID: fmt.Sprintf("u%d", r.IntN(1_000_000)), TS: MinTS + r.Int64N(MaxTS-MinTS),
		Lat: r.Float64()*180 - 90, Lng: r.Float64()*360 - 180, AccuracyM: r.Float64() * 100, Available: r.IntN(2) == 0}
	switch r.IntN(12) {
	case 0:
		p.UserID = ""
	case 1:
		p.UserID = strings.Repeat("x", MaxIDBytes+1)
	case 2:
		p.UserID = `u"q\` + fmt.Sprint(r.IntN(100))
	case 3:
		p.UserID = "bad\xffutf8"
	case 4:
		p.TS = r.Int64N(1<<62) - 1<<61
	case 5:
		p.Lat = r.Float64()*400 - 200
	case 6:
		p.Lng = r.Float64()*800 - 400
	case 7:
		p.AccuracyM = r.Float64()*4e6 - 2e6
	case 8:
		p.AccuracyM = 0 // written without it
	case 9:
		p.Lat, p.Lng = float64(r.IntN(91)), -float64(r.IntN(181)) // whole numbers, edges included
	}
	return p.AppendJSON(nil)
}

// pingAlphabet is what mutants of a ping get (fixedjsontest.Mutate).
const pingAlphabet = `{}":,-.0123456789eE+tfnalsu\ x`

// agreePing checks one input: whatever the fast path accepts, the full
// parse accepts and reads the same. It reports whether the fast path
// accepted.
func agreePing(t *testing.T, b []byte) bool {
	t.Helper()
	var fast, full Ping
	if !pingFast(b, &fast) {
		return false
	}
	if err := NewDecoder("CNY").pingFull(b, &full); err != nil {
		t.Fatalf("%s: the fast path accepted what the full parse refuses: %v", b, err)
	}
	if fast != full {
		t.Fatalf("%s:\nfast %+v\nfull %+v", b, fast, full)
	}
	return true
}

// TestPingFastAgreesWithFullParse: on pings as AppendJSON writes them,
// with values good and bad, and on those pings mutated, every ping the
// fast path accepts reads the same in the full parse; and the fast path
// does take the valid ones without escapes.
func TestPingFastAgreesWithFullParse(t *testing.T) {
	c := fixedjsontest.Compare(t, rand.New(rand.NewPCG(3, 5)), 20_000, fixedjsontest.Paths{
		Gen: randomPing, Agree: agreePing, Alphabet: pingAlphabet,
		Valid: func(b []byte) bool { var p Ping; return NewDecoder("CNY").pingFull(b, &p) == nil }})
	if c.Valid < 5_000 || c.Taken < c.Valid/2 || c.Mutants == 0 {
		t.Fatalf("%+v: the generator misses the cases", c)
	}
}

// TestPingOtherLayoutsTakeTheFullParse: keys in another order, spaces,
// an unknown field or an explicit null read as the full parse reads them.
func TestPingOtherLayoutsTakeTheFullParse(t *testing.T) {
	want := Ping{UserID: "u42", TS: 1764000000123, Lat: 30.2741, Lng: 120.1551, AccuracyM: 12.5, Available: true}
	for _, s := range []string{
		`{"ts":1764000000123,"user_id":"u42","lat":30.2741,"lng":120.1551,"accuracy_m":12.5,"available":true}`,
		`{"user_id": "u42", "ts": 1764000000123, "lat": 30.2741, "lng": 120.1551, "accuracy_m": 12.5, "available": true}`,
		`{"user_id":"u42","ts":1764000000123,"lat":30.2741,"lng":120.1551,"accuracy_m":12.5,"available":true,"os":"ios"}`,
		`{"user_id":"u\u0034\u0032","ts":1764000000123,"lat":30.2741,"lng":120.1551,"accuracy_m":12.5,"available":true}`,
	} {
		var p Ping
		if pingFast([]byte(s), &p) {
			t.Errorf("%s: taken by the fast path", s)
		}
		if err := NewDecoder("CNY").Ping([]byte(s), &p); err != nil || p != want {
			t.Errorf("%s: read as %+v (%v)", s, p, err)
		}
	}
	var p Ping
	s := `{"user_id":"u42","ts":1764000000123,"lat":30.2741,"lng":120.1551,"accuracy_m":null,"available":false}`
	if err := NewDecoder("CNY").Ping([]byte(s), &p); err != nil || p.AccuracyM != 0 || p.UserID != "u42" {
		t.Errorf("%s: read as %+v (%v)", s, p, err)
	}
}
