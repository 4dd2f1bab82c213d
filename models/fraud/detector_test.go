package fraud

import (
	"fmt"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"everywhere/events"
)

func rules(t testing.TB) *Rules {
	r := &Rules{Lateness: 10 * time.Minute, IdleEvict: 72 * time.Hour, Version: "test"}
	r.AmountSpike.MinAmount, r.AmountSpike.Ratio, r.AmountSpike.PriorP90, r.AmountSpike.PriorCount, r.AmountSpike.MinHistory = 200_000, 8, 20_000, 3, 3
	r.Velocity.Window, r.Velocity.MaxCount, r.Velocity.TotalWindow, r.Velocity.MaxTotal = 10*time.Minute, 10, time.Hour, 5_000_000
	r.ImpossibleTravel.MaxSpeedKmh, r.ImpossibleTravel.MinDistanceKm = 900, 100
	r.Structuring.Threshold, r.Structuring.Band, r.Structuring.Window, r.Structuring.MinCount = 500_000, 0.1, 24*time.Hour, 3
	r.NewAccountBurst.AccountAge, r.NewAccountBurst.MaxTotal = 24*time.Hour, 500_000
	r.RoundTrip.Window, r.RoundTrip.MinAmount, r.RoundTrip.MaxHops, r.RoundTrip.Tolerance = 24*time.Hour, 100_000, 4, 0.2
	r.WashRefund.MinAmount, r.WashRefund.Window, r.WashRefund.Lookback, r.WashRefund.MinCount = 200_000, 2*time.Hour, 168*time.Hour, 2
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

const t0 = int64(1_764_000_000_000)

type stream struct {
	t   *testing.T
	rp  *Replayer
	n   int
	out []Alert
}

func newStream(t *testing.T) *stream { return &stream{t: t, rp: NewReplayer(rules(t))} }

func (s *stream) pay(user string, at int64, kind events.TxnKind, amount int64, cp string) {
	s.n++
	tx := events.Transaction{TxnID: "t" + strconv.Itoa(s.n), UserID: user, TS: at, Amount: amount, Currency: "CNY", Kind: kind, CounterpartyID: cp}
	if cp != "" {
		tx.CounterpartyKind = events.Merchant
		if kind == events.Transfer || kind == events.Reward {
			tx.CounterpartyKind = events.User
		}
	}
	s.out = s.rp.Transaction(&tx, s.out)
}

func (s *stream) payAt(user string, at int64, amount int64, lat, lng float64) {
	s.n++
	tx := events.Transaction{TxnID: "t" + strconv.Itoa(s.n), UserID: user, TS: at, Amount: amount, Currency: "CNY", Kind: events.Purchase,
		CounterpartyID: "m1", CounterpartyKind: events.Merchant, Lat: lat, Lng: lng, HasLocation: true}
	s.out = s.rp.Transaction(&tx, s.out)
}

// fired returns the alerts of rule at or above min severity.
func (s *stream) fired(rule string, min Severity) []Alert {
	var out []Alert
	for _, a := range s.out {
		if a.Rule == rule && a.Severity >= min {
			out = append(out, a)
		}
	}
	return out
}

const minute = int64(60_000)

func TestAmountSpikeIsPersonal(t *testing.T) {
	s := newStream(t)
	for i := range 6 {
		s.pay("small", t0+int64(i)*minute*60, events.Purchase, 4_000+int64(i)*100, "m1")
		s.pay("rich", t0+int64(i)*minute*60, events.Purchase, 400_000+int64(i)*50_000, "m1")
	}
	s.pay("rich", t0+7*60*minute, events.Purchase, 900_000, "m1")
	// Only the very first purchase, with no history at all, is worth a look.
	if a := s.fired(RuleAmountSpike, Low); len(a) != 1 || a[0].Severity != Low || a[0].TxnIDs[0] != "t2" {
		t.Fatalf("a rich user spending as usual was flagged: %+v", a)
	}
	s.out = nil
	s.pay("small", t0+7*60*minute, events.Purchase, 300_000, "m2")
	a := s.fired(RuleAmountSpike, Medium)
	if len(a) != 1 || a[0].UserID != "small" {
		t.Fatalf("spike of a small spender: %+v", s.out)
	}
	if string(a[0].AppendEvidence(nil)) == "{}" {
		t.Fatal("no evidence")
	}
}

func TestAmountSpikeOnThinHistoryIsLow(t *testing.T) {
	s := newStream(t)
	s.pay("new", t0, events.Purchase, 900_000, "m1")
	if a := s.fired(RuleAmountSpike, Low); len(a) != 1 || a[0].Severity != Low {
		t.Fatalf("first purchase ever: %+v", a)
	}
	// With two purchases of history, fewer than min_history (3), a spike
	// far past the threshold is at most medium.
	two := newStream(t)
	two.pay("thin", t0, events.Purchase, 3_000, "m1")
	two.pay("thin", t0+minute*60, events.Purchase, 3_000, "m1")
	two.pay("thin", t0+minute*120, events.Purchase, 5_000_000, "m2")
	if a := two.fired(RuleAmountSpike, Low); len(a) != 1 || a[0].Severity != Medium || a[0].TxnIDs[0] != "t3" {
		t.Fatalf("a spike after two purchases: %+v", a)
	}
}

func TestVelocityCrossesOnce(t *testing.T) {
	s := newStream(t)
	for i := range 25 {
		s.pay("v", t0+int64(i)*10_000, events.Purchase, 2_000, "m1")
	}
	if a := s.fired(RuleVelocity, Medium); len(a) != 1 {
		t.Fatalf("velocity alerts %d, want one at the crossing", len(a))
	}
	slow := newStream(t)
	for i := range 25 {
		slow.pay("v", t0+int64(i)*2*minute, events.Purchase, 2_000, "m1")
	}
	if a := slow.fired(RuleVelocity, Low); len(a) != 0 {
		t.Fatalf("25 payments two minutes apart flagged: %+v", a)
	}
}

// TestVelocityTotalCrossesOnce: payments whose sum within total_window
// passes max_total raise one velocity alert, at the payment that crosses
// it, with the total as evidence; the same payments spread so that no
// total_window holds enough of them raise none.
func TestVelocityTotalCrossesOnce(t *testing.T) {
	s := newStream(t)
	for i := range 4 { // 2, 4, 6 and 8 million minor units within the hour
		s.pay("big", t0+int64(i)*15*minute, events.Purchase, 2_000_000, "m1")
	}
	a := s.fired(RuleVelocity, Low)
	if len(a) != 1 || a[0].TxnIDs[0] != "t3" {
		t.Fatalf("velocity alerts %+v, want one, at the third payment", a)
	}
	if ev := string(a[0].AppendEvidence(nil)); !contains(ev, `"total":6000000`) || !contains(ev, `"max_total":5000000`) {
		t.Fatalf("evidence %s", ev)
	}
	spread := newStream(t)
	for i := range 4 { // never more than two within an hour
		spread.pay("big", t0+int64(i)*35*minute, events.Purchase, 2_000_000, "m1")
	}
	if a := spread.fired(RuleVelocity, Low); len(a) != 0 {
		t.Fatalf("payments 35 minutes apart flagged: %+v", a)
	}
}

func TestImpossibleTravelButNotAFlight(t *testing.T) {
	s := newStream(t)
	s.rp.D.Ping(&events.Ping{UserID: "x", TS: t0, Lat: 30.27, Lng: 120.15})
	s.payAt("x", t0+15*minute, 3_000, 39.90, 116.40) // Beijing, 15 minutes later
	if a := s.fired(RuleImpossibleTravel, Medium); len(a) != 1 {
		t.Fatalf("Hangzhou to Beijing in 15 min: %+v", s.out)
	}
	f := newStream(t)
	f.rp.D.Ping(&events.Ping{UserID: "y", TS: t0, Lat: 30.27, Lng: 120.15})
	f.payAt("y", t0+170*minute, 3_000, 39.90, 116.40) // a flight
	f.payAt("y", t0+171*minute, 3_000, 30.27, 120.16) // never mind a jump across town
	if a := f.fired(RuleImpossibleTravel, Low); len(a) != 1 || a[0].TxnIDs[0] != "t2" {
		t.Fatalf("flight then jump: %+v", f.out)
	}
	g := newStream(t)
	g.rp.D.Ping(&events.Ping{UserID: "z", TS: t0, Lat: 30.27, Lng: 120.15})
	g.payAt("z", t0+2*minute, 3_000, 30.30, 120.30) // 15 km across the city
	if len(g.out) != 0 {
		t.Fatalf("a move across town: %+v", g.out)
	}
}

func TestStructuring(t *testing.T) {
	s := newStream(t)
	s.pay("one", t0, events.Transfer, 499_000, "f")
	if len(s.out) != 0 {
		t.Fatalf("one transfer below the threshold: %+v", s.out)
	}
	for i := range 4 {
		s.pay("many", t0+int64(i)*30*minute, events.Transfer, 490_000, "mule")
	}
	if a := s.fired(RuleStructuring, Medium); len(a) != 2 {
		t.Fatalf("4 transfers below the threshold: %d alerts, want 2 (3rd and 4th)", len(a))
	}
}

func TestNewAccountBurst(t *testing.T) {
	s := newStream(t)
	s.out = s.rp.D.Profile(&events.Profile{UserID: "n", TS: t0, RegisteredAt: t0}, s.out)
	s.out = s.rp.D.Profile(&events.Profile{UserID: "old", TS: t0, RegisteredAt: t0 - 400*24*60*minute}, s.out)
	for i := range 4 {
		s.pay("n", t0+int64(i+1)*30*minute, events.Purchase, 200_000, "m1")
		s.pay("old", t0+int64(i+1)*30*minute, events.Purchase, 200_000, "m1")
	}
	a := s.fired(RuleNewAccountBurst, Medium)
	if len(a) != 1 || a[0].UserID != "n" {
		t.Fatalf("new account spending 8,000.00 in 2 h: %+v", a)
	}

	// The profile read after the payments it explains.
	late := newStream(t)
	for i := range 4 {
		late.pay("n", t0+int64(i+1)*30*minute, events.Purchase, 200_000, "m1")
	}
	late.out = late.rp.D.Profile(&events.Profile{UserID: "n", TS: t0, RegisteredAt: t0}, late.out)
	if a := late.fired(RuleNewAccountBurst, Medium); len(a) != 1 {
		t.Fatalf("profile after the burst: %+v", late.out)
	}
}

func TestWashRefund(t *testing.T) {
	s := newStream(t)
	s.pay("honest", t0, events.Purchase, 300_000, "m1")
	s.pay("honest", t0+20*minute, events.Refund, 300_000, "m1")
	if a := s.fired(RuleWashRefund, Low); len(a) != 0 {
		t.Fatalf("one refund: %+v", a)
	}
	for i := range 3 {
		at := t0 + int64(i)*90*minute
		s.pay("wash", at, events.Purchase, 800_000, "m"+strconv.Itoa(i))
		s.pay("wash", at+15*minute, events.Refund, 800_000, "m"+strconv.Itoa(i))
	}
	if a := s.fired(RuleWashRefund, Medium); len(a) != 2 || len(a[0].TxnIDs) != 2 {
		t.Fatalf("three washes: %+v", a)
	}
}

func TestRoundTripNeedsThreeAndAnyOrder(t *testing.T) {
	s := newStream(t)
	s.pay("a", t0, events.Transfer, 300_000, "b")
	s.pay("b", t0+30*minute, events.Transfer, 300_000, "a")
	if a := s.fired(RoundTrip(), Low); len(a) != 0 {
		t.Fatalf("friends paying back: %+v", a)
	}
	s.pay("a", t0+60*minute, events.Transfer, 500_000, "b")
	s.pay("b", t0+90*minute, events.Transfer, 490_000, "c")
	s.pay("c", t0+120*minute, events.Transfer, 480_000, "a")
	a := s.fired(RoundTrip(), Medium)
	if len(a) != 3 {
		t.Fatalf("ring a>b>c>a: %d alerts, want one per member: %+v", len(a), s.out)
	}

	// The same ring, but each detector sees the paths only after every
	// transfer (as when a replay reads the transactions topic faster than
	// the path topic): the ring must still close, with the same alerts.
	d := New(rules(t))
	var paths []Path
	d.EmitPath = func(p *Path) { paths = append(paths, *p) }
	var out []Alert
	for i, tr := range []struct {
		from, to string
		amount   int64
	}{{"a", "b", 500_000}, {"b", "c", 490_000}, {"c", "a", 480_000}} {
		tx := events.Transaction{TxnID: "t" + strconv.Itoa(i+3), UserID: tr.from, TS: t0 + int64(i+2)*30*minute, Amount: tr.amount,
			Currency: "CNY", Kind: events.Transfer, CounterpartyID: tr.to, CounterpartyKind: events.User}
		out = d.Transaction(&tx, out)
	}
	for len(paths) > 0 {
		p := paths[0]
		paths = paths[1:]
		out = d.Path(&p, out)
	}
	if len(out) != 3 || out[0].ID != a[0].ID && out[0].ID != a[1].ID && out[0].ID != a[2].ID {
		t.Fatalf("late paths: %+v", out)
	}
}

func RoundTrip() string { return RuleRoundTrip }

func TestAlertIDsAreDeterministic(t *testing.T) {
	run := func() []string {
		s := newStream(t)
		for i := range 12 {
			s.pay("v", t0+int64(i)*5_000, events.Purchase, 2_000, "m1")
		}
		var ids []string
		for _, a := range s.out {
			ids = append(ids, a.ID, string(a.AppendJSON(nil)))
		}
		return ids
	}
	a, b := run(), run()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("run differs: %s vs %s", a[i], b[i])
		}
	}
}

