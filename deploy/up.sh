#!/usr/bin/env bash
# Brings the whole hub up on this machine with its embedded defaults: a NATS server with
# JetStream if none answers at NATS_URL, then every service as its own process, each with its
# own SQLite file under ./data. Ctrl-C stops everything cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

STATE="${LIANDONG_DATA_DIR:-$PWD/data}"
mkdir -p "$STATE"
export LIANDONG_DATA_DIR="$STATE"
export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
# Each service signs its events with its own key; the registry of public keys is
# deploy/keys/registry.toml. `liandong up` generates development keys there when missing.
export LIANDONG_EVENT_KEYS_DIR="${LIANDONG_EVENT_KEYS_DIR:-$PWD/deploy/keys}"

ensure_build_tools
ensure_nats "$STATE"
log "building liandong (first time: a few minutes)"
# The workspace's feature set, so tests/run.sh reuses this build and the other way round.
cargo build --workspace --bin liandong --quiet
BIN="${CARGO_TARGET_DIR:-target}/debug/liandong"

stop_nats() { [ -f "$STATE/nats.pid" ] && kill "$(cat "$STATE/nats.pid")" 2>/dev/null && rm -f "$STATE/nats.pid"; return 0; }
trap stop_nats EXIT

log "starting brigade (127.0.0.1:50061), board (:50062), county (:50063), review (:50064) and the gateway (http://127.0.0.1:8080); data in $STATE"
log "then replaying the demo (LIANDONG_DEMO=0 skips it); Ctrl-C stops everything"
if [ "${LIANDONG_DEMO:-1}" = 1 ]; then set -- --demo "$@"; fi
"$BIN" up "$@"
