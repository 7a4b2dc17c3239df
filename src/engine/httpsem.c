/* SPDX-License-Identifier: MIT */
/* What both HTTP stacks decide alike: status to error, ranges, validators, proxies, redirects. */

#include <stdio.h>
#include <stdlib.h>
#include "engine/httpsem.h"
#include "core/url.h"
#include "core/httpdate.h"
#include <winhttp.h>

/* The longest wait a Retry-After may ask for. Longer ones are cut to it: a server's mistake
 * (or a date decades ahead) must not park a job for good, and a day is longer than any outage
 * a server can foresee. A wait beyond the job's no-progress window ends it in ERROR anyway. */
#define MAX_RETRY_AFTER (24 * 60 * 60)

HRESULT httpsem_transport_failure(struct transfer_ctx *ctx, DWORD err)
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

HRESULT httpsem_remote_failure(struct transfer_ctx *ctx, HRESULT hr, BOOL transient)
{
    ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
    ctx->transient = transient;
    return hr;
}

HRESULT httpsem_setup_failure(struct transfer_ctx *ctx, HRESULT hr)
{
    ctx->context = BG_ERROR_CONTEXT_GENERAL_TRANSPORT;
    ctx->transient = FALSE;
    return hr;
}

DWORD httpsem_security_flags(ULONG flags)
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
    return security;
}

