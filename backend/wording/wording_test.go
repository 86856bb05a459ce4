package wording

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// Every code the domain makes has a text in every language here, and the
// desktop UI's code list (which its own tests check against its
// dictionaries) is the domain's: a new code without a translation fails.
func TestEveryCodeHasEveryLanguage(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages {
		for _, code := range slices.Concat(chat.VisitorNotes, chat.StaffNotes) {
			if !Has(lang, code, false) {
				t.Errorf("%s: no text for note %q", lang, code)
			}
		}
		for _, code := range chat.VoidReasons {
			if !Has(lang, code, true) {
				t.Errorf("%s: no text for reason %q", lang, code)
			}
		}
		if len(notes[lang]) != len(notes["en"]) || len(reasons[lang]) != len(reasons["en"]) || len(words[lang]) != len(words["en"]) {
			t.Errorf("%s: not the same keys as en", lang)
		}
	}
}

func TestUICodeListIsTheDomains(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../frontend/src/lib/noteCodes.json")
	if err != nil {
		t.Fatal(err)
	}
	var ui struct{ Visitor, Staff, Reasons []string }
	if err := json.Unmarshal(b, &ui); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what     string
		ui, want []string
	}{{"visitor", ui.Visitor, chat.VisitorNotes}, {"staff", ui.Staff, chat.StaffNotes}, {"reasons", ui.Reasons, chat.VoidReasons}} {
		if !slices.Equal(c.ui, c.want) {
			t.Errorf("frontend/src/lib/noteCodes.json %s = %q, want %q", c.what, c.ui, c.want)
		}
	}
}

var (
	anna = chat.Party{ID: 1, Name: "Anna"}
	bo   = chat.Party{ID: 2, Name: "Bo"}
	mia  = chat.Party{ID: 4, Name: "Mia"}
)

func note(code string, p chat.NoteParams) chat.Entry {
	return chat.Entry{Kind: chat.KindNote, AuthorKind: chat.BySystem, Note: code, Params: p, Staff: true}
}

func TestNote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		e      chat.Entry
		en, sv string
	}{
		{"joined", chat.Entry{Note: chat.NoteJoined, Params: chat.NoteParams{Agent: chat.Party{Name: "Anna Berg"}}},
			"Anna Berg has joined the chat.", "Anna Berg har anslutit till chatten."},
		{"joined, stored with the name only in AuthorName", chat.Entry{Note: chat.NoteJoined, AuthorName: "Anna"},
			"Anna has joined the chat.", "Anna har anslutit till chatten."},
		{"visitor left", chat.Entry{Note: chat.NoteVisitorLeft}, "The visitor left the chat.", "Besökaren lämnade chatten."},
		{"offered", note(chat.NoteTransferOffered, chat.NoteParams{By: anna, To: bo, From: anna}),
			"Anna asked Bo to take over the chat.", "Anna bad Bo ta över chatten."},
		{"offered on behalf, with a comment", note(chat.NoteTransferOffered, chat.NoteParams{By: mia, To: bo, From: anna, Comment: "VIP"}),
			"Mia asked Bo to take over the chat from Anna. Comment: VIP", "Mia bad Bo ta över chatten från Anna. Kommentar: VIP"},
		{"accepted", note(chat.NoteTransferAccepted, chat.NoteParams{By: anna, To: bo, From: anna}),
			"Bo accepted the transfer.", "Bo accepterade överföringen."},
		{"cancelled", note(chat.NoteTransferCancelled, chat.NoteParams{By: mia, To: bo, From: anna}),
			"Mia cancelled the transfer to Bo.", "Mia avbröt överföringen till Bo."},
		{"voided: receiver offline", note(chat.NoteTransferVoided, chat.NoteParams{To: bo, Agent: bo, Reason: chat.VoidReceiverOffline}),
			"The transfer to Bo was voided: Bo went offline.", "Överföringen till Bo upphävdes: Bo gick offline."},
		{"voided: taken over", note(chat.NoteTransferVoided, chat.NoteParams{To: bo, Agent: mia, Reason: chat.VoidTakenOver}),
			"The transfer to Bo was voided: taken over by Mia.", "Överföringen till Bo upphävdes: övertagen av Mia."},
		{"took over", note(chat.NoteTookOver, chat.NoteParams{By: mia, From: anna}),
			"Mia took over the chat from Anna.", "Mia tog över chatten från Anna."},
		{"an agent the desk no longer knows", note(chat.NoteTransferExpired, chat.NoteParams{To: chat.Party{ID: 9}}),
			"The transfer to an agent expired unanswered.", "Överföringen till en agent besvarades inte i tid."},
		{"a line stored before codes: its text", chat.Entry{Text: "Bo rejected the transfer."},
			"Bo rejected the transfer.", "Bo rejected the transfer."},
		{"a code this relay does not know: its text", chat.Entry{Note: "future", Text: "x"}, "x", "x"},
		{"a brace in a name stays", chat.Entry{Note: chat.NoteJoined, Params: chat.NoteParams{Agent: chat.Party{Name: "{to}"}}},
			"{to} has joined the chat.", "{to} har anslutit till chatten."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Note("en", tc.e); got != tc.en {
				t.Errorf("en: %q, want %q", got, tc.en)
			}
			if got := Note("sv", tc.e); got != tc.sv {
				t.Errorf("sv: %q, want %q", got, tc.sv)
			}
			if got := Note("fi", tc.e); got != tc.en {
				t.Errorf("an unknown language: %q, want the English %q", got, tc.en)
			}
		})
	}
}

func TestTranscript(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 9, 2, 0, 0, time.UTC)
	entries := []chat.Entry{
		{At: at, Kind: chat.KindMessage, AuthorKind: chat.ByVisitor, AuthorName: "Vera", Text: "Var är mitt paket?\nDet är sent."},
		{At: at, Kind: chat.KindNote, AuthorKind: chat.BySystem, AuthorName: "Anna", Note: chat.NoteJoined,
			Params: chat.NoteParams{Agent: chat.Party{Name: "Anna"}}},
		{At: at, Kind: chat.KindNote, AuthorKind: chat.BySystem, Staff: true, Note: chat.NoteTransferOffered,
			Params: chat.NoteParams{By: anna, To: bo, From: anna}},
		{At: at, Kind: chat.KindMessage, AuthorKind: chat.ByVisitor, Text: "Tack"},
	}
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Skip("no time zone database")
	}
	got := Transcript("sv", stockholm, entries)
	want := "2026-11-28 10:02 Vera: Var är mitt paket?\n    Det är sent.\n" +
		"2026-11-28 10:02 System: Anna har anslutit till chatten.\n" +
		"2026-11-28 10:02 System (internt): Anna bad Bo ta över chatten.\n" +
		"2026-11-28 10:02 Besökare: Tack\n"
	if got != want {
		t.Errorf("sv transcript:\n%s\nwant:\n%s", got, want)
	}
	if en := Transcript("en", time.UTC, entries); !strings.Contains(en, "09:02 System (staff): Anna asked Bo to take over the chat.\n") ||
		!strings.Contains(en, "09:02 Visitor: Tack") {
		t.Errorf("en transcript:\n%s", en)
	}
}

func TestAnswerWordsInEveryLanguage(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages {
		w := Answer(lang)
		if w.Subject == "" || w.Hello == "" || w.Regards == "" || w.Number == "" || w.Quoted == "" {
			t.Errorf("%s: %+v", lang, w)
		}
	}
	if Answer("de") != Answer("en") {
		t.Error("an unknown language is not English")
	}
}
