/* SPDX-License-Identifier: MIT */
/* The http and https transport: a GET over WinHTTP, resumed with Range and If-Range. */

/*
 * WinHTTP runs in asynchronous mode, although the worker waits for every step: a synchronous
 * call cannot be interrupted (under Wine, closing the handle does not even end it, and a
 * server that accepts the connection and never answers blocks it for good), and a control
 * operation waits for the worker before it touches the temporary file. So the worker starts
 * each step, then waits for its completion in slices, checking between them whether the job
 * still wants it and whether the server has been silent for too long. When it gives up, it
 * closes the request and leaves at once; the step's state (struct http_op, with the read
 * buffer) lives until WinHTTP says HANDLE_CLOSING, however late that comes.
 */

#include <stdio.h>
#include <stdlib.h>
#include "engine/engine.h"
#include "core/url.h"
#include "core/ranges.h"
#include "core/httpdate.h"
#include <winhttp.h>

#define READ_BUFFER_SIZE (256 * 1024)
/* How often a waiting worker looks whether its job was stopped. */
#define STOP_POLL_MS 50
/* A read that completes within this many milliseconds found its bytes waiting: read more. */
#define FAST_READ_MS 50
/* How long the server may stay silent: connecting and sending, the headers, each read. The
 * job's no-progress window cuts every such wait shorter when it closes first. */
#define SILENCE_TIMEOUT_MS 60000
/* The longest wait a Retry-After may ask for. Longer ones are cut to it: a server's mistake
 * (or a date decades ahead) must not park a job for good, and a day is longer than any outage
 * a server can foresee. A wait beyond the job's no-progress window ends it in ERROR anyway. */
#define MAX_RETRY_AFTER (24 * 60 * 60)
/* Byte ranges closer than this are fetched with one request, the bytes between thrown away:
 * cheaper than another round trip on any link where a round trip costs more than 64 KiB. */
#define RANGE_MAX_GAP (64 * 1024)

/* One request's completions, shared by the worker and the WinHTTP callback. */
struct http_op
{
    LONG refs;   /* the worker's, and WinHTTP's until HANDLE_CLOSING */
    HANDLE done; /* auto-reset; set by the callback when a step completes */
    /* Written by the callback before it sets `done`, read by the worker after it. */
    DWORD completed; /* WINHTTP_CALLBACK_STATUS_* of the last completion */
    DWORD error;     /* REQUEST_ERROR: the failure */
    DWORD available; /* DATA_AVAILABLE: bytes that can be read without waiting */
    DWORD read;      /* READ_COMPLETE: bytes in buffer */
    /* REDIRECT: where WinHTTP went last, or empty. */
    WCHAR redirect[URL_MAX_LENGTH + 1];
    BYTE buffer[READ_BUFFER_SIZE];
};

static void op_release(struct http_op *op)
{
    if (InterlockedDecrement(&op->refs))
        return;
    CloseHandle(op->done);
    HeapFree(GetProcessHeap(), 0, op);
    module_unlock();
}

static void CALLBACK op_callback(HINTERNET handle, DWORD_PTR context, DWORD status, void *info,
                                 DWORD size)
{
    struct http_op *op = (struct http_op *)context;

    if (!op)
        return;
    switch (status)
    {
    case WINHTTP_CALLBACK_STATUS_SENDREQUEST_COMPLETE:
    case WINHTTP_CALLBACK_STATUS_HEADERS_AVAILABLE:
        break;
    case WINHTTP_CALLBACK_STATUS_DATA_AVAILABLE:
        op->available = *(const DWORD *)info;
        break;
    case WINHTTP_CALLBACK_STATUS_READ_COMPLETE:
        op->read = size;
        break;
    case WINHTTP_CALLBACK_STATUS_REQUEST_ERROR:
        op->error = ((const WINHTTP_ASYNC_RESULT *)info)->dwError;
        break;
    case WINHTTP_CALLBACK_STATUS_HANDLE_CLOSING:
        op_release(op);
        return;
    case WINHTTP_CALLBACK_STATUS_REDIRECT:
        /* Not a completion: the request goes on at the new URL. Too long a URL is not kept. */
        if (info && size <= sizeof(op->redirect))
            lstrcpynW(op->redirect, info, ARRAY_SIZE(op->redirect));
        return;
    default:
        return;
    }
    op->completed = status;
    SetEvent(op->done);
}

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
    /* Certificate trouble does not pass by itself: BITS puts revocation failures, for one, in
     * the fatal error state (IBackgroundCopyJobHttpOptions::SetSecurityFlags). */
    case ERROR_WINHTTP_SECURE_CHANNEL_ERROR:
    case ERROR_WINHTTP_SECURE_INVALID_CERT:
    case ERROR_WINHTTP_SECURE_CERT_REVOKED:
    case ERROR_WINHTTP_SECURE_CERT_REV_FAILED:
    case ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE:
    case ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED:
        ctx->transient = FALSE;
        break;
    default:
        ctx->transient = TRUE;
        break;
    }
    return HRESULT_FROM_WIN32(err);
}

/* Waits for the step started last to complete. Gives up with E_ABORT when the job no longer
 * wants the transfer, with BG_E_MAXDOWNLOAD_TIMEOUT when the job ran out of time, and with a
 * transient timeout when the server stays silent: for SILENCE_TIMEOUT_MS, or until the job's
 * no-progress window closes (read at every poll: the client may change the timeout meanwhile),
 * whichever comes first. A silence that closed the window ends the job in ERROR. */
