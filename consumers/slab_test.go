package consumers

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// value is message i's value in TestSlabsComeBackOnlyWhenHandled: a
// kilobyte that differs from every other message's.
func value(i int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "<%06d>", i), 128)
}

// TestSlabsComeBackOnlyWhenHandled: messages a handler has not finished
// with keep their bytes while the reader goes on through many slabs, and
// slabs whose messages were all handled are filled again.
//
// Slabs come back through a sync.Pool, which a collection empties (the
// second after a Put) and which, under the race detector, drops a
// quarter of what it is given on purpose. Reading 6 slabs, none came
// back in one CI run (every package's tests at once, under the race
// detector); so this test holds collections off while it reads, and
// reads 12 slabs, for more chances than the pool's drops can all take.
func TestSlabsComeBackOnlyWhenHandled(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	addr := testBroker(t, 1, "t")
	const n = 12000 // 12 MB: slabs of a fetch each, 1 MB
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "t", RequiredAcks: kafka.RequireAll, BatchSize: 100, BatchTimeout: time.Millisecond}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: value(i)}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}

	r := testReader(t, addr, "t", 0, kafka.FirstOffset)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		held []kafka.Message // not handled: their slabs must not come back
		seen = map[*slab]bool{}
		room int // bytes of the slabs seen
		read int // bytes of the values read
		got  int
	)
	for got < n {
		batch, err := r.fetch(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", got, n, err)
		}
		for i := range batch {
			m := batch[i]
			if !bytes.Equal(m.Value, value(got)) {
				t.Fatalf("message %d read as %.16q...", got, m.Value)
			}
			s, _ := m.WriterData.(*slab)
			if s == nil {
				t.Fatalf("message %d carries no slab", got)
			}
			if !seen[s] {
				seen[s] = true
				room += cap(s.b)
			}
			read += len(m.Value)
			if got == 3 || got == 4500 {
				held = append(held, m)
			} else {
				handled(&m)
			}
			got++
		}
	}
	for i, m := range held {
		if want := value([]int{3, 4500}[i]); !bytes.Equal(m.Value, want) {
			t.Fatalf("message %d, never handled, was overwritten: %.16q...", m.Offset, m.Value)
		}
	}
	if room >= read {
		t.Fatalf("%d slabs of %d bytes in all held %d bytes of values: none was filled again once its messages were handled", len(seen), room, read)
	}
}
