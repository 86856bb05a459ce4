package app

import "switchboard/backend/protocol"

// Desk is the one service bound to the UI: window.go.app.Desk.<Method>.
// Every method returns a Result and never panics. Wails 2.9.2 on Linux
// aborts the whole process on a nil dereference inside a bound method (a
// recover does not help there), so each method is a nil-checked one-liner
// over the core, where the logic lives and is tested.
type Desk struct {
	c *core
}

func newDesk(c *core) *Desk { return &Desk{c: c} }

var notReady = failResult(CodeNoDesk, "the desk is still starting")

func (d *Desk) core() *core {
	if d == nil {
		return nil
	}
	return d.c
}

// Version returns the app's version.
func (d *Desk) Version() string { return Version }

// Config returns {server, serverLocked, login, remember, language, muted, window, hasToken}.
func (d *Desk) Config() Result {
	if c := d.core(); c != nil {
		return c.config()
	}
	return notReady
}

// Login signs in with a password; data: the AgentWelcome.
func (d *Desk) Login(req LoginRequest) Result {
	if c := d.core(); c != nil {
		return c.login(req)
	}
	return notReady
}

// Resume signs in with the remembered token; data: the AgentWelcome.
func (d *Desk) Resume() Result {
	if c := d.core(); c != nil {
		return c.resume()
	}
	return notReady
}

// Logout revokes the token on the relay and forgets it here.
func (d *Desk) Logout() Result {
	if c := d.core(); c != nil {
		return c.logout()
	}
	return notReady
}

// SetStatus sets present or away.
func (d *Desk) SetStatus(status string) Result {
	if c := d.core(); c != nil {
		return c.setStatus(status)
	}
	return notReady
}

// Next takes the oldest waiting chat.
func (d *Desk) Next() Result {
	if c := d.core(); c != nil {
		return c.next()
	}
	return notReady
}

// Pick takes a waiting chat.
func (d *Desk) Pick(session string) Result {
	if c := d.core(); c != nil {
		return c.pick(session)
	}
	return notReady
}

// Send queues a message; data: {clientId}. Its fate comes as relay:outbox.
func (d *Desk) Send(session, text string) Result {
	if c := d.core(); c != nil {
		return c.send(session, text)
	}
	return notReady
}

// End ends a chat.
func (d *Desk) End(session string) Result {
	if c := d.core(); c != nil {
		return c.end(session)
	}
	return notReady
}

// Leave closes a chat the agent listens to.
func (d *Desk) Leave(session string) Result {
	if c := d.core(); c != nil {
		return c.leave(session)
	}
	return notReady
}

// Listen listens silently to a chat.
func (d *Desk) Listen(session string) Result {
	if c := d.core(); c != nil {
		return c.listen(session)
	}
	return notReady
}

// TakeOver becomes the owner of a chat at once (managers).
func (d *Desk) TakeOver(session string) Result {
	if c := d.core(); c != nil {
		return c.takeOver(session)
	}
	return notReady
}

// Typing tells the visitor the agent is typing.
func (d *Desk) Typing(session string) Result {
	if c := d.core(); c != nil {
		return c.typing(session)
	}
	return notReady
}

// Log reads a chat's log after a seq; data: {entries, more}.
func (d *Desk) Log(session string, after uint64) Result {
	if c := d.core(); c != nil {
		return c.readLog(session, after)
	}
	return notReady
}

// Targets lists the agents a chat can be transferred to.
func (d *Desk) Targets(session string) Result {
	if c := d.core(); c != nil {
		return c.targets(session)
	}
	return notReady
}

// Transfer offers a chat to an agent or to the queue.
func (d *Desk) Transfer(req TransferRequest) Result {
	if c := d.core(); c != nil {
		return c.transfer(req)
	}
	return notReady
}

// Accept accepts a transfer offered to the agent.
func (d *Desk) Accept(transfer int64) Result {
	if c := d.core(); c != nil {
		return c.accept(transfer)
	}
	return notReady
}

// Reject rejects a transfer offered to the agent.
func (d *Desk) Reject(transfer int64) Result {
	if c := d.core(); c != nil {
		return c.reject(transfer)
	}
	return notReady
}

// Cancel withdraws a transfer the agent started.
func (d *Desk) Cancel(transfer int64) Result {
	if c := d.core(); c != nil {
		return c.cancel(transfer)
	}
	return notReady
}

// History lists a chat's transfers and take-overs.
func (d *Desk) History(session string) Result {
	if c := d.core(); c != nil {
		return c.history(session)
	}
	return notReady
}

// CreateRequest files a request (ticket) from a chat; data: {number, line}.
func (d *Desk) CreateRequest(session, title string) Result {
	if c := d.core(); c != nil {
		return c.createRequest(session, title)
	}
	return notReady
}

// QuickReplies reads the agent's own quick replies, kept on the relay so
// they follow the agent to any machine; data: {replies: [{title, text}]}.
func (d *Desk) QuickReplies() Result {
	if c := d.core(); c != nil {
		return c.quickReplies()
	}
	return notReady
}

// SaveQuickReplies replaces the agent's quick replies with the whole list;
// data: the list as stored. The agent's other windows and machines get it
// as a relay:event "quickreplies".
func (d *Desk) SaveQuickReplies(replies []protocol.QuickReply) Result {
	if c := d.core(); c != nil {
		return c.saveQuickReplies(replies)
	}
	return notReady
}

// SetMuted mutes or unmutes waiting-chat and warning notifications.
func (d *Desk) SetMuted(muted bool) Result {
	if c := d.core(); c != nil {
		return c.setMuted(muted)
	}
	return notReady
}

// SetLanguage sets auto, en or sv.
func (d *Desk) SetLanguage(lang string) Result {
	if c := d.core(); c != nil {
		return c.setLanguage(lang)
	}
	return notReady
}

// OpenDashboard opens the dashboard window (needs listen or manage), signed
// in as the same agent without asking again (a one-time token on the new
// process's standard input).
func (d *Desk) OpenDashboard() Result {
	if c := d.core(); c != nil {
		return c.openDashboard()
	}
	return notReady
}

// Quit ends the app (without logging out).
func (d *Desk) Quit() Result {
	if c := d.core(); c != nil {
		return c.quit()
	}
	return notReady
}
