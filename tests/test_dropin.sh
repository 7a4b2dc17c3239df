#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# regsvr32 /n /i:bits in a fresh prefix: an unmodified BITS client (CLSID_BackgroundCopyManager,
# CLSCTX_LOCAL_SERVER) gets OpenDO through the surrogate and downloads; /u /n /i:bits puts
# Wine's registration back byte for byte and Wine's BITS answers again.
#   test_dropin.sh <bin dir> <test root>
set -euo pipefail

bin=$1 root=$2
top=$(cd "$(dirname "$0")/.." && pwd)
prefix=$root/dropin/prefix
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
trap 'wineserver -k 2>/dev/null || true' EXIT

# A fresh prefix every run, with its own job store.
wineserver -k 2>/dev/null || true
rm -rf "$root/dropin"
mkdir -p "$root/dropin/www"
"$top/scripts/wineprefix.sh" "$prefix" >/dev/null
export OPENDO_STATE_DIR="$(winepath -w "$root/dropin/state")"
dll=$(winepath -w "$bin/opendo.dll")
client() { wine "$bin/dropin_client.exe" "$@" | tr -d '\r'; }
bits_keys() {
    for clsid in 4991D34B-80A1-4291-83B6-3328366B9097 1ECCA34C-E88A-44E3-8D6A-8921BDE9E452 \
        4BD3E4E1-7BD4-4A2B-9964-496400DE5193 4575438F-A6C8-4976-B0FE-2F26B80D959E \
        5FD42AD5-C04E-4D36-ADC7-E08FF15737AD; do
        wine reg query "HKCR\\CLSID\\{$clsid}" /s 2>&1 | tr -d '\r' || true
    done
}
check() { if [ "$1" != "$2" ]; then echo "FAIL: $3: got '$1', expected '$2'"; exit 1; fi; echo "ok: $3"; }

bits_keys >"$root/dropin/before.txt"
check "$(client who)" other "Wine's BITS serves CLSID_BackgroundCopyManager in a fresh prefix"

wine regsvr32 /s /n /i:bits "$dll"
# Wine's BITS service, started by the first client, still holds the class: a new session of the
# prefix, as the README says, starts from the registry.
wineserver -k; wineserver -w
check "$(client who)" opendo "after /i:bits, OpenDO serves it out of process"
port=$(cat "$root/nginx/port")
check "$(client download "http://127.0.0.1:$port/4m.bin" "$(winepath -w "$root/dropin/4m.bin")")" \
    downloaded "an unmodified client downloads through OpenDO"
cmp "$root/dropin/4m.bin" "$root/www/4m.bin"
echo "ok: the bytes are the server's"
# Installing twice keeps the first saved registration.
wine regsvr32 /s /n /i:bits "$dll"
# Unregistering OpenDO's own class leaves what /i:bits still needs: the AppID and the proxies.
wine regsvr32 /s /u "$dll"
wine reg query 'HKCR\CLSID\{481CC7DE-B793-4C69-AA1F-D284E9E05EAB}' >/dev/null
wine reg query 'HKCR\AppID\{0892FCB0-7375-455D-9004-C852619C5838}' >/dev/null
echo "ok: regsvr32 /u keeps the proxies and the AppID while /i:bits is installed"

# The surrogate ends by itself once its client is gone (this prefix's: other tests run theirs).
surrogate() {
    for pid in $(pgrep -f 'system32\\dllhost.exe'); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "WINEPREFIX=$prefix" && return 0
    done
    return 1
}
for _ in $(seq 100); do surrogate || break; sleep 0.1; done
if surrogate; then echo "FAIL: the surrogate is still running"; exit 1; fi
echo "ok: the surrogate ended"

wine regsvr32 /s /u /n /i:bits "$dll"
wineserver -k; wineserver -w
bits_keys >"$root/dropin/after.txt"
diff -u "$root/dropin/before.txt" "$root/dropin/after.txt"
echo "ok: /u /n /i:bits restored Wine's registration exactly"
check "$(client who)" other "Wine's BITS answers again"
