package chat

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzDesk drives a desk with a sequence of commands decoded from the input
// and checks the desk's invariants after every one of them.
func FuzzDesk(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &byteReader{data: data}
		h := newHarness(t, in.next())
		// Stories that break something are short; a cap keeps each run
		// cheap, which makes the fuzzer's minimisation quick too.
		for step := 0; !in.done() && step < 150; step++ {
			h.step(in)
			if step%4 == 3 || in.done() {
				h.checkViews() // reads only; costly, so not after every step
			}
			if t.Failed() {
				t.Fatalf("after step %d:\n%s", step, h.trace())
			}
		}
	})
}

// Operations, one byte each, followed by their argument bytes.
const (
	opStart         byte = iota // channel
	opPick                      // agent, session
	opNext                      // agent
	opSend                      // agent, session, client id, text
	opVisitorSend               // session, client id, text
	opEnd                       // agent, session
	opVisitorEnd                // session
	opLeave                     // agent, session
	opListen                    // agent, session
	opTakeOver                  // agent, session
	opTransfer                  // agent, session, target agent
	opTransferQueue             // agent, session
	opAccept                    // agent, transfer
	opReject                    // agent, transfer
	opCancel                    // agent, transfer
	opConnect                   // agent
	opDisconnect                // agent
	opStatus                    // agent, status
	opTick                      // how long
	opVisitorConn               // session, attach or detach
	opDirectory                 // agent, permissions in support, disabled: an admin change applied in place
	opCount
)

var (
	fuzzAgents = []AgentID{A, B, C, M, L, N, 99}
	fuzzSteps  = []time.Duration{0, time.Second, 5 * time.Second, 30 * time.Second, 59 * time.Second, time.Minute,
		61 * time.Second, 2 * time.Minute, 5 * time.Minute, 31 * time.Minute, 8 * time.Hour}
	fuzzTexts = []string{"hello", "", "  ", "a longer line of text\nwith a second line"}
)

// Readable seeds: typical stories, so the fuzzer starts from deep states.
// The first byte picks the configuration (see newHarness); 0 is the usual one.
var fuzzSeeds = [][]byte{
	// A picks, both write, a resend, transfer to B, accept, A tries to write and leaves.
	{0, opStart, 0, opPick, 0, 0, opVisitorSend, 0, 1, 0, opSend, 0, 0, 2, 0, opSend, 0, 0, 2, 0,
		opTransfer, 0, 0, 1, opSend, 1, 0, 3, 0, opAccept, 1, 1, opSend, 0, 0, 4, 0, opSend, 1, 0, 4, 0,
		opLeave, 0, 0, opSend, 0, 0, 5, 0},
	// Transfer to the queue; the receiver drops; time passes past grace.
	{0, opStart, 0, opStart, 0, opPick, 0, 0, opPick, 1, 1, opTransferQueue, 0, 0, opDisconnect, 2,
		opTick, 6, opTick, 6, opAccept, 2, 1},
	// The owner drops; the chat returns to the head of the queue; Next takes it.
	{0, opStart, 0, opPick, 0, 0, opStart, 0, opDisconnect, 0, opTick, 5, opNext, 1, opSend, 1, 0, 1, 0},
	// A supervisor listens, transfers on behalf, is cancelled, then takes over.
	{0, opStart, 0, opPick, 0, 0, opListen, 3, 0, opTransfer, 3, 0, 1, opCancel, 0, 1, opCancel, 3, 1,
		opTransfer, 3, 0, 2, opTakeOver, 3, 0, opSend, 3, 0, 1, 0, opEnd, 4, 0, opEnd, 3, 0},
	// Expiry, reject, void by the visitor ending, warnings, idle end, queue leave.
	{0, opStart, 0, opPick, 0, 0, opTransfer, 0, 0, 1, opTick, 7, opTransfer, 0, 0, 1, opReject, 1, 2,
		opTransfer, 0, 0, 2, opVisitorEnd, 0, opStart, 1, opStart, 0, opTick, 8, opVisitorConn, 2, 1,
		opTick, 7, opNext, 2, opTick, 9, opTick, 10},
	// Presence: two connections, Away, back.
	{0, opConnect, 0, opStart, 0, opPick, 0, 0, opDisconnect, 0, opTick, 6, opStatus, 1, 1, opStatus, 2, 1,
		opTransferQueue, 0, 0, opStatus, 1, 0, opTransferQueue, 0, 0, opDisconnect, 0, opTick, 6},
	// Zero grace, no transfer timeout, a supervisor who also answers.
	{1 | 2 | 16, opStart, 0, opPick, 0, 0, opTransferQueue, 3, 0, opDisconnect, 0, opTick, 0, opTick, 10},
	// A listener loses listen; a receiver loses respond; an owner is disabled.
	{0, opStart, 0, opPick, 0, 0, opListen, 4, 0, opTransfer, 0, 0, 1, opDirectory, 4, 0, 1,
		opDirectory, 1, 2, 1, opDirectory, 0, 1, 0, opSend, 0, 0, 1, 0, opDisconnect, 0, opTick, 6},
	// Short opening hours, no idle or queue-leave timers, warnings off.
	{4 | 8 | 32, opStart, 0, opStart, 0, opTick, 8, opStart, 0, opPick, 0, 0, opTick, 10, opNext, 1},
}

