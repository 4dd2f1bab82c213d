package match

import (
	"cmp"
	"math"
	"math/rand/v2"
	"testing"

	"everywhere/events"
)

func randomCandidate(r *rand.Rand) Candidate {
	return Candidate{
		DistanceM: r.Float64() * 20000,
		AgeMS:     r.Int64N(600_000),
		Record:    Record{Completed: uint32(r.IntN(50)), Failed: uint32(r.IntN(10)), Ratings: uint32(r.IntN(40))},
		Skills:    events.SkillSet(r.IntN(256)) &^ 1,
		Credit:    []int{0, events.MinCredit + r.IntN(events.MaxCredit-events.MinCredit+1)}[r.IntN(2)],
	}
}

// TestMonotoneInEveryFactor is the contract's ranking rule as a property:
// for random candidates, making one factor better, all else equal, never
// lowers the score, and the reasons always sum to the score within [0, 1].
func TestMonotoneInEveryFactor(t *testing.T) {
	p := DefaultParams()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 9))
	better := map[string]func(c *Candidate){
		"nearer":        func(c *Candidate) { c.DistanceM *= r.Float64() },
		"fresher":       func(c *Candidate) { c.AgeMS = r.Int64N(c.AgeMS + 1) },
		"one more done": func(c *Candidate) { c.Record.Completed++ },
		"one fewer no-show": func(c *Candidate) {
			if c.Record.Failed > 0 {
				c.Record.Failed--
			}
		},
		"higher rating": func(c *Candidate) {
			if c.Record.Ratings > 0 && c.Record.RatingSum < 5*c.Record.Ratings {
				c.Record.RatingSum++
			}
		},
		"skill matches": func(c *Candidate) { c.Skills |= 1 << events.Repair },
		"higher credit": func(c *Candidate) {
			if c.Credit > 0 {
				c.Credit = min(events.MaxCredit, c.Credit+1+r.IntN(100))
			}
		},
	}
	for i := 0; i < 20000; i++ {
		c := randomCandidate(r)
		c.Record.RatingSum = c.Record.Ratings * uint32(1+r.IntN(5))
		base, reasons := p.Score(&c, events.Repair)
		sum := reasons.Distance + reasons.Reliability + reasons.Skill + reasons.Credit + reasons.Recency
		// The score keeps its time-free part on a grain (see Reasons.sum).
		if base < 0 || base > 1 || sum < base-1e-12 || sum > base+1.0/scoreGrain+1e-12 {
			t.Fatalf("score %v, reasons sum %v for %+v", base, sum, c)
		}
		for name, improve := range better {
			d := c
			improve(&d)
			if s, _ := p.Score(&d, events.Repair); s < base {
				t.Fatalf("%s lowered the score from %v to %v: %+v -> %+v", name, base, s, c, d)
			}
		}
	}
}

func TestStrictlyBetterWhenAFactorStrictlyImproves(t *testing.T) {
	p := DefaultParams()
	c := Candidate{DistanceM: 1000, AgeMS: 60_000, Credit: 600}
	base, _ := p.Score(&c, events.Errand)
	f := func(name string, change func(c *Candidate)) {
		t.Helper()
		d := c
		change(&d)
		if s, _ := p.Score(&d, events.Errand); s <= base {
			t.Errorf("%s: %v not above %v", name, s, base)
		}
	}
	f("nearer", func(c *Candidate) { c.DistanceM = 500 })
	f("completed a job", func(c *Candidate) { c.Record.Completed = 1 })
	f("rated 5", func(c *Candidate) { c.Record.RatingSum, c.Record.Ratings = 5, 1 })
	f("skill", func(c *Candidate) { c.Skills = 1 << events.Errand })
	f("credit", func(c *Candidate) { c.Credit = 800 })
	f("fresher", func(c *Candidate) { c.AgeMS = 1000 })
}

func TestNewcomersAreNeitherBuriedNorFavoured(t *testing.T) {
	p := DefaultParams()
	newcomer := p.reliability(&Record{})
	good := p.reliability(&Record{Completed: 20, RatingSum: 100, Ratings: 20})
	bad := p.reliability(&Record{Completed: 2, Failed: 8, RatingSum: 15, Ratings: 10})
	if !(bad < newcomer && newcomer < good) {
		t.Fatalf("bad %v, newcomer %v, good %v", bad, newcomer, good)
	}
}

