// Package native shows notify.Notes on the desktop. On Linux it talks to
// org.freedesktop.Notifications itself over a private D-Bus connection, so
// that a transfer can carry Accept / Open buttons (beeep cannot) and the
// ActionInvoked signal comes back to us. Elsewhere, or with no notification
// server on the bus, it falls back to beeep.
package native

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gen2brain/beeep"
	"github.com/godbus/dbus/v5"

	"switchboard/app/internal/sessionbus"
	"switchboard/app/notify"
)

// Sender puts notes on screen.
type Sender interface {
	Send(ctx context.Context, n notify.Note) error
	// Withdraw takes down the note shown under key, where the system can.
	Withdraw(ctx context.Context, key string) error
	Close() error
}

// OnAction hears a button (or the body: notify.ActionDefault) clicked on a
// note this Sender showed.
type OnAction func(n notify.Note, action string)

// AppName is how the notifications are signed.
const AppName = "Switchboard"

// New returns the best Sender for this desktop.
func New(onAction OnAction, log *slog.Logger) Sender {
	if log == nil {
		log = slog.Default()
	}
	if sessionbus.Needed() {
		d, err := NewDBus(onAction, log)
		if err == nil {
			return d
		}
		log.Info("no notification server on the session bus; using beeep", "err", err)
	}
	return Beeep{}
}

// D-Bus names of the notification spec.
const (
	BusName   = "org.freedesktop.Notifications"
	Path      = dbus.ObjectPath("/org/freedesktop/Notifications")
	Interface = "org.freedesktop.Notifications"
)

// DBus is a Sender speaking the freedesktop notification spec.
type DBus struct {
	conn     *dbus.Conn
	obj      dbus.BusObject
	actions  bool // the server draws buttons
	markup   bool // the server reads the body as markup (body-markup)
	onAction OnAction
	log      *slog.Logger

	mu    sync.Mutex
	shown map[uint32]notify.Note // id -> note, until closed
	keyed map[string]uint32      // a note's key -> its id on screen
}

// NewDBus connects, asks the server what it can do and listens for its
// signals. It fails when no notification server answers.
func NewDBus(onAction OnAction, log *slog.Logger) (*DBus, error) {
	if log == nil {
		log = slog.Default()
	}
	conn, err := sessionbus.Connect()
	if err != nil {
		return nil, err
	}
	d := &DBus{conn: conn, obj: conn.Object(BusName, Path), onAction: onAction, log: log,
		shown: map[uint32]notify.Note{}, keyed: map[string]uint32{}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var caps []string
	if err := d.obj.CallWithContext(ctx, Interface+".GetCapabilities", 0).Store(&caps); err != nil {
		conn.Close()
		return nil, err
	}
	for _, c := range caps {
		switch c {
		case "actions":
			d.actions = true
		case "body-markup":
			d.markup = true
		}
	}
	if err := conn.AddMatchSignal(dbus.WithMatchObjectPath(Path), dbus.WithMatchInterface(Interface)); err != nil {
		conn.Close()
		return nil, err
	}
	sigs := make(chan *dbus.Signal, 16)
	conn.Signal(sigs)
	go d.signals(sigs)
	return d, nil
}

// Actions reports whether the server shows buttons.
func (d *DBus) Actions() bool { return d.actions }

// Send shows n; its buttons only where the server supports them. The body
// carries what visitors typed (name, question): where the server reads it
// as markup, it is escaped so that it shows as typed and cannot style,
// link or load anything. The summary is plain text by the spec.
func (d *DBus) Send(ctx context.Context, n notify.Note) error {
	body := n.Body
	if d.markup {
		body = EscapeMarkup(body)
	}
	actions := []string{}
	if d.actions {
		for _, a := range n.Actions {
			actions = append(actions, a.Key, a.Label)
		}
	}
	urgency := byte(1)
	if n.Urgent {
		urgency = 2 // critical: stays until answered, as a transfer should
	}
	hints := map[string]dbus.Variant{
		"urgency":       dbus.MakeVariant(urgency),
		"desktop-entry": dbus.MakeVariant("switchboard"),
		"category":      dbus.MakeVariant("im.received"),
	}
	// A note about the same thing replaces the one on screen (replaces_id).
	d.mu.Lock()
	replaces := d.keyed[n.Key]
	d.mu.Unlock()
	var id uint32
	err := d.obj.CallWithContext(ctx, Interface+".Notify", 0,
		AppName, replaces, "switchboard", n.Title, body, actions, hints, int32(-1)).Store(&id)
	if err != nil {
		return err
	}
	d.mu.Lock()
	if len(actions) > 0 {
		d.shown[id] = n
	}
	if n.Key != "" {
		d.keyed[n.Key] = id
	}
	d.mu.Unlock()
	return nil
}

// Withdraw closes the note shown under key (CloseNotification); nothing
// when none is.
func (d *DBus) Withdraw(ctx context.Context, key string) error {
	d.mu.Lock()
	id, ok := d.keyed[key]
	delete(d.keyed, key)
	// Its buttons stay known until the server says it closed: a server that
	// keeps it up may still report a click, which must get an answer.
	d.mu.Unlock()
	if !ok {
		return nil
	}
	return d.obj.CallWithContext(ctx, Interface+".CloseNotification", 0, id).Err
}

// markupEscaper escapes the characters the notification spec's body markup
// gives meaning to.
var markupEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// EscapeMarkup makes text safe to put in a markup body: it shows as written.
func EscapeMarkup(text string) string { return markupEscaper.Replace(text) }

func (d *DBus) signals(ch <-chan *dbus.Signal) {
	for sig := range ch {
		if sig == nil || sig.Path != Path || len(sig.Body) < 2 {
			continue
		}
		id, ok := sig.Body[0].(uint32)
		if !ok {
			continue
		}
		switch sig.Name {
		case Interface + ".ActionInvoked":
			key, _ := sig.Body[1].(string)
			d.mu.Lock()
			n, mine := d.shown[id]
			d.mu.Unlock()
			if mine && d.onAction != nil {
				go d.onAction(n, key)
			}
		case Interface + ".NotificationClosed":
			d.mu.Lock()
			if n, ok := d.shown[id]; ok && d.keyed[n.Key] == id {
				delete(d.keyed, n.Key)
			}
			delete(d.shown, id)
			d.mu.Unlock()
		}
	}
}

// Close drops the connection; the signal loop ends with it.
func (d *DBus) Close() error { return d.conn.Close() }

// Beeep is the portable Sender: no buttons.
type Beeep struct{}

var beeepName sync.Once

// Send runs beeep on its own goroutine: it has no context, and on some
// systems it shells out.
func (Beeep) Send(ctx context.Context, n notify.Note) error {
	beeepName.Do(func() { beeep.AppName = AppName })
	done := make(chan error, 1)
	go func() { done <- beeep.Notify(n.Title, n.Body, "") }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return errors.Join(errors.New("notification not shown in time"), ctx.Err())
	}
}

// Withdraw cannot reach a note beeep showed: it expires by itself.
func (Beeep) Withdraw(context.Context, string) error { return nil }

func (Beeep) Close() error { return nil }
