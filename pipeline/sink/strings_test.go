package sink

import "testing"

// TestStringsKeepRows: rows come back as added, empty ones included,
// after a Reset that keeps the room and after a Grow that moves it.
func TestStringsKeepRows(t *testing.T) {
	var s Strings
	check := func(want ...string) {
		t.Helper()
		got := s.appendViews(nil)
		if s.Len() != len(want) || len(got) != len(want) {
			t.Fatalf("%d rows, %d views; want %d", s.Len(), len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("row %d is %q, want %q", i, got[i], want[i])
			}
		}
	}
	check()
	s.Add("")
	s.Add("need-1")
	s.Add("")
	s.Add("user-22")
	check("", "need-1", "", "user-22")
	s.Reset()
	check()
	s.Grow(100, 8)
	if cap(s.Ends) < 100 || cap(s.Bytes) < 800 {
		t.Fatalf("Grow(100, 8) left room for %d rows, %d bytes", cap(s.Ends), cap(s.Bytes))
	}
	s.Add("a")
	s.Grow(1000, 8)
	s.Add("bc")
	check("a", "bc")
}
