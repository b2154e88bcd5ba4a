#!/usr/bin/env bash
# Installs moto's S3 server (PyPI `moto[server]`) into the tools venv when missing and prints
# its path; the evidence tests start their own `moto_server -p <port>` from it.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh
v="$(venv)"
pin="moto[server]==5.2.6"
if [ "$("$v/bin/pip" show moto 2>/dev/null | sed -n 's/^Version: //p')" != "${pin#*==}" ]; then
  log "installing $pin from PyPI"
  "$v/bin/pip" install -q "$pin" >/dev/null
fi
echo "$v/bin/moto_server"
