package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"switchboard/backend/chat"
)

// --- auth ----------------------------------------------------------------

const agentCols = `id, login, name, password_hash, disabled`

func scanAgentRow(sc interface{ Scan(...any) error }) (AgentRow, error) {
	var (
		a  AgentRow
		id int64
	)
	if err := sc.Scan(&id, &a.Login, &a.Name, &a.PasswordHash, &a.Disabled); err != nil {
		return a, err
	}
	a.ID = chat.AgentID(id)
	return a, nil
}

// AgentByLogin reads an agent with its grants; disabled agents too.
func (s *SQLite) AgentByLogin(ctx context.Context, login string) (AgentRow, error) {
	a, err := scanAgentRow(s.r.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE login = ?`, login))
	if err != nil {
		return AgentRow{}, notFound(err)
	}
	g, err := grantsByAgent(ctx, s.r, a.ID)
	if err != nil {
		return AgentRow{}, fmt.Errorf("store: agent grants: %w", err)
	}
	a.Perms = g[a.ID]
	if a.Perms == nil {
		a.Perms = make(map[chat.ChannelID]chat.Perm)
	}
	return a, nil
}

// CreateToken stores a session token's hash for agent; a zero expires never
// expires. It also drops tokens that can no longer be used (expired or
// revoked), so the table stays small. An unknown agent is ErrNotFound, a
// hash already stored ErrExists.
func (s *SQLite) CreateToken(ctx context.Context, agent chat.AgentID, tokenHash string, expires time.Time) error {
	now := time.Now()
	return s.write(ctx, false, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE revoked != 0 OR (expires != 0 AND expires <= ?)`, nanos(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, agent_id, created, expires) VALUES (?, ?, ?, ?)`,
			tokenHash, int64(agent), nanos(now), nanos(expires))
		switch {
		case isForeignKey(err):
			return ErrNotFound
		case isUnique(err):
			return ErrExists
		}
		return err
	})
}

// TokenAgent returns the agent a token belongs to, or ErrNotFound when it is
// unknown, revoked, expired at now, or its agent is disabled.
func (s *SQLite) TokenAgent(ctx context.Context, tokenHash string, now time.Time) (chat.AgentID, error) {
	id, err := liveTokenAgent(ctx, s.r, tokenHash, now)
	if err != nil {
		return 0, err
	}
	return chat.AgentID(id), nil
}

// RevokeToken makes a token unusable, and every token minted from it (see
// CreateHandoverToken), to any depth; an unknown or already revoked one is
// ErrNotFound, so of two callers revoking the same token only one succeeds.
func (s *SQLite) RevokeToken(ctx context.Context, tokenHash string) error {
	return s.write(ctx, false, func(tx *sql.Tx) error {
		if err := mustChange(tx.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE hash = ? AND revoked = 0`, tokenHash)); err != nil {
			return err
		}
		return revokeChildren(ctx, tx, tokenHash)
	})
}

// revokeChildren revokes the tokens minted from tokenHash, and theirs.
func revokeChildren(ctx context.Context, tx *sql.Tx, tokenHash string) error {
	_, err := tx.ExecContext(ctx, `WITH RECURSIVE minted (hash) AS (
	SELECT hash FROM tokens WHERE parent = ?
	UNION SELECT t.hash FROM tokens t JOIN minted m ON t.parent = m.hash
)
UPDATE tokens SET revoked = 1 WHERE revoked = 0 AND hash IN (SELECT hash FROM minted)`, tokenHash)
	return err
}

// CreateHandoverToken stores a token minted by the session standing on
// parentHash (a one-time handover token), for the same agent. It lives no
// longer than its parent: revoking the parent revokes it. A parent that is
// unknown, revoked, expired at now or of a disabled agent is ErrNotFound.
func (s *SQLite) CreateHandoverToken(ctx context.Context, parentHash, tokenHash string, now, expires time.Time) error {
	return s.write(ctx, false, func(tx *sql.Tx) error {
		id, err := liveTokenAgent(ctx, tx, parentHash, now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tokens (hash, agent_id, created, expires, parent) VALUES (?, ?, ?, ?, ?)`,
			tokenHash, id, nanos(now), nanos(expires), parentHash)
		if isUnique(err) {
			return ErrExists
		}
		return err
	})
}

// RedeemToken claims a one-time token and issues newHash in its place, in
// one transaction: the token is revoked (so of two callers only one
// succeeds) and the new one inherits its parent, so that it dies with the
// session that minted the one-time token. A token that is unknown,
// revoked, expired at now or of a disabled agent is ErrNotFound.
func (s *SQLite) RedeemToken(ctx context.Context, oneTimeHash, newHash string, now, expires time.Time) (chat.AgentID, error) {
	var id int64
	err := s.write(ctx, false, func(tx *sql.Tx) error {
		var (
			parent string
			err    error
		)
		if id, err = liveTokenAgent(ctx, tx, oneTimeHash, now); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `UPDATE tokens SET revoked = 1 WHERE hash = ? AND revoked = 0 RETURNING parent`,
			oneTimeHash).Scan(&parent); err != nil {
			return notFound(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tokens (hash, agent_id, created, expires, parent) VALUES (?, ?, ?, ?, ?)`,
			newHash, id, nanos(now), nanos(expires), parent)
		if isUnique(err) {
			return ErrExists
		}
		return err
	})
	return chat.AgentID(id), err
}