static HRESULT wait_op(struct transfer_ctx *ctx, struct http_op *op)
{
    ULONGLONG silence_deadline = GetTickCount64() + SILENCE_TIMEOUT_MS;
    HRESULT hr;

    for (;;)
    {
        if (WaitForSingleObject(op->done, STOP_POLL_MS) == WAIT_OBJECT_0)
        {
            if (op->completed == WINHTTP_CALLBACK_STATUS_REQUEST_ERROR)
                return transport_failure(ctx, op->error);
            return S_OK;
        }
        if (FAILED(hr = transfer_check(ctx)))
            return hr;
        if (GetTickCount64() >= min(silence_deadline, transfer_progress_deadline(ctx)))
            return transport_failure(ctx, ERROR_WINHTTP_TIMEOUT);
    }
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

/* Seconds since 1970-01-01 UTC, as core/httpdate.h counts them. */
static INT64 unix_now(void)
{
    ULARGE_INTEGER now;
    FILETIME ft;

    GetSystemTimeAsFileTime(&ft);
    now.LowPart = ft.dwLowDateTime;
    now.HighPart = ft.dwHighDateTime;
    /* FILETIME counts 100 ns units from 1601; 11644473600 s lie between 1601 and 1970. */
    return (INT64)(now.QuadPart / 10000000) - 11644473600LL;
}

/* A 503 (Service Unavailable) or 429 (Too Many Requests, RFC 6585) may say when to come back
 * (Retry-After: seconds or an HTTP date); record_failure then waits at least that long before
 * the retry. Another status, or a value that is neither, asks for nothing. */
static void note_retry_after(struct transfer_ctx *ctx, HINTERNET request, DWORD status)
{
    WCHAR value[64];
    UINT32 delay;

    if (status != 503 && status != 429)
        return;
    if (!query_string(request, WINHTTP_QUERY_RETRY_AFTER, value, ARRAY_SIZE(value)) ||
        retry_after_parse(value, unix_now(), MAX_RETRY_AFTER, &delay))
        return;
    TRACE("status %lu, Retry-After %s: %u s", status, debugstr_w(value), delay);
    ctx->retry_after_ms = (ULONGLONG)delay * 1000;
}

/* Reads the response status and headers: where the body starts and how long the file is. */
/* What identifies the answer's content for a later If-Range: a strong ETag, else the date. */
static HRESULT record_validator(struct transfer_ctx *ctx, HINTERNET request)
{
    WCHAR value[VALIDATOR_SIZE];

    if (query_string(request, WINHTTP_QUERY_ETAG, value, ARRAY_SIZE(value)) &&
        wcsncmp(value, L"W/", 2))
        return transfer_set_validator(ctx, value);
    if (query_string(request, WINHTTP_QUERY_LAST_MODIFIED, value, ARRAY_SIZE(value)))
        return transfer_set_validator(ctx, value);
    return transfer_set_validator(ctx, NULL);
}

/* Reads the response status and headers: where the body starts and how long the file is.
 * BG_E_REMOTE_FILE_CHANGED: the file to resume has another size than the one begun. */
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
        if (total != BG_SIZE_UNKNOWN && ctx->total != BG_SIZE_UNKNOWN && total != ctx->total)
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            ctx->transient = TRUE;
            return BG_E_REMOTE_FILE_CHANGED;
        }
        *expected_end = last + 1;
        if (total != BG_SIZE_UNKNOWN)
            return transfer_set_size(ctx, total);
        return S_OK;
    }
    if (status == 416 && ctx->offset > 0)
    {
        /* Nothing at the offset we have: the file became shorter, so it is another file. */
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        ctx->transient = TRUE;
        return BG_E_REMOTE_FILE_CHANGED;
    }
    if (status != 200)
    {
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        ctx->transient = status_is_transient(status);
        return BG_E_HTTP_ERROR_FROM_STATUS(status);
    }
    /* A plain 200: the whole file again, whatever we asked for (a server without ranges, or
     * If-Range saw that the file changed). */
    if (ctx->offset > 0 && FAILED(hr = transfer_restart(ctx)))
        return hr;
    if (FAILED(hr = record_validator(ctx, request)))
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
    /* Content without a length (generated, chunked) needs BITS_JOB_PROPERTY_DYNAMIC_CONTENT, as
     * in BITS: without it the size, and so the progress, could never be told. */
    if (!ctx->options.dynamic_content)
    {
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        return BG_E_MISSING_FILE_SIZE;
    }
    return S_OK;
}

/* Reads the body into the temporary file. A WinHTTP read returns only when its buffer is full
 * or the body ends (so under Wine), so the size of each read adapts: after a read that had to
 * wait, the next one asks first what has arrived and reads just that, so that a slow or stalled
 * server still shows its progress; reads that complete at once grow, up to the buffer, so that
 * a fast server costs few round trips. */
static HRESULT read_body(struct transfer_ctx *ctx, HINTERNET request, struct http_op *op,
                         UINT64 expected_end)
{
    UINT64 position = ctx->offset;
    DWORD chunk = 0, size;
    ULONGLONG started;
    HRESULT hr;

    /* With a known end, the last byte ends the transfer: no read waits for the end of data. */
    while (expected_end == BG_SIZE_UNKNOWN || position < expected_end)
    {
        if (!(size = chunk))
        {
            if (!WinHttpQueryDataAvailable(request, NULL))
                return transport_failure(ctx, GetLastError());
            if (FAILED(hr = wait_op(ctx, op)))
                return hr;
            if (!(size = op->available))
                break;
        }
        size = min(size, READ_BUFFER_SIZE);
        if (expected_end != BG_SIZE_UNKNOWN)
            size = (DWORD)min(size, expected_end - position);
        started = GetTickCount64();
        if (!WinHttpReadData(request, op->buffer, size, NULL))
            return transport_failure(ctx, GetLastError());
        if (FAILED(hr = wait_op(ctx, op)))
            return hr;
        if (!op->read)
            break;
        if (expected_end != BG_SIZE_UNKNOWN && position + op->read > expected_end)
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            return BG_E_INVALID_SERVER_RESPONSE;
        }
        if (FAILED(hr = transfer_write(ctx, op->buffer, op->read)))
            return hr;
        position += op->read;
        if (op->read == size && GetTickCount64() - started < FAST_READ_MS)
            chunk = min(size * 2, READ_BUFFER_SIZE);
        else
            chunk = 0;
    }
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

/* Creates the request's shared state and hands WinHTTP its reference: from now on the request
 * handle's HANDLE_CLOSING releases it. */
