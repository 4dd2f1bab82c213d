package simulator

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"everywhere/events"
	"everywhere/minheap"
)

// Topic says which input topic a message belongs to.
type Topic uint8

// The input topics.
const (
	Pings Topic = iota
	Profiles
	Transactions
	Needs
	Outcomes
	NumTopics
)

var topicNames = [...]string{"pings", "profiles", "transactions", "needs", "outcomes"}

func (t Topic) String() string { return topicNames[t] }

// Message is one generated message, keyed as the contract says.
type Message struct {
	Topic Topic
	Key   string
	Value []byte
	TS    int64
}

// Config sets up a simulation.
type Config struct {
	Users     int
	Seed      uint64
	Start     time.Time
	Duration  time.Duration
	City      City
	Episodes  int    // fraud episodes per pattern
	Currency  string // base currency of the deployment
	Threshold int64  // reporting threshold that structuring stays under
}

// DefaultConfig is a day in Hangzhou with 5,000 users.
func DefaultConfig() Config {
	return Config{
		Users: 5000, Seed: 1, Start: time.Date(2025, 11, 24, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)),
		Duration: 24 * time.Hour, City: Hangzhou(), Episodes: 4, Currency: "CNY", Threshold: 500_000,
	}
}

type away struct{ depart, arrive, back, home int64 }

type user struct {
	id                 string
	homeLat, homeLng   float64
	workLat, workLng   float64
	funLat, funLng     float64
	helper, available  bool
	rich               bool
	skills             events.SkillSet
	credit             int
	registered         int64
	median             float64 // typical purchase, minor units
	friends            [4]int32
	away               *away
	reserved           bool // already cast in an episode
	purchases          int  // made so far
	lastLat, lastLng   float64
	lastAvailabilityTS int64
}

// Sim is a running simulation; Next yields its messages in event-time order.
type Sim struct {
	cfg      Config
	r        *rand.Rand
	users    []user
	q        minheap.Heap[item]
	out      []Message
	outHead  int
	start    int64
	end      int64
	seq      uint64
	nextTxn  int
	nextNeed int
	labels   []Label
	helpers  []int32
	buf      []byte
}

// New builds the population and schedules the first actions.
func New(cfg Config) *Sim {
	s := &Sim{cfg: cfg, q: newQueue(), r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	s.start = cfg.Start.UnixMilli()
	s.end = s.start + cfg.Duration.Milliseconds()
	s.users = make([]user, cfg.Users)
	for i := range s.users {
		s.newUser(int32(i))
	}
	for i := range s.users {
		u := &s.users[i]
		s.emitProfile(u, s.start)
		s.push(s.start+s.r.Int64N(120_000), kindPing, int32(i))
		s.push(s.next(s.start, 8*hour/3), kindTxn, int32(i))
		s.push(s.next(s.start, 3*day), kindTransfer, int32(i))
		s.push(s.next(s.start, 4*day), kindNeed, int32(i))
		if u.helper {
			s.push(s.next(s.start, 3*hour), kindAvail, int32(i))
		}
	}
	s.injectEpisodes()
	return s
}

const (
	minute = int64(60_000)
	hour   = 60 * minute
	day    = 24 * hour
)

func (s *Sim) newUser(i int32) {
	r := s.r
	u := &s.users[i]
	u.id = "u" + strconv.Itoa(int(i))
	u.homeLat, u.homeLng = s.cfg.City.place(r, 1.5)
	u.workLat, u.workLng = s.cfg.City.place(r, 0.7)
	u.funLat, u.funLng = s.cfg.City.place(r, 0.8)
	u.lastLat, u.lastLng = u.homeLat, u.homeLng
	u.helper = r.Float64() < 0.4
	for n := 1 + r.IntN(3); n > 0; n-- {
		u.skills |= 1 << events.Categories[r.IntN(len(events.Categories))]
	}
	u.credit = clamp(int(650+r.NormFloat64()*80), events.MinCredit, events.MaxCredit)
	u.registered = s.start - int64(30+r.IntN(700))*day
	u.rich = r.Float64() < 0.03
	if u.rich {
		u.median = 150_000 * math.Exp(r.NormFloat64()*0.5) // about 1,500.00
	} else {
		u.median = 4_000 * math.Exp(r.NormFloat64()*0.6) // about 40.00
	}
	for k := range u.friends {
		u.friends[k] = int32(r.IntN(s.cfg.Users))
	}
}

// next returns the time of a random (exponential) next occurrence with the
// given mean interval after t, thinned by the daily rhythm so that activity
// follows the day: quiet at night, peaks at lunch and in the evening.
func (s *Sim) next(t, mean int64) int64 {
	for {
		t += int64(s.r.ExpFloat64() * float64(mean) * 0.5)
		if s.r.Float64() < rhythm(localHour(t)) {
			return t
		}
	}
}

func localHour(ts int64) float64 {
	return math.Mod(float64(ts)/float64(hour)+8, 24)
}

func rhythm(h float64) float64 {
	switch {
	case h < 6:
		return 0.05
	case h < 7:
		return 0.2
	case h < 9:
		return 0.6
	case h < 12:
		return 0.7
	case h < 14:
		return 1
	case h < 18:
		return 0.6
	case h < 22:
		return 1
	}
	return 0.4
}

// position is where the user is at t, and false while in the air.
func (s *Sim) position(u *user, t int64) (float64, float64, bool) {
	if a := u.away; a != nil && t >= a.depart && t < a.home {
		if t < a.arrive || t >= a.back {
			return 0, 0, false
		}
		lat, lng := around(s.r, s.cfg.City.Far.Lat, s.cfg.City.Far.Lng, 2000)
		return lat, lng, true
	}
	h := localHour(t)
	weekend := time.UnixMilli(t).In(s.cfg.Start.Location()).Weekday()%6 == 0
	var lat, lng float64
	switch {
	case h < 7 || h >= 22:
		lat, lng = u.homeLat, u.homeLng
	case weekend:
		lat, lng = u.funLat, u.funLng
	case h < 9:
		f := (h - 7) / 2
		lat, lng = u.homeLat+(u.workLat-u.homeLat)*f, u.homeLng+(u.workLng-u.homeLng)*f
	case h < 12 || h >= 13 && h < 18:
		lat, lng = u.workLat, u.workLng
	case h < 13:
		lat, lng = around(s.r, u.workLat, u.workLng, 400)
	case h < 19:
		f := h - 18
		lat, lng = u.workLat+(u.homeLat-u.workLat)*f, u.workLng+(u.homeLng-u.workLng)*f
	default:
		lat, lng = u.funLat, u.funLng
	}
	lat, lng = around(s.r, lat, lng, 30)
	return lat, lng, true
}

// Next stores the next message in m; it reports false when the simulated
// time is over.
func (s *Sim) Next(m *Message) bool {
	for s.outHead == len(s.out) {
		s.out, s.outHead = s.out[:0], 0
		if s.q.Len() == 0 {
			return false
		}
		it := s.q.Pop()
		if it.at >= s.end {
			s.q.Reset()
			return false
		}
		s.act(it)
	}
	*m = s.out[s.outHead]
	s.out[s.outHead] = Message{}
	s.outHead++
	return true
}

// Start is the event time the simulation begins at.
func (s *Sim) Start() time.Time { return s.cfg.Start }

// Labels returns the truth: every injected episode and honest look-alike.
func (s *Sim) Labels() []Label { return s.labels }

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }
