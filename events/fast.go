package events

import "everywhere/fixedjson"

// pingFast reads a ping laid out as Ping.AppendJSON writes it (see
// package fixedjson) and reports whether it did. It accepts only a ping
// that passes every rule of the full parse, and reads it the same; any
// other input, valid or not, is left to the full parse.
//
// Pings are four events in five. Taken field by field in this order a
// ping costs about a third of fastjson's parse and lookups
// (BenchmarkDecodePing against BenchmarkDecodePingOtherLayout).
func pingFast(b []byte, p *Ping) bool {
	s := fixedjson.New(b)
	s.Lit(`{"user_id":`)
	id := s.Str()
	s.Lit(`,"ts":`)
	ts := s.Int()
	s.Lit(`,"lat":`)
	lat := s.Float()
	s.Lit(`,"lng":`)
	lng := s.Float()
	acc := 0.0
	if s.Try(`,"accuracy_m":`) {
		acc = s.Float()
	}
	s.Lit(`,"available":`)
	avail := s.Bool()
	if !s.End() || !ValidID(id) || ts < MinTS || ts > MaxTS || lat < -90 || lat > 90 || lng < -180 || lng > 180 ||
		acc < 0 || acc > 1e6 {
		return false
	}
	*p = Ping{UserID: view(id), TS: ts, Lat: lat, Lng: lng, AccuracyM: acc, Available: avail}
	return true
}

// transactionFast reads a transaction laid out as Transaction.AppendJSON
// writes it, in the deployment's currency, as pingFast reads a ping:
// transactions are the next most frequent events, one in eight.
func (d *Decoder) transactionFast(b []byte, t *Transaction) bool {
	s := fixedjson.New(b)
	s.Lit(`{"txn_id":`)
	txn := s.Str()
	s.Lit(`,"user_id":`)
	user := s.Str()
	s.Lit(`,"ts":`)
	ts := s.Int()
	s.Lit(`,"amount":`)
	amt := s.Int()
	s.Lit(`,"currency":`)
	cur := s.Str()
	s.Lit(`,"kind":`)
	kind := parseTxnKind(s.Str())
	var party []byte
	partyKind := PartyNone
	if s.Try(`,"counterparty_id":`) {
		party = s.Str()
		s.Lit(`,"counterparty_kind":`)
		if partyKind = parsePartyKind(s.Str()); partyKind == PartyNone || !ValidID(party) {
			return false
		}
	}
	var lat, lng float64
	located := s.Try(`,"lat":`)
	if located {
		lat = s.Float()
		s.Lit(`,"lng":`)
		lng = s.Float()
	}
	if !s.End() || !ValidID(txn) || !ValidID(user) || ts < MinTS || ts > MaxTS || amt <= 0 || amt > maxAmount ||
		string(cur) != d.BaseCurrency || kind == KindNone || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return false
	}
	*t = Transaction{TxnID: view(txn), UserID: view(user),
		TS: ts, Amount: amt, Currency: d.BaseCurrency, Kind: kind, CounterpartyKind: partyKind,
		Lat: lat, Lng: lng, HasLocation: located}
	if party != nil {
		t.CounterpartyID = view(party)
	}
	return true
}

// needFast reads a need laid out as Need.AppendJSON writes it, in the
// deployment's currency, as pingFast reads a ping. A need is read three
// times on its way: by its needs partition, by the region that matches it
// (inside a routed record, see route.Decoder) and by the aggregates.
func (d *Decoder) needFast(b []byte, n *Need) bool {
	s := fixedjson.New(b)
	s.Lit(`{"need_id":`)
	need := s.Str()
	var user []byte
	if s.Try(`,"user_id":`) {
		if user = s.Str(); !ValidID(user) {
			return false
		}
	}
	s.Lit(`,"ts":`)
	ts := s.Int()
	cat := CategoryNone
	if s.Try(`,"category":`) {
		if cat = parseCategory(s.Str()); cat == CategoryNone {
			return false
		}
	}
	var lat, lng float64
	placed := s.Try(`,"lat":`)
	if placed {
		lat = s.Float()
		s.Lit(`,"lng":`)
		lng = s.Float()
	}
	s.Lit(`,"radius_m":`)
	radius := s.Float()
	s.Lit(`,"reward":`)
	reward := s.Int()
	s.Lit(`,"currency":`)
	cur := s.Str()
	var expires int64
	if s.Try(`,"expires_at":`) {
		if expires = s.Int(); expires < MinTS || expires > MaxTS || expires <= ts {
			return false
		}
	}
	s.Lit(`,"status":`)
	status, known := parseNeedStatus(s.Str())
	if !s.End() || !known || !ValidID(need) || ts < MinTS || ts > MaxTS || lat < -90 || lat > 90 || lng < -180 || lng > 180 ||
		radius <= 0 || radius > MaxRadiusM || reward < 0 || reward > maxAmount || string(cur) != d.BaseCurrency ||
		status == Open && (user == nil || cat == CategoryNone || !placed || expires == 0) {
		return false
	}
	*n = Need{NeedID: view(need), TS: ts, Category: cat, Lat: lat, Lng: lng, HasPlace: placed, RadiusM: radius,
		Reward: reward, Currency: d.BaseCurrency, ExpiresAt: expires, Status: status}
	if user != nil {
		n.UserID = view(user)
	}
	return true
}

// outcomeFast reads an outcome laid out as Outcome.AppendJSON writes it,
// as pingFast reads a ping. Every outcome reaches every region, inside a
// routed record (see route.Decoder).
func outcomeFast(b []byte, o *Outcome) bool {
	s := fixedjson.New(b)
	s.Lit(`{"need_id":`)
	need := s.Str()
	s.Lit(`,"helper_id":`)
	helper := s.Str()
	s.Lit(`,"ts":`)
	ts := s.Int()
	s.Lit(`,"outcome":`)
	kind := parseOutcomeKind(s.Str())
	rating := int64(0)
	if s.Try(`,"rating":`) {
		if rating = s.Int(); rating < 1 || rating > 5 {
			return false
		}
	}
	if !s.End() || !ValidID(need) || !ValidID(helper) || ts < MinTS || ts > MaxTS || kind == OutcomeNone {
		return false
	}
	*o = Outcome{NeedID: view(need), HelperID: view(helper), TS: ts, Outcome: kind, Rating: int(rating)}
	return true
}
