// Package sessionbus finds the D-Bus session bus without starting one:
// godbus would otherwise autolaunch a private bus (dbus-launch) where none
// runs, which tray, notifications and keyring must never do.
package sessionbus

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"

	"github.com/godbus/dbus/v5"
)

// ErrNoBus: no session bus is reachable.
var ErrNoBus = errors.New("no D-Bus session bus")

// Needed reports whether desktop services go over D-Bus on this OS.
func Needed() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		return true
	}
	return false
}

// Available reports whether a session bus address is known.
func Available() bool {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return true
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "bus")); err == nil {
			return true
		}
	}
	return false
}

// Connect opens a private connection (its own socket, not godbus's shared
// SessionBus, which the tray library closes when it stops).
func Connect() (*dbus.Conn, error) {
	if !Available() {
		return nil, ErrNoBus
	}
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return nil, err
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, err
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// HasOwner reports whether someone owns name on the session bus.
func HasOwner(name string) (bool, error) {
	conn, err := Connect()
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var owned bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned)
	return owned, err
}
