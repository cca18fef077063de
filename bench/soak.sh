#!/usr/bin/env bash
# Two-node soak (issue 15): two `berth serve` on one PostgreSQL database and one s3rver bucket behind a round-robin
# TCP proxy; skopeo pushes and pulls plus wrk on manifests for SOAK_SECONDS while one node is SIGKILLed and restarted
# every SOAK_KILL_EVERY seconds; then every acknowledged push is read back. Not part of `npm test`.
# Usage: [SOAK_SECONDS=600] [SOAK_KILL_EVERY=60] bench/soak.sh        (see bench/README.md)
# Env:  SOAK_SECONDS          length of the soak (default 600)
#       SOAK_KILL_EVERY       seconds between SIGKILLs (default 60)
#       SOAK_KILL             alternate (default: a, b, a, ...) or a or b (always that node; the other lives throughout)
#       SOAK_PUSHERS / SOAK_PULLERS   concurrent skopeo push / pull loops (default 2 / 1)
#       SOAK_WRK_CONNECTIONS  wrk connections on the manifests (default 8)
#       SOAK_MAX_LAYER_BYTES  each pushed image has one random layer of 1 KiB up to this (default 524288)
#       SOAK_PG               the PostgreSQL server; a fresh database is created there and dropped at the end
#                             (default postgres://postgres@127.0.0.1:5432/postgres)
#       SOAK_NODE_OPTIONS     NODE_OPTIONS for the two nodes only (e.g. "-r /path/to/a/probe.cjs"; default none)
#       SOAK_OUT              also write the summary to this file
#       SOAK_KEEP             copy the nodes' logs and wrk's script into this directory
# Exit: 0 all good; 1 an acknowledged push could not be pulled; 3 something else went wrong during the soak (a
# node exited by itself, a 5xx or a failed skopeo operation outside a kill window); 2 the soak could not run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG=${SOAK_PG:-postgres://postgres@127.0.0.1:5432/postgres}
log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for t in skopeo wrk psql; do command -v "$t" >/dev/null || { log "missing $t"; exit 2; }; done
[ -d "$ROOT/node_modules" ] || { log "no node_modules: run npm ci first"; exit 2; }
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_built
MAIN=$ROOT/dist/registry/main.js
bench_workspace berth-soak berth_soak "${SOAK_KEEP:-}" "node-*.log" soak.lua

# The driver is TypeScript that reuses test/support (proxy, s3rver, OCI layouts, skopeo): compile it and what it
# imports with the project's tsc into the temp dir; NODE_PATH lets the output find node_modules from there.
log "compiling bench/soak.ts"
"$ROOT/node_modules/.bin/tsc" --outDir "$WORK/js" --rootDir "$ROOT" --module commonjs --target ES2022 --esModuleInterop \
  --skipLibCheck --strict --isolatedModules --types node,jest --resolveJsonModule "$ROOT/bench/soak.ts" "$ROOT/test/support/s3rver.d.ts" >&2

psql "$PG" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null
DB_MADE=1
url=${PG%/*}/$DB
log "database $DB on ${PG#*@}"

SOAK_DATABASE_URL=$url SOAK_MAIN=$MAIN SOAK_WORK=$WORK NODE_PATH=$ROOT/node_modules \
  node "$WORK/js/bench/soak.js" > "$WORK/summary.txt" &
DRIVER_PID=$!
set +e; wait "$DRIVER_PID"; rc=$?; set -e
DRIVER_PID=""
cat "$WORK/summary.txt"
[ -n "${SOAK_OUT:-}" ] && cp "$WORK/summary.txt" "$SOAK_OUT"
exit "$rc"
