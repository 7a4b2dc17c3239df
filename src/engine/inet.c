/* SPDX-License-Identifier: MIT */
/* The http and https transport over WinINet: the fast one under Wine, for the jobs it carries. */

/*
 * Under Wine, WinINet moves several hundred MB/s per connection where WinHTTP moves about 50, at
 * a tenth of the CPU. transport.c sends here the jobs whose options WinINet can carry exactly
 * as http.c does with WinHTTP; what the answers mean is decided in httpsem.c for both.
 *
 * WinINet runs in asynchronous mode (INTERNET_FLAG_ASYNC), for the reason http.c gives: a
 * synchronous call cannot be interrupted, and a control operation must not wait for a server
 * that never answers. Measured under Wine 8: a read with IRF_NO_WAIT returns at once, with no
 * callback, whatever bytes are waiting (so a fast transfer costs no thread switch per read),
 * and ERROR_IO_PENDING only when none are; InternetCloseHandle returns at once even with a
 * step in flight, whose HANDLE_CLOSING comes when that step ends (up to the receive timeout
 * later). So each step's state (struct inet_op, with the read buffer) is counted and lives
 * until HANDLE_CLOSING, and the worker waits for pending steps in slices, as http.c does.
 *
 * Also measured: a request closed before the end of its answer's body does not drop its
 * connection; WinINet goes on reading the rest in the background, to keep the connection. An
 * early stop (Suspend, Cancel, a segment cut short, an answer refused) thus still costs the
 * rest of that answer's bytes on the wire, though none of them is stored.
 *
 * Redirects are followed here, not by WinINet (INTERNET_FLAG_NO_AUTO_REDIRECT), so that the
 * job's redirect policy applies exactly: DISALLOW, ALLOW_REPORT, and https to http only with
 * ALLOW_HTTPS_TO_HTTP (otherwise the redirect answer is the answer, as WinHTTP gives it).
 * WinINet never authenticates (INTERNET_FLAG_NO_AUTH: jobs with credentials go to WinHTTP),
 * never caches, never shows UI and keeps no cookies.
 *
 * A fetching thread may keep its session and connection handles (fetch_cache.wininet); the
 * sockets themselves are pooled by WinINet per server, and a request whose answer was read to
 * its end leaves its connection to the next one. A connection is counted
 * (transfer_count_connection) when WinINet says it connected to the server
 * (INTERNET_STATUS_CONNECTED_TO_SERVER): a request sent over a pooled connection counts none.
 *
 * Wine 8's WinINet keeps each handle's children (a connection's requests, a session's
 * connections) in a list without a lock: opening a request adds it to its connection's list,
 * the request's last release takes it off, and closing a handle walks the list. The last
 * release of a request happens on WinINet's worker thread when a step was still in flight (or
 * the worker had not yet dropped its reference after completing the step) at the moment the
 * request was closed. Opening the next request on that connection, or closing it, at that same
 * moment corrupts the list, and the thread that then closes the connection spins forever
 * (seen: three fetching threads at 100% CPU in invalidate_handle at the end of a run of 1,000
 * small files, in a diagnostic build without the per-file flush, which made the timing likely).
 * So a session and connection on which a request was released elsewhere are
 * "tainted": no request is opened on them any more, and they are closed only once every request
 * of theirs was released and RELEASE_GRACE_MS have passed since the last of those releases
 * (struct kept, kept_drop; the releasing thread takes the request off the list a few
 * instructions after its HANDLE_CLOSING). Until then they wait in a list that every later
 * kept_drop sweeps; a process that fetches nothing more leaves them open, which costs only
 * their handles' memory (the sockets are WinINet's, pooled apart from the handles). A request
 * released on the closing thread itself, the usual case (about 92% of the requests of 1,000 small
 * files on 8 connections), taints nothing.
 */

#include <stdio.h>
#include <stdlib.h>
#include "engine/engine.h"
#include "engine/httpsem.h"
#include "core/url.h"
#include "core/ranges.h"
#include <wininet.h>

/* Measured on one 1 GiB file over 4 and 8 connections under Wine 8: 1 MiB reads moved 10-15%
 * more bytes per second than 256 KiB reads, at 15% less CPU. The buffer lives in the request's
 * inet_op, which a fetching thread keeps for its next request (struct kept). */
