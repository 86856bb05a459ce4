// Package app is the Go side of the Switchboard desktop app: lifecycle,
// the Desk bound to the UI, the relay client's owner (core), tray and
// notifications.
//
// Nothing in this package except the files built with the `desktop` tag
// imports Wails, so the logic is tested headless with `go test ./...`.
package app

import (
	"fmt"
	"io"
	"io/fs"
)

// Window names which view the app opens with.
type Window string

const (
	// WindowMain is the agent's chat desk.
	WindowMain Window = "main"
	// WindowDashboard is the supervisor dashboard.
	WindowDashboard Window = "dashboard"
)

// ParseWindow turns a --window flag value into a Window.
func ParseWindow(s string) (Window, error) {
	switch w := Window(s); w {
	case WindowMain, WindowDashboard:
		return w, nil
	default:
		return "", fmt.Errorf("unknown window %q (want %q or %q)", s, WindowMain, WindowDashboard)
	}
}

// Options configure one run of the desktop app.
type Options struct {
	// Assets holds the built UI with index.html at its root.
	Assets fs.FS
	// Icon is the PNG window icon used on Linux.
	Icon []byte
	// Hidden starts the app without showing its window (autostart into
	// the tray); the same as Settings["start_hidden"] = "true".
	Hidden bool
	// Window is the view the UI opens with.
	Window Window
	// Settings given on the command line, by config key (config.KeyServer,
	// ...). They beat the environment and the files, not locked keys.
	Settings map[string]string
	// Handover, for a dashboard window, is where the desk window that opened
	// it wrote a one-time sign-in, one line (standard input, with
	// --handover-stdin); see handover.go.
	Handover io.Reader
}

// Window geometry, shared by the Wails adapter and its tests.
const (
	Title = "Switchboard"
	// DashboardTitle names the dashboard window, so the two windows of one
	// agent are told apart in the task bar (in English; see windowTitle).
	DashboardTitle = "Switchboard Dashboard"
	Width          = 1100
	Height         = 720
	MinWidth       = 760
	MinHeight      = 520
)
