package sink

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// kafkaGoBatch is the records field kafka-go writes for msgs[idx]: what
// appendBatch replaced, and must write byte for byte.
func kafkaGoBatch(t testing.TB, msgs []kafka.Message, idx []int32) []byte {
	rs := records{msgs: msgs, idx: idx}
	set := protocol.RecordSet{Version: 2, Records: &rs}
	var buf bytes.Buffer
	if _, err := set.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// batchMessages are n messages of every shape a record may take: keyed
// and not, empty and nil values, long values (lengths of two and three
// varint bytes), headers, times going back and forth.
func batchMessages(n int) []kafka.Message {
	base := time.UnixMilli(1_764_000_000_000)
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		m := &msgs[i]
		m.Time = base.Add(time.Duration(i%7-3) * time.Second)
		if i%3 != 0 {
			m.Key = fmt.Appendf(nil, "user-%d", i)
		}
		switch i % 5 {
		case 0:
			m.Value = nil
		case 1:
			m.Value = []byte{}
		case 2:
			m.Value = []byte(strings.Repeat("v", 200+i))
		case 3:
			m.Value = []byte(strings.Repeat("w", 20_000))
		default:
			m.Value = fmt.Appendf(nil, `{"user_id":"u%d","ts":%d}`, i, i)
		}
		if i%4 == 1 {
			m.Headers = []kafka.Header{{Key: "h", Value: []byte("x")}, {Key: "empty"}}
		}
	}
	return msgs
}

func TestBatchIsWhatKafkaGoWrites(t *testing.T) {
	msgs := batchMessages(40)
	for _, idx := range [][]int32{{0}, {2}, {1, 3, 5}, {39, 0, 17, 4}, all(len(msgs))} {
		got := appendBatch([]byte("prefix"), msgs, idx, 0)
		if string(got[:6]) != "prefix" {
			t.Fatalf("the buffer's start was overwritten: %q", got[:6])
		}
		if want := kafkaGoBatch(t, msgs, idx); !bytes.Equal(got[6:], want) {
			t.Fatalf("records %v: %d bytes, kafka-go writes %d\n got  %x\n want %x", idx, len(got)-6, len(want), head(got[6:]), head(want))
		}
	}
}

// TestBatchReadsBack: kafka-go's reader, which checks nothing of ours,
// reads the records written.
func TestBatchReadsBack(t *testing.T) {
	msgs := batchMessages(25)
	idx := all(len(msgs))
	var set protocol.RecordSet
	if _, err := set.ReadFrom(bytes.NewReader(appendBatch(nil, msgs, idx, 0))); err != nil {
		t.Fatal(err)
	}
	i := 0
	for {
		r, err := set.Records.ReadRecord()
		if err != nil {
			break
		}
		m := msgs[idx[i]]
		if r.Offset != int64(i) || !r.Time.Equal(m.Time) || !sameBytes(t, r.Key, m.Key) || !sameBytes(t, r.Value, m.Value) || len(r.Headers) != len(m.Headers) {
			t.Fatalf("record %d: offset %d time %v, want %v", i, r.Offset, r.Time, m.Time)
		}
		i++
	}
	if i != len(idx) {
		t.Fatalf("read %d records, wrote %d", i, len(idx))
	}
}

// A message without a time takes the write's.
func TestBatchTimesAMessageWithoutOne(t *testing.T) {
	msgs := []kafka.Message{{Value: []byte("a")}, {Value: []byte("b"), Time: time.UnixMilli(5_000)}}
	b := appendBatch(nil, msgs, []int32{0, 1}, 9_000)
	var set protocol.RecordSet
	if _, err := set.ReadFrom(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	var times []int64
	for {
		r, err := set.Records.ReadRecord()
		if err != nil {
			break
		}
		times = append(times, r.Time.UnixMilli())
	}
	if fmt.Sprint(times) != "[9000 5000]" {
		t.Fatalf("times %v, want [9000 5000]", times)
	}
}

func sameBytes(t *testing.T, b protocol.Bytes, want []byte) bool {
	t.Helper()
	if b == nil {
		return want == nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(b); err != nil {
		t.Fatal(err)
	}
	return want != nil && bytes.Equal(buf.Bytes(), want)
}

// records reads msgs[idx] as kafka-go's records.
type records struct {
	msgs       []kafka.Message
	idx        []int32
	i          int
	rec        kafka.Record
	key, value bytes.Reader
}

func (r *records) ReadRecord() (*kafka.Record, error) {
	if r.i >= len(r.idx) {
		return nil, io.EOF
	}
	m := &r.msgs[r.idx[r.i]]
	r.i++
	r.rec = kafka.Record{Time: m.Time, Headers: m.Headers}
	if m.Key != nil {
		r.key.Reset(m.Key)
		r.rec.Key = nopCloser{&r.key}
	}
	if m.Value != nil {
		r.value.Reset(m.Value)
		r.rec.Value = nopCloser{&r.value}
	}
	return &r.rec, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func all(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

func head(b []byte) []byte { return b[:min(len(b), 96)] }

// BenchmarkAppendBatch encodes a regions write's share of one partition:
// 500 records of a routed helper's size. kafka-go is the encoder it
// replaced.
func BenchmarkAppendBatch(b *testing.B) {
	msgs := make([]kafka.Message, 500)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: fmt.Appendf(nil, "u%d", i), Time: time.UnixMilli(1_764_000_000_000 + int64(i)),
			Value: []byte(strings.Repeat("x", 180))}
	}
	idx := all(len(msgs))
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendBatch(buf[:0], msgs, idx, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(msgs)), "ns/record")
	})
	b.Run("kafka-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			kafkaGoBatch(b, msgs, idx)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(msgs)), "ns/record")
	})
}
