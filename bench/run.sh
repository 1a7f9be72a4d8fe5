#!/usr/bin/env bash
# Ours against the Python twins in one run (bench/README.md):
#   bench/run.sh [--reps N] [--json FILE] [--quick] [--only sgemm,train_10m,...]
#   bench/run.sh --threads [--reps N]     the thread-setup table instead (bench_thread_speed)
# Installs the bench-only dependencies into .venv if missing (bench/setup.sh), builds the bench
# executables in $BUILD_DIR (default: build, Release), then runs bench/run.py, which alternates our
# process and the twin's per figure and prints medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

bench/setup.sh
[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$BUILD_DIR/CMakeCache.txt"; then
  echo "bench/run.sh: warning: $BUILD_DIR is not a Release build; the figures will be meaningless" >&2
fi
cmake --build "$BUILD_DIR" --target bench_speed bench_tokenizer bench_ppo bench_thread_speed -j"${JOBS:-$(nproc)}"
exec .venv/bin/python bench/run.py --build "$BUILD_DIR" "$@"
