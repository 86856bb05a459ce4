package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// --- auth ----------------------------------------------------------------

const agentCols = `id, login, name, password_hash, disabled`

func scanAgentRow(sc pgx.Row) (store.AgentRow, error) {
	var (
		a  store.AgentRow
		id int64
	)
	if err := sc.Scan(&id, &a.Login, &a.Name, &a.PasswordHash, &a.Disabled); err != nil {
		return a, err
	}
	a.ID, a.Name = chat.AgentID(id), decText(a.Name)
	if a.PasswordHash == nil {
		a.PasswordHash = []byte{}
	}
	return a, nil
}

// AgentByLogin reads an agent with its grants; disabled agents too.
func (s *Store) AgentByLogin(ctx context.Context, login string) (store.AgentRow, error) {
	a, err := scanAgentRow(s.pool.QueryRow(ctx, `SELECT `+agentCols+` FROM agents WHERE login = $1`, login))
	if err != nil {
		return store.AgentRow{}, notFound(err)
	}
	g, err := grantsByAgent(ctx, s.pool, a.ID)
	if err != nil {
		return store.AgentRow{}, fmt.Errorf("postgres: agent grants: %w", err)
	}
	a.Perms = g[a.ID]
	if a.Perms == nil {
		a.Perms = make(map[chat.ChannelID]chat.Perm)
	}
	return a, nil
}

// CreateToken stores a session token's hash for agent (a zero expires never
// expires) and drops tokens that can no longer be used. An unknown agent
// is ErrNotFound, a hash already stored ErrExists.
func (s *Store) CreateToken(ctx context.Context, agent chat.AgentID, tokenHash string, expires time.Time) error {
	now := time.Now()
	return s.write(ctx, false, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM tokens WHERE revoked OR (expires <> 0 AND expires <= $1)`, nanos(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tokens (hash, agent_id, created, expires) VALUES ($1, $2, $3, $4)`,
			tokenHash, int64(agent), nanos(now), nanos(expires))
		switch {
		case isCode(err, foreignKeyViolation):
			return store.ErrNotFound
		case isCode(err, uniqueViolation):
			return store.ErrExists
		}
		return err
	})
}

// TokenAgent returns the agent a token belongs to, or ErrNotFound when it is
// unknown, revoked, expired at now, or its agent is disabled.
func (s *Store) TokenAgent(ctx context.Context, tokenHash string, now time.Time) (chat.AgentID, error) {
	id, err := liveTokenAgent(ctx, s.pool, tokenHash, now)
	return chat.AgentID(id), err
}

// liveTokenAgent is TokenAgent within a transaction.
func liveTokenAgent(ctx context.Context, q querier, tokenHash string, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT t.agent_id FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.hash = $1 AND NOT t.revoked AND (t.expires = 0 OR t.expires > $2) AND NOT a.disabled`,
		tokenHash, nanos(now)).Scan(&id)
	return id, notFound(err)
}

// RevokeToken makes a token unusable, and every token minted from it, to
// any depth; an unknown or already revoked one is ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, tokenHash string) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		ct, err := tx.Exec(ctx, `UPDATE tokens SET revoked = true WHERE hash = $1 AND NOT revoked`, tokenHash)
		if err != nil {
			return err
		}
		if ct.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, `WITH RECURSIVE minted (hash) AS (
	SELECT hash FROM tokens WHERE parent = $1
	UNION SELECT t.hash FROM tokens t JOIN minted m ON t.parent = m.hash
)
UPDATE tokens SET revoked = true WHERE NOT revoked AND hash IN (SELECT hash FROM minted)`, tokenHash)
		return err
	})
}

// CreateHandoverToken stores a token minted by the session standing on
// parentHash, for the same agent; it is revoked with its parent. A parent
// that is unknown, revoked, expired at now or of a disabled agent is
// ErrNotFound.
func (s *Store) CreateHandoverToken(ctx context.Context, parentHash, tokenHash string, now, expires time.Time) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		id, err := liveTokenAgent(ctx, tx, parentHash, now)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO tokens (hash, agent_id, created, expires, parent) VALUES ($1, $2, $3, $4, $5)`,
			tokenHash, id, nanos(now), nanos(expires), parentHash)
		if isCode(err, uniqueViolation) {
			return store.ErrExists
		}
		return err
	})
}

