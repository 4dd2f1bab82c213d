package simulator

import (
	"bytes"
	"testing"
)

// TestRecordingReplaysTheStream checks that a recording gives back the
// stream's messages in order, stops at the count asked for, and that the
// key and value of a message read earlier still hold once later ones are
// read (they are views into the recording).
func TestRecordingReplaysTheStream(t *testing.T) {
	c := smallLoad()
	c.Events = 5000
	r, err := Record(NewLoad(c), 3000)
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 3000 || !r.Start().Equal(c.Start) {
		t.Fatalf("recorded %d messages from %v, want 3000 from %v", r.Len(), r.Start(), c.Start)
	}
	want := NewLoad(c)
	var got, w Message
	type view struct{ got, copied Message }
	var views []view
	n := 0
	for ; r.Next(&got); n++ {
		if !want.Next(&w) {
			t.Fatalf("message %d: the stream ended first", n)
		}
		if got.Topic != w.Topic || got.Key != w.Key || got.TS != w.TS || !bytes.Equal(got.Value, w.Value) || len(got.Value) == 0 {
			t.Fatalf("message %d: %v %q %d %s, want %v %q %d %s", n, got.Topic, got.Key, got.TS, got.Value, w.Topic, w.Key, w.TS, w.Value)
		}
		if n%500 == 0 {
			views = append(views, view{got, Message{Key: w.Key, Value: bytes.Clone(w.Value)}})
		}
	}
	if n != 3000 {
		t.Fatalf("read %d messages back, want 3000", n)
	}
	for i, v := range views {
		if v.got.Key != v.copied.Key || !bytes.Equal(v.got.Value, v.copied.Value) {
			t.Fatalf("message %d changed once later ones were read: %q %s, was %q %s", 500*i, v.got.Key, v.got.Value, v.copied.Key, v.copied.Value)
		}
	}
	if r.Next(&got) {
		t.Fatal("a message past the end")
	}
}
