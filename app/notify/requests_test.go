package notify

import (
	"testing"

	"switchboard/backend/protocol"
)

func requestFrame(ev protocol.RequestEvent) protocol.ServerFrame {
	return frame(protocol.EvRequest, ev)
}

func TestNewRequestNotifiesWhomTheRelayMarked(t *testing.T) {
	t.Parallel()
	d := New()
	r := protocol.RequestInfo{Number: 1001, Channel: "support", Title: "Var är mitt paket?", State: "open", Visitor: protocol.VisitorInfo{Name: "Åsa"}}
	sv := present
	sv.Lang = "sv"
	notes := d.Event(requestFrame(protocol.RequestEvent{Request: r, Action: "created", Notify: true}), sv)
	if len(notes) != 1 || notes[0].Kind != KindRequest || notes[0].Title != "Nytt ärende #1001 i support" || notes[0].Body != "Åsa: Var är mitt paket?" {
		t.Fatalf("notes = %+v", notes)
	}
	for name, tc := range map[string]struct {
		ev    protocol.RequestEvent
		facts Facts
	}{
		"not marked for me":  {protocol.RequestEvent{Request: r, Action: "created"}, present},
		"a change, not new":  {protocol.RequestEvent{Request: r, Action: "claimed", Notify: true}, present},
		"muted":              {protocol.RequestEvent{Request: r, Action: "created", Notify: true}, Facts{Me: me, Status: "present", Muted: true, Perms: present.Perms}},
		"away":               {protocol.RequestEvent{Request: r, Action: "created", Notify: true}, Facts{Me: me, Status: "away", Perms: present.Perms}},
		"warning, no manage": {protocol.RequestEvent{Request: r, Warning: "manager", Waited: 300}, present},
	} {
		if notes := d.Event(requestFrame(tc.ev), tc.facts); len(notes) != 0 {
			t.Errorf("%s: %+v", name, notes)
		}
	}
	mgr := Facts{Me: me, Status: "present", Perms: map[string][]string{"support": {"manage"}}}
	notes = d.Event(requestFrame(protocol.RequestEvent{Request: r, Warning: "manager", Waited: 300}), mgr)
	if len(notes) != 1 || notes[0].Title != "Request #1001 has waited 5 min unclaimed" || notes[0].Body != "Åsa · support" {
		t.Fatalf("manager warning = %+v", notes)
	}
}
