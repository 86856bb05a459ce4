package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/chat"
	"switchboard/backend/store"
)

// querier is what reads need: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Load reads a desk's starting state in one read-only snapshot.
func (s *Store) Load(ctx context.Context, now time.Time, endedSince time.Time) (chat.Snapshot, error) {
	var snap chat.Snapshot
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		steps := []struct {
			what string
			f    func() error
		}{
			{"channels", func() (err error) { snap.Channels, err = loadChannels(ctx, tx); return }},
			{"agents", func() (err error) { snap.Agents, err = loadAgents(ctx, tx); return }},
			{"sessions", func() (err error) { snap.Sessions, err = loadSessions(ctx, tx, endedSince); return }},
			{"transfers", func() (err error) {
				snap.Transfers, err = collectTransfers(tx.Query(ctx, `SELECT `+transferCols+` FROM transfers
WHERE state = 'pending' OR started >= $1 ORDER BY id`, nanos(now.Add(-store.TransferHistory))))
				return
			}},
			{"recent ids", func() (err error) { snap.Recent, err = loadRecent(ctx, tx); return }},
			{"counters", func() error {
				var t, r *int64
				if err := tx.QueryRow(ctx, `SELECT (SELECT max(id) FROM transfers), (SELECT max(number) FROM requests)`).Scan(&t, &r); err != nil {
					return err
				}
				snap.NextTransfer, snap.NextRequest = 1, store.FirstRequest
				if t != nil {
					snap.NextTransfer = chat.TransferID(*t + 1)
				}
				if r != nil {
					snap.NextRequest = max(*r+1, 1)
				}
				return nil
			}},
			{"chats today", func() (err error) { snap.ChatsToday, err = chatsToday(ctx, tx, snap.Channels, now); return }},
			{"requests", func() (err error) {
				snap.Requests, err = collectRequests(tx.Query(ctx, `SELECT `+requestCols+` FROM requests WHERE state <> 'closed' ORDER BY number`))
				return
			}},
		}
		for _, st := range steps {
			if err := st.f(); err != nil {
				return fmt.Errorf("load %s: %w", st.what, err)
			}
		}
		return nil
	})
	if err != nil {
		return chat.Snapshot{}, fmt.Errorf("postgres: %w", err)
	}
	return snap, nil
}

const channelCols = `key, name, hours, time_zone, offline_form, warn_after_ms, manager_warn_after_ms, transfer_timeout_ms, templates, language, file_max_bytes, file_types`

func scanChannelRow(sc pgx.Row) (store.ChannelRow, error) {
	var (
		c                     store.ChannelRow
		key, templates, types string
		warn, mwarn, t        int64
	)
	if err := sc.Scan(&key, &c.Name, &c.Hours, &c.TimeZone, &c.OfflineForm, &warn, &mwarn, &t, &templates, &c.Language,
		&c.FileMaxBytes, &types); err != nil {
		return c, err
	}
	c.FileTypes = store.SplitFileTypes(types)
	c.Key, c.Name = chat.ChannelID(key), decText(c.Name)
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

func listChannels(ctx context.Context, q querier) ([]store.ChannelRow, error) {
	rows, err := q.Query(ctx, `SELECT `+channelCols+` FROM channels ORDER BY key`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ChannelRow, error) { return scanChannelRow(r) })
}

func loadChannels(ctx context.Context, q querier) ([]chat.Channel, error) {
	rows, err := listChannels(ctx, q)
	if err != nil {
		return nil, err
	}
	return store.DomainChannels(rows)
}

// grantsByAgent reads every grant, or one agent's (agent != 0).
func grantsByAgent(ctx context.Context, q querier, agent chat.AgentID) (map[chat.AgentID]map[chat.ChannelID]chat.Perm, error) {
	rows, err := q.Query(ctx, `SELECT agent_id, channel, perms FROM grants WHERE $1 = 0 OR agent_id = $1`, int64(agent))
	if err != nil {
		return nil, err
	}
	out := make(map[chat.AgentID]map[chat.ChannelID]chat.Perm)
	var (
		id, perms int64
		ch        string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &ch, &perms}, func() error {
		m := out[chat.AgentID(id)]
		if m == nil {
			m = make(map[chat.ChannelID]chat.Perm)
			out[chat.AgentID(id)] = m
		}
		m[chat.ChannelID(ch)] = chat.Perm(perms)
		return nil
	})
	return out, err
}

