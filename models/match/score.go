// Package match scores a helper for a need. The score is a weighted sum
// of factors in [0, 1], so it lies in [0, 1] and each factor's share is a
// reason a matcher can show: "near you", "reliable", "knows repairs".
// It is pure and deterministic, and monotone in every factor, as the
// contract requires: all else equal, nearer ranks higher, a better
// completion rate or rating ranks higher, a matching skill ranks higher, a
// higher credit score ranks higher (and so does a fresher position).
package match

import (
	"errors"
	"fmt"
	"math"
	"time"

	"everywhere/events"
)

// Params are the model's settings (matching.model in the config).
type Params struct {
	Weights Weights `mapstructure:"weights" yaml:"weights"`
	// DistanceScaleM: the distance factor is exp(-d/scale): 0.37 at scale.
	DistanceScaleM float64 `mapstructure:"distance_scale_m" yaml:"distance_scale_m"`
	// RecencyWindow: the recency factor falls linearly from 1 for a ping
	// just made to 0 for one this old. Linear, so that as time passes
	// every candidate loses the same: two candidates never swap places
	// while neither pings, and a list stays right without being recomputed.
	RecencyWindow time.Duration `mapstructure:"recency_window" yaml:"recency_window"`
	// A newcomer's record is read as PriorJobs jobs at PriorRate completed
	// and PriorRating stars: neither buried nor favoured.
	PriorJobs   float64 `mapstructure:"prior_jobs" yaml:"prior_jobs"`
	PriorRate   float64 `mapstructure:"prior_rate" yaml:"prior_rate"`
	PriorRating float64 `mapstructure:"prior_rating" yaml:"prior_rating"`
}

// Weights of the factors; they must sum to 1.
type Weights struct {
	Distance    float64 `mapstructure:"distance" yaml:"distance"`
	Reliability float64 `mapstructure:"reliability" yaml:"reliability"`
	Skill       float64 `mapstructure:"skill" yaml:"skill"`
	Credit      float64 `mapstructure:"credit" yaml:"credit"`
	Recency     float64 `mapstructure:"recency" yaml:"recency"`
}

// DefaultParams are the defaults of config/everywhere.yaml.
func DefaultParams() Params {
	return Params{
		Weights:        Weights{Distance: 0.45, Reliability: 0.25, Skill: 0.15, Credit: 0.1, Recency: 0.05},
		DistanceScaleM: 1500, RecencyWindow: MaxPingAge * time.Millisecond,
		PriorJobs: 3, PriorRate: 0.8, PriorRating: 4,
	}
}

// Validate checks the settings, naming the key and what is allowed.
func (p *Params) Validate() error {
	var errs []error
	w := p.Weights
	for _, f := range []struct {
		k string
		v float64
	}{{"distance", w.Distance}, {"reliability", w.Reliability}, {"skill", w.Skill}, {"credit", w.Credit}, {"recency", w.Recency}} {
		if f.v < 0 || f.v > 1 {
			errs = append(errs, fmt.Errorf("matching.model.weights.%s: is %g; allowed: 0 to 1", f.k, f.v))
		}
	}
	if sum := w.Distance + w.Reliability + w.Skill + w.Credit + w.Recency; math.Abs(sum-1) > 1e-9 {
		errs = append(errs, fmt.Errorf("matching.model.weights: sum to %g; they must sum to 1 so that scores lie in [0, 1]", sum))
	}
	if p.DistanceScaleM <= 0 {
		errs = append(errs, fmt.Errorf("matching.model.distance_scale_m: is %g; allowed: above 0", p.DistanceScaleM))
	}
	if p.RecencyWindow < MaxPingAge*time.Millisecond || p.RecencyWindow > 24*time.Hour {
		errs = append(errs, fmt.Errorf("matching.model.recency_window: is %s; allowed: 10m (the age at which a ping goes stale) to 24h", p.RecencyWindow))
	}
	if p.PriorJobs < 0 || p.PriorRate < 0 || p.PriorRate > 1 || p.PriorRating < 1 || p.PriorRating > 5 {
		errs = append(errs, errors.New("matching.model: prior_jobs must be 0 or more, prior_rate 0 to 1, prior_rating 1 to 5"))
	}
	return errors.Join(errs...)
}

// Record is what outcomes taught about a helper.
type Record struct {
	Completed uint32 // jobs completed
	Failed    uint32 // jobs accepted and not done (no_show)
	RatingSum uint32 // sum of the ratings given
	Ratings   uint32 // how many ratings
}

// Teaches reports whether an outcome of kind o with rating changes a
// record: a completed job, a no-show or a rating do; an acceptance or a
// decline without a rating teach the model nothing. The outcome router
// sends only outcomes that teach to the regions: the rest are half the
// outcomes of the benchmarks' city, and each would go to every regions
// partition.
func Teaches(o events.OutcomeKind, rating int) bool {
	return o == events.Completed || o == events.NoShow || rating > 0
}

// Learn updates the record with an outcome; it leaves it as it was when
// the outcome does not teach (see Teaches).
func (r *Record) Learn(o events.OutcomeKind, rating int) {
	switch o {
	case events.Completed:
		r.Completed++
	case events.NoShow:
		r.Failed++
	}
	if rating > 0 {
		r.RatingSum += uint32(rating)
		r.Ratings++
	}
}

// Candidate is a helper as the model sees it for one need.
type Candidate struct {
	DistanceM float64
	AgeMS     int64 // since the helper's latest ping, at the need's time
	Record    Record
	Skills    events.SkillSet
	Credit    int // 0 when unknown
}

