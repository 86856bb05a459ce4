#!/usr/bin/env bash
# Derives the package versions from the one build version (git describe
# --tags --always --dirty, or VERSION=...). Installers want numbers:
#
#   version.sh deb VERSION   Debian version:  v1.2.3 -> 1.2.3, v1.2.3-4-gabc-dirty
#                            -> 1.2.3+4.gabc.dirty, v1.2.3-rc1 -> 1.2.3~rc1,
#                            abc1234 (no tag yet) -> 0.0.0+gabc1234
#   version.sh win VERSION   X.Y.Z.N for Windows version resources (N = commits since the tag)
#   version.sh msi VERSION   X.Y.Z for the MSI ProductVersion
set -euo pipefail

kind=${1:?usage: version.sh deb|win|msi VERSION}
v=${2:?usage: version.sh deb|win|msi VERSION}
v=${v#v}

base=0.0.0 n=0 suffix=
if [[ $v =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)(.*)$ ]]; then
  base=${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}
  rest=${BASH_REMATCH[4]}
  if [[ $rest =~ ^-([0-9]+)-g([0-9a-f]+)(-dirty)?$ ]]; then
    n=${BASH_REMATCH[1]}
    suffix=+$n.g${BASH_REMATCH[2]}${BASH_REMATCH[3]:+.dirty}
  elif [[ $rest == -dirty ]]; then
    suffix=+dirty
  elif [[ -n $rest ]]; then # a pre-release: sorts before the release
    suffix="~$(tr -c 'A-Za-z0-9.+~\n' . <<<"${rest#[-+.]}")"
  fi
elif [[ $v =~ ^([0-9a-f]{4,})(-dirty)?$ ]]; then # no tag yet: a bare commit
  suffix=+g${BASH_REMATCH[1]}${BASH_REMATCH[2]:+.dirty}
else
  suffix="+$(tr -c 'A-Za-z0-9.+~\n' . <<<"$v")"
fi

case $kind in
  deb) echo "$base$suffix" ;;
  win) echo "$base.$((n > 65535 ? 65535 : n))" ;;
  msi) echo "$base" ;;
  *) echo "version.sh: unknown kind $kind" >&2; exit 2 ;;
esac
