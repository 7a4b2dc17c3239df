/* SPDX-License-Identifier: MIT */
/* Writes the seed corpora of the fuzz targets (scripts/fuzz.sh --seeds; committed). */
/*
 * A few small, valid inputs per target, each reaching a different part of its parser, for
 * libFuzzer to mutate: finding a valid record with its checksum, or a date with the right day
 * of the week, by chance alone would take it long.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/record.h"

static const char *root;

static void write_file(const char *target, const char *name, const void *data, size_t size)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
    if (!(f = fopen(path, "wb")) || fwrite(data, 1, size, f) != size || fclose(f))
    {
        fprintf(stderr, "seeds: cannot write %s\n", path);
        exit(1);
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void write_record(const char *name, struct record_writer *w)
{
    uint8_t *data;
    size_t size;

    if (record_finish(w, &data, &size) != RECORD_OK)
    {
        fprintf(stderr, "seeds: cannot make %s\n", name);
        exit(1);
    }
    write_file("record", name, data, size);
    free(data);
}

static void records(void)
{
    uint8_t ranges[32];
    struct record_field unknown = {900, 0x7f, (const uint8_t *)"new", 3};
    struct record_writer w;

    /* A file's ranges as the engine would store them: (0, 100), (512, to the end). */
    put64(ranges, 0);
    put64(ranges + 8, 100);
    put64(ranges + 16, 512);
    put64(ranges + 24, UINT64_MAX);
    record_writer_init(&w);
    write_record("empty", &w);

    /* Shaped like a job: properties, then a group per file. */
    record_put_str(&w, 1, u"Nightly build");
    record_put_u32(&w, 2, 1);
    record_put_u64(&w, 3, 0x01da2b3c4d5e6f70ull);
    record_put_str(&w, 4, u"");
    record_begin(&w, 10);
    record_put_str(&w, 1, u"http://example.com/a/b.bin");
    record_put_str(&w, 2, u"C:\\Users\\me\\b.bin");
    record_put_bytes(&w, 3, ranges, sizeof(ranges));
    record_put_u64(&w, 4, 1000);
    record_end(&w);
    record_begin(&w, 10);
    record_put_str(&w, 1, u"file:///C:/src/\u00e9t\u00e9.iso");
    record_begin(&w, 5);
    record_end(&w);
    record_end(&w);
    write_record("job", &w);

    for (int i = 0; i < RECORD_MAX_DEPTH; i++)
        record_begin(&w, (uint16_t)i);
    record_put_u32(&w, 1, 1);
    for (int i = 0; i < RECORD_MAX_DEPTH; i++)
        record_end(&w);
    write_record("deep", &w);

    record_put_u32(&w, 1, 1);
    record_put_field(&w, &unknown);
    record_put_str(&w, 2, u"\U0001F600");
    write_record("unknown", &w);
}

/* A UTF-16LE string, after `head_size` bytes of parameters. */
static void write_wide(const char *target, const char *name, const void *head, size_t head_size,
                       const uint16_t *s)
{
    uint8_t buf[4096];
    size_t n = head_size;

    if (head_size)
        memcpy(buf, head, head_size);
    for (; *s && n + 2 <= sizeof(buf); s++, n += 2)
    {
        buf[n] = (uint8_t)*s;
        buf[n + 1] = (uint8_t)(*s >> 8);
    }
    write_file(target, name, buf, n);
}

static void urls(void)
{
    write_wide("url", "http", NULL, 0, u"http://example.com:8080/a/b.bin?x=1#y");
    write_wide("url", "https", NULL, 0, u"HTTPS://[::1]/f");
    write_wide("url", "file-drive", NULL, 0, u"file:///C:/dir/na%C3%AFve%20name.bin");
    write_wide("url", "file-emoji", NULL, 0, u"file://C|/d/%F0%9F%98%80");
    write_wide("url", "file-localhost", NULL, 0, u"file://localhost/c:/x");
    write_wide("url", "file-unc", NULL, 0, u"file:////server/share/dir/name");
    write_wide("url", "path", NULL, 0, u"D:\\dir\\\u00e9t\u00e9.txt");
    write_wide("url", "unc", NULL, 0, u"\\\\server\\share\\name");
}

/* File size, largest gap, answer chunk, a position, then (offset, length) pairs. */
static void write_ranges(const char *name, uint64_t file_size, uint64_t gap, uint64_t chunk,
                         uint64_t position, const uint64_t *pairs, size_t count)
{
    uint8_t buf[32 + 16 * 8];
    size_t n = 0;

    put64(buf, file_size);
    put64(buf + 8, gap);
    put64(buf + 16, chunk);
    put64(buf + 24, position);
    n = 32;
    for (size_t i = 0; i < 2 * count; i++, n += 8)
        put64(buf + n, pairs[i]);
    write_file("ranges", name, buf, n);
}

static void ranges(void)
{
    static const uint64_t ordered[] = {0, 100, 150, 50, 300, 10, 900, UINT64_MAX};
    static const uint64_t unordered[] = {500, 20, 0, 10, 100, 1, 40, 60};
    static const uint64_t overlap[] = {100, 5, 100, 0, 90, 20};
    static const uint64_t to_eof[] = {10, 5, 4096, UINT64_MAX};

    write_ranges("ordered", 1000, 64, 7, 123, ordered, 4);
    write_ranges("unordered", 1000, 0, 1000, 5, unordered, 4);
    write_ranges("overlap", 1000, 0, 1, 0, overlap, 3);
    write_ranges("unknown-size", UINT64_MAX, 1 << 20, 65536, 20, to_eof, 2);
}

static void dates(void)
{
    uint8_t head[12] = {0};

    /* 2023-11-14T22:13:20Z, at most a day. */
    put64(head, 1700000000);
    head[8] = 0x80, head[9] = 0x51, head[10] = 0x01;
    write_wide("httpdate", "imf", head, sizeof(head), u"Sun, 06 Nov 1994 08:49:37 GMT");
    write_wide("httpdate", "rfc850", head, sizeof(head), u"Sunday, 06-Nov-94 08:49:37 GMT");
    write_wide("httpdate", "asctime", head, sizeof(head), u"Sun Nov  6 08:49:37 1994");
    write_wide("httpdate", "future", head, sizeof(head), u" Fri, 31 Dec 9999 23:59:60 GMT\t");
    write_wide("httpdate", "delta", head, sizeof(head), u"120");
    write_wide("httpdate", "long-delta", head, sizeof(head), u"  99999999999999999999 ");
}

int main(int argc, char **argv)
{
    if (argc != 2)
    {
        fprintf(stderr, "usage: seeds <corpus folder>\n");
        return 2;
    }
    root = argv[1];
    records();
    urls();
    ranges();
    dates();
    return 0;
}