func TestMaxScoreAtBoundsEveryCandidate(t *testing.T) {
	p := DefaultParams()
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 10000; i++ {
		c := randomCandidate(r)
		c.Record.RatingSum = c.Record.Ratings * 5
		s, _ := p.Score(&c, events.Categories[r.IntN(6)])
		if s > p.MaxScoreAt(c.DistanceM)+1e-12 {
			t.Fatalf("score %v above the bound %v at %v m", s, p.MaxScoreAt(c.DistanceM), c.DistanceM)
		}
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	p := DefaultParams()
	p.Weights.Skill = 0.5
	if err := p.Validate(); err == nil || !contains(err.Error(), "must sum to 1") {
		t.Fatalf("%v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func BenchmarkScore(b *testing.B) {
	p := DefaultParams()
	c := Candidate{DistanceM: 1234, AgeMS: 30_000, Record: Record{Completed: 5, RatingSum: 23, Ratings: 5}, Skills: 1 << events.Repair, Credit: 700}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.Score(&c, events.Repair)
	}
}

// TestNearTiesKeepTheirOrderAsTimePasses takes helpers alike but for
// their records, whose reliabilities are equal in exact arithmetic and
// differ in the last bits (a newcomer's prior, and the same rate and
// rating reached through outcomes). Ranked at any moment, at the same
// distance and ping, each pair must compare the same way: a list ranked
// at one moment and re-ranked at another, or by another run, must not
// swap them.
func TestNearTiesKeepTheirOrderAsTimePasses(t *testing.T) {
	p := DefaultParams()
	byValue := map[float64][]Record{}
	for done := range uint32(12) {
		for failed := range uint32(6) {
			for ratings := range uint32(6) {
				for sum := ratings; sum <= 5*ratings; sum++ {
					r := Record{Completed: done, Failed: failed, RatingSum: sum, Ratings: ratings}
					v := p.reliability(&r)
					k := math.Round(v * 1e12)
					byValue[k] = append(byValue[k], r)
				}
			}
		}
	}
	pairs := 0
	for _, rs := range byValue {
		for i := 1; i < len(rs); i++ {
			a, b := rs[0], rs[i]
			if p.reliability(&a) == p.reliability(&b) {
				continue
			}
			pairs++
			for _, d := range []float64{0, 412.5, 1392.53, 2999} {
				first := 0
				for age := int64(0); age <= MaxPingAge; age += 997 {
					ca := Candidate{DistanceM: d, AgeMS: age, Record: a, Credit: 640}
					cb := Candidate{DistanceM: d, AgeMS: age, Record: b, Credit: 640}
					sa, _ := p.Score(&ca, events.Errand)
					sb, _ := p.Score(&cb, events.Errand)
					c := cmp.Compare(sa, sb)
					if age == 0 {
						first = c
					} else if c != first {
						t.Fatalf("records %+v and %+v at %v m: compare %d at age 0, %d at age %d ms", a, b, d, first, c, age)
					}
				}
			}
		}
	}
	if pairs < 10 {
		t.Fatalf("only %d pairs of near-equal reliabilities to compare", pairs)
	}
}

// TestTeachesIsWhatLearnChanges: an outcome changes a record exactly
// when Teaches says so, whatever the record held, so the router may drop
// those that do not teach without any matcher learning less.
func TestTeachesIsWhatLearnChanges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10_000 {
		rec := Record{Completed: r.Uint32N(50), Failed: r.Uint32N(50), Ratings: r.Uint32N(50)}
		rec.RatingSum = rec.Ratings * (1 + r.Uint32N(5))
		o, rating := events.OutcomeKind(1+r.IntN(4)), r.IntN(6)
		learnt := rec
		learnt.Learn(o, rating)
		if changed := learnt != rec; changed != Teaches(o, rating) {
			t.Fatalf("%s rated %d: Learn changed the record %t, Teaches says %t", o, rating, changed, Teaches(o, rating))
		}
	}
}
