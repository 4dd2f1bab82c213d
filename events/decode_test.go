package events

import (
	"strings"
	"testing"
)

func TestDecodeAcceptsContractExamples(t *testing.T) {
	d := NewDecoder("CNY")
	var p Ping
	if err := d.Ping([]byte(`{"user_id":"u42","ts":1764000000123,"lat":30.2741,"lng":120.1551,"accuracy_m":12.5,"available":true}`), &p); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if p.UserID != "u42" || p.TS != 1764000000123 || p.Lat != 30.2741 || p.Lng != 120.1551 || !p.Available || p.AccuracyM != 12.5 {
		t.Fatalf("ping decoded as %+v", p)
	}
	var pr Profile
	if err := d.Profile([]byte(`{"user_id":"u42","ts":1764000000000,"registered_at":1700000000000,"skills":["errand","repair","juggling"],"credit_score":712}`), &pr); err != nil {
		t.Fatalf("profile: %v", err)
	}
	if !pr.Skills.Has(Errand) || !pr.Skills.Has(Repair) || pr.Skills.Has(Ride) || pr.CreditScore != 712 || pr.RegisteredAt != 1700000000000 {
		t.Fatalf("profile decoded as %+v", pr)
	}
	var tx Transaction
	if err := d.Transaction([]byte(`{"txn_id":"t9","user_id":"u42","ts":1764000000500,"amount":128800,"currency":"CNY",
	 "kind":"purchase","counterparty_id":"m17","counterparty_kind":"merchant","lat":30.27,"lng":120.15,"extra":{"x":[1,2]}}`), &tx); err != nil {
		t.Fatalf("transaction: %v", err)
	}
	if tx.Amount != 128800 || tx.Kind != Purchase || tx.CounterpartyKind != Merchant || !tx.HasLocation {
		t.Fatalf("transaction decoded as %+v", tx)
	}
	var n Need
	if err := d.Need([]byte(`{"need_id":"n7","user_id":"u9","ts":1764000001000,"category":"errand","lat":30.27,"lng":120.16,
	 "radius_m":3000,"reward":2000,"currency":"CNY","expires_at":1764003601000,"status":"open"}`), &n); err != nil {
		t.Fatalf("need: %v", err)
	}
	if n.Category != Errand || n.RadiusM != 3000 || n.Status != Open || n.ExpiresAt != 1764003601000 {
		t.Fatalf("need decoded as %+v", n)
	}
	var o Outcome
	if err := d.Outcome([]byte(`{"need_id":"n7","helper_id":"u42","ts":1764000090000,"outcome":"completed","rating":5}`), &o); err != nil {
		t.Fatalf("outcome: %v", err)
	}
	if o.Outcome != Completed || o.Rating != 5 {
		t.Fatalf("outcome decoded as %+v", o)
	}
}

