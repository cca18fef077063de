#!/usr/bin/env bash
# The scanner's layer walk against `gzip -dc | tar -t` on the same 256 MiB gzip layer, in the same run.
# Usage: [RUNS=3] bench/scan-layer.sh                (see bench/README.md)
# Env:  RUNS          timed runs of each side; the median is reported (default 3)
#       BENCH_IMAGES  where the generated layer is cached (default ${TMPDIR:-/tmp}/berth-bench-images; kept)
#       LAYER_MIB     compressed size of the layer (default 256)
set -euo pipefail
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGES=${BENCH_IMAGES:-${TMPDIR:-/tmp}/berth-bench-images}
LAYER_MIB=${LAYER_MIB:-256}
LAYER=$IMAGES/scan-layer-${LAYER_MIB}m.tar.gz
log() { printf '[scan-layer %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-scan-layer.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$IMAGES"

# ---------------------------------------------------------------- build
DRIVER_LIB=$ROOT/dist/registry/scanning/layers/index.js
if [ ! -f "$DRIVER_LIB" ] || [ -n "$(find "$ROOT/registry/scanning" -name '*.ts' -newer "$DRIVER_LIB" -print -quit)" ]; then
  log "building Berth (npm run build)"; (cd "$ROOT" && npm run build >&2)
fi

# ---------------------------------------------------------------- the layer
# Real content an image would have: the machine's executables (Go ones among them, so the Go analyzer reads every
# executable it is offered), its os-release and dpkg database, and this project's node_modules (hundreds of npm
# packages). Random bytes top it up to LAYER_MIB, so the size does not depend on how well the rest compresses.
if [ ! -f "$LAYER" ]; then
  log "making $LAYER"
  SOURCES=(usr/bin usr/lib/os-release etc/os-release etc/debian_version var/lib/dpkg/status)
  (cd / && tar -cf - --hard-dereference "${SOURCES[@]}" 2>/dev/null) >"$WORK/os.tar" || true
  # node_modules is a symlink in worktrees: archive the directory it points to.
  MODULES=$(readlink -f "$ROOT/node_modules")
  (cd "$(dirname "$MODULES")" && tar -cf - --transform 's,^,app/,' "$(basename "$MODULES")") >"$WORK/app.tar"
  real=$(cat "$WORK/os.tar" "$WORK/app.tar" | gzip -6 | wc -c)
  target=$((LAYER_MIB * 1024 * 1024))
  fill=$(( target > real ? target - real : 0 ))
  mkdir -p "$WORK/fill/opt/data"
  head -c "$fill" /dev/urandom >"$WORK/fill/opt/data/random.bin"
  (cd "$WORK/fill" && tar -cf - opt) >"$WORK/fill.tar"
  # One archive from the three (GNU tar concatenates archives without their end-of-archive blocks).
  cp "$WORK/os.tar" "$WORK/all.tar"
  tar -Af "$WORK/all.tar" "$WORK/app.tar"
  tar -Af "$WORK/all.tar" "$WORK/fill.tar"
  gzip -6 <"$WORK/all.tar" >"$LAYER.tmp" && mv "$LAYER.tmp" "$LAYER"
  rm -f "$WORK"/*.tar "$WORK/fill/opt/data/random.bin"
fi
SIZE=$(stat -c %s "$LAYER")
TAR_BYTES=$(gzip -dc "$LAYER" | wc -c)
log "layer: $SIZE bytes gzip, $TAR_BYTES bytes of tar, $(gzip -dc "$LAYER" | tar -t | wc -l) entries"

# ---------------------------------------------------------------- timing
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$WORK/tar.times"; : >"$WORK/berth.times"; : >"$WORK/berth.inproc"
for i in $(seq 1 "$RUNS"); do
  t0=$(now); gzip -dc "$LAYER" | tar -t >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$WORK/tar.times"
  t0=$(now); node "$ROOT/bench/scan-layer.cjs" "$LAYER" >"$WORK/out.json"; t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$WORK/berth.times"
  node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).seconds + "\n")' "$WORK/out.json" >>"$WORK/berth.inproc"
  log "run $i: tar $(tail -1 "$WORK/tar.times") s, berth $(tail -1 "$WORK/berth.times") s"
done
TAR_S=$(median <"$WORK/tar.times")
BERTH_S=$(median <"$WORK/berth.times")
INPROC_S=$(median <"$WORK/berth.inproc")
RATIO=$(echo "$BERTH_S / $TAR_S" | bc -l)
RESULT=$(echo "$RATIO <= 1.5" | bc -l | sed 's/1/pass/;s/0/FAIL/')
printf '%-44s %10s\n' "gzip -dc | tar -t, s (median of $RUNS)" "$(printf %.3f "$TAR_S")"
printf '%-44s %10s\n' "inventoryOfLayer (node, whole process), s" "$(printf %.3f "$BERTH_S")"
printf '%-44s %10s\n' "inventoryOfLayer (in process), s" "$(printf %.3f "$INPROC_S")"
printf '%-44s %9sx  target <=1.5  %s\n' "ratio (whole process)" "$(printf %.2f "$RATIO")" "$RESULT"
echo "found: $(cat "$WORK/out.json")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
