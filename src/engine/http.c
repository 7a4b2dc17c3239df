/* SPDX-License-Identifier: MIT */
/* The http and https transport: one GET over WinHTTP, resumed with a Range request. */
#include <stdio.h>
#include <stdlib.h>
#include "engine/engine.h"
#include <winhttp.h>

#define READ_BUFFER_SIZE (256 * 1024)

/* Maps a WinHTTP failure to a code and says whether waiting may cure it. */
static HRESULT transport_failure(struct transfer_ctx *ctx, DWORD err)
{
    ctx->context = BG_ERROR_CONTEXT_GENERAL_TRANSPORT;
    switch (err)
    {
    case ERROR_WINHTTP_INVALID_URL:
    case ERROR_WINHTTP_UNRECOGNIZED_SCHEME:
    case ERROR_WINHTTP_SECURE_FAILURE:
    case ERROR_WINHTTP_SECURE_INVALID_CA:
    case ERROR_WINHTTP_SECURE_CERT_CN_INVALID:
    case ERROR_WINHTTP_SECURE_CERT_DATE_INVALID:
        ctx->transient = FALSE;
        break;
    default:
        ctx->transient = TRUE;
        break;
    }
    return HRESULT_FROM_WIN32(err);
}

static BOOL query_string(HINTERNET request, DWORD info, WCHAR *buf, DWORD size)
{
    DWORD len = size * sizeof(WCHAR);
    return WinHttpQueryHeaders(request, info, WINHTTP_HEADER_NAME_BY_INDEX, buf, &len,
                               WINHTTP_NO_HEADER_INDEX);
}

/* Parses "bytes first-last/total"; total is BG_SIZE_UNKNOWN for "*". */
static BOOL parse_content_range(const WCHAR *s, UINT64 *first, UINT64 *last, UINT64 *total)
{
    WCHAR *end;

    if (_wcsnicmp(s, L"bytes ", 6))
        return FALSE;
    *first = _wcstoui64(s + 6, &end, 10);
    if (end == s + 6 || *end != L'-')
        return FALSE;
    s = end + 1;
    *last = _wcstoui64(s, &end, 10);
    if (end == s || *end != L'/' || *last < *first)
        return FALSE;
    s = end + 1;
    if (*s == L'*')
    {
        *total = BG_SIZE_UNKNOWN;
        return TRUE;
    }
    *total = _wcstoui64(s, &end, 10);
    return end != s && *end == 0 && *last < *total;
}

static BOOL status_is_transient(DWORD status)
{
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

/* Reads the response status and headers: where the body starts and how long the file is. */
static HRESULT start_body(struct transfer_ctx *ctx, HINTERNET request, UINT64 *expected_end)
{
    WCHAR value[128];
    DWORD status = 0, len = sizeof(status);
    UINT64 first, last, total;
    HRESULT hr;

    if (!WinHttpQueryHeaders(request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                             WINHTTP_HEADER_NAME_BY_INDEX, &status, &len, WINHTTP_NO_HEADER_INDEX))
        return transport_failure(ctx, GetLastError());

    if (status == 206 && ctx->offset > 0)
    {
        if (!query_string(request, WINHTTP_QUERY_CONTENT_RANGE, value, ARRAY_SIZE(value)) ||
            !parse_content_range(value, &first, &last, &total) || first != ctx->offset)
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            return BG_E_INVALID_SERVER_RESPONSE;
        }
        *expected_end = last + 1;
        if (total != BG_SIZE_UNKNOWN)
            return transfer_set_size(ctx, total);
        return S_OK;
    }
    if (status != 200)
    {
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        ctx->transient = status_is_transient(status);
        return BG_E_HTTP_ERROR_FROM_STATUS(status);
    }
    /* A plain 200: the whole file again, whatever we asked for. */
    if (ctx->offset > 0 && FAILED(hr = transfer_restart(ctx)))
        return hr;
    *expected_end = BG_SIZE_UNKNOWN;
    if (query_string(request, WINHTTP_QUERY_CONTENT_LENGTH, value, ARRAY_SIZE(value)))
    {
        WCHAR *end;
        total = _wcstoui64(value, &end, 10);
        if (end == value || *end)
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            return BG_E_INVALID_SERVER_RESPONSE;
        }
        *expected_end = total;
        return transfer_set_size(ctx, total);
    }
    return S_OK;
}

