#!/usr/bin/env bash
# Smoke test of the packed library, from outside this repository.
#
# Builds and `npm pack`s nestjs-data-export, then for each host below installs the .tgz into a
# fresh temporary project with the host's own framework versions, compiles the host app in
# scripts/smoke-host/src with TypeScript 5.9.3 and runs it with node. The host boots TypeORM +
# ExportModule, seeds two accounts, runs one export through the real Bull worker and checks the
# stored ZIP (unzip -t, manifest counts, exact NDJSON rows, no canary, sha256). See
# scripts/smoke-host/src/main.ts.
#
#   nest12-cjs-postgres   Nest 12, CommonJS host (tsc module nodenext, "type": "commonjs"), PostgreSQL
#   nest12-esm-mariadb    Nest 12, ESM host ("type": "module", named ESM imports), MariaDB (mysql2)
#   nest11-cjs-sqlite     Nest 11, CommonJS host (tsc module commonjs, node10 resolution), better-sqlite3
#
# The two Nest 12 hosts share one install: <tmp>/nest12/{cjs,esm}/ each have their own
# package.json ("type") and tsconfig.json, and resolve node_modules from <tmp>/nest12.
#
# Needs: node >= 20.19 (require(esm) of Nest 12), npm, unzip, psql, mysql, and these services:
#   PostgreSQL  postgres://postgres@127.0.0.1:5432/data_export_smoke  (created if missing)
#   MariaDB     mysql://root@127.0.0.1:3306/data_export_smoke         (created if missing)
#   Redis       $REDIS_URL or redis://127.0.0.1:6379; databases 11, 12 and 13 are used, one per
#               scenario, and the export queue's keys are removed at the end of each scenario.
# The schema of both smoke databases is dropped and recreated on every run.
#
# Usage: bash scripts/smoke-packed.sh   (or npm run test:smoke); SMOKE_KEEP=1 keeps the temp dir.
# Output: one `smoke: <scenario> ok (<rows> rows, <bytes> bytes)` line per scenario on stdout,
# progress on stderr. Exits non-zero at the first failure, with the failing step's log.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST_DIR="$REPO_DIR/scripts/smoke-host"

