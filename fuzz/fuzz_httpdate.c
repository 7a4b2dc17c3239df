/* SPDX-License-Identifier: MIT */
/* libFuzzer target: http_date_parse and retry_after_parse, the header values. */
/*
 * Input: i64 "now", u32 largest delay, then the header value in UTF-16LE (built with a 16-bit
 * wchar_t, see wchar16.h). A date that parses must lie in years 1 to 9999 and read back the same
 * when written as an IMF-fixdate; a Retry-After value must give what RFC 9110 says, computed
 * here independently and without overflow, whatever "now" is.
 */
#include <string.h>
#include "fuzz.h"
#include "core/httpdate.h"

/* 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z (a leap second on 9999-12-31 reaches it). */
#define FIRST_DATE (-62135596800LL)
#define END_DATE 253402300800LL

static int is_blank(wchar_t c)
{
    return c == L' ' || c == L'\t';
}

/* Writes t (seconds since 1970, years 1 to 9999) as an IMF-fixdate. */
static void format_date(int64_t t, wchar_t *out, size_t size)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t z = (t - ((t % 86400) + 86400) % 86400) / 86400, secs = t - z * 86400;
    int64_t weekday = ((z % 7) + 7 + 4) % 7;
    /* Days to a civil date, counting in 400-year eras from 0000-03-01. */
    int64_t era, doe, yoe, doy, mp, day, month, year;
    char text[64];

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    day = doy - (153 * mp + 2) / 5 + 1;
    month = mp < 10 ? mp + 3 : mp - 9;
    year = yoe + era * 400 + (month <= 2);
    snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[weekday], (int)day,
             months[month - 1], (int)year, (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60));
    for (size_t i = 0; i < size; i++)
    {
        out[i] = (wchar_t)(unsigned char)text[i];
        if (!text[i])
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t now = (int64_t)take_le(&data, &size, 8), date, again;
    uint32_t max_seconds = (uint32_t)take_le(&data, &size, 4), delay = 0xdeadbeef;
    size_t len, first = 0, end;
    wchar_t *text = take_wide(data, size, &len), written[64];
    int dated = http_date_parse(text, &date) == 0, ret;

    if (dated)
    {
        FUZZ_CHECK(date >= FIRST_DATE && date <= END_DATE);
        if (date < END_DATE)
        {
            format_date(date, written, 64);
            FUZZ_CHECK(http_date_parse(written, &again) == 0 && again == date);
        }
    }

    ret = retry_after_parse(text, now, max_seconds, &delay);
    FUZZ_CHECK(ret == 0 || ret == -1);
    end = len;
    while (first < end && is_blank(text[first]))
        first++;
    while (end > first && is_blank(text[end - 1]))
        end--;
    if (first < end && text[first] >= L'0' && text[first] <= L'9')
    {
        /* delta-seconds: digits only, capped. */
        uint64_t value = 0;
        size_t i;
        for (i = first; i < end && text[i] >= L'0' && text[i] <= L'9'; i++)
        {
            if (value <= max_seconds)
                value = value * 10 + (uint64_t)(text[i] - L'0');
        }
        FUZZ_CHECK(ret == (i == end ? 0 : -1));
        if (ret == 0)
            FUZZ_CHECK(delay == (value > max_seconds ? max_seconds : value));
    }
    else if (dated)
    {
        /* A date: the time until it, none if it has passed, capped. The difference is taken
         * in 128 bits here, since date - now need not fit in 64. */
        __int128 wait = (__int128)date - now;
        FUZZ_CHECK(ret == 0);
        FUZZ_CHECK(delay == (wait <= 0 ? 0 : wait > max_seconds ? max_seconds : (uint32_t)wait));
    }
    else
    {
        FUZZ_CHECK(ret == -1);
    }
    if (ret == 0)
        FUZZ_CHECK(delay <= max_seconds);
    FUZZ_CHECK(http_date_parse(NULL, &date) == -1);
    FUZZ_CHECK(retry_after_parse(NULL, now, max_seconds, &delay) == -1);
    free(text);
    return 0;
}
