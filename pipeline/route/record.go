package route

import (
	"fmt"
	"strconv"
	"unsafe"

	"github.com/valyala/fastjson"

	"everywhere/events"
	"everywhere/models/match"
)

// Kind says what a record of the regions topic carries.
type Kind byte

// Record kinds, as the "k" field spells them.
const (
	KindHelper    Kind = 'h' // a helper's whole state
	KindNeed      Kind = 'n' // a need, as the needs topic carries it
	KindOutcome   Kind = 'o' // an outcome, as the outcomes topic carries it
	KindTransfer  Kind = 't' // a large transfer, for the regions' rings (see Transfers)
	KindWatermark Kind = 'w' // only the source's progress
)

// Record is one message of the regions topic. Every record says which
// source wrote it (a partition of the user-keyed or need-keyed topics) and
// that source's watermark: the event time it has reached, below which it
// sends nothing more except late events. Idle says the source has caught
// up with its input and nobody need wait for it until it sends again.
type Record struct {
	Kind   Kind
	Source int
	WM     int64
	TS     int64 // event time of the change; 0 on a watermark
	Idle   bool
	// Offset is where an outcome was read in its partition (its source),
	// -1 when the record does not say: a matcher learns each outcome once
	// although its source sends it again after a restart.
	Offset int64
	// Moves, on a need, is how many times it moved to another partition
	// of the regions topic before this record (see Needs): the versions
	// of its lists start above those of the partitions it left.
	Moves    int
	Helper   match.HelperState
	Need     events.Need
	Outcome  events.Outcome
	Transfer Transfer
}

// Transfer is a large transfer a user partition scored: money that may go
// round a ring. Every region hears of every one (see Transfers).
type Transfer struct {
	From, To, TxnID string
	Amount          int64
}

// AppendHelper writes a helper record.
func AppendHelper(dst []byte, src int, wm, ts int64, h *match.HelperState) []byte {
	dst = appendHead(dst, KindHelper, src, wm)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"user_id":`...)
	dst = events.AppendString(dst, h.ID)
	dst = append(dst, `,"ping_ts":`...)
	dst = strconv.AppendInt(dst, h.PingMS, 10)
	dst = append(dst, `,"lat":`...)
	dst = strconv.AppendFloat(dst, h.Lat, 'f', -1, 64)
	dst = append(dst, `,"lng":`...)
	dst = strconv.AppendFloat(dst, h.Lng, 'f', -1, 64)
	dst = append(dst, `,"available":`...)
	dst = strconv.AppendBool(dst, h.Available)
	dst = append(dst, `,"skills":`...)
	dst = strconv.AppendUint(dst, uint64(h.Skills), 10)
	dst = append(dst, `,"credit":`...)
	dst = strconv.AppendInt(dst, int64(h.Credit), 10)
	dst = append(dst, `,"alert_ts":`...)
	dst = strconv.AppendInt(dst, h.AlertMS, 10)
	return append(dst, '}')
}

// AppendNeed writes a need record: the need as the contract encodes it,
// after moves moves to another partition (written only when above 0).
func AppendNeed(dst []byte, src int, wm int64, moves int, n *events.Need) []byte {
	dst = appendHead(dst, KindNeed, src, wm)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, n.TS, 10)
	if moves > 0 {
		dst = append(dst, `,"mv":`...)
		dst = strconv.AppendInt(dst, int64(moves), 10)
	}
	dst = append(dst, `,"need":`...)
	dst = n.AppendJSON(dst)
	return append(dst, '}')
}

// AppendOutcome writes an outcome record: the outcome as the contract
// encodes it, read at offset in the source's partition.
func AppendOutcome(dst []byte, src int, wm, offset int64, o *events.Outcome) []byte {
	dst = appendHead(dst, KindOutcome, src, wm)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, o.TS, 10)
	dst = append(dst, `,"off":`...)
	dst = strconv.AppendInt(dst, offset, 10)
	dst = append(dst, `,"outcome":`...)
	dst = o.AppendJSON(dst)
	return append(dst, '}')
}

// AppendTransfer writes a transfer record: tr made at event time ts.
func AppendTransfer(dst []byte, src int, wm, ts int64, tr *Transfer) []byte {
	dst = appendHead(dst, KindTransfer, src, wm)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"user_id":`...)
	dst = events.AppendString(dst, tr.From)
	dst = append(dst, `,"to":`...)
	dst = events.AppendString(dst, tr.To)
	dst = append(dst, `,"txn_id":`...)
	dst = events.AppendString(dst, tr.TxnID)
	dst = append(dst, `,"amount":`...)
	dst = strconv.AppendInt(dst, tr.Amount, 10)
	return append(dst, '}')
}

// AppendWatermark writes a record of progress only.
func AppendWatermark(dst []byte, src int, wm int64, idle bool) []byte {
	dst = appendHead(dst, KindWatermark, src, wm)
	if idle {
		dst = append(dst, `,"idle":true`...)
	}
	return append(dst, '}')
}

