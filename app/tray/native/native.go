// Package native puts a tray.Menu on screen with fyne.io/systray. On Linux
// that is pure Go over D-Bus (StatusNotifierItem + com.canonical.dbusmenu),
// so it builds without cgo and is tested under dbus-run-session; on Windows
// and macOS systray has to be started on the main goroutine, before the
// window toolkit (see Start).
//
// systray is one global per process: Start works once.
package native

import (
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"fyne.io/systray"

	"switchboard/app/internal/sessionbus"
	"switchboard/app/tray"
)

// WatcherName owns the StatusNotifierItem registry on Linux desktops; with
// nobody owning it, an icon would be invisible.
const WatcherName = "org.kde.StatusNotifierWatcher"

// ErrStarted: the tray was already started in this process.
var ErrStarted = errors.New("tray: already started")

// HostAvailable reports whether a tray host will show the icon. Windows and
// macOS always have one; on Linux someone must own the watcher name.
func HostAvailable() (bool, error) {
	if !sessionbus.Needed() {
		return true, nil
	}
	return sessionbus.HasOwner(WatcherName)
}

// Tray is the running tray icon.
type Tray struct {
	log     *slog.Logger
	onClick func(id string)

	mu      sync.Mutex
	want    tray.Menu // the latest model
	ready   bool      // systray built its menu root
	shown   []shown
	icon    tray.Icon
	tooltip string
	end     func()
}

type shown struct {
	item tray.Item
	mi   *systray.MenuItem // nil for separators
}

var started atomic.Bool

// Start shows the icon with menu first. onClick gets an item ID (tray.IDOpen,
// tray.TransferID(...), ...); onActivate a left click on the icon. On Windows
// and macOS call it on the main goroutine before the window toolkit starts.
func Start(first tray.Menu, onClick func(id string), onActivate func(), log *slog.Logger) (*Tray, error) {
	if !started.CompareAndSwap(false, true) {
		return nil, ErrStarted
	}
	if log == nil {
		log = slog.Default()
	}
	t := &Tray{log: log, onClick: onClick, want: first, icon: first.Icon, tooltip: first.Tooltip}
	// Before start: the title becomes the item's Id, and these land in the
	// properties exported at start.
	systray.SetTitle("Switchboard")
	systray.SetIcon(tray.PNG(first.Icon))
	systray.SetTooltip(first.Tooltip)
	if onActivate != nil {
		systray.SetOnTapped(onActivate)
	}
	start, end := systray.RunWithExternalLoop(t.onReady, nil)
	t.end = end
	start()
	return t, nil
}

func (t *Tray) onReady() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ready = true
	t.applyLocked(t.want)
}

// Apply shows m. Safe from any goroutine; cheap when nothing changed.
func (t *Tray) Apply(m tray.Menu) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.want = m
	if t.ready {
		t.applyLocked(m)
	}
}

// Shown returns the items on screen.
func (t *Tray) Shown() []tray.Item {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]tray.Item, len(t.shown))
	for i, s := range t.shown {
		out[i] = s.item
	}
	return out
}

func (t *Tray) applyLocked(m tray.Menu) {
	if m.Icon != t.icon {
		systray.SetIcon(tray.PNG(m.Icon))
		t.icon = m.Icon
	}
	if m.Tooltip != t.tooltip {
		systray.SetTooltip(m.Tooltip)
		t.tooltip = m.Tooltip
	}
	sameShape := len(t.shown) == len(m.Items) && t.shown != nil
	for i := 0; sameShape && i < len(m.Items); i++ {
		sameShape = t.shown[i].item.ID == m.Items[i].ID
	}
	if !sameShape {
		t.rebuildLocked(m.Items)
		return
	}
	for i, want := range m.Items {
		s := &t.shown[i]
		if s.mi == nil || s.item == want {
			continue
		}
		if want.Label != s.item.Label {
			s.mi.SetTitle(want.Label)
		}
		if want.Checked != s.item.Checked {
			if want.Checked {
				s.mi.Check()
			} else {
				s.mi.Uncheck()
			}
		}
		if want.Enabled != s.item.Enabled {
			if want.Enabled {
				s.mi.Enable()
			} else {
				s.mi.Disable()
			}
		}
		s.item = want
	}
}

// rebuildLocked replaces the whole menu: systray only appends, and a
// transfer item belongs in the middle.
func (t *Tray) rebuildLocked(items []tray.Item) {
	// systray bumps its menu version under one lock in ResetMenu and under
	// another in the refresh it schedules after a host's first GetLayout;
	// taking the second one here first (SetTooltip does) orders the two.
	systray.SetTooltip(t.tooltip)
	systray.ResetMenu() // closes the old items' ClickedCh, ending their listeners
	t.shown = make([]shown, 0, len(items))
	for _, it := range items {
		if it.Separator() {
			systray.AddSeparator()
			t.shown = append(t.shown, shown{item: it})
			continue
		}
		var mi *systray.MenuItem
		if it.Checkable {
			mi = systray.AddMenuItemCheckbox(it.Label, "", it.Checked)
		} else {
			mi = systray.AddMenuItem(it.Label, "")
		}
		if !it.Enabled {
			mi.Disable()
		}
		t.shown = append(t.shown, shown{item: it, mi: mi})
		go t.listen(mi.ClickedCh, it.ID)
	}
}

func (t *Tray) listen(ch <-chan struct{}, id string) {
	for range ch {
		if t.onClick != nil {
			t.onClick(id)
		}
	}
}

// Stop removes the icon. systray cannot start again in this process.
func (t *Tray) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	end := t.end
	t.end = nil
	t.mu.Unlock()
	if end == nil {
		return
	}
	defer func() {
		// systray's end dereferences its bus connection, which is nil when
		// its start could not reach the bus.
		if r := recover(); r != nil {
			t.log.Warn("tray: stop failed", "panic", r)
		}
	}()
	end()
}

// Has reports whether items holds an item with id (for tests and callers
// that act on a menu they did not build).
func Has(items []tray.Item, id string) bool {
	return slices.ContainsFunc(items, func(it tray.Item) bool { return it.ID == id })
}
