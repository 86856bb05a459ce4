#!/usr/bin/env bash
# The schema-only client against a real relay: seeds a fresh demo database,
# starts the relay on a free port and runs build/scripts/schemaclient, a
# Node client that knows only docs/protocol.schema.json and validates every
# frame it sends and receives against it (the seed's flow: visitor asks,
# agent takes, transfer offered, rejected, offered again, accepted, the
# former owner listens, a supervisor listens silently).
#   build/scripts/schema-client.sh [RELAY_BIN]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
relay_bin=${1:-$root/build/bin/switchboard-relay}
password=schema-client-password

for tool in node curl; do
  command -v "$tool" >/dev/null || { echo "schema-client: $tool not found" >&2; exit 1; }
done
[[ -x $relay_bin ]] || { echo "schema-client: $relay_bin not built (make relay)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-schema.XXXXXX")
out=$work
started=$SECONDS
e2e_name=schema-client
# shellcheck source=build/scripts/e2e-lib.sh
source "$root/build/scripts/e2e-lib.sh"
fail() { report_failure "$*"; exit 1; }

pids=()
ok=
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n $ok ]]; then rm -rf "$work"; else echo "schema-client: logs kept in $work" >&2; fi
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '%s\n' "$password" | "$relay_bin" seed-demo --database "$work/relay.db" >"$out/seed.log" 2>&1 ||
  fail "seed-demo failed"
start_relay "$relay_bin" "$work/relay.db"

node --experimental-websocket --no-warnings "$root/build/scripts/schemaclient/flow.mjs" \
  --schema "$root/docs/protocol.schema.json" --url "$url" --password "$password" ||
  fail "the schema client failed"

# The same client with a schema that lacks one field the relay sends (an
# entry's seq) must fail: the validation is not a no-op.
node -e '
  const fs = require("fs")
  const s = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))
  delete s.$defs.Entry.properties.seq
  s.$defs.Entry.required = s.$defs.Entry.required.filter((f) => f !== "seq")
  fs.writeFileSync(process.argv[2], JSON.stringify(s))
' "$root/docs/protocol.schema.json" "$work/broken.schema.json"
if node --experimental-websocket --no-warnings "$root/build/scripts/schemaclient/flow.mjs" \
  --schema "$work/broken.schema.json" --url "$url" --password "$password" >"$out/broken.log" 2>&1; then
  fail "the client accepted frames that a schema without Entry.seq forbids"
fi
grep -q 'does not match the schema' "$out/broken.log" || fail "the client failed otherwise with a broken schema: $(tail -n 3 "$out/broken.log")"
say "a schema without Entry.seq is refused: $(grep -m1 -o '\$[^ ]*seq[^"]*' "$out/broken.log" || true)"
ok=1
say "ok"
