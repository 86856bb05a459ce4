package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"switchboard/backend/chat"
	"switchboard/backend/wording"
)

// writeStmts are Apply's statements, prepared on the writer's driver
// connection (see writeconn.go).
type writeStmts struct {
	begin, commit, rollback connStmt

	insEntries     multiRow
	sealTails      multiRow
	flushLogs      multiRow
	maxEntryID     connStmt
	dataVersion    connStmt
	setThrough     connStmt
	logStates      connStmt
	upsertSession  connStmt
	upsertTransfer connStmt
	insRequest     connStmt
	setChosen      connStmt

	on   any         // the driver connection they are prepared on
	list []*connStmt // all of the above
}

const (
	// Entries move a session's seq and message times on in session_logs
	// and, until those rows are written, in entries themselves (see log.go);
	// readers take the largest.
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

func newWriteStmts() *writeStmts {
	w := &writeStmts{
		begin: connStmt{sql: "BEGIN IMMEDIATE"}, commit: connStmt{sql: "COMMIT"}, rollback: connStmt{sql: "ROLLBACK"},
		maxEntryID: connStmt{sql: sqlMaxEntryID}, dataVersion: connStmt{sql: sqlDataVersion},
		setThrough: connStmt{sql: sqlSetThrough},
		logStates:  connStmt{sql: sqlLogStates}, upsertSession: connStmt{sql: sqlUpsertSession},
		upsertTransfer: connStmt{sql: sqlUpsertTransfer}, insRequest: connStmt{sql: sqlInsRequest},
		setChosen: connStmt{sql: sqlSetChosen},
	}
	w.insEntries.init(13, sqlInsEntries)
	w.sealTails.init(4, sqlSealTails)
	w.flushLogs.init(5, sqlFlushLogs)
	w.list = []*connStmt{&w.begin, &w.commit, &w.rollback, &w.maxEntryID, &w.dataVersion, &w.setThrough, &w.logStates,
		&w.upsertSession, &w.upsertTransfer, &w.insRequest, &w.setChosen}
	for _, m := range []*multiRow{&w.insEntries, &w.sealTails, &w.flushLogs} {
		for i := range m.stmts {
			w.list = append(w.list, &m.stmts[i])
		}
	}
	return w
}

// prepare prepares the statements on db's connection now, so that a schema
// they do not fit fails the store's opening, not its first write.
func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	return onConn(ctx, db, func(dc any) error { return w.prepareOn(ctx, dc) })
}

// close closes the statements, on their connection.
func (w *writeStmts) close(db *sql.DB) {
	onConn(context.Background(), db, func(dc any) error {
		w.closeOn(dc)
		return nil
	})
}

// onConn runs f with db's driver connection (the writer has one).
func onConn(ctx context.Context, db *sql.DB, f func(dc any) error) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(f)
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
	c, err := s.w.Conn(ctx)
	if err != nil {
		return diagnose(s.path, fmt.Errorf("store: apply: %w", err))
	}
	defer c.Close()
	a := &s.applier
	*a = applier{ctx: ctx, c: c, st: s.st, cache: &s.logs,
		pending: a.pending[:0], args: a.args[:0], logs: a.logs[:0], named: a.named[:0], tails: a.tails,
		seen: a.seen, sids: a.sids[:0]}
	defer func() {
		if err != nil {
			s.logs.forget() // it may hold what was rolled back
			err = diagnose(s.path, err)
		}
		// Drop references to this batch's values from the kept buffers.
		clear(a.pending[:cap(a.pending)])
		clear(a.args[:cap(a.args)])
		clear(a.logs[:cap(a.logs)])
		clear(a.named[:cap(a.named)])
		clear(a.sids[:cap(a.sids)])
		if len(a.seen) > 256 {
			a.seen = nil // a burst's map would keep its size
		} else {
			clear(a.seen)
		}
		a.ctx, a.c = nil, nil
	}()
	if err := a.exec(&a.st.begin); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	if err := a.applyAll(effects); err != nil {
		a.ctx = context.WithoutCancel(ctx) // also after ctx ended, or it stays open
		if rerr := a.exec(&a.st.rollback); rerr != nil {
			// Still in the transaction, perhaps: no other write may join it.
			a.discardConn()
		}
		return err
	}
	for _, sid := range a.ended {
		// An ended chat leaves the cache, once its row holds its log.
		if st := s.logs.states[sid]; st != nil && st.dirty {
			st.ended = true
		} else {
			delete(s.logs.states, sid)
		}
	}
	if a.nextID != 0 {
		s.logs.nextID = a.nextID
	}
	return nil
}

