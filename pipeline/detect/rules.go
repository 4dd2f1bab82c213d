package detect

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"everywhere/models/fraud"
)

// Rules holds the rules in force and swaps them atomically when the rules
// file changes: re-read, validate, swap. A bad file is rejected with a log
// line and the rules in force stay. Detectors read the pointer per event,
// so a swap takes effect at the next event without a restart.
type Rules struct {
	cur      atomic.Pointer[fraud.Rules]
	base     fraud.Rules
	path     string
	modTime  time.Time
	size     int64
	OnReload func(r *fraud.Rules, err error)
}

// NewRules starts from base (the configured rules) and, when path is set,
// loads the file over it.
func NewRules(base fraud.Rules, path string) (*Rules, error) {
	r := &Rules{base: base, path: path}
	b := base
	r.cur.Store(&b)
	if path != "" {
		if _, err := r.Reload(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Load returns the rules in force.
func (r *Rules) Load() *fraud.Rules { return r.cur.Load() }

// Reload re-reads the file if it changed; it reports whether the rules
// were swapped.
func (r *Rules) Reload() (bool, error) {
	st, err := os.Stat(r.path)
	if err != nil {
		return false, fmt.Errorf("fraud rules file: %w", err)
	}
	if st.ModTime().Equal(r.modTime) && st.Size() == r.size {
		return false, nil
	}
	next, err := ParseRulesFile(r.path, r.base)
	if err != nil {
		return false, err
	}
	r.modTime, r.size = st.ModTime(), st.Size()
	r.cur.Store(next)
	return true, nil
}

// Watch polls the file every interval until stop is closed.
func (r *Rules) Watch(interval time.Duration, stop <-chan struct{}) {
	if r.path == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		swapped, err := r.Reload()
		switch {
		case err != nil:
			slog.Error("fraud rules file rejected; the rules in force stay", "file", r.path, "err", err, "version", r.Load().Version)
		case swapped:
			slog.Info("fraud rules reloaded", "file", r.path, "version", r.Load().Version)
		}
		if (err != nil || swapped) && r.OnReload != nil {
			r.OnReload(r.Load(), err)
		}
	}
}

// ParseRulesFile reads a YAML file with a `rules:` section (the layout of
// fraud.rules in config/everywhere.yaml) over base, and validates it.
// Unknown keys are errors, as everywhere else in the configuration.
func ParseRulesFile(path string, base fraud.Rules) (*fraud.Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fraud rules file: %w", err)
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("fraud rules file %s: %w", path, err)
	}
	out := base
	out.Version = ""
	sub := v.Sub("rules")
	if sub == nil {
		return nil, fmt.Errorf("fraud rules file %s: no rules: section", path)
	}
	if err := sub.UnmarshalExact(&out, viper.DecodeHook(mapstructure.StringToTimeDurationHookFunc())); err != nil {
		return nil, fmt.Errorf("fraud rules file %s: %w", path, err)
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("fraud rules file %s: %w", path, err)
	}
	if out.Version == "" {
		out.Version = out.Fingerprint()
	}
	return &out, nil
}
