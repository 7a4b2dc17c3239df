#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Creates the private Wine prefix once (idempotent): scripts/wineprefix.sh <prefix dir>
set -euo pipefail

prefix=${1:?usage: wineprefix.sh <prefix dir>}
. "$(dirname "$0")/utf8locale.sh"
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$prefix/system.reg" ] || [ ! -d "$prefix/drive_c/windows/system32" ]; then
    echo "wineprefix: creating $prefix"
    mkdir -p "$prefix"
    wineboot -i >/dev/null 2>&1 || true
    wineserver -w
    [ -f "$prefix/system.reg" ] || { echo "wineprefix: wineboot failed" >&2; exit 1; }
fi
