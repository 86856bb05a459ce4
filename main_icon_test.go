package main

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"
)

// GTK hands the window manager every pixel of the window's icon as one X
// property: the embedded icon is small enough not to weigh on the start
// (1024x1024 cost about 45 ms; docs/performance.md, "Desktop app").
func TestWindowIconIsSmall(t *testing.T) {
	t.Parallel()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(icon))
	if err != nil {
		t.Fatalf("the embedded window icon: %v", err)
	}
	if format != "png" || cfg.Width > 256 || cfg.Height > 256 || cfg.Width < 64 {
		t.Fatalf("the window icon is a %dx%d %s, want a PNG of at most 256x256", cfg.Width, cfg.Height, format)
	}
}
