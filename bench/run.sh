#!/usr/bin/env bash
# Berth vs. the reference registry (CNCF distribution via Debian's docker-registry), measured in the same run.
# Usage: [RUNS=3] [SECONDS=5] bench/run.sh        (see bench/README.md)
# Env:  RUNS            hyperfine runs per push/pull/GET/PUT measurement (default 3)
#       SECONDS         duration of each requests/s measurement (default 5)
#       BERTH_ANCHORS   directory of the anchor scripts (default <repo>/../shared/anchors)
#       BENCH_IMAGES    cache of the generated OCI layouts (default ${TMPDIR:-/tmp}/berth-bench-images; kept)
#       BENCH_OUT       also write the final table to this file
#       BENCH_STORAGE   fs (default) or s3: Berth's blobs in s3rver (the reference stays on its filesystem)
#       BENCH_KEEP      copy the raw results (hyperfine JSON, RSS samples, Berth's log) into this directory
# bash keeps SECONDS ticking from the value it inherited: read it before anything else happens.
DUR=$SECONDS
set -euo pipefail
[ "${DUR:-0}" -gt 0 ] 2>/dev/null || DUR=5
RUNS=${RUNS:-3}
GET_RUNS=$(( RUNS * 3 > 10 ? RUNS * 3 : 10 ))   # one GET takes ~0.2 s: more runs, still cheap
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

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
BERTH_PID=""; SAMPLER_PID=""; REF_PORT=""; S3_PID=""
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
  [ -n "$S3_PID" ] && kill "$S3_PID" 2>/dev/null
  if [ -n "$BERTH_PID" ] && kill -0 "$BERTH_PID" 2>/dev/null; then
    kill "$BERTH_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$BERTH_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$BERTH_PID" 2>/dev/null && kill -9 "$BERTH_PID"
  fi
  [ -n "$REF_PORT" ] && "$ANCH/reference-registry.sh" stop "$REF_PORT" >/dev/null 2>&1
  if [ -n "${BENCH_KEEP:-}" ]; then
    mkdir -p "$BENCH_KEEP" && cp -r "$WORK/res" "$BENCH_KEEP/" && cp "$WORK"/berth.log "$WORK"/rss.txt "$BENCH_KEEP/" 2>/dev/null
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools, build
for t in docker-registry skopeo hyperfine wrk ab jq curl; do
  command -v "$t" >/dev/null || { log "missing $t: running install-tools.sh"; "$ANCH/install-tools.sh" >&2; break; }
done
[ -d "$ROOT/node_modules" ] || { log "no node_modules: run npm ci first"; exit 1; }
MAIN=$ROOT/dist/registry/main.js
if [ ! -f "$MAIN" ] || [ -n "$(find "$ROOT/registry" -newer "$MAIN" -print -quit)" ]; then
  log "building Berth (npm run build)"; (cd "$ROOT" && npm run build >&2)
fi

log "building the OCI layouts (cached in $IMAGES)"
"$ANCH/make-images.sh" >&2
manifest_of() { echo "$IMAGES/$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$IMAGES/$1/index.json" | cut -d: -f2)"; }
BIG_L=$(jq -r '.layers[0].digest' "$(manifest_of big)")
BIG_F=$IMAGES/big/blobs/sha256/${BIG_L#sha256:}
TINY_L=$(jq -r '.layers[0].digest' "$(manifest_of tiny)")

# ---------------------------------------------------------------- start both registries
read -r REF_PORT BERTH_PORT < <(node -e '
  const net = require("net"); const ports = [];
  const grab = () => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => {
    ports.push(s.address().port); s.close(() => ports.length < 2 ? grab() : console.log(ports.join(" "))); }); };
  grab();')
REF=127.0.0.1:$REF_PORT; BERTH=127.0.0.1:$BERTH_PORT
"$ANCH/reference-registry.sh" start "$REF_PORT" >&2
mkdir -p "$WORK/berth-data"
STORAGE_ENV=()
if [ "${BENCH_STORAGE:-fs}" = s3 ]; then
  # Berth's blobs in s3rver (a real S3 server in Node). The reference stays on its filesystem: distribution's S3
  # driver needs ListMultipartUploads, which s3rver answers with 501, so it cannot run against the same server.
  mkdir -p "$WORK/s3"
  node -e '
    const S3rver = require(process.argv[1]);
    new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: process.argv[2], configureBuckets: [{ name: "berth-bench" }] })
      .run().then(({ port }) => console.log(port));' "$ROOT/node_modules/s3rver" "$WORK/s3" >"$WORK/s3.port" &
  S3_PID=$!
  for _ in $(seq 1 50); do [ -s "$WORK/s3.port" ] && break; sleep 0.1; done
  STORAGE_ENV=(BERTH_STORAGE=s3 "BERTH_S3_ENDPOINT=http://127.0.0.1:$(cat "$WORK/s3.port")" BERTH_S3_BUCKET=berth-bench BERTH_S3_ACCESS_KEY=S3RVER BERTH_S3_SECRET_KEY=S3RVER)
  log "Berth stores blobs in s3rver on port $(cat "$WORK/s3.port") (pid $S3_PID)"
