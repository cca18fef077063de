# Shared by the benches that run the built Berth against a fresh PostgreSQL database with a compiled TypeScript
# driver (soak.sh, scan-bench.sh). The caller sets ROOT, PG and log() before sourcing it.

# Builds dist/ when a source under registry/ is newer than it.
ensure_built() {
  local main=$ROOT/dist/registry/main.js
  if [ ! -f "$main" ] || [ -n "$(find "$ROOT/registry" -newer "$main" -print -quit)" ]; then
    log "building Berth (npm run build)"; (cd "$ROOT" && npm run build >&2)
  fi
}

# Sets WORK (a temp dir named $1.XXXXXX) and DB (a fresh database name starting with $2), and traps exit: the driver
# ($DRIVER_PID, once set) is stopped, the database dropped (once $DB_MADE is set), the files of WORK matching the
# patterns after $3 copied into directory $3 when it is not empty, and WORK removed.
bench_workspace() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  DB=$2_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  DRIVER_PID=""; DB_MADE=""
  KEEP_DIR=$3; shift 3; KEEP_PATTERNS=("$@")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local rc=$? pattern
  set +e
  trap - EXIT INT TERM
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill "$DRIVER_PID"; wait "$DRIVER_PID" 2>/dev/null     # the driver stops what it started on exit
  fi
  [ -n "$DB_MADE" ] && psql "$PG" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
  if [ -n "$KEEP_DIR" ]; then
    mkdir -p "$KEEP_DIR"
    for pattern in "${KEEP_PATTERNS[@]}"; do cp "$WORK"/$pattern "$KEEP_DIR/" 2>/dev/null; done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