static HRESULT attach_op(HINTERNET request, struct http_op **out)
{
    struct http_op *op;
    DWORD_PTR context;

    if (!(op = HeapAlloc(GetProcessHeap(), 0, sizeof(*op))))
        return E_OUTOFMEMORY;
    op->refs = 1;
    op->completed = 0;
    op->error = 0;
    op->available = 0;
    op->read = 0;
    op->redirect[0] = 0;
    if (!(op->done = CreateEventW(NULL, FALSE, FALSE, NULL)))
    {
        HeapFree(GetProcessHeap(), 0, op);
        return HRESULT_FROM_WIN32(GetLastError());
    }
    /* A callback may still come after the worker left: keep the module loaded until then. */
    module_lock();
    context = (DWORD_PTR)op;
    if (!WinHttpSetOption(request, WINHTTP_OPTION_CONTEXT_VALUE, &context, sizeof(context)) ||
        WinHttpSetStatusCallback(request, op_callback,
                                 WINHTTP_CALLBACK_FLAG_ALL_COMPLETIONS |
                                     WINHTTP_CALLBACK_FLAG_HANDLES | WINHTTP_CALLBACK_FLAG_REDIRECT,
                                 0) == WINHTTP_INVALID_STATUS_CALLBACK)
    {
        HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
        op_release(op);
        return hr;
    }
    op->refs++;
    *out = op;
    return S_OK;
}

/* ---- job options: proxy, credentials, HTTP options (Job, Job2 and HttpOptions) ---- */

/* Resends after an authentication challenge that we answered, at most this often per request. */
#define MAX_AUTH_TRIES 3

/* Longest proxy entry we pass on ("host:port" after the scheme prefixes are gone). */
#define MAX_PROXY_ENTRY 512

static BOOL is_list_separator(WCHAR c)
{
    return c == L' ' || c == L';' || c == L'\t';
}

/* Picks the proxy for a URL of the given scheme from a BITS proxy list (space-delimited
 * "[protocol=][protocol://]server[:port]" entries) and writes it as the plain "server:port"
 * that every WinHTTP (Wine's included) understands. An entry for the URL's protocol wins over
 * a plain entry; other protocols' entries are skipped. FALSE when nothing applies. */
static BOOL proxy_for_scheme(const WCHAR *list, INTERNET_SCHEME scheme, WCHAR *out, size_t size)
{
    const WCHAR *want = scheme == INTERNET_SCHEME_HTTPS ? L"https" : L"http";
    const WCHAR *p = list, *plain = NULL, *chosen = NULL;
    size_t plain_len = 0, chosen_len = 0, len;

    while (*p && !chosen)
    {
        const WCHAR *start, *equals;

        while (is_list_separator(*p))
            p++;
        start = p;
        while (*p && !is_list_separator(*p))
            p++;
        if (p == start)
            break;
        len = p - start;
        equals = wmemchr(start, L'=', len);
        if (!equals)
        {
            if (!plain)
            {
                plain = start;
                plain_len = len;
            }
        }
        else if ((size_t)(equals - start) == wcslen(want) && !_wcsnicmp(start, want, wcslen(want)))
        {
            chosen = equals + 1;
            chosen_len = len - (equals + 1 - start);
        }
    }
    if (!chosen)
    {
        chosen = plain;
        chosen_len = plain_len;
    }
    if (!chosen)
        return FALSE;
    /* "http://server:port/" -> "server:port" */
    for (const WCHAR *s = chosen; s + 3 <= chosen + chosen_len; s++)
    {
        if (!wcsncmp(s, L"://", 3))
        {
            chosen_len -= s + 3 - chosen;
            chosen = s + 3;
            break;
        }
    }
    while (chosen_len && chosen[chosen_len - 1] == L'/')
        chosen_len--;
    if (!chosen_len || chosen_len >= size)
        return FALSE;
    memcpy(out, chosen, chosen_len * sizeof(WCHAR));
    out[chosen_len] = 0;
    return TRUE;
}

/* BG_JOB_PROXY_USAGE_AUTODETECT: asks WPAD (DHCP, then DNS) for the URL's proxy. Detection
 * that fails or finds none leaves *proxy empty: the job then connects directly. */
static void detect_proxy(const WCHAR *url, INTERNET_SCHEME scheme, WCHAR *proxy, size_t size)
{
    WINHTTP_AUTOPROXY_OPTIONS options = {0};
    WINHTTP_PROXY_INFO info = {0};
    HINTERNET session;

    proxy[0] = 0;
    options.dwFlags = WINHTTP_AUTOPROXY_AUTO_DETECT;
    options.dwAutoDetectFlags = WINHTTP_AUTO_DETECT_TYPE_DHCP | WINHTTP_AUTO_DETECT_TYPE_DNS_A;
    options.fAutoLogonIfChallenged = TRUE;
    /* A session of its own: WinHttpGetProxyForUrl wants a synchronous one. */
    if (!(session = WinHttpOpen(OPENDO_USER_AGENT, WINHTTP_ACCESS_TYPE_NO_PROXY,
                                WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0)))
        return;
    if (WinHttpGetProxyForUrl(session, url, &options, &info))
    {
        if (info.dwAccessType == WINHTTP_ACCESS_TYPE_NAMED_PROXY && info.lpszProxy &&
            !proxy_for_scheme(info.lpszProxy, scheme, proxy, size))
            proxy[0] = 0;
    }
    else
    {
        TRACE("no proxy detected for %s: %lu", debugstr_url(url), GetLastError());
    }
    GlobalFree(info.lpszProxy);
    GlobalFree(info.lpszProxyBypass);
    WinHttpCloseHandle(session);
}

void http_forget_proxy(struct ejob *job)
{
    job->detected_proxy.serial++;
}

/* BG_JOB_PROXY_USAGE_AUTODETECT: the proxy WPAD finds for the URL, asked once per job and
 * origin. Detection runs synchronously and can take long (DHCP, DNS, fetching and running the
 * PAC script): asked for every file, a job of many files would spend most of its time there, and
 * a control operation would wait for it. The answer is kept in job->detected_proxy until the
 * job's proxy settings change or a file comes from another origin. */