fi
# No anonymous rate limit (the reference registry has none: the comparison measures throughput, not policy) and no
# metrics listener (nothing here scrapes it; its default port could be taken on a shared machine).
env -u BERTH_DATABASE_URL BERTH_ADDR=$BERTH BERTH_DATA_DIR="$WORK/berth-data" BERTH_ADMIN_PASSWORD="$PASS" \
  BERTH_ANONYMOUS_RATE_PER_SECOND=0 BERTH_METRICS_ADDR=off BERTH_LOG_LEVEL=warn BERTH_CONTROLLER_REPO=off "${STORAGE_ENV[@]}" node "$MAIN" serve >"$WORK/berth.log" 2>&1 &
BERTH_PID=$!
for i in $(seq 1 300); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$BERTH/v2/" || true)
  [ "$code" = 401 ] || [ "$code" = 200 ] && break
  kill -0 "$BERTH_PID" 2>/dev/null || { log "Berth exited:"; tail -20 "$WORK/berth.log" >&2; exit 1; }
  [ "$i" = 300 ] && { log "Berth did not answer on $BERTH"; tail -20 "$WORK/berth.log" >&2; exit 1; }
  sleep 0.1
done
log "reference on $REF, Berth on $BERTH (pid $BERTH_PID, PGlite, data $WORK/berth-data)"

# ---------------------------------------------------------------- helpers
# One helper script for the timed commands, so hyperfine only has to run "ops.sh VERB REG".
# Pushes and uploads carry credentials (CREDS_FOR_REG); pulls and GETs are anonymous (library is public).
cat > "$WORK/ops.sh" <<'EOS'
#!/usr/bin/env bash
set -euo pipefail
verb=$1 reg=$2; c=(); sc=(); [ -n "${CREDS_FOR_REG:-}" ] && { c=(-u "$CREDS_FOR_REG"); sc=(--dest-creds "$CREDS_FOR_REG"); }
case $verb in
  push) "$SK" copy -q --dest-tls-verify=false "${sc[@]}" "oci:$IMAGES/$3:latest" "docker://$reg/$P/push-$3-$(date +%s%N):latest" ;;
  seed) "$SK" copy -q --dest-tls-verify=false "${sc[@]}" "oci:$IMAGES/$3:latest" "docker://$reg/$P/$4:latest" ;;
  pull) rm -rf "$PULLED/$3"; "$SK" copy -q --src-tls-verify=false "docker://$reg/$P/src-$3:latest" "oci:$PULLED/$3:latest" ;;
  get)  curl -fsS -o /dev/null "http://$reg/v2/$P/src-big/blobs/$BIG_L" ;;
  put)
    loc=$(curl -fsS "${c[@]}" -X POST -o /dev/null -D - "http://$reg/v2/$P/put-$(date +%s%N)/blobs/uploads/" \
          | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
    case $loc in http*) ;; *) loc=http://$reg$loc ;; esac
    case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
    curl -fsS "${c[@]}" -o /dev/null -X PUT -H 'Expect:' -H 'Content-Type: application/octet-stream' \
         -T "$BIG_F" "$loc${sep}digest=$BIG_L" ;;
esac
EOS
chmod +x "$WORK/ops.sh"
export SK=$ANCH/skopeo-iso.sh IMAGES P BIG_L BIG_F PULLED=$WORK/pulled
OPS=$WORK/ops.sh

creds_for() { [ "$1" = berth ] && echo "$CREDS" || echo ""; }
addr_of() { [ "$1" = berth ] && echo "$BERTH" || echo "$REF"; }
put_res() { echo "$3" > "$WORK/res/$1.$2"; }                     # put_res METRIC WHO VALUE
get_res() { cat "$WORK/res/$1.$2" 2>/dev/null || echo NA; }

