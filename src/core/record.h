/* SPDX-License-Identifier: MIT */
/* Pure C job records: a versioned, checksummed tag-length-value format (no Win32 calls). */
#ifndef OPENDO_CORE_RECORD_H
#define OPENDO_CORE_RECORD_H

#include <stddef.h>
#include <stdint.h>

/*
 * The layout on disk; every integer is little-endian, nothing is aligned:
 *
 *   offset 0   u32  RECORD_MAGIC, the bytes "ODJR"
 *   offset 4   u32  format version (RECORD_VERSION)
 *   offset 8   u32  length of the whole record, checksum included
 *   offset 12       fields
 *   last 4     u32  CRC-32 (IEEE 802.3, as zlib computes it) of every byte before it
 *
 * A field is a u16 tag, a u8 type (enum record_type), a u8 that is 0 in version 1, a u32 size,
 * then `size` bytes: a u32 or a u64, raw bytes, a UTF-16LE string without its terminator (and
 * with no 0 in it), or more fields (a group). Tags mean something only to the caller. A reader
 * skips the tags and types it does not know, so a writer may add fields within a version; a
 * change that an older reader would misread needs a new version. The first three header words
 * stay where they are in every version, so that any reader can tell a newer record.
 */
#define RECORD_MAGIC 0x524a444fu /* "ODJR" little-endian at offset 0 */
#define RECORD_VERSION 1u
#define RECORD_HEADER_SIZE 12u
#define RECORD_FIELD_HEADER_SIZE 8u
/* A record without fields: the header and the checksum. */
#define RECORD_MIN_SIZE (RECORD_HEADER_SIZE + 4u)
/* The length word limits a record to 4 GiB - 1. */
#define RECORD_MAX_SIZE 0xffffffffu
/* Groups nest at most this deep: fields at the top level are at depth 0. */
#define RECORD_MAX_DEPTH 8

enum record_type
{
    RECORD_U32 = 1,
    RECORD_U64 = 2,
    RECORD_BYTES = 3,
    RECORD_STR = 4,
    RECORD_GROUP = 5,
};

enum record_status
{
    RECORD_OK,
    RECORD_TRUNCATED,      /* shorter than its length word says */
    RECORD_CORRUPT,        /* wrong magic, checksum, length or field structure */
    RECORD_FUTURE_VERSION, /* written by a newer format version */
    RECORD_NO_MEMORY,
    RECORD_TOO_LARGE,   /* writer: the record would pass RECORD_MAX_SIZE */
    RECORD_BAD_NESTING, /* writer: a group too deep, an end without a begin, or left open */
};

/* A short, constant English name of status ("truncated", ...) for logs. */
const char *record_status_name(enum record_status status);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) of size bytes: the record's checksum. */
uint32_t record_crc32(const void *data, size_t size);

/* Builds one record in memory. Fields are appended in the order put; groups nest up to
 * RECORD_MAX_DEPTH deep. The first failure (memory, size, nesting) is remembered, makes every
 * later call do nothing, and is reported by record_finish. Not thread-safe: one writer, one
 * thread at a time. */
struct record_writer
{
    uint8_t *buf;                            /* header space + fields so far; NULL until needed */
    size_t size;                             /* bytes used in buf, the header's included */
    size_t capacity;                         /* bytes allocated in buf */
    size_t open[RECORD_MAX_DEPTH];           /* offsets of the open groups' field headers */
    unsigned int depth;                      /* groups open */
    enum record_status status;               /* first failure, RECORD_OK until one */
    void *(*grow)(void *block, size_t size); /* realloc; tests may put a failing one here */
};

/* Makes w an empty writer. Allocates nothing. */
void record_writer_init(struct record_writer *w);

/* Frees what w holds unless record_finish took it; w is then empty again (and may be reused).
 * Safe to call more than once. */
void record_writer_free(struct record_writer *w);

/* Appends a u32 / u64 field. */
void record_put_u32(struct record_writer *w, uint16_t tag, uint32_t value);
void record_put_u64(struct record_writer *w, uint16_t tag, uint64_t value);

