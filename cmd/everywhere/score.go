package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/pflag"
	"github.com/valyala/fastjson"

	"everywhere/kafkaadmin"
	"everywhere/models/fraud"
	"everywhere/simulator"
)

// cmdScore reads the alerts topic and scores it against the simulator's
// labels: recall and precision per pattern, at user level.
func cmdScore(args []string) error {
	fs := pflag.NewFlagSet("score", pflag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	labels := fs.String("labels", "", "labels file written by `everywhere simulate --labels` (required)")
	minSev := fs.String("min-severity", "medium", "count alerts at this severity and above: low, medium or high")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *labels == "" {
		return fmt.Errorf("--labels is required")
	}
	sev := fraud.ParseSeverity(*minSev)
	if sev == 0 {
		return fmt.Errorf("--min-severity is %q; allowed: low, medium, high", *minSev)
	}
	cfg, err := cf.load(nil)
	if err != nil {
		return err
	}
	truth, err := readTruth(*labels)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var flags []fraud.Flag
	var p fastjson.Parser
	err = kafkaadmin.ReadAll(ctx, cfg.Kafka.Brokers, cfg.Topics().Alerts, func(m *kafka.Message) error {
		v, err := p.ParseBytes(m.Value)
		if err != nil {
			return fmt.Errorf("alert at offset %d is not JSON: %w", m.Offset, err)
		}
		flags = append(flags, fraud.Flag{UserID: string(v.GetStringBytes("user_id")), Rule: string(v.GetStringBytes("rule")),
			Severity: fraud.ParseSeverity(string(v.GetStringBytes("severity")))})
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d alerts read from %s\n", len(flags), cfg.Topics().Alerts)
	fraud.Evaluate(flags, truth, sev).Print(os.Stdout)
	return nil
}

func readTruth(path string) ([]fraud.Truth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	labels, err := simulator.ReadLabels(f)
	if err != nil {
		return nil, fmt.Errorf("labels %s: %w", path, err)
	}
	truth := make([]fraud.Truth, len(labels))
	for i, l := range labels {
		truth[i] = fraud.Truth{UserID: l.UserID, Pattern: l.Pattern, Fraud: l.Fraud, Lookalike: l.Lookalike}
	}
	return truth, nil
}
