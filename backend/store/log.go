package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"switchboard/backend/chat"
)

// How session logs are kept
//
// The obvious layout, one table clustered or indexed by (session, seq),
// makes every commit rewrite one b-tree leaf per chat that got a message:
// with 500 busy chats, a group commit of a few hundred messages writes
// hundreds of 4 KiB pages to the WAL (and again at checkpoint), and the
// disk's bandwidth, not SQLite, sets the rate.
//
// So the log is split:
//
//   - entries is append-only, keyed by a global id: a commit appends to the
//     last few pages whatever the number of chats.
//   - session_logs has one small row per session: its newest seq and
//     message times, and its tail, the (seq, id) pairs of its entries not
//     yet in a chunk (at most chunkAt, about three bytes each). These rows
//     are small and packed, so rewriting those of hundreds of chats touches
//     few pages.
//   - entry_chunks holds the rest of each session's pairs, a row per
//     chunkAt entries, keyed by (session, first_seq).
//
// The session rows lag behind entries: Apply writes them once flushAt
// entries have gathered since the last time, not on every commit, and
// meta's logs_through says up to which entry id they are complete. A small
// commit of a few messages from as many chats then writes the entries' last
// page or two, not also a page of session_logs per chat (3.6 of 4.9 pages a
// commit at 12,500 deliveries a second before). Readers take a session's
// entries after logs_through from entries itself (at most flushAt rows to
// look at), so what they see is the same; after a crash, or another
// writer's commit, the writer gathers those entries again the same way
// (loadLogStates). Nothing durable depends on the session rows being
// current: they are an index that entries can always complete.
//
// When a tail reaches chunkAt pairs, the next write of its row seals it
// into a chunk in the same transaction: one small row per chunkAt or so
// messages. Readers read the tail, the entries after it, the chunks and the
// entries' rows in one read transaction, so they see a session's whole log
// as of one commit.

// chunkAt is the number of tail pairs that make a chunk.
const chunkAt = 64

// flushAt is how many entries Apply lets gather before it writes the
// session rows they extend. Readers scan up to this many rows of entries for
// those the rows do not hold yet.
const flushAt = 256

// afterLogsThrough picks from entries (as e) those after logs_through, the
// part of every session's log its session row does not hold yet.
const afterLogsThrough = `e.id > (SELECT value FROM meta WHERE key = 'logs_through')`

// sqlUnflushed selects the entries after logs_through.
const sqlUnflushed = `SELECT e.session, e.seq, e.id, e.at, e.author_kind FROM entries e
WHERE ` + afterLogsThrough

// tailPair locates one entry of a session: its seq and its id in entries.
type tailPair struct {
	seq uint64
	id  int64
}

// encodeTail writes pairs as uvarint deltas from the previous pair: seqs and
// ids both increase within a session.
func encodeTail(pairs []tailPair) []byte {
	return appendTail(make([]byte, 0, len(pairs)*4), pairs)
}

// appendTail appends encodeTail's bytes to b.
func appendTail(b []byte, pairs []tailPair) []byte {
	var seq uint64
	var id int64
	for _, p := range pairs {
		b = binary.AppendUvarint(b, p.seq-seq)
		b = binary.AppendUvarint(b, uint64(p.id-id))
		seq, id = p.seq, p.id
	}
	return b
}

func decodeTail(b []byte) ([]tailPair, error) {
	var (
		out []tailPair
		seq uint64
		id  int64
	)
	for len(b) > 0 {
		ds, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("corrupt list of entry ids")
		}
		b = b[n:]
		di, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("corrupt list of entry ids")
		}
		b = b[n:]
		seq, id = seq+ds, id+int64(di)
		out = append(out, tailPair{seq, id})
	}
	return out, nil
}

// idsJSON writes the ids of pairs as a JSON array.
func idsJSON(pairs []tailPair) string {
	b := make([]byte, 0, 2+len(pairs)*8)
	b = append(b, '[')
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, p.id, 10)
	}
	return string(append(b, ']'))
}

const entryCols = `e.seq, e.at, e.kind, e.author_kind, e.author, e.author_name, e.client_id, e.text, e.staff, e.note, e.params`

// queryEntries appends the entries a query selects (entryCols) to out.
func queryEntries(ctx context.Context, q queryer, out []chat.Entry, query string, args ...any) ([]chat.Entry, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e           chat.Entry
			seq, at, au int64
			params      string
		)
		if err := rows.Scan(&seq, &at, &e.Kind, &e.AuthorKind, &au, &e.AuthorName, &e.ClientID, &e.Text, &e.Staff, &e.Note, &params); err != nil {
			return out, err
		}
		if err = DecodeEntryParams(params, &e); err != nil {
			return out, fmt.Errorf("store: entry %d: %w", seq, err)
		}
		e.Seq, e.At, e.Author = uint64(seq), fromNanos(at), chat.AgentID(au)
		out = append(out, e)
	}
	return out, rows.Err()
}

