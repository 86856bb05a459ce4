package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"switchboard/backend/chat"
	"switchboard/backend/store"
	"switchboard/backend/wording"
)

// Apply persists effects in one transaction, in order; it returns once the
// commit is durable. On any error nothing of the batch remains.
//
// A batch costs four round trips however many chats it touches: BEGIN; the
// fence and the seqs of the sessions it extends (locked, so two writers of
// one session wait for each other); every write, pipelined in one
// pgx.Batch, the entries in one INSERT of arrays; COMMIT.
func (s *Store) Apply(ctx context.Context, effects []chat.Effect) error {
	if !store.Persists(effects) {
		return nil
	}
	return named(s.apply(ctx, effects))
}

func (s *Store) apply(ctx context.Context, effects []chat.Effect) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: apply: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	a := &applier{ctx: ctx, tx: tx, batch: &pgx.Batch{}, logs: make(map[chat.SessionID]*logState)}
	if err := a.begin(effects, s.term.Load()); err != nil {
		if errors.Is(err, store.ErrFenced) {
			return err
		}
		return fmt.Errorf("postgres: apply: %w", err)
	}
	for i, e := range effects {
		if err := a.apply(e); err != nil {
			return fmt.Errorf("postgres: apply effect %d (%T): %w", i, e, err)
		}
	}
	if err := a.flush(); err != nil {
		return fmt.Errorf("postgres: apply: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: apply: commit: %w", err)
	}
	return nil
}

// logState is what a batch knows of a session whose log it extends.
type logState struct {
	exists  bool   // the session row exists (before the batch, or made in it)
	lastSeq uint64 // the highest seq taken; the next entry must be above it
	dirty   bool
	// lastVisitor and lastAgent are the newest entry times of the batch.
	lastVisitor, lastAgent int64
}

// applier is one Apply: its transaction, the statements queued to go in one
// round trip, and the entries queued to go in one statement.
type applier struct {
	ctx   context.Context
	term  int64 // the fence's, recorded with each entry
	tx    pgx.Tx
	batch *pgx.Batch
	logs  map[chat.SessionID]*logState
	dirty []chat.SessionID
	ents  entryColumns
}

// entryColumns are queued entries, a slice per column, for one INSERT …
// SELECT FROM unnest(…) however many there are.
type entryColumns struct {
	session, kind, authorKind, authorName, clientID, text, note, params []string
	seq, at, author                                                     []int64
	staff                                                               []bool
}

func (c *entryColumns) add(sid chat.SessionID, e *chat.Entry) {
	c.session = append(c.session, string(sid))
	c.seq = append(c.seq, int64(e.Seq))
	c.at = append(c.at, nanos(e.At))
	c.kind = append(c.kind, e.Kind)
	c.authorKind = append(c.authorKind, e.AuthorKind)
	c.author = append(c.author, int64(e.Author))
	c.authorName = append(c.authorName, encText(e.AuthorName))
	c.clientID = append(c.clientID, encText(e.ClientID))
	c.text = append(c.text, encText(e.Text))
	c.staff = append(c.staff, e.Staff)
	c.note = append(c.note, e.Note)
	c.params = append(c.params, encText(store.EncodeEntryParams(e)))
}

func (c *entryColumns) reset() { *c = entryColumns{} }

const (
	sqlLogStates = `SELECT id, seq FROM sessions WHERE id = ANY($1) ORDER BY id FOR UPDATE`

	sqlInsEntries = `INSERT INTO entries (session, seq, at, kind, author_kind, author, author_name, client_id, text, staff, note, params, term)
SELECT u.*, $13::bigint FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
	$9::text[], $10::boolean[], $11::text[], $12::text[]) AS u`

	// Each extended session moves its seq and message times forward, never
	// backward.
	sqlMoveLogs = `UPDATE sessions s SET seq = greatest(s.seq, u.seq), last_visitor = greatest(s.last_visitor, u.lv),
	last_agent = greatest(s.last_agent, u.la)
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) AS u (id, seq, lv, la) WHERE s.id = u.id`

	sqlUpsertSession = `INSERT INTO sessions (id, channel, state, visitor_name, visitor_email, question, token_hash, owner,
	listeners, pending, rank, seq, created_at, queued_at, answered_at, ended_at, ended_by, last_visitor, last_agent, warned)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
ON CONFLICT (id) DO UPDATE SET
	channel = excluded.channel, state = excluded.state, visitor_name = excluded.visitor_name,
	visitor_email = excluded.visitor_email, question = excluded.question, token_hash = excluded.token_hash,
	owner = excluded.owner, listeners = excluded.listeners, pending = excluded.pending, rank = excluded.rank,
	seq = greatest(sessions.seq, excluded.seq), created_at = excluded.created_at, queued_at = excluded.queued_at,
	answered_at = excluded.answered_at, ended_at = excluded.ended_at, ended_by = excluded.ended_by,
	last_visitor = greatest(sessions.last_visitor, excluded.last_visitor),
	last_agent = greatest(sessions.last_agent, excluded.last_agent), warned = excluded.warned`

	sqlUpsertTransfer = `INSERT INTO transfers (id, session, channel, kind, from_agent, to_agent, by_agent, to_queue,
	comment, state, reason, started, deadline, ended)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO UPDATE SET
	session = excluded.session, channel = excluded.channel, kind = excluded.kind,
	from_agent = excluded.from_agent, to_agent = excluded.to_agent, by_agent = excluded.by_agent,
	to_queue = excluded.to_queue, comment = excluded.comment, state = excluded.state, reason = excluded.reason,
	started = excluded.started, deadline = excluded.deadline, ended = excluded.ended`

	sqlInsRequest = `INSERT INTO requests (number, channel, session, title, visitor_name, visitor_email, question,
	created_by, created_at, transcript, state, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $9)`

	sqlSetChosen = `UPDATE agents SET chosen_status = $1 WHERE id = $2 AND chosen_status <> $1`

	sqlChangeRequest = `UPDATE requests SET state = $1, assignee = $2, updated_at = $3 WHERE number = $4`

	// A step of a request's history and the outbox items (kinds) it carries.
	sqlInsStep = `WITH step AS (
	INSERT INTO request_steps (request, at, action, by_agent, to_agent, text, mail, state)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
)
INSERT INTO outbox (kind, request, step) SELECT k.kind, $1, step.id FROM step, unnest($9::text[]) WITH ORDINALITY AS k (kind, n) ORDER BY k.n`
)

