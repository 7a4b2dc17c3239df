/* SPDX-License-Identifier: MIT */
/* What both HTTP stacks decide alike: status to error, ranges, validators, proxies, redirects. */
#ifndef OPENDO_ENGINE_HTTPSEM_H
#define OPENDO_ENGINE_HTTPSEM_H

#include "engine/engine.h"
#include "core/ranges.h"

/*
 * The transports (http.c over WinHTTP, inet.c over WinINet) move bytes; everything they must
 * decide the same way lives here, written once: which answers are accepted, which errors may
 * pass by themselves, which bytes of an answer are stored. A transport describes the response
 * it holds with a struct http_answer (its status and a way to read one header), and reports
 * failures in WinHTTP's numbering (ERROR_WINHTTP_*), which is what BITS reports: inet.c
 * translates WinINet's few numbers of its own before it calls in.
 */

/* What the parts of a URL say, as the stacks crack it. */
struct http_origin
{
    BOOL https;
    WCHAR host[256];
    USHORT port;
    const WCHAR *path; /* the path and the query, terminated; "/" when the URL has none */
};

/* Longest proxy entry passed on ("host:port" after the scheme prefixes are gone). */
#define HTTPSEM_MAX_PROXY 512
/* How long the server may stay silent: connecting and sending, the headers, each read. The
 * job's no-progress window cuts every such wait shorter when it closes first. */
#define HTTPSEM_SILENCE_MS 60000
/* The most redirects one request follows, as WinHTTP's default. */
#define HTTPSEM_MAX_REDIRECTS 10

/* The headers the decisions read. */
enum http_header
{
    HEADER_CONTENT_RANGE,
    HEADER_CONTENT_LENGTH,
    HEADER_ETAG,
    HEADER_LAST_MODIFIED,
    HEADER_RETRY_AFTER,
    HEADER_LOCATION,
    HEADER_ACCEPT_RANGES,
};

/* A response as a transport holds it. */
struct http_answer
{
    DWORD status;
    /* Copies the header's (first) value into value (size in characters, with the 0); FALSE
     * when the response has no such header or it does not fit. */
    BOOL(*header)
    (const struct http_answer *answer, enum http_header which, WCHAR *value, DWORD size);
    void *request; /* the transport's request handle */
};

/* A transport failure (ERROR_WINHTTP_* numbering) as the job's error: context
 * GENERAL_TRANSPORT, transient unless it is one that waiting does not cure (a malformed URL,
 * certificate trouble). */
HRESULT httpsem_transport_failure(struct transfer_ctx *ctx, DWORD err);
/* An error of the remote file (context REMOTE_FILE). */
HRESULT httpsem_remote_failure(struct transfer_ctx *ctx, HRESULT hr, BOOL transient);
/* A failure of the job's own request setup: it will not go away by waiting. */
HRESULT httpsem_setup_failure(struct transfer_ctx *ctx, HRESULT hr);

/* One GET of a transport: the bytes from ctx->offset (to ctx->end for a segment), or for a file
 * with ranges (span not NULL) the bytes of `span`, of which *stored of the file are in. */
typedef HRESULT (*http_request_fn)(struct transfer_ctx *ctx, void *arg,
                                   const struct range_span *span, UINT64 *stored);
/* The requests of one fetch: for a file with ranges one per group of neighbouring ranges
 * (ranges_plan) from where the bytes we have end, else one for the file or the segment. A file
 * (not a segment) that changed on the server starts again, once. */
HRESULT httpsem_fetch(struct transfer_ctx *ctx, http_request_fn request, void *arg);

/* The SECURITY_FLAG_IGNORE_* bits (one numbering in both stacks) that the job's BG_SSL_IGNORE_*
 * flags ask for. */
DWORD httpsem_security_flags(ULONG flags);

/* The request headers that say where the fetch starts (CRLF-terminated lines, possibly none):
 * for a file with ranges the bytes of `span`; else for a segment (ctx->end set)
 * "Range: bytes=offset-(end-1)", for a resumed file "Range: bytes=offset-", each with
 * "If-Range: <validator>" when ctx->validator holds one. */
void httpsem_range_headers(const struct transfer_ctx *ctx, const struct range_span *span,
                           WCHAR *out, size_t size);

/* A 503 or 429 that says when to come back (Retry-After: seconds or an HTTP date) sets
 * ctx->retry_after_ms; anything else asks for nothing. */
void httpsem_note_retry_after(struct transfer_ctx *ctx, const struct http_answer *answer);

/* Decides what to do with the answer to a whole-file or segment request, before its body:
 * accepts it (S_OK: *expected_end is where its body ends in the file, BG_SIZE_UNKNOWN when
 * only the end of data tells) or fails as BITS does. A 200 to a resumed (not segment) request
 * restarts the file (transfer_restart); a 200 to a segment is BG_E_INSUFFICIENT_RANGE_SUPPORT
 * and stores nothing. Sets ctx->accepts_ranges, the validator and the size. */
HRESULT httpsem_start_body(struct transfer_ctx *ctx, const struct http_answer *answer,
                           UINT64 *expected_end);

