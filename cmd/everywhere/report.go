package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"everywhere/config"
	"everywhere/kafkaadmin"
	"everywhere/warehouse"
)

// cmdReport prints what the engine did: messages per topic from Kafka, rows
// and totals per table from ClickHouse, read the way the dashboards read them.
func cmdReport(args []string) error {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	if err := reportKafka(ctx, w, cfg); err != nil {
		return err
	}
	return reportClickHouse(ctx, w, cfg)
}

func reportKafka(ctx context.Context, w *tabwriter.Writer, cfg *config.Config) error {
	fmt.Fprintf(w, "Kafka %v\t\t\n", cfg.Kafka.Brokers)
	fmt.Fprintf(w, "topic\tmessages\t\n")
	for _, t := range cfg.Topics().All() {
		n, err := kafkaadmin.Messages(ctx, cfg.Kafka.Brokers, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%d\t\n", t, n)
	}
	lag, err := kafkaadmin.GroupLag(ctx, cfg.Kafka.Brokers, cfg.Kafka.Group, append(cfg.Topics().Inputs(), cfg.Topics().Internal()...))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "group %s lag\t%d\t\n\t\t\n", cfg.Kafka.Group, lag)
	return nil
}

var reportQueries = []struct{ title, query string }{
	{"ping_cell_minute: rows, pings, available pings", "SELECT count(), sum(pings), sum(available_pings) FROM ping_cell_minute"},
	{"ping_users: cell-minutes, user-cell-minutes, helper-cell-minutes", "SELECT count(), sum(u), sum(h) FROM (SELECT cell, minute, uniqExactMerge(users) AS u, uniqExactIfMerge(helpers) AS h FROM ping_users GROUP BY cell, minute)"},
	{"need_cell_minute: rows, needs, open needs", "SELECT count(), sum(needs), sumIf(needs, status = 'open') FROM need_cell_minute"},
	{"txn_cell_minute: rows, transactions, amount", "SELECT count(), sum(txns), sum(amount_total) FROM txn_cell_minute"},
	{"user_spend_day: rows, purchases, purchase total", "SELECT count(), sum(purchases), sum(purchase_total) FROM user_spend_day"},
	{"outcomes: rows, completed, no-shows", "SELECT count(), countIf(outcome = 'completed'), countIf(outcome = 'no_show') FROM outcomes FINAL"},
	{"suggestions: rows, needs, helpers", "SELECT count(), uniqExact(need_id), uniqExact(helper_id) FROM suggestions FINAL"},
	{"alerts: rows, users, high", "SELECT count(), uniqExact(user_id), countIf(severity = 'high') FROM alerts FINAL"},
	{"dead_letters: rows, topics, reasons", "SELECT count(), uniqExact(topic), uniqExact(error) FROM dead_letters FINAL"},
}

func reportClickHouse(ctx context.Context, w *tabwriter.Writer, cfg *config.Config) error {
	conn, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(w, "ClickHouse %s database %s\t\t\n", cfg.ClickHouse.Addr, cfg.ClickHouse.Database)
	for _, q := range reportQueries {
		var a, b, c uint64
		if err := conn.QueryRow(ctx, q.query).Scan(&a, &b, &c); err != nil {
			return fmt.Errorf("%s: %w", q.title, err)
		}
		fmt.Fprintf(w, "%s\t%d, %d, %d\t\n", q.title, a, b, c)
	}
	rows, err := conn.Query(ctx, `SELECT user_id, sum(purchase_total) - sum(refund_total) AS net, sum(purchases)
		FROM user_spend_day GROUP BY user_id ORDER BY net DESC, user_id LIMIT 5`)
	if err != nil {
		return fmt.Errorf("big spenders: %w", err)
	}
	defer rows.Close()
	fmt.Fprintf(w, "\t\t\nbig spenders (net of refunds)\tamount, purchases\t\n")
	for rows.Next() {
		var user string
		var net int64
		var n uint64
		if err := rows.Scan(&user, &net, &n); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%.2f %s, %d\t\n", user, float64(net)/100, cfg.Engine.BaseCurrency, n)
	}
	return rows.Err()
}
