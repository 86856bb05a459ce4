#!/usr/bin/env bash
# End-to-end test of the supervisor dashboard window, in the real desktop
# app against a real relay, with screenshots for docs/screenshots/.
#
#   build/scripts/dashboard-e2e.sh [app] [relay]
#
# What it does, all on this machine and all real parts:
#  - seeds a fresh relay database (seed-demo: anna, bertil, cecilia in the
#    channel "support") and runs the relay on a free loopback port;
#  - runs Xvfb, openbox, a private D-Bus session and an accessibility bus;
#  - starts two apps, one profile each (their own XDG_CONFIG_HOME): anna, an
#    agent, and cecilia, a supervisor, and signs both in through the login form;
#  - a visitor (build/scripts/e2epeer, over the protocol) starts a chat and a
#    second one waits; anna takes the first with "Get next in queue" and
#    answers; twelve more wait, more than the dashboard's chats box shows;
#  - a tray host (build/scripts/e2etray, a StatusNotifierWatcher on the
#    private session bus) shows both apps' tray menus: cecilia's offers
#    Dashboard, anna's does not;
#  - cecilia opens the dashboard from her settings menu (Open dashboard): her
#    app asks the relay for a one-time token and starts the dashboard as a
#    second process with the token on its standard input; the test checks
#    that process's command line and environment hold no token;
#  - the channel warns after 8 s (managers after 20 s), so the chat left
#    waiting is marked on the dashboard;
#  - at its default size (1100x720) the dashboard shows the agents and the
#    recent transfers wholly, without a scrolled page; it is screenshotted
#    at 1920x1080 too;
#  - in the dashboard: the figures and the chat show; Listen opens the chat
#    read-only, and a new visitor line arrives live; with the chat open beside
#    the tables every box is still in the window, at 1100x720 and at
#    1920x1080 (screenshotted); Take over, confirmed,
#    makes it cecilia's; anna's window shows listen mode;
#  - checks on the relay (build/scripts/dashcheck, as cecilia and as anna):
#    cecilia owns the chat, the take-over is in its transfer history, anna
#    listens;
#  - the dashboard window is closed, and opened again from cecilia's tray
#    menu: a new dashboard process, signed in the same way, shows the chats.
#
# The windows are driven by what their controls are, not where: the page's
# accessibility tree (AT-SPI), read by build/scripts/dashboard-e2e-ui.py,
# names each button and field, and xdotool clicks and types there. Every
# step polls until it holds (E2E_STEP_TIMEOUT, default 45 s), so a slow
# machine takes longer rather than failing.
#
# Screenshots go to build/dashboard-shots/ (DASHBOARD_SHOTS=docs/screenshots
# refreshes the ones in the docs): dashboard.png, dashboard-wide.png,
# dashboard-listening.png, dashboard-wide-listening.png,
# dashboard-takeover.png; a blank
# window, or one without the UI's accent colour, fails the test. Logs and
# every step's screenshot go to E2E_OUT (default: a temporary directory,
# removed after a green run unless E2E_KEEP=1, kept after a red one).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
app_bin=${1:-$root/build/bin/switchboard}
relay_bin=${2:-$root/build/bin/switchboard-relay}
shots=${DASHBOARD_SHOTS:-$root/build/dashboard-shots}
step_timeout=${E2E_STEP_TIMEOUT:-45}
password=e2e-dashboard-password
python=/usr/bin/python3
launcher=/usr/libexec/at-spi-bus-launcher
question="My invoice shows the wrong amount"
first_line="Hello, I was charged twice for my order 4711."
reply="Hi Vera, I am sorry about that. Let me look at the invoice."
live_line="The second charge came on Monday."

# The UI's colours (frontend/src/app.css), matched exactly: Xvfb has no
# colour management and the fills are flat.
accent='#2f6f73'               # --accent: headings, primary buttons
accent_off='srgb(140,175,177)' # a disabled primary button

# Re-run inside a private D-Bus session (see on_private_bus); the
# accessibility bus is started, and stopped, here.
# shellcheck source=build/scripts/e2e-lib.sh
source "$root/build/scripts/e2e-lib.sh"
on_private_bus dashboard-e2e Xvfb openbox xdotool import convert dbus-run-session dbus-send curl go "$python" "$launcher"

