package store

import (
	"context"
	"database/sql"
	"fmt"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// QuickReplies reads an agent's quick replies in the agent's order; an agent
// without any (or unknown) has an empty, non-nil list.
func (s *SQLite) QuickReplies(ctx context.Context, agent chat.AgentID) ([]protocol.QuickReply, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT title, text FROM quick_replies WHERE agent_id = ? ORDER BY position`, int64(agent))
	if err != nil {
		return nil, fmt.Errorf("store: quick replies: %w", err)
	}
	defer rows.Close()
	out := []protocol.QuickReply{}
	for rows.Next() {
		var r protocol.QuickReply
		if err := rows.Scan(&r.Title, &r.Text); err != nil {
			return nil, fmt.Errorf("store: quick replies: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: quick replies: %w", err)
	}
	return out, nil
}

// SetQuickReplies replaces an agent's quick replies with replies, in one
// transaction on the writer (synchronous=FULL: on the disk when it returns).
// An unknown agent is ErrNotFound and changes nothing.
func (s *SQLite) SetQuickReplies(ctx context.Context, agent chat.AgentID, replies []protocol.QuickReply) error {
	return s.write(ctx, false, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM agents WHERE id = ?`, int64(agent)).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM quick_replies WHERE agent_id = ?`, int64(agent)); err != nil {
			return err
		}
		if len(replies) == 0 {
			return nil
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO quick_replies (agent_id, position, title, text) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for i, r := range replies {
			if _, err := ins.ExecContext(ctx, int64(agent), i, r.Title, r.Text); err != nil {
				return err
			}
		}
		return nil
	})
}