#define READ_BUFFER_SIZE (1024 * 1024)
/* How often a waiting worker looks whether its job was stopped. */
#define STOP_POLL_MS 50
/* How long a tainted session stays open after its last request's release elsewhere. */
#define RELEASE_GRACE_MS 1000

/* WinHTTP's numbers for the failures that WinINet numbers otherwise: jobs report WinHTTP's
 * codes, as BITS does, whichever stack carried them. */
#define WINHTTP_SECURE_FAILURE 12175
#define WINHTTP_SECURE_CERT_REV_FAILED 12057
#define WINHTTP_REDIRECT_FAILED 12156

/* One request's completions, shared by the worker and the WinINet callback. */
struct inet_op
{
    LONG refs;        /* the worker's, and WinINet's until HANDLE_CLOSING */
    HANDLE done;      /* auto-reset; set by the callback when a pending step completes */
    LONG signals;     /* times `done` was set and not yet waited for */
    LONG connections; /* CONNECTED_TO_SERVER notifications so far */
    /* Written by WinINet or the callback before `done` is set, read by the worker after it. */
    DWORD_PTR result;  /* REQUEST_COMPLETE: the step's BOOL result */
    DWORD error;       /* REQUEST_COMPLETE: its error when it failed */
    struct kept *kept; /* whose connection the request is on, until HANDLE_CLOSING */
    DWORD closer;      /* the thread that closes the request (close_request) */
    BOOL closed_here;  /* its HANDLE_CLOSING came on that thread, within the close */
    BYTE buffer[READ_BUFFER_SIZE];
};

static void op_release(struct inet_op *op)
{
    if (InterlockedDecrement(&op->refs))
        return;
    CloseHandle(op->done);
    HeapFree(GetProcessHeap(), 0, op);
    module_unlock();
}

/* A fetching thread's session and connection, kept from one fetch to the next. */
struct kept
{
    HINTERNET session;
    HINTERNET connection;
    WCHAR *key;            /* httpsem_cache_key of what they were opened for */
    struct inet_op *spare; /* the last request's state, for the next request (or NULL) */
    LONG refs;             /* the owner's, and one per request until its HANDLE_CLOSING */
    BOOL tainted;          /* a request of theirs was released on another thread */
    LONG64 released_at;    /* GetTickCount64 of the last such release */
    HINTERNET *extra;      /* connections to redirect targets, closed with the session */
    ULONG extra_count;
    struct kept *next; /* in the retired list */
};

/* Frees the structure once the last reference goes; its handles are closed already. */
static void kept_release(struct kept *kept)
{
    if (InterlockedDecrement(&kept->refs))
        return;
    free_str(kept->key);
    heap_free(kept->extra);
    HeapFree(GetProcessHeap(), 0, kept);
}

/* The request is done with its state: kept for the thread's next request, or released. */
static void op_done(struct kept *kept, struct inet_op *op)
{
    if (kept && !kept->spare)
        kept->spare = op;
    else
        op_release(op);
}

/* A request's state: the thread's spare once WinINet let go of it (its HANDLE_CLOSING came:
 * only the thread's reference is left), else a new one. */
static struct inet_op *op_take(struct kept *kept)
{
    struct inet_op *op = kept ? kept->spare : NULL;

    if (op)
    {
        kept->spare = NULL;
        if (InterlockedCompareExchange(&op->refs, 1, 1) == 1)
        {
            op->connections = 0;
            op->result = 0;
            op->error = 0;
            /* WinINet let go of it: no signal comes any more. One that nobody waited for (the
             * worker gave up on a step) is cleared; otherwise the event is clear already, and
             * a ResetEvent would only cost a call to Wine's server per request. */
            if (op->signals)
            {
                ResetEvent(op->done);
                op->signals = 0;
            }
            return op;
        }
        op_release(op);
    }
    if (!(op = HeapAlloc(GetProcessHeap(), 0, sizeof(*op))))
        return NULL;
    op->refs = 1;
    op->signals = 0;
    op->connections = 0;
    op->result = 0;
    op->error = 0;
    if (!(op->done = CreateEventW(NULL, FALSE, FALSE, NULL)))
    {
        HeapFree(GetProcessHeap(), 0, op);
        return NULL;
    }
    /* A callback may still come after the worker left: keep the module loaded until then. */
    module_lock();
    return op;
}

