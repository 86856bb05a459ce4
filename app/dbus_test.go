package app

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"switchboard/app/internal/sessionbus"
	"switchboard/app/notify"
	notifynative "switchboard/app/notify/native"
	"switchboard/app/tray"
	traynative "switchboard/app/tray/native"
	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// fakeWatcher is a minimal org.kde.StatusNotifierWatcher: the tray host.
type fakeWatcher struct {
	mu    sync.Mutex
	items []registered
}

type registered struct {
	sender dbus.Sender
	path   string
}

func (w *fakeWatcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.mu.Lock()
	w.items = append(w.items, registered{sender, service})
	w.mu.Unlock()
	return nil
}

func (w *fakeWatcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func (w *fakeWatcher) registered() []registered {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.items)
}

// fakeNotifications is a minimal org.freedesktop.Notifications server that
// records every Notify.
type fakeNotifications struct {
	mu     sync.Mutex
	calls  []notifyCall
	closed []uint32 // ids asked to close (CloseNotification)
	caps   []string // nil: actions and body
}

type notifyCall struct {
	id, replaces             uint32
	app, summary, body, icon string
	actions                  []string
	hints                    map[string]dbus.Variant
}

func (n *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := uint32(len(n.calls) + 1)
	if replaces != 0 {
		id = replaces // the spec: the notification keeps its id
	}
	n.calls = append(n.calls, notifyCall{id, replaces, app, summary, body, icon, actions, hints})
	return id, nil
}

func (n *fakeNotifications) GetCapabilities() ([]string, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.caps != nil {
		return slices.Clone(n.caps), nil
	}
	return []string{"actions", "body"}, nil
}

func (n *fakeNotifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "switchboard-tests", "1", "1.2", nil
}

func (n *fakeNotifications) CloseNotification(id uint32) *dbus.Error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = append(n.closed, id)
	return nil
}

func (n *fakeNotifications) wasClosed(id uint32) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Contains(n.closed, id)
}

func (n *fakeNotifications) find(pred func(notifyCall) bool) (notifyCall, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.calls {
		if pred(c) {
			return c, true
		}
	}
	return notifyCall{}, false
}

