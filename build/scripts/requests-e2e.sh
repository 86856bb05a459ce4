#!/usr/bin/env bash
# End-to-end test of the requests inbox: an offline message from the widget
# reaches an agent's desktop app, she answers it, and the visitor's e-mail
# arrives at a real SMTP server; with screenshots for docs/screenshots/.
#
#   build/scripts/requests-e2e.sh [app] [relay]
#
# What it does, all on this machine and all real parts:
#  - a real SMTP server (build/scripts/e2esmtp: go-smtp, STARTTLS with a
#    certificate made at start, AUTH PLAIN) takes the relay's e-mail;
#  - seeds a fresh relay database (seed-demo), makes the channel "support"
#    Swedish (channel set --language sv) and runs the relay with the SMTP
#    server in its mail settings (SWITCHBOARD_MAIL_*);
#  - nobody is Present, so two visitors (build/scripts/e2ewidget, headless
#    Chromium on the relay's demo page) leave messages in the widget's
#    offline form; its thank-you must name the request number and the
#    visitor's address;
#  - anna signs in to the desktop app (Xvfb, openbox, a private D-Bus and
#    an accessibility bus); the Requests inbox lists both; she opens the
#    first, claims it, writes an answer and sends it by e-mail;
#  - the e-mail arrives at the SMTP server over STARTTLS, to the visitor,
#    with "[#1001]" and the Swedish wording in the subject, the answer and
#    the Swedish greeting ("Hej Åsa Öberg,") in the body; the request's
#    history (request show) says claimed, answered and mail_sent.
#
# The window is driven by what its controls are (AT-SPI, through
# build/scripts/dashboard-e2e-ui.py) with xdotool. Screenshots go to
# build/requests-shots/ (REQUESTS_SHOTS=docs/screenshots refreshes the docs'
# requests-inbox.png and requests-offline-thanks.png). Logs and every
# step's screenshot go to E2E_OUT (default: a temporary directory, removed
# after a green run unless E2E_KEEP=1, kept after a red one).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
app_bin=${1:-$root/build/bin/switchboard}
relay_bin=${2:-$root/build/bin/switchboard-relay}
shots=${REQUESTS_SHOTS:-$root/build/requests-shots}
step_timeout=${E2E_STEP_TIMEOUT:-45}
password=e2e-requests-password
python=/usr/bin/python3
launcher=/usr/libexec/at-spi-bus-launcher
chromium=${CHROMIUM:-/usr/bin/chromium}
question="Var är mitt paket? Det skulle komma i måndags."
answer="Hello Asa, your parcel left our warehouse today and reaches you on Friday."

accent='#2f6f73'               # --accent: headings, primary buttons
accent_off='srgb(140,175,177)' # a disabled primary button

# shellcheck source=build/scripts/e2e-lib.sh
source "$root/build/scripts/e2e-lib.sh"
on_private_bus requests-e2e Xvfb openbox xdotool import convert dbus-run-session dbus-send curl go "$python" "$launcher" "$chromium"

e2e_begin requests-e2e
mkdir -p "$shots"




# --- the SMTP server and the relay ----------------------------------------------

(cd "$root" && go build -o "$work/e2esmtp" ./build/scripts/e2esmtp && go build -o "$work/e2ewidget" ./build/scripts/e2ewidget &&
  go build -o "$work/e2etray" ./build/scripts/e2etray) ||
  fail "could not build the helpers"
mkdir -p "$work/smtp"
start_helper SMTP "$work/e2esmtp" -dir "$work/smtp" -timeout "${step_timeout}s"
read -r _ smtp_host smtp_port smtp_user smtp_ca smtp_pw <<<"$first"
say "SMTP server on $smtp_host:$smtp_port (STARTTLS)"

db=$work/relay.db
printf '%s\n' "$password" | "$relay_bin" seed-demo --database "$db" >"$out/seed.log" 2>&1 || fail "seed-demo failed"
"$relay_bin" channel set support --database "$db" --name "Kundtjänst" --language sv >>"$out/seed.log" 2>&1 ||
  fail "could not make the channel Swedish"
export SWITCHBOARD_MAIL_HOST=$smtp_host SWITCHBOARD_MAIL_PORT=$smtp_port SWITCHBOARD_MAIL_SECURITY=starttls \
  SWITCHBOARD_MAIL_USER=$smtp_user SWITCHBOARD_MAIL_PASSWORD_FILE=$smtp_pw SWITCHBOARD_MAIL_CA_FILE=$smtp_ca \
  SWITCHBOARD_MAIL_FROM="Kundtjänst <support@example.com>" SWITCHBOARD_OUTBOX_POLL=500ms
start_relay "$relay_bin" "$db"
http=http://127.0.0.1:$port

# --- 1. two offline messages from the widget ----------------------------------------