// sessionTail reads a session's pairs that are not in chunks: its row's
// tail, then those of its entries the row does not hold yet. An unknown
// session has none.
func sessionTail(ctx context.Context, q queryer, sid chat.SessionID) ([]tailPair, error) {
	var b []byte
	err := q.QueryRowContext(ctx, `SELECT tail FROM session_logs WHERE session = ?`, string(sid)).Scan(&b)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	tail, err := decodeTail(b)
	if err != nil {
		return nil, err
	}
	unflushed, err := unflushedEntries(ctx, q, ` AND e.session = ?`, string(sid))
	for _, u := range unflushed {
		tail = append(tail, tailPair{uint64(u.seq), u.id})
	}
	return tail, err
}

// unflushedEntry is an entry after logs_through.
type unflushedEntry struct {
	sid         chat.SessionID
	seq, id, at int64
	kind        string
}

// unflushedEntries reads the entries after logs_through that cond (more of
// the WHERE clause, with args) selects, in id order.
func unflushedEntries(ctx context.Context, q queryer, cond string, args ...any) ([]unflushedEntry, error) {
	rows, err := q.QueryContext(ctx, sqlUnflushed+cond+` ORDER BY e.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []unflushedEntry
	for rows.Next() {
		var (
			u   unflushedEntry
			sid string
		)
		if err := rows.Scan(&sid, &u.seq, &u.id, &u.at, &u.kind); err != nil {
			return nil, err
		}
		u.sid = chat.SessionID(sid)
		out = append(out, u)
	}
	return out, rows.Err()
}

// readEntries reads a session's log after seq, in order, at most limit
// (<= 0: all). q must be a transaction, so the tail, the chunks and the
// rows agree.
func readEntries(ctx context.Context, q queryer, sid chat.SessionID, after uint64, limit int) ([]chat.Entry, error) {
	tail, err := sessionTail(ctx, q, sid)
	if err != nil {
		return nil, err
	}
	after = min(after, 1<<63-2)
	var pairs []tailPair
	// Chunks hold the seqs below the tail's: read them unless the reader is
	// already past them. The first chunk needed is the last one starting at
	// or before after+1.
	if len(tail) == 0 || after+1 < tail[0].seq {
		rows, err := q.QueryContext(ctx, `SELECT pairs FROM entry_chunks WHERE session = ?1 AND first_seq >=
	coalesce((SELECT max(first_seq) FROM entry_chunks WHERE session = ?1 AND first_seq <= ?2), 0)
ORDER BY first_seq`, string(sid), int64(after+1))
		if err != nil {
			return nil, err
		}
		for rows.Next() && (limit <= 0 || len(pairs) < limit) {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, err
			}
			chunk, err := decodeTail(b)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("session %s: %w", sid, err)
			}
			pairs = append(pairs, after1(chunk, after)...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	pairs = append(pairs, after1(tail, after)...)
	if limit > 0 && len(pairs) > limit {
		pairs = pairs[:limit]
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	return queryEntries(ctx, q, make([]chat.Entry, 0, len(pairs)), `SELECT `+entryCols+` FROM entries e
WHERE e.id IN (SELECT value FROM json_each(?)) ORDER BY e.id`, idsJSON(pairs))
}

// after1 is the part of pairs (in seq order) above seq after.
func after1(pairs []tailPair, after uint64) []tailPair {
	i, _ := slices.BinarySearchFunc(pairs, after+1, func(p tailPair, seq uint64) int { return cmp.Compare(p.seq, seq) })
	return pairs[i:]
}

// recentIDs reads a session's last n client ids, oldest first. q must be a
// transaction.
func recentIDs(ctx context.Context, q queryer, sid chat.SessionID, n int) ([]chat.RecentID, error) {
	tail, err := sessionTail(ctx, q, sid)
	if err != nil {
		return nil, err
	}
	// Every pair, newest first: the tail, then the chunks from the newest.
	newest := slices.Clone(tail)
	slices.Reverse(newest)
	rows, err := q.QueryContext(ctx, `SELECT pairs FROM entry_chunks WHERE session = ? ORDER BY first_seq DESC`, string(sid))
	if err != nil {
		return nil, err
	}
	for rows.Next() { // all of them: how many are needed depends on the rows
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, err
		}
		chunk, err := decodeTail(b)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("session %s: %w", sid, err)
		}
		slices.Reverse(chunk)
		newest = append(newest, chunk...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Not every entry has a client id (system lines do not): read the rows
	// in slices, newest first, until n are found. Usually one slice does.
	var out []chat.RecentID
	for len(newest) > 0 && len(out) < n {
		k := min(len(newest), max(n-len(out), 64))
		part := newest[:k]
		newest = newest[k:]
		rows, err := q.QueryContext(ctx, `SELECT author_kind, author, client_id, seq FROM entries
WHERE id IN (SELECT value FROM json_each(?)) AND client_id != '' ORDER BY id DESC LIMIT ?`, idsJSON(part), n-len(out))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				r           chat.RecentID
				author, seq int64
			)
			if err := rows.Scan(&r.AuthorKind, &author, &r.ClientID, &seq); err != nil {
				rows.Close()
				return nil, err
			}
			r.Author, r.Seq = chat.AgentID(author), uint64(seq)
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	slices.Reverse(out)
	return out, nil
}

// logState is what the writer knows of a session whose log it extends.
// The writer keeps them between batches (see logCache).
type logState struct {
	exists  bool   // the session row exists (before the batch, or made in it)
	lastSeq uint64 // the highest seq taken; the next entry must be above it
	tail    []tailPair
	dirty   bool // its row does not hold everything above
	ended   bool // leaves the cache once its row is written
	// lastVisitor and lastAgent are the newest entry times seen.
	lastVisitor, lastAgent int64
}

// add takes one entry of the session into the state.
func (st *logState) add(seq uint64, id int64, authorKind string, at int64) {
	st.tail = append(st.tail, tailPair{seq, id})
	st.lastSeq = max(st.lastSeq, seq)
	switch authorKind {
	case chat.ByVisitor:
		st.lastVisitor = max(st.lastVisitor, at)
	case chat.ByAgent:
		st.lastAgent = max(st.lastAgent, at)
	}
}

// logCache keeps the writer's logStates across batches, so a batch reads
// only the sessions it has not met before. It is what the database holds as
// long as this writer is the only one: a commit by any other connection
// (PRAGMA data_version moves) or a failed batch empties it.
type logCache struct {
	states      map[chat.SessionID]*logState
	dataVersion int64
	// nextID is the id the next entry gets, as of the last batch that
	// wrote entries; 0: unknown, read max(id) again.
	nextID int64
	// dirty lists the states whose rows are behind; unflushed counts the
	// entries they miss, all of those after logs_through (see flushAt).
	dirty     []chat.SessionID
	unflushed int
	// folded: the cache holds the entries after logs_through (it has read
	// them since it was last emptied).
	folded bool
}

// forget empties the cache: what it held is read from the database again,
// the entries its session rows do not hold included (loadLogStates).
func (c *logCache) forget() {
	clear(c.states)
	c.nextID = 0
	c.dirty, c.unflushed, c.folded = c.dirty[:0], 0, false
}

// markDirty notes that st's row is behind.
func (c *logCache) markDirty(sid chat.SessionID, st *logState) {
	if !st.dirty {
		st.dirty = true
		c.dirty = append(c.dirty, sid)
	}
}

// maxCachedLogs bounds the cache; ended chats leave it, so it only fills
// when many chats stay open.
const maxCachedLogs = 4096

// pendingEntry is an entry checked and numbered, waiting to be inserted
// with others in one statement.
type pendingEntry struct {
	id  int64
	sid chat.SessionID
	e   chat.Entry
}

// Rows go in by multi-row statements of these sizes, largest first: a
// statement's fixed cost is then shared by up to 64 rows.
var stmtRows = [...]int{64, 16, 4, 1}

// multiRow is one statement for each of stmtRows.
type multiRow struct {
	width int // parameters per row
	stmts [len(stmtRows)]connStmt
}

// valuesSQL writes "(?,?),(?,?)" for n rows of width parameters.
func valuesSQL(width, n int) string {
	row := "(" + strings.Repeat("?,", width-1) + "?)"
	return strings.Repeat(row+",", n-1) + row
}

// The log's statements; each %s is a VALUES list.
const (
	sqlInsEntries = `INSERT INTO entries (id, session, seq, at, kind, author_kind, author, author_name, client_id, text, staff, note, params)
VALUES %s`

	// Full tails become chunks.
	sqlSealTails = `INSERT INTO entry_chunks (session, first_seq, last_seq, pairs) VALUES %s`

	// Each extended session moves its seq and message times forward, never
	// backward, and takes its new tail.
	sqlFlushLogs = `INSERT INTO session_logs (session, seq, last_visitor, last_agent, tail) VALUES %s
ON CONFLICT (session) DO UPDATE SET seq = max(seq, excluded.seq), last_visitor = max(last_visitor, excluded.last_visitor),
	last_agent = max(last_agent, excluded.last_agent), tail = excluded.tail`

	sqlMaxEntryID = `SELECT coalesce(max(id), 0) FROM entries`

	sqlDataVersion = `PRAGMA data_version`

	sqlSetThrough = `UPDATE meta SET value = ? WHERE key = 'logs_through'`

	// Sessions a batch extends that the cache does not know, read before
	// the batch changes them.
	sqlLogStates = `SELECT s.id, max(s.seq, coalesce(l.seq, 0)), l.tail
FROM sessions s LEFT JOIN session_logs l ON l.session = s.id
WHERE s.id IN (SELECT value FROM json_each(?))`
)

func (c *multiRow) init(width int, query string) {
	c.width = width
	for i, n := range stmtRows {
		c.stmts[i].sql = fmt.Sprintf(query, valuesSQL(width, n))
	}
}

// execRows runs c over args, which holds whole rows of c.width values.
func (a *applier) execRows(c *multiRow, args []any) error {
	for len(args) > 0 {
		rows := len(args) / c.width
		i := 0
		for stmtRows[i] > rows {
			i++
		}
		n := stmtRows[i] * c.width
		if err := a.exec(&c.stmts[i], args[:n]...); err != nil {
			return err
		}
		args = args[n:]
	}
	return nil
}

// loadLogStates makes sure the cache knows, as of before the batch, every
// session whose log the batch extends, and where entry ids continue.
func (a *applier) loadLogStates(effects []chat.Effect) error {
	if a.seen == nil {
		a.seen = make(map[chat.SessionID]bool)
	}
	seen, sids := a.seen, a.sids
	defer func() { a.sids = sids }()
	for _, e := range effects {
		if e, ok := e.(chat.EntryAdded); ok && !seen[e.Session] {
			seen[e.Session] = true
			if a.cache.states[e.Session] == nil {
				sids = append(sids, string(e.Session))
			}
		}
	}
	if len(seen) == 0 {
		return nil
	}
	// Another connection's commit may have changed what the cache holds.
	v, err := a.queryInt64(&a.st.dataVersion)
	if err != nil {
		return err
	}
	if v != a.cache.dataVersion || len(a.cache.states)+len(sids) > maxCachedLogs {
		a.cache.forget()
		a.cache.dataVersion = v
		sids = sids[:0]
		for sid := range seen {
			sids = append(sids, string(sid))
		}
	}
	if a.nextID = a.cache.nextID; a.nextID == 0 {
		last, err := a.queryInt64(&a.st.maxEntryID)
		if err != nil {
			return err
		}
		a.nextID = last + 1
	}
	// A cache read afresh first gathers the entries the session rows do not
	// hold: this writer's own from before (it forgot them), another's, or
	// those of a run that stopped before it wrote the rows.
	var fold []unflushedEntry
	if !a.cache.folded {
		// Fewer than flushAt and a batch, unless the writer stopped in between.
		if fold, err = unflushedEntries(a.ctx, a.c, ""); err != nil {
			return err
		}
		for _, u := range fold {
			if !seen[u.sid] && a.cache.states[u.sid] == nil {
				seen[u.sid] = true
				sids = append(sids, string(u.sid))
			}
		}
	}
	if err := a.readLogStates(sids); err != nil {
		return err
	}
	for _, u := range fold {
		st := a.cache.states[u.sid]
		if st == nil || !st.exists {
			return fmt.Errorf("entry %d of session %s, which is not stored", u.id, u.sid)
		}
		st.add(uint64(u.seq), u.id, u.kind, u.at)
		a.cache.markDirty(u.sid, st)
		a.cache.unflushed++
	}
	a.cache.folded = true
	return nil
}

// readLogStates adds sids, which the cache does not hold, as their rows say.
func (a *applier) readLogStates(sids []string) error {
	if len(sids) == 0 {
		return nil
	}
	for _, sid := range sids {
		a.cache.states[chat.SessionID(sid)] = &logState{}
	}
	var row [3]driver.Value
	return a.query(&a.st.logStates, row[:], func() error {
		id, ok1 := row[0].(string)
		seq, ok2 := row[1].(int64)
		var tail []byte
		switch t := row[2].(type) {
		case []byte:
			tail = t
		case string:
			tail = []byte(t)
		case nil:
		default:
			ok2 = false
		}
		if !ok1 || !ok2 {
			return fmt.Errorf("session log row of types %T, %T, %T", row[0], row[1], row[2])
		}
		st := a.cache.states[chat.SessionID(id)]
		if st == nil {
			return nil
		}
		st.exists, st.lastSeq = true, uint64(seq)
		var err error
		if st.tail, err = decodeTail(tail); err != nil {
			return fmt.Errorf("session %s: %w", id, err)
		}
		return nil
	}, string(appendJSONStrings(nil, sids)))
}

// entry checks and numbers an entry and queues it for insertion.
func (a *applier) entry(sid chat.SessionID, en *chat.Entry) error {
	st := a.cache.states[sid]
	switch {
	case sid == "" || en.Seq == 0:
		return errors.New("entry without session or seq")
	case st == nil || !st.exists:
		return fmt.Errorf("entry %d of session %s, which is not stored", en.Seq, sid)
	case en.Seq <= st.lastSeq:
		// Also what refuses a second entry with the same (session, seq).
		return fmt.Errorf("entry %d of session %s does not follow seq %d", en.Seq, sid, st.lastSeq)
	}
	if en.File != nil {
		if _, err := a.c.ExecContext(a.ctx, attachSQL, int64(en.Seq), en.File.ID, string(sid)); err != nil {
			return err
		}
	}
	id := a.nextID
	a.nextID++
	a.pending = append(a.pending, pendingEntry{id: id, sid: sid, e: *en})
	st.add(en.Seq, id, en.AuthorKind, nanos(en.At))
	a.cache.markDirty(sid, st)
	a.cache.unflushed++
	return nil
}

// insertEntries writes the queued entries. Apply calls it at the end, and
// before it reads a log (for a transcript).
func (a *applier) insertEntries() error {
	if len(a.pending) == 0 {
		return nil
	}
	args := a.args[:0]
	for i := range a.pending {
		p := &a.pending[i]
		e := &p.e
		args = append(args, p.id, string(p.sid), int64(e.Seq), nanos(e.At), e.Kind, e.AuthorKind, int64(e.Author),
			e.AuthorName, e.ClientID, e.Text, boolInt(e.Staff), e.Note, EncodeEntryParams(e))
	}
	a.args = args
	if err := a.execRows(&a.st.insEntries, args); err != nil {
		return err
	}
	a.pending = a.pending[:0]
	return nil
}

// flushLogs writes the row of every session that is behind, sealing full
// tails into chunks, and moves logs_through to the last entry: once flushAt
// entries have gathered (see "How session logs are kept").
func (a *applier) flushLogs() error {
	// Only a batch with entries brings unflushed to flushAt (every batch
	// that does writes the rows), so nextID is known here.
	if a.cache.unflushed < flushAt {
		return nil
	}
	dirty := a.cache.dirty
	// In key order: neighbouring rows together, and a stable order.
	slices.Sort(dirty)
	seals, logs := a.args[:0], a.logs[:0]
	// The tails are encoded into one buffer, kept for the next batch: the
	// driver copies a value when it binds it.
	tails := a.tails[:0]
	if tails == nil {
		tails = make([]byte, 0, 1024) // an empty tail is an empty blob, not NULL
	}
	tail := func(pairs []tailPair) []byte {
		n := len(tails)
		tails = appendTail(tails, pairs)
		return tails[n:len(tails):len(tails)]
	}
	for _, sid := range dirty {
		st := a.cache.states[sid]
		if len(st.tail) >= chunkAt {
			seals = append(seals, string(sid), int64(st.tail[0].seq), int64(st.tail[len(st.tail)-1].seq), tail(st.tail))
			st.tail = st.tail[:0]
		}
		logs = append(logs, string(sid), int64(st.lastSeq), st.lastVisitor, st.lastAgent, tail(st.tail))
		st.dirty = false
		if st.ended {
			delete(a.cache.states, sid)
		}
	}
	a.cache.dirty, a.cache.unflushed = dirty[:0], 0
	a.args, a.logs, a.tails = seals, logs, tails
	if err := a.execRows(&a.st.sealTails, seals); err != nil {
		return err
	}
	if err := a.execRows(&a.st.flushLogs, logs); err != nil {
		return err
	}
	return a.exec(&a.st.setThrough, a.nextID-1)
}

// appendJSONStrings writes a JSON array of strings.
func appendJSONStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString writes s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s) // rare: escapes or non-ASCII
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
