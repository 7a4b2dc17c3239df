/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/pacer.c: caps from the policy's values, costs, the shared clock. */
#include "testutil.h"
#include "core/pacer.h"

#define FREQ 10000000LL /* ticks per second, as QueryPerformanceFrequency under Wine */
#define MS(n) ((int64_t)(n)*FREQ / 1000)

static void cap_from_policy_values(void **state)
{
    assert_true(pacer_cap(0, 0, 0) == 0);
    assert_true(pacer_cap(0, 0, 125000000) == 0);
    assert_true(pacer_cap(4096, 0, 0) == 4096 * 1024);
    assert_true(pacer_cap(4096, 0, 125000000) == 4096 * 1024);
    /* A percentage of a link whose speed is unknown caps nothing. */
    assert_true(pacer_cap(0, 50, 0) == 0);
    assert_true(pacer_cap(0, 50, 125000000) == 62500000);
    assert_true(pacer_cap(0, 250, 125000000) == 125000000);
    /* Both: the lower one. */
    assert_true(pacer_cap(4096, 50, 125000000) == 4096 * 1024);
    assert_true(pacer_cap(100000, 10, 125000000) == 12500000);
    assert_true(pacer_cap(UINT32_MAX, 0, 0) == (uint64_t)UINT32_MAX * 1024);
    assert_true(pacer_cap(0, 100, UINT64_MAX) == UINT64_MAX / 100 * 100);
}

static void cost_of_bytes(void **state)
{
    /* 1 MiB at 1 MiB/s: one second. */
    assert_true(pacer_cost(1 << 20, 1 << 20, FREQ) == FREQ);
    assert_true(pacer_cost(3 << 20, 1 << 20, FREQ) == 3 * FREQ);
    /* Rounded up: a byte always costs something. */
    assert_true(pacer_cost(1, 1 << 30, FREQ) == 1);
    assert_true(pacer_cost(0, 1 << 20, FREQ) == 1);
    assert_true(pacer_cost(1000, 3, 3) == 1000);
    assert_true(pacer_cost(1, 3, 10) == 4);
    /* Large counts neither overflow nor wrap. */
    assert_true(pacer_cost(UINT64_MAX, 1, FREQ) == INT64_MAX / 4);
    assert_true(pacer_cost((uint64_t)1 << 40, 1 << 10, FREQ) == ((int64_t)1 << 30) * FREQ);
    assert_true(pacer_cost(100, 0, FREQ) == INT64_MAX / 4);
}

static void clock_moves(void **state)
{
    const int64_t now = 1000 * FREQ, horizon = 600 * FREQ;

    /* A clock behind now starts from now: an idle class saves nothing up. */
    assert_true(pacer_advance(0, now, MS(250), horizon) == now + MS(250));
    assert_true(pacer_advance(now - 10 * FREQ, now, MS(250), horizon) == now + MS(250));
    /* Ahead of now: the new bytes queue behind the others'. */
    assert_true(pacer_advance(now + MS(400), now, MS(250), horizon) == now + MS(650));
    /* Beyond the horizon: not a clock these reads made. */
    assert_true(pacer_advance(now + horizon + 1, now, MS(250), horizon) == now + MS(250));
    assert_true(pacer_advance(now + horizon, now, MS(250), horizon) == now + horizon + MS(250));

    assert_true(pacer_wait(now + MS(250), now, MS(50)) == MS(200));
    assert_true(pacer_wait(now + MS(50), now, MS(50)) == 0);
    assert_true(pacer_wait(now - FREQ, now, MS(50)) == 0);
}

/* Takers of one class, each reading `chunk` bytes and then waiting what the clock says, on a
 * simulated timeline: together they get the cap, however the reads interleave. */
static void takers_share_the_cap(void **state)
{
    static const uint64_t chunks[] = {409600, 65536, 4096, 409600};
    const uint64_t rate = 4 << 20; /* 4 MiB/s */
    const int64_t horizon = 600 * FREQ, tolerance = MS(50), start = 5000 * FREQ;
    int64_t ready[ARRAY_SIZE(chunks)], clock = 0, now = start;
    uint64_t bytes = 0;
    double seconds, measured;

    for (size_t i = 0; i < ARRAY_SIZE(chunks); i++)
        ready[i] = start;
    /* The taker that is ready first reads next. */
    while (now < start + 60 * FREQ)
    {
        size_t next = 0;
        for (size_t i = 1; i < ARRAY_SIZE(chunks); i++)
            if (ready[i] < ready[next])
                next = i;
        now = ready[next];
        clock = pacer_advance(clock, now, pacer_cost(chunks[next], rate, FREQ), horizon);
        bytes += chunks[next];
        ready[next] = now + pacer_wait(clock, now, tolerance);
    }
    seconds = (double)(now - start) / FREQ;
    measured = bytes / seconds;
    if (measured < rate * 0.99 || measured > rate * 1.01)
        fail_msg("%.0f bytes/s for a cap of %llu", measured, (unsigned long long)rate);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cap_from_policy_values),
        cmocka_unit_test(cost_of_bytes),
        cmocka_unit_test(clock_moves),
        cmocka_unit_test(takers_share_the_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