// liveTokenAgent is TokenAgent within a transaction.
func liveTokenAgent(ctx context.Context, q queryer, tokenHash string, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT t.agent_id FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.hash = ? AND t.revoked = 0 AND (t.expires = 0 OR t.expires > ?) AND a.disabled = 0`,
		tokenHash, nanos(now)).Scan(&id)
	return id, notFound(err)
}

// --- administration --------------------------------------------------------

// write runs f in a write transaction; directory writes also bump the
// directory version in the same transaction.
func (s *SQLite) write(ctx context.Context, directory bool, f func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) {
			return err
		}
		return fmt.Errorf("store: %w", err)
	}
	if directory {
		if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'directory_version'`); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// mustChange turns "no row matched" into ErrNotFound.
func mustChange(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateAgent adds an enabled agent without grants; a taken login is ErrExists.
func (s *SQLite) CreateAgent(ctx context.Context, login, name string, passwordHash []byte) (chat.AgentID, error) {
	if login == "" {
		return 0, errors.New("store: empty login")
	}
	if passwordHash == nil {
		passwordHash = []byte{}
	}
	var id int64
	err := s.write(ctx, true, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO agents (login, name, password_hash) VALUES (?, ?, ?) RETURNING id`,
			login, name, passwordHash).Scan(&id)
		if isUnique(err) {
			return ErrExists
		}
		return err
	})
	return chat.AgentID(id), err
}

// SetPassword replaces an agent's password hash and revokes every token of
// theirs: whoever held the old password (or a token got with it) is out.
func (s *SQLite) SetPassword(ctx context.Context, login string, passwordHash []byte) error {
	if passwordHash == nil {
		passwordHash = []byte{}
	}
	return s.write(ctx, true, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `UPDATE agents SET password_hash = ? WHERE login = ? RETURNING id`,
			passwordHash, login).Scan(&id); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE agent_id = ?`, id)
		return err
	})
}

// SetAgentDisabled disables or enables an agent; disabling revokes every
// token of theirs.
func (s *SQLite) SetAgentDisabled(ctx context.Context, login string, disabled bool) error {
	return s.write(ctx, true, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `UPDATE agents SET disabled = ? WHERE login = ? RETURNING id`,
			boolInt(disabled), login).Scan(&id); err != nil {
			return notFound(err)
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE agent_id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListAgents reads every agent with grants, by login.
func (s *SQLite) ListAgents(ctx context.Context) ([]AgentRow, error) {
	grants, err := grantsByAgent(ctx, s.r, 0)
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+agentCols+` FROM agents ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	defer rows.Close()
	var out []AgentRow
	for rows.Next() {
		a, err := scanAgentRow(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list agents: %w", err)
		}
		a.Perms = grants[a.ID]
		if a.Perms == nil {
			a.Perms = make(map[chat.ChannelID]chat.Perm)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	return out, nil
}

// PutChannel creates or updates a channel by key. Its hours and time zone
// are checked first, so Load never meets a channel it cannot read.
func (s *SQLite) PutChannel(ctx context.Context, c ChannelRow) error {
	if c.Key == "" {
		return errors.New("store: empty channel key")
	}
	if _, err := c.hours(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	templates := []byte("[]")
	if len(c.Templates) > 0 {
		var err error
		if templates, err = json.Marshal(c.Templates); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	if err := c.checkFiles(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return s.write(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO channels (`+channelCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET name = excluded.name, hours = excluded.hours, time_zone = excluded.time_zone,
	offline_form = excluded.offline_form, warn_after_ms = excluded.warn_after_ms,
	manager_warn_after_ms = excluded.manager_warn_after_ms, transfer_timeout_ms = excluded.transfer_timeout_ms,
	templates = excluded.templates, language = excluded.language, file_max_bytes = excluded.file_max_bytes,
	file_types = excluded.file_types`,
			string(c.Key), c.Name, c.Hours, c.TimeZone, boolInt(c.OfflineForm), c.WarnAfter.Milliseconds(),
			c.ManagerWarnAfter.Milliseconds(), c.TransferTimeout.Milliseconds(), string(templates), c.language(),
			c.FileMaxBytes, JoinFileTypes(c.FileTypes))
		return err
	})
}

// ListChannels reads every channel, by key.
func (s *SQLite) ListChannels(ctx context.Context) ([]ChannelRow, error) {
	out, err := listChannels(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("store: list channels: %w", err)
	}
	return out, nil
}

// Grant sets an agent's permissions in a channel; 0 removes the grant. An
// unknown login or channel is ErrNotFound.
func (s *SQLite) Grant(ctx context.Context, login string, channel chat.ChannelID, perms chat.Perm) error {
	return s.write(ctx, true, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM agents WHERE login = ?`, login).Scan(&id); err != nil {
			return notFound(err)
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM channels WHERE key = ?`, string(channel)).Scan(&one); err != nil {
			return notFound(err)
		}
		if perms == 0 {
			_, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE agent_id = ? AND channel = ?`, id, string(channel))
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO grants (agent_id, channel, perms) VALUES (?, ?, ?)
ON CONFLICT (agent_id, channel) DO UPDATE SET perms = excluded.perms`, id, string(channel), int64(perms))
		return err
	})
}

// DirectoryVersion changes whenever agents, channels or grants change.
func (s *SQLite) DirectoryVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'directory_version'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: directory version: %w", err)
	}
	return v, nil
}

// Backup writes a consistent copy of the database to path while the store
// stays in use (VACUUM INTO reads one snapshot; writers go on). It refuses
// to overwrite: an existing path is an error wrapping ErrExists.
func (s *SQLite) Backup(ctx context.Context, path string) error {
	if path == "" {
		return errors.New("store: backup: empty path")
	}
	// The copy is created private and empty first (VACUUM INTO fills an
	// empty file): it holds everything the database does.
	switch err := createPrivate(path, true); {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("store: backup %s: %w", path, ErrExists)
	case err != nil:
		return fmt.Errorf("store: backup: %w", err)
	}
	if _, err := s.r.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup %s: %w", path, err)
	}
	return nil
}
