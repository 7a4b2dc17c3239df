/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/httpdate.c: HTTP dates in their three forms, Retry-After values. */
#include "testutil.h"
#include "core/httpdate.h"

/* RFC 9110's example date, Sun, 06 Nov 1994 08:49:37 GMT, in seconds since 1970. */
#define EXAMPLE 784111777LL

/* Asserts that text parses as the date `expected`. */
#define check_date(text, expected)                                                                 \
    do                                                                                             \
    {                                                                                              \
        int64_t out_ = -12345;                                                                     \
        if (http_date_parse((text), &out_))                                                        \
            fail_msg("http_date_parse(\"%ls\") failed, expected %lld", (text),                     \
                     (long long)(expected));                                                       \
        if (out_ != (expected))                                                                    \
            fail_msg("http_date_parse(\"%ls\") = %lld, expected %lld", (text), (long long)out_,    \
                     (long long)(expected));                                                       \
    } while (0)

/* Asserts that text is no HTTP date. */
#define check_bad_date(text)                                                                       \
    do                                                                                             \
    {                                                                                              \
        int64_t out_ = 0;                                                                          \
        if (!http_date_parse((text), &out_))                                                       \
            fail_msg("http_date_parse(\"%ls\") accepted it as %lld", (text), (long long)out_);     \
    } while (0)

/* Asserts what retry_after_parse makes of text at `now` with the cap `max`. */
#define check_retry(text, now, max, expected)                                                      \
    do                                                                                             \
    {                                                                                              \
        uint32_t delay_ = 12345;                                                                   \
        if (retry_after_parse((text), (now), (max), &delay_))                                      \
            fail_msg("retry_after_parse(\"%ls\") failed, expected %lu", (text),                    \
                     (unsigned long)(expected));                                                   \
        if (delay_ != (expected))                                                                  \
            fail_msg("retry_after_parse(\"%ls\") = %lu, expected %lu", (text),                     \
                     (unsigned long)delay_, (unsigned long)(expected));                            \
    } while (0)

#define check_bad_retry(text)                                                                      \
    do                                                                                             \
    {                                                                                              \
        uint32_t delay_ = 0;                                                                       \
        if (!retry_after_parse((text), 0, 86400, &delay_))                                         \
            fail_msg("retry_after_parse(\"%ls\") accepted it as %lu", (text),                      \
                     (unsigned long)delay_);                                                       \
    } while (0)

