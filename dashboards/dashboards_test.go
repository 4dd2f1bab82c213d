package dashboards

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEveryPanelIsDocumentedAndPortable: a unit and a description on every
// panel, datasources chosen by variable, rates over $__rate_interval.
func TestEveryPanelIsDocumentedAndPortable(t *testing.T) {
	ds, err := Load("grafana")
	if err != nil {
		t.Fatal(err)
	}
	fixedRange := regexp.MustCompile(`\[[0-9]+[smhd]\]`)
	for _, d := range ds {
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v.Type
		}
		for _, p := range d.Panels {
			where := d.File + ": " + p.Title
			if p.Description == "" {
				t.Errorf("%s: no description", where)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, q := range p.Targets {
				name := strings.TrimSuffix(strings.TrimPrefix(q.Datasource.UID, "${"), "}")
				if vars[name] != "datasource" {
					t.Errorf("%s: datasource %q is not a datasource variable", where, q.Datasource.UID)
				}
				switch q.Datasource.Type {
				case Prometheus:
					if q.Expr == "" || fixedRange.MatchString(q.Expr) {
						t.Errorf("%s: %q: rates must use [$__rate_interval]", where, q.Expr)
					}
				case ClickHouse:
					if q.RawSQL == "" {
						t.Errorf("%s: no SQL", where)
					}
				default:
					t.Errorf("%s: datasource type %q", where, q.Datasource.Type)
				}
			}
		}
	}
}

func TestExpansion(t *testing.T) {
	from, to := time.Unix(1764000000, 0), time.Unix(1764003600, 0)
	got := ExpandClickHouse("SELECT 1 FROM t WHERE $__timeFilter(minute) AND day >= toDate($__fromTime)", from, to)
	want := "SELECT 1 FROM t WHERE minute >= toDateTime(1764000000) AND minute <= toDateTime(1764003600) AND day >= toDate(toDateTime(1764000000))"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := ExpandPrometheus(`rate(x{instance=~"$instance"}[$__rate_interval])`, 5*time.Second); got != `rate(x{instance=~".*"}[5s])` {
		t.Fatal(got)
	}
}

// TestAlertRules checks the rule file and runs its unit tests with
// promtool (Debian's prometheus package; make deps installs it).
func TestAlertRules(t *testing.T) {
	for _, args := range [][]string{{"check", "rules", "prometheus/alerts.yml"}, {"test", "rules", "prometheus/alerts_test.yml"}} {
		out, err := exec.Command("promtool", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