timed() { # timed METRIC WHO [hyperfine options --] ARGS... : median seconds over RUNS
  local m=$1 who=$2; shift 2
  local hopts=(); while [ "$1" != -- ]; do hopts+=("$1"); shift; done; shift
  local cmd; cmd=$(printf '%q ' "$OPS" "$1" "$(addr_of "$who")" "${@:2}")
  log "$m on $who"
  if CREDS_FOR_REG=$(creds_for "$who") hyperfine -N --runs "${TIMED_RUNS:-$RUNS}" --style none "${hopts[@]}" \
       --export-json "$WORK/res/$m.$who.json" -n "$m" "$cmd" >/dev/null 2>"$WORK/res/$m.$who.err"; then
    put_res "$m" "$who" "$(jq -r '.results[0].median' "$WORK/res/$m.$who.json")"
  else
    log "  FAILED: $(tail -3 "$WORK/res/$m.$who.err")"; put_res "$m" "$who" NA
  fi
}

rss_kb() { ps -o rss= -p "$BERTH_PID" | tr -d ' '; }
start_sampler() { ( while kill -0 "$BERTH_PID" 2>/dev/null; do rss_kb; sleep 0.1; done ) > "$WORK/rss.txt" & SAMPLER_PID=$!; }
stop_sampler() { kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""; }

rate() { # rate METRIC WHO TOOL URL [curl-style headers...] : requests/s, 32 connections, DUR seconds
  local m=$1 who=$2 tool=$3 url=$4; shift 4
  local out bad rps
  log "$m on $who ($tool, ${DUR}s)"
  if [ "$tool" = wrk ]; then
    local h=(); for x in "$@"; do h+=(-H "$x"); done
    out=$(wrk -t2 -c32 -d"${DUR}s" "${h[@]}" "$url" 2>&1 || true)
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    bad=$(awk '/Non-2xx or 3xx responses/ {print $NF}' <<<"$out")
  else
    local h=(); for x in "$@"; do h+=(-H "$x"); done
    out=$(ab -q -k -i -c32 -t "$DUR" -n 10000000 "${h[@]}" "$url" 2>&1 || true)
    rps=$(awk '/^Requests per second/ {print $4}' <<<"$out")
    bad=$(awk '/^Non-2xx responses/ {print $3}' <<<"$out")
  fi
  [ -n "$rps" ] || { log "  FAILED: $(tail -3 <<<"$out")"; rps=NA; }
  if [ -n "$bad" ] && [ "$bad" != 0 ]; then log "  WARNING: $bad non-2xx responses"; rps="$rps!"; fi
  put_res "$m" "$who" "$rps"
}

# ---------------------------------------------------------------- measurements
# Each measurement runs on the reference, then on Berth, so both see the same machine state.
# 1. skopeo push of big (Berth's RSS sampled meanwhile) and many, each run into a fresh repository.
timed push_big ref -- push big
sleep 1; idle=$(for _ in 1 2 3 4 5; do rss_kb; sleep 0.1; done | sort -n | sed -n 3p)
start_sampler
timed push_big berth -- push big
stop_sampler
peak=$(sort -n "$WORK/rss.txt" | tail -1)
put_res rss_idle berth "$(awk -v i="$idle" 'BEGIN {printf "%.1f", i * 1024 / 1e6}')"
put_res rss berth "$(awk -v p="$peak" -v i="$idle" 'BEGIN {printf "%.1f", (p - i) * 1024 / 1e6}')"
log "Berth RSS idle $((idle / 1024)) MiB, peak during push big $((peak / 1024)) MiB ($(wc -l < "$WORK/rss.txt") samples)"
for w in ref berth; do timed push_many "$w" -- push many; done

# 2. seed the images the pulls and small requests read
for w in ref berth; do
  for x in big:src-big many:src-many tiny:small; do
    CREDS_FOR_REG=$(creds_for "$w") "$OPS" seed "$(addr_of "$w")" "${x%%:*}" "${x#*:}"
  done
  sum=$(curl -fsS "http://$(addr_of "$w")/v2/$P/src-big/blobs/$BIG_L" | sha256sum | cut -d' ' -f1)
  [ "sha256:$sum" = "$BIG_L" ] || { log "$w: anonymous GET of the big blob returned wrong content"; exit 1; }
done

# 3. pulls (anonymous), blob GET, monolithic PUT
for w in ref berth; do timed pull_big "$w" -- pull big; done
for w in ref berth; do timed pull_many "$w" -- pull many; done
for w in ref berth; do TIMED_RUNS=$GET_RUNS timed get_big "$w" --warmup 1 -- get; done
for w in ref berth; do timed put_big "$w" -- put; done

# 4. small requests: manifest GET by tag and blob HEAD anonymous; /v2/ with Basic credentials on Berth
#    (anonymous /v2/ is a 401 there); plus manifest GET with credentials, as clients that log in send them.
ACC='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
AUTH="Authorization: Basic $(printf %s "$CREDS" | base64 -w0)"
for w in ref berth; do
  a=(); [ "$w" = berth ] && a=("$AUTH")
  rate v2 "$w" wrk "http://$(addr_of "$w")/v2/" "${a[@]}"
