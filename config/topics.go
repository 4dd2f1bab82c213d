package config

// Topics are the full names of the engine's topics, prefix included.
type Topics struct {
	Pings, Profiles, Transactions, Needs, Outcomes string
	Suggestions, Alerts, DeadLetter                string
	Paths                                          string // internal
	Regions                                        string // internal
}

// Topics returns the full topic names.
func (c *Config) Topics() Topics {
	p := c.Topic.Prefix
	return Topics{
		Pings: p + c.Topic.Pings, Profiles: p + c.Topic.Profiles, Transactions: p + c.Topic.Transactions,
		Needs: p + c.Topic.Needs, Outcomes: p + c.Topic.Outcomes, Suggestions: p + c.Topic.Suggestions,
		Alerts: p + c.Topic.Alerts, DeadLetter: p + c.Topic.DeadLetter, Paths: p + c.Topic.Paths,
		Regions: p + c.Topic.Regions,
	}
}

// Inputs are the topics the engine consumes.
func (t Topics) Inputs() []string {
	return []string{t.Pings, t.Profiles, t.Transactions, t.Needs, t.Outcomes}
}

// All are every topic the engine reads or writes, for the dev broker.
func (t Topics) All() []string {
	return append(append(t.Inputs(), t.Suggestions, t.Alerts, t.DeadLetter), t.Internal()...)
}

// Internal are the topics the engine writes for itself: money paths
// re-keyed by user, and matching input re-keyed by region.
func (t Topics) Internal() []string {
	return []string{t.Paths, t.Regions}
}
