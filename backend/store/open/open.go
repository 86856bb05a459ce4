// Package open opens the store a database setting names: a postgres:// or
// postgresql:// URL is PostgreSQL (cluster mode), anything else the path of
// a SQLite file (one relay, the embedded default).
package open

import (
	"context"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/store"
	"switchboard/backend/store/postgres"
)

// IsPostgres says whether the setting names a PostgreSQL database.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Store opens the database, bringing its schema up to date. Options are
// SQLite's memory settings; PostgreSQL keeps its caches in its own server.
func Store(ctx context.Context, database string, o store.Options) (store.Store, error) {
	if IsPostgres(database) {
		return postgres.Open(ctx, database)
	}
	return store.OpenSQLiteWith(database, o)
}

// Redact is the setting as logs and messages may show it: a URL's password
// is replaced by "xxxxx".
func Redact(database string) string {
	if !IsPostgres(database) {
		return database
	}
	u, err := url.Parse(database)
	if err != nil {
		return "postgres://(unparsable address)"
	}
	return u.Redacted()
}

// Reach connects to a PostgreSQL database without changing it and says
// which server answered (for check-config).
func Reach(ctx context.Context, database string) (string, error) {
	conn, err := pgx.Connect(ctx, database)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var version string
	err = conn.QueryRow(ctx, "SHOW server_version").Scan(&version)
	return "PostgreSQL " + version, err
}
