package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"everywhere/pipeline/engine"
)

func cmdRun(args []string) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	brokers := fs.String("brokers", "", "kafka.brokers, comma-separated")
	chAddr := fs.String("clickhouse-addr", "", "clickhouse.addr")
	httpAddr := fs.String("http-addr", "", "http.addr (metrics and health)")
	printCfg := fs.Bool("print-config", false, "print the effective config and exit")
	logJSON := fs.Bool("log-json", false, "log as JSON lines")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(map[string]string{"kafka.brokers": *brokers, "clickhouse.addr": *chAddr, "http.addr": *httpAddr})
	if err != nil {
		return err
	}
	if *printCfg {
		out, err := yaml.Marshal(cfg)
		if err != nil {
			return fmt.Errorf("print config: %w", err)
		}
		_, err = os.Stdout.Write(out)
		return err
	}
	setupLog(*logJSON)
	ctx, stop := signalContext()
	defer stop()
	return engine.Run(ctx, cfg, version)
}

func setupLog(json bool) {
	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if json {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	slog.SetDefault(slog.New(h))
}
