package store

import (
	"context"
	"database/sql"
	"fmt"

	"switchboard/backend/chat"
)

// Directory is what administrators change: channels, and agents with their
// grants and disabled flag, as of one directory version.
type Directory struct {
	Version  int64
	Channels []chat.Channel
	Agents   []chat.Agent
}

// Directory reads channels and agents (with grants) and the directory
// version they belong to, in one read transaction.
func (s *SQLite) Directory(ctx context.Context) (Directory, error) {
	var d Directory
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return d, fmt.Errorf("store: directory: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'directory_version'`).Scan(&d.Version); err != nil {
		return Directory{}, fmt.Errorf("store: directory version: %w", err)
	}
	if d.Channels, err = loadChannels(ctx, tx); err != nil {
		return Directory{}, fmt.Errorf("store: directory channels: %w", err)
	}
	if d.Agents, err = loadAgents(ctx, tx); err != nil {
		return Directory{}, fmt.Errorf("store: directory agents: %w", err)
	}
	return d, nil
}
