#!/usr/bin/env bash
# CPU profile of a Berth server under one workload, with the functions that used the most CPU.
# Usage: bench/profile.sh put|get|small|pushbig [N]
#   get      N anonymous GETs of the 256 MiB blob (after one push), default N=10
#   put      N monolithic PUTs of the 256 MiB blob (POST + PUT, -T, -H 'Expect:'), default N=5
#   small    N seconds of wrk (32 connections) on manifest GET by tag, default N=5
#   pushbig  N skopeo pushes of the big image, default N=2
# Env: BERTH_ANCHORS, BENCH_IMAGES as for run.sh; PROFILE_KEEP=DIR copies the .cpuprofile there (open it in
# Chrome DevTools or speedscope); TOP (default 25) rows printed.
set -euo pipefail
WHAT=${1:?usage: profile.sh put|get|small|pushbig [N]}; N=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ANCH=$(cd "${BERTH_ANCHORS:-$ROOT/../shared/anchors}" && pwd)
IMAGES=${BENCH_IMAGES:-${TMPDIR:-/tmp}/berth-bench-images}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-prof.XXXXXX")
export ANCHORS_DIR=$WORK/anchors; mkdir -p "$ANCHORS_DIR" "$IMAGES"; ln -s "$IMAGES" "$ANCHORS_DIR/images"
PID=""
cleanup() { set +e; [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && kill -9 "$PID"; rm -rf "$WORK"; }
trap cleanup EXIT
"$ANCH/make-images.sh" >/dev/null
PASS=profile-pass; CREDS=admin:$PASS
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
REG=127.0.0.1:$PORT
T_SPAWN=$(date +%s.%N)
# As run.sh: no anonymous rate limit, no metrics listener.
env -u BERTH_DATABASE_URL BERTH_ADDR=$REG BERTH_DATA_DIR="$WORK/data" BERTH_ADMIN_PASSWORD=$PASS BERTH_LOG_LEVEL=warn \
  BERTH_ANONYMOUS_RATE_PER_SECOND=0 BERTH_METRICS_ADDR=off \
  node --cpu-prof --cpu-prof-dir="$WORK/prof" "$ROOT/dist/registry/main.js" serve >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do curl -s -o /dev/null "http://$REG/v2/" && break; kill -0 "$PID" 2>/dev/null || { cat "$WORK/log" >&2; exit 1; }; sleep 0.1; done
mf() { echo "$IMAGES/$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$IMAGES/$1/index.json" | cut -d: -f2)"; }
SK=$ANCH/skopeo-iso.sh
t0=$(date +%s.%N)
case $WHAT in
  put)
    L=$(jq -r '.layers[0].digest' "$(mf big)"); F=$IMAGES/big/blobs/sha256/${L#sha256:}
    for i in $(seq 1 "${N:-5}"); do
      loc=$(curl -fsS -u "$CREDS" -X POST -o /dev/null -D - "http://$REG/v2/library/p$i/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
      case $loc in http*) ;; *) loc=http://$REG$loc ;; esac
      curl -fsS -u "$CREDS" -o /dev/null -H 'Expect:' -H 'Content-Type: application/octet-stream' -T "$F" \
        -w "put $i: %{time_total}s (upload %{speed_upload} B/s)\n" "$loc?digest=$L"
    done ;;
  get)
    "$SK" copy -q --dest-tls-verify=false --dest-creds "$CREDS" "oci:$IMAGES/big:latest" "docker://$REG/library/src-big:latest"
    L=$(jq -r '.layers[0].digest' "$(mf big)"); t0=$(date +%s.%N)
    for i in $(seq 1 "${N:-10}"); do curl -fsS -o /dev/null -w "get $i: %{time_total}s\n" "http://$REG/v2/library/src-big/blobs/$L"; done ;;
  small)
    "$SK" copy -q --dest-tls-verify=false --dest-creds "$CREDS" "oci:$IMAGES/tiny:latest" "docker://$REG/library/small:latest"
    wrk -t2 -c32 -d"${N:-5}s" -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/library/small/manifests/latest" | grep -E 'Requests/sec|Non-2xx' ;;
  pushbig)
    for i in $(seq 1 "${N:-2}"); do
      /usr/bin/time -f "push $i: %es wall, skopeo CPU %Us user + %Ss sys" "$SK" copy -q --dest-tls-verify=false --dest-creds "$CREDS" "oci:$IMAGES/big:latest" "docker://$REG/library/b$i:latest"
    done ;;
  *) echo "unknown workload $WHAT" >&2; exit 2 ;;
esac
t1=$(date +%s.%N)
echo "workload wall time: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')s (profile below covers only this window)"
kill -INT "$PID"; for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done; PID=""
# The main thread's profile (worker threads write their own, numbered after it).
f=$(ls "$WORK"/prof/CPU.*.*.*.0.*.cpuprofile)
[ -n "${PROFILE_KEEP:-}" ] && { mkdir -p "$PROFILE_KEEP"; cp "$f" "$PROFILE_KEEP/berth-$WHAT.cpuprofile"; }
from=$(awk -v a="$T_SPAWN" -v b="$t0" 'BEGIN {print b - a}'); to=$(awk -v a="$T_SPAWN" -v b="$t1" 'BEGIN {print b - a}')
node - "$f" "${TOP:-25}" "$from" "$to" <<'JS'
// Self time per function (and per source file) from a V8 .cpuprofile, for samples taken between FROM and TO
// seconds after the profile started (about when the process started: startup is left out).
const p = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const top = Number(process.argv[3]), from = Number(process.argv[4]) * 1e6, to = Number(process.argv[5]) * 1e6;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0, t = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i] ?? 0;
  if (t >= from && t <= to) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
}
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const fn = new Map(), file = new Map();
for (const [id, us] of dt) {
  const c = byId.get(id).callFrame;
  const short = (c.url || "").replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/dist\//, "dist/").replace(/^node:/, "node:");
  const k = `${c.functionName || "(anonymous)"}  ${short}${c.url ? ":" + (c.lineNumber + 1) : ""}`;
  fn.set(k, (fn.get(k) ?? 0) + us);
  const fk = short.split(":")[0] === "node" ? short.replace(/:\d+$/, "") : short.split("/").slice(0, 2).join("/") || c.functionName;
  file.set(fk, (file.get(fk) ?? 0) + us);
}
const pr = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
  .forEach(([k, us]) => console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`));
console.log(`profile: ${(total / 1000).toFixed(0)} ms sampled\n-- by function (self time)`); pr(fn, top);
console.log("-- by package / area"); pr(file, 12);
JS