func TestLateEventsAreCountedNotScored(t *testing.T) {
	s := newStream(t)
	s.pay("u", t0+60*minute, events.Purchase, 1_000, "m1")
	s.pay("u", t0, events.Purchase, 900_000, "m1") // an hour late
	if s.rp.D.Late() != 1 || len(s.out) != 0 {
		t.Fatalf("late %d, alerts %+v", s.rp.D.Late(), s.out)
	}
	s.pay("u", t0+55*minute, events.Purchase, 1_000, "m1") // within lateness
	if s.rp.D.Late() != 1 {
		t.Fatal("an event within the lateness was counted late")
	}
}

// TestRepeatsAreCountedNotScored sends every transaction twice, as a
// producer retrying each write would: the repeats raise nothing, where
// scored twice the same payments would cross the velocity limit.
func TestRepeatsAreCountedNotScored(t *testing.T) {
	r := rules(t)
	d := New(r)
	var out []Alert
	for i := range r.Velocity.MaxCount {
		tx := events.Transaction{TxnID: "p" + strconv.Itoa(i), UserID: "u", TS: t0 + int64(i)*10_000, Amount: 2_000,
			Currency: "CNY", Kind: events.Purchase, CounterpartyID: "m1", CounterpartyKind: events.Merchant}
		out = d.Transaction(&tx, out)
		out = d.Transaction(&tx, out)
	}
	if len(out) != 0 || d.Repeated() != r.Velocity.MaxCount {
		t.Fatalf("%d payments sent twice: alerts %+v, repeats %d", r.Velocity.MaxCount, out, d.Repeated())
	}
	// A new id is scored, and with it the limit is crossed.
	tx := events.Transaction{TxnID: "new", UserID: "u", TS: t0 + 600_000 - 1, Amount: 2_000,
		Currency: "CNY", Kind: events.Purchase, CounterpartyID: "m1", CounterpartyKind: events.Merchant}
	if out = d.Transaction(&tx, out); len(out) != 1 || out[0].Rule != RuleVelocity {
		t.Fatalf("the payment over the limit gave %+v", out)
	}
	// The same id for another user is that user's own transaction.
	tx.UserID = "v"
	if d.Transaction(&tx, nil); d.Repeated() != r.Velocity.MaxCount {
		t.Fatalf("another user's transaction counted as a repeat")
	}
}

