package mail

import (
	"fmt"
	"strings"

	"switchboard/backend/wording"
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

// Tag is the request number as the subject carries it, "[#1001]": a reply
// keeps it, so it can be matched to its request.
func Tag(number int64) string { return fmt.Sprintf("[#%d]", number) }

// Compose words an answer in a language (en or sv; anything else is en;
// the words are package wording's) and returns the subject and the
// plain-text body.
func Compose(lang string, a Answer) (subject, body string) {
	w := wording.Answer(lang)
	subject = Tag(a.Number) + " " + fmt.Sprintf(w.Subject, oneLine(a.Title))
	var b strings.Builder
	fmt.Fprintf(&b, w.Hello+"\n\n", oneLine(a.Visitor))
	b.WriteString(strings.TrimSpace(a.Text))
	b.WriteString("\n\n" + w.Regards + "\n" + oneLine(a.Channel) + "\n\n")
	fmt.Fprintf(&b, w.Number+"\n", a.Number, Tag(a.Number))
	if q := strings.TrimSpace(a.Question); q != "" {
		b.WriteString("\n" + w.Quoted + "\n")
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
