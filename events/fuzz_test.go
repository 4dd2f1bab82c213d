package events

import (
	"testing"
)

// FuzzDecode states two invariants of every decoder: it never panics, and
// acceptance is consistent: whatever it accepts, written back with AppendJSON,
// is accepted again and decodes to the same event.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"user_id":"u42","ts":1764000000123,"lat":30.2741,"lng":120.1551,"accuracy_m":12.5,"available":true}`,
		`{"user_id":"u42","ts":1764000000000,"registered_at":1700000000000,"skills":["errand","repair"],"credit_score":712}`,
		`{"txn_id":"t9","user_id":"u42","ts":1764000000500,"amount":128800,"currency":"CNY","kind":"purchase","counterparty_id":"m17","counterparty_kind":"merchant","lat":30.27,"lng":120.15}`,
		`{"need_id":"n7","user_id":"u9","ts":1764000001000,"category":"errand","lat":30.27,"lng":120.16,"radius_m":3000,"reward":2000,"currency":"CNY","expires_at":1764003601000,"status":"open"}`,
		`{"need_id":"n7","helper_id":"u42","ts":1764000090000,"outcome":"completed","rating":5}`,
		`{"need_id":"n7","ts":1764000090000,"status":"cancelled"}`,
		`{}`, `null`, `[`, `{"ts":1e400}`, "{\"user_id\":\"\xff\"}",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	d := NewDecoder("CNY")
	again := NewDecoder("CNY")
	f.Fuzz(func(t *testing.T, b []byte) {
		var p, p2 Ping
		agreePing(t, b)
		if d.Ping(b, &p) == nil {
			if err := again.Ping(p.AppendJSON(nil), &p2); err != nil || p2 != p {
				t.Fatalf("ping %q accepted as %+v, re-read as %+v (%v)", b, p, p2, err)
			}
		}
		var pr, pr2 Profile
		if d.Profile(b, &pr) == nil {
			if err := again.Profile(pr.AppendJSON(nil), &pr2); err != nil || pr2 != pr {
				t.Fatalf("profile %q accepted as %+v, re-read as %+v (%v)", b, pr, pr2, err)
			}
		}
		var tx, tx2 Transaction
		agreeTransaction(t, b)
		if d.Transaction(b, &tx) == nil {
			if err := again.Transaction(tx.AppendJSON(nil), &tx2); err != nil || tx2 != tx {
				t.Fatalf("transaction %q accepted as %+v, re-read as %+v (%v)", b, tx, tx2, err)
			}
		}
		var n, n2 Need
		agreeNeed(t, b)
		if d.Need(b, &n) == nil {
			if err := again.Need(n.AppendJSON(nil), &n2); err != nil || n2 != n {
				t.Fatalf("need %q accepted as %+v, re-read as %+v (%v)", b, n, n2, err)
			}
		}
		var o, o2 Outcome
		agreeOutcome(t, b)
		if d.Outcome(b, &o) == nil {
			if err := again.Outcome(o.AppendJSON(nil), &o2); err != nil || o2 != o {
				t.Fatalf("outcome %q accepted as %+v, re-read as %+v (%v)", b, o, o2, err)
			}
		}
	})
}