/* The session's status callback; requests carry their inet_op as context, the session and
 * connection handles none. */
static void CALLBACK op_callback(HINTERNET handle, DWORD_PTR context, DWORD status, void *info,
                                 DWORD size)
{
    struct inet_op *op = (struct inet_op *)context;

    if (!op)
        return;
    switch (status)
    {
    case INTERNET_STATUS_CONNECTED_TO_SERVER:
        InterlockedIncrement(&op->connections);
        break;
    case INTERNET_STATUS_REQUEST_COMPLETE:
        op->result = ((const INTERNET_ASYNC_RESULT *)info)->dwResult;
        op->error = ((const INTERNET_ASYNC_RESULT *)info)->dwError;
        InterlockedIncrement(&op->signals);
        SetEvent(op->done);
        break;
    case INTERNET_STATUS_HANDLE_CLOSING:
        if (op->kept)
        {
            struct kept *kept = op->kept;

            op->kept = NULL;
            if (GetCurrentThreadId() == op->closer)
                op->closed_here = TRUE;
            else
                InterlockedExchange64(&kept->released_at, (LONG64)GetTickCount64());
            kept_release(kept);
        }
        op_release(op);
        break;
    default:
        break;
    }
}

static HRESULT inet_failure(struct transfer_ctx *ctx, DWORD err)
{
    switch (err)
    {
    case ERROR_INTERNET_SEC_CERT_ERRORS:
        err = WINHTTP_SECURE_FAILURE;
        break;
    case ERROR_INTERNET_SEC_CERT_NO_REV:
        err = WINHTTP_SECURE_CERT_REV_FAILED;
        break;
    default:
        break;
    }
    return httpsem_transport_failure(ctx, err);
}

/* Finishes a step started in asynchronous mode; `ok` is what the call returned. A pending step
 * is waited for in slices: the wait gives up with E_ABORT when the job no longer wants the
 * transfer, BG_E_MAXDOWNLOAD_TIMEOUT when it ran out of time, and a transient timeout when the
 * server stays silent for HTTPSEM_SILENCE_MS or until the job's no-progress window closes. */
static HRESULT finish_step(struct transfer_ctx *ctx, struct inet_op *op, BOOL ok)
{
    ULONGLONG silence_deadline;
    DWORD err;
    HRESULT hr;

    if (ok)
        return S_OK;
    if ((err = GetLastError()) != ERROR_IO_PENDING)
        return inet_failure(ctx, err);
    silence_deadline = GetTickCount64() + HTTPSEM_SILENCE_MS;
    for (;;)
    {
        if (WaitForSingleObject(op->done, STOP_POLL_MS) == WAIT_OBJECT_0)
        {
            InterlockedDecrement(&op->signals);
            return op->result ? S_OK : inet_failure(ctx, op->error);
        }
        if (FAILED(hr = transfer_check(ctx)))
            return hr;
        if (GetTickCount64() >= min(silence_deadline, transfer_progress_deadline(ctx)))
            return inet_failure(ctx, ERROR_INTERNET_TIMEOUT);
    }
}

/* Reads what the body has next, up to size bytes, into op->buffer: *got is 0 at its end.
 * InternetReadFile waits until it can fill all of its buffer, which would hide the bytes of a
 * server that sends a few and stalls. With IRF_NO_WAIT, measured under Wine 8, a read returns
 * at once what is waiting (up to size), 0 at the end of the body, and ERROR_IO_PENDING when
 * nothing is waiting: its completion says that bytes arrived (it stores none), and the next
 * read takes them. */
static HRESULT read_some(struct transfer_ctx *ctx, HINTERNET request, struct inet_op *op,
                         DWORD size, DWORD *got)
{
    INTERNET_BUFFERSW buffers = {sizeof(buffers)};
    HRESULT hr;

    size = bandwidth_read_limit(ctx, size);
    for (;;)
    {
        buffers.lpvBuffer = op->buffer;
        buffers.dwBufferLength = size;
        if (InternetReadFileExW(request, &buffers, IRF_NO_WAIT, (DWORD_PTR)op))
        {
            *got = buffers.dwBufferLength;
            return S_OK;
        }
        if (FAILED(hr = finish_step(ctx, op, FALSE)))
            return hr;
    }
}

