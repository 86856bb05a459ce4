package mail

import (
	"fmt"
	"strings"
)

// Answer is what the answer to a request says.
type Answer struct {
	Number   int64
	Title    string // the request's title (the question's first line)
	Visitor  string // the visitor's name
	Question string // what the visitor wrote (quoted below the answer)
	Text     string // the agent's answer
	Channel  string // the channel's display name, who signs
}

// wording is one language's text around an answer.
type wording struct {
	subject, hello, regards, number, quoted string
}

var wordings = map[string]wording{
	"en": {
		subject: "Answer to your request: %s",
		hello:   "Hello %s,",
		regards: "Kind regards,",
		number:  "Your request number is %d. To write to us about it, reply to this e-mail and keep \"%s\" in the subject.",
		quoted:  "You wrote:",
	},
	"sv": {
		subject: "Svar på ditt ärende: %s",
		hello:   "Hej %s,",
		regards: "Vänliga hälsningar",
		number:  "Ditt ärendenummer är %d. Svara på det här mejlet och behåll \"%s\" i ämnesraden om du vill skriva till oss om det.",
		quoted:  "Du skrev:",
	},
}

// Tag is the request number as the subject carries it, "[#1001]": a reply
// keeps it, so it can be matched to its request.
func Tag(number int64) string { return fmt.Sprintf("[#%d]", number) }

// Compose words an answer in a language (en or sv; anything else is en) and
// returns the subject and the plain-text body.
func Compose(lang string, a Answer) (subject, body string) {
	w, ok := wordings[lang]
	if !ok {
		w = wordings["en"]
	}
	subject = Tag(a.Number) + " " + fmt.Sprintf(w.subject, oneLine(a.Title))
	var b strings.Builder
	fmt.Fprintf(&b, w.hello+"\n\n", oneLine(a.Visitor))
	b.WriteString(strings.TrimSpace(a.Text))
	b.WriteString("\n\n" + w.regards + "\n" + oneLine(a.Channel) + "\n\n")
	fmt.Fprintf(&b, w.number+"\n", a.Number, Tag(a.Number))
	if q := strings.TrimSpace(a.Question); q != "" {
		b.WriteString("\n" + w.quoted + "\n")
		for _, line := range strings.Split(q, "\n") {
			b.WriteString("> " + strings.TrimRight(line, "\r") + "\n")
		}
	}
	return subject, b.String()
}

// oneLine keeps header-bound text on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
