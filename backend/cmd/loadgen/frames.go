package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"switchboard/backend/protocol"
)

// The load generator reads every frame the relay sends to 1,500 clients on
// the same two cores as the relay, so the hot frames (acks and entry events)
// are scanned by hand rather than decoded: their layout is fixed by
// encoding/json's field order in backend/protocol. Anything that does not
// match the expected layout falls back to encoding/json (frames_test.go
// checks both paths agree).

// message texts start with "t<unix nanos> " so a receiver can tell how long
// the message took; client ids are "m<number>".

// appendSend builds a message.send command whose id is the message number.
func appendSend(b []byte, session string, n uint64, sentAt time.Time, size int) []byte {
	b = append(b, `{"id":"`...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, `","cmd":"message.send","data":{"session":"`...)
	b = append(b, session...)
	b = append(b, `","client_id":"m`...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, `","text":"`...)
	start := len(b)
	b = append(b, 't')
	b = strconv.AppendInt(b, sentAt.UnixNano(), 10)
	b = append(b, ' ')
	for i := len(b) - start; i < size; i++ {
		b = append(b, 'x')
	}
	return append(b, `"}}`...)
}

type frameKind int

const (
	fkOther frameKind = iota
	fkReply
	fkEntry
	fkTransfer
)

// frame is what a peer needs of one server frame.
type frame struct {
	kind frameKind
	// replies
	re   []byte
	ok   bool
	seq  uint64 // reply data.seq (message acks), or an entry's seq
	code string // error code of a refusal
	raw  []byte // the whole frame, for replies other peers wait for
	// entries
	session []byte
	msg     uint64    // client id "m<n>" -> n; 0 if the entry is no message of ours
	sentAt  time.Time // from the text
}

var (
	prefixReply = []byte(`{"re":"`)
	prefixEntry = []byte(`{"ev":"entry","session":"`)
	prefixEv    = []byte(`{"ev":"`)
	keySeq      = []byte(`"seq":`)
	keyCID      = []byte(`"client_id":"m`)
	keyText     = []byte(`"text":"t`)
	okTrue      = []byte(`","ok":true`)
)

// parseFrame reads b; it keeps slices into b, so b must not be reused until
// the frame is handled.
func parseFrame(b []byte) frame {
	switch {
	case bytes.HasPrefix(b, prefixReply):
		if f, ok := fastReply(b); ok {
			return f
		}
	case bytes.HasPrefix(b, prefixEntry):
		if f, ok := fastEntry(b); ok {
			return f
		}
	case bytes.HasPrefix(b, prefixEv):
		rest := b[len(prefixEv):]
		if bytes.HasPrefix(rest, []byte(`transfer"`)) {
			return frame{kind: fkTransfer, raw: b}
		}
		return frame{kind: fkOther}
	}
	return slowFrame(b)
}

func fastReply(b []byte) (frame, bool) {
	f := frame{kind: fkReply, raw: b}
	rest := b[len(prefixReply):]
	q := bytes.IndexByte(rest, '"')
	if q < 0 {
		return f, false
	}
	f.re, rest = rest[:q], rest[q:]
	if !bytes.HasPrefix(rest, okTrue) {
		return f, false // refusals are rare: decode them properly
	}
	f.ok = true
	if i := bytes.Index(rest, keySeq); i >= 0 {
		f.seq, _ = leadingUint(rest[i+len(keySeq):])
	}
	return f, true
}

func fastEntry(b []byte) (frame, bool) {
	f := frame{kind: fkEntry}
	rest := b[len(prefixEntry):]
	q := bytes.IndexByte(rest, '"')
	if q < 0 {
		return f, false
	}
	f.session, rest = rest[:q], rest[q+1:]
	if !bytes.HasPrefix(rest, []byte(`,"seq":`)) {
		return f, false
	}
	var n int
	f.seq, n = leadingUint(rest[len(`,"seq":`):])
	if n == 0 {
		return f, false
	}
	if i := bytes.Index(rest, keyCID); i >= 0 {
		m, n := leadingUint(rest[i+len(keyCID):])
		if n > 0 && rest[i+len(keyCID)+n] == '"' {
			f.msg = m
		}
	}
	if f.msg != 0 {
		if i := bytes.Index(rest, keyText); i >= 0 {
			if ns, n := leadingUint(rest[i+len(keyText):]); n > 0 {
				f.sentAt = time.Unix(0, int64(ns))
			}
		}
	}
	return f, true
}

// leadingUint parses the digits at the start of b.
func leadingUint(b []byte) (uint64, int) {
	var v uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + uint64(b[i]-'0')
	}
	return v, i
}

// slowFrame decodes a frame with encoding/json.
func slowFrame(b []byte) frame {
	var sf protocol.ServerFrame
	if err := json.Unmarshal(b, &sf); err != nil {
		return frame{kind: fkOther}
	}
	switch {
	case sf.Ev == protocol.EvEntry:
		var e protocol.Entry
		_ = json.Unmarshal(sf.Data, &e)
		f := frame{kind: fkEntry, session: []byte(sf.Session), seq: sf.Seq}
		f.msg, f.sentAt = messageOf(e.ClientID, e.Text)
		return f
	case sf.Ev == protocol.EvTransfer:
		return frame{kind: fkTransfer, raw: b}
	case sf.Ev != "":
		return frame{kind: fkOther}
	}
	f := frame{kind: fkReply, re: []byte(sf.Re), ok: sf.OK, raw: b}
	if sf.Error != nil {
		f.code = string(sf.Error.Code)
	}
	var ack protocol.MessageAck
	if sf.OK && json.Unmarshal(sf.Data, &ack) == nil {
		f.seq = ack.Seq
	}
	return f
}

// messageOf reads a load-generator message's number and send time.
func messageOf(clientID, text string) (uint64, time.Time) {
	if len(clientID) < 2 || clientID[0] != 'm' {
		return 0, time.Time{}
	}
	n, err := strconv.ParseUint(clientID[1:], 10, 64)
	if err != nil {
		return 0, time.Time{}
	}
	var at time.Time
	if len(text) > 1 && text[0] == 't' {
		ns, k := leadingUint([]byte(text[1:]))
		if k > 0 {
			at = time.Unix(0, int64(ns))
		}
	}
	return n, at
}

// command encodes a command frame.
func command(id, cmd string, data any) []byte {
	raw, _ := json.Marshal(data)
	b, _ := json.Marshal(protocol.Command{ID: id, Cmd: cmd, Data: raw})
	return b
}
