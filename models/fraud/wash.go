package fraud

import (
	"strings"

	"everywhere/events"
)

// pendingPurchase is a large purchase that a refund may soon undo.
type pendingPurchase struct {
	ms       int64
	amount   int64
	merchant string
	txnID    string
}

// washState is kept only for users who make large purchases.
type washState struct {
	p []pendingPurchase // at most smallSize, oldest first
}

func (d *Detector) washFor(id string) *washState {
	w := d.wash[id]
	if w == nil {
		w = &washState{}
		d.wash[strings.Clone(id)] = w
	}
	return w
}

func (w *washState) add(t *events.Transaction) {
	if len(w.p) == smallSize {
		copy(w.p, w.p[1:])
		w.p = w.p[:smallSize-1]
	}
	w.p = append(w.p, pendingPurchase{ms: t.TS, amount: t.Amount, merchant: strings.Clone(t.CounterpartyID), txnID: strings.Clone(t.TxnID)})
}

// washRefund matches a refund with a large purchase at the same merchant
// made within the window before it; the user's matched pairs within the
// lookback are counted, and min_count of them is a pattern, not bad luck.
func (d *Detector) washRefund(pa *payer, t *events.Transaction, sec uint32, out []Alert) []Alert {
	r := &d.rules.WashRefund
	w := d.wash[t.UserID]
	if w == nil {
		return out
	}
	for i, p := range w.p {
		if p.merchant != t.CounterpartyID || t.TS < p.ms || t.TS-p.ms > r.Window.Milliseconds() || t.Amount*2 < p.amount {
			continue
		}
		w.p = append(w.p[:i], w.p[i+1:]...)
		n := pushSmall(&pa.washSec, &pa.nWash, sec, uint32(r.Lookback.Seconds()))
		if n < r.MinCount {
			return out
		}
		a := d.alert(RuleWashRefund, t, scoreOver(float64(n)/float64(r.MinCount)), High,
			num("refunded_large_purchases", float64(n)), num("min_count", float64(r.MinCount)),
			num("purchase", float64(p.amount)), num("refund", float64(t.Amount)),
			num("refund_after_min", float64((t.TS-p.ms)/60_000)), num("lookback_h", r.Lookback.Hours()))
		a.TxnIDs = append(a.TxnIDs, p.txnID)
		a.finish(d.rules.Version)
		return append(out, a)
	}
	return out
}