visit() {
  local line
  line=$("$work/e2ewidget" -chromium "$chromium" -timeout "${step_timeout}s" -url "$http/demo?channel=support&lang=$1" \
    -name "$2" -email "$3" -question "$4" -shot "$5" 2>>"$out/e2ewidget.log") || fail "the widget's offline form: $line"
  got=${line#ok }
}
visit sv "Åsa Öberg" asa@example.com "$question" "$out/01-offline-thanks.png"
first_number=$got
[[ $first_number == 1001 ]] || fail "the first request is $first_number, want 1001"
grep -q 'Tack, ditt ärendenummer är 1001. Svaret kommer med e-post till asa@example.com.' "$out/e2ewidget.log" ||
  fail "the thank-you: $(tail -n 1 "$out/e2ewidget.log")"
cp "$out/01-offline-thanks.png" "$shots/requests-offline-thanks.png"
visit en "Walter Berg" walter@example.com "Do you ship to Norway?" "$out/02-offline-thanks-en.png"
[[ $got == 1002 ]] || fail "the second request is $got, want 1002"
say "two offline messages: requests 1001 and 1002; the thank-you names the number and the address"

# --- 2. anna's inbox -------------------------------------------------------------------

start_display 1200x820
start_atspi
start_helper UI "$python" "$root/build/scripts/dashboard-e2e-ui.py"
# A tray host, so the app puts up its icon (and says nothing of a missing tray).
start_helper TRAY "$work/e2etray" -timeout "${step_timeout}s"

p=$work/profiles/anna
mkdir -p "$p/config" "$p/cache" "$p/data" "$work/machine"
XDG_CONFIG_HOME=$p/config XDG_CACHE_HOME=$p/cache XDG_DATA_HOME=$p/data SWITCHBOARD_MACHINE_CONFIG_DIR=$work/machine \
  "$app_bin" --server "$url" --language en >"$out/app-anna.log" 2>&1 &
anna_pid=$!
dump_pid=$anna_pid # a failure logs its accessibility tree
pids+=("$anna_pid")
window_of "$anna_pid" Switchboard
wa=$win
xdotool windowmove "$wa" 0 0
ui type "$anna_pid" entry '^Login$' anna
ui type "$anna_pid" 'password text' '^Password$' "$password"
ui key Return
# Each entry's name is what it shows: number, visitor, message, when, where from, state.
ui wait "$anna_pid" 'push button' '^#1001 · Åsa Öberg Var är mitt paket\? .* · offline form Unclaimed$'
ui wait "$anna_pid" 'push button' '^#1002 · Walter Berg Do you ship to Norway\? .* · offline form Unclaimed$'
say "anna is signed in; her inbox lists both requests"

ui click "$anna_pid" 'push button' '^#1001'
ui text "$anna_pid" '^Request #1001 · Var är mitt paket'
ui text "$anna_pid" 'Goes by e-mail to asa@example.com'
ui wait "$anna_pid" 'push button' '^Claim$'
sleep 1
shot "$wa" "$out/03-inbox.png"
cp "$out/03-inbox.png" "$shots/requests-inbox.png"
say "request 1001 is open: visitor, e-mail, message, where it came from"

# --- 3. claim, answer by e-mail ------------------------------------------------------

ui click "$anna_pid" 'push button' '^Claim$'
ui gone "$anna_pid" 'push button' '^Claim$'
ui wait "$anna_pid" 'push button' '^#1001 · .* Claimed by Anna Berg$'
ui type "$anna_pid" '*' '^Answer$' "$answer"
ui click "$anna_pid" 'push button' '^Send by e-mail$'
ui wait "$anna_pid" 'push button' '^#1001 · .* Answered by Anna Berg$'
say "anna claimed and answered 1001"

ask SMTP mail 1
sleep 1 # the history's mail_sent line reaches the desk
shot "$wa" "$out/04-answered.png"
[[ $got == "TLS=true TO=asa@example.com" ]] || fail "the e-mail came as: $got"
mail_text=$work/smtp/1.txt
cp "$mail_text" "$out/mail-1.txt"
for want in "Subject: [#1001] Svar på ditt ärende: Var är mitt paket? Det skulle komma i måndags." "Hej Åsa Öberg," "$answer" \
  "Vänliga hälsningar" "Ditt ärendenummer är 1001."; do
  grep -qF -- "$want" "$mail_text" || fail "the e-mail lacks \"$want\"; see $out/mail-1.txt"
done
say "the e-mail arrived over STARTTLS with the number in the subject, in Swedish"

"$relay_bin" request show 1001 --database "$db" >"$out/request-1001.txt" 2>/dev/null || fail "request show failed"
for want in "State:    answered" "claimed     anna" "answered    anna (by e-mail)" "mail_sent"; do
  grep -qF -- "$want" "$out/request-1001.txt" || fail "the history lacks \"$want\"; see $out/request-1001.txt"
done
say "verified on the relay: claimed, answered by e-mail, mail_sent"

ok=1
say "ok; screenshots in ${shots#"$root"/}"
