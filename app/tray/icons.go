package tray

import "embed"

// The PNGs are drawn by build/scripts/make-icons.sh (make icons).
//
//go:embed icons/*.png
var icons embed.FS

// PNG returns the picture of icon (the offline one for an unknown name).
func PNG(icon Icon) []byte {
	b, err := icons.ReadFile("icons/" + string(icon) + ".png")
	if err != nil {
		b, _ = icons.ReadFile("icons/offline.png")
	}
	return b
}
