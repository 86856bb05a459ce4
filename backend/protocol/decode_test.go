package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		frame string
		code  Code
		id    string
	}{
		{"ok", `{"id":"c1","cmd":"ping"}`, "", "c1"},
		{"ok with data", `{"id":"c2","cmd":"message.send","data":{"session":"s","text":"hi"}}`, "", "c2"},
		{"not json", `hello`, CodeMalformed, ""},
		{"array", `[1,2]`, CodeMalformed, ""},
		{"empty", ``, CodeMalformed, ""},
		{"truncated", `{"id":"c3","cmd":"x"`, CodeMalformed, ""},
		{"wrong type keeps id", `{"id":"c4","cmd":12}`, CodeMalformed, "c4"},
		{"no id", `{"cmd":"ping"}`, CodeBadRequest, ""},
		{"no cmd", `{"id":"c5"}`, CodeBadRequest, "c5"},
		{"long id", `{"id":"` + strings.Repeat("x", MaxIDLen+1) + `","cmd":"ping"}`, CodeBadRequest, ""},
		{"too large", `{"id":"c6","cmd":"ping","data":"` + strings.Repeat("x", MaxFrameBytes) + `"}`, CodeTooLarge, ""},
		{"bad utf8", "{\"id\":\"c7\",\"cmd\":\"\xff\"}", CodeMalformed, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeCommand([]byte(tc.frame))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
			} else if err == nil || err.Code != tc.code {
				t.Fatalf("got %v, want code %s", err, tc.code)
			}
			if c.ID != tc.id {
				t.Fatalf("id %q, want %q", c.ID, tc.id)
			}
		})
	}
}

func TestDecodeData(t *testing.T) {
	t.Parallel()
	m, err := DecodeData[MessageSend](json.RawMessage(`{"session":"s1","client_id":"m1","text":"hej"}`))
	if err != nil || m.Session != "s1" || m.ClientID != "m1" || m.Text != "hej" {
		t.Fatalf("got %+v %v", m, err)
	}
	if _, err := DecodeData[MessageSend](json.RawMessage(`{"session":5}`)); err == nil || err.Code != CodeMalformed {
		t.Fatalf("want malformed, got %v", err)
	}
	z, err := DecodeData[SessionRef](nil)
	if err != nil || z.Session != "" {
		t.Fatalf("absent payload: %+v %v", z, err)
	}
}

