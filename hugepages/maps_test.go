package hugepages

import "testing"

// A process's maps, cut down: the binary, a heap of three arenas with
// two parts mapped (the run), a gap, a C malloc arena and a stack.
const sampleMaps = `00400000-00402000 r--p 00000000 08:01 1234 /usr/bin/everywhere
00402000-00d15000 r-xp 00002000 08:01 1234 /usr/bin/everywhere
016f1000-017cd000 rw-p 012f1000 08:01 1234 /usr/bin/everywhere
017cd000-0381c000 rw-p 00000000 00:00 0
34ae6c000000-34ae6ec00000 ---p 00000000 00:00 0
34ae6ec00000-34ae7c400000 rw-p 00000000 00:00 0
34ae7c400000-34ae7c800000 rw-p 00000000 00:00 0
34ae7c800000-34ae80000000 ---p 00000000 00:00 0
7f110c000000-7f110c021000 rw-p 00000000 00:00 0
7f110c021000-7f1110000000 ---p 00000000 00:00 0
7ffc1a2e0000-7ffc1a301000 rw-p 00000000 00:00 0                          [stack]
`

func TestParseMaps(t *testing.T) {
	ms, err := parseMaps([]byte(sampleMaps))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 11 {
		t.Fatalf("%d mappings, want 11", len(ms))
	}
	want := []mapping{
		{0x400000, 0x402000, false, false},
		{0x402000, 0xd15000, false, false},
		{0x16f1000, 0x17cd000, true, false},
		{0x17cd000, 0x381c000, true, true},
		{0x34ae6c000000, 0x34ae6ec00000, false, true},
	}
	for i, w := range want {
		if ms[i] != w {
			t.Errorf("mapping %d: %+v, want %+v", i, ms[i], w)
		}
	}
	if last := ms[10]; last.anonymous {
		t.Errorf("the stack %+v counts as anonymous: it has a name", last)
	}
	for _, bad := range []string{"34ae6c000000 ---p 0 00:00 0\n", "zz-34ae6c000000 ---p 0 00:00 0\n", "1-2 rw-p\n"} {
		if _, err := parseMaps([]byte(bad)); err == nil {
			t.Errorf("parseMaps(%q) gave no error", bad)
		}
	}
}

func TestHeapRunIsTheRunAroundTheAddress(t *testing.T) {
	ms, err := parseMaps([]byte(sampleMaps))
	if err != nil {
		t.Fatal(err)
	}
	// Anywhere in the heap's run, reserved or mapped, gives its two
	// mapped parts, and nothing on either side of its gaps.
	for _, addr := range []uintptr{0x34ae6c000000, 0x34ae70000000, 0x34ae7c400000, 0x34ae7fffffff} {
		run := heapRun(ms, addr)
		if len(run) != 2 || run[0].start != 0x34ae6ec00000 || run[1].end != 0x34ae7c800000 {
			t.Errorf("heapRun(%#x) = %+v, want the two mapped parts of 34ae6c000000-34ae80000000", addr, run)
		}
	}
	// A file's mapping, a gap or a named one is no heap.
	for _, addr := range []uintptr{0x400100, 0x16f1000, 0x5000000, 0x7ffc1a2e0000} {
		if run := heapRun(ms, addr); run != nil {
			t.Errorf("heapRun(%#x) = %+v, want none", addr, run)
		}
	}
}

func TestMarkMergesWhatTouches(t *testing.T) {
	var a Advisor
	a.mark(mapping{start: 0x400000, end: 0x800000})
	a.mark(mapping{start: 0x1000000, end: 0x1400000})
	if !a.covered(mapping{start: 0x500000, end: 0x800000}) || a.covered(mapping{start: 0x700000, end: 0x1000000}) {
		t.Fatalf("spans %+v: wrong cover", a.done)
	}
	// The mapping between the two joins them: the kernel merges them so.
	a.mark(mapping{start: 0x800000, end: 0x1000000})
	if len(a.done) != 1 || a.done[0] != (span{0x400000, 0x1400000}) {
		t.Fatalf("spans %+v, want one from 0x400000 to 0x1400000", a.done)
	}
	if !a.covered(mapping{start: 0x400000, end: 0x1400000}) {
		t.Fatal("the merged mapping is not covered")
	}
}