// begin checks the fence and reads, locked, the sessions whose logs the
// batch extends, in one round trip.
func (a *applier) begin(effects []chat.Effect, term int64) error {
	a.term = term
	var sids []string
	for _, e := range effects {
		if e, ok := e.(chat.EntryAdded); ok && a.logs[e.Session] == nil {
			a.logs[e.Session] = &logState{}
			sids = append(sids, string(e.Session))
		}
	}
	b := &pgx.Batch{}
	var stored int64
	if term != 0 {
		b.Queue(sqlFence).QueryRow(func(r pgx.Row) error { return r.Scan(&stored) })
	}
	if len(sids) > 0 {
		b.Queue(sqlLogStates, sids).Query(func(rows pgx.Rows) error {
			var (
				id  string
				seq int64
			)
			_, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
				st := a.logs[chat.SessionID(id)]
				st.exists, st.lastSeq = true, uint64(seq)
				return nil
			})
			return err
		})
	}
	if b.Len() == 0 {
		return nil
	}
	if err := a.tx.SendBatch(a.ctx, b).Close(); err != nil {
		return err
	}
	if term != 0 {
		return fenced(stored, term)
	}
	return nil
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
	case chat.AgentChanged:
		return a.agent(e.Agent, e.Chosen)
	case chat.QueueChanged, chat.Warned, chat.Subscribed, chat.Forgotten, chat.RequestWarned:
		return nil // delivery only
	}
	// A new kind of effect the store does not know would be lost silently.
	return errors.New("unknown effect type")
}

// entry checks an entry against its session's log and queues it.
func (a *applier) entry(sid chat.SessionID, en *chat.Entry) error {
	st := a.logs[sid]
	switch {
	case sid == "" || en.Seq == 0:
		return errors.New("entry without session or seq")
	case en.Seq > 1<<63-1:
		return fmt.Errorf("entry seq %d out of range", en.Seq)
	case st == nil || !st.exists:
		return fmt.Errorf("entry %d of session %s, which is not stored", en.Seq, sid)
	case en.Seq <= st.lastSeq:
		return fmt.Errorf("entry %d of session %s does not follow seq %d", en.Seq, sid, st.lastSeq)
	}
	if en.File != nil {
		if _, err := a.tx.Exec(a.ctx, `UPDATE files SET seq = $1 WHERE id = $2 AND session = $3 AND seq = 0`,
			int64(en.Seq), en.File.ID, string(sid)); err != nil {
			return err
		}
	}
	a.ents.add(sid, en)
	st.lastSeq = en.Seq
	switch en.AuthorKind {
	case chat.ByVisitor:
		st.lastVisitor = max(st.lastVisitor, nanos(en.At))
	case chat.ByAgent:
		st.lastAgent = max(st.lastAgent, nanos(en.At))
	}
	if !st.dirty {
		st.dirty = true
		a.dirty = append(a.dirty, sid)
	}
	return nil
}

func (a *applier) session(s *chat.Session) error {
	if s.ID == "" || !utf8.ValidString(string(s.ID)) {
		return errors.New("session id empty or not UTF-8")
	}
	if st := a.logs[s.ID]; st != nil {
		st.exists = true // made in this batch, before its first entry
	}
	a.batch.Queue(sqlUpsertSession, string(s.ID), string(s.Channel), s.State.String(),
		encText(s.Visitor.Name), encText(s.Visitor.Email), encText(s.Question), s.TokenHash, int64(s.Owner),
		store.EncodeIDs(s.Listeners), int64(s.Pending), s.Rank, int64(s.Seq), nanos(s.CreatedAt), nanos(s.QueuedAt),
		nanos(s.AnsweredAt), nanos(s.EndedAt), encText(s.EndedBy), nanos(s.LastVisitor), nanos(s.LastAgent), int64(s.Warned))
	return nil
}

