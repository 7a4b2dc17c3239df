/* SPDX-License-Identifier: MIT */
/* doadmin: text output to a console or a file or pipe, error messages, number formats. */
#include <stdio.h>
#include <stdlib.h>
#include "doadmin.h"

/* Output handles and whether each is a console. msvcrt's wide stdio converts through the C
 * locale and loses every character outside it, so doadmin writes through the handles. */
static HANDLE handles[2];
static BOOL consoles[2];

void output_init(struct cli *cli)
{
    DWORD mode;

    handles[0] = GetStdHandle(STD_OUTPUT_HANDLE);
    handles[1] = GetStdHandle(STD_ERROR_HANDLE);
    for (int i = 0; i < 2; i++)
        consoles[i] =
            handles[i] && handles[i] != INVALID_HANDLE_VALUE && GetConsoleMode(handles[i], &mode);
    cli->console = consoles[0];
}

static void write_text(int which, const WCHAR *text, size_t length)
{
    char stack[1024], *utf8 = stack;
    DWORD written;
    int size;

    if (!length)
        return;
    if (consoles[which])
    {
        WriteConsoleW(handles[which], text, (DWORD)length, &written, NULL);
        return;
    }
    size = WideCharToMultiByte(CP_UTF8, 0, text, (int)length, NULL, 0, NULL, NULL);
    if (size <= 0)
        return;
    if (size > (int)sizeof(stack) && !(utf8 = malloc(size)))
        return;
    WideCharToMultiByte(CP_UTF8, 0, text, (int)length, utf8, size, NULL, NULL);
    WriteFile(handles[which], utf8, size, &written, NULL);
    if (utf8 != stack)
        free(utf8);
}

static void vprint(int which, const WCHAR *format, va_list args)
{
    WCHAR stack[1024], *text = stack;
    va_list copy;
    int length;

    va_copy(copy, args);
    length = _vscwprintf(format, copy);
    va_end(copy);
    if (length < 0)
        return;
    if (length >= (int)ARRAYSIZE(stack) && !(text = malloc((length + 1) * sizeof(WCHAR))))
        return;
    _vsnwprintf(text, length + 1, format, args);
    text[length] = 0;
    write_text(which, text, length);
    if (text != stack)
        free(text);
}

void out(const WCHAR *format, ...)
{
    va_list args;

    va_start(args, format);
    vprint(0, format, args);
    va_end(args);
}

void out_error(const WCHAR *format, ...)
{
    va_list args;

    va_start(args, format);
    vprint(1, format, args);
    va_end(args);
}

static void trim(WCHAR *text)
{
    WCHAR *end = text + wcslen(text);

    while (end > text && (end[-1] == L'\n' || end[-1] == L'\r' || end[-1] == L' '))
        *--end = 0;
}

void describe_hr(struct cli *cli, HRESULT code, WCHAR *buf, size_t size)
{
    WCHAR *text;

    if (cli && cli->manager &&
        SUCCEEDED(IBackgroundCopyManager_GetErrorDescription(
            cli->manager, code, LANGIDFROMLCID(GetThreadLocale()), &text)))
    {
        swprintf(buf, size, L"%ls", text);
        CoTaskMemFree(text);
        trim(buf);
        return;
    }
    if (FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0,
                       buf, (DWORD)size, NULL))
    {
        trim(buf);
        return;
    }
    swprintf(buf, size, L"no description is known");
}

int fail_hr(struct cli *cli, HRESULT code, const WCHAR *format, ...)
{
    WCHAR what[512], message[1024];
    va_list args;

    va_start(args, format);
    _vsnwprintf(what, ARRAYSIZE(what) - 1, format, args);
    what[ARRAYSIZE(what) - 1] = 0;
    va_end(args);
    describe_hr(cli, code, message, ARRAYSIZE(message));
    out_error(L"doadmin: %ls: 0x%08lx: %ls\n", what, (unsigned long)code, message);
    if (code == (HRESULT)BG_E_NOT_FOUND || code == DO_E_JOB_NOT_FOUND)
        return EXIT_NOT_FOUND;
    return EXIT_FAILED;
}

void format_bytes(UINT64 bytes, WCHAR *buf, size_t size)
{
    if (bytes == BG_SIZE_UNKNOWN)
        swprintf(buf, size, L"UNKNOWN");
    else if (bytes >= 1024 * 1024 * 1024)
        swprintf(buf, size, L"%.2f GiB", bytes / 1073741824.0);
    else if (bytes >= 1024 * 1024)
        swprintf(buf, size, L"%.1f MiB", bytes / 1048576.0);
    else if (bytes >= 1024)
        swprintf(buf, size, L"%.1f KiB", bytes / 1024.0);
    else
        swprintf(buf, size, L"%u B", (unsigned int)bytes);
}

void format_time(const FILETIME *time, WCHAR *buf, size_t size)
{
    SYSTEMTIME st;

    if ((!time->dwLowDateTime && !time->dwHighDateTime) || !FileTimeToSystemTime(time, &st))
    {
        buf[0] = 0;
        return;
    }
    swprintf(buf, size, L"%04u-%02u-%02uT%02u:%02u:%02uZ", st.wYear, st.wMonth, st.wDay, st.wHour,
             st.wMinute, st.wSecond);
}
