package fraud

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// Truth is what really happened to a user: an injected episode of a
// pattern (Fraud) or an honest look-alike of it.
type Truth struct {
	UserID    string
	Pattern   string
	Fraud     bool
	Lookalike string
}

// Flag is an alert as quality scoring sees it.
type Flag struct {
	UserID   string
	Rule     string
	Severity Severity
}

// PatternScore is recall and precision for one rule, at user level.
type PatternScore struct {
	Pattern      string
	Labelled     int // users with an episode of the pattern
	Caught       int // of those, flagged by this rule
	Flagged      int // users this rule flagged
	FlaggedFraud int // of those, users with any episode
}

// Recall is Caught / Labelled.
func (p PatternScore) Recall() float64 { return ratio(p.Caught, p.Labelled) }

// Precision is FlaggedFraud / Flagged.
func (p PatternScore) Precision() float64 { return ratio(p.FlaggedFraud, p.Flagged) }

// Quality is the whole score.
type Quality struct {
	MinSeverity     Severity
	Patterns        []PatternScore
	Flagged         int      // users flagged by any rule
	FlaggedFraud    int      // of those, users with any episode
	LookalikeHits   []string // honest look-alikes flagged: "user (lookalike) by rule"
	LookalikesTotal int
}

// Precision over all rules: flagged users who are fraudulent.
func (q Quality) Precision() float64 { return ratio(q.FlaggedFraud, q.Flagged) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Evaluate scores flags at or above minSeverity against the truth. A user
// counts as caught for a pattern when any of their flags is by that rule;
// a flag on a user who is fraudulent under another pattern is still a true
// positive for precision (a launderer who also spikes is a launderer).
func Evaluate(flags []Flag, truth []Truth, minSeverity Severity) Quality {
	fraudUser := map[string]bool{}
	labelled := map[string]map[string]bool{} // pattern -> users
	for _, t := range truth {
		if t.Fraud {
			fraudUser[t.UserID] = true
			if labelled[t.Pattern] == nil {
				labelled[t.Pattern] = map[string]bool{}
			}
			labelled[t.Pattern][t.UserID] = true
		}
	}
	byRule := map[string]map[string]bool{}
	any := map[string]map[string]bool{} // user -> rules
	for _, f := range flags {
		if f.Severity < minSeverity {
			continue
		}
		if byRule[f.Rule] == nil {
			byRule[f.Rule] = map[string]bool{}
		}
		byRule[f.Rule][f.UserID] = true
		if any[f.UserID] == nil {
			any[f.UserID] = map[string]bool{}
		}
		any[f.UserID][f.Rule] = true
	}
	q := Quality{MinSeverity: minSeverity}
	for _, rule := range RuleNames {
		ps := PatternScore{Pattern: rule, Labelled: len(labelled[rule]), Flagged: len(byRule[rule])}
		for u := range labelled[rule] {
			if byRule[rule][u] {
				ps.Caught++
			}
		}
		for u := range byRule[rule] {
			if fraudUser[u] {
				ps.FlaggedFraud++
			}
		}
		q.Patterns = append(q.Patterns, ps)
	}
	for u := range any {
		q.Flagged++
		if fraudUser[u] {
			q.FlaggedFraud++
		}
	}
	for _, t := range truth {
		if t.Fraud {
			continue
		}
		q.LookalikesTotal++
		if fraudUser[t.UserID] {
			continue
		}
		for rule := range any[t.UserID] {
			q.LookalikeHits = append(q.LookalikeHits, fmt.Sprintf("%s (%s) by %s", t.UserID, t.Lookalike, rule))
		}
	}
	sort.Strings(q.LookalikeHits)
	return q
}

// Print writes the score as a table.
func (q Quality) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "pattern\tlabelled users\tcaught\trecall\tflagged users\tof them fraudulent\tprecision\n")
	for _, p := range q.Patterns {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%d\t%d\t%.3f\n", p.Pattern, p.Labelled, p.Caught, p.Recall(), p.Flagged, p.FlaggedFraud, p.Precision())
	}
	fmt.Fprintf(tw, "all rules\t\t\t\t%d\t%d\t%.3f\n", q.Flagged, q.FlaggedFraud, q.Precision())
	tw.Flush()
	fmt.Fprintf(w, "severity counted: %s and above; honest look-alikes flagged: %d of %d\n", q.MinSeverity, len(q.LookalikeHits), q.LookalikesTotal)
	for _, h := range q.LookalikeHits {
		fmt.Fprintf(w, "  %s\n", h)
	}
}
