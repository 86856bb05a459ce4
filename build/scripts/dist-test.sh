#!/usr/bin/env bash
# Checks the packages in dist/ the way an administrator would use them
# (`make dist-test`; CI runs it as root on Debian 12):
#
#   0. SHA256SUMS, and after a full `make dist` the relay's plain binaries;
#   1. the agent app's .deb: dpkg -i, files, Depends, desktop entry, --version, dpkg -r;
#   2. the relay's .deb: dpkg -i, the user, the data directory, the conffile and its
#      permissions, --version, systemd-analyze verify of the unit, the relay started
#      with the packaged config on a loopback port (/healthz, /metrics, a backup),
#      a reinstall keeping an edited conffile, dpkg -r and --purge keeping the data;
#   3. the MSI's tables (msiinfo): per-machine, the SERVER property, the registry values;
#   4. under wine (Debian wine64), when present: the NSIS installer run silently with
#      /SERVER, /LOCK and /AUTOSTART, the app.yaml it writes, the Run key, a rejected
#      /SERVER, the silent uninstaller; the MSI with msiexec /qn SERVER=... and /x, and
#      the app's own config code (app/config's tests built for Windows) reading the
#      settings each installer wrote.
#
#   build/scripts/dist-test.sh DIST_DIR VERSION DEB_VERSION [CONFIG_TEST.exe]
#
# When systemd is not PID 1 (containers), the relay runs directly as the
# switchboard user with the packaged config instead of through systemctl;
# the test says so.
set -euo pipefail

dist=${1:?usage: dist-test.sh DIST_DIR VERSION DEB_VERSION}
version=${2:?}
deb_version=${3:?}
config_test=${4:-} # app/config's tests for windows/amd64 (go test -c)
[[ -z $config_test ]] || config_test=$(realpath "$config_test")
dist=$(cd "$dist" && pwd)

if [[ $(id -u) -ne 0 ]]; then
  echo "dist-test: run as root (it installs and removes the .deb packages on this machine)" >&2
  exit 1
fi

