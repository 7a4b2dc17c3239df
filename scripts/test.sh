#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and runs every test under Wine in a private prefix.
# Ends with ctest's summary; exits non-zero if anything failed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${OPENDO_BUILD_DIR:-$top/build}
export OPENDO_BUILD_DIR=$build

"$top/scripts/bootstrap.sh"
"$top/scripts/build.sh"
"$top/scripts/wineprefix.sh" "$build/wineprefix"

export WINEPREFIX=$build/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# A persistent wineserver for the whole run: otherwise the first test to start one keeps
# ctest's output pipe open until the server exits, and its time looks inflated.
wineserver -p
status=0
(cd "$build" && ctest --output-on-failure -j"$(nproc)" "$@") || status=$?
# Leave no Wine processes of our prefix behind.
wineserver -k 2>/dev/null || true
exit $status