void httpsem_range_headers(const struct transfer_ctx *ctx, const struct range_span *span,
                           WCHAR *out, size_t size)
{
    int len = 0;

    out[0] = 0;
    if (span)
    {
        if (span->end == RANGE_SIZE_UNKNOWN)
            swprintf(out, size, L"Range: bytes=%I64u-\r\n", span->first);
        else
            swprintf(out, size, L"Range: bytes=%I64u-%I64u\r\n", span->first, span->end - 1);
        return;
    }
    if (ctx->end != BG_SIZE_UNKNOWN)
        len = swprintf(out, size, L"Range: bytes=%I64u-%I64u\r\n", ctx->offset, ctx->end - 1);
    else if (ctx->offset > 0)
        len = swprintf(out, size, L"Range: bytes=%I64u-\r\n", ctx->offset);
    else
        return;
    /* A server whose file changed since answers 200 with all of the new one. */
    if (len > 0 && ctx->validator[0])
        swprintf(out + len, size - len, L"If-Range: %ls\r\n", ctx->validator);
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

void httpsem_note_retry_after(struct transfer_ctx *ctx, const struct http_answer *answer)
{
    WCHAR value[64];
    UINT32 delay;

    /* 503 (Service Unavailable), or 429 (Too Many Requests, RFC 6585). */
    if (answer->status != 503 && answer->status != 429)
        return;
    if (!answer->header(answer, HEADER_RETRY_AFTER, value, ARRAY_SIZE(value)) ||
        retry_after_parse(value, unix_now(), MAX_RETRY_AFTER, &delay))
        return;
    TRACE("status %lu, Retry-After %s: %u s", answer->status, debugstr_w(value), delay);
    ctx->retry_after_ms = (ULONGLONG)delay * 1000;
}

/* What identifies the content of an answer for a later If-Range: a strong ETag, else the date,
 * else "". */
static void current_validator(const struct http_answer *answer, WCHAR *value, DWORD size)
{
    if (answer->header(answer, HEADER_ETAG, value, size) && wcsncmp(value, L"W/", 2))
        return;
    if (answer->header(answer, HEADER_LAST_MODIFIED, value, size))
        return;
    value[0] = 0;
}

/* Does the answer say that the server serves byte ranges of it? */
static BOOL offers_ranges(const struct http_answer *answer)
{
    WCHAR value[64];
    const WCHAR *p = value;

    if (!answer->header(answer, HEADER_ACCEPT_RANGES, value, ARRAY_SIZE(value)))
        return FALSE;
    while (*p)
    {
        while (*p == L' ' || *p == L',')
            p++;
        if (!_wcsnicmp(p, L"bytes", 5) && (!p[5] || p[5] == L' ' || p[5] == L','))
            return TRUE;
        while (*p && *p != L',')
            p++;
    }
    return FALSE;
}

HRESULT httpsem_start_body(struct transfer_ctx *ctx, const struct http_answer *answer,
                           UINT64 *expected_end)
{
    BOOL segment = ctx->end != BG_SIZE_UNKNOWN;
    WCHAR value[VALIDATOR_SIZE];
    UINT64 first, last, total;
    HRESULT hr;

    *expected_end = BG_SIZE_UNKNOWN;
    ctx->accepts_ranges = FALSE;
    if (answer->status == 206 && (ctx->offset > 0 || segment))
    {
        if (!answer->header(answer, HEADER_CONTENT_RANGE, value, ARRAY_SIZE(value)) ||
            !parse_content_range(value, &first, &last, &total))
            return httpsem_remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);
        /* A segment is a part of exactly the file the other parts come from. */
        if (segment && (first != ctx->offset || total != ctx->total))
            return httpsem_remote_failure(ctx, BG_E_REMOTE_FILE_CHANGED, TRUE);
        if (first != ctx->offset)
            return httpsem_remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);
        if (total != BG_SIZE_UNKNOWN && ctx->total != BG_SIZE_UNKNOWN && total != ctx->total)
            return httpsem_remote_failure(ctx, BG_E_REMOTE_FILE_CHANGED, TRUE);
        *expected_end = last + 1;
        ctx->accepts_ranges = TRUE;
        if (total != BG_SIZE_UNKNOWN)
            return transfer_set_size(ctx, total);
        return S_OK;
    }
    /* Nothing at the offset we have: the file became shorter, so it is another file. */
    if (answer->status == 416 && (ctx->offset > 0 || segment))
        return httpsem_remote_failure(ctx, BG_E_REMOTE_FILE_CHANGED, TRUE);
    if (answer->status != 200)
        return httpsem_remote_failure(ctx, BG_E_HTTP_ERROR_FROM_STATUS(answer->status),
                                      status_is_transient(answer->status));
    /* The whole file for a part of it: the transfer fetches it in one piece instead. */
    if (segment)
        return httpsem_remote_failure(ctx, BG_E_INSUFFICIENT_RANGE_SUPPORT, FALSE);
    /* A plain 200: the whole file again, whatever we asked for (a server without ranges, or
     * If-Range saw that the file changed). */
    if (ctx->offset > 0 && FAILED(hr = transfer_restart(ctx)))
        return hr;
    current_validator(answer, value, ARRAY_SIZE(value));
    if (FAILED(hr = transfer_set_validator(ctx, value[0] ? value : NULL)))
        return hr;
    ctx->accepts_ranges = offers_ranges(answer);
    if (answer->header(answer, HEADER_CONTENT_LENGTH, value, ARRAY_SIZE(value)))
    {
        WCHAR *end;

        total = _wcstoui64(value, &end, 10);
        if (end == value || *end)
            return httpsem_remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);
        *expected_end = total;
        return transfer_set_size(ctx, total);
    }
    /* Content without a length (generated, chunked) needs BITS_JOB_PROPERTY_DYNAMIC_CONTENT, as
     * in BITS: without it the size, and so the progress, could never be told. */
    if (!ctx->options.dynamic_content)
        return httpsem_remote_failure(ctx, BG_E_MISSING_FILE_SIZE, FALSE);
    return S_OK;
}

