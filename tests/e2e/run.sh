#!/usr/bin/env bash
# Browser tests of the labeling page in headless Debian chromium (Python Playwright from PyPI).
#   tests/e2e/run.sh path/to/rlhf        or        RLHF_BIN=path/to/rlhf tests/e2e/run.sh
# Installs what is missing, idempotently: apt: chromium, sqlite3 (and python3-venv when the
# virtual environment has to be made); pip: tests/e2e/requirements.txt into the project's virtual
# environment ${RLHF_VENV:-<repo root>/.venv}, only when the pinned versions are not there yet.
# Then runs pytest on tests/e2e. Screenshots and server logs of failures: tests/e2e/artifacts/.
# Exit 77 (CTest's SKIP_RETURN_CODE) only when chromium cannot be installed on this machine.
set -euo pipefail

RLHF_BIN=${1:-${RLHF_BIN:-}}
if [ -z "$RLHF_BIN" ] || [ ! -x "$RLHF_BIN" ]; then
  echo "usage: $0 path/to/rlhf   (or set RLHF_BIN); got '${RLHF_BIN}'" >&2
  exit 2
fi
RLHF_BIN=$(realpath "$RLHF_BIN")  # before the cd below, so a relative path works
export RLHF_BIN
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
VENV=${RLHF_VENV:-$REPO_ROOT/.venv}
cd "$HERE"

# apt-get install PACKAGES..., with an apt-get update first only when the plain install fails.
apt_install() {
  local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
    { $SUDO apt-get update >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

# The browser: without it the tests cannot run here at all (a skip, not a failure). Never
# `playwright install`: the browser is Debian's chromium.
if [ ! -x /usr/bin/chromium ] && ! apt_install chromium; then
  echo "SKIP: could not install chromium (apt-get install -y chromium)" >&2
  exit 77
fi

# The rest is needed too; failing to install it is a real failure.
missing=()
command -v sqlite3 >/dev/null || missing+=(sqlite3)
if [ ! -x "$VENV/bin/python" ] && ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
  missing+=(python3-venv)
fi
if ((${#missing[@]})) && ! apt_install "${missing[@]}"; then
  echo "FAILED: could not install ${missing[*]} (apt-get install -y ${missing[*]})" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating the virtual environment $VENV" >&2
  /usr/bin/python3 -m venv "$VENV" || { echo "FAILED: python3 -m venv $VENV" >&2; exit 1; }
fi
PY="$VENV/bin/python"

# pip install only when an installed version differs from its pin in requirements.txt.
if ! "$REPO_ROOT/scripts/pip_install_pinned.sh" "$PY" requirements.txt; then
  echo "FAILED: pip install -r tests/e2e/requirements.txt into $VENV" >&2
  exit 1
fi

rm -rf artifacts
rc=0
"$PY" -m pytest -p no:cacheprovider -ra . || rc=$?
if [ "$rc" -eq 0 ]; then
  echo "labeling e2e: PASSED (browser tests in tests/e2e, $("$PY" -m playwright --version), $(/usr/bin/chromium --version 2>/dev/null))"
else
  echo "labeling e2e: FAILED (pytest exit $rc); screenshots and server logs in tests/e2e/artifacts/" >&2
fi
exit "$rc"