func (a *applier) transfer(t *chat.Transfer) error {
	if t.ID == 0 {
		return errors.New("transfer without id")
	}
	a.batch.Queue(sqlUpsertTransfer, int64(t.ID), string(t.Session), string(t.Channel), t.Kind,
		int64(t.From), int64(t.To), int64(t.By), t.ToQueue, encText(t.Comment), t.State.String(), encText(t.Reason),
		nanos(t.Started), nanos(t.Deadline), nanos(t.Ended))
	return nil
}

func (a *applier) agent(id chat.AgentID, chosen chat.Status) error {
	if chosen != chat.Present && chosen != chat.Away {
		return nil // Offline is never chosen; nothing to keep
	}
	a.batch.Queue(sqlSetChosen, chosen.String(), int64(id))
	return nil
}

// requestCreated stores a new request and its first step.
func (a *applier) requestCreated(e *chat.RequestCreated) error {
	r := &e.Request
	transcript := r.Question
	if r.Session != "" {
		var err error
		if transcript, err = a.transcript(r.Session, r.Channel); err != nil {
			return err
		}
	}
	a.batch.Queue(sqlInsRequest, r.Number, string(r.Channel), string(r.Session), encText(r.Title),
		encText(r.Visitor.Name), encText(r.Visitor.Email), encText(r.Question), int64(r.CreatedBy), nanos(r.CreatedAt),
		encText(transcript))
	a.step(&chat.RequestStep{Request: r.Number, At: r.CreatedAt, Action: chat.StepCreated, By: r.CreatedBy,
		State: chat.RequestOpen}, e.HandOff)
	return nil
}

// requestChanged moves a request on and records the step; a request the
// store does not have fails the batch.
func (a *applier) requestChanged(e *chat.RequestChanged) error {
	r := &e.Request
	a.batch.Queue(sqlChangeRequest, r.State.String(), int64(r.Assignee), nanos(r.UpdatedAt), r.Number).
		Exec(func(ct pgconn.CommandTag) error {
			if ct.RowsAffected() != 1 {
				return fmt.Errorf("request %d not stored", r.Number)
			}
			return nil
		})
	a.step(&e.Step, e.HandOff)
	return nil
}

// step queues a history step with what must go out with it.
func (a *applier) step(st *chat.RequestStep, handOff bool) {
	kinds := []string{}
	if st.Mail {
		kinds = append(kinds, store.OutboxMail)
	}
	if handOff {
		kinds = append(kinds, store.OutboxWebhook)
	}
	a.batch.Queue(sqlInsStep, stepArgs(st, kinds)...)
}

func stepArgs(st *chat.RequestStep, kinds []string) []any {
	return []any{st.Request, nanos(st.At), st.Action, int64(st.By), int64(st.To), encText(st.Text), st.Mail,
		st.State.String(), kinds}
}

// transcript writes a session's whole log, one line per entry, in the
// channel's language and time zone. It reads inside the transaction, after
// sending what the batch queued, so entries of the same batch are in it.
func (a *applier) transcript(sid chat.SessionID, ch chat.ChannelID) (string, error) {
	if err := a.flush(); err != nil {
		return "", err
	}
	loc := time.UTC
	var tz, lang string
	switch err := a.tx.QueryRow(a.ctx, `SELECT time_zone, language FROM channels WHERE key = $1`, string(ch)).Scan(&tz, &lang); {
	case err == nil:
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return "", err
	}
	entries, err := readEntries(a.ctx, a.tx, sid, 0, 0)
	if err != nil {
		return "", err
	}
	return wording.Transcript(lang, loc, entries), nil
}

// flush sends what is queued: the statements in order, then the entries
// and the sessions' moved seqs and times.
func (a *applier) flush() error {
	if len(a.ents.seq) > 0 {
		c := &a.ents
		a.batch.Queue(sqlInsEntries, c.session, c.seq, c.at, c.kind, c.authorKind, c.author, c.authorName, c.clientID,
			c.text, c.staff, c.note, c.params, a.term)
		var ids []string
		var seqs, lv, la []int64
		for _, sid := range a.dirty {
			st := a.logs[sid]
			ids, seqs, lv, la = append(ids, string(sid)), append(seqs, int64(st.lastSeq)), append(lv, st.lastVisitor), append(la, st.lastAgent)
			st.dirty = false
		}
		a.batch.Queue(sqlMoveLogs, ids, seqs, lv, la)
		a.dirty = a.dirty[:0]
		c.reset()
	}
	if a.batch.Len() == 0 {
		return nil
	}
	b := a.batch
	a.batch = &pgx.Batch{}
	return a.tx.SendBatch(a.ctx, b).Close()
}
