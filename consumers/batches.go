package consumers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
)

// Record batch layout (message format v2): the offset and length of the
// batch, then its header from the leader epoch to the record count.
const (
	batchPrefix = 8 + 4 // base offset, batch length
	batchHeader = 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4
)

// Batch attributes.
const (
	attrCodec         = 0x07
	attrLogAppendTime = 0x08
	attrControl       = 0x20
)

// readBatches appends to msgs the records at offset from and after in b,
// record batches as a fetch returns them for partition part of topic,
// whose high watermark is hw. Keys, values and header values are views
// of b, or of a batch's decompressed records.
//
// next is the offset after the last batch read whole: control batches
// (transaction markers) are passed over and never delivered, but the
// offsets they take are. A batch cut short by the response's byte limits
// ends the reading, and the next fetch starts at it; but a first batch
// larger than limit, a partition's most per fetch, would never come whole
// and is an error. On an error msgs holds the records of the batches
// before the one that failed, and next is where that one starts.
func readBatches(b []byte, topic string, part int, from, hw int64, limit int, msgs []kafka.Message) (_ []kafka.Message, next int64, err error) {
	next = from
	whole := 0
	for len(b) >= batchPrefix {
		base := int64(binary.BigEndian.Uint64(b))
		size := int(int32(binary.BigEndian.Uint32(b[8:])))
		if len(b)-batchPrefix < size {
			if whole == 0 && batchPrefix+size > limit {
				return msgs, next, fmt.Errorf("the record batch at offset %d takes %d bytes, more than kafka.fetch_max_bytes (%d)", base, batchPrefix+size, limit)
			}
			break // cut short: the next fetch starts here
		}
		if size < batchHeader {
			return msgs, next, fmt.Errorf("record batch at offset %d: %d bytes, less than its header", base, size)
		}
		batch := b[batchPrefix : batchPrefix+size]
		b = b[batchPrefix+size:]
		whole++
		if magic := batch[4]; magic != 2 {
			return msgs, next, fmt.Errorf("record batch at offset %d has message format v%d; only v2 (Kafka 0.11 and later) is read", base, magic)
		}
		attrs := binary.BigEndian.Uint16(batch[9:])
		last := base + int64(int32(binary.BigEndian.Uint32(batch[11:])))
		if attrs&attrControl != 0 || last < from {
			next = max(next, last+1)
			continue
		}
		mark := len(msgs)
		baseTS := int64(binary.BigEndian.Uint64(batch[15:]))
		maxTS := int64(binary.BigEndian.Uint64(batch[23:]))
		count := int(int32(binary.BigEndian.Uint32(batch[45:])))
		recs := batch[batchHeader:]
		if codec := attrs & attrCodec; codec != 0 {
			if recs, err = decompress(codec, recs); err != nil {
				return msgs[:mark], next, fmt.Errorf("record batch at offset %d: %w", base, err)
			}
		}
		for range count {
			var (
				m       kafka.Message
				ts, off int64
			)
			if recs, ts, off, err = readRecord(recs, &m); err != nil {
				return msgs[:mark], next, fmt.Errorf("record batch at offset %d: %w", base, err)
			}
			if base+off < from {
				continue // a batch may start before the offset asked for
			}
			if attrs&attrLogAppendTime != 0 {
				ts = maxTS
			} else {
				ts += baseTS
			}
			m.Topic, m.Partition, m.Offset, m.HighWaterMark, m.Time = topic, part, base+off, hw, time.UnixMilli(ts)
			msgs = append(msgs, m)
		}
		next = max(next, last+1)
	}
	return msgs, next, nil
}

var errRecord = errors.New("record runs past its batch")

// readRecord reads the key, value and headers of the record at the start
// of b into m, and returns the rest of b and the record's time and offset
// as deltas from its batch's.
func readRecord(b []byte, m *kafka.Message) (rest []byte, tsDelta, offsetDelta int64, err error) {
	size, n := binary.Varint(b)
	if n <= 0 || size < 1 || int64(len(b)-n) < size {
		return nil, 0, 0, errRecord
	}
	rec, rest := b[n:n+int(size)], b[n+int(size):]
	r := varints{b: rec[1:]} // attributes: none are defined
	tsDelta = r.int()
	offsetDelta = r.int()
	m.Key = r.bytes()
	m.Value = r.bytes()
	if h := r.int(); h > 0 {
		if h > int64(len(r.b)) {
			return nil, 0, 0, errRecord
		}
		m.Headers = make([]kafka.Header, h)
		for i := range m.Headers {
			m.Headers[i] = kafka.Header{Key: string(r.bytes()), Value: r.bytes()}
		}
	}
	if r.bad {
		return nil, 0, 0, errRecord
	}
	return rest, tsDelta, offsetDelta, nil
}

// varints reads a record's zigzag varints and the byte arrays they size.
type varints struct {
	b   []byte
	bad bool
}

func (r *varints) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads a length and that many bytes as a view; -1 is null.
func (r *varints) bytes() []byte {
	n := r.int()
	if n == -1 || r.bad {
		return nil
	}
	if n < 0 || n > int64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// decompress inflates a batch's records with the codec its attributes
// name, into a buffer of their own.
func decompress(codec uint16, b []byte) ([]byte, error) {
	c := compress.Compression(codec).Codec()
	if c == nil {
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
	rd := c.NewReader(bytes.NewReader(b))
	defer rd.Close()
	out, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	return out, nil
}