// applyAll writes effects and commits.
func (a *applier) applyAll(effects []chat.Effect) error {
	if err := a.loadLogStates(effects); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	for i, e := range effects {
		if err := a.apply(e); err != nil {
			return fmt.Errorf("store: apply effect %d (%T): %w", i, e, err)
		}
	}
	if err := a.insertEntries(); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	if err := a.flushLogs(); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	if err := a.exec(&a.st.commit); err != nil {
		return fmt.Errorf("store: apply: commit: %w", err)
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

// applier is one Apply call: the writer's connection, held for the batch,
// and the sessions whose logs the batch extends.
type applier struct {
	ctx context.Context
	c   *sql.Conn
	st  *writeStmts

	cache   *logCache
	ended   []chat.SessionID // sessions that ended: they leave the cache
	nextID  int64            // the id the next entry gets (0: no entries in this batch)
	pending []pendingEntry   // entries checked, not yet inserted
	// Reused from batch to batch: the multi-row statements' values, and
	// every statement's arguments as the driver takes them.
	args, logs []any
	named      []driver.NamedValue
	tails      []byte
	seen       map[chat.SessionID]bool // loadLogStates: the batch's sessions
	sids       []string                // loadLogStates: those to read
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
	return a.exec(&a.st.upsertSession, string(s.ID), string(s.Channel), s.State.String(),
		s.Visitor.Name, s.Visitor.Email, s.Question, s.TokenHash, int64(s.Owner), encodeIDs(s.Listeners),
		int64(s.Pending), s.Rank, int64(s.Seq), nanos(s.CreatedAt), nanos(s.QueuedAt), nanos(s.AnsweredAt),
		nanos(s.EndedAt), s.EndedBy, nanos(s.LastVisitor), nanos(s.LastAgent), int64(s.Warned))
}

func (a *applier) transfer(t *chat.Transfer) error {
	if t.ID == 0 {
		return errors.New("transfer without id")
	}
	return a.exec(&a.st.upsertTransfer, int64(t.ID), string(t.Session), string(t.Channel), t.Kind,
		int64(t.From), int64(t.To), int64(t.By), boolInt(t.ToQueue), t.Comment, t.State.String(), t.Reason,
		nanos(t.Started), nanos(t.Deadline), nanos(t.Ended))
}

func (a *applier) agent(id chat.AgentID, chosen chat.Status) error {
	if chosen != chat.Present && chosen != chat.Away {
		return nil // Offline is never chosen; nothing to keep
	}
	return a.exec(&a.st.setChosen, chosen.String(), int64(id), chosen.String())
}

func (a *applier) request(r *chat.Request) error {
	transcript := r.Question
	if r.Session != "" {
		var err error
		if transcript, err = a.transcript(r.Session, r.Channel); err != nil {
			return err
		}
	}
	return a.exec(&a.st.insRequest, r.Number, string(r.Channel), string(r.Session), r.Title,
		r.Visitor.Name, r.Visitor.Email, r.Question, int64(r.CreatedBy), nanos(r.CreatedAt), transcript, nanos(r.CreatedAt))
}

// transcript writes a session's whole log, one line per entry, in the
// channel's language and time zone (wording.Transcript). It reads inside the
// transaction, so entries of the same batch are included.
func (a *applier) transcript(sid chat.SessionID, ch chat.ChannelID) (string, error) {
	loc := time.UTC
	var tz, lang string
	switch err := a.c.QueryRowContext(a.ctx, sqlChannelZone, string(ch)).Scan(&tz, &lang); {
	case err == nil:
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	case !errors.Is(err, sql.ErrNoRows):
		return "", err
	}
	// The batch's entries so far go in first; the log's reader finds
	// them, and those before them, whether or not the session rows do.
	if err := a.insertEntries(); err != nil {
		return "", err
	}
	entries, err := readEntries(a.ctx, a.c, sid, 0, 0)
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
