package matching

import (
	"math"
	"strconv"
	"sync"
	"time"

	"everywhere/events"
	"everywhere/models/match"
	"everywhere/pipeline/sink"
)

// SuggestionsTable is where every published list is written, one row per
// suggested helper; (need_id, version, rank) is its key.
var SuggestionsTable = sink.Table{Name: "suggestions", Columns: []string{"need_id", "version", "rank", "requester_id", "helper_id",
	"score", "distance_m", "reason_distance", "reason_reliability", "reason_skill", "reason_credit", "reason_recency",
	"model", "event_ts", "event_time"}}

// AppendList writes a list as the suggestions topic carries it. ts is the
// processing time; everything else is a function of the input.
func AppendList(dst []byte, l *match.List, model string, ts int64) []byte {
	dst = append(dst, `{"need_id":`...)
	dst = events.AppendString(dst, l.NeedID)
	dst = append(dst, `,"requester_id":`...)
	dst = events.AppendString(dst, l.RequesterID)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendUint(dst, uint64(l.Version), 10)
	dst = append(dst, `,"event_ts":`...)
	dst = strconv.AppendInt(dst, l.EventTS, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"model":`...)
	dst = events.AppendString(dst, model)
	dst = append(dst, `,"suggestions":[`...)
	for i := range l.Suggestions {
		s := &l.Suggestions[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"rank":`...)
		dst = strconv.AppendInt(dst, int64(i+1), 10)
		dst = append(dst, `,"helper_id":`...)
		dst = events.AppendString(dst, s.HelperID)
		dst = append(dst, `,"score":`...)
		dst = appendRounded(dst, s.Score)
		dst = append(dst, `,"distance_m":`...)
		dst = strconv.AppendInt(dst, int64(math.Round(s.DistanceM)), 10)
		r := &s.Reasons
		dst = append(dst, `,"reasons":{"distance":`...)
		dst = appendRounded(dst, r.Distance)
		dst = append(dst, `,"reliability":`...)
		dst = appendRounded(dst, r.Reliability)
		dst = append(dst, `,"skill":`...)
		dst = appendRounded(dst, r.Skill)
		dst = append(dst, `,"credit":`...)
		dst = appendRounded(dst, r.Credit)
		dst = append(dst, `,"recency":`...)
		dst = appendRounded(dst, r.Recency)
		dst = append(dst, `}}`...)
	}
	return append(dst, `]}`...)
}

// appendRounded writes a score to four decimals: finer digits carry no
// meaning and would only make lists differ in noise.
//
// A score and its parts lie in [0, 1], and six of them go out per helper
// suggested: those are written from their count of ten-thousandths, with
// the digits strconv gives (the shortest form, no trailing zeros) at a
// fraction of its cost (16 ns against 44; strconv was 4% of the matching
// stage's CPU on a catch-up). Anything else goes through strconv.
func appendRounded(dst []byte, f float64) []byte {
	r := math.Round(f * 1e4)
	if !(r >= 0 && r <= 1e4) || math.Signbit(r) {
		return strconv.AppendFloat(dst, r/1e4, 'f', -1, 64)
	}
	n := int(r)
	dst = append(dst, byte('0'+n/1e4))
	frac := n % 1e4
	if frac == 0 {
		return dst
	}
	digits := [5]byte{'.', byte('0' + frac/1000), byte('0' + frac/100%10), byte('0' + frac/10%10), byte('0' + frac%10)}
	end := len(digits)
	for digits[end-1] == '0' {
		end--
	}
	return append(dst, digits[:end]...)
}

// rows gathers the suggestion rows of a run, column by column. The
// string columns are sink.Strings: a run's rows wait up to a flush
// interval for their insert, and a []string per column held a pointer
// per row for the collector to follow meanwhile.
type rows struct {
	need, requester, helper, model sink.Strings
	version                        []uint32
	rank                           []uint8
	score, dist                    []float32
	rDist, rRel, rSkill, rCred     []float32
	rRec                           []float32
	eventTS                        []uint64
	eventTime                      []int64 // Unix seconds
}

