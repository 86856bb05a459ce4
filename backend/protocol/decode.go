package protocol

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// MaxIDLen caps client-chosen ids (command ids, client message ids).
const MaxIDLen = 128

// DecodeCommand parses one client frame. It never panics; every refusal is an
// *Error with a stable code, and the id is returned when it could be read so
// the reply can name it.
func DecodeCommand(frame []byte) (Command, *Error) {
	trimmed, perr := checkFrame(frame)
	if perr != nil {
		return Command{}, perr
	}
	if c, ok := decodeSendFrame(trimmed); ok {
		return c, nil
	}
	return decodeFrame(trimmed)
}

// checkFrame refuses a frame too large, not UTF-8 or not an object; it
// returns the frame without surrounding space.
func checkFrame(frame []byte) ([]byte, *Error) {
	if len(frame) > MaxFrameBytes {
		return nil, Errorf(CodeTooLarge, "frame of %d bytes exceeds %d", len(frame), MaxFrameBytes)
	}
	if !utf8.Valid(frame) {
		return nil, Errorf(CodeMalformed, "frame is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(frame)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, Errorf(CodeMalformed, "frame is not a JSON object")
	}
	return trimmed, nil
}

// decodeFrame is DecodeCommand for a frame that has passed checkFrame.
func decodeFrame(trimmed []byte) (Command, *Error) {
	var c Command
	if err := json.Unmarshal(trimmed, &c); err != nil {
		// Salvage the id for the reply when only the payload is broken.
		var idOnly struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(trimmed, &idOnly) == nil && len(idOnly.ID) <= MaxIDLen {
			c = Command{ID: idOnly.ID}
		} else {
			c = Command{}
		}
		return c, Errorf(CodeMalformed, "frame is not a valid command: %v", err)
	}
	if c.ID == "" {
		return c, Errorf(CodeBadRequest, "command has no id")
	}
	if len(c.ID) > MaxIDLen {
		c.ID = ""
		return c, Errorf(CodeBadRequest, "command id longer than %d bytes", MaxIDLen)
	}
	if c.Cmd == "" {
		return c, Errorf(CodeBadRequest, "command has no name")
	}
	return c, nil
}

// DecodeSend is message.send's payload: decoded with the frame when
// DecodeCommand could, else from Data.
func DecodeSend(c Command) (MessageSend, *Error) {
	if c.send != nil {
		return *c.send, nil
	}
	return DecodeData[MessageSend](c.Data)
}

// DecodeData parses a command's payload into T. An absent payload decodes to
// T's zero value; anything that is not an object of T's shape is malformed.
func DecodeData[T any](raw json.RawMessage) (T, *Error) {
	var v T
	if len(raw) == 0 || string(raw) == "null" {
		return v, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, Errorf(CodeMalformed, "payload: %v", err)
	}
	return v, nil
}

// Known reports whether name is a command of this protocol version (one
// of Commands).
func Known(name string) bool {
	return known[name]
}
