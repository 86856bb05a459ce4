// Package wording holds the relay's own words for people, in English and
// Swedish: the system lines of a chat log (which travel as a code with
// parameters, see chat.NoteParams), the transcript of a chat kept with a
// request, and the answer e-mail around an agent's text. The desktop UI and
// the widget word the same codes themselves; tests check that every code has
// a text in every language of every one of them.
package wording

import (
	"strconv"
	"strings"
	"time"

	"switchboard/backend/chat"
)

// Languages are the languages the relay words texts in; the first is the
// fallback for any other.
var Languages = []string{"en", "sv"}

// Lang is lang when it is one of Languages, else English.
func Lang(lang string) string {
	if _, ok := notes[lang]; ok {
		return lang
	}
	return "en"
}

// notes: per language, per code, the line. {agent}, {by}, {to}, {from} are
// the names in the params, {reason} the reason's own wording. The "behalf"
// and "comment" variants are for a transfer someone started on the owner's
// behalf and one with a comment.
var notes = map[string]map[string]string{
	"en": {
		chat.NoteJoined:            "{agent} has joined the chat.",
		chat.NoteEndedByAgent:      "{agent} ended the chat.",
		chat.NoteVisitorLeft:       "The visitor left the chat.",
		chat.NoteLeftQueue:         "The visitor left while waiting.",
		chat.NoteIdleClosed:        "The chat was closed after a period without messages.",
		chat.NoteRequeued:          "{agent} is no longer available; the chat is back in the queue.",
		chat.NoteTransferOffered:   "{by} asked {to} to take over the chat.",
		chat.NoteTransferAccepted:  "{to} accepted the transfer.",
		chat.NoteTransferRejected:  "{to} rejected the transfer.",
		chat.NoteTransferCancelled: "{by} cancelled the transfer to {to}.",
		chat.NoteTransferExpired:   "The transfer to {to} expired unanswered.",
		chat.NoteTransferVoided:    "The transfer to {to} was voided: {reason}.",
		chat.NoteTookOver:          "{by} took over the chat from {from}.",
		"behalf":                   "{by} asked {to} to take over the chat from {from}.",
		"comment":                  "Comment: {comment}",
	},
	"sv": {
		chat.NoteJoined:            "{agent} har anslutit till chatten.",
		chat.NoteEndedByAgent:      "{agent} avslutade chatten.",
		chat.NoteVisitorLeft:       "Besökaren lämnade chatten.",
		chat.NoteLeftQueue:         "Besökaren lämnade kön.",
		chat.NoteIdleClosed:        "Chatten stängdes efter en stund utan meddelanden.",
		chat.NoteRequeued:          "{agent} är inte längre tillgänglig; chatten är tillbaka i kön.",
		chat.NoteTransferOffered:   "{by} bad {to} ta över chatten.",
		chat.NoteTransferAccepted:  "{to} accepterade överföringen.",
		chat.NoteTransferRejected:  "{to} avvisade överföringen.",
		chat.NoteTransferCancelled: "{by} avbröt överföringen till {to}.",
		chat.NoteTransferExpired:   "Överföringen till {to} besvarades inte i tid.",
		chat.NoteTransferVoided:    "Överföringen till {to} upphävdes: {reason}.",
		chat.NoteTookOver:          "{by} tog över chatten från {from}.",
		"behalf":                   "{by} bad {to} ta över chatten från {from}.",
		"comment":                  "Kommentar: {comment}",
	},
}

// reasons: why a transfer was voided; {agent} is whom the reason names.
var reasons = map[string]map[string]string{
	"en": {
		chat.VoidChatEnded:       "the chat ended",
		chat.VoidReceiverOffline: "{agent} went offline",
		chat.VoidReceiverRevoked: "the receiver may no longer answer chats here",
		chat.VoidOwnerOffline:    "{agent} went offline",
		chat.VoidOwnerRevoked:    "{agent} may no longer answer chats here",
		chat.VoidTakenOver:       "taken over by {agent}",
	},
	"sv": {
		chat.VoidChatEnded:       "chatten avslutades",
		chat.VoidReceiverOffline: "{agent} gick offline",
		chat.VoidReceiverRevoked: "mottagaren får inte längre svara på chattar här",
		chat.VoidOwnerOffline:    "{agent} gick offline",
		chat.VoidOwnerRevoked:    "{agent} får inte längre svara på chattar här",
		chat.VoidTakenOver:       "övertagen av {agent}",
	},
}

// words are the few single words the renderers need.
var words = map[string]map[string]string{
	"en": {"anAgent": "an agent", "system": "System", "visitor": "Visitor", "agent": "Agent", "staff": "(staff)", "file": "Attachment"},
	"sv": {"anAgent": "en agent", "system": "System", "visitor": "Besökare", "agent": "Agent", "staff": "(internt)", "file": "Bifogad fil"},
}

