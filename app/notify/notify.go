// Package notify decides which desktop notifications the desk shows and what
// they say. It is pure: fed the relay's welcome and events plus a few facts
// (status, muted, permissions), it returns notes; package notify/native puts
// them on screen.
//
// The rules: a transfer offered to the agent is always shown (it needs an
// answer before it expires); a new waiting chat and a waiting-too-long
// warning only while the agent is Present, has notify permission in that
// channel (manage for manager warnings), and has not muted the desk.
package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/wording"
)

// Kind of note.
type Kind string

const (
	KindTransfer Kind = "transfer"
	KindWaiting  Kind = "waiting"
	KindWarning  Kind = "warning"
)

// Action keys offered on a note (where the notification server can).
const (
	ActionAccept  = "accept"
	ActionOpen    = "open"
	ActionDefault = "default" // a click on the notification's body
)

// Note is one notification to show.
type Note struct {
	Kind     Kind
	Title    string
	Body     string
	Session  string
	Transfer int64    // KindTransfer
	Actions  []Action // in order
	Urgent   bool     // stays until dismissed where the server supports it
	// Key names what the note is about ("transfer:7", "waiting:s-…"): a
	// later note with the same key takes its place on screen.
	Key string
	// Withdraw: not a note to show but the end of the one shown under Key
	// (the transfer was resolved, someone took the chat).
	Withdraw bool
}

// Keys of the notes that can be withdrawn.
func transferKey(id int64) string      { return fmt.Sprintf("transfer:%d", id) }
func waitingKey(session string) string { return "waiting:" + session }
func warningKey(session string) string { return "warning:" + session }

// withdraw is the withdrawal of what is shown under key.
func withdraw(key string) Note { return Note{Key: key, Withdraw: true} }

// Action is a button on a note.
type Action struct{ Key, Label string }

// Facts are what the decisions depend on besides the event itself.
type Facts struct {
	Me     int64
	Status string // present, away
	Muted  bool
	Perms  map[string][]string // channel key -> respond, notify, listen, manage
	Lang   string              // en, sv
}

func (f Facts) can(channel, perm string) bool { return slices.Contains(f.Perms[channel], perm) }

// maxSingles: more new waiting chats than this at once make one summary.
const maxSingles = 3

// Decider remembers what it has already announced. Safe for concurrent use.
type Decider struct {
	mu        sync.Mutex
	names     map[string]string          // channel key -> name
	queues    map[string]map[string]bool // channel -> waiting sessions
	transfers map[int64]bool             // pending transfers already known
	// ended: how recent transfers ended ("cancelled", "expired", ...), so
	// that an Accept pressed on a stale notification can say what happened.
	ended map[int64]protocol.TransferInfo
}

// keepEnded bounds the transfers whose end is remembered.
const keepEnded = 64

// New returns an empty Decider.
func New() *Decider {
	return &Decider{names: map[string]string{}, queues: map[string]map[string]bool{}, transfers: map[int64]bool{},
		ended: map[int64]protocol.TransferInfo{}}
}

// Welcome takes in a (re)connection: what it lists is known, not news.
func (d *Decider) Welcome(w protocol.AgentWelcome) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range w.Channels {
		d.names[c.Key] = c.Name
	}
	d.queues = map[string]map[string]bool{}
	for _, q := range w.Queue {
		d.waitingLocked(q.Channel)[q.Session] = true
	}
	d.transfers = map[int64]bool{}
	for _, t := range w.Transfers {
		if t.State == protocol.TransferPending {
			d.transfers[t.ID] = true
		}
	}
}

func (d *Decider) waitingLocked(channel string) map[string]bool {
	m := d.queues[channel]
	if m == nil {
		m = map[string]bool{}
		d.queues[channel] = m
	}
	return m
}

