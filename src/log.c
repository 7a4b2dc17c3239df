/* SPDX-License-Identifier: MIT */
/* Logging: off by default, enabled with OPENDO_DEBUG, written with OutputDebugStringA (and a file).
 */
#include <stdio.h>
#include <string.h>
#include "base.h"

static LONG threshold = -2; /* -2: not read yet, -1: off */
static HANDLE log_file = INVALID_HANDLE_VALUE;
static INIT_ONCE log_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK read_settings(INIT_ONCE *once, void *param, void **ctx)
{
    char value[MAX_PATH];
    LONG level = -1;

    if (GetEnvironmentVariableA("OPENDO_DEBUG", value, sizeof(value)))
    {
        if (!_stricmp(value, "err"))
            level = LOG_ERR;
        else if (!_stricmp(value, "warn"))
            level = LOG_WARN;
        else if (!_stricmp(value, "fixme"))
            level = LOG_FIXME;
        else if (!_stricmp(value, "trace") || !strcmp(value, "1"))
            level = LOG_TRACE;
    }
    if (level >= 0 && GetEnvironmentVariableA("OPENDO_LOG_FILE", value, sizeof(value)))
    {
        log_file = CreateFileA(value, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                               OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    }
    InterlockedExchange(&threshold, level);
    return TRUE;
}

BOOL log_enabled(enum log_level level)
{
    if (threshold == -2)
        InitOnceExecuteOnce(&log_once, read_settings, NULL, NULL);
    return (LONG)level <= threshold;
}

void log_printf(enum log_level level, const char *func, const char *fmt, ...)
{
    static const char *const names[] = {"err", "warn", "fixme", "trace"};
    char buf[1024];
    int len;
    va_list args;

    len =
        snprintf(buf, sizeof(buf), "opendo:%s:%04lx:%s ", names[level], GetCurrentThreadId(), func);
    va_start(args, fmt);
    if (len > 0 && len < (int)sizeof(buf))
        vsnprintf(buf + len, sizeof(buf) - len, fmt, args);
    va_end(args);
    buf[sizeof(buf) - 2] = 0;
    len = strlen(buf);
    if (len && buf[len - 1] != '\n')
    {
        buf[len++] = '\n';
        buf[len] = 0;
    }
    OutputDebugStringA(buf);
    if (log_file != INVALID_HANDLE_VALUE)
    {
        DWORD written;
        WriteFile(log_file, buf, len, &written, NULL);
    }
}

/* What debugstr_w and debugstr_url write for one character of a string. */
static char printable(WCHAR c)
{
    return (c >= 0x20 && c < 0x7f) ? (char)c : '?';
}

static char *ring_buffer(void)
{
    static __thread char ring[4][512];
    static __thread unsigned int next;
    return ring[next++ % 4];
}

const char *debugstr_w(const WCHAR *s)
{
    char *buf;
    int i = 0;

    if (!s)
        return "(null)";
    buf = ring_buffer();
    buf[i++] = '"';
    for (; *s && i < 500; s++)
        buf[i++] = printable(*s);
    if (*s)
    {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i++] = '"';
    buf[i] = 0;
    return buf;
}

const char *debugstr_url(const WCHAR *url)
{
    const WCHAR *p, *host = NULL, *at = NULL, *scheme_end;
    BOOL query = FALSE, fragment = FALSE;
    char *buf;
    int i = 0;

    if (!url)
        return "(null)";
    /* "scheme://user:password@host/...": the user information ends at the authority's last @. */
    if ((scheme_end = wcsstr(url, L"://")))
    {
        host = scheme_end + 3;
        for (p = host; *p && !wcschr(L"/\\?#", *p); p++)
        {
            if (*p == '@')
                at = p;
        }
    }
    buf = ring_buffer();
    buf[i++] = '"';
    for (p = url; *p && i < 500; p++)
    {
        if (p == host && at)
        {
            memcpy(buf + i, "***@", 4);
            i += 4;
            p = at;
            continue;
        }
        if (*p == '#')
        {
            fragment = TRUE;
            query = FALSE;
        }
        else if (*p == '?' && !fragment)
            query = TRUE;
        buf[i++] = printable(*p);
        /* A query's values can be keys and signatures: their names are kept, not the values. */
        if (query && *p == '=')
        {
            memcpy(buf + i, "***", 3);
            i += 3;
            while (p[1] && p[1] != '&' && p[1] != '#')
                p++;
        }
    }
    if (*p)
    {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i++] = '"';
    buf[i] = 0;
    return buf;
}

const char *debugstr_guid(const GUID *g)
{
    char *buf;

    if (!g)
        return "(null)";
    buf = ring_buffer();
    snprintf(buf, 512, "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", g->Data1, g->Data2,
             g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5],
             g->Data4[6], g->Data4[7]);
    return buf;
}