static DWORD response_status(HINTERNET request)
{
    DWORD status = 0, len = sizeof(status), index = 0;

    if (!HttpQueryInfoW(request, HTTP_QUERY_STATUS_CODE | HTTP_QUERY_FLAG_NUMBER, &status, &len,
                        &index))
        return 0;
    return status;
}

/* http_answer.header over WinINet. */
static BOOL answer_header(const struct http_answer *answer, enum http_header which, WCHAR *value,
                          DWORD size)
{
    static const DWORD queries[] = {
        [HEADER_CONTENT_RANGE] = HTTP_QUERY_CONTENT_RANGE,
        [HEADER_CONTENT_LENGTH] = HTTP_QUERY_CONTENT_LENGTH,
        [HEADER_ETAG] = HTTP_QUERY_ETAG,
        [HEADER_LAST_MODIFIED] = HTTP_QUERY_LAST_MODIFIED,
        [HEADER_RETRY_AFTER] = HTTP_QUERY_RETRY_AFTER,
        [HEADER_LOCATION] = HTTP_QUERY_LOCATION,
        [HEADER_ACCEPT_RANGES] = HTTP_QUERY_ACCEPT_RANGES,
    };
    DWORD len = size * sizeof(WCHAR), index = 0;

    return HttpQueryInfoW(answer->request, queries[which], value, &len, &index);
}

static struct http_answer answer_of(HINTERNET request)
{
    struct http_answer answer = {response_status(request), answer_header, request};
    return answer;
}

/* Keeps the response's status line and headers for IBackgroundCopyFile5::GetProperty. */
static void record_response(struct transfer_ctx *ctx, HINTERNET request)
{
    WCHAR *headers = NULL;
    DWORD size = 0, index = 0;

    HttpQueryInfoW(request, HTTP_QUERY_RAW_HEADERS_CRLF, NULL, &size, &index);
    index = 0;
    if (size && (headers = heap_alloc_zero(size + sizeof(WCHAR))) &&
        !HttpQueryInfoW(request, HTTP_QUERY_RAW_HEADERS_CRLF, headers, &size, &index))
    {
        free_str(headers);
        headers = NULL;
    }
    transfer_set_response(ctx, headers, response_status(request));
}

/* Reads the body of a whole-file or segment answer into the file, up to expected_end when it
 * is known (the last byte ends the transfer: no read waits for the end of data). */
static HRESULT read_body(struct transfer_ctx *ctx, HINTERNET request, struct inet_op *op,
                         UINT64 expected_end)
{
    UINT64 position = ctx->offset;
    DWORD size, got;
    HRESULT hr;

    while (expected_end == BG_SIZE_UNKNOWN || position < expected_end)
    {
        size = READ_BUFFER_SIZE;
        if (expected_end != BG_SIZE_UNKNOWN)
            size = (DWORD)min(size, expected_end - position);
        if (FAILED(hr = read_some(ctx, request, op, size, &got)))
            return hr;
        if (!got)
            break;
        /* S_FALSE: the segment is complete; the rest of the answer is not ours. */
        if ((hr = transfer_write(ctx, op->buffer, got)) != S_OK)
            return FAILED(hr) ? hr : S_OK;
        position += got;
    }
    return httpsem_end_body(ctx, position, expected_end);
}

/* Reads the answer to a request for `span` of a file with ranges, storing the wanted bytes. */
static HRESULT read_ranges(struct transfer_ctx *ctx, HINTERNET request, struct inet_op *op,
                           const struct range_span *span, UINT64 *stored)
{
    struct http_answer answer = answer_of(request);
    UINT64 first, last, pos;
    struct range_walk walk;
    DWORD got;
    HRESULT hr;

    if (FAILED(hr = httpsem_start_span(ctx, &answer, span, *stored, &first, &last)))
        return hr;
    range_walk_init(&walk, (const struct byte_range *)ctx->ranges, ctx->remote_size, span);
    for (pos = first; pos <= last;)
    {
        if (FAILED(hr = read_some(ctx, request, op, (DWORD)min(last + 1 - pos, READ_BUFFER_SIZE),
                                  &got)))
            return hr;
        if (!got)
            break;
        if ((hr = httpsem_store_span(ctx, &walk, &pos, stored, op->buffer, got)) != S_OK)
            return FAILED(hr) ? hr : S_OK;
    }
    return httpsem_end_body(ctx, pos, last + 1);
}

