#!/usr/bin/env bash
# Runs the relay on a demo database and the agent app against it.
# Usage: run-demo.sh RELAY_BIN APP_BIN RUN_DIR ADDR DEMO_PASSWORD
set -euo pipefail
relay_bin=$1 app_bin=$2 run_dir=$3 addr=$4 demo_pw=$5
mkdir -p "$run_dir"
db="$run_dir/switchboard.db"

if [[ ! -f $db ]]; then
	printf '%s\n' "$demo_pw" | "$relay_bin" seed-demo --database "$db"
fi

"$relay_bin" serve --database "$db" --listen "$addr" --demo --log-format text >"$run_dir/relay.log" 2>&1 &
relay_pid=$!
app_pid=
# Ctrl+C is how this is meant to end: stop the app and the relay, wait for
# them, and exit 0 (make would otherwise report "Error 1").
stop() {
	if [[ -n $app_pid ]]; then kill "$app_pid" 2>/dev/null || true; fi
	kill "$relay_pid" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap 'stop' EXIT
trap 'stop; trap - EXIT; exit 0' INT TERM

for _ in $(seq 1 50); do
	if curl -fsS "http://$addr/healthz" >/dev/null 2>&1; then break; fi
	sleep 0.2
done
if ! curl -fsS "http://$addr/healthz" >/dev/null 2>&1; then
	echo "run: the relay did not start; see $run_dir/relay.log" >&2
	exit 1
fi

cat <<MSG

  Switchboard is running.
    relay:        ws://$addr/ws   (log: $run_dir/relay.log, database: $db)
    widget demo:  http://$addr/demo     (a visitor's page; open it in a browser)
    snippet:      $("$relay_bin" snippet support --listen "$addr")
    agents:       anna, bertil (agents), cecilia (supervisor); password: $demo_pw

MSG

if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
	echo "run: no display (DISPLAY is unset), so the agent app is not started; the relay keeps running. Ctrl+C stops it."
	wait $relay_pid
else
	# The tray and notifications speak D-Bus. Without a session bus the app
	# would start one of its own that outlives it; dbus-run-session gives it
	# one that ends with it.
	bus=()
	if [[ -z ${DBUS_SESSION_BUS_ADDRESS:-} ]] && command -v dbus-run-session >/dev/null; then
		bus=(dbus-run-session --)
	fi
	SWITCHBOARD_SERVER="ws://$addr/ws" "${bus[@]}" "$app_bin" &
	app_pid=$!
	wait "$app_pid" || true
fi
