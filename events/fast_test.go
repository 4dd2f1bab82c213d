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

// agree checks one input: whatever fast accepts, full accepts and reads
// the same. It reports whether fast accepted.
func agree[T comparable](t *testing.T, b []byte, fast func([]byte, *T) bool, full func([]byte, *T) error) bool {
	t.Helper()
	var f, g T
	if !fast(b, &f) {
		return false
	}
	if err := full(b, &g); err != nil {
		t.Fatalf("%s: the fast path accepted what the full parse refuses: %v", b, err)
	}
	if f != g {
		t.Fatalf("%s:\nfast %+v\nfull %+v", b, f, g)
	}
	return true
}

// agreePing is agree for a ping.
func agreePing(t *testing.T, b []byte) bool {
	t.Helper()
	return agree(t, b, pingFast, NewDecoder("CNY").pingFull)
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

// randomTransaction writes a random transaction as
// Transaction.AppendJSON does, now and then with values the full parse
// must refuse, an id that needs escapes, or without a counterparty or a
// place.
func randomTransaction(r *rand.Rand) []byte {
	t := Transaction{TxnID: fmt.Sprintf("t%d", r.IntN(1_000_000)), UserID: fmt.Sprintf("u%d", r.IntN(1_000_000)),
		TS: MinTS + r.Int64N(MaxTS-MinTS), Amount: 1 + r.Int64N(1_000_000), Currency: "CNY",
		Kind: TxnKind(1 + r.IntN(6)), CounterpartyID: fmt.Sprintf("m%d", r.IntN(1000)), CounterpartyKind: PartyKind(1 + r.IntN(2)),
		Lat: r.Float64()*180 - 90, Lng: r.Float64()*360 - 180, HasLocation: r.IntN(2) == 0}
	switch r.IntN(14) {
	case 0:
		t.TxnID = ""
	case 1:
		t.UserID = strings.Repeat("x", MaxIDBytes+1)
	case 2:
		t.CounterpartyID = `m"q\` + fmt.Sprint(r.IntN(100))
	case 3:
		t.TS = r.Int64N(1<<62) - 1<<61
	case 4:
		t.Amount = r.Int64N(1<<62) - 1<<61
	case 5:
		t.Currency = [...]string{"USD", "cny", "", "CNYX"}[r.IntN(4)]
	case 6:
		t.Kind = TxnKind(r.IntN(len(kindNames))) // KindNone writes ""
	case 7:
		t.CounterpartyID = "" // written without a counterparty
	case 8:
		t.Lat = r.Float64()*400 - 200
	case 9:
		t.Lng = r.Float64()*800 - 400
	case 10:
		t.CounterpartyKind = PartyNone // written as ""
	}
	return t.AppendJSON(nil)
}

// agreeTransaction is agree for a transaction.
func agreeTransaction(t *testing.T, b []byte) bool {
	t.Helper()
	d := NewDecoder("CNY")
	return agree(t, b, d.transactionFast, d.transactionFull)
}

// TestTransactionFastAgreesWithFullParse is TestPingFastAgreesWithFullParse
// for transactions.
func TestTransactionFastAgreesWithFullParse(t *testing.T) {
	c := fixedjsontest.Compare(t, rand.New(rand.NewPCG(5, 7)), 20_000, fixedjsontest.Paths{
		Gen: randomTransaction, Agree: agreeTransaction, Alphabet: transactionAlphabet,
		Valid: func(b []byte) bool { var tx Transaction; return NewDecoder("CNY").transactionFull(b, &tx) == nil }})
	if c.Valid < 5_000 || c.Taken < c.Valid/2 || c.Mutants == 0 {
		t.Fatalf("%+v: the generator misses the cases", c)
	}
}

// transactionAlphabet is what mutants of a transaction get.
const transactionAlphabet = `{}":,-.0123456789eE+CNYtfnlsu\ x`

// randomNeed writes a random need as Need.AppendJSON does: an opening
// or a status update, now and then with values the full parse must
// refuse, an id that needs escapes, or an opening without what it needs.
func randomNeed(r *rand.Rand) []byte {
	n := Need{NeedID: fmt.Sprintf("n%d", r.IntN(1_000_000)), UserID: fmt.Sprintf("u%d", r.IntN(1_000_000)),
		TS: MinTS + r.Int64N(MaxTS-MinTS-3_600_000), Category: Category(1 + r.IntN(6)),
		Lat: r.Float64()*180 - 90, Lng: r.Float64()*360 - 180, HasPlace: true, RadiusM: 1 + r.Float64()*19_999,
		Reward: r.Int64N(100_000), Currency: "CNY", Status: Open}
	n.ExpiresAt = n.TS + 1 + r.Int64N(3_600_000)
	if r.IntN(4) == 0 { // a status update
		n = Need{NeedID: n.NeedID, TS: n.TS, RadiusM: DefaultRadiusM, Currency: "CNY", Status: NeedStatus(2 + r.IntN(2))}
	}
	switch r.IntN(16) {
	case 0:
		n.NeedID = ""
	case 1:
		n.UserID = strings.Repeat("x", MaxIDBytes+1)
	case 2:
		n.UserID = `u"q\` + fmt.Sprint(r.IntN(100))
	case 3:
		n.TS = r.Int64N(1<<62) - 1<<61
	case 4:
		n.Lat = r.Float64()*400 - 200
	case 5:
		n.Lng = r.Float64()*800 - 400
	case 6:
		n.RadiusM = r.Float64()*60_000 - 20_000
	case 7:
		n.Reward = r.Int64N(1<<62) - 1<<61
	case 8:
		n.Currency = [...]string{"USD", "cny", "", "CNYX"}[r.IntN(4)]
	case 9:
		n.ExpiresAt = n.TS - r.Int64N(2) // not after ts
	case 10:
		n.Category = CategoryNone // an opening without one
	case 11:
		n.HasPlace = false
	case 12:
		n.UserID = ""
	case 13:
		n.ExpiresAt = 0
	case 14:
		n.Lat, n.Lng, n.RadiusM = float64(r.IntN(91)), -float64(r.IntN(181)), float64(1+r.IntN(20_000)) // whole numbers
	}
	return n.AppendJSON(nil)
}

// agreeNeed is agree for a need.
func agreeNeed(t *testing.T, b []byte) bool {
	t.Helper()
	d := NewDecoder("CNY")
	return agree(t, b, d.needFast, d.needFull)
}

// TestNeedFastAgreesWithFullParse is TestPingFastAgreesWithFullParse for
// needs.
func TestNeedFastAgreesWithFullParse(t *testing.T) {
	c := fixedjsontest.Compare(t, rand.New(rand.NewPCG(7, 9)), 20_000, fixedjsontest.Paths{
		Gen: randomNeed, Agree: agreeNeed, Alphabet: needAlphabet,
		Valid: func(b []byte) bool { var n Need; return NewDecoder("CNY").needFull(b, &n) == nil }})
	if c.Valid < 5_000 || c.Taken < c.Valid/2 || c.Mutants == 0 {
		t.Fatalf("%+v: the generator misses the cases", c)
	}
}

// needAlphabet is what mutants of a need get.
const needAlphabet = `{}":,-.0123456789eE+CNYopencldfuirtsx\ `

// randomOutcome writes a random outcome as Outcome.AppendJSON does, now
// and then with values the full parse must refuse or an id that needs
// escapes.
func randomOutcome(r *rand.Rand) []byte {
	o := Outcome{NeedID: fmt.Sprintf("n%d", r.IntN(1_000_000)), HelperID: fmt.Sprintf("u%d", r.IntN(1_000_000)),
		TS: MinTS + r.Int64N(MaxTS-MinTS), Outcome: OutcomeKind(1 + r.IntN(4)), Rating: r.IntN(6)}
	switch r.IntN(8) {
	case 0:
		o.NeedID = ""
	case 1:
		o.HelperID = `u"q\` + fmt.Sprint(r.IntN(100))
	case 2:
		o.TS = r.Int64N(1<<62) - 1<<61
	case 3:
		o.Outcome = OutcomeNone // written as ""
	case 4:
		o.Rating = 6 + r.IntN(3) - 9*r.IntN(2) // out of range either side
	}
	return o.AppendJSON(nil)
}

// agreeOutcome is agree for an outcome.
func agreeOutcome(t *testing.T, b []byte) bool {
	t.Helper()
	return agree(t, b, outcomeFast, NewDecoder("CNY").outcomeFull)
}

// TestOutcomeFastAgreesWithFullParse is TestPingFastAgreesWithFullParse
// for outcomes.
func TestOutcomeFastAgreesWithFullParse(t *testing.T) {
	c := fixedjsontest.Compare(t, rand.New(rand.NewPCG(9, 11)), 20_000, fixedjsontest.Paths{
		Gen: randomOutcome, Agree: agreeOutcome, Alphabet: outcomeAlphabet,
		Valid: func(b []byte) bool { var o Outcome; return NewDecoder("CNY").outcomeFull(b, &o) == nil }})
	if c.Valid < 5_000 || c.Taken < c.Valid/2 || c.Mutants == 0 {
		t.Fatalf("%+v: the generator misses the cases", c)
	}
}

// outcomeAlphabet is what mutants of an outcome get.
const outcomeAlphabet = `{}":,-0123456789acdeilmnoprstuw_\ `

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