type byteReader struct {
	data []byte
	pos  int
}

func (r *byteReader) done() bool { return r.pos >= len(r.data) }

func (r *byteReader) next() byte {
	if r.done() {
		return 0
	}
	b := r.data[r.pos]
	r.pos++
	return b
}

// harness is a desk plus what the fuzz test remembers to check it.
type harness struct {
	t        *testing.T
	d        *Desk
	now      time.Time
	sessions []SessionID
	lastSeq  map[SessionID]uint64
	// stored remembers the seq of every accepted message, by sender and client id.
	stored map[string]uint64
	log    []string
	// dir is the directory as an administrator left it (opDirectory).
	dir Snapshot
}

// newHarness makes a desk; the bits of variant change its configuration so
// the zero values (timers off) are explored too.
func newHarness(t *testing.T, variant byte) *harness {
	cfg, snap := testConfig(), testSnapshot()
	sup := &snap.Channels[0]
	if variant&1 != 0 {
		cfg.Grace = 0
	}
	if variant&2 != 0 {
		sup.TransferTimeout = 0
	}
	if variant&4 != 0 {
		cfg.IdleEnd, cfg.QueueLeave, cfg.KeepEnded = 0, 0, 0
	}
	if variant&8 != 0 {
		sup.WarnAfter, sup.ManagerWarnAfter = 0, 0
	}
	if variant&16 != 0 {
		snap.Agents[3].Perms[support] |= PermRespond // Mia answers too
	}
	if variant&32 != 0 {
		sup.Hours, _ = ParseHours("mon 10:00-10:05; tue 09:00-17:00", nil) // t0 is Monday 10:00
	}
	h := &harness{t: t, d: New(cfg, snap, t0), now: t0,
		lastSeq: map[SessionID]uint64{}, stored: map[string]uint64{}, dir: snap}
	for _, a := range fuzzAgents[:6] {
		h.d.Connect(h.now, a)
	}
	return h
}

func (h *harness) trace() string {
	out := ""
	for _, l := range h.log {
		out += "  " + l + "\n"
	}
	return out
}

func (h *harness) agent(in *byteReader) AgentID { return fuzzAgents[int(in.next())%len(fuzzAgents)] }

func (h *harness) session(in *byteReader) SessionID {
	b := in.next()
	if len(h.sessions) == 0 {
		return "nope"
	}
	return h.sessions[int(b)%len(h.sessions)]
}

func (h *harness) transfer(in *byteReader) TransferID {
	return TransferID(int(in.next()) % int(h.d.nextTransfer+1))
}