func TestDecodeDefaults(t *testing.T) {
	d := NewDecoder("CNY")
	var p Ping
	if err := d.Ping([]byte(`{"user_id":"u","ts":1764000000123,"lat":0,"lng":0}`), &p); err != nil || p.Available {
		t.Fatalf("ping without available: %+v %v; want available false", p, err)
	}
	var n Need
	if err := d.Need([]byte(`{"need_id":"n","user_id":"u","ts":1764000000000,"category":"ride","lat":1,"lng":2,"expires_at":1764000060000}`), &n); err != nil {
		t.Fatal(err)
	}
	if n.RadiusM != DefaultRadiusM || n.Status != Open || n.Currency != "CNY" {
		t.Fatalf("need defaults: %+v", n)
	}
	if err := d.Need([]byte(`{"need_id":"n","ts":1764000000000,"status":"cancelled"}`), &n); err != nil || n.Status != Cancelled {
		t.Fatalf("status update: %+v %v", n, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	d := NewDecoder("CNY")
	f := func(topic, msg, wantErr string) {
		t.Helper()
		var err error
		switch topic {
		case "ping":
			err = d.Ping([]byte(msg), &Ping{})
		case "profile":
			err = d.Profile([]byte(msg), &Profile{})
		case "txn":
			err = d.Transaction([]byte(msg), &Transaction{})
		case "need":
			err = d.Need([]byte(msg), &Need{})
		case "outcome":
			err = d.Outcome([]byte(msg), &Outcome{})
		}
		if err == nil {
			t.Fatalf("%s %s: accepted, want %q", topic, msg, wantErr)
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s %s: error %q, want it to contain %q", topic, msg, err, wantErr)
		}
	}
	f("ping", `not json`, "not valid JSON")
	f("ping", `[1,2]`, "not a JSON object")
	f("ping", `{"ts":1764000000123,"lat":1,"lng":2}`, "user_id: is required")
	f("ping", `{"user_id":"","ts":1764000000123,"lat":1,"lng":2}`, "user_id: must not be empty")
	f("ping", `{"user_id":"`+strings.Repeat("x", 65)+`","ts":1764000000123,"lat":1,"lng":2}`, "user_id: is 65 bytes")
	f("ping", `{"user_id":7,"ts":1764000000123,"lat":1,"lng":2}`, "user_id: must be a string")
	f("ping", `{"user_id":"u","ts":1764000000,"lat":1,"lng":2}`, "looks like seconds")
	f("ping", `{"user_id":"u","ts":1764000000123.5,"lat":1,"lng":2}`, "ts: must be an integer")
	f("ping", `{"user_id":"u","ts":"1764000000123","lat":1,"lng":2}`, "ts: must be an integer")
	f("ping", `{"user_id":"u","ts":1764000000123,"lat":91,"lng":2}`, "lat: is 91")
	f("ping", `{"user_id":"u","ts":1764000000123,"lat":1,"lng":-180.5}`, "lng: is -180.5")
	f("ping", `{"user_id":"u","ts":1764000000123,"lng":2}`, "lat: is required")
	f("ping", `{"user_id":"u","ts":1764000000123,"lat":1,"lng":2,"available":"yes"}`, "available: must be true or false")
	f("ping", `{"user_id":"u","ts":1764000000123,"lat":1,"lng":2,"accuracy_m":-1}`, "accuracy_m")
	f("profile", `{"user_id":"u","ts":1764000000123,"credit_score":951}`, "credit_score: is 951")
	f("profile", `{"user_id":"u","ts":1764000000123,"skills":"errand"}`, "skills: must be an array")
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":0,"currency":"CNY","kind":"purchase"}`, "amount: is 0")
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":-5,"currency":"CNY","kind":"purchase"}`, "amount: is -5")
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":1.5,"currency":"CNY","kind":"purchase"}`, "amount: must be a positive integer")
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":100,"currency":"USD","kind":"purchase"}`, "currency: is USD")
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":100,"currency":"CNY","kind":"gift"}`, `kind: is "gift"`)
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":100,"currency":"CNY","kind":"transfer","counterparty_id":"v","counterparty_kind":"bank"}`, "counterparty_kind")
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":100,"currency":"CNY","kind":"purchase","counterparty_kind":"merchant"}`, "counterparty_id: is required when counterparty_kind is given")
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":100,"currency":"CNY","kind":"purchase","counterparty_id":"m1"}`, "counterparty_kind: is required when counterparty_id is given")
	f("txn", `{"user_id":"u","txn_id":"t","ts":1764000000123,"amount":100,"currency":"CNY","kind":"purchase","counterparty_id":"m1"}`, "counterparty_kind: is required when counterparty_id is given")
	f("txn", `{"txn_id":"t","user_id":"u","ts":1764000000123,"amount":100,"kind":"purchase"}`, "currency: is required")
	f("need", `{"need_id":"n","user_id":"u","ts":1764000000000,"category":"dance","lat":1,"lng":2,"expires_at":1764000060000}`, "category")
	f("need", `{"need_id":"n","user_id":"u","ts":1764000000000,"category":"ride","lat":1,"lng":2,"radius_m":20001,"expires_at":1764000060000}`, "radius_m: is 20001")
	f("need", `{"need_id":"n","user_id":"u","ts":1764000000000,"category":"ride","lat":1,"lng":2,"expires_at":1764000000000}`, "expires_at")
	f("need", `{"need_id":"n","user_id":"u","ts":1764000000000,"category":"ride","lat":1,"lng":2}`, "expires_at: is required")
	f("need", `{"need_id":"n","ts":1764000000000,"status":"done"}`, "status")
	f("outcome", `{"need_id":"n","helper_id":"h","ts":1764000000000,"outcome":"completed","rating":6}`, "rating: is 6")
	f("outcome", `{"need_id":"n","helper_id":"h","ts":1764000000000,"outcome":"maybe"}`, "outcome")
}

func TestAppendJSONRoundTrips(t *testing.T) {
	d := NewDecoder("CNY")
	ping := Ping{UserID: "u\"1\\é", TS: 1764000000123, Lat: -33.5, Lng: 151.25, AccuracyM: 3, Available: true}
	var p Ping
	if err := d.Ping(ping.AppendJSON(nil), &p); err != nil || p != ping {
		t.Fatalf("ping round trip: %+v %v", p, err)
	}
	tx := Transaction{TxnID: "t", UserID: "u", TS: MinTS, Amount: 1, Currency: "CNY", Kind: Refund, CounterpartyID: "m", CounterpartyKind: Merchant, Lat: 1, Lng: 2, HasLocation: true}
	var tt Transaction
	if err := d.Transaction(tx.AppendJSON(nil), &tt); err != nil || tt != tx {
		t.Fatalf("transaction round trip: %+v %v", tt, err)
	}
	need := Need{NeedID: "n", UserID: "u", TS: MinTS, Category: Borrow, Lat: 1, Lng: 2, HasPlace: true, RadiusM: 1500.5, Reward: 9, Currency: "CNY", ExpiresAt: MinTS + 1, Status: Open}
	var nn Need
	if err := d.Need(need.AppendJSON(nil), &nn); err != nil || nn != need {
		t.Fatalf("need round trip: %+v %v", nn, err)
	}
	prof := Profile{UserID: "u", TS: MinTS, RegisteredAt: MinTS, Skills: 1<<Errand | 1<<Other, HasSkills: true, CreditScore: 350}
	var pp Profile
	if err := d.Profile(prof.AppendJSON(nil), &pp); err != nil || pp != prof {
		t.Fatalf("profile round trip: %+v %v", pp, err)
	}
	out := Outcome{NeedID: "n", HelperID: "h", TS: MaxTS, Outcome: NoShow}
	var oo Outcome
	if err := d.Outcome(out.AppendJSON(nil), &oo); err != nil || oo != out {
		t.Fatalf("outcome round trip: %+v %v", oo, err)
	}
}