passed=0 failed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
bad() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { # description command...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
note() { echo "---- $*"; }
lacks() { ! grep -q "$1" <<<"$2"; } # pattern text
t0=$SECONDS

app_deb=$dist/switchboard_${deb_version}_amd64.deb
relay_deb=$dist/switchboard-relay_${deb_version}_amd64.deb
setup=$dist/switchboard-$version-windows-amd64-setup.exe
msi=$dist/switchboard-$version-windows-amd64.msi
for f in "$app_deb" "$relay_deb" "$dist/switchboard-relay_${deb_version}_arm64.deb" "$setup" "$msi"; do
  check "dist has $(basename "$f")" test -s "$f"
done
check "SHA256SUMS match" bash -c "cd '$dist' && sha256sum --quiet -c SHA256SUMS"
# The relay's plain binaries come from `make dist` (dist-relay); dist-test
# itself builds only what it installs.
if compgen -G "$dist/switchboard-relay-$version-darwin-*" >/dev/null; then
  for f in "$dist"/switchboard-relay-"$version"-{linux,darwin}-{amd64,arm64} \
    "$dist"/switchboard-relay-"$version"-windows-{amd64,arm64}.exe; do
    check "dist has $(basename "$f")" test -s "$f"
  done
else
  note "the relay's plain darwin/windows binaries are not in dist/ (built by make dist, not by dist-test)"
fi
out=$("$dist/switchboard-relay-$version-linux-amd64" --version 2>&1 || true)
check "plain linux-amd64 relay binary --version ($out)" grep -qF "$version" <<<"$out"

# dpkg -i, pulling missing dependencies with apt when needed.
install_deb() {
  if ! dpkg -i "$1"; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -f -y || { apt-get update && apt-get install -f -y; }
  fi
}

# ---------------------------------------------------------------- agent app
note "agent app: $(basename "$app_deb")"
depends=$(dpkg-deb -f "$app_deb" Depends)
for d in libgtk-3-0 libwebkit2gtk-4.0-37; do
  check "Depends names $d ($depends)" grep -q "$d" <<<"$depends"
done
install_deb "$app_deb" >/dev/null
check "switchboard is installed" dpkg-query -W -f='${Status}' switchboard
check "/usr/bin/switchboard" test -x /usr/bin/switchboard
check "desktop entry valid" desktop-file-validate /usr/share/applications/switchboard.desktop
for size in 16 32 48 64 128 256 512; do
  check "hicolor icon ${size}x${size}" test -s /usr/share/icons/hicolor/${size}x${size}/apps/switchboard.png
done
out=$(/usr/bin/switchboard --version 2>&1 || true)
check "switchboard --version says $version ($out)" test "$out" = "switchboard $version"
dpkg -r switchboard >/dev/null
check "dpkg -r switchboard removes the binary" test ! -e /usr/bin/switchboard

# ---------------------------------------------------------------- relay
note "relay: $(basename "$relay_deb")"
# A previous run's leftovers (user, data) are removed so postinst is tested
# from scratch; data without our marker belongs to someone: hands off.
if dpkg-query -W switchboard-relay >/dev/null 2>&1; then dpkg --purge switchboard-relay >/dev/null; fi
if [[ -e /var/lib/switchboard ]]; then
  if [[ -e /var/lib/switchboard/.dist-test ]]; then
    rm -rf /var/lib/switchboard
  else
    echo "dist-test: /var/lib/switchboard exists and was not made by dist-test; not touching it" >&2
    exit 1
  fi
fi
if getent passwd switchboard >/dev/null && [[ ! -e /var/lib/switchboard ]]; then userdel switchboard 2>/dev/null || true; fi
if getent group switchboard >/dev/null; then groupdel switchboard 2>/dev/null || true; fi

install_deb "$relay_deb" >/dev/null
touch /var/lib/switchboard/.dist-test
check "switchboard-relay is installed" dpkg-query -W -f='${Status}' switchboard-relay
check "/usr/bin/switchboard-relay" test -x /usr/bin/switchboard-relay
unit=/lib/systemd/system/switchboard-relay.service
check "systemd unit installed" test -s $unit
check "/etc/switchboard/relay.yaml is a conffile" \
  bash -c "dpkg-query -W -f='\${Conffiles}' switchboard-relay | grep -q ' /etc/switchboard/relay.yaml '"
check "relay.yaml is root:switchboard 0640" test "$(stat -c '%U:%G %a' /etc/switchboard/relay.yaml)" = "root:switchboard 640"
check "system user switchboard" bash -c '[[ $(getent passwd switchboard | cut -d: -f3) -lt 1000 && $(getent passwd switchboard | cut -d: -f7) == /usr/sbin/nologin ]]'
check "/var/lib/switchboard is switchboard:switchboard 0750" test "$(stat -c '%U:%G %a' /var/lib/switchboard)" = "switchboard:switchboard 750"
check "unit enabled (multi-user.target.wants)" test -L /etc/systemd/system/multi-user.target.wants/switchboard-relay.service
out=$(switchboard-relay --version 2>&1 || true)
check "switchboard-relay --version says $version ($out)" grep -qF "$version" <<<"$out"

out=$(systemd-analyze verify $unit 2>&1) && ok "systemd-analyze verify $unit" || { bad "systemd-analyze verify: $out"; }
[[ -z $out ]] || echo "$out" | sed 's/^/     /'
for d in User=switchboard NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
  ReadWritePaths=/var/lib/switchboard 'ExecStart=/usr/bin/switchboard-relay serve --config /etc/switchboard/relay.yaml'; do
  check "unit has $d" grep -qxF "$d" $unit
done
exposure=$(systemd-analyze security --offline=true $unit 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: //p' || true)
[[ -n $exposure ]] && echo "     systemd-analyze security: $exposure"

log=$(mktemp)
if [[ -d /run/systemd/system ]]; then
  note "systemd is running: postinst started the unit; checking it through systemctl"
  check "systemctl is-active switchboard-relay" systemctl is-active --quiet switchboard-relay
  addr=$(sed -n 's/^listen: *"\{0,1\}\([^"]*\)"\{0,1\}.*/\1/p' /etc/switchboard/relay.yaml)
  for _ in $(seq 50); do curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  pid=
else
  note "systemd is not PID 1 here ($(ps -p 1 -o comm=)): running the relay directly as the switchboard user with the packaged config (the unit's sandbox is not applied)"
  # setpriv execs the relay itself (no process in between), so SIGTERM reaches it.
  ( cd /var/lib/switchboard && exec setpriv --reuid=switchboard --regid=switchboard --init-groups \
      /usr/bin/switchboard-relay serve --config /etc/switchboard/relay.yaml --listen 127.0.0.1:0 >"$log" 2>&1 ) &
  pid=$!
  addr=
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*"msg":"relay listening".*"addr":"\([^"]*\)".*/\1/p' "$log" | head -1)
    [[ -n $addr ]] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
