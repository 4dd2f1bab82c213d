package fraud

import (
	"math"
	"slices"

	"everywhere/events"
)

// Sizes of the per-user rings: what bounds a user's state (see
// TestUserStateSize for the bytes).
const (
	historySize  = 16 // recent purchase amounts, for the personal baseline
	ringSize     = 32 // recent payments, for velocity: its total counts these alone
	recentSize   = 8  // ids of the latest transactions, for repeats
	smallSize    = 8  // near-threshold transfers, refunded purchases
	maxPathUsers = 6
)

// payment is one outgoing payment in the velocity ring.
type payment struct {
	sec    uint32 // Unix seconds
	amount uint32 // minor units, saturated at 2^32-1
}

// user is what is kept of everyone seen, whether they pay or only ping:
// when they were last seen, their last known place, their registration,
// and the number of their payer state. Most users of a large city are
// seen only through their pings, and 40 bytes each is what a million of
// them cost; it holds no pointer, so the collector does not scan them.
type user struct {
	lastMS int64 // latest event time seen, of any kind (for idle eviction)

	// Last known place, from pings and located payments.
	placeMS  int64
	lat, lng float32

	// registeredMS: the account's registration, from its profile.
	registeredMS int64

	// pay numbers the user's payer state in Detector.pays; 0 until the
	// user's first payment.
	pay int32
	// other is the number another keeper of records by user gave the
	// user (Detector.SetOther), 0 for none; it takes what was padding.
	other int32
}

// absent is the lastMS of a user whose state was evicted while another
// keeper holds their number (Detector.Number): no state, as if never
// seen.
const absent = math.MinInt64

// payer is what is kept of a user who pays. It stays near 470 bytes,
// whatever the user does: rings overwrite their oldest entry. Rarer
// pattern state (pending refunds, money paths) lives in side maps, only
// for users who have any.
type payer struct {
	txnMS int64 // latest payment time seen (for lateness)

	// Personal baseline: the last purchase amounts and how many there
	// were in all. A percentile of a window is robust to a single outlier
	// and follows a user whose habits change.
	history [historySize]uint32
	nHist   uint32

	// Velocity: the last payments, in event-time order.
	ring  [ringSize]payment
	nRing uint8
	head  uint8 // index of the oldest entry

	// Spend in the account's first account_age: since registration when
	// known, since the first payment seen until then (a profile may be
	// read after the payments it explains).
	firstPayMS int64
	firstSpend int64

	// Structuring: recent transfers just under the threshold (seconds).
	nearSec [smallSize]uint32
	nNear   uint8

	// Wash refunds: recent large purchases refunded soon after (seconds).
	washSec [smallSize]uint32
	nWash   uint8

	// Repeats: hashes of the ids of the latest transactions scored (0
	// for none), and where the next goes.
	recent     [recentSize]uint32
	nextRecent uint8
}

// repeat reports whether a transaction with id hash h was among the
// payer's latest scored, and remembers it when it was not.
func (pa *payer) repeat(h uint32) bool {
	for _, r := range pa.recent {
		if r == h {
			return true
		}
	}
	pa.recent[pa.nextRecent] = h
	pa.nextRecent = (pa.nextRecent + 1) % recentSize
	return false
}

// idHash is a transaction id's 32-bit hash, never 0 (the empty slot). A
// new transaction shares it with one of its user's last eight about once
// in 500 million, and then goes unscored like a repeat: 32 bytes a user
// where 64-bit hashes would take 64, of a budget of 1 KiB.
func idHash(id string) uint32 { return events.IDHash(id) | 1 }

func sat32(v int64) uint32 {
	if v > math.MaxUint32 {
		return math.MaxUint32
	}
	if v < 0 {
		return 0
	}
	return uint32(v)
}

// addPurchase records an amount in the baseline window.
func (pa *payer) addPurchase(amount int64) {
	pa.history[pa.nHist%historySize] = sat32(amount)
	pa.nHist++
}

// p90 returns the 90th percentile of the baseline window and how many
// purchases it holds.
func (pa *payer) p90() (int64, int) {
	n := min(int(pa.nHist), historySize)
	if n == 0 {
		return 0, 0
	}
	var buf [historySize]uint32
	s := buf[:n]
	copy(s, pa.history[:n])
	slices.Sort(s)
	return int64(s[(9*n+9)/10-1]), n // the ceil(0.9 n)-th smallest
}

// addPayment inserts a payment into the velocity ring in event-time order
// (a late event lands where it belongs), dropping the oldest when full.
func (pa *payer) addPayment(sec uint32, amount int64) {
	p := payment{sec: sec, amount: sat32(amount)}
	if pa.nRing < ringSize {
		pa.nRing++
	} else {
		pa.head = (pa.head + 1) % ringSize
	}
	// Shift newer entries right until p fits.
	i := int(pa.nRing) - 1
	for i > 0 {
		prev := pa.at(i - 1)
		if prev.sec <= p.sec {
			break
		}
		pa.set(i, prev)
		i--
	}
	pa.set(i, p)
}

func (pa *payer) at(i int) payment     { return pa.ring[(int(pa.head)+i)%ringSize] }
func (pa *payer) set(i int, p payment) { pa.ring[(int(pa.head)+i)%ringSize] = p }

// window counts the payments in (sec-span, sec] and sums their amounts.
func (pa *payer) window(sec, span uint32) (n int, total int64) {
	for i := int(pa.nRing) - 1; i >= 0; i-- {
		p := pa.at(i)
		if p.sec > sec {
			continue
		}
		if sec-p.sec >= span {
			break
		}
		n++
		total += int64(p.amount)
	}
	return n, total
}

// pushSmall records sec in a small ring and returns how many entries lie
// within span of sec.
func pushSmall(ring *[smallSize]uint32, n *uint8, sec, span uint32) int {
	ring[*n%smallSize] = sec
	*n++
	c := 0
	for i := 0; i < min(int(*n), smallSize); i++ {
		if ring[i] <= sec && sec-ring[i] < span {
			c++
		}
	}
	return c
}
