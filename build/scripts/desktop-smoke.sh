#!/usr/bin/env bash
# Launches the desktop app under Xvfb and checks that it stays up, opens a
# window named Switchboard, and paints something (a blank or single-colour
# window fails). Leaves a screenshot of the window behind.
#
#   build/scripts/desktop-smoke.sh [binary] [screenshot]
#
# Defaults: build/bin/switchboard and build/smoke.png. SMOKE_SECONDS sets how
# long the app must stay alive (default 5), PAINT_TIMEOUT how much longer it
# may take to show its UI (default 20).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/bin/switchboard}
shot=${2:-$root/build/smoke.png}
seconds=${SMOKE_SECONDS:-5}
log=${shot%.png}.log

# Re-run inside a private X server unless we are already in one we started.
if [[ -z ${SMOKE_IN_XVFB:-} ]]; then
  for tool in xvfb-run dbus-run-session xdotool import convert; do
    command -v "$tool" >/dev/null || { echo "desktop-smoke: $tool not found (make deps)" >&2; exit 1; }
  done
  [[ -x $bin ]] || { echo "desktop-smoke: $bin not built (make desktop)" >&2; exit 1; }
  export SMOKE_IN_XVFB=1
  # A private session bus too: without one, Wails' single-instance lock
  # would autolaunch a bus (and an accessibility bus) that outlive the test.
  exec dbus-run-session --config-file="$root/build/scripts/session-bus.conf" -- \
    xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$bin" "$shot"
fi

fail() { echo "desktop-smoke: FAIL: $*" >&2; [[ -s $log ]] && sed 's/^/  app: /' "$log" >&2; exit 1; }

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# A window manager gives the window real geometry and focus, as on a desktop.
if command -v openbox >/dev/null; then
  openbox >/dev/null 2>&1 &
  pids+=($!)
fi

# WebKitGTK's accelerated compositing needs a GPU; Xvfb has none.
WEBKIT_DISABLE_COMPOSITING_MODE=1 "$bin" >"$log" 2>&1 &
app=$!
pids=("$app" "${pids[@]}")
start=$SECONDS

win=
while (( SECONDS - start < 20 )); do
  kill -0 "$app" 2>/dev/null || fail "the app exited early"
  win=$(xdotool search --onlyvisible --name '^Switchboard$' 2>/dev/null | head -n1 || true)
  [[ -n $win ]] && break
  sleep 0.2
done
[[ -n $win ]] || fail "no visible window named Switchboard after 20s"
echo "desktop-smoke: window $win after $((SECONDS - start))s"

# Stay up for the whole period, then look at what the window shows.
while (( SECONDS - start < seconds )); do
  kill -0 "$app" 2>/dev/null || fail "the app exited within ${seconds}s"
  sleep 0.5
done
kill -0 "$app" 2>/dev/null || fail "the app exited within ${seconds}s"

# The webview paints some time after the window maps (longer on a busy
# machine), so look until the UI shows, up to PAINT_TIMEOUT seconds.
#  - a single-colour window means a blank UI;
#  - a page that paints but is not ours (a WebKit or asset-server error page)
#    lacks the header's accent colour (--accent in frontend/src/app.css).
paint_timeout=${PAINT_TIMEOUT:-20}
while :; do
  kill -0 "$app" 2>/dev/null || fail "the app exited"
  import -window "$win" "$shot" || fail "could not screenshot window $win"
  stddev=$(convert "$shot" -colorspace Gray -format '%[fx:standard_deviation]' info:)
  accent=$(convert "$shot" -alpha off -fuzz 6% -fill white +opaque '#2f6f73' -fill black -opaque '#2f6f73' \
    -format '%[fx:round(w*h*(1-mean))]' info:)
  if awk -v s="$stddev" 'BEGIN { exit !(s > 0.01) }' && (( accent > 100 )); then
    break
  fi
  if (( SECONDS - start >= seconds + paint_timeout )); then
    awk -v s="$stddev" 'BEGIN { exit !(s > 0.01) }' || fail "the window is a single colour (blank UI?); see $shot"
    fail "the Switchboard header is not on screen (only $accent accent pixels); see $shot"
  fi
  sleep 0.5
done
echo "desktop-smoke: screenshot $shot ($(identify -format '%wx%h' "$shot"), grey standard deviation $stddev, $accent accent pixels) after $((SECONDS - start))s"
echo "desktop-smoke: ok"
