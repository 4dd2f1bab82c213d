package events

import (
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"
)

// view returns b as a string without copying. The decoder owns b until its
// next parse, which is why decoded events are views (see the package doc).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// field returns the value of key, nil when it is absent or null: the
// contract treats an explicit null like a missing optional field.
func field(o *fastjson.Object, key string) *fastjson.Value {
	v := o.Get(key)
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	return v
}

// ValidID reports whether b is an id the contract allows: 1 to
// MaxIDBytes bytes of valid UTF-8.
func ValidID(b []byte) bool { return len(b) > 0 && len(b) <= MaxIDBytes && utf8.Valid(b) }

// id decodes an id: a string of 1 to 64 bytes of valid UTF-8.
func id(o *fastjson.Object, key string, required bool) (string, error) {
	v := field(o, key)
	if v == nil {
		if required {
			return "", reject(key, "is required")
		}
		return "", nil
	}
	b, err := v.StringBytes()
	if err != nil {
		return "", reject(key, "must be a string")
	}
	switch {
	case len(b) == 0:
		return "", reject(key, "must not be empty")
	case len(b) > MaxIDBytes:
		return "", reject(key, "is %d bytes; at most %d allowed", len(b), MaxIDBytes)
	case !utf8.Valid(b):
		return "", reject(key, "must be valid UTF-8")
	}
	return view(b), nil
}

// word decodes a string field whose value is one of a closed set; it returns
// the raw bytes for the caller's switch (a switch on string(b) does not copy).
func word(o *fastjson.Object, key string, required bool) ([]byte, error) {
	v := field(o, key)
	if v == nil {
		if required {
			return nil, reject(key, "is required")
		}
		return nil, nil
	}
	b, err := v.StringBytes()
	if err != nil {
		return nil, reject(key, "must be a string")
	}
	return b, nil
}

// integer decodes an integer field; ok is false when it is absent.
func integer(o *fastjson.Object, key string) (n int64, ok bool, err error) {
	v := field(o, key)
	if v == nil {
		return 0, false, nil
	}
	if v.Type() != fastjson.TypeNumber {
		return 0, false, reject(key, "must be an integer, not %s", v.Type())
	}
	n, err = v.Int64()
	if err != nil {
		return 0, false, reject(key, "must be an integer, got %s", v.String())
	}
	return n, true, nil
}

// millis decodes an event time in Unix milliseconds.
func millis(o *fastjson.Object, key string, required bool) (int64, error) {
	n, ok, err := integer(o, key)
	if err != nil {
		return 0, reject(key, "must be an integer of Unix milliseconds")
	}
	if !ok {
		if required {
			return 0, reject(key, "is required (Unix milliseconds)")
		}
		return 0, nil
	}
	if n < MinTS || n > MaxTS {
		hint := ""
		if n >= MinTS/1000 && n <= MaxTS/1000 {
			hint = " (this looks like seconds)"
		}
		return 0, reject(key, "is %d; must be Unix milliseconds between 2000 and 2200%s", n, hint)
	}
	return n, nil
}

// number decodes a float field; ok is false when it is absent.
func number(o *fastjson.Object, key string) (f float64, ok bool, err error) {
	v := field(o, key)
	if v == nil {
		return 0, false, nil
	}
	if v.Type() != fastjson.TypeNumber {
		return 0, false, reject(key, "must be a number, not %s", v.Type())
	}
	f, err = v.Float64()
	if err != nil {
		return 0, false, reject(key, "must be a number, got %s", v.String())
	}
	return f, true, nil
}

// position decodes lat and lng; both or neither must be present. ok is false
// when both are absent; required makes that an error.
func position(o *fastjson.Object, required bool) (lat, lng float64, ok bool, err error) {
	lat, hasLat, err := number(o, "lat")
	if err != nil {
		return 0, 0, false, err
	}
	lng, hasLng, err := number(o, "lng")
	if err != nil {
		return 0, 0, false, err
	}
	switch {
	case !hasLat && !hasLng:
		if required {
			return 0, 0, false, reject("lat", "is required")
		}
		return 0, 0, false, nil
	case !hasLat:
		return 0, 0, false, reject("lat", "is required when lng is given")
	case !hasLng:
		return 0, 0, false, reject("lng", "is required when lat is given")
	case lat < -90 || lat > 90:
		return 0, 0, false, reject("lat", "is %g; allowed: -90 to 90", lat)
	case lng < -180 || lng > 180:
		return 0, 0, false, reject("lng", "is %g; allowed: -180 to 180", lng)
	}
	return lat, lng, true, nil
}

func boolean(o *fastjson.Object, key string) (b, ok bool, err error) {
	v := field(o, key)
	if v == nil {
		return false, false, nil
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true, nil
	case fastjson.TypeFalse:
		return false, true, nil
	}
	return false, false, reject(key, "must be true or false, not %s", v.Type())
}

// amount decodes a positive amount of minor units.
func amount(o *fastjson.Object, key string, required bool) (int64, error) {
	n, ok, err := integer(o, key)
	if err != nil {
		return 0, reject(key, "must be a positive integer of minor units")
	}
	if !ok {
		if required {
			return 0, reject(key, "is required (a positive integer of minor units)")
		}
		return 0, nil
	}
	if n <= 0 || n > maxAmount {
		return 0, reject(key, "is %d; must be a positive integer of minor units up to %d", n, int64(maxAmount))
	}
	return n, nil
}

// parseTxnKind is the kind named b, KindNone for none.
func parseTxnKind(b []byte) TxnKind {
	switch string(b) {
	case "purchase":
		return Purchase
	case "transfer":
		return Transfer
	case "reward":
		return Reward
	case "withdrawal":
		return Withdrawal
	case "topup":
		return Topup
	case "refund":
		return Refund
	}
	return KindNone
}

// parsePartyKind is the counterparty kind named b, PartyNone for none.
func parsePartyKind(b []byte) PartyKind {
	switch string(b) {
	case "merchant":
		return Merchant
	case "user":
		return User
	}
	return PartyNone
}

func parseCategory(b []byte) Category {
	switch string(b) {
	case "errand":
		return Errand
	case "delivery":
		return Delivery
	case "repair":
		return Repair
	case "borrow":
		return Borrow
	case "ride":
		return Ride
	case "other":
		return Other
	}
	return CategoryNone
}

// ParseCategory maps a category name to its value; CategoryNone if unknown.
func ParseCategory(s string) Category { return parseCategory([]byte(s)) }

// parseNeedStatus reads a need's status; known is false for a word the
// contract does not name.
func parseNeedStatus(b []byte) (s NeedStatus, known bool) {
	switch string(b) {
	case "open":
		return Open, true
	case "cancelled":
		return Cancelled, true
	case "fulfilled":
		return Fulfilled, true
	}
	return Open, false
}

// parseOutcomeKind is the outcome named b, OutcomeNone for none.
func parseOutcomeKind(b []byte) OutcomeKind {
	switch string(b) {
	case "accepted":
		return Accepted
	case "declined":
		return Declined
	case "completed":
		return Completed
	case "no_show":
		return NoShow
	}
	return OutcomeNone
}
