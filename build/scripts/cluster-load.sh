#!/usr/bin/env bash
# Measures what cluster mode costs (docs/performance.md, "Cluster"): the same
# load against one relay on SQLite, one relay on PostgreSQL, and three relay
# nodes on PostgreSQL and NATS with the clients spread over them; each run
# beside the durable hub in the same invocation. Needs the PostgreSQL server
# binaries (make deps). Writes build/cluster-load/*.{json,md}. HOP_ONLY=1 runs only the
# second part (the hop at 2,500 deliveries/s).
set -euo pipefail
cd "$(dirname "$0")/../.."

out=build/cluster-load
mkdir -p "$out" build/bin
go build -o build/bin/switchboard-loadgen ./backend/cmd/loadgen
go build -trimpath -o build/bin/switchboard-relay ./backend/cmd/relay
go build -o build/bin/nats-server github.com/nats-io/nats-server/v2

bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
tmp=$(mktemp -d)
as_pg=()
if [[ $(id -u) == 0 ]]; then
  chown postgres "$tmp"
  as_pg=(runuser -u postgres --)
fi
pgport=$((20000 + RANDOM % 20000))
natsport=$((20000 + RANDOM % 20000))
cleanup() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  [[ -n ${nats_pid:-} ]] && kill "$nats_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"${as_pg[@]}" "$bindir/initdb" -D "$tmp/data" -A trust -U postgres >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/pg.log" -w \
  -o "-p $pgport -k $tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
build/bin/nats-server -a 127.0.0.1 -p "$natsport" >"$tmp/nats.log" 2>&1 &
nats_pid=$!
pg() { echo "postgres://postgres@127.0.0.1:$pgport/$1?sslmode=disable"; }
# The load generator makes a database of its own for each round on this server.

shape=(--baseline durable --rounds "${ROUNDS:-3}" --duration "${DURATION:-10s}" --latency-rate 6250 --latency-transfers 5)
run() {
  local name=$1; shift
  echo "== $name"
  build/bin/switchboard-loadgen --relay-bin build/bin/switchboard-relay "$@" "${shape[@]}" \
    --json "$out/$name.json" --markdown "$out/$name.md"
}
[[ -z ${HOP_ONLY:-} ]] && run sqlite
[[ -z ${HOP_ONLY:-} ]] && run postgres --database "$(pg postgres)"
[[ -z ${HOP_ONLY:-} ]] && run cluster --database "$(pg postgres)" --cluster 3 --nats "nats://127.0.0.1:$natsport"
# What the hop through a gateway costs, at a rate that leaves these two cores
# idle enough for the latency to be the path's rather than the run queue's.
shape=(--rounds "${ROUNDS:-3}" --duration 5s --latency-rate "${HOP_RATE:-1250}" --latency-transfers 5)
run postgres-hop --database "$(pg postgres)"
run cluster-hop --database "$(pg postgres)" --cluster 3 --nats "nats://127.0.0.1:$natsport"
echo "results in $out"