func (h *harness) step(in *byteReader) {
	op := in.next() % opCount
	before := dump(h.d)
	var (
		fx   []Effect
		err  *Error
		what string
	)
	switch op {
	case opStart:
		c := []ChannelID{support, sales}[in.next()%2]
		id := SessionID(fmt.Sprintf("v%03d", len(h.sessions)+1))
		fx, err = h.d.StartChat(h.now, id, c, "Vera", "vera@example.com", "Help?", "h")
		if err == nil {
			h.sessions = append(h.sessions, id)
		}
		what = fmt.Sprintf("StartChat(%s, %s)", id, c)
	case opPick:
		a, s := h.agent(in), h.session(in)
		fx, err = h.d.Pick(h.now, a, s)
		what = fmt.Sprintf("Pick(%d, %s)", a, s)
	case opNext:
		a := h.agent(in)
		var id SessionID
		fx, id, err = h.d.Next(h.now, a)
		what = fmt.Sprintf("Next(%d) = %s", a, id)
	case opSend, opVisitorSend:
		var a AgentID
		if op == opSend {
			a = h.agent(in)
		}
		s := h.session(in)
		cid := fmt.Sprintf("c%d", in.next()%8)
		text := fuzzTexts[int(in.next())%len(fuzzTexts)]
		fx, err = h.send(a, s, cid, text)
		what = fmt.Sprintf("Send(%d, %s, %s, %q)", a, s, cid, text)
	case opEnd:
		a, s := h.agent(in), h.session(in)
		fx, err = h.d.End(h.now, a, s)
		what = fmt.Sprintf("End(%d, %s)", a, s)
	case opVisitorEnd:
		s := h.session(in)
		fx, err = h.d.VisitorEnd(h.now, s)
		what = fmt.Sprintf("VisitorEnd(%s)", s)
	case opLeave:
		a, s := h.agent(in), h.session(in)
		fx, err = h.d.Leave(h.now, a, s)
		what = fmt.Sprintf("Leave(%d, %s)", a, s)
	case opListen:
		a, s := h.agent(in), h.session(in)
		fx, err = h.d.Listen(h.now, a, s)
		what = fmt.Sprintf("Listen(%d, %s)", a, s)
	case opTakeOver:
		a, s := h.agent(in), h.session(in)
		fx, _, err = h.d.TakeOver(h.now, a, s)
		what = fmt.Sprintf("TakeOver(%d, %s)", a, s)
	case opTransfer, opTransferQueue:
		a, s := h.agent(in), h.session(in)
		var to AgentID
		if op == opTransfer {
			to = h.agent(in)
		}
		var tid TransferID
		fx, tid, err = h.d.StartTransfer(h.now, a, s, to, op == opTransferQueue, "")
		what = fmt.Sprintf("StartTransfer(%d, %s, to %d, queue %v) = %d", a, s, to, op == opTransferQueue, tid)
	case opAccept, opReject, opCancel:
		a, tid := h.agent(in), h.transfer(in)
		name := map[byte]string{opAccept: "Accept", opReject: "Reject", opCancel: "Cancel"}[op]
		switch op {
		case opAccept:
			fx, err = h.d.Accept(h.now, a, tid)
		case opReject:
			fx, err = h.d.Reject(h.now, a, tid)
		case opCancel:
			fx, err = h.d.Cancel(h.now, a, tid)
		}
		what = fmt.Sprintf("%s(%d, %d)", name, a, tid)
	case opConnect:
		a := h.agent(in)
		fx, err = h.d.Connect(h.now, a)
		what = fmt.Sprintf("Connect(%d)", a)
	case opDisconnect:
		a := h.agent(in)
		fx = h.d.Disconnect(h.now, a)
		what = fmt.Sprintf("Disconnect(%d)", a)
	case opStatus:
		a := h.agent(in)
		st := []Status{Present, Away, Offline}[in.next()%3]
		fx, err = h.d.SetStatus(h.now, a, st)
		what = fmt.Sprintf("SetStatus(%d, %v)", a, st)
	case opTick:
		h.now = h.now.Add(fuzzSteps[int(in.next())%len(fuzzSteps)])
		fx = h.d.Tick(h.now)
		what = fmt.Sprintf("Tick(+%v) %s, again", h.now.Sub(t0), describe(fx))
		h.checkEntries(fx)
		// Each timer fires once: a second tick at the same instant may only
		// close a chat that the first put back in the queue and whose
		// visitor had already gone.
		fx = h.d.Tick(h.now)
		for _, e := range fx {
			if x, ok := e.(EntryAdded); ok && x.Entry.Note == NoteLeftQueue {
				continue
			}
			if _, ok := e.(EntryAdded); ok || isA[TransferChanged](e) || isA[Warned](e) {
				h.t.Errorf("a second tick at +%v: %s", h.now.Sub(t0), describe(fx))
				break
			}
		}
	case opDirectory:
		a := h.agent(in)
		perms, disabled := Perm(in.next()%16), in.next()%4 == 0
		for i := range h.dir.Agents {
			if ag := &h.dir.Agents[i]; ag.ID == a {
				ag.Perms = map[ChannelID]Perm{support: perms, sales: ag.Perms[sales]}
				ag.Disabled = disabled
			}
		}
		fx = h.d.ApplyDirectory(h.now, h.dir.Channels, h.dir.Agents)
		what = fmt.Sprintf("ApplyDirectory(%d: %v, disabled %v)", a, perms.Names(), disabled)
		for _, s := range h.d.sessions {
			for _, l := range s.Listeners {
				if s.State != Ended && !h.d.agents[l].CanWatch(s.Channel) && !h.d.agents[l].Can(s.Channel, PermRespond) {
					h.t.Errorf("%s: %d still listens to %s", what, l, s.ID)
				}
			}
		}
	case opVisitorConn:
		s := h.session(in)
		if in.next()%2 == 0 {
			h.d.VisitorAttach(h.now, s)
			what = fmt.Sprintf("VisitorAttach(%s)", s)
		} else {
			h.d.VisitorDetach(h.now, s)
			what = fmt.Sprintf("VisitorDetach(%s)", s)
		}
	}
	if err != nil {
		what += " -> " + string(err.Code)
	}
	h.log = append(h.log, what+" "+describe(fx))

	if err != nil {
		if fx != nil {
			h.t.Errorf("%s: refused with effects %s", what, describe(fx))
		}
		unchanged(h.t, before, h.d)
	}
	h.checkEntries(fx)
	h.checkInvariants()
}