// RedeemToken claims a one-time token and issues newHash in its place, with
// the same parent, in one transaction; of two callers only one succeeds.
func (s *Store) RedeemToken(ctx context.Context, oneTimeHash, newHash string, now, expires time.Time) (chat.AgentID, error) {
	var id int64
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		var (
			parent string
			err    error
		)
		if id, err = liveTokenAgent(ctx, tx, oneTimeHash, now); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE tokens SET revoked = true WHERE hash = $1 AND NOT revoked RETURNING parent`,
			oneTimeHash).Scan(&parent); err != nil {
			return notFound(err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO tokens (hash, agent_id, created, expires, parent) VALUES ($1, $2, $3, $4, $5)`,
			newHash, id, nanos(now), nanos(expires), parent)
		if isCode(err, uniqueViolation) {
			return store.ErrExists
		}
		return err
	})
	return chat.AgentID(id), err
}

// --- quick replies ---------------------------------------------------------

// QuickReplies reads an agent's quick replies in order; none (or an unknown
// agent): an empty, non-nil list.
func (s *Store) QuickReplies(ctx context.Context, agent chat.AgentID) ([]protocol.QuickReply, error) {
	rows, err := s.pool.Query(ctx, `SELECT title, text FROM quick_replies WHERE agent_id = $1 ORDER BY position`, int64(agent))
	if err != nil {
		return nil, fmt.Errorf("postgres: quick replies: %w", err)
	}
	out := []protocol.QuickReply{}
	var r protocol.QuickReply
	if _, err := pgx.ForEachRow(rows, []any{&r.Title, &r.Text}, func() error {
		out = append(out, protocol.QuickReply{Title: decText(r.Title), Text: decText(r.Text)})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgres: quick replies: %w", err)
	}
	return out, nil
}

// SetQuickReplies replaces an agent's quick replies in one durable
// transaction; an unknown agent is ErrNotFound and changes nothing.
func (s *Store) SetQuickReplies(ctx context.Context, agent chat.AgentID, replies []protocol.QuickReply) error {
	titles, texts := make([]string, len(replies)), make([]string, len(replies))
	for i, r := range replies {
		titles[i], texts[i] = encText(r.Title), encText(r.Text)
	}
	return s.write(ctx, false, func(tx pgx.Tx) error {
		// Locks the agent's row: two saves of one agent's list take turns.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM agents WHERE id = $1 FOR UPDATE`, int64(agent)).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM quick_replies WHERE agent_id = $1`, int64(agent)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO quick_replies (agent_id, position, title, text)
SELECT $1, r.n - 1, r.title, r.text FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS r (title, text, n)`,
			int64(agent), titles, texts)
		return err
	})
}

// --- administration --------------------------------------------------------

// CreateAgent adds an enabled agent without grants; a taken login is ErrExists.
func (s *Store) CreateAgent(ctx context.Context, login, name string, passwordHash []byte) (chat.AgentID, error) {
	if login == "" {
		return 0, errors.New("postgres: empty login")
	}
	if passwordHash == nil {
		passwordHash = []byte{}
	}
	var id int64
	err := s.write(ctx, true, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO agents (login, name, password_hash) VALUES ($1, $2, $3) RETURNING id`,
			login, encText(name), passwordHash).Scan(&id)
		if isCode(err, uniqueViolation) {
			return store.ErrExists
		}
		return err
	})
	return chat.AgentID(id), err
}

// SetPassword replaces an agent's password hash and revokes their tokens.
func (s *Store) SetPassword(ctx context.Context, login string, passwordHash []byte) error {
	if passwordHash == nil {
		passwordHash = []byte{}
	}
	return s.write(ctx, true, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `UPDATE agents SET password_hash = $1 WHERE login = $2 RETURNING id`,
			passwordHash, login).Scan(&id); err != nil {
			return notFound(err)
		}
		_, err := tx.Exec(ctx, `UPDATE tokens SET revoked = true WHERE agent_id = $1`, id)
		return err
	})
}

