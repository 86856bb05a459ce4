# Shared pieces of the desktop end-to-end scripts; sourced, not run. The
# caller sets (e2e_begin sets the first three):
#   e2e_name      the prefix of every line it prints
#   work, out     its temporary directory and where logs and screenshots go
#   started       $SECONDS at its start
#   step_timeout  seconds a step may take
#   accent, accent_off  the UI's accent colours (frontend/src/app.css)
# and keeps the processes it starts in the array pids (stopped on exit).

say() { printf '%s: [%3ds] %s\n' "$e2e_name" $((SECONDS - started)) "$*"; }

# report_failure WHAT: says what failed, screenshots the whole display and
# shows the end of every log; the caller then exits.
report_failure() {
  echo "$e2e_name: FAIL: $*" >&2
  if [[ -n ${DISPLAY:-} ]]; then import -window root "$out/failure-root.png" 2>/dev/null || true; fi
  local f
  for f in "$out"/*.log; do
    [[ -s $f ]] || continue
    echo "--- $(basename "$f") (last lines)" >&2
    tail -n 15 "$f" | sed 's/^/  /' >&2
  done
  echo "$e2e_name: screenshots and logs kept in $out" >&2
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}

# start_relay RELAY_BIN DB: the relay on a free loopback port (E2E_PORT to
# choose one), three tries; sets relay_pid, port and url.
start_relay() {
  local bin=$1 db=$2 attempt
  relay_pid=
  for attempt in 1 2 3; do
    port=${E2E_PORT:-$(free_port)} || fail "no free port"
    # Every client of the test comes from 127.0.0.1: no limits per address.
    # The demo page is the visitor's page of the widget tests.
    "$bin" serve --database "$db" --listen "127.0.0.1:$port" --log-format text --demo \
      --limits-conns-per-ip 0 --limits-starts-per-minute 0 >"$out/relay-$attempt.log" 2>&1 &
    relay_pid=$!
    for _ in $(seq 1 100); do
      kill -0 "$relay_pid" 2>/dev/null || break
      curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break 2
      sleep 0.1
    done
    kill "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
    relay_pid=
    say "the relay did not come up on port $port (attempt $attempt): $(tail -n 1 "$out/relay-$attempt.log")"
  done
  [[ -n $relay_pid ]] || fail "the relay did not start"
  pids+=("$relay_pid")
  url=ws://127.0.0.1:$port/ws
  say "relay on $url"
}

# start_display WxH: Xvfb of that size with openbox; exports DISPLAY.
start_display() {
  Xvfb -displayfd 3 -screen 0 "$1x24" -nolisten tcp 3>"$work/display" >"$out/xvfb.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do [[ -s $work/display ]] && break; sleep 0.1; done
  [[ -s $work/display ]] || fail "Xvfb did not start"
  export DISPLAY=:$(head -n1 "$work/display")
  # Without a window manager Alt+F4 closes nothing; openbox has been seen to
  # fail to open a display that had just come up: start it until it runs.
  local wm _try _
  for _try in 1 2 3; do
    openbox >>"$out/openbox.log" 2>&1 &
    wm=$!
    for _ in $(seq 1 50); do
      if xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id'; then
        pids+=("$wm")
        return
      fi
      kill -0 "$wm" 2>/dev/null || break
      sleep 0.1
    done
    kill "$wm" 2>/dev/null || true
  done
  fail "openbox did not start (see openbox.log)"
}

# window_of PID TITLE: the visible window of that process with that title; sets win.
window_of() {
  local pid=$1 title=$2 deadline=$((SECONDS + step_timeout)) w
  win=
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || fail "the app (pid $pid) exited; see its log"
    for w in $(xdotool search --onlyvisible --pid "$pid" 2>/dev/null); do
      if [[ $(xdotool getwindowname "$w" 2>/dev/null) == "$title" ]]; then win=$w; return; fi
    done
    sleep 0.05
  done
  fail "no window '$title' for pid $pid after ${step_timeout}s"
}

# count IMG COLOUR: pixels of exactly that colour (any but black, which
# the first fill would make of every pixel).
count() {
  convert "$1" -alpha off -fill black +opaque "$2" -fill white -opaque "$2" \
    -format '%[fx:int(w*h*mean+0.5)]' info:
}

# painted FILE: the screenshot is not blank (one colour) and shows the UI's
# accent colour (a page that paints but is not ours, such as a WebKit error
# page, lacks it). Sets $why when not.
painted() {
  local sd
  sd=$(convert "$1" -colorspace Gray -format '%[fx:standard_deviation]' info:)
  if ! awk -v s="$sd" 'BEGIN { exit !(s > 0.01) }'; then
    why="the window is (nearly) a single colour: a blank UI"
    return 1
  fi
  if (($(count "$1" "$accent") + $(count "$1" "$accent_off") <= 100)); then
    why="the window does not show the Switchboard UI"
    return 1
  fi
}

# on_private_bus NAME TOOL...: the AT-SPI tests run inside a private D-Bus
# session (the single-instance locks, the tray and the accessibility bus are
# D-Bus; the test bus starts nothing on demand). Outside one, this checks
# the tools, the Python AT-SPI binding and the built programs ($app_bin,
# $relay_bin), then runs the calling script again on such a bus; inside,
# it returns. The caller sets root, python, app_bin and relay_bin.
on_private_bus() {
  local name=$1 tool guard
  shift
  guard=E2E_ON_BUS_${name//-/_}
  [[ -n ${!guard:-} ]] && return 0
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: $tool not found (make deps)" >&2; exit 1; }
  done
  "$python" -c 'import gi; gi.require_version("Atspi", "2.0"); from gi.repository import Atspi' 2>/dev/null ||
    { echo "$name: python3-gi and gir1.2-atspi-2.0 are needed (make deps)" >&2; exit 1; }
  [[ -x $app_bin ]] || { echo "$name: $app_bin not built (make desktop)" >&2; exit 1; }
  [[ -x $relay_bin ]] || { echo "$name: $relay_bin not built (make relay)" >&2; exit 1; }
  export "$guard=1"
  local conf=()
  [[ -f $root/build/scripts/session-bus.conf ]] && conf=(--config-file="$root/build/scripts/session-bus.conf")
  exec dbus-run-session "${conf[@]}" -- "$0" "$app_bin" "$relay_bin"
}

# start_atspi: the accessibility bus, in a runtime directory of our own (so
# nothing is shared with another test or desktop), for the AT-SPI driver.
# The caller sets launcher (at-spi-bus-launcher).
start_atspi() {
  # WebKitGTK's accelerated compositing needs a GPU; Xvfb has none.
  export WEBKIT_DISABLE_COMPOSITING_MODE=1
  unset NO_AT_BRIDGE
  export XDG_RUNTIME_DIR=$work/run
  mkdir -m 700 -p "$XDG_RUNTIME_DIR"
  "$launcher" --launch-immediately >"$out/atspi.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.a11y.Bus 2>/dev/null | grep -q 'boolean true' && return
    sleep 0.1
  done
  fail "the accessibility bus did not start"
}

# e2e_begin NAME: the run's temporary directory ($work), where its logs and
# screenshots go ($out: E2E_OUT, or $work/out, kept after a red run or with
# E2E_KEEP), the clock, and the clean-up on the way out. The caller keeps
# the processes it starts in pids, and may set dash_pid (a dashboard its
# app started) and dump_pid (whose accessibility tree a failure logs).
e2e_begin() {
  e2e_name=$1
  work=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-$1.XXXXXX")
  out=${E2E_OUT:-$work/out}
  mkdir -p "$out"
  started=$SECONDS
  ok=
  pids=() helpers=()
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
}

# fail WHAT: logs the accessibility tree of dump_pid (when the UI driver
# runs), says what failed with the logs, and exits.
fail() {
  if [[ -n ${UI_IN:-} && -n ${dump_pid:-} ]]; then
    { printf 'dump\t%s\n' "$dump_pid" >&"$UI_IN"; read -r -t 20 _ <&"$UI_OUT"; } 2>/dev/null || true
  fi
  report_failure "$*"
  exit 1
}

# e2e_cleanup: the helpers told to quit, then every process stopped in
# reverse order of start; the temporary files go unless kept.
e2e_cleanup() {
  local i h in_var
  for h in "${helpers[@]}"; do
    in_var=${h}_IN
    { printf 'quit\n' >&"${!in_var}"; } 2>/dev/null
  done
  [[ -n ${dash_pid:-} ]] && kill "$dash_pid" 2>/dev/null
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do wait "${pids[i]}" 2>/dev/null || true; done
  if [[ -n ${E2E_OUT:-} || (-n $ok && -z ${E2E_KEEP:-}) ]]; then
    rm -rf "$work" # the logs, if wanted, are in E2E_OUT
  else
    find "$work" -mindepth 1 -maxdepth 1 ! -name out -exec rm -rf {} + 2>/dev/null
  fi
  [[ -n $ok && (-n ${E2E_OUT:-} || -n ${E2E_KEEP:-}) ]] && echo "$e2e_name: logs in $out"
  return 0
}

# start_helper NAME CMD...: runs CMD with its stdin and stdout on FIFOs; the
# caller's ends are left in NAME_IN and NAME_OUT. CMD says "ready" first
# (what follows on that line lands in $first). It is told to quit on exit.
start_helper() {
  local name=$1 out_fd in_fd
  shift
  helpers+=("$name")
  mkfifo "$work/$name.in" "$work/$name.out"
  "$@" <"$work/$name.in" >"$work/$name.out" 2>>"$out/${name,,}.log" &
  pids+=($!)
  exec {in_fd}>"$work/$name.in" {out_fd}<"$work/$name.out"
  printf -v "${name}_IN" '%s' "$in_fd"
  printf -v "${name}_OUT" '%s' "$out_fd"
  IFS= read -r -t 60 first <&"$out_fd" || fail "$name did not start"
  [[ $first == ready* ]] || fail "$name: $first"
}

# ask NAME CMD...: one command line to a helper started by start_helper;
# the answer's value lands in $got.
got=
ask() {
  local name=$1 line in_var out_var
  shift
  in_var=${name}_IN out_var=${name}_OUT
  printf '%s\n' "$*" >&"${!in_var}"
  IFS= read -r -t $((step_timeout + 60)) line <&"${!out_var}" || fail "$name did not answer: $*"
  [[ $line == ok* ]] || fail "$name: $* -> ${line#err }"
  got=${line#ok}
  got=${got# }
}
peer() { ask PEER "$@"; } # build/scripts/e2epeer: visitors, and checks on the relay
tray() { ask TRAY "$@"; } # build/scripts/e2etray: the tray host (and notification server)
# The UI driver (build/scripts/dashboard-e2e-ui.py, controls found through
# AT-SPI) takes its fields separated by tabs: names have spaces.
ui() { ask UI "$(IFS=$'\t'; printf '%s' "$*")"; }

# shot WIN FILE: a screenshot of one window that must show the UI; retried
# while the webview is still painting.
shot() {
  local deadline=$((SECONDS + step_timeout))
  while :; do
    why="no screenshot"
    if import -window "$1" "$2" 2>/dev/null && painted "$2"; then return; fi
    ((SECONDS < deadline)) || fail "$why; see $2"
    sleep 0.3
  done
}

# launch NAME: starts the app in a profile of its own, in app_language
# (default English); sets app_pid.
launch() {
  local p=$work/profiles/$1
  mkdir -p "$p/config" "$p/cache" "$p/data" "$work/machine"
  XDG_CONFIG_HOME=$p/config XDG_CACHE_HOME=$p/cache XDG_DATA_HOME=$p/data \
    SWITCHBOARD_MACHINE_CONFIG_DIR=$work/machine \
    "$app_bin" --server "$url" --language "${app_language:-en}" >"$out/app-$1.log" 2>&1 &
  app_pid=$!
  pids+=("$app_pid")
}
