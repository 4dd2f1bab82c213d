package sink

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/segmentio/kafka-go"
)

// appendBatch appends msgs[idx] as one Kafka record batch (message format
// v2, uncompressed, no producer id), preceded by its length as a produce
// request's records field carries it: the bytes kafka-go's encoder
// writes (TestBatchIsWhatKafkaGoWrites), which the request then copies as
// they are. That encoder is built by reflection, writes each field
// through an interface into pages it allocates, and sums the CRC over
// them afterwards: 201 ns a record of a routed helper's size and 5
// allocations (197 KB) a batch of 500, against 27 ns and none here
// (BenchmarkAppendBatch). In profiles at 127,000 events/s, encoding
// produce requests went from 3.5% of the engine's CPU to 2.0%; in
// catch-ups at 100,000 users, allocations from 0.327-0.330 an event to
// 0.306-0.312.
//
// Timestamps are the messages' Time in milliseconds, each a delta from
// the first's, as in any v2 batch; a zero Time counts as now, as in
// kafka-go.
func appendBatch(dst []byte, msgs []kafka.Message, idx []int32, now int64) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, batchHeader)...)
	h := dst[start:]
	// base offset 0 (the broker assigns offsets); the lengths, CRC, deltas
	// and times are filled in once the records are written.
	binary.BigEndian.PutUint32(h[16:], ^uint32(0)) // partition leader epoch: none
	h[20] = 2                                      // magic: format v2
	binary.BigEndian.PutUint64(h[47:], ^uint64(0)) // producer id: none
	binary.BigEndian.PutUint16(h[55:], ^uint16(0)) // producer epoch: none
	binary.BigEndian.PutUint32(h[57:], ^uint32(0)) // base sequence: none
	binary.BigEndian.PutUint32(h[61:], uint32(len(idx)))

	first, maxTS := int64(0), int64(0)
	for i, x := range idx {
		m := &msgs[x]
		ts := now
		if !m.Time.IsZero() {
			ts = m.Time.UnixMilli()
		}
		if i == 0 {
			first = ts
		}
		maxTS = max(maxTS, ts)
		delta := ts - first
		body := 1 + varintLen(delta) + varintLen(int64(i)) +
			bytesLen(m.Key) + bytesLen(m.Value) + varintLen(int64(len(m.Headers)))
		for _, hd := range m.Headers {
			body += varintLen(int64(len(hd.Key))) + len(hd.Key) + bytesLen(hd.Value)
		}
		dst = binary.AppendVarint(dst, int64(body))
		dst = append(dst, 0) // record attributes: none
		dst = binary.AppendVarint(dst, delta)
		dst = binary.AppendVarint(dst, int64(i))
		dst = appendBytes(dst, m.Key)
		dst = appendBytes(dst, m.Value)
		dst = binary.AppendVarint(dst, int64(len(m.Headers)))
		for _, hd := range m.Headers {
			dst = binary.AppendVarint(dst, int64(len(hd.Key)))
			dst = append(dst, hd.Key...)
			dst = appendBytes(dst, hd.Value)
		}
	}

	h = dst[start:]
	binary.BigEndian.PutUint32(h[0:], uint32(len(h)-4))            // the records field's length
	binary.BigEndian.PutUint32(h[12:], uint32(len(h)-16))          // batch length: what follows it
	binary.BigEndian.PutUint32(h[27:], uint32(max(len(idx)-1, 0))) // last offset delta
	binary.BigEndian.PutUint64(h[31:], uint64(first))
	binary.BigEndian.PutUint64(h[39:], uint64(maxTS))
	binary.BigEndian.PutUint32(h[21:], crc32.Checksum(h[25:], castagnoli))
	return dst
}

// batchHeader is the records field's length (4 bytes) and a v2 batch's
// header (61): base offset 8, batch length 4, partition leader epoch 4,
// magic 1, CRC 4, attributes 2, last offset delta 4, first and max
// timestamps 8 each, producer id 8, producer epoch 2, base sequence 4,
// record count 4. The offsets in appendBatch count the records field's
// length first: the batch starts at 4.
const batchHeader = 4 + 61

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendBytes appends b as a record's key or value: its length as a
// varint, -1 for nil, then its bytes.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	return append(binary.AppendVarint(dst, int64(len(b))), b...)
}

func bytesLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}

// varintLen is the size of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}
