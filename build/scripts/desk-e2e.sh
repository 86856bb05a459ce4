#!/usr/bin/env bash
# End-to-end walk of the desk as a busy agent and a supervisor live in it,
# in the real desktop app against a real relay, with screenshots for
# docs/screenshots/. Run by make test-desktop-e2e after desktop-e2e.sh.
#
#   build/scripts/desk-e2e.sh [app] [relay]
#
# What it does, all on this machine and all real parts:
#  - seeds a fresh relay database (seed-demo: anna, bertil, cecilia in the
#    channel "support") and runs the relay on a free loopback port;
#  - runs Xvfb, openbox, a private D-Bus session with an accessibility bus,
#    a tray host and a notification server (build/scripts/e2etray);
#  - anna and bertil sign in, each in an app of their own; bertil takes a
#    chat and keeps it open; anna takes another and transfers it to bertil
#    with the Transfer button beside the chat's title;
#  - the offer over bertil's open chat: a bar with the countdown, Accept,
#    Reject and Open stands above it; his window asks for attention (the
#    urgency hint, read with xprop); his tray icon changes and its tooltip
#    counts the transfer; his notification server got the offer;
#  - anna cancels: the bar goes, the urgency hint goes (bertil never
#    focused his window), the notification is withdrawn (CloseNotification),
#    the tray icon is as before;
#  - anna transfers again: the hint is back; bertil focuses his window and
#    it goes while the offer still waits; he accepts in the bar;
#  - on behalf: cecilia, a supervisor, opens the dashboard and transfers a
#    chat of anna's to bertil; each of the three is told who did what (no
#    "You are now listening" for cecilia, who listens to nothing);
#  - close with undo: anna closes the window of a chat she listens to, the
#    toast offers Undo, and Undo brings the chat back;
#  - the relay stops: anna's header, at 800 px wide, says "Reconnecting…
#    (next try in N s)" in the row of ⚙; the relay comes back on the same
#    port and the header says Connected.
#
# The windows are driven by what their controls are (AT-SPI, through
# build/scripts/dashboard-e2e-ui.py), every step polling until it holds
# (E2E_STEP_TIMEOUT, default 45 s). Screenshots go to build/desk-shots/
# (DESK_SHOTS=docs/screenshots refreshes the docs'): offer-over-open-chat.png,
# reconnecting-800.png. Logs and every step's screenshot go to E2E_OUT
# (default: a temporary directory, removed after a green run unless
# E2E_KEEP=1, kept after a red one).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
app_bin=${1:-$root/build/bin/switchboard}
relay_bin=${2:-$root/build/bin/switchboard-relay}
shots=${DESK_SHOTS:-$root/build/desk-shots}
step_timeout=${E2E_STEP_TIMEOUT:-45}
password=e2e-desk-password
python=/usr/bin/python3
launcher=/usr/libexec/at-spi-bus-launcher
comment="Maja's lamp order is stuck in the warehouse; Bertil handles deliveries."

accent='#2f6f73'               # --accent (frontend/src/app.css)
accent_off='srgb(140,175,177)' # a disabled primary button

# shellcheck source=build/scripts/e2e-lib.sh
source "$root/build/scripts/e2e-lib.sh"
on_private_bus desk-e2e Xvfb openbox xdotool xprop import convert dbus-run-session dbus-send curl go "$python" "$launcher"

e2e_begin desk-e2e
mkdir -p "$shots"

# --- the relay, the display, the buses ---------------------------------------

db=$work/relay.db
printf '%s\n' "$password" | "$relay_bin" seed-demo --database "$db" >"$out/seed.log" 2>&1 || fail "seed-demo failed"
start_relay "$relay_bin" "$db"

# anna and bertil side by side on top, cecilia's dashboard below.
start_display 2240x1580
start_atspi
say "display $DISPLAY, accessibility bus up"

(cd "$root" && go build -o "$work/e2epeer" ./build/scripts/e2epeer && go build -o "$work/e2etray" ./build/scripts/e2etray) ||
  fail "could not build the protocol helpers"


start_helper PEER "$work/e2epeer" -url "$url" -password "$password" -auditor cecilia -timeout "${step_timeout}s"
start_helper UI "$python" "$root/build/scripts/dashboard-e2e-ui.py"
start_helper TRAY "$work/e2etray" -notifications -timeout "${step_timeout}s"



sign_in() {
  ui type "$1" entry '^Login$' "$2"
  ui type "$1" 'password text' '^Password$' "$password"
  ui key Return
}