/* Opens a request on the connection with its shared state: from now on the request handle's
 * HANDLE_CLOSING releases WinINet's reference to *op. */
static HRESULT open_request(struct transfer_ctx *ctx, struct kept *kept, HINTERNET connection,
                            const struct http_origin *origin, HINTERNET *request,
                            struct inet_op **out)
{
    DWORD flags = INTERNET_FLAG_NO_CACHE_WRITE | INTERNET_FLAG_RELOAD | INTERNET_FLAG_NO_COOKIES |
                  INTERNET_FLAG_NO_UI | INTERNET_FLAG_NO_AUTH | INTERNET_FLAG_NO_AUTO_REDIRECT |
                  INTERNET_FLAG_KEEP_CONNECTION;
    struct inet_op *op;

    if (origin->https)
        flags |= INTERNET_FLAG_SECURE;
    if (!(op = op_take(kept)))
        return E_OUTOFMEMORY;
    if (!(*request = HttpOpenRequestW(connection, ctx->probe ? L"HEAD" : L"GET", origin->path, NULL,
                                      NULL, NULL, flags, (DWORD_PTR)op)))
    {
        HRESULT hr = inet_failure(ctx, GetLastError());
        op_release(op);
        return hr;
    }
    op->refs++;
    op->closer = 0;
    op->closed_here = FALSE;
    InterlockedIncrement(&kept->refs);
    op->kept = kept;
    *out = op;
    return S_OK;
}

/* Closes a request of `kept`'s; taints `kept` unless the request was released right here. */
static void close_request(struct kept *kept, HINTERNET request, struct inet_op *op)
{
    op->closer = GetCurrentThreadId();
    InternetCloseHandle(request);
    if (!op->closed_here && !kept->tainted)
    {
        TRACE("a request was released on another thread: its session and connection retire");
        kept->tainted = TRUE;
    }
}

/* Closes a connection to a redirect target opened on `kept`'s session, or leaves it to be
 * closed with the session when `kept` is tainted. */
static void drop_connection(struct kept *kept, HINTERNET connection)
{
    HINTERNET *grown;

    if (!kept->tainted)
    {
        InternetCloseHandle(connection);
        return;
    }
    grown = kept->extra ? HeapReAlloc(GetProcessHeap(), 0, kept->extra,
                                      (kept->extra_count + 1) * sizeof(*grown))
                        : heap_alloc_zero(sizeof(*grown));
    /* Without memory, the handle stays open: a leak is better than a hang. */
    if (grown)
    {
        kept->extra = grown;
        kept->extra[kept->extra_count++] = connection;
    }
}

/* Applies the job's options to a request before it is sent: the custom headers, the Range
 * headers, and on https the security flags. */
static HRESULT apply_request_options(struct transfer_ctx *ctx, HINTERNET request,
                                     const struct http_origin *origin,
                                     const struct range_span *span)
{
    const struct ejob_options *options = &ctx->options;
    WCHAR headers[128 + 2 * VALIDATOR_SIZE];
    DWORD security;

    if (options->custom_headers && options->custom_headers[0] &&
        !HttpAddRequestHeadersW(request, options->custom_headers, (DWORD)-1,
                                HTTP_ADDREQ_FLAG_ADD | HTTP_ADDREQ_FLAG_REPLACE))
        return httpsem_setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    httpsem_range_headers(ctx, span, headers, ARRAY_SIZE(headers));
    if (headers[0] && !HttpAddRequestHeadersW(request, headers, (DWORD)-1, HTTP_ADDREQ_FLAG_ADD))
        return httpsem_setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    if (!origin->https || !(security = httpsem_security_flags(options->security_flags)))
        return S_OK;
    /* The flags are added to what the request has (SECURITY_FLAG_SECURE and the like). */
    {
        DWORD current = 0, len = sizeof(current);

        InternetQueryOptionW(request, INTERNET_OPTION_SECURITY_FLAGS, &current, &len);
        security |= current;
    }
    if (!InternetSetOptionW(request, INTERNET_OPTION_SECURITY_FLAGS, &security, sizeof(security)))
        return httpsem_setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    return S_OK;
}

/* What one fetch works with: the kept session and its connection to the URL's origin. */
struct target
{
    struct kept *kept;
    const struct http_origin *origin; /* the URL's */
};