PG_DB=data_export_smoke
PG_URL="postgres://postgres@127.0.0.1:5432/$PG_DB"
MARIADB_DB=data_export_smoke
MARIADB_URL="mysql://root@127.0.0.1:3306/$MARIADB_DB"
REDIS_BASE="${REDIS_URL:-redis://127.0.0.1:6379}"
REDIS_BASE="${REDIS_BASE%/}"
# Drop a database index from the URL: each scenario picks its own.
if [[ "$REDIS_BASE" =~ ^(redis(s)?://.*[^/])/[0-9]+$ ]]; then REDIS_BASE="${BASH_REMATCH[1]}"; fi
# Longest a host app may run (boot, seed, export, checks, close).
HOST_TIMEOUT=180

log() { printf 'smoke-packed: %s\n' "$*" >&2; }
die() {
  printf 'smoke-packed: FAILED: %s\n' "$*" >&2
  exit 1
}

# spawn <dir> <stdout file> <stderr file> <command...>: runs the command in <dir>, in a process
# group of its own, and waits for it. A signal to this script ends the whole group (see cleanup)
# at once, rather than after a long npm install or node-gyp build.
CHILD_PID=""
spawn() {
  local dir="$1" out="$2" err="$3"
  shift 3
  if [[ "$err" == "$out" ]]; then
    setsid bash -c 'cd "$1" && shift && exec "$@"' _ "$dir" "$@" >"$out" 2>&1 </dev/null &
  else
    setsid bash -c 'cd "$1" && shift && exec "$@"' _ "$dir" "$@" >"$out" 2>"$err" </dev/null &
  fi
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

# run_logged <description> <dir> <logfile> <command...>: runs quietly; on failure shows the log's tail.
run_logged() {
  local what="$1" dir="$2" logfile="$3"
  shift 3
  local rc=0
  spawn "$dir" "$logfile" "$logfile" "$@" || rc=$?
  if ((rc != 0)); then
    printf 'smoke-packed: FAILED: %s (exit %d): %s\n--- last lines of %s ---\n' "$what" "$rc" "$*" "$logfile" >&2
    tail -n 60 "$logfile" >&2
    printf -- '---\n' >&2
    exit 1
  fi
}

for tool in node npm tar unzip psql mysql timeout setsid; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (needed by this script)"
done
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) { console.error(`node ${process.versions.node} < 20.19: Nest 12 needs require(esm)`); process.exit(1); }
' || die "unsupported node version"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/data-export-smoke.XXXXXX")"
cleanup() {
  local rc=$?
  if [[ -n "$CHILD_PID" ]]; then
    # Interrupted: end the running step's process group (npm, node-gyp, the host app) first.
    kill -TERM -- "-$CHILD_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 -- "-$CHILD_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$CHILD_PID" 2>/dev/null || true
    wait "$CHILD_PID" 2>/dev/null || true
  fi
  if [[ "${SMOKE_KEEP:-}" == 1 ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
LOGS="$WORK/logs"
mkdir -p "$LOGS" "$WORK/pack"

# Two runs at once would drop each other's schemas and share Redis databases: take turns.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/data-export-smoke.lock"
  flock -w 900 9 || die "another smoke run holds ${TMPDIR:-/tmp}/data-export-smoke.lock"
fi

# --- databases ---------------------------------------------------------------------------
log "checking PostgreSQL, MariaDB and Redis"
pg_exists="$(psql -w -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" 2>"$LOGS/psql.log")" ||
  die "PostgreSQL is not reachable at 127.0.0.1:5432: $(cat "$LOGS/psql.log")"
if [[ "$pg_exists" != 1 ]]; then
  log "creating PostgreSQL database $PG_DB"
  run_logged "create PostgreSQL database" "$WORK" "$LOGS/psql.log" psql -w -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $PG_DB"
fi
run_logged "create MariaDB database (is MariaDB running at 127.0.0.1:3306?)" "$WORK" "$LOGS/mysql.log" \
  mysql -uroot -h127.0.0.1 -e "CREATE DATABASE IF NOT EXISTS $MARIADB_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
if command -v redis-cli >/dev/null 2>&1; then
  [[ "$(redis-cli -u "$REDIS_BASE" ping 2>&1)" == PONG ]] || die "Redis is not reachable at $REDIS_BASE"
fi

# --- build and pack -------------------------------------------------------------------------
log "npm run build"
run_logged "npm run build" "$REPO_DIR" "$LOGS/build.log" npm run build
# The AWS SDK is an optional peer: only the nestjs-data-export/s3 entry point may load it.
log "checking that the package root loads no @aws-sdk module"
(cd "$REPO_DIR" && node -e '
  require("./dist/index.js");
  const aws = Object.keys(require.cache).filter((k) => k.includes("@aws-sdk"));
  if (aws.length) { console.error(`the package root loads ${aws[0]}`); process.exit(1); }
') || die "dist/index.js loads the AWS SDK: keep S3 code behind nestjs-data-export/s3"
log "npm pack"
run_logged "npm pack" "$REPO_DIR" "$LOGS/pack.log" npm pack --pack-destination "$WORK/pack"
shopt -s nullglob
tarballs=("$WORK/pack"/*.tgz)
shopt -u nullglob
((${#tarballs[@]} == 1)) || die "npm pack produced ${#tarballs[@]} tarballs in $WORK/pack"
TARBALL="${tarballs[0]}"
packed_files="$(tar -tzf "$TARBALL")"
for f in package/package.json package/dist/index.js package/dist/index.d.ts; do
  grep -qx "$f" <<<"$packed_files" || die "$(basename "$TARBALL") has no ${f#package/}"
done

# --- hosts ------------------------------------------------------------------------------------
# install_host <name> <package template>: a project depending on the tarball, installed.
install_host() {
  local name="$1" template="$2" dir="$WORK/$1"
  mkdir -p "$dir"
  node -e '
    const fs = require("fs");
    const [template, dest, tarball] = process.argv.slice(1);
    const pkg = JSON.parse(fs.readFileSync(template, "utf8"));
    pkg.dependencies["nestjs-data-export"] = `file:${tarball}`;
    fs.writeFileSync(dest, JSON.stringify(pkg, null, 2) + "\n");
  ' "$template" "$dir/package.json" "$TARBALL"
  log "npm install ($name)"
  run_logged "npm install in $dir" "$dir" "$LOGS/install-$name.log" \
    npm install --include=dev --no-audit --no-fund --prefer-offline --loglevel=error
  local tsc_version
  tsc_version="$("$dir/node_modules/.bin/tsc" --version)"
  [[ "$tsc_version" == "Version 5.9.3" ]] || die "$name: expected TypeScript 5.9.3, got '$tsc_version'"
}

# build_app <host> <app dir> <module type> <tsconfig>: copies the host sources and compiles them.
build_app() {
  local host="$1" app="$WORK/$1/$2" type="$3" tsconfig="$4"
  mkdir -p "$app"
  cp -R "$HOST_DIR/src" "$app/src"
  cp "$HOST_DIR/hosts/$tsconfig" "$app/tsconfig.json"
  printf '{ "private": true, "type": "%s" }\n' "$type" >"$app/package.json"
  log "tsc ($host/$2, $tsconfig)"
  run_logged "tsc -p $app" "$app" "$LOGS/tsc-$host-$2.log" "$WORK/$host/node_modules/.bin/tsc" -p "$app"
}

# run_scenario <scenario> <entry .js> <db> <db url or sqlite file> <redis db> <http: 1 | 0>
run_scenario() {
  local scenario="$1" entry="$2" db="$3" db_url="$4" redis_db="$5" http="$6"
  local run_dir="$WORK/run-$scenario" out="$LOGS/run-$scenario.out" err="$LOGS/run-$scenario.err" rc=0
  mkdir -p "$run_dir"
  [[ "$db" == sqlite ]] && db_url="$run_dir/$db_url"
  log "running $scenario"
  spawn "$run_dir" "$out" "$err" env SMOKE_SCENARIO="$scenario" SMOKE_DB="$db" SMOKE_DB_URL="$db_url" \
    SMOKE_REDIS_URL="$REDIS_BASE/$redis_db" SMOKE_WORK_DIR="$run_dir" SMOKE_HTTP="$http" \
    timeout --kill-after=10 "$HOST_TIMEOUT" node "$entry" || rc=$?
  cat "$out"
  cat "$err" >&2
  if ((rc != 0)); then
    ((rc == 124)) && die "$scenario: the host did not finish within $HOST_TIMEOUT s"
    die "$scenario: the host app exited with $rc"
  fi
  grep -Eqx "smoke: $scenario ok \([0-9]+ rows, [0-9]+ bytes\)" "$out" ||
    die "$scenario: the host exited 0 without its 'smoke: $scenario ok' line"
}

install_host nest12 "$HOST_DIR/hosts/nest12.package.json"
build_app nest12 cjs commonjs tsconfig.cjs-nodenext.json
build_app nest12 esm module tsconfig.esm.json
grep -q '^import .* from .nestjs-data-export.;$' "$WORK/nest12/esm/out/main.js" ||
  die "nest12/esm was not compiled to ES modules"
grep -q 'require("nestjs-data-export")' "$WORK/nest12/cjs/out/main.js" ||
  die "nest12/cjs was not compiled to CommonJS"
run_scenario nest12-cjs-postgres "$WORK/nest12/cjs/out/main.js" postgres "$PG_URL" 11 1
run_scenario nest12-esm-mariadb "$WORK/nest12/esm/out/main.js" mariadb "$MARIADB_URL" 12 1

install_host nest11 "$HOST_DIR/hosts/nest11.package.json"
build_app nest11 cjs commonjs tsconfig.cjs-classic.json
run_scenario nest11-cjs-sqlite "$WORK/nest11/cjs/out/main.js" sqlite smoke.sqlite 13 0

log "all scenarios passed"
