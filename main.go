// Command switchboard is the Switchboard agent desktop app.
//
// Build it with the desktop tag (and Wails' production tag):
//
//	make desktop
//	CGO_ENABLED=1 go build -tags desktop,production -o build/bin/switchboard .
//
// Without the desktop tag the binary only parses its flags and explains
// how to build the real thing, which keeps `go test ./...` free of cgo.
package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"switchboard/app"
)

// The built UI. frontend/dist/.gitkeep keeps the directory present (the
// all: prefix includes dotfiles) so the package compiles before the first
// `npm run build`.
//
//go:embed all:frontend/dist
var dist embed.FS

// The window icon on Linux (Windows and macOS take theirs from build/), at
// 256x256: a bigger one costs the start time (build/scripts/make-icons.sh).
//
//go:embed build/linux/appicon-256.png
var icon []byte

type config struct {
	hidden      bool
	window      app.Window
	handover    bool // a dashboard window reads its one-time sign-in from stdin
	showVersion bool
	server      string // overrides the config files and SWITCHBOARD_SERVER
	language    string // overrides the config files and SWITCHBOARD_LANGUAGE
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var window string
	fset := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.BoolVar(&cfg.hidden, "hidden", false, "start without showing the window")
	fset.StringVar(&window, "window", string(app.WindowMain), "view to open: main or dashboard")
	fset.BoolVar(&cfg.handover, strings.TrimPrefix(app.HandoverFlag, "--"), false,
		"dashboard only: read a one-time sign-in from the first line of standard input (the desk window opening the dashboard does this)")
	fset.BoolVar(&cfg.showVersion, "version", false, "print the version and exit")
	fset.StringVar(&cfg.server, "server", "", "relay address (unless locked by the administrator)")
	fset.StringVar(&cfg.language, "language", "", "UI language: auto, en or sv")
	if err := fset.Parse(args); err != nil {
		return cfg, err
	}
	if fset.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fset.Arg(0))
	}
	w, err := app.ParseWindow(window)
	if err != nil {
		return cfg, err
	}
	cfg.window = w
	if cfg.handover && w != app.WindowDashboard {
		return cfg, fmt.Errorf("%s is for --window=%s only", app.HandoverFlag, app.WindowDashboard)
	}
	return cfg, nil
}

// settings are the flags that are config keys, only where given.
func (c config) settings() map[string]string {
	m := map[string]string{}
	if c.server != "" {
		m["server"] = c.server
	}
	if c.language != "" {
		m["language"] = c.language
	}
	return m
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		return 2
	}
	if cfg.showVersion {
		fmt.Fprintln(stdout, "switchboard", app.Version)
		return 0
	}
	assets, err := fs.Sub(dist, "frontend/dist")
	if err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		return 1
	}
	opts := app.Options{Assets: assets, Icon: icon, Hidden: cfg.hidden, Window: cfg.window, Settings: cfg.settings()}
	if cfg.handover {
		opts.Handover = stdin
	}
	if err := app.Run(opts); err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		return 1
	}
	return 0
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
