package arena

import "testing"

func TestValuesAreZeroAndReused(t *testing.T) {
	var v Values[[4]int]
	a := v.New()
	a[0] = 7
	b := v.New()
	if a == b || b[0] != 0 {
		t.Fatal("two values share memory, or a new one is not zero")
	}
	v.Free(a)
	if c := v.New(); c != a || c[0] != 0 {
		t.Fatal("a value given back was not reused, or not zeroed")
	}
}

func BenchmarkValues(b *testing.B) {
	b.ReportAllocs()
	var v Values[[8]int64]
	for b.Loop() {
		v.Free(v.New())
		_ = v.New()
	}
}
