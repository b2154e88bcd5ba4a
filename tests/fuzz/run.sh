#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and reports what it tried and found.
#
# The targets are in fuzz/ (cargo-fuzz layout): the catalogue loader, event decoding as a
# consumer meets it, and the gateway's JSON input. They build with `cargo fuzz` on the stable
# toolchain (`--sanitizer none`: no nightly-only sanitizer flags; libFuzzer's coverage
# instrumentation is stable rustc). cargo-fuzz itself comes from crates.io into the tools
# directory when missing.
#
#   tests/fuzz/run.sh                  every target, FUZZ_SECONDS (default 30) each
#   tests/fuzz/run.sh events           one target
#   FUZZ_SECONDS=600 tests/fuzz/run.sh a longer hunt
#   FUZZ_BUILD_ONLY=1 tests/fuzz/run.sh  only build the targets
#
# Each target's corpus grows under $LIANDONG_FUZZ_DIR (default ~/.cache/liandong-fuzz), so
# later runs start where earlier ones stopped; the committed seeds (fuzz/seeds/<target>) and
# dictionaries (fuzz/dicts/<target>.dict) start it off. A finding (a panic, a failed
# assertion, a timeout or running out of memory) is kept under $LIANDONG_FUZZ_DIR/findings,
# printed, and fails the run; reproduce it with
#   cargo fuzz run --sanitizer none --codegen-units 16 <target> <file>
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/liandong-target}"
SECONDS_EACH="${FUZZ_SECONDS:-30}"
WORK="${LIANDONG_FUZZ_DIR:-$HOME/.cache/liandong-fuzz}"
CARGO_FUZZ_VERSION=0.13.2
TARGETS=(catalogue events gateway_json)
[ $# -gt 0 ] && TARGETS=("$@")

tools="$LIANDONG_TOOLS/cargo"
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION from crates.io"
  cargo install --quiet --locked --root "$tools" cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
export PATH="$tools/bin:$PATH"

# The same dependency versions as the main workspace; cargo adds libFuzzer's few of its own.
cp Cargo.lock fuzz/Cargo.lock
mkdir -p "$WORK/findings"
# 16 codegen units build in half the time of cargo-fuzz's default of one, for slightly slower
# runs; the build dominates a run of a few tens of seconds.
FUZZ_FLAGS=(--sanitizer none --codegen-units 16)
# FUZZ_PROFILE=dev (what .ci/run asks for) builds without optimisations: the fuzzers run
# slower, but a cold build of the whole dependency tree takes minutes less on 2 cores.
PROFILE_DIR=release
if [ "${FUZZ_PROFILE:-release}" = dev ]; then
  FUZZ_FLAGS+=(--dev)
  PROFILE_DIR=debug
fi
log "building the fuzz targets ($PROFILE_DIR, coverage-instrumented; first time: a few minutes)"
if ! cargo fuzz build "${FUZZ_FLAGS[@]}" >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log" >&2; exit 1
fi
# FUZZ_BUILD_ONLY=1: only the build (tests/run.sh builds in the background while the
# integration tests mostly wait on their services, and fuzzes later).
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

BIN_DIR="$CARGO_TARGET_DIR/$(rustc -vV | awk '/^host:/ {print $2}')/$PROFILE_DIR"
total_execs=0 total_findings=0
declare -a LINES=()
for t in "${TARGETS[@]}"; do
  corpus="$WORK/corpus/$t" found="$WORK/findings/$t"
  mkdir -p "$corpus" "$found"
  before=$(find "$found" -type f | wc -l)
  log "fuzzing $t for $SECONDS_EACH s"
  set +e
  # The binary cargo-fuzz built, run as `cargo fuzz run` would, without its second build.
  "$BIN_DIR/$t" "$corpus" "fuzz/seeds/$t" \
    -max_total_time="$SECONDS_EACH" -dict="fuzz/dicts/$t.dict" -artifact_prefix="$found/" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    >"$WORK/$t.log" 2>&1
  rc=$?
  set -e
  execs=$(awk '/^stat::number_of_executed_units/ {print $NF}' "$WORK/$t.log" | tail -1)
  execs=${execs:-0}
  cov=$(grep -oE 'cov: [0-9]+' "$WORK/$t.log" | tail -1 | awk '{print $2}' || true)
  files=$(find "$corpus" -type f | wc -l)
  new=$(( $(find "$found" -type f | wc -l) - before ))
  if [ "$rc" -ne 0 ] && [ "$new" -eq 0 ]; then new=1; fi
  total_execs=$((total_execs + execs)) total_findings=$((total_findings + new))
  LINES+=("$(printf '%-14s %10s executions  %6s coverage points  %6s corpus inputs  %s findings' "$t" "$execs" "${cov:-?}" "$files" "$new")")
  if [ "$new" -ne 0 ]; then
    log "$t found something (exit $rc); its input is under $found:"
    grep -A30 -E '^(thread .* panicked|==[0-9]+== ERROR|SUMMARY|ALARM)' "$WORK/$t.log" | head -60 >&2 || tail -40 "$WORK/$t.log" >&2
  fi
done
printf '\nfuzzing, %s s a target:\n' "$SECONDS_EACH"
for l in "${LINES[@]}"; do printf '  %s\n' "$l"; done
printf 'fuzz: %d targets, %d executions, %d findings\n' "${#TARGETS[@]}" "$total_execs" "$total_findings"
[ "$total_findings" -eq 0 ]
