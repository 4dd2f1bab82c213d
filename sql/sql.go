// Package sql holds the ClickHouse migrations, applied in file-name order
// by `everywhere migrate`. Each file is a list of statements separated by
// semicolons at the end of a line; every statement must be safe to run again
// (IF NOT EXISTS), since a migration interrupted half-way is re-run whole.
// The SQL must run on ClickHouse 18.16 and on current releases.
package sql

import "embed"

// Migrations are the *.sql files of this folder.
//
//go:embed *.sql
var Migrations embed.FS
