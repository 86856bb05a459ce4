package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/backend/chat"
)

// Requests are followed up in three tables: requests (one row each, its
// current state), request_steps (the history, append only) and outbox
// (what is still to go out: the e-mail of an answer, the webhook call of a
// change). An outbox row is written in the same transaction as the step it
// carries, so a crash loses neither; the relay sends it afterwards and marks
// it done, so a crash between the send and the mark sends it again (the
// webhook's receiver deduplicates by the event id, which is the row's id).

// Outbox kinds.
const (
	OutboxMail    = "mail"
	OutboxWebhook = "webhook"
)

// OutboxItem is one thing to send: the step it carries and how often it was tried.
type OutboxItem struct {
	ID       int64
	Kind     string
	Request  int64
	Step     int64
	Attempts int
	NextAt   time.Time // not before (zero: at once)
}

// RequestFilter selects requests for ListRequests.
type RequestFilter struct {
	Channel chat.ChannelID      // empty: every channel
	States  []chat.RequestState // empty: every state
	Newest  bool                // newest first (default oldest first)
	Limit   int                 // 0: all
}

const requestCols = `number, channel, session, title, visitor_name, visitor_email, question, created_by, created_at,
	state, assignee, updated_at`

func scanRequest(sc interface{ Scan(...any) error }, extra ...any) (chat.Request, error) {
	var (
		r                     chat.Request
		ch, sid, state        string
		by, created, assignee int64
		updated               int64
	)
	dst := append([]any{&r.Number, &ch, &sid, &r.Title, &r.Visitor.Name, &r.Visitor.Email, &r.Question, &by, &created,
		&state, &assignee, &updated}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return r, err
	}
	st, ok := chat.ParseRequestState(state)
	if !ok {
		return r, fmt.Errorf("request %d: unknown state %q", r.Number, state)
	}
	r.Channel, r.Session, r.CreatedBy, r.CreatedAt = chat.ChannelID(ch), chat.SessionID(sid), chat.AgentID(by), fromNanos(created)
	r.State, r.Assignee, r.UpdatedAt = st, chat.AgentID(assignee), fromNanos(updated)
	return r, nil
}

// loadRequests reads the requests not closed, for the desk.
func loadRequests(ctx context.Context, q queryer) ([]chat.Request, error) {
	return collectRequests(q.QueryContext(ctx, `SELECT `+requestCols+` FROM requests WHERE state != 'closed' ORDER BY number`))
}

