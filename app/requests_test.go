package app

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"switchboard/app/notify"
	"switchboard/backend/mail/mailtest"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
)

// TestRequestsInbox: an offline message reaches the agent's app as an event,
// a notification and a tray count; Desk.Command lists, claims, answers
// (the e-mail arrives) and close it.
func TestRequestsInbox(t *testing.T) {
	t.Parallel()
	sink := mailtest.Start(t)
	h := relaytest.Start(t, relaytest.Options{Closed: true, Config: func(c *relay.Config) {
		c.Mail = sink.Config(t)
		c.OutboxPoll = 50 * time.Millisecond
	}})
	anna := newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	desk := newDesk(anna.c)

	v := relaytest.Dial(t, h.URL(), "")
	defer v.Close()
	v.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, nil)
	var rc protocol.RequestCreated
	v.OK(protocol.CmdOfflineSubmit, protocol.OfflineSubmit{Name: "Åsa", Email: "asa@example.com", Question: "Var är mitt paket?"}, &rc)

	ev, _ := waitRelay(anna, protocol.EvRequest, 0, func(e protocol.RequestEvent) bool { return e.Request.Number == rc.Number })
	if !ev.Notify {
		t.Errorf("event = %+v", ev)
	}
	wait(t, "a request notification", func() bool {
		anna.mu.Lock()
		defer anna.mu.Unlock()
		for _, n := range anna.notes {
			if n.Kind == notify.KindRequest && strings.Contains(n.Title, "#1001") {
				return true
			}
		}
		return false
	})
	wait(t, "the tray count", func() bool { return anna.c.trayState().Requests == 1 })

	var list protocol.RequestListReply
	if err := json.Unmarshal(anna.ok("requests", desk.Command(protocol.CmdRequestList, asJSON(t, protocol.RequestList{Newest: true}))), &list); err != nil ||
		len(list.Requests) != 1 || !list.Mail {
		t.Fatalf("list %+v %v", list, err)
	}
	anna.ok("claim", desk.Command(protocol.CmdRequestClaim, asJSON(t, protocol.RequestRef{Number: rc.Number})))
	wait(t, "the tray count after the claim", func() bool { return anna.c.trayState().Requests == 0 })
	anna.ok("answer", desk.Command(protocol.CmdRequestAnswer, asJSON(t, protocol.RequestAnswer{Number: rc.Number, Text: "Hej Åsa! Det är på väg."})))
	m := sink.Wait(t, 1, 10*time.Second)[0]
	if !strings.HasPrefix(m.Header("Subject"), "[#1001] ") || !strings.Contains(m.Body(), "Hej Åsa! Det är på väg.") {
		t.Errorf("e-mail: %q\n%s", m.Header("Subject"), m.Body())
	}
	var d protocol.RequestDetail
	if err := json.Unmarshal(anna.ok("request", desk.Command(protocol.CmdRequestGet, asJSON(t, protocol.RequestRef{Number: rc.Number}))), &d); err != nil || d.State != protocol.RequestAnswered {
		t.Fatalf("detail %+v %v", d, err)
	}
	anna.ok("close", desk.Command(protocol.CmdRequestClose, asJSON(t, protocol.RequestRef{Number: rc.Number})))
	anna.refused("assign without manage", desk.Command(protocol.CmdRequestAssign, asJSON(t, protocol.RequestAssign{Number: rc.Number, To: h.ID("bertil")})), protocol.CodeNotFound)
}

// TestTrayCountsRequestsMadeWhileAway: a desk that signs in later counts the
// open requests already there.
func TestTrayCountsRequestsMadeWhileAway(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	v := relaytest.Dial(t, h.URL(), "")
	defer v.Close()
	v.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, nil)
	for _, q := range []string{"One?", "Two?"} {
		v.OK(protocol.CmdOfflineSubmit, protocol.OfflineSubmit{Name: "Walt", Email: "walt@example.com", Question: q}, nil)
	}
	anna := newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	wait(t, "the tray count", func() bool { return anna.c.trayState().Requests == 2 })
	anna.refused("answer by mail without SMTP", newDesk(anna.c).Command(protocol.CmdRequestAnswer, json.RawMessage(`{"number":1001,"text":"Yes"}`)), protocol.CodeMailNotConfigured)
}
