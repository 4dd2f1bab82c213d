package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/pflag"

	"everywhere/consumers"
	"everywhere/events"
	"everywhere/kafkaadmin"
	"everywhere/models/fraud"
	"everywhere/pipeline/detect"
)

// record is one input event of a backtest.
type record struct {
	kind  byte // 'p' ping, 'r' profile, 't' transaction
	ts    int64
	seq   int
	value []byte
}

// cmdBacktest replays pings, profiles and transactions through the fraud
// detectors with a given rules file and publishes nothing: an analyst can
// try a threshold on past data before deploying it.
func cmdBacktest(args []string) error {
	fs := pflag.NewFlagSet("backtest", pflag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	rulesFile := fs.String("rules", "", "rules file to try (a `rules:` section); default: the configured rules")
	eventsFile := fs.String("events", "", "read events from this file (lines of topic<TAB>key<TAB>json, as `simulate --out` writes) instead of Kafka")
	from := fs.String("from", "", "first event time to replay (RFC 3339); default: the beginning")
	to := fs.String("to", "", "last event time to replay (RFC 3339); default: the end")
	labels := fs.String("labels", "", "labels file: also print precision and recall")
	minSev := fs.String("min-severity", "medium", "severity counted by --labels scoring and --show")
	show := fs.Int("show", 20, "print this many alerts (0: none)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(nil)
	if err != nil {
		return err
	}
	rules := &cfg.Fraud.Rules
	if *rulesFile != "" {
		if rules, err = detect.ParseRulesFile(*rulesFile, cfg.Fraud.Rules); err != nil {
			return err
		}
	}
	sev := fraud.ParseSeverity(*minSev)
	if sev == 0 {
		return fmt.Errorf("--min-severity is %q; allowed: low, medium, high", *minSev)
	}
	lo, hi := int64(0), int64(1<<62)
	if *from != "" {
		t, err := time.Parse(time.RFC3339, *from)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		lo = t.UnixMilli()
	}
	if *to != "" {
		t, err := time.Parse(time.RFC3339, *to)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		hi = t.UnixMilli()
	}
	var recs []record
	add := func(kind byte, value []byte) {
		ts := consumers.EventTime(value)
		if ts < lo || ts > hi {
			return
		}
		recs = append(recs, record{kind: kind, ts: ts, seq: len(recs), value: value})
	}
	topics := cfg.Topics()
	if *eventsFile != "" {
		if err := readEventsFile(*eventsFile, add); err != nil {
			return err
		}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, tk := range []struct {
			topic string
			kind  byte
		}{{topics.Profiles, 'r'}, {topics.Pings, 'p'}, {topics.Transactions, 't'}} {
			if err := kafkaadmin.ReadAll(ctx, cfg.Kafka.Brokers, tk.topic, func(m *kafka.Message) error {
				add(tk.kind, m.Value)
				return nil
			}); err != nil {
				return err
			}
		}
	}
	// One detector sees every user, in event time; ties keep reading order.
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].ts < recs[j].ts })
	rp := fraud.NewReplayer(rules)
	dec := events.NewDecoder(cfg.Engine.BaseCurrency)
	var (
		alerts   []fraud.Alert
		p        events.Ping
		pr       events.Profile
		tx       events.Transaction
		rejected int
	)
	for _, r := range recs {
		switch r.kind {
		case 'p':
			if dec.Ping(r.value, &p) != nil {
				rejected++
				continue
			}
			rp.D.Ping(&p)
		case 'r':
			if dec.Profile(r.value, &pr) != nil {
				rejected++
				continue
			}
			alerts = rp.D.Profile(&pr, alerts)
		case 't':
			if dec.Transaction(r.value, &tx) != nil {
				rejected++
				continue
			}
			alerts = rp.Transaction(&tx, alerts)
		}
	}
	fmt.Printf("backtest: %d events (%d rejected), rules version %s, %d alerts\n", len(recs), rejected, rules.Version, len(alerts))
	counts := map[string]int{}
	for _, a := range alerts {
		counts[a.Rule+"\t"+a.Severity.String()]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rule\tseverity\talerts")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%d\n", k, counts[k])
	}
	tw.Flush()
	shown := 0
	for i := range alerts {
		if shown >= *show {
			break
		}
		if alerts[i].Severity >= sev {
			fmt.Println(string(alerts[i].AppendJSON(nil)))
			shown++
		}
	}
	if *labels != "" {
		truth, err := readTruth(*labels)
		if err != nil {
			return err
		}
		flags := make([]fraud.Flag, len(alerts))
		for i, a := range alerts {
			flags[i] = fraud.Flag{UserID: a.UserID, Rule: a.Rule, Severity: a.Severity}
		}
		fraud.Evaluate(flags, truth, sev).Print(os.Stdout)
	}
	return nil
}

func readEventsFile(path string, add func(kind byte, value []byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		topic, rest, ok := strings.Cut(sc.Text(), "\t")
		_, value, ok2 := strings.Cut(rest, "\t")
		if !ok || !ok2 {
			return fmt.Errorf("%s:%d: want topic<TAB>key<TAB>json", path, line)
		}
		switch {
		case strings.HasSuffix(topic, "pings"):
			add('p', []byte(value))
		case strings.HasSuffix(topic, "profiles"):
			add('r', []byte(value))
		case strings.HasSuffix(topic, "transactions"):
			add('t', []byte(value))
		}
	}
	return sc.Err()
}
