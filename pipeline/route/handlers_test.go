package route

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"everywhere/events"
	"everywhere/models/fraud"
	"everywhere/pipeline/ack"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/sink"
)

// captured is what a regions sink was handed: each partition's data
// records (watermarks aside), decoded, and their keys.
type captured struct {
	recs map[int][]Record
	keys map[int][]string
}

// capture starts a regions sink that decodes what it is handed.
func capture(t *testing.T) (*batcher.Batcher[*sink.Pack], *captured) {
	c := &captured{recs: map[int][]Record{}, keys: map[int][]string{}}
	b := decoding(t, 100, func(p int, key []byte, r *Record) {
		if r.Kind == KindWatermark {
			return
		}
		// Decoded strings are views: keep copies.
		r.Outcome.NeedID, r.Outcome.HelperID = strings.Clone(r.Outcome.NeedID), strings.Clone(r.Outcome.HelperID)
		r.Need.NeedID, r.Need.UserID, r.Need.Currency = strings.Clone(r.Need.NeedID), strings.Clone(r.Need.UserID), strings.Clone(r.Need.Currency)
		tr := &r.Transfer
		tr.From, tr.To, tr.TxnID = strings.Clone(tr.From), strings.Clone(tr.To), strings.Clone(tr.TxnID)
		c.recs[p] = append(c.recs[p], *r)
		c.keys[p] = append(c.keys[p], string(key))
	})
	return b, c
}

// decoding starts a regions sink of chunks of up to maxRows records that
// decodes each record it is handed and calls seen with it, one call at a
// time, in the order handed.
func decoding(t *testing.T, maxRows int, seen func(partition int, key []byte, r *Record)) *batcher.Batcher[*sink.Pack] {
	var mu sync.Mutex
	d := NewDecoder("CNY")
	b := batcher.New(batcher.Config{Name: "regions", MaxRows: maxRows, Queue: 64}, func(_ context.Context, batch []*sink.Pack) error {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range batch {
			for _, m := range p.Messages() {
				var r Record
				if err := d.Decode(m.Value, &r); err != nil {
					t.Errorf("partition %d: %v", m.Partition, err)
					continue
				}
				seen(m.Partition, m.Key, &r)
			}
		}
		return nil
	}, nil)
	b.Start()
	return b
}

// TestOutcomesReachEveryPartition: an outcome goes to every regions
// partition, keyed by its helper, each copy decoding to the outcome with
// its source, watermark and offset; one that teaches nothing goes nowhere,
// but moves the watermark.
func TestOutcomesReachEveryPartition(t *testing.T) {
	const parts = 5
	b, c := capture(t)
	out := NewEmitter(context.Background(), 2, parts, b, time.Hour, false, prometheus.NewCounter(prometheus.CounterOpts{Name: "routed"}))
	o := NewOutcomes(out)
	tk := ack.New(10)
	first := events.Outcome{NeedID: "n1", HelperID: "h1", TS: 1_764_000_000_000, Outcome: events.Completed, Rating: 5}
	quiet := events.Outcome{NeedID: "n5", HelperID: "h5", TS: 1_764_000_002_000, Outcome: events.Accepted}
	second := events.Outcome{NeedID: "n22", HelperID: "helper-22", TS: 1_764_000_001_000, Outcome: events.NoShow}
	o.Outcome(&first, 7, tk)
	o.Outcome(&quiet, 8, tk)
	o.Outcome(&second, 9, tk)
	if err := out.Seal(tk); err != nil {
		t.Fatal(err)
	}
	b.Stop(time.Second)
	for p := range parts {
		rs := c.recs[p]
		if len(rs) != 2 {
			t.Fatalf("partition %d got %d outcomes, want 2", p, len(rs))
		}
		for i, want := range []struct {
			o          events.Outcome
			offset, wm int64
		}{{first, 7, first.TS}, {second, 9, quiet.TS}} {
			r := rs[i]
			if r.Kind != KindOutcome || r.Source != 2 || r.Offset != want.offset || r.WM != want.wm || r.Outcome != want.o || c.keys[p][i] != want.o.HelperID {
				t.Errorf("partition %d, outcome %d: got %+v at offset %d, watermark %d, key %q; want %+v at offset %d, watermark %d", p, i, r.Outcome, r.Offset, r.WM, c.keys[p][i], want.o, want.offset, want.wm)
			}
		}
	}
}