/* The body of a whole-file or segment answer ended at `position` in the file: S_OK, the file's
 * size when only the end of data could tell it, or BG_E_CONNECTION_CLOSED (transient: the
 * bytes stay and are resumed) when it ended before expected_end. */
HRESULT httpsem_end_body(struct transfer_ctx *ctx, UINT64 position, UINT64 expected_end);

/* Decides about the answer to a request for `span` of a file with ranges, when `stored` of
 * the file's bytes are in: S_OK with the answer's first and last byte in the remote file, or
 * the failure. */
HRESULT httpsem_start_span(struct transfer_ctx *ctx, const struct http_answer *answer,
                           const struct range_span *span, UINT64 stored, UINT64 *first,
                           UINT64 *last);
/* Stores the bytes of a span's answer that the file's ranges want: `data` holds `size` bytes
 * starting at *pos in the remote file; *pos follows, and *stored counts the bytes stored.
 * S_OK, or what transfer_write answered other than S_OK (S_FALSE: stop reading). */
HRESULT httpsem_store_span(struct transfer_ctx *ctx, struct range_walk *walk, UINT64 *pos,
                           UINT64 *stored, const BYTE *data, DWORD size);

/* How a session reaches the server. */
enum proxy_kind
{
    PROXY_DEFAULT, /* the system's settings (WinHTTP's default proxy configuration) */
    PROXY_DIRECT,
    PROXY_NAMED, /* through `proxy`, except for the hosts of `bypass` */
};

struct proxy_choice
{
    enum proxy_kind kind;
    WCHAR proxy[HTTPSEM_MAX_PROXY]; /* "server:port" for PROXY_NAMED, else "" */
    WCHAR *bypass;                  /* semicolon-separated, HeapAlloc'ed, or NULL */
};

/* The job's proxy usage for a URL: PRECONFIG is PROXY_DEFAULT, NO_PROXY PROXY_DIRECT, OVERRIDE
 * the list's entry for the URL's scheme with the bypass list (BG_E_INVALID_PROXY_INFO, fatal,
 * when the list has none). AUTODETECT answers S_FALSE with PROXY_DIRECT: the caller detects.
 * The caller frees choice->bypass with free_str. */
HRESULT httpsem_choose_proxy(struct transfer_ctx *ctx, const struct http_origin *origin,
                             struct proxy_choice *choice);

/* Does WinHTTP's default proxy configuration (the registry's, or under Wine also the
 * http_proxy variable) connect directly? What BG_JOB_PROXY_USAGE_PRECONFIG means. Read at most
 * once every two seconds. */
BOOL httpsem_default_is_direct(void);

/* Picks the proxy for a URL of the given scheme (INTERNET_SCHEME_HTTP or _HTTPS) from a BITS
 * proxy list (space-delimited "[protocol=][protocol://]server[:port]" entries) as a plain
 * "server:port"; FALSE when nothing applies. */
BOOL httpsem_proxy_for_scheme(const WCHAR *list, BOOL https, WCHAR *out, size_t size);

/* Cracks an http(s) URL (host at most 255 characters); `path` points into `url`. */
HRESULT httpsem_crack(const WCHAR *url, struct http_origin *origin);
/* TRUE for a status that asks to go elsewhere (300-303, 307, 308). */
BOOL httpsem_is_redirect(DWORD status);
/* A redirect target as an absolute URL: as it is, or a path on `origin`'s server. */
BOOL httpsem_absolute_url(const WCHAR *location, const struct http_origin *origin, WCHAR *out,
                          size_t size);
/* Does `url` name another resource than `origin`? */
BOOL httpsem_moved(const WCHAR *url, const struct http_origin *origin);
/* Do two origins (with their paths) name different resources? */
BOOL httpsem_moved_origin(const struct http_origin *now, const struct http_origin *origin);
/* BG_HTTP_REDIRECT_POLICY_DISALLOW met a redirect: the job fails with HRESULT_FROM_WIN32(status)
 * and the file's remote name becomes where it pointed, as in BITS. */
HRESULT httpsem_refuse_redirect(struct transfer_ctx *ctx, const struct http_answer *answer,
                                const struct http_origin *origin);

/* What a kept session and connection (struct fetch_cache) are good for: the origin, the proxy
 * settings the session was opened with and the job's security flags, as a HeapAlloc'ed string
 * (free_str) that equals another only when a fetch may reuse them; NULL without memory. */
WCHAR *httpsem_cache_key(const struct http_origin *origin, const struct proxy_choice *proxy,
                         ULONG security_flags);
/* May a fetch with these options leave its connection to a later fetch (of any job)? Not when
 * the connection may carry the job's identity: credentials or a client certificate. */
BOOL httpsem_may_keep(const struct ejob_options *options);

/* Each transport's part of fetch_cache_clear: closes what it keeps in the cache and zeroes its
 * member (http.c: cache->winhttp, inet.c: cache->wininet). */
void http_cache_clear(struct fetch_cache *cache);
void inet_cache_clear(struct fetch_cache *cache);

#endif /* OPENDO_ENGINE_HTTPSEM_H */
