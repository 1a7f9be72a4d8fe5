#!/usr/bin/env bash
# Bench-only dependencies (not needed to build or test the toolkit, so not in scripts/setup.sh), in
# the project's virtual environment .venv, which scripts/setup.sh makes and fills with the torch
# wheel our binary links:
#   torch        the Python twin (bench/python/twin.py) runs on that same wheel, so both sides call
#                the same LibTorch. A CPU-only setup installs the wheel without its dependencies
#                (LibTorch is all the build needs), so Python's `import torch` fails there; this then
#                installs torch with its dependencies, as scripts/setup.sh does on a CUDA machine
#                (the nvidia-* CUDA wheels included: several GB, once).
#   bench/requirements.txt   pinned: tiktoken, the tokenizer twin (bench/python/tokenizer_bench.py).
# Idempotent; when everything is there it only checks (about as long as one `import torch`).
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0  # scripts/setup.sh's
VENV=.venv
PY=$VENV/bin/python
pip=("$PY" -m pip install --disable-pip-version-check --no-input)

[ -x "$PY" ] || { echo "bench/setup.sh: $VENV is missing: run scripts/setup.sh first" >&2; exit 1; }

if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "bench/setup.sh: torch does not import in $VENV (a CPU-only setup installs the wheel without its" \
       "dependencies): installing torch==$TORCH_VERSION with its dependencies, the CUDA wheels included"
  started=$SECONDS
  "${pip[@]}" ${RLHF_TORCH_INDEX_URL:+--index-url "$RLHF_TORCH_INDEX_URL"} "torch==$TORCH_VERSION"
  "$PY" -c 'import torch' || { echo "bench/setup.sh: torch still does not import in $VENV" >&2; exit 1; }
  echo "bench/setup.sh: torch $TORCH_VERSION with its dependencies installed in $((SECONDS - started)) s" \
       "($(du -sh "$VENV" | cut -f1))"
fi

# pip runs only when an installed version differs from its pin.
scripts/pip_install_pinned.sh "$PY" bench/requirements.txt
