#!/usr/bin/env bash
# Scanning at scale (issue 16), on the built Berth and a fresh PostgreSQL database; the driver is bench/scan-bench.ts.
# Usage: bench/scan-bench.sh rematch|push      (bench/scan-rematch.sh and bench/scan-push.sh call it; see bench/README.md)
# Env:  SCAN_PG             the PostgreSQL server; a fresh database is made there and dropped at the end
#                           (default postgres://postgres@127.0.0.1:5432/postgres)
#       IMAGES              images scanned (rematch, default 1000) or manifest PUTs per project (push, default 1000)
#       RECORDS_PER_SOURCE  Debian:12 records per source package installed here (default 6), AFFECTED_PER_SOURCE of
#                           them affecting the installed version (default 1); plus 3 npm records per NPM_POOL package
#       NPM_POOL / NPM_PER_IMAGE  npm packages (from node_modules) to pick from (200) / in each image's top layer (5)
#       CHANGED_EVERY       the changed record set moves one record in this many (rematch, default 10)
#       ROUNDS / CONCURRENCY  push: alternating off/on rounds (default 6) / requests at once (default 4)
#       SCAN_WORKERS        BERTH_SCAN_WORKERS (default 1, Berth's default)
#       BENCH_NODE_ARGS     node options of the measured server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
#       BENCH_OUT           also write the result there;  BENCH_KEEP  copy the server logs into this directory
set -euo pipefail
MODE=${1:?usage: scan-bench.sh rematch|push}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG=${SCAN_PG:-postgres://postgres@127.0.0.1:5432/postgres}
log() { printf '[scan-%s %s] %s\n' "$MODE" "$(date +%H:%M:%S)" "$*" >&2; }

command -v psql >/dev/null || { log "missing psql"; exit 2; }
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_built
MAIN=$ROOT/dist/registry/main.js
bench_workspace "berth-scan-$MODE" berth_scanbench "${BENCH_KEEP:-}" "berth-*.log"

log "compiling bench/scan-bench.ts"
"$ROOT/node_modules/.bin/tsc" --outDir "$WORK/js" --rootDir "$ROOT" --module commonjs --target ES2022 --esModuleInterop \
  --skipLibCheck --strict --isolatedModules --types node,jest "$ROOT/bench/scan-bench.ts" >&2

psql "$PG" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null
DB_MADE=1
log "database $DB on ${PG#*@}; load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"

BENCH_DATABASE_URL=${PG%/*}/$DB BENCH_MAIN=$MAIN BENCH_WORK=$WORK BENCH_NODE_MODULES=$(readlink -f "$ROOT/node_modules") \
  NODE_PATH=$ROOT/node_modules node "$WORK/js/bench/scan-bench.js" "$MODE" >"$WORK/result.txt" &
DRIVER_PID=$!
set +e; wait "$DRIVER_PID"; rc=$?; set -e
DRIVER_PID=""
{ echo "Berth $(git -C "$ROOT" rev-parse --short HEAD)$( [ -n "$(git -C "$ROOT" status --porcelain -- registry)" ] && echo ' + uncommitted registry/ changes'), $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  cat "$WORK/result.txt"; } | tee ${BENCH_OUT:+"$BENCH_OUT"}
exit "$rc"