// Event returns the notes an event calls for.
func (d *Decider) Event(f protocol.ServerFrame, facts Facts) []Note {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := texts(facts.Lang)
	switch f.Ev {
	case protocol.EvTransfer:
		var tr protocol.TransferInfo
		if json.Unmarshal(f.Data, &tr) != nil {
			return nil
		}
		if tr.State != protocol.TransferPending {
			d.remember(tr)
			if d.transfers[tr.ID] {
				delete(d.transfers, tr.ID)
				return []Note{withdraw(transferKey(tr.ID))}
			}
			return nil
		}
		if tr.To.ID != facts.Me || tr.Kind == "takeover" || d.transfers[tr.ID] {
			return nil
		}
		d.transfers[tr.ID] = true
		body := fmt.Sprintf(t.visitor, name(tr.Visitor))
		if c := strings.TrimSpace(tr.Comment); c != "" {
			body += "\n" + fmt.Sprintf(t.comment, c)
		}
		title := fmt.Sprintf(t.transferFrom, name(tr.From.Name))
		if tr.By.ID != 0 && tr.By.ID != tr.From.ID { // a manager hands on someone else's chat
			title = fmt.Sprintf(t.transferFor, name(tr.By.Name), name(tr.From.Name))
		}
		return []Note{{Kind: KindTransfer, Title: title, Body: body,
			Session: tr.Session, Transfer: tr.ID, Urgent: true, Key: transferKey(tr.ID),
			Actions: []Action{{ActionAccept, t.accept}, {ActionOpen, t.open}}}}

	case protocol.EvQueue:
		var q protocol.QueueEvent
		if json.Unmarshal(f.Data, &q) != nil {
			return nil
		}
		// The event says who joined and who left; a chat already known (the
		// welcome crossed the event) is not news.
		known := d.waitingLocked(q.Channel)
		var gone []Note // a chat no longer waiting: its notes are old news
		for _, id := range q.Removed {
			if known[id] {
				gone = append(gone, withdraw(waitingKey(id)), withdraw(warningKey(id)))
			}
			delete(known, id)
		}
		var fresh []protocol.QueueItem
		for _, it := range q.Added {
			if !known[it.Session] {
				known[it.Session] = true
				fresh = append(fresh, it)
			}
		}
		if len(fresh) == 0 || !d.chatty(facts, q.Channel, false) {
			return gone
		}
		if len(fresh) > maxSingles {
			return append(gone, Note{Kind: KindWaiting, Title: fmt.Sprintf(t.manyWaiting, len(fresh)), Body: d.channelName(q.Channel),
				Actions: []Action{{ActionOpen, t.open}}})
		}
		out := gone
		for _, it := range fresh {
			body := name(it.Visitor)
			if qs := strings.TrimSpace(it.Question); qs != "" {
				body += ": " + qs
			}
			out = append(out, Note{Kind: KindWaiting, Title: fmt.Sprintf(t.newWaiting, d.channelName(q.Channel)), Body: body,
				Session: it.Session, Key: waitingKey(it.Session), Actions: []Action{{ActionOpen, t.open}}})
		}
		return out

	case protocol.EvRequest:
		return d.request(f, facts)

	case protocol.EvWarning:
		var w protocol.WarningEvent
		if json.Unmarshal(f.Data, &w) != nil {
			return nil
		}
		mins := max(1, (w.Waited+30)/60)
		if w.Level == "manager" {
			if !d.chatty(facts, w.Channel, true) {
				return nil
			}
			return []Note{{Kind: KindWarning, Title: fmt.Sprintf(t.unanswered, name(w.Visitor), mins),
				Body: d.channelName(w.Channel), Session: w.Session, Key: warningKey(w.Session), Actions: []Action{{ActionOpen, t.open}}}}
		}
		if !d.chatty(facts, w.Channel, false) {
			return nil
		}
		return []Note{{Kind: KindWarning, Title: fmt.Sprintf(t.stillWaiting, mins),
			Body: fmt.Sprintf("%s · %s", name(w.Visitor), d.channelName(w.Channel)), Session: w.Session, Key: warningKey(w.Session),
			Actions: []Action{{ActionOpen, t.open}}}}
	}
	return nil
}

// remember keeps how a transfer ended, a bounded number of them. Caller
// holds d.mu.
func (d *Decider) remember(tr protocol.TransferInfo) {
	if len(d.ended) >= keepEnded {
		for id := range d.ended {
			if id < tr.ID {
				delete(d.ended, id)
				break
			}
		}
	}
	d.ended[tr.ID] = tr
}

// Stale says, in the desk's language, why a transfer offered in a
// notification can no longer be accepted: what became of it, and who did
// it when that is known.
func (d *Decider) Stale(transfer int64, lang string) string {
	d.mu.Lock()
	tr, known := d.ended[transfer]
	d.mu.Unlock()
	t := texts(lang)
	if !known {
		return t.staleUnknown
	}
	who := name(tr.From.Name)
	if tr.By.ID != 0 && tr.By.ID != tr.From.ID {
		who = name(tr.By.Name)
	}
	switch tr.State {
	case protocol.TransferCancelled:
		return fmt.Sprintf(t.staleCancelled, who, name(tr.Visitor))
	case protocol.TransferExpired:
		return fmt.Sprintf(t.staleExpired, name(tr.Visitor))
	case protocol.TransferAccepted:
		return fmt.Sprintf(t.staleAccepted, name(tr.Visitor))
	case protocol.TransferRejected:
		return fmt.Sprintf(t.staleRejected, name(tr.Visitor))
	}
	if tr.Reason != "" {
		// The reason is a code; one stored before codes existed is English.
		return fmt.Sprintf(t.staleVoidedWhy, name(tr.Visitor), wording.Reason(lang, tr.Reason, reasonAgent(tr)))
	}
	return fmt.Sprintf(t.staleVoided, name(tr.Visitor))
}

// reasonAgent is whom a void reason names: the receiver or the owner (a
// take-over's manager is not in the transfer: the reason then names nobody).
func reasonAgent(tr protocol.TransferInfo) string {
	switch tr.Reason {
	case chat.VoidReceiverOffline, chat.VoidReceiverRevoked:
		return tr.To.Name
	case chat.VoidOwnerOffline, chat.VoidOwnerRevoked:
		return tr.From.Name
	}
	return ""
}

// chatty: new chats and warnings interrupt only a Present agent who has not
// muted the desk and has the permission that asks for them.
func (d *Decider) chatty(f Facts, channel string, manager bool) bool {
	if f.Status != protocol.StatusPresent || f.Muted {
		return false
	}
	if manager {
		return f.can(channel, "manage")
	}
	return f.can(channel, "notify")
}

func (d *Decider) channelName(key string) string {
	if n := d.names[key]; n != "" {
		return n
	}
	return key
}

func name(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "?"
	}
	return s
}