static void autodetect_proxy(struct transfer_ctx *ctx, const WCHAR *url,
                             const URL_COMPONENTS *parts, WCHAR *proxy, size_t size)
{
    struct proxy_cache *cache = &ctx->job->detected_proxy;
    WCHAR origin[300], *new_origin, *new_proxy;
    BOOL cached = FALSE;
    LONG serial;

    swprintf(origin, ARRAY_SIZE(origin), L"%ls://%.*ls:%u",
             parts->nScheme == INTERNET_SCHEME_HTTPS ? L"https" : L"http",
             (int)parts->dwHostNameLength, parts->lpszHostName, parts->nPort);
    AcquireSRWLockShared(&ctx->job->lock);
    serial = cache->serial;
    if (cache->origin && cache->found_serial == serial && !wcscmp(cache->origin, origin) &&
        wcslen(cache->proxy) < size)
    {
        wcscpy(proxy, cache->proxy);
        cached = TRUE;
    }
    ReleaseSRWLockShared(&ctx->job->lock);
    if (cached)
    {
        TRACE("proxy for %s known: %s", debugstr_w(origin), debugstr_w(proxy));
        return;
    }

    detect_proxy(url, parts->nScheme, proxy, size);
    /* Without memory the answer is not kept: the next file detects again. */
    new_origin = heap_strdup(origin);
    new_proxy = heap_strdup(proxy);
    if (new_origin && new_proxy)
    {
        /* Settings changed during the detection make its answer stale: it is not kept. */
        AcquireSRWLockExclusive(&ctx->job->lock);
        if (cache->serial == serial)
        {
            WCHAR *old_origin = cache->origin, *old_proxy = cache->proxy;

            cache->origin = new_origin;
            cache->proxy = new_proxy;
            cache->found_serial = serial;
            new_origin = old_origin;
            new_proxy = old_proxy;
        }
        ReleaseSRWLockExclusive(&ctx->job->lock);
    }
    free_str(new_origin);
    free_str(new_proxy);
}

/* Opens the WinHTTP session the job's proxy usage asks for: PRECONFIG, the system's settings;
 * NO_PROXY, a direct connection; OVERRIDE, the job's list and bypass list; AUTODETECT, what WPAD
 * finds, or a direct connection. */
static HRESULT open_session(struct transfer_ctx *ctx, const WCHAR *url, const URL_COMPONENTS *parts,
                            HINTERNET *out)
{
    INTERNET_SCHEME scheme = parts->nScheme;
    const struct ejob_options *options = &ctx->options;
    WCHAR proxy[MAX_PROXY_ENTRY], *bypass = NULL;
    DWORD access = WINHTTP_ACCESS_TYPE_DEFAULT_PROXY;
    HRESULT hr = S_OK;

    proxy[0] = 0;
    switch (options->proxy_usage)
    {
    case BG_JOB_PROXY_USAGE_NO_PROXY:
        access = WINHTTP_ACCESS_TYPE_NO_PROXY;
        break;
    case BG_JOB_PROXY_USAGE_OVERRIDE:
        if (!options->proxy_list ||
            !proxy_for_scheme(options->proxy_list, scheme, proxy, ARRAY_SIZE(proxy)))
        {
            ctx->context = BG_ERROR_CONTEXT_GENERAL_TRANSPORT;
            ctx->transient = FALSE;
            return BG_E_INVALID_PROXY_INFO;
        }
        access = WINHTTP_ACCESS_TYPE_NAMED_PROXY;
        if (options->proxy_bypass)
        {
            /* WinHTTP separates bypass entries with semicolons; BITS with spaces. */
            if (!(bypass = heap_strdup(options->proxy_bypass)))
                return E_OUTOFMEMORY;
            for (WCHAR *c = bypass; *c; c++)
            {
                if (is_list_separator(*c))
                    *c = L';';
            }
        }
        break;
    case BG_JOB_PROXY_USAGE_AUTODETECT:
        autodetect_proxy(ctx, url, parts, proxy, ARRAY_SIZE(proxy));
        access = proxy[0] ? WINHTTP_ACCESS_TYPE_NAMED_PROXY : WINHTTP_ACCESS_TYPE_NO_PROXY;
        break;
    default:
        break;
    }
    TRACE("proxy usage %d: access %lu %s bypass %s", options->proxy_usage, access,
          debugstr_url(proxy), debugstr_w(bypass));
    if (!(*out =
              WinHttpOpen(OPENDO_USER_AGENT, access,
                          access == WINHTTP_ACCESS_TYPE_NAMED_PROXY ? proxy : WINHTTP_NO_PROXY_NAME,
                          bypass ? bypass : WINHTTP_NO_PROXY_BYPASS, WINHTTP_FLAG_ASYNC)))
    {
        hr = transport_failure(ctx, GetLastError());
        if (options->proxy_usage == BG_JOB_PROXY_USAGE_OVERRIDE)
        {
            ctx->transient = FALSE;
            hr = BG_E_INVALID_PROXY_INFO;
        }
    }
    free_str(bypass);
    return hr;
}

/* BG_CERT_STORE_LOCATION_* -> CERT_SYSTEM_STORE_*, in the enumeration's order. */
static const DWORD cert_store_locations[] = {
    CERT_SYSTEM_STORE_CURRENT_USER,
    CERT_SYSTEM_STORE_LOCAL_MACHINE,
    CERT_SYSTEM_STORE_CURRENT_SERVICE,
    CERT_SYSTEM_STORE_SERVICES,
    CERT_SYSTEM_STORE_USERS,
    CERT_SYSTEM_STORE_CURRENT_USER_GROUP_POLICY,
    CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY,
    CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE,
};

HRESULT http_find_client_cert(const struct ejob_client_cert *cert, const CERT_CONTEXT **out)
{
    const CERT_CONTEXT *found;
    HCERTSTORE store;

    *out = NULL;
    if ((unsigned int)cert->location >= ARRAY_SIZE(cert_store_locations) || !cert->store)
        return E_INVALIDARG;
    if (!(store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                                cert_store_locations[cert->location] |
                                    CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG,
                                cert->store)))
    {
        DWORD err = GetLastError();
        WARN("cannot open certificate store %s: %lu", debugstr_w(cert->store), err);
        return err == ERROR_ACCESS_DENIED ? E_ACCESSDENIED
                                          : HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    }
    if (cert->by_name)
    {
        found = CertFindCertificateInStore(store, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0,
                                           CERT_FIND_SUBJECT_STR_W, cert->subject, NULL);
    }
    else
    {
        CRYPT_HASH_BLOB blob = {EJOB_CERT_HASH_SIZE, (BYTE *)cert->hash};
        found = CertFindCertificateInStore(store, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0,
                                           CERT_FIND_SHA1_HASH, &blob, NULL);
    }
    CertCloseStore(store, 0);
    if (!found)
        return CRYPT_E_NOT_FOUND;
    *out = found;
    return S_OK;
}

