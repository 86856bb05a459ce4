package protocol

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCheckQuickReplies(t *testing.T) {
	t.Parallel()
	many := func(n int) []QuickReply {
		out := make([]QuickReply, n)
		for i := range out {
			out[i] = QuickReply{Text: "reply"}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []QuickReply
		code Code
	}{
		{"none", nil, ""},
		{"one without title", []QuickReply{{Text: "Anything else?"}}, ""},
		{"the most replies", many(MaxQuickReplies), ""},
		{"longest text", []QuickReply{{Text: strings.Repeat("å", MaxQuickReplyText)}}, ""},
		{"longest title", []QuickReply{{Title: strings.Repeat("ö", MaxQuickReplyTitle), Text: "x"}}, ""},
		{"too many", many(MaxQuickReplies + 1), CodeTooLarge},
		{"empty text", []QuickReply{{Title: "Bye", Text: ""}}, CodeBadRequest},
		{"blank text", []QuickReply{{Text: "  \n\t"}}, CodeBadRequest},
		{"text too long", []QuickReply{{Text: strings.Repeat("x", MaxQuickReplyText+1)}}, CodeTooLarge},
		{"title too long", []QuickReply{{Title: strings.Repeat("x", MaxQuickReplyTitle+1), Text: "x"}}, CodeTooLarge},
		{"title of two lines", []QuickReply{{Title: "one\ntwo", Text: "x"}}, CodeBadRequest},
		{"invalid utf-8", []QuickReply{{Text: "\xff"}}, CodeBadRequest},
		{"list too large", func() []QuickReply {
			l := many(MaxQuickReplies)
			for i := range l {
				l[i].Text = strings.Repeat("<", MaxQuickReplyText/4) // escaped as \u003c in JSON
			}
			return l
		}(), CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := CheckQuickReplies(tc.in)
			if tc.code == "" {
				if err != nil || out == nil || len(out) != len(tc.in) {
					t.Fatalf("got %d replies, %v", len(out), err)
				}
				return
			}
			if err == nil || err.Code != tc.code || err.Message == "" {
				t.Fatalf("got %v, want code %s", err, tc.code)
			}
		})
	}
}

func TestCheckQuickRepliesTrimsTitlesOnly(t *testing.T) {
	t.Parallel()
	out, err := CheckQuickReplies([]QuickReply{{Title: "  Greeting ", Text: "  Hello!\n\nHow can I help?  "}})
	want := []QuickReply{{Title: "Greeting", Text: "  Hello!\n\nHow can I help?  "}}
	if err != nil || !reflect.DeepEqual(out, want) {
		t.Fatalf("got %+v %v", out, err)
	}
}

// Any list CheckQuickReplies accepts fits in one command frame.
func TestLargestQuickRepliesFitAFrame(t *testing.T) {
	t.Parallel()
	list := make([]QuickReply, MaxQuickReplies)
	// Just under the JSON cap: 100 replies of about 480 bytes.
	for i := range list {
		list[i] = QuickReply{Title: strings.Repeat("t", 20), Text: strings.Repeat("x", 440)}
	}
	out, perr := CheckQuickReplies(list)
	if perr != nil {
		t.Fatal(perr)
	}
	data, _ := json.Marshal(QuickReplies{Replies: out})
	frame, _ := json.Marshal(Command{ID: strings.Repeat("i", MaxIDLen), Cmd: CmdQuickRepliesSet, Data: data})
	if _, err := DecodeCommand(frame); err != nil || len(frame) > MaxFrameBytes {
		t.Fatalf("a valid list makes a frame of %d bytes: %v", len(frame), err)
	}
}
