package app

import (
	"encoding/json"
	"testing"

	"switchboard/backend/protocol"
)

// Shorthands for the relay commands the tests send, each through the
// generic path the UI uses (Desk.Command: payload as JSON, checked against
// the registry, the reply taken into the view).

func ref(session string) protocol.SessionRef { return protocol.SessionRef{Session: session} }

func (c *core) setStatus(status string) Result {
	return c.relayCommandOf(protocol.CmdStatusSet, protocol.StatusSet{Status: status})
}
func (c *core) next() Result { return c.relayCommandOf(protocol.CmdQueueNext, nil) }
func (c *core) pick(s string) Result {
	return c.relayCommandOf(protocol.CmdSessionPick, ref(s))
}
func (c *core) end(s string) Result   { return c.relayCommandOf(protocol.CmdSessionEnd, ref(s)) }
func (c *core) leave(s string) Result { return c.relayCommandOf(protocol.CmdSessionLeave, ref(s)) }
func (c *core) listen(s string) Result {
	return c.relayCommandOf(protocol.CmdSessionListen, ref(s))
}
func (c *core) takeOver(s string) Result {
	return c.relayCommandOf(protocol.CmdSessionTakeover, ref(s))
}
func (c *core) typing(s string) Result { return c.relayCommandOf(protocol.CmdTyping, ref(s)) }
func (c *core) readLog(s string, after uint64) Result {
	return c.relayCommandOf(protocol.CmdSessionLog, protocol.SessionLog{Session: s, After: after})
}
func (c *core) targets(s string) Result {
	return c.relayCommandOf(protocol.CmdTransferTargets, ref(s))
}
func (c *core) transfer(req protocol.TransferStart) Result {
	return c.relayCommandOf(protocol.CmdTransferStart, req)
}
func (c *core) accept(id int64) Result {
	return c.relayCommandOf(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: id})
}
func (c *core) reject(id int64) Result {
	return c.relayCommandOf(protocol.CmdTransferReject, protocol.TransferRef{Transfer: id})
}
func (c *core) cancel(id int64) Result {
	return c.relayCommandOf(protocol.CmdTransferCancel, protocol.TransferRef{Transfer: id})
}
func (c *core) history(s string) Result {
	return c.relayCommandOf(protocol.CmdTransferHistory, protocol.TransferHistory{Session: s})
}
func (c *core) createRequest(s, title string) Result {
	return c.relayCommandOf(protocol.CmdRequestCreate, protocol.RequestCreate{Session: s, Title: title})
}
func (c *core) quickReplies() Result { return c.relayCommandOf(protocol.CmdQuickRepliesGet, nil) }
func (c *core) saveQuickReplies(list []protocol.QuickReply) Result {
	return c.relayCommandOf(protocol.CmdQuickRepliesSet, protocol.QuickReplies{Replies: list})
}

// asJSON is a payload as the UI hands it to Desk.Command.
func asJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
