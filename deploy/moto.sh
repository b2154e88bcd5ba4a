#!/usr/bin/env bash
# Installs moto's S3 server (PyPI `moto[server]`) into the tools venv when missing and prints
# its path; the evidence tests start their own `moto_server -p <port>` from it.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh
v="$(venv)"
if [ ! -x "$v/bin/moto_server" ]; then
  log "installing moto[server] from PyPI"
  "$v/bin/pip" install -q 'moto[server]' >/dev/null
fi
echo "$v/bin/moto_server"
