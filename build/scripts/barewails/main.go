//go:build desktop

// Command barewails is the lightest desktop program this stack makes: a
// bare Wails v2 window (same version and build tags as the agent app) that
// shows one small page with one grey button. build/scripts/desktop-e2e.sh
// measures its start and memory beside the app's, as the floor the app's
// figures are compared with (docs/performance.md, "Desktop app").
//
//	go build -tags desktop,production -o barewails ./build/scripts/barewails
package main

import (
	"embed"
	"io/fs"
	"log"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
)

//go:embed page
var page embed.FS

func main() {
	assets, err := fs.Sub(page, "page")
	if err != nil {
		log.Fatal(err)
	}
	// The app's window size and background; nothing bound, no tray.
	err = wails.Run(&options.App{
		Title:            "Bare Wails",
		Width:            1100,
		Height:           720,
		AssetServer:      &assetserver.Options{Assets: assets},
		BackgroundColour: &options.RGBA{R: 0xf6, G: 0xf7, B: 0xf9, A: 0xff},
	})
	if err != nil {
		log.Fatal(err)
	}
}
