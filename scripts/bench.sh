#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark: OpenDO against Wine's builtin BITS, the system HTTP stacks (WinHTTP, WinINet)
# and curl, on the same workloads, served by a private nginx on 127.0.0.1.
#
#   scripts/bench.sh           full configuration: 1 GiB file, 1,000 files of 4 KiB, 10,000
#                              jobs; median of 5 repetitions after a warm-up (the small files:
#                              15; the pollers' download and the 10,000 jobs: one run); the
#                              bandwidth cap (4 background jobs under a 4 MiB/s cap, a
#                              foreground job among them): 5 repetitions after a short warm-up
#                              run, about 80 s; writes docs/benchmarks.md
#   scripts/bench.sh --smoke   small configuration (8 MiB, 50 files, 100 jobs, 1 repetition;
#                              the bandwidth cap: a 1.5 s window); writes its report to
#                              <build>/bench/benchmarks-smoke.md
#
# Options (after --smoke, if any): --reps N, --small-reps N, --poll-reps N, --jobs-reps N,
# --throttle-reps N, --big-mib N, --files N, --jobs N, --winhttp-conns N, --wininet-big-conns N,
# --wininet-small-conns N, --pollers N.
# Raw results: <build>/bench/results/<date>-<mode>.json. Exits non-zero if any run failed or
# any downloaded file's bytes are wrong. Everything lives in <build>/bench (OPENDO_BUILD_DIR as
# scripts/build.sh): its own Wine prefix, wineserver and nginx, stopped at the end in any case.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${OPENDO_BUILD_DIR:-$top/build}
export OPENDO_BUILD_DIR=$build
command_line="scripts/bench.sh${*:+ $*}"

mode=full
if [ "${1:-}" = "--smoke" ]; then
    mode=smoke
    shift
fi
if [ $mode = full ]; then
    # The 10,000-job workload and the download under GetProgress pollers take minutes per run:
    # they run once each, so that the whole run stays near a quarter of an hour.
    opts=(--big-mib 1024 --files 1000 --jobs 10000 --reps 5 --small-reps 15 --warmup 1
          --poll-reps 1 --jobs-reps 1 --throttle-reps 5 --throttle-warmup 1 --timeout 900)
    markdown=$top/docs/benchmarks.md
else
    # The bandwidth cap's window is short: its background jobs are slow by design.
    opts=(--big-mib 8 --files 50 --jobs 100 --reps 1 --warmup 0 --poll-reps 1 --jobs-reps 1
          --throttle-reps 1 --throttle-warmup-ms 1000 --throttle-window-ms 1500 --timeout 120)
    markdown=$build/bench/benchmarks-smoke.md
fi
while [ $# -gt 0 ]; do
    case $1 in
    --reps | --small-reps | --poll-reps | --jobs-reps | --throttle-reps | --big-mib | --files | --jobs | \
        --winhttp-conns | --wininet-big-conns | --wininet-small-conns | --pollers)
        [ $# -ge 2 ] || { echo "bench: $1 needs a value" >&2; exit 2; }
        opts+=("$1" "$2")
        shift 2
        ;;
    *)
        echo "usage: $0 [--smoke] [--reps N] [--small-reps N] [--jobs-reps N] [--throttle-reps N] [--big-mib N]" \
            "[--files N] [--jobs N] [--poll-reps N] [--winhttp-conns N] [--wininet-big-conns N]" \
            "[--wininet-small-conns N] [--pollers N]" >&2
        exit 2
        ;;
    esac
done

# What the benchmark needs beyond the build: curl, nginx and python3. Installed only if missing.
missing=()
for p in curl nginx-light python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench: ${missing[*]} missing; run as root or install them yourself" >&2
        exit 1
    fi
    echo "bench: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null
fi
# The toolchain and Wine (scripts/bootstrap.sh checks and installs; quick when all is there),
# then the DLL and the clients. ctest's bench_smoke sets OPENDO_BENCH_NO_BUILD: the build is
# done, and a build from inside ctest would race the other tests.
if [ -z "${OPENDO_BENCH_NO_BUILD:-}" ]; then
    "$top/scripts/bootstrap.sh"
    "$top/scripts/build.sh" opendo bench_bits bench_winhttp bench_wininet >/dev/null
fi

bench=$build/bench
mkdir -p "$bench/results"
. "$top/scripts/utf8locale.sh"
export WINEPREFIX=$bench/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost

"$top/scripts/wineprefix.sh" "$WINEPREFIX"

nginx_started=
cleanup() {
    local status=$?
    [ -z "$nginx_started" ] || "$top/scripts/nginx.sh" stop "$bench/nginx" || true
    wineserver -k 2>/dev/null || true
    # The payload and the downloads are big: never leave them behind.
    rm -rf "$bench/www/big.bin" "$bench/www/big.bin.new" "$bench/out"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The prefix's own wineserver, started here so that its pid is known: the driver reads its CPU
# time from /proc. A server left by an earlier session of this prefix is stopped first.
wineserver -k 2>/dev/null || true
wineserver -w 2>/dev/null || true
wineserver -f -p &
server_pid=$!
socket=/tmp/.wine-$(id -u)/server-$(stat -c '%d %i' "$WINEPREFIX" |
    awk '{ printf "%x-%x", $1, $2 }')/socket
for _ in $(seq 100); do
    [ -S "$socket" ] && break
    kill -0 "$server_pid" 2>/dev/null || { echo "bench: wineserver did not start" >&2; exit 1; }
    sleep 0.1
done
# Registration (regsvr32 also brings up Wine's services, outside the measured runs).
wine regsvr32 /s "$(winepath -w "$build/bin/opendo.dll")" </dev/null >/dev/null 2>&1
mkdir -p "$bench/www"
port=$("$top/scripts/nginx.sh" start "$bench/nginx" "$bench/www")
nginx_started=1

json=$bench/results/$(date +%Y%m%d-%H%M%S)-$mode.json
echo "bench: $mode configuration; nginx on 127.0.0.1:$port; wineserver $server_pid" >&2
python3 "$top/bench/bench.py" --top "$top" --build "$build" --port "$port" \
    --wineserver-pid "$server_pid" --mode $mode "${opts[@]}" \
    --markdown "$markdown" --json "$json" --command "$command_line"
