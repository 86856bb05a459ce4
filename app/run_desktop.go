//go:build desktop

package app

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"switchboard/app/attention"
	"switchboard/app/config"
)

// notifyWait bounds how long the notifier waits for the page to load.
const notifyWait = 3 * time.Second

// Run starts the Wails window and blocks until the app quits.
//
// Order matters: on Windows and macOS the tray (systray) must start on the
// main goroutine before wails.Run, and Run is called from main; on Linux the
// tray is plain D-Bus and the order does not matter.
func Run(opts Options) error {
	if opts.Assets == nil {
		return errors.New("app: no UI assets")
	}
	if _, err := fs.Stat(opts.Assets, "index.html"); err != nil {
		return errors.New("app: the UI is not built (no index.html in frontend/dist); run: make frontend")
	}
	if opts.Window == "" {
		opts.Window = WindowMain
	}
	log := slog.Default()
	cfg, err := config.Load(config.Options{Flags: settingFlags(opts), Logger: log})
	if err != nil {
		return err
	}
	emitter, shell := &wailsEmitter{}, &wailsShell{}
	c := newCore(coreOptions{Emitter: emitter, Config: cfg, Window: opts.Window, Shell: shell, Logger: log,
		Handover: handoverFor(opts, log)})

	id := uniqueID(opts.Window, cfg.UserDir())
	// The tray and the notifications belong to the main window's process;
	// a second launch hands over to the first (below) and must not flash
	// an icon of its own meanwhile.
	primary := opts.Window == WindowMain && !instanceRunning(id)
	// The notifier connects once the page has loaded (or after notifyWait,
	// should that never be said): the window's first frame does not wait
	// for it.
	loaded := make(chan struct{})
	var loadedOnce sync.Once
	pageLoaded := func() { loadedOnce.Do(func() { close(loaded) }) }
	defer time.AfterFunc(notifyWait, pageLoaded).Stop()
	so := servicesOptions{Tray: primary, Notify: primary, Logger: log, NotifyAfter: loaded}
	if primary {
		so.Attention = attention.Window // offers come to the main window
	}
	svc, trayHost := startServices(c, so)
	defer svc.stop()
	if opts.Window == WindowDashboard {
		stopFollow := make(chan struct{})
		defer close(stopFollow)
		go c.followLanguage(stopFollow, languagePoll)
	}

	hidden := primary && cfg.Settings().StartHidden
	if hidden && !trayHost {
		log.Warn("not starting hidden: there is no system tray to bring the window back from")
		hidden = false
	}
	return wails.Run(&options.App{
		Title:       windowTitle(opts.Window, notifyLang(cfg.Settings().Language)),
		Width:       Width,
		Height:      Height,
		MinWidth:    MinWidth,
		MinHeight:   MinHeight,
		StartHidden: hidden,
		// Without a tray icon a hidden window could never come back.
		HideWindowOnClose: trayHost,
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               id,
			OnSecondInstanceLaunch: func(options.SecondInstanceData) { shell.Show() },
		},
		AssetServer: &assetserver.Options{Assets: opts.Assets},
		// Matches the UI's background so the window never flashes white.
		BackgroundColour: &options.RGBA{R: 0xf6, G: 0xf7, B: 0xf9, A: 0xff},
		// WebKitGTK hands a file manager's drop to the page without its
		// files; Wails reads their paths, and the UI attaches them.
		DragAndDrop: &options.DragAndDrop{EnableFileDrop: true},
		OnStartup: func(ctx context.Context) {
			emitter.attach(ctx)
			shell.attach(ctx)
			runtime.OnFileDrop(ctx, c.fileDrop)
		},
		OnDomReady: func(context.Context) {
			pageLoaded()
			if opts.Window == WindowMain && !trayHost {
				c.noticeCode("warning", "no_tray", "No system tray was found: closing the window quits Switchboard.")
			}
		},
		OnShutdown: func(context.Context) {
			c.shutdown()
			emitter.attach(nil)
			shell.attach(nil)
		},
		Bind: []any{newDesk(c)},
		Linux: &linux.Options{
			Icon:        opts.Icon,
			ProgramName: "switchboard",
			// Wails' own default when Linux options are nil; GPU compositing
			// in WebKitGTK misbehaves on some drivers and under Xvfb.
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
}

// wailsShell is the Shell over Wails' runtime; calls before startup or
// after shutdown do nothing.
type wailsShell struct {
	mu  sync.RWMutex
	ctx context.Context
}

func (w *wailsShell) attach(ctx context.Context) {
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
}

func (w *wailsShell) get() context.Context {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.ctx
}

func (w *wailsShell) Show() {
	if ctx := w.get(); ctx != nil {
		runtime.WindowShow(ctx)
		runtime.WindowUnminimise(ctx)
	}
}

func (w *wailsShell) SetTitle(title string) {
	if ctx := w.get(); ctx != nil {
		runtime.WindowSetTitle(ctx, title)
	}
}

func (w *wailsShell) Quit() {
	if ctx := w.get(); ctx != nil {
		runtime.Quit(ctx)
	}
}

// SaveFileAs asks, in the system's dialog, where to save a file.
func (w *wailsShell) SaveFileAs(name string) (string, error) {
	ctx := w.get()
	if ctx == nil {
		return "", errors.New("the window is not up")
	}
	return runtime.SaveFileDialog(ctx, runtime.SaveDialogOptions{DefaultFilename: name, CanCreateDirectories: true})
}