/* In place of tainted handles, new ones for the URL's origin (the old ones are retired). */
static HRESULT renew_kept(struct transfer_ctx *ctx, struct target *target);

/* Sends one request for the job's file (from `origin`, over `connection`), following
 * redirects as the job's policy says, and leaves the final answer in *request (with *op). A
 * redirect to another origin is followed over a connection of its own, *own (or NULL), which
 * the caller closes after the request: under Wine, closing a connection handle ends its
 * requests too. */
static HRESULT send_following(struct transfer_ctx *ctx, struct target *target,
                              const struct range_span *span, HINTERNET *request,
                              struct inet_op **op, HINTERNET *own)
{
    ULONG policy = ctx->options.security_flags & BG_HTTP_REDIRECT_POLICY_MASK;
    WCHAR location[URL_MAX_LENGTH + 1], url[URL_MAX_LENGTH + 1], here[URL_MAX_LENGTH + 1];
    struct http_origin current = *target->origin, next;
    struct http_answer answer;
    HINTERNET connection;
    LONG counted = 0;
    HRESULT hr;

    /* An earlier request of this fetch (a retry, another span) may have tainted them. */
    if (target->kept->tainted && FAILED(hr = renew_kept(ctx, target)))
        return hr;
    connection = target->kept->connection;
    for (int hops = 0;; hops++)
    {
        if (FAILED(hr = open_request(ctx, target->kept, connection, &current, request, op)))
            break;
        if (FAILED(hr = apply_request_options(ctx, *request, &current, span)) ||
            FAILED(hr = finish_step(ctx, *op, HttpSendRequestW(*request, NULL, 0, NULL, 0))))
            break;
        for (counted = InterlockedOr(&(*op)->connections, 0); counted > 0; counted--)
            transfer_count_connection(ctx);
        answer = answer_of(*request);
        TRACE("status %lu, redirect policy %#lx", answer.status, policy);
        if (!httpsem_is_redirect(answer.status) ||
            !answer.header(&answer, HEADER_LOCATION, location, ARRAY_SIZE(location)))
            break;
        if (policy == BG_HTTP_REDIRECT_POLICY_DISALLOW)
        {
            record_response(ctx, *request);
            hr = httpsem_refuse_redirect(ctx, &answer, &current);
            break;
        }
        /* Where WinHTTP would not go, its redirect answer is the answer. */
        if (!httpsem_absolute_url(location, &current, url, ARRAY_SIZE(url)) ||
            FAILED(httpsem_crack(url, &next)) ||
            (current.https && !next.https &&
             !(ctx->options.security_flags & BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP)))
            break;
        if (hops == HTTPSEM_MAX_REDIRECTS)
        {
            hr = httpsem_transport_failure(ctx, WINHTTP_REDIRECT_FAILED);
            break;
        }
        TRACE("redirected to %s", debugstr_url(url));
        close_request(target->kept, *request, *op);
        op_done(target->kept, *op);
        *request = NULL;
        *op = NULL;
        if (target->kept->tainted)
        {
            /* No request goes over those handles any more: the next hop starts from new ones,
             * as from the URL's origin. */
            if (*own)
                drop_connection(target->kept, *own);
            *own = NULL;
            if (FAILED(hr = renew_kept(ctx, target)))
                break;
            connection = target->kept->connection;
            current = *target->origin;
        }
        /* The answer's body is not read: its connection closes with the request. */
        if (next.https != current.https || next.port != current.port ||
            _wcsicmp(next.host, current.host))
        {
            if (*own)
                drop_connection(target->kept, *own);
            if (!(*own = InternetConnectW(target->kept->session, next.host, next.port, NULL, NULL,
                                          INTERNET_SERVICE_HTTP, 0, 0)))
            {
                hr = inet_failure(ctx, GetLastError());
                break;
            }
            connection = *own;
        }
        current = next;
        /* `next.path` points into url, which the next hop reuses. */
        wcscpy(here, url);
        current.path = here + (next.path - url);
    }
    if (SUCCEEDED(hr) && policy == BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT &&
        httpsem_moved_origin(&current, target->origin))
    {
        WCHAR final[URL_MAX_LENGTH + 1];

        if (swprintf(final, ARRAY_SIZE(final), L"%ls://%ls:%u%ls",
                     current.https ? L"https" : L"http", current.host, current.port,
                     current.path) > 0)
            hr = transfer_set_remote(ctx, final);
    }
    return hr;
}

