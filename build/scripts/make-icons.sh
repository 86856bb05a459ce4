#!/usr/bin/env bash
# Draws build/appicon.png (1024x1024) and build/windows/icon.ico with
# ImageMagick. The outputs are committed; rerun after changing the drawing.
set -euo pipefail
cd "$(dirname "$0")/.."

teal='#2f6f73' # the UI's --accent
mist='#9fc3c5' # the UI's --accent-soft

convert -size 1024x1024 xc:none \
  -fill "$teal" -draw 'roundrectangle 64,64 960,960 190,190' \
  -fill white -draw 'roundrectangle 200,250 690,580 70,70' -draw 'polygon 290,560 290,700 420,570' \
  -fill "$mist" -draw 'roundrectangle 380,460 830,760 70,70' -draw 'polygon 730,740 740,860 610,750' \
  -fill "$teal" -draw 'circle 520,610 520,640' -draw 'circle 605,610 605,640' -draw 'circle 690,610 690,640' \
  -depth 8 -strip appicon.png
convert appicon.png -define icon:auto-resize=256,128,64,48,32,16 windows/icon.ico
# The window's icon on Linux (embedded by main.go): GTK hands the window
# manager every pixel of it (_NET_WM_ICON), which for 1024x1024 is 4 MiB
# and about 45 ms of the start; 256x256 is plenty for a taskbar.
convert appicon.png -resize 256x256 -depth 8 -strip linux/appicon-256.png

# Tray icons (32x32, embedded by app/tray): the bubble on the accent square,
# with a status dot; offline is all grey.
tray=../app/tray/icons
mkdir -p "$tray"
tray_icon() { # name square-colour dot-colour
  convert -size 32x32 xc:none \
    -fill "$2" -draw 'roundrectangle 1,1 30,30 7,7' \
    -fill white -draw 'roundrectangle 6,7 22,19 4,4' -draw 'polygon 9,18 9,24 14,18' \
    -fill "$3" -stroke white -strokewidth 2 -draw 'circle 24,24 24,30' \
    -depth 8 -strip "$tray/$1.png"
}
tray_icon present "$teal" '#2e9e5b'
tray_icon away "$teal" '#e0a526'
tray_icon transfer "$teal" '#d9480f'
tray_icon offline '#8a9399' '#8a9399'

# macOS icon set (wails also makes one from appicon.png on a Mac); needs
# png2icns (Debian icnsutils).
if command -v png2icns >/dev/null; then
  icns=$(mktemp -d)
  for size in 16 32 48 128 256 512 1024; do
    convert appicon.png -resize "${size}x${size}" -depth 8 -strip "$icns/$size.png"
  done
  png2icns darwin/iconfile.icns "$icns"/{16,32,48,128,256,512,1024}.png >/dev/null
  rm -rf "$icns"
else
  echo "make-icons: png2icns not found (apt-get install icnsutils): darwin/iconfile.icns not redrawn" >&2
fi
