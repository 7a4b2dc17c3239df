/* SPDX-License-Identifier: MIT */
/* Pure C parsing of HTTP dates and Retry-After values (no Win32 calls). */
#ifndef OPENDO_CORE_HTTPDATE_H
#define OPENDO_CORE_HTTPDATE_H

#include <stdint.h>
#include <wchar.h>

/* Parses an HTTP-date (RFC 9110 5.6.7, formerly RFC 7231 7.1.1.1): the IMF-fixdate
 * "Sun, 06 Nov 1994 08:49:37 GMT", and the two obsolete forms a recipient must also accept,
 * rfc850 "Sunday, 06-Nov-94 08:49:37 GMT" (a two-digit year is 19yy from 70 on, else 20yy) and
 * asctime "Sun Nov  6 08:49:37 1994". Names may come in any case; the day name must match the
 * date. Returns 0 and the seconds since 1970-01-01 00:00:00 UTC in *out (negative before it),
 * or -1 if `text` is none of these, with nothing but spaces and tabs around it. */
int http_date_parse(const wchar_t *text, int64_t *out);

/* Parses a Retry-After value (RFC 9110 10.2.3): delta-seconds, or an HTTP-date compared with
 * `now` (seconds since 1970, as http_date_parse counts). Returns 0 and the seconds to wait in
 * *delay (0 for a date that has passed, at most max_seconds), or -1 if `text` is neither. */
int retry_after_parse(const wchar_t *text, int64_t now, uint32_t max_seconds, uint32_t *delay);

#endif /* OPENDO_CORE_HTTPDATE_H */
