package client

import (
	"bytes"
	"encoding/json"

	"switchboard/backend/protocol"
)

// Frame is one frame from the relay: a reply (Re set, or a refusal that
// names no command) or an event (Ev set). Data and Raw point into the
// connection's read buffer and are valid only until the handler returns;
// ServerFrame makes a copy that may be kept.
type Frame struct {
	Re      string
	OK      bool
	Error   *protocol.Error
	Ev      string
	Session string
	Seq     uint64
	Data    []byte // the payload, raw JSON; nil when absent
	Raw     []byte // the whole frame
	// Track is what the connection's Tracker made of an entry event.
	Track Verdict

	conn *Conn // that read it
}

// ServerFrame copies f into the wire type, for keeping.
func (f *Frame) ServerFrame() protocol.ServerFrame {
	sf := protocol.ServerFrame{Re: f.Re, OK: f.OK, Error: f.Error, Ev: f.Ev, Session: f.Session, Seq: f.Seq}
	if f.Data != nil {
		sf.Data = bytes.Clone(f.Data)
	}
	return sf
}

// The relay writes every frame with encoding/json from protocol.Reply and
// protocol.Event (the ack and the entry, its hottest two, by hand and byte
// for byte the same), so an accepted reply starts {"re":"…","ok":true and an
// event {"ev":"…","session":"…","seq":N, with data last. Reading that
// envelope by hand, and leaving the payload raw, keeps the client's cost per
// frame flat for a load generator with 1,500 connections on the relay's
// cores. Anything else (a refusal, an escaped string) goes through
// encoding/json.
var (
	headReply   = []byte(`{"re":"`)
	headEvent   = []byte(`{"ev":"`)
	okTrue      = []byte(`,"ok":true`)
	keySession  = []byte(`,"session":"`)
	keySeq      = []byte(`,"seq":`)
	keyData     = []byte(`,"data":`)
	closeObject = byte('}')
)

// scan reads b's envelope into f. intern turns a session id into a string
// (the tracker keeps one per session, so an entry allocates none).
func scan(b []byte, f *Frame, intern func([]byte) string) bool {
	*f = Frame{Raw: b}
	if len(b) < 2 || b[len(b)-1] != closeObject {
		return scanSlow(b, f)
	}
	switch {
	case bytes.HasPrefix(b, headReply):
		re, rest, ok := quoted(b[len(headReply)-1:])
		if !ok || len(re) == 0 || !bytes.HasPrefix(rest, okTrue) {
			return scanSlow(b, f)
		}
		f.Re, f.OK = string(re), true
		rest = rest[len(okTrue):]
		return tail(rest, f) || scanSlow(b, f)
	case bytes.HasPrefix(b, headEvent):
		ev, rest, ok := quoted(b[len(headEvent)-1:])
		if !ok || len(ev) == 0 {
			return scanSlow(b, f)
		}
		f.Ev = eventName(ev)
		if bytes.HasPrefix(rest, keySession) {
			var s []byte
			if s, rest, ok = quoted(rest[len(keySession)-1:]); !ok {
				return scanSlow(b, f)
			}
			f.Session = intern(s)
		}
		if bytes.HasPrefix(rest, keySeq) {
			n, k := leadingUint(rest[len(keySeq):])
			if k == 0 {
				return scanSlow(b, f)
			}
			f.Seq, rest = n, rest[len(keySeq)+k:]
		}
		return tail(rest, f) || scanSlow(b, f)
	}
	return scanSlow(b, f)
}

// tail reads what may follow the envelope: ,"data":… up to the closing
// brace, or the closing brace alone.
func tail(rest []byte, f *Frame) bool {
	switch {
	case len(rest) == 1:
		return true
	case bytes.HasPrefix(rest, keyData) && len(rest) > len(keyData)+1:
		f.Data = rest[len(keyData) : len(rest)-1]
		return true
	}
	return false
}

// quoted reads a JSON string without escapes at the start of b (which
// begins with its opening quote) and returns its bytes and what follows.
func quoted(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return nil, nil, false
	}
	s = b[1 : 1+end]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, nil, false
	}
	return s, b[2+end:], true
}

// leadingUint parses the digits at the start of b; k is how many.
func leadingUint(b []byte) (v uint64, k int) {
	for ; k < len(b) && b[k] >= '0' && b[k] <= '9'; k++ {
		v = v*10 + uint64(b[k]-'0')
	}
	return v, k
}

// eventName returns the constant for a known event, so that reading one
// allocates nothing.
func eventName(b []byte) string {
	switch string(b) {
	case protocol.EvEntry:
		return protocol.EvEntry
	case protocol.EvSession:
		return protocol.EvSession
	case protocol.EvTransfer:
		return protocol.EvTransfer
	case protocol.EvQueue:
		return protocol.EvQueue
	case protocol.EvPosition:
		return protocol.EvPosition
	case protocol.EvPresence:
		return protocol.EvPresence
	case protocol.EvTyping:
		return protocol.EvTyping
	case protocol.EvDashboard:
		return protocol.EvDashboard
	}
	return string(b)
}

// scanSlow decodes b with encoding/json; false if it is not a frame.
func scanSlow(b []byte, f *Frame) bool {
	var sf protocol.ServerFrame
	if err := json.Unmarshal(b, &sf); err != nil {
		return false
	}
	*f = Frame{Re: sf.Re, OK: sf.OK, Error: sf.Error, Ev: sf.Ev, Session: sf.Session, Seq: sf.Seq, Data: sf.Data, Raw: b}
	return true
}
