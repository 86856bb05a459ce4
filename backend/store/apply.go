package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"switchboard/backend/chat"
)

// writeStmts are Apply's statements, prepared once on the writer's single
// connection; each transaction binds them with Tx.StmtContext, which reuses
// the connection's compiled statement instead of preparing again.
type writeStmts struct {
	insEntry       *sql.Stmt
	bumpSession    *sql.Stmt
	upsertSession  *sql.Stmt
	upsertTransfer *sql.Stmt
	insRequest     *sql.Stmt
	setChosen      *sql.Stmt
	channelZone    *sql.Stmt
	sessionLog     *sql.Stmt
}

const (
	sqlInsEntry = `INSERT INTO entries (session, seq, at, kind, author_kind, author, author_name, client_id, text, staff, note)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// An entry moves its session's seq and last-message times forward; never
	// backward, whatever order the rows arrive in.
	sqlBumpSession = `UPDATE sessions SET seq = max(seq, ?), last_visitor = max(last_visitor, ?), last_agent = max(last_agent, ?)
WHERE id = ?`

	sqlUpsertSession = `INSERT INTO sessions (id, channel, state, visitor_name, visitor_email, question, token_hash, owner,
	listeners, pending, rank, seq, created_at, queued_at, answered_at, ended_at, ended_by, last_visitor, last_agent, warned)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	channel = excluded.channel, state = excluded.state, visitor_name = excluded.visitor_name,
	visitor_email = excluded.visitor_email, question = excluded.question, token_hash = excluded.token_hash,
	owner = excluded.owner, listeners = excluded.listeners, pending = excluded.pending, rank = excluded.rank,
	seq = max(seq, excluded.seq), created_at = excluded.created_at, queued_at = excluded.queued_at,
	answered_at = excluded.answered_at, ended_at = excluded.ended_at, ended_by = excluded.ended_by,
	last_visitor = max(last_visitor, excluded.last_visitor), last_agent = max(last_agent, excluded.last_agent),
	warned = excluded.warned`

	sqlUpsertTransfer = `INSERT INTO transfers (id, session, channel, kind, from_agent, to_agent, by_agent, to_queue,
	comment, state, reason, started, deadline, ended)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	session = excluded.session, channel = excluded.channel, kind = excluded.kind,
	from_agent = excluded.from_agent, to_agent = excluded.to_agent, by_agent = excluded.by_agent,
	to_queue = excluded.to_queue, comment = excluded.comment, state = excluded.state, reason = excluded.reason,
	started = excluded.started, deadline = excluded.deadline, ended = excluded.ended`

	sqlInsRequest = `INSERT INTO requests (number, channel, session, title, visitor_name, visitor_email, question,
	created_by, created_at, transcript)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	sqlSetChosen = `UPDATE agents SET chosen_status = ? WHERE id = ? AND chosen_status != ?`

	sqlChannelZone = `SELECT time_zone FROM channels WHERE key = ?`

	sqlSessionLog = `SELECT at, author_kind, author_name, text, staff FROM entries WHERE session = ? ORDER BY seq`
)

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst *(*sql.Stmt)
		sql string
	}{
		{&w.insEntry, sqlInsEntry},
		{&w.bumpSession, sqlBumpSession},
		{&w.upsertSession, sqlUpsertSession},
		{&w.upsertTransfer, sqlUpsertTransfer},
		{&w.insRequest, sqlInsRequest},
		{&w.setChosen, sqlSetChosen},
		{&w.channelZone, sqlChannelZone},
		{&w.sessionLog, sqlSessionLog},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func (w *writeStmts) close() {
	for _, st := range []*sql.Stmt{w.insEntry, w.bumpSession, w.upsertSession, w.upsertTransfer,
		w.insRequest, w.setChosen, w.channelZone, w.sessionLog} {
		if st != nil {
			st.Close()
		}
	}
}

// bump is what a batch's entries did to one session.
type bump struct {
	seq                    uint64
	lastVisitor, lastAgent int64
}

// Apply persists effects in one transaction, in order; it returns once the
// commit is durable. On any error nothing of the batch remains.
func (s *SQLite) Apply(ctx context.Context, effects []chat.Effect) (err error) {
	if !persists(effects) {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	a := applier{ctx: ctx, tx: tx, st: &s.st}
	defer a.close()
	for i, e := range effects {
		if err := a.apply(e); err != nil {
			return fmt.Errorf("store: apply effect %d (%T): %w", i, e, err)
		}
	}
	if err := a.flushBumps(); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: apply: commit: %w", err)
	}
	return nil
}

// persists reports whether any effect needs writing.
func persists(effects []chat.Effect) bool {
	for _, e := range effects {
		switch e.(type) {
		case chat.QueueChanged, chat.Warned, chat.Subscribed:
		default:
			return true
		}
	}
	return false
}

// applier is one Apply call: the transaction, its statements (bound on first
// use) and the sessions the batch's entries moved forward.
type applier struct {
	ctx   context.Context
	tx    *sql.Tx
	st    *writeStmts
	bound map[*sql.Stmt]*sql.Stmt
	bumps map[chat.SessionID]bump
}

func (a *applier) stmt(st *sql.Stmt) *sql.Stmt {
	if b, ok := a.bound[st]; ok {
		return b
	}
	if a.bound == nil {
		a.bound = make(map[*sql.Stmt]*sql.Stmt, 4)
	}
	b := a.tx.StmtContext(a.ctx, st)
	a.bound[st] = b
	return b
}

func (a *applier) close() {
	for _, b := range a.bound {
		b.Close()
	}
}

func (a *applier) apply(e chat.Effect) error {
	switch e := e.(type) {
	case chat.EntryAdded:
		return a.entry(e.Session, &e.Entry)
	case chat.SessionChanged:
		return a.session(&e.Session)
	case chat.TransferChanged:
		return a.transfer(&e.Transfer)
	case chat.RequestCreated:
		return a.request(&e.Request)
	case chat.AgentChanged:
		return a.agent(e.Agent, e.Chosen)
	case chat.QueueChanged, chat.Warned, chat.Subscribed:
		return nil // delivery only
	}
	// A new kind of effect the store does not know would be lost silently.
	return errors.New("unknown effect type")
}

func (a *applier) entry(sid chat.SessionID, en *chat.Entry) error {
	if sid == "" || en.Seq == 0 {
		return errors.New("entry without session or seq")
	}
	_, err := a.stmt(a.st.insEntry).ExecContext(a.ctx, string(sid), int64(en.Seq), nanos(en.At), en.Kind,
		en.AuthorKind, int64(en.Author), en.AuthorName, en.ClientID, en.Text, boolInt(en.Staff), en.Note)
	if err != nil {
		return err
	}
	if a.bumps == nil {
		a.bumps = make(map[chat.SessionID]bump)
	}
	b := a.bumps[sid]
	b.seq = max(b.seq, en.Seq)
	switch en.AuthorKind {
	case chat.ByVisitor:
		b.lastVisitor = max(b.lastVisitor, nanos(en.At))
	case chat.ByAgent:
		b.lastAgent = max(b.lastAgent, nanos(en.At))
	}
	a.bumps[sid] = b
	return nil
}

// flushBumps writes each touched session's seq and last-message times once
// per batch rather than once per entry.
func (a *applier) flushBumps() error {
	for sid, b := range a.bumps {
		if _, err := a.stmt(a.st.bumpSession).ExecContext(a.ctx, int64(b.seq), b.lastVisitor, b.lastAgent, string(sid)); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) session(s *chat.Session) error {
	if s.ID == "" {
		return errors.New("session without id")
	}
	_, err := a.stmt(a.st.upsertSession).ExecContext(a.ctx, string(s.ID), string(s.Channel), s.State.String(),
		s.Visitor.Name, s.Visitor.Email, s.Question, s.TokenHash, int64(s.Owner), encodeIDs(s.Listeners),
		int64(s.Pending), s.Rank, int64(s.Seq), nanos(s.CreatedAt), nanos(s.QueuedAt), nanos(s.AnsweredAt),
		nanos(s.EndedAt), s.EndedBy, nanos(s.LastVisitor), nanos(s.LastAgent), int64(s.Warned))
	return err
}

func (a *applier) transfer(t *chat.Transfer) error {
	if t.ID == 0 {
		return errors.New("transfer without id")
	}
	_, err := a.stmt(a.st.upsertTransfer).ExecContext(a.ctx, int64(t.ID), string(t.Session), string(t.Channel), t.Kind,
		int64(t.From), int64(t.To), int64(t.By), boolInt(t.ToQueue), t.Comment, t.State.String(), t.Reason,
		nanos(t.Started), nanos(t.Deadline), nanos(t.Ended))
	return err
}

func (a *applier) agent(id chat.AgentID, chosen chat.Status) error {
	if chosen != chat.Present && chosen != chat.Away {
		return nil // Offline is never chosen; nothing to keep
	}
	_, err := a.stmt(a.st.setChosen).ExecContext(a.ctx, chosen.String(), int64(id), chosen.String())
	return err
}

func (a *applier) request(r *chat.Request) error {
	transcript := r.Question
	if r.Session != "" {
		var err error
		if transcript, err = a.transcript(r.Session, r.Channel); err != nil {
			return err
		}
	}
	_, err := a.stmt(a.st.insRequest).ExecContext(a.ctx, r.Number, string(r.Channel), string(r.Session), r.Title,
		r.Visitor.Name, r.Visitor.Email, r.Question, int64(r.CreatedBy), nanos(r.CreatedAt), transcript)
	return err
}

// transcript writes a session's whole log, one line per entry, in the
// channel's time zone: "2026-11-28 10:02 Anna: text". It reads inside the
// transaction, so entries of the same batch are included.
func (a *applier) transcript(sid chat.SessionID, ch chat.ChannelID) (string, error) {
	loc := time.UTC
	var tz string
	switch err := a.stmt(a.st.channelZone).QueryRowContext(a.ctx, string(ch)).Scan(&tz); {
	case err == nil:
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	case !errors.Is(err, sql.ErrNoRows):
		return "", err
	}
	rows, err := a.stmt(a.st.sessionLog).QueryContext(a.ctx, string(sid))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			at               int64
			kind, name, text string
			staff            bool
		)
		if err := rows.Scan(&at, &kind, &name, &text, &staff); err != nil {
			return "", err
		}
		writeLine(&b, fromNanos(at).In(loc), kind, name, text, staff)
	}
	return b.String(), rows.Err()
}

func writeLine(b *strings.Builder, at time.Time, authorKind, name, text string, staff bool) {
	if name == "" {
		switch authorKind {
		case chat.ByVisitor:
			name = "Visitor"
		case chat.ByAgent:
			name = "Agent"
		default:
			name = "System"
		}
	}
	b.WriteString(at.Format("2006-01-02 15:04"))
	b.WriteByte(' ')
	b.WriteString(name)
	if staff {
		b.WriteString(" (staff)")
	}
	b.WriteString(": ")
	// Continuation lines are indented so every entry starts a line with its time.
	b.WriteString(strings.ReplaceAll(text, "\n", "\n    "))
	b.WriteByte('\n')
}

// encodeIDs writes agent ids as a JSON array.
func encodeIDs(ids []chat.AgentID) string {
	if len(ids) == 0 {
		return "[]"
	}
	b := make([]byte, 0, 2+len(ids)*4)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return string(append(b, ']'))
}

// decodeIDs reads encodeIDs' output; empty gives nil.
func decodeIDs(s string) ([]chat.AgentID, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var ids []chat.AgentID
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, err
	}
	return ids, nil
}
