package route

import (
	"testing"

	"everywhere/events"
)

// TestOutcomeRecordsCarryTheirOffset: a matcher drops outcomes sent again
// by their offset, so it must survive the trip, and a record without one
// (written before offsets were) reads as unknown.
func TestOutcomeRecordsCarryTheirOffset(t *testing.T) {
	o := events.Outcome{NeedID: "n1", HelperID: "h1", TS: 1_764_000_000_000, Outcome: events.Completed, Rating: 4}
	d := NewDecoder("CNY")
	var r Record
	if err := d.Decode(AppendOutcome(nil, 3, 1_764_000_000_000, 42, &o), &r); err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindOutcome || r.Source != 3 || r.Offset != 42 || r.Outcome.HelperID != "h1" {
		t.Fatalf("decoded %+v", r)
	}
	old := []byte(`{"k":"o","src":3,"wm":1764000000000,"ts":1764000000000,"outcome":{"need_id":"n1","helper_id":"h1","ts":1764000000000,"outcome":"completed"}}`)
	if err := d.Decode(old, &r); err != nil || r.Offset != -1 {
		t.Fatalf("a record without an offset: offset %d, err %v", r.Offset, err)
	}
	bad := []byte(`{"k":"o","src":3,"wm":1764000000000,"ts":1764000000000,"off":-5,"outcome":{"need_id":"n1","helper_id":"h1","ts":1764000000000,"outcome":"completed"}}`)
	if err := d.Decode(bad, &r); err == nil {
		t.Fatal("a negative offset was accepted")
	}
}

func TestTransferRecordsRoundTrip(t *testing.T) {
	want := Transfer{From: "a", To: "b\"c", TxnID: "t1", Amount: 300_000}
	d := NewDecoder("CNY")
	var r Record
	if err := d.Decode(AppendTransfer(nil, 2, 1_764_000_000_500, 1_764_000_000_000, &want), &r); err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindTransfer || r.Source != 2 || r.WM != 1_764_000_000_500 || r.TS != 1_764_000_000_000 || r.Transfer != want {
		t.Fatalf("decoded %+v", r)
	}
	for _, bad := range []string{
		`{"k":"t","src":2,"wm":5,"ts":5,"user_id":"a","to":"b","txn_id":"t1","amount":0}`,
		`{"k":"t","src":2,"wm":5,"ts":5,"user_id":"a","to":"","txn_id":"t1","amount":5}`,
		`{"k":"t","src":2,"wm":5,"ts":5,"user_id":"a","to":"b","amount":5}`,
		`{"k":"t","src":2,"wm":5,"ts":0,"user_id":"a","to":"b","txn_id":"t1","amount":5}`,
	} {
		if err := d.Decode([]byte(bad), &r); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
