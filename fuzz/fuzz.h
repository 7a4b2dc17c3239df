/* SPDX-License-Identifier: MIT */
/* Helpers shared by the libFuzzer targets: oracles and taking values off the input. */
#ifndef OPENDO_FUZZ_H
#define OPENDO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A property the code under test promises; a broken one aborts, which libFuzzer reports as a
 * crash and keeps the input that did it. */
#define FUZZ_CHECK(cond)                                                                           \
    do                                                                                             \
    {                                                                                              \
        if (!(cond))                                                                               \
        {                                                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A little-endian number of n bytes (at most 8) taken off the front of the input; bytes past
 * its end count as 0. */
static inline uint64_t take_le(const uint8_t **data, size_t *size, size_t n)
{
    uint64_t value = 0;

    for (size_t i = 0; i < n; i++)
    {
        if (i < *size)
            value |= (uint64_t)(*data)[i] << 8 * i;
    }
    *data += n < *size ? n : *size;
    *size -= n < *size ? n : *size;
    return value;
}

/* The input as a 0-terminated UTF-16LE string (an odd last byte is dropped; a 0 character ends
 * it early), in a buffer of exactly its units and the 0, so that ASan sees a read past it. Only
 * for targets built with a 16-bit wchar_t (wchar16.h). */
static inline wchar_t *take_wide(const uint8_t *data, size_t size, size_t *len)
{
    size_t units = size / 2;
    wchar_t *s = malloc((units + 1) * sizeof(*s));

    if (!s)
        abort();
    *len = units;
    for (size_t i = 0; i < units; i++)
    {
        s[i] = (wchar_t)(data[2 * i] | data[2 * i + 1] << 8);
        if (!s[i] && *len == units)
            *len = i;
    }
    s[units] = 0;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* OPENDO_FUZZ_H */
