package consumers

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

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
	f(`{"user_id":"u000042137","ts":1764000000123,"lat":30.274112}`, 1764000000123)
	f(`{"t":1,"s":2,"ts":3}`, 3)
	f(`"ts":7`, 7)
}

// TestTSKeyFindsTheFirstKey checks the word-at-a-time search against
// bytes.Index on strings dense in quotes, near-keys and keys, at every
// length and alignment.
func TestTSKeyFindsTheFirstKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{`"`, `t`, `s`, `:`, `"ts"`, `"ts":`, `"t`, `s":`, `x`, `\"`, `""`, "\x00", "\xa2"}
	for n := 0; n < 200000; n++ {
		var b []byte
		for len(b) < n%48 {
			b = append(b, parts[rng.IntN(len(parts))]...)
		}
		if got, want := tsKey(b), bytes.Index(b, []byte(`"ts":`)); got != want {
			t.Fatalf("tsKey(%q) = %d, want %d", b, got, want)
		}
	}
}

func BenchmarkEventTime(b *testing.B) {
	msgs := [][]byte{
		[]byte(`{"user_id":"u000042137","ts":1764000000123,"lat":30.274112,"lng":120.155134,"accuracy_m":12.5,"available":true}`),
		[]byte(`{"txn_id":"t000000912","user_id":"u000042137","ts":1764000000500,"amount":128800,"currency":"CNY","kind":"purchase"}`),
		[]byte(`{"need_id":"n0000007","user_id":"u000000009","ts":1764000001000,"category":"errand","lat":30.27,"lng":120.16}`),
	}
	b.ReportAllocs()
	var sum int64
	for i := 0; i < b.N; i++ {
		sum += EventTime(msgs[i%len(msgs)])
	}
	if sum == 0 && b.N > 0 {
		b.Fatal("no time read")
	}
}