func loadAgents(ctx context.Context, q querier) ([]chat.Agent, error) {
	grants, err := grantsByAgent(ctx, q, 0)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, login, name, disabled, chosen_status FROM agents ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chat.Agent, error) {
		var (
			a      chat.Agent
			id     int64
			chosen string
		)
		if err := r.Scan(&id, &a.Login, &a.Name, &a.Disabled, &chosen); err != nil {
			return a, err
		}
		a.ID, a.Name = chat.AgentID(id), decText(a.Name)
		a.Perms = grants[a.ID]
		if a.Perms == nil {
			a.Perms = make(map[chat.ChannelID]chat.Perm)
		}
		if a.Chosen, _ = chat.ParseStatus(chosen); a.Chosen == chat.Offline {
			a.Chosen = chat.Present
		}
		return a, nil
	})
}

const sessionCols = `id, channel, state, visitor_name, visitor_email, question, token_hash, owner, listeners, pending, rank, seq,
	created_at, queued_at, answered_at, ended_at, ended_by, last_visitor, last_agent, warned`

func scanSession(sc pgx.Row) (chat.Session, error) {
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
	s.ID, s.Channel, s.State = chat.SessionID(id), chat.ChannelID(ch), store.ParseState(state)
	s.Visitor.Name, s.Visitor.Email, s.Question, s.EndedBy = decText(s.Visitor.Name), decText(s.Visitor.Email), decText(s.Question), decText(s.EndedBy)
	s.Owner, s.Pending, s.Seq, s.Warned = chat.AgentID(owner), chat.TransferID(pending), uint64(seq), chat.WarnLevel(warned)
	s.CreatedAt, s.QueuedAt, s.AnsweredAt, s.EndedAt = fromNanos(created), fromNanos(queued), fromNanos(answered), fromNanos(ended)
	s.LastVisitor, s.LastAgent = fromNanos(lastVisitor), fromNanos(lastAgent)
	if s.Listeners, err = store.DecodeIDs(listeners); err != nil {
		return s, fmt.Errorf("session %s listeners: %w", id, err)
	}
	return s, nil
}

func loadSessions(ctx context.Context, q querier, endedSince time.Time) ([]chat.Session, error) {
	rows, err := q.Query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE state IN ('queued', 'active')
UNION ALL
SELECT `+sessionCols+` FROM sessions WHERE state = 'ended' AND ended_at >= $1
ORDER BY rank, id`, nanos(endedSince))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chat.Session, error) { return scanSession(r) })
}

// loadRecent reads, per open session, the last DedupWindow entries that
// carry a client id, oldest first: one query walking each session's log
// backwards from its newest entry.
func loadRecent(ctx context.Context, q querier) (map[chat.SessionID][]chat.RecentID, error) {
	rows, err := q.Query(ctx, `SELECT s.id, r.author_kind, r.author, r.client_id, r.seq FROM sessions s
CROSS JOIN LATERAL (
	SELECT e.author_kind, e.author, e.client_id, e.seq FROM entries e
	WHERE e.session = s.id AND e.client_id <> '' ORDER BY e.seq DESC LIMIT $1
) r
WHERE s.state IN ('queued', 'active')
ORDER BY s.id, r.seq`, chat.DedupWindow)
	if err != nil {
		return nil, err
	}
	out := make(map[chat.SessionID][]chat.RecentID)
	var (
		sid, kind, client string
		author, seq       int64
	)
	_, err = pgx.ForEachRow(rows, []any{&sid, &kind, &author, &client, &seq}, func() error {
		out[chat.SessionID(sid)] = append(out[chat.SessionID(sid)], chat.RecentID{AuthorKind: kind, Author: chat.AgentID(author),
			ClientID: decText(client), Seq: uint64(seq)})
		return nil
	})
	return out, err
}

// chatsToday counts, per channel, the sessions created since midnight of
// now in the channel's time zone.
func chatsToday(ctx context.Context, q querier, channels []chat.Channel, now time.Time) (map[chat.ChannelID]int, error) {
	out := make(map[chat.ChannelID]int)
	for _, c := range channels {
		loc := c.Hours.Loc
		if loc == nil {
			loc = time.UTC
		}
		t := now.In(loc)
		midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		var n int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE channel = $1 AND created_at >= $2`,
			string(c.ID), nanos(midnight)).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			out[c.ID] = n
		}
	}
	return out, nil
}

