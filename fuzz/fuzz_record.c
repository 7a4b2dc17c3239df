/* SPDX-License-Identifier: MIT */
/* libFuzzer target: record_open on hostile bytes, a walk of every field and group, a rewrite. */
/*
 * Each input is opened twice: as it came (which mostly tests the checksum, since the fuzzer
 * rarely guesses one), and "sealed", with the length word and the checksum made right, which
 * lets the mutations reach the field structure. A record that opens must walk without a
 * surprise, and write back byte for byte: the format has one encoding of any content.
 */
#include <string.h>
#include "fuzz.h"
#include "core/record.h"

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

/* Walks one level at `depth`, checking what the reader promises of every field, and copies
 * each field into w. */
static void walk(struct record_reader *r, unsigned int depth, struct record_writer *w)
{
    struct record_field f;
    struct record_reader inner;

    FUZZ_CHECK(depth <= RECORD_MAX_DEPTH);
    while (record_next(r, &f))
    {
        uint32_t u32;
        uint64_t u64;
        size_t len = record_str_len(&f);

        FUZZ_CHECK(record_get_u32(&f, &u32) == (f.type == RECORD_U32));
        FUZZ_CHECK(record_get_u64(&f, &u64) == (f.type == RECORD_U64));
        if (f.type == RECORD_STR)
        {
            uint16_t *s = malloc((len + 1) * sizeof(*s));
            FUZZ_CHECK(s != NULL);
            FUZZ_CHECK(len == f.size / 2);
            FUZZ_CHECK(!record_get_str(&f, s, len));
            FUZZ_CHECK(record_get_str(&f, s, len + 1));
            /* No 0 before the end: the string is as long as its field says. */
            for (size_t i = 0; i < len; i++)
                FUZZ_CHECK(s[i] != 0);
            FUZZ_CHECK(s[len] == 0);
            free(s);
        }
        else
        {
            FUZZ_CHECK(len == 0);
        }
        if (record_enter(&f, &inner))
        {
            FUZZ_CHECK(f.type == RECORD_GROUP);
            record_begin(w, f.tag);
            walk(&inner, depth + 1, w);
            record_end(w);
        }
        else
        {
            FUZZ_CHECK(f.type != RECORD_GROUP);
            record_put_field(w, &f);
        }
    }
}

static void check(const uint8_t *data, size_t size)
{
    struct record_reader r;
    struct record_writer w;
    enum record_status status = record_open(data, size, &r);
    struct record_field f;
    uint8_t *out;
    size_t out_size;

    FUZZ_CHECK(status == RECORD_OK || status == RECORD_TRUNCATED || status == RECORD_CORRUPT ||
               status == RECORD_FUTURE_VERSION);
    if (status != RECORD_OK)
    {
        FUZZ_CHECK(!record_next(&r, &f));
        return;
    }
    record_writer_init(&w);
    walk(&r, 0, &w);
    FUZZ_CHECK(record_finish(&w, &out, &out_size) == RECORD_OK);
    FUZZ_CHECK(out_size == size && !memcmp(out, data, size));
    free(out);
    /* The same by whole top-level fields: record_put_field copies the groups itself. */
    FUZZ_CHECK(record_open(data, size, &r) == RECORD_OK);
    while (record_next(&r, &f))
        record_put_field(&w, &f);
    FUZZ_CHECK(record_finish(&w, &out, &out_size) == RECORD_OK);
    FUZZ_CHECK(out_size == size && !memcmp(out, data, size));
    free(out);
    record_writer_free(&w);
    /* One byte less is a truncated record, whatever it holds. */
    FUZZ_CHECK(record_open(data, size - 1, &r) == RECORD_TRUNCATED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *sealed;

    check(data, size);
    if (size < RECORD_MIN_SIZE || size > RECORD_MAX_SIZE)
        return 0;
    /* A copy of exactly size bytes: ASan sees a read past the record. */
    if (!(sealed = malloc(size)))
        return 0;
    memcpy(sealed, data, size);
    put32(sealed + 8, (uint32_t)size);
    put32(sealed + size - 4, record_crc32(sealed, size - 4));
    check(sealed, size);
    free(sealed);
    return 0;
}
