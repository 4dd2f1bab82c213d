package aggregate

import (
	"strconv"
	"testing"

	"github.com/segmentio/kafka-go"

	"everywhere/events"
	"everywhere/geo"
	"everywhere/metrics"
	"everywhere/pipeline/ack"
	"everywhere/pipeline/sink"
	"everywhere/simulator"
)

// testEnv is the engine's environment for the aggregates without
// ClickHouse: cells of resolution 8, as configured by default.
func testEnv() *Env {
	return &Env{Resolution: 8, PlaceResolution: 8, Guesses: geo.NewGuesses(8, 17), BaseCurrency: "CNY",
		Metrics: metrics.New("test", nil, nil)}
}

func pingMessage(offset int64, user string, ts int64, lat, lng float64, avail bool) *kafka.Message {
	p := events.Ping{UserID: user, TS: ts, Lat: lat, Lng: lng, Available: avail}
	return &kafka.Message{Offset: offset, Value: p.AppendJSON(nil)}
}

type userRow struct {
	cell   uint64
	minute int64
	user   uint64
}

// pingRows reads the rows of one run as ClickHouse keeps them: counts
// by cell and minute (in Unix seconds, as the column holds it), and users as a set (ping_users' uniqExact states),
// available if any row of theirs says so.
func pingRows(t *testing.T, cells, users *sink.Rows) (map[cellMinute]pingCount, map[userRow]uint8) {
	t.Helper()
	counts := map[cellMinute]pingCount{}
	cc, cm := cells.Cols[0].([]uint64), cells.Cols[1].([]int64)
	cp, ca := cells.Cols[4].([]uint64), cells.Cols[5].([]uint64)
	for i := range cells.N {
		k := cellMinute{cc[i], cm[i]}
		if _, dup := counts[k]; dup {
			t.Fatalf("cell %x minute %d counted in two rows", k.cell, k.minute)
		}
		counts[k] = pingCount{cp[i], ca[i]}
	}
	set := map[userRow]uint8{}
	uc, um, uu, ua := users.Cols[0].([]uint64), users.Cols[1].([]int64), users.Cols[2].([]uint64), users.Cols[3].([]uint8)
	for i := range users.N {
		k := userRow{uc[i], um[i], uu[i]}
		set[k] |= ua[i]
	}
	return counts, set
}

func TestPingsCountByCellAndMinuteAndKeepDistinctUsers(t *testing.T) {
	const lat, lng, ts = 30.2741, 120.1551, int64(1764000000000) // ts is on a minute
	h := newPings(testEnv(), 3, 1)                               // offsets up to 1 were counted before
	in := []*kafka.Message{
		pingMessage(0, "u1", ts, lat, lng, false),
		pingMessage(1, "u1", ts+1000, lat, lng, true),
		pingMessage(2, "u1", ts+2000, lat, lng, false),
		pingMessage(3, "u2", ts+3000, lat, lng, false),
		pingMessage(4, "u2", ts+61_000, lat, lng, true),
		pingMessage(5, "u3", ts+4000, 30.30, 120.20, true),
	}
	for _, m := range in {
		if err := h.Handle(m, ack.New(0)); err != nil {
			t.Fatal(err)
		}
	}
	// Read again while state is rebuilt: counted when first read.
	if err := h.Handle(pingMessage(6, "u9", ts, lat, lng, true), ack.NewReplay()); err != nil {
		t.Fatal(err)
	}
	cellRows, userRows := h.rows(5)
	counts, users := pingRows(t, cellRows, userRows)
	here, there := geo.Cell(lat, lng, 8), geo.Cell(30.30, 120.20, 8)
	minute := ts / 60_000
	wantCounts := map[cellMinute]pingCount{
		{here, minuteTime(minute)}:     {pings: 2, available: 0}, // offsets 0 and 1 were counted before
		{here, minuteTime(minute + 1)}: {pings: 1, available: 1},
		{there, minuteTime(minute)}:    {pings: 1, available: 1},
	}
	if len(counts) != len(wantCounts) {
		t.Errorf("counts %v, want %v", counts, wantCounts)
	}
	for k, want := range wantCounts {
		if got := counts[k]; got != want {
			t.Errorf("cell %x minute %d: %+v, want %+v", k.cell, k.minute, got, want)
		}
	}
	wantUsers := map[userRow]uint8{
		{here, minuteTime(minute), userHash("u1")}:     1, // a set: no watermark
		{here, minuteTime(minute), userHash("u2")}:     0,
		{here, minuteTime(minute + 1), userHash("u2")}: 1,
		{there, minuteTime(minute), userHash("u3")}:    1,
	}
	if len(users) != len(wantUsers) {
		t.Errorf("users %v, want %v", users, wantUsers)
	}
	for k, want := range wantUsers {
		if got, ok := users[k]; !ok || got != want {
			t.Errorf("user %x in cell %x at %d: available %d (present %v), want %d", k.user, k.cell, k.minute, got, ok, want)
		}
	}
	// A users row goes out once for a cell, minute, user and availability
	// (uniqExact would take it again, at the cost of a row), in this run
	// and in the next.
	if userRows.N != len(wantUsers)+1 {
		t.Errorf("%d users rows, want %d: one per cell, minute, user and availability", userRows.N, len(wantUsers)+1)
	}
	if err := h.Handle(pingMessage(7, "u1", ts+5000, lat, lng, true), ack.New(0)); err != nil {
		t.Fatal(err)
	}
	if cells, users := h.rows(7); cells.N != 1 || users.N != 0 {
		t.Errorf("the next run has %d and %d rows, want a count and no user", cells.N, users.N)
	}
}

// pingLoad is n pings of the catch-up benchmark's load over a city of
// users, as a partition reads them.
func pingLoad(users, n int) []kafka.Message {
	lc := simulator.DefaultLoad()
	lc.Users, lc.Events = users, n*2
	l := simulator.NewLoad(lc)
	var (
		msg simulator.Message
		out []kafka.Message
	)
	for len(out) < n && l.Next(&msg) {
		if msg.Topic == simulator.Pings {
			out = append(out, kafka.Message{Offset: int64(len(out)), Value: msg.Value})
		}
	}
	return out
}

// BenchmarkPings is the aggregates' work per ping (decode, cell, counts
// and the distinct users), with a run sealed every 20,000 pings, at two
// city sizes: in the smaller each user pings ten times as often, so the
// same users come back within a minute and a cell.
func BenchmarkPings(b *testing.B) {
	for _, users := range []int{10_000, 100_000} {
		b.Run("users="+strconv.Itoa(users), func(b *testing.B) {
			in := pingLoad(users, 200_000)
			h := newPings(testEnv(), 0, -1)
			t := ack.New(0)
			rows := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				m := &in[i%len(in)]
				if err := h.Handle(m, t); err != nil {
					b.Fatal(err)
				}
				if i%20_000 == 19_999 {
					cells, users := h.rows(m.Offset)
					rows += cells.N + users.N
				}
			}
			b.ReportMetric(float64(rows)/float64(b.N), "rows/ping")
		})
	}
}
