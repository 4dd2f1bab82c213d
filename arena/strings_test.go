package arena

import (
	"strings"
	"testing"
)

func TestCopiesOutliveTheirSource(t *testing.T) {
	var a Strings
	src := []byte("user-00001")
	var kept []string
	for i := range 20000 { // several blocks
		src[len(src)-1] = byte('0' + i%10)
		kept = append(kept, a.Copy(string(src)))
	}
	src[0] = 'X'
	for i, s := range kept {
		if want := "user-0000" + string(rune('0'+i%10)); s != want {
			t.Fatalf("copy %d = %q, want %q", i, s, want)
		}
	}
	long := strings.Repeat("x", blockSize+1)
	if a.Copy(long) != long || a.Copy("") != "" {
		t.Fatal("a string longer than a block, or an empty one, was not copied as it is")
	}
}

func BenchmarkCopy(b *testing.B) {
	b.ReportAllocs()
	var a Strings
	for b.Loop() {
		_ = a.Copy("user-0001234")
	}
}
