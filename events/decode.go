package events

import (
	"github.com/valyala/fastjson"
)

// Decoder decodes contract messages. It is not safe for concurrent use: each
// partition worker owns one, which is what keeps decoding free of locks and,
// for valid input, of allocations.
type Decoder struct {
	p fastjson.Parser
	// BaseCurrency is the deployment's currency; money in any other currency
	// is rejected, since the engine's sums and thresholds are in one currency.
	BaseCurrency string
}

// NewDecoder returns a decoder for a deployment in the given base currency.
func NewDecoder(baseCurrency string) *Decoder { return &Decoder{BaseCurrency: baseCurrency} }

func (d *Decoder) object(b []byte) (*fastjson.Object, error) {
	v, err := d.p.ParseBytes(b)
	if err != nil {
		return nil, &Error{Reason: "not valid JSON: " + err.Error()}
	}
	o, err := v.Object()
	if err != nil {
		return nil, &Error{Reason: "not a JSON object but " + v.Type().String()}
	}
	return o, nil
}

func (d *Decoder) currency(o *fastjson.Object, required bool) (string, error) {
	b, err := word(o, "currency", required)
	if err != nil || b == nil {
		return "", err
	}
	if string(b) != d.BaseCurrency {
		if len(b) != 3 {
			return "", reject("currency", "%q is not an ISO 4217 code; this deployment takes %s", b, d.BaseCurrency)
		}
		return "", reject("currency", "is %s; this deployment takes only %s", b, d.BaseCurrency)
	}
	return d.BaseCurrency, nil
}

// Ping decodes a ping into p: laid out as Ping.AppendJSON writes it
// field by field (pingFast), otherwise with a full parse.
func (d *Decoder) Ping(b []byte, p *Ping) (err error) {
	if pingFast(b, p) {
		return nil
	}
	return d.pingFull(b, p)
}

// pingFull decodes a ping of any layout into p, or says what is wrong.
func (d *Decoder) pingFull(b []byte, p *Ping) (err error) {
	o, err := d.object(b)
	if err != nil {
		return err
	}
	*p = Ping{}
	if p.UserID, err = id(o, "user_id", true); err != nil {
		return err
	}
	if p.TS, err = millis(o, "ts", true); err != nil {
		return err
	}
	if p.Lat, p.Lng, _, err = position(o, true); err != nil {
		return err
	}
	acc, ok, err := number(o, "accuracy_m")
	if err != nil {
		return err
	}
	if ok && (acc < 0 || acc > 1e6) {
		return reject("accuracy_m", "is %g; allowed: 0 to 1000000 metres", acc)
	}
	p.AccuracyM = acc
	if p.Available, _, err = boolean(o, "available"); err != nil {
		return err
	}
	return nil
}

// Profile decodes a profile into p.
func (d *Decoder) Profile(b []byte, p *Profile) (err error) {
	o, err := d.object(b)
	if err != nil {
		return err
	}
	*p = Profile{}
	if p.UserID, err = id(o, "user_id", true); err != nil {
		return err
	}
	if p.TS, err = millis(o, "ts", true); err != nil {
		return err
	}
	if p.RegisteredAt, err = millis(o, "registered_at", false); err != nil {
		return err
	}
	if v := field(o, "skills"); v != nil {
		arr, err := v.Array()
		if err != nil {
			return reject("skills", "must be an array of strings")
		}
		p.HasSkills = true
		for _, s := range arr {
			sb, err := s.StringBytes()
			if err != nil {
				return reject("skills", "must be an array of strings")
			}
			// Skills outside the need categories are allowed and ignored:
			// only a skill that matches a category changes a ranking.
			if c := parseCategory(sb); c != CategoryNone {
				p.Skills |= 1 << c
			}
		}
	}
	score, ok, err := integer(o, "credit_score")
	if err != nil {
		return err
	}
	if ok {
		if score < MinCredit || score > MaxCredit {
			return reject("credit_score", "is %d; allowed: %d to %d", score, MinCredit, MaxCredit)
		}
		p.CreditScore = int(score)
	}
	return nil
}

// Transaction decodes a transaction into t: laid out as
// Transaction.AppendJSON writes it field by field (transactionFast),
// otherwise with a full parse.
func (d *Decoder) Transaction(b []byte, t *Transaction) (err error) {
	if d.transactionFast(b, t) {
		return nil
	}
	return d.transactionFull(b, t)
}

