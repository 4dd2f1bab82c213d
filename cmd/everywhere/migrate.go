package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"everywhere/sql"
	"everywhere/warehouse"
)

func cmdMigrate(args []string) error {
	fs := pflag.NewFlagSet("migrate", pflag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	chAddr := fs.String("clickhouse-addr", "", "clickhouse.addr")
	db := fs.String("database", "", "clickhouse.database")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(map[string]string{"clickhouse.addr": *chAddr, "clickhouse.database": *db})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ms, err := warehouse.Migrate(ctx, cfg.ClickHouse, sql.Migrations)
	if err != nil {
		return err
	}
	for _, m := range ms {
		state := "applied"
		if m.Applied {
			state = "already applied"
		}
		fmt.Printf("%s: %s\n", m.Name, state)
	}
	return nil
}