e2e_begin dashboard-e2e
mkdir -p "$shots"

# --- the relay --------------------------------------------------------------

db=$work/relay.db
printf '%s\n' "$password" | "$relay_bin" seed-demo --database "$db" >"$out/seed.log" 2>&1 || fail "seed-demo failed"
# Short warning delays, so a chat left waiting is marked during the test.
"$relay_bin" channel set support --database "$db" --name "Customer support" --timezone Europe/Stockholm \
  --warn-after 8s --manager-warn-after 20s >>"$out/seed.log" 2>&1 || fail "could not set the channel's warning delays"

start_relay "$relay_bin" "$db"

# --- the display and the accessibility bus -----------------------------------

# Two app windows side by side on top, the dashboard below.
start_display 2240x1580
start_atspi
say "display $DISPLAY, accessibility bus up"

# --- helpers: the protocol peer, the relay checker, the UI driver -----------

(cd "$root" && go build -o "$work/e2epeer" ./build/scripts/e2epeer && go build -o "$work/dashcheck" ./build/scripts/dashcheck &&
  go build -o "$work/e2etray" ./build/scripts/e2etray) ||
  fail "could not build the protocol helpers"


start_helper PEER "$work/e2epeer" -url "$url" -password "$password" -auditor cecilia -timeout "${step_timeout}s"
start_helper UI "$python" "$root/build/scripts/dashboard-e2e-ui.py"
# The tray host, up before the apps start so that they put up their icons.
start_helper TRAY "$work/e2etray" -timeout "${step_timeout}s"

# peer CMD...: one command to the protocol peer; its answer's value lands in $got.



# --- windows and screenshots ------------------------------------------------

# is_dashboard PID: a dashboard process of the app. Between fork and exec a
# child still shows its parent's command line, so wait for the exec.
is_dashboard() {
  [[ $(cat "/proc/$1/comm" 2>/dev/null) == switchboard ]] &&
    tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qx -- '--window=dashboard'
}





# in_view ROLE NAME: the whole of the dashboard's control is inside its
# window, as it is: nothing is scrolled to find it.
in_view() {
  local WIDTH HEIGHT X Y SCREEN WINDOW x y w h
  ui box "$dash_pid" "$1" "$2"
  read -r x y w h <<<"$got"
  eval "$(xdotool getwindowgeometry --shell "$wd")"
  ((x >= X && x + w <= X + WIDTH && y >= Y && y + h <= Y + HEIGHT)) ||
    fail "the dashboard's $1 '$2' (${w}x$h+$x+$y) is not all inside its window (${WIDTH}x$HEIGHT+$X+$Y)"
}

# sign_in PID LOGIN: fills the login form (the server is prefilled by --server).
sign_in() {
  ui type "$1" entry '^Login$' "$2"
  ui type "$1" 'password text' '^Password$' "$password"
  ui key Return
}

# --- 1. two agents sign in ------------------------------------------------------

launch anna
anna_pid=$app_pid
launch cecilia
cecilia_pid=$app_pid
window_of "$anna_pid" Switchboard
wa=$win
window_of "$cecilia_pid" Switchboard
wc=$win
xdotool windowmove "$wa" 0 0
xdotool windowmove "$wc" 1130 0
say "anna's window $wa (pid $anna_pid), cecilia's window $wc (pid $cecilia_pid)"

sign_in "$anna_pid" anna
peer await present anna
sign_in "$cecilia_pid" cecilia
ui wait "$cecilia_pid" 'combo box' 'Settings$'
say "anna and cecilia are signed in"

# The tray: a supervisor's menu offers the dashboard, an agent's does not.
tray has "$cecilia_pid" Dashboard
tray has "$anna_pid" Away
tray menu "$anna_pid"
[[ "|$got|" != *"|Dashboard|"* ]] || fail "anna's tray offers the dashboard: $got"
say "tray menus: cecilia's offers Dashboard, anna's ($got) does not"

# --- 2. visitors; anna takes the first chat and answers -------------------------

