/* SPDX-License-Identifier: MIT */
/* Pure C pacing of a byte stream to a rate: the arithmetic of the bandwidth caps. */
#include "core/pacer.h"

#define COST_MAX (INT64_MAX / 4)

uint64_t pacer_cap(uint32_t kilobytes, uint32_t percent, uint64_t link)
{
    uint64_t by_size = (uint64_t)kilobytes * 1024, by_share;

    if (percent > 100)
        percent = 100;
    /* A link beyond 2^57 bytes per second does not exist; the product cannot overflow below. */
    by_share = link < ((uint64_t)1 << 57) ? link * percent / 100 : link / 100 * percent;
    if (!by_size)
        return by_share;
    if (!by_share)
        return by_size;
    return by_size < by_share ? by_size : by_share;
}

int64_t pacer_cost(uint64_t bytes, uint64_t rate, int64_t frequency)
{
    uint64_t whole, rest, ticks;

    if (!rate || frequency <= 0)
        return COST_MAX;
    /* bytes * frequency / rate without the product overflowing for large byte counts. */
    whole = bytes / rate;
    rest = bytes % rate;
    if (whole > (uint64_t)COST_MAX / (uint64_t)frequency)
        return COST_MAX;
    ticks = whole * (uint64_t)frequency + (rest * (uint64_t)frequency + rate - 1) / rate;
    if (ticks > (uint64_t)COST_MAX)
        return COST_MAX;
    return ticks ? (int64_t)ticks : 1;
}

int64_t pacer_advance(int64_t clock, int64_t now, int64_t cost, int64_t horizon)
{
    int64_t base = clock;

    if (base < now || base - now > horizon)
        base = now;
    if (cost > COST_MAX)
        cost = COST_MAX;
    return base + cost;
}

int64_t pacer_wait(int64_t clock, int64_t now, int64_t tolerance)
{
    return clock - now > tolerance ? clock - now - tolerance : 0;
}
