/* SPDX-License-Identifier: MIT */
/* Cache hosts: http(s) files fetched through Connected Cache style caches before the origin. */

/*
 * A cache host serves `http://CACHE/PATH?Q&cacheHostOrigin=ORIGIN` for the origin's
 * `http://ORIGIN/PATH?Q`: the form Microsoft Connected Cache answers, which an nginx or squid
 * in front of the origins can be configured to answer too (docs/cache-host.md). The hosts come
 * from DO's group policy key (DOCacheHost, comma-separated, tried in order), or from the
 * OPENDO_CACHE_HOST environment variable, which wins, so that tests and single programs can
 * choose without touching the machine's policy. The spec has no per-job property for it.
 *
 * Each file remembers which source serves it (ejob_file.cache_source: an index into the list,
 * or past its end for the origin), so its next requests, its other segments and a resumed fetch
 * go to the same place. A cache host that cannot be reached, answers 5xx, times out or drops
 * the connection moves the file to the next host; after the last, the file waits for the
 * fallback delay (DODelayCacheServerFallbackForeground/Background, seconds, counted from the
 * last host's failure; 0: at once) and goes to the origin. The bytes are the same from either
 * side: the fetch that switches asks for what is missing with the validator it has, and a
 * validator mismatch or a 200 to a range restarts the file as it does with one server.
 *
 * The policy is read at most every POLICY_TTL_MS (a registry key per file would cost Wine server
 * calls that the transfers do not otherwise make); cachehost_reload forgets it at once.
 */
#include "engine/engine.h"
#include "core/url.h"

#define POLICY_KEY L"SOFTWARE\\Policies\\Microsoft\\Windows\\DeliveryOptimization"
#define POLICY_TTL_MS 2000
/* How often a file waiting for its fallback delay looks whether its job was stopped. */
#define WAIT_SLICE_MS 100

struct cache_policy
{
    WCHAR hosts[CACHEHOST_MAX_LIST]; /* comma-separated, as configured; "" for none */
    DWORD delay_foreground_s;
    DWORD delay_background_s;
};

static SRWLOCK policy_lock = SRWLOCK_INIT;
static struct cache_policy policy; /* policy_lock */
static ULONGLONG policy_read_at;   /* policy_lock: tick of the last read, 0 for never */

static DWORD read_dword(HKEY key, const WCHAR *name)
{
    DWORD value = 0, size = sizeof(value), type;

    if (RegQueryValueExW(key, name, NULL, &type, (BYTE *)&value, &size) || type != REG_DWORD)
        return 0;
    return value;
}

static void read_policy(struct cache_policy *out)
{
    DWORD size, type, len, source;
    HKEY key;

    memset(out, 0, sizeof(*out));
    if (!RegOpenKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, KEY_QUERY_VALUE, &key))
    {
        size = sizeof(out->hosts) - sizeof(WCHAR);
        if (RegQueryValueExW(key, L"DOCacheHost", NULL, &type, (BYTE *)out->hosts, &size) ||
            type != REG_SZ)
            out->hosts[0] = 0;
        out->hosts[ARRAY_SIZE(out->hosts) - 1] = 0;
        /* 1 and 2 name DHCP option 235 as the source: there is no DHCP client to ask here. */
        if ((source = read_dword(key, L"DOCacheHostSource")))
            FIXME("DOCacheHostSource %lu (DHCP option 235) is not supported: DOCacheHost used",
                  source);
        out->delay_foreground_s = read_dword(key, L"DODelayCacheServerFallbackForeground");
        out->delay_background_s = read_dword(key, L"DODelayCacheServerFallbackBackground");
        RegCloseKey(key);
    }
    len = GetEnvironmentVariableW(L"OPENDO_CACHE_HOST", out->hosts, ARRAY_SIZE(out->hosts));
    if (len >= ARRAY_SIZE(out->hosts))
    {
        WARN("OPENDO_CACHE_HOST is longer than %u characters: ignored", CACHEHOST_MAX_LIST - 1);
        out->hosts[0] = 0;
    }
}

void cachehost_reload(void)
{
    AcquireSRWLockExclusive(&policy_lock);
    policy_read_at = 0;
    ReleaseSRWLockExclusive(&policy_lock);
}

static void current_policy(struct cache_policy *out)
{
    ULONGLONG now = GetTickCount64();
    struct cache_policy fresh;

    AcquireSRWLockShared(&policy_lock);
    if (policy_read_at && now - policy_read_at < POLICY_TTL_MS)
    {
        *out = policy;
        ReleaseSRWLockShared(&policy_lock);
        return;
    }
    ReleaseSRWLockShared(&policy_lock);
    /* Read outside the lock: registry calls are I/O. */
    read_policy(&fresh);
    AcquireSRWLockExclusive(&policy_lock);
    policy = fresh;
    policy_read_at = now ? now : 1;
    ReleaseSRWLockExclusive(&policy_lock);
    *out = fresh;
}

static BOOL is_blank(WCHAR c)
{
    return c == L' ' || c == L'\t';
}

