package route

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"everywhere/models/match"
	"everywhere/pipeline/ack"
)

// TestIdlePartitionsHearOnlyWhatTheyNeed: a partition told the source is
// idle hears nothing more until a record goes to it or idleRefresh has
// passed, and then only the watermark of an idle source. An emitter that
// wakes idle partitions tells them when the source is busy again.
func TestIdlePartitionsHearOnlyWhatTheyNeed(t *testing.T) {
	for _, wake := range []bool{false, true} {
		t.Run(fmt.Sprintf("wake=%v", wake), func(t *testing.T) { testIdlePartitions(t, wake) })
	}
}

func testIdlePartitions(t *testing.T, wake bool) {
	var got []string // "partition:kind@wm", idle watermarks marked
	b := decoding(t, 1, func(p int, _ []byte, r *Record) {
		s := fmt.Sprintf("%d:%c@%d", p, r.Kind, r.WM)
		if r.Idle {
			s += " idle"
		}
		got = append(got, s)
	})
	e := NewEmitter(context.Background(), 0, 3, b, time.Hour, wake, prometheus.NewCounter(prometheus.CounterOpts{Name: "routed"}))
	tk := ack.New(10)
	helper := func(p int, ts int64) {
		e.Observe(ts, tk)
		e.begin(p, "h")
		e.pack.Buf = AppendHelper(e.pack.Buf, 0, e.WM(), ts, &match.HelperState{ID: "h", Available: true})
		e.end()
	}
	helper(0, 100)
	e.Idle(tk)
	helper(1, 200)
	if err := e.Seal(tk); err != nil {
		t.Fatal(err)
	}
	e.Idle(tk)
	time.Sleep(idleRefresh)
	e.Observe(300, tk)
	e.Idle(tk)
	b.Stop(time.Second)
	want := []string{
		"0:w@100", "1:w@100", "2:w@100", // the first Observe: the interval is up
		"0:h@100", "0:w@100 idle", "1:w@100 idle", "2:w@100 idle",
		"1:h@200",      // the seal tells the idle partitions 0 and 2 nothing
		"1:w@200 idle", // nor does going idle again within idleRefresh
		"0:w@300 idle", "1:w@300 idle", "2:w@300 idle",
	}
	if wake {
		want = []string{
			"0:w@100", "1:w@100", "2:w@100",
			"0:h@100", "0:w@100 idle", "1:w@100 idle", "2:w@100 idle",
			"1:h@200", "0:w@200", "2:w@200", // the seal wakes partitions 0 and 2
			"0:w@200 idle", "1:w@200 idle", "2:w@200 idle",
			"0:w@300 idle", "1:w@300 idle", "2:w@300 idle",
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records\n got %v\nwant %v", got, want)
	}
}