// sessionBus connects to the test's private session bus (make test-dbus),
// or skips the test when there is none.
func sessionBus(t *testing.T) *dbus.Conn {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no D-Bus session bus; run: make test-dbus")
	}
	conn, err := sessionbus.Connect()
	if err != nil {
		t.Skipf("session bus unreachable (%v); run: make test-dbus", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// own exports obj at path under iface and takes name, skipping the test
// when a real desktop already owns it.
func own(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath, iface string, obj any) {
	t.Helper()
	if err := conn.Export(obj, path, iface); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil {
		t.Fatal(err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		t.Skipf("%s is owned by someone else on this bus; run: make test-dbus", name)
	}
}

// menuEntry is one item of the tray's menu as a host sees it.
type menuEntry struct {
	id    int32
	label string
	props map[string]dbus.Variant
}

// readMenu reads the tray's menu as a host does, with GetLayout. Under the
// race detector it reads the same items with GetGroupProperties instead:
// systray v1.12.2's GetLayout starts a delayed refresh that writes the menu
// version without the lock GetLayout reads it under, which -race reports
// (a race inside systray, not in this app).
func readMenu(t *testing.T, conn *dbus.Conn, dest string, path dbus.ObjectPath) []menuEntry {
	t.Helper()
	obj := conn.Object(dest, path)
	var out []menuEntry
	add := func(id int32, props map[string]dbus.Variant) {
		if props["type"].Value() == "separator" {
			return
		}
		label, _ := props["label"].Value().(string)
		out = append(out, menuEntry{id: id, label: label, props: props})
	}
	if raceEnabled {
		ids := make([]int32, 500)
		for i := range ids {
			ids[i] = int32(i + 1)
		}
		var groups []struct {
			ID    int32
			Props map[string]dbus.Variant
		}
		if err := obj.Call("com.canonical.dbusmenu.GetGroupProperties", 0, ids, []string{}).Store(&groups); err != nil {
			t.Fatalf("GetGroupProperties: %v", err)
		}
		for _, g := range groups { // IDs grow in menu order within one build
			add(g.ID, g.Props)
		}
		return out
	}
	var rev uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &layout); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	for _, ch := range layout.Children {
		fields, ok := ch.Value().([]any)
		if !ok || len(fields) < 2 {
			t.Fatalf("menu child %v", ch)
		}
		id, _ := fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		add(id, props)
	}
	return out
}

func entry(entries []menuEntry, label string) (menuEntry, bool) {
	for _, e := range entries {
		if e.label == label {
			return e, true
		}
	}
	return menuEntry{}, false
}

// The tray and the notifier over a real D-Bus session bus (make test-dbus
// runs this under dbus-run-session), with this test owning the tray host
// and the notification server: the icon registers, its menu lists the
// incoming transfer, the transfer's notification carries Accept / Open, and
// invoking Accept accepts it on the relay.
func TestDBusTrayAndNotifications(t *testing.T) {
	conn := sessionBus(t)

	watcher := &fakeWatcher{}
	own(t, conn, traynative.WatcherName, "/StatusNotifierWatcher", traynative.WatcherName, watcher)
	if _, err := prop.Export(conn, "/StatusNotifierWatcher", prop.Map{traynative.WatcherName: {
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
	}}); err != nil {
		t.Fatal(err)
	}
	notes := &fakeNotifications{}
	own(t, conn, notifynative.BusName, notifynative.Path, notifynative.Interface, notes)

	h := relaytest.Start(t, relaytest.Options{})
	anna, bertil := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	attention := &attentionLog{}
	svc, host := startServices(bertil.c, servicesOptions{Tray: true, Notify: true, Logger: testLogger(), Attention: attention.set})
	t.Cleanup(svc.stop)
	if !host {
		t.Fatal("no tray host found, though this test owns the watcher")
	}
	if d, ok := svc.sender.(*notifynative.DBus); !ok || !d.Actions() {
		t.Fatalf("notifier %T: want the D-Bus one with actions", svc.sender)
	}
	bertil.login(h.URL(), "bertil", false)
	anna.login(h.URL(), "anna", false)

	// The icon registered with the watcher, from our own process.
	wait(t, "tray registration", func() bool { return len(watcher.registered()) > 0 })
	item := watcher.registered()[0]
	if item.path != "/StatusNotifierItem" {
		t.Fatalf("registered %+v", item)
	}
	itemObj := conn.Object(string(item.sender), dbus.ObjectPath(item.path))
	menuProp, err := itemObj.GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatal(err)
	}
	menuPath, _ := menuProp.Value().(dbus.ObjectPath)
	if tip, err := itemObj.GetProperty("org.kde.StatusNotifierItem.ToolTip"); err != nil || !strings.Contains(tip.String(), "Switchboard") {
		t.Fatalf("tooltip %v %v", tip, err)
	}

	// The icon as a tray host draws it, before any offer.
	wait(t, "the present icon", func() bool {
		tip, err := itemObj.GetProperty("org.kde.StatusNotifierItem.ToolTip")
		return err == nil && strings.Contains(tip.String(), "Switchboard: Present")
	})
	idle := pixmapOf(t, itemObj)

	_, st := h.Visitor("Vera", "Where is my parcel?")
	sid := st.Session
	anna.ok("pick", anna.c.pick(sid))
	var ti protocol.TransferInfo
	raw := anna.ok("transfer", anna.c.transfer(protocol.TransferStart{Session: sid, To: h.ID("bertil"), Comment: "Knows the courier"}))
	if err := json.Unmarshal(raw, &ti); err != nil {
		t.Fatal(err)
	}

	// The notification: sender, visitor, comment, and the two buttons.
	var call notifyCall
	wait(t, "transfer notification", func() bool {
		var ok bool
		call, ok = notes.find(func(c notifyCall) bool { return strings.Contains(c.summary, "Anna") })
		return ok
	})
	if call.app != "Switchboard" || !strings.Contains(call.body, "Vera") || !strings.Contains(call.body, "Knows the courier") {
		t.Fatalf("notify %+v", call)
	}
	if !slices.Equal(call.actions, []string{"accept", "Accept", "open", "Open"}) {
		t.Fatalf("actions %q", call.actions)
	}
	if u, _ := call.hints["urgency"].Value().(byte); u != 2 {
		t.Fatalf("urgency hint %v", call.hints["urgency"])
	}

	// While it waits: another icon, a tooltip that counts it, and the
	// window asked for attention.
	wait(t, "the offer's icon", func() bool { return pixmapOf(t, itemObj) != idle })
	if tip, err := itemObj.GetProperty("org.kde.StatusNotifierItem.ToolTip"); err != nil || !strings.Contains(tip.String(), "1 transfer") {
		t.Fatalf("tooltip while an offer waits: %v %v", tip, err)
	}
	wait(t, "attention asked", func() bool { return slices.Equal(attention.calls(), []bool{true}) })

	// The menu, read as a tray host reads it.
	transferLabel := "Transfer from Anna: Vera (Knows the courier)"
	wait(t, "tray shows the transfer", func() bool { return traynative.Has(svc.tray.Shown(), tray.TransferID(ti.ID)) })
	entries := readMenu(t, conn, string(item.sender), menuPath)
	for _, want := range []string{"Open Switchboard", "Present", "Away", transferLabel, "Quit"} {
		if _, ok := entry(entries, want); !ok {
			t.Fatalf("menu lacks %q: %+v", want, entries)
		}
	}
	if p, _ := entry(entries, "Present"); p.props["toggle-state"].Value() != int32(1) && p.props["toggle-state"].Value() != 1 {
		t.Fatalf("Present not checked: %v", p.props)
	}
	if _, ok := entry(entries, "Dashboard"); ok {
		t.Fatal("Dashboard offered without listen or manage")
	}
	// systray refreshes its layout 150 ms after the first read; let that
	// pass before the menu changes again.
	time.Sleep(300 * time.Millisecond)

	// Accept, as the notification server reports the button.
	if err := conn.Emit(notifynative.Path, notifynative.Interface+".ActionInvoked", call.id, "accept"); err != nil {
		t.Fatal(err)
	}
	waitRelay(anna, protocol.EvTransfer, 0, func(x protocol.TransferInfo) bool {
		return x.ID == ti.ID && x.State == protocol.TransferAccepted
	})
	open, _ := bertil.waitEvent(EventOpen, 0, nil)
	if open.(OpenPayload).Session != sid {
		t.Fatalf("app:open %+v", open)
	}
	wait(t, "transfer item gone", func() bool { return !traynative.Has(svc.tray.Shown(), tray.TransferID(ti.ID)) })
	wait(t, "the icon back", func() bool { return pixmapOf(t, itemObj) == idle })
	wait(t, "attention over", func() bool { return slices.Equal(attention.calls(), []bool{true, false}) })

	// A click on "Away" in the menu sets the status on the relay. The menu
	// was rebuilt without the transfer: read it again for the new IDs.
	entries = readMenu(t, conn, string(item.sender), menuPath)
	if _, ok := entry(entries, transferLabel); ok {
		t.Fatalf("menu still offers the accepted transfer: %+v", entries)
	}
	away, _ := entry(entries, "Away")
	if err := conn.Object(string(item.sender), menuPath).Call("com.canonical.dbusmenu.Event", 0,
		away.id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
		t.Fatal(err)
	}
	wait(t, "away", func() bool { return bertil.c.trayState().Status == protocol.StatusAway })
	wait(t, "icon away", func() bool {
		shown := svc.tray.Shown()
		i := slices.IndexFunc(shown, func(it tray.Item) bool { return it.ID == tray.IDAway })
		return i >= 0 && shown[i].Checked
	})
}

// pixmapOf reads the tray icon's picture as a host does.
func pixmapOf(t *testing.T, item dbus.BusObject) string {
	t.Helper()
	v, err := item.GetProperty("org.kde.StatusNotifierItem.IconPixmap")
	if err != nil {
		t.Fatalf("IconPixmap: %v", err)
	}
	return v.String()
}

// attentionLog records the window's attention requests.
type attentionLog struct {
	mu  sync.Mutex
	log []bool
}

func (a *attentionLog) set(on bool) {
	a.mu.Lock()
	a.log = append(a.log, on)
	a.mu.Unlock()
}

func (a *attentionLog) calls() []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.log)
}

