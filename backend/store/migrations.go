package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema's steps, in order. The database's PRAGMA
// user_version is the number of steps applied. Append only: a released step
// is never edited, a change is a new step.
//
// Conventions: times are INTEGER Unix nanoseconds with 0 for "never";
// durations are INTEGER milliseconds (the _ms columns); agent ids of 0 mean
// "nobody". The history tables (sessions, entries, transfers, requests) keep
// channel keys and agent ids without foreign keys, so history outlives any
// change to the directory.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY NOT NULL,
	value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('directory_version', 1);

CREATE TABLE agents (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	login         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash BLOB NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	chosen_status TEXT NOT NULL DEFAULT 'present'
);

CREATE TABLE channels (
	key                   TEXT PRIMARY KEY NOT NULL,
	name                  TEXT NOT NULL,
	hours                 TEXT NOT NULL DEFAULT '',
	time_zone             TEXT NOT NULL DEFAULT '',
	offline_form          INTEGER NOT NULL DEFAULT 0,
	warn_after_ms         INTEGER NOT NULL DEFAULT 0,
	manager_warn_after_ms INTEGER NOT NULL DEFAULT 0,
	transfer_timeout_ms   INTEGER NOT NULL DEFAULT 0,
	templates             TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;

CREATE TABLE grants (
	agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	channel  TEXT NOT NULL REFERENCES channels (key) ON DELETE CASCADE ON UPDATE CASCADE,
	perms    INTEGER NOT NULL,
	PRIMARY KEY (agent_id, channel)
) WITHOUT ROWID;
CREATE INDEX grants_channel ON grants (channel);

CREATE TABLE tokens (
	hash     TEXT PRIMARY KEY NOT NULL,
	agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	created  INTEGER NOT NULL,
	expires  INTEGER NOT NULL DEFAULT 0,
	revoked  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX tokens_agent ON tokens (agent_id);

CREATE TABLE sessions (
	id            TEXT PRIMARY KEY NOT NULL,
	channel       TEXT NOT NULL,
	state         TEXT NOT NULL CHECK (state IN ('queued', 'active', 'ended')),
	visitor_name  TEXT NOT NULL DEFAULT '',
	visitor_email TEXT NOT NULL DEFAULT '',
	question      TEXT NOT NULL DEFAULT '',
	token_hash    TEXT NOT NULL DEFAULT '',
	owner         INTEGER NOT NULL DEFAULT 0,
	listeners     TEXT NOT NULL DEFAULT '[]',
	pending       INTEGER NOT NULL DEFAULT 0,
	rank          INTEGER NOT NULL DEFAULT 0,
	seq           INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL DEFAULT 0,
	queued_at     INTEGER NOT NULL DEFAULT 0,
	answered_at   INTEGER NOT NULL DEFAULT 0,
	ended_at      INTEGER NOT NULL DEFAULT 0,
	ended_by      TEXT NOT NULL DEFAULT '',
	last_visitor  INTEGER NOT NULL DEFAULT 0,
	last_agent    INTEGER NOT NULL DEFAULT 0,
	warned        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_state ON sessions (state, ended_at);
CREATE INDEX sessions_channel_created ON sessions (channel, created_at);

-- A rowid table: messages run up to 8 KB, too large to cluster in a
-- WITHOUT ROWID b-tree; the primary key's index serves reads by session.
CREATE TABLE entries (
	session     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	author_kind TEXT NOT NULL,
	author      INTEGER NOT NULL DEFAULT 0,
	author_name TEXT NOT NULL DEFAULT '',
	client_id   TEXT NOT NULL DEFAULT '',
	text        TEXT NOT NULL,
	staff       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (session, seq)
);

CREATE TABLE transfers (
	id         INTEGER PRIMARY KEY,
	session    TEXT NOT NULL,
	channel    TEXT NOT NULL,
	kind       TEXT NOT NULL,
	from_agent INTEGER NOT NULL DEFAULT 0,
	to_agent   INTEGER NOT NULL DEFAULT 0,
	by_agent   INTEGER NOT NULL DEFAULT 0,
	to_queue   INTEGER NOT NULL DEFAULT 0,
	comment    TEXT NOT NULL DEFAULT '',
	state      TEXT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	started    INTEGER NOT NULL DEFAULT 0,
	deadline   INTEGER NOT NULL DEFAULT 0,
	ended      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX transfers_session ON transfers (session);
CREATE INDEX transfers_from ON transfers (from_agent);
CREATE INDEX transfers_to ON transfers (to_agent);
CREATE INDEX transfers_by ON transfers (by_agent);
CREATE INDEX transfers_state ON transfers (state);
CREATE INDEX transfers_started ON transfers (started);

CREATE TABLE requests (
	number        INTEGER PRIMARY KEY,
	channel       TEXT NOT NULL,
	session       TEXT NOT NULL DEFAULT '',
	title         TEXT NOT NULL,
	visitor_name  TEXT NOT NULL DEFAULT '',
	visitor_email TEXT NOT NULL DEFAULT '',
	question      TEXT NOT NULL DEFAULT '',
	created_by    INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL DEFAULT 0,
	transcript    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX requests_session ON requests (session);
`,
	// 2: system lines carry a code so that clients can translate them.
	`ALTER TABLE entries ADD COLUMN note TEXT NOT NULL DEFAULT '';`,

	// 3: session logs become an append-only table, sealed runs of each
	// session's entry ids, and a small per-session row for the newest
	// entries (see log.go), so a commit writes a few pages however many
	// chats it touches. The runs of entries already stored are made by
	// chunkOldLogs.
	`
CREATE TABLE entries_v3 (
	id          INTEGER PRIMARY KEY,
	session     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	author_kind TEXT NOT NULL,
	author      INTEGER NOT NULL DEFAULT 0,
	author_name TEXT NOT NULL DEFAULT '',
	client_id   TEXT NOT NULL DEFAULT '',
	text        TEXT NOT NULL,
	staff       INTEGER NOT NULL DEFAULT 0,
	note        TEXT NOT NULL DEFAULT ''
);
INSERT INTO entries_v3 (session, seq, at, kind, author_kind, author, author_name, client_id, text, staff, note)
	SELECT session, seq, at, kind, author_kind, author, author_name, client_id, text, staff, note
	FROM entries ORDER BY session, seq;
DROP TABLE entries;
ALTER TABLE entries_v3 RENAME TO entries;

-- A session's entries first_seq..last_seq: their (seq, id) pairs, encoded
-- as the tail is. All but each session's newest entries are in chunks.
CREATE TABLE entry_chunks (
	session   TEXT NOT NULL,
	first_seq INTEGER NOT NULL,
	last_seq  INTEGER NOT NULL,
	pairs     BLOB NOT NULL,
	PRIMARY KEY (session, first_seq)
) WITHOUT ROWID;

-- What the log moves on every commit, apart from the sessions row: the
-- newest seq and message times (sessions' columns hold those of the last
-- SessionChanged; readers take the larger), and the tail: the (seq, id)
-- pairs of the entries not yet in a chunk.
CREATE TABLE session_logs (
	session      TEXT PRIMARY KEY NOT NULL,
	seq          INTEGER NOT NULL DEFAULT 0,
	last_visitor INTEGER NOT NULL DEFAULT 0,
	last_agent   INTEGER NOT NULL DEFAULT 0,
	tail         BLOB NOT NULL DEFAULT x''
) WITHOUT ROWID;
`,

	// 4: each agent's own quick replies, in the agent's order. They go
	// with the agent: removing an agent removes them.
	`
CREATE TABLE quick_replies (
	agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	title    TEXT NOT NULL DEFAULT '',
	text     TEXT NOT NULL,
	PRIMARY KEY (agent_id, position)
) WITHOUT ROWID;
`,

	// 5: a token minted by another (token.handover, and the session token
	// its redemption issues) names the token of the session that minted
	// it, so that revoking that session revokes what it handed on.
	`
ALTER TABLE tokens ADD COLUMN parent TEXT NOT NULL DEFAULT '';
CREATE INDEX tokens_parent ON tokens (parent) WHERE parent != '';
`,

	// 6: requests are followed up: a state and an assignee, a history of
	// steps, and an outbox of e-mails and webhook calls still to go out
	// (see requests.go). A channel's language words its e-mails.
	`
ALTER TABLE requests ADD COLUMN state TEXT NOT NULL DEFAULT 'open';
ALTER TABLE requests ADD COLUMN assignee INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE requests SET updated_at = created_at;
CREATE INDEX requests_state ON requests (state, channel);

CREATE TABLE request_steps (
	id       INTEGER PRIMARY KEY,
	request  INTEGER NOT NULL,
	at       INTEGER NOT NULL,
	action   TEXT NOT NULL,
	by_agent INTEGER NOT NULL DEFAULT 0,
	to_agent INTEGER NOT NULL DEFAULT 0,
	text     TEXT NOT NULL DEFAULT '',
	mail     INTEGER NOT NULL DEFAULT 0,
	state    TEXT NOT NULL
);
CREATE INDEX request_steps_request ON request_steps (request, id);

CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY,
	kind       TEXT NOT NULL,
	request    INTEGER NOT NULL,
	step       INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL DEFAULT 0,
	done_at    INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (kind, done_at, next_at);

ALTER TABLE channels ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
`,

	// 7: a system line is a code with parameters (whom and what it names,
	// as JSON, see log.go), worded by each client in its own language; its
	// text stays empty. Lines stored before keep their English text.
	`ALTER TABLE entries ADD COLUMN params TEXT NOT NULL DEFAULT '';`,

	// 8: attachments (see attachments.go): a row per upload, the key that
	// signs upload and download URLs, and each channel's limits (0 bytes:
	// the default; below 0: off; types '': the default classes).
	`
CREATE TABLE files (
	id         TEXT PRIMARY KEY NOT NULL,
	session    TEXT NOT NULL,
	channel    TEXT NOT NULL,
	uploader   TEXT NOT NULL,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL DEFAULT '',
	size       INTEGER NOT NULL DEFAULT 0,
	width      INTEGER NOT NULL DEFAULT 0,
	height     INTEGER NOT NULL DEFAULT 0,
	sha256     TEXT NOT NULL DEFAULT '',
	state      TEXT NOT NULL,
	seq        INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	stored_at  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX files_created ON files (channel, created_at);
CREATE TABLE file_key (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	key BLOB NOT NULL
);
ALTER TABLE channels ADD COLUMN file_max_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN file_types TEXT NOT NULL DEFAULT '';
`,

	// 9: session rows may lag behind entries (see log.go): they hold every
	// entry up to logs_through, which until now was every entry.
	`
INSERT INTO meta (key, value) SELECT 'logs_through', coalesce(max(id), 0) FROM entries;
`,
}

// afterMigration holds work done in Go, by index into migrations (2 is
// step 3), run after that step's SQL in its transaction.
var afterMigration = map[int]func(ctx context.Context, tx *sql.Tx) error{
	2: chunkOldLogs,
}

// chunkOldLogs puts the entries of schema 2 into chunks of chunkAt.
func chunkOldLogs(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT session, seq, id FROM entries ORDER BY session, seq`)
	if err != nil {
		return err
	}
	type chunk struct {
		sid   string
		pairs []tailPair
	}
	var (
		chunks []chunk
		cur    chunk
	)
	for rows.Next() {
		var (
			sid     string
			seq, id int64
		)
		if err := rows.Scan(&sid, &seq, &id); err != nil {
			rows.Close()
			return err
		}
		if sid != cur.sid || len(cur.pairs) == chunkAt {
			if len(cur.pairs) > 0 {
				chunks = append(chunks, cur)
			}
			cur = chunk{sid: sid}
		}
		cur.pairs = append(cur.pairs, tailPair{uint64(seq), id})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(cur.pairs) > 0 {
		chunks = append(chunks, cur)
	}
	for _, c := range chunks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO entry_chunks (session, first_seq, last_seq, pairs) VALUES (?, ?, ?, ?)`,
			c.sid, int64(c.pairs[0].seq), int64(c.pairs[len(c.pairs)-1].seq), encodeTail(c.pairs)); err != nil {
			return err
		}
	}
	return nil
}

// migrate applies the steps the database has not seen yet, each in its own
// IMMEDIATE transaction that rereads user_version, so two processes opening
// a fresh file at once apply every step exactly once.
func migrate(ctx context.Context, db *sql.DB) error {
	for {
		done, err := migrateOne(ctx, db)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("store: migrate: %w", err)
	}
	switch {
	case v == len(migrations):
		return true, nil
	case v > len(migrations):
		return false, fmt.Errorf("store: database schema version %d is newer than this program knows (%d)", v, len(migrations))
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("store: migration %d: %w", v+1, err)
	}
	if f := afterMigration[v]; f != nil {
		if err := f(ctx, tx); err != nil {
			return false, fmt.Errorf("store: migration %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no bound parameters; v+1 is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("store: migration %d: %w", v+1, err)
	}
	return false, tx.Commit()
}

// SchemaVersion is the number of migration steps the database has applied.
func (s *SQLite) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
