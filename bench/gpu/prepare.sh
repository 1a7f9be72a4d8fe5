#!/usr/bin/env bash
# Run HERE (a Debian 12 machine with apt), before the device check: downloads the Debian packages the
# build needs and the accelerator machine lacks (it has a pip torch with CUDA LibTorch, nvcc, cmake
# and ninja, but no sqlite3.h, httplib.h, ... and no internet) into bench/gpu/debs/, which the device
# run carries (`carry: ["bench/gpu/debs"]`) and unpacks with dpkg -x into a sysroot (device_check.sh).
# What the CMakeLists find:
#   sqlite3 (pkg-config)          libsqlite3-dev + libsqlite3-0 (the .so the -dev symlink points to)
#   cpp-httplib (pkg-config)      libcpp-httplib-dev + libcpp-httplib0.11; its .pc requires openssl,
#                                 zlib and brotli: libssl-dev + libssl3, zlib1g-dev + zlib1g,
#                                 libbrotli-dev + libbrotli1
#   libcrypto (pkg-config)        libssl-dev (labeling: SHA-256 of tokens)
#   nlohmann_json, CLI11, GTest   nlohmann-json3-dev, libcli11-dev, libgtest-dev (+ googletest)
#   libutf8proc (pkg-config)      libutf8proc-dev + libutf8proc2
#   ZLIB (core)                   zlib1g-dev + zlib1g
#   pkg-config itself             pkgconf-bin + libpkgconf3, used only if the machine has none
#   gloo headers (c10d Gloo)      libgloo-dev (headers only: the wheel's libtorch_cpu has the library;
#                                 its -dev dependencies are not needed for the headers)
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p debs
cd debs
rm -f ./*.deb
apt-get download libsqlite3-dev libsqlite3-0 nlohmann-json3-dev libcpp-httplib-dev libcpp-httplib0.11 \
  libssl-dev libssl3 libbrotli-dev libbrotli1 libgtest-dev googletest libcli11-dev libutf8proc-dev libutf8proc2 \
  zlib1g-dev zlib1g pkgconf-bin libpkgconf3 libgloo-dev
ls -la
du -sh .