func TestIdleUsersAreEvicted(t *testing.T) {
	d := New(rules(t))
	d.Ping(&events.Ping{UserID: "a", TS: t0})
	d.Transaction(&events.Transaction{TxnID: "t1", UserID: "a", TS: t0, Amount: 100, Kind: events.Purchase}, nil)
	d.Ping(&events.Ping{UserID: "b", TS: t0 + 100*60*minute})
	if n := d.Evict(t0 + 100*60*minute); n != 1 || d.Users() != 1 || d.pays.Len() != 0 {
		t.Fatalf("evicted %d, left %d users and %d payer states", n, d.Users(), d.pays.Len())
	}
	// A new user takes the number given up, with a record of its own.
	d.Ping(&events.Ping{UserID: "c", TS: t0 + 101*60*minute, Lat: 30.2, Lng: 120.1})
	c, _ := d.ids.Find("c")
	b, _ := d.ids.Find("b")
	if _, ok := d.ids.Find("a"); ok || c != 0 || d.users.At(c).pay != 0 || d.users.At(c).lastMS != t0+101*60*minute ||
		d.users.At(b).lastMS != t0+100*60*minute {
		t.Fatalf("after eviction: c numbered %d with %+v, b with %+v", c, *d.users.At(c), *d.users.At(b))
	}
}

