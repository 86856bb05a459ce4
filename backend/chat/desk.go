package chat

import (
	"slices"
	"sort"
	"time"
)

// Config holds the desk-wide timers.
type Config struct {
	// Grace: an owner (or a transfer's receiver) who goes Offline keeps the
	// chat this long before it returns to the queue (or the transfer is voided).
	Grace time.Duration
	// IdleEnd: an active chat with no message for this long is ended.
	IdleEnd time.Duration
	// QueueLeave: a waiting visitor whose last connection closed this long ago
	// has left; the chat is closed from the queue.
	QueueLeave time.Duration
	// KeepEnded: ended chats stay listed this long (the "last 8 hours").
	KeepEnded time.Duration
	// MaxEnded caps how many ended chats the desk holds for agents' lists;
	// past it the oldest are forgotten first (their logs stay in the store).
	// Chats that ended unanswered, on nobody's list, are forgotten at once.
	// Zero: no cap.
	MaxEnded int
	// MaxWaiting caps the waiting chats per channel: past it the channel is
	// busy, and new visitors get the offline form. Zero: no cap.
	MaxWaiting int
	// HandOff: every new request and request change is also handed to an
	// external help desk (the relay's webhook); the store queues it with
	// the change.
	HandOff bool
}

// DefaultConfig is what a relay uses unless configured otherwise.
func DefaultConfig() Config {
	return Config{Grace: 60 * time.Second, IdleEnd: 30 * time.Minute, QueueLeave: 2 * time.Minute, KeepEnded: 8 * time.Hour,
		MaxEnded: 1000, MaxWaiting: 100}
}

// Snapshot is what the store hands a desk at start.
type Snapshot struct {
	Channels  []Channel
	Agents    []Agent
	Sessions  []Session  // queued, active, and ended within KeepEnded
	Transfers []Transfer // pending ones and those of the last day
	// Recent client message ids per session, oldest first, for deduplication.
	Recent       map[SessionID][]RecentID
	NextTransfer TransferID
	NextRequest  int64
	// Requests not closed, which the desk follows.
	Requests []Request
	// ChatsToday counts sessions created since midnight, per channel.
	ChatsToday map[ChannelID]int
}

// RecentID is a client message id already stored, with its seq.
type RecentID struct {
	AuthorKind string
	Author     AgentID
	ClientID   string
	Seq        uint64
}

// Desk holds the live state of every channel, agent and ongoing session.
type Desk struct {
	cfg       Config
	channels  map[ChannelID]*Channel
	agents    map[AgentID]*Agent
	sessions  map[SessionID]*Session
	transfers map[TransferID]*Transfer // pending, and recent for figures
	queues    map[ChannelID][]*Session // queued sessions, by Rank
	load      map[AgentID]int          // active chats owned
	stats     map[ChannelID]*dayStats
	recent    []TransferID // resolved transfers, newest last, for the dashboard
	// ended lists the ended chats held for agents' lists, oldest first;
	// unlisted those that ended on nobody's list, to forget at the next tick.
	ended    []SessionID
	unlisted []SessionID

	lastRank     int64
	nextTransfer TransferID
	nextRequest  int64
	requests     map[int64]*Request // not closed
}

type dayStats struct {
	day       string
	chats     int
	transfers map[TransferState]int
	takeovers int
	waits     []time.Duration // recent waits until answered
}

const keepWaits = 20

// count adds a resolved transfer, or a take-over, to the day's figures.
func (st *dayStats) count(t *Transfer) {
	if t.Kind == KindTakeover {
		st.takeovers++
		return
	}
	st.transfers[t.State]++
}

