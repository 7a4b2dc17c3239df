/* SPDX-License-Identifier: MIT */
/* Pure C job records: a versioned, checksummed tag-length-value format (no Win32 calls). */
#include <stdlib.h>
#include <string.h>
#include "core/record.h"

/*
 * The writer keeps room for the header at the start of its buffer and fills it in last, when
 * the length is known. A group is written as a field of size 0 whose size is patched when the
 * group ends. The reader trusts nothing: record_open checks every length against the bytes
 * that are there before anything else looks at them, so that record_next can walk without
 * checks of its own (it keeps cheap ones anyway, for a reader that was never opened).
 *
 * Sizes are compared as "n > room" with room computed without overflow, never as
 * "offset + n > limit", because n comes from a file.
 */

/* Room kept at the end of every record for the checksum. */
#define CRC_SIZE 4u

const char *record_status_name(enum record_status status)
{
    switch (status)
    {
    case RECORD_OK:
        return "ok";
    case RECORD_TRUNCATED:
        return "truncated";
    case RECORD_CORRUPT:
        return "corrupt";
    case RECORD_FUTURE_VERSION:
        return "future version";
    case RECORD_NO_MEMORY:
        return "out of memory";
    case RECORD_TOO_LARGE:
        return "too large";
    case RECORD_BAD_NESTING:
        return "bad nesting";
    }
    return "unknown status";
}

uint32_t record_crc32(const void *data, size_t size)
{
    /* The reflected polynomial 0xedb88320 four bits at a time: a table of 16 is enough for
     * records of a few kilobytes and needs no initialisation. */
    static const uint32_t table[16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
    };
    const uint8_t *p = data;
    uint32_t crc = 0xffffffffu;

    for (size_t i = 0; i < size; i++)
    {
        crc ^= p[i];
        crc = (crc >> 4) ^ table[crc & 15];
        crc = (crc >> 4) ^ table[crc & 15];
    }
    return ~crc;
}

