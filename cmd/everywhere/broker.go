package main

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/spf13/pflag"

	"everywhere/devbroker"
)

func cmdBroker(args []string) error {
	fs := pflag.NewFlagSet("broker", pflag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	addr := fs.String("addr", "127.0.0.1:9092", "listen address")
	partitions := fs.Int("partitions", 0, "partitions per topic (default: topic.partitions)")
	dataDir := fs.String("data-dir", "", "keep the log in this folder and reload it on start (default: in memory)")
	if err := parse(fs, args); err != nil {
		return err
	}
	extra := map[string]string{}
	if *partitions > 0 {
		extra["topic.partitions"] = strconv.Itoa(*partitions)
	}
	cfg, err := cf.load(extra)
	if err != nil {
		return err
	}
	setupLog(false)
	topics := cfg.Topics().All()
	b, err := devbroker.Start(*addr, cfg.Topic.Partitions, topics, *dataDir)
	if err != nil {
		return err
	}
	defer b.Close()
	slog.Info("dev broker up", "addrs", b.Addrs(), "topics", len(topics), "partitions", cfg.Topic.Partitions)
	fmt.Println("broker listening on", *addr)
	ctx, stop := signalContext()
	defer stop()
	<-ctx.Done()
	slog.Info("dev broker stopping")
	return nil
}
