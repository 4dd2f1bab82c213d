package matching

import (
	"math"
	"strconv"

	"everywhere/events"
	"everywhere/models/match"
)

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
