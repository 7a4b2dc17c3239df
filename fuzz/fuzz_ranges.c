/* SPDX-License-Identifier: MIT */
/* libFuzzer target: ranges_check, then totals, positions, request plans and their walks. */
/*
 * Input: u64 file size (all ones: unknown), u64 largest gap, u64 answer chunk, u64 a position,
 * then ranges of 16 bytes (offset, length; all ones: to the end of the file). Every function
 * runs on whatever ranges come; the properties are checked on ranges that ranges_check accepts
 * and (for a known size) that fit the file, as the engine has them.
 */
#include <string.h>
#include "fuzz.h"
#include "core/ranges.h"

/* Bytes of one checked range in a file of file_size bytes; UINT64_MAX: endless. */
static uint64_t length_of(const struct byte_range *range, uint64_t file_size)
{
    if (range->length != RANGE_TO_EOF)
        return range->length;
    if (file_size == RANGE_SIZE_UNKNOWN)
        return UINT64_MAX;
    return file_size > range->offset ? file_size - range->offset : 0;
}

/* Whether every range lies inside a file of file_size bytes, computed without overflow. */
static int fits(const struct byte_range *ranges, size_t count, uint64_t file_size)
{
    for (size_t i = 0; i < count; i++)
    {
        if (ranges[i].length == RANGE_TO_EOF
                ? ranges[i].offset >= file_size
                : (unsigned __int128)ranges[i].offset + ranges[i].length > file_size)
            return 0;
    }
    return 1;
}

/* Plans the request that continues at byte `within` of range `index`, then plays an answer
 * to it in chunks of `chunk` bytes and checks that the walk keeps exactly the ranges' bytes. */
static void plan_and_walk(const struct byte_range *ranges, size_t count, uint64_t file_size,
                          size_t index, uint64_t within, uint64_t max_gap, uint64_t chunk)
{
    struct range_span span;
    struct range_walk walk;
    uint64_t pos, kept = 0, wanted = 0, skip, keep;
    int ret = 1;

    ranges_plan(ranges, count, file_size, index, within, max_gap, &span);
    FUZZ_CHECK(span.index == index && span.within == within);
    FUZZ_CHECK(span.range_count >= 1 && span.range_count <= count - index);
    FUZZ_CHECK(span.first == ranges[index].offset + within);
    FUZZ_CHECK(span.end == range_end(&ranges[index + span.range_count - 1], file_size));
    FUZZ_CHECK(span.first <= span.end);
    for (size_t i = index; i < index + span.range_count; i++)
    {
        uint64_t length = length_of(&ranges[i], file_size);
        FUZZ_CHECK(range_end(&ranges[i], file_size) <= span.end);
        if (i > index)
        {
            /* Each range served starts at or after the one before, within the gap. */
            uint64_t end = range_end(&ranges[i - 1], file_size);
            FUZZ_CHECK(ranges[i].offset >= end && ranges[i].offset - end <= max_gap);
        }
        if (wanted != UINT64_MAX)
            wanted = length == UINT64_MAX ? UINT64_MAX : wanted + length;
    }
    if (wanted != UINT64_MAX)
        wanted -= within;

    /* The server's answer: bytes [first, end) in chunks; a bounded number of them. */
    range_walk_init(&walk, ranges, file_size, &span);
    pos = span.first;
    for (int i = 0; i < 4096; i++)
    {
        uint64_t avail = chunk;
        if (span.end - pos < avail)
            avail = span.end - pos;
        if (avail == 0)
            break;
        ret = range_walk_next(&walk, pos, avail, &skip, &keep);
        if (ret == 0)
            break;
        FUZZ_CHECK(ret == 1);
        FUZZ_CHECK(skip + keep <= avail && skip + keep > 0);
        pos += skip + keep;
        kept += keep;
    }
    if (ret == 0 || (pos == span.end && span.end != RANGE_SIZE_UNKNOWN))
    {
        /* The whole answer came: every wanted byte was kept, and the walk knows it is done. */
        FUZZ_CHECK(kept == wanted);
        FUZZ_CHECK(range_walk_next(&walk, pos, chunk, &skip, &keep) == 0);
        FUZZ_CHECK(skip == 0 && keep == 0);
    }
    else
    {
        FUZZ_CHECK(wanted == UINT64_MAX || kept < wanted);
    }
    /* Bytes from past the next wanted one are refused. */
    if (ret == 1 && pos < span.end && pos != UINT64_MAX)
    {
        struct range_walk copy = walk;
        FUZZ_CHECK(range_walk_next(&copy, pos + 1, 1, &skip, &keep) == -1 || kept + keep <= wanted);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t file_size = take_le(&data, &size, 8);
    uint64_t max_gap = take_le(&data, &size, 8);
    uint64_t chunk = take_le(&data, &size, 8);
    uint64_t position = take_le(&data, &size, 8), within, total, sum = 0, before = 0;
    size_t count = size / sizeof(struct byte_range), index;
    struct byte_range *ranges;
    enum ranges_status status;
    int known = file_size != RANGE_SIZE_UNKNOWN, fit;

    /* Exactly the ranges: ASan sees a read past the last. */
    if (!(ranges = malloc(count ? count * sizeof(*ranges) : 1)))
        return 0;
    for (size_t i = 0; i < count; i++)
    {
        ranges[i].offset = take_le(&data, &size, 8);
        ranges[i].length = take_le(&data, &size, 8);
    }
    status = ranges_check(ranges, count);
    FUZZ_CHECK(status == RANGES_OK || status == RANGES_INVALID || status == RANGES_OVERLAPPING ||
               status == RANGES_NO_MEMORY);
    /* ranges_fit answers for any ranges, checked or not (a stored job's, say). */
    fit = ranges_fit(ranges, count, file_size);
    FUZZ_CHECK(fit == fits(ranges, count, file_size));
    total = ranges_total(ranges, count, file_size);
    if (count)
        ranges_locate(ranges, count, file_size, position, &within);
    if (status != RANGES_OK)
        goto out;

    /* The total is the sum of the lengths, and ranges that fit a known file hold at most it. */
    for (size_t i = 0; i < count && sum != UINT64_MAX; i++)
    {
        uint64_t length = length_of(&ranges[i], file_size);
        FUZZ_CHECK(length != 0 || known);
        sum = length == UINT64_MAX ? UINT64_MAX : sum + length;
    }
    FUZZ_CHECK(total == (sum == UINT64_MAX ? RANGE_SIZE_UNKNOWN : sum));
    if (known && fit)
        FUZZ_CHECK(total <= file_size);
    if (!count || (known && !fit))
        goto out;

    /* A position maps into the range that holds it. */
    if (total != RANGE_SIZE_UNKNOWN && total)
        position %= total;
    index = ranges_locate(ranges, count, file_size, position, &within);
    if (total != RANGE_SIZE_UNKNOWN)
        FUZZ_CHECK(index < count || position == total);
    if (index < count)
    {
        for (size_t i = 0; i < index; i++)
            before += length_of(&ranges[i], file_size);
        FUZZ_CHECK(within < length_of(&ranges[index], file_size));
        FUZZ_CHECK(before + within == position);
        plan_and_walk(ranges, count, file_size, index, within, max_gap, chunk ? chunk : 1);
    }
    plan_and_walk(ranges, count, file_size, 0, 0, max_gap, chunk ? chunk : 1);
out:
    free(ranges);
    return 0;
}