/* A failure of the job's own request setup: it will not go away by waiting. */
static HRESULT setup_failure(struct transfer_ctx *ctx, HRESULT hr)
{
    ctx->context = BG_ERROR_CONTEXT_GENERAL_TRANSPORT;
    ctx->transient = FALSE;
    return hr;
}

static BOOL set_dword_option(HINTERNET request, DWORD option, DWORD value)
{
    return WinHttpSetOption(request, option, &value, sizeof(value));
}

/* Applies the job's HTTP options to a request before it is sent: the custom headers (sent with
 * every request of the job), the redirect policy, and on https the security flags, revocation
 * checking and the client certificate. */
static HRESULT apply_request_options(struct transfer_ctx *ctx, HINTERNET request,
                                     const URL_COMPONENTS *parts)
{
    const struct ejob_options *options = &ctx->options;
    ULONG flags = options->security_flags;
    ULONG redirect = flags & BG_HTTP_REDIRECT_POLICY_MASK;

    if (options->custom_headers && options->custom_headers[0] &&
        !WinHttpAddRequestHeaders(request, options->custom_headers, (DWORD)-1,
                                  WINHTTP_ADDREQ_FLAG_ADD | WINHTTP_ADDREQ_FLAG_REPLACE))
        return setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));

    if (redirect == BG_HTTP_REDIRECT_POLICY_DISALLOW)
    {
        /* The redirect answer itself comes back, and answer_redirect fails the job with it. */
        set_dword_option(request, WINHTTP_OPTION_REDIRECT_POLICY,
                         WINHTTP_OPTION_REDIRECT_POLICY_NEVER);
        set_dword_option(request, WINHTTP_OPTION_DISABLE_FEATURE, WINHTTP_DISABLE_REDIRECTS);
    }
    else if (!set_dword_option(request, WINHTTP_OPTION_REDIRECT_POLICY,
                               flags & BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP
                                   ? WINHTTP_OPTION_REDIRECT_POLICY_ALWAYS
                                   : WINHTTP_OPTION_REDIRECT_POLICY_DISALLOW_HTTPS_TO_HTTP))
        WARN("cannot set the redirect policy: %lu", GetLastError());

    /* Implicit credentials and BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS let WinHTTP log on with
     * the user's own credentials. */
    if (options->stored_credentials == BG_AUTH_TARGET_PROXY)
        set_dword_option(request, WINHTTP_OPTION_AUTOLOGON_POLICY,
                         WINHTTP_AUTOLOGON_SECURITY_LEVEL_MEDIUM);

    if (parts->nScheme != INTERNET_SCHEME_HTTPS)
        return S_OK;
    if (flags & (BG_SSL_IGNORE_CERT_CN_INVALID | BG_SSL_IGNORE_CERT_DATE_INVALID |
                 BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_WRONG_USAGE))
    {
        DWORD security = 0;

        if (flags & BG_SSL_IGNORE_CERT_CN_INVALID)
            security |= SECURITY_FLAG_IGNORE_CERT_CN_INVALID;
        if (flags & BG_SSL_IGNORE_CERT_DATE_INVALID)
            security |= SECURITY_FLAG_IGNORE_CERT_DATE_INVALID;
        if (flags & BG_SSL_IGNORE_UNKNOWN_CA)
            security |= SECURITY_FLAG_IGNORE_UNKNOWN_CA;
        if (flags & BG_SSL_IGNORE_CERT_WRONG_USAGE)
            security |= SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
        if (!set_dword_option(request, WINHTTP_OPTION_SECURITY_FLAGS, security))
            return setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    }
    if ((flags & BG_SSL_ENABLE_CRL_CHECK) &&
        !set_dword_option(request, WINHTTP_OPTION_ENABLE_FEATURE, WINHTTP_ENABLE_SSL_REVOCATION))
        return setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    if (options->client_cert.present)
    {
        const CERT_CONTEXT *cert;
        HRESULT hr;
        BOOL set;

        if (FAILED(hr = http_find_client_cert(&options->client_cert, &cert)))
            return setup_failure(ctx, hr);
        set = WinHttpSetOption(request, WINHTTP_OPTION_CLIENT_CERT_CONTEXT, (void *)cert,
                               sizeof(*cert));
        hr = HRESULT_FROM_WIN32(GetLastError());
        CertFreeCertificateContext(cert);
        if (!set)
            return setup_failure(ctx, hr);
    }
    return S_OK;
}

/* Sends the request (again) and waits for the response headers. */
static HRESULT send_and_receive(struct transfer_ctx *ctx, HINTERNET request, struct http_op *op)
{
    HRESULT hr;

    if (!WinHttpSendRequest(request, WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA, 0,
                            0, (DWORD_PTR)op))
        return transport_failure(ctx, GetLastError());
    if (FAILED(hr = wait_op(ctx, op)))
        return hr;
    if (!WinHttpReceiveResponse(request, NULL))
        return transport_failure(ctx, GetLastError());
    return wait_op(ctx, op);
}

static DWORD response_status(HINTERNET request)
{
    DWORD status = 0, len = sizeof(status);

    if (!WinHttpQueryHeaders(request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                             WINHTTP_HEADER_NAME_BY_INDEX, &status, &len, WINHTTP_NO_HEADER_INDEX))
        return 0;
    return status;
}

/* BG_AUTH_SCHEME_* (1..5) as WINHTTP_AUTH_SCHEME_*, and the order in which we answer a server
 * that offers several: the strongest scheme we hold a credential for first. */
static const DWORD winhttp_schemes[EJOB_AUTH_SCHEMES] = {
    WINHTTP_AUTH_SCHEME_BASIC,     WINHTTP_AUTH_SCHEME_DIGEST,   WINHTTP_AUTH_SCHEME_NTLM,
    WINHTTP_AUTH_SCHEME_NEGOTIATE, WINHTTP_AUTH_SCHEME_PASSPORT,
};
static const BG_AUTH_SCHEME scheme_preference[EJOB_AUTH_SCHEMES] = {
    BG_AUTH_SCHEME_NEGOTIATE, BG_AUTH_SCHEME_NTLM,  BG_AUTH_SCHEME_DIGEST,
    BG_AUTH_SCHEME_PASSPORT,  BG_AUTH_SCHEME_BASIC,
};

