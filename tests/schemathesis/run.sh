#!/usr/bin/env bash
# Exercises the gateway's OpenAPI document with schemathesis (PyPI, in its own virtual
# environment under the tools directory): starts a hub of its own (its own NATS server,
# ports, SQLite data directory and keys), signs in with a token from `liandong token issue`,
# lets schemathesis generate requests for every operation for a bounded number of examples
# and time, and fails on any 5xx answer or any answer that does not match the document.
# Stops everything it started.
#
#   tests/schemathesis/run.sh                 ST_EXAMPLES (default 25) per operation,
#                                             ST_MAX_TIME (default 120) seconds at most
#   ST_EXAMPLES=200 ST_MAX_TIME=900 tests/schemathesis/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib.sh

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${ST_EXAMPLES:-25}"
MAX_TIME="${ST_MAX_TIME:-120}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/liandong-target}"

# schemathesis in a virtual environment of its own, so its pins never meet the other tools'.
venv_st="$LIANDONG_TOOLS/schemathesis"
if ! "$venv_st/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  log "installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  [ -x "$venv_st/bin/python" ] || python3 -m venv "$venv_st" || { apt_install python3-venv; python3 -m venv "$venv_st"; }
  "$venv_st/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" >/dev/null
fi

# As tests/run.sh builds it (the workspace's features): no second build of the binary.
cargo build --workspace --bin liandong --locked --quiet
BIN="$CARGO_TARGET_DIR/debug/liandong"

STATE="$(mktemp -d /tmp/liandong-schemathesis.XXXXXX)"
HUB_PID="" NATS_PID=""
stop() {
  # Only what this script started, by its own process ids.
  [ -n "$HUB_PID" ] && kill -TERM "$HUB_PID" 2>/dev/null && wait "$HUB_PID" 2>/dev/null || true
  [ -n "$NATS_PID" ] && kill "$NATS_PID" 2>/dev/null && wait "$NATS_PID" 2>/dev/null || true
  rm -rf "$STATE"
}
trap stop EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A NATS server of its own, so no stream outlives the run on the machine's server.
NATS_PORT="$(free_port)"
"$(nats_server_bin)" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$STATE/nats" >"$STATE/nats.log" 2>&1 &
NATS_PID=$!
for _ in $(seq 1 100); do tcp_open 127.0.0.1 "$NATS_PORT" && break; sleep 0.1; done

# Every service's address on a free port: each `<name>_addr` the configuration has.
{
  echo "data_dir = \"$STATE/data\""
  echo "nats_url = \"nats://127.0.0.1:$NATS_PORT\""
  for key in $(grep -oE '^\s+pub [a-z_]+_addr: SocketAddr' crates/config/src/lib.rs | awk '{print $2}' | tr -d ':'); do
    echo "$key = \"127.0.0.1:$(free_port)\""
  done
  echo "[http_limits]"
  # schemathesis sends as fast as the hub answers; the rate limits have tests of their own.
  echo "public_per_second = 0"
  echo "api_per_second = 0"
} >"$STATE/liandong.toml"
GATEWAY="$(grep -oE '^gateway_addr = "[^"]+"' "$STATE/liandong.toml" | cut -d'"' -f2)"
export LIANDONG_CONFIG="$STATE/liandong.toml"

log "starting a hub for schemathesis (gateway http://$GATEWAY, data in $STATE)"
"$BIN" up >"$STATE/hub.log" 2>&1 &
HUB_PID=$!
ready=""
for _ in $(seq 1 600); do
  if ! kill -0 "$HUB_PID" 2>/dev/null; then break; fi
  # Ready when every service's port answers (the gateway's health alone says nothing of them).
  ready=1
  for addr in $(grep -oE '_addr = "[^"]+"' "$STATE/liandong.toml" | cut -d'"' -f2); do
    tcp_open "${addr%:*}" "${addr##*:}" || { ready=""; break; }
  done
  [ -n "$ready" ] && break
  sleep 0.1
done
if [ -z "$ready" ]; then
  log "the hub did not start:"; tail -50 "$STATE/hub.log" >&2; exit 1
fi

# Sign in the way the gateway expects: a bearer token when the CLI issues them, else the
# identity headers of the foundations.
AUTH=()
if "$BIN" token issue --help >/dev/null 2>&1; then
  TOKEN="$("$BIN" token issue --officer schemathesis --role brigade_captain --town 330782101)"
  AUTH=(-H "Authorization: Bearer $TOKEN")
else
  AUTH=(-H "x-liandong-officer: schemathesis" -H "x-liandong-role: brigade_captain" -H "x-liandong-town: 330782101")
fi

log "schemathesis: $EXAMPLES examples per operation, at most $MAX_TIME s"
status=0
# From the state directory, where schemathesis leaves its cache (.schemathesis/).
(cd "$STATE" && "$venv_st/bin/st" run "http://$GATEWAY/openapi.json" \
  --url "http://$GATEWAY" \
  "${AUTH[@]}" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$EXAMPLES" \
  --max-time "$MAX_TIME" \
  --workers 2 \
  --seed "${ST_SEED:-$RANDOM}" \
  --request-timeout 35 \
  --suppress-health-check all \
  --report junit --report-dir "$STATE/report" \
  --no-color) 2>&1 | tee "$STATE/st.log" || status=$?
# A panic in a service is a finding even where the gateway's answer hid it.
panics=$(grep -c 'panicked' "$STATE/hub.log" || true)
if [ "${panics:-0}" -ne 0 ]; then
  log "the hub logged $panics panics:"
  grep -A5 'panicked' "$STATE/hub.log" >"$STATE/panics.log" || true
  sed -n 1,60p "$STATE/panics.log" >&2
  status=1
fi
exit "$status"
