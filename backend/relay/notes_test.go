package relay_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// noteLine writes a system line as its code and the names its params hold.
func noteLine(e protocol.Entry) string {
	out := e.Note
	if e.Note == "" || e.Text != "" {
		return fmt.Sprintf("a sentence, not a code: note %q text %q", e.Note, e.Text)
	}
	if p := e.Params; p != nil {
		for _, x := range []struct {
			key string
			a   *protocol.NoteAgent
		}{{"agent", p.Agent}, {"by", p.By}, {"to", p.To}, {"from", p.From}} {
			if x.a != nil {
				out += " " + x.key + "=" + x.a.Name
			}
		}
		if p.Reason != "" {
			out += " reason=" + p.Reason
		}
		if p.Comment != "" {
			out += " comment=" + p.Comment
		}
	}
	return out
}

// TestSystemLinesTravelAsCodes walks a chat through every system line a
// relay makes (join, a transfer offered and rejected, cancelled, expired,
// accepted, one on the owner's behalf voided by a take-over, one voided by
// the end) and checks that the store keeps, and every agent and the visitor
// receive, codes with params: no sentence in any language.
func TestSystemLinesTravelAsCodes(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Channel: store.ChannelRow{Key: "support", Name: "Kundtjänst", TimeZone: "UTC",
		TransferTimeout: 500 * time.Millisecond, Language: "sv"}})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	cecilia, _ := h.Agent("cecilia", nil)
	v, st := h.Visitor("Vera", "Var är mitt paket?")
	sid := st.Session
	ref := protocol.SessionRef{Session: sid}
	offer := func(by *relaytest.Client, to, comment string) int64 {
		var tr protocol.TransferInfo
		by.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: sid, To: h.ID(to), Comment: comment}, &tr)
		return tr.ID
	}

	anna.OK(protocol.CmdSessionPick, ref, nil)
	bertil.OK(protocol.CmdTransferReject, protocol.TransferRef{Transfer: offer(anna, "bertil", "Fakturafråga")}, nil)
	anna.OK(protocol.CmdTransferCancel, protocol.TransferRef{Transfer: offer(anna, "bertil", "")}, nil)
	expiring := offer(anna, "bertil", "")
	anna.Event(protocol.EvTransfer, 0, func(f protocol.ServerFrame) bool {
		return strings.Contains(string(f.Data), fmt.Sprintf(`"id":%d,`, expiring)) && strings.Contains(string(f.Data), `"state":"expired"`)
	})
	bertil.OK(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: offer(anna, "bertil", "")}, nil)
	voided := offer(cecilia, "anna", "") // on Bertil's behalf
	cecilia.OK(protocol.CmdSessionTakeover, ref, nil)
	offer(cecilia, "bertil", "")
	cecilia.OK(protocol.CmdSessionEnd, ref, nil)

	want := []string{
		"joined agent=Anna",
		"transfer_offered by=Anna to=Bertil from=Anna comment=Fakturafråga",
		"transfer_rejected by=Anna to=Bertil from=Anna",
		"transfer_offered by=Anna to=Bertil from=Anna",
		"transfer_cancelled by=Anna to=Bertil from=Anna",
		"transfer_offered by=Anna to=Bertil from=Anna",
		"transfer_expired by=Anna to=Bertil from=Anna",
		"transfer_offered by=Anna to=Bertil from=Anna",
		"transfer_accepted by=Anna to=Bertil from=Anna",
		"joined agent=Bertil",
		"transfer_offered by=Cecilia to=Anna from=Bertil",
		"transfer_voided agent=Cecilia by=Cecilia to=Anna from=Bertil reason=taken_over",
		"took_over by=Cecilia from=Bertil",
		"joined agent=Cecilia",
		"transfer_offered by=Cecilia to=Bertil from=Cecilia",
		"transfer_voided by=Cecilia to=Bertil from=Cecilia reason=chat_ended",
		"ended_agent agent=Cecilia",
	}
	visible := []string{"joined agent=Anna", "joined agent=Bertil", "joined agent=Cecilia", "ended_agent agent=Cecilia"}
	last := uint64(1 + len(want))

	lines := func(es []protocol.Entry) (out []string) {
		for _, e := range es {
			if e.Kind == protocol.EntryNote {
				out = append(out, noteLine(e))
			}
		}
		return out
	}
	// Anna owned the chat, then listened: she received every line.
	if got := lines(anna.WaitEntries(sid, last)); !slices.Equal(got, want) {
		t.Errorf("Anna received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := lines(v.WaitEntries(sid, last)); !slices.Equal(got, visible) {
		t.Errorf("the visitor received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(visible, "\n"))
	}
	// Staff lines name agents by id and name; lines the visitor sees by name only.
	for who, c := range map[string]*relaytest.Client{"anna": anna, "vera": v} {
		for _, e := range c.Entries(sid) {
			if p := e.Params; p != nil {
				for _, a := range []*protocol.NoteAgent{p.Agent, p.By, p.To, p.From} {
					if a == nil {
						continue
					}
					if want := h.ID(strings.ToLower(a.Name)); e.Staff && a.ID != want || !e.Staff && a.ID != 0 {
						t.Errorf("%s got %s named as id %d", who, a.Name, a.ID)
					}
				}
			}
		}
	}

	stored, err := h.Store.Entries(context.Background(), chat.SessionID(sid), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var storedLines []string
	for _, e := range stored {
		if e.Kind == chat.KindNote {
			storedLines = append(storedLines, noteLine(chat.EntryInfo(e)))
		}
	}
	if !slices.Equal(storedLines, want) {
		t.Errorf("stored:\n%s\nwant:\n%s", strings.Join(storedLines, "\n"), strings.Join(want, "\n"))
	}

	// The voided transfer's reason is a code too, in the history.
	var hist []protocol.TransferInfo
	cecilia.OK(protocol.CmdTransferHistory, protocol.TransferHistory{Session: sid}, &hist)
	for _, tr := range hist {
		if tr.ID == voided && (tr.State != protocol.TransferVoided || tr.Reason != chat.VoidTakenOver) {
			t.Errorf("the transfer voided by the take-over: %s %q", tr.State, tr.Reason)
		}
	}
}