/* The `index`th entry of a comma-separated list, trimmed: FALSE when there is none. Empty
 * entries are skipped and not counted. */
static BOOL list_entry(const WCHAR *list, ULONG index, const WCHAR **start, size_t *len)
{
    const WCHAR *p = list, *end;

    for (;;)
    {
        while (*p == L',' || is_blank(*p))
            p++;
        if (!*p)
            return FALSE;
        for (end = p; *end && *end != L','; end++)
            ;
        *start = p;
        *len = end - p;
        while (*len && is_blank(p[*len - 1]))
            (*len)--;
        if (!index--)
            return TRUE;
        p = end;
    }
}

static ULONG list_count(const WCHAR *list)
{
    const WCHAR *start;
    size_t len;
    ULONG count = 0;

    while (list_entry(list, count, &start, &len))
        count++;
    return count;
}

BOOL cachehost_url(const WCHAR *url, const WCHAR *host, size_t host_len, WCHAR *out, size_t size)
{
    const WCHAR *authority, *path, *query, *fragment, *scheme;
    size_t scheme_len, authority_len, path_len;
    enum url_kind kind = url_classify(url);
    int len;

    if (kind != URL_HTTP && kind != URL_HTTPS)
        return FALSE;
    authority = wcsstr(url, L"://") + 3;
    for (path = authority; *path && *path != L'/' && *path != L'?' && *path != L'#'; path++)
        ;
    authority_len = path - authority;
    if (!authority_len)
        return FALSE;
    fragment = wcschr(path, L'#');
    path_len = fragment ? (size_t)(fragment - path) : wcslen(path);
    query = wmemchr(path, L'?', path_len);

    /* The entry may name its own scheme; otherwise the cache is asked as the origin would be. */
    scheme = kind == URL_HTTPS ? L"https" : L"http";
    scheme_len = wcslen(scheme);
    for (size_t i = 0; i + 3 <= host_len; i++)
    {
        if (!wcsncmp(host + i, L"://", 3))
        {
            scheme = host;
            scheme_len = i;
            host += i + 3;
            host_len -= i + 3;
            break;
        }
    }
    while (host_len && host[host_len - 1] == L'/')
        host_len--;
    if (!host_len || !scheme_len)
        return FALSE;

    len = swprintf(out, size, L"%.*ls://%.*ls%ls%.*ls%lscacheHostOrigin=%.*ls", (int)scheme_len,
                   scheme, (int)host_len, host, path_len && *path == L'/' ? L"" : L"/",
                   (int)path_len, path, query ? L"&" : L"?", (int)authority_len, authority);
    if (len <= 0 || (size_t)len >= size || len > URL_MAX_LENGTH)
        return FALSE;
    /* A malformed entry (another scheme, a stray character) is no cache host. */
    kind = url_classify(out);
    return kind == URL_HTTP || kind == URL_HTTPS;
}

/* Failures of a cache host that the next source may not have: it cannot be reached, it timed
 * out or dropped the connection, or it answered 5xx. Not the job's own stops and limits, local
 * trouble, or what the origin said through it (4xx, a changed file). */
static BOOL host_failed(const struct transfer_ctx *ctx, HRESULT hr)
{
    if (hr == E_ABORT || hr == BG_E_MAXDOWNLOAD_TIMEOUT)
        return FALSE;
    if (ctx->context == BG_ERROR_CONTEXT_GENERAL_TRANSPORT)
        return TRUE;
    return ctx->context == BG_ERROR_CONTEXT_REMOTE_FILE &&
           hr >= (HRESULT)BG_E_HTTP_ERROR_FROM_STATUS(500) &&
           hr <= (HRESULT)BG_E_HTTP_ERROR_FROM_STATUS(599);
}

/* What cachehost_fetch reads of the file under the job's lock. */
struct file_view
{
    ULONG source;
    ULONGLONG failed;
    BOOL foreground;
    BOOL checked;                    /* the client gave integrity information */
    WCHAR validator[VALIDATOR_SIZE]; /* of the bytes the file holds, or empty */
    UINT64 total;                    /* the file's size, or BG_SIZE_UNKNOWN */
};

static BOOL view_file(struct transfer_ctx *ctx, struct file_view *view)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    BOOL known = FALSE;

    AcquireSRWLockShared(&job->lock);
    if (ctx->index < job->file_count)
    {
        file = job->files[ctx->index];
        view->source = file->cache_source;
        view->failed = file->cache_failed;
        view->foreground = job->priority == BG_JOB_PRIORITY_FOREGROUND;
        view->checked = file->integrity_info != NULL;
        wcscpy(view->validator, file->validator);
        view->total = file->ranges ? file->remote_size : file->progress.BytesTotal;
        known = TRUE;
    }
    ReleaseSRWLockShared(&job->lock);
    return known;
}

