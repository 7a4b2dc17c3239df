/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/record.c: round trips, the layout on disk, and hostile records. */
/* Plain C and CMocka only, no Windows header: scripts/fuzz.sh also builds this natively under
 * ASan and UBSan (and LeakSanitizer), which see out-of-bounds reads and leaks Wine does not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/record.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Asserts a record status, naming both on failure. */
#define assert_status(expected, actual)                                                            \
    do                                                                                             \
    {                                                                                              \
        enum record_status expected_ = (expected), actual_ = (actual);                             \
        if (expected_ != actual_)                                                                  \
            fail_msg("%s:%d: expected %s, got %s", __FILE__, __LINE__,                             \
                     record_status_name(expected_), record_status_name(actual_));                  \
    } while (0)

/* A finished record the test frees. */
struct blob
{
    uint8_t *data;
    size_t size;
};

static struct blob finish(struct record_writer *w)
{
    struct blob b;

    assert_status(RECORD_OK, record_finish(w, &b.data, &b.size));
    assert_non_null(b.data);
    return b;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Appends a field header to buf at *n (the test's own encoder, independent of the writer). */
static void raw_field(uint8_t *buf, size_t *n, uint16_t tag, uint8_t type, uint8_t reserved,
                      uint32_t size)
{
    buf[*n] = (uint8_t)tag;
    buf[*n + 1] = (uint8_t)(tag >> 8);
    buf[*n + 2] = type;
    buf[*n + 3] = reserved;
    put32(buf + *n + 4, size);
    *n += 8;
}

/* Wraps `fields` in a version-1 header with the right length and checksum, in a malloc'ed
 * buffer of exactly that size (so that ASan sees any read past it). */
static struct blob raw_record(const uint8_t *fields, size_t size, uint32_t version)
{
    struct blob b;

    b.size = RECORD_HEADER_SIZE + size + 4;
    assert_non_null(b.data = malloc(b.size));
    put32(b.data, RECORD_MAGIC);
    put32(b.data + 4, version);
    put32(b.data + 8, (uint32_t)b.size);
    if (size)
        memcpy(b.data + RECORD_HEADER_SIZE, fields, size);
    put32(b.data + b.size - 4, record_crc32(b.data, b.size - 4));
    return b;
}

/* Fixes the checksum after a test changed the bytes before it. */
static void reseal(struct blob *b)
{
    put32(b->data + b->size - 4, record_crc32(b->data, b->size - 4));
}

/* record_open on a copy of exactly `size` bytes of data, so that ASan sees any over-read. */
static enum record_status open_copy(const uint8_t *data, size_t size)
{
    struct record_reader r;
    enum record_status status;
    uint8_t *copy = malloc(size ? size : 1);

    assert_non_null(copy);
    if (size)
        memcpy(copy, data, size);
    status = record_open(copy, size, &r);
    free(copy);
    return status;
}

/* The next field must exist and have this tag and type. */
static void next_is(struct record_reader *r, struct record_field *f, uint16_t tag, uint8_t type)
{
    if (!record_next(r, f))
        fail_msg("expected field %u of type %u, got the end", tag, type);
    if (f->tag != tag || f->type != type)
        fail_msg("expected field %u of type %u, got %u of type %u", tag, type, f->tag, f->type);
}

static const uint16_t text[] = u"C:\\d\u00e9p\u00f4t\\\U0001F600.bin";

/* One record with every type, nested groups, an empty group and an empty string. */
static struct blob sample(void)
{
    static const uint8_t bytes[] = {0, 1, 2, 0xfe, 0xff};
    struct record_writer w;

    record_writer_init(&w);
    record_put_u32(&w, 1, 0xdeadbeef);
    record_put_u64(&w, 2, 0x0123456789abcdefull);
    record_put_str(&w, 3, text);
    record_put_str(&w, 4, u"");
    record_put_str(&w, 5, NULL);
    record_put_bytes(&w, 6, bytes, sizeof(bytes));
    record_put_bytes(&w, 7, NULL, 0);
    record_begin(&w, 8);
    record_put_u32(&w, 1, 0);
    record_begin(&w, 9);
    record_put_u64(&w, 2, UINT64_MAX);
    record_end(&w);
    record_begin(&w, 10);
    record_end(&w);
    record_put_u32(&w, 3, UINT32_MAX);
    record_end(&w);
    record_put_u32(&w, 0xffff, 42);
    return finish(&w);
}

static void crc32_matches_zlib(void **state)
{
    /* The check value of CRC-32/ISO-HDLC, the CRC of zlib, PNG and Ethernet. */
    assert_int_equal(0xcbf43926u, record_crc32("123456789", 9));
    assert_int_equal(0, record_crc32(NULL, 0));
}

static void empty_record_layout(void **state)
{
    static const uint8_t header[] = {'O', 'D', 'J', 'R', 1, 0, 0, 0, 16, 0, 0, 0};
    struct record_writer w;
    struct record_reader r;
    struct record_field f;
    struct blob b;

    record_writer_init(&w);
    b = finish(&w);
    assert_int_equal(RECORD_MIN_SIZE, b.size);
    assert_memory_equal(header, b.data, sizeof(header));
    assert_int_equal(record_crc32(b.data, 12), get32(b.data + 12));
    assert_status(RECORD_OK, record_open(b.data, b.size, &r));
    assert_false(record_next(&r, &f));
    free(b.data);
}

static void field_layout(void **state)
{
    /* The bytes on disk are a contract with every later version: pin them down. */
    /* clang-format off */
    static const uint8_t fields[] = {
        0x34, 0x12, RECORD_U32, 0, 4, 0, 0, 0, 0x78, 0x56, 0x34, 0x12,
        0x02, 0x00, RECORD_U64, 0, 8, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1,
        0x03, 0x00, RECORD_STR, 0, 4, 0, 0, 0, 'h', 0, 0xac, 0x20,
        0x04, 0x00, RECORD_GROUP, 0, 9, 0, 0, 0,
            0x05, 0x00, RECORD_BYTES, 0, 1, 0, 0, 0, 0xaa,
    };
    /* clang-format on */
    struct record_writer w;
    struct blob b;

    record_writer_init(&w);
    record_put_u32(&w, 0x1234, 0x12345678);
    record_put_u64(&w, 2, 0x0102030405060708ull);
    record_put_str(&w, 3, u"h\u20ac");
    record_begin(&w, 4);
    record_put_bytes(&w, 5, "\xaa", 1);
    record_end(&w);
    b = finish(&w);
    assert_int_equal(RECORD_HEADER_SIZE + sizeof(fields) + 4, b.size);
    assert_int_equal(b.size, get32(b.data + 8));
    assert_memory_equal(fields, b.data + RECORD_HEADER_SIZE, sizeof(fields));
    assert_int_equal(record_crc32(b.data, b.size - 4), get32(b.data + b.size - 4));
    free(b.data);
}

static void round_trip(void **state)
{
    struct record_reader r, group, inner;
    struct record_field f, g;
    uint16_t str[64];
    uint32_t u32;
    uint64_t u64;
    struct blob b = sample();

    assert_status(RECORD_OK, record_open(b.data, b.size, &r));
    next_is(&r, &f, 1, RECORD_U32);
    assert_true(record_get_u32(&f, &u32));
    assert_int_equal(0xdeadbeef, u32);
    next_is(&r, &f, 2, RECORD_U64);
    assert_true(record_get_u64(&f, &u64));
    assert_true(u64 == 0x0123456789abcdefull);
    next_is(&r, &f, 3, RECORD_STR);
    /* The emoji is a surrogate pair: two characters. */
    assert_int_equal(ARRAY_SIZE(text) - 1, record_str_len(&f));
    assert_true(record_get_str(&f, str, ARRAY_SIZE(str)));
    assert_memory_equal(text, str, sizeof(text));
    next_is(&r, &f, 4, RECORD_STR);
    next_is(&r, &f, 6, RECORD_BYTES);
    assert_int_equal(5, f.size);
    assert_memory_equal("\x00\x01\x02\xfe\xff", f.data, 5);
    next_is(&r, &f, 7, RECORD_BYTES);
    assert_int_equal(0, f.size);
    next_is(&r, &f, 8, RECORD_GROUP);
    assert_true(record_enter(&f, &group));
    next_is(&group, &g, 1, RECORD_U32);
    assert_true(record_get_u32(&g, &u32));
    assert_int_equal(0, u32);
    next_is(&group, &g, 9, RECORD_GROUP);
    assert_true(record_enter(&g, &inner));
    next_is(&inner, &g, 2, RECORD_U64);
    assert_true(record_get_u64(&g, &u64));
    assert_true(u64 == UINT64_MAX);
    assert_false(record_next(&inner, &g));
    next_is(&group, &g, 10, RECORD_GROUP);
    assert_true(record_enter(&g, &inner));
    assert_false(record_next(&inner, &g));
    next_is(&group, &g, 3, RECORD_U32);
    assert_true(record_get_u32(&g, &u32));
    assert_int_equal(UINT32_MAX, u32);
    assert_false(record_next(&group, &g));
    next_is(&r, &f, 0xffff, RECORD_U32);
    assert_false(record_next(&r, &f));
    /* The end stays the end. */
    assert_false(record_next(&r, &f));
    free(b.data);
}

static void empty_and_absent_strings(void **state)
{
    struct record_writer w;
    struct record_reader r;
    struct record_field f;
    uint16_t str[4] = {'x', 'x', 'x', 'x'};
    struct blob b;

    record_writer_init(&w);
    record_put_str(&w, 1, NULL);
    record_put_str(&w, 2, u"");
    record_put_str(&w, 3, NULL);
    b = finish(&w);
    assert_status(RECORD_OK, record_open(b.data, b.size, &r));
    /* Only the empty string is there; both NULLs left no field. */
    next_is(&r, &f, 2, RECORD_STR);
    assert_int_equal(0, f.size);
    assert_int_equal(0, record_str_len(&f));
    assert_true(record_get_str(&f, str, 1));
    assert_int_equal(0, str[0]);
    assert_int_equal('x', str[1]);
    /* Not even the terminator fits in no room. */
    assert_false(record_get_str(&f, str, 0));
    assert_false(record_next(&r, &f));
    free(b.data);
}

static void typed_access_checks_type(void **state)
{
    struct record_reader r;
    struct record_field u32f, u64f, strf, bytesf, groupf;
    struct record_reader inner;
    uint16_t str[64];
    uint32_t u32 = 7;
    uint64_t u64 = 7;
    struct blob b = sample();
    size_t len;

    assert_status(RECORD_OK, record_open(b.data, b.size, &r));
    next_is(&r, &u32f, 1, RECORD_U32);
    next_is(&r, &u64f, 2, RECORD_U64);
    next_is(&r, &strf, 3, RECORD_STR);
    next_is(&r, &bytesf, 4, RECORD_STR);
    next_is(&r, &bytesf, 6, RECORD_BYTES);
    next_is(&r, &groupf, 7, RECORD_BYTES);
    next_is(&r, &groupf, 8, RECORD_GROUP);
    assert_false(record_get_u64(&u32f, &u64));
    assert_false(record_get_u32(&u64f, &u32));
    assert_false(record_get_u32(&strf, &u32));
    assert_false(record_get_u32(&groupf, &u32));
    assert_false(record_get_u64(&bytesf, &u64));
    assert_int_equal(7, u32);
    assert_true(u64 == 7);
    assert_int_equal(0, record_str_len(&u64f));
    assert_int_equal(0, record_str_len(&groupf));
    assert_false(record_get_str(&bytesf, str, ARRAY_SIZE(str)));
    assert_false(record_enter(&u32f, &inner));
    assert_false(record_enter(&strf, &inner));
    /* A string fits in its length + 1 characters, not in fewer. */
    len = record_str_len(&strf);
    assert_false(record_get_str(&strf, str, len));
    assert_true(record_get_str(&strf, str, len + 1));
    assert_int_equal(0, str[len]);
    free(b.data);
}

static void unknown_tags_and_types_skipped(void **state)
{
    uint8_t fields[128];
    size_t n = 0;
    struct record_reader r;
    struct record_field f;
    uint32_t u32;
    struct blob b;

    /* A newer writer's record: known tags 1 and 2 around fields an older reader does not
     * know, one of them of a type it does not know, one a group of more such fields. */
    raw_field(fields, &n, 1, RECORD_U32, 0, 4);
    put32(fields + n, 11), n += 4;
    raw_field(fields, &n, 900, 0x7f, 0, 3);
    memcpy(fields + n, "abc", 3), n += 3;
    raw_field(fields, &n, 901, RECORD_GROUP, 0, 8 + 5 + 8);
    raw_field(fields, &n, 5, 0x42, 0, 5);
    memcpy(fields + n, "\x00\x00\x00\x00\x00", 5), n += 5;
    raw_field(fields, &n, 6, RECORD_GROUP, 0, 0);
    raw_field(fields, &n, 2, RECORD_U32, 0, 4);
    put32(fields + n, 22), n += 4;
    b = raw_record(fields, n, RECORD_VERSION);
    assert_status(RECORD_OK, record_open(b.data, b.size, &r));

    /* A reader that looks for its tags finds both, whatever lies between. */
    u32 = 0;
    while (record_next(&r, &f))
    {
        uint32_t value;
        if (f.tag == 1 && record_get_u32(&f, &value))
            u32 += value;
        else if (f.tag == 2 && record_get_u32(&f, &value))
            u32 += value * 100;
        else if (f.type == 0x7f)
        {
            /* An unknown type is no string, no group, no number. */
            assert_int_equal(3, f.size);
            assert_false(record_enter(&f, &(struct record_reader){0}));
            assert_false(record_get_u32(&f, &value));
            assert_int_equal(0, record_str_len(&f));
        }
    }
    assert_int_equal(11 + 2200, u32);
    free(b.data);
}

static void rewrite_keeps_unknown_fields(void **state)
{
    uint8_t fields[64];
    size_t n = 0;
    struct record_writer w;
    struct record_reader r;
    struct record_field f;
    struct blob in, out;

    raw_field(fields, &n, 900, 0x7f, 0, 3);
    memcpy(fields + n, "abc", 3), n += 3;
    raw_field(fields, &n, 901, RECORD_GROUP, 0, 8 + 4);
    raw_field(fields, &n, 5, RECORD_U32, 0, 4);
    put32(fields + n, 5), n += 4;
    in = raw_record(fields, n, RECORD_VERSION);
    assert_status(RECORD_OK, record_open(in.data, in.size, &r));
    record_writer_init(&w);
    while (record_next(&r, &f))
        record_put_field(&w, &f);
    out = finish(&w);
    assert_int_equal(in.size, out.size);
    assert_memory_equal(in.data, out.data, in.size);
    free(in.data);
    free(out.data);
}

static void truncated_at_every_length(void **state)
{
    struct blob b = sample();

    for (size_t len = 0; len < b.size; len++)
    {
        enum record_status status = open_copy(b.data, len);
        if (status != RECORD_TRUNCATED)
            fail_msg("%lu of %lu bytes: %s, expected truncated", (unsigned long)len,
                     (unsigned long)b.size, record_status_name(status));
    }
    assert_status(RECORD_OK, open_copy(b.data, b.size));
    free(b.data);
}

static void trailing_bytes_corrupt(void **state)
{
    struct blob b = sample();
    uint8_t *longer = malloc(b.size + 1);

    assert_non_null(longer);
    memcpy(longer, b.data, b.size);
    longer[b.size] = 0;
    assert_status(RECORD_CORRUPT, open_copy(longer, b.size + 1));
    free(longer);
    free(b.data);
}

static void any_flipped_bit_detected(void **state)
{
    struct blob b = sample();

    for (size_t i = 0; i < b.size * 8; i++)
    {
        enum record_status status, expected;
        b.data[i / 8] ^= (uint8_t)(1 << i % 8);
        status = open_copy(b.data, b.size);
        /* A bit of the version word makes a newer version (or 0, corrupt); one of the length
         * word a record longer (truncated) or shorter (corrupt) than the bytes there are. */
        if (i / 8 >= 4 && i / 8 < 8)
            expected = i == 32 ? RECORD_CORRUPT : RECORD_FUTURE_VERSION;
        else if (i / 8 >= 8 && i / 8 < 12)
            expected = b.data[i / 8] & (1 << i % 8) ? RECORD_TRUNCATED : RECORD_CORRUPT;
        else
            expected = RECORD_CORRUPT;
        if (status != expected)
            fail_msg("bit %lu flipped: %s, expected %s", (unsigned long)i,
                     record_status_name(status), record_status_name(expected));
        b.data[i / 8] ^= (uint8_t)(1 << i % 8);
    }
    assert_status(RECORD_OK, open_copy(b.data, b.size));
    free(b.data);
}

static void future_version(void **state)
{
    struct record_reader r;
    struct record_field f;
    struct blob b = raw_record(NULL, 0, RECORD_VERSION + 1);

    assert_status(RECORD_FUTURE_VERSION, record_open(b.data, b.size, &r));
    assert_false(record_next(&r, &f));
    /* A newer version may change everything after its version word: its length, its
     * checksum, its fields. */
    put32(b.data + 8, 0xffffffff);
    put32(b.data + 12, 0);
    assert_status(RECORD_FUTURE_VERSION, record_open(b.data, b.size, &r));
    assert_status(RECORD_FUTURE_VERSION, open_copy(b.data, RECORD_HEADER_SIZE));
    put32(b.data + 4, 0xffffffff);
    assert_status(RECORD_FUTURE_VERSION, record_open(b.data, b.size, &r));
    free(b.data);

    b = raw_record(NULL, 0, 0);
    assert_status(RECORD_CORRUPT, record_open(b.data, b.size, &r));
    free(b.data);
}

static void wrong_magic(void **state)
{
    struct record_reader r;
    struct record_field f;
    struct blob b = sample();

    b.data[3] = 'S';
    reseal(&b);
    assert_status(RECORD_CORRUPT, record_open(b.data, b.size, &r));
    assert_false(record_next(&r, &f));
    /* Too short for a record, and not its start either. */
    assert_status(RECORD_CORRUPT, open_copy((const uint8_t *)"OX", 2));
    assert_status(RECORD_CORRUPT, open_copy((const uint8_t *)"{\"job\": 1}", 10));
    assert_status(RECORD_TRUNCATED, open_copy((const uint8_t *)"ODJ", 3));
    free(b.data);
}

static void oversized_declared_length(void **state)
{
    struct record_reader r;
    struct blob b = sample();

    /* A length beyond the bytes there are: the reader never goes past them. */
    put32(b.data + 8, 0xffffffff);
    reseal(&b);
    assert_status(RECORD_TRUNCATED, record_open(b.data, b.size, &r));
    put32(b.data + 8, (uint32_t)b.size + 1);
    reseal(&b);
    assert_status(RECORD_TRUNCATED, record_open(b.data, b.size, &r));
    /* Shorter than the bytes, or than any record. */
    put32(b.data + 8, (uint32_t)b.size - 1);
    reseal(&b);
    assert_status(RECORD_CORRUPT, record_open(b.data, b.size, &r));
    put32(b.data + 8, RECORD_MIN_SIZE - 1);
    reseal(&b);
    assert_status(RECORD_CORRUPT, open_copy(b.data, RECORD_MIN_SIZE - 1));
    free(b.data);
}

static void oversized_field_lengths(void **state)
{
    static const uint32_t sizes[] = {0xffffffff, 0x80000000, 0xfffffff8, 5, 13};
    uint8_t fields[64];
    struct blob b;
    size_t n;

    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
    {
        /* A field that runs past the record, with a checksum that matches. */
        n = 0;
        raw_field(fields, &n, 1, RECORD_BYTES, 0, sizes[i]);
        memcpy(fields + n, "abcd", 4), n += 4;
        b = raw_record(fields, n, RECORD_VERSION);
        assert_status(RECORD_CORRUPT, open_copy(b.data, b.size));
        free(b.data);

        /* A field in a group that runs past the group, though not past the record. */
        n = 0;
        raw_field(fields, &n, 1, RECORD_GROUP, 0, 8 + 4);
        raw_field(fields, &n, 2, RECORD_BYTES, 0, sizes[i]);
        memcpy(fields + n, "abcd", 4), n += 4;
        memset(fields + n, 0, 16), n += 16;
        b = raw_record(fields, n, RECORD_VERSION);
        assert_status(RECORD_CORRUPT, open_copy(b.data, b.size));
        free(b.data);
    }
    /* Less than a field header left. */
    n = 0;
    raw_field(fields, &n, 1, RECORD_U32, 0, 4);
    memcpy(fields + n, "abcd", 4), n += 4;
    memset(fields + n, 0, 7), n += 7;
    b = raw_record(fields, n, RECORD_VERSION);
    assert_status(RECORD_CORRUPT, open_copy(b.data, b.size));
    free(b.data);
}

static void malformed_fields(void **state)
{
    struct
    {
        uint8_t type, reserved;
        uint32_t size;
        const char *data;
    } cases[] = {
        {RECORD_U32, 0, 3, "abc"},   {RECORD_U32, 0, 8, "abcdefgh"}, {RECORD_U64, 0, 4, "abcd"},
        {RECORD_U64, 0, 0, ""},      {RECORD_STR, 0, 3, "a\0b"},     {RECORD_STR, 0, 4, "a\0\0\0"},
        {RECORD_STR, 0, 2, "\0\0"},  {RECORD_U32, 1, 4, "abcd"},     {RECORD_BYTES, 0x80, 1, "a"},
        {RECORD_GROUP, 0, 3, "abc"},
    };
    uint8_t fields[64];
    struct blob b;
    size_t n;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
    {
        enum record_status status;
        n = 0;
        raw_field(fields, &n, 1, cases[i].type, cases[i].reserved, cases[i].size);
        memcpy(fields + n, cases[i].data, cases[i].size), n += cases[i].size;
        b = raw_record(fields, n, RECORD_VERSION);
        if ((status = open_copy(b.data, b.size)) != RECORD_CORRUPT)
            fail_msg("case %lu: %s, expected corrupt", (unsigned long)i,
                     record_status_name(status));
        free(b.data);
    }
    /* The same string without the 0 is fine. */
    n = 0;
    raw_field(fields, &n, 1, RECORD_STR, 0, 4);
    memcpy(fields + n, "a\0\0\1", 4), n += 4;
    b = raw_record(fields, n, RECORD_VERSION);
    assert_status(RECORD_OK, open_copy(b.data, b.size));
    free(b.data);
}

/* Raw fields of `depth` groups one inside the other, a u32 in the innermost. */
static size_t nested_groups(uint8_t *fields, unsigned int depth)
{
    size_t n = 0;

    for (unsigned int i = 0; i < depth; i++)
        raw_field(fields, &n, (uint16_t)i, RECORD_GROUP, 0, (depth - 1 - i) * 8 + 12);
    raw_field(fields, &n, 99, RECORD_U32, 0, 4);
    put32(fields + n, 99), n += 4;
    return n;
}

static void groups_too_deep(void **state)
{
    uint8_t fields[RECORD_MAX_DEPTH * 16 + 64];
    struct record_writer w;
    struct record_reader r;
    struct record_field f;
    uint8_t *out;
    size_t size;
    struct blob b;
    uint32_t u32;

    /* The writer nests RECORD_MAX_DEPTH groups, and the reader reads them. */
    record_writer_init(&w);
    for (int i = 0; i < RECORD_MAX_DEPTH; i++)
        record_begin(&w, (uint16_t)i);
    record_put_u32(&w, 99, 99);
    for (int i = 0; i < RECORD_MAX_DEPTH; i++)
        record_end(&w);
    b = finish(&w);
    assert_status(RECORD_OK, record_open(b.data, b.size, &r));
    for (int i = 0; i < RECORD_MAX_DEPTH; i++)
    {
        next_is(&r, &f, (uint16_t)i, RECORD_GROUP);
        assert_true(record_enter(&f, &r));
    }
    next_is(&r, &f, 99, RECORD_U32);
    assert_true(record_get_u32(&f, &u32));
    assert_int_equal(99, u32);
    /* The test's encoder agrees with the writer. */
    size = nested_groups(fields, RECORD_MAX_DEPTH);
    assert_int_equal(b.size, RECORD_HEADER_SIZE + size + 4);
    assert_memory_equal(fields, b.data + RECORD_HEADER_SIZE, size);
    free(b.data);

    /* One more is refused by the writer... */
    record_writer_init(&w);
    for (int i = 0; i <= RECORD_MAX_DEPTH; i++)
        record_begin(&w, (uint16_t)i);
    record_put_u32(&w, 99, 99);
    for (int i = 0; i <= RECORD_MAX_DEPTH; i++)
        record_end(&w);
    assert_status(RECORD_BAD_NESTING, record_finish(&w, &out, &size));
    assert_null(out);
    assert_int_equal(0, size);
    record_writer_free(&w);

    /* ...and by the reader, even with a checksum that matches. */
    size = nested_groups(fields, RECORD_MAX_DEPTH + 1);
    b = raw_record(fields, size, RECORD_VERSION);
    assert_status(RECORD_CORRUPT, open_copy(b.data, b.size));
    free(b.data);
}

static void writer_nesting_misuse(void **state)
{
    struct record_writer w;
    uint8_t *out;
    size_t size;

    record_writer_init(&w);
    record_end(&w);
    record_put_u32(&w, 1, 1);
    assert_status(RECORD_BAD_NESTING, record_finish(&w, &out, &size));
    assert_null(out);

    record_begin(&w, 1);
    record_put_u32(&w, 1, 1);
    assert_status(RECORD_BAD_NESTING, record_finish(&w, &out, &size));
    assert_null(out);

    /* After a failure, the writer is empty and writes the next record. */
    record_put_u32(&w, 2, 2);
    assert_status(RECORD_OK, record_finish(&w, &out, &size));
    assert_int_equal(RECORD_MIN_SIZE + 12, size);
    free(out);
    record_writer_free(&w);
}

static void writer_too_large(void **state)
{
    static const uint8_t byte = 1;
    struct record_writer w;
    uint8_t *out;
    size_t size;

    /* Refused before a byte of data is read (there is one) or a byte allocated. */
    record_writer_init(&w);
    record_put_u32(&w, 1, 1);
    record_put_bytes(&w, 2, &byte, (size_t)RECORD_MAX_SIZE);
    record_put_u32(&w, 3, 3);
    assert_status(RECORD_TOO_LARGE, record_finish(&w, &out, &size));
    assert_null(out);
    record_put_bytes(&w, 2, &byte, SIZE_MAX);
    assert_status(RECORD_TOO_LARGE, record_finish(&w, &out, &size));
    record_put_bytes(&w, 2, &byte, RECORD_MAX_SIZE - RECORD_MIN_SIZE - 8 + 1);
    assert_status(RECORD_TOO_LARGE, record_finish(&w, &out, &size));
    record_writer_free(&w);
}

static int grow_calls, grow_fail_at;

/* realloc that fails on its grow_fail_at'th call. */
static void *failing_grow(void *block, size_t size)
{
    if (++grow_calls == grow_fail_at)
        return NULL;
    return realloc(block, size);
}

static void writer_out_of_memory(void **state)
{
    static const uint8_t kilobyte[1024];
    struct record_writer w;
    uint8_t *out;
    size_t size;

    for (grow_fail_at = 1; grow_fail_at <= 3; grow_fail_at++)
    {
        grow_calls = 0;
        record_writer_init(&w);
        w.grow = failing_grow;
        for (int i = 0; i < 8; i++)
            record_put_bytes(&w, 1, kilobyte, sizeof(kilobyte));
        record_begin(&w, 2);
        record_end(&w);
        assert_status(RECORD_NO_MEMORY, record_finish(&w, &out, &size));
        assert_null(out);
        assert_int_equal(0, size);
        /* Nothing was tried after the failure. */
        assert_int_equal(grow_fail_at, grow_calls);
        record_writer_free(&w);
    }
    /* An empty record still needs its buffer. */
    grow_calls = 0;
    grow_fail_at = 1;
    record_writer_init(&w);
    w.grow = failing_grow;
    assert_status(RECORD_NO_MEMORY, record_finish(&w, &out, &size));
    /* The writer keeps the test's allocator, and writes the next record with it. */
    assert_status(RECORD_OK, record_finish(&w, &out, &size));
    assert_int_equal(2, grow_calls);
    free(out);
    record_writer_free(&w);
}

static void writer_free_without_finish(void **state)
{
    struct record_writer w;

    record_writer_init(&w);
    record_begin(&w, 1);
    record_put_str(&w, 2, u"left behind");
    /* LeakSanitizer, in the native run, sees whether this frees the buffer. */
    record_writer_free(&w);
    record_writer_free(&w);
    assert_null(w.buf);
}

static void status_names(void **state)
{
    assert_string_equal("ok", record_status_name(RECORD_OK));
    assert_string_equal("truncated", record_status_name(RECORD_TRUNCATED));
    assert_string_equal("corrupt", record_status_name(RECORD_CORRUPT));
    assert_string_equal("future version", record_status_name(RECORD_FUTURE_VERSION));
    assert_string_equal("out of memory", record_status_name(RECORD_NO_MEMORY));
    assert_string_equal("too large", record_status_name(RECORD_TOO_LARGE));
    assert_string_equal("bad nesting", record_status_name(RECORD_BAD_NESTING));
    assert_string_equal("unknown status", record_status_name((enum record_status)99));
}

static void reader_never_opened_walks_nothing(void **state)
{
    struct record_reader r;
    struct record_field f;

    /* A failed open leaves a reader that says "end", not one that walks garbage. */
    memset(&r, 0xa5, sizeof(r));
    assert_status(RECORD_CORRUPT, record_open((const uint8_t *)"nope", 4, &r));
    assert_false(record_next(&r, &f));
    memset(&r, 0, sizeof(r));
    assert_false(record_next(&r, &f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32_matches_zlib),
        cmocka_unit_test(empty_record_layout),
        cmocka_unit_test(field_layout),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(empty_and_absent_strings),
        cmocka_unit_test(typed_access_checks_type),
        cmocka_unit_test(unknown_tags_and_types_skipped),
        cmocka_unit_test(rewrite_keeps_unknown_fields),
        cmocka_unit_test(truncated_at_every_length),
        cmocka_unit_test(trailing_bytes_corrupt),
        cmocka_unit_test(any_flipped_bit_detected),
        cmocka_unit_test(future_version),
        cmocka_unit_test(wrong_magic),
        cmocka_unit_test(oversized_declared_length),
        cmocka_unit_test(oversized_field_lengths),
        cmocka_unit_test(malformed_fields),
        cmocka_unit_test(groups_too_deep),
        cmocka_unit_test(writer_nesting_misuse),
        cmocka_unit_test(writer_too_large),
        cmocka_unit_test(writer_out_of_memory),
        cmocka_unit_test(writer_free_without_finish),
        cmocka_unit_test(status_names),
        cmocka_unit_test(reader_never_opened_walks_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