/* The credential to answer a challenge of `target` in `scheme` with, or NULL. As BITS does,
 * implicit proxy credentials (NTLM or Negotiate without a user name) serve the server too
 * unless the job has server credentials of that scheme. */
static const struct ejob_credential *credential_for(const struct ejob_options *options,
                                                    BG_AUTH_TARGET target, BG_AUTH_SCHEME scheme)
{
    const struct ejob_credential *credential = &options->credentials[target - 1][scheme - 1];
    const struct ejob_credential *proxy;

    if (credential->present)
        return credential;
    proxy = &options->credentials[BG_AUTH_TARGET_PROXY - 1][scheme - 1];
    if (target == BG_AUTH_TARGET_SERVER && proxy->present && !proxy->user &&
        (scheme == BG_AUTH_SCHEME_NTLM || scheme == BG_AUTH_SCHEME_NEGOTIATE))
        return proxy;
    return NULL;
}

/* A 401 or 407 answer: gives WinHTTP the stored credential for a scheme the server offers.
 * S_FALSE when the job holds none, which leaves the answer to fail the job. */
static HRESULT answer_challenge(struct transfer_ctx *ctx, HINTERNET request, DWORD status)
{
    BG_AUTH_TARGET target = status == 407 ? BG_AUTH_TARGET_PROXY : BG_AUTH_TARGET_SERVER;
    const struct ejob_credential *credential = NULL;
    DWORD supported, first, auth_target, scheme = 0;

    if (!WinHttpQueryAuthSchemes(request, &supported, &first, &auth_target))
    {
        TRACE("no authentication scheme offered: %lu", GetLastError());
        return S_FALSE;
    }
    for (int i = -1; i < EJOB_AUTH_SCHEMES && !credential; i++)
    {
        /* The scheme the server prefers comes first, then ours. */
        BG_AUTH_SCHEME bg = BG_AUTH_SCHEME_BASIC;
        if (i < 0)
        {
            int s;
            for (s = 0; s < EJOB_AUTH_SCHEMES && winhttp_schemes[s] != first; s++)
                ;
            if (s == EJOB_AUTH_SCHEMES)
                continue;
            bg = s + 1;
        }
        else
            bg = scheme_preference[i];
        if (!(supported & winhttp_schemes[bg - 1]))
            continue;
        if ((credential = credential_for(&ctx->options, target, bg)))
            scheme = winhttp_schemes[bg - 1];
    }
    if (!credential)
    {
        TRACE("no credential for target %d, schemes %#lx", target, supported);
        return S_FALSE;
    }
    /* Neither the user name nor the password is logged. */
    TRACE("answering target %d scheme %#lx with %s credentials", target, scheme,
          credential->user ? "the job's" : "the logged-on user's");
    if (!credential->user)
        set_dword_option(request, WINHTTP_OPTION_AUTOLOGON_POLICY,
                         WINHTTP_AUTOLOGON_SECURITY_LEVEL_LOW);
    if (!WinHttpSetCredentials(request, auth_target, scheme, credential->user, credential->password,
                               NULL))
        return setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    return S_OK;
}

static BOOL is_redirect(DWORD status)
{
    return status == 300 || status == 301 || status == 302 || status == 303 || status == 307 ||
           status == 308;
}

/* A redirect target as an absolute URL: as it is, or a path on the requested server. */
static BOOL absolute_url(const WCHAR *location, const URL_COMPONENTS *parts, WCHAR *out,
                         size_t size)
{
    enum url_kind kind = url_classify(location);

    if (kind == URL_HTTP || kind == URL_HTTPS)
        return lstrcpynW(out, location, size) && wcslen(location) < size;
    if (location[0] != L'/' || location[1] == L'/')
        return FALSE;
    return swprintf(out, size, L"%ls://%.*ls:%u%ls",
                    parts->nScheme == INTERNET_SCHEME_HTTPS ? L"https" : L"http",
                    (int)parts->dwHostNameLength, parts->lpszHostName, parts->nPort, location) > 0;
}

/* Does the final URL of a request name another resource than the one asked for? */
static BOOL moved(const WCHAR *final, const URL_COMPONENTS *parts)
{
    URL_COMPONENTS now = {sizeof(now)};

    now.dwHostNameLength = (DWORD)-1;
    now.dwUrlPathLength = (DWORD)-1;
    now.dwExtraInfoLength = (DWORD)-1;
    if (!WinHttpCrackUrl(final, 0, 0, &now))
        return FALSE;
    return now.nScheme != parts->nScheme || now.nPort != parts->nPort ||
           now.dwHostNameLength != parts->dwHostNameLength ||
           _wcsnicmp(now.lpszHostName, parts->lpszHostName, parts->dwHostNameLength) ||
           wcscmp(now.lpszUrlPath, parts->dwUrlPathLength ? parts->lpszUrlPath : L"/");
}

/* Looks at the response before its body is read: answers authentication challenges with the
 * job's credentials and resends (a bounded number of times), then applies the redirect policy:
 * DISALLOW fails the job with the redirect answer (and reports where it pointed), ALLOW_REPORT
 * records the final URL as the file's remote name. Anything else is start_body's. */
static HRESULT answer_response(struct transfer_ctx *ctx, HINTERNET request, struct http_op *op,
                               const URL_COMPONENTS *parts)
{
    ULONG policy = ctx->options.security_flags & BG_HTTP_REDIRECT_POLICY_MASK;
    DWORD status = response_status(request);
    HRESULT hr;

    TRACE("status %lu, redirect policy %#lx", status, policy);
    for (int tries = 0; (status == 401 || status == 407) && tries < MAX_AUTH_TRIES; tries++)
    {
        if ((hr = answer_challenge(ctx, request, status)) != S_OK)
            return SUCCEEDED(hr) ? S_OK : hr;
        if (FAILED(hr = send_and_receive(ctx, request, op)))
            return hr;
        status = response_status(request);
    }

    if (policy == BG_HTTP_REDIRECT_POLICY_DISALLOW && is_redirect(status))
    {
        WCHAR location[URL_MAX_LENGTH + 1], target[URL_MAX_LENGTH + 1];
        DWORD size = sizeof(location);

        /* BITS: the job fails with HRESULT_FROM_WIN32(status) and the remote name becomes the
         * URL the server pointed to. */
        if (WinHttpQueryHeaders(request, WINHTTP_QUERY_LOCATION, WINHTTP_HEADER_NAME_BY_INDEX,
                                location, &size, WINHTTP_NO_HEADER_INDEX) &&
            absolute_url(location, parts, target, ARRAY_SIZE(target)) &&
            FAILED(hr = transfer_set_remote(ctx, target)))
            return hr;
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        ctx->transient = FALSE;
        return HRESULT_FROM_WIN32(status);
    }
    if (policy == BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT && op->redirect[0])
    {
        WCHAR final[URL_MAX_LENGTH + 1];

        if (absolute_url(op->redirect, parts, final, ARRAY_SIZE(final)) && moved(final, parts) &&
            FAILED(hr = transfer_set_remote(ctx, final)))
            return hr;
        TRACE("redirected to %s", debugstr_url(op->redirect));
    }
    return S_OK;
}

