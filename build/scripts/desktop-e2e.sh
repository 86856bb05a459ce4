#!/usr/bin/env bash
# End-to-end test of a chat transfer between two agents, each in the real
# desktop app, plus two measurements of the app (start time and memory).
#
#   build/scripts/desktop-e2e.sh [app] [relay]
#
# What it does, all on this machine and all real parts:
#  - seeds a fresh relay database (seed-demo: anna, bertil, cecilia in the
#    channel "support") and runs the relay on a free loopback port;
#  - runs Xvfb, openbox and a private D-Bus session;
#  - measures the cold start of the app (exec until the login form is
#    painted) against a bare Wails window, E2E_STARTS (default 5) each;
#  - starts two app instances side by side, one profile each (their own
#    XDG_CONFIG_HOME, so two single-instance locks; a third launch in anna's
#    profile must hand over and exit), and signs in anna and bertil by typing
#    into the real windows (xdotool);
#  - a visitor (build/scripts/e2epeer, over the protocol) starts a chat; anna
#    takes it with "Get next in queue", answers, and transfers it to bertil
#    with a comment (☰ > Transfer > Bertil > Transfer); bertil's window shows
#    the offer and Accept is pressed; anna's window shows listen mode;
#  - checks every step on the relay too, as cecilia (a supervisor): who owns
#    the chat, the pending transfer, and at the end the transfer history
#    (accepted, anna to bertil, the comment), anna's listener role and the
#    "Bertil has joined" line the visitor got;
#  - gives anna 50 chats and reads the memory of her app.
#
# Every step leaves a screenshot; a blank window, or one without the UI's
# accent colour, fails the test. The windows are driven with the keyboard
# where the UI has a path (Tab order, Enter, Space); a click only sets the
# starting point of that path, at a spot computed from the window geometry.
#
# Screenshots, logs and perf.txt go to E2E_OUT (default: a new temporary
# directory, removed after a green run unless E2E_KEEP=1, kept after a red
# one). E2E_STEP_TIMEOUT (default 45) bounds each wait, in seconds;
# E2E_PORT picks the relay's port (default: a free one).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
app_bin=${1:-$root/build/bin/switchboard}
relay_bin=${2:-$root/build/bin/switchboard-relay}
step_timeout=${E2E_STEP_TIMEOUT:-45}
password=e2e-demo-password
comment="Maja's lamp order is stuck in the warehouse; Bertil handles deliveries."
reply="Hi Maja, I am sorry to hear that. Let me check the order for you."

# The UI's colours (frontend/src/app.css), matched exactly: Xvfb has no
# colour management and the fills are flat.
accent='#2f6f73'           # --accent: header title, primary buttons
accent_off='srgb(140,175,177)' # a disabled primary button (Sign in, Get next)
wash='#e8f1f1'             # --accent-wash: selected rows, the listen banner
warn_wash='#fff4e0'        # --warn-wash: pending transfer banner, the offer
page='#f6f7f9'             # --bg: hidden wherever a dialog's backdrop lies
border='#dde1e7'           # --line: borders (undimmed only inside a dialog)
control='#7b8794'          # --control-line: text fields' outlines

for tool in Xvfb openbox xdotool import convert compare dbus-daemon dbus-send curl go; do
  command -v "$tool" >/dev/null || { echo "desktop-e2e: $tool not found (make deps)" >&2; exit 1; }
done
[[ -x $app_bin ]] || { echo "desktop-e2e: $app_bin not built (make desktop)" >&2; exit 1; }
[[ -x $relay_bin ]] || { echo "desktop-e2e: $relay_bin not built (make relay)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-e2e.XXXXXX")
out=${E2E_OUT:-$work/out}
mkdir -p "$out"
started=$SECONDS
ok=

e2e_name=desktop-e2e
# shellcheck source=build/scripts/e2e-lib.sh
source "$root/build/scripts/e2e-lib.sh"

fail() { report_failure "$*"; exit 1; }

