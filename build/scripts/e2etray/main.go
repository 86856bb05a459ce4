// Command e2etray is the tray host of the dashboard end-to-end test
// (build/scripts/dashboard-e2e.sh): a minimal org.kde.StatusNotifierWatcher
// on the session bus, as a desktop's panel would own it, so that the apps
// under test put up their tray icons; it reads their menus and clicks their
// items the way a panel does (com.canonical.dbusmenu).
//
// It says "ready" once it owns the watcher name, then reads one command a
// line from stdin, answering each with one line, "ok [value]" or "err reason":
//
//	menu PID            the labels of the tray menu of process PID, joined by "|"
//	has PID LABEL...    wait until that menu has the item LABEL
//	click PID LABEL...  click the item LABEL of that menu
//	icon PID            a fingerprint of the icon's picture (IconPixmap) and its
//	                    Status, "FINGERPRINT STATUS"
//	tooltip PID TEXT... wait until the icon's tooltip holds TEXT; ok TOOLTIP
//	quit
//
// With -notifications it also owns org.freedesktop.Notifications, as a
// desktop's notification daemon does, and records what the apps show:
//
//	notified PID TEXT...  wait until process PID showed a notification whose
//	                      summary or body holds TEXT; ok ID
//	closed ID             wait until that notification was withdrawn
//	                      (CloseNotification)
//
// Commands wait (up to -timeout) for the process's icon to register and for
// the item to show.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

const watcherName = "org.kde.StatusNotifierWatcher"

type item struct {
	sender string
	path   dbus.ObjectPath
}

type watcher struct {
	mu    sync.Mutex
	items []item
}

func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	path := dbus.ObjectPath("/StatusNotifierItem")
	if strings.HasPrefix(service, "/") {
		path = dbus.ObjectPath(service)
	}
	w.mu.Lock()
	w.items = append(w.items, item{string(sender), path})
	w.mu.Unlock()
	return nil
}

func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func (w *watcher) all() []item {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.items)
}

// notes is a minimal org.freedesktop.Notifications server.
type notes struct {
	conn   *dbus.Conn
	mu     sync.Mutex
	shown  []note
	closed map[uint32]bool
}

type note struct {
	id            uint32
	pid           uint32
	summary, body string
}

func (n *notes) Notify(sender dbus.Sender, app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	var pid uint32
	_ = n.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, string(sender)).Store(&pid)
	n.mu.Lock()
	defer n.mu.Unlock()
	id := uint32(len(n.shown) + 1)
	if replaces != 0 {
		id = replaces // the spec: a replacement keeps the id
	}
	n.shown = append(n.shown, note{id, pid, summary, body})
	return id, nil
}

func (n *notes) CloseNotification(id uint32) *dbus.Error {
	n.mu.Lock()
	n.closed[id] = true
	n.mu.Unlock()
	return nil
}

func (n *notes) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"actions", "body"}, nil
}

func (n *notes) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "e2etray", "switchboard-tests", "1", "1.2", nil
}

func (n *notes) find(pid uint32, text string) (uint32, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.shown) - 1; i >= 0; i-- {
		s := n.shown[i]
		if s.pid == pid && (strings.Contains(s.summary, text) || strings.Contains(s.body, text)) {
			return s.id, true
		}
	}
	return 0, false
}

func (n *notes) wasClosed(id uint32) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed[id]
}

type entry struct {
	id    int32
	label string
}

type host struct {
	conn    *dbus.Conn
	w       *watcher
	notes   *notes // nil without -notifications
	timeout time.Duration
}

// itemOf finds the icon registered by process pid.
func (h *host) itemOf(pid uint32) (item, error) {
	for _, it := range h.w.all() {
		var p uint32
		if err := h.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, it.sender).Store(&p); err == nil && p == pid {
			return it, nil
		}
	}
	return item{}, fmt.Errorf("no tray icon of pid %d", pid)
}

// menu reads the icon's menu as a panel does.
func (h *host) menu(it item) ([]entry, dbus.ObjectPath, error) {
	v, err := h.conn.Object(it.sender, it.path).GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		return nil, "", err
	}
	path, _ := v.Value().(dbus.ObjectPath)
	var rev uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := h.conn.Object(it.sender, path).Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &layout); err != nil {
		return nil, "", err
	}
	var out []entry
	for _, ch := range layout.Children {
		fields, ok := ch.Value().([]any)
		if !ok || len(fields) < 2 {
			continue
		}
		id, _ := fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		if t, ok := props["type"]; ok && t.Value() == "separator" {
			continue
		}
		if vis, ok := props["visible"]; ok && vis.Value() == false {
			continue
		}
		label, _ := props["label"].Value().(string)
		out = append(out, entry{id, label})
	}
	return out, path, nil
}

