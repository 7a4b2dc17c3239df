/* SPDX-License-Identifier: MIT */
/* Pure C pacing of a byte stream to a rate: the arithmetic of the bandwidth caps. */
#ifndef OPENDO_CORE_PACER_H
#define OPENDO_CORE_PACER_H

#include <stdint.h>

/*
 * A class of traffic under a cap keeps one number, its clock: the time (in ticks of a clock
 * every process reads alike) at which the bytes taken so far are paid for at the cap. Taking
 * bytes moves the clock on by what they cost at the cap, from now if the clock lags (an idle
 * class saves nothing up) and from where it stands otherwise; the taker then waits until the
 * clock is no more than a tolerance ahead of now. Every taker of the class moves the same clock,
 * so together they get the cap, whoever takes how much.
 */

/* A class's cap in bytes per second from its two policy values: `kilobytes` per second (1 KB =
 * 1,024 bytes) and `percent` of a link of `link` bytes per second (above 100 counts as 100).
 * A value of 0, or a link of 0 (its speed unknown), caps nothing. The lower cap when both cap;
 * 0 when neither does. */
uint64_t pacer_cap(uint32_t kilobytes, uint32_t percent, uint64_t link);

/* Ticks that `bytes` cost at `rate` bytes per second, with `frequency` ticks per second, at
 * least 1 (rate is not 0). Saturates at INT64_MAX / 4 instead of overflowing. */
int64_t pacer_cost(uint64_t bytes, uint64_t rate, int64_t frequency);

/* The clock after `cost` ticks were taken at `now`. A clock further than `horizon` ticks ahead
 * of now cannot be one that takes since `now` made (a restarted machine's, a cap lowered by
 * orders of magnitude): it starts again from now. */
int64_t pacer_advance(int64_t clock, int64_t now, int64_t cost, int64_t horizon);

/* Ticks the taker waits after moving the clock to `clock` at `now`: what it stands ahead of now
 * beyond `tolerance`, or 0. */
int64_t pacer_wait(int64_t clock, int64_t now, int64_t tolerance);

#endif
