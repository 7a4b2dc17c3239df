/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/ranges.c: range checks, totals, positions, request plans and walks. */
#include <stdlib.h>
#include "testutil.h"
#include "core/ranges.h"

#define R(o, l)                                                                                    \
    {                                                                                              \
        (o), (l)                                                                                   \
    }
#define EOF_LEN RANGE_TO_EOF
#define UNKNOWN RANGE_SIZE_UNKNOWN

/* Asserts what ranges_check says about a literal array, naming the line on failure. */
#define check_ranges(expected, ...)                                                                \
    do                                                                                             \
    {                                                                                              \
        const struct byte_range r_[] = {__VA_ARGS__};                                              \
        enum ranges_status s_ = ranges_check(r_, ARRAY_SIZE(r_));                                  \
        if (s_ != (expected))                                                                      \
            fail_msg("line %d: ranges_check = %d, expected %d (%s)", __LINE__, s_, (expected),     \
                     #expected);                                                                   \
    } while (0)

static void check_valid(void **state)
{
    assert_int_equal(ranges_check(NULL, 0), RANGES_OK);
    check_ranges(RANGES_OK, R(0, 1));
    check_ranges(RANGES_OK, R(0, 10), R(10, 10), R(30, 1));
    /* The order given is the order stored: the BITS example 100-199, 900-999, 400-499. */
    check_ranges(RANGES_OK, R(100, 100), R(900, 100), R(400, 100));
    check_ranges(RANGES_OK, R(0, EOF_LEN));
    check_ranges(RANGES_OK, R(0, 5), R(100, EOF_LEN));
    /* A range to the end may come first in the order given, if its offset is the highest. */
    check_ranges(RANGES_OK, R(1000, EOF_LEN), R(0, 100), R(200, 100));
    check_ranges(RANGES_OK, R(UINT64_MAX - 2, 1));
    check_ranges(RANGES_OK, R(UINT64_MAX - 2, EOF_LEN));
}

static void check_invalid(void **state)
{
    check_ranges(RANGES_INVALID, R(EOF_LEN, 5));
    check_ranges(RANGES_INVALID, R(EOF_LEN, EOF_LEN));
    check_ranges(RANGES_INVALID, R(0, 5), R(EOF_LEN, 1));
    check_ranges(RANGES_INVALID, R(0, 0));
    check_ranges(RANGES_INVALID, R(0, 10), R(20, 0));
    /* offset + length must stay representable. */
    check_ranges(RANGES_INVALID, R(UINT64_MAX - 2, 2));
    check_ranges(RANGES_INVALID, R(2, UINT64_MAX - 2));
    /* Equal offsets, zero length first: ordered, so not overlapping, but empty. */
    check_ranges(RANGES_INVALID, R(100, 0), R(100, 5));
    /* An invalid offset is reported before an overlap. */
    check_ranges(RANGES_INVALID, R(0, 10), R(5, 10), R(EOF_LEN, 1));
}

static void check_overlapping(void **state)
{
    check_ranges(RANGES_OVERLAPPING, R(0, 10), R(5, 10));
    check_ranges(RANGES_OVERLAPPING, R(5, 10), R(0, 10));
    check_ranges(RANGES_OVERLAPPING, R(0, 10), R(0, 10));
    check_ranges(RANGES_OVERLAPPING, R(0, 100), R(10, 5));
    /* The documented case: equal offsets in decreasing-length order. */
    check_ranges(RANGES_OVERLAPPING, R(100, 5), R(100, 0));
    /* A range to the end overlaps every range after its offset, in any order given. */
    check_ranges(RANGES_OVERLAPPING, R(0, EOF_LEN), R(100, 5));
    check_ranges(RANGES_OVERLAPPING, R(100, 5), R(50, EOF_LEN));
    check_ranges(RANGES_OVERLAPPING, R(300, 5), R(0, 10), R(100, 300));
    check_ranges(RANGES_OVERLAPPING, R(10, 5), R(10, EOF_LEN));
}

static void check_many(void **state)
{
    enum
    {
        COUNT = 100000
    };
    struct byte_range *ranges = malloc(COUNT * sizeof(*ranges));
    size_t i;

    assert_non_null(ranges);
    /* No cap on the number of ranges, in order or reversed. */
    for (i = 0; i < COUNT; i++)
        ranges[i] = (struct byte_range)R(i * 2048, 1024);
    assert_int_equal(ranges_check(ranges, COUNT), RANGES_OK);
    for (i = 0; i < COUNT; i++)
        ranges[i] = (struct byte_range)R((COUNT - 1 - i) * 2048, 1024);
    assert_int_equal(ranges_check(ranges, COUNT), RANGES_OK);
    /* One overlap deep inside the reversed list is found. */
    ranges[COUNT / 2].length = 4096;
    assert_int_equal(ranges_check(ranges, COUNT), RANGES_OVERLAPPING);
    free(ranges);
}

static void check_sizes(void **state)
{
    const struct byte_range fixed[] = {R(100, 100), R(900, 100), R(400, 50)};
    const struct byte_range open[] = {R(100, 100), R(1000, EOF_LEN)};

    assert_true(range_end(&fixed[0], UNKNOWN) == 200);
    assert_true(range_end(&open[1], UNKNOWN) == UNKNOWN);
    assert_true(range_end(&open[1], 1500) == 1500);
    assert_true(range_end(&open[1], 500) == 1000);

    assert_true(ranges_total(fixed, 3, UNKNOWN) == 250);
    assert_true(ranges_total(fixed, 3, 2000) == 250);
    assert_true(ranges_total(open, 2, UNKNOWN) == UNKNOWN);
    assert_true(ranges_total(open, 2, 1500) == 600);
    assert_true(ranges_total(NULL, 0, UNKNOWN) == 0);

    assert_true(ranges_fit(fixed, 3, 1000));
    assert_false(ranges_fit(fixed, 3, 999));
    assert_true(ranges_fit(open, 2, 1001));
    /* A range to the end needs at least one byte. */
    assert_false(ranges_fit(open, 2, 1000));
    assert_false(ranges_fit(open, 2, 150));
}

static void fit_unchecked_ranges(void **state)
{
    /* ranges_fit may see ranges that never went through ranges_check (a stored job's): an end
     * past 2^64 - 1 lies outside any file, and must not wrap round into it. fuzz/fuzz_ranges.c
     * found it. */
    const struct byte_range wrapping[] = {R(UINT64_MAX - 255, 512)};
    const struct byte_range huge[] = {R(10, UINT64_MAX - 1)};

    assert_false(ranges_fit(wrapping, 1, 1000));
    assert_false(ranges_fit(huge, 1, 1000));
    assert_false(ranges_fit(huge, 1, UINT64_MAX - 2));
}

static void check_locate(void **state)
{
    const struct byte_range fixed[] = {R(100, 100), R(900, 100), R(400, 50)};
    const struct byte_range open[] = {R(1000, EOF_LEN), R(0, 10)};
    uint64_t within = 99;

    assert_int_equal(ranges_locate(fixed, 3, UNKNOWN, 0, &within), 0);
    assert_true(within == 0);
    assert_int_equal(ranges_locate(fixed, 3, UNKNOWN, 99, &within), 0);
    assert_true(within == 99);
    assert_int_equal(ranges_locate(fixed, 3, UNKNOWN, 100, &within), 1);
    assert_true(within == 0);
    assert_int_equal(ranges_locate(fixed, 3, UNKNOWN, 249, &within), 2);
    assert_true(within == 49);
    assert_int_equal(ranges_locate(fixed, 3, UNKNOWN, 250, &within), 3);
    assert_true(within == 0);
    /* Unknown size: the range to the end is endless. */
    assert_int_equal(ranges_locate(open, 2, UNKNOWN, 5000, &within), 0);
    assert_true(within == 5000);
    assert_int_equal(ranges_locate(open, 2, 1500, 499, &within), 0);
    assert_true(within == 499);
    assert_int_equal(ranges_locate(open, 2, 1500, 505, &within), 1);
    assert_true(within == 5);
}

static void check_plan(void **state)
{
    const struct byte_range ranges[] = {R(0, 10),  R(20, 10), R(100, 10),     R(110, 10),
                                        R(50, 10), R(60, 5),  R(300, EOF_LEN)};
    struct range_span span;

    /* Gaps up to 10 bytes are bridged; 70 is too far. */
    ranges_plan(ranges, ARRAY_SIZE(ranges), UNKNOWN, 0, 0, 10, &span);
    assert_true(span.first == 0 && span.end == 30);
    assert_int_equal(span.index, 0);
    assert_int_equal(span.range_count, 2);
    /* Continuing inside a range. */
    ranges_plan(ranges, ARRAY_SIZE(ranges), UNKNOWN, 1, 4, 10, &span);
    assert_true(span.first == 24 && span.end == 30);
    assert_int_equal(span.range_count, 1);
    assert_true(span.within == 4);
    ranges_plan(ranges, ARRAY_SIZE(ranges), UNKNOWN, 1, 4, 1000, &span);
    assert_true(span.first == 24 && span.end == 120);
    assert_int_equal(span.range_count, 3);
    /* A range at a lower offset starts a new request. */
    ranges_plan(ranges, ARRAY_SIZE(ranges), UNKNOWN, 2, 0, 1000, &span);
    assert_int_equal(span.range_count, 2);
    /* A range to the end of an unknown size ends the span, open. */
    ranges_plan(ranges, ARRAY_SIZE(ranges), UNKNOWN, 4, 0, 1000, &span);
    assert_true(span.first == 50 && span.end == UNKNOWN);
    assert_int_equal(span.range_count, 3);
    ranges_plan(ranges, ARRAY_SIZE(ranges), 400, 4, 0, 1000, &span);
    assert_true(span.first == 50 && span.end == 400);
    assert_int_equal(span.range_count, 3);
}

/* Feeds the answers to every planned span through a walk, in chunks of awkward sizes, and
 * checks that the kept bytes are the concatenation of the ranges. */
static void walk_all(const struct byte_range *ranges, size_t count, const unsigned char *file,
                     uint64_t file_size, uint64_t max_gap, size_t chunk)
{
    uint64_t total = ranges_total(ranges, count, file_size), position = 0, within, skip, keep;
    unsigned char *out = malloc(total + 1), *expected = malloc(total + 1);
    struct range_span span;
    struct range_walk walk;
    size_t index, requests = 0, i;

    assert_non_null(out);
    assert_non_null(expected);
    for (i = 0, keep = 0; i < count; i++)
    {
        uint64_t end = range_end(&ranges[i], file_size);
        memcpy(expected + keep, file + ranges[i].offset, end - ranges[i].offset);
        keep += end - ranges[i].offset;
    }
    while ((index = ranges_locate(ranges, count, file_size, position, &within)) < count)
    {
        uint64_t pos, end;

        ranges_plan(ranges, count, file_size, index, within, max_gap, &span);
        range_walk_init(&walk, ranges, file_size, &span);
        end = span.end == UNKNOWN ? file_size : span.end;
        requests++;
        for (pos = span.first; pos < end;)
        {
            uint64_t avail = end - pos < chunk ? end - pos : chunk;
            while (avail)
            {
                assert_int_equal(range_walk_next(&walk, pos, avail, &skip, &keep), 1);
                assert_true(skip + keep <= avail);
                memcpy(out + position, file + pos + skip, keep);
                position += keep;
                pos += skip + keep;
                avail -= skip + keep;
            }
        }
        /* The span's bytes complete its ranges: nothing more is wanted. */
        assert_int_equal(range_walk_next(&walk, pos, 1, &skip, &keep), 0);
    }
    assert_true(position == total);
    assert_memory_equal(out, expected, total);
    assert_true(requests >= 1);
    free(out);
    free(expected);
}

static void check_walk(void **state)
{
    enum
    {
        SIZE = 1 << 16
    };
    unsigned char *file = malloc(SIZE);
    struct byte_range ranges[300];
    const struct byte_range mixed[] = {R(100, 100), R(900, 100), R(400, 50), R(60000, EOF_LEN),
                                       R(1000, 1)};
    size_t i;

    assert_non_null(file);
    for (i = 0; i < SIZE; i++)
        file[i] = (unsigned char)(i * 7 + (i >> 8));
    /* Every other block, bridged into one request or one request per range. */
    for (i = 0; i < ARRAY_SIZE(ranges); i++)
        ranges[i] = (struct byte_range)R(i * 200, 100);
    walk_all(ranges, ARRAY_SIZE(ranges), file, SIZE, 1000, 4096);
    walk_all(ranges, ARRAY_SIZE(ranges), file, SIZE, 1000, 37);
    walk_all(ranges, ARRAY_SIZE(ranges), file, SIZE, 0, 4096);
    walk_all(ranges, ARRAY_SIZE(ranges), file, SIZE, 99, 1);
    /* Out of order, with a range to the end in the middle. */
    walk_all(mixed, ARRAY_SIZE(mixed), file, SIZE, 1 << 20, 333);
    walk_all(mixed, ARRAY_SIZE(mixed), file, SIZE, 0, 65536);
    free(file);
}

static void check_walk_errors(void **state)
{
    const struct byte_range ranges[] = {R(10, 10), R(30, 10)};
    struct range_span span;
    struct range_walk walk;
    uint64_t skip, keep;

    ranges_plan(ranges, 2, UNKNOWN, 0, 0, 100, &span);
    range_walk_init(&walk, ranges, UNKNOWN, &span);
    /* An answer that starts after the first wanted byte misses bytes. */
    assert_int_equal(range_walk_next(&walk, 11, 5, &skip, &keep), -1);
    assert_int_equal(range_walk_next(&walk, 10, 15, &skip, &keep), 1);
    assert_true(skip == 0 && keep == 10);
    /* The gap 20..29, delivered with the first bytes of the second range. */
    assert_int_equal(range_walk_next(&walk, 20, 5, &skip, &keep), 1);
    assert_true(skip == 5 && keep == 0);
    assert_int_equal(range_walk_next(&walk, 25, 100, &skip, &keep), 1);
    assert_true(skip == 5 && keep == 10);
    assert_int_equal(range_walk_next(&walk, 40, 1, &skip, &keep), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_valid),       cmocka_unit_test(check_invalid),
        cmocka_unit_test(check_overlapping), cmocka_unit_test(check_many),
        cmocka_unit_test(check_sizes),       cmocka_unit_test(fit_unchecked_ranges),
        cmocka_unit_test(check_locate),      cmocka_unit_test(check_plan),
        cmocka_unit_test(check_walk),        cmocka_unit_test(check_walk_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
