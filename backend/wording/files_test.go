package wording

import (
	"strings"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// A transcript (the request e-mails' and the desk's) names each attachment
// with its name, type and size, in the transcript's language.
func TestTranscriptListsAttachments(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	entries := []chat.Entry{
		{Seq: 1, At: at, Kind: chat.KindMessage, AuthorKind: chat.ByVisitor, AuthorName: "Vera",
			File: &chat.Attachment{ID: "f1", Name: "skärmbild.png", Type: "image/png", Size: 24_800}},
		{Seq: 2, At: at, Kind: chat.KindMessage, AuthorKind: chat.ByAgent, AuthorName: "Anna", Text: "Here is the invoice",
			File: &chat.Attachment{ID: "f2", Name: "invoice.pdf", Type: "application/pdf", Size: 2_400_000}},
	}
	en := Transcript("en", time.UTC, entries)
	for _, want := range []string{"Vera: [Attachment: skärmbild.png, image/png, 25 KB]", "Anna: Here is the invoice\n    [Attachment: invoice.pdf, application/pdf, 2.4 MB]"} {
		if !strings.Contains(en, want) {
			t.Fatalf("transcript lacks %q:\n%s", want, en)
		}
	}
	if sv := Transcript("sv", time.UTC, entries); !strings.Contains(sv, "[Bifogad fil: skärmbild.png") {
		t.Fatalf("Swedish transcript:\n%s", sv)
	}
}
