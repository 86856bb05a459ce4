package baseline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"modernc.org/sqlite"
)

// maxBatch bounds one group commit, as the relay's committer does.
const maxBatch = 1024

// NewDurable returns the hub that commits every message to a SQLite file at
// path (WAL, synchronous=FULL, fdatasync) before it delivers or acknowledges
// it: the durable yardstick. One goroutine is the only writer; it takes every
// message waiting (up to maxBatch) into one transaction, so one sync carries
// many messages, and then fans the batch out in commit order.
func NewDurable(path string) (*Hub, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("baseline: database path %q must not contain '?' or '#'", path)
	}
	sqlite.Fdatasync(true) // as the relay's store: same durability, no timestamp update
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS entries (
		id INTEGER PRIMARY KEY, chat TEXT NOT NULL, seq INTEGER NOT NULL,
		client_id TEXT NOT NULL, text TEXT NOT NULL)`); err != nil {
		db.Close()
		return nil, err
	}
	h := New()
	h.journal = &journal{db: db, jobs: make(chan commitJob, maxBatch*4)}
	go h.journal.run()
	return h, nil
}

// commitJob is one message waiting for its commit, with what goes out after it.
type commitJob struct {
	room   *room
	chat   string
	seq    uint64
	cid    string
	text   string
	entry  []byte
	ack    []byte
	sender *client
}

// journal is the single committer of the durable hub.
type journal struct {
	db   *sql.DB
	jobs chan commitJob // FIFO: a room's jobs are queued in seq order, under its lock
}

func (j *journal) run() {
	batch := make([]commitJob, 0, maxBatch)
	for first := range j.jobs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case x := <-j.jobs:
				batch = append(batch, x)
			default:
				break fill
			}
		}
		if err := j.commit(batch); err != nil {
			// Nothing is acknowledged that was not stored; the senders see no
			// ack and the load generator counts them as lost.
			continue
		}
		for _, x := range batch {
			x.room.mu.Lock()
			for _, r := range x.room.receivers {
				r.enqueue(x.entry)
			}
			x.room.mu.Unlock()
			x.sender.enqueue(x.ack)
		}
	}
}

func (j *journal) commit(batch []commitJob) error {
	ctx := context.Background()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO entries (chat, seq, client_id, text) VALUES (?, ?, ?, ?)")
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	for _, x := range batch {
		if _, err := st.ExecContext(ctx, x.chat, x.seq, x.cid, x.text); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return errors.Join(st.Close(), tx.Commit())
}
