package consumers

import (
	"encoding/binary"
	"math/bits"
)

// EventTime finds the top-level "ts" of a contract message without a full
// parse, to order messages of several topics. It only orders: a message it
// cannot read gets 0 and goes first, to be rejected by its decoder. It is
// deterministic, which is all the ordering needs.
func EventTime(b []byte) int64 {
	i := tsKey(b)
	if i < 0 {
		return 0
	}
	i += len(tsText)
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

// tsText is the key EventTime looks for; tsQuote its first four bytes
// read as a little-endian word.
const tsText = `"ts":`

var tsQuote = binary.LittleEndian.Uint32([]byte(tsText))

// tsKey returns where the first `"ts":` of b starts, or -1. It finds the
// quotes of eight bytes at a time and compares the key at each: every
// partition worker reads the time of every message it takes, and
// bytes.Index, which calls IndexByte again at every quote before the key,
// was about 2.7% of the engine's CPU in a catch-up.
func tsKey(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	// The word's last byte may start a key: the loop stops before a word
	// whose last key would not fit.
	for ; i+7+len(tsText) <= len(b); i += 8 {
		// A byte of x is zero where b has a quote; the borrow trick sets
		// its high bit (and may set one above a true zero: a false
		// candidate, checked like the rest).
		x := binary.LittleEndian.Uint64(b[i:]) ^ (ones * '"')
		for m := (x - ones) &^ x & highs; m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)/8
			if keyAt(b, j) {
				return j
			}
		}
	}
	for ; i+len(tsText) <= len(b); i++ {
		if keyAt(b, i) {
			return i
		}
	}
	return -1
}

// keyAt reports whether tsText starts at b[i]; b holds its five bytes.
func keyAt(b []byte, i int) bool {
	return binary.LittleEndian.Uint32(b[i:]) == tsQuote && b[i+4] == ':'
}
