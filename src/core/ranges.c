/* SPDX-License-Identifier: MIT */
/* Pure C byte ranges of a remote file (AddFileWithRanges): checks, totals, request plans. */
#include <stdlib.h>
#include "core/ranges.h"

/* Exclusive end of a range as the overlap check sees it: a range to the end never ends. */
static uint64_t check_end(const struct byte_range *range)
{
    return range->length == RANGE_TO_EOF ? UINT64_MAX : range->offset + range->length;
}

struct ordered
{
    uint64_t offset;
    size_t index;
};

static int compare_ordered(const void *a, const void *b)
{
    const struct ordered *x = a, *y = b;

    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

enum ranges_status ranges_check(const struct byte_range *ranges, size_t count)
{
    struct ordered *order;
    int sorted = 1;
    size_t i;

    for (i = 0; i < count; i++)
    {
        if (ranges[i].offset == RANGE_TO_EOF)
            return RANGES_INVALID;
        /* The end must be representable, and must not collide with RANGE_SIZE_UNKNOWN. */
        if (ranges[i].length != RANGE_TO_EOF && ranges[i].length >= UINT64_MAX - ranges[i].offset)
            return RANGES_INVALID;
        if (i && ranges[i].offset < ranges[i - 1].offset)
            sorted = 0;
    }
    if (sorted)
    {
        for (i = 1; i < count; i++)
        {
            if (ranges[i].offset < check_end(&ranges[i - 1]))
                return RANGES_OVERLAPPING;
        }
    }
    else
    {
        if (!(order = malloc(count * sizeof(*order))))
            return RANGES_NO_MEMORY;
        for (i = 0; i < count; i++)
        {
            order[i].offset = ranges[i].offset;
            order[i].index = i;
        }
        /* Equal offsets stay in the order given: that order decides whether they overlap. */
        qsort(order, count, sizeof(*order), compare_ordered);
        for (i = 1; i < count; i++)
        {
            if (order[i].offset < check_end(&ranges[order[i - 1].index]))
            {
                free(order);
                return RANGES_OVERLAPPING;
            }
        }
        free(order);
    }
    for (i = 0; i < count; i++)
    {
        if (!ranges[i].length)
            return RANGES_INVALID;
    }
    return RANGES_OK;
}

uint64_t range_end(const struct byte_range *range, uint64_t file_size)
{
    if (range->length != RANGE_TO_EOF)
        return range->offset + range->length;
    if (file_size == RANGE_SIZE_UNKNOWN)
        return RANGE_SIZE_UNKNOWN;
    return file_size > range->offset ? file_size : range->offset;
}

uint64_t ranges_total(const struct byte_range *ranges, size_t count, uint64_t file_size)
{
    uint64_t total = 0, end;

    for (size_t i = 0; i < count; i++)
    {
        if ((end = range_end(&ranges[i], file_size)) == RANGE_SIZE_UNKNOWN)
            return RANGE_SIZE_UNKNOWN;
        total += end - ranges[i].offset;
    }
    return total;
}

int ranges_fit(const struct byte_range *ranges, size_t count, uint64_t file_size)
{
    for (size_t i = 0; i < count; i++)
    {
        if (ranges[i].length == RANGE_TO_EOF)
        {
            if (ranges[i].offset >= file_size)
                return 0;
        }
        else if (ranges[i].length > file_size || ranges[i].offset > file_size - ranges[i].length)
        {
            /* Written so that it cannot wrap: the ranges need not have been checked. */
            return 0;
        }
    }
    return 1;
}

size_t ranges_locate(const struct byte_range *ranges, size_t count, uint64_t file_size,
                     uint64_t position, uint64_t *within)
{
    uint64_t end, length;
    size_t i;

    for (i = 0; i < count; i++)
    {
        end = range_end(&ranges[i], file_size);
        length = end == RANGE_SIZE_UNKNOWN ? UINT64_MAX : end - ranges[i].offset;
        if (position < length)
        {
            *within = position;
            return i;
        }
        position -= length;
    }
    *within = 0;
    return count;
}

void ranges_plan(const struct byte_range *ranges, size_t count, uint64_t file_size, size_t index,
                 uint64_t within, uint64_t max_gap, struct range_span *span)
{
    uint64_t end = range_end(&ranges[index], file_size);
    size_t next = index + 1;

    span->first = ranges[index].offset + within;
    span->index = index;
    span->within = within;
    while (end != RANGE_SIZE_UNKNOWN && next < count && ranges[next].offset >= end &&
           ranges[next].offset - end <= max_gap)
        end = range_end(&ranges[next++], file_size);
    span->end = end;
    span->range_count = next - index;
}

void range_walk_init(struct range_walk *walk, const struct byte_range *ranges, uint64_t file_size,
                     const struct range_span *span)
{
    walk->ranges = ranges;
    walk->next = span->index;
    walk->stop = span->index + span->range_count;
    walk->file_size = file_size;
    walk->start = span->first;
    walk->end = range_end(&ranges[span->index], file_size);
}

int range_walk_next(struct range_walk *walk, uint64_t pos, uint64_t avail, uint64_t *skip,
                    uint64_t *keep)
{
    *skip = *keep = 0;
    if (walk->next >= walk->stop)
        return 0;
    if (pos > walk->start)
        return -1;
    *skip = walk->start - pos < avail ? walk->start - pos : avail;
    avail -= *skip;
    /* An end of RANGE_SIZE_UNKNOWN is far enough away to take all that is there. */
    *keep = walk->end - walk->start < avail ? walk->end - walk->start : avail;
    walk->start += *keep;
    if (walk->start == walk->end && ++walk->next < walk->stop)
    {
        walk->start = walk->ranges[walk->next].offset;
        walk->end = range_end(&walk->ranges[walk->next], walk->file_size);
    }
    return 1;
}