HRESULT httpsem_end_body(struct transfer_ctx *ctx, UINT64 position, UINT64 expected_end)
{
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

HRESULT httpsem_start_span(struct transfer_ctx *ctx, const struct http_answer *answer,
                           const struct range_span *span, UINT64 stored, UINT64 *first,
                           UINT64 *last)
{
    WCHAR value[VALIDATOR_SIZE];
    UINT64 total;
    HRESULT hr;

    ctx->accepts_ranges = answer->status == 206;
    if (answer->status == 416)
        return httpsem_remote_failure(ctx, BG_E_INVALID_RANGE, FALSE);
    /* A server that answers 200 has no ranges: nothing of its answer is stored. */
    if (answer->status == 200)
        return httpsem_remote_failure(ctx, BG_E_INSUFFICIENT_RANGE_SUPPORT, FALSE);
    if (answer->status != 206)
        return httpsem_remote_failure(ctx, BG_E_HTTP_ERROR_FROM_STATUS(answer->status),
                                      status_is_transient(answer->status));
    if (!answer->header(answer, HEADER_CONTENT_RANGE, value, ARRAY_SIZE(value)) ||
        !parse_content_range(value, first, last, &total) || *first != span->first)
        return httpsem_remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);

    /* Another size or validator than the bytes we have came with: another version. */
    if (total != BG_SIZE_UNKNOWN && ctx->remote_size != BG_SIZE_UNKNOWN &&
        total != ctx->remote_size)
        return httpsem_remote_failure(ctx, BG_E_REMOTE_FILE_CHANGED, TRUE);
    current_validator(answer, value, ARRAY_SIZE(value));
    if (stored > 0 && ctx->validator[0] && wcscmp(value, ctx->validator))
        return httpsem_remote_failure(ctx, BG_E_REMOTE_FILE_CHANGED, TRUE);
    if (!ctx->validator[0] && FAILED(hr = transfer_set_validator(ctx, value)))
        return hr;
    if (total != BG_SIZE_UNKNOWN && FAILED(hr = transfer_set_remote_size(ctx, total)))
        return hr;

    /* Exactly the bytes asked for: a shorter answer means the file ends before a range does. */
    if (span->end != RANGE_SIZE_UNKNOWN ? *last + 1 != span->end
                                        : total != BG_SIZE_UNKNOWN && *last + 1 != total)
    {
        if (total != BG_SIZE_UNKNOWN && span->end != RANGE_SIZE_UNKNOWN && span->end > total)
            return httpsem_remote_failure(ctx, BG_E_INVALID_RANGE, FALSE);
        return httpsem_remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);
    }
    return S_OK;
}

HRESULT httpsem_store_span(struct transfer_ctx *ctx, struct range_walk *walk, UINT64 *pos,
                           UINT64 *stored, const BYTE *data, DWORD size)
{
    UINT64 skip, keep;
    HRESULT hr;

    while (size && range_walk_next(walk, *pos, size, &skip, &keep) > 0)
    {
        data += skip;
        if (keep && (hr = transfer_write(ctx, data, (DWORD)keep)) != S_OK)
            return hr;
        data += keep;
        *stored += keep;
        *pos += skip + keep;
        size -= (DWORD)(skip + keep);
    }
    /* Bytes after the last range of the span: the walk is over, so is the answer. */
    *pos += size;
    return S_OK;
}

/* Byte ranges closer than this are fetched with one request, the bytes between thrown away:
 * cheaper than another round trip on any link where a round trip costs more than 64 KiB. */
#define RANGE_MAX_GAP (64 * 1024)

static HRESULT fetch_ranges(struct transfer_ctx *ctx, http_request_fn request, void *arg)
{
    const struct byte_range *ranges = (const struct byte_range *)ctx->ranges;
    UINT64 within, before, stored = ctx->offset;
    struct range_span span;
    BOOL restarted = FALSE;
    size_t index;
    HRESULT hr;

    while ((index = ranges_locate(ranges, ctx->range_count, ctx->remote_size, stored, &within)) <
           ctx->range_count)
    {
        ranges_plan(ranges, ctx->range_count, ctx->remote_size, index, within, RANGE_MAX_GAP,
                    &span);
        before = stored;
        hr = request(ctx, arg, &span, &stored);
        /* Every answer accepted stores bytes: never ask for the same span forever. */
        if (SUCCEEDED(hr) && stored == before)
            hr = httpsem_remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);
        if (hr == BG_E_REMOTE_FILE_CHANGED && !restarted)
        {
            restarted = TRUE;
            ctx->context = BG_ERROR_CONTEXT_NONE;
            ctx->transient = FALSE;
            ctx->remote_size = BG_SIZE_UNKNOWN;
            if (FAILED(hr = transfer_restart(ctx)))
                return hr;
            stored = ctx->offset;
            continue;
        }
        if (FAILED(hr))
            return hr;
    }
    return S_OK;
}

