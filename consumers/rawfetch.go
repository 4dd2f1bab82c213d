package consumers

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/segmentio/kafka-go/protocol"
	fetchapi "github.com/segmentio/kafka-go/protocol/fetch"
)

// rawFetch is a Fetch request whose response is read as bytes and not
// through kafka-go's decoder.
//
// kafka-go decodes a fetch response into pages of its own, and then each
// record into a pair of page references, read back through io.Reader
// calls: in a catch-up profile that decoding, and the copy of each key
// and value out of the pages, took 14% of the engine's CPU and half of
// the bytes it allocated. Read whole instead, a response is one buffer,
// and each partition's records are a slice of it that its reader copies
// in one move and parses in place (see readBatches): 6% of the CPU, and
// the copy is all that is allocated.
//
// The request is still encoded by kafka-go (protocol.WriteRequest), and
// goes through its transport as any other: routed to the partitions'
// leader, on the versions the connection negotiated. Only the response is
// read here, which protocol.RawExchanger allows.
//
// Response buffers are reused: each reader copies its partition's records
// out (one move, into its slab) and releases its part, and the last one
// to do so returns the buffer to a pool. A fresh buffer of megabytes for
// every response made reading it cost three times as much, in page faults.
type rawFetch struct {
	req      fetchapi.Request
	clientID string
	version  int16
}

// fetchResponse is the part of a Fetch response the readers use.
type fetchResponse struct {
	errorCode int16
	parts     []fetchPartition
	buf       *[]byte      // the response as read, which records are views of
	refs      atomic.Int32 // parts handed out and not yet released, and the sender's hold
}

// fetchPartition is one partition's answer: its records are still in
// the wire format, record batches one after the other, the last one
// possibly cut short by the byte limits. They are valid until release.
type fetchPartition struct {
	topic         string
	partition     int32
	errorCode     int16
	highWatermark int64
	records       []byte
	res           *fetchResponse
}

// release gives the partition's part of the response back; nothing of
// it may be read after, since the response is then used again. A part
// never released leaves its response to the collector rather than to the
// pools.
func (p *fetchPartition) release() { p.res.unref() }

// unref drops a reference to the response, and returns it and its buffer
// to their pools with the last one: a fetcher answers a few thousand
// times a second when the input trickles in, and a response made for each
// was 4% of the bytes the engine allocated.
func (r *fetchResponse) unref() {
	if r.refs.Add(-1) == 0 && r.buf != nil {
		buffers.Put(r.buf)
		r.buf = nil
		responses.Put(r)
	}
}

var (
	buffers   sync.Pool // of *[]byte, fetch responses read
	responses sync.Pool // of *fetchResponse, their parts' room kept
)

// buffer returns room for a response of n bytes, from the pool if a
// buffer there is large enough.
func buffer(n int) *[]byte {
	if b, _ := buffers.Get().(*[]byte); b != nil && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, n+n/4)
	return &b
}

// Fetch versions read here. From v4 a response carries record batches
// (message format v2, Kafka 0.11 and later); v12 brings the flexible
// encoding, which kafka-go's Fetch does not speak.
const (
	minFetchVersion = 4
	maxFetchVersion = 11
)

var correlationIDs atomic.Int32

func (r *rawFetch) ApiKey() protocol.ApiKey { return protocol.Fetch }

// Broker routes the request to the leader of its partitions.
func (r *rawFetch) Broker(c protocol.Cluster) (protocol.Broker, error) { return r.req.Broker(c) }

// Prepare learns the version the connection negotiated.
func (r *rawFetch) Prepare(version int16) { r.version = version }

// Required: every response is read here, whatever the versions.
func (r *rawFetch) Required(map[protocol.ApiKey]int16) bool { return true }

