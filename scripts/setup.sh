#!/usr/bin/env bash
# Sets up a Debian 12 machine for the project and builds it into build/ (Release). Idempotent; runs
# as root (or with sudo for apt). Two parts:
#   1. Debian packages: compiler, CMake, Python (for the virtual environment) and the libraries.
#   2. LibTorch: the torch==2.11.0 wheel from PyPI, in the project's virtual environment .venv/.
#      With a CUDA toolkit on the machine (nvcc), the wheel with its CUDA libraries (the nvidia-*
#      wheels), and the CUDA path is built. Without one, the wheel alone plus the two small CUDA
#      runtime libraries that libtorch_cpu.so is linked against: the CPU path needs nothing else.
# Environment:
#   RLHF_TORCH_VARIANT    auto (default: cuda when nvcc is found), cuda or cpu
#   RLHF_TORCH_INDEX_URL  a wheel index to take torch from instead of PyPI, e.g. a CPU-only index;
#                         its torch==2.11.0 is then installed with the dependencies it declares
#   BUILD_DIR, BUILD_TYPE the build folder (build) and CMake build type (Release)
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
# What libtorch_cpu.so of the 2.11.0 wheel needs besides itself (its DT_NEEDED entries):
CPU_ONLY_EXTRAS=(nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85)

PACKAGES=(
  g++ cmake make ccache pkgconf ca-certificates
  python3 python3-venv                  # the virtual environment that holds the torch wheel
  libgloo-dev                           # headers of c10d's Gloo backend (the wheel has the library)
  libsqlite3-dev nlohmann-json3-dev libcpp-httplib-dev libssl-dev libgtest-dev
  libcli11-dev libutf8proc-dev zlib1g-dev
  chromium sqlite3                      # browser tests of the labeling page (tests/e2e)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- LibTorch ----------------------------------------------------------------------------------
variant=${RLHF_TORCH_VARIANT:-auto}
if [ "$variant" = auto ]; then
  if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then variant=cuda; else variant=cpu; fi
fi
case "$variant" in cuda | cpu) ;; *) echo "RLHF_TORCH_VARIANT=$variant: expected auto, cuda or cpu" >&2; exit 2 ;; esac

VENV=.venv
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
stamp="$VENV/.torch-$TORCH_VERSION-$variant${RLHF_TORCH_INDEX_URL:+-index}"
if [ ! -f "$stamp" ]; then
  pip=("$VENV/bin/python" -m pip install --disable-pip-version-check --no-input)
  started=$SECONDS
  if [ -n "${RLHF_TORCH_INDEX_URL:-}" ]; then
    "${pip[@]}" --index-url "$RLHF_TORCH_INDEX_URL" "torch==$TORCH_VERSION"
  elif [ "$variant" = cuda ]; then
    "${pip[@]}" "torch==$TORCH_VERSION"
  else
    "${pip[@]}" --no-deps "torch==$TORCH_VERSION" "${CPU_ONLY_EXTRAS[@]}"
  fi
  echo "setup: torch $TORCH_VERSION ($variant) installed into $VENV in $((SECONDS - started)) s ($(du -sh "$VENV" | cut -f1))"
  rm -f "$VENV"/.torch-*
  touch "$stamp"
fi

# --- build -------------------------------------------------------------------------------------
cuda=AUTO; [ "$variant" = cpu ] && cuda=OFF
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DRLHF_CUDA="$cuda"
cmake --build "$BUILD_DIR" -j"$(nproc)"
