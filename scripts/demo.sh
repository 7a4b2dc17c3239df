#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo: installs what is missing, builds, registers opendo.dll in a private Wine prefix,
# serves a generated 256 MiB file from a private nginx on 127.0.0.1, downloads it with
# doadmin (live progress bar), and checks the size and SHA-256 of the result.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${OPENDO_BUILD_DIR:-$top/build}
export OPENDO_BUILD_DIR=$build
size_mib=${OPENDO_DEMO_MIB:-256}

"$top/scripts/bootstrap.sh"
"$top/scripts/build.sh" opendo doadmin >/dev/null
"$top/scripts/wineprefix.sh" "$build/wineprefix"
# Wine under a UTF-8 locale even on a machine that sets none.
. "$top/scripts/utf8locale.sh"
export WINEPREFIX=$build/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

demo=$build/demo
www=$demo/www
out=$demo/out
name=demo-${size_mib}m.bin
mkdir -p "$www" "$out"

# The payload is generated once; its checksum is computed from the file itself each run.
if [ ! -f "$www/$name" ] || [ "$(stat -c %s "$www/$name")" -ne $((size_mib * 1024 * 1024)) ]; then
    echo "demo: generating a ${size_mib} MiB test file"
    head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$www/$name.new"
    mv "$www/$name.new" "$www/$name"
fi
expected=$(sha256sum "$www/$name" | cut -d' ' -f1)

echo "demo: registering opendo.dll in the private prefix $WINEPREFIX"
wine regsvr32 /s "$(winepath -w "$build/bin/opendo.dll")"

port=$("$top/scripts/nginx.sh" start "$demo/nginx" "$www")
cleanup() {
    "$top/scripts/nginx.sh" stop "$demo/nginx"
    wineserver -k 2>/dev/null || true
}
trap cleanup EXIT
echo "demo: nginx serves http://127.0.0.1:$port/$name"

rm -f "$out/$name"
dest=$(winepath -w "$out/$name")
status=0
(cd "$build/bin" && wine doadmin.exe /transfer "OpenDO demo" "http://127.0.0.1:$port/$name" "$dest") \
    || status=$?
if [ $status -ne 0 ]; then
    echo "demo: FAILED: doadmin exited with $status" >&2
    exit 1
fi

actual_size=$(stat -c %s "$out/$name" 2>/dev/null || echo 0)
actual=$(sha256sum "$out/$name" | cut -d' ' -f1)
echo "demo: size     $actual_size bytes (expected $((size_mib * 1024 * 1024)))"
echo "demo: sha256   $actual"
echo "demo: expected $expected"
leftovers=$(find "$out" -name 'BIT*.tmp' | wc -l)
if [ "$actual" != "$expected" ] || [ "$actual_size" -ne $((size_mib * 1024 * 1024)) ] || [ "$leftovers" -ne 0 ]; then
    echo "demo: FAILED: the downloaded file differs from the served one (or temp files remain)" >&2
    exit 1
fi
echo "demo: OK: the download is complete and byte-identical"
