package main

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"everywhere/simulator"
)

func cmdSimulate(args []string) error {
	fs := pflag.NewFlagSet("simulate", pflag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	def := simulator.DefaultConfig()
	brokers := fs.String("brokers", "", "kafka.brokers, comma-separated")
	users := fs.Int("users", def.Users, "users in the city")
	seed := fs.Uint64("seed", def.Seed, "random seed: the same seed gives the same stream")
	speed := fs.Float64("speed", 1440, "simulated seconds per wall-clock second (0: as fast as possible)")
	duration := fs.Duration("duration", def.Duration, "simulated time to run")
	start := fs.String("start", def.Start.Format(time.RFC3339), "simulated start time (RFC 3339)")
	episodes := fs.Int("episodes", def.Episodes, "fraud episodes (and honest look-alikes) per pattern")
	labels := fs.String("labels", "", "write the injected episodes here as JSON lines")
	load := fs.Bool("load", false, "publish the synthetic load of `make bench` instead of the city's day: an exact mix (80% pings, 12% transactions, 5% needs, 3% other), no storyline")
	events := fs.Int("events", simulator.DefaultLoad().Events, "with --load: events to publish")
	rate := fs.Int("rate", simulator.DefaultLoad().Rate, "with --load: events per second of event time")
	out := fs.String("out", "", "write the events to this file (topic<TAB>key<TAB>json lines) instead of Kafka")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(map[string]string{"kafka.brokers": *brokers})
	if err != nil {
		return err
	}
	sc := def
	sc.Users, sc.Seed, sc.Duration, sc.Episodes = *users, *seed, *duration, *episodes
	sc.Currency = cfg.Engine.BaseCurrency
	if sc.Start, err = time.Parse(time.RFC3339, *start); err != nil {
		return fmt.Errorf("--start: %w", err)
	}
	if sc.Users < 100 {
		return fmt.Errorf("--users is %d; at least 100 are needed to cast the fraud episodes", sc.Users)
	}
	if *speed < 0 {
		return fmt.Errorf("--speed is %g; allowed: 0 (as fast as possible) or more", *speed)
	}
	t := cfg.Topics()
	pc := simulator.PublishConfig{Brokers: cfg.Kafka.Brokers, Speed: *speed, Progress: os.Stderr, Partitioner: cfg.Kafka.Partitioner}
	pc.Topics[simulator.Pings], pc.Topics[simulator.Profiles] = t.Pings, t.Profiles
	pc.Topics[simulator.Transactions], pc.Topics[simulator.Needs], pc.Topics[simulator.Outcomes] = t.Transactions, t.Needs, t.Outcomes

	ctx, stop := signalContext()
	defer stop()
	var stream simulator.Stream
	var sim *simulator.Sim
	if *load {
		lc := simulator.DefaultLoad()
		lc.Users, lc.Seed, lc.Start, lc.Events, lc.Rate, lc.Currency = *users, *seed, sc.Start, *events, *rate, sc.Currency
		if *events < 1 || *rate < 1 {
			return fmt.Errorf("--events is %d and --rate is %d; both must be at least 1", *events, *rate)
		}
		stream = simulator.NewLoad(lc)
	} else {
		sim = simulator.New(sc)
		stream = sim
	}
	var st simulator.Stats
	if *out != "" {
		st, err = writeEvents(*out, stream, pc.Topics)
	} else {
		st, err = simulator.Publish(ctx, stream, pc)
	}
	if *labels != "" && sim != nil {
		f, ferr := os.Create(*labels)
		if ferr != nil {
			return ferr
		}
		if werr := simulator.WriteLabels(f, sim.Labels()); werr != nil {
			f.Close()
			return werr
		}
		if cerr := f.Close(); cerr != nil {
			return cerr
		}
	}
	for topic, n := range st.Messages {
		fmt.Printf("%-14s %d\n", simulator.Topic(topic), n)
	}
	if ctx.Err() != nil {
		return nil // interrupted: what was published is printed above
	}
	return err
}

func writeEvents(path string, sim simulator.Stream, topics [simulator.NumTopics]string) (simulator.Stats, error) {
	var st simulator.Stats
	f, err := os.Create(path)
	if err != nil {
		return st, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var m simulator.Message
	for sim.Next(&m) {
		w.WriteString(topics[m.Topic])
		w.WriteByte('\t')
		w.WriteString(m.Key)
		w.WriteByte('\t')
		w.Write(m.Value)
		w.WriteByte('\n')
		st.Messages[m.Topic]++
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return st, err
	}
	return st, f.Close()
}
