#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for the browser tests, when they are missing.
# Idempotent: does nothing when chromium already runs. Needs root or passwordless sudo.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && chromium --version >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-chromium: chromium is missing and this is not root (no sudo): install chromium and chromium-driver" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Fonts with CJK glyphs, so the Chinese page renders (and its screenshot shows text, not boxes).
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk >/dev/null
chromium --version
