/* SPDX-License-Identifier: MIT */
/* The WinHTTP client of the benchmark: synchronous WinHTTP, one connection handle per thread,
 * kept-alive connections from the session's pool (see stack.c for the workloads). */
#include <stdio.h>
#include <stdlib.h>

#include "stack.h"
#include <winhttp.h>

struct conn
{
    HINTERNET connect;
    char *buffer;
};

static HINTERNET session;
static WORD server_port;

static HRESULT last_error(void)
{
    return HRESULT_FROM_WIN32(GetLastError());
}

static HRESULT winhttp_init(WORD port, int conns)
{
    DWORD max = (DWORD)conns;

    server_port = port;
    session = WinHttpOpen(L"OpenDO-bench/1.0", WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME,
                          WINHTTP_NO_PROXY_BYPASS, 0);
    if (!session)
        return last_error();
    WinHttpSetOption(session, WINHTTP_OPTION_MAX_CONNS_PER_SERVER, &max, sizeof(max));
    return S_OK;
}

static void *winhttp_open(void)
{
    struct conn *conn = calloc(1, sizeof(*conn));

    if (!conn)
        return NULL;
    conn->buffer = malloc(STACK_BUFFER);
    conn->connect = WinHttpConnect(session, L"127.0.0.1", server_port, 0);
    if (!conn->buffer || !conn->connect)
    {
        free(conn->buffer);
        free(conn);
        return NULL;
    }
    return conn;
}

static void winhttp_close(void *arg)
{
    struct conn *conn = arg;

    WinHttpCloseHandle(conn->connect);
    free(conn->buffer);
    free(conn);
}

/* Sends one request and checks its status; the caller closes *request. */
static HRESULT request(struct conn *conn, const WCHAR *verb, const WCHAR *path,
                       const WCHAR *headers, DWORD expected, HINTERNET *out)
{
    DWORD status = 0, length = sizeof(status);
    HINTERNET req = WinHttpOpenRequest(conn->connect, verb, path, NULL, WINHTTP_NO_REFERER,
                                       WINHTTP_DEFAULT_ACCEPT_TYPES, 0);

    *out = req;
    if (!req)
        return last_error();
    if (!WinHttpSendRequest(req, headers ? headers : WINHTTP_NO_ADDITIONAL_HEADERS,
                            headers ? (DWORD)-1L : 0, WINHTTP_NO_REQUEST_DATA, 0, 0, 0) ||
        !WinHttpReceiveResponse(req, NULL))
        return last_error();
    if (!WinHttpQueryHeaders(req, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                             WINHTTP_HEADER_NAME_BY_INDEX, &status, &length,
                             WINHTTP_NO_HEADER_INDEX))
        return last_error();
    return status == expected ? S_OK : (HRESULT)(0x80190000u | status);
}

static HRESULT winhttp_head(void *arg, const WCHAR *path, ULONGLONG *size)
{
    struct conn *conn = arg;
    WCHAR value[32];
    DWORD length = sizeof(value);
    HINTERNET req;
    HRESULT hr;

    if (SUCCEEDED(hr = request(conn, L"HEAD", path, NULL, 200, &req)))
    {
        if (WinHttpQueryHeaders(req, WINHTTP_QUERY_CONTENT_LENGTH, WINHTTP_HEADER_NAME_BY_INDEX,
                                value, &length, WINHTTP_NO_HEADER_INDEX))
            *size = _wcstoui64(value, NULL, 10);
        else
            hr = last_error();
    }
    if (req)
        WinHttpCloseHandle(req);
    return hr;
}

static HRESULT winhttp_get(void *arg, const WCHAR *path, BOOL ranged, ULONGLONG first,
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

            if (!WinHttpReadData(req, conn->buffer, STACK_BUFFER, &read))
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
        WinHttpCloseHandle(req);
    return hr;
}

static const struct stack_ops winhttp_ops = {
    "winhttp", winhttp_init, winhttp_open, winhttp_close, winhttp_head, winhttp_get,
};

int wmain(int argc, WCHAR **argv)
{
    return stack_main(&winhttp_ops, argc, argv);
}
