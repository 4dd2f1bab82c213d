// Package dashboards holds the Grafana dashboards (grafana/), their
// provisioning files (provisioning/) and the Prometheus alerting rules
// (prometheus/), and reads the dashboards' queries so that tests can run
// every one of them against a real Prometheus and a real ClickHouse, as
// Grafana would, with Grafana's variables and the ClickHouse plugin's
// macros expanded.
package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Datasource types of the panels.
const (
	Prometheus = "prometheus"
	ClickHouse = "grafana-clickhouse-datasource"
)

// Dashboard is what the tests read of a dashboard file.
type Dashboard struct {
	File       string
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Panel is one panel and its queries.
type Panel struct {
	Title       string     `json:"title"`
	Type        string     `json:"type"`
	Description string     `json:"description"`
	Datasource  Datasource `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []Target `json:"targets"`
}

// Datasource names a datasource by type and uid (a variable here).
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Target is one query: Expr for Prometheus, RawSQL for ClickHouse.
type Target struct {
	Datasource Datasource `json:"datasource"`
	RefID      string     `json:"refId"`
	Expr       string     `json:"expr"`
	RawSQL     string     `json:"rawSql"`
}

// Load reads every dashboard in dir.
func Load(dir string) ([]Dashboard, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d Dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		d.File = filepath.Base(f)
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no dashboards in %s", dir)
	}
	return out, nil
}

// ExpandPrometheus replaces Grafana's variables in a PromQL expression as
// Grafana does for an instant query: $__rate_interval and $__interval by
// the given window, and the instance variable, at "All", by its
// allValue ".*".
func ExpandPrometheus(expr string, rateInterval time.Duration) string {
	w := strconv.Itoa(int(rateInterval.Seconds())) + "s"
	r := strings.NewReplacer("$__rate_interval", w, "$__interval", w, "$instance", ".*")
	return r.Replace(expr)
}

var timeFilter = regexp.MustCompile(`\$__timeFilter\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)`)

// ExpandClickHouse replaces the macros of grafana-clickhouse-datasource as
// the plugin expands them for the range from-to: $__timeFilter(col) to a
// condition on the column, $__fromTime and $__toTime to DateTimes.
func ExpandClickHouse(sql string, from, to time.Time) string {
	f, t := strconv.FormatInt(from.Unix(), 10), strconv.FormatInt(to.Unix(), 10)
	sql = timeFilter.ReplaceAllString(sql, "$1 >= toDateTime("+f+") AND $1 <= toDateTime("+t+")")
	return strings.NewReplacer("$__fromTime", "toDateTime("+f+")", "$__toTime", "toDateTime("+t+")").Replace(sql)
}