HRESULT httpsem_fetch(struct transfer_ctx *ctx, http_request_fn request, void *arg)
{
    UINT64 stored = ctx->offset;
    HRESULT hr;

    if (ctx->ranges)
        return fetch_ranges(ctx, request, arg);
    hr = request(ctx, arg, NULL, &stored);
    if (hr == BG_E_REMOTE_FILE_CHANGED && ctx->offset > 0 && ctx->end == BG_SIZE_UNKNOWN)
    {
        /* The bytes we have belong to another version of the file: all of it again. A segment
         * leaves that to the transfer, which owns the other segments too. */
        ctx->context = BG_ERROR_CONTEXT_NONE;
        ctx->transient = FALSE;
        if (SUCCEEDED(hr = transfer_restart(ctx)))
            hr = request(ctx, arg, NULL, &stored);
    }
    return hr;
}

static BOOL is_list_separator(WCHAR c)
{
    return c == L' ' || c == L';' || c == L'\t';
}

BOOL httpsem_proxy_for_scheme(const WCHAR *list, BOOL https, WCHAR *out, size_t size)
{
    const WCHAR *want = https ? L"https" : L"http";
    const WCHAR *p = list, *plain = NULL, *chosen = NULL;
    size_t plain_len = 0, chosen_len = 0, len;

    /* An entry for the URL's protocol wins over a plain entry; other protocols' entries are
     * skipped. */
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
    /* "http://server:port/" -> "server:port", which every stack (Wine's included) reads. */
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

HRESULT httpsem_choose_proxy(struct transfer_ctx *ctx, const struct http_origin *origin,
                             struct proxy_choice *choice)
{
    const struct ejob_options *options = &ctx->options;

    choice->kind = PROXY_DEFAULT;
    choice->proxy[0] = 0;
    choice->bypass = NULL;
    switch (options->proxy_usage)
    {
    case BG_JOB_PROXY_USAGE_NO_PROXY:
        choice->kind = PROXY_DIRECT;
        return S_OK;
    case BG_JOB_PROXY_USAGE_OVERRIDE:
        if (!options->proxy_list ||
            !httpsem_proxy_for_scheme(options->proxy_list, origin->https, choice->proxy,
                                      ARRAY_SIZE(choice->proxy)))
            return httpsem_setup_failure(ctx, BG_E_INVALID_PROXY_INFO);
        choice->kind = PROXY_NAMED;
        if (!options->proxy_bypass)
            return S_OK;
        /* Both stacks separate bypass entries with semicolons; BITS with spaces. */
        if (!(choice->bypass = heap_strdup(options->proxy_bypass)))
            return E_OUTOFMEMORY;
        for (WCHAR *c = choice->bypass; *c; c++)
        {
            if (is_list_separator(*c))
                *c = L';';
        }
        return S_OK;
    case BG_JOB_PROXY_USAGE_AUTODETECT:
        choice->kind = PROXY_DIRECT;
        return S_FALSE;
    default:
        return S_OK;
    }
}

/* What httpsem_default_is_direct last found, and when (GetTickCount64; 0: never): the default
 * configuration is read at most once per DEFAULT_PROXY_MS, not for every file of a job. */
#define DEFAULT_PROXY_MS 2000
static LONG64 default_direct_at;
static LONG default_direct;

BOOL httpsem_default_is_direct(void)
{
    WINHTTP_PROXY_INFO info = {0};
    ULONGLONG now = GetTickCount64(),
              at = (ULONGLONG)InterlockedCompareExchange64(&default_direct_at, 0, 0);
    BOOL direct;

    if (at && now - at < DEFAULT_PROXY_MS)
        return InterlockedCompareExchange(&default_direct, 0, 0);
    if (!WinHttpGetDefaultProxyConfiguration(&info))
        return FALSE;
    direct = info.dwAccessType != WINHTTP_ACCESS_TYPE_NAMED_PROXY || !info.lpszProxy ||
             !info.lpszProxy[0];
    GlobalFree(info.lpszProxy);
    GlobalFree(info.lpszProxyBypass);
    InterlockedExchange(&default_direct, direct);
    InterlockedExchange64(&default_direct_at, (LONG64)now);
    return direct;
}

HRESULT httpsem_crack(const WCHAR *url, struct http_origin *origin)
{
    URL_COMPONENTS parts = {sizeof(parts)};

    parts.lpszHostName = origin->host;
    parts.dwHostNameLength = ARRAY_SIZE(origin->host);
    parts.dwUrlPathLength = (DWORD)-1;
    parts.dwExtraInfoLength = (DWORD)-1;
    /* WinHttpCrackUrl only parses; both stacks read URLs alike. */
    if (!WinHttpCrackUrl(url, 0, 0, &parts))
        return HRESULT_FROM_WIN32(GetLastError());
    if (parts.nScheme != INTERNET_SCHEME_HTTP && parts.nScheme != INTERNET_SCHEME_HTTPS)
        return HRESULT_FROM_WIN32(ERROR_WINHTTP_UNRECOGNIZED_SCHEME);
    origin->https = parts.nScheme == INTERNET_SCHEME_HTTPS;
    origin->port = parts.nPort;
    /* The path and the query string are adjacent in the URL: both go to the server. */
    origin->path = parts.dwUrlPathLength ? parts.lpszUrlPath : L"/";
    return S_OK;
}

BOOL httpsem_is_redirect(DWORD status)
{
    return status == 300 || status == 301 || status == 302 || status == 303 || status == 307 ||
           status == 308;
}

BOOL httpsem_absolute_url(const WCHAR *location, const struct http_origin *origin, WCHAR *out,
                          size_t size)
{
    enum url_kind kind = url_classify(location);

    if (kind == URL_HTTP || kind == URL_HTTPS)
        return lstrcpynW(out, location, size) && wcslen(location) < size;
    if (location[0] != L'/' || location[1] == L'/')
        return FALSE;
    return swprintf(out, size, L"%ls://%ls:%u%ls", origin->https ? L"https" : L"http", origin->host,
                    origin->port, location) > 0;
}

BOOL httpsem_moved(const WCHAR *url, const struct http_origin *origin)
{
    struct http_origin now;

    if (FAILED(httpsem_crack(url, &now)))
        return FALSE;
    return httpsem_moved_origin(&now, origin);
}

BOOL httpsem_moved_origin(const struct http_origin *now, const struct http_origin *origin)
{
    return now->https != origin->https || now->port != origin->port ||
           _wcsicmp(now->host, origin->host) || wcscmp(now->path, origin->path);
}

HRESULT httpsem_refuse_redirect(struct transfer_ctx *ctx, const struct http_answer *answer,
                                const struct http_origin *origin)
{
    WCHAR location[URL_MAX_LENGTH + 1], target[URL_MAX_LENGTH + 1];
    HRESULT hr;

    if (answer->header(answer, HEADER_LOCATION, location, ARRAY_SIZE(location)) &&
        httpsem_absolute_url(location, origin, target, ARRAY_SIZE(target)) &&
        FAILED(hr = transfer_set_remote(ctx, target)))
        return hr;
    return httpsem_remote_failure(ctx, HRESULT_FROM_WIN32(answer->status), FALSE);
}

WCHAR *httpsem_cache_key(const struct http_origin *origin, const struct proxy_choice *proxy,
                         ULONG security_flags)
{
    size_t size = 64 + wcslen(origin->host) + wcslen(proxy->proxy) +
                  (proxy->bypass ? wcslen(proxy->bypass) : 0);
    WCHAR *key;

    if (!(key = heap_alloc_zero(size * sizeof(WCHAR))))
        return NULL;
    swprintf(key, size, L"%d|%ls|%u|%d|%ls|%ls|%lx", origin->https, origin->host, origin->port,
             proxy->kind, proxy->proxy, proxy->bypass ? proxy->bypass : L"", security_flags);
    return key;
}

BOOL httpsem_may_keep(const struct ejob_options *options)
{
    if (options->client_cert.present || options->stored_credentials)
        return FALSE;
    for (int target = 0; target < EJOB_AUTH_TARGETS; target++)
    {
        for (int scheme = 0; scheme < EJOB_AUTH_SCHEMES; scheme++)
        {
            if (options->credentials[target][scheme].present)
                return FALSE;
        }
    }
    return TRUE;
}
