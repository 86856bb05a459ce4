//go:build desktop

package app

import (
	"context"
	"errors"
	"io/fs"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

// Run starts the Wails window and blocks until the app quits.
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
	emitter := &wailsEmitter{}
	session := NewSessionService(emitter, opts.Window)

	return wails.Run(&options.App{
		Title:       Title,
		Width:       Width,
		Height:      Height,
		MinWidth:    MinWidth,
		MinHeight:   MinHeight,
		StartHidden: opts.Hidden,
		AssetServer: &assetserver.Options{Assets: opts.Assets},
		// Matches the UI's background so the window never flashes white.
		BackgroundColour: &options.RGBA{R: 0xf6, G: 0xf7, B: 0xf9, A: 0xff},
		OnStartup: func(ctx context.Context) {
			emitter.attach(ctx)
		},
		OnShutdown: func(context.Context) {
			emitter.attach(nil)
		},
		Bind: []any{session},
		Linux: &linux.Options{
			Icon:        opts.Icon,
			ProgramName: "switchboard",
			// Wails' own default when Linux options are nil; GPU compositing
			// in WebKitGTK misbehaves on some drivers and under Xvfb.
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
}