peer visitor Vera_Lind "$question"
session=$got
peer say "$session" "$first_line"
peer visitor Walter_Berg Where is my parcel
waiting=$got
peer await queued "$waiting"
ui click "$anna_pid" 'push button' '^Get next in queue$'
peer await owner "$session" anna
ui type "$anna_pid" '*' '^Message' "$reply"
ui key Return
peer heard "$session" "$reply"
# A busy morning: more chats than the dashboard's chats box shows at its
# default size, so that it scrolls inside its box, not the page.
peer visitors 12
say "anna took $session and answered; $waiting and 12 more wait"

# --- 3. cecilia opens the dashboard from her menu -------------------------------

ui click "$cecilia_pid" 'combo box' 'Settings$'
ui click "$cecilia_pid" 'push button' '^Open dashboard$'
dash_pid=
deadline=$((SECONDS + step_timeout))
while [[ -z $dash_pid ]]; do
  for c in $(pgrep -P "$cecilia_pid" 2>/dev/null); do
    is_dashboard "$c" && dash_pid=$c
  done
  [[ -n $dash_pid ]] && break
  ((SECONDS < deadline)) || fail "cecilia's app started no dashboard process"
  sleep 0.1
done
# Its command line: the dashboard, signed in from standard input; the
# token itself is on no command line and in no environment.
args=$(tr '\0' ' ' <"/proc/$dash_pid/cmdline")
[[ $args == *"--window=dashboard"* && $args == *"--handover-stdin"* ]] || fail "dashboard started as: $args"
if tr '\0' '\n' <"/proc/$dash_pid/cmdline" | grep -q 'h1\.' || tr '\0' '\n' <"/proc/$dash_pid/environ" | grep -q 'h1\.'; then
  fail "a handover token is on the dashboard's command line or in its environment"
fi
[[ $(readlink "/proc/$dash_pid/fd/0") == pipe:* ]] || fail "the dashboard's standard input is not a pipe"
window_of "$dash_pid" 'Switchboard Dashboard'
dump_pid=$dash_pid # a failure logs its accessibility tree
wd=$win
xdotool windowmove "$wd" 1130 790
say "dashboard process $dash_pid (window $wd), started as: ${args% }"

# It signed in by itself: the chats and figures show, and the chat left
# waiting is marked once it waits past the channel's warning delay.
ui wait "$dash_pid" 'push button' '^Listen: Vera Lind$'
ui text "$dash_pid" 'Walter Berg'
ui text "$dash_pid" 'Waiting too long'
shot "$wd" "$out/10-dashboard.png"
cp "$out/10-dashboard.png" "$shots/dashboard.png"
# At the default size the agents and the recent transfers are in view
# without scrolling the page, though the chats are more than fit.
in_view landmark '(?i)^agents$'
in_view landmark '(?i)^recent transfers$'
say "the dashboard shows both chats"
# The same at 1920x1080, then back to its default size and place.
xdotool windowmove "$wd" 0 0 windowsize "$wd" 1920 1080
sleep 1
shot "$wd" "$out/10-dashboard-wide.png"
cp "$out/10-dashboard-wide.png" "$shots/dashboard-wide.png"
xdotool windowsize "$wd" 1100 720 windowmove "$wd" 1130 790
sleep 0.5

# --- 4. listen, silently --------------------------------------------------------

ui click "$dash_pid" 'push button' '^Listen: Vera Lind$'
ui text "$dash_pid" 'Listening silently'
ui text "$dash_pid" 'charged twice'
ui text "$dash_pid" 'Let me look at the invoice'
peer say "$session" "$live_line"
ui text "$dash_pid" 'second charge came on Monday'
peer await owner "$session" anna
# With the chat open beside the tables at the default size, every box is
# still in the window: the page does not scroll, each list scrolls in its box.
for box in '(?i)^all channels$' '(?i)^ongoing chats$' '(?i)^agents$' '(?i)^recent transfers$' '(?i)^channels$' '^Chat with Vera Lind$'; do
  in_view landmark "$box"
