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