/* With integrity information, what a cache host serves must be the origin's version: its size
 * and validator are asked of the origin (HEAD) before the first bytes come from a cache host,
 * and every request to a cache host carries them (If-Range, the size a range must belong to).
 * A cache host that answers with another version fails for the file. This detects a cache
 * serving a stale or different file, not altered bytes under the origin's size and validator:
 * the integrity information itself (a piece hash file) is not read. */
static BOOL other_version(HRESULT hr)
{
    return hr == (HRESULT)BG_E_REMOTE_FILE_CHANGED ||
           hr == (HRESULT)BG_E_INSUFFICIENT_RANGE_SUPPORT ||
           hr == (HRESULT)BG_E_INVALID_SERVER_RESPONSE;
}

/* The source `failed` let the file down: the file moves on, unless another fetch of it moved
 * it already. */
static void move_on(struct transfer_ctx *ctx, ULONG failed, ULONG count)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;

    AcquireSRWLockExclusive(&job->lock);
    if (ctx->index < job->file_count && (file = job->files[ctx->index])->cache_source == failed)
    {
        file->cache_source = failed + 1;
        if (file->cache_source >= count)
            file->cache_failed = GetTickCount64();
    }
    ReleaseSRWLockExclusive(&job->lock);
}

/* Waits until `due` (a tick): S_OK, or what transfer_check says once the job stops. */
static HRESULT wait_until(struct transfer_ctx *ctx, ULONGLONG due)
{
    ULONGLONG now;
    HRESULT hr;

    while ((now = GetTickCount64()) < due)
    {
        hr = transfer_check(ctx);
        if (hr != S_OK)
            return hr;
        Sleep((DWORD)min(due - now, WAIT_SLICE_MS));
    }
    return transfer_check(ctx);
}

HRESULT cachehost_fetch(struct transfer_ctx *ctx, const WCHAR *url, cachehost_fetch_fn fetch)
{
    WCHAR cache_url[URL_MAX_LENGTH + 1];
    struct file_view view, after;
    struct cache_policy now;
    const WCHAR *host;
    size_t host_len;
    ULONG count;
    HRESULT hr;

    ctx->from_cache_host = FALSE;
    if (!ctx->http)
        return fetch(ctx, url);
    current_policy(&now);
    if (!(count = list_count(now.hosts)))
        return fetch(ctx, url);

    for (;;)
    {
        if (!view_file(ctx, &view))
            return fetch(ctx, url);
        if (view.source >= count)
            break;
        /* The engine's HEAD for the size goes to the origin when the version must be its. */
        if (view.checked && ctx->probe)
            return fetch(ctx, url);
        /* A file with ranges learns the version from its first answer: its requests are
         * spans, which a HEAD cannot stand for. */
        if (view.checked && !view.validator[0] && ctx->offset == 0 && !ctx->ranges)
        {
            ctx->probe = TRUE;
            hr = fetch(ctx, url);
            ctx->probe = FALSE;
            if (FAILED(hr))
                return hr;
            if (!view_file(ctx, &view))
                return fetch(ctx, url);
            wcscpy(ctx->validator, view.validator);
            ctx->total = view.total;
        }
        list_entry(now.hosts, view.source, &host, &host_len);
        if (!cachehost_url(url, host, host_len, cache_url, ARRAY_SIZE(cache_url)))
        {
            WARN("no cache URL for %s from cache host %lu", debugstr_url(url), view.source);
            move_on(ctx, view.source, count);
            continue;
        }
        TRACE("file %lu from %s", ctx->index, debugstr_url(cache_url));
        ctx->from_cache_host = TRUE;
        hr = fetch(ctx, cache_url);
        ctx->from_cache_host = FALSE;
        if (SUCCEEDED(hr) && view.checked && view.validator[0] && view_file(ctx, &after) &&
            (wcscmp(after.validator, view.validator) ||
             (view.total != BG_SIZE_UNKNOWN && after.total != view.total)))
        {
            /* A whole-file answer replaced what the origin said: its bytes are not the
             * origin's version, and go. */
            WARN("cache host %lu served another version of file %lu", view.source, ctx->index);
            move_on(ctx, view.source, count);
            if (FAILED(hr = transfer_restart(ctx)))
                return hr;
            continue;
        }
        if (SUCCEEDED(hr) || !(host_failed(ctx, hr) || (view.checked && other_version(hr))))
            return hr;
        WARN("cache host %lu failed for file %lu: %#lx", view.source, ctx->index, hr);
        move_on(ctx, view.source, count);
        /* The next source continues where this one stopped, with the validator it saw. */
        ctx->context = BG_ERROR_CONTEXT_NONE;
        ctx->transient = FALSE;
        ctx->retry_after_ms = 0;
        ctx->offset = ctx->position;
        if (ctx->end != BG_SIZE_UNKNOWN && ctx->offset >= ctx->end)
            return S_OK;
    }
    if (view.failed)
    {
        DWORD delay = view.foreground ? now.delay_foreground_s : now.delay_background_s;
        if (FAILED(hr = wait_until(ctx, view.failed + (ULONGLONG)delay * 1000)))
            return hr;
    }
    return fetch(ctx, url);
}
