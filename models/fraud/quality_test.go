package fraud_test

import (
	"os"
	"testing"

	"everywhere/config"
	"everywhere/events"
	"everywhere/models/fraud"
	"everywhere/simulator"
)

// replayCity runs the default simulated city through one detector.
func replayCity(t testing.TB, sc simulator.Config) ([]fraud.Alert, []simulator.Label) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	rp := fraud.NewReplayer(&cfg.Fraud.Rules)
	sim := simulator.New(sc)
	d := events.NewDecoder("CNY")
	var (
		m      simulator.Message
		alerts []fraud.Alert
		tx     events.Transaction
		p      events.Ping
		pr     events.Profile
	)
	for sim.Next(&m) {
		switch m.Topic {
		case simulator.Transactions:
			if err := d.Transaction(m.Value, &tx); err != nil {
				t.Fatal(err)
			}
			alerts = rp.Transaction(&tx, alerts)
		case simulator.Pings:
			if err := d.Ping(m.Value, &p); err != nil {
				t.Fatal(err)
			}
			rp.D.Ping(&p)
		case simulator.Profiles:
			if err := d.Profile(m.Value, &pr); err != nil {
				t.Fatal(err)
			}
			alerts = rp.D.Profile(&pr, alerts)
		}
	}
	return alerts, sim.Labels()
}

func evaluate(alerts []fraud.Alert, labels []simulator.Label, min fraud.Severity) fraud.Quality {
	flags := make([]fraud.Flag, len(alerts))
	for i, a := range alerts {
		flags[i] = fraud.Flag{UserID: a.UserID, Rule: a.Rule, Severity: a.Severity}
	}
	truth := make([]fraud.Truth, len(labels))
	for i, l := range labels {
		truth[i] = fraud.Truth{UserID: l.UserID, Pattern: l.Pattern, Fraud: l.Fraud, Lookalike: l.Lookalike}
	}
	return fraud.Evaluate(flags, truth, min)
}

// TestQualityOnTheDefaultCity holds the detector to its targets on the
// simulator's default city, over several seeds: recall of at least 0.95 per
// pattern and precision of at least 0.9 overall at medium severity and
// above, and no honest look-alike flagged at medium or high.
func TestQualityOnTheDefaultCity(t *testing.T) {
	if testing.Short() {
		t.Skip("replays whole simulated days")
	}
	for _, seed := range []uint64{1, 2} {
		sc := simulator.DefaultConfig()
		sc.Seed = seed
		alerts, labels := replayCity(t, sc)
		q := evaluate(alerts, labels, fraud.Medium)
		if t.Failed() || testing.Verbose() {
			q.Print(os.Stdout)
		}
		for _, p := range q.Patterns {
			if p.Recall() < 0.95 {
				t.Errorf("seed %d: %s recall %.3f (%d of %d)", seed, p.Pattern, p.Recall(), p.Caught, p.Labelled)
			}
		}
		if q.Precision() < 0.9 {
			t.Errorf("seed %d: precision %.3f (%d of %d flagged users fraudulent)", seed, q.Precision(), q.FlaggedFraud, q.Flagged)
		}
		if len(q.LookalikeHits) > 0 {
			t.Errorf("seed %d: honest look-alikes flagged at medium or high: %v", seed, q.LookalikeHits)
		}
	}
}
