// Package events holds the typed events of the wire contract and their
// decoders. A decoder rejects exactly what the contract rejects and says why,
// in words an upstream developer can act on.
//
// Decoding is on the hot path, so a Decoder reuses its parse buffers and the
// strings of a decoded event are views into that buffer: they stay valid only
// until the next Decode call on the same Decoder. Code that keeps an id past
// that point (a map key, a state record) must copy it with strings.Clone.
package events

// Category is a need's category; skills use the same names.
type Category uint8

// The categories of the contract, in its order. CategoryNone is the zero
// value and never decoded.
const (
	CategoryNone Category = iota
	Errand
	Delivery
	Repair
	Borrow
	Ride
	Other
)

var categoryNames = [...]string{"", "errand", "delivery", "repair", "borrow", "ride", "other"}

func (c Category) String() string { return categoryNames[c] }

// Categories lists the valid categories, for iteration.
var Categories = [...]Category{Errand, Delivery, Repair, Borrow, Ride, Other}

// SkillSet is a bit set of categories a helper is good at.
type SkillSet uint8

// Has reports whether c is in the set.
func (s SkillSet) Has(c Category) bool { return s&(1<<c) != 0 }

// TxnKind is the kind of a transaction.
type TxnKind uint8

// The transaction kinds of the contract.
const (
	KindNone TxnKind = iota
	Purchase
	Transfer
	Reward
	Withdrawal
	Topup
	Refund
)

var kindNames = [...]string{"", "purchase", "transfer", "reward", "withdrawal", "topup", "refund"}

func (k TxnKind) String() string { return kindNames[k] }

// PartyKind says whether a counterparty is a merchant or a user.
type PartyKind uint8

// Counterparty kinds; PartyNone when the field is absent.
const (
	PartyNone PartyKind = iota
	Merchant
	User
)

var partyNames = [...]string{"", "merchant", "user"}

func (p PartyKind) String() string { return partyNames[p] }

// NeedStatus is the lifecycle state of a need.
type NeedStatus uint8

// Need states of the contract.
const (
	StatusNone NeedStatus = iota
	Open
	Cancelled
	Fulfilled
)

var statusNames = [...]string{"", "open", "cancelled", "fulfilled"}

func (s NeedStatus) String() string { return statusNames[s] }

// OutcomeKind is what happened between a need and a helper.
type OutcomeKind uint8

// Outcomes of the contract.
const (
	OutcomeNone OutcomeKind = iota
	Accepted
	Declined
	Completed
	NoShow
)

var outcomeNames = [...]string{"", "accepted", "declined", "completed", "no_show"}

func (o OutcomeKind) String() string { return outcomeNames[o] }

// Ping is a user's position report.
type Ping struct {
	UserID    string
	TS        int64
	Lat, Lng  float64
	AccuracyM float64 // 0 when absent
	Available bool
}

// Profile is the latest known profile of a user; zero fields were absent.
type Profile struct {
	UserID       string
	TS           int64
	RegisteredAt int64 // 0 when absent
	Skills       SkillSet
	HasSkills    bool
	CreditScore  int // 0 when absent
}

// Transaction is a payment by UserID.
type Transaction struct {
	TxnID            string
	UserID           string
	TS               int64
	Amount           int64
	Currency         string
	Kind             TxnKind
	CounterpartyID   string // empty when absent
	CounterpartyKind PartyKind
	Lat, Lng         float64
	HasLocation      bool
}

// Need is a request for help; a later message with the same NeedID updates it.
type Need struct {
	NeedID    string
	UserID    string // empty only on a status update
	TS        int64
	Category  Category
	Lat, Lng  float64
	HasPlace  bool // false only on a status update
	RadiusM   float64
	Reward    int64
	Currency  string
	ExpiresAt int64 // 0 only on a status update
	Status    NeedStatus
}

// Outcome reports what a helper did with a need.
type Outcome struct {
	NeedID   string
	HelperID string
	TS       int64
	Outcome  OutcomeKind
	Rating   int // 0 when absent
}