// transactionFull decodes a transaction of any layout into t, or says
// what is wrong.
func (d *Decoder) transactionFull(b []byte, t *Transaction) (err error) {
	o, err := d.object(b)
	if err != nil {
		return err
	}
	*t = Transaction{}
	if t.TxnID, err = id(o, "txn_id", true); err != nil {
		return err
	}
	if t.UserID, err = id(o, "user_id", true); err != nil {
		return err
	}
	if t.TS, err = millis(o, "ts", true); err != nil {
		return err
	}
	if t.Amount, err = amount(o, "amount", true); err != nil {
		return err
	}
	if t.Currency, err = d.currency(o, true); err != nil {
		return err
	}
	kind, err := word(o, "kind", true)
	if err != nil {
		return err
	}
	if t.Kind = parseTxnKind(kind); t.Kind == KindNone {
		return reject("kind", "is %q; allowed: purchase, transfer, reward, withdrawal, topup, refund", kind)
	}
	if t.CounterpartyID, err = id(o, "counterparty_id", false); err != nil {
		return err
	}
	ck, err := word(o, "counterparty_kind", false)
	if err != nil {
		return err
	}
	if t.CounterpartyKind = parsePartyKind(ck); ck != nil && t.CounterpartyKind == PartyNone {
		return reject("counterparty_kind", "is %q; allowed: merchant, user", ck)
	}
	if t.CounterpartyKind != PartyNone && t.CounterpartyID == "" {
		return reject("counterparty_id", "is required when counterparty_kind is given")
	}
	if t.CounterpartyID != "" && t.CounterpartyKind == PartyNone {
		return reject("counterparty_kind", "is required when counterparty_id is given (merchant or user)")
	}
	if t.Lat, t.Lng, t.HasLocation, err = position(o, false); err != nil {
		return err
	}
	return nil
}

// Need decodes a need into n. A message whose status is cancelled or
// fulfilled is a status update: it needs only need_id, ts and status, since
// it refers to a need the engine has seen; any other field it carries is
// still checked.
func (d *Decoder) Need(b []byte, n *Need) (err error) {
	if d.needFast(b, n) {
		return nil
	}
	return d.needFull(b, n)
}

// needFull decodes a need of any layout into n, or says what is wrong.
func (d *Decoder) needFull(b []byte, n *Need) (err error) {
	o, err := d.object(b)
	if err != nil {
		return err
	}
	*n = Need{}
	if n.NeedID, err = id(o, "need_id", true); err != nil {
		return err
	}
	if n.TS, err = millis(o, "ts", true); err != nil {
		return err
	}
	status, err := word(o, "status", false)
	if err != nil {
		return err
	}
	n.Status = Open
	if status != nil {
		var known bool
		if n.Status, known = parseNeedStatus(status); !known {
			return reject("status", "is %q; allowed: open, cancelled, fulfilled", status)
		}
	}
	full := n.Status == Open
	if n.UserID, err = id(o, "user_id", full); err != nil {
		return err
	}
	cat, err := word(o, "category", full)
	if err != nil {
		return err
	}
	if cat != nil {
		if n.Category = parseCategory(cat); n.Category == CategoryNone {
			return reject("category", "is %q; allowed: errand, delivery, repair, borrow, ride, other", cat)
		}
	}
	if n.Lat, n.Lng, n.HasPlace, err = position(o, full); err != nil {
		return err
	}
	r, ok, err := number(o, "radius_m")
	if err != nil {
		return err
	}
	n.RadiusM = DefaultRadiusM
	if ok {
		if r <= 0 || r > MaxRadiusM {
			return reject("radius_m", "is %g; allowed: above 0 up to %d metres", r, MaxRadiusM)
		}
		n.RadiusM = r
	}
	reward, ok, err := integer(o, "reward")
	if err != nil {
		return reject("reward", "must be an integer of minor units")
	}
	if ok && (reward < 0 || reward > maxAmount) {
		return reject("reward", "is %d; allowed: 0 to %d minor units", reward, int64(maxAmount))
	}
	n.Reward = reward
	if n.Currency, err = d.currency(o, false); err != nil {
		return err
	}
	if n.Currency == "" {
		n.Currency = d.BaseCurrency
	}
	if n.ExpiresAt, err = millis(o, "expires_at", full); err != nil {
		return err
	}
	if n.ExpiresAt != 0 && n.ExpiresAt <= n.TS {
		return reject("expires_at", "is %d, not after ts %d; a need must expire after it is posted", n.ExpiresAt, n.TS)
	}
	return nil
}

// Outcome decodes an outcome into out.
func (d *Decoder) Outcome(b []byte, out *Outcome) (err error) {
	if outcomeFast(b, out) {
		return nil
	}
	return d.outcomeFull(b, out)
}

// outcomeFull decodes an outcome of any layout into out, or says what is
// wrong.
func (d *Decoder) outcomeFull(b []byte, out *Outcome) (err error) {
	o, err := d.object(b)
	if err != nil {
		return err
	}
	*out = Outcome{}
	if out.NeedID, err = id(o, "need_id", true); err != nil {
		return err
	}
	if out.HelperID, err = id(o, "helper_id", true); err != nil {
		return err
	}
	if out.TS, err = millis(o, "ts", true); err != nil {
		return err
	}
	kind, err := word(o, "outcome", true)
	if err != nil {
		return err
	}
	if out.Outcome = parseOutcomeKind(kind); out.Outcome == OutcomeNone {
		return reject("outcome", "is %q; allowed: accepted, declined, completed, no_show", kind)
	}
	rating, ok, err := integer(o, "rating")
	if err != nil {
		return err
	}
	if ok {
		if rating < 1 || rating > 5 {
			return reject("rating", "is %d; allowed: 1 to 5", rating)
		}
		out.Rating = int(rating)
	}
	return nil
}
