#!/usr/bin/env bash
# End-to-end test of files in chats in the real desktop app against a real
# relay, with a screenshot for docs/screenshots/.
#
#   build/scripts/files-e2e.sh [app] [relay]
#
# What it does, all on this machine and all real parts:
#  - seeds a fresh relay database (seed-demo) and runs the relay;
#  - Xvfb, openbox, a private D-Bus session with an accessibility bus and a
#    tray host; anna signs in to the desktop app and takes a visitor's chat;
#  - the visitor (build/scripts/e2epeer, speaking the protocol as the widget
#    does) sends a screenshot (PNG) and a PDF; anna's log shows the image as
#    a thumbnail ("Open screenshot.png full size") and the PDF with its name,
#    type and size and a Save button;
#  - anna opens the thumbnail full size and closes it again;
#  - anna drags a PDF from another window (build/scripts/e2edrag.py, a GTK
#    drag source offering it as a file manager does) onto the chat with
#    xdotool's pointer; the visitor downloads it byte for byte;
#  - anna attaches a PDF with the composer's "Attach a file" button: the
#    GTK file chooser opens, the path is typed after Ctrl+L;
#  - the visitor receives the entry with the file and downloads it: the
#    bytes are identical to the file anna chose.
#
# The window is driven by what its controls are (AT-SPI, through
# build/scripts/dashboard-e2e-ui.py). The screenshot goes to
# build/files-shots/ (FILES_SHOTS=docs/screenshots refreshes the docs'
# files-in-chat.png). Logs and every step's screenshot go to E2E_OUT
# (default: a temporary directory, removed after a green run unless
# E2E_KEEP=1, kept after a red one).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
app_bin=${1:-$root/build/bin/switchboard}
relay_bin=${2:-$root/build/bin/switchboard-relay}
shots=${FILES_SHOTS:-$root/build/files-shots}
step_timeout=${E2E_STEP_TIMEOUT:-45}
password=e2e-files-password
python=/usr/bin/python3
launcher=/usr/libexec/at-spi-bus-launcher

accent='#2f6f73'               # --accent (frontend/src/app.css)
accent_off='srgb(140,175,177)' # a disabled primary button

# shellcheck source=build/scripts/e2e-lib.sh
source "$root/build/scripts/e2e-lib.sh"
on_private_bus files-e2e Xvfb openbox xdotool import convert cmp dbus-run-session dbus-send curl go "$python" "$launcher"

e2e_begin files-e2e
mkdir -p "$shots"

# --- the files ----------------------------------------------------------------------

# minimal_pdf FILE TITLE: a one-page PDF that says TITLE.
minimal_pdf() {
  local stream="BT /F1 24 Tf 72 720 Td ($2) Tj ET"
  {
    printf '%%PDF-1.4\n'
    printf '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
    printf '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n'
    printf '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj\n'
    printf '4 0 obj << /Length %d >> stream\n%s\nendstream endobj\n' "${#stream}" "$stream"
    printf '5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n'
    printf 'trailer << /Root 1 0 R >>\n%%%%EOF\n'
  } >"$1"
}
files=$work/files
mkdir -p "$files"
minimal_pdf "$files/visitor-invoice.pdf" "Invoice 1234"
minimal_pdf "$files/warranty.pdf" "Warranty terms"
minimal_pdf "$files/return-label.pdf" "Return label for order 1234"
# Some bulk, so the upload is more than one chunk.
head -c 300000 /dev/urandom | base64 >>"$files/return-label.pdf"
convert -size 480x300 xc:'#f4f6fa' -fill '#1f4e8c' -draw 'rectangle 0,0 480,44' \
  -fill '#b3261e' -draw 'rectangle 40,90 440,200' -fill white -pointsize 20 -draw "text 60,150 'Payment failed: error 402'" \
  "$files/screenshot.png" 2>"$out/convert.log" || fail "could not draw the screenshot"

# --- the relay, the display, the buses ---------------------------------------

db=$work/relay.db
printf '%s\n' "$password" | "$relay_bin" seed-demo --database "$db" >"$out/seed.log" 2>&1 || fail "seed-demo failed"
start_relay "$relay_bin" "$db"
start_display 1400x820
start_atspi
(cd "$root" && go build -o "$work/e2epeer" ./build/scripts/e2epeer && go build -o "$work/e2etray" ./build/scripts/e2etray) ||
  fail "could not build the protocol helpers"
start_helper PEER "$work/e2epeer" -url "$url" -password "$password" -auditor cecilia -timeout "${step_timeout}s"
start_helper UI "$python" "$root/build/scripts/dashboard-e2e-ui.py"
start_helper TRAY "$work/e2etray" -timeout "${step_timeout}s"

