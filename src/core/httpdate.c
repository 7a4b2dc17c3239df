/* SPDX-License-Identifier: MIT */
/* Pure C parsing of HTTP dates and Retry-After values (no Win32 calls). */
#include "core/httpdate.h"

static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const long_day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};
static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const gmt[1] = {"GMT"};

/* Where a parser stands in the text, and where the text (without its trailing blanks) ends. */
struct cursor
{
    const wchar_t *p;
    const wchar_t *end;
};

static int is_blank(wchar_t c)
{
    return c == L' ' || c == L'\t';
}

static int is_digit(wchar_t c)
{
    return c >= L'0' && c <= L'9';
}

/* Sets the cursor on `text` without the blanks around it. */
static void cursor_init(struct cursor *c, const wchar_t *text)
{
    while (is_blank(*text))
        text++;
    c->p = text;
    c->end = text + wcslen(text);
    while (c->end > c->p && is_blank(c->end[-1]))
        c->end--;
}

static int take_char(struct cursor *c, wchar_t ch)
{
    if (c->p == c->end || *c->p != ch)
        return 0;
    c->p++;
    return 1;
}

/* Exactly `count` digits. */
static int take_digits(struct cursor *c, int count, int *value)
{
    *value = 0;
    for (int i = 0; i < count; i++)
    {
        if (c->p == c->end || !is_digit(*c->p))
            return 0;
        *value = *value * 10 + (*c->p++ - L'0');
    }
    return 1;
}

/* One of `names` (ASCII, compared in any case) followed by a character that is no letter;
 * *index receives which. */
static int take_name(struct cursor *c, const char *const *names, int count, int *index)
{
    for (int i = 0; i < count; i++)
    {
        const wchar_t *p = c->p;
        const char *n = names[i];

        for (; *n && p < c->end; n++, p++)
        {
            wchar_t ch = *p;
            if (ch >= L'A' && ch <= L'Z')
                ch += L'a' - L'A';
            if (ch != (wchar_t)(*n >= 'A' && *n <= 'Z' ? *n + ('a' - 'A') : *n))
                break;
        }
        if (*n)
            continue;
        if (p < c->end && ((*p >= L'a' && *p <= L'z') || (*p >= L'A' && *p <= L'Z')))
            continue;
        c->p = p;
        *index = i;
        return 1;
    }
    return 0;
}

/* "hh:mm:ss", a second of 60 being a leap second. */
static int take_time(struct cursor *c, int *seconds)
{
    int hour, minute, second;

    if (!take_digits(c, 2, &hour) || !take_char(c, L':') || !take_digits(c, 2, &minute) ||
        !take_char(c, L':') || !take_digits(c, 2, &second))
        return 0;
    if (hour > 23 || minute > 59 || second > 60)
        return 0;
    *seconds = hour * 3600 + minute * 60 + second;
    return 1;
}

static int is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Days from 1970-01-01 to the given date of the proleptic Gregorian calendar (year >= 1). */
static int64_t days_since_epoch(int year, int month, int day)
{
    static const int before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t y = year - 1;
    /* Days from 0001-01-01 to the first of January of `year`, then into the year. */
    int64_t days = y * 365 + y / 4 - y / 100 + y / 400;

    days += before_month[month - 1] + (month > 2 && is_leap(year)) + day - 1;
    /* 0001-01-01 to 1970-01-01. */
    return days - 719162;
}

/* Checks the date and the day name it came with, and gives the seconds since 1970. */
static int make_time(int year, int month, int day, int seconds, int weekday, int64_t *out)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days;

    if (year < 1 || day < 1 || day > month_days[month - 1] + (month == 2 && is_leap(year)))
        return -1;
    days = days_since_epoch(year, month, day);
    /* 1970-01-01 was a Thursday. */
    if (((days % 7 + 7 + 4) % 7) != weekday)
        return -1;
    *out = days * 86400 + seconds;
    return 0;
}

int http_date_parse(const wchar_t *text, int64_t *out)
{
    struct cursor c;
    int weekday, day, month, year, seconds, zone;
    const wchar_t *start;

    if (!text)
        return -1;
    cursor_init(&c, text);
    start = c.p;

    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
    if (take_name(&c, day_names, 7, &weekday) && take_char(&c, L',') && take_char(&c, L' ') &&
        take_digits(&c, 2, &day) && take_char(&c, L' ') && take_name(&c, month_names, 12, &month) &&
        take_char(&c, L' ') && take_digits(&c, 4, &year) && take_char(&c, L' ') &&
        take_time(&c, &seconds) && take_char(&c, L' ') && take_name(&c, gmt, 1, &zone) &&
        c.p == c.end)
        return make_time(year, month + 1, day, seconds, weekday, out);

    /* rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT". */
    c.p = start;
    if (take_name(&c, long_day_names, 7, &weekday) && take_char(&c, L',') && take_char(&c, L' ') &&
        take_digits(&c, 2, &day) && take_char(&c, L'-') && take_name(&c, month_names, 12, &month) &&
        take_char(&c, L'-') && take_digits(&c, 2, &year) && take_char(&c, L' ') &&
        take_time(&c, &seconds) && take_char(&c, L' ') && take_name(&c, gmt, 1, &zone) &&
        c.p == c.end)
        return make_time(year + (year >= 70 ? 1900 : 2000), month + 1, day, seconds, weekday, out);

    /* asctime-date: "Sun Nov  6 08:49:37 1994", a one-digit day after a space. */
    c.p = start;
    if (take_name(&c, day_names, 7, &weekday) && take_char(&c, L' ') &&
        take_name(&c, month_names, 12, &month) && take_char(&c, L' ') &&
        (take_char(&c, L' ') ? take_digits(&c, 1, &day) : take_digits(&c, 2, &day)) &&
        take_char(&c, L' ') && take_time(&c, &seconds) && take_char(&c, L' ') &&
        take_digits(&c, 4, &year) && c.p == c.end)
        return make_time(year, month + 1, day, seconds, weekday, out);
    return -1;
}

int retry_after_parse(const wchar_t *text, int64_t now, uint32_t max_seconds, uint32_t *delay)
{
    struct cursor c;
    uint64_t value = 0;
    int64_t date;

    if (!text)
        return -1;
    cursor_init(&c, text);
    if (c.p < c.end && is_digit(*c.p))
    {
        /* delta-seconds: any number of digits; past the cap only the cap counts. */
        for (; c.p < c.end && is_digit(*c.p); c.p++)
        {
            if (value <= max_seconds)
                value = value * 10 + (uint64_t)(*c.p - L'0');
        }
        if (c.p != c.end)
            return -1;
        *delay = value > max_seconds ? max_seconds : (uint32_t)value;
        return 0;
    }
    if (http_date_parse(text, &date))
        return -1;
    if (date <= now)
    {
        *delay = 0;
    }
    else
    {
        /* now may be any 64-bit count, so date - now need not fit in an int64_t; as unsigned
         * numbers it is exact, since date > now. */
        uint64_t wait = (uint64_t)date - (uint64_t)now;
        *delay = wait > max_seconds ? max_seconds : (uint32_t)wait;
    }
    return 0;
}
