package client

import (
	"encoding/json"
	"fmt"

	"switchboard/backend/protocol"
)

// Handlers take events decoded into their wire types. Set the ones wanted:
// an event without a handler, or one this version does not know, is
// ignored (Other hears the unknown ones), so a newer relay may add events.
type Handlers struct {
	Entry        func(session string, e protocol.Entry, v Verdict)
	Session      func(protocol.SessionInfo)
	Transfer     func(protocol.TransferInfo)
	Queue        func(protocol.QueueEvent)
	Position     func(session string, p protocol.Position)
	Presence     func(protocol.PresenceEvent)
	Warning      func(protocol.WarningEvent)
	Typing       func(session string, t protocol.TypingEvent)
	Dashboard    func(protocol.Dashboard)
	Channels     func(protocol.ChannelsEvent)
	QuickReplies func(protocol.QuickReplies)
	Request      func(protocol.RequestEvent)
	Other        func(*Frame)
}

// Dispatch hands an event to its handler. A payload that does not decode is
// an error, and its handler is not called.
func (h *Handlers) Dispatch(f *Frame) error {
	switch f.Ev {
	case protocol.EvEntry:
		return with(f, h.Entry != nil, func(e protocol.Entry) { h.Entry(f.Session, e, f.Track) })
	case protocol.EvSession:
		return with(f, h.Session != nil, func(s protocol.SessionInfo) { h.Session(s) })
	case protocol.EvTransfer:
		return with(f, h.Transfer != nil, func(t protocol.TransferInfo) { h.Transfer(t) })
	case protocol.EvQueue:
		return with(f, h.Queue != nil, func(q protocol.QueueEvent) { h.Queue(q) })
	case protocol.EvPosition:
		return with(f, h.Position != nil, func(p protocol.Position) { h.Position(f.Session, p) })
	case protocol.EvPresence:
		return with(f, h.Presence != nil, func(p protocol.PresenceEvent) { h.Presence(p) })
	case protocol.EvWarning:
		return with(f, h.Warning != nil, func(w protocol.WarningEvent) { h.Warning(w) })
	case protocol.EvTyping:
		return with(f, h.Typing != nil, func(t protocol.TypingEvent) { h.Typing(f.Session, t) })
	case protocol.EvDashboard:
		return with(f, h.Dashboard != nil, func(d protocol.Dashboard) { h.Dashboard(d) })
	case protocol.EvChannels:
		return with(f, h.Channels != nil, func(c protocol.ChannelsEvent) { h.Channels(c) })
	case protocol.EvQuickReplies:
		return with(f, h.QuickReplies != nil, func(q protocol.QuickReplies) { h.QuickReplies(q) })
	case protocol.EvRequest:
		return with(f, h.Request != nil, func(r protocol.RequestEvent) { h.Request(r) })
	}
	if h.Other != nil {
		h.Other(f)
	}
	return nil
}

// with decodes f's payload into T and calls fn, when wanted.
func with[T any](f *Frame, wanted bool, fn func(T)) error {
	if !wanted {
		return nil
	}
	var v T
	if len(f.Data) > 0 {
		if err := json.Unmarshal(f.Data, &v); err != nil {
			return fmt.Errorf("client: %s event: %w", f.Ev, err)
		}
	}
	fn(v)
	return nil
}
