#!/usr/bin/env bash
# Builds the macOS app on a Mac: a universal (amd64 + arm64) Switchboard.app
# from `wails build -platform darwin/universal`, its Info.plist versions set
# to this build, packed into a .dmg with hdiutil. Called by `make dist-macos`.
#
#   build/scripts/dist-macos.sh WAILS VERSION X.Y.Z DIST_DIR
#
# Needs macOS with Xcode's command line tools (cgo, lipo, hdiutil), Go,
# Node and GNU make 4 (brew install make; run gmake dist-macos). It cannot
# be built anywhere else: the app links Apple's WebKit.
# Unsigned: sign and notarize with your Developer ID (codesign, notarytool)
# before handing it to users, or Gatekeeper will refuse it.
set -euo pipefail

if [[ $(uname -s) != Darwin ]]; then
  echo "dist-macos: the macOS app can only be built on macOS (this is $(uname -s))." >&2
  echo "dist-macos: on a Mac with Xcode command line tools, Go, Node and GNU make 4 (brew install make), run: gmake dist-macos" >&2
  exit 1
fi

wails=${1:?usage: dist-macos.sh WAILS VERSION X.Y.Z DIST_DIR}
version=${2:?}
short=${3:?}
dist=${4:?}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# make dist-macos has built the frontend and the Wails CLI (make tools).
# wails writes the bundle's Info.plist from build/darwin/Info.plist and
# iconfile.icns from build/appicon.png.
"$wails" build -platform darwin/universal -s -skipbindings -m -nosyncgomod -trimpath \
  -ldflags "-X switchboard/app.Version=$version"

app=$(find build/bin -maxdepth 1 -name '*.app' -print -quit)
[[ -n $app ]] || { echo "dist-macos: no .app in build/bin" >&2; exit 1; }
plist=$app/Contents/Info.plist
/usr/libexec/PlistBuddy -c "Set :CFBundleShortVersionString $short" "$plist"
/usr/libexec/PlistBuddy -c "Set :CFBundleVersion $short" "$plist"
/usr/libexec/PlistBuddy -c "Set :CFBundleGetInfoString Switchboard $version" "$plist"
lipo -info "$app/Contents/MacOS/"* # both architectures

mkdir -p "$dist"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/Switchboard.app"
ln -s /Applications "$stage/Applications"
dmg=$dist/switchboard-$version-macos-universal.dmg
rm -f "$dmg"
hdiutil create -volname Switchboard -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"
echo "dist-macos: $dmg"
