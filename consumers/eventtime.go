package consumers

import "bytes"

var tsKey = []byte(`"ts":`)

// EventTime finds the top-level "ts" of a contract message without a full
// parse, to order messages of several topics. It only orders: a message it
// cannot read gets 0 and goes first, to be rejected by its decoder. It is
// deterministic, which is all the ordering needs.
func EventTime(b []byte) int64 {
	i := bytes.Index(b, tsKey)
	if i < 0 {
		return 0
	}
	i += len(tsKey)
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	var n int64
	digits := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9' && digits < 18; i++ {
		n = n*10 + int64(b[i]-'0')
		digits++
	}
	return n
}
