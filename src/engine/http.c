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
 *
 * What the answers mean (which are accepted, which errors pass by themselves, which bytes are
 * stored) is decided in httpsem.c, for WinINet (inet.c) alike. A fetching thread may keep its
 * session and connection (struct fetch_cache) for the next fetch from the same origin with the
 * same proxy and security settings: WinHTTP then sends it over the same keep-alive connection.
 * A connection is counted (transfer_count_connection) when WinHTTP says it connected to the
 * server (CONNECTED_TO_SERVER): a request sent over a kept connection counts none.
 */

#include <stdio.h>
#include <stdlib.h>
#include "engine/engine.h"
#include "engine/httpsem.h"
#include "core/url.h"
#include "core/ranges.h"
#include <winhttp.h>

#define READ_BUFFER_SIZE (256 * 1024)
/* How often a waiting worker looks whether its job was stopped. */
#define STOP_POLL_MS 50
/* A read that completes within this many milliseconds found its bytes waiting: read more. */
#define FAST_READ_MS 50

/* One request's completions, shared by the worker and the WinHTTP callback. */
struct http_op
{
    LONG refs;   /* the worker's, and WinHTTP's until HANDLE_CLOSING */
    HANDLE done; /* auto-reset; set by the callback when a step completes */
    /* Written by the callback before it sets `done`, read by the worker after it. */
    DWORD completed;  /* WINHTTP_CALLBACK_STATUS_* of the last completion */
    DWORD error;      /* REQUEST_ERROR: the failure */
    DWORD available;  /* DATA_AVAILABLE: bytes that can be read without waiting */
    DWORD read;       /* READ_COMPLETE: bytes in buffer */
    LONG connections; /* CONNECTED_TO_SERVER notifications so far (not a completion) */
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
    case WINHTTP_CALLBACK_STATUS_CONNECTED_TO_SERVER:
        InterlockedIncrement(&op->connections);
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

/* Waits for the step started last to complete. Gives up with E_ABORT when the job no longer
 * wants the transfer, with BG_E_MAXDOWNLOAD_TIMEOUT when the job ran out of time, and with a
 * transient timeout when the server stays silent: for HTTPSEM_SILENCE_MS, or until the job's
 * no-progress window closes (read at every poll: the client may change the timeout meanwhile),
 * whichever comes first. A silence that closed the window ends the job in ERROR. */
static HRESULT wait_op(struct transfer_ctx *ctx, struct http_op *op)
{
    ULONGLONG silence_deadline = GetTickCount64() + HTTPSEM_SILENCE_MS;
    HRESULT hr;

    for (;;)
    {
        if (WaitForSingleObject(op->done, STOP_POLL_MS) == WAIT_OBJECT_0)
        {
            if (op->completed == WINHTTP_CALLBACK_STATUS_REQUEST_ERROR)
                return httpsem_transport_failure(ctx, op->error);
            return S_OK;
        }
        if (FAILED(hr = transfer_check(ctx)))
            return hr;
        if (GetTickCount64() >= min(silence_deadline, transfer_progress_deadline(ctx)))
            return httpsem_transport_failure(ctx, ERROR_WINHTTP_TIMEOUT);
    }
}

static BOOL query_string(HINTERNET request, DWORD info, WCHAR *buf, DWORD size)
{
    DWORD len = size * sizeof(WCHAR);
    return WinHttpQueryHeaders(request, info, WINHTTP_HEADER_NAME_BY_INDEX, buf, &len,
                               WINHTTP_NO_HEADER_INDEX);
}

static DWORD response_status(HINTERNET request)
{
    DWORD status = 0, len = sizeof(status);

    if (!WinHttpQueryHeaders(request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                             WINHTTP_HEADER_NAME_BY_INDEX, &status, &len, WINHTTP_NO_HEADER_INDEX))
        return 0;
    return status;
}

/* http_answer.header over WinHTTP. */
static BOOL answer_header(const struct http_answer *answer, enum http_header which, WCHAR *value,
                          DWORD size)
{
    static const DWORD queries[] = {
        [HEADER_CONTENT_RANGE] = WINHTTP_QUERY_CONTENT_RANGE,
        [HEADER_CONTENT_LENGTH] = WINHTTP_QUERY_CONTENT_LENGTH,
        [HEADER_ETAG] = WINHTTP_QUERY_ETAG,
        [HEADER_LAST_MODIFIED] = WINHTTP_QUERY_LAST_MODIFIED,
        [HEADER_RETRY_AFTER] = WINHTTP_QUERY_RETRY_AFTER,
        [HEADER_LOCATION] = WINHTTP_QUERY_LOCATION,
        [HEADER_ACCEPT_RANGES] = WINHTTP_QUERY_ACCEPT_RANGES,
    };

    return query_string(answer->request, queries[which], value, size);
}

/* The response the request holds now. */
static struct http_answer answer_of(HINTERNET request)
{
    struct http_answer answer = {response_status(request), answer_header, request};
    return answer;
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
                return httpsem_transport_failure(ctx, GetLastError());
            if (FAILED(hr = wait_op(ctx, op)))
                return hr;
            if (!(size = op->available))
                break;
        }
        size = bandwidth_read_limit(ctx, min(size, READ_BUFFER_SIZE));
        if (expected_end != BG_SIZE_UNKNOWN)
            size = (DWORD)min(size, expected_end - position);
        started = GetTickCount64();
        if (!WinHttpReadData(request, op->buffer, size, NULL))
            return httpsem_transport_failure(ctx, GetLastError());
        if (FAILED(hr = wait_op(ctx, op)))
            return hr;
        if (!op->read)
            break;
        if (expected_end != BG_SIZE_UNKNOWN && position + op->read > expected_end)
            return httpsem_remote_failure(ctx, BG_E_INVALID_SERVER_RESPONSE, FALSE);
        /* S_FALSE: the segment is complete; the rest of the answer is not ours. */
        if ((hr = transfer_write(ctx, op->buffer, op->read)) != S_OK)
            return FAILED(hr) ? hr : S_OK;
        position += op->read;
        if (op->read == size && GetTickCount64() - started < FAST_READ_MS)
            chunk = min(size * 2, READ_BUFFER_SIZE);
        else
            chunk = 0;
    }
    return httpsem_end_body(ctx, position, expected_end);
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
    op->connections = 0;
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
        WinHttpSetStatusCallback(
            request, op_callback,
            WINHTTP_CALLBACK_FLAG_ALL_COMPLETIONS | WINHTTP_CALLBACK_FLAG_HANDLES |
                WINHTTP_CALLBACK_FLAG_REDIRECT | WINHTTP_CALLBACK_FLAG_CONNECT_TO_SERVER,
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

/* BG_JOB_PROXY_USAGE_AUTODETECT: asks WPAD (DHCP, then DNS) for the URL's proxy. Detection
 * that fails or finds none leaves *proxy empty: the job then connects directly. */
static void detect_proxy(const WCHAR *url, BOOL https, WCHAR *proxy, size_t size)
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
            !httpsem_proxy_for_scheme(info.lpszProxy, https, proxy, size))
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
                             const struct http_origin *origin, WCHAR *proxy, size_t size)
{
    struct proxy_cache *cache = &ctx->job->detected_proxy;
    WCHAR name[300], *new_origin, *new_proxy;
    BOOL cached = FALSE;
    LONG serial;

    swprintf(name, ARRAY_SIZE(name), L"%ls://%ls:%u", origin->https ? L"https" : L"http",
             origin->host, origin->port);
    AcquireSRWLockShared(&ctx->job->lock);
    serial = cache->serial;
    if (cache->origin && cache->found_serial == serial && !wcscmp(cache->origin, name) &&
        wcslen(cache->proxy) < size)
    {
        wcscpy(proxy, cache->proxy);
        cached = TRUE;
    }
    ReleaseSRWLockShared(&ctx->job->lock);
    if (cached)
    {
        TRACE("proxy for %s known: %s", debugstr_w(name), debugstr_w(proxy));
        return;
    }

    detect_proxy(url, origin->https, proxy, size);
    /* Without memory the answer is not kept: the next file detects again. */
    new_origin = heap_strdup(name);
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

/* Opens the WinHTTP session for the proxy chosen: the system's settings, a direct
 * connection, or a named proxy (the job's list, or what WPAD found). */
static HRESULT open_session(struct transfer_ctx *ctx, const struct proxy_choice *proxy,
                            HINTERNET *out)
{
    static const DWORD access[] = {
        [PROXY_DEFAULT] = WINHTTP_ACCESS_TYPE_DEFAULT_PROXY,
        [PROXY_DIRECT] = WINHTTP_ACCESS_TYPE_NO_PROXY,
        [PROXY_NAMED] = WINHTTP_ACCESS_TYPE_NAMED_PROXY,
    };

    TRACE("proxy %d %s bypass %s", proxy->kind, debugstr_url(proxy->proxy),
          debugstr_w(proxy->bypass));
    if (!(*out = WinHttpOpen(OPENDO_USER_AGENT, access[proxy->kind],
                             proxy->kind == PROXY_NAMED ? proxy->proxy : WINHTTP_NO_PROXY_NAME,
                             proxy->bypass ? proxy->bypass : WINHTTP_NO_PROXY_BYPASS,
                             WINHTTP_FLAG_ASYNC)))
    {
        if (ctx->options.proxy_usage == BG_JOB_PROXY_USAGE_OVERRIDE)
            return httpsem_setup_failure(ctx, BG_E_INVALID_PROXY_INFO);
        return httpsem_transport_failure(ctx, GetLastError());
    }
    WinHttpSetTimeouts(*out, 0, 30000, 30000, HTTPSEM_SILENCE_MS);
    return S_OK;
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

static BOOL set_dword_option(HINTERNET request, DWORD option, DWORD value)
{
    return WinHttpSetOption(request, option, &value, sizeof(value));
}

/* Applies the job's HTTP options to a request before it is sent: the custom headers (sent with
 * every request of the job), the redirect policy, and on https the security flags, revocation
 * checking and the client certificate. */
static HRESULT apply_request_options(struct transfer_ctx *ctx, HINTERNET request,
                                     const struct http_origin *origin)
{
    const struct ejob_options *options = &ctx->options;
    ULONG flags = options->security_flags;
    ULONG redirect = flags & BG_HTTP_REDIRECT_POLICY_MASK;

    if (options->custom_headers && options->custom_headers[0] &&
        !WinHttpAddRequestHeaders(request, options->custom_headers, (DWORD)-1,
                                  WINHTTP_ADDREQ_FLAG_ADD | WINHTTP_ADDREQ_FLAG_REPLACE))
        return httpsem_setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));

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

    if (!origin->https)
        return S_OK;
    if (httpsem_security_flags(flags) &&
        !set_dword_option(request, WINHTTP_OPTION_SECURITY_FLAGS, httpsem_security_flags(flags)))
        return httpsem_setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    if ((flags & BG_SSL_ENABLE_CRL_CHECK) &&
        !set_dword_option(request, WINHTTP_OPTION_ENABLE_FEATURE, WINHTTP_ENABLE_SSL_REVOCATION))
        return httpsem_setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    if (options->client_cert.present)
    {
        const CERT_CONTEXT *cert;
        HRESULT hr;
        BOOL set;

        if (FAILED(hr = http_find_client_cert(&options->client_cert, &cert)))
            return httpsem_setup_failure(ctx, hr);
        set = WinHttpSetOption(request, WINHTTP_OPTION_CLIENT_CERT_CONTEXT, (void *)cert,
                               sizeof(*cert));
        hr = HRESULT_FROM_WIN32(GetLastError());
        CertFreeCertificateContext(cert);
        if (!set)
            return httpsem_setup_failure(ctx, hr);
    }
    return S_OK;
}

