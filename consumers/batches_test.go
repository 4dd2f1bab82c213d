package consumers

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReaderReadsEveryCodec: batches written by kafka-go with each
// compression codec read back with every field as written: offset, key
// (null or not), value, headers and time.
func TestReaderReadsEveryCodec(t *testing.T) {
	codecs := []compress.Compression{0, kafka.Gzip, kafka.Snappy, kafka.Lz4, kafka.Zstd}
	addr := testBroker(t, len(codecs), "t")
	at := time.UnixMilli(1_780_000_000_123)
	for p, c := range codecs {
		w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "t", Balancer: balanceTo(p), RequiredAcks: kafka.RequireAll,
			BatchSize: 50, BatchTimeout: time.Millisecond, Compression: c}
		var msgs []kafka.Message
		for i := range 120 {
			m := kafka.Message{Value: fmt.Appendf(nil, "%s-%d-%s", c, i, strings.Repeat("v", i)), Time: at.Add(time.Duration(i) * time.Millisecond)}
			if i%3 != 0 {
				m.Key = fmt.Appendf(nil, "key-%d", i)
			}
			if i%4 == 1 {
				m.Headers = []kafka.Header{{Key: "error", Value: []byte("bad")}, {Key: "empty", Value: []byte{}}}
			}
			msgs = append(msgs, m)
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
		w.Close()

		got := readN(t, testReader(t, addr, "t", p, 0), len(msgs))
		for i, m := range got {
			want := msgs[i]
			if m.Offset != int64(i) || m.Topic != "t" || m.Partition != p || (m.Key == nil) != (want.Key == nil) ||
				!bytes.Equal(m.Key, want.Key) || !bytes.Equal(m.Value, want.Value) || !m.Time.Equal(want.Time) {
				t.Fatalf("%s message %d: %s/%d offset %d key %q value %q at %s; want key %q value %q at %s", c, i,
					m.Topic, m.Partition, m.Offset, m.Key, m.Value, m.Time, want.Key, want.Value, want.Time)
			}
			if len(m.Headers) != len(want.Headers) {
				t.Fatalf("%s message %d: headers %v, want %v", c, i, m.Headers, want.Headers)
			}
			for j, h := range m.Headers {
				if h.Key != want.Headers[j].Key || !bytes.Equal(h.Value, want.Headers[j].Value) {
					t.Fatalf("%s message %d: headers %v, want %v", c, i, m.Headers, want.Headers)
				}
			}
		}
	}
}

// TestReaderReadsKcatBatches: batches written by librdkafka (kcat), a
// client the engine's authors did not write, read back whole, headers
// included, plain and zstd-compressed. (Against the dev broker librdkafka
// sends gzip, snappy and lz4 batches uncompressed, logging "Broker does
// not support compression type": kafka-go writes those in
// TestReaderReadsEveryCodec.)
func TestReaderReadsKcatBatches(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is needed: `make deps` installs it")
	}
	codecs := []string{"none", "zstd"}
	addr := testBroker(t, len(codecs), "t")
	for p, codec := range codecs {
		var lines []string
		for i := range 300 {
			lines = append(lines, fmt.Sprintf("key-%d\t%s-%d-%s", i, codec, i, strings.Repeat("v", i%50)))
		}
		args := []string{"-P", "-b", addr, "-t", "t", "-p", fmt.Sprint(p), "-K", "\t", "-H", "source=kcat",
			"-X", "acks=all", "-X", "linger.ms=20", "-X", "compression.codec=" + codec}
		cmd := exec.Command("kcat", args...)
		cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat %s: %v\n%s", codec, err, out)
		}
		got := readN(t, testReader(t, addr, "t", p, 0), len(lines))
		for i, m := range got {
			key, value, _ := strings.Cut(lines[i], "\t")
			if m.Offset != int64(i) || string(m.Key) != key || string(m.Value) != value ||
				len(m.Headers) != 1 || m.Headers[0].Key != "source" || string(m.Headers[0].Value) != "kcat" {
				t.Fatalf("%s message %d at offset %d: key %q value %q headers %v; want %q %q source=kcat",
					codec, i, m.Offset, m.Key, m.Value, m.Headers, key, value)
			}
		}
	}
}

