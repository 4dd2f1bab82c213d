package warehouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Watermarks returns, for each partition in partitions, the highest source
// offset table holds (-1 for none). Rows of one sealed chunk are written by
// one INSERT, so everything at or below the watermark is already counted and
// must be skipped when the partition is read again.
func Watermarks(ctx context.Context, conn driver.Conn, table string, partitions []int) (map[int]int64, error) {
	out := make(map[int]int64, len(partitions))
	// The IN list is written out: 18.16 reads a bound slice as one Array
	// value. The values are ints, so nothing can be injected.
	ps := make([]string, len(partitions))
	for i, p := range partitions {
		out[p] = -1
		ps[i] = strconv.Itoa(p)
	}
	if len(partitions) == 0 {
		return out, nil
	}
	rows, err := conn.Query(ctx, "SELECT src_partition, max(src_offset) FROM "+table+" WHERE src_partition IN ("+strings.Join(ps, ",")+") GROUP BY src_partition")
	if err != nil {
		return nil, fmt.Errorf("watermarks of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p uint16
		var off uint64
		if err := rows.Scan(&p, &off); err != nil {
			return nil, fmt.Errorf("watermarks of %s: %w", table, err)
		}
		out[int(p)] = int64(off)
	}
	return out, rows.Err()
}