func isA[T Effect](e Effect) bool {
	_, ok := e.(T)
	return ok
}

// checkViews: views change nothing, and the dashboard agrees with the queues.
func (h *harness) checkViews() {
	before := dump(h.d)
	for _, a := range []AgentID{A, C, M, L} {
		db := h.d.Dashboard(h.now, a)
		for _, c := range db.Channels {
			if c.Waiting != len(h.d.queues[ChannelID(c.Channel)]) {
				h.t.Errorf("dashboard of %d: %s waiting %d, queue holds %d", a, c.Channel, c.Waiting, len(h.d.queues[ChannelID(c.Channel)]))
			}
		}
		h.d.SessionsFor(a)
		h.d.QueueFor(a)
	}
	for _, id := range h.sessions {
		if pos, _ := h.d.Position(id, h.now); (pos > 0) != (h.d.sessions[id] != nil && h.d.sessions[id].State == Queued) {
			h.t.Errorf("%s: position %d", id, pos)
		}
		h.d.MayRead(B, id)
	}
	unchanged(h.t, before, h.d)
}

// send writes as an agent (a != 0) or the visitor, and checks who may:
// only the owner of an active chat and the visitor of an open one add a
// line; anyone else is refused, unless it is a resend of what they stored
// earlier, which returns that seq and changes nothing. A disabled agent is
// refused everything, resends included: the admin revoked them.
func (h *harness) send(a AgentID, id SessionID, cid, text string) ([]Effect, *Error) {
	t := h.t
	s := h.d.sessions[id]
	var mayWrite bool
	ag := h.d.agents[a]
	revoked := a != 0 && (ag == nil || ag.Disabled)
	if s != nil {
		if a == 0 {
			mayWrite = s.State != Ended
		} else {
			mayWrite = !revoked && s.State == Active && s.Owner == a
		}
	}
	key := fmt.Sprintf("%s/%d/%s", id, a, cid)
	var (
		fx  []Effect
		seq uint64
		dup bool
		err *Error
	)
	if a == 0 {
		fx, seq, dup, err = h.d.VisitorSend(h.now, id, cid, text)
	} else {
		fx, seq, dup, err = h.d.Send(h.now, a, id, cid, text)
	}
	prev, sent := h.stored[key]
	switch {
	case dup:
		if !sent || seq != prev || fx != nil || err != nil {
			t.Errorf("Send(%d, %s, %s): duplicate seq %d (stored: %v %d) effects %s err %v", a, id, cid, seq, sent, prev, describe(fx), err)
		}
	case err == nil:
		if !mayWrite {
			t.Errorf("Send(%d, %s): accepted from someone who may not write (owner %d, listeners %v)", a, id, s.Owner, s.Listeners)
		}
		if sent {
			t.Errorf("Send(%d, %s, %s): stored twice (%d, then %d)", a, id, cid, prev, seq)
		}
		if e := one[EntryAdded](t, fx); e.Entry.Seq != seq || e.Entry.ClientID != cid {
			t.Errorf("Send: entry %+v for seq %d", e.Entry, seq)
		}
		h.stored[key] = seq
	default:
		if sent && s != nil && !revoked {
			t.Errorf("Send(%d, %s, %s): a resend of seq %d was refused: %v", a, id, cid, prev, err)
		}
	}
	return fx, err
}

// checkEntries: per session, every new line takes the next seq.
func (h *harness) checkEntries(fx []Effect) {
	for _, e := range all[EntryAdded](fx) {
		if want := h.lastSeq[e.Session] + 1; e.Entry.Seq != want {
			h.t.Errorf("%s: entry seq %d, want %d", e.Session, e.Entry.Seq, want)
		}
		h.lastSeq[e.Session] = e.Entry.Seq
	}
	for id, s := range h.d.sessions {
		if s.Seq != h.lastSeq[id] {
			h.t.Errorf("%s: Seq %d, but the last entry told was %d", id, s.Seq, h.lastSeq[id])
		}
	}
}