// TestNumbersKeptElsewhereOutliveEviction: a user whose number another
// keeper of records holds (SetOther) keeps it through eviction, and comes
// back with the state of a user evicted and seen afresh; a user numbered
// for another keeper has no state until seen, and a number no keeper took
// is given up.
func TestNumbersKeptElsewhereOutliveEviction(t *testing.T) {
	d, plain := New(rules(t)), New(rules(t))
	for _, x := range []*Detector{d, plain} {
		x.Profile(&events.Profile{UserID: "a", TS: t0, RegisteredAt: t0 - minute}, nil)
		x.Ping(&events.Ping{UserID: "a", TS: t0, Lat: 30.2, Lng: 120.1})
		x.Transaction(&events.Transaction{TxnID: "t1", UserID: "a", TS: t0, Amount: 100, Kind: events.Purchase}, nil)
	}
	a := d.Number("a")
	d.SetOther(a, 7)
	k := d.Number("k")
	d.SetOther(k, 8)
	z := d.Number("z")
	if d.Users() != 1 || d.Other(a) != 7 || d.Other(z) != 0 {
		t.Fatalf("%d users with state, a keeps %d, z %d; want 1, 7, 0", d.Users(), d.Other(a), d.Other(z))
	}
	later := t0 + 100*60*minute
	if n := d.Evict(later); n != 1 || d.Users() != 0 || d.pays.Len() != 0 {
		t.Fatalf("evicted %d, left %d users and %d payer states; want 1, 0, 0", n, d.Users(), d.pays.Len())
	}
	plain.Evict(later)
	if d.Number("a") != a || d.Other(a) != 7 || d.Number("k") != k || d.Other(k) != 8 {
		t.Fatal("a number kept elsewhere was given up")
	}
	if _, ok := d.ids.Find("z"); ok {
		t.Fatal("a number no keeper took was kept")
	}
	if c := d.Ping(&events.Ping{UserID: "c", TS: later}); c == a || c == k {
		t.Fatalf("a new user took kept number %d", c)
	}
	for _, x := range []*Detector{d, plain} {
		x.Ping(&events.Ping{UserID: "a", TS: later, Lat: 30.3, Lng: 120.2})
	}
	pa, _ := plain.ids.Find("a")
	got, want := *d.users.At(a), *plain.users.At(pa)
	want.other = 7
	if got != want {
		t.Fatalf("back after eviction: %+v, want %+v", got, want)
	}
	if d.Users() != 2 {
		t.Fatalf("%d users with state, want 2 (a and c)", d.Users())
	}
}

