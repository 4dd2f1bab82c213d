package consumers

import "testing"

func TestEventTime(t *testing.T) {
	f := func(msg string, want int64) {
		t.Helper()
		if got := EventTime([]byte(msg)); got != want {
			t.Fatalf("EventTime(%s) = %d, want %d", msg, got, want)
		}
	}
	f(`{"user_id":"u","ts":1764000000123,"lat":1}`, 1764000000123)
	f(`{"ts": 1764000000123}`, 1764000000123)
	f(`{"user_id":"u"}`, 0)
	f(`not json`, 0)
	f(`{"ts":"x"}`, 0)
}
