package simulator

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"everywhere/events"
)

// LoadConfig sets up a synthetic load for throughput measurement.
type LoadConfig struct {
	Users  int
	Events int
	Seed   uint64
	Start  time.Time
	// Rate is events per second of event time. With the mix fixed, it
	// sets how often each user pings and how many needs are open at once.
	Rate     int
	City     City
	Currency string
}

// DefaultLoad is two million events over 100,000 users at 2,000 events
// per second of event time: every user pings about once a minute and
// about 3,000 needs are open at any moment.
func DefaultLoad() LoadConfig {
	return LoadConfig{Users: 100_000, Events: 2_000_000, Seed: 1, Start: DefaultConfig().Start,
		Rate: 2000, City: Hangzhou(), Currency: "CNY"}
}

// The mix of a load, in per mille: 80% pings, 12% transactions, 5% needs
// (half new, half closing an earlier one), 3% other (outcomes and
// profiles). These are the shares the throughput budget is stated for.
const (
	mixPing    = 800
	mixTxn     = mixPing + 120
	mixNeed    = mixTxn + 50
	mixOutcome = mixNeed + 20
	// the remaining 10 per mille are profiles
)

// needLife is how many needs are posted between a need and its closing
// status update: at the default rate about a minute of event time.
const needLife = 3000

// Load is a synthetic stream with an exact mix of event kinds, for
// measuring throughput. Unlike Sim it has no storyline (no daily rhythm,
// no episodes, no fraud): each event is drawn on its own from the mix, so
// the shares and the event-time rate are the same for every city size,
// and the work a city of 10,000 users and one of 1,000,000 ask of the
// engine differs only in how many users it keeps. Every event is valid.
type Load struct {
	cfg   LoadConfig
	r     *rand.Rand
	homes [][2]float32 // where each user pings from
	avail []bool       // helpers' availability, toggled now and then
	needs [needLife]events.Need
	n     int // events produced
	seq   int // needs posted
	txns  int
	buf   []byte
}

// NewLoad places the users; events come from Next.
func NewLoad(cfg LoadConfig) *Load {
	l := &Load{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5851f42d4c957f2d)),
		homes: make([][2]float32, cfg.Users), avail: make([]bool, cfg.Users)}
	for i := range l.homes {
		lat, lng := cfg.City.place(l.r, 1.5)
		l.homes[i] = [2]float32{float32(lat), float32(lng)}
		l.avail[i] = isHelper(i) && l.r.IntN(2) == 0
	}
	return l
}

// Start is the event time of the first event.
func (l *Load) Start() time.Time { return l.cfg.Start }

// One user in five is a helper.
func isHelper(i int) bool { return i%5 == 0 }

func (l *Load) userID(i int) string { return "u" + strconv.Itoa(i) }

// Next stores the next event in m; false after cfg.Events.
func (l *Load) Next(m *Message) bool {
	if l.n >= l.cfg.Events {
		return false
	}
	ts := l.cfg.Start.UnixMilli() + int64(l.n)*1000/int64(max(l.cfg.Rate, 1))
	l.n++
	r := l.r
	u := r.IntN(l.cfg.Users)
	switch x := r.IntN(1000); {
	case x < mixPing:
		if isHelper(u) && r.IntN(50) == 0 {
			l.avail[u] = !l.avail[u]
		}
		lat, lng := l.near(u, 30)
		p := events.Ping{UserID: l.userID(u), TS: ts, Lat: lat, Lng: lng, AccuracyM: float64(5 + r.IntN(30)), Available: l.avail[u]}
		l.buf = p.AppendJSON(l.buf[:0])
		*m = Message{Topic: Pings, Key: p.UserID, TS: ts}
	case x < mixTxn:
		l.txns++
		t := events.Transaction{TxnID: "t" + strconv.Itoa(l.txns), UserID: l.userID(u), TS: ts,
			Amount: int64(4000 * math.Exp(r.NormFloat64()*0.6)), Currency: l.cfg.Currency, Kind: events.Purchase,
			CounterpartyID: "m" + strconv.Itoa(r.IntN(max(l.cfg.Users/10, 50))), CounterpartyKind: events.Merchant}
		if r.IntN(10) == 0 {
			t.Kind, t.CounterpartyID, t.CounterpartyKind = events.Transfer, l.userID(r.IntN(l.cfg.Users)), events.User
		}
		l.buf = t.AppendJSON(l.buf[:0])
		*m = Message{Topic: Transactions, Key: t.UserID, TS: ts}
	case x < mixNeed:
		n := l.need(u, ts)
		l.buf = n.AppendJSON(l.buf[:0])
		*m = Message{Topic: Needs, Key: n.NeedID, TS: ts}
	case x < mixOutcome:
		o := events.Outcome{NeedID: "n" + strconv.Itoa(1+r.IntN(max(l.seq, 1))), HelperID: l.userID(r.IntN(l.cfg.Users/5) * 5), TS: ts, Outcome: events.Accepted}
		if r.IntN(2) == 0 {
			o.Outcome, o.Rating = events.Completed, 3+r.IntN(3)
		}
		l.buf = o.AppendJSON(l.buf[:0])
		*m = Message{Topic: Outcomes, Key: o.NeedID, TS: ts}
	default:
		p := events.Profile{UserID: l.userID(u), TS: ts, RegisteredAt: ts - int64(30+r.IntN(700))*day,
			Skills: events.SkillSet(2 + r.IntN(126)), HasSkills: true, CreditScore: 550 + r.IntN(250)}
		l.buf = p.AppendJSON(l.buf[:0])
		*m = Message{Topic: Profiles, Key: p.UserID, TS: ts}
	}
	m.Value = append([]byte(nil), l.buf...)
	return true
}

// need alternates between posting a new need where user u is and closing
// the one posted needLife needs earlier, so the number open stays steady.
func (l *Load) need(u int, ts int64) events.Need {
	slot := &l.needs[l.seq%needLife]
	if l.seq >= needLife && slot.Status == events.Open {
		n := *slot
		n.UserID, n.HasPlace, n.ExpiresAt = "", false, 0
		n.TS, n.Status = ts, events.Fulfilled
		if l.r.IntN(4) == 0 {
			n.Status = events.Cancelled
		}
		slot.Status = n.Status
		return n
	}
	l.seq++
	lat, lng := l.near(u, 200)
	n := events.Need{NeedID: "n" + strconv.Itoa(l.seq), UserID: l.userID(u), TS: ts, Category: events.Categories[l.r.IntN(len(events.Categories))],
		Lat: lat, Lng: lng, HasPlace: true, RadiusM: radii[l.r.IntN(len(radii))], Reward: int64(500 + 100*l.r.IntN(46)),
		Currency: l.cfg.Currency, ExpiresAt: ts + 30*minute, Status: events.Open}
	l.needs[(l.seq-1)%needLife] = n
	return n
}

// near is a point around user u's home.
func (l *Load) near(u int, sigmaM float64) (float64, float64) {
	lat, lng := around(l.r, float64(l.homes[u][0]), float64(l.homes[u][1]), sigmaM)
	return round6(lat), round6(lng)
}
