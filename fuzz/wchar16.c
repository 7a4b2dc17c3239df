/* SPDX-License-Identifier: MIT */
/* wcslen, wcscmp, wmemcpy, wcschr and wmemchr for native fuzz builds with a 16-bit wchar_t (see
 * wchar16.h). */
#include <string.h>
#include "wchar16.h"

size_t fuzz_wcslen(const wchar_t *s)
{
    size_t len = 0;

    while (s[len])
        len++;
    return len;
}

int fuzz_wcscmp(const wchar_t *a, const wchar_t *b)
{
    while (*a && *a == *b)
        a++, b++;
    /* wchar_t is unsigned here, as on Windows. */
    return (*a > *b) - (*a < *b);
}

wchar_t *fuzz_wmemcpy(wchar_t *dst, const wchar_t *src, size_t count)
{
    return memcpy(dst, src, count * sizeof(*dst));
}

wchar_t *fuzz_wcschr(const wchar_t *s, wchar_t c)
{
    /* As the C function: the terminating 0 is part of the string. */
    for (;; s++)
    {
        if (*s == c)
            return (wchar_t *)s;
        if (!*s)
            return NULL;
    }
}

wchar_t *fuzz_wmemchr(const wchar_t *s, wchar_t c, size_t count)
{
    for (; count; count--, s++)
    {
        if (*s == c)
            return (wchar_t *)s;
    }
    return NULL;
}