// Reasons are each factor's contribution to the score; they sum to it,
// but for a rounding finer than 1e-9 (see sum).
type Reasons struct {
	Distance, Reliability, Skill, Credit, Recency float64
}

// Score rates c for a need of category cat.
func (p *Params) Score(c *Candidate, cat events.Category) (float64, Reasons) {
	rel, credit := p.fixed(&c.Record, c.Credit)
	return p.score(rel, credit, c.DistanceM, c.Skills.Has(cat), c.AgeMS)
}

// fixed is the reliability and credit shares of a helper with record r
// and credit score credit (0 when unknown): what neither the need nor
// time changes, so that the index works them out when they change rather
// than at every scoring, where they took four divisions.
func (p *Params) fixed(r *Record, credit int) (rel, cred float64) {
	c := 0.5 // unknown: the middle, neither a penalty nor a bonus
	if credit > 0 {
		c = float64(credit-events.MinCredit) / float64(events.MaxCredit-events.MinCredit)
	}
	return p.Weights.Reliability * p.reliability(r), p.Weights.Credit * math.Min(math.Max(c, 0), 1)
}

// score is Score from the fixed shares of a helper, its distance,
// whether it has the need's skill and the age of its ping.
func (p *Params) score(rel, credit, distanceM float64, skilled bool, ageMS int64) (float64, Reasons) {
	r := Reasons{Reliability: rel, Credit: credit}
	r.Distance, r.Skill = p.distanceShare(distanceM), p.skillShare(skilled)
	r.Recency = p.recency(ageMS)
	return r.sum(), r
}

// still is the time-free part of score, rounded as Reasons.still rounds
// it, without the reasons: the sums are the same, so are the bits.
func (p *Params) still(rel, credit, distanceM float64, skilled bool) float64 {
	return stillOf(p.distanceShare(distanceM), rel, p.skillShare(skilled), credit)
}

// distanceShare is the distance factor's share at distanceM metres.
func (p *Params) distanceShare(distanceM float64) float64 {
	return p.Weights.Distance * decay(-math.Max(distanceM, 0)/p.DistanceScaleM)
}

// skillShare is the skill factor's share, all or nothing.
func (p *Params) skillShare(skilled bool) float64 {
	if skilled {
		return p.Weights.Skill
	}
	return 0
}

// recency is the recency factor's share for a ping ageMS old. With sum,
// it lets a list brought to a later time hold exactly the scores a fresh
// ranking would give, bit for bit, so that helpers tied in score rank by
// id whatever path their list took.
func (p *Params) recency(ageMS int64) float64 {
	return p.Weights.Recency * max(0, 1-float64(max(ageMS, 0))/float64(p.RecencyWindow.Milliseconds()))
}

// sum is the score the reasons make: the factors that do not change with
// time, rounded down to a multiple of scoreGrain, plus recency.
//
// The rounding makes the ranking the same at every moment. Reliabilities
// equal in exact arithmetic often differ in their last bits (a newcomer's
// prior, and the same rate and rating reached through outcomes), and
// whether adding recency rounds such a pair to a tie, which the id
// breaks, or keeps one ahead, depended on the moment: a list ranked at
// one moment and re-ranked at another, or by another run, swapped them.
// On the grain they are equal, or a whole grain apart at every moment;
// and two helpers alike but for their ping differ by far more than a
// rounding. Rounded down, a score stays under every bound the index
// prunes with.
func (r *Reasons) sum() float64 {
	return r.still() + r.Recency
}

// still is the part of the score that time does not change, rounded down
// to the grain.
func (r *Reasons) still() float64 {
	return stillOf(r.Distance, r.Reliability, r.Skill, r.Credit)
}

// stillOf sums the time-free shares in one order and rounds the sum
// down to the grain: every score's time-free part is made here.
func stillOf(distance, reliability, skill, credit float64) float64 {
	still := distance + reliability + skill + credit
	return math.Floor(still*scoreGrain) / scoreGrain
}

// scoreGrain is how finely the time-free part of a score is kept: 2^-32,
// some 2.3e-10, far below the four decimals a list publishes.
const scoreGrain = 1 << 32

// reliability blends the completion rate and the rating, each pulled
// towards the prior by PriorJobs imaginary jobs: a newcomer starts at the
// prior, and each outcome moves them from it.
func (p *Params) reliability(r *Record) float64 {
	jobs := float64(r.Completed + r.Failed)
	rate := (float64(r.Completed) + p.PriorJobs*p.PriorRate) / (jobs + p.PriorJobs)
	if jobs+p.PriorJobs == 0 {
		rate = p.PriorRate
	}
	stars := (float64(r.RatingSum) + p.PriorJobs*p.PriorRating) / (float64(r.Ratings) + p.PriorJobs)
	if float64(r.Ratings)+p.PriorJobs == 0 {
		stars = p.PriorRating
	}
	return 0.6*rate + 0.4*(stars-1)/4
}

// MaxScoreAt bounds the score of any candidate at distance d or farther:
// what lets a search stop walking outwards once the k-th best beats it.
func (p *Params) MaxScoreAt(d float64) float64 {
	w := &p.Weights
	return w.Distance*decay(-math.Max(d, 0)/p.DistanceScaleM) + w.Reliability + w.Skill + w.Credit + w.Recency
}

// Reach is the distance beyond which MaxScoreAt falls below score: no
// candidate farther away can score above it.
func (p *Params) Reach(score float64) float64 {
	w := &p.Weights
	rest := w.Reliability + w.Skill + w.Credit + w.Recency
	if score <= rest {
		return math.Inf(1)
	}
	if w.Distance == 0 || score-rest >= w.Distance {
		return 0
	}
	return -p.DistanceScaleM * math.Log((score-rest)/w.Distance)
}
