#!/usr/bin/env bash
# The GitOps controller at scale: plan and apply of PROJECTS projects × MEMBERS members each against a live Berth
# (built dist/, embedded PGlite unless BERTH_DATABASE_URL is set). Targets: plan < 3 s, no-op reconcile < 3 s.
# Usage: [PROJECTS=1000] [MEMBERS=10] [USERS=100] [RUNS=5] [CPU_PROF=dir] bench/controller.sh
# RUNS: how many times the plan and the no-op reconcile are timed (the median is printed, every time is logged).
# CPU_PROF: also write a V8 CPU profile (node --cpu-prof) of one more plan into that directory.
set -euo pipefail
PROJECTS=${PROJECTS:-1000}
MEMBERS=${MEMBERS:-10}
USERS=${USERS:-100}
RUNS=${RUNS:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-controller-bench.XXXXXX")
PASS=bench-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BERTH_PID=""
cleanup() { [ -n "$BERTH_PID" ] && kill "$BERTH_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ -f "$ROOT/dist/controller/main.js" ] || (cd "$ROOT" && npm run build >/dev/null)
BERTH_ADDR=127.0.0.1:$PORT BERTH_METRICS_ADDR=off BERTH_DATA_DIR=$WORK/data BERTH_ADMIN_PASSWORD=$PASS BERTH_CONTROLLER_REPO=off BERTH_LOG_LEVEL=warn \
  node "$ROOT/dist/registry/main.js" serve >"$WORK/berth.log" 2>&1 &
BERTH_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/v2.0/health" >/dev/null && break; sleep 0.2; done

log "generating $PROJECTS projects × $MEMBERS members ($USERS users)"
mkdir -p "$WORK/repo"
node -e '
const [projects, members, users, dir] = process.argv.slice(1);
const fs = require("fs");
let p = "projects:\n", m = "users:\n";
for (let u = 0; u < users; u++) m += `  - username: user${u}\n    email: user${u}@example.com\n    passwordFrom: env:BENCH_USER_PASSWORD\n`;
m += "members:\n";
const roles = ["developer", "guest", "maintainer", "projectAdmin", "limitedGuest"];
for (let i = 0; i < projects; i++) {
  p += `  - name: team-${i}\n    public: ${i % 2 === 0}\n`;
  m += `  team-${i}:\n`;
  for (let j = 0; j < members; j++) m += `    - user: user${(i * members + j) % users}\n      role: ${roles[(i + j) % roles.length]}\n`;
}
fs.writeFileSync(`${dir}/projects.yaml`, p);
fs.writeFileSync(`${dir}/members.yaml`, m);
' "$PROJECTS" "$MEMBERS" "$USERS" "$WORK/repo"

export BERTH_REGISTRY_URL=http://127.0.0.1:$PORT BERTH_REGISTRY_USER=admin BERTH_REGISTRY_PASSWORD=$PASS BENCH_USER_PASSWORD=Bench-User-Passw0rd
seconds() { local start end; start=$(date +%s%N); "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }; end=$(date +%s%N); echo "scale=2; ($end - $start) / 1000000000" | bc; }
CTL="node $ROOT/dist/controller/main.js"

log "first apply (creates everything)"
APPLY=$(seconds $CTL apply --repo "$WORK/repo")
tail -1 "$WORK/out" >&2
# The median of RUNS timings (every one is logged).
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
PLANS=() NOOPS=()
for run in $(seq 1 "$RUNS"); do
  PLANS+=("$(seconds $CTL plan --repo "$WORK/repo")")
  grep -q "No changes" "$WORK/out" || { echo "the plan after apply is not empty:" >&2; head -5 "$WORK/out" >&2; exit 1; }
  NOOPS+=("$(seconds $CTL apply --repo "$WORK/repo")")
  log "run $run/$RUNS: plan with nothing to change ${PLANS[-1]} s, no-op reconcile ${NOOPS[-1]} s (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
PLAN=$(median "${PLANS[@]}")
NOOP=$(median "${NOOPS[@]}")
if [ -n "${CPU_PROF:-}" ]; then
  mkdir -p "$CPU_PROF"
  node --cpu-prof --cpu-prof-dir="$CPU_PROF" "$ROOT/dist/controller/main.js" plan --repo "$WORK/repo" >/dev/null
  log "CPU profile of a plan written to $CPU_PROF"
fi
log "plan after one hand-made change"
curl -sf -u "admin:$PASS" -X PUT -H 'Content-Type: application/json' -d '{"metadata":{"public":"true"}}' "http://127.0.0.1:$PORT/api/v2.0/projects/team-1" >/dev/null
DRIFT=$(seconds $CTL apply --repo "$WORK/repo")

printf '\n| %s projects × %s members (%s users) | seconds | target |\n| --- | --- | --- |\n' "$PROJECTS" "$MEMBERS" "$USERS"
printf '| first apply (%s objects) | %s | |\n' "$((PROJECTS + PROJECTS * MEMBERS + USERS))" "$APPLY"
printf '| plan, no changes (median of %s) | %s | < 3 |\n' "$RUNS" "$PLAN"
printf '| no-op reconcile (apply, median of %s) | %s | < 3 |\n' "$RUNS" "$NOOP"
printf '| reconcile correcting one drifted project | %s | |\n' "$DRIFT"
