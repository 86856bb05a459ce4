package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"switchboard/backend/protocol"
)

// The load generator reads every frame the relay sends to 1,500 clients on
// the same two cores as the relay. The protocol client reads the envelopes
// of the hot frames (acks and entry events) by hand; what the load
// generator needs of their payloads is read by hand here too: the layout is
// fixed by encoding/json's field order in backend/protocol (frames_test.go
// checks it against encoding/json).

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

var (
	keyCID  = []byte(`"client_id":"m`)
	keyText = []byte(`"text":"t`)
	keySeq  = []byte(`{"seq":`)
)

// messageIn reads a load-generator message's number and send time from an
// entry's payload, by hand: the receivers read 3 entries a message. An entry
// that is no message of ours has number 0.
func messageIn(data []byte) (uint64, time.Time) {
	i := bytes.Index(data, keyCID)
	if i < 0 {
		return 0, time.Time{}
	}
	rest := data[i+len(keyCID):]
	n, k := leadingUint(rest)
	if k == 0 || k >= len(rest) || rest[k] != '"' {
		return 0, time.Time{}
	}
	var at time.Time
	if j := bytes.Index(rest, keyText); j >= 0 {
		if ns, k := leadingUint(rest[j+len(keyText):]); k > 0 {
			at = time.Unix(0, int64(ns))
		}
	}
	return n, at
}

// ackSeq reads the seq of a message ack's payload, {"seq":N,…}.
func ackSeq(data []byte) uint64 {
	if !bytes.HasPrefix(data, keySeq) {
		var ack protocol.MessageAck
		_ = json.Unmarshal(data, &ack)
		return ack.Seq
	}
	n, _ := leadingUint(data[len(keySeq):])
	return n
}

// msgNumber reads a command id that is a message number.
func msgNumber(id string) (uint64, bool) {
	var n uint64
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(id[i]-'0')
	}
	return n, id != ""
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
