#!/usr/bin/env bash
# Berth vs. the reference registry (CNCF distribution via Debian's docker-registry), measured in the same run.
# Usage: [RUNS=3] [SECONDS=5] bench/run.sh        (see bench/README.md)
# Env:  RUNS            rounds per push/pull/GET/PUT measurement, each on every registry in turn (default 3)
#       SECONDS         duration of each requests/s measurement (default 5)
#       BERTH_ANCHORS   directory of the anchor scripts (default <repo>/../shared/anchors)
#       BENCH_IMAGES    cache of the generated OCI layouts (default ${TMPDIR:-/tmp}/berth-bench-images; kept)
#       BENCH_OUT       also write the final table to this file
#       BENCH_STORAGE   fs (default) or s3: Berth's blobs in s3rver (the reference stays on its filesystem)
#       BENCH_KEEP      copy the raw results (every run's time, RSS samples, Berth's log) into this directory
#       BENCH_NICE      niceness of both registries and of the clients (default -10 as root, so other jobs on the
#                       machine disturb less; 0 leaves it alone)
#       BENCH_BASELINE  dist/registry/main.js of another Berth build: it runs too, as a fourth column ("before")
#       BENCH_DATABASE_URL  a PostgreSQL server (postgres://user@host:port/db): each Berth gets a fresh database of its
#                       own there (made and dropped with psql) instead of embedded PGlite
# bash keeps SECONDS ticking from the value it inherited: read it before anything else happens.
DUR=$SECONDS
set -euo pipefail
[ "${DUR:-0}" -gt 0 ] 2>/dev/null || DUR=5
RUNS=${RUNS:-3}
GET_RUNS=$(( RUNS * 3 > 10 ? RUNS * 3 : 10 ))   # one GET takes ~0.2 s: more runs, still cheap
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
NICE=${BENCH_NICE:--10}
[ "$(id -u)" = 0 ] || [ "$NICE" -ge 0 ] || NICE=0
NI=(nice -n "$NICE")

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ANCH=${BERTH_ANCHORS:-$ROOT/../shared/anchors}
ANCH=$(cd "$ANCH" && pwd)
IMAGES=${BENCH_IMAGES:-${TMPDIR:-/tmp}/berth-bench-images}
PASS=bench-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
CREDS=admin:$PASS
P=library
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- temp dir, cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX")
export ANCHORS_DIR=$WORK/anchors            # read by the anchor scripts
mkdir -p "$ANCHORS_DIR" "$IMAGES" "$WORK/pulled" "$WORK/res"
ln -s "$IMAGES" "$ANCHORS_DIR/images"
BERTH_PID=""; BASE_PID=""; REFA_PID=""; SAMPLER_PID=""; REF_PORT=""; S3_PID=""; SINK_PID=""
stop_pid() {
  kill -0 "$1" 2>/dev/null || return 0
  kill "$1" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && kill -9 "$1"
}
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
  [ -n "$S3_PID" ] && kill "$S3_PID" 2>/dev/null
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  for db in ${BENCH_DATABASES[@]+"${BENCH_DATABASES[@]}"}; do psql "$BENCH_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; done
  for p in "$BERTH_PID" "$BASE_PID" "$REFA_PID"; do [ -n "$p" ] && stop_pid "$p"; done
  [ -n "$REF_PORT" ] && "$ANCH/reference-registry.sh" stop "$REF_PORT" >/dev/null 2>&1
  if [ -n "${BENCH_KEEP:-}" ]; then
    mkdir -p "$BENCH_KEEP" && cp -r "$WORK/res" "$BENCH_KEEP/" && cp "$WORK"/*.log "$WORK"/rss.txt "$BENCH_KEEP/" 2>/dev/null
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools, build
for t in docker-registry skopeo podman wrk ab jq curl; do
  command -v "$t" >/dev/null || { log "missing $t: running install-tools.sh"; "$ANCH/install-tools.sh" >&2; break; }
done
[ -d "$ROOT/node_modules" ] || { log "no node_modules: run npm ci first"; exit 1; }
MAIN=$ROOT/dist/registry/main.js
if [ ! -f "$MAIN" ] || [ -n "$(find "$ROOT/registry" -newer "$MAIN" -print -quit)" ]; then
  log "building Berth (npm run build)"; (cd "$ROOT" && npm run build >&2)
fi

log "building the OCI layouts (cached in $IMAGES)"
"$ANCH/make-images.sh" >&2
"$ROOT/bench/make-more-images.sh" "$IMAGES" >&2
MULTI=$(seq -w 0 15)
manifest_of() { echo "$IMAGES/$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$IMAGES/$1/index.json" | cut -d: -f2)"; }
BIG_L=$(jq -r '.layers[0].digest' "$(manifest_of big)")
BIG_F=$IMAGES/big/blobs/sha256/${BIG_L#sha256:}
TINY_L=$(jq -r '.layers[0].digest' "$(manifest_of tiny)")

# ---------------------------------------------------------------- start the registries
# ref: the reference without authentication; refa: the same with htpasswd (bcrypt) Basic authentication, so that both
# sides of that comparison log in; berth (and base, the BENCH_BASELINE build, when given).
WHOS=(ref refa berth); [ -n "${BENCH_BASELINE:-}" ] && WHOS+=(base)
read -r REF_PORT REFA_PORT BERTH_PORT BASE_PORT < <(node -e '
  const net = require("net"); const ports = [];
  const grab = () => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => {
    ports.push(s.address().port); s.close(() => ports.length < 4 ? grab() : console.log(ports.join(" "))); }); };
  grab();')
REF=127.0.0.1:$REF_PORT; REFA=127.0.0.1:$REFA_PORT; BERTH=127.0.0.1:$BERTH_PORT; BASE=127.0.0.1:$BASE_PORT
"${NI[@]}" "$ANCH/reference-registry.sh" start "$REF_PORT" >&2

# bcrypt at cost 5, what `htpasswd -B` writes by default and distribution's docs use.
bcrypt_hash() {
  if command -v htpasswd >/dev/null; then htpasswd -nbBC 5 admin "$1" | cut -d: -f2-
  else python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))' "$1"; fi
}
mkdir -p "$WORK/refa/data"
printf 'admin:%s\n' "$(bcrypt_hash "$PASS")" > "$WORK/refa/htpasswd"
case $(cut -d: -f2 "$WORK/refa/htpasswd") in '$2'?'$05$'*) ;; *) log "could not make a bcrypt htpasswd entry (no htpasswd, no python3 crypt)"; exit 1 ;; esac
cat > "$WORK/refa/config.yml" <<YML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  cache: {blobdescriptor: inmemory}
  filesystem: {rootdirectory: $WORK/refa/data}
  delete: {enabled: true}
  redirect: {disable: true}
http: {addr: "$REFA"}
auth: {htpasswd: {realm: berth-bench, path: $WORK/refa/htpasswd}}
YML
"${NI[@]}" docker-registry serve "$WORK/refa/config.yml" >"$WORK/refa.log" 2>&1 &
REFA_PID=$!
for i in $(seq 1 100); do
  curl -fsS -o /dev/null -u "$CREDS" "http://$REFA/v2/" 2>/dev/null && break
  [ "$i" = 100 ] && { log "the reference with htpasswd did not start"; tail -20 "$WORK/refa.log" >&2; exit 1; }
  sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REFA/v2/")" = 401 ] || { log "the reference with htpasswd answers without credentials"; exit 1; }

STORAGE_ENV=()
if [ "${BENCH_STORAGE:-fs}" = s3 ]; then
  # Berth's blobs in s3rver (a real S3 server in Node). The reference stays on its filesystem: distribution's S3
  # driver needs ListMultipartUploads, which s3rver answers with 501, so it cannot run against the same server.
  mkdir -p "$WORK/s3"
  node -e '
    const S3rver = require(process.argv[1]);
    new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: process.argv[2],
                 configureBuckets: [{ name: "berth-bench" }, { name: "berth-bench-base" }] })
      .run().then(({ port }) => console.log(port));' "$ROOT/node_modules/s3rver" "$WORK/s3" >"$WORK/s3.port" &
  S3_PID=$!
  for _ in $(seq 1 50); do [ -s "$WORK/s3.port" ] && break; sleep 0.1; done
  STORAGE_ENV=(BERTH_STORAGE=s3 "BERTH_S3_ENDPOINT=http://127.0.0.1:$(cat "$WORK/s3.port")" BERTH_S3_ACCESS_KEY=S3RVER BERTH_S3_SECRET_KEY=S3RVER)
  # BERTH_S3_REDIRECT_SECONDS=N bench/run.sh: blob GETs answered with presigned s3rver URLs (off unless set).
  [ -n "${BERTH_S3_REDIRECT_SECONDS:-}" ] && STORAGE_ENV+=("BERTH_S3_REDIRECT_SECONDS=$BERTH_S3_REDIRECT_SECONDS")
  log "Berth stores blobs in s3rver on port $(cat "$WORK/s3.port") (pid $S3_PID)"
fi
BENCH_DATABASES=()
BERTH_DB=$([ -n "${BENCH_DATABASE_URL:-}" ] && echo PostgreSQL || echo "embedded PGlite")
start_berth() { # start_berth WHO ADDR MAIN BUCKET: sets STARTED_PID
  local who=$1 addr=$2 main=$3 bucket=$4 code i db_env=()
  mkdir -p "$WORK/$who-data"
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    local db=berth_bench_${who}_$$
    psql "$BENCH_DATABASE_URL" -qc "CREATE DATABASE $db" >/dev/null
    BENCH_DATABASES+=("$db"); db_env=("BERTH_DATABASE_URL=${BENCH_DATABASE_URL%/*}/$db")
  fi
  # No anonymous rate limit (the reference registry has none: the comparison measures throughput, not policy) and no
  # metrics listener (nothing here scrapes it; its default port could be taken on a shared machine).
  env -u BERTH_DATABASE_URL ${db_env[@]+"${db_env[@]}"} BERTH_ADDR="$addr" BERTH_DATA_DIR="$WORK/$who-data" BERTH_ADMIN_PASSWORD="$PASS" \
    BERTH_ANONYMOUS_RATE_PER_SECOND=0 BERTH_METRICS_ADDR=off BERTH_LOG_LEVEL=warn BERTH_CONTROLLER_REPO=off \
    ${STORAGE_ENV[@]+"${STORAGE_ENV[@]}"} ${STORAGE_ENV[@]+"BERTH_S3_BUCKET=$bucket"} "${NI[@]}" node "$main" serve >"$WORK/$who.log" 2>&1 &
  STARTED_PID=$!
  for i in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/v2/" || true)
    [ "$code" = 401 ] || [ "$code" = 200 ] && break
    kill -0 "$STARTED_PID" 2>/dev/null || { log "$who exited:"; tail -20 "$WORK/$who.log" >&2; exit 1; }
    [ "$i" = 300 ] && { log "$who did not answer on $addr"; tail -20 "$WORK/$who.log" >&2; exit 1; }
    sleep 0.1
  done
}
start_berth berth "$BERTH" "$MAIN" berth-bench; BERTH_PID=$STARTED_PID
if [ -n "${BENCH_BASELINE:-}" ]; then start_berth base "$BASE" "$BENCH_BASELINE" berth-bench-base; BASE_PID=$STARTED_PID; fi
# The push sink (bench/push-sink.mjs): takes pushes and keeps nothing, the floor under the push rows.
"${NI[@]}" node "$ROOT/bench/push-sink.mjs" >"$WORK/sink.out" 2>&1 & SINK_PID=$!
for _ in $(seq 1 100); do grep -q '^listening ' "$WORK/sink.out" && break; sleep 0.1; done
SINK=127.0.0.1:$(awk '/^listening / {print $2}' "$WORK/sink.out")
log "reference on $REF, with htpasswd on $REFA, Berth on $BERTH (pid $BERTH_PID, $BERTH_DB)${BASE_PID:+, baseline on $BASE (pid $BASE_PID)}, push sink on $SINK; nice $NICE"

# ---------------------------------------------------------------- helpers
# One helper script for the timed commands: "ops.sh VERB REG ARGS".
# Pushes and uploads carry CREDS_FOR_REG; pulls and GETs carry PULL_CREDS: none on Berth (library is public) and on
# the reference without auth, admin's on the reference with htpasswd.
cat > "$WORK/ops.sh" <<'EOS'
#!/usr/bin/env bash
set -euo pipefail
verb=$1 reg=$2; c=(); sc=(); pc=(); gc=(); gsc=(); gpc=()
[ -n "${CREDS_FOR_REG:-}" ] && { c=(-u "$CREDS_FOR_REG"); sc=(--dest-creds "$CREDS_FOR_REG"); pc=(--creds "$CREDS_FOR_REG"); }
[ -n "${PULL_CREDS:-}" ] && { gc=(-u "$PULL_CREDS"); gsc=(--src-creds "$PULL_CREDS"); gpc=(--creds "$PULL_CREDS"); }
# podman on storage of its own (vfs), its blob-info cache (under XDG_DATA_HOME) included: "reset" empties the cache,
# so a push uploads every layer instead of mounting what an earlier run pushed.
pod() { XDG_DATA_HOME=$1/data _CONTAINERS_ROOTLESS_UID=1 podman --root "$1/root" --runroot "$1/run" --storage-driver vfs \
          --tmpdir "$1/tmp" --events-backend none "${@:2}"; }
all() { local rc=0 p; for p in "$@"; do wait "$p" || rc=1; done; return $rc; }
case $verb in
  push) "$SK" copy -q --dest-tls-verify=false ${sc[@]+"${sc[@]}"} "oci:$IMAGES/$3:latest" "docker://$reg/$P/push-$3-$(date +%s%N):latest" ;;
  seed) "$SK" copy -q --dest-tls-verify=false ${sc[@]+"${sc[@]}"} "oci:$IMAGES/$3:latest" "docker://$reg/$P/$4:latest" ;;
  pull) rm -rf "$PULLED/$3"; "$SK" copy -q --src-tls-verify=false ${gsc[@]+"${gsc[@]}"} "docker://$reg/$P/src-$3:latest" "oci:$PULLED/$3:latest" ;;
  push8)  # 8 different images at once, each into a new repository
    ps=(); for i in 00 01 02 03 04 05 06 07; do
      "$SK" copy -q --dest-tls-verify=false ${sc[@]+"${sc[@]}"} "oci:$IMAGES/multi-$i:latest" "docker://$reg/$P/c8-$i-$(date +%s%N):latest" & ps+=($!)
    done; all "${ps[@]}" ;;
  pull16) # 16 different images at once
    ps=(); for i in $MULTI; do
      rm -rf "$PULLED/m$i"; "$SK" copy -q --src-tls-verify=false ${gsc[@]+"${gsc[@]}"} "docker://$reg/$P/src-multi-$i:latest" "oci:$PULLED/m$i:latest" & ps+=($!)
    done; all "${ps[@]}" ;;
  ppush) pod "$PM" push -q --tls-verify=false ${pc[@]+"${pc[@]}"} "localhost/$3:latest" "docker://$reg/$P/ppush-$3-$(date +%s%N):latest" ;;
  ppull) pod "$PM2" pull -q --tls-verify=false ${gpc[@]+"${gpc[@]}"} "docker://$reg/$P/src-$3:latest" >/dev/null ;;
  reset) rm -rf "$PM/data"; pod "$PM2" rmi -af >/dev/null; rm -rf "$PM2/data" ;;
  get)  curl -fsSL ${gc[@]+"${gc[@]}"} -o /dev/null "http://$reg/v2/$P/src-big/blobs/$BIG_L" ;;
  put)
    loc=$(curl -fsS ${c[@]+"${c[@]}"} -X POST -o /dev/null -D - "http://$reg/v2/$P/put-$(date +%s%N)/blobs/uploads/" \
          | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
    case $loc in http*) ;; *) loc=http://$reg$loc ;; esac
    case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
    curl -fsS ${c[@]+"${c[@]}"} -o /dev/null -X PUT -H 'Expect:' -H 'Content-Type: application/octet-stream' \
         -T "$BIG_F" "$loc${sep}digest=$BIG_L" ;;
esac
EOS
chmod +x "$WORK/ops.sh"
export SK=$ANCH/skopeo-iso.sh IMAGES P BIG_L BIG_F PULLED=$WORK/pulled PM=$WORK/podman-push PM2=$WORK/podman-pull MULTI
OPS=$WORK/ops.sh
mkdir -p "$PM/tmp" "$PM2/tmp"
# podman pushes from its local storage: load the images there once (podman recompresses layers on push, as it does
# for images it built).
for x in ten big; do
  XDG_DATA_HOME=$PM/data _CONTAINERS_ROOTLESS_UID=1 podman --root "$PM/root" --runroot "$PM/run" --storage-driver vfs \
    --tmpdir "$PM/tmp" --events-backend none pull -q "oci:$IMAGES/$x:latest" >"$WORK/podman-id"
  XDG_DATA_HOME=$PM/data _CONTAINERS_ROOTLESS_UID=1 podman --root "$PM/root" --runroot "$PM/run" --storage-driver vfs \
    --tmpdir "$PM/tmp" --events-backend none tag "$(cat "$WORK/podman-id")" "localhost/$x:latest"
done

push_creds_for() { case $1 in ref|sink) echo "" ;; *) echo "$CREDS" ;; esac; }
pull_creds_for() { [ "$1" = refa ] && echo "$CREDS" || echo ""; }
addr_of() { case $1 in berth) echo "$BERTH" ;; base) echo "$BASE" ;; refa) echo "$REFA" ;; sink) echo "$SINK" ;; *) echo "$REF" ;; esac; }
put_res() { echo "$3" > "$WORK/res/$1.$2"; }                     # put_res METRIC WHO VALUE
get_res() { cat "$WORK/res/$1.$2" 2>/dev/null || echo NA; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# timed_each METRIC [--prepare CMD] [--warmup N] -- VERB ARGS...: RUNS rounds (TIMED_RUNS when set), each running
# "ops.sh VERB REG ARGS" once on every registry in turn, after N untimed rounds; then the median, min and max per
# registry. Rounds rather than blocks of runs per registry: a drift of the machine's load, or the disk still writing
# back an earlier side's blobs, falls on all sides alike; and each round starts one side later than the one before,
# since the place in the round matters too (a pull right after another pull's output was written measured up to 30 %
# slower, whoever ran it). CMD (run untimed before each timed command) gets "-" for REG.
timed_each() {
  local m=$1 prepare="" warmup=0 w k round t0 t1 c0 c1; shift
  while [ "$1" != -- ]; do
    case $1 in --prepare) prepare=$2 ;; --warmup) warmup=$2 ;; *) log "timed_each: unknown option $1"; exit 2 ;; esac
    shift 2
  done
  shift
  log "$m on ${WHOS[*]}: ${TIMED_RUNS:-$RUNS} rounds$([ "$warmup" = 0 ] || echo " after $warmup untimed")"
  for w in "${WHOS[@]}"; do : >"$WORK/res/$m.$w.times"; : >"$WORK/res/$m.$w.cpu"; : >"$WORK/res/$m.$w.err"; done
  for round in $(seq $((1 - warmup)) "${TIMED_RUNS:-$RUNS}"); do
    for k in "${!WHOS[@]}"; do
      w=${WHOS[$(((k + round + 100 * ${#WHOS[@]}) % ${#WHOS[@]}))]}   # each round starts one side later
      [ "$round" = 1 ] && put_res "load_$m" "$w" "$(load1)"
      [ -n "$prepare" ] && $prepare >/dev/null 2>>"$WORK/res/$m.$w.err"
      c0=$(cpu_ticks "$w"); t0=$EPOCHREALTIME
      if CREDS_FOR_REG=$(push_creds_for "$w") PULL_CREDS=$(pull_creds_for "$w") "${NI[@]}" "$OPS" "$1" "$(addr_of "$w")" "${@:2}" \
           >/dev/null 2>>"$WORK/res/$m.$w.err"; then
        t1=$EPOCHREALTIME; c1=$(cpu_ticks "$w")
        if [ "$round" -ge 1 ]; then
          awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}' >>"$WORK/res/$m.$w.times"
          awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" 'BEGIN {printf "%.3f\n", (b - a) / hz}' >>"$WORK/res/$m.$w.cpu"
        fi
      else
        log "  $m on $w FAILED: $(tail -3 "$WORK/res/$m.$w.err")"; echo NA >>"$WORK/res/$m.$w.times"
      fi
    done
  done
  for w in "${WHOS[@]}"; do
    if grep -q NA "$WORK/res/$m.$w.times"; then put_res "$m" "$w" NA; continue; fi
    put_res "$m" "$w" "$(sort -n "$WORK/res/$m.$w.times" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
    put_res "spread_$m" "$w" "$(sort -n "$WORK/res/$m.$w.times" | awk 'NR == 1 {a = $1} {z = $1} END {print a "-" z}')"
    put_res "cpu_$m" "$w" "$(sort -n "$WORK/res/$m.$w.cpu" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
  done
}
# CPU time (user + system, all threads) a registry's process used so far, in clock ticks: the server's own cost of a
# run, which the machine's load moves far less than the wall time.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {
  local pid
  case $1 in ref) pid=$(cat "$ANCHORS_DIR/reference-$REF_PORT/pid") ;; refa) pid=$REFA_PID ;; berth) pid=$BERTH_PID ;; base) pid=$BASE_PID ;; sink) pid=$SINK_PID ;; esac
  # Fields after "pid (comm) ": utime and stime are the 12th and 13th.
  sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'
}

# RSS in KiB from /proc without forking (the sampler runs every 100 ms during one untimed push big to Berth).
rss_kb() {
  local key value _
  while read -r key value _; do [ "$key" = VmRSS: ] && { echo "$value"; return 0; }; done < "/proc/$BERTH_PID/status" || true
}
start_sampler() { ( set +e; while kill -0 "$BERTH_PID" 2>/dev/null; do rss_kb; sleep 0.1; done ) > "$WORK/rss.txt" & SAMPLER_PID=$!; }
stop_sampler() { kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""; }

rate() { # rate METRIC WHO TOOL URL [curl-style headers...] : requests/s, 32 connections, DUR seconds
  local m=$1 who=$2 tool=$3 url=$4; shift 4
  local out bad rps h=()
  log "$m on $who ($tool, ${DUR}s)"
  put_res "load_$m" "$who" "$(load1)"
  for x in "$@"; do h+=(-H "$x"); done
  if [ "$tool" = wrk ]; then
    out=$("${NI[@]}" wrk -t2 -c32 -d"${DUR}s" ${h[@]+"${h[@]}"} "$url" 2>&1 || true)
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    bad=$(awk '/Non-2xx or 3xx responses/ {print $NF}' <<<"$out")
  else
    out=$("${NI[@]}" ab -q -k -i -c32 -t "$DUR" -n 10000000 ${h[@]+"${h[@]}"} "$url" 2>&1 || true)
    rps=$(awk '/^Requests per second/ {print $4}' <<<"$out")
    bad=$(awk '/^Non-2xx responses/ {print $3}' <<<"$out")
  fi
  [ -n "$rps" ] || { log "  FAILED: $(tail -3 <<<"$out")"; rps=NA; }
  if [ -n "$bad" ] && [ "$bad" != 0 ]; then log "  WARNING: $bad non-2xx responses"; rps="$rps!"; fi
  put_res "$m" "$who" "$rps"
}

# ---------------------------------------------------------------- measurements
# Each measurement runs on every registry in turn (reference, reference with htpasswd, Berth), so all see the same
# machine state.
# 1. pushes, each run into a fresh repository: skopeo of big (then one more, untimed, for Berth's RSS) and many, podman of big
#    and ten (blob-info cache emptied before each run), 8 skopeo pushes of different images at once.
# The big pushes run into the push sink too, in the same rounds: the clients' own cost, under every registry's.
with_sink() { WHOS+=(sink); "$@"; unset 'WHOS[-1]'; }
with_sink timed_each push_big -- push big
# Berth's memory during one more push big of its own, untimed, so the sampler's forks and /proc reads stay out of
# the timed rounds (and fall on no side's time).
sleep 1; idle=$(for _ in 1 2 3 4 5; do rss_kb; sleep 0.1; done | sort -n | sed -n 3p)
start_sampler
CREDS_FOR_REG=$CREDS "${NI[@]}" "$OPS" push "$BERTH" big >/dev/null
stop_sampler
peak=$(sort -n "$WORK/rss.txt" | tail -1)
put_res rss_idle berth "$(awk -v i="$idle" 'BEGIN {printf "%.1f", i * 1024 / 1e6}')"
put_res rss berth "$(awk -v p="$peak" -v i="$idle" 'BEGIN {printf "%.1f", (p - i) * 1024 / 1e6}')"
log "Berth RSS idle $((idle / 1024)) MiB, peak during push big $((peak / 1024)) MiB ($(wc -l < "$WORK/rss.txt") samples)"
timed_each push_many -- push many
with_sink timed_each ppush_big --prepare "$OPS reset -" -- ppush big
timed_each ppush_ten --prepare "$OPS reset -" -- ppush ten
timed_each push8 -- push8

# 2. seed the images the pulls and small requests read
for w in "${WHOS[@]}"; do
  log "seeding $w"
  for x in big:src-big many:src-many tiny:small ten:src-ten $(for i in $MULTI; do echo "multi-$i:src-multi-$i"; done); do
    CREDS_FOR_REG=$(push_creds_for "$w") "$OPS" seed "$(addr_of "$w")" "${x%%:*}" "${x#*:}"
  done
  c=(); [ -n "$(pull_creds_for "$w")" ] && c=(-u "$CREDS")
  sum=$(curl -fsSL ${c[@]+"${c[@]}"} "http://$(addr_of "$w")/v2/$P/src-big/blobs/$BIG_L" | sha256sum | cut -d' ' -f1)
  [ "sha256:$sum" = "$BIG_L" ] || { log "$w: GET of the big blob returned wrong content"; exit 1; }
done

# 3. pulls (anonymous on Berth), blob GET, monolithic PUT
timed_each pull_big -- pull big
timed_each pull_many -- pull many
timed_each ppull_ten --prepare "$OPS reset -" -- ppull ten
timed_each pull16 -- pull16
TIMED_RUNS=$GET_RUNS timed_each get_big --warmup 1 -- get
timed_each put_big -- put
# With blobs in s3rver: the same s3rver alone, the big layer up (one multipart upload, parts as Berth cuts them) and
# down, without Berth: the floor under Berth's S3 rows.
if [ -n "$S3_PID" ]; then
  log "s3rver alone: the big layer up and down, $RUNS times"
  "${NI[@]}" node "$ROOT/bench/s3-floor.mjs" "http://127.0.0.1:$(cat "$WORK/s3.port")" berth-bench "$BIG_F" "$RUNS" \
    "${BERTH_S3_PART_SIZE_MIB:-8}" >"$WORK/res/floor.txt" 2>"$WORK/res/floor.err" || log "  FAILED: $(tail -3 "$WORK/res/floor.err")"
fi

# 4. small requests: manifest GET by tag and blob HEAD anonymous; /v2/ with Basic credentials on Berth
#    (anonymous /v2/ is a 401 there); plus manifest GET with credentials, as clients that log in send them.
#    The reference with htpasswd gets credentials on every request (it answers 401 without them).
ACC='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
AUTH="Authorization: Basic $(printf %s "$CREDS" | base64 -w0)"
auth_unless_ref() { [ "$1" = ref ] || echo "$AUTH"; }
auth_if_refa() { [ "$1" = refa ] && echo "$AUTH" || true; }
for w in "${WHOS[@]}"; do mapfile -t a < <(auth_unless_ref "$w"); rate v2 "$w" wrk "http://$(addr_of "$w")/v2/" ${a[@]+"${a[@]}"}; done
for w in "${WHOS[@]}"; do mapfile -t a < <(auth_if_refa "$w"); rate manifest_get "$w" wrk "http://$(addr_of "$w")/v2/$P/small/manifests/latest" "$ACC" ${a[@]+"${a[@]}"}; done
for w in "${WHOS[@]}"; do mapfile -t a < <(auth_if_refa "$w"); rate blob_head "$w" ab "http://$(addr_of "$w")/v2/$P/small/blobs/$TINY_L" ${a[@]+"${a[@]}"}; done
for w in "${WHOS[@]}"; do mapfile -t a < <(auth_unless_ref "$w"); rate manifest_get_auth "$w" wrk "http://$(addr_of "$w")/v2/$P/small/manifests/latest" "$ACC" ${a[@]+"${a[@]}"}; done
kill -0 "$BERTH_PID" 2>/dev/null || { log "Berth died during the bench"; tail -20 "$WORK/berth.log" >&2; exit 1; }
errs=$(grep -c '"level":[56]0' "$WORK/berth.log" || true)

# ---------------------------------------------------------------- table
# kind: t = time, the ratio must be <= its targets; r = requests/s, ratio must be >= target; ti / ri = info only.
# Targets: against the reference without auth, then against the reference with htpasswd ("" = none).
rows=(
  "push_big|t|1.0|0.8|skopeo push big (1x256 MiB), s"
  "ppush_big|t|1.0|0.8|podman push big (1x256 MiB), s"
  "push_many|ti|||skopeo push many (50x1 MiB), s"
  "ppush_ten|ti|||podman push ten (10x2 MiB), s"
  "push8|ti|||8 skopeo pushes at once (2x4 MiB each), s"
  "pull_big|t|1.0||skopeo pull big, s"
  "pull_many|t|1.0||skopeo pull many, s"
  "ppull_ten|ti|||podman pull ten (10x2 MiB), s"
  "pull16|ti|||16 skopeo pulls at once (2x4 MiB each), s"
  "get_big|t|1.0||curl GET 256 MiB blob, s"
  "put_big|t|0.4||curl monolithic PUT 256 MiB, s"
  "manifest_get|r|5||manifest GET by tag, req/s"
  "blob_head|r|5||blob HEAD, req/s"
  "v2|ri|||/v2/ (Berth: with creds), req/s"
  "manifest_get_auth|ri|||manifest GET (Berth: with creds), req/s"
)
fmt() { awk -v v="$1" -v k="$2" 'BEGIN { if (v ~ /^[0-9.]+$/) printf (k ~ /^t/ ? "%.3f" : "%.0f"), v; else print v }'; }
cell() { # cell METRIC WHO KIND: the median, and for times the spread "min-max"
  local v s; v=$(get_res "$1" "$2"); v=${v%!}
  s=$(get_res "spread_$1" "$2")
  if [[ $3 == t* && $s == *-* ]]; then printf '%s (%s-%s)' "$(fmt "$v" t)" "$(fmt "${s%-*}" t)" "$(fmt "${s#*-}" t)"; else fmt "$v" "$3"; fi
}
ratio_of() { awk -v r="$1" -v b="$2" 'BEGIN { if (r ~ /^[0-9.]+$/ && r > 0 && b ~ /^[0-9.]+$/) printf "%.2f", b / r; else print "NA" }'; }
meets() { # meets KIND RATIO TARGET
  [ -z "$3" ] && return 0
  case $1 in
    t) awk -v x="$2" -v t="$3" 'BEGIN { exit !(x != "NA" && x + 0 <= t + 0) }' ;;
    r) awk -v x="$2" -v t="$3" 'BEGIN { exit !(x != "NA" && x + 0 >= t + 0) }' ;;
  esac
}
floor_row() { # floor_row LABEL COLUMN METRIC METRIC_LABEL: a column of floor.txt as median (min-max), and its ratio to ref's METRIC
  local med
  med=$(awk -v c="$2" '{print $c}' "$WORK/res/floor.txt" | sort -n | awk '{v[NR]=$1} END {printf "%.3f (%.3f-%.3f)", v[int((NR+1)/2)], v[1], v[NR]}')
  printf '  %-41s %23s %6s of the reference'"'"'s %s\n' "$1" "$med" "$(ratio_of "$(get_res "$3" ref | tr -d '!')" "${med%% *}")x" "$4"
}
row() { printf '%-41s %23s %23s %23s %6s %6s %11s  %-6s %s\n' "$@"; }
table() {
  local pass=0 total=0 line m kind t1 t2 label r ra b r1 r2 verdict tgt_s loads w
  echo "Berth $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -n "$(git -C "$ROOT" status --porcelain -- registry 2>/dev/null)" ] && echo ' + uncommitted registry/ changes') on $BERTH_DB vs reference docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}'), $(date -u +%FT%TZ)"
  echo "RUNS=$RUNS (GET: $GET_RUNS) SECONDS=$DUR, $(nproc) CPUs, nice $NICE, load before start $LOAD0, after $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "times: median (min-max) of the rounds in s; ratios Berth/reference without auth (/ref) and with htpasswd (/refa); load: 1-min load average at the start of each side's measurement"
  row metric "ref (no auth)" "refa (htpasswd)" Berth /ref /refa target result load
  for line in "${rows[@]}"; do
    IFS='|' read -r m kind t1 t2 label <<<"$line"
    r=$(get_res "$m" ref); ra=$(get_res "$m" refa); b=$(get_res "$m" berth)
    r1=$(ratio_of "${r%!}" "${b%!}"); r2=$(ratio_of "${ra%!}" "${b%!}")
    loads=$(for w in "${WHOS[@]}"; do get_res "load_$m" "$w"; done | sort -n | awk 'NR==1 {a=$1} {z=$1} END {print a "-" z}')
    case $kind in
      t|r) tgt_s=$([ "$kind" = t ] && echo "<=" || echo ">=")$t1${t2:+/$t2}
           if meets "$kind" "$r1" "$t1" && meets "$kind" "$r2" "$t2"; then verdict=pass; else verdict=FAIL; fi ;;
      *) tgt_s="-"; verdict=info ;;
    esac
    case "$r$ra$b" in *!*) case $kind in t|r) verdict=FAIL ;; esac; verdict="$verdict (non-2xx answers)" ;; esac
    case $kind in t|r) total=$((total + 1)); [ "$verdict" = pass ] && pass=$((pass + 1)) ;; esac
    row "$label" "$(cell "$m" ref "$kind")" "$(cell "$m" refa "$kind")" "$(cell "$m" berth "$kind")" "${r1}x" "${r2}x" "$tgt_s" "$verdict" "$loads"
  done
  b=$(get_res rss berth)
  verdict=$(awk -v x="$b" 'BEGIN { print (x ~ /^[0-9.]+$/ && x + 0 < 150) ? "pass" : "FAIL" }')
  total=$((total + 1)); [ "$verdict" = pass ] && pass=$((pass + 1))
  row "Berth RSS peak-idle during push big, MB" - - "$b" - - "<150" "$verdict" ""
  row "Berth RSS idle before it, MB" - - "$(get_res rss_idle berth)" - - - info ""
  if [ -n "$BASE_PID" ]; then
    echo "baseline ($BENCH_BASELINE), same runs: median (min-max), ratio to the reference with htpasswd"
    for line in "${rows[@]}"; do
      IFS='|' read -r m kind _ _ label <<<"$line"
      printf '  %-41s %23s %6s\n' "$label" "$(cell "$m" base "$kind")" "$(ratio_of "$(get_res "$m" refa | tr -d '!')" "$(get_res "$m" base | tr -d '!')")x"
    done
  fi
  echo "push sink (bench/push-sink.mjs: reads every byte and keeps nothing; no auth, no hashing, no storage), same rounds:"
  echo "  the client's own cost, under any registry's push: median (min-max), ratio to the reference without / with htpasswd"
  for m in push_big ppush_big; do
    label=$(printf '%s\n' "${rows[@]}" | awk -F'|' -v m="$m" '$1 == m {print $5}')
    printf '  %-41s %23s %6s %6s\n' "$label" "$(cell "$m" sink t)" "$(ratio_of "$(get_res "$m" ref | tr -d '!')" "$(get_res "$m" sink)")x" \
      "$(ratio_of "$(get_res "$m" refa | tr -d '!')" "$(get_res "$m" sink)")x"
  done
  echo "server CPU per run (user + system, median of the rounds), s:"
  printf '  %-41s %9s %9s %9s %9s\n' "" "${WHOS[@]}"
  for line in "${rows[@]}"; do
    IFS='|' read -r m kind _ _ label <<<"$line"
    [[ $kind == t* ]] || continue
    printf '  %-41s' "$label"; for w in "${WHOS[@]}"; do printf ' %9s' "$(get_res "cpu_$m" "$w")"; done; echo
  done
  if [ -s "$WORK/res/floor.txt" ]; then
    echo "s3rver alone, no Berth (the floor under Berth's S3 rows), $(wc -l < "$WORK/res/floor.txt") runs, median (min-max) in s, ratio to the reference:"
    floor_row "multipart upload of the big layer" 2 push_big "skopeo push big"
    floor_row "GET of the big layer" 4 get_big "curl GET"
  fi
  echo "targets met: $pass/$total; Berth error-level log lines: ${errs:-0}"
}
table | tee ${BENCH_OUT:+"$BENCH_OUT"}