// Has reports whether lang words code (a note code, or a reason code when
// reason is true); for tests.
func Has(lang, code string, reason bool) bool {
	m := notes
	if reason {
		m = reasons
	}
	return m[lang][code] != ""
}

// Note words a system line in lang. A line stored before codes existed, or
// one with a code this relay does not know, keeps its own text.
func Note(lang string, e chat.Entry) string {
	lang = Lang(lang)
	text, ok := notes[lang][e.Note]
	if !ok {
		return e.Text
	}
	p := e.Params
	if e.Note == chat.NoteTransferOffered && p.By.ID != 0 && p.From.ID != 0 && p.By.ID != p.From.ID {
		text = notes[lang]["behalf"]
	}
	if e.Note == chat.NoteTransferOffered && p.Comment != "" {
		text += " " + notes[lang]["comment"]
	}
	agent := p.Agent.Name
	if agent == "" {
		agent = e.AuthorName // what a visitor-visible line named before params
	}
	return fill(text, lang, map[string]string{
		"agent": agent, "by": p.By.Name, "to": p.To.Name, "from": p.From.Name,
		"comment": p.Comment, "reason": Reason(lang, p.Reason, p.Agent.Name),
	})
}

// Reason words why a transfer was voided; an unknown code (an English
// reason stored before codes existed) is shown as it is.
func Reason(lang, code, agent string) string {
	lang = Lang(lang)
	text, ok := reasons[lang][code]
	if !ok {
		return code
	}
	return fill(text, lang, map[string]string{"agent": agent})
}

// fill puts the params into text; a name that is missing is "an agent".
func fill(text, lang string, params map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '{')
		j := strings.IndexByte(text[i+1:], '}')
		if i < 0 || j < 0 {
			break
		}
		key := text[i+1 : i+1+j]
		b.WriteString(text[:i])
		v := params[key]
		if v == "" && key != "comment" && key != "reason" {
			v = words[lang]["anAgent"]
		}
		b.WriteString(v)
		text = text[i+j+2:]
	}
	b.WriteString(text)
	return b.String()
}

// Transcript writes a chat's whole log in lang, one line per entry, in the
// time zone loc: "2026-11-28 10:02 Anna: text". System lines are worded in
// lang; continuation lines are indented so every entry starts a line with
// its time.
func Transcript(lang string, loc *time.Location, entries []chat.Entry) string {
	lang = Lang(lang)
	w := words[lang]
	var b strings.Builder
	for i := range entries {
		e := &entries[i]
		name, text := e.AuthorName, e.Text
		switch {
		case e.AuthorKind == chat.BySystem:
			// A system line's AuthorName is the agent it is about, not its author.
			name, text = w["system"], Note(lang, *e)
		case name == "" && e.AuthorKind == chat.ByVisitor:
			name = w["visitor"]
		case name == "":
			name = w["agent"]
		}
		b.WriteString(e.At.In(loc).Format("2006-01-02 15:04"))
		b.WriteByte(' ')
		b.WriteString(name)
		if e.Staff {
			b.WriteString(" " + w["staff"])
		}
		b.WriteString(": ")
		b.WriteString(strings.ReplaceAll(text, "\n", "\n    "))
		if f := e.File; f != nil {
			if text != "" {
				b.WriteString("\n    ")
			}
			b.WriteString("[" + w["file"] + ": " + f.Name + ", " + f.Type + ", " + FileSize(f.Size) + "]")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// AnswerWords are the words of an answer e-mail around the agent's text.
// Subject takes the request's title, Hello the visitor's name, Number the
// request's number and its subject tag.
type AnswerWords struct {
	Subject, Hello, Regards, Number, Quoted string
}

var answers = map[string]AnswerWords{
	"en": {
		Subject: "Answer to your request: %s",
		Hello:   "Hello %s,",
		Regards: "Kind regards,",
		Number:  "Your request number is %d. To write to us about it, reply to this e-mail and keep \"%s\" in the subject.",
		Quoted:  "You wrote:",
	},
	"sv": {
		Subject: "Svar på ditt ärende: %s",
		Hello:   "Hej %s,",
		Regards: "Vänliga hälsningar",
		Number:  "Ditt ärendenummer är %d. Svara på det här mejlet och behåll \"%s\" i ämnesraden om du vill skriva till oss om det.",
		Quoted:  "Du skrev:",
	},
}

// Answer is the wording of an answer e-mail in lang.
func Answer(lang string) AnswerWords { return answers[Lang(lang)] }

// FileSize words a file's size: 820 B, 14 KB, 2.4 MB.
func FileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1000*1000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}
