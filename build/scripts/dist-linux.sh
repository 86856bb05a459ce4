#!/usr/bin/env bash
# Builds the Linux packages into dist/ with nfpm: the agent app's .deb
# (amd64) and the relay's .deb (amd64 and arm64). Called by `make dist-linux`
# after the binaries are built.
#
#   build/scripts/dist-linux.sh NFPM DESKTOP_BIN DEB_VERSION DIST_DIR RELAY_BIN_PREFIX
#
# RELAY_BIN_PREFIX-<arch> are the relay binaries (CGO_ENABLED=0).
set -euo pipefail

nfpm=${1:?usage: dist-linux.sh NFPM DESKTOP_BIN DEB_VERSION DIST_DIR RELAY_BIN_PREFIX}
desktop_bin=${2:?}
deb_version=${3:?}
dist=${4:?}
relay_prefix=${5:?}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# hicolor icons from the 1024x1024 app icon.
icons=build/bin/pkg/hicolor
rm -rf "$icons"
for size in 16 24 32 48 64 128 256 512; do
  mkdir -p "$icons/${size}x${size}/apps"
  convert build/appicon.png -resize "${size}x${size}" -strip "$icons/${size}x${size}/apps/switchboard.png"
done

mkdir -p "$dist"
export DEB_VERSION=$deb_version DESKTOP_BIN=$desktop_bin ICON_DIR=$icons
"$nfpm" package --packager deb --config build/linux/desktop/nfpm.yaml --target "$dist/"
for arch in amd64 arm64; do
  RELAY_ARCH=$arch RELAY_BIN=$relay_prefix-$arch \
    "$nfpm" package --packager deb --config build/linux/relay/nfpm.yaml --target "$dist/"
done
