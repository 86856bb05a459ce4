package app

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	notifynative "switchboard/app/notify/native"
	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// countingNotifications is the fake notification server, counting how often
// it is asked what it can do (the first thing a notifier that connects does).
type countingNotifications struct {
	*fakeNotifications
	asked atomic.Int32
}

func (n *countingNotifications) GetCapabilities() ([]string, *dbus.Error) {
	n.asked.Add(1)
	return n.fakeNotifications.GetCapabilities()
}

// The desk window's notifier connects only once its page has loaded, so the
// first frame never waits for the notification server (which D-Bus may have
// to start). A notification raised before then is held, not lost, and shown
// once the notifier is up.
func TestDBusNotifierWaitsForThePage(t *testing.T) {
	conn := sessionBus(t)
	notes := &countingNotifications{fakeNotifications: &fakeNotifications{}}
	own(t, conn, notifynative.BusName, notifynative.Path, notifynative.Interface, notes)

	h := relaytest.Start(t, relaytest.Options{})
	bertil := newTestDesk(t, deskOpts{})
	loaded := make(chan struct{})
	svc, _ := startServices(bertil.c, servicesOptions{Notify: true, Logger: testLogger(), NotifyAfter: loaded})
	t.Cleanup(svc.stop)
	bertil.login(h.URL(), "bertil", false)

	visitor := relaytest.Dial(t, h.URL(), "")
	visitor.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, nil)
	visitor.OK(protocol.CmdChatStart, protocol.ChatStart{Name: "Vera", Email: "v@example.com", Question: "Hello?"}, nil)
	// The chat reached bertil's desk: its notification is raised, and held.
	wait(t, "the waiting chat in bertil's desk", func() bool { return bertil.c.trayState().Waiting > 0 })
	time.Sleep(200 * time.Millisecond)
	if n := notes.asked.Load(); n != 0 {
		t.Fatalf("the notifier asked the server %d times before the page loaded", n)
	}
	if c, ok := notes.find(func(notifyCall) bool { return true }); ok {
		t.Fatalf("a notification was shown before the page loaded: %+v", c)
	}

	close(loaded)
	wait(t, "the held notification", func() bool {
		_, ok := notes.find(func(c notifyCall) bool { return strings.Contains(c.summary, "New chat") })
		return ok
	})
	if n := notes.asked.Load(); n != 1 {
		t.Fatalf("the notifier asked the server %d times, want once", n)
	}
}
