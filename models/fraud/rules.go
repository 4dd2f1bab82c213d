// Package fraud detects suspicious large-spend patterns in a user's stream
// of transactions and positions, in event time, and explains each alert
// with the numbers it compared.
//
// It is pure and deterministic: no I/O, no wall clock, no randomness. The
// same events in the same order give the same alerts, byte for byte, which
// is what makes replays, backtests and scale-out comparable.
package fraud

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Rules are the thresholds of every detector. Defaults are in
// config/everywhere.yaml (section fraud.rules), where each is explained.
type Rules struct {
	Lateness  time.Duration `mapstructure:"lateness" yaml:"lateness"`
	IdleEvict time.Duration `mapstructure:"idle_evict" yaml:"idle_evict"`

	AmountSpike struct {
		MinAmount  int64   `mapstructure:"min_amount" yaml:"min_amount"`
		Ratio      float64 `mapstructure:"ratio" yaml:"ratio"`
		PriorP90   int64   `mapstructure:"prior_p90" yaml:"prior_p90"`
		PriorCount int     `mapstructure:"prior_count" yaml:"prior_count"`
		MinHistory int     `mapstructure:"min_history" yaml:"min_history"`
	} `mapstructure:"amount_spike" yaml:"amount_spike"`

	Velocity struct {
		Window      time.Duration `mapstructure:"window" yaml:"window"`
		MaxCount    int           `mapstructure:"max_count" yaml:"max_count"`
		TotalWindow time.Duration `mapstructure:"total_window" yaml:"total_window"`
		MaxTotal    int64         `mapstructure:"max_total" yaml:"max_total"`
	} `mapstructure:"velocity" yaml:"velocity"`

	ImpossibleTravel struct {
		MaxSpeedKmh   float64 `mapstructure:"max_speed_kmh" yaml:"max_speed_kmh"`
		MinDistanceKm float64 `mapstructure:"min_distance_km" yaml:"min_distance_km"`
	} `mapstructure:"impossible_travel" yaml:"impossible_travel"`

	Structuring struct {
		Threshold int64         `mapstructure:"threshold" yaml:"threshold"`
		Band      float64       `mapstructure:"band" yaml:"band"`
		Window    time.Duration `mapstructure:"window" yaml:"window"`
		MinCount  int           `mapstructure:"min_count" yaml:"min_count"`
	} `mapstructure:"structuring" yaml:"structuring"`

	NewAccountBurst struct {
		AccountAge time.Duration `mapstructure:"account_age" yaml:"account_age"`
		MaxTotal   int64         `mapstructure:"max_total" yaml:"max_total"`
	} `mapstructure:"new_account_burst" yaml:"new_account_burst"`

	RoundTrip struct {
		Window    time.Duration `mapstructure:"window" yaml:"window"`
		MinAmount int64         `mapstructure:"min_amount" yaml:"min_amount"`
		MaxHops   int           `mapstructure:"max_hops" yaml:"max_hops"`
		Tolerance float64       `mapstructure:"tolerance" yaml:"tolerance"`
	} `mapstructure:"round_trip" yaml:"round_trip"`

	WashRefund struct {
		MinAmount int64         `mapstructure:"min_amount" yaml:"min_amount"`
		Window    time.Duration `mapstructure:"window" yaml:"window"`
		Lookback  time.Duration `mapstructure:"lookback" yaml:"lookback"`
		MinCount  int           `mapstructure:"min_count" yaml:"min_count"`
	} `mapstructure:"wash_refund" yaml:"wash_refund"`

	// Version names this set of rules in every alert: set by whoever loads
	// the rules (a content hash unless the file names one).
	Version string `mapstructure:"version" yaml:"version"`
}

// Validate checks every threshold, naming the key and what is allowed.
func (r *Rules) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("fraud.rules.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	dur := func(key string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			bad(key, "is %s; allowed: %s to %s", d, lo, hi)
		}
	}
	pos := func(key string, n int64) {
		if n <= 0 {
			bad(key, "is %d; allowed: a positive amount of minor units", n)
		}
	}
	count := func(key string, n, lo, hi int) {
		if n < lo || n > hi {
			bad(key, "is %d; allowed: %d to %d", n, lo, hi)
		}
	}
	dur("lateness", r.Lateness, 0, 24*time.Hour)
	dur("idle_evict", r.IdleEvict, time.Hour, 365*24*time.Hour)
	pos("amount_spike.min_amount", r.AmountSpike.MinAmount)
	if r.AmountSpike.Ratio < 1 || r.AmountSpike.Ratio > 1000 {
		bad("amount_spike.ratio", "is %g; allowed: 1 to 1000", r.AmountSpike.Ratio)
	}
	pos("amount_spike.prior_p90", r.AmountSpike.PriorP90)
	count("amount_spike.prior_count", r.AmountSpike.PriorCount, 0, 100)
	count("amount_spike.min_history", r.AmountSpike.MinHistory, 0, historySize)
	dur("velocity.window", r.Velocity.Window, time.Second, 24*time.Hour)
	count("velocity.max_count", r.Velocity.MaxCount, 1, ringSize-1)
	dur("velocity.total_window", r.Velocity.TotalWindow, time.Second, 24*time.Hour)
	pos("velocity.max_total", r.Velocity.MaxTotal)
	if r.ImpossibleTravel.MaxSpeedKmh <= 0 {
		bad("impossible_travel.max_speed_kmh", "is %g; allowed: above 0", r.ImpossibleTravel.MaxSpeedKmh)
	}
	if r.ImpossibleTravel.MinDistanceKm < 0 {
		bad("impossible_travel.min_distance_km", "is %g; allowed: 0 or more", r.ImpossibleTravel.MinDistanceKm)
	}
	pos("structuring.threshold", r.Structuring.Threshold)
	if r.Structuring.Band <= 0 || r.Structuring.Band >= 1 {
		bad("structuring.band", "is %g; allowed: above 0 and below 1 (a share of the threshold)", r.Structuring.Band)
	}
	dur("structuring.window", r.Structuring.Window, time.Minute, 30*24*time.Hour)
	count("structuring.min_count", r.Structuring.MinCount, 2, smallSize)
	dur("new_account_burst.account_age", r.NewAccountBurst.AccountAge, time.Minute, 30*24*time.Hour)
	pos("new_account_burst.max_total", r.NewAccountBurst.MaxTotal)
	dur("round_trip.window", r.RoundTrip.Window, time.Minute, 30*24*time.Hour)
	pos("round_trip.min_amount", r.RoundTrip.MinAmount)
	count("round_trip.max_hops", r.RoundTrip.MaxHops, 3, maxPathUsers)
	if r.RoundTrip.Tolerance < 0 || r.RoundTrip.Tolerance >= 1 {
		bad("round_trip.tolerance", "is %g; allowed: 0 to below 1", r.RoundTrip.Tolerance)
	}
	pos("wash_refund.min_amount", r.WashRefund.MinAmount)
	dur("wash_refund.window", r.WashRefund.Window, time.Minute, 30*24*time.Hour)
	dur("wash_refund.lookback", r.WashRefund.Lookback, r.WashRefund.Window, 365*24*time.Hour)
	count("wash_refund.min_count", r.WashRefund.MinCount, 1, smallSize)
	return errors.Join(errs...)
}

// Fingerprint is a short hash of the rules' values, the default version.
func (r *Rules) Fingerprint() string {
	c := *r
	c.Version = ""
	sum := sha256.Sum256(fmt.Appendf(nil, "%+v", c))
	return hex.EncodeToString(sum[:6])
}
