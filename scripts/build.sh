#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures (once) and builds OpenDO into build/: build/bin/opendo.dll, doadmin.exe and the tests.
# With arguments, builds only those targets (e.g. scripts/build.sh opendo doadmin).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${OPENDO_BUILD_DIR:-$top/build}

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$top" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-x86_64.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMOCKA_ROOT="$build/deps/cmocka" >/dev/null
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build" -j"$(nproc)" "${targets[@]}"