// A notification server that reads bodies as markup (body-markup) gets what
// a visitor typed escaped, so that it shows as typed and cannot style, link
// or load anything; one that reads plain text gets it as it is.
func TestDBusNotificationBodyIsEscaped(t *testing.T) {
	conn := sessionBus(t)
	notes := &fakeNotifications{caps: []string{"actions", "body", "body-markup"}}
	own(t, conn, notifynative.BusName, notifynative.Path, notifynative.Interface, notes)

	h := relaytest.Start(t, relaytest.Options{})
	bertil := newTestDesk(t, deskOpts{})
	svc, _ := startServices(bertil.c, servicesOptions{Notify: true, Logger: testLogger()})
	t.Cleanup(svc.stop)
	bertil.login(h.URL(), "bertil", false)

	const name, question = `<b>x</b> & <a href="https://evil.example">`, `<img src="https://evil.example/t.png"> &amp; more`
	visitor := relaytest.Dial(t, h.URL(), "")
	visitor.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, nil)
	visitor.OK(protocol.CmdChatStart, protocol.ChatStart{Name: name, Email: "v@example.com", Question: question}, nil)
	var call notifyCall
	wait(t, "new chat notification", func() bool {
		var ok bool
		call, ok = notes.find(func(c notifyCall) bool { return strings.Contains(c.summary, "New chat") })
		return ok
	})
	want := `&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href="https://evil.example"&gt;: &lt;img src="https://evil.example/t.png"&gt; &amp;amp; more`
	if call.body != want {
		t.Fatalf("body sent to a markup server:\n got %s\nwant %s", call.body, want)
	}

	// A server without body-markup shows the body as text: it gets it as is.
	notes.mu.Lock()
	notes.caps = []string{"actions", "body"}
	notes.mu.Unlock()
	plain, err := notifynative.NewDBus(nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	if err := plain.Send(t.Context(), notify.Note{Title: "plain", Body: name}); err != nil {
		t.Fatal(err)
	}
	if c, ok := notes.find(func(c notifyCall) bool { return c.summary == "plain" }); !ok || c.body != name {
		t.Fatalf("body sent to a plain-text server: %+v", c)
	}
}

