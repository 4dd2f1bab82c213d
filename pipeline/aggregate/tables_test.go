package aggregate

import (
	"io/fs"
	"regexp"
	"testing"

	"everywhere/pipeline/sink"
	"everywhere/sql"
)

// TestCountTablesNameTheirPartitionColumn: each count table's PartTime is
// the column its CREATE TABLE partitions by, which an insert tried again
// relies on (sink's recheck), and the sink accepts the table.
func TestCountTablesNameTheirPartitionColumn(t *testing.T) {
	text, err := fs.ReadFile(sql.Migrations, "0001_aggregates.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range Watermarked {
		re := regexp.MustCompile(`(?s)CREATE TABLE IF NOT EXISTS ` + table.Name + ` \(.*?\) ENGINE = MergeTree\s+PARTITION BY toYYYYMM\((\w+)\)`)
		m := re.FindSubmatch(text)
		if m == nil {
			t.Errorf("%s: no MergeTree partitioned by month in 0001_aggregates.sql", table.Name)
			continue
		}
		if string(m[1]) != table.PartTime {
			t.Errorf("%s: PartTime %q, partitioned by %q", table.Name, table.PartTime, m[1])
		}
		sink.Insert(nil, table, nil) // panics on a table it cannot recheck
	}
}
