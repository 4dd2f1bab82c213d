package matching

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"everywhere/models/match"
	"everywhere/pipeline/sink"
)

// TestAppendRoundedAsStrconv: every score's text is strconv's for the
// score rounded to four decimals, in [0, 1] where the digits are made
// here and outside it, where strconv makes them.
func TestAppendRoundedAsStrconv(t *testing.T) {
	want := func(f float64) string { return strconv.FormatFloat(math.Round(f*1e4)/1e4, 'f', -1, 64) }
	check := func(f float64) {
		t.Helper()
		if got := string(appendRounded(nil, f)); got != want(f) {
			t.Fatalf("%v: %q, want %q", f, got, want(f))
		}
	}
	for n := range 10_001 {
		check(float64(n) / 1e4)
		check(float64(n)/1e4 + 0.00004)
		check(float64(n)/1e4 - 0.00004)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		check(r.Float64())
	}
	for _, f := range []float64{-0.00001, -0.3, 1.00004, 1.00005, 1.7, 12345.6789, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)} {
		check(f)
	}
}

func BenchmarkAppendRounded(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 64)
	for i := 0; b.Loop(); i++ {
		buf = appendRounded(buf[:0], float64(i%10_000)/9_999)
	}
}

// BenchmarkSuggestionRows: a published list of ten into the suggestion
// rows, the full blocks handed over after each list as a Handle call
// does, all of them every thousand lists as a seal does, and each
// written at once.
func BenchmarkSuggestionRows(b *testing.B) {
	b.ReportAllocs()
	l := &match.List{NeedID: "need-000123", RequesterID: "user-004567", Version: 3, EventTS: 1_700_000_000_000}
	for i := range 10 {
		l.Suggestions = append(l.Suggestions, match.Suggestion{HelperID: "user-" + strconv.Itoa(100_000+i), Score: 0.5, DistanceM: 800})
	}
	var r rows
	write := func(b *rowBlock) error {
		b.rows().Sent()
		return nil
	}
	for i := 0; b.Loop(); i++ {
		r.add(l, "match-v1")
		_ = r.hand(write, i%1000 == 999)
	}
}

// TestSuggestionRowsGoInFullBlocksInOrder: a run's rows go to the table
// in blocks of blockRows as they fill, a list split across two where it
// must, the rest at the seal; every row once, in the order added.
func TestSuggestionRowsGoInFullBlocksInOrder(t *testing.T) {
	var r rows
	var got []string
	write := func(b *rowBlock) error {
		if b.len() == 0 || b.len() > blockRows {
			t.Fatalf("a block of %d rows", b.len())
		}
		out := b.rows()
		helpers := out.Cols[4].(*sink.Strings)
		ranks := out.Cols[2].([]uint8)
		for i, id := range stringsOf(helpers) {
			got = append(got, id+"#"+strconv.Itoa(int(ranks[i])))
		}
		out.Sent()
		return nil
	}
	var want []string
	lists := blockRows/3 + 5 // three rows each: the block boundary falls inside a list
	for n := range lists {
		l := &match.List{NeedID: "n" + strconv.Itoa(n), RequesterID: "u", Version: 1, EventTS: 1_700_000_000_000}
		for i := range 3 {
			id := "h" + strconv.Itoa(n) + "-" + strconv.Itoa(i)
			l.Suggestions = append(l.Suggestions, match.Suggestion{HelperID: id})
			want = append(want, id+"#"+strconv.Itoa(i+1))
		}
		r.add(l, "m")
		if err := r.hand(write, false); err != nil {
			t.Fatal(err)
		}
		if n == blockRows/3-1 && len(got) != 0 {
			t.Fatalf("%d rows written before a block filled", len(got))
		}
	}
	if len(got) != blockRows {
		t.Fatalf("%d rows written before the seal; want one full block of %d", len(got), blockRows)
	}
	if err := r.hand(write, true); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d rows written, want %d in order", len(got), len(want))
	}
	if err := r.hand(write, true); err != nil || len(got) != len(want) {
		t.Fatalf("a seal with no rows wrote %d more", len(got)-len(want))
	}
}