# --- 1. anna takes a chat; the visitor sends a screenshot and a PDF --------------

launch anna
anna_pid=$app_pid
dump_pid=$anna_pid
window_of "$anna_pid" Switchboard
wa=$win
xdotool windowmove "$wa" 0 0
ui type "$anna_pid" entry '^Login$' anna
ui type "$anna_pid" 'password text' '^Password$' "$password"
ui key Return
peer await present anna
peer visitor Vera_Lind My payment failed
vera=$got
peer await queued "$vera"
ui click "$anna_pid" 'push button' '^Get next in queue$'
peer await owner "$vera" anna
peer say "$vera" "Here is what I see, and my invoice."
peer attach "$vera" "$files/screenshot.png"
peer attach "$vera" "$files/visitor-invoice.pdf"
ui wait "$anna_pid" 'push button' '^Open screenshot.png full size$'
ui wait "$anna_pid" 'push button' '^Save visitor-invoice.pdf$'
say "the visitor's screenshot shows as a thumbnail, the PDF with its Save button"

ui click "$anna_pid" 'push button' '^Open screenshot.png full size$'
ui wait "$anna_pid" 'dialog' '^screenshot.png$'
shot "$wa" "$out/01-full-size.png"
ui key Escape
ui gone "$anna_pid" 'dialog' '^screenshot.png$'
say "the thumbnail opens the image full size in a dialog"

# --- 2. anna drags a PDF from another window onto the chat --------------------------

start_helper DRAG "$python" "$root/build/scripts/e2edrag.py" "$files/warranty.pdf"
window_of "${pids[-1]}" "drag source"
wd=$win
xdotool windowmove "$wd" 1150 100
sleep 0.5
eval "$(xdotool getwindowgeometry --shell "$wd")"
sx=$((X + WIDTH / 2)) sy=$((Y + HEIGHT / 2))
xdotool mousemove "$sx" "$sy"
sleep 0.2
xdotool mousedown 1
for step in 1 2 3 4 5 6 7 8 9 10; do
  xdotool mousemove $((sx - step * 45)) $((sy + step * 20))
  sleep 0.05
done
for step in 1 2 3 4 5 6; do
  xdotool mousemove $((690 + step * 3)) $((340 + step * 3))
  sleep 0.3
done
import -window root "$out/02-dragging.png" 2>/dev/null || true
xdotool mouseup 1
ui wait "$anna_pid" 'push button' '^Save warranty.pdf$'
peer fetch "$vera" warranty.pdf "$work/warranty.pdf"
cmp "$files/warranty.pdf" "$work/warranty.pdf" || fail "the visitor's download of the dropped file differs"
say "anna dropped a PDF from another window on the chat; the visitor downloaded it byte for byte ($got bytes)"

# --- 3. anna attaches a PDF through the button and the file chooser ---------------

ui type "$anna_pid" '*' '^Message' "The return label is attached."
ui click "$anna_pid" 'push button' 'Attach a file$'
chooser=
deadline=$((SECONDS + step_timeout))
while [[ -z $chooser ]] && ((SECONDS < deadline)); do
  for w in $(xdotool search --onlyvisible --pid "$anna_pid" 2>/dev/null); do
    [[ $w != "$wa" && -n $(xdotool getwindowname "$w" 2>/dev/null) ]] && chooser=$w
  done
  sleep 0.2
done
[[ -n $chooser ]] || fail "the file chooser did not open"
say "the file chooser is open: $(xdotool getwindowname "$chooser")"
xdotool windowactivate --sync "$chooser" 2>/dev/null || xdotool windowfocus --sync "$chooser"
sleep 0.5
xdotool key --clearmodifiers ctrl+l
sleep 0.3
xdotool type --delay 5 "$files/return-label.pdf"
sleep 0.3
xdotool key Return
ui wait "$anna_pid" 'push button' '^Save return-label.pdf$'
say "anna's PDF is in her log"

peer fetch "$vera" return-label.pdf "$work/received.pdf"
[[ $got == "application/pdf "* ]] || fail "the visitor got the file as: $got"
cmp "$files/return-label.pdf" "$work/received.pdf" || fail "the visitor's download differs from the file anna attached"
say "the visitor received the entry and downloaded the PDF byte for byte ($got bytes)"
peer heard "$vera" "The return label is attached."

sleep 1 # the thumbnail and the last line settle
shot "$wa" "$out/02-files-in-chat.png"
cp "$out/02-files-in-chat.png" "$shots/files-in-chat.png"

ok=1
say "ok; screenshot in ${shots#"$root"/}"
