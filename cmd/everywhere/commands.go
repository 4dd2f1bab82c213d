package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"everywhere/config"
)

type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{
	"run":      {"run the engine", cmdRun},
	"broker":   {"run the Kafka-protocol dev broker with every topic", cmdBroker},
	"migrate":  {"apply the ClickHouse migrations", cmdMigrate},
	"simulate": {"publish a synthetic city to the input topics", cmdSimulate},
	"report":   {"print what the engine did, from ClickHouse and Kafka", cmdReport},
	"score":    {"score the alerts topic against simulator labels", cmdScore},
	"backtest": {"replay events through the fraud rules, publishing nothing", cmdBacktest},
	"version":  {"print the version", func([]string) error { fmt.Println(version); return nil }},
}

func run(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		usage()
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(args[1:])
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: everywhere COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\n'everywhere COMMAND --help' lists a command's flags.")
}

// configFlags are the flags every command that reads the config shares.
type configFlags struct {
	file string
	set  []string
}

func (c *configFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.file, "config", "", "YAML file overriding config/everywhere.yaml")
	fs.StringArrayVar(&c.set, "set", nil, "override a setting, key=value (repeatable), e.g. --set kafka.group=g2")
}

// load applies the layers; named flags (brokers, ...) are passed as extra
// overrides and win over --set.
func (c *configFlags) load(extra map[string]string) (*config.Config, error) {
	over := map[string]string{}
	for _, kv := range c.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want key=value", kv)
		}
		over[k] = v
	}
	for k, v := range extra {
		if v != "" {
			over[k] = v
		}
	}
	return config.Load(c.file, over)
}

func parse(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		os.Exit(0)
	}
	return err
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
