package events

import (
	"strconv"
	"unicode/utf8"
)

// The Append methods write an event as a contract JSON object. The
// simulator and tests publish with them; they write fields in the contract's
// order and leave out absent optional fields, so Decode(Append(e)) == e.

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

func appendKey(dst []byte, first bool, key string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendFloat(dst []byte, f float64) []byte {
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// AppendJSON appends the ping as JSON.
func (p *Ping) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = appendKey(dst, true, "user_id")
	dst = AppendString(dst, p.UserID)
	dst = appendKey(dst, false, "ts")
	dst = strconv.AppendInt(dst, p.TS, 10)
	dst = appendKey(dst, false, "lat")
	dst = appendFloat(dst, p.Lat)
	dst = appendKey(dst, false, "lng")
	dst = appendFloat(dst, p.Lng)
	if p.AccuracyM != 0 {
		dst = appendKey(dst, false, "accuracy_m")
		dst = appendFloat(dst, p.AccuracyM)
	}
	dst = appendKey(dst, false, "available")
	dst = strconv.AppendBool(dst, p.Available)
	return append(dst, '}')
}

// AppendJSON appends the profile as JSON.
func (p *Profile) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = appendKey(dst, true, "user_id")
	dst = AppendString(dst, p.UserID)
	dst = appendKey(dst, false, "ts")
	dst = strconv.AppendInt(dst, p.TS, 10)
	if p.RegisteredAt != 0 {
		dst = appendKey(dst, false, "registered_at")
		dst = strconv.AppendInt(dst, p.RegisteredAt, 10)
	}
	if p.HasSkills {
		dst = appendKey(dst, false, "skills")
		dst = append(dst, '[')
		n := 0
		for _, c := range Categories {
			if p.Skills.Has(c) {
				if n > 0 {
					dst = append(dst, ',')
				}
				dst = AppendString(dst, c.String())
				n++
			}
		}
		dst = append(dst, ']')
	}
	if p.CreditScore != 0 {
		dst = appendKey(dst, false, "credit_score")
		dst = strconv.AppendInt(dst, int64(p.CreditScore), 10)
	}
	return append(dst, '}')
}

// AppendJSON appends the transaction as JSON.
func (t *Transaction) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = appendKey(dst, true, "txn_id")
	dst = AppendString(dst, t.TxnID)
	dst = appendKey(dst, false, "user_id")
	dst = AppendString(dst, t.UserID)
	dst = appendKey(dst, false, "ts")
	dst = strconv.AppendInt(dst, t.TS, 10)
	dst = appendKey(dst, false, "amount")
	dst = strconv.AppendInt(dst, t.Amount, 10)
	dst = appendKey(dst, false, "currency")
	dst = AppendString(dst, t.Currency)
	dst = appendKey(dst, false, "kind")
	dst = AppendString(dst, t.Kind.String())
	if t.CounterpartyID != "" {
		dst = appendKey(dst, false, "counterparty_id")
		dst = AppendString(dst, t.CounterpartyID)
		dst = appendKey(dst, false, "counterparty_kind")
		dst = AppendString(dst, t.CounterpartyKind.String())
	}
	if t.HasLocation {
		dst = appendKey(dst, false, "lat")
		dst = appendFloat(dst, t.Lat)
		dst = appendKey(dst, false, "lng")
		dst = appendFloat(dst, t.Lng)
	}
	return append(dst, '}')
}

// AppendJSON appends the need as JSON.
func (n *Need) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = appendKey(dst, true, "need_id")
	dst = AppendString(dst, n.NeedID)
	if n.UserID != "" {
		dst = appendKey(dst, false, "user_id")
		dst = AppendString(dst, n.UserID)
	}
	dst = appendKey(dst, false, "ts")
	dst = strconv.AppendInt(dst, n.TS, 10)
	if n.Category != CategoryNone {
		dst = appendKey(dst, false, "category")
		dst = AppendString(dst, n.Category.String())
	}
	if n.HasPlace {
		dst = appendKey(dst, false, "lat")
		dst = appendFloat(dst, n.Lat)
		dst = appendKey(dst, false, "lng")
		dst = appendFloat(dst, n.Lng)
	}
	dst = appendKey(dst, false, "radius_m")
	dst = appendFloat(dst, n.RadiusM)
	dst = appendKey(dst, false, "reward")
	dst = strconv.AppendInt(dst, n.Reward, 10)
	dst = appendKey(dst, false, "currency")
	dst = AppendString(dst, n.Currency)
	if n.ExpiresAt != 0 {
		dst = appendKey(dst, false, "expires_at")
		dst = strconv.AppendInt(dst, n.ExpiresAt, 10)
	}
	dst = appendKey(dst, false, "status")
	dst = AppendString(dst, n.Status.String())
	return append(dst, '}')
}

// AppendJSON appends the outcome as JSON.
func (o *Outcome) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = appendKey(dst, true, "need_id")
	dst = AppendString(dst, o.NeedID)
	dst = appendKey(dst, false, "helper_id")
	dst = AppendString(dst, o.HelperID)
	dst = appendKey(dst, false, "ts")
	dst = strconv.AppendInt(dst, o.TS, 10)
	dst = appendKey(dst, false, "outcome")
	dst = AppendString(dst, o.Outcome.String())
	if o.Rating != 0 {
		dst = appendKey(dst, false, "rating")
		dst = strconv.AppendInt(dst, int64(o.Rating), 10)
	}
	return append(dst, '}')
}