// Notifications are withdrawn when what they announce is over: a transfer
// offer once cancelled, a waiting chat once someone took it. An Accept
// pressed on an offer that ended meanwhile says what happened, in the
// desk's language.
func TestDBusNotificationsAreWithdrawn(t *testing.T) {
	conn := sessionBus(t)
	notes := &fakeNotifications{}
	own(t, conn, notifynative.BusName, notifynative.Path, notifynative.Interface, notes)

	h := relaytest.Start(t, relaytest.Options{})
	anna, bertil := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	svc, _ := startServices(bertil.c, servicesOptions{Notify: true, Logger: testLogger()})
	t.Cleanup(svc.stop)
	bertil.login(h.URL(), "bertil", false)
	bertil.ok("language", bertil.c.setLanguage("sv"))
	anna.login(h.URL(), "anna", false)

	// A new chat is announced to Bertil, then withdrawn once Anna takes it.
	_, st := h.Visitor("Vera", "Var är mitt paket?")
	sid := st.Session
	var waiting notifyCall
	wait(t, "new chat notification", func() bool {
		var ok bool
		waiting, ok = notes.find(func(c notifyCall) bool { return strings.Contains(c.body, "Vera") })
		return ok
	})
	anna.ok("pick", anna.c.pick(sid))
	wait(t, "the new-chat notification withdrawn", func() bool { return notes.wasClosed(waiting.id) })

	// An offer to Bertil, cancelled by Anna: withdrawn.
	var ti protocol.TransferInfo
	if err := json.Unmarshal(anna.ok("transfer", anna.c.transfer(protocol.TransferStart{Session: sid, To: h.ID("bertil")})), &ti); err != nil {
		t.Fatal(err)
	}
	var offer notifyCall
	wait(t, "transfer notification", func() bool {
		var ok bool
		offer, ok = notes.find(func(c notifyCall) bool { return strings.Contains(c.summary, "Anna") })
		return ok
	})
	anna.ok("cancel", anna.c.cancel(ti.ID))
	wait(t, "the offer withdrawn", func() bool { return notes.wasClosed(offer.id) })

	// Accept pressed on it anyway (a server that was slow to take it down):
	// the desk says, in Swedish, that Anna cancelled it.
	mark := len(bertil.rec.Events())
	if err := conn.Emit(notifynative.Path, notifynative.Interface+".ActionInvoked", offer.id, "accept"); err != nil {
		t.Fatal(err)
	}
	n, _ := bertil.waitEvent(EventNotice, mark, nil)
	if text := n.(NoticePayload).Text; text != "Anna Berg avbröt överföringen av chatten med Vera: det finns inget att acceptera." &&
		text != "Anna avbröt överföringen av chatten med Vera: det finns inget att acceptera." {
		t.Fatalf("notice after a stale Accept: %q", text)
	}
}