/* One GET: from ctx->offset (to ctx->end for a segment), or for a file with ranges the bytes
 * of `span`, of which *stored are in (http_request_fn). */
static HRESULT fetch_once(struct transfer_ctx *ctx, void *arg, const struct range_span *span,
                          UINT64 *stored)
{
    struct target *target = arg;
    UINT64 expected_end = BG_SIZE_UNKNOWN;
    HINTERNET request = NULL, own = NULL;
    struct http_answer answer;
    struct inet_op *op = NULL;
    HRESULT hr;

    if (FAILED(hr = send_following(ctx, target, span, &request, &op, &own)) || !request)
        goto out;
    record_response(ctx, request);
    answer = answer_of(request);
    httpsem_note_retry_after(ctx, &answer);
    if (span)
        hr = read_ranges(ctx, request, op, span, stored);
    else if (SUCCEEDED(hr = httpsem_start_body(ctx, &answer, &expected_end)) && !ctx->probe)
        hr = read_body(ctx, request, op, expected_end);

out:
    /* Closing does not wait for a step in flight: HANDLE_CLOSING releases WinINet's reference
     * to op whenever that step ends. A request closed before its answer's end takes its
     * connection with it. */
    if (request)
        close_request(target->kept, request, op);
    if (op)
        op_done(target->kept, op);
    if (own)
        drop_connection(target->kept, own);
    return hr;
}

/* Sessions and connections that wait until they may be closed (see the top of the file). */
static SRWLOCK retired_lock = SRWLOCK_INIT;
static struct kept *retired;
static LONG retired_count;

static void close_kept(struct kept *kept)
{
    if (kept->spare)
        op_release(kept->spare);
    kept->spare = NULL;
    for (ULONG i = 0; i < kept->extra_count; i++)
        InternetCloseHandle(kept->extra[i]);
    kept->extra_count = 0;
    if (kept->connection)
        InternetCloseHandle(kept->connection);
    if (kept->session)
        InternetCloseHandle(kept->session);
    kept->connection = kept->session = NULL;
    kept_release(kept);
}

/* Closes the retired sessions whose requests were all released RELEASE_GRACE_MS ago or more. */
static void sweep_retired(void)
{
    struct kept *ready = NULL, **p, *kept;
    ULONGLONG now = GetTickCount64();

    if (!InterlockedCompareExchange(&retired_count, 0, 0))
        return;
    AcquireSRWLockExclusive(&retired_lock);
    for (p = &retired; (kept = *p);)
    {
        /* Only the list's reference left: no request of theirs is waiting for its release. */
        if (InterlockedCompareExchange(&kept->refs, 1, 1) == 1 &&
            now - (ULONGLONG)InterlockedCompareExchange64(&kept->released_at, 0, 0) >=
                RELEASE_GRACE_MS)
        {
            *p = kept->next;
            kept->next = ready;
            ready = kept;
            InterlockedDecrement(&retired_count);
        }
        else
            p = &kept->next;
    }
    ReleaseSRWLockExclusive(&retired_lock);
    while ((kept = ready))
    {
        ready = kept->next;
        close_kept(kept);
    }
}

/* The owner is done with the session and connection: closed now, or once they may be. */
static void kept_drop(struct kept *kept)
{
    if (!kept)
        return;
    if (!kept->tainted && InterlockedCompareExchange(&kept->refs, 1, 1) == 1)
        close_kept(kept);
    else
    {
        /* Its state keeps the DLL loaded (op_take): it goes now, so that nothing of a retired
         * session does once its requests were released. */
        if (kept->spare)
            op_release(kept->spare);
        kept->spare = NULL;
        AcquireSRWLockExclusive(&retired_lock);
        kept->next = retired;
        retired = kept;
        InterlockedIncrement(&retired_count);
        ReleaseSRWLockExclusive(&retired_lock);
    }
    sweep_retired();
}

void inet_cache_clear(struct fetch_cache *cache)
{
    kept_drop(cache->wininet);
    cache->wininet = NULL;
}

static BOOL set_timeout(HINTERNET handle, DWORD option, DWORD ms)
{
    return InternetSetOptionW(handle, option, &ms, sizeof(ms));
}