// A user back after idle_evict starts afresh, as if evicted: the payer
// state of before is given back, and the next payment starts a new one.
func TestIdleReturnStartsAfresh(t *testing.T) {
	d := New(rules(t))
	for i := range 3 {
		d.Transaction(&events.Transaction{TxnID: "t" + strconv.Itoa(i), UserID: "a", TS: t0 + int64(i)*minute, Amount: 900_000, Kind: events.Purchase}, nil)
	}
	later := t0 + 100*60*minute
	d.Ping(&events.Ping{UserID: "a", TS: later})
	if d.pays.Len() != 0 {
		t.Fatalf("%d payer states after an idle return by ping, want 0", d.pays.Len())
	}
	d.Transaction(&events.Transaction{TxnID: "t9", UserID: "a", TS: later, Amount: 100, Kind: events.Purchase}, nil)
	a, _ := d.ids.Find("a")
	pa := d.pays.At(d.users.At(a).pay)
	if _, n := pa.p90(); n != 1 || pa.nRing != 1 {
		t.Fatalf("after the return: %d purchases in the baseline and %d in the velocity ring, want 1 and 1", n, pa.nRing)
	}
}

// TestUserStateSize keeps the per-user state within the 1 KiB budget:
// the struct, its map entry and its id, and the payer state of a user
// who pays. A user seen only through pings keeps no payer state.
func TestUserStateSize(t *testing.T) {
	const mapEntry = 8 + 16 + 16 // pointer, string header, id bytes, roughly
	if size := unsafe.Sizeof(user{}) + unsafe.Sizeof(payer{}) + mapEntry; size > 1024 {
		t.Fatalf("user state is %d bytes", size)
	}
	d := New(rules(t))
	d.Ping(&events.Ping{UserID: "walker", TS: t0})
	d.Transaction(&events.Transaction{TxnID: "t1", UserID: "payer", TS: t0, Amount: 100, Kind: events.Purchase}, nil)
	if d.Users() != 2 || d.pays.Len() != 1 {
		t.Fatalf("%d users, %d with payer state; want 2 and 1", d.Users(), d.pays.Len())
	}
	t.Logf("user state: %d bytes, %d more for a payer, about %d for the map entry", unsafe.Sizeof(user{}), unsafe.Sizeof(payer{}), mapEntry)
}

