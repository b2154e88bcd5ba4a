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
  # The background fuzz build, if a phase before it failed (its own process group).
  [ -n "${FUZZ_BUILD:-}" ] && kill -- "-$FUZZ_BUILD" 2>/dev/null || true
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
  PHASES+=("$(printf '%-36s %5ds' "$name" $((SECONDS - t0)))")
}
report() {
  printf '\nphase timings:\n'
  for p in "${PHASES[@]}"; do printf '  %s\n' "$p"; done
  printf '  %-36s %5ds\n' total "$SECONDS"
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
# Clippy lints the workspace's own crates while they are built, every warning an error, as
# `cargo clippy --workspace --all-targets -- -D warnings` would: cargo runs clippy-driver in
# place of rustc for workspace members (RUSTC_WORKSPACE_WRAPPER, which is how `cargo clippy`
# itself works, and which cargo counts in its fingerprints), so each dependency is compiled once
# rather than once checked for clippy and once more built (a separate clippy phase took 293 s of
# a cold run). Every cargo command below runs so, else it would build the workspace again without
# the lints; the fuzz build (a workspace and target directory of its own) runs without it.
RUSTC_WORKSPACE_WRAPPER="$(command -v clippy-driver)" || { log "clippy is missing: rustup component add clippy"; exit 1; }
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# The binary with the workspace's features, which the test build uses too (built with `-p
# liandong` it had other features of sqlx, tempfile and nix, and every crate above them was
# compiled twice), then every test target: between them every target `--all-targets` names
# (the workspace has no benches).
phase "build, linted by clippy -D warnings" bash -c "cargo build --workspace --bin liandong --locked && cargo test --workspace --locked --no-run"
# The fuzz targets build (coverage-instrumented, so they share no artifact with the build above;
# in a target directory of their own, so no cargo lock is shared) in the background at the
# lowest priority, on the CPU the integration tests leave idle while they wait on their services.
export FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$CARGO_TARGET_DIR-fuzz}"
FUZZ_ENV=(env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" FUZZ_PROFILE="${FUZZ_PROFILE:-dev}" FUZZ_SECONDS="${FUZZ_SECONDS:-20}")
setsid nice -n 19 "${FUZZ_ENV[@]}" FUZZ_BUILD_ONLY=1 tests/fuzz/run.sh >"$STATE/fuzz-build.log" 2>&1 &
FUZZ_BUILD=$!
# The fault suite's load scenarios, by the prefixes of their names (tests/it/fault.rs): the
# kills under a thousand referrals, the brokers and PostgreSQL lost under traffic, the poison
# messages. Its other scenarios (fault::under_liandong_up_*, fault::with_the_broker_down_*) run
# in the test phase.
LOAD_SCENARIOS=(fault::kill9_ fault::a_nats_server fault::a_cluster fault::a_broker_that fault::postgresql_ fault::an_undecodable)
run_tests() {
  # Every test but the fault suite's load scenarios, several at a time (most of their time is
  # spent waiting on the services they start). The fault suite's three availability scenarios
  # (paced callers, restarts under `liandong up`, a broker outage) run here among the others.
  cargo test --workspace --locked -- "${LOAD_SCENARIOS[@]/#/--skip=}" --test-threads "${LIANDONG_TEST_THREADS:-6}" 2>&1 | tee -a "$STATE/test.log"
  return "${PIPESTATUS[0]}"
}
run_fault_suite() {
  # The fault suite's load scenarios kill and restart processes under load and measure what
  # they lose: one at a time, with the machine to itself (a lock among them says so).
  cargo test -p liandong-tests --test it --locked -- "${LOAD_SCENARIOS[@]}" --test-threads 1 2>&1 | tee -a "$STATE/test.log"
  return "${PIPESTATUS[0]}"
}
fuzz() {
  # The build started in the background above; then each target for FUZZ_SECONDS.
  if ! wait "$FUZZ_BUILD"; then cat "$STATE/fuzz-build.log" >&2; return 1; fi
  "${FUZZ_ENV[@]}" tests/fuzz/run.sh
}
hunts() {
  # A fuzzer uses one core and schemathesis's hub the other: both at once, each bounded by
  # time, each one's output shown whole after both ended; any finding fails.
  env ST_MAX_TIME="${ST_MAX_TIME:-60}" tests/schemathesis/run.sh >"$STATE/schemathesis.log" 2>&1 &
  local st=$!
  local fuzz_rc=0 st_rc=0
  # The fuzz build is this shell's child: it is waited for here, and the targets run after it.
  fuzz >"$STATE/fuzz.log" 2>&1 || fuzz_rc=$?
  wait "$st" || st_rc=$?
  printf '\n--- fuzz (exit %d) ---\n' "$fuzz_rc"; cat "$STATE/fuzz.log"
  printf '\n--- schemathesis (exit %d) ---\n' "$st_rc"; cat "$STATE/schemathesis.log"
  [ "$fuzz_rc" -eq 0 ] && [ "$st_rc" -eq 0 ]
}
# Budgets (2-core machine, warm target directory): tests 240 s, fault suite 480 s, the hunts
# 90 s; from cold add about 8 minutes of builds before them (472 s linted, 2026-12-07).
phase "cargo test (budget 240 s)" run_tests
phase "fault suite (budget 480 s)" run_fault_suite
# Bounded hunts for bad input: each fuzz target for FUZZ_SECONDS (20) and schemathesis over
# the gateway's OpenAPI document for at most ST_MAX_TIME (60) seconds, side by side.
phase "fuzz and schemathesis (budget 90 s)" hunts