func (r *rows) add(l *match.List, model string) {
	et := time.UnixMilli(l.EventTS).Unix()
	for i := range l.Suggestions {
		s := &l.Suggestions[i]
		r.need.Add(l.NeedID)
		r.version = append(r.version, l.Version)
		r.rank = append(r.rank, uint8(i+1))
		r.requester.Add(l.RequesterID)
		r.helper.Add(s.HelperID)
		r.score = append(r.score, float32(s.Score))
		r.dist = append(r.dist, float32(s.DistanceM))
		r.rDist = append(r.rDist, float32(s.Reasons.Distance))
		r.rRel = append(r.rRel, float32(s.Reasons.Reliability))
		r.rSkill = append(r.rSkill, float32(s.Reasons.Skill))
		r.rCred = append(r.rCred, float32(s.Reasons.Credit))
		r.rRec = append(r.rRec, float32(s.Reasons.Recency))
		r.model.Add(model)
		r.eventTS = append(r.eventTS, uint64(l.EventTS))
		r.eventTime = append(r.eventTime, et)
	}
}

// take hands the gathered rows over and starts afresh, in the columns of
// rows already written if there are some (sentRows), with room for as
// many rows as this run had. Fresh columns for every run were a twelfth
// of the bytes the engine allocated at 60,000 events/s; columns reused as
// they came, smaller than the run that filled them where runs grow (a
// catch-up's first seconds), grew a quarter at a time as rows were added,
// a copy at each step.
func (r *rows) take() *sink.Rows {
	n := len(r.version)
	if n == 0 {
		return &sink.Rows{}
	}
	taken := new(rows)
	*taken = *r
	out := &sink.Rows{N: n, Cols: []any{&taken.need, taken.version, taken.rank, &taken.requester, &taken.helper, taken.score, taken.dist,
		taken.rDist, taken.rRel, taken.rSkill, taken.rCred, taken.rRec, &taken.model, taken.eventTS, taken.eventTime}, Sent: taken.sent}
	*r = rows{}
	if s, _ := sentRows.Get().(*rows); s != nil {
		*r = *s
	}
	room(&r.version, n)
	room(&r.rank, n)
	room(&r.score, n)
	room(&r.dist, n)
	room(&r.rDist, n)
	room(&r.rRel, n)
	room(&r.rSkill, n)
	room(&r.rCred, n)
	room(&r.rRec, n)
	room(&r.eventTS, n)
	room(&r.eventTime, n)
	// Each string column gets room for as many bytes as its taken one.
	for _, c := range [...][2]*sink.Strings{{&r.need, &taken.need}, {&r.requester, &taken.requester},
		{&r.helper, &taken.helper}, {&r.model, &taken.model}} {
		c[0].Grow(n, len(c[1].Bytes)/n+1)
	}
	return out
}

// room gives the empty column *c room for n rows: a new one if it has
// less.
func room[T any](c *[]T, n int) {
	if cap(*c) < n {
		*c = make([]T, 0, n)
	}
}

// sentRows holds the columns of rows written, emptied: any partition's
// next run may fill them.
var sentRows sync.Pool // of *rows

// sent empties the columns of rows written and gives them to sentRows.
func (r *rows) sent() {
	r.need.Reset()
	r.requester.Reset()
	r.helper.Reset()
	r.model.Reset()
	*r = rows{need: r.need, requester: r.requester, helper: r.helper, model: r.model,
		version: r.version[:0], rank: r.rank[:0], score: r.score[:0], dist: r.dist[:0],
		rDist: r.rDist[:0], rRel: r.rRel[:0], rSkill: r.rSkill[:0], rCred: r.rCred[:0],
		rRec: r.rRec[:0], eventTS: r.eventTS[:0], eventTime: r.eventTime[:0]}
	sentRows.Put(r)
}