static HRESULT read_body(struct transfer_ctx *ctx, HINTERNET request, UINT64 expected_end)
{
    UINT64 position = ctx->offset;
    DWORD read;
    BYTE *buffer;
    HRESULT hr = S_OK;

    if (!(buffer = HeapAlloc(GetProcessHeap(), 0, READ_BUFFER_SIZE)))
        return E_OUTOFMEMORY;
    for (;;)
    {
        if (!WinHttpReadData(request, buffer, READ_BUFFER_SIZE, &read))
        {
            hr = transport_failure(ctx, GetLastError());
            break;
        }
        if (!read)
            break;
        if (expected_end != BG_SIZE_UNKNOWN && position + read > expected_end)
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            hr = BG_E_INVALID_SERVER_RESPONSE;
            break;
        }
        if (FAILED(hr = transfer_write(ctx, buffer, read)))
            break;
        position += read;
    }
    HeapFree(GetProcessHeap(), 0, buffer);
    if (FAILED(hr))
        return hr;
    if (expected_end == BG_SIZE_UNKNOWN)
        return transfer_set_size(ctx, position);
    if (position != expected_end)
    {
        /* The connection ended early; the bytes we have are kept and resumed later. */
        ctx->context = BG_ERROR_CONTEXT_GENERAL_TRANSPORT;
        ctx->transient = TRUE;
        return BG_E_CONNECTION_CLOSED;
    }
    return S_OK;
}

HRESULT http_fetch(struct transfer_ctx *ctx, const WCHAR *url)
{
    URL_COMPONENTS parts = {sizeof(parts)};
    HINTERNET session = NULL, connection = NULL, request = NULL;
    WCHAR host[256], range[64];
    UINT64 expected_end = BG_SIZE_UNKNOWN;
    HRESULT hr;

    parts.lpszHostName = host;
    parts.dwHostNameLength = ARRAY_SIZE(host);
    parts.dwUrlPathLength = (DWORD)-1;
    parts.dwExtraInfoLength = (DWORD)-1;
    if (!WinHttpCrackUrl(url, 0, 0, &parts))
    {
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        return HRESULT_FROM_WIN32(GetLastError());
    }

    if (!(session = WinHttpOpen(OPENDO_USER_AGENT, WINHTTP_ACCESS_TYPE_DEFAULT_PROXY,
                                WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0)))
    {
        hr = transport_failure(ctx, GetLastError());
        goto out;
    }
    WinHttpSetTimeouts(session, 0, 30000, 30000, 60000);
    if (!(connection = WinHttpConnect(session, host, parts.nPort, 0)))
    {
        hr = transport_failure(ctx, GetLastError());
        goto out;
    }
    /* The path and the query string are adjacent in the URL: pass both. */
    request = WinHttpOpenRequest(connection, L"GET",
                                 parts.dwUrlPathLength ? parts.lpszUrlPath : L"/", NULL,
                                 WINHTTP_NO_REFERER, WINHTTP_DEFAULT_ACCEPT_TYPES,
                                 parts.nScheme == INTERNET_SCHEME_HTTPS ? WINHTTP_FLAG_SECURE : 0);
    if (!request)
    {
        hr = transport_failure(ctx, GetLastError());
        goto out;
    }
    if (ctx->offset > 0)
    {
        swprintf(range, ARRAY_SIZE(range), L"Range: bytes=%I64u-", ctx->offset);
        WinHttpAddRequestHeaders(request, range, (DWORD)-1, WINHTTP_ADDREQ_FLAG_ADD);
    }
    if (!WinHttpSendRequest(request, WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA, 0,
                            0, 0) ||
        !WinHttpReceiveResponse(request, NULL))
    {
        hr = transport_failure(ctx, GetLastError());
        goto out;
    }
    if (SUCCEEDED(hr = start_body(ctx, request, &expected_end)))
        hr = read_body(ctx, request, expected_end);

out:
    if (request)
        WinHttpCloseHandle(request);
    if (connection)
        WinHttpCloseHandle(connection);
    if (session)
        WinHttpCloseHandle(session);
    return hr;
}
