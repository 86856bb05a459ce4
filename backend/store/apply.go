package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"switchboard/backend/chat"
	"switchboard/backend/wording"
)

// writeStmts are Apply's statements, prepared once on the writer's single
// connection; each transaction binds them with Tx.StmtContext, which reuses
// the connection's compiled statement instead of preparing again.
type writeStmts struct {
	insEntries     multiRow
	sealTails      multiRow
	flushLogs      multiRow
	maxEntryID     *sql.Stmt
	dataVersion    *sql.Stmt
	logStates      *sql.Stmt
	upsertSession  *sql.Stmt
	upsertTransfer *sql.Stmt
	insRequest     *sql.Stmt
	setChosen      *sql.Stmt
	channelZone    *sql.Stmt
}

const (
	// Entries move a session's seq and message times on in session_logs
	// (see log.go); readers take the larger of the two.
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
	created_by, created_at, transcript, state, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)`

	sqlSetChosen = `UPDATE agents SET chosen_status = ? WHERE id = ? AND chosen_status != ?`

	sqlChannelZone = `SELECT time_zone, language FROM channels WHERE key = ?`
)

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	type prep struct {
		dst *(*sql.Stmt)
		sql string
	}
	if err := errors.Join(
		w.insEntries.prepare(ctx, db, 13, sqlInsEntries),
		w.sealTails.prepare(ctx, db, 4, sqlSealTails),
		w.flushLogs.prepare(ctx, db, 5, sqlFlushLogs),
	); err != nil {
		return fmt.Errorf("store: prepare: %w", err)
	}
	for _, p := range []prep{
		{&w.maxEntryID, sqlMaxEntryID},
		{&w.dataVersion, sqlDataVersion},
		{&w.logStates, sqlLogStates},
		{&w.upsertSession, sqlUpsertSession},
		{&w.upsertTransfer, sqlUpsertTransfer},
		{&w.insRequest, sqlInsRequest},
		{&w.setChosen, sqlSetChosen},
		{&w.channelZone, sqlChannelZone},
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
	w.insEntries.close()
	w.sealTails.close()
	w.flushLogs.close()
	for _, st := range []*sql.Stmt{w.maxEntryID, w.dataVersion, w.logStates, w.upsertSession, w.upsertTransfer, w.insRequest,
		w.setChosen, w.channelZone} {
		if st != nil {
			st.Close()
		}
	}
}

// Apply persists effects in one transaction, in order; it returns once the
// commit is durable. On any error nothing of the batch remains.
func (s *SQLite) Apply(ctx context.Context, effects []chat.Effect) (err error) {
	if !persists(effects) {
		return nil
	}
	// One Apply at a time owns the log cache and the buffers (the writer
	// connection would serialise them anyway).
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return diagnose(s.path, fmt.Errorf("store: apply: %w", err))
	}
	a := &s.applier
	*a = applier{ctx: ctx, tx: tx, st: &s.st, cache: &s.logs,
		dirty: a.dirty[:0], pending: a.pending[:0], args: a.args[:0]}
	defer func() {
		a.close()
		if err != nil {
			tx.Rollback()
			// The cache may hold what was rolled back.
			clear(s.logs.states)
			err = diagnose(s.path, err)
		}
		// Drop references to this batch's values from the kept buffers.
		clear(a.pending[:cap(a.pending)])
		clear(a.args[:cap(a.args)])
		a.ctx, a.tx = nil, nil
	}()
	if err := a.loadLogStates(effects); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	for i, e := range effects {
		if err := a.apply(e); err != nil {
			return fmt.Errorf("store: apply effect %d (%T): %w", i, e, err)
		}
	}
	if err := a.flushLogs(); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: apply: commit: %w", err)
	}
	for _, sid := range a.ended {
		delete(s.logs.states, sid)
	}
	return nil
}

// persists reports whether any effect needs writing.
func persists(effects []chat.Effect) bool {
	for _, e := range effects {
		switch e.(type) {
		case chat.QueueChanged, chat.Warned, chat.Subscribed, chat.Forgotten, chat.RequestWarned:
		default:
			return true
		}
	}
	return false
}

// applier is one Apply call: the transaction, its statements (bound on first
// use) and the sessions whose logs the batch extends.
type applier struct {
	ctx   context.Context
	tx    *sql.Tx
	st    *writeStmts
	bound map[*sql.Stmt]*sql.Stmt

	cache   *logCache
	dirty   []chat.SessionID // sessions whose log rows are to be written
	ended   []chat.SessionID // sessions that ended: they leave the cache
	nextID  int64            // the id the next entry gets
	pending []pendingEntry   // entries checked, not yet inserted
	args    []any            // reused for the multi-row statements
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
		return a.requestCreated(&e)
	case chat.RequestChanged:
		return a.requestChanged(&e)
	case chat.RequestWarned:
		return nil // delivery only
	case chat.AgentChanged:
		return a.agent(e.Agent, e.Chosen)
	case chat.QueueChanged, chat.Warned, chat.Subscribed, chat.Forgotten:
		return nil // delivery only
	}
	// A new kind of effect the store does not know would be lost silently.
	return errors.New("unknown effect type")
}

func (a *applier) session(s *chat.Session) error {
	if s.ID == "" || !utf8.ValidString(string(s.ID)) {
		return errors.New("session id empty or not UTF-8")
	}
	if st := a.cache.states[s.ID]; st != nil {
		st.exists = true // made in this batch, before its first entry
	}
	if s.State == chat.Ended {
		a.ended = append(a.ended, s.ID)
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
		r.Visitor.Name, r.Visitor.Email, r.Question, int64(r.CreatedBy), nanos(r.CreatedAt), transcript, nanos(r.CreatedAt))
	return err
}

// transcript writes a session's whole log, one line per entry, in the
// channel's language and time zone (wording.Transcript). It reads inside the
// transaction, so entries of the same batch are included.
func (a *applier) transcript(sid chat.SessionID, ch chat.ChannelID) (string, error) {
	loc := time.UTC
	var tz, lang string
	switch err := a.stmt(a.st.channelZone).QueryRowContext(a.ctx, string(ch)).Scan(&tz, &lang); {
	case err == nil:
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	case !errors.Is(err, sql.ErrNoRows):
		return "", err
	}
	// The batch's entries so far go to the session rows first.
	if err := a.flushLogs(); err != nil {
		return "", err
	}
	entries, err := readEntries(a.ctx, a.tx, sid, 0, 0)
	if err != nil {
		return "", err
	}
	return wording.Transcript(lang, loc, entries), nil
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
