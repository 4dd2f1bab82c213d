package consumers

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"everywhere/events"
)

// DeadLetter is a rejected input message with the reason, in the contract's
// dead-letter format. Key and Payload are copies: they outlive the fetch.
type DeadLetter struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Error     string
	Payload   []byte
	SeenAt    time.Time
}

// AppendJSON writes the record as the dead-letter topic carries it. A
// payload that is not valid UTF-8 cannot travel as a JSON string unchanged,
// so it also goes as payload_base64 (an optional field the contract allows
// the engine to add): nothing of the original bytes is lost.
func (d *DeadLetter) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"topic":`...)
	dst = events.AppendString(dst, d.Topic)
	dst = append(dst, `,"partition":`...)
	dst = strconv.AppendInt(dst, int64(d.Partition), 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, d.Offset, 10)
	dst = append(dst, `,"key":`...)
	dst = events.AppendString(dst, string(d.Key))
	dst = append(dst, `,"error":`...)
	dst = events.AppendString(dst, d.Error)
	dst = append(dst, `,"payload":`...)
	dst = events.AppendString(dst, string(d.Payload))
	if !utf8.Valid(d.Payload) || !utf8.Valid(d.Key) {
		dst = append(dst, `,"payload_base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, d.Payload)
		dst = append(dst, `","key_base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, d.Key)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}
