package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"everywhere/dashboards"
	"everywhere/simulator"
)

// prometheusServer runs Debian's Prometheus on loopback, scraping target
// every second.
func prometheusServer(t *testing.T, target string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: everywhere\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command("prometheus", "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	logs, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("Prometheus is needed (make deps installs it): %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	wait(t, 30*time.Second, "Prometheus ready", func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return "http://" + addr
}

type promResult struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []json.RawMessage `json:"result"`
	} `json:"data"`
}

func promQuery(t *testing.T, base, q string) promResult {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r promResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// TestDashboardQueriesAgainstPrometheusAndClickHouse feeds the engine a
// simulated city while a real Prometheus scrapes it, then runs every panel
// query of every dashboard: each Prometheus query must parse and return
// series, each ClickHouse query (the plugin's macros expanded) must run.
func TestDashboardQueriesAgainstPrometheusAndClickHouse(t *testing.T) {
	boards, err := dashboards.Load("../dashboards/grafana")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, 4)
	en := e.startEngine()
	prom := prometheusServer(t, en.http)

	c := simulator.DefaultConfig()
	c.Users, c.Duration, c.Seed, c.Episodes = 400, 10*time.Hour, 5, 1
	x := expect(simulate(c))
	e.kcatPublish(x)
	e.kcatProduce(e.topics.Pings, []string{"u1\tnot json"})
	e.settled(t)
	time.Sleep(time.Second) // the outcomes reach ClickHouse
	wait(t, 30*time.Second, "six scrapes of the engine", func() bool {
		r := promQuery(t, prom, `count_over_time(everywhere_build_info[1m])`)
		var v struct {
			Value [2]any `json:"value"`
		}
		if len(r.Data.Result) != 1 || json.Unmarshal(r.Data.Result[0], &v) != nil {
			return false
		}
		n, _ := strconv.Atoi(fmt.Sprint(v.Value[1]))
		return n >= 6
	})

	from, to := c.Start.Add(-time.Hour), c.Start.Add(c.Duration+24*time.Hour)
	queries := 0
	for _, d := range boards {
		for _, p := range d.Panels {
			for _, q := range p.Targets {
				where := fmt.Sprintf("%s %q %s", d.File, p.Title, q.RefID)
				queries++
				switch q.Datasource.Type {
				case dashboards.Prometheus:
					expr := dashboards.ExpandPrometheus(q.Expr, 5*time.Second)
					r := promQuery(t, prom, expr)
					if r.Status != "success" {
						t.Errorf("%s: %s: %s", where, expr, r.Error)
					} else if len(r.Data.Result) == 0 {
						t.Errorf("%s: %s: no series", where, expr)
					}
				case dashboards.ClickHouse:
					sql := dashboards.ExpandClickHouse(q.RawSQL, from, to)
					rows, err := e.conn.Query(context.Background(), sql)
					if err != nil {
						t.Errorf("%s: %v\n%s", where, err, sql)
						continue
					}
					n := 0
					for rows.Next() {
						n++
					}
					if err := rows.Err(); err != nil {
						t.Errorf("%s: %v", where, err)
					}
					rows.Close()
					if n == 0 {
						t.Errorf("%s: no rows from a simulated city\n%s", where, sql)
					}
				}
			}
		}
	}
	t.Logf("%d panel queries run", queries)
}