# Processes we started, stopped in reverse order on the way out.
pids=()
cleanup() {
  local i pid
  if [[ -n ${PEER_PID:-} ]]; then
    { echo quit >&"${PEER[1]}"; } 2>/dev/null || true
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do wait "${pids[i]}" 2>/dev/null || true; done
  # The screenshots and logs stay where E2E_OUT says, or after a red run
  # (or with E2E_KEEP) in the temporary directory; the rest goes.
  if [[ -n ${E2E_OUT:-} || (-n $ok && -z ${E2E_KEEP:-}) ]]; then
    rm -rf "$work"
  else
    rm -rf "$work/profiles" "$work/e2epeer"
  fi
  if [[ -n $ok && (-n ${E2E_OUT:-} || -n ${E2E_KEEP:-}) ]]; then
    echo "desktop-e2e: screenshots and logs in $out"
  fi
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

# --- the relay --------------------------------------------------------------

db=$work/relay.db
printf '%s\n' "$password" | "$relay_bin" seed-demo --database "$db" >"$out/seed.log" 2>&1 ||
  fail "seed-demo failed"

start_relay "$relay_bin" "$db"

# --- the display ------------------------------------------------------------

# Wide enough for both app windows (1100x720 plus frames) side by side.
start_display 2240x900
# A private session bus: Wails' single-instance lock, the tray and the
# notifications talk D-Bus, and without a bus they would start one of their
# own (dbus-launch) that outlives the test. This one starts no services on
# demand (no keyring, no accessibility bus), so nothing of it stays behind.
dbus-daemon --config-file="$root/build/scripts/session-bus.conf" --nofork --nopidfile --print-address=3 3>"$work/bus" >"$out/dbus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [[ -s $work/bus ]] && break; sleep 0.1; done
[[ -s $work/bus ]] || fail "dbus-daemon did not start"
DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$work/bus")
export DBUS_SESSION_BUS_ADDRESS
# WebKitGTK's accelerated compositing needs a GPU; Xvfb has none. No
# accessibility bus either: it would outlive the test.
export WEBKIT_DISABLE_COMPOSITING_MODE=1 NO_AT_BRIDGE=1
say "display $DISPLAY"

# --- the protocol peer (visitors, and cecilia checking the relay) ----------

(cd "$root" && go build -o "$work/e2epeer" ./build/scripts/e2epeer) || fail "could not build the e2epeer"
coproc PEER { exec "$work/e2epeer" -url "$url" -password "$password" -auditor cecilia -timeout "${step_timeout}s" 2>"$out/peer.log"; }
pids+=("$PEER_PID")

# peer CMD...: one command to the peer; its answer's value lands in $got.
got=
peer() {
  local line
  echo "$*" >&"${PEER[1]}"
  IFS= read -r -t $((step_timeout + 30)) line <&"${PEER[0]}" || fail "the peer did not answer: $*"
  [[ $line == ok* ]] || fail "relay check: $* -> ${line#err }"
  got=${line#ok}
  got=${got# }
}
IFS= read -r -t 30 line <&"${PEER[0]}" || fail "the peer did not start"
[[ $line == ready ]] || fail "the peer: $line"

# --- driving a window -------------------------------------------------------

# launch NAME [LOG]: starts the app in the profile NAME, logging to
# app-LOG.log (default: NAME); sets app_pid.
launch() {
  local p=$work/profiles/$1 log=${2:-$1}
  mkdir -p "$p/config/gtk-3.0" "$p/cache" "$p/data" "$work/machine"
  # A steady caret, so that a window that has settled looks the same twice.
  printf '[Settings]\ngtk-cursor-blink=false\n' >"$p/config/gtk-3.0/settings.ini"
  XDG_CONFIG_HOME=$p/config XDG_CACHE_HOME=$p/cache XDG_DATA_HOME=$p/data \
    SWITCHBOARD_MACHINE_CONFIG_DIR=$work/machine \
    "$app_bin" --server "$url" >"$out/app-$log.log" 2>&1 &
  app_pid=$!
  pids+=("$app_pid")
}

# stop PID: ends an app we started and forgets it.
stop() {
  local keep=() p
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}



# grab WIN FILE: a screenshot of one window that must show the UI.
grab() {
  import -window "$1" "$2" 2>/dev/null || fail "could not screenshot window $1"
  painted "$2" || fail "$why; see $2"
}

# until_shows WIN FILE WHAT TEST: screenshots WIN into FILE until the UI is
# painted and the shell test TEST (which reads the screenshot as $shot)
# holds.
until_shows() {
  local w=$1 file=$2 what=$3 test=$4 deadline=$((SECONDS + step_timeout))
  shot=$file
  while :; do
    why="it does not show $what"
    if import -window "$w" "$file" 2>/dev/null && painted "$file" && eval "$test"; then return; fi
    ((SECONDS < deadline)) || fail "after ${step_timeout}s: $why; see $file"
    sleep 0.3
  done
}

# settle WIN FILE: waits until the window shows the same picture twice in a
# row (WebKit has caught up with the keystrokes), up to 8 s (a countdown on
# screen never settles), then screenshots it.
settle() {
  local deadline=$((SECONDS + 8))
  import -window "$1" "$work/settle-a.png" 2>/dev/null || true
  while ((SECONDS < deadline)); do
    sleep 0.4
    import -window "$1" "$work/settle-b.png" 2>/dev/null || continue
    if [[ $(compare -metric AE "$work/settle-a.png" "$work/settle-b.png" null: 2>&1) == 0 ]]; then break; fi
    mv "$work/settle-b.png" "$work/settle-a.png"
  done
  grab "$1" "$2"
}

# geometry WIN: sets WIDTH and HEIGHT (and X, Y) of the window.
geometry() {
  eval "$(xdotool getwindowgeometry --shell "$1")"
}

# WebKit takes keystrokes late: a pause after each.
keys() {
  local k
  for k in "$@"; do
    xdotool key --clearmodifiers "$k"
    sleep 0.5
  done
}
typed() {
  xdotool type --clearmodifiers --delay 40 "$1"
  sleep 0.5
}

# anchor WIN X Y: focuses the window and clicks a spot that is not a
# control; the next Tab then goes to the first control after that spot (the
# sequential focus navigation starting point). X and Y are relative to the
# window: a negative value counts from its right or bottom edge, N% is a
# fraction of its size.
anchor() {
  local w=$1 x=$2 y=$3 WIDTH HEIGHT X Y SCREEN WINDOW
  geometry "$w"
  x=$(at "$x" "$WIDTH")
  y=$(at "$y" "$HEIGHT")
  xdotool windowactivate --sync "$w" 2>/dev/null || true
  xdotool mousemove --window "$w" "$x" "$y" click 1
  sleep 0.5
}
at() {
  case $1 in
    *%) echo $(($2 * ${1%\%} / 100)) ;;
    -*) echo $(($2 + $1)) ;;
    *) echo "$1" ;;
  esac
}

