#!/usr/bin/env bash
# Bench-only dependencies (not needed to build or test the toolkit, so not in scripts/setup.sh):
#   python3-torch  Debian's PyTorch: the same LibTorch 1.13.1 and OpenBLAS as our binary, which is
#                  what makes it a fair twin. It installs for Debian's /usr/bin/python3.
#   js-tiktoken    from npm, into bench/js/node_modules: the tokenizer twin (its bundled "gpt2" ranks).
# With --openmp-blas, also unpacks Debian's OpenMP build of OpenBLAS (libopenblas0-openmp) into
# bench/.cache/openblas-openmp without installing it, for the thread-setup table:
#   LD_LIBRARY_PATH=bench/.cache/openblas-openmp build/bench/bench_core_speed
# Idempotent; apt needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends python3-torch
fi
/usr/bin/python3 -c 'import torch; assert torch.__version__.startswith("1.13"), torch.__version__'

if [ ! -d js/node_modules/js-tiktoken ]; then
  command -v npm >/dev/null || { echo "bench/setup.sh: npm is missing (apt-get install nodejs npm)" >&2; exit 1; }
  (cd js && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" = "--openmp-blas" ] && [ ! -f .cache/openblas-openmp/libblas.so.3 ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download libopenblas0-openmp 2>/dev/null && dpkg -x libopenblas0-openmp_*.deb root)
  mkdir -p .cache/openblas-openmp
  cp -a "$tmp"/root/usr/lib/x86_64-linux-gnu/openblas-openmp/. .cache/openblas-openmp/
  rm -rf "$tmp"
fi