/* Appends a field of size raw bytes (data may be NULL when size is 0). A size the record
 * cannot hold is RECORD_TOO_LARGE, found before data is read. */
void record_put_bytes(struct record_writer *w, uint16_t tag, const void *data, size_t size);

/* Appends a 0-terminated UTF-16 string (WCHAR on Windows), stored without the 0. NULL writes
 * nothing: the field is absent, which a reader can tell from an empty string. */
void record_put_str(struct record_writer *w, uint16_t tag, const uint16_t *s);

/* Opens a group field: the fields put until the matching record_end are its contents. More
 * than RECORD_MAX_DEPTH open groups is RECORD_BAD_NESTING. */
void record_begin(struct record_writer *w, uint16_t tag);

/* Closes the innermost open group; with none open, RECORD_BAD_NESTING. */
void record_end(struct record_writer *w);

/* Ends the record: writes the header (magic, version, total length), then the checksum (CRC-32
 * of everything before it). On RECORD_OK, *out (malloc'ed; the caller frees it with free())
 * and *size hold the record. Otherwise *out is NULL, *size 0, and the status is the writer's
 * first failure, or RECORD_BAD_NESTING for a group left open. Either way w is empty afterwards
 * and may write another record. */
enum record_status record_finish(struct record_writer *w, uint8_t **out, size_t *size);

/* One field as a reader sees it: data points into the record (valid while the record is). */
struct record_field
{
    uint16_t tag;
    uint8_t type; /* enum record_type, or a type of a newer writer */
    const uint8_t *data;
    size_t size;
};

/* Appends a copy of a field read from another record, whatever its type (one this code does
 * not know included): a group is copied field by field, so nesting limits still hold. This is
 * how a rewrite keeps the fields of a newer writer. */
void record_put_field(struct record_writer *w, const struct record_field *f);

/* Walks the fields of one level: a whole record (record_open) or a group (record_enter). */
struct record_reader
{
    const uint8_t *next; /* header of the next field */
    const uint8_t *end;  /* end of this level's fields */
};

/*
 * Checks a whole record of size bytes, which may come from anywhere (every length is checked
 * against the bytes there are), and sets r on its top-level fields. In this order:
 *   RECORD_CORRUPT         the magic is wrong (in as many bytes as there are);
 *   RECORD_TRUNCATED       fewer bytes than the header;
 *   RECORD_FUTURE_VERSION  a version above RECORD_VERSION (nothing after it is checked, a
 *                          newer format may differ); version 0 is RECORD_CORRUPT;
 *   RECORD_TRUNCATED       fewer bytes than the length word says;
 *   RECORD_CORRUPT         a length below RECORD_MIN_SIZE or with bytes after it, a wrong
 *                          checksum, or a field that is not well-formed: one that runs past
 *                          its level, a u32 or u64 of another size, a string of an odd size or
 *                          with a 0 in it, a non-zero reserved byte, groups too deep.
 * On any status but RECORD_OK, r walks nothing.
 */
enum record_status record_open(const uint8_t *data, size_t size, struct record_reader *r);

/* Sets *f to the next field at r's level and returns 1, or returns 0 at the end. (record_open
 * checked the structure, so there is no error here.) */
int record_next(struct record_reader *r, struct record_field *f);

/* Sets inner on the contents of a group field and returns 1; 0 if f is not a group. */
int record_enter(const struct record_field *f, struct record_reader *inner);

/* Typed access: 1 and *value, or 0 when the field has another type or size. */
int record_get_u32(const struct record_field *f, uint32_t *value);
int record_get_u64(const struct record_field *f, uint64_t *value);

/* Characters in a string field, without a 0 (strings are stored without it); 0 for a field
 * that is no string. */
size_t record_str_len(const struct record_field *f);

/* Copies a string field and a 0 into buf of `capacity` characters: 1, or 0 if it does not fit
 * (capacity <= record_str_len) or f is no string. */
int record_get_str(const struct record_field *f, uint16_t *buf, size_t capacity);

#endif /* OPENDO_CORE_RECORD_H */
