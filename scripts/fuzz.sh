#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the pure-C parsers natively with clang and fuzzes them with libFuzzer, under ASan and
# UBSan: first tests/test_record.c natively, then each target of fuzz/ over its corpus.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target (record url ranges httpdate; default
#                                           all) for SECONDS (default 60; 0: the corpus once)
#   scripts/fuzz.sh --seeds                 rewrites the committed seed corpora, fuzz/corpus/
#
# Works in <build>/fuzz (OPENDO_BUILD_DIR as scripts/build.sh): inputs that found new paths go
# to its corpus/, never to the committed seeds; a crashing input is kept in its artifacts/ and
# the script fails naming it (rerun it: <build>/fuzz/fuzz_<target> <file>). Exits 77, which
# ctest counts as a skip, only when clang is not installed (scripts/bootstrap.sh installs it).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${OPENDO_BUILD_DIR:-$top/build}
out=$build/fuzz
cc=${CLANG:-clang}
all_targets=(record url ranges httpdate)

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc is not installed (scripts/bootstrap.sh installs it); skipping" >&2
    exit 77
fi
mkdir -p "$out"

# Native flags: the cross build's own (-Wall ...) plus the sanitizers. -fno-sanitize-recover
# makes UBSan's findings crashes, which libFuzzer keeps.
cflags=(-std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -Werror
        -I"$top/src" -I"$top/fuzz")
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)
# url.c and httpdate.c take wchar_t; Windows' is 16 bits, so theirs is too (fuzz/wchar16.h).
wide=(-fshort-wchar -include "$top/fuzz/wchar16.h")

# Builds $1 from the remaining arguments (sources and flags) unless it is newer than every
# source it is made of, the headers and this script included.
build_if_stale() {
    local bin=$1 f
    shift
    if [ -x "$bin" ]; then
        local stale=
        for f in "$@" "$top"/src/core/*.h "$top"/fuzz/*.h "$0"; do
            if [ -f "$f" ] && [ "$f" -nt "$bin" ]; then
                stale=1
                break
            fi
        done
        [ -n "$stale" ] || return 0
    fi
    echo "fuzz: building $(basename "$bin")"
    "$cc" "${cflags[@]}" "$@" -o "$bin"
}

# The C library's wide functions count 32-bit units: a parser calling one that wchar16.h does
# not replace would be fuzzed wrong, silently. Refuse that.
check_wide_calls() {
    local calls replaced
    replaced=$(sed -n 's/^#define \(w[a-z]*\) fuzz_.*/\1/p' "$top/fuzz/wchar16.h" | paste -sd'|')
    calls=$(grep -ohE '\bw(cs|mem)[a-z]*\s*\(' "$top/src/core/url.c" "$top/src/core/httpdate.c" \
                "$top/fuzz/fuzz_url.c" "$top/fuzz/fuzz_httpdate.c" |
            tr -d ' (' | sort -u | grep -vxE "$replaced" || true)
    if [ -n "$calls" ]; then
        echo "fuzz: replace in fuzz/wchar16.h the wide functions the parsers call:" $calls >&2
        exit 1
    fi
}

build_target() {
    local t=$1 sources=("$top/fuzz/fuzz_$1.c")
    case $t in
        record) sources+=("$top/src/core/record.c") ;;
        url) sources+=("$top/src/core/url.c" "$top/fuzz/wchar16.c" "${wide[@]}") ;;
        ranges) sources+=("$top/src/core/ranges.c") ;;
        httpdate) sources+=("$top/src/core/httpdate.c" "$top/fuzz/wchar16.c" "${wide[@]}") ;;
        *)
            echo "fuzz: no target '$t' (${all_targets[*]})" >&2
            exit 2
            ;;
    esac
    build_if_stale "$out/fuzz_$t" "${sources[@]}" -fsanitize=fuzzer "${sanitize[@]}"
}

if [ "${1:-}" = "--seeds" ]; then
    build_if_stale "$out/seeds" "$top/fuzz/seeds.c" "$top/src/core/record.c" "${sanitize[@]}"
    for t in "${all_targets[@]}"; do
        rm -rf "${top:?}/fuzz/corpus/$t"
        mkdir -p "$top/fuzz/corpus/$t"
    done
    "$out/seeds" "$top/fuzz/corpus"
    echo "fuzz: seeds written to fuzz/corpus/"
    exit 0
fi

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
case $seconds in
    '' | *[!0-9]*)
        echo "usage: scripts/fuzz.sh [seconds] [target...] | --seeds" >&2
        exit 2
        ;;
esac

check_wide_calls
# The record codec's unit tests, natively: ASan, UBSan and LeakSanitizer see what Wine cannot.
if [ ! -f /usr/include/cmocka.h ]; then
    echo "fuzz: CMocka for the native test is missing (scripts/bootstrap.sh installs it)" >&2
    exit 1
fi
build_if_stale "$out/test_record" "$top/tests/test_record.c" "$top/src/core/record.c" \
    "${sanitize[@]}" -lcmocka
if ! "$out/test_record" >"$out/test_record.log" 2>&1; then
    cat "$out/test_record.log" >&2
    echo "fuzz: the native test_record failed" >&2
    exit 1
fi
echo "fuzz: native test_record passed (ASan, UBSan, LeakSanitizer)"

for t in "${targets[@]}"; do
    build_target "$t"
done

status=0
for t in "${targets[@]}"; do
    work=$out/corpus/$t
    mkdir -p "$work" "$out/artifacts"
    args=(-timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
          -artifact_prefix="$out/artifacts/$t-")
    [ ! -f "$top/fuzz/$t.dict" ] || args+=(-dict="$top/fuzz/$t.dict")
    if [ "$seconds" -eq 0 ]; then
        args+=(-runs=0)
    else
        args+=(-max_total_time="$seconds")
    fi
    # New inputs go to the first folder, the work corpus; the seeds are only read.
    if "$out/fuzz_$t" "${args[@]}" "$work" "$top/fuzz/corpus/$t" >"$out/$t.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
        echo "fuzz: $t: ${runs:-?} runs, corpus $(ls "$work" | wc -l) inputs, no failure"
    else
        status=1
        tail -n 40 "$out/$t.log" >&2
        echo "fuzz: $t FAILED; the input: $(sed -n 's/.*Test unit written to //p' "$out/$t.log")" >&2
    fi
done
exit $status
