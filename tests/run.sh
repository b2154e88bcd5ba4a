#!/usr/bin/env bash
# Runs every check and every test: formatting, lints, buf lint, unit and integration tests.
# Installs and starts what a fresh machine lacks (mold, buf, NATS, PostgreSQL, chromium) first.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

# A target directory outside the clone is reused when it exists (CI passes from cold too).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/liandong-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CARGO_INCREMENTAL=0
STATE="$(mktemp -d /tmp/liandong-test.XXXXXX)"
cleanup() {
  [ -f "$STATE/nats.pid" ] && kill "$(cat "$STATE/nats.pid")" 2>/dev/null || true
  if [ -f "$STATE/pg.bindir" ]; then runuser -u postgres -- "$(cat "$STATE/pg.bindir")/pg_ctl" -D "$STATE/pg" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$STATE"
}
trap cleanup EXIT

declare -a PHASES=()
phase() {
  local name="$1"; shift
  local t0=$SECONDS
  log "phase: $name"
  "$@"
  PHASES+=("$(printf '%-28s %5ds' "$name" $((SECONDS - t0)))")
}
report() {
  printf '\nphase timings:\n'
  for p in "${PHASES[@]}"; do printf '  %s\n' "$p"; done
  printf '  %-28s %5ds\n' total "$SECONDS"
  # One closing line for the whole run, summed over every test binary.
  if [ -f "$STATE/test.log" ]; then
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
         END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$STATE/test.log"
  fi
}
trap 'report; cleanup' EXIT

phase "tools and services" bash -c "source deploy/lib.sh; ensure_build_tools && ensure_nats '$STATE' && ensure_postgres '$STATE' && ensure_buf >/dev/null"
# The public page is tested in a real headless browser (Debian's chromium).
phase "chromium" tests/browser/ensure-chromium.sh
# The evidence store is tested against moto's S3 server (PyPI moto[server]).
phase "moto" deploy/moto.sh
phase "cargo fmt --check" cargo fmt --all --check
phase "buf lint" bash -c "cd proto && \"$(ensure_buf)\" lint"
phase "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
phase "build" bash -c "cargo build -p liandong --locked && cargo test --workspace --locked --no-run"
run_tests() {
  cargo test --workspace --locked -- --test-threads "${LIANDONG_TEST_THREADS:-4}" 2>&1 | tee "$STATE/test.log"
  return "${PIPESTATUS[0]}"
}
phase "cargo test" run_tests
# Bounded hunts for bad input: each fuzz target for FUZZ_SECONDS (30) and schemathesis over
# the gateway's OpenAPI document for at most ST_MAX_TIME (120) seconds; any finding fails.
phase "fuzz" env FUZZ_PROFILE="${FUZZ_PROFILE:-dev}" FUZZ_SECONDS="${FUZZ_SECONDS:-20}" tests/fuzz/run.sh
phase "schemathesis" tests/schemathesis/run.sh
