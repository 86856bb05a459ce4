package protocol

// Most frames a relay reads are messages. encoding/json read each twice
// (the frame, then its data, each pass checking the bytes before decoding
// them) and allocated a decoder and a copy of the data for each: a fifth of
// what the relay allocated for a message. decodeSendFrame reads a message
// in the one shape clients write, in one pass:
//
//	{"id":"…","cmd":"message.send","data":{"session":"…","client_id":"…","text":"…","file":"…"}}
//
// keys in any order, each at most once, data and its keys optional, JSON
// space anywhere between tokens, strings without escapes. For such a frame
// encoding/json's result is plainly the strings' bytes. Anything else (an
// escape, another key or a key in other case, a duplicate, a number, a
// null) is left to the two passes, so what a frame means never depends on
// the way it was read (FuzzDecodeCommand compares the two).

// decodeSendFrame is DecodeCommand for a message.send frame of that shape
// whose id DecodeCommand accepts; ok is false for every other frame.
func decodeSendFrame(frame []byte) (c Command, ok bool) {
	sc := scanner{b: frame}
	var id, cmd []byte
	var m MessageSend
	var keys uint8 // one bit a key, to refuse duplicates
	ok = sc.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return sc.first(&keys, 1<<0) && sc.str(&id)
		case "cmd":
			return sc.first(&keys, 1<<1) && sc.str(&cmd)
		case "data":
			return sc.first(&keys, 1<<2) && sc.object(func(key []byte) bool {
				var field *string
				var bit uint8
				switch string(key) {
				case "session":
					field, bit = &m.Session, 1<<3
				case "client_id":
					field, bit = &m.ClientID, 1<<4
				case "text":
					field, bit = &m.Text, 1<<5
				case "file":
					field, bit = &m.File, 1<<6
				default:
					return false
				}
				var v []byte
				if !sc.first(&keys, bit) || !sc.str(&v) {
					return false
				}
				*field = string(v)
				return true
			})
		}
		return false
	})
	sc.space()
	if !ok || sc.i != len(frame) || string(cmd) != CmdMessageSend || len(id) == 0 || len(id) > MaxIDLen {
		return Command{}, false
	}
	return Command{ID: string(id), Cmd: CmdMessageSend, send: &m}, true
}

// scanner reads the narrow JSON of decodeSendFrame; its methods report
// false for anything outside it.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// next consumes c, after space.
func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// first marks a key as met, refusing it the second time.
func (s *scanner) first(keys *uint8, bit uint8) bool {
	if *keys&bit != 0 {
		return false
	}
	*keys |= bit
	return true
}

// str reads a string without escapes or control characters into v (bytes of
// the frame).
func (s *scanner) str(v *[]byte) bool {
	if !s.next('"') {
		return false
	}
	for j := s.i; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			*v, s.i = s.b[s.i:j], j+1
			return true
		case c < 0x20 || c == '\\':
			return false
		}
	}
	return false
}

// object reads {"key": value, ...}; member reads each value after its key
// and colon.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		var key []byte
		if !s.str(&key) || !s.next(':') || !member(key) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}
