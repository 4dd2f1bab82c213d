package fraud

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"

	"everywhere/events"
)

// The rules, as alerts name them.
const (
	RuleAmountSpike      = "amount_spike"
	RuleVelocity         = "velocity"
	RuleImpossibleTravel = "impossible_travel"
	RuleStructuring      = "structuring"
	RuleNewAccountBurst  = "new_account_burst"
	RuleRoundTrip        = "round_trip"
	RuleWashRefund       = "wash_refund"
)

// RuleNames lists every rule, in the contract's order.
var RuleNames = []string{RuleAmountSpike, RuleVelocity, RuleImpossibleTravel, RuleStructuring, RuleNewAccountBurst, RuleRoundTrip, RuleWashRefund}

// Severity of an alert.
type Severity uint8

// Severities of the contract.
const (
	Low Severity = iota + 1
	Medium
	High
)

var severityNames = [...]string{"", "low", "medium", "high"}

func (s Severity) String() string { return severityNames[s] }

// ParseSeverity maps a name to a severity; 0 if unknown.
func ParseSeverity(s string) Severity {
	for i, n := range severityNames {
		if n == s && i > 0 {
			return Severity(i)
		}
	}
	return 0
}

// Field is one piece of evidence: a name and a number or a string.
type Field struct {
	Name string
	Num  float64
	Str  string
	IsS  bool
}

func num(name string, v float64) Field { return Field{Name: name, Num: v} }
func str(name, v string) Field         { return Field{Name: name, Str: v, IsS: true} }

// Alert is a detection, in the contract's shape.
type Alert struct {
	ID           string
	UserID       string
	TS           int64
	Rule         string
	Severity     Severity
	Score        float64
	TxnIDs       []string
	Evidence     []Field
	RulesVersion string
}

// severityOf maps a score in [0, 1] to a severity, capped by how much the
// detector knows: thin evidence never raises more than cap.
func severityOf(score float64, cap Severity) Severity {
	s := Low
	switch {
	case score >= 0.8:
		s = High
	case score >= 0.5:
		s = Medium
	}
	return min(s, cap)
}

// scoreOver turns "how far past the threshold" into a score: 0.5 at the
// threshold, approaching 1 as ratio grows (0.75 at 4x, 0.8 at 6.25x).
func scoreOver(ratio float64) float64 {
	s := 0.5 * max(ratio, 0)
	if ratio > 1 {
		s = 1 - 0.5/math.Sqrt(ratio)
	}
	return math.Round(s*1000) / 1000
}

// finish gives the alert its deterministic id: the same rule, user and
// transactions always give the same id, so a consumer can drop repeats.
func (a *Alert) finish(version string) {
	a.RulesVersion = version
	h := sha256.New()
	h.Write([]byte(a.Rule))
	h.Write([]byte{0})
	h.Write([]byte(a.UserID))
	ids := slices.Clone(a.TxnIDs)
	slices.Sort(ids)
	for _, id := range ids {
		h.Write([]byte{0})
		h.Write([]byte(id))
	}
	if len(ids) == 0 {
		h.Write(strconv.AppendInt(nil, a.TS, 10))
	}
	a.ID = "a-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// AppendJSON writes the alert as the alerts topic carries it, fields in a
// fixed order so that a replay gives the same bytes.
func (a *Alert) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"alert_id":`...)
	dst = events.AppendString(dst, a.ID)
	dst = append(dst, `,"user_id":`...)
	dst = events.AppendString(dst, a.UserID)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, a.TS, 10)
	dst = append(dst, `,"rule":`...)
	dst = events.AppendString(dst, a.Rule)
	dst = append(dst, `,"severity":`...)
	dst = events.AppendString(dst, a.Severity.String())
	dst = append(dst, `,"score":`...)
	dst = strconv.AppendFloat(dst, a.Score, 'f', -1, 64)
	dst = append(dst, `,"txn_ids":[`...)
	for i, id := range a.TxnIDs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = events.AppendString(dst, id)
	}
	dst = append(dst, `],"evidence":`...)
	dst = a.AppendEvidence(dst)
	dst = append(dst, `,"rules_version":`...)
	dst = events.AppendString(dst, a.RulesVersion)
	return append(dst, '}')
}

// AppendEvidence writes the evidence as a JSON object.
func (a *Alert) AppendEvidence(dst []byte) []byte {
	dst = append(dst, '{')
	for i, f := range a.Evidence {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = events.AppendString(dst, f.Name)
		dst = append(dst, ':')
		if f.IsS {
			dst = events.AppendString(dst, f.Str)
		} else {
			dst = strconv.AppendFloat(dst, f.Num, 'f', -1, 64)
		}
	}
	return append(dst, '}')
}