func collectRequests(rows *sql.Rows, err error) ([]chat.Request, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListRequests reads requests by channel and state, by number.
func (s *SQLite) ListRequests(ctx context.Context, f RequestFilter) ([]chat.Request, error) {
	var (
		where []string
		args  []any
	)
	if f.Channel != "" {
		where, args = append(where, `channel = ?`), append(args, string(f.Channel))
	}
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, st := range f.States {
			marks[i] = "?"
			args = append(args, st.String())
		}
		where = append(where, `state IN (`+strings.Join(marks, ",")+`)`)
	}
	query := `SELECT ` + requestCols + ` FROM requests`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.Newest {
		query += ` ORDER BY number DESC`
	} else {
		query += ` ORDER BY number`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	out, err := collectRequests(s.r.QueryContext(ctx, query+` LIMIT ?`, append(args, limit)...))
	if err != nil {
		return nil, fmt.Errorf("store: list requests: %w", err)
	}
	return out, nil
}

// Request reads a ticket with its transcript.
func (s *SQLite) Request(ctx context.Context, number int64) (RequestRow, error) {
	var row RequestRow
	r, err := scanRequest(s.r.QueryRowContext(ctx, `SELECT `+requestCols+`, transcript FROM requests WHERE number = ?`, number),
		&row.Transcript)
	if err != nil {
		return RequestRow{}, notFound(err)
	}
	row.Request = r
	return row, nil
}

const stepCols = `id, request, at, action, by_agent, to_agent, text, mail, state`

func scanStep(sc interface{ Scan(...any) error }) (int64, chat.RequestStep, error) {
	var (
		st             chat.RequestStep
		id, at, by, to int64
		state          string
	)
	if err := sc.Scan(&id, &st.Request, &at, &st.Action, &by, &to, &st.Text, &st.Mail, &state); err != nil {
		return 0, st, err
	}
	st.At, st.By, st.To = fromNanos(at), chat.AgentID(by), chat.AgentID(to)
	st.State, _ = chat.ParseRequestState(state)
	return id, st, nil
}

// RequestSteps reads a request's history, oldest first.
func (s *SQLite) RequestSteps(ctx context.Context, number int64) ([]chat.RequestStep, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+stepCols+` FROM request_steps WHERE request = ? ORDER BY id`, number)
	if err != nil {
		return nil, fmt.Errorf("store: request steps: %w", err)
	}
	defer rows.Close()
	var out []chat.RequestStep
	for rows.Next() {
		_, st, err := scanStep(rows)
		if err != nil {
			return nil, fmt.Errorf("store: request steps: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// RequestStep reads one step of a history by its id (an outbox item's Step).
func (s *SQLite) RequestStep(ctx context.Context, id int64) (chat.RequestStep, error) {
	_, st, err := scanStep(s.r.QueryRowContext(ctx, `SELECT `+stepCols+` FROM request_steps WHERE id = ?`, id))
	return st, notFound(err)
}

// DueOutbox lists the outbox items of a kind not yet done whose time has
// come, oldest first, at most limit.
func (s *SQLite) DueOutbox(ctx context.Context, kind string, now time.Time, limit int) ([]OutboxItem, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, kind, request, step, attempts, next_at FROM outbox
WHERE kind = ? AND done_at = 0 AND next_at <= ? ORDER BY id LIMIT ?`, kind, nanos(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var (
			it   OutboxItem
			next int64
		)
		if err := rows.Scan(&it.ID, &it.Kind, &it.Request, &it.Step, &it.Attempts, &next); err != nil {
			return nil, fmt.Errorf("store: outbox: %w", err)
		}
		it.NextAt = fromNanos(next)
		out = append(out, it)
	}
	return out, rows.Err()
}

// PendingOutbox counts the items of a kind not yet done.
func (s *SQLite) PendingOutbox(ctx context.Context, kind string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE kind = ? AND done_at = 0`, kind).Scan(&n)
	return n, err
}

// FinishOutbox marks an item done and, when note is given, appends it to the
// request's history (mail_sent, mail_failed) in the same transaction.
func (s *SQLite) FinishOutbox(ctx context.Context, id int64, now time.Time, lastErr string, note *chat.RequestStep) error {
	return s.write(ctx, false, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET done_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?`,
			nanos(now), lastErr, id); err != nil {
			return err
		}
		if note == nil {
			return nil
		}
		_, err := insertStep(ctx, tx, note)
		return err
	})
}

// RetryOutbox records a failed attempt and when to try again.
func (s *SQLite) RetryOutbox(ctx context.Context, id int64, next time.Time, lastErr string) error {
	return s.write(ctx, false, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?`,
			nanos(next), lastErr, id)
		return err
	})
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const sqlInsStep = `INSERT INTO request_steps (request, at, action, by_agent, to_agent, text, mail, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

func insertStep(ctx context.Context, x execer, st *chat.RequestStep) (int64, error) {
	res, err := x.ExecContext(ctx, sqlInsStep, st.Request, nanos(st.At), st.Action, int64(st.By), int64(st.To), st.Text,
		boolInt(st.Mail), st.State.String())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// --- Apply ----------------------------------------------------------------

// requestStep appends a history step and queues what must go out with it.
func (a *applier) requestStep(st *chat.RequestStep, handOff bool) error {
	id, err := insertStep(a.ctx, a.c, st)
	if err != nil {
		return err
	}
	if st.Mail {
		if err := a.queueOut(OutboxMail, st.Request, id); err != nil {
			return err
		}
	}
	if handOff {
		return a.queueOut(OutboxWebhook, st.Request, id)
	}
	return nil
}

func (a *applier) queueOut(kind string, request, step int64) error {
	_, err := a.c.ExecContext(a.ctx, `INSERT INTO outbox (kind, request, step) VALUES (?, ?, ?)`, kind, request, step)
	return err
}

// requestCreated stores a new request and its first step.
func (a *applier) requestCreated(e *chat.RequestCreated) error {
	if err := a.request(&e.Request); err != nil {
		return err
	}
	r := &e.Request
	return a.requestStep(&chat.RequestStep{Request: r.Number, At: r.CreatedAt, Action: chat.StepCreated, By: r.CreatedBy,
		State: chat.RequestOpen}, e.HandOff)
}

// requestChanged moves a request on and records the step.
func (a *applier) requestChanged(e *chat.RequestChanged) error {
	r := &e.Request
	res, err := a.c.ExecContext(a.ctx, `UPDATE requests SET state = ?, assignee = ?, updated_at = ? WHERE number = ?`,
		r.State.String(), int64(r.Assignee), nanos(r.UpdatedAt), r.Number)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("request not stored")
	}
	return a.requestStep(&e.Step, e.HandOff)
}
