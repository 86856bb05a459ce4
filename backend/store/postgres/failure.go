package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"switchboard/backend/store"
)

// writeFailure is a failed write with its likely cause in a few words, what
// store.WriteFailure tells an operator (and a client) instead of the whole
// error, which names servers and databases.
type writeFailure struct {
	reason string
	err    error
}

func (e *writeFailure) Error() string        { return e.err.Error() }
func (e *writeFailure) Unwrap() error        { return e.err }
func (e *writeFailure) WriteFailure() string { return e.reason }

// named wraps a failed write with its cause when it is a known one.
func named(err error) error {
	if err == nil {
		return nil
	}
	if r := cause(err); r != "" {
		return &writeFailure{reason: r, err: err}
	}
	return err
}

// cause names why a write failed, or "" when it is none of the usual ones
// (store.WriteFailure then uses the error's text, or its own words for a
// timeout).
func cause(err error) string {
	var pg *pgconn.PgError
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "" // store.WriteFailure words these; a net.Error too
	case errors.Is(err, store.ErrFenced):
		return "another node took over the desk"
	case errors.As(err, &pg):
		switch {
		case pg.Code == "53100":
			return "disk full on the database server"
		case strings.HasPrefix(pg.Code, "53"):
			return "the database server is out of resources"
		case pg.Code == "25006":
			return "database is read-only"
		case strings.HasPrefix(pg.Code, "57P"), strings.HasPrefix(pg.Code, "08"):
			return "cannot reach the database server"
		}
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed):
		return "cannot reach the database server"
	}
	return ""
}