// New makes a desk from a snapshot; now is when it comes up. Every agent
// starts Offline, as of now, so owners get their grace period to reconnect
// after a relay restart.
func New(cfg Config, snap Snapshot, now time.Time) *Desk {
	d := &Desk{
		cfg:          cfg,
		channels:     make(map[ChannelID]*Channel),
		agents:       make(map[AgentID]*Agent),
		sessions:     make(map[SessionID]*Session),
		transfers:    make(map[TransferID]*Transfer),
		queues:       make(map[ChannelID][]*Session),
		load:         make(map[AgentID]int),
		stats:        make(map[ChannelID]*dayStats),
		nextTransfer: max(snap.NextTransfer, 1),
		nextRequest:  max(snap.NextRequest, 1),
		requests:     make(map[int64]*Request),
	}
	for i := range snap.Requests {
		r := snap.Requests[i]
		if r.State != RequestClosed {
			d.requests[r.Number] = &r
			d.nextRequest = max(d.nextRequest, r.Number+1)
		}
	}
	for i := range snap.Channels {
		c := snap.Channels[i]
		d.channels[c.ID] = &c
	}
	for i := range snap.Agents {
		a := snap.Agents[i]
		a.Conns = 0
		a.OfflineSince = now
		if a.Chosen == Offline {
			a.Chosen = Present
		}
		d.agents[a.ID] = &a
	}
	for i := range snap.Sessions {
		s := snap.Sessions[i]
		s.VisitorConns = 0
		if s.VisitorGoneAt.IsZero() || s.VisitorGoneAt.Before(now) {
			s.VisitorGoneAt = now
		}
		for _, r := range snap.Recent[s.ID] {
			s.recent.put(senderKey(r.AuthorKind, r.Author, r.ClientID), r.Seq)
		}
		d.sessions[s.ID] = &s
		switch s.State {
		case Queued:
			d.enqueue(&s)
		case Active:
			d.load[s.Owner]++
		}
		d.lastRank = max(d.lastRank, s.Rank)
	}
	d.loadEnded()
	for i := range snap.Transfers {
		t := snap.Transfers[i]
		if t.State == TransferPending {
			t.ReceiverGoneAt = now
		}
		d.transfers[t.ID] = &t
		if t.State != TransferPending { // take-overs too: the dashboard lists both
			d.recent = append(d.recent, t.ID)
		}
		d.nextTransfer = max(d.nextTransfer, t.ID+1)
	}
	sort.Slice(d.recent, func(i, j int) bool { return d.recent[i] < d.recent[j] })
	for c, n := range snap.ChatsToday {
		d.statsFor(c, now).chats = n
	}
	for _, t := range d.transfers {
		if t.State != TransferPending && d.dayKey(t.Channel, t.Ended) == d.dayKey(t.Channel, now) {
			d.statsFor(t.Channel, now).count(t)
		}
	}
	return d
}

// Config returns the desk's timers.
func (d *Desk) Config() Config { return d.cfg }

// effects collects what one command caused.
type effects struct{ list []Effect }

func (e *effects) add(x Effect) { e.list = append(e.list, x) }

// --- lookups -------------------------------------------------------------

func (d *Desk) session(id SessionID) (*Session, *Error) {
	s, ok := d.sessions[id]
	if !ok {
		return nil, refuse(codeNotFound, "no session %q", id)
	}
	return s, nil
}

func (d *Desk) agent(id AgentID) (*Agent, *Error) {
	a, ok := d.agents[id]
	if !ok || a.Disabled {
		return nil, refuse(codeForbidden, "agent %d is not known or disabled", id)
	}
	return a, nil
}

func (d *Desk) name(id AgentID) string {
	if a, ok := d.agents[id]; ok {
		return a.Name
	}
	return "an agent"
}

// sessionFor looks up a session and the agent acting on it.
func (d *Desk) sessionFor(id SessionID, a AgentID) (*Session, *Agent, *Error) {
	s, err := d.session(id)
	if err != nil {
		return nil, nil, err
	}
	ag, err := d.agent(a)
	if err != nil {
		return nil, nil, err
	}
	return s, ag, nil
}

// Agent returns a copy of an agent, or false.
func (d *Desk) Agent(id AgentID) (Agent, bool) {
	a, ok := d.agents[id]
	if !ok {
		return Agent{}, false
	}
	return *a, true
}

// Session returns a copy of a session, or false.
func (d *Desk) Session(id SessionID) (Session, bool) {
	s, ok := d.sessions[id]
	if !ok {
		return Session{}, false
	}
	return s.Clone(), true
}

// Transfer returns a copy of a transfer, or false.
func (d *Desk) Transfer(id TransferID) (Transfer, bool) {
	t, ok := d.transfers[id]
	if !ok {
		return Transfer{}, false
	}
	return *t, true
}

// Channel returns a copy of a channel, or false.
func (d *Desk) Channel(id ChannelID) (Channel, bool) {
	c, ok := d.channels[id]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}

// Load is the number of active chats an agent owns.
func (d *Desk) Load(id AgentID) int { return d.load[id] }

// --- participants --------------------------------------------------------

// Recipients lists the agents who receive a session's log live: the owner,
// the listeners and the receiver of a pending transfer.
func (d *Desk) Recipients(s *Session) []AgentID {
	return d.appendRecipients(make([]AgentID, 0, 2+len(s.Listeners)), s)
}