// RawExchange writes the request and reads the response whole.
func (r *rawFetch) RawExchange(rw io.ReadWriter) (protocol.Message, error) {
	v := min(r.version, maxFetchVersion)
	if v < minFetchVersion {
		return nil, fmt.Errorf("the broker offers Fetch up to v%d; reading record batches needs v%d (Kafka 0.11 or later)", r.version, minFetchVersion)
	}
	id := correlationIDs.Add(1)
	if err := protocol.WriteRequest(rw, v, id, r.clientID, &r.req); err != nil {
		return nil, err
	}
	var head [8]byte
	if _, err := io.ReadFull(rw, head[:]); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(head[:4]))
	if got := int32(binary.BigEndian.Uint32(head[4:])); got != id {
		return nil, fmt.Errorf("fetch response carries correlation id %d, want %d", got, id)
	}
	if size < 4 {
		return nil, fmt.Errorf("fetch response of %d bytes", size)
	}
	buf := buffer(int(size - 4))
	if _, err := io.ReadFull(rw, *buf); err != nil {
		return nil, err
	}
	res, err := parseFetchResponse(*buf, v)
	if err != nil {
		return nil, err
	}
	res.buf = buf
	return res, nil
}

// parseFetchResponse reads a Fetch response body of version v (4 to 11).
// Strings and record sets are views of buf.
func parseFetchResponse(buf []byte, v int16) (*fetchResponse, error) {
	w := wire{b: buf}
	res, _ := responses.Get().(*fetchResponse)
	if res == nil {
		res = &fetchResponse{}
	}
	res.errorCode, res.parts = 0, res.parts[:0]
	w.skip(4) // throttle time
	if v >= 7 {
		res.errorCode = w.int16()
		w.skip(4) // session id
	}
	for range w.count() {
		topic := w.str()
		for range w.count() {
			p := fetchPartition{topic: topic, res: res}
			p.partition = w.int32()
			p.errorCode = w.int16()
			p.highWatermark = w.int64()
			w.skip(8) // last stable offset
			if v >= 5 {
				w.skip(8) // log start offset
			}
			if n := w.int32(); n > 0 { // aborted transactions: producer id, first offset
				w.skip(16 * int(n))
			}
			if v >= 11 {
				w.skip(4) // preferred read replica
			}
			p.records = w.bytes()
			if w.err != nil {
				break
			}
			res.parts = append(res.parts, p)
		}
	}
	if w.err != nil {
		return nil, fmt.Errorf("fetch response v%d: %w", v, w.err)
	}
	return res, nil
}

func (r *fetchResponse) ApiKey() protocol.ApiKey { return protocol.Fetch }

// find returns the answer for partition part of topic, nil if none.
func (r *fetchResponse) find(topic string, part int32) *fetchPartition {
	for i := range r.parts {
		if p := &r.parts[i]; p.partition == part && p.topic == topic {
			return p
		}
	}
	return nil
}

var errShort = errors.New("cut short")

// wire reads big-endian Kafka protocol fields from b; after the first
// field that runs past the end, err is set and every read gives zero.
type wire struct {
	b   []byte
	err error
}

func (w *wire) take(n int) []byte {
	if w.err != nil || n < 0 || n > len(w.b) {
		w.err = cmp.Or(w.err, errShort)
		return nil
	}
	out := w.b[:n:n]
	w.b = w.b[n:]
	return out
}

func (w *wire) skip(n int) { w.take(n) }

func (w *wire) int16() int16 {
	if b := w.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (w *wire) int32() int32 {
	if b := w.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (w *wire) int64() int64 {
	if b := w.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// count reads an array's length; a null array is empty.
func (w *wire) count() int {
	n := w.int32()
	if n < 0 {
		return 0
	}
	if int(n) > len(w.b) { // each element takes a byte at least
		w.err = cmp.Or(w.err, errShort)
		return 0
	}
	return int(n)
}

func (w *wire) str() string {
	n := w.int16()
	if n < 0 {
		return ""
	}
	return string(w.take(int(n)))
}

// bytes reads a nullable byte array as a view.
func (w *wire) bytes() []byte {
	n := w.int32()
	if n < 0 {
		return nil
	}
	return w.take(int(n))
}
