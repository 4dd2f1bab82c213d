package arena

import "testing"

func TestSlotsAreZeroNeverNoneAndReused(t *testing.T) {
	var s Slots[[4]int]
	var got []int32
	for range 3 * pageBytes / 32 { // several blocks
		i := s.New()
		if i == 0 || s.At(i)[0] != 0 {
			t.Fatalf("slot %d: 0 is none, and a new value is zero", i)
		}
		s.At(i)[0] = int(i)
		got = append(got, i)
	}
	for _, i := range got {
		if s.At(i)[0] != int(i) {
			t.Fatalf("slot %d holds %d: two slots share memory", i, s.At(i)[0])
		}
	}
	s.Free(got[5])
	if i := s.New(); i != got[5] || s.At(i)[0] != 0 {
		t.Fatal("a slot given back was not reused, or not zeroed")
	}
	if s.Len() != len(got) {
		t.Fatalf("%d in use, want %d", s.Len(), len(got))
	}
}
