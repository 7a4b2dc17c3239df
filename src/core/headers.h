/* SPDX-License-Identifier: MIT */
/* Pure C checks of HTTP request header blocks (SetCustomHeaders). */
#ifndef OPENDO_CORE_HEADERS_H
#define OPENDO_CORE_HEADERS_H

#include <wchar.h>

/*
 * 1 if `headers` is a block of request header lines that can go on the wire as it is, 0 if not
 * (or NULL). Lines are "Name: value", separated by CR LF; the last may lack its CR LF. The name
 * is one or more token characters (RFC 9110), right before the colon. The value holds no control
 * character but tab. A bare CR or LF, an empty line (which would end the header section and
 * start the body), a line that starts with white space (obsolete folding) or that has no colon:
 * 0. The empty string is 1 (no headers).
 */
int headers_valid(const wchar_t *headers);

#endif /* OPENDO_CORE_HEADERS_H */
