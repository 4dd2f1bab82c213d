package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"everywhere/config"
)

// Migration is one applied or pending file of sql/.
type Migration struct {
	Version  uint32
	Name     string
	Checksum string
	Applied  bool
}

// Migrate creates the database when missing and applies, in order, every
// migration of files not yet recorded in schema_migrations. It is safe to run
// twice and from two processes at once: statements are idempotent and a
// version recorded twice collapses. A recorded migration whose file changed
// is an error, since the tables no longer match the file.
func Migrate(ctx context.Context, c config.ClickHouse, files fs.FS) ([]Migration, error) {
	root, err := open(ctx, c, "default")
	if err != nil {
		return nil, err
	}
	err = root.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+c.Database)
	root.Close()
	if err != nil {
		return nil, fmt.Errorf("create database %s: %w", c.Database, err)
	}
	conn, err := Open(ctx, c)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version UInt32, name String, checksum String, applied_at DateTime
	) ENGINE = ReplacingMergeTree ORDER BY version`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[uint32]string{}
	rows, err := conn.Query(ctx, "SELECT version, any(checksum) FROM schema_migrations GROUP BY version")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = sum
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}

	pending, err := Load(files)
	if err != nil {
		return nil, err
	}
	for i := range pending {
		m := &pending[i]
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return nil, fmt.Errorf("migration %s was applied with different content (checksum %s, file now %s): add a new migration instead of editing an applied one", m.Name, sum[:12], m.Checksum[:12])
			}
			m.Applied = true
			continue
		}
		body, _ := fs.ReadFile(files, m.Name)
		for _, stmt := range Statements(string(body)) {
			if err := conn.Exec(ctx, stmt); err != nil {
				return nil, fmt.Errorf("migration %s: %w\nstatement: %s", m.Name, err, stmt)
			}
		}
		if err := record(ctx, conn, m); err != nil {
			return nil, fmt.Errorf("record migration %s: %w", m.Name, err)
		}
	}
	return pending, nil
}

// record inserts the migration's row. It goes as a one-row batch: an INSERT
// with bound VALUES hangs on ClickHouse 18.16's native protocol.
func record(ctx context.Context, conn driver.Conn, m *Migration) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, checksum, applied_at)")
	if err != nil {
		return err
	}
	if err := b.Append(m.Version, m.Name, m.Checksum, time.Now().UTC()); err != nil {
		b.Abort()
		return err
	}
	return b.Send()
}

// Load lists the migrations in files, in version order. File names start
// with their version number: 0001_aggregates.sql.
func Load(files fs.FS) ([]Migration, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Migration
	seen := map[uint32]string{}
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a version number and '_', as in 0001_aggregates.sql", name)
		}
		if other, dup := seen[uint32(v)]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", other, name, v)
		}
		seen[uint32(v)] = name
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		out = append(out, Migration{Version: uint32(v), Name: name, Checksum: hex.EncodeToString(sum[:])})
	}
	return out, nil
}

// Statements splits a migration into statements: a statement ends with a
// semicolon at the end of a line; comment lines are dropped.
func Statements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, stmt)
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