done
for w in ref berth; do rate manifest_get "$w" wrk "http://$(addr_of "$w")/v2/$P/small/manifests/latest" "$ACC"; done
for w in ref berth; do rate blob_head "$w" ab "http://$(addr_of "$w")/v2/$P/small/blobs/$TINY_L"; done
for w in ref berth; do
  a=(); [ "$w" = berth ] && a=("$AUTH")
  rate manifest_get_auth "$w" wrk "http://$(addr_of "$w")/v2/$P/small/manifests/latest" "$ACC" "${a[@]}"
done
kill -0 "$BERTH_PID" 2>/dev/null || { log "Berth died during the bench"; tail -20 "$WORK/berth.log" >&2; exit 1; }
errs=$(grep -c '"level":[56]0' "$WORK/berth.log" || true)

# ---------------------------------------------------------------- table
# kind: t = time, ratio must be <= target; r = requests/s, ratio must be >= target; ti / ri = the same, info only
rows=(
  "push_big|t|0.6|skopeo push big (1x256 MiB), s"
  "push_many|ti||skopeo push many (50x1 MiB), s"
  "pull_big|t|1.0|skopeo pull big, s"
  "pull_many|t|1.0|skopeo pull many, s"
  "get_big|t|1.0|curl GET 256 MiB blob, s"
  "put_big|t|0.4|curl monolithic PUT 256 MiB, s"
  "manifest_get|r|5|manifest GET by tag, req/s"
  "blob_head|r|5|blob HEAD, req/s"
  "v2|ri||/v2/ (Berth: with creds), req/s"
  "manifest_get_auth|ri||manifest GET (Berth: with creds), req/s"
)
fmt() { awk -v v="$1" -v k="$2" 'BEGIN { if (v ~ /^[0-9.]+$/) printf (k ~ /^t/ ? "%.3f" : "%.0f"), v; else print v }'; }
row() { printf '%-41s %10s %10s %7s %7s  %s\n' "$@"; }
table() {
  local pass=0 total=0 line m kind tgt label r b ratio verdict tgt_s
  echo "Berth $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -n "$(git -C "$ROOT" status --porcelain -- registry 2>/dev/null)" ] && echo ' + uncommitted registry/ changes') vs reference docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}'), $(date -u +%FT%TZ)"
  echo "RUNS=$RUNS (GET: $GET_RUNS) SECONDS=$DUR, $(nproc) CPUs, load before start $LOAD0; times: hyperfine medians; ratio = Berth/reference"
  row metric reference Berth ratio target result
  for line in "${rows[@]}"; do
    IFS='|' read -r m kind tgt label <<<"$line"
    r=$(get_res "$m" ref); b=$(get_res "$m" berth)
    ratio=$(awk -v r="${r%!}" -v b="${b%!}" 'BEGIN { if (r ~ /^[0-9.]+$/ && r > 0 && b ~ /^[0-9.]+$/) printf "%.2f", b / r; else print "NA" }')
    case $kind in
      t) tgt_s="<=$tgt"; verdict=$(awk -v x="$ratio" -v t="$tgt" 'BEGIN { print (x != "NA" && x + 0 <= t + 0) ? "pass" : "FAIL" }') ;;
      r) tgt_s=">=$tgt"; verdict=$(awk -v x="$ratio" -v t="$tgt" 'BEGIN { print (x != "NA" && x + 0 >= t + 0) ? "pass" : "FAIL" }') ;;
      *) tgt_s="-"; verdict=info ;;
    esac
    case "$r$b" in *!*) case $kind in t|r) verdict=FAIL ;; esac; verdict="$verdict (non-2xx answers)" ;; esac
    case $kind in t|r) total=$((total + 1)); [ "$verdict" = pass ] && pass=$((pass + 1)) ;; esac
    row "$label" "$(fmt "${r%!}" "$kind")" "$(fmt "${b%!}" "$kind")" "${ratio}x" "$tgt_s" "$verdict"
  done
  b=$(get_res rss berth)
  verdict=$(awk -v x="$b" 'BEGIN { print (x ~ /^[0-9.]+$/ && x + 0 < 150) ? "pass" : "FAIL" }')
  total=$((total + 1)); [ "$verdict" = pass ] && pass=$((pass + 1))
  row "Berth RSS peak-idle during push big, MB" - "$b" - "<150" "$verdict"
  row "Berth RSS idle before it, MB" - "$(get_res rss_idle berth)" - - info
  echo "targets met: $pass/$total; Berth error-level log lines: ${errs:-0}"
}
table | tee ${BENCH_OUT:+"$BENCH_OUT"}
