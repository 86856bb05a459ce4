package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// A node that does not lead still terminates websockets: it tunnels each
// client's frames over NATS to the leader, which serves the client as if it
// had accepted the websocket itself (relay.Wire). Every decision, commit and
// delivery stays on the leader, so seq, dedup and resume are unchanged and
// a client cannot tell which node it is on.
//
// Subjects (tokens: a term, a gateway's random id, a connection's id):
//
//	switchboard.leader                  the leader's heartbeat (JSON leaderBeat), every beatEvery
//	switchboard.open.<term>             request/reply: attach a client to the desk of that term
//	switchboard.in.<term>.<gw>.<conn>   client -> leader: frames, pongs, "gone"
//	switchboard.out.<gw>.<conn>         leader -> gateway: frame batches, pings, close
//	switchboard.gateway.<gw>            a gateway's heartbeat, every beatEvery
//
// NATS delivers in order between one publisher and one subscriber but may
// drop a message when a subscriber falls behind, so every tunnel message is
// numbered: a gap ends the tunnel and the client reconnects and resumes,
// which loses nothing acknowledged.
const subjectRoot = "switchboard"

func leaderSubject() string         { return subjectRoot + ".leader" }
func openSubject(term int64) string { return fmt.Sprintf("%s.open.%d", subjectRoot, term) }
func inSubject(term int64, gw, conn string) string {
	return fmt.Sprintf("%s.in.%d.%s.%s", subjectRoot, term, gw, conn)
}
func inWildcard(term int64) string      { return fmt.Sprintf("%s.in.%d.>", subjectRoot, term) }
func outSubject(gw, conn string) string { return subjectRoot + ".out." + gw + "." + conn }
func outWildcard(gw string) string      { return subjectRoot + ".out." + gw + ".>" }
func gatewaySubject(gw string) string   { return subjectRoot + ".gateway." + gw }
func gatewayWildcard() string           { return subjectRoot + ".gateway.*" }

// lastTokens returns the last n tokens of a subject.
func lastTokens(subject string, n int) ([]string, bool) {
	parts := strings.Split(subject, ".")
	if len(parts) < n {
		return nil, false
	}
	return parts[len(parts)-n:], true
}

// Kinds of tunnel messages.
const (
	kindText   byte = 't' // in: a text frame
	kindBinary byte = 'b' // in: a binary frame (the relay refuses it, as on a websocket)
	kindPong   byte = 'p' // in: the client answered a ping; out: ping the client
	kindGone   byte = 'x' // in: the client's websocket ended; out: close it (code, reason)
	kindFrames byte = 'f' // out: text frames to write, in order
)

// message is one tunnel message: its kind, its number in the tunnel's
// direction (from 1), and what it carries.
type message struct {
	kind byte
	seq  uint64
	body []byte
}

func appendMessage(b []byte, kind byte, seq uint64) []byte {
	b = append(b, kind)
	return binary.AppendUvarint(b, seq)
}

var errMessage = errors.New("cluster: malformed tunnel message")

func parseMessage(data []byte) (message, error) {
	if len(data) < 2 {
		return message{}, errMessage
	}
	seq, n := binary.Uvarint(data[1:])
	if n <= 0 {
		return message{}, errMessage
	}
	return message{kind: data[0], seq: seq, body: data[1+n:]}, nil
}

// appendFrames encodes a batch of frames, each with its length.
func appendFrames(b []byte, frames [][]byte) []byte {
	for _, f := range frames {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// splitFrames decodes what appendFrames made; the frames alias body.
func splitFrames(body []byte) ([][]byte, error) {
	var frames [][]byte
	for len(body) > 0 {
		n, k := binary.Uvarint(body)
		if k <= 0 || n > uint64(len(body)-k) {
			return nil, errMessage
		}
		frames = append(frames, body[k:k+int(n)])
		body = body[k+int(n):]
	}
	return frames, nil
}

// appendClose encodes a close: the code in two bytes, then the reason.
func appendClose(b []byte, code int, reason string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, reason...)
}

func parseClose(body []byte) (code int, reason string) {
	if len(body) < 2 {
		return 1011, ""
	}
	return int(binary.BigEndian.Uint16(body)), string(body[2:])
}

// leaderBeat is the leader's heartbeat.
type leaderBeat struct {
	Term int64  `json:"term"`
	Node string `json:"node"`
}

// openRequest asks the leader to serve a client a gateway holds.
type openRequest struct {
	Gateway string `json:"gateway"`
	Conn    string `json:"conn"`
	IP      string `json:"ip"`
}
