package detect

import (
	"strconv"

	"github.com/valyala/fastjson"

	"everywhere/events"
	"everywhere/models/fraud"
)

// AppendPath writes a money path as the paths topic carries it.
func AppendPath(dst []byte, p *fraud.Path) []byte {
	dst = append(dst, `{"to":`...)
	dst = events.AppendString(dst, p.To)
	dst = append(dst, `,"users":[`...)
	for i, u := range p.Users {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = events.AppendString(dst, u)
	}
	dst = append(dst, `],"txn_ids":[`...)
	for i, id := range p.TxnIDs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = events.AppendString(dst, id)
	}
	dst = append(dst, `],"first_ts":`...)
	dst = strconv.AppendInt(dst, p.FirstMS, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, p.LastMS, 10)
	dst = append(dst, `,"amount":`...)
	dst = strconv.AppendInt(dst, p.Amount, 10)
	return append(dst, '}')
}

// pathDecoder reads the paths topic; the engine writes it, but it is still
// input and gets the same care: a bad message is rejected, not trusted.
type pathDecoder struct{ p fastjson.Parser }

// decode reads a path into out, or a notice of a ring member's high
// alert (notice true: the user in out.To and the alert's time in
// out.LastMS), which the topic may hold and the engine no longer needs.
func (d *pathDecoder) decode(b []byte, out *fraud.Path) (notice bool, err error) {
	v, err := d.p.ParseBytes(b)
	if err != nil {
		return false, &events.Error{Reason: "not valid JSON: " + err.Error()}
	}
	to := v.GetStringBytes("to")
	if a := v.Get("alert_ts"); a != nil {
		ms, err := a.Int64()
		if len(to) == 0 || err != nil || ms <= 0 {
			return false, &events.Error{Reason: "not an alert notice: needs to and a positive alert_ts"}
		}
		out.To, out.LastMS = string(to), ms
		return true, nil
	}
	users := v.GetArray("users")
	txns := v.GetArray("txn_ids")
	if len(to) == 0 || len(users) == 0 || len(users) != len(txns) {
		return false, &events.Error{Reason: "not a money path: needs to, and users and txn_ids of equal length"}
	}
	out.To = string(to)
	out.Users = out.Users[:0]
	out.TxnIDs = out.TxnIDs[:0]
	for i := range users {
		u, id := users[i].GetStringBytes(), txns[i].GetStringBytes()
		if len(u) == 0 || len(id) == 0 {
			return false, &events.Error{Field: "users", Reason: "must be non-empty strings"}
		}
		out.Users = append(out.Users, string(u))
		out.TxnIDs = append(out.TxnIDs, string(id))
	}
	out.FirstMS = v.GetInt64("first_ts")
	out.LastMS = v.GetInt64("ts")
	out.Amount = v.GetInt64("amount")
	if out.FirstMS <= 0 || out.LastMS < out.FirstMS || out.Amount <= 0 {
		return false, &events.Error{Reason: "not a money path: first_ts, ts and amount must be positive and ordered"}
	}
	return false, nil
}
