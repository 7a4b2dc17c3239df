#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Creates the private Wine prefix once (idempotent): scripts/wineprefix.sh <prefix dir>
set -euo pipefail

prefix=${1:?usage: wineprefix.sh <prefix dir>}
. "$(dirname "$0")/utf8locale.sh"
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# Ready when the registry and the system folder's DLLs are there: a wineboot that failed half
# way (seen once in CI, while another test made its own prefix) leaves system.reg and an
# almost empty system32, and every later wine command fails to load kernel32.dll.
ready() {
    [ -f "$prefix/system.reg" ] && [ -f "$prefix/drive_c/windows/system32/kernel32.dll" ]
}
create() {
    echo "wineprefix: creating $prefix"
    mkdir -p "$prefix"
    wineboot -i >/dev/null 2>&1 || true
    wineserver -w
}
if ! ready; then
    create
    if ! ready; then
        echo "wineprefix: $prefix is incomplete after wineboot: made again" >&2
        wineserver -k 2>/dev/null || true
        rm -rf "$prefix"
        create
    fi
    ready || { echo "wineprefix: wineboot failed to make $prefix" >&2; exit 1; }
fi
