#!/usr/bin/env bash
# Builds the MSI from build/windows/msi/switchboard.wxs with wixl, then adds
# what wixl 0.101 cannot express, with msibuild (both from Debian msitools):
#   - component conditions: a setting's registry value is written only when
#     its property is given (or remembered from an earlier install);
#   - the public properties in SecureCustomProperties, so they reach the
#     elevated, per-machine part of the install;
#   - same-version upgrades (VersionMaxInclusive), so reinstalling a build
#     replaces it instead of adding a second entry.
#
#   build/scripts/build-msi.sh OUT.msi VERSION(X.Y.Z) APP.exe ICON.ico
set -euo pipefail

out=${1:?usage: build-msi.sh OUT.msi X.Y.Z app.exe icon.ico}
version=${2:?}
exe=${3:?}
icon=${4:?}
root=$(cd "$(dirname "$0")/../.." && pwd)
# wixl resolves sources relative to the working directory and refuses
# absolute paths: run it from the repository root with relative ones.
out=$(realpath -m "$out")
exe=$(realpath -m --relative-to="$root" "$exe")
icon=$(realpath -m --relative-to="$root" "$icon")
cd "$root"

for tool in wixl msibuild msiinfo; do
  command -v "$tool" >/dev/null || { echo "build-msi: $tool not found (apt-get install wixl msitools)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wixl -a x64 -D Version="$version" -D AppExe="$exe" -D AppIcon="$icon" \
  -o "$tmp/out.msi" build/windows/msi/switchboard.wxs

secure=$(msiinfo export "$tmp/out.msi" Property | tr -d '\r' | awk -F'\t' '$1 == "SecureCustomProperties" { print $2 }')
secure="${secure:+$secure;}SERVER;LOCK;LANGUAGE;AUTOSTART;SAVED_SERVER;SAVED_LOCKED;SAVED_LANGUAGE;SAVED_AUTOSTART"

msibuild "$tmp/out.msi" -q "UPDATE \`Component\` SET \`Condition\` = 'SERVER' WHERE \`Component\` = 'ServerSetting'"
msibuild "$tmp/out.msi" -q "UPDATE \`Component\` SET \`Condition\` = 'LOCK AND SERVER' WHERE \`Component\` = 'LockSetting'"
msibuild "$tmp/out.msi" -q "UPDATE \`Component\` SET \`Condition\` = 'LANGUAGE' WHERE \`Component\` = 'LanguageSetting'"
msibuild "$tmp/out.msi" -q "UPDATE \`Component\` SET \`Condition\` = 'AUTOSTART' WHERE \`Component\` = 'Autostart'"
msibuild "$tmp/out.msi" -q "UPDATE \`Property\` SET \`Value\` = '$secure' WHERE \`Property\` = 'SecureCustomProperties'"
# The upgrade row again, with attributes 1 (migrate features) + 512 (the
# maximum version is included); Attributes is part of the key, so the row is
# replaced rather than updated.
code=$(msiinfo export "$tmp/out.msi" Upgrade | tr -d '\r' | awk -F'\t' '$7 == "WIX_UPGRADE_DETECTED" { print $1 }')
msibuild "$tmp/out.msi" -q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_UPGRADE_DETECTED'"
msibuild "$tmp/out.msi" -q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`) VALUES ('$code', '$version', 513, 'WIX_UPGRADE_DETECTED')"

# Every update must have landed.
conds=$(msiinfo export "$tmp/out.msi" Component | tr -d '\r' | awk -F'\t' 'NR > 3 && $5 != "" { n++ } END { print n + 0 }')
[[ $conds == 4 ]] || { echo "build-msi: expected 4 component conditions, found $conds" >&2; exit 1; }
# (Captured first: under pipefail, grep -q closing the pipe early can fail msiinfo.)
upgrade=$(msiinfo export "$tmp/out.msi" Upgrade)
grep -q $'\t513\t' <<<"$upgrade" || { echo "build-msi: upgrade row not replaced" >&2; exit 1; }
mv "$tmp/out.msi" "$out"
echo "build-msi: $out ($version)"
