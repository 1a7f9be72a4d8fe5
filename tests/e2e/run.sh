#!/usr/bin/env bash
# Browser tests of the labeling page in headless Debian chromium (playwright-core from npm).
#   tests/e2e/run.sh path/to/rlhf        or        RLHF_BIN=path/to/rlhf tests/e2e/run.sh
# Installs what is missing (apt: chromium, sqlite3; npm ci here), idempotently, then runs every
# tests/*.test.js with node's built-in test runner. Screenshots of failures: tests/e2e/artifacts/.
# Exit 77 (CTest's SKIP_RETURN_CODE) when the browser cannot be installed on this machine.
set -euo pipefail

RLHF_BIN=${1:-${RLHF_BIN:-}}
if [ -z "$RLHF_BIN" ] || [ ! -x "$RLHF_BIN" ]; then
  echo "usage: $0 path/to/rlhf   (or set RLHF_BIN); got '${RLHF_BIN}'" >&2
  exit 2
fi
RLHF_BIN=$(realpath "$RLHF_BIN")  # before the cd below, so a relative path works
export RLHF_BIN
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node and npm are needed for the browser tests" >&2
  exit 77
fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
  if ! { $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
         { $SUDO apt-get update >/dev/null 2>&1 &&
           DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }; }; then
    echo "SKIP: could not install ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 77
  fi
fi

# npm ci only when the installed playwright-core is not the pinned one (never
# `npx playwright install`: the browser is Debian's chromium).
pinned_ok() {
  node -e "const want = require('./package.json').dependencies['playwright-core'];
           process.exit(require('./node_modules/playwright-core/package.json').version === want ? 0 : 1)" 2>/dev/null
}
pinned_ok || npm ci --no-audit --no-fund --loglevel=error

rm -rf artifacts
exec node --test --test-concurrency=1 tests/*.test.js
