package protocol

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quick replies are an agent's own saved texts, kept on the relay so that
// they follow the agent to any machine. quickreplies.get reads the list;
// quickreplies.set replaces it whole (the client edits its copy and sends it
// back), and the agent's other connections get a quickreplies event with the
// new list.
const (
	MaxQuickReplies     = 100  // replies in one agent's list
	MaxQuickReplyTitle  = 100  // characters in a title (optional, one line)
	MaxQuickReplyText   = 2000 // characters in a text (required)
	MaxQuickRepliesJSON = 48 << 10
	// MaxQuickRepliesJSON caps the whole list encoded as JSON, so that a
	// full list always fits in one command frame (MaxFrameBytes) with room
	// for the envelope.
)

// QuickReply is one saved reply. Title is a short label; the text is what
// goes into the message box.
type QuickReply struct {
	Title string `json:"title,omitempty"`
	Text  string `json:"text"`
}

// QuickReplies is the payload of quickreplies.set, the reply to both
// commands, and the data of the quickreplies event.
type QuickReplies struct {
	Replies []QuickReply `json:"replies"`
}

// CheckQuickReplies validates a list for quickreplies.set and returns it as
// it is to be stored: titles trimmed, texts as given (their line breaks and
// spacing are the agent's), never nil. Refusals: too_large for too many
// replies, a title or text over its limit, or a list over
// MaxQuickRepliesJSON; bad_request for an empty text or a title that is not
// one line.
func CheckQuickReplies(list []QuickReply) ([]QuickReply, *Error) {
	if len(list) > MaxQuickReplies {
		return nil, Errorf(CodeTooLarge, "%d quick replies exceed the limit of %d", len(list), MaxQuickReplies)
	}
	out := make([]QuickReply, 0, len(list))
	for i, r := range list {
		n := i + 1
		title := strings.TrimSpace(r.Title)
		switch {
		case !utf8.ValidString(title) || !utf8.ValidString(r.Text):
			return nil, Errorf(CodeBadRequest, "quick reply %d is not valid UTF-8", n)
		case strings.TrimSpace(r.Text) == "":
			return nil, Errorf(CodeBadRequest, "quick reply %d has no text", n)
		case utf8.RuneCountInString(r.Text) > MaxQuickReplyText:
			return nil, Errorf(CodeTooLarge, "quick reply %d: text of %d characters exceeds %d", n, utf8.RuneCountInString(r.Text), MaxQuickReplyText)
		case utf8.RuneCountInString(title) > MaxQuickReplyTitle:
			return nil, Errorf(CodeTooLarge, "quick reply %d: title of %d characters exceeds %d", n, utf8.RuneCountInString(title), MaxQuickReplyTitle)
		case strings.IndexFunc(title, unicode.IsControl) >= 0:
			return nil, Errorf(CodeBadRequest, "quick reply %d: the title must be one line", n)
		}
		out = append(out, QuickReply{Title: title, Text: r.Text})
	}
	if b, err := json.Marshal(QuickReplies{Replies: out}); err != nil || len(b) > MaxQuickRepliesJSON {
		return nil, Errorf(CodeTooLarge, "the quick replies take %d bytes, more than %d", len(b), MaxQuickRepliesJSON)
	}
	return out, nil
}
