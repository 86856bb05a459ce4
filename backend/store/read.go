package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"switchboard/backend/chat"
)

// firstRequest is the number of the first ticket, so numbers look like ones.
const firstRequest = 1001

// transferHistory is how far back Load reads resolved transfers.
const transferHistory = 24 * time.Hour

// Load reads a desk's starting state in one read transaction, so it is a
// consistent picture even while an admin command writes; the recent client
// ids come from transactions of their own (see loadRecent), which is safe
// because only the relay writes entries, and not before Load returns.
func (s *SQLite) Load(ctx context.Context, now time.Time, endedSince time.Time) (chat.Snapshot, error) {
	var snap chat.Snapshot
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return snap, fmt.Errorf("store: load: %w", err)
	}
	defer tx.Rollback()

	steps := []struct {
		what string
		f    func() error
	}{
		{"channels", func() (err error) { snap.Channels, err = loadChannels(ctx, tx); return }},
		{"agents", func() (err error) { snap.Agents, err = loadAgents(ctx, tx); return }},
		{"sessions", func() (err error) { snap.Sessions, err = loadSessions(ctx, tx, endedSince); return }},
		{"transfers", func() (err error) { snap.Transfers, err = loadTransfers(ctx, tx, now.Add(-transferHistory)); return }},
		{"recent ids", func() (err error) { snap.Recent, err = loadRecent(ctx, s.r, snap.Sessions); return }},
		{"counters", func() error {
			var t, r sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT (SELECT max(id) FROM transfers), (SELECT max(number) FROM requests)`).Scan(&t, &r); err != nil {
				return err
			}
			snap.NextTransfer = chat.TransferID(t.Int64 + 1)
			snap.NextRequest = firstRequest
			if r.Valid {
				snap.NextRequest = max(r.Int64+1, 1)
			}
			return nil
		}},
		{"chats today", func() (err error) { snap.ChatsToday, err = chatsToday(ctx, tx, snap.Channels, now); return }},
		{"requests", func() (err error) { snap.Requests, err = loadRequests(ctx, tx); return }},
	}
	for _, st := range steps {
		if err := st.f(); err != nil {
			return chat.Snapshot{}, fmt.Errorf("store: load %s: %w", st.what, err)
		}
	}
	return snap, nil
}

// queryer is what reads need: a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const channelCols = `key, name, hours, time_zone, offline_form, warn_after_ms, manager_warn_after_ms, transfer_timeout_ms, templates, language, file_max_bytes, file_types`

func scanChannelRow(sc interface{ Scan(...any) error }) (ChannelRow, error) {
	var (
		c                     ChannelRow
		key, templates, types string
		warn, mwarn, t        int64
	)
	if err := sc.Scan(&key, &c.Name, &c.Hours, &c.TimeZone, &c.OfflineForm, &warn, &mwarn, &t, &templates, &c.Language,
		&c.FileMaxBytes, &types); err != nil {
		return c, err
	}
	c.FileTypes = SplitFileTypes(types)
	c.Key = chat.ChannelID(key)
	c.WarnAfter = time.Duration(warn) * time.Millisecond
	c.ManagerWarnAfter = time.Duration(mwarn) * time.Millisecond
	c.TransferTimeout = time.Duration(t) * time.Millisecond
	if templates != "" && templates != "[]" {
		if err := json.Unmarshal([]byte(templates), &c.Templates); err != nil {
			return c, fmt.Errorf("channel %s templates: %w", key, err)
		}
	}
	return c, nil
}

func listChannels(ctx context.Context, q queryer) ([]ChannelRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+channelCols+` FROM channels ORDER BY key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChannelRow
	for rows.Next() {
		c, err := scanChannelRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// channel turns a stored row into the domain's channel.
func (c ChannelRow) channel() (chat.Channel, error) {
	h, err := c.hours()
	if err != nil {
		return chat.Channel{}, err
	}
	return chat.Channel{
		ID: c.Key, Name: c.Name, Hours: h, OfflineForm: c.OfflineForm,
		WarnAfter: c.WarnAfter, ManagerWarnAfter: c.ManagerWarnAfter, TransferTimeout: c.TransferTimeout,
		Templates: c.Templates, Language: c.Language, Files: c.fileRules(),
	}, nil
}

func (c ChannelRow) hours() (chat.Hours, error) {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return chat.Hours{}, fmt.Errorf("channel %s: time zone: %w", c.Key, err)
	}
	h, err := chat.ParseHours(c.Hours, loc)
	if err != nil {
		return chat.Hours{}, fmt.Errorf("channel %s: %w", c.Key, err)
	}
	return h, nil
}

func loadChannels(ctx context.Context, q queryer) ([]chat.Channel, error) {
	rows, err := listChannels(ctx, q)
	if err != nil {
		return nil, err
	}
	return DomainChannels(rows)
}

// grantsByAgent reads every grant, or one agent's (agent != 0).
func grantsByAgent(ctx context.Context, q queryer, agent chat.AgentID) (map[chat.AgentID]map[chat.ChannelID]chat.Perm, error) {
	query, args := `SELECT agent_id, channel, perms FROM grants`, []any{}
	if agent != 0 {
		query, args = query+` WHERE agent_id = ?`, append(args, int64(agent))
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[chat.AgentID]map[chat.ChannelID]chat.Perm)
	for rows.Next() {
		var (
			id    int64
			ch    string
			perms int64
		)
		if err := rows.Scan(&id, &ch, &perms); err != nil {
			return nil, err
		}
		m := out[chat.AgentID(id)]
		if m == nil {
			m = make(map[chat.ChannelID]chat.Perm)
			out[chat.AgentID(id)] = m
		}
		m[chat.ChannelID(ch)] = chat.Perm(perms)
	}
	return out, rows.Err()
}

func loadAgents(ctx context.Context, q queryer) ([]chat.Agent, error) {
	grants, err := grantsByAgent(ctx, q, 0)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, login, name, disabled, chosen_status FROM agents ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.Agent
	for rows.Next() {
		var (
			a      chat.Agent
			id     int64
			chosen string
		)
		if err := rows.Scan(&id, &a.Login, &a.Name, &a.Disabled, &chosen); err != nil {
			return nil, err
		}
		a.ID = chat.AgentID(id)
		a.Perms = grants[a.ID]
		if a.Perms == nil {
			a.Perms = make(map[chat.ChannelID]chat.Perm)
		}
		if a.Chosen, _ = chat.ParseStatus(chosen); a.Chosen == chat.Offline {
			a.Chosen = chat.Present
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// sessionFrom selects sessions (as s) with what their logs moved on since:
// as far as their rows hold (session_logs, as l), then the entries after
// those (u; see "How session logs are kept").
const sessionFrom = `SELECT s.id, s.channel, s.state, s.visitor_name, s.visitor_email, s.question, s.token_hash, s.owner,
	s.listeners, s.pending, s.rank, max(s.seq, coalesce(l.seq, 0), coalesce(u.seq, 0)), s.created_at, s.queued_at,
	s.answered_at, s.ended_at, s.ended_by, max(s.last_visitor, coalesce(l.last_visitor, 0), coalesce(u.last_visitor, 0)),
	max(s.last_agent, coalesce(l.last_agent, 0), coalesce(u.last_agent, 0)), s.warned
FROM sessions s LEFT JOIN session_logs l ON l.session = s.id
LEFT JOIN (SELECT e.session, max(e.seq) AS seq,
		max(CASE e.author_kind WHEN 'visitor' THEN e.at ELSE 0 END) AS last_visitor,
		max(CASE e.author_kind WHEN 'agent' THEN e.at ELSE 0 END) AS last_agent
	FROM entries e WHERE ` + afterLogsThrough + ` GROUP BY e.session) u
	ON u.session = s.id`

func scanSession(sc interface{ Scan(...any) error }) (chat.Session, error) {
	var (
		s                                chat.Session
		id, ch, state, listeners         string
		owner, pending, seq, warned      int64
		created, queued, answered, ended int64
		lastVisitor, lastAgent           int64
	)
	err := sc.Scan(&id, &ch, &state, &s.Visitor.Name, &s.Visitor.Email, &s.Question, &s.TokenHash, &owner,
		&listeners, &pending, &s.Rank, &seq, &created, &queued, &answered, &ended, &s.EndedBy,
		&lastVisitor, &lastAgent, &warned)
	if err != nil {
		return s, err
	}
	s.ID, s.Channel, s.State = chat.SessionID(id), chat.ChannelID(ch), parseState(state)
	s.Owner, s.Pending, s.Seq, s.Warned = chat.AgentID(owner), chat.TransferID(pending), uint64(seq), chat.WarnLevel(warned)
	s.CreatedAt, s.QueuedAt, s.AnsweredAt, s.EndedAt = fromNanos(created), fromNanos(queued), fromNanos(answered), fromNanos(ended)
	s.LastVisitor, s.LastAgent = fromNanos(lastVisitor), fromNanos(lastAgent)
	if s.Listeners, err = decodeIDs(listeners); err != nil {
		return s, fmt.Errorf("session %s listeners: %w", id, err)
	}
	return s, nil
}

func loadSessions(ctx context.Context, q queryer, endedSince time.Time) ([]chat.Session, error) {
	// Two index ranges of sessions_state rather than an OR over the table.
	rows, err := q.QueryContext(ctx, `
`+sessionFrom+` WHERE s.state IN ('queued', 'active')
UNION ALL
`+sessionFrom+` WHERE s.state = 'ended' AND s.ended_at >= ?
ORDER BY 11, 1`, nanos(endedSince)) // by rank, then id
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

const transferCols = `id, session, channel, kind, from_agent, to_agent, by_agent, to_queue, comment, state, reason, started, deadline, ended`

func scanTransfer(sc interface{ Scan(...any) error }) (chat.Transfer, error) {
	var (
		t                        chat.Transfer
		id, from, to, by         int64
		sid, ch, state           string
		started, deadline, ended int64
	)
	if err := sc.Scan(&id, &sid, &ch, &t.Kind, &from, &to, &by, &t.ToQueue, &t.Comment, &state, &t.Reason,
		&started, &deadline, &ended); err != nil {
		return t, err
	}
	t.ID, t.Session, t.Channel = chat.TransferID(id), chat.SessionID(sid), chat.ChannelID(ch)
	t.From, t.To, t.By = chat.AgentID(from), chat.AgentID(to), chat.AgentID(by)
	t.State = parseTransferState(state)
	t.Started, t.Deadline, t.Ended = fromNanos(started), fromNanos(deadline), fromNanos(ended)
	return t, nil
}

func collectTransfers(rows *sql.Rows, err error) ([]chat.Transfer, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.Transfer
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func loadTransfers(ctx context.Context, q queryer, since time.Time) ([]chat.Transfer, error) {
	return collectTransfers(q.QueryContext(ctx, `
SELECT `+transferCols+` FROM transfers WHERE state = 'pending'
UNION
SELECT `+transferCols+` FROM transfers WHERE started >= ?
ORDER BY id`, nanos(since)))
}

// loadRecent reads, per open session, the last DedupWindow entries that
// carry a client id, oldest first. With many long chats these are hundreds
// of thousands of rows, read while every client waits to resume, so they
// are read by one worker per core, each in a read transaction of its own.
// That is still one picture: only the relay writes entries, and it does
// not before Load returns.
func loadRecent(ctx context.Context, db *sql.DB, sessions []chat.Session) (map[chat.SessionID][]chat.RecentID, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	todo := make(chan chat.SessionID)
	type result struct {
		sid chat.SessionID
		ids []chat.RecentID
	}
	results := make(chan result)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range max(1, min(runtime.NumCPU(), recentWorkers)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := recentWorker(ctx, db, todo, func(sid chat.SessionID, ids []chat.RecentID) {
				results <- result{sid, ids}
			}); err != nil {
				select {
				case errs <- err:
				default:
				}
				cancel()
			}
		}()
	}
	go func() {
		defer close(todo)
		for i := range sessions {
			if st := sessions[i].State; st != chat.Queued && st != chat.Active {
				continue
			}
			select {
			case todo <- sessions[i].ID:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	out := make(map[chat.SessionID][]chat.RecentID)
	for r := range results {
		if len(r.ids) > 0 {
			out[r.sid] = r.ids
		}
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// recentWorkers caps loadRecent's workers below the read pool's size, which
// also holds Load's own transaction.
const recentWorkers = 3

// recentWorker reads the recent ids of the sessions it takes from todo.
func recentWorker(ctx context.Context, db *sql.DB, todo <-chan chat.SessionID, put func(chat.SessionID, []chat.RecentID)) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for sid := range todo {
		ids, err := recentIDs(ctx, tx, sid, chat.DedupWindow)
		if err != nil {
			return err
		}
		put(sid, ids)
	}
	return nil
}

// chatsToday counts, per channel, the sessions created since midnight of
// now in the channel's time zone.
func chatsToday(ctx context.Context, q queryer, channels []chat.Channel, now time.Time) (map[chat.ChannelID]int, error) {
	out := make(map[chat.ChannelID]int)
	for _, c := range channels {
		loc := c.Hours.Loc
		if loc == nil {
			loc = time.UTC
		}
		t := now.In(loc)
		midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE channel = ? AND created_at >= ?`,
			string(c.ID), nanos(midnight)).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			out[c.ID] = n
		}
	}
	return out, nil
}

// Entries reads a session's log after seq, in order, at most limit (0 = all).
func (s *SQLite) Entries(ctx context.Context, session chat.SessionID, after uint64, limit int) ([]chat.Entry, error) {
	// One read transaction: the session's tail and the rows it names agree.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: entries: %w", err)
	}
	defer tx.Rollback()
	out, err := readEntries(ctx, tx, session, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: entries: %w", err)
	}
	return out, nil
}

// SessionRow reads one session, also an ended one.
func (s *SQLite) SessionRow(ctx context.Context, id chat.SessionID) (chat.Session, error) {
	sess, err := scanSession(s.r.QueryRowContext(ctx, sessionFrom+` WHERE s.id = ?`, string(id)))
	if err != nil {
		return chat.Session{}, notFound(err)
	}
	return sess, nil
}

// Transfers reads transfers of a session, of an agent (as From, To or By),
// or of both when both are given; newest first, at most limit (0 = all).
func (s *SQLite) Transfers(ctx context.Context, session chat.SessionID, agent chat.AgentID, limit int) ([]chat.Transfer, error) {
	var (
		where []string
		args  []any
	)
	if session != "" {
		where, args = append(where, `session = ?`), append(args, string(session))
	}
	if agent != 0 {
		where = append(where, `(from_agent = ? OR to_agent = ? OR by_agent = ?)`)
		args = append(args, int64(agent), int64(agent), int64(agent))
	}
	query := `SELECT ` + transferCols + ` FROM transfers`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if limit <= 0 {
		limit = -1
	}
	query += ` ORDER BY started DESC, id DESC LIMIT ?`
	out, err := collectTransfers(s.r.QueryContext(ctx, query, append(args, limit)...))
	if err != nil {
		return nil, fmt.Errorf("store: transfers: %w", err)
	}
	return out, nil
}

// TransfersIn reads an agent's transfers (as From, To or By) in the given
// channels only, newest first, at most limit; no channels, no transfers.
func (s *SQLite) TransfersIn(ctx context.Context, agent chat.AgentID, channels []chat.ChannelID, limit int) ([]chat.Transfer, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	args := []any{int64(agent), int64(agent), int64(agent)}
	marks := make([]string, len(channels))
	for i, c := range channels {
		marks[i], args = "?", append(args, string(c))
	}
	if limit <= 0 {
		limit = -1
	}
	query := `SELECT ` + transferCols + ` FROM transfers
WHERE (from_agent = ? OR to_agent = ? OR by_agent = ?) AND channel IN (` + strings.Join(marks, ", ") + `)
ORDER BY started DESC, id DESC LIMIT ?`
	out, err := collectTransfers(s.r.QueryContext(ctx, query, append(args, limit)...))
	if err != nil {
		return nil, fmt.Errorf("store: transfers in channels: %w", err)
	}
	return out, nil
}
