/* SPDX-License-Identifier: MIT */
/* Pure C checks of remote names and local paths (no Win32 calls). */
#include "core/url.h"

static int has_prefix_nocase(const wchar_t *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
    {
        wchar_t c = *s;
        if (c >= L'A' && c <= L'Z')
            c += L'a' - L'A';
        if (c != (wchar_t)*prefix)
            return 0;
    }
    return 1;
}

static int is_drive_letter(wchar_t c)
{
    return (c >= L'A' && c <= L'Z') || (c >= L'a' && c <= L'z');
}

int path_is_absolute(const wchar_t *path)
{
    const wchar_t *p;

    if (!path)
        return 0;
    if (is_drive_letter(path[0]) && path[1] == L':' && path[2] == L'\\')
        return path[3] != 0;
    if (path[0] == L'\\' && path[1] == L'\\' && path[2] && path[2] != L'\\')
    {
        /* \\server\share\name: a server, a share and a name. */
        p = path + 2;
        while (*p && *p != L'\\')
            p++;
        if (*p != L'\\' || p[1] == 0 || p[1] == L'\\')
            return 0;
        p++;
        while (*p && *p != L'\\')
            p++;
        return *p == L'\\' && p[1] != 0;
    }
    return 0;
}

static int hex_value(wchar_t c)
{
    if (c >= L'0' && c <= L'9')
        return c - L'0';
    if (c >= L'a' && c <= L'f')
        return c - L'a' + 10;
    if (c >= L'A' && c <= L'F')
        return c - L'A' + 10;
    return -1;
}

enum url_kind url_classify(const wchar_t *name)
{
    const wchar_t *host;
    size_t len;

    if (!name)
        return URL_INVALID;
    len = wcslen(name);
    if (len == 0 || len > URL_MAX_LENGTH)
        return URL_INVALID;
    for (const wchar_t *p = name; *p; p++)
    {
        if (*p < 0x20)
            return URL_INVALID;
    }
    if (has_prefix_nocase(name, "http://") || has_prefix_nocase(name, "https://"))
    {
        host = name + (name[4] == L':' ? 7 : 8);
        if (*host == 0 || *host == L'/' || *host == L':' || *host == L'?' || *host == L'#')
            return URL_INVALID;
        return name[4] == L':' ? URL_HTTP : URL_HTTPS;
    }
    if (has_prefix_nocase(name, "file://"))
    {
        wchar_t path[1024];
        return url_to_path(name, path, sizeof(path) / sizeof(path[0])) == 0 ? URL_FILE
                                                                           : URL_INVALID;
    }
    return path_is_absolute(name) ? URL_LOCAL_PATH : URL_INVALID;
}

int url_to_path(const wchar_t *name, wchar_t *out, size_t size)
{
    const wchar_t *p = name;
    size_t n = 0;

    if (!name || size == 0)
        return -1;
    if (has_prefix_nocase(name, "file://"))
    {
        p = name + 7;
        if (p[0] == L'/' && is_drive_letter(p[1]) && (p[2] == L':' || p[2] == L'|'))
        {
            p++; /* file:///C:/dir/name */
        }
        else if (has_prefix_nocase(p, "localhost/"))
        {
            p += 10; /* file://localhost/C:/dir/name */
        }
        else if (p[0] != L'/')
        {
            /* file://server/share/name becomes \\server\share\name. */
            if (size < 3)
                return -1;
            out[n++] = L'\\';
            out[n++] = L'\\';
        }
        else
        {
            return -1;
        }
    }
    for (; *p; p++)
    {
        wchar_t c = *p;
        if (c == L'%')
        {
            int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (wchar_t)(hi * 16 + lo);
            p += 2;
            if (c == 0)
                return -1;
        }
        else if (c == L'/')
        {
            c = L'\\';
        }
        else if (c == L'|' && n == 1)
        {
            c = L':';
        }
        if (n + 1 >= size)
            return -1;
        out[n++] = c;
    }
    out[n] = 0;
    return path_is_absolute(out) ? 0 : -1;
}

size_t path_dir_length(const wchar_t *path)
{
    size_t len = wcslen(path);

    while (len > 0 && path[len - 1] != L'\\')
        len--;
    return len > 0 ? len - 1 : 0;
}