/* Keeps the response's status line and headers for IBackgroundCopyFile5::GetProperty. */
static void record_response(struct transfer_ctx *ctx, HINTERNET request)
{
    WCHAR *headers = NULL;
    DWORD size = 0;

    WinHttpQueryHeaders(request, WINHTTP_QUERY_RAW_HEADERS_CRLF, WINHTTP_HEADER_NAME_BY_INDEX, NULL,
                        &size, WINHTTP_NO_HEADER_INDEX);
    if (size && (headers = heap_alloc_zero(size + sizeof(WCHAR))) &&
        !WinHttpQueryHeaders(request, WINHTTP_QUERY_RAW_HEADERS_CRLF, WINHTTP_HEADER_NAME_BY_INDEX,
                             headers, &size, WINHTTP_NO_HEADER_INDEX))
    {
        free_str(headers);
        headers = NULL;
    }
    transfer_set_response(ctx, headers, response_status(request));
}

/* What identifies the content of an answer: a strong ETag, else the date, else "". */
static void current_validator(HINTERNET request, WCHAR *value, DWORD size)
{
    if (query_string(request, WINHTTP_QUERY_ETAG, value, size) && wcsncmp(value, L"W/", 2))
        return;
    if (query_string(request, WINHTTP_QUERY_LAST_MODIFIED, value, size))
        return;
    value[0] = 0;
}

static HRESULT remote_failure(struct transfer_ctx *ctx, HRESULT hr, BOOL transient)
{
    ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
    ctx->transient = transient;
    return hr;
}

/* Checks the answer to a ranged request (it must be the 206 of exactly what was asked, from
 * the same version of the file as the bytes we have) and stores the wanted bytes of its body,
 * dropping the gaps; ctx->offset follows the bytes stored. A server that answers 200 has no
 * ranges: nothing of its answer is stored. */
static HRESULT read_ranges(struct transfer_ctx *ctx, HINTERNET request, struct http_op *op,
                           const struct range_span *span)
{
    const struct byte_range *ranges = (const struct byte_range *)ctx->ranges;
    WCHAR value[VALIDATOR_SIZE];
    UINT64 first, last, total, pos, skip, keep;
    DWORD status = response_status(request), size;
    struct range_walk walk;
    HRESULT hr;

    if (status == 416)
        return remote_failure(ctx, BG_E_INVALID_RANGE, FALSE);
    if (status == 200)
        return remote_failure(ctx, BG_E_INSUFFICIENT_RANGE_SUPPORT, FALSE);
    if (status != 206)
        return remote_failure(ctx, BG_E_HTTP_ERROR_FROM_STATUS(status),
                              status_is_transient(status));
    if (!query_string(request, WINHTTP_QUERY_CONTENT_RANGE, value, ARRAY_SIZE(value)) ||
        !parse_content_range(value, &first, &last, &total) || first != span->first)
        return remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);

    /* Another size or validator than the bytes we have came with: another version. */
    if (total != BG_SIZE_UNKNOWN && ctx->remote_size != BG_SIZE_UNKNOWN &&
        total != ctx->remote_size)
        return remote_failure(ctx, BG_E_REMOTE_FILE_CHANGED, TRUE);
    current_validator(request, value, ARRAY_SIZE(value));
    if (ctx->offset > 0 && ctx->validator[0] && wcscmp(value, ctx->validator))
        return remote_failure(ctx, BG_E_REMOTE_FILE_CHANGED, TRUE);
    if (!ctx->validator[0] && FAILED(hr = transfer_set_validator(ctx, value)))
        return hr;
    if (total != BG_SIZE_UNKNOWN && FAILED(hr = transfer_set_remote_size(ctx, total)))
        return hr;

    /* Exactly the bytes asked for: a shorter answer means the file ends before a range does. */
    if (span->end != RANGE_SIZE_UNKNOWN ? last + 1 != span->end
                                        : total != BG_SIZE_UNKNOWN && last + 1 != total)
    {
        if (total != BG_SIZE_UNKNOWN && span->end != RANGE_SIZE_UNKNOWN && span->end > total)
            return remote_failure(ctx, BG_E_INVALID_RANGE, FALSE);
        return remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);
    }

    range_walk_init(&walk, ranges, ctx->remote_size, span);
    for (pos = first; pos <= last;)
    {
        size = (DWORD)min(last + 1 - pos, READ_BUFFER_SIZE);
        if (!WinHttpReadData(request, op->buffer, size, NULL))
            return transport_failure(ctx, GetLastError());
        if (FAILED(hr = wait_op(ctx, op)))
            return hr;
        if (!op->read)
            break;
        for (BYTE *data = op->buffer;
             op->read && range_walk_next(&walk, pos, op->read, &skip, &keep) > 0;)
        {
            data += skip;
            if (keep && FAILED(hr = transfer_write(ctx, data, (DWORD)keep)))
                return hr;
            data += keep;
            pos += skip + keep;
            op->read -= (DWORD)(skip + keep);
            ctx->offset += keep;
        }
        /* Bytes after the last range of the span: the walk is over, so is the answer. */
        pos += op->read;
    }
    if (pos <= last)
    {
        /* The connection ended early; the bytes we have are kept and resumed later. */
        ctx->context = BG_ERROR_CONTEXT_GENERAL_TRANSPORT;
        ctx->transient = TRUE;
        return BG_E_CONNECTION_CLOSED;
    }
    return S_OK;
}

