/* SPDX-License-Identifier: MIT */
/* The WinINet client of the benchmark: synchronous WinINet, one connection handle per thread,
 * kept-alive connections, the per-server connection limit raised to the thread count (see
 * stack.c for the workloads). */
#include <stdio.h>
#include <stdlib.h>

#include "stack.h"
#include <wininet.h>

struct conn
{
    HINTERNET connect;
    char *buffer;
};

static HINTERNET session;
static WORD server_port;

static const DWORD request_flags = INTERNET_FLAG_KEEP_CONNECTION | INTERNET_FLAG_NO_CACHE_WRITE |
                                   INTERNET_FLAG_RELOAD | INTERNET_FLAG_PRAGMA_NOCACHE |
                                   INTERNET_FLAG_NO_UI | INTERNET_FLAG_NO_COOKIES;

static HRESULT last_error(void)
{
    return HRESULT_FROM_WIN32(GetLastError());
}

static HRESULT wininet_init(WORD port, int conns)
{
    DWORD max = (DWORD)conns;

    server_port = port;
    InternetSetOptionW(NULL, INTERNET_OPTION_MAX_CONNS_PER_SERVER, &max, sizeof(max));
    InternetSetOptionW(NULL, INTERNET_OPTION_MAX_CONNS_PER_1_0_SERVER, &max, sizeof(max));
    session = InternetOpenW(L"OpenDO-bench/1.0", INTERNET_OPEN_TYPE_DIRECT, NULL, NULL, 0);
    return session ? S_OK : last_error();
}

static void *wininet_open(void)
{
    struct conn *conn = calloc(1, sizeof(*conn));

    if (!conn)
        return NULL;
    conn->buffer = malloc(STACK_BUFFER);
    conn->connect = InternetConnectW(session, L"127.0.0.1", server_port, NULL, NULL,
                                     INTERNET_SERVICE_HTTP, 0, 0);
    if (!conn->buffer || !conn->connect)
    {
        free(conn->buffer);
        free(conn);
        return NULL;
    }
    return conn;
}

static void wininet_close(void *arg)
{
    struct conn *conn = arg;

    InternetCloseHandle(conn->connect);
    free(conn->buffer);
    free(conn);
}

/* Sends one request and checks its status; the caller closes *request. */
static HRESULT request(struct conn *conn, const WCHAR *verb, const WCHAR *path,
                       const WCHAR *headers, DWORD expected, HINTERNET *out)
{
    DWORD status = 0, length = sizeof(status);
    HINTERNET req = HttpOpenRequestW(conn->connect, verb, path, NULL, NULL, NULL, request_flags, 0);

    *out = req;
    if (!req)
        return last_error();
    if (!HttpSendRequestW(req, headers, headers ? (DWORD)-1L : 0, NULL, 0))
        return last_error();
    if (!HttpQueryInfoW(req, HTTP_QUERY_STATUS_CODE | HTTP_QUERY_FLAG_NUMBER, &status, &length,
                        NULL))
        return last_error();
    return status == expected ? S_OK : (HRESULT)(0x80190000u | status);
}

static HRESULT wininet_head(void *arg, const WCHAR *path, ULONGLONG *size)
{
    struct conn *conn = arg;
    WCHAR value[32];
    DWORD length = sizeof(value);
    HINTERNET req;
    HRESULT hr;

    if (SUCCEEDED(hr = request(conn, L"HEAD", path, NULL, 200, &req)))
    {
        if (HttpQueryInfoW(req, HTTP_QUERY_CONTENT_LENGTH, value, &length, NULL))
            *size = _wcstoui64(value, NULL, 10);
        else
            hr = last_error();
    }
    if (req)
        InternetCloseHandle(req);
    return hr;
}

static HRESULT wininet_get(void *arg, const WCHAR *path, BOOL ranged, ULONGLONG first,
                           ULONGLONG last, HANDLE file, ULONGLONG *got)
{
    struct conn *conn = arg;
    WCHAR range[64];
    HINTERNET req;
    HRESULT hr;

    _snwprintf(range, 64, L"Range: bytes=%I64u-%I64u\r\n", first, last);
    if (SUCCEEDED(hr =
                      request(conn, L"GET", path, ranged ? range : NULL, ranged ? 206 : 200, &req)))
    {
        for (;;)
        {
            DWORD read = 0, written;

            if (!InternetReadFile(req, conn->buffer, STACK_BUFFER, &read))
            {
                hr = last_error();
                break;
            }
            if (!read)
                break;
            if (!WriteFile(file, conn->buffer, read, &written, NULL) || written != read)
            {
                hr = last_error();
                break;
            }
            *got += read;
        }
    }
    if (req)
        InternetCloseHandle(req);
    return hr;
}

static const struct stack_ops wininet_ops = {
    "wininet", wininet_init, wininet_open, wininet_close, wininet_head, wininet_get,
};

int wmain(int argc, WCHAR **argv)
{
    return stack_main(&wininet_ops, argc, argv);
}