const entryCols = `seq, at, kind, author_kind, author, author_name, client_id, text, staff, note, params`

// readEntries reads a session's log after seq, in order, at most limit
// (<= 0: all).
func readEntries(ctx context.Context, q querier, sid chat.SessionID, after uint64, limit int) ([]chat.Entry, error) {
	after = min(after, 1<<63-1)
	rows, err := q.Query(ctx, `SELECT `+entryCols+` FROM entries WHERE session = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		string(sid), int64(after), noLimit(limit))
	if err != nil {
		return nil, err
	}
	var out []chat.Entry
	var (
		e           chat.Entry
		seq, at, au int64
		params      string
	)
	_, err = pgx.ForEachRow(rows, []any{&seq, &at, &e.Kind, &e.AuthorKind, &au, &e.AuthorName, &e.ClientID, &e.Text, &e.Staff, &e.Note, &params},
		func() error {
			x := e
			var err error
			if err = store.DecodeEntryParams(decText(params), &x); err != nil {
				return fmt.Errorf("entry %d: %w", seq, err)
			}
			x.Seq, x.At, x.Author = uint64(seq), fromNanos(at), chat.AgentID(au)
			x.AuthorName, x.ClientID, x.Text = decText(x.AuthorName), decText(x.ClientID), decText(x.Text)
			out = append(out, x)
			return nil
		})
	return out, err
}

// Entries reads a session's log after seq, in order, at most limit (0 = all).
func (s *Store) Entries(ctx context.Context, session chat.SessionID, after uint64, limit int) ([]chat.Entry, error) {
	out, err := readEntries(ctx, s.pool, session, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: entries: %w", err)
	}
	return out, nil
}

// SessionRow reads one session, also an ended one.
func (s *Store) SessionRow(ctx context.Context, id chat.SessionID) (chat.Session, error) {
	sess, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, string(id)))
	if err != nil {
		return chat.Session{}, notFound(err)
	}
	return sess, nil
}

const transferCols = `id, session, channel, kind, from_agent, to_agent, by_agent, to_queue, comment, state, reason, started, deadline, ended`

func scanTransfer(sc pgx.Row) (chat.Transfer, error) {
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
	t.Comment, t.Reason = decText(t.Comment), decText(t.Reason)
	t.State = store.ParseTransferState(state)
	t.Started, t.Deadline, t.Ended = fromNanos(started), fromNanos(deadline), fromNanos(ended)
	return t, nil
}

func collectTransfers(rows pgx.Rows, err error) ([]chat.Transfer, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chat.Transfer, error) { return scanTransfer(r) })
}

// params numbers a query's arguments as they are added.
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// Transfers reads transfers of a session, of an agent (as From, To or By),
// or of both when both are given; newest first, at most limit (0 = all).
func (s *Store) Transfers(ctx context.Context, session chat.SessionID, agent chat.AgentID, limit int) ([]chat.Transfer, error) {
	var (
		where []string
		args  params
	)
	if session != "" {
		where = append(where, `session = `+args.add(string(session)))
	}
	if agent != 0 {
		a := args.add(int64(agent))
		where = append(where, `(from_agent = `+a+` OR to_agent = `+a+` OR by_agent = `+a+`)`)
	}
	query := `SELECT ` + transferCols + ` FROM transfers`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY started DESC, id DESC LIMIT ` + args.add(noLimit(limit))
	out, err := collectTransfers(s.pool.Query(ctx, query, args...))
	if err != nil {
		return nil, fmt.Errorf("postgres: transfers: %w", err)
	}
	return out, nil
}

// TransfersIn reads an agent's transfers (as From, To or By) in the given
// channels only, newest first, at most limit; no channels, no transfers.
func (s *Store) TransfersIn(ctx context.Context, agent chat.AgentID, channels []chat.ChannelID, limit int) ([]chat.Transfer, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	keys := make([]string, len(channels))
	for i, c := range channels {
		keys[i] = string(c)
	}
	out, err := collectTransfers(s.pool.Query(ctx, `SELECT `+transferCols+` FROM transfers
WHERE (from_agent = $1 OR to_agent = $1 OR by_agent = $1) AND channel = ANY($2)
ORDER BY started DESC, id DESC LIMIT $3`, int64(agent), keys, noLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("postgres: transfers in channels: %w", err)
	}
	return out, nil
}
