/* SPDX-License-Identifier: MIT */
/* The choice of HTTP stack for a fetch, and the connections a fetching thread keeps. */

/*
 * Two stacks carry http(s): WinHTTP (http.c) and WinINet (inet.c). Under Wine, WinINet moves
 * several times the bytes per connection at a fraction of the CPU, so it carries every job
 * whose options it honours exactly as http.c does with WinHTTP; the rest stay on WinHTTP:
 *   - credentials (SetCredentials), stored credentials (implicit logon) and a client
 *     certificate: http.c answers challenges with the job's own credentials and presents the
 *     certificate per request; inet.c never authenticates (INTERNET_FLAG_NO_AUTH);
 *   - any proxy: a job's list (OVERRIDE), auto-detection (AUTODETECT), or system settings
 *     (PRECONFIG) that name one. Wine 8's WinINet keys its pool of kept connections by the
 *     origin server alone: a request through a proxy was measured to go out over a direct
 *     connection to the origin that an earlier request had left (and the reverse can happen).
 *     So WinINet only ever connects directly, and those jobs stay on WinHTTP;
 *   - files with ranges (AddFileWithRanges): their requests answered 200 are abandoned, and
 *     Wine 8's WinINet, measured, reads the unread rest of an answer in the background after
 *     its request is closed (to keep the connection), so the server still sends all of it;
 *   - revocation checking (BG_SSL_ENABLE_CRL_CHECK): WinINet has no per-request switch for it,
 *     only the user's Internet settings;
 *   - https with certificate errors to ignore (BG_SSL_IGNORE_*): WinINet keeps what one request
 *     accepted for the server, for the whole process. Measured under Wine 8: a job that ignores
 *     nothing, after one that ignored the test server's errors, was transferred unchecked (a
 *     request header "Connection: close" on the lenient requests did not change that).
 * Everything else is carried alike: direct connections (NO_PROXY, or PRECONFIG where WinHTTP's
 * default configuration names no proxy), custom headers, the redirect policies, and what
 * httpsem.c decides for both.
 *
 * A fetch under a bandwidth cap of at most CAPPED_WINHTTP_MAX goes to WinHTTP too: it does not
 * need WinINet's speed, and WinINet, measured under Wine 8, reads the rest of an answer at
 * about 13 MB/s in InternetCloseHandle when the server has it ready, so a Cancel of a capped job
 * whose ranged parts had megabytes to go waited about a second for its worker (WinHTTP drops
 * the connection: 30-70 ms, measured with the benchmark's bandwidth-cap workload).
 *
 * WinINet is documented as not for services (Microsoft: "WinINet does not support server
 * implementations ... should not be used from a service"); a process in session 0, where
 * services run, uses WinHTTP for everything.
 *
 * OPENDO_TRANSPORT (read once) chooses: "winhttp" for everything, "wininet" (WinINet even in
 * session 0; jobs that it cannot carry still go to WinHTTP), or "auto", the default.
 */
#include "engine/engine.h"
#include "engine/httpsem.h"

/* Caps up to this go to WinHTTP (bytes per second): well below what one WinHTTP connection
 * carries here (50-60 MB/s measured). */
#define CAPPED_WINHTTP_MAX (32 * 1024 * 1024)

enum transport_mode
{
    MODE_AUTO,
    MODE_WINHTTP,
    MODE_WININET,
};

static INIT_ONCE mode_once = INIT_ONCE_STATIC_INIT;
static enum transport_mode mode; /* set once by read_mode */

static BOOL CALLBACK read_mode(INIT_ONCE *once, void *param, void **context)
{
    WCHAR value[16];
    DWORD session = 0;
    DWORD len = GetEnvironmentVariableW(L"OPENDO_TRANSPORT", value, ARRAY_SIZE(value));

    mode = MODE_AUTO;
    if (len && len < ARRAY_SIZE(value))
    {
        if (!_wcsicmp(value, L"winhttp"))
            mode = MODE_WINHTTP;
        else if (!_wcsicmp(value, L"wininet"))
            mode = MODE_WININET;
        else if (_wcsicmp(value, L"auto"))
            WARN("OPENDO_TRANSPORT=%s is none of winhttp, wininet, auto: auto", debugstr_w(value));
    }
    /* Services run in session 0: no WinINet there unless the user asked for it. */
    if (mode == MODE_AUTO && ProcessIdToSessionId(GetCurrentProcessId(), &session) && session == 0)
    {
        TRACE("session 0: WinHTTP only");
        mode = MODE_WINHTTP;
    }
    TRACE("transport mode %d", mode);
    return TRUE;
}

/* Can WinINet (inet.c) carry the fetch of `url` exactly as WinHTTP (http.c) does? */
static BOOL wininet_carries(const struct transfer_ctx *ctx, const WCHAR *url)
{
    const struct ejob_options *options = &ctx->options;

    if (ctx->ranges)
        return FALSE;
    if (!httpsem_may_keep(options)) /* credentials, stored credentials, client certificate */
        return FALSE;
    if (options->proxy_usage != BG_JOB_PROXY_USAGE_NO_PROXY &&
        (options->proxy_usage != BG_JOB_PROXY_USAGE_PRECONFIG || !httpsem_default_is_direct()))
        return FALSE;
    if (options->security_flags & BG_SSL_ENABLE_CRL_CHECK)
        return FALSE;
    if ((options->security_flags &
         (BG_SSL_IGNORE_CERT_CN_INVALID | BG_SSL_IGNORE_CERT_DATE_INVALID |
          BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_WRONG_USAGE)) &&
        !_wcsnicmp(url, L"https:", 6))
        return FALSE;
    return TRUE;
}

/* One request's stack, for the URL cachehost.c chose (a cache host's or the origin's). */
static HRESULT stack_fetch(struct transfer_ctx *ctx, const WCHAR *url)
{
    UINT64 cap = bandwidth_cap(ctx);

    InitOnceExecuteOnce(&mode_once, read_mode, NULL, NULL);
    if (mode != MODE_WINHTTP && wininet_carries(ctx, url) && (!cap || cap > CAPPED_WINHTTP_MAX))
        return inet_fetch(ctx, url);
    return http_fetch(ctx, url);
}

HRESULT net_fetch(struct transfer_ctx *ctx, const WCHAR *url)
{
    return cachehost_fetch(ctx, url, stack_fetch);
}

void fetch_cache_clear(struct fetch_cache *cache)
{
    if (!cache)
        return;
    http_cache_clear(cache);
    inet_cache_clear(cache);
}