fi
health=$(curl -fsS --max-time 5 "http://$addr/healthz" 2>&1 || true)
check "relay /healthz on $addr answers ok ($health)" grep -q '"status":"ok"' <<<"$health"
check "relay /metrics answers" curl -fsS --max-time 5 -o /dev/null "http://$addr/metrics"
check "database created in /var/lib/switchboard, owned by switchboard" \
  test "$(stat -c %U /var/lib/switchboard/switchboard.db 2>/dev/null)" = switchboard
check "backup as the switchboard user while it runs" \
  runuser -u switchboard -- /usr/bin/switchboard-relay backup /var/lib/switchboard/dist-test-backup.db
check "backup file written" test -s /var/lib/switchboard/dist-test-backup.db
if [[ -n $pid ]]; then
  kill -TERM $pid
  rc=0; wait $pid || rc=$?
  check "relay stops cleanly on SIGTERM (exit $rc)" test $rc -eq 0
  check "relay logs JSON to stdout" grep -q '"msg":"stopped"' "$log"
fi

echo "# edited by dist-test" >>/etc/switchboard/relay.yaml
install_deb "$relay_deb" >/dev/null
check "reinstall keeps the edited conffile" grep -q '^# edited by dist-test' /etc/switchboard/relay.yaml
check "reinstall keeps relay.yaml root:switchboard 0640" test "$(stat -c '%U:%G %a' /etc/switchboard/relay.yaml)" = "root:switchboard 640"

dpkg -r switchboard-relay >/dev/null
check "dpkg -r removes the binary" test ! -e /usr/bin/switchboard-relay
check "dpkg -r removes the unit" test ! -e $unit
check "dpkg -r keeps the database" test -s /var/lib/switchboard/switchboard.db
check "dpkg -r keeps the config" test -s /etc/switchboard/relay.yaml
check "dpkg -r keeps the user" getent passwd switchboard
dpkg --purge switchboard-relay >/dev/null 2>&1
check "dpkg --purge removes the config" test ! -e /etc/switchboard/relay.yaml
check "dpkg --purge keeps the database" test -s /var/lib/switchboard/switchboard.db
rm -f "$log"

# ---------------------------------------------------------------- MSI tables
note "MSI: $(basename "$msi") (msiinfo)"
table() { msiinfo export "$msi" "$1" | tr -d '\r'; }
check "summary: x64 package" bash -c "msiinfo suminfo '$msi' | grep -q '^Template: x64;'"
props=$(table Property)
check "Property ALLUSERS=1 (per-machine)" grep -qx $'ALLUSERS\t1' <<<"$props"
check "SecureCustomProperties holds SERVER" grep -q $'^SecureCustomProperties\t.*\\bSERVER\\b' <<<"$props"
check "ProductVersion set" grep -q $'^ProductVersion\t[0-9]' <<<"$props"
reg=$(table Registry)
check "Registry: HKLM Software\\Switchboard Server = [SERVER]" grep -qP '\t2\tSoftware\\Switchboard\tServer\t\[SERVER\]\tServerSetting$' <<<"$reg"
check "Registry: Locked = server" grep -qP '\t2\tSoftware\\Switchboard\tLocked\tserver\tLockSetting$' <<<"$reg"
check "Registry: Run key with --hidden" grep -qP 'CurrentVersion\\Run\tSwitchboard\t"\[INSTALLDIR\]switchboard.exe" --hidden' <<<"$reg"
comps=$(table Component)
check "Component ServerSetting only when SERVER" grep -qP '^ServerSetting\t.*\tSERVER\t' <<<"$comps"
check "Component LockSetting only with LOCK" grep -qP '^LockSetting\t.*\tLOCK AND SERVER\t' <<<"$comps"
check "File table has switchboard.exe" grep -q 'switchboard.exe' <<<"$(table File)"
check "LaunchCondition checks SERVER" grep -q 'SERVER << "wss://"' <<<"$(table LaunchCondition)"

