#!/usr/bin/env bash
# Run HERE (a Debian 12 machine with apt), before the device check: downloads the Debian -dev
# packages the build needs and the accelerator machine lacks (it has a pip torch with CUDA LibTorch,
# nvcc, cmake and ninja, but no sqlite3.h, httplib.h, ... and no internet) into bench/gpu/debs/,
# (gloo headers are not among them: Debian's would not match the wheel's gloo; without them the
# CUDA build runs data-parallel jobs on NCCL only), which the device run carries (`carry: ["bench/gpu/debs"]`) and unpacks with dpkg -x.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p debs
cd debs
apt-get download libsqlite3-dev libsqlite3-0 nlohmann-json3-dev libcpp-httplib-dev libgtest-dev googletest \
  libcli11-dev libutf8proc-dev libutf8proc2 zlib1g-dev
ls -la
