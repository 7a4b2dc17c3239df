/* SPDX-License-Identifier: MIT */
/* Pure C byte ranges of a remote file (AddFileWithRanges): checks, totals, request plans. */
#ifndef OPENDO_CORE_RANGES_H
#define OPENDO_CORE_RANGES_H

#include <stddef.h>
#include <stdint.h>

/* A range's length that runs to the end of the file (BG_LENGTH_TO_EOF, DO_LENGTH_TO_EOF). */
#define RANGE_TO_EOF UINT64_MAX
/* A size that is not known (yet). */
#define RANGE_SIZE_UNKNOWN UINT64_MAX

/* One range: the same layout as BG_FILE_RANGE, so an array of either may be cast. */
struct byte_range
{
    uint64_t offset;
    uint64_t length; /* RANGE_TO_EOF: up to the end of the file */
};

enum ranges_status
{
    RANGES_OK,
    RANGES_INVALID,     /* BG_E_INVALID_RANGE */
    RANGES_OVERLAPPING, /* BG_E_OVERLAPPING_RANGES */
    RANGES_NO_MEMORY,
};

/*
 * Checks ranges as AddFileWithRanges does. They may come in any order (the bytes are stored in
 * the order given); ordered by offset (equal offsets keep the order given), each must start at
 * or after the end of the one before, so (100,5) then (100,0) overlap and (100,0) then (100,5)
 * do not. Checks, first to last:
 *   RANGES_INVALID      an offset of RANGE_TO_EOF, or offset + length beyond 2^64 - 1;
 *   RANGES_OVERLAPPING  two ranges share a byte, or break the order above (a range to the end
 *                       of the file overlaps every range at a higher offset);
 *   RANGES_INVALID      a length of 0.
 * count 0 is RANGES_OK. Allocates a scratch array only when the ranges are not already ordered.
 */
enum ranges_status ranges_check(const struct byte_range *ranges, size_t count);

/* Exclusive end of one range in a file of file_size bytes (RANGE_SIZE_UNKNOWN if unknown):
 * RANGE_SIZE_UNKNOWN for a range to the end of a file whose size is unknown. */
uint64_t range_end(const struct byte_range *range, uint64_t file_size);

/* Bytes the ranges select: the sum of their lengths, a range to the end counting up to
 * file_size. RANGE_SIZE_UNKNOWN while such a range meets an unknown size. */
uint64_t ranges_total(const struct byte_range *ranges, size_t count, uint64_t file_size);

/* 1 if every range lies inside a file of file_size bytes (a range to the end must start
 * before the end of the file), 0 otherwise. */
int ranges_fit(const struct byte_range *ranges, size_t count, uint64_t file_size);

/* Where byte `position` of the concatenated ranges comes from: returns the index of its range
 * and sets *within to its offset inside that range. Returns count (and *within 0) at or past
 * the end. A range to the end of a file of unknown size is taken as endless. */
size_t ranges_locate(const struct byte_range *ranges, size_t count, uint64_t file_size,
                     uint64_t position, uint64_t *within);

/* One request: the remote bytes [first, end) that cover ranges [index, index + range_count). */
struct range_span
{
    uint64_t first;     /* remote offset of the first byte asked for */
    uint64_t end;       /* exclusive; RANGE_SIZE_UNKNOWN: to the end of the file */
    size_t index;       /* first range served by the request */
    size_t range_count; /* ranges served, in the order given */
    uint64_t within;    /* bytes of range `index` already stored before `first` */
};

/* Plans the request that continues at byte `within` of range `index` (index < count): it
 * covers the rest of that range and then each following range (in the order given) that
 * starts at or after the end of the one before it, at most max_gap bytes later; the bytes of
 * the gaps are fetched and thrown away. A range to the end of a file of unknown size ends the
 * span. */
void ranges_plan(const struct byte_range *ranges, size_t count, uint64_t file_size, size_t index,
                 uint64_t within, uint64_t max_gap, struct range_span *span);

/* Walks the answer to a span: which of its bytes belong to the ranges and which to the gaps. */
struct range_walk
{
    const struct byte_range *ranges;
    size_t next; /* the range whose bytes come next */
    size_t stop; /* one past the span's last range */
    uint64_t file_size;
    uint64_t start; /* the next wanted remote byte */
    uint64_t end;   /* exclusive end of the wanted bytes of range `next` */
};

/* Starts a walk over the answer to span (file_size as known once the answer started). */
void range_walk_init(struct range_walk *walk, const struct byte_range *ranges, uint64_t file_size,
                     const struct range_span *span);

/* The answer's next `avail` bytes start at remote offset pos: sets *skip to the gap bytes to
 * drop first and *keep to the wanted bytes that follow them (skip + keep <= avail; keep may be
 * 0 when the whole of avail is gap). Returns 0 once every range of the span is complete (the
 * bytes are then surplus), -1 if pos lies after the next wanted byte (bytes are missing). */
int range_walk_next(struct range_walk *walk, uint64_t pos, uint64_t avail, uint64_t *skip,
                    uint64_t *keep);

#endif /* OPENDO_CORE_RANGES_H */
