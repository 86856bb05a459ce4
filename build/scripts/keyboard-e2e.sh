#!/usr/bin/env bash
# The seed's whole flow with the keyboard alone, in the real desktop app:
#
#   build/scripts/keyboard-e2e.sh [app] [relay]
#
# Three app windows (anna, bertil, cecilia) and cecilia's dashboard, under
# Xvfb with openbox, a private D-Bus session and an accessibility bus. No
# pointer is used on a page: a window is brought to the front as Alt+Tab
# would, and from there only keys are pressed. Each step asks the page's
# accessibility tree (AT-SPI, build/scripts/dashboard-e2e-ui.py) where the
# focus is, so "Tab reaches Transfer" is checked, not assumed:
#  - each agent signs in: the focus starts in the login field; type, Tab,
#    type, Enter;
#  - a visitor (build/scripts/e2epeer) asks; anna Tabs to "Get next in queue",
#    presses Enter, lands in the composer and answers with Enter;
#  - anna Tabs to Transfer, chooses Bertil in the dialog, Tabs to the
#    comment, writes it, Tabs to the dialog's Transfer and presses Enter;
#  - bertil presses F8 from wherever he is: the focus is on the offer's
#    Accept; Enter accepts; anna's window is in listen mode;
#  - cecilia opens the dashboard from her settings menu with the keyboard,
#    Tabs to Listen on the chat, then to Take over, and confirms with Enter
#    (the dialog puts the focus on its confirm button);
#  - every step is checked on the relay too (owner, pending transfer, the
#    transfer's history with the comment).
#
# KBD_LANG=sv runs it in a Swedish desk (the visitor and the channel speak
# Swedish too), and after every step scans all the window shows and names
# for a word only the English dictionary uses (build/scripts/e2e-i18n.py):
# English left on a Swedish screen fails it. Controls are named by their
# message keys (frontend/src/lib/i18n.ts), so one script walks both.
#
# Logs go to E2E_OUT (default: a temporary directory, removed after a green
# run unless E2E_KEEP=1). E2E_STEP_TIMEOUT (default 45) bounds each wait.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
app_bin=${1:-$root/build/bin/switchboard}
relay_bin=${2:-$root/build/bin/switchboard-relay}
step_timeout=${E2E_STEP_TIMEOUT:-45}
password=e2e-keyboard-password
python=/usr/bin/python3
launcher=/usr/libexec/at-spi-bus-launcher
app_language=${KBD_LANG:-en}
if [[ $app_language == sv ]]; then
  question="Jag vill ha pengarna tillbaka"
  # Typed through xdotool, which has no key for å, ä, ö on Xvfb's keymap.
  comment="Maja vill ha pengarna tillbaka, Bertil tar det."
  reply="Hej Maja, jag kollar saken direkt."
else
  question="I would like a refund"
  comment="Maja asks about a refund; Bertil handles refunds."
  reply="Hello Maja, let me look at your order."
fi

# shellcheck source=build/scripts/e2e-lib.sh
source "$root/build/scripts/e2e-lib.sh"
on_private_bus keyboard-e2e Xvfb openbox xdotool dbus-run-session dbus-send go "$python" "$launcher"

e2e_begin keyboard-e2e-$app_language

# The desk's words in its language: M[key] (frontend/src/lib/i18n.ts).
declare -A M
while IFS=$'\t' read -r k v; do M[$k]=$v; done < <("$python" "$root/build/scripts/e2e-i18n.py" messages "$app_language")
"$python" "$root/build/scripts/e2e-i18n.py" english >"$work/english-words"
# exact KEY / starts KEY: a regular expression of the message (up to its first placeholder).
quote() { sed 's/[][\.*^$(){}?+|/]/\\&/g' <<<"${1%%\{*}"; }
exact() { printf '^%s$' "$(quote "${M[$1]}")"; }
starts() { printf '^%s' "$(quote "${M[$1]}")"; }
# swedish PID: nothing English in that window (names of people and of the
# product allowed). Only in the Swedish run.
swedish() {
  [[ $app_language == sv ]] || return 0
  ui english "$1" "$work/english-words" "switchboard,anna,berg,bertil,ek,cecilia,maja"
  [[ -z $got ]] || fail "English in a Swedish window (pid $1): $got"
}


db=$work/relay.db
printf '%s\n' "$password" | "$relay_bin" seed-demo --database "$db" >"$out/seed.log" 2>&1 || fail "seed-demo failed"
if [[ $app_language == sv ]]; then
  "$relay_bin" channel set support --database "$db" --name "Kundtjänst" >>"$out/seed.log" 2>&1 || fail "could not name the channel"
fi
start_relay "$relay_bin" "$db"

start_display 2240x1580
start_atspi

(cd "$root" && go build -o "$work/e2epeer" ./build/scripts/e2epeer) || fail "could not build the protocol peer"
start_helper PEER "$work/e2epeer" -url "$url" -password "$password" -auditor cecilia -timeout "${step_timeout}s"
start_helper UI "$python" "$root/build/scripts/dashboard-e2e-ui.py"

# front WIN PID: brings the window to the front (as Alt+Tab would); what
# follows goes to its focused control.
front() {
  local deadline=$((SECONDS + step_timeout))
  dump_pid=$2
  # Keys go to the active window: make sure it is this one (a window just
  # mapped, or a busy machine, can leave the activation undone).
  until [[ $(xdotool getactivewindow 2>/dev/null) == "$1" ]]; do
    ((SECONDS < deadline)) || fail "window $1 (pid $2) could not be brought to the front"
    xdotool windowactivate --sync "$1" 2>/dev/null || true
    sleep 0.2
  done
  sleep 0.3
}
keys() {
  local k
  for k in "$@"; do
    xdotool key --clearmodifiers "$k"
    sleep 0.4
  done
}
typed() {
  xdotool type --clearmodifiers --delay 40 "$1"
  sleep 0.4
}

