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

# Wine, and so every test, under a UTF-8 locale even on a machine that sets none.
. "$top/scripts/utf8locale.sh"
export WINEPREFIX=$build/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# A persistent wineserver for the whole run: otherwise the first test to start one keeps
# ctest's output pipe open until the server exits, and its time looks inflated.
wineserver -p 2>/dev/null || true  # one may be running already (an earlier run, a debugging session)
# Start Wine's own helpers (services, rpcss, the desktop) from a process whose output goes
# nowhere: one started by the first test would inherit that test's output pipe and keep ctest
# waiting long after the test ended. regsvr32 initialises COM, which brings them all up.
wine regsvr32 /s "$(winepath -w "$build/bin/opendo.dll")" >/dev/null 2>&1 </dev/null || true
status=0
# A test that times out is run once more, and ctest reports it; a failed assertion is never
# retried.
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --repeat after-timeout:2 "$@") || status=$?
# Leave no Wine processes of our prefix behind.
wineserver -k 2>/dev/null || true
exit $status
