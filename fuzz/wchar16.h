/* SPDX-License-Identifier: MIT */
/* Native fuzz builds of the wide-string parsers with a 16-bit wchar_t, as on Windows. */
/*
 * scripts/fuzz.sh compiles src/core/url.c and src/core/httpdate.c with -fshort-wchar and
 * -include of this file, so that wchar_t, L"" and WCHAR_MAX are UTF-16 as in the DLL (url.c
 * writes surrogate pairs only then). The C library's wide functions still count in 32-bit
 * units, so the parsers' calls go to the 16-bit ones of fuzz/wchar16.c instead; fuzz.sh
 * refuses to build when the parsers call a wide function not replaced here.
 */
#ifndef OPENDO_FUZZ_WCHAR16_H
#define OPENDO_FUZZ_WCHAR16_H

#include <stddef.h>
#include <wchar.h>

_Static_assert(sizeof(wchar_t) == 2, "build with -fshort-wchar");

/* wcslen, wcscmp, wmemcpy, wcschr and wmemchr for 16-bit wchar_t. */
size_t fuzz_wcslen(const wchar_t *s);
int fuzz_wcscmp(const wchar_t *a, const wchar_t *b);
wchar_t *fuzz_wmemcpy(wchar_t *dst, const wchar_t *src, size_t count);
wchar_t *fuzz_wcschr(const wchar_t *s, wchar_t c);
wchar_t *fuzz_wmemchr(const wchar_t *s, wchar_t c, size_t count);

#define wcslen fuzz_wcslen
#define wcscmp fuzz_wcscmp
#define wmemcpy fuzz_wmemcpy
#define wcschr fuzz_wcschr
#define wmemchr fuzz_wmemchr

#endif /* OPENDO_FUZZ_WCHAR16_H */
