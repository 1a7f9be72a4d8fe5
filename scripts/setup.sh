#!/usr/bin/env bash
# Installs the build dependencies (Debian packages only) and builds the project.
# Idempotent; runs as root (or with sudo) on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake make ccache
  libtorch-dev libopenblas0-pthread libgloo-dev
  libsqlite3-dev nlohmann-json3-dev libcpp-httplib-dev libssl-dev libgtest-dev
  libcli11-dev libutf8proc-dev zlib1g-dev
  chromium sqlite3  # browser tests of the labeling page (tests/e2e)
)
# Node.js runs the browser tests; use the machine's own when it has one.
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release}
cmake --build "$BUILD_DIR" -j"$(nproc)"