/* Opens a session that connects directly (transport.c sends no job with a proxy here) and
 * its connection to the origin. */
static HRESULT open_kept(struct transfer_ctx *ctx, const struct http_origin *origin,
                         struct kept *kept)
{
    if (!(kept->session = InternetOpenW(OPENDO_USER_AGENT, INTERNET_OPEN_TYPE_DIRECT, NULL, NULL,
                                        INTERNET_FLAG_ASYNC)))
        return inet_failure(ctx, GetLastError());
    if (InternetSetStatusCallbackW(kept->session, op_callback) == INTERNET_INVALID_STATUS_CALLBACK)
        return httpsem_setup_failure(ctx, HRESULT_FROM_WIN32(GetLastError()));
    /* As http.c gives WinHTTP: 30 s to connect and to send, HTTPSEM_SILENCE_MS to receive (a
     * step that the worker gave up on ends by then at the latest). */
    set_timeout(kept->session, INTERNET_OPTION_CONNECT_TIMEOUT, 30000);
    set_timeout(kept->session, INTERNET_OPTION_SEND_TIMEOUT, 30000);
    set_timeout(kept->session, INTERNET_OPTION_RECEIVE_TIMEOUT, HTTPSEM_SILENCE_MS);
    if (!(kept->connection = InternetConnectW(kept->session, origin->host, origin->port, NULL, NULL,
                                              INTERNET_SERVICE_HTTP, 0, 0)))
        return inet_failure(ctx, GetLastError());
    return S_OK;
}

/* The session and connection for the fetch: the thread's kept ones when they were opened for
 * the same key, else new ones (and what was kept is closed). */
/* New session and connection handles for `origin`, under `key` (which they take). */
static HRESULT new_kept(struct transfer_ctx *ctx, const struct http_origin *origin, WCHAR *key,
                        struct kept **out)
{
    struct kept *kept;
    HRESULT hr;

    *out = NULL;
    if (!(kept = heap_alloc_zero(sizeof(*kept))))
    {
        free_str(key);
        return E_OUTOFMEMORY;
    }
    kept->key = key;
    kept->refs = 1;
    if (FAILED(hr = open_kept(ctx, origin, kept)))
    {
        kept_drop(kept);
        return hr;
    }
    *out = kept;
    return S_OK;
}

static HRESULT take_kept(struct transfer_ctx *ctx, const struct http_origin *origin,
                         struct kept **out)
{
    struct kept *kept = ctx->cache ? ctx->cache->wininet : NULL;
    struct proxy_choice direct = {PROXY_DIRECT};
    WCHAR *key;

    *out = NULL;
    if (!(key = httpsem_cache_key(origin, &direct, ctx->options.security_flags)))
        return E_OUTOFMEMORY;
    if (kept && !kept->tainted && !wcscmp(kept->key, key))
    {
        free_str(key);
        ctx->cache->wininet = NULL;
        *out = kept;
        return S_OK;
    }
    if (ctx->cache)
        inet_cache_clear(ctx->cache);
    return new_kept(ctx, origin, key, out);
}

static HRESULT renew_kept(struct transfer_ctx *ctx, struct target *target)
{
    struct kept *fresh;
    WCHAR *key;
    HRESULT hr;

    if (!(key = heap_strdup(target->kept->key)))
        return E_OUTOFMEMORY;
    if (FAILED(hr = new_kept(ctx, target->origin, key, &fresh)))
        return hr;
    kept_drop(target->kept);
    target->kept = fresh;
    return S_OK;
}

HRESULT inet_fetch(struct transfer_ctx *ctx, const WCHAR *url)
{
    struct http_origin origin;
    struct kept *kept = NULL;
    HRESULT hr;

    if (FAILED(hr = httpsem_crack(url, &origin)))
        return httpsem_remote_failure(ctx, hr, FALSE);
    if (SUCCEEDED(hr = take_kept(ctx, &origin, &kept)))
    {
        struct target target = {kept, &origin};
        hr = httpsem_fetch(ctx, fetch_once, &target);
        /* Tainted handles were replaced meanwhile (renew_kept). */
        kept = target.kept;
    }
    if (kept && !kept->tainted && ctx->cache && !ctx->cache->wininet &&
        httpsem_may_keep(&ctx->options))
        ctx->cache->wininet = kept;
    else
        kept_drop(kept);
    return hr;
}
