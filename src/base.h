/* SPDX-License-Identifier: MIT */
/* What every layer of opendo.dll shares: module counts, logging and memory helpers. No COM
 * objects: the engine (src/engine/) includes this, never the COM layer's private.h. */
#ifndef OPENDO_BASE_H
#define OPENDO_BASE_H

#include <stdarg.h>
#include "opendo.h"
#include "opendo_version.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define OPENDO_USER_AGENT L"OpenDO/" OPENDO_VERSION_STRING

/* ---- module (base.c) ---- */

/* Counts one more live object, server lock, live job or pending request; DllCanUnloadNow
 * answers S_FALSE while any exist. */
void module_lock(void);
void module_unlock(void);
/* TRUE while module_lock has been called more often than module_unlock. */
BOOL module_in_use(void);
/* The module (DLL or, in engine tests, executable) this code was linked into. */
HMODULE module_handle(void);

/* ---- logging (log.c) ---- */

enum log_level
{
    LOG_ERR,
    LOG_WARN,
    LOG_FIXME,
    LOG_TRACE,
};

/* TRUE when messages of this level are written (OPENDO_DEBUG=err|warn|fixme|trace). */
BOOL log_enabled(enum log_level level);
/* Writes one message through OutputDebugStringA and, if OPENDO_LOG_FILE is set, to that file. */
void log_printf(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Printable forms for log arguments; the result lives in a small per-thread ring of buffers.
 * Logs never hold secrets: a password, a user name, a custom header's value is never passed
 * here (log that it is set, or its length), and a remote name goes through debugstr_url. */
const char *debugstr_w(const WCHAR *s);
/* A remote name (URL or path) without what may be a credential: the user information of
 * "scheme://user:password@host" becomes "***@" and every query value "***". */
const char *debugstr_url(const WCHAR *url);
const char *debugstr_guid(const GUID *g);

#define LOG_AT(level, ...)                                                                         \
    do                                                                                             \
    {                                                                                              \
        if (log_enabled(level))                                                                    \
            log_printf(level, __func__, __VA_ARGS__);                                              \
    } while (0)
#define TRACE(...) LOG_AT(LOG_TRACE, __VA_ARGS__)
#define FIXME(...) LOG_AT(LOG_FIXME, __VA_ARGS__)
#define WARN(...) LOG_AT(LOG_WARN, __VA_ARGS__)
#define ERR(...) LOG_AT(LOG_ERR, __VA_ARGS__)

/* ---- memory (base.c) ---- */

/* HeapAlloc'ed copy of s (NULL for NULL); free with free_str. */
WCHAR *heap_strdup(const WCHAR *s);
void free_str(WCHAR *s);
void *heap_alloc_zero(SIZE_T size);
void heap_free(void *p);
/* CoTaskMemAlloc'ed copy of s (NULL is copied as ""), for strings returned to clients. */
HRESULT cotask_strdup(const WCHAR *s, WCHAR **out);

/* One string to copy with cotask_strdup_locked: the field holding it, and where the copy goes. */
struct locked_string
{
    WCHAR *const *field; /* guarded by the lock; must stay at this address */
    WCHAR **out;
    BOOL keep_null; /* a NULL field gives NULL, not "" */
};
/* Copies strings that `lock` guards into CoTaskMemAlloc'ed ones (NULL is copied as "" unless
 * keep_null), all as
 * they stood at one moment, without allocating while the lock is held: their lengths are read
 * under the shared lock, the memory is allocated without it, and the copies are made under it
 * again (starting over if a string grew meanwhile); `also` (may be NULL) runs in that same lock
 * hold, to read other fields with the strings. On failure every *out is NULL. Caller holds no
 * lock. */
HRESULT cotask_strdup_locked(SRWLOCK *lock, const struct locked_string *strings, ULONG count,
                             void (*also)(void *context), void *context);

/* ---- the Global Interface Table (base.c) ---- */

/* The process's Global Interface Table. Fails with CO_E_NOTINITIALIZED on a thread that is in
 * no apartment. The caller releases it. */
HRESULT git_get(IGlobalInterfaceTable **git);
/* Revokes a registration from any thread: one that is in no apartment (a worker, a client's
 * plain thread) joins the multithreaded one for the call. 0 is ignored. */
void git_revoke(DWORD cookie);

#endif /* OPENDO_BASE_H */
