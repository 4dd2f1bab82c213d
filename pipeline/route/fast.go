package route

import (
	"unsafe"

	"everywhere/events"
	"everywhere/fixedjson"
	"everywhere/models/match"
)

// decodeFast reads a helper, need, outcome or watermark record laid out
// exactly as AppendHelper, AppendNeed, AppendOutcome and AppendWatermark
// write it: keys in their order, strings without escapes, numbers as
// strconv writes them. Those are nearly every record a regions partition
// reads, and taking them field by field in order costs a fraction of a
// full JSON parse. A need or outcome, the record's last field, is handed
// whole to the events decoder, which reads the contract's layout field
// by field too, where the full parse wrote it out again to parse it a
// second time. It reports false for anything else, a record that breaks
// any rule Decode applies included, and Decode then parses it in full:
// what is accepted here is a valid record that the full parse reads the
// same.
func (d *Decoder) decodeFast(b []byte, r *Record) bool {
	s := fixedjson.New(b)
	s.Lit(`{"k":"`)
	k := Kind(s.Byte())
	s.Lit(`","src":`)
	src := s.Int()
	s.Lit(`,"wm":`)
	wm := s.Int()
	if !s.OK() || src < 0 || src > 1<<16 {
		return false
	}
	r.Kind, r.Source, r.WM, r.TS, r.Idle = k, int(src), wm, 0, false
	switch k {
	case KindWatermark:
		if s.Peek(',') {
			s.Lit(`,"idle":true`)
			r.Idle = true
		}
	case KindHelper:
		s.Lit(`,"ts":`)
		r.TS = s.Int()
		return readHelper(&s, r) && s.End()
	case KindNeed:
		s.Lit(`,"ts":`)
		r.TS = s.Int()
		r.Moves = 0
		if s.Try(`,"mv":`) {
			mv := s.Int()
			if mv <= 0 || mv > match.MaxMoves {
				return false
			}
			r.Moves = int(mv)
		}
		s.Lit(`,"need":`)
		need := last(&s)
		return need != nil && d.ev.Need(need, &r.Need) == nil
	case KindOutcome:
		s.Lit(`,"ts":`)
		r.TS = s.Int()
		s.Lit(`,"off":`)
		r.Offset = s.Int()
		s.Lit(`,"outcome":`)
		o := last(&s)
		return o != nil && r.Offset >= 0 && d.ev.Outcome(o, &r.Outcome) == nil
	default:
		return false
	}
	return s.End()
}

// readHelper reads the helper of a record as AppendHelper writes it, and
// accepts it only if it passes every rule Decode applies.
func readHelper(s *fixedjson.Scanner, r *Record) bool {
	h := &r.Helper
	s.Lit(`,"user_id":`)
	id := s.Str()
	s.Lit(`,"ping_ts":`)
	h.PingMS = s.Int()
	s.Lit(`,"lat":`)
	h.Lat = s.Float()
	s.Lit(`,"lng":`)
	h.Lng = s.Float()
	s.Lit(`,"available":`)
	h.Available = s.Bool()
	s.Lit(`,"skills":`)
	skills := s.Int()
	s.Lit(`,"credit":`)
	credit := s.Int()
	s.Lit(`,"alert_ts":`)
	h.AlertMS = s.Int()
	if !s.OK() || len(id) == 0 || len(id) > events.MaxIDBytes || skills < 0 || skills > 255 ||
		h.Lat < -90 || h.Lat > 90 || h.Lng < -180 || h.Lng > 180 || r.TS <= 0 || h.PingMS < 0 || h.AlertMS < 0 {
		return false
	}
	h.ID = unsafe.String(unsafe.SliceData(id), len(id)) // a view, as Decoder's doc says
	h.Skills, h.Credit = events.SkillSet(skills), int(credit)
	return true
}

// last returns the value that ends the record, without the record's
// closing brace; nil when nothing is left.
func last(s *fixedjson.Scanner) []byte {
	v := s.Rest()
	if len(v) < 2 || v[len(v)-1] != '}' {
		return nil
	}
	return v[:len(v)-1]
}
