#!/usr/bin/env bash
# Installs a pinned requirements file (NAME==VERSION lines) into a virtual environment, and only
# when some installed version differs from its pin, so that a run with everything there stays quick.
#   scripts/pip_install_pinned.sh VENV_PYTHON REQUIREMENTS_FILE
set -euo pipefail
PY=$1
REQUIREMENTS=$2

pinned_ok() {
  "$PY" - "$REQUIREMENTS" <<'EOF'
import importlib.metadata, sys
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, _, want = line.partition("==")
    try:
        if importlib.metadata.version(name.strip()) != want.strip():
            sys.exit(1)
    except importlib.metadata.PackageNotFoundError:
        sys.exit(1)
EOF
}

if ! pinned_ok; then
  echo "installing $REQUIREMENTS into $(dirname "$(dirname "$PY")")" >&2
  "$PY" -m pip install --disable-pip-version-check --no-input --quiet -r "$REQUIREMENTS"
fi
