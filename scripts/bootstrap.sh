#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what OpenDO needs from Debian's registry and cross-builds CMocka for MinGW.
# Idempotent: every step checks first and does nothing when its result is already there.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${OPENDO_BUILD_DIR:-$top/build}
# clang, libclang-rt-dev (libFuzzer and the sanitizers' runtimes) and libcmocka-dev: the native
# fuzz and sanitizer build of the pure-C parsers (scripts/fuzz.sh). g++: tests/test_cpp.cpp,
# tests/abi_static.cpp and examples/download.cpp. The i686 compilers: the 32-bit build.
packages=(gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 gcc-mingw-w64-i686 g++-mingw-w64-i686
          mingw-w64-tools wine wine64 libwine-dev nginx-light
          python3 cmake make dpkg-dev openssl clang libclang-rt-dev libcmocka-dev)

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "bootstrap: '$*' needs root; run as root or install it yourself" >&2
        exit 1
    fi
}

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

has_deb_src() {
    grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/
}

apt_updated=
if ! has_deb_src; then
    need_root "enable deb-src"
    echo "bootstrap: enabling a deb-src entry for apt-get source"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed -i -E 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
    fi
    if ! has_deb_src && [ -f /etc/apt/sources.list ]; then
        grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >> /etc/apt/sources.list
    fi
    has_deb_src || { echo "bootstrap: could not add a deb-src entry" >&2; exit 1; }
    apt-get update -qq
    apt_updated=1
fi

if [ ${#missing[@]} -gt 0 ]; then
    need_root "apt-get install ${missing[*]}"
    echo "bootstrap: installing ${missing[*]}"
    [ -n "$apt_updated" ] || apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# CMocka for MinGW: Debian's own source package, cross-built into the build tree.
cmocka_prefix=$build/deps/cmocka
if [ ! -f "$cmocka_prefix/lib/libcmocka-static.a" ]; then
    src=$build/deps/src
    mkdir -p "$src"
    if ! ls -d "$src"/cmocka-*/ >/dev/null 2>&1; then
        echo "bootstrap: fetching Debian's cmocka source package"
        (cd "$src" && apt-get source -qq cmocka >/dev/null 2>&1) || \
            (cd "$src" && apt-get source cmocka)
    fi
    cmocka_src=$(ls -d "$src"/cmocka-*/ | head -n 1)
    echo "bootstrap: cross-building cmocka from $cmocka_src"
    cmake -S "$cmocka_src" -B "$build/deps/cmocka-build" \
        -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-x86_64.cmake" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$cmocka_prefix" \
        -DBUILD_SHARED_LIBS=OFF -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF \
        -DPICKY_DEVELOPER=OFF >/dev/null
    cmake --build "$build/deps/cmocka-build" -j"$(nproc)" >/dev/null
    cmake --install "$build/deps/cmocka-build" >/dev/null
fi