// poll retries f until it succeeds or the timeout passes.
func (h *host) poll(f func() (string, error)) (string, error) {
	deadline := time.Now().Add(h.timeout)
	for {
		out, err := f()
		if err == nil {
			return out, nil
		}
		if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (h *host) do(f []string) (string, error) {
	if len(f) < 2 {
		return "", errors.New("give a command and a pid")
	}
	pid64, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		return "", fmt.Errorf("number %q: %v", f[1], err)
	}
	pid := uint32(pid64)
	if (f[0] == "notified" || f[0] == "closed") && h.notes == nil {
		return "", errors.New("start with -notifications")
	}
	switch f[0] {
	case "notified":
		text := strings.Join(f[2:], " ")
		return h.poll(func() (string, error) {
			if id, ok := h.notes.find(pid, text); ok {
				return strconv.FormatUint(uint64(id), 10), nil
			}
			return "", fmt.Errorf("pid %d showed no notification with %q", pid, text)
		})
	case "closed":
		id := pid // the argument is a notification's id
		return h.poll(func() (string, error) {
			if h.notes.wasClosed(id) {
				return "", nil
			}
			return "", fmt.Errorf("notification %d was not withdrawn", id)
		})
	case "icon":
		return h.poll(func() (string, error) {
			it, err := h.itemOf(pid)
			if err != nil {
				return "", err
			}
			obj := h.conn.Object(it.sender, it.path)
			px, err := obj.GetProperty("org.kde.StatusNotifierItem.IconPixmap")
			if err != nil {
				return "", err
			}
			st, err := obj.GetProperty("org.kde.StatusNotifierItem.Status")
			if err != nil {
				return "", err
			}
			sum := sha256.Sum256([]byte(fmt.Sprint(px.Value())))
			status, _ := st.Value().(string)
			return hex.EncodeToString(sum[:6]) + " " + status, nil
		})
	case "tooltip":
		text := strings.Join(f[2:], " ")
		return h.poll(func() (string, error) {
			it, err := h.itemOf(pid)
			if err != nil {
				return "", err
			}
			v, err := h.conn.Object(it.sender, it.path).GetProperty("org.kde.StatusNotifierItem.ToolTip")
			if err != nil {
				return "", err
			}
			var tip struct {
				Icon   string
				Pixmap []struct {
					W, H int32
					Data []byte
				}
				Title, Text string
			}
			if err := dbus.Store([]any{v.Value()}, &tip); err != nil {
				return "", fmt.Errorf("tooltip %v: %v", v, err)
			}
			if !strings.Contains(tip.Title+" "+tip.Text, text) {
				return "", fmt.Errorf("tooltip %q lacks %q", tip.Title, text)
			}
			return tip.Title, nil
		})
	case "menu":
		return h.poll(func() (string, error) {
			it, err := h.itemOf(pid)
			if err != nil {
				return "", err
			}
			es, _, err := h.menu(it)
			if err != nil || len(es) == 0 {
				return "", fmt.Errorf("menu of pid %d not readable: %v", pid, err)
			}
			labels := make([]string, len(es))
			for i, e := range es {
				labels[i] = e.label
			}
			return strings.Join(labels, "|"), nil
		})
	case "has":
		label := strings.Join(f[2:], " ")
		return h.poll(func() (string, error) {
			it, err := h.itemOf(pid)
			if err != nil {
				return "", err
			}
			es, _, err := h.menu(it)
			if err != nil {
				return "", err
			}
			if !slices.ContainsFunc(es, func(e entry) bool { return e.label == label }) {
				return "", fmt.Errorf("no item %q in the tray menu of pid %d", label, pid)
			}
			return "", nil
		})
	case "click":
		label := strings.Join(f[2:], " ")
		return h.poll(func() (string, error) {
			it, err := h.itemOf(pid)
			if err != nil {
				return "", err
			}
			es, path, err := h.menu(it)
			if err != nil {
				return "", err
			}
			i := slices.IndexFunc(es, func(e entry) bool { return e.label == label })
			if i < 0 {
				return "", fmt.Errorf("no item %q in the tray menu of pid %d", label, pid)
			}
			return "", h.conn.Object(it.sender, path).Call("com.canonical.dbusmenu.Event", 0,
				es[i].id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
		})
	}
	return "", fmt.Errorf("unknown command %q", f[0])
}

func main() {
	timeout := flag.Duration("timeout", 45*time.Second, "how long a command waits")
	notifications := flag.Bool("notifications", false, "own org.freedesktop.Notifications too")
	flag.Parse()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	w := &watcher{}
	if err := conn.Export(w, "/StatusNotifierWatcher", watcherName); err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	if _, err := prop.Export(conn, "/StatusNotifierWatcher", prop.Map{watcherName: {
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
	}}); err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	if reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		fmt.Println("err could not own", watcherName, err)
		os.Exit(1)
	}
	h := &host{conn: conn, w: w, timeout: *timeout}
	if *notifications {
		h.notes = &notes{conn: conn, closed: map[uint32]bool{}}
		const name, path = "org.freedesktop.Notifications", "/org/freedesktop/Notifications"
		if err := conn.Export(h.notes, path, name); err != nil {
			fmt.Println("err", err)
			os.Exit(1)
		}
		if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			fmt.Println("err could not own", name, err)
			os.Exit(1)
		}
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "quit" {
			fmt.Println("ok")
			return
		}
		out, err := h.do(f)
		if err != nil {
			fmt.Println("err", strings.Join(strings.Fields(err.Error()), " "))
			continue
		}
		fmt.Println(strings.TrimSpace("ok " + out))
	}
}