// TestReaderPassesTransactionMarkers: a transaction's commit marker takes
// an offset and is never delivered. The reader hands on the transaction's
// records and moves past the marker, so the partition is neither lagging
// nor hollow afterwards.
func TestReaderPassesTransactionMarkers(t *testing.T) {
	addr := testBroker(t, 1, "t")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("markers"), kgo.DefaultProduceTopic("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for txn := range 2 {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: fmt.Appendf(nil, "%d-%d", txn, i)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}

	r := testReader(t, addr, "t", 0, 0)
	got := readN(t, r, 6)
	for i, m := range got {
		if want := fmt.Sprintf("%d-%d", i/3, i%3); string(m.Value) != want {
			t.Fatalf("message %d at offset %d: %q, want %q", i, m.Offset, m.Value, want)
		}
	}
	if got[3].Offset != 4 {
		t.Fatalf("the second transaction starts at offset %d; want 4, after the first one's marker", got[3].Offset)
	}
	// Both markers are behind the reader: a further fetch finds nothing.
	fctx, fcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer fcancel()
	msgs, err := r.fetchOnce(fctx)
	if err != nil || len(msgs) != 0 || r.offset != 8 || r.hollow() || r.Lag() != 0 {
		t.Fatalf("after both transactions: %d messages, %v, offset %d, hollow %v, lag %d; want 0, nil, 8, false, 0",
			len(msgs), err, r.offset, r.hollow(), r.Lag())
	}
}

// appendBatch encodes an uncompressed record batch of values from offset
// base on, as a broker returns it.
func appendBatch(out []byte, base int64, values ...string) []byte {
	var recs []byte
	for i, v := range values {
		var rec []byte
		rec = append(rec, 0)                     // attributes
		rec = binary.AppendVarint(rec, int64(i)) // time delta
		rec = binary.AppendVarint(rec, int64(i)) // offset delta
		rec = binary.AppendVarint(rec, -1)       // null key
		rec = binary.AppendVarint(rec, int64(len(v)))
		rec = append(rec, v...)
		rec = binary.AppendVarint(rec, 0) // headers
		recs = binary.AppendVarint(recs, int64(len(rec)))
		recs = append(recs, rec...)
	}
	out = binary.BigEndian.AppendUint64(out, uint64(base))
	out = binary.BigEndian.AppendUint32(out, uint32(batchHeader+len(recs)))
	out = binary.BigEndian.AppendUint32(out, 0) // leader epoch
	out = append(out, 2)                        // magic
	out = binary.BigEndian.AppendUint32(out, 0) // crc, not checked
	out = binary.BigEndian.AppendUint16(out, 0) // attributes
	out = binary.BigEndian.AppendUint32(out, uint32(len(values)-1))
	out = binary.BigEndian.AppendUint64(out, 1000) // base time
	out = binary.BigEndian.AppendUint64(out, uint64(1000+len(values)-1))
	out = binary.BigEndian.AppendUint64(out, ^uint64(0)) // producer id -1
	out = binary.BigEndian.AppendUint16(out, ^uint16(0))
	out = binary.BigEndian.AppendUint32(out, ^uint32(0))
	out = binary.BigEndian.AppendUint32(out, uint32(len(values)))
	return append(out, recs...)
}

// TestReadBatchesStopsAtWhatIsCutShort: a batch cut short by the byte
// limits ends the reading and the next fetch starts at it; a first batch
// that could never come whole, or a record that runs past its batch, is
// an error, and the batches before the bad one are still handed on. Times
// follow the batch's timestamp type.
func TestReadBatchesStopsAtWhatIsCutShort(t *testing.T) {
	two := appendBatch(appendBatch(nil, 10, "a", "b"), 12, "c", "d", "e")
	msgs, next, err := readBatches(two, "t", 0, 11, 15, 1<<20, nil)
	if err != nil || len(msgs) != 4 || msgs[0].Offset != 11 || string(msgs[0].Value) != "b" || next != 15 {
		t.Fatalf("two batches from 11: %d messages, next %d, %v; want b..e, 15", len(msgs), next, err)
	}
	if got := msgs[3].Time.UnixMilli(); got != 1002 {
		t.Fatalf("time of e = %d, want 1002", got)
	}

	cut := two[:len(two)-3]
	if msgs, next, err = readBatches(cut, "t", 0, 10, 15, 1<<20, nil); err != nil || len(msgs) != 2 || next != 12 {
		t.Fatalf("second batch cut short: %d messages, next %d, %v; want 2, 12, nil", len(msgs), next, err)
	}
	first := appendBatch(nil, 12, "c", "d", "e")
	if _, _, err = readBatches(first[:40], "t", 0, 12, 15, 64, nil); err == nil || !strings.Contains(err.Error(), "kafka.fetch_max_bytes") {
		t.Fatalf("a first batch larger than the limit: %v; want an error naming kafka.fetch_max_bytes", err)
	}
	if msgs, next, err = readBatches(first[:40], "t", 0, 12, 15, 1<<20, nil); err != nil || len(msgs) != 0 || next != 12 {
		t.Fatalf("a first batch cut short within the limit: %d messages, next %d, %v; want none, 12, nil", len(msgs), next, err)
	}

	// A broker that stamps batches on append (LogAppendTime) says so in
	// the attributes: every record takes the batch's max time.
	stamped := appendBatch(nil, 12, "c", "d", "e")
	binary.BigEndian.PutUint16(stamped[batchPrefix+9:], attrLogAppendTime)
	binary.BigEndian.PutUint64(stamped[batchPrefix+23:], 5000)
	if msgs, _, err = readBatches(stamped, "t", 0, 12, 15, 1<<20, nil); err != nil || len(msgs) != 3 ||
		msgs[0].Time.UnixMilli() != 5000 || msgs[2].Time.UnixMilli() != 5000 {
		t.Fatalf("a batch stamped on append: %d messages, %v; want 3, all at 5000", len(msgs), err)
	}

	bad := appendBatch(nil, 10, "a", "b")
	bad = appendBatch(bad, 12, "c", "d", "e")
	bad[len(bad)-3] = 0x7e // e's value length, 63: past the batch's end
	msgs, next, err = readBatches(bad, "t", 0, 10, 15, 1<<20, nil)
	if err == nil || len(msgs) != 2 || next != 12 {
		t.Fatalf("a record running past its batch: %d messages, next %d, %v; want a and b, 12, an error", len(msgs), next, err)
	}
}

// FuzzReadBatches: no bytes make the response or batch readers panic or
// read out of bounds; what they hand on lies within the input.
func FuzzReadBatches(f *testing.F) {
	f.Add(appendBatch(appendBatch(nil, 0, "a", "bb"), 2, "ccc"))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _, _ := readBatches(b, "t", 0, 0, 0, 1<<20, nil)
		for _, m := range msgs {
			if len(m.Value) > len(b) || len(m.Key) > len(b) {
				t.Fatalf("a view larger than the input")
			}
		}
		for v := int16(minFetchVersion); v <= maxFetchVersion; v++ {
			_, _ = parseFetchResponse(b, v)
		}
	})
}