/* One GET on the connection: from ctx->offset, or for a file with ranges the bytes of `span`. */
static HRESULT fetch_once(struct transfer_ctx *ctx, HINTERNET connection,
                          const URL_COMPONENTS *parts, const struct range_span *span)
{
    HINTERNET request;
    struct http_op *op = NULL;
    WCHAR header[64 + VALIDATOR_SIZE];
    UINT64 expected_end = BG_SIZE_UNKNOWN;
    HRESULT hr;

    /* The path and the query string are adjacent in the URL: pass both. */
    request =
        WinHttpOpenRequest(connection, L"GET", parts->dwUrlPathLength ? parts->lpszUrlPath : L"/",
                           NULL, WINHTTP_NO_REFERER, WINHTTP_DEFAULT_ACCEPT_TYPES,
                           parts->nScheme == INTERNET_SCHEME_HTTPS ? WINHTTP_FLAG_SECURE : 0);
    if (!request)
        return transport_failure(ctx, GetLastError());
    if (FAILED(hr = attach_op(request, &op)))
        goto out;
    if (FAILED(hr = apply_request_options(ctx, request, parts)))
        goto out;
    if (span)
    {
        if (span->end == RANGE_SIZE_UNKNOWN)
            swprintf(header, ARRAY_SIZE(header), L"Range: bytes=%I64u-", span->first);
        else
            swprintf(header, ARRAY_SIZE(header), L"Range: bytes=%I64u-%I64u", span->first,
                     span->end - 1);
        WinHttpAddRequestHeaders(request, header, (DWORD)-1, WINHTTP_ADDREQ_FLAG_ADD);
    }
    else if (ctx->offset > 0)
    {
        swprintf(header, ARRAY_SIZE(header), L"Range: bytes=%I64u-", ctx->offset);
        WinHttpAddRequestHeaders(request, header, (DWORD)-1, WINHTTP_ADDREQ_FLAG_ADD);
        /* A server whose file changed since answers 200 with all of the new one. */
        if (ctx->validator[0])
        {
            swprintf(header, ARRAY_SIZE(header), L"If-Range: %ls", ctx->validator);
            WinHttpAddRequestHeaders(request, header, (DWORD)-1, WINHTTP_ADDREQ_FLAG_ADD);
        }
    }
    if (!WinHttpSendRequest(request, WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA, 0,
                            0, (DWORD_PTR)op))
    {
        hr = transport_failure(ctx, GetLastError());
        goto out;
    }
    if (FAILED(hr = wait_op(ctx, op)))
        goto out;
    if (!WinHttpReceiveResponse(request, NULL))
    {
        hr = transport_failure(ctx, GetLastError());
        goto out;
    }
    if (FAILED(hr = wait_op(ctx, op)))
        goto out;
    hr = answer_response(ctx, request, op, parts);
    record_response(ctx, request);
    note_retry_after(ctx, request, response_status(request));
    if (FAILED(hr))
        goto out;
    if (span)
        hr = read_ranges(ctx, request, op, span);
    else if (SUCCEEDED(hr = start_body(ctx, request, &expected_end)))
        hr = read_body(ctx, request, op, expected_end);

out:
    /* Closing does not wait for a step in flight: HANDLE_CLOSING releases WinHTTP's reference
     * to op whenever that step ends. */
    WinHttpCloseHandle(request);
    if (op)
        op_release(op);
    return hr;
}

/* A file with ranges: one request per group of neighbouring ranges (ranges_plan), all on the
 * same connection, from where the bytes we have end. A file that changed on the server starts
 * again from its first range, once. */
static HRESULT fetch_ranges(struct transfer_ctx *ctx, HINTERNET connection,
                            const URL_COMPONENTS *parts)
{
    const struct byte_range *ranges = (const struct byte_range *)ctx->ranges;
    struct range_span span;
    BOOL restarted = FALSE;
    UINT64 within, before;
    size_t index;
    HRESULT hr;

    while ((index = ranges_locate(ranges, ctx->range_count, ctx->remote_size, ctx->offset,
                                  &within)) < ctx->range_count)
    {
        ranges_plan(ranges, ctx->range_count, ctx->remote_size, index, within, RANGE_MAX_GAP,
                    &span);
        before = ctx->offset;
        hr = fetch_once(ctx, connection, parts, &span);
        /* Every answer accepted stores bytes: never ask for the same span forever. */
        if (SUCCEEDED(hr) && ctx->offset == before)
            hr = remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);
        if (hr == BG_E_REMOTE_FILE_CHANGED && !restarted)
        {
            restarted = TRUE;
            ctx->context = BG_ERROR_CONTEXT_NONE;
            ctx->transient = FALSE;
            ctx->remote_size = BG_SIZE_UNKNOWN;
            if (FAILED(hr = transfer_restart(ctx)))
                return hr;
            continue;
        }
        if (FAILED(hr))
            return hr;
    }
    return S_OK;
}

HRESULT http_fetch(struct transfer_ctx *ctx, const WCHAR *url)
{
    URL_COMPONENTS parts = {sizeof(parts)};
    HINTERNET session = NULL, connection = NULL;
    WCHAR host[256];
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

    if (FAILED(hr = open_session(ctx, url, &parts, &session)))
        goto out;
    WinHttpSetTimeouts(session, 0, 30000, 30000, SILENCE_TIMEOUT_MS);
    if (!(connection = WinHttpConnect(session, host, parts.nPort, 0)))
    {
        hr = transport_failure(ctx, GetLastError());
        goto out;
    }
    transfer_count_connection(ctx);
    if (ctx->ranges)
    {
        hr = fetch_ranges(ctx, connection, &parts);
        goto out;
    }
    hr = fetch_once(ctx, connection, &parts, NULL);
    if (hr == BG_E_REMOTE_FILE_CHANGED && ctx->offset > 0)
    {
        /* The bytes we have belong to another version of the file: all of it again. */
        ctx->context = BG_ERROR_CONTEXT_NONE;
        ctx->transient = FALSE;
        if (SUCCEEDED(hr = transfer_restart(ctx)))
            hr = fetch_once(ctx, connection, &parts, NULL);
    }

out:
    if (connection)
        WinHttpCloseHandle(connection);
    if (session)
        WinHttpCloseHandle(session);
    return hr;
}
