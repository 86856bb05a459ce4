package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// Apply on the writer's driver connection
//
// Apply holds the writer's one connection as a *sql.Conn for its whole
// batch and runs its frequent statements through the driver interface
// underneath (sql.Conn.Raw): on statements prepared there once, with one
// argument slice reused from statement to statement. Through database/sql
// every Exec allocated a converted copy of its arguments and every
// transaction bound each prepared statement to itself anew; with the rows
// and contexts of the batch's first queries, most of the store's write
// path, which was half of what the relay allocated per message
// (docs/performance.md, "Apply on the driver's connection"). The rare statements (requests, attachments, a transcript's
// read) still go through the *sql.Conn. All of them run in the one
// transaction Apply opens and closes with its own BEGIN and COMMIT.

// connStmt is one of Apply's statements, prepared on the writer's driver
// connection.
type connStmt struct {
	sql string
	st  driver.Stmt
}

// prepareOn makes sure every statement is prepared on dc. The writer's
// pool keeps its one connection until the store closes it (discardConn,
// reconnect), closing the statements first; the next batch prepares them
// again on the new connection.
func (w *writeStmts) prepareOn(ctx context.Context, dc any) error {
	if w.on == dc && w.list[0].st != nil {
		return nil
	}
	p, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("store: driver connection %T cannot prepare", dc)
	}
	for _, c := range w.list {
		c.st = nil
	}
	w.on = dc
	for _, c := range w.list {
		st, err := p.PrepareContext(ctx, c.sql)
		if err != nil {
			closeStmts(w.list)
			return fmt.Errorf("store: prepare: %w", err)
		}
		c.st = st
	}
	return nil
}

// closeOn closes the statements if they are prepared on dc. It must run
// on that connection (under Raw): SQLite keeps a connection whose statements
// are not finalized open after it is closed.
func (w *writeStmts) closeOn(dc any) {
	if w.on == dc {
		closeStmts(w.list)
	}
}

func closeStmts(list []*connStmt) {
	for _, c := range list {
		if c.st != nil {
			c.st.Close()
			c.st = nil
		}
	}
}

// named converts vals to the driver's arguments, reusing buf. Values the
// driver takes as they are (int64, string, []byte...) are not copied;
// others (an int, a named string type) are converted as database/sql would.
func named(buf []driver.NamedValue, vals []any) ([]driver.NamedValue, error) {
	buf = buf[:0]
	for i, v := range vals {
		if !driver.IsValue(v) {
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(v); err != nil {
				return buf, fmt.Errorf("argument %d: %w", i+1, err)
			}
		}
		buf = append(buf, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return buf, nil
}

// run calls f with st, prepared on the batch's connection, and vals as the
// driver's arguments.
func (a *applier) run(st *connStmt, vals []any, f func(driver.Stmt, []driver.NamedValue) error) error {
	var err error
	if a.named, err = named(a.named, vals); err != nil {
		return err
	}
	return a.c.Raw(func(dc any) error {
		if err := a.st.prepareOn(a.ctx, dc); err != nil {
			return err
		}
		return f(st.st, a.named)
	})
}

// exec runs st with vals.
func (a *applier) exec(st *connStmt, vals ...any) error {
	return a.run(st, vals, func(s driver.Stmt, args []driver.NamedValue) error {
		_, err := s.(driver.StmtExecContext).ExecContext(a.ctx, args)
		return err
	})
}

// query runs st with vals and calls row for each row it returns, its values
// in dest (valid until row returns).
func (a *applier) query(st *connStmt, dest []driver.Value, row func() error, vals ...any) error {
	return a.run(st, vals, func(s driver.Stmt, args []driver.NamedValue) error {
		rows, err := s.(driver.StmtQueryContext).QueryContext(a.ctx, args)
		if err != nil {
			return err
		}
		for {
			if err = rows.Next(dest); err != nil {
				break
			}
			if err = row(); err != nil {
				break
			}
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return errors.Join(err, rows.Close())
	})
}

// queryInt64 runs st, which returns one integer.
func (a *applier) queryInt64(st *connStmt, vals ...any) (int64, error) {
	var (
		n     int64
		found bool
		dest  [1]driver.Value
	)
	err := a.query(st, dest[:], func() error {
		v, ok := dest[0].(int64)
		if !ok {
			return fmt.Errorf("%s: %T, not an integer", st.sql, dest[0])
		}
		n, found = v, true
		return nil
	}, vals...)
	if err == nil && !found {
		err = fmt.Errorf("%s: %w", st.sql, sql.ErrNoRows)
	}
	return n, err
}

// discardConn makes database/sql close the batch's connection when Apply
// gives it back, after closing the statements prepared on it: what is left
// when a failed batch could not be rolled back, so that no later write runs
// inside its transaction.
func (a *applier) discardConn() {
	a.c.Raw(func(dc any) error {
		a.st.closeOn(dc)
		return driver.ErrBadConn
	})
}
