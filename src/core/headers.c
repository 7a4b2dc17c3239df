/* SPDX-License-Identifier: MIT */
/* Pure C checks of HTTP request header blocks (SetCustomHeaders). */
#include "core/headers.h"

/* RFC 9110 token characters: what a field name is made of. */
static int is_token_char(wchar_t c)
{
    if ((c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z') || (c >= L'0' && c <= L'9'))
        return 1;
    return c && wcschr(L"!#$%&'*+-.^_`|~", c) != NULL;
}

/* Control characters other than tab: C0, DEL and C1. */
static int is_control(wchar_t c)
{
    return (c < 0x20 && c != L'\t') || (c >= 0x7f && c <= 0x9f);
}

int headers_valid(const wchar_t *p)
{
    const wchar_t *name;

    if (!p)
        return 0;
    while (*p)
    {
        /* A line starts with its name: an empty line, folding white space or a missing name
         * all fail here. */
        for (name = p; is_token_char(*p); p++)
            ;
        if (p == name || *p != L':')
            return 0;
        for (p++; *p && *p != L'\r' && *p != L'\n'; p++)
        {
            if (is_control(*p))
                return 0;
        }
        /* Only CR LF ends a line: a bare CR or LF could end it for one reader and not for
         * another, and so smuggle a header past this check. */
        if (*p == L'\n' || (*p == L'\r' && p[1] != L'\n'))
            return 0;
        if (*p)
            p += 2;
    }
    return 1;
}