static void imf_fixdate(void **state)
{
    check_date(L"Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE);
    check_date(L"Thu, 01 Jan 1970 00:00:00 GMT", 0);
    check_date(L"Wed, 31 Dec 1969 23:59:59 GMT", -1);
    check_date(L"Sat, 01 Jan 2000 00:00:00 GMT", 946684800);
    check_date(L"Tue, 29 Feb 2000 12:00:00 GMT", 951825600);
    check_date(L"Thu, 29 Feb 2024 00:00:00 GMT", 1709164800);
    check_date(L"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799LL);
    /* Past 2038: no 32-bit overflow. */
    check_date(L"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648LL);
    /* A leap second counts as the next second. */
    check_date(L"Sat, 31 Dec 2016 23:59:60 GMT", 1483228800);
    /* Blanks around the value (a header's OWS), names in another case. */
    check_date(L"  Sun, 06 Nov 1994 08:49:37 GMT\t", EXAMPLE);
    check_date(L"SUN, 06 NOV 1994 08:49:37 gmt", EXAMPLE);
}

static void obsolete_forms(void **state)
{
    check_date(L"Sunday, 06-Nov-94 08:49:37 GMT", EXAMPLE);
    check_date(L"Sun Nov  6 08:49:37 1994", EXAMPLE);
    check_date(L"Wed Nov 16 08:49:37 1994", EXAMPLE + 10 * 86400);
    /* rfc850's two-digit years: 70-99 are 19yy, the rest 20yy. */
    check_date(L"Thursday, 01-Jan-70 00:00:00 GMT", 0);
    check_date(L"Saturday, 01-Jan-00 00:00:00 GMT", 946684800);
    check_date(L"Tuesday, 31-Dec-69 00:00:00 GMT", 3155673600LL);
}

static void bad_dates(void **state)
{
    check_bad_date(L"");
    check_bad_date(L"   ");
    check_bad_date(L"120");
    /* The day name must agree with the date. */
    check_bad_date(L"Mon, 06 Nov 1994 08:49:37 GMT");
    check_bad_date(L"Monday, 06-Nov-94 08:49:37 GMT");
    check_bad_date(L"Sunday, 06 Nov 1994 08:49:37 GMT");
    check_bad_date(L"Sun, 06 Nov 1994 08:49:37 UTC");
    check_bad_date(L"Sun, 06 Nov 1994 08:49:37");
    check_bad_date(L"Sun, 06 Nov 1994 08:49:37 GMT x");
    check_bad_date(L"Sun, 6 Nov 1994 08:49:37 GMT");
    check_bad_date(L"Sun, 06 Nov 94 08:49:37 GMT");
    check_bad_date(L"Sun,06 Nov 1994 08:49:37 GMT");
    check_bad_date(L"Sun, 06 Nov 1994 8:49:37 GMT");
    check_bad_date(L"Sun, 06 Nov 1994 24:00:00 GMT");
    check_bad_date(L"Sun, 06 Nov 1994 08:60:00 GMT");
    check_bad_date(L"Sun, 06 Nov 1994 08:49:61 GMT");
    check_bad_date(L"Sun, 06 Foo 1994 08:49:37 GMT");
    check_bad_date(L"Sun, 06 November 1994 08:49:37 GMT");
    check_bad_date(L"Thu, 31 Nov 1994 08:49:37 GMT");
    check_bad_date(L"Thu, 00 Nov 1994 08:49:37 GMT");
    /* 1900 is no leap year; 2000 is. */
    check_bad_date(L"Thu, 29 Feb 1900 00:00:00 GMT");
    check_bad_date(L"Mon, 01 Jan 0000 00:00:00 GMT");
    check_bad_date(L"Sun Nov 6 08:49:37 1994");
    check_bad_date(L"Sun Nov  6 08:49:37 94");
    check_bad_date(L"Sun Nov  6 08:49:37 1994 GMT");
}

static void retry_after_seconds(void **state)
{
    check_retry(L"120", 0, 86400, 120);
    check_retry(L"0", 0, 86400, 0);
    check_retry(L" 8 ", 0, 86400, 8);
    check_retry(L"000000000000000000000000000008", 0, 86400, 8);
    /* Past the cap, the cap; however many digits, no overflow. */
    check_retry(L"86401", 0, 86400, 86400);
    check_retry(L"4294967296", 0, 86400, 86400);
    check_retry(L"99999999999999999999999999999999999999", 0, 86400, 86400);
    check_retry(L"4294967295", 0, 4294967295u, 4294967295u);
}

static void retry_after_date(void **state)
{
    check_retry(L"Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE - 8, 86400, 8);
    check_retry(L"Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE, 86400, 0);
    /* A date that has passed: no wait. */
    check_retry(L"Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE + 3600, 86400, 0);
    check_retry(L"Sunday, 06-Nov-94 08:49:37 GMT", EXAMPLE - 60, 86400, 60);
    check_retry(L"Sun Nov  6 08:49:37 1994", EXAMPLE - 60, 86400, 60);
    /* Years ahead: the cap. */
    check_retry(L"Fri, 31 Dec 9999 23:59:59 GMT", EXAMPLE, 86400, 86400);
}

static void retry_after_date_any_now(void **state)
{
    /* `now` may be any 64-bit count: the distance to the date need not fit in one, and still
     * gives the cap (or no wait), never a wrapped number. fuzz/fuzz_httpdate.c found it. */
    check_retry(L"Sun, 06 Nov 1994 08:49:37 GMT", INT64_MIN, 86400, 86400);
    check_retry(L"Fri, 31 Dec 9999 23:59:59 GMT", INT64_MIN + 1, 4294967295u, 4294967295u);
    check_retry(L"Mon, 01 Jan 0001 00:00:00 GMT", INT64_MAX, 86400, 0);
}

static void retry_after_bad(void **state)
{
    uint32_t delay = 0;

    assert_int_equal(-1, retry_after_parse(NULL, 0, 86400, &delay));
    check_bad_retry(L"");
    check_bad_retry(L"-1");
    check_bad_retry(L"+5");
    check_bad_retry(L"1.5");
    check_bad_retry(L"5s");
    check_bad_retry(L"5 6");
    check_bad_retry(L"0x10");
    check_bad_retry(L"soon");
    check_bad_retry(L"Mon, 06 Nov 1994 08:49:37 GMT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imf_fixdate),      cmocka_unit_test(obsolete_forms),
        cmocka_unit_test(bad_dates),        cmocka_unit_test(retry_after_seconds),
        cmocka_unit_test(retry_after_date), cmocka_unit_test(retry_after_date_any_now),
        cmocka_unit_test(retry_after_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