// TestTransfersReachEveryPartition: a large transfer goes to every
// regions partition, keyed by its payer, with its own event time and the
// source's watermark, which a late one does not move back.
func TestTransfersReachEveryPartition(t *testing.T) {
	const parts = 3
	b, c := capture(t)
	out := NewEmitter(context.Background(), 1, parts, b, time.Hour, false, prometheus.NewCounter(prometheus.CounterOpts{Name: "routed"}))
	x := NewTransfers(out)
	tk := ack.New(10)
	const t0 = int64(1_764_000_000_000)
	x.Transfer(&fraud.Path{To: "bob", Users: []string{"alice"}, TxnIDs: []string{"t1"}, FirstMS: t0, LastMS: t0, Amount: 300_000}, tk)
	x.Transfer(&fraud.Path{To: "carol", Users: []string{"bob"}, TxnIDs: []string{"t2"}, FirstMS: t0 - 5, LastMS: t0 - 5, Amount: 290_000}, tk)
	if err := out.Seal(tk); err != nil {
		t.Fatal(err)
	}
	b.Stop(time.Second)
	want := []Record{
		{Kind: KindTransfer, Source: 1, WM: t0, TS: t0, Transfer: Transfer{From: "alice", To: "bob", TxnID: "t1", Amount: 300_000}},
		{Kind: KindTransfer, Source: 1, WM: t0, TS: t0 - 5, Transfer: Transfer{From: "bob", To: "carol", TxnID: "t2", Amount: 290_000}},
	}
	for p := range parts {
		if len(c.recs[p]) != len(want) {
			t.Fatalf("partition %d got %d records, want %d", p, len(c.recs[p]), len(want))
		}
		for i, r := range c.recs[p] {
			if r.Kind != want[i].Kind || r.Source != want[i].Source || r.WM != want[i].WM || r.TS != want[i].TS ||
				r.Transfer != want[i].Transfer || c.keys[p][i] != want[i].Transfer.From {
				t.Errorf("partition %d, record %d: got %+v key %q, want %+v", p, i, r, c.keys[p][i], want[i])
			}
		}
	}
}

// TestEmitterHandsOverFullChunks: records gathered within one interval
// go out in chunks of about packBytes, not one chunk of everything.
func TestEmitterHandsOverFullChunks(t *testing.T) {
	var (
		mu     sync.Mutex
		chunks []int // bytes of each chunk's values and keys
		n      int   // records
	)
	b := batcher.New(batcher.Config{Name: "regions", MaxRows: 1, Queue: 1024}, func(_ context.Context, batch []*sink.Pack) error {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range batch {
			chunks = append(chunks, len(p.Buf))
			n += p.Len()
		}
		return nil
	}, nil)
	b.Start()
	out := NewEmitter(context.Background(), 0, 8, b, time.Hour, false, prometheus.NewCounter(prometheus.CounterOpts{Name: "routed"}))
	o := NewOutcomes(out)
	tk := ack.New(10)
	const outcomes = 2000
	for i := range outcomes {
		ev := events.Outcome{NeedID: fmt.Sprintf("n%d", i), HelperID: fmt.Sprintf("h%d", i), TS: 1_764_000_000_000 + int64(i), Outcome: events.Completed}
		o.Outcome(&ev, int64(i), tk)
	}
	if err := out.Seal(tk); err != nil {
		t.Fatal(err)
	}
	b.Stop(time.Second)
	if n < 8*outcomes {
		t.Fatalf("%d records handed over, want at least %d", n, 8*outcomes)
	}
	if len(chunks) < 2 {
		t.Fatalf("one chunk of %d bytes", chunks[0])
	}
	for _, c := range chunks {
		if c > packBytes+1024 {
			t.Errorf("a chunk of %d bytes, bound %d", c, packBytes)
		}
	}
}