static uint16_t load16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load64(const uint8_t *p)
{
    return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

static void store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void store32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void store64(uint8_t *p, uint64_t v)
{
    store32(p, (uint32_t)v);
    store32(p + 4, (uint32_t)(v >> 32));
}

/* ---- Writer ---- */

static void *default_grow(void *block, size_t size)
{
    return realloc(block, size);
}

void record_writer_init(struct record_writer *w)
{
    memset(w, 0, sizeof(*w));
    w->size = RECORD_HEADER_SIZE;
    w->status = RECORD_OK;
    w->grow = default_grow;
}

void record_writer_free(struct record_writer *w)
{
    void *(*grow)(void *, size_t) = w->grow;

    free(w->buf);
    record_writer_init(w);
    /* A test's allocator stays for the next record. */
    if (grow)
        w->grow = grow;
}

static void fail(struct record_writer *w, enum record_status status)
{
    if (w->status == RECORD_OK)
        w->status = status;
}

/* Makes room for n more bytes (the checksum's kept free) and returns where they go, or NULL
 * after recording why not. */
static uint8_t *reserve(struct record_writer *w, size_t n)
{
    size_t limit = (size_t)RECORD_MAX_SIZE - CRC_SIZE, capacity;
    uint8_t *buf;

    if (w->status != RECORD_OK)
        return NULL;
    if (w->size > limit || n > limit - w->size)
    {
        fail(w, RECORD_TOO_LARGE);
        return NULL;
    }
    /* With a buffer, capacity >= size + CRC_SIZE always holds. */
    if (!w->buf || w->capacity - w->size < n + CRC_SIZE)
    {
        /* Doubling keeps appends amortised. Nothing here overflows, even with a 32-bit size_t:
         * every value stays at most RECORD_MAX_SIZE. */
        capacity = w->capacity <= RECORD_MAX_SIZE / 2 ? w->capacity * 2 : RECORD_MAX_SIZE;
        if (capacity < w->size + n + CRC_SIZE)
            capacity = w->size + n + CRC_SIZE;
        if (capacity < 256)
            capacity = 256;
        if (!(buf = w->grow(w->buf, capacity)))
        {
            fail(w, RECORD_NO_MEMORY);
            return NULL;
        }
        w->buf = buf;
        w->capacity = capacity;
    }
    return w->buf + w->size;
}

/* Appends a field header for size bytes of data and returns where the data goes, or NULL. */
static uint8_t *add_field(struct record_writer *w, uint16_t tag, uint8_t type, size_t size)
{
    uint8_t *p;

    if (size > RECORD_MAX_SIZE - RECORD_FIELD_HEADER_SIZE)
    {
        fail(w, RECORD_TOO_LARGE);
        return NULL;
    }
    if (!(p = reserve(w, RECORD_FIELD_HEADER_SIZE + size)))
        return NULL;
    store16(p, tag);
    p[2] = type;
    p[3] = 0;
    store32(p + 4, (uint32_t)size);
    w->size += RECORD_FIELD_HEADER_SIZE + size;
    return p + RECORD_FIELD_HEADER_SIZE;
}

void record_put_u32(struct record_writer *w, uint16_t tag, uint32_t value)
{
    uint8_t *p = add_field(w, tag, RECORD_U32, 4);

    if (p)
        store32(p, value);
}

void record_put_u64(struct record_writer *w, uint16_t tag, uint64_t value)
{
    uint8_t *p = add_field(w, tag, RECORD_U64, 8);

    if (p)
        store64(p, value);
}

/* A field of any type whose data is copied as it is. */
static void put_raw(struct record_writer *w, uint16_t tag, uint8_t type, const void *data,
                    size_t size)
{
    uint8_t *p = add_field(w, tag, type, size);

    if (p && size)
        memcpy(p, data, size);
}

void record_put_bytes(struct record_writer *w, uint16_t tag, const void *data, size_t size)
{
    put_raw(w, tag, RECORD_BYTES, data, size);
}

void record_put_str(struct record_writer *w, uint16_t tag, const uint16_t *s)
{
    size_t len = 0;
    uint8_t *p;

    if (!s)
        return;
    while (s[len])
        len++;
    /* len * 2 fits: the string itself takes that many bytes of memory. */
    if (!(p = add_field(w, tag, RECORD_STR, len * 2)))
        return;
    for (size_t i = 0; i < len; i++)
        store16(p + 2 * i, s[i]);
}

void record_begin(struct record_writer *w, uint16_t tag)
{
    if (w->status != RECORD_OK)
        return;
    if (w->depth == RECORD_MAX_DEPTH)
    {
        fail(w, RECORD_BAD_NESTING);
        return;
    }
    if (!add_field(w, tag, RECORD_GROUP, 0))
        return;
    w->open[w->depth++] = w->size - RECORD_FIELD_HEADER_SIZE;
}

void record_end(struct record_writer *w)
{
    size_t header;

    if (w->status != RECORD_OK)
        return;
    if (w->depth == 0)
    {
        fail(w, RECORD_BAD_NESTING);
        return;
    }
    header = w->open[--w->depth];
    /* Fits in 32 bits: reserve() keeps the whole record below RECORD_MAX_SIZE. */
    store32(w->buf + header + 4, (uint32_t)(w->size - header - RECORD_FIELD_HEADER_SIZE));
}

void record_put_field(struct record_writer *w, const struct record_field *f)
{
    struct record_reader inner;
    struct record_field child;

    if (!record_enter(f, &inner))
    {
        put_raw(w, f->tag, f->type, f->data, f->size);
        return;
    }
    /* The recursion is as deep as the writer lets groups nest: record_begin refuses more. */
    record_begin(w, f->tag);
    if (w->status != RECORD_OK)
        return;
    while (record_next(&inner, &child))
        record_put_field(w, &child);
    record_end(w);
}

enum record_status record_finish(struct record_writer *w, uint8_t **out, size_t *size)
{
    enum record_status status;
    uint8_t *p;

    *out = NULL;
    *size = 0;
    if (w->depth)
        fail(w, RECORD_BAD_NESTING);
    /* reserve(w, 0) still makes room for the checksum, and a buffer for an empty record. */
    if ((status = w->status) != RECORD_OK || !(p = reserve(w, 0)))
    {
        status = w->status;
        record_writer_free(w);
        return status;
    }
    store32(w->buf, RECORD_MAGIC);
    store32(w->buf + 4, RECORD_VERSION);
    store32(w->buf + 8, (uint32_t)(w->size + CRC_SIZE));
    store32(p, record_crc32(w->buf, w->size));
    *out = w->buf;
    *size = w->size + CRC_SIZE;
    w->buf = NULL;
    record_writer_free(w);
    return RECORD_OK;
}

/* ---- Reader ---- */

/* Checks the fields in [p, end) at `depth`, and the groups among them. The recursion is at
 * most RECORD_MAX_DEPTH deep. */
static enum record_status check_fields(const uint8_t *p, const uint8_t *end, unsigned int depth)
{
    while (p != end)
    {
        size_t room = (size_t)(end - p), size;
        const uint8_t *data;
        uint8_t type;

        if (room < RECORD_FIELD_HEADER_SIZE)
            return RECORD_CORRUPT;
        type = p[2];
        size = load32(p + 4);
        data = p + RECORD_FIELD_HEADER_SIZE;
        if (p[3] != 0 || size > room - RECORD_FIELD_HEADER_SIZE)
            return RECORD_CORRUPT;
        switch (type)
        {
        case RECORD_U32:
            if (size != 4)
                return RECORD_CORRUPT;
            break;
        case RECORD_U64:
            if (size != 8)
                return RECORD_CORRUPT;
            break;
        case RECORD_STR:
            /* The writer never stores a 0: one would make the string shorter than its
             * length says. */
            if (size % 2)
                return RECORD_CORRUPT;
            for (size_t i = 0; i < size; i += 2)
            {
                if (!data[i] && !data[i + 1])
                    return RECORD_CORRUPT;
            }
            break;
        case RECORD_GROUP:
            if (depth + 1 > RECORD_MAX_DEPTH ||
                check_fields(data, data + size, depth + 1) != RECORD_OK)
                return RECORD_CORRUPT;
            break;
        default:
            /* Raw bytes, or a type of a newer writer: skipped by its size. */
            break;
        }
        p = data + size;
    }
    return RECORD_OK;
}

enum record_status record_open(const uint8_t *data, size_t size, struct record_reader *r)
{
    uint8_t magic[4];
    uint32_t version, length;
    enum record_status status;

    r->next = r->end = NULL;
    store32(magic, RECORD_MAGIC);
    for (size_t i = 0; i < size && i < 4; i++)
    {
        if (data[i] != magic[i])
            return RECORD_CORRUPT;
    }
    if (size < RECORD_HEADER_SIZE)
        return RECORD_TRUNCATED;
    version = load32(data + 4);
    if (version > RECORD_VERSION)
        return RECORD_FUTURE_VERSION;
    if (version == 0)
        return RECORD_CORRUPT;
    length = load32(data + 8);
    if (length > size)
        return RECORD_TRUNCATED;
    if (length < RECORD_MIN_SIZE || length < size)
        return RECORD_CORRUPT;
    if (load32(data + size - CRC_SIZE) != record_crc32(data, size - CRC_SIZE))
        return RECORD_CORRUPT;
    status = check_fields(data + RECORD_HEADER_SIZE, data + size - CRC_SIZE, 0);
    if (status != RECORD_OK)
        return status;
    r->next = data + RECORD_HEADER_SIZE;
    r->end = data + size - CRC_SIZE;
    return RECORD_OK;
}

int record_next(struct record_reader *r, struct record_field *f)
{
    size_t room, size;

    if (!r->next || r->next >= r->end)
        return 0;
    room = (size_t)(r->end - r->next);
    if (room < RECORD_FIELD_HEADER_SIZE)
        return 0;
    size = load32(r->next + 4);
    if (size > room - RECORD_FIELD_HEADER_SIZE)
        return 0;
    f->tag = load16(r->next);
    f->type = r->next[2];
    f->data = r->next + RECORD_FIELD_HEADER_SIZE;
    f->size = size;
    r->next = f->data + size;
    return 1;
}

int record_enter(const struct record_field *f, struct record_reader *inner)
{
    if (f->type != RECORD_GROUP)
        return 0;
    inner->next = f->data;
    inner->end = f->data + f->size;
    return 1;
}

int record_get_u32(const struct record_field *f, uint32_t *value)
{
    if (f->type != RECORD_U32 || f->size != 4)
        return 0;
    *value = load32(f->data);
    return 1;
}

int record_get_u64(const struct record_field *f, uint64_t *value)
{
    if (f->type != RECORD_U64 || f->size != 8)
        return 0;
    *value = load64(f->data);
    return 1;
}

size_t record_str_len(const struct record_field *f)
{
    return f->type == RECORD_STR ? f->size / 2 : 0;
}

int record_get_str(const struct record_field *f, uint16_t *buf, size_t capacity)
{
    size_t len;

    if (f->type != RECORD_STR || (len = f->size / 2) >= capacity)
        return 0;
    for (size_t i = 0; i < len; i++)
        buf[i] = load16(f->data + 2 * i);
    buf[len] = 0;
    return 1;
}
