/* SPDX-License-Identifier: MIT */
/* Declarations shared by the COM layer of opendo.dll: module counts, logging, object constructors.
 */
#ifndef OPENDO_PRIVATE_H
#define OPENDO_PRIVATE_H

#include <stdarg.h>
#include "opendo.h"
#include "opendo_version.h"

struct ejob;

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define OPENDO_USER_AGENT L"OpenDO/" OPENDO_VERSION_STRING

/* ---- module (dllmain.c) ---- */

/* Counts one more live object or server lock; DllCanUnloadNow answers S_FALSE while any exist. */
void module_lock(void);
void module_unlock(void);
/* This DLL's module handle. */
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
/* Printable forms for log arguments; the result lives in a small per-thread ring of buffers. */
const char *debugstr_w(const WCHAR *s);
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

/* ---- COM helpers (comutil.c) ---- */

/* Answers QueryInterface(IID_IMarshal) through a free-threaded marshaler created on first use
 * and stored in *ftm (released by ftm_release). */
HRESULT ftm_query(IUnknown *outer, IUnknown **ftm, REFIID riid, void **out);
void ftm_release(IUnknown **ftm);
/* CoTaskMemAlloc'ed copy of s (NULL is copied as ""), for strings returned to clients. */
HRESULT cotask_strdup(const WCHAR *s, WCHAR **out);
/* HeapAlloc'ed copy of s (NULL for NULL); free with free_str. */
WCHAR *heap_strdup(const WCHAR *s);
void free_str(WCHAR *s);
void *heap_alloc_zero(SIZE_T size);
void heap_free(void *p);

/* ---- error descriptions (errordesc.c) ---- */

/* A CoTaskMemAlloc'ed description of code in langid (English when we have no such language):
 * our message table, HTTP statuses, then the system's messages.
 * HRESULT_FROM_WIN32(ERROR_MR_MID_NOT_FOUND) when nothing describes it. */
HRESULT errordesc_get(HRESULT code, DWORD langid, LPWSTR *out);
/* The same for an error context. E_INVALIDARG for an unknown context. */
HRESULT errordesc_context(BG_ERROR_CONTEXT context, DWORD langid, LPWSTR *out);

/* ---- dialects ---- */

/* Objects created through our own CLSID speak BITS; through CLSID_DeliveryOptimization, DO. */
enum dialect
{
    DIALECT_BITS,
    DIALECT_DO,
};

/* DO's no-progress timeout defaults (spec 10.4): an hour for foreground jobs, a day otherwise. */
static inline ULONG do_default_no_progress_timeout(BG_JOB_PRIORITY priority)
{
    return priority == BG_JOB_PRIORITY_FOREGROUND ? 3600 : 86400;
}

/* dialect.c: translates an engine (BITS) code into the dialect's code; success codes pass. */
HRESULT dialect_result(enum dialect dialect, HRESULT hr);

/* ---- COM objects ---- */

/* factory.c */
HRESULT factory_get_class_object(REFCLSID clsid, REFIID riid, void **out);
/* manager.c: creates a manager object (the class factory's constructor). */
HRESULT manager_create(enum dialect dialect, REFIID riid, void **out);
/* Removes a job that reached a final state from the process-wide job table. */
void manager_forget_job(const GUID *id);
/* job.c: wraps an engine job in a COM job object, AddRef'ed. */
HRESULT job_create(struct ejob *ejob, enum dialect dialect, IBackgroundCopyJob **out);
/* file.c: a COM file object for file `index` of the engine job (takes its own job reference),
 * answering in `dialect`. */
HRESULT file_create(struct ejob *ejob, ULONG index, enum dialect dialect,
                    IBackgroundCopyFile **out);
/* enum.c: enumerators over arrays of interface pointers; they AddRef each element. */
HRESULT enum_files_create(IBackgroundCopyFile **files, ULONG count, IEnumBackgroundCopyFiles **out);
HRESULT enum_jobs_create(IBackgroundCopyJob **jobs, ULONG count, IEnumBackgroundCopyJobs **out);
/* error.c: an error object that snapshots code and context; file_index is -1 for none. */
HRESULT error_create(struct ejob *ejob, enum dialect dialect, BG_ERROR_CONTEXT context,
                     HRESULT code, LONG file_index, IBackgroundCopyError **out);

#endif /* OPENDO_PRIVATE_H */