# ---------------------------------------------------------------- wine
wine=$(command -v wine64 || true)
[[ -z $wine && -x /usr/lib/wine/wine64 ]] && wine=/usr/lib/wine/wine64
if [[ -n $wine ]]; then
  note "Windows installers under wine ($($wine --version 2>/dev/null))"
  export WINEPREFIX=$(mktemp -d) WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
  export PATH=$PATH:/usr/lib/wine
  w() { timeout 180 "$wine" "$@"; }
  w wineboot --init >/dev/null 2>&1 || true
  wineserver -w || true
  # The installer refuses Windows older than 10 (wine 8 says 7), and would
  # fetch the WebView2 runtime (no network here): say 10, and that WebView2
  # is there.
  w winecfg /v win10 >/dev/null 2>&1 || true
  w reg add 'HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}' \
    /v pv /t REG_SZ /d 120.0.0.0 /f >/dev/null 2>&1 || true
  c=$WINEPREFIX/drive_c
  rc=0; w "$setup" /S /SERVER=wss://chat.example.com /LOCK /AUTOSTART >/dev/null 2>&1 || rc=$?
  wineserver -w || true
  check "NSIS /S /SERVER=wss://chat.example.com /LOCK /AUTOSTART exits 0 ($rc)" test $rc -eq 0
  check "switchboard.exe in Program Files\\Switchboard" test -s "$c/Program Files/Switchboard/switchboard.exe"
  cfg=$c/ProgramData/Switchboard/app.yaml
  check "app.yaml in ProgramData\\Switchboard" test -s "$cfg"
  [[ -s $cfg ]] && sed 's/^/     app.yaml: /' "$cfg" | tr -d '\r'
  check "app.yaml: server" grep -qx 'server: "wss://chat.example.com"' <(tr -d '\r' <"$cfg")
  check "app.yaml: locked: [server]" grep -qx 'locked: \[server\]' <(tr -d '\r' <"$cfg")
  run=$(w reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' /v Switchboard 2>/dev/null | tr -d '\r' || true)
  check "HKLM Run: switchboard.exe --hidden" grep -q 'switchboard.exe" --hidden' <<<"$run"
  # The app's config code, on Windows, reads what the installer wrote.
  app_reads() { # what
    local out
    if [[ -z $config_test ]]; then note "no CONFIG_TEST.exe given: not checking that the app reads $1"; return; fi
    out=$(SWITCHBOARD_TEST_MACHINE_SERVER=wss://chat.example.com w "$config_test" \
      -test.run '^(TestReadRegistry|TestInstalledMachineSettings)$' -test.v 2>&1 | tr -d '\r' || true)
    if grep -q 'bcryptprimitives.dll not found' <<<"$out"; then
      # Go 1.24+ programs need bcryptprimitives.dll (ProcessPrng), which wine
      # has only from 9.x on; Debian 12 ships wine 8. The same code runs on
      # Linux against a stubbed registry in `make test`.
      note "not run: this wine ($($wine --version 2>/dev/null)) cannot start Go programs (no bcryptprimitives.dll); the app reading $1 is covered by app/config's tests"
    elif grep -q -- '--- PASS: TestInstalledMachineSettings' <<<"$out" && ! grep -q -- '--- FAIL' <<<"$out"; then
      ok "the app's config (built for Windows) reads $1: server locked to wss://chat.example.com"
    else
      bad "the app's config (built for Windows) reads $1"; sed 's/^/     /' <<<"$out" | tail -20
    fi
  }
  app_reads "%ProgramData%\\Switchboard\\app.yaml"
  uninst=$(w reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Switchboard' 2>/dev/null | tr -d '\r' || true)
  check "Uninstall entry with QuietUninstallString" grep -q 'QuietUninstallString.*uninstall.exe" /S' <<<"$uninst"
  check "Start menu shortcut (all users)" test -e "$c/ProgramData/Microsoft/Windows/Start Menu/Programs/Switchboard.lnk"
  rc=0; w "$setup" /S /SERVER=http://chat.example.com >/dev/null 2>&1 || rc=$?
  check "NSIS rejects /SERVER=http://... (exit 2, got $rc)" test $rc -eq 2
  check "a rejected run leaves app.yaml alone" grep -qx 'server: "wss://chat.example.com"' <(tr -d '\r' <"$cfg")
  rc=0; w "$c/Program Files/Switchboard/uninstall.exe" /S >/dev/null 2>&1 || rc=$?
  wineserver -w || true
  for _ in $(seq 50); do [[ -e "$c/Program Files/Switchboard/switchboard.exe" ]] || break; sleep 0.2; done
  check "silent uninstall removes the app" test ! -e "$c/Program Files/Switchboard/switchboard.exe"
  run=$(w reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' 2>/dev/null | tr -d '\r' || true)
  check "silent uninstall removes the Run value" lacks Switchboard "$run"
  check "silent uninstall keeps the administrator's app.yaml" test -s "$cfg"

  rc=0; w msiexec /i "$msi" SERVER=wss://chat.example.com LOCK=1 AUTOSTART=1 /qn >/dev/null 2>&1 || rc=$?
  wineserver -w || true
  check "msiexec /i ... SERVER=wss://chat.example.com LOCK=1 AUTOSTART=1 /qn exits 0 ($rc)" test $rc -eq 0
  check "MSI installs switchboard.exe" test -s "$c/Program Files/Switchboard/switchboard.exe"
  key=$(w reg query 'HKLM\Software\Switchboard' 2>/dev/null | tr -d '\r' || true)
  check "MSI writes HKLM\\Software\\Switchboard Server" grep -qE 'Server +REG_SZ +wss://chat.example.com' <<<"$key"
  check "MSI writes Locked = server" grep -qE 'Locked +REG_SZ +server' <<<"$key"
  run=$(w reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' /v Switchboard 2>/dev/null | tr -d '\r' || true)
  check "MSI AUTOSTART=1 writes the Run value" grep -q 'switchboard.exe" --hidden' <<<"$run"
  # app.yaml (left by the NSIS part) must not be what the app reads here.
  rm -f "$cfg"
  app_reads "HKLM\\Software\\Switchboard from the MSI"
  rc=0; w msiexec /i "$msi" SERVER=http://x /qn >/dev/null 2>&1 || rc=$?
  check "MSI rejects SERVER=http://x (exit $rc)" test $rc -ne 0
  rc=0; w msiexec /x "$msi" /qn >/dev/null 2>&1 || rc=$?
  wineserver -w || true
  check "msiexec /x /qn removes the app" test ! -e "$c/Program Files/Switchboard/switchboard.exe"
  key=$(w reg query 'HKLM\Software\Switchboard' 2>/dev/null | tr -d '\r' || true)
  check "msiexec /x removes the registry settings" lacks wss:// "$key"
  wineserver -k 2>/dev/null || true
  rm -rf "$WINEPREFIX"
else
  note "wine64 not installed (apt-get install wine64): the Windows installers are checked statically only"
  check "NSIS installer is a PE executable" bash -c "head -c2 '$setup' | grep -q MZ"
  if command -v 7z >/dev/null; then
    check "NSIS script inside writes app.yaml" bash -c "7z x -so '$setup' '[NSIS].nsi' 2>/dev/null | grep -q 'locked: \[server\]'"
  fi
fi

echo "dist-test: $((SECONDS - t0)) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
