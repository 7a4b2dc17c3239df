/* SPDX-License-Identifier: MIT */
/* Shared helpers of the benchmark clients: arguments, timers, CPU and memory, JSON results. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "benchutil.h"
#include <psapi.h>

static int sync_marks;
static char json_buf[8192];
static size_t json_len;

const WCHAR *bench_arg(int argc, WCHAR **argv, const WCHAR *name, const WCHAR *fallback)
{
    for (int i = 1; i + 1 < argc; i++)
    {
        if (!wcscmp(argv[i], name))
            return argv[i + 1];
    }
    return fallback;
}

long bench_arg_long(int argc, WCHAR **argv, const WCHAR *name, long fallback)
{
    const WCHAR *value = bench_arg(argc, argv, name, NULL);

    return value ? wcstol(value, NULL, 10) : fallback;
}

double bench_now(void)
{
    static LARGE_INTEGER frequency;
    LARGE_INTEGER now;

    if (!frequency.QuadPart)
        QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart / (double)frequency.QuadPart;
}

static double filetime_seconds(const FILETIME *time)
{
    ULARGE_INTEGER value;

    value.LowPart = time->dwLowDateTime;
    value.HighPart = time->dwHighDateTime;
    return (double)value.QuadPart / 1e7;
}

double bench_process_cpu(void)
{
    FILETIME created, exited, kernel, user;

    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user))
        return -1.0;
    return filetime_seconds(&kernel) + filetime_seconds(&user);
}

double bench_thread_cpu(HANDLE thread)
{
    FILETIME created, exited, kernel, user;

    if (!GetThreadTimes(thread, &created, &exited, &kernel, &user))
        return -1.0;
    return filetime_seconds(&kernel) + filetime_seconds(&user);
}

void bench_memory(SIZE_T *private_bytes, SIZE_T *working_set)
{
    PROCESS_MEMORY_COUNTERS_EX counters = {.cb = sizeof(counters)};

    *private_bytes = *working_set = 0;
    if (GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&counters,
                             sizeof(counters)))
    {
        *private_bytes = counters.PrivateUsage;
        *working_set = counters.WorkingSetSize;
    }
}

void bench_set_sync(int argc, WCHAR **argv)
{
    for (int i = 1; i < argc; i++)
    {
        if (!wcscmp(argv[i], L"--sync"))
            sync_marks = 1;
    }
}

void bench_mark(const char *name)
{
    char line[64];

    if (!sync_marks)
        return;
    fprintf(stderr, "mark %s\n", name);
    fflush(stderr);
    /* The driver answers once it has read the counters; end of input means it is gone, and the
     * client then carries on unsynchronised rather than hang. */
    if (!fgets(line, sizeof(line), stdin))
        sync_marks = 0;
}

static void json_append(const char *format, ...)
{
    va_list args;
    int n;

    if (json_len >= sizeof(json_buf))
        return;
    va_start(args, format);
    n = vsnprintf(json_buf + json_len, sizeof(json_buf) - json_len, format, args);
    va_end(args);
    if (n > 0)
        json_len += (size_t)n;
}

static void json_key(const char *key)
{
    json_append("%s\"%s\": ", json_len > 1 ? ", " : "", key);
}

void json_begin(void)
{
    json_len = 0;
    json_append("{");
}

void json_str(const char *key, const char *value)
{
    json_key(key);
    json_append("\"%s\"", value);
}

void json_wstr(const char *key, const WCHAR *value)
{
    char narrow[512];

    WideCharToMultiByte(CP_UTF8, 0, value, -1, narrow, sizeof(narrow), NULL, NULL);
    for (char *c = narrow; *c; c++)
    {
        if (*c == '"' || *c == '\\')
            *c = '/';
    }
    json_str(key, narrow);
}

void json_num(const char *key, double value)
{
    json_key(key);
    json_append("%.9g", value);
}

void json_int(const char *key, long long value)
{
    json_key(key);
    json_append("%lld", value);
}

void json_bool(const char *key, int value)
{
    json_key(key);
    json_append(value ? "true" : "false");
}

void json_end(void)
{
    json_append("}");
    fwrite(json_buf, 1, json_len < sizeof(json_buf) ? json_len : sizeof(json_buf) - 1, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

int bench_fail(const char *what, HRESULT hr)
{
    char error[160];

    snprintf(error, sizeof(error), "%s 0x%08lx", what, (unsigned long)hr);
    json_bool("ok", 0);
    json_str("error", error);
    json_end();
    return 1;
}

void bench_path(WCHAR *out, const WCHAR *dir, const WCHAR *name)
{
    _snwprintf(out, MAX_PATH, L"%s\\%s", dir, name);
    out[MAX_PATH - 1] = 0;
}