func (d *Desk) appendRecipients(out []AgentID, s *Session) []AgentID {
	n := len(out)
	if s.Owner != 0 {
		out = append(out, s.Owner)
	}
	out = append(out, s.Listeners...)
	if t := d.transfers[s.Pending]; t != nil && s.Pending != 0 && !slices.Contains(out[n:], t.To) {
		out = append(out, t.To)
	}
	return out
}

// RecipientsOf is Recipients by id.
func (d *Desk) RecipientsOf(id SessionID) []AgentID {
	return d.AppendRecipientsOf(nil, id)
}

// AppendRecipientsOf appends RecipientsOf(id) to dst: a caller that reuses
// dst for every message allocates nothing.
func (d *Desk) AppendRecipientsOf(dst []AgentID, id SessionID) []AgentID {
	s, ok := d.sessions[id]
	if !ok {
		return dst
	}
	return d.appendRecipients(dst, s)
}

// involved is everyone told of a session change: recipients plus the starter
// of a pending transfer.
func (d *Desk) involved(s *Session) []AgentID {
	out := d.Recipients(s)
	if t := d.transfers[s.Pending]; t != nil && s.Pending != 0 {
		out = appendUnique(out, t.By)
	}
	return out
}

func appendUnique(list []AgentID, ids ...AgentID) []AgentID {
	for _, id := range ids {
		if id != 0 && !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	return list
}

func removeID(list []AgentID, id AgentID) []AgentID {
	return slices.DeleteFunc(list, func(x AgentID) bool { return x == id })
}

// changed records a session change, telling those involved before and after.
func (d *Desk) changed(e *effects, s *Session, before []AgentID) {
	e.add(SessionChanged{Session: s.Clone(), Notify: appendUnique(before, d.involved(s)...)})
}

// staffNote appends a transfer line only agents see: a code and whom it
// names, never a sentence.
func (d *Desk) staffNote(e *effects, s *Session, now time.Time, code string, p NoteParams) {
	d.addNote(e, s, Entry{At: now, Note: code, Params: p, Staff: true})
}

// notice appends a system line the visitor sees, with its code and the
// agent it is about (if any, by name only) so that clients can word it.
func (d *Desk) notice(e *effects, s *Session, now time.Time, code string, about AgentID) {
	n := Entry{At: now, Note: code}
	if about != 0 {
		n.AuthorName = d.agentName(about)
		n.Params.Agent = Party{Name: n.AuthorName}
	}
	d.addNote(e, s, n)
}

// party names an agent in a staff line; an unknown agent keeps the id and
// no name (clients say "an agent").
func (d *Desk) party(id AgentID) Party {
	if id == 0 {
		return Party{}
	}
	return Party{ID: id, Name: d.agentName(id)}
}

// agentName is the agent's name, empty when the desk does not know them.
func (d *Desk) agentName(id AgentID) string {
	if a, ok := d.agents[id]; ok {
		return a.Name
	}
	return ""
}

func (d *Desk) addNote(e *effects, s *Session, n Entry) {
	s.Seq++
	n.Seq, n.Kind, n.AuthorKind = s.Seq, KindNote, BySystem
	e.add(EntryAdded{Session: s.ID, Channel: s.Channel, Entry: n})
}

func (d *Desk) setLoad(e *effects, id AgentID, delta int) {
	if id == 0 {
		return
	}
	d.load[id] += delta
	if d.load[id] <= 0 {
		delete(d.load, id)
	}
	d.agentChanged(e, id)
}

func (d *Desk) agentChanged(e *effects, id AgentID) {
	a, ok := d.agents[id]
	if !ok {
		return
	}
	e.add(AgentChanged{Agent: id, Status: a.Status(), Chosen: a.Chosen, Load: d.load[id]})
}

// --- queue ---------------------------------------------------------------

func (d *Desk) nextRank(now time.Time) int64 {
	r := max(now.UnixNano(), d.lastRank+1)
	d.lastRank = r
	return r
}

// enqueue puts a session in its channel's queue, by rank.
func (d *Desk) enqueue(s *Session) {
	q := d.queues[s.Channel]
	i := sort.Search(len(q), func(i int) bool { return queueLess(s, q[i]) })
	d.queues[s.Channel] = slices.Insert(q, i, s)
}

// joined is the news of a session that was just enqueued: where it stands
// is part of it.
func (d *Desk) joined(s *Session) QueueChanged {
	w := Waiting{Session: s.ID, Visitor: s.Visitor.Name, Question: s.Question, Since: s.QueuedAt, Rank: s.Rank,
		Position: slices.Index(d.queues[s.Channel], s) + 1}
	return QueueChanged{Channel: s.Channel, Added: []Waiting{w}}
}

// left is the news of a session that was just dequeued.
func left(s *Session) QueueChanged {
	return QueueChanged{Channel: s.Channel, Removed: []SessionID{s.ID}}
}

func (d *Desk) dequeue(s *Session) {
	d.queues[s.Channel] = slices.DeleteFunc(d.queues[s.Channel], func(x *Session) bool { return x == s })
}

func queueLess(a, b *Session) bool {
	if a.Rank != b.Rank {
		return a.Rank < b.Rank
	}
	return a.ID < b.ID
}

// Queue lists a channel's waiting sessions, first to be served first.
func (d *Desk) Queue(c ChannelID) []Session {
	q := d.queues[c]
	out := make([]Session, len(q))
	for i, s := range q {
		out[i] = s.Clone()
	}
	return out
}

// Position is a waiting session's place in its queue (1 = next) and an
// estimate of the wait, or 0 when it is not waiting.
func (d *Desk) Position(id SessionID, now time.Time) (int, time.Duration) {
	s, ok := d.sessions[id]
	if !ok || s.State != Queued {
		return 0, 0
	}
	pos := slices.Index(d.queues[s.Channel], s) + 1
	return pos, d.estimate(s.Channel, pos, now)
}

// estimate: the average of recent waits in the channel, stretched by the
// position and shared among the Present agents who may answer.
func (d *Desk) estimate(c ChannelID, pos int, now time.Time) time.Duration {
	return d.Estimator(c, now)(pos)
}

// Estimator returns the wait estimate by position in a channel's queue,
// worked out once for telling a whole queue where each one stands.
func (d *Desk) Estimator(c ChannelID, now time.Time) func(pos int) time.Duration {
	avg := time.Minute
	if st := d.statsAt(c, now); len(st.waits) > 0 {
		var sum time.Duration
		for _, w := range st.waits {
			sum += w
		}
		avg = sum / time.Duration(len(st.waits))
	}
	agents := time.Duration(max(d.presentResponders(c), 1))
	return func(pos int) time.Duration { return avg * time.Duration(pos) / agents }
}

func (d *Desk) presentResponders(c ChannelID) int {
	n := 0
	for _, a := range d.agents {
		if a.Status() == Present && a.Can(c, PermRespond) {
			n++
		}
	}
	return n
}

// Open reports whether a channel takes chats now: within its hours, with
// somebody Present who may respond, and a queue that is not full.
func (d *Desk) Open(c ChannelID, now time.Time) bool {
	ch, ok := d.channels[c]
	return ok && ch.Hours.OpenAt(now) && d.presentResponders(c) > 0 && !d.Busy(c)
}

// Busy reports whether a channel's queue is full (MaxWaiting): new visitors
// are sent to the offline form as if nobody were there.
func (d *Desk) Busy(c ChannelID) bool {
	return d.cfg.MaxWaiting > 0 && len(d.queues[c]) >= d.cfg.MaxWaiting
}

// --- figures -------------------------------------------------------------

func (d *Desk) dayKey(c ChannelID, t time.Time) string {
	var h Hours // no channel: UTC
	if ch, ok := d.channels[c]; ok {
		h = ch.Hours
	}
	return h.local(t).Format("2006-01-02")
}

func (d *Desk) statsFor(c ChannelID, now time.Time) *dayStats {
	key := d.dayKey(c, now)
	st := d.stats[c]
	if st == nil {
		st = &dayStats{day: key, transfers: make(map[TransferState]int)}
		d.stats[c] = st
	}
	if st.day != key {
		st.day, st.chats, st.transfers = key, 0, make(map[TransferState]int)
	}
	return st
}

// statsAt reads a channel's figures for now's day without changing the desk
// (statsFor starts a new day in place): views may run side by side, under a
// read lock. A day without figures yet reads as zeros; recent waits carry over.
func (d *Desk) statsAt(c ChannelID, now time.Time) dayStats {
	st := d.stats[c]
	switch {
	case st == nil:
		return dayStats{}
	case st.day != d.dayKey(c, now):
		return dayStats{waits: st.waits}
	}
	return *st
}

func (d *Desk) recordWait(c ChannelID, now time.Time, w time.Duration) {
	st := d.statsFor(c, now)
	st.waits = append(st.waits, w)
	if len(st.waits) > keepWaits {
		st.waits = st.waits[len(st.waits)-keepWaits:]
	}
}
