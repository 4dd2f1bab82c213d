package route

import (
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson/fastfloat"

	"everywhere/events"
)

// decodeFast reads a helper, outcome or watermark record laid out exactly
// as AppendHelper, AppendOutcome and AppendWatermark write it: keys in
// their order, strings without escapes, numbers as strconv writes them.
// Those are nearly every record a regions partition reads, and taking
// them field by field in order costs a fraction of a full JSON parse.
// It reports false for anything else, a need or a record that breaks any
// rule Decode applies included, and Decode then parses it in full: what
// is accepted here is a valid record that the full parse reads the same.
func (d *Decoder) decodeFast(b []byte, r *Record) bool {
	s := scanner{b: b, ok: true}
	s.lit(`{"k":"`)
	if !s.ok || s.i >= len(b) {
		return false
	}
	k := Kind(b[s.i])
	s.i++
	s.lit(`","src":`)
	src := s.int()
	s.lit(`,"wm":`)
	wm := s.int()
	if !s.ok || src < 0 || src > 1<<16 {
		return false
	}
	r.Kind, r.Source, r.WM, r.TS, r.Idle = k, int(src), wm, 0, false
	switch k {
	case KindWatermark:
		if s.peek(',') {
			s.lit(`,"idle":true`)
			r.Idle = true
		}
	case KindHelper:
		s.lit(`,"ts":`)
		r.TS = s.int()
		return s.helper(r) && s.end()
	case KindOutcome:
		s.lit(`,"ts":`)
		r.TS = s.int()
		s.lit(`,"off":`)
		r.Offset = s.int()
		s.lit(`,"outcome":`)
		return r.Offset >= 0 && s.outcome(&r.Outcome) && s.end()
	default:
		return false
	}
	return s.end()
}

func (s *scanner) helper(r *Record) bool {
	h := &r.Helper
	s.lit(`,"user_id":`)
	id := s.str()
	s.lit(`,"ping_ts":`)
	h.PingMS = s.int()
	s.lit(`,"lat":`)
	h.Lat = s.float()
	s.lit(`,"lng":`)
	h.Lng = s.float()
	s.lit(`,"available":`)
	h.Available = s.boolean()
	s.lit(`,"skills":`)
	skills := s.int()
	s.lit(`,"credit":`)
	credit := s.int()
	s.lit(`,"alert_ts":`)
	h.AlertMS = s.int()
	if !s.ok || len(id) == 0 || len(id) > events.MaxIDBytes || skills < 0 || skills > 255 ||
		h.Lat < -90 || h.Lat > 90 || h.Lng < -180 || h.Lng > 180 || r.TS <= 0 || h.PingMS < 0 || h.AlertMS < 0 {
		return false
	}
	h.ID = unsafe.String(unsafe.SliceData(id), len(id)) // a view, as Decoder's doc says
	h.Skills, h.Credit = events.SkillSet(skills), int(credit)
	return true
}

// outcome reads an outcome as events.Outcome.AppendJSON writes it, and
// accepts it only if it passes every rule of events.Decoder.Outcome.
func (s *scanner) outcome(o *events.Outcome) bool {
	s.lit(`{"need_id":`)
	need := s.str()
	s.lit(`,"helper_id":`)
	helper := s.str()
	s.lit(`,"ts":`)
	ts := s.int()
	s.lit(`,"outcome":`)
	kind := s.str()
	rating := int64(0)
	if s.peek(',') {
		s.lit(`,"rating":`)
		if rating = s.int(); rating < 1 || rating > 5 {
			return false
		}
	}
	s.lit(`}`)
	if !s.ok || !validID(need) || !validID(helper) || ts < events.MinTS || ts > events.MaxTS {
		return false
	}
	*o = events.Outcome{NeedID: unsafe.String(unsafe.SliceData(need), len(need)),
		HelperID: unsafe.String(unsafe.SliceData(helper), len(helper)), TS: ts, Rating: int(rating)}
	switch string(kind) {
	case "accepted":
		o.Outcome = events.Accepted
	case "declined":
		o.Outcome = events.Declined
	case "completed":
		o.Outcome = events.Completed
	case "no_show":
		o.Outcome = events.NoShow
	default:
		return false
	}
	return true
}

func validID(b []byte) bool { return len(b) > 0 && len(b) <= events.MaxIDBytes && utf8.Valid(b) }

// scanner reads b from i; ok turns false at the first byte out of layout,
// and every read after that is a no-op returning a zero value.
type scanner struct {
	b  []byte
	i  int
	ok bool
}

func (s *scanner) lit(l string) {
	if s.ok && len(s.b)-s.i >= len(l) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return
	}
	s.ok = false
}

func (s *scanner) peek(c byte) bool { return s.ok && s.i < len(s.b) && s.b[s.i] == c }

// end takes the closing brace, which must be the last byte.
func (s *scanner) end() bool {
	s.lit(`}`)
	return s.ok && s.i == len(s.b)
}

// int reads an integer as strconv.AppendInt writes it: an optional minus
// and 1 to 19 digits, no leading zero, within int64.
func (s *scanner) int() int64 {
	if !s.ok {
		return 0
	}
	neg := s.peek('-')
	if neg {
		s.i++
	}
	start, n := s.i, uint64(0)
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.i-start < 20 {
		n = n*10 + uint64(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if digits == 0 || digits > 19 || digits > 1 && s.b[start] == '0' || n > limit {
		s.ok = false
		return 0
	}
	if neg {
		return int64(-n)
	}
	return int64(n)
}

// float reads a number as strconv.AppendFloat(dst, f, 'f', -1, 64)
// writes it, with fastjson's own conversion, so that it reads the same as
// the full parse.
func (s *scanner) float() float64 {
	if !s.ok {
		return 0
	}
	start := s.i
	if s.peek('-') {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	whole := s.i - digits
	if whole == 0 || whole > 1 && s.b[digits] == '0' {
		s.ok = false
		return 0
	}
	if s.peek('.') {
		s.i++
		frac := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == frac {
			s.ok = false
			return 0
		}
	}
	return fastfloat.ParseBestEffort(unsafe.String(&s.b[start], s.i-start))
}

func (s *scanner) boolean() bool {
	switch {
	case s.peek('t'):
		s.lit("true")
		return s.ok
	default:
		s.lit("false")
		return false
	}
}

// str reads a string without escapes or control bytes and returns its
// bytes, a view of b.
func (s *scanner) str() []byte {
	s.lit(`"`)
	if !s.ok {
		return nil
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1]
		case c < 0x20 || c == '\\':
			s.ok = false
			return nil
		}
		s.i++
	}
	s.ok = false
	return nil
}
