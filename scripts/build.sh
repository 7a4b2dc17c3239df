#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures (once) and builds OpenDO into build/: build/bin/opendo.dll, doadmin.exe and the tests,
# then the 32-bit build (tree build/build32) into build/bin32: opendo.dll, doadmin.exe and the
# examples, no tests (no 32-bit Wine to run them here), warnings as errors.
# With arguments, builds only those targets of the 64-bit tree (e.g. scripts/build.sh opendo
# doadmin). OPENDO_BUILD32=0 skips the 32-bit build.
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

[ $# -eq 0 ] && [ "${OPENDO_BUILD32:-1}" != 0 ] || exit 0
build32=$build/build32
if [ ! -f "$build32/CMakeCache.txt" ]; then
    cmake -S "$top" -B "$build32" -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-i686.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENDO_OUTPUT_DIR="$build/bin32" \
        -DOPENDO_BUILD_TESTS=OFF -DOPENDO_BUILD_BENCH=OFF \
        -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror >/dev/null
fi
cmake --build "$build32" -j"$(nproc)"