func TestRulesValidationNamesTheKey(t *testing.T) {
	r := rules(t)
	r.Velocity.MaxCount = 0
	r.Structuring.Band = 1.5
	err := r.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"fraud.rules.velocity.max_count", "fraud.rules.structuring.band", "allowed"} {
		if !contains(err.Error(), want) {
			t.Fatalf("%q lacks %q", err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestPreloadGivesPingsNumbers: Preload answers with the number Ping
// gives a user it knows, -1 for one it does not, and changes nothing.
func TestPreloadGivesPingsNumbers(t *testing.T) {
	d := New(rules(t))
	nums := map[string]int32{}
	for i := range 2000 {
		id := fmt.Sprint("user-", i)
		nums[id] = d.Ping(&events.Ping{UserID: id, TS: int64(1_700_000_000_000 + i)})
	}
	ids := []string{"user-5", "stranger", "user-1999", "user-5"}
	for i := range 500 {
		ids = append(ids, fmt.Sprint("user-", i*3))
	}
	got := d.Preload(ids)
	if len(got) != len(ids) {
		t.Fatalf("%d numbers for %d ids", len(got), len(ids))
	}
	found := 0
	for i, id := range ids {
		want, known := nums[id]
		switch {
		case got[i] == -1:
		case !known || got[i] != want:
			t.Fatalf("%s preloaded as %d; Ping numbered it %d (known %v)", id, got[i], want, known)
		default:
			found++
		}
	}
	if found < len(ids)/2 || d.Users() != 2000 {
		t.Fatalf("%d of %d ids found; %d users", found, len(ids), d.Users())
	}
}