func TestKnown(t *testing.T) {
	t.Parallel()
	if !Known(CmdTransferAccept) || Known("transfer.steal") {
		t.Fatal("command table wrong")
	}
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{`{"id":"1","cmd":"hello","data":{"v":1,"role":"agent"}}`,
		`{"id":"m1","cmd":"message.send","data":{"session":"s1","client_id":"m1","text":"hej"}}`, `{}`, `[]`, `{"id":1}`, "\x00", `{"id":"x","cmd":"message.send","data":{"text":"\u0000"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		c, err := DecodeCommand(frame)
		if err != nil {
			if err.Code == "" || err.Message == "" {
				t.Fatalf("error without code or message: %+v", err)
			}
			return
		}
		if c.ID == "" || c.Cmd == "" || len(c.ID) > MaxIDLen {
			t.Fatalf("accepted an invalid command %+v", c)
		}
		checkOnePass(t, frame)
		// Payload decoders must refuse or accept, never panic.
		_, _ = DecodeData[Hello](c.Data)
		_, _ = DecodeData[MessageSend](c.Data)
		_, _ = DecodeData[TransferStart](c.Data)
		_, _ = DecodeData[ChatStart](c.Data)
	})
}

// twoPasses is what DecodeCommand and DecodeSend gave before message.send
// was decoded in one pass: the reference the one pass must agree with.
func twoPasses(frame []byte) (Command, MessageSend, *Error, *Error) {
	trimmed, err := checkFrame(frame)
	var c Command
	if err == nil {
		c, err = decodeFrame(trimmed)
	}
	m, merr := DecodeData[MessageSend](c.Data)
	return c, m, err, merr
}

// checkOnePass fails when DecodeCommand and DecodeSend disagree with the two
// passes about frame: the command, its refusal or the payload.
func checkOnePass(t *testing.T, frame []byte) {
	t.Helper()
	wantC, wantM, wantErr, wantMErr := twoPasses(frame)
	c, err := DecodeCommand(frame)
	if (err == nil) != (wantErr == nil) || err != nil && err.Code != wantErr.Code || c.ID != wantC.ID || c.Cmd != wantC.Cmd {
		t.Fatalf("%s: got %q %q %v, two passes %q %q %v", frame, c.ID, c.Cmd, err, wantC.ID, wantC.Cmd, wantErr)
	}
	if err != nil || c.Cmd != CmdMessageSend {
		return
	}
	m, merr := DecodeSend(c)
	if (merr == nil) != (wantMErr == nil) || m != wantM {
		t.Fatalf("%s: payload %+v %v, two passes %+v %v", frame, m, merr, wantM, wantMErr)
	}
}

func TestMessageSendInOnePass(t *testing.T) {
	t.Parallel()
	// Frames of the shape decodeSendFrame reads; each must be read that way.
	oneShape := []string{
		`{"id":"c1","cmd":"message.send","data":{"session":"s1","client_id":"m1","text":"hej"}}`,
		`{"cmd":"message.send","id":"c2","data":{"text":"x","session":"s"}}`,
		`{"id":"c3","cmd":"message.send"}`,
		`{"id":"c15","cmd":"message.send","data":{"session":"s","file":"f1"}}`,
		" {\t\"data\" : { \"text\" :\"x\" , \"session\":\"s\"}\r\n,\"cmd\": \"message.send\",\"id\":\"c16\" } ",
		`{"id":"c27","cmd":"message.send","data":{"text":"åäö 日本語 😀 <b>&amp;</b>"}}`,
	}
	for _, f := range oneShape {
		if c, err := DecodeCommand([]byte(f)); err != nil || c.send == nil || c.Data != nil {
			t.Errorf("%s took the two passes: %+v %v", f, c, err)
		}
	}
	frames := append(oneShape,
		`{"id":"c4","cmd":"message.send","data":null}`,
		`{"id":"c5","cmd":"message.send","data":5}`,
		`{"id":"c6","cmd":"message.send","data":{"session":7}}`,
		`{"id":"c7","cmd":"message.send","data":{"session":"s","text":"x"},"data":{"text":"y"}}`,
		`{"id":"c8","cmd":"message.send","data":{"session":"s","text":"x"},"DATA":{"text":"y"}}`,
		`{"id":"c9","cmd":"message.send","data":{"session":"s","text":"x"},"d\u0061ta":{"text":"y"}}`,
		`{"id":"c10","cmd":"message.send","data":{"session":"s","text":"a \"quoted\" \n line"}}`,
		`{"id":"c11","cmd":"ping","data":{"text":"message.send"}}`,
		`{"id":"c12","CMD":"message.send","Data":{"Session":"s","TEXT":"x"}}`,
		`{"id":"c13","cmd":"message.send","cmd":"ping","data":{"session":"s"}}`,
		`{"id":"","cmd":"message.send","data":{"session":"s"}}`,
		`{"id":"`+strings.Repeat("x", MaxIDLen+1)+`","cmd":"message.send","data":{}}`,
		`{"id":5,"cmd":"message.send","data":{}}`,
		`{"id":"c14","cmd":"message.send","data":{}} trailing`,
		`{"id":"c17","cmd":"message.send","data":{"session":"s","session":"t"}}`,
		`{"id":"c18","cmd":"message.send","data":{"session":"s","extra":1}}`,
		`{"id":"c19","cmd":"message.send","data":{"session":"s"},"id":"c20"}`,
		`{"id":"c21","cmd":"message.send","data":{"session":"s"},}`,
		`{"id":"c22","cmd":"message.send","data":{"session":"s",}}`,
		`{"id":"c23","cmd":"message.send","data":{"session":"s"}}}`,
		`{"id":"c24","cmd":"message.send","data":{"session":"s"`,
		`{"id":"c25","cmd":"message.send","data":[]}`,
		`{"id":"c26","cmd":"message.send","data":{"text":"tab	inside"}}`,
		`{}`,
	)
	for _, f := range frames {
		checkOnePass(t, []byte(f))
	}
}

func TestMessageSendAllocations(t *testing.T) {
	frame := []byte(`{"id":"c1","cmd":"message.send","data":{"session":"s1","client_id":"m1","text":"hej"}}`)
	one := testing.AllocsPerRun(100, func() {
		c, _ := DecodeCommand(frame)
		_, _ = DecodeSend(c)
	})
	two := testing.AllocsPerRun(100, func() {
		c, _ := decodeFrame(frame)
		_, _ = DecodeData[MessageSend](c.Data)
	})
	// Only the strings and the payload, where the two passes allocated a
	// decoder and a command each and a copy of the data besides.
	if one > 5 || two <= one {
		t.Fatalf("%.0f allocations to decode a message in one pass, %.0f in two", one, two)
	}
}

// BenchmarkDecodeMessage compares a message.send frame decoded in one pass
// (DecodeCommand, DecodeSend) with the two passes it replaced.
func BenchmarkDecodeMessage(b *testing.B) {
	frame := []byte(`{"id":"lg-17-4711","cmd":"message.send","data":{"session":"3f9c2a7e1b","client_id":"lg-17-4711","text":"load message 4711 from visitor 17"}}`)
	b.Run("one-pass", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, _ := DecodeCommand(frame)
			_, _ = DecodeSend(c)
		}
	})
	b.Run("two-passes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, _ := decodeFrame(frame)
			_, _ = DecodeData[MessageSend](c.Data)
		}
	})
}
