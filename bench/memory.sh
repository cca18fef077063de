#!/usr/bin/env bash
# Idle memory of an embedded Berth (PGlite, filesystem blobs): RSS and V8's breakdown at "berth is ready" and after
# IDLE seconds, for a first start on a new data dir and a restart on it, without and with the embedded controller.
# Target: RSS under 300 MB after idling. Usage: [IDLE=15] bench/memory.sh      (see bench/README.md)
set -euo pipefail
IDLE=${IDLE:-15}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MAIN=$ROOT/dist/registry/main.js
WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-memory.XXXXXX")
BERTH_PID=""
cleanup() {
  [ -n "$BERTH_PID" ] && kill "$BERTH_PID" 2>/dev/null && wait "$BERTH_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '[memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ ! -f "$MAIN" ] || [ -n "$(find "$ROOT/registry" "$ROOT/controller" -newer "$MAIN" -print -quit)" ]; then
  log "building Berth (npm run build)"; (cd "$ROOT" && npm run build >&2)
fi

# Asks the probe (bench/memory-probe.cjs, preloaded) for one figure line and prints it without its prefix.
sample() {
  local before; before=$(grep -c '^BERTH-MEMORY ' "$1" || true)
  kill -USR2 "$BERTH_PID"
  for _ in $(seq 1 100); do
    [ "$(grep -c '^BERTH-MEMORY ' "$1" || true)" -gt "$before" ] && break
    sleep 0.1
  done
  grep '^BERTH-MEMORY ' "$1" | tail -1 | cut -d' ' -f2-
}
mb() { jq -r '[.rss, .heapUsed, .external, .arrayBuffers] | map(. / 1e6 | floor | tostring) | join("/")' <<<"$1"; }

# measure LABEL DATA_DIR CONTROLLER(off|on): starts Berth, samples at ready and after IDLE s, stops it, prints a row.
measure() {
  local label=$1 dir=$2 controller=$3 logf=$WORK/$1-$3.log port
  port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  local env=(BERTH_ADDR=127.0.0.1:$port BERTH_METRICS_ADDR=off BERTH_DATA_DIR=$dir BERTH_ADMIN_PASSWORD=Memory-Bench-1 BERTH_LOG_LEVEL=info
    ALICE_INITIAL_PASSWORD=Alice-Passw0rd-1)
  [ "$controller" = off ] && env+=(BERTH_CONTROLLER_REPO=off)
  local started=$SECONDS
  env -u BERTH_DATABASE_URL -u BERTH_STORAGE -u BERTH_CONTROLLER_REPO "${env[@]}" \
    node -r "$ROOT/bench/memory-probe.cjs" "$MAIN" serve >"$logf" 2>&1 &
  BERTH_PID=$!
  until grep -q '"msg":"berth is ready"' "$logf"; do
    kill -0 "$BERTH_PID" 2>/dev/null || { log "berth exited:"; cat "$logf" >&2; exit 1; }
    sleep 0.2
  done
  local took=$((SECONDS - started)) ready idle
  ready=$(sample "$logf")
  sleep "$IDLE"
  idle=$(sample "$logf")
  kill "$BERTH_PID"; wait "$BERTH_PID" || true; BERTH_PID=""
  printf '%-13s %-10s %6s %-22s %-22s\n' "$label" "$controller" "$took" "$(mb "$ready")" "$(mb "$idle")"
  LAST_IDLE=$idle
}

log "4 starts, each idling ${IDLE} s"
printf '%-13s %-10s %6s %-22s %-22s\n' start controller "up, s" "ready: rss/heap/ext/ab" "idle: rss/heap/ext/ab"
for controller in off on; do
  measure first-start "$WORK/data-$controller" "$controller"
  measure restart "$WORK/data-$controller" "$controller"
done
echo "MB (10^6 bytes): rss = resident set; heap = V8 heapUsed; ext = external (PGlite's wasm memory is most of it);"
echo "ab = arrayBuffers. Packages loaded in the last run (modules each):"
jq -r '.packages | to_entries | sort_by(-.value) | map("\(.key) \(.value)") | join(", ")' <<<"$LAST_IDLE" | fold -s -w 118 | sed 's/^/  /'