# kb_sign_in WIN PID LOGIN: the form opens with the focus in Login (the
# server is prefilled by --server).
kb_sign_in() {
  front "$1" "$2"
  ui focus "$2" entry "$(exact login.login)"
  swedish "$2"
  typed "$3"
  ui tabto "$2" 'password text' "$(exact login.password)" 3
  typed "$password"
  keys Return
  ui wait "$2" 'combo box' "$(quote "${M[account.menu]}")\$"
  swedish "$2"
}

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

# --- 1. sign in ------------------------------------------------------------------

kb_sign_in "$wa" "$anna_pid" anna
peer await present anna
kb_sign_in "$wb" "$bertil_pid" bertil
peer await present bertil
say "anna and bertil signed in with the keyboard"

# --- 2. anna takes the chat and answers -------------------------------------------

peer visitor Maja_Ek "$question"
session=$got
peer await queued "$session"
front "$wa" "$anna_pid"
ui tabto "$anna_pid" 'push button' "$(exact queue.next)"
say "anna: $got"
keys Return
peer await owner "$session" anna
ui focus "$anna_pid" '*' "$(starts composer.label)"
typed "$reply"
keys Return
peer heard "$session" "$reply"
swedish "$anna_pid"
say "anna took $session with Get next and answered from the composer"

# --- 3. anna transfers it to bertil with a comment --------------------------------

ui tabto "$anna_pid" 'push button' "$(exact menu.transfer)"
say "anna: $got"
keys Return
ui wait "$anna_pid" dialog "$(starts transfer.title)"
ui tabto "$anna_pid" 'radio button' '^Bertil' 20
keys space
ui tabto "$anna_pid" '*' "$(starts transfer.comment)" 20
typed "$comment"
swedish "$anna_pid"
ui tabto "$anna_pid" 'push button' "$(exact transfer.submit)" 20
keys Return
peer await pending "$session" bertil
swedish "$anna_pid"
say "anna offered the chat to bertil with a comment, by keyboard"

# --- 4. bertil: F8, Enter ----------------------------------------------------------

front "$wb" "$bertil_pid"
keys F8
ui focus "$bertil_pid" 'push button' "$(starts transfer.accept)"
swedish "$bertil_pid"
keys Return
peer await owner "$session" bertil
ui wait "$anna_pid" 'push button' "$(exact menu.close)"
swedish "$anna_pid"
swedish "$bertil_pid"
peer verify "$session" anna bertil "$comment"
say "bertil accepted with F8 and Enter; anna listens"

# --- 5. cecilia: the dashboard, listen, take over -----------------------------------

launch cecilia
cecilia_pid=$app_pid
window_of "$cecilia_pid" Switchboard
wc=$win
xdotool windowmove "$wc" 0 790
kb_sign_in "$wc" "$cecilia_pid" cecilia
ui tabto "$cecilia_pid" 'combo box' "$(quote "${M[account.menu]}")\$"
keys Return
ui tabto "$cecilia_pid" 'push button' "$(exact account.dashboard)" 10
swedish "$cecilia_pid"
keys Return
dash_pid=
deadline=$((SECONDS + step_timeout))
while [[ -z $dash_pid ]]; do
  for c in $(pgrep -P "$cecilia_pid" 2>/dev/null); do
    [[ $(cat "/proc/$c/comm" 2>/dev/null) == switchboard ]] &&
      tr '\0' '\n' <"/proc/$c/cmdline" 2>/dev/null | grep -qx -- '--window=dashboard' && dash_pid=$c
  done
  [[ -n $dash_pid ]] && break
  ((SECONDS < deadline)) || fail "cecilia's menu started no dashboard"
  sleep 0.1
done
dash_title='Switchboard Dashboard'
[[ $app_language == sv ]] && dash_title='Switchboard Översikt'
window_of "$dash_pid" "$dash_title"
wd=$win
xdotool windowmove "$wd" 1130 790
front "$wd" "$dash_pid"
# The tables have real headers: a screen reader names each cell's column
# and row (the agents' columns; the chat's row by its visitor).
ui wait "$dash_pid" 'column header' "$(exact dashboard.col.pendingTo)"
ui wait "$dash_pid" 'row header' '^Maja Ek$'
swedish "$dash_pid"
# Sorting is a button in the column's header, reached and pressed by key.
ui tabto "$dash_pid" 'push button' "$(exact dashboard.col.visitor)"
keys Return
ui tabto "$dash_pid" 'push button' "$(starts dashboard.listen): Maja Ek\$"
keys Return
ui text "$dash_pid" "$(starts dashboard.listenSilent)"
swedish "$dash_pid"
ui tabto "$dash_pid" 'push button' "$(exact dashboard.takeOver)"
keys Return
ui wait "$dash_pid" dialog "$(starts dashboard.confirmTitle)"
ui focus "$dash_pid" 'push button' "$(exact dashboard.takeOver)"
swedish "$dash_pid"
keys Return
peer await owner "$session" cecilia
ui wait "$bertil_pid" 'push button' "$(exact menu.close)"
swedish "$dash_pid"
swedish "$bertil_pid"
say "cecilia listened and took over from the dashboard, by keyboard"

ok=1
say "ok"
