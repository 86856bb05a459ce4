package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/chat"
	"switchboard/backend/store"
)

// Requests, their history and the outbox, as in the SQLite store (see its
// requests.go): an outbox item commits with the step it carries.

const requestCols = `number, channel, session, title, visitor_name, visitor_email, question, created_by, created_at,
	state, assignee, updated_at`

func scanRequest(sc pgx.Row, extra ...any) (chat.Request, error) {
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
	r.Title, r.Visitor.Name, r.Visitor.Email, r.Question = decText(r.Title), decText(r.Visitor.Name), decText(r.Visitor.Email), decText(r.Question)
	r.Channel, r.Session, r.CreatedBy, r.CreatedAt = chat.ChannelID(ch), chat.SessionID(sid), chat.AgentID(by), fromNanos(created)
	r.State, r.Assignee, r.UpdatedAt = st, chat.AgentID(assignee), fromNanos(updated)
	return r, nil
}

func collectRequests(rows pgx.Rows, err error) ([]chat.Request, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chat.Request, error) { return scanRequest(r) })
}

// ListRequests reads requests by channel and state, by number.
func (s *Store) ListRequests(ctx context.Context, f store.RequestFilter) ([]chat.Request, error) {
	var (
		where []string
		args  params
	)
	if f.Channel != "" {
		where = append(where, `channel = `+args.add(string(f.Channel)))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = st.String()
		}
		where = append(where, `state = ANY(`+args.add(states)+`)`)
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
	query += ` LIMIT ` + args.add(noLimit(f.Limit))
	out, err := collectRequests(s.pool.Query(ctx, query, args...))
	if err != nil {
		return nil, fmt.Errorf("postgres: list requests: %w", err)
	}
	return out, nil
}

// Request reads a ticket with its transcript.
func (s *Store) Request(ctx context.Context, number int64) (store.RequestRow, error) {
	var row store.RequestRow
	r, err := scanRequest(s.pool.QueryRow(ctx, `SELECT `+requestCols+`, transcript FROM requests WHERE number = $1`, number),
		&row.Transcript)
	if err != nil {
		return store.RequestRow{}, notFound(err)
	}
	row.Request, row.Transcript = r, decText(row.Transcript)
	return row, nil
}

const stepCols = `id, request, at, action, by_agent, to_agent, text, mail, state`

func scanStep(sc pgx.Row) (chat.RequestStep, error) {
	var (
		st             chat.RequestStep
		id, at, by, to int64
		state          string
	)
	if err := sc.Scan(&id, &st.Request, &at, &st.Action, &by, &to, &st.Text, &st.Mail, &state); err != nil {
		return st, err
	}
	st.At, st.By, st.To, st.Text = fromNanos(at), chat.AgentID(by), chat.AgentID(to), decText(st.Text)
	st.State, _ = chat.ParseRequestState(state)
	return st, nil
}

// RequestSteps reads a request's history, oldest first.
func (s *Store) RequestSteps(ctx context.Context, number int64) ([]chat.RequestStep, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+stepCols+` FROM request_steps WHERE request = $1 ORDER BY id`, number)
	if err != nil {
		return nil, fmt.Errorf("postgres: request steps: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (chat.RequestStep, error) { return scanStep(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: request steps: %w", err)
	}
	return out, nil
}

// RequestStep reads one step of a history by its id (an outbox item's Step).
func (s *Store) RequestStep(ctx context.Context, id int64) (chat.RequestStep, error) {
	st, err := scanStep(s.pool.QueryRow(ctx, `SELECT `+stepCols+` FROM request_steps WHERE id = $1`, id))
	return st, notFound(err)
}

// DueOutbox lists the outbox items of a kind not yet done whose time has
// come, oldest first, at most limit (a negative limit: all).
func (s *Store) DueOutbox(ctx context.Context, kind string, now time.Time, limit int) ([]store.OutboxItem, error) {
	var lim *int64
	if limit >= 0 {
		n := int64(limit)
		lim = &n
	}
	rows, err := s.pool.Query(ctx, `SELECT id, kind, request, step, attempts, next_at FROM outbox
WHERE kind = $1 AND done_at = 0 AND next_at <= $2 ORDER BY id LIMIT $3`, kind, nanos(now), lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.OutboxItem, error) {
		var (
			it   store.OutboxItem
			next int64
		)
		err := r.Scan(&it.ID, &it.Kind, &it.Request, &it.Step, &it.Attempts, &next)
		it.NextAt = fromNanos(next)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox: %w", err)
	}
	return out, nil
}

// PendingOutbox counts the items of a kind not yet done.
func (s *Store) PendingOutbox(ctx context.Context, kind string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE kind = $1 AND done_at = 0`, kind).Scan(&n)
	return n, err
}

// FinishOutbox marks an item done and, when note is given, appends it to the
// request's history (mail_sent, mail_failed) in the same transaction.
func (s *Store) FinishOutbox(ctx context.Context, id int64, now time.Time, lastErr string, note *chat.RequestStep) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE outbox SET done_at = $1, attempts = attempts + 1, last_error = $2 WHERE id = $3`,
			nanos(now), encText(lastErr), id); err != nil {
			return err
		}
		if note == nil {
			return nil
		}
		_, err := tx.Exec(ctx, sqlInsStep, stepArgs(note, []string{})...)
		return err
	})
}

// RetryOutbox records a failed attempt and when to try again.
func (s *Store) RetryOutbox(ctx context.Context, id int64, next time.Time, lastErr string) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3`,
			nanos(next), encText(lastErr), id)
		return err
	})
}