func (h *harness) checkInvariants() {
	t, d := h.t, h.d
	owned := map[AgentID]int{}
	queued := map[ChannelID]int{}
	for id, s := range d.sessions {
		if l := slices.Clone(s.Listeners); len(slices.Compact(slices.Sorted(slices.Values(l)))) != len(s.Listeners) {
			t.Errorf("%s: listeners %v repeat", id, s.Listeners)
		}
		if s.Owner != 0 && s.IsListener(s.Owner) {
			t.Errorf("%s: owner %d also listens", id, s.Owner)
		}
		switch s.State {
		case Active:
			owner := d.agents[s.Owner]
			if owner == nil || !(owner.Can(s.Channel, PermRespond) || owner.Can(s.Channel, PermManage)) {
				t.Errorf("%s: active, owned by %d who may neither respond nor manage", id, s.Owner)
			}
			owned[s.Owner]++
		case Queued:
			queued[s.Channel]++
			if s.Owner != 0 {
				t.Errorf("%s: queued with owner %d", id, s.Owner)
			}
			if !slices.Contains(d.queues[s.Channel], s) {
				t.Errorf("%s: queued but not in the queue", id)
			}
		case Ended:
			// An ended chat keeps its last owner (for "recently completed"),
			// who no longer carries it.
		default:
			t.Errorf("%s: state %v", id, s.State)
		}
		if s.State != Active && s.Pending != 0 {
			t.Errorf("%s: %v with transfer %d pending", id, s.State, s.Pending)
		}
		if s.Pending != 0 {
			tr := d.transfers[s.Pending]
			if tr == nil || tr.State != TransferPending || tr.Session != id {
				t.Errorf("%s: Pending %d points at %+v", id, s.Pending, tr)
			} else if tr.To == s.Owner {
				t.Errorf("%s: transfer %d offered to the owner", id, tr.ID)
			}
		}
		rs := d.Recipients(s)
		if len(slices.Compact(slices.Sorted(slices.Values(rs)))) != len(rs) {
			t.Errorf("%s: recipients %v repeat", id, rs)
		}
	}
	for id, tr := range d.transfers {
		if tr.State != TransferPending {
			if tr.Ended.IsZero() {
				t.Errorf("transfer %d: %v without an end time", id, tr.State)
			}
			continue
		}
		if s := d.sessions[tr.Session]; s == nil || s.Pending != id {
			t.Errorf("transfer %d: pending, but its session does not point at it", id)
		}
	}
	for a, n := range d.load {
		if n <= 0 || owned[a] != n {
			t.Errorf("load of %d = %d, owns %d active chats", a, n, owned[a])
		}
	}
	for a, n := range owned {
		if d.load[a] != n {
			t.Errorf("agent %d owns %d active chats, load %d", a, n, d.load[a])
		}
	}
	for c, q := range d.queues {
		if len(q) != queued[c] {
			t.Errorf("queue %s holds %d, %d sessions are queued there", c, len(q), queued[c])
		}
		for i, s := range q {
			if s.State != Queued || s.Channel != c || d.sessions[s.ID] != s {
				t.Errorf("queue %s holds %s (%v in %s)", c, s.ID, s.State, s.Channel)
			}
			if i > 0 && !queueLess(q[i-1], s) {
				t.Errorf("queue %s out of order at %d", c, i)
			}
		}
	}
	for id, a := range d.agents {
		if a.Conns < 0 || (a.Conns == 0) != (a.Status() == Offline) {
			t.Errorf("agent %d: %d connections, %v", id, a.Conns, a.Status())
		}
	}
}

// The seed corpus runs as a plain test too; this checks the seeds reach the
// states they are meant to, so they keep exploring deep paths.
func TestFuzzSeedsReachDeepStates(t *testing.T) {
	t.Parallel()
	var accepted, queuedBack, takenOver bool
	for _, seed := range fuzzSeeds {
		in := &byteReader{data: seed}
		h := newHarness(t, in.next())
		for !in.done() {
			h.step(in)
		}
		h.checkViews()
		for _, tr := range h.d.transfers {
			accepted = accepted || (tr.State == TransferAccepted && tr.Kind == KindTransfer)
			takenOver = takenOver || tr.Kind == KindTakeover
		}
		for _, l := range h.log {
			queuedBack = queuedBack || strings.Contains(l, "EntryAdded("+NoteRequeued+" ")
		}
	}
	if !accepted || !queuedBack || !takenOver {
		t.Errorf("seeds reach: accept %v, requeue %v, take-over %v", accepted, queuedBack, takenOver)
	}
}
