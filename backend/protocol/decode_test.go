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
	for _, s := range []string{`{"id":"1","cmd":"hello","data":{"v":1,"role":"agent"}}`, `{}`, `[]`, `{"id":1}`, "\x00", `{"id":"x","cmd":"message.send","data":{"text":"\u0000"}}`} {
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
		// Payload decoders must refuse or accept, never panic.
		_, _ = DecodeData[Hello](c.Data)
		_, _ = DecodeData[MessageSend](c.Data)
		_, _ = DecodeData[TransferStart](c.Data)
		_, _ = DecodeData[ChatStart](c.Data)
	})
}