# The login form is on screen: the disabled "Sign in" button.
login_form='(( $(count "$shot" "$accent_off") > 5000 ))'

# sign_in WIN LOGIN: types the login and password and presses Enter. The
# server address is prefilled by --server.
sign_in() {
  anchor "$1" 40 20 # the title bar of the page
  keys Tab Tab      # server address, login
  xdotool key ctrl+a
  typed "$2"
  keys Tab
  typed "$password"
  settle "$1" "$out/$3"
  (($(count "$out/$3" "$accent") > 5000)) || fail "Sign in is not enabled; see $out/$3"
  keys Return
}

# mem PID: VmRSS of the app, its WebKitWebProcess and WebKitNetworkProcess,
# then their Pss, in KiB.
mem() {
  local pid=$1 c comm main_rss web_rss=0 net_rss=0 main_pss web_pss=0 net_pss=0
  main_rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
  main_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup")
  for c in $(pgrep -P "$pid"); do
    comm=$(cat "/proc/$c/comm" 2>/dev/null || true)
    case $comm in
      WebKitWebProces*)
        web_rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$c/status")
        web_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$c/smaps_rollup") ;;
      WebKitNetworkPr*)
        net_rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$c/status")
        net_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$c/smaps_rollup") ;;
    esac
  done
  echo "$main_rss $web_rss $net_rss $main_pss $web_pss $net_pss"
}
# cpu_ms PID: CPU time (user + system) used so far by the app and its
# WebKit processes, in ms.
cpu_ms() {
  local tick p t sum=0
  tick=$(getconf CLK_TCK)
  for p in "$1" $(pgrep -P "$1"); do
    # utime and stime, fields 14 and 15 of /proc/PID/stat (counted from the
    # ")" that ends the command name, which may hold spaces).
    t=$(awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$p/stat" 2>/dev/null) || t=0
    sum=$((sum + ${t:-0}))
  done
  echo $((sum * 1000 / tick))
}
# resident PID: "anon file shmem" resident KiB of the app and its WebKit
# processes together: what they allocated, and what is mapped from files
# (libraries, mostly shared with any other GTK or WebKit program).
resident() {
  local p a=0 f=0 sh=0 x y z
  for p in "$1" $(pgrep -P "$1"); do
    read -r x y z < <(awk '/^RssAnon/ { a = $2 } /^RssFile/ { f = $2 } /^RssShmem/ { s = $2 } END { print a + 0, f + 0, s + 0 }' "/proc/$p/status")
    a=$((a + x)) f=$((f + y)) sh=$((sh + z))
  done
  echo "$a $f $sh"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# --- 1. cold start, the app beside a bare Wails window -----------------------

# From exec to the first screenshot that shows the login form (its disabled
# Sign in button): an upper bound, by up to one look (~0.3 s). Every start
# has a fresh profile and cache; the binary and libraries are in the page
# cache after the first.
#
# build/scripts/barewails: the same Wails, tags and flags, one page with a
# button of the disabled Sign in's colour. Its start and memory are what no
# app on this stack goes below; the app's figures are compared with them in
# the same run (the machine's speed varies from day to day), each app start
# followed by a bare one so that a busy moment weighs on both alike.
# E2E_STARTS (default 5) starts of each; the medians are compared.
(cd "$root" && CGO_ENABLED=1 go build -tags desktop,production -trimpath -ldflags "-s -w" -o "$work/barewails" ./build/scripts/barewails) ||
  fail "could not build the bare Wails window"
runs=${E2E_STARTS:-5}
starts=() cpus=() bare_starts=() bare_cpus=()
load=$(cut -d' ' -f1 /proc/loadavg)

# time_app I: one start of the app, to its login form.
time_app() {
  local i=$1 t0 t_map t_shot file deadline cpu
  t0=$(now_ms)
  launch "start-$i"
  window_of "$app_pid" Switchboard
  t_map=$(now_ms)
  file=$out/00-start-$i.png
  deadline=$((SECONDS + step_timeout))
  while :; do
    t_shot=$(now_ms)
    if import -window "$win" "$file" 2>/dev/null && painted "$file" && (($(count "$file" "$accent_off") > 5000)); then break; fi
    ((SECONDS < deadline)) || fail "start $i: no login form after ${step_timeout}s; see $file"
    kill -0 "$app_pid" 2>/dev/null || fail "start $i: the app exited"
    sleep 0.1 # each look costs ~0.25 s of CPU, taken from the app's two cores
  done
  cpu=$(cpu_ms "$app_pid")
  starts+=($((t_shot - t0)))
  cpus+=("$cpu")
  say "start $i: window mapped after $((t_map - t0)) ms, login form painted after $((t_shot - t0)) ms ($cpu ms of CPU)"
  stop "$app_pid"
}

# time_bare I: one start of the bare window, to its button; the last one's
# memory is read once it has settled, as the app's is.
time_bare() {
  local i=$1 t0 t_shot file deadline bare_pid cpu
  t0=$(now_ms)
  XDG_CONFIG_HOME=$work/bare/config XDG_CACHE_HOME=$work/bare/cache-$i XDG_DATA_HOME=$work/bare/data \
    "$work/barewails" >"$out/bare-$i.log" 2>&1 &
  bare_pid=$!
  pids+=("$bare_pid")
  window_of "$bare_pid" "Bare Wails"
  file=$out/00-bare-$i.png
  deadline=$((SECONDS + step_timeout))
  while :; do
    t_shot=$(now_ms)
    if import -window "$win" "$file" 2>/dev/null && (($(count "$file" "$accent_off") > 5000)); then break; fi
    ((SECONDS < deadline)) || fail "bare window $i: not painted after ${step_timeout}s; see $file"
    sleep 0.1
  done
  cpu=$(cpu_ms "$bare_pid")
  bare_starts+=($((t_shot - t0)))
  bare_cpus+=("$cpu")
  say "bare $i: painted after $((t_shot - t0)) ms ($cpu ms of CPU)"
  if ((i == runs)); then
    sleep 3 # settled, as the app is when it is measured
    read -r _ _ _ bare_main_pss bare_web_pss bare_net_pss < <(mem "$bare_pid")
  fi
  stop "$bare_pid"
}

for i in $(seq 1 "$runs"); do
  time_app "$i"
  time_bare "$i"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
median_start=$(median "${starts[@]}")
median_cpu=$(median "${cpus[@]}")
median_bare=$(median "${bare_starts[@]}")
median_bare_cpu=$(median "${bare_cpus[@]}")
# Each app start against the bare start right after it: the median of these
# ratios leans less on how busy the machine was over the whole run.
pair_ratios=()
for i in "${!starts[@]}"; do pair_ratios+=("$(awk -v a="${starts[i]}" -v b="${bare_starts[i]}" 'BEGIN { printf "%.2f", a / b }')"); done
median_pair=$(printf '%s\n' "${pair_ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
say "bare Wails window painted after ${bare_starts[*]} ms (median $median_bare; the app: ${starts[*]}, median $median_start)"

# --- 2. two agents, two windows ---------------------------------------------

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
say "anna's window $wa (pid $anna_pid), bertil's window $wb (pid $bertil_pid)"

# Two profiles, two single-instance locks on the bus; a second launch in
# anna's profile hands over to her window and exits.
locks=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
  org.freedesktop.DBus.ListNames | grep -c 'org\.wails_app_com_switchboard_desk_p' || true)
((locks == 2)) || fail "want two single-instance locks on the bus, found $locks"
launch anna anna-again
again=$app_pid
again_deadline=$((SECONDS + 2 * step_timeout))

until_shows "$wa" "$out/01-form-anna.png" "the login form" "$login_form"
until_shows "$wb" "$out/01-form-bertil.png" "the login form" "$login_form"
say "both windows show the login form"

sign_in "$wa" anna 02-login-anna.png
peer await present anna
sign_in "$wb" bertil 02-login-bertil.png
peer await present bertil
while kill -0 "$again" 2>/dev/null; do
  ((SECONDS < again_deadline)) || fail "a second launch in anna's profile did not hand over and exit"
  sleep 0.2
done
stop "$again"
[[ $(xdotool search --onlyvisible --name '^Switchboard$' 2>/dev/null | wc -l) -eq 2 ]] ||
  fail "a second launch in anna's profile left a window behind"
say "anna and bertil are signed in and Present; a second launch in anna's profile handed over"

# --- 3. a visitor writes; anna takes the chat --------------------------------

peer visitor Maja_Lind My parcel has not arrived
session=$got
peer say "$session" "Hello, I ordered a lamp two weeks ago and it has not come."
peer await queued "$session"
# "Get next in queue" turns from disabled to the accent colour.
until_shows "$wa" "$out/03-queue-anna.png" "the waiting chat" '(( $(count "$shot" "$accent") > 5000 ))'
anchor "$wa" 40 20 # the page title; then: Present switch, settings, Get next
keys Tab Tab Tab Return
peer await owner "$session" anna
say "anna took $session with Get next in queue"

# She answers: the composer fills the bottom of the chat panel.
anchor "$wa" -400 -50
typed "$reply"
keys Return
peer heard "$session" "$reply"
say "anna answered; the visitor got it"
until_shows "$wa" "$out/04-chat-anna.png" "the chat" '(( $(count "$shot" "$wash") > 10000 ))'
settle "$wa" "$out/04-chat-anna.png"

# --- 4. anna transfers it to bertil -----------------------------------------

# From the chat's header, Tab reaches ☰; its menu opens on Transfer.
anchor "$wa" 50% 62
keys Tab Return Return
# The dialog asks the relay for the targets, shows Bertil's row (a solid
# border in --line; the queue's row is dashed) and focuses it; Space
# chooses it, and the row turns to the accent wash.
until_shows "$wa" "$out/05-transfer-open.png" "the transfer dialog with Bertil" \
  '(( $(count "$shot" "$page") < 500 && $(count "$shot" "$border") + $(count "$shot" "$control") > 2600 ))'
for try in 1 2 3 4 5; do
  sleep 0.5
  keys space
  import -window "$wa" "$out/05-transfer-dialog.png"
  (($(count "$out/05-transfer-dialog.png" "$wash") > 5000 &&
    $(count "$out/05-transfer-dialog.png" "$border") + $(count "$out/05-transfer-dialog.png" "$control") < 2400)) && break
  ((try < 5)) || fail "Bertil could not be chosen in the transfer dialog; see $out/05-transfer-dialog.png"
done
keys Tab # the comment
typed "$comment"
settle "$wa" "$out/05-transfer-dialog.png"
keys Tab Tab Return # Cancel, Transfer
peer await pending "$session" bertil
until_shows "$wa" "$out/06-pending-anna.png" "the pending banner" '(( $(count "$shot" "$warn_wash") > 30000 ))'
say "the transfer to bertil is pending"

# --- 5. bertil accepts --------------------------------------------------------

# The offer opens by itself (nothing else is open in bertil's window).
until_shows "$wb" "$out/07-offer-bertil.png" "the offer" '(( $(count "$shot" "$warn_wash") > 60000 ))'
say "bertil's window shows the offer"
settle "$wb" "$out/07-offer-bertil.png"
anchor "$wb" 50% 62 # the chat's header; then: the log, Accept
keys Tab Tab Return
peer await owner "$session" bertil
until_shows "$wb" "$out/08-owner-bertil.png" "the chat as its owner" '(( $(count "$shot" "$warn_wash") == 0 ))'
say "bertil accepted and owns $session"

# --- 6. anna listens -----------------------------------------------------------

# The listen banner (accent wash across the chat panel), no pending banner,
# and no composer: the bottom of the chat panel is the bare page.
until_shows "$wa" "$out/09-listen-anna.png" "listen mode" \
  '(( $(count "$shot" "$wash") > 60000 && $(count "$shot" "$warn_wash") == 0 ))'
settle "$wa" "$out/09-listen-anna.png"
geometry "$wa"
convert "$out/09-listen-anna.png" -crop "$((WIDTH / 2))x60+$((WIDTH / 3))+$((HEIGHT - 80))" +repage "$work/bottom.png"
(($(count "$work/bottom.png" '#ffffff') == 0)) || fail "anna's window still shows a composer; see $out/09-listen-anna.png"
peer verify "$session" anna bertil "$comment"
import -window root "$out/10-both.png"
say "verified on the relay: accepted, bertil owns it, anna listens, the visitor was told"

# --- 7. memory with 50 chats ----------------------------------------------------

read -r idle_main idle_web idle_net idle_main_pss idle_web_pss idle_net_pss < <(mem "$anna_pid")
peer visitors 50
peer pick anna 50
peer await load anna 50
# The list fills with unread badges (accent), then the app settles.
until_shows "$wa" "$out/11-anna-50-chats.png" "the 50 chats" '(( $(count "$shot" "$accent") > 1500 ))'
sleep 3
read -r main web net main_pss web_pss net_pss < <(mem "$anna_pid")
read -r anon file shmem < <(resident "$anna_pid")
grab "$wa" "$out/11-anna-50-chats.png"

total=$((main + web + net))
total_pss=$((main_pss + web_pss + net_pss))
bare_pss=$((bare_main_pss + bare_web_pss + bare_net_pss))
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
  echo "cold start to login form painted (ms): ${starts[*]}; median of $runs $median_start (CPU used by then: median $median_cpu ms; load average $load on $(nproc) CPUs)"
  echo "anna's app, idle desk:  RSS main $(mib "$idle_main") MiB, WebKitWebProcess $(mib "$idle_web") MiB, WebKitNetworkProcess $(mib "$idle_net") MiB; PSS total $(mib $((idle_main_pss + idle_web_pss + idle_net_pss))) MiB"
  echo "anna's app, 50 chats:   RSS main $(mib "$main") MiB, WebKitWebProcess $(mib "$web") MiB, WebKitNetworkProcess $(mib "$net") MiB; RSS total $(mib "$total") MiB"
  echo "                        PSS main $(mib "$main_pss") MiB, WebKitWebProcess $(mib "$web_pss") MiB, WebKitNetworkProcess $(mib "$net_pss") MiB; PSS total $(mib "$total_pss") MiB"
  echo "                        resident in all three: $(mib "$anon") MiB allocated, $(mib "$file") MiB mapped from files, $(mib "$shmem") MiB shared memory"
  echo "bare Wails window: start (ms) ${bare_starts[*]}, median of $runs $median_bare; PSS total $(mib "$bare_pss") MiB (main $(mib "$bare_main_pss"), WebKitWebProcess $(mib "$bare_web_pss"), WebKitNetworkProcess $(mib "$bare_net_pss"))"
  echo "the app against it: start $(ratio "$median_start" "$median_bare")x (budget 1.2x; start by start ${pair_ratios[*]}, median ${median_pair}x; CPU used by then $median_cpu against $median_bare_cpu ms, $(ratio "$median_cpu" "$median_bare_cpu")x), PSS with 50 chats $(ratio "$total_pss" "$bare_pss")x (budget 1.3x)"
} | tee "$out/perf.txt" | sed 's/^/desktop-e2e: /'

ok=1
say "ok"