/* Sends the request (again) and waits for the response headers. */
static HRESULT send_and_receive(struct transfer_ctx *ctx, HINTERNET request, struct http_op *op)
{
    HRESULT hr;

    if (!WinHttpSendRequest(request, WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA, 0,
                            0, (DWORD_PTR)op))
        return httpsem_transport_failure(ctx, GetLastError());
    if (FAILED(hr = wait_op(ctx, op)))
        return hr;
    if (!WinHttpReceiveResponse(request, NULL))
        return httpsem_transport_failure(ctx, GetLastError());
    return wait_op(ctx, op);
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
        return httpsem_setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    return S_OK;
}

/* Looks at the response before its body is read: answers authentication challenges with the
 * job's credentials and resends (a bounded number of times), then applies the redirect policy:
 * DISALLOW fails the job with the redirect answer (and reports where it pointed), ALLOW_REPORT
 * records the final URL as the file's remote name. Anything else is start_body's. */
static HRESULT answer_response(struct transfer_ctx *ctx, HINTERNET request, struct http_op *op,
                               const struct http_origin *origin)
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

    if (policy == BG_HTTP_REDIRECT_POLICY_DISALLOW && httpsem_is_redirect(status))
    {
        struct http_answer answer = answer_of(request);
        return httpsem_refuse_redirect(ctx, &answer, origin);
    }
    if (policy == BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT && op->redirect[0])
    {
        WCHAR final[URL_MAX_LENGTH + 1];

        if (httpsem_absolute_url(op->redirect, origin, final, ARRAY_SIZE(final)) &&
            httpsem_moved(final, origin) && FAILED(hr = transfer_set_remote(ctx, final)))
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

/* Reads the answer to a request for `span` of a file with ranges and stores the wanted bytes
 * of it, dropping the gaps; *stored counts the file's bytes in. */
static HRESULT read_ranges(struct transfer_ctx *ctx, HINTERNET request, struct http_op *op,
                           const struct range_span *span, UINT64 *stored)
{
    struct http_answer answer = answer_of(request);
    UINT64 first, last, pos;
    struct range_walk walk;
    DWORD size;
    HRESULT hr;

    if (FAILED(hr = httpsem_start_span(ctx, &answer, span, *stored, &first, &last)))
        return hr;
    range_walk_init(&walk, (const struct byte_range *)ctx->ranges, ctx->remote_size, span);
    for (pos = first; pos <= last;)
    {
        size = bandwidth_read_limit(ctx, (DWORD)min(last + 1 - pos, READ_BUFFER_SIZE));
        if (!WinHttpReadData(request, op->buffer, size, NULL))
            return httpsem_transport_failure(ctx, GetLastError());
        if (FAILED(hr = wait_op(ctx, op)))
            return hr;
        if (!op->read)
            break;
        if ((hr = httpsem_store_span(ctx, &walk, &pos, stored, op->buffer, op->read)) != S_OK)
            return FAILED(hr) ? hr : S_OK;
    }
    return httpsem_end_body(ctx, pos, last + 1);
}

/* One GET on the connection: from ctx->offset (to ctx->end for a segment), or for a file with
 * ranges the bytes of `span`, of which *stored are in. */
static HRESULT fetch_once(struct transfer_ctx *ctx, HINTERNET connection,
                          const struct http_origin *origin, const struct range_span *span,
                          UINT64 *stored)
{
    HINTERNET request;
    struct http_op *op = NULL;
    WCHAR headers[128 + 2 * VALIDATOR_SIZE];
    UINT64 expected_end = BG_SIZE_UNKNOWN;
    struct http_answer answer;
    HRESULT hr;

    request = WinHttpOpenRequest(connection, ctx->probe ? L"HEAD" : L"GET", origin->path, NULL,
                                 WINHTTP_NO_REFERER, WINHTTP_DEFAULT_ACCEPT_TYPES,
                                 origin->https ? WINHTTP_FLAG_SECURE : 0);
    if (!request)
        return httpsem_transport_failure(ctx, GetLastError());
    if (FAILED(hr = attach_op(request, &op)))
        goto out;
    if (FAILED(hr = apply_request_options(ctx, request, origin)))
        goto out;
    httpsem_range_headers(ctx, span, headers, ARRAY_SIZE(headers));
    if (headers[0])
        WinHttpAddRequestHeaders(request, headers, (DWORD)-1, WINHTTP_ADDREQ_FLAG_ADD);
    if (FAILED(hr = send_and_receive(ctx, request, op)))
        goto out;
    hr = answer_response(ctx, request, op, origin);
    record_response(ctx, request);
    answer = answer_of(request);
    httpsem_note_retry_after(ctx, &answer);
    if (FAILED(hr))
        goto out;
    if (span)
        hr = read_ranges(ctx, request, op, span, stored);
    else if (SUCCEEDED(hr = httpsem_start_body(ctx, &answer, &expected_end)) && !ctx->probe)
        hr = read_body(ctx, request, op, expected_end);

out:
    /* Closing does not wait for a step in flight: HANDLE_CLOSING releases WinHTTP's reference
     * to op whenever that step ends. A request closed before its answer's end takes its
     * connection with it. */
    WinHttpCloseHandle(request);
    if (op)
    {
        for (LONG i = InterlockedOr(&op->connections, 0); i > 0; i--)
            transfer_count_connection(ctx);
        op_release(op);
    }
    return hr;
}

/* Where fetch_once sends its request, for httpsem_fetch. */
struct request_target
{
    HINTERNET connection;
    const struct http_origin *origin;
};

static HRESULT request(struct transfer_ctx *ctx, void *arg, const struct range_span *span,
                       UINT64 *stored)
{
    struct request_target *target = arg;
    return fetch_once(ctx, target->connection, target->origin, span, stored);
}

/* A session and a connection that a fetching thread keeps (fetch_cache.winhttp). */
struct kept
{
    HINTERNET session;
    HINTERNET connection;
    WCHAR *key; /* httpsem_cache_key of what they were opened for */
};

static void kept_free(struct kept *kept)
{
    if (!kept)
        return;
    WinHttpCloseHandle(kept->connection);
    WinHttpCloseHandle(kept->session);
    free_str(kept->key);
    HeapFree(GetProcessHeap(), 0, kept);
}

void http_cache_clear(struct fetch_cache *cache)
{
    kept_free(cache->winhttp);
    cache->winhttp = NULL;
}

/* The session and connection for the fetch: the thread's kept ones when they were opened for
 * the same key, else new ones (and what was kept is closed). */
static HRESULT open_kept(struct transfer_ctx *ctx, const struct http_origin *origin,
                         const struct proxy_choice *proxy, struct kept **out)
{
    struct kept *kept = ctx->cache ? ctx->cache->winhttp : NULL;
    WCHAR *key;
    HRESULT hr;

    *out = NULL;
    if (!(key = httpsem_cache_key(origin, proxy, ctx->options.security_flags)))
        return E_OUTOFMEMORY;
    if (kept && !wcscmp(kept->key, key))
    {
        free_str(key);
        ctx->cache->winhttp = NULL;
        *out = kept;
        return S_OK;
    }
    if (ctx->cache)
        http_cache_clear(ctx->cache);
    if (!(kept = heap_alloc_zero(sizeof(*kept))))
    {
        free_str(key);
        return E_OUTOFMEMORY;
    }
    kept->key = key;
    if (FAILED(hr = open_session(ctx, proxy, &kept->session)))
        goto err;
    if (!(kept->connection = WinHttpConnect(kept->session, origin->host, origin->port, 0)))
    {
        hr = httpsem_transport_failure(ctx, GetLastError());
        goto err;
    }
    *out = kept;
    return S_OK;

err:
    kept_free(kept);
    return hr;
}

HRESULT http_fetch(struct transfer_ctx *ctx, const WCHAR *url)
{
    struct proxy_choice proxy;
    struct http_origin origin;
    struct kept *kept = NULL;
    HRESULT hr;

    if (FAILED(hr = httpsem_crack(url, &origin)))
        return httpsem_remote_failure(ctx, hr, FALSE);
    if ((hr = httpsem_choose_proxy(ctx, &origin, &proxy)) == S_FALSE)
    {
        autodetect_proxy(ctx, url, &origin, proxy.proxy, ARRAY_SIZE(proxy.proxy));
        proxy.kind = proxy.proxy[0] ? PROXY_NAMED : PROXY_DIRECT;
    }
    if (SUCCEEDED(hr) && SUCCEEDED(hr = open_kept(ctx, &origin, &proxy, &kept)))
    {
        struct request_target target = {kept->connection, &origin};
        hr = httpsem_fetch(ctx, request, &target);
    }

    /* Kept for the thread's next fetch unless the connection may carry this job's identity. */
    if (kept && ctx->cache && !ctx->cache->winhttp && httpsem_may_keep(&ctx->options))
        ctx->cache->winhttp = kept;
    else
        kept_free(kept);
    free_str(proxy.bypass);
    return hr;
}