// TestSuggestionRowsHoldNoPointerPerRow: every column handed to the
// table is a sink.Strings or a slice of numbers, so rows waiting for
// their insert give the collector nothing to follow row by row; and the
// columns agree on the number of rows.
func TestSuggestionRowsHoldNoPointerPerRow(t *testing.T) {
	l := &match.List{NeedID: "need-1", RequesterID: "user-2", Version: 1, EventTS: 1_700_000_000_000,
		Suggestions: []match.Suggestion{{HelperID: "user-3"}, {HelperID: "user-4"}}}
	var r rows
	r.add(l, "match-v1")
	r.add(l, "match-v1")
	var out *sink.Rows
	_ = r.hand(func(b *rowBlock) error { out = b.rows(); return nil }, true)
	if len(out.Cols) != len(SuggestionsTable.Columns) || out.N != 4 {
		t.Fatalf("%d columns of %d rows; want %d of 4", len(out.Cols), out.N, len(SuggestionsTable.Columns))
	}
	for i, col := range out.Cols {
		name := SuggestionsTable.Columns[i]
		if s, ok := col.(*sink.Strings); ok {
			if s.Len() != out.N {
				t.Errorf("column %s has %d rows", name, s.Len())
			}
			continue
		}
		v := reflect.ValueOf(col)
		if v.Kind() != reflect.Slice {
			t.Errorf("column %s is a %T", name, col)
			continue
		}
		switch v.Type().Elem().Kind() {
		case reflect.Uint8, reflect.Uint32, reflect.Uint64, reflect.Int64, reflect.Float32:
		default:
			t.Errorf("column %s is a %T: a pointer per row", name, col)
		}
		if v.Len() != out.N {
			t.Errorf("column %s has %d rows", name, v.Len())
		}
	}
}

// stringsOf is the rows of a Strings column.
func stringsOf(s *sink.Strings) []string {
	var out []string
	start := uint32(0)
	for _, end := range s.Ends {
		out = append(out, string(s.Bytes[start:end]))
		start = end
	}
	return out
}

// TestSuggestionRowsInKeyOrder: the suggestions table's Order puts a
// batch's rows, lists of any length cut across blocks among them, in the
// table's key order (need_id, version, rank), every row once. (Two lists
// of one need and version, which one matcher never publishes, would come
// out interleaved: ClickHouse would then sort the insert itself.)
func TestSuggestionRowsInKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var (
		rs    rows
		batch []*sink.Rows
		want  []string
	)
	key := func(need string, version uint32, rank uint8) string {
		return need + "\x00" + strconv.Itoa(int(version)) + "\x00" + strconv.Itoa(int(rank))
	}
	// Versions of a need go up, as the matcher's do, but with gaps, and
	// needs come in no order.
	versions := map[string]uint32{}
	for range 3 * blockRows / 5 {
		need := "need-" + strconv.Itoa(r.IntN(500))
		versions[need] += uint32(1 + r.IntN(3))
		l := &match.List{NeedID: need, RequesterID: "u", Version: versions[need], EventTS: 1_700_000_000_000}
		for i := range 1 + r.IntN(10) {
			l.Suggestions = append(l.Suggestions, match.Suggestion{HelperID: "h"})
			want = append(want, key(l.NeedID, l.Version, uint8(i+1)))
		}
		rs.add(l, "m")
	}
	_ = rs.hand(func(b *rowBlock) error { batch = append(batch, b.rows()); return nil }, true)
	if len(batch) < 2 {
		t.Fatalf("%d blocks; the test wants lists cut across blocks", len(batch))
	}
	var got []string
	for _, s := range inKeyOrder(batch, nil) {
		c := batch[s.Chunk].Cols
		for i := s.From; i < s.To; i++ {
			got = append(got, key(c[0].(*sink.Strings).View(int(i)), c[1].([]uint32)[i], c[2].([]uint8)[i]))
		}
	}
	sorted := func(a, b string) int {
		na, ra, _ := strings.Cut(a, "\x00")
		nb, rb, _ := strings.Cut(b, "\x00")
		if c := strings.Compare(na, nb); c != 0 {
			return c
		}
		va, ka, _ := strings.Cut(ra, "\x00")
		vb, kb, _ := strings.Cut(rb, "\x00")
		atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
		if c := atoi(va) - atoi(vb); c != 0 {
			return c
		}
		return atoi(ka) - atoi(kb)
	}
	if !slices.IsSortedFunc(got, sorted) {
		t.Fatal("the rows are not in key order")
	}
	slices.SortFunc(want, sorted)
	if !slices.Equal(got, want) {
		t.Fatalf("%d rows in order, want the %d added", len(got), len(want))
	}
}

// BenchmarkSuggestionsInKeyOrder: ordering an insert of 10,000 lists of
// ten, published in no order of need, per row.
func BenchmarkSuggestionsInKeyOrder(b *testing.B) {
	b.ReportAllocs()
	r := rand.New(rand.NewPCG(5, 6))
	var rs rows
	var batch []*sink.Rows
	for range 10_000 {
		l := &match.List{NeedID: "need-" + strconv.Itoa(r.IntN(1_000_000)), RequesterID: "user-1", Version: 1, EventTS: 1_700_000_000_000}
		for range 10 {
			l.Suggestions = append(l.Suggestions, match.Suggestion{HelperID: "user-2"})
		}
		rs.add(l, "m")
	}
	_ = rs.hand(func(b *rowBlock) error { batch = append(batch, b.rows()); return nil }, true)
	var spans []sink.Span
	for b.Loop() {
		spans = inKeyOrder(batch, spans[:0])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/row")
}