# urgent WIN: whether the window asks for attention, as the window manager
# reads it (the urgency flag of WM_HINTS, or openbox's
# _NET_WM_STATE_DEMANDS_ATTENTION).
urgent() {
  local p
  p=$(xprop -id "$1" WM_HINTS _NET_WM_STATE 2>/dev/null) || return 1
  [[ $p == *"urgency hint bit is set"* || $p == *_NET_WM_STATE_DEMANDS_ATTENTION* ]]
}
# await_urgent WIN yes|no WHAT: waits until the window's attention request is so.
await_urgent() {
  local deadline=$((SECONDS + step_timeout))
  while :; do
    if [[ $2 == yes ]] && urgent "$1"; then return; fi
    if [[ $2 == no ]] && ! urgent "$1"; then return; fi
    ((SECONDS < deadline)) || fail "$3: the window's attention request is not '$2': $(xprop -id "$1" WM_HINTS _NET_WM_STATE 2>&1 | tr '\n\t' '  ')"
    sleep 0.2
  done
}

# --- 1. anna and bertil sign in; bertil has a chat open ------------------------

launch anna
anna_pid=$app_pid
launch bertil
bertil_pid=$app_pid
window_of "$anna_pid" Switchboard
wa=$win
window_of "$bertil_pid" Switchboard
wb=$win
xdotool windowmove "$wa" 0 0
xdotool windowmove "$wb" 1130 0
dump_pid=$bertil_pid
sign_in "$anna_pid" anna
peer await present anna
sign_in "$bertil_pid" bertil
peer await present bertil
say "anna ($anna_pid) and bertil ($bertil_pid) are signed in"

peer visitor Olle_Berg My invoice is wrong
olle=$got
peer await queued "$olle"
ui click "$bertil_pid" 'push button' '^Get next in queue$'
peer await owner "$olle" bertil
ui wait "$bertil_pid" '*' '^Message'
peer visitor Maja_Lind My parcel has not arrived
maja=$got
peer await queued "$maja"
ui click "$anna_pid" 'push button' '^Get next in queue$'
peer await owner "$maja" anna
tray tooltip "$bertil_pid" 1 chat
tray icon "$bertil_pid"
icon_before=$got
say "bertil has Olle Berg's chat open; anna has Maja Lind's; bertil's tray icon: $icon_before"

# --- 2. the offer over bertil's open chat ------------------------------------------

# anna_transfer: anna transfers her open chat to bertil with the button
# beside its title (her window has the focus; bertil's does not).
anna_transfer() {
  ui click "$anna_pid" 'push button' '^Transfer$'
  ui wait "$anna_pid" dialog '^Transfer chat$'
  ui click "$anna_pid" 'radio button' '^Bertil Ek'
  ui type "$anna_pid" '*' '^Comment' "$comment"
  ui click "$anna_pid" 'push button' '^Transfer$' '' dialog '^Transfer chat$'
  peer await pending "$maja" bertil
}
anna_transfer
# The bar above Olle's chat: who, the countdown, and the three buttons.
ui text "$bertil_pid" 'Anna Berg asks you to take over the chat with Maja Lind\. [0-9]+:[0-9]{2} left'
ui wait "$bertil_pid" 'push button' '^Accept transfer$'
ui wait "$bertil_pid" 'push button' '^Reject transfer$'
ui wait "$bertil_pid" 'push button' '^Open the chat$'
ui wait "$bertil_pid" '*' '^Message' # Olle's chat is still open under it
ui text "$bertil_pid" 'My invoice is wrong'
await_urgent "$wb" yes "an offer waits"
say "bertil's window: $(xprop -id "$wb" WM_HINTS _NET_WM_STATE | grep -iE 'urgen|attention' | tr -s '\t\n' '  ')"
tray icon "$bertil_pid"
[[ ${got%% *} != "${icon_before%% *}" ]] || fail "bertil's tray icon did not change for the offer ($got)"
tray tooltip "$bertil_pid" 1 transfer
tray notified "$bertil_pid" Anna Berg
note=$got
shot "$wb" "$out/10-offer-over-open-chat.png"
cp "$out/10-offer-over-open-chat.png" "$shots/offer-over-open-chat.png"
say "bertil sees the offer over Olle's chat; his window asks for attention; tray and notification ($note) show it"

# anna cancels: everything that announced the offer goes.
ui click "$anna_pid" 'push button' '^Cancel transfer$'
ui gone "$bertil_pid" 'push button' '^Accept transfer$'
await_urgent "$wb" no "the offer was cancelled"
tray closed "$note"
tray icon "$bertil_pid"
[[ $got == "$icon_before" ]] || fail "bertil's tray icon is not back after the cancel: $got, was $icon_before"
ui text "$bertil_pid" 'Anna Berg cancelled the transfer'
say "cancelled: bar, urgency hint, notification and tray icon are gone from bertil's desk"