func appendHead(dst []byte, k Kind, src int, wm int64) []byte {
	dst = append(dst, `{"k":"`...)
	dst = append(dst, byte(k))
	dst = append(dst, `","src":`...)
	dst = strconv.AppendInt(dst, int64(src), 10)
	dst = append(dst, `,"wm":`...)
	return strconv.AppendInt(dst, wm, 10)
}

// Decoder reads records of the regions topic. The engine writes them, but
// they are input all the same: a bad one is rejected, not trusted. Strings
// of a decoded record are views, valid until the next Decode and no longer
// than the record's bytes.
type Decoder struct {
	p   fastjson.Parser
	ev  events.Decoder // a value: a need or outcome decodes into the record's own parse
	buf []byte
}

// NewDecoder returns a decoder; needs are checked against the base currency.
func NewDecoder(baseCurrency string) *Decoder {
	return &Decoder{ev: events.Decoder{BaseCurrency: baseCurrency}}
}

func bad(field, reason string) error { return &events.Error{Field: field, Reason: reason} }

// Decode reads one record into r: in the layout the engine writes, field
// by field (decodeFast); otherwise, or if that finds it invalid, with a
// full JSON parse, which says what is wrong.
func (d *Decoder) Decode(b []byte, r *Record) error {
	if d.decodeFast(b, r) {
		return nil
	}
	return d.decodeFull(b, r)
}

func (d *Decoder) decodeFull(b []byte, r *Record) error {
	v, err := d.p.ParseBytes(b)
	if err != nil {
		return bad("", "not valid JSON: "+err.Error())
	}
	k := v.GetStringBytes("k")
	if len(k) != 1 {
		return bad("k", kinds)
	}
	r.Kind = Kind(k[0])
	r.Source = v.GetInt("src")
	r.WM = v.GetInt64("wm")
	r.TS = v.GetInt64("ts")
	r.Idle = v.GetBool("idle")
	if r.Source < 0 || r.Source > 1<<16 {
		return bad("src", "must be a source number from 0 to 65536")
	}
	switch r.Kind {
	case KindWatermark:
		return nil
	case KindHelper:
		return d.helper(v, r)
	case KindNeed:
		r.Moves = 0
		if mv := v.Get("mv"); mv != nil {
			if r.Moves, err = mv.Int(); err != nil || r.Moves < 0 || r.Moves > match.MaxMoves {
				return bad("mv", fmt.Sprintf("must be a count of moves from 0 to %d", match.MaxMoves))
			}
		}
		nv := v.Get("need")
		if nv == nil || nv.Type() != fastjson.TypeObject {
			return bad("need", "must be a need object")
		}
		d.buf = nv.MarshalTo(d.buf[:0])
		return d.ev.Need(d.buf, &r.Need)
	case KindOutcome:
		ov := v.Get("outcome")
		if ov == nil || ov.Type() != fastjson.TypeObject {
			return bad("outcome", "must be an outcome object")
		}
		r.Offset = -1
		if o := v.Get("off"); o != nil {
			if r.Offset, err = o.Int64(); err != nil || r.Offset < 0 {
				return bad("off", "must be an offset, 0 or more")
			}
		}
		d.buf = ov.MarshalTo(d.buf[:0])
		return d.ev.Outcome(d.buf, &r.Outcome)
	case KindTransfer:
		return transfer(v, r)
	}
	return bad("k", kinds)
}

const kinds = `must be "h", "n", "o", "t" or "w"`

func transfer(v *fastjson.Value, r *Record) error {
	tr := &r.Transfer
	ids := [3]*string{&tr.From, &tr.To, &tr.TxnID}
	for i, name := range [3]string{"user_id", "to", "txn_id"} {
		b := v.GetStringBytes(name)
		if len(b) == 0 || len(b) > events.MaxIDBytes {
			return bad(name, "must be 1 to 64 bytes")
		}
		*ids[i] = unsafe.String(unsafe.SliceData(b), len(b)) // a view, as the package doc says
	}
	tr.Amount = v.GetInt64("amount")
	if r.TS <= 0 || tr.Amount <= 0 {
		return bad("amount", "ts and amount must be positive")
	}
	return nil
}

func (d *Decoder) helper(v *fastjson.Value, r *Record) error {
	h := &r.Helper
	id := v.GetStringBytes("user_id")
	if len(id) == 0 || len(id) > events.MaxIDBytes {
		return bad("user_id", "must be 1 to 64 bytes")
	}
	h.ID = unsafe.String(unsafe.SliceData(id), len(id)) // a view, as the package doc says
	h.PingMS = v.GetInt64("ping_ts")
	h.Lat, h.Lng = v.GetFloat64("lat"), v.GetFloat64("lng")
	if h.Lat < -90 || h.Lat > 90 || h.Lng < -180 || h.Lng > 180 {
		return bad("lat", "lat and lng must be WGS84 degrees")
	}
	h.Available = v.GetBool("available")
	h.Skills = events.SkillSet(v.GetUint("skills"))
	h.Credit = v.GetInt("credit")
	h.AlertMS = v.GetInt64("alert_ts")
	if r.TS <= 0 || h.PingMS < 0 || h.AlertMS < 0 {
		return bad("ts", "ts must be positive, ping_ts and alert_ts not negative")
	}
	return nil
}