done
shot "$wd" "$out/11-listening.png"
cp "$out/11-listening.png" "$shots/dashboard-listening.png"
# The same on a large screen.
xdotool windowmove "$wd" 0 0 windowsize "$wd" 1920 1080
sleep 1
for box in '(?i)^ongoing chats$' '(?i)^agents$' '(?i)^recent transfers$' '^Chat with Vera Lind$'; do
  in_view landmark "$box"
done
shot "$wd" "$out/11-listening-wide.png"
cp "$out/11-listening-wide.png" "$shots/dashboard-wide-listening.png"
xdotool windowsize "$wd" 1100 720 windowmove "$wd" 1130 790
sleep 0.5
say "listening: the log and a live line show, anna still owns the chat; every box in view at 1100x720 and 1920x1080"

# --- 5. take over ------------------------------------------------------------------

ui click "$dash_pid" 'push button' '^Take over$'
ui wait "$dash_pid" dialog 'Take over this chat'
# The dialog over the scrolled chats box: no scrollbar drawn over it.
shot "$wd" "$out/12-takeover-dialog.png"
ui click "$dash_pid" 'push button' '^Take over$' '' dialog 'Take over this chat'
peer await owner "$session" cecilia
ui text "$dash_pid" 'This chat is yours now'
# The next dashboard picture has her as the owner: nothing left to take over.
ui gone "$dash_pid" 'push button' '^Take over: Vera Lind$'
# Anna's chat is in listen mode: "Close window" instead of the composer.
ui wait "$anna_pid" 'push button' '^Close window$'
ui gone "$anna_pid" '*' '^Message$'
shot "$wd" "$out/12-takeover-dashboard.png"
shot "$wa" "$out/12-takeover-anna.png"
convert "$out/12-takeover-dashboard.png" "$out/12-takeover-anna.png" -background '#f6f7f9' -gravity north +append +repage \
  "$shots/dashboard-takeover.png"
say "cecilia took the chat over; anna's window shows listen mode"

"$work/dashcheck" -url "$url" -password "$password" -session "$session" -from anna -by cecilia >"$out/dashcheck.log" 2>&1 ||
  fail "relay check: $(cat "$out/dashcheck.log")"
say "verified on the relay: cecilia owns $session, the take-over is in its history, anna listens"

# --- 6. closed, and opened again from the tray ------------------------------------

old_dash=$dash_pid
# Alt+F4: openbox asks the window to close, as a user's click on its X does.
# On a busy machine the activation can lose the key: press it again every
# few seconds until the process is gone.
deadline=$((SECONDS + step_timeout))
pressed=0
while kill -0 "$old_dash" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the dashboard window did not close"
  if ((SECONDS >= pressed + 5)); then
    xdotool windowactivate --sync "$wd" key --clearmodifiers alt+F4 2>/dev/null || true
    pressed=$SECONDS
  fi
  sleep 0.2
done
say "the dashboard window is closed"
tray click "$cecilia_pid" Dashboard
dash_pid=
deadline=$((SECONDS + step_timeout))
while [[ -z $dash_pid ]]; do
  for c in $(pgrep -P "$cecilia_pid" 2>/dev/null); do
    [[ $c != "$old_dash" ]] && is_dashboard "$c" && dash_pid=$c
  done
  [[ -n $dash_pid ]] && break
  ((SECONDS < deadline)) || fail "the tray's Dashboard item started no dashboard process"
  sleep 0.1
done
args=$(tr '\0' ' ' <"/proc/$dash_pid/cmdline")
[[ $args == *"--window=dashboard"* && $args == *"--handover-stdin"* ]] || fail "dashboard started from the tray as: $args"
if tr '\0' '\n' <"/proc/$dash_pid/cmdline" | grep -q 'h1\.' || tr '\0' '\n' <"/proc/$dash_pid/environ" | grep -q 'h1\.'; then
  fail "a handover token is on the command line or in the environment of the dashboard opened from the tray"
fi
window_of "$dash_pid" 'Switchboard Dashboard'
dump_pid=$dash_pid # a failure logs its accessibility tree
ui text "$dash_pid" 'Walter Berg'
ui text "$dash_pid" 'Vera Lind'
say "opened again from the tray (process $dash_pid): signed in, the chats show"

ok=1
say "ok; screenshots in ${shots#"$root"/}"