# Again; this time bertil looks at his window, which ends the request for
# attention while the offer still waits, and accepts in the bar.
anna_transfer
await_urgent "$wb" yes "a second offer waits"
xdotool windowactivate --sync "$wb"
await_urgent "$wb" no "bertil focused his window"
ui click "$bertil_pid" 'push button' '^Accept transfer$'
peer await owner "$maja" bertil
ui text "$anna_pid" 'Bertil Ek accepted the chat with Maja Lind\. You are now listening\.'
say "the second offer: the hint went when bertil focused his window; he accepted in the bar"

# --- 3. on anna's behalf ------------------------------------------------------------

peer visitor Per_Ek Where is my refund
per=$got
peer await queued "$per"
ui click "$anna_pid" 'push button' '^Get next in queue$'
peer await owner "$per" anna
launch cecilia
cecilia_pid=$app_pid
window_of "$cecilia_pid" Switchboard
xdotool windowmove "$win" 1130 790
sign_in "$cecilia_pid" cecilia
ui click "$cecilia_pid" 'combo box' 'Settings$'
ui click "$cecilia_pid" 'push button' '^Open dashboard$'
dash_pid=
deadline=$((SECONDS + step_timeout))
while [[ -z $dash_pid ]]; do
  for c in $(pgrep -P "$cecilia_pid" 2>/dev/null); do
    tr '\0' '\n' <"/proc/$c/cmdline" 2>/dev/null | grep -qx -- '--window=dashboard' && dash_pid=$c
  done
  [[ -n $dash_pid ]] && break
  ((SECONDS < deadline)) || fail "cecilia's app started no dashboard"
  sleep 0.1
done
window_of "$dash_pid" 'Switchboard Dashboard'
xdotool windowmove "$win" 0 790
dump_pid=$dash_pid
ui click "$dash_pid" 'push button' '^Transfer: Per Ek$'
ui wait "$dash_pid" dialog '^Transfer chat$'
ui text "$dash_pid" 'The chat with Per Ek, answered by Anna Berg\.'
ui click "$dash_pid" 'radio button' '^Bertil Ek'
ui click "$dash_pid" 'push button' '^Transfer$' '' dialog '^Transfer chat$'
peer await pending "$per" bertil
dump_pid=$bertil_pid
ui text "$bertil_pid" 'Cecilia Lind asks you to take over the chat with Per Ek from Anna Berg\.'
ui text "$anna_pid" 'Cecilia Lind asked Bertil Ek to take over your chat with Per Ek\.'
ui click "$bertil_pid" 'push button' '^Accept transfer$'
peer await owner "$per" bertil
ui text "$anna_pid" 'Bertil Ek accepted the chat with Per Ek\. You are now listening\.'
ui text "$dash_pid" 'Bertil Ek accepted the chat with Per Ek from Anna Berg\.'
ui notext "$dash_pid" 'You are now listening'
ui text "$bertil_pid" 'You now own the chat with Per Ek\.'
say "on behalf: bertil, anna and cecilia are each told who did what"
kill "$dash_pid" 2>/dev/null || true
dash_pid=

# --- 4. close with undo --------------------------------------------------------------

dump_pid=$anna_pid
ui click "$anna_pid" 'push button' '^Per Ek'
ui click "$anna_pid" 'push button' '^Close window$'
# Gone from the list at once; the toast offers Undo for a few seconds.
ui gone "$anna_pid" 'push button' '^Per Ek'
ui click "$anna_pid" 'push button' '^Undo$'
ui wait "$anna_pid" 'push button' '^Per Ek'
ui click "$anna_pid" 'push button' '^Per Ek'
ui wait "$anna_pid" 'push button' '^Close window$'
ui text "$anna_pid" 'Where is my refund'
say "anna closed Per Ek's window and undid it: the chat is back"

# --- 5. the relay stops: reconnecting, in one row at 800 px ------------------------

xdotool windowsize "$wa" 800 720
kill "$relay_pid"
wait "$relay_pid" 2>/dev/null || true
ui wait "$anna_pid" 'status bar' '^Connection: Reconnecting… \(next try in [0-9]+ s\)$'
conn_y=${got#* }
ui wait "$anna_pid" 'combo box' 'Settings$'
gear_y=${got#* }
((conn_y - gear_y < 12 && gear_y - conn_y < 12)) ||
  fail "at 800 px the reconnect status (y $conn_y) is not in the row of ⚙ (y $gear_y)"
ui notext "$anna_pid" 'dial tcp|connection refused'
shot "$wa" "$out/20-reconnecting-800.png"
cp "$out/20-reconnecting-800.png" "$shots/reconnecting-800.png"
say "relay stopped: anna's header says when it tries again, in one row at 800 px"
E2E_PORT=$port start_relay "$relay_bin" "$db"
ui wait "$anna_pid" 'status bar' '^Connection: Connected$'
say "relay back on port $port: anna is connected again"

ok=1
say "ok; screenshots in ${shots#"$root"/}"