// SetAgentDisabled disables or enables an agent; disabling revokes their
// tokens.
func (s *Store) SetAgentDisabled(ctx context.Context, login string, disabled bool) error {
	return s.write(ctx, true, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `UPDATE agents SET disabled = $1 WHERE login = $2 RETURNING id`,
			disabled, login).Scan(&id); err != nil {
			return notFound(err)
		}
		if disabled {
			if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked = true WHERE agent_id = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListAgents reads every agent with grants, by login.
func (s *Store) ListAgents(ctx context.Context) ([]store.AgentRow, error) {
	var out []store.AgentRow
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		grants, err := grantsByAgent(ctx, tx, 0)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+agentCols+` FROM agents ORDER BY login`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AgentRow, error) {
			a, err := scanAgentRow(r)
			a.Perms = grants[a.ID]
			if a.Perms == nil {
				a.Perms = make(map[chat.ChannelID]chat.Perm)
			}
			return a, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list agents: %w", err)
	}
	return out, nil
}

// PutChannel creates or updates a channel by key, its hours and time zone
// checked first.
func (s *Store) PutChannel(ctx context.Context, c store.ChannelRow) error {
	if c.Key == "" {
		return errors.New("postgres: empty channel key")
	}
	if _, err := c.Channel(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := c.CheckFiles(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	templates := []byte("[]")
	if len(c.Templates) > 0 {
		var err error
		if templates, err = json.Marshal(c.Templates); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	return s.write(ctx, true, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO channels (`+channelCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (key) DO UPDATE SET name = excluded.name, hours = excluded.hours, time_zone = excluded.time_zone,
	offline_form = excluded.offline_form, warn_after_ms = excluded.warn_after_ms,
	manager_warn_after_ms = excluded.manager_warn_after_ms, transfer_timeout_ms = excluded.transfer_timeout_ms,
	templates = excluded.templates, language = excluded.language, file_max_bytes = excluded.file_max_bytes,
	file_types = excluded.file_types`,
			string(c.Key), encText(c.Name), c.Hours, c.TimeZone, c.OfflineForm, c.WarnAfter.Milliseconds(),
			c.ManagerWarnAfter.Milliseconds(), c.TransferTimeout.Milliseconds(), string(templates), c.StoredLanguage(),
			c.FileMaxBytes, store.JoinFileTypes(c.FileTypes))
		return err
	})
}

// ListChannels reads every channel, by key.
func (s *Store) ListChannels(ctx context.Context) ([]store.ChannelRow, error) {
	out, err := listChannels(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("postgres: list channels: %w", err)
	}
	return out, nil
}

// Grant sets an agent's permissions in a channel; 0 removes the grant. An
// unknown login or channel is ErrNotFound.
func (s *Store) Grant(ctx context.Context, login string, channel chat.ChannelID, perms chat.Perm) error {
	return s.write(ctx, true, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM agents WHERE login = $1`, login).Scan(&id); err != nil {
			return notFound(err)
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM channels WHERE key = $1`, string(channel)).Scan(&one); err != nil {
			return notFound(err)
		}
		if perms == 0 {
			_, err := tx.Exec(ctx, `DELETE FROM grants WHERE agent_id = $1 AND channel = $2`, id, string(channel))
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO grants (agent_id, channel, perms) VALUES ($1, $2, $3)
ON CONFLICT (agent_id, channel) DO UPDATE SET perms = excluded.perms`, id, string(channel), int64(perms))
		return err
	})
}

// DirectoryVersion changes whenever agents, channels or grants change, by
// this process or another: it is a row every directory write moves.
func (s *Store) DirectoryVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'directory_version'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: directory version: %w", err)
	}
	return v, nil
}

// Directory reads channels and agents (with grants) and the directory
// version they belong to, in one snapshot.
func (s *Store) Directory(ctx context.Context) (store.Directory, error) {
	var d store.Directory
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'directory_version'`).Scan(&d.Version); err != nil {
			return fmt.Errorf("version: %w", err)
		}
		var err error
		if d.Channels, err = loadChannels(ctx, tx); err != nil {
			return fmt.Errorf("channels: %w", err)
		}
		if d.Agents, err = loadAgents(ctx, tx); err != nil {
			return fmt.Errorf("agents: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.Directory{}, fmt.Errorf("postgres: directory %w", err)
	}
	return d, nil
}

// WriteProbe makes one durable write behind the fence: whether the
// database takes this store's writes now.
func (s *Store) WriteProbe(ctx context.Context) error {
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('write_probe', 1)
ON CONFLICT (key) DO UPDATE SET value = meta.value + 1`)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrFenced) {
		return fmt.Errorf("write probe: %w", err)
	}
	return err
}
