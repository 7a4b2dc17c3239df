/* SPDX-License-Identifier: MIT */
/* The COM job object, shared by the files that implement its interfaces:
 * job.c (the object, IUnknown, IBackgroundCopyJob), job_ext.c (IBackgroundCopyJob2 to 5),
 * job_http.c (IBackgroundCopyJobHttpOptions), job_do.c (IDeliveryOptimizationJob/2). */
#ifndef OPENDO_JOB_H
#define OPENDO_JOB_H

#include "engine/engine.h"
#include "private.h"

#define MAX_DISPLAY_NAME 256
#define MAX_DESCRIPTION 1024
#define MIN_RETRY_DELAY 5

struct job
{
    IBackgroundCopyJob5 IBackgroundCopyJob5_iface;
    IBackgroundCopyJobHttpOptions IBackgroundCopyJobHttpOptions_iface;
    IDeliveryOptimizationJob IDeliveryOptimizationJob_iface;
    IDeliveryOptimizationJob2 IDeliveryOptimizationJob2_iface;
    LONG refs;
    IUnknown *ftm;
    enum dialect dialect;
    struct ejob *ejob;
};

static inline struct job *impl_from_IBackgroundCopyJob5(IBackgroundCopyJob5 *iface)
{
    return CONTAINING_RECORD(iface, struct job, IBackgroundCopyJob5_iface);
}

static inline struct job *
impl_from_IBackgroundCopyJobHttpOptions(IBackgroundCopyJobHttpOptions *iface)
{
    return CONTAINING_RECORD(iface, struct job, IBackgroundCopyJobHttpOptions_iface);
}

static inline struct job *impl_from_IDeliveryOptimizationJob(IDeliveryOptimizationJob *iface)
{
    return CONTAINING_RECORD(iface, struct job, IDeliveryOptimizationJob_iface);
}

static inline struct job *impl_from_IDeliveryOptimizationJob2(IDeliveryOptimizationJob2 *iface)
{
    return CONTAINING_RECORD(iface, struct job, IDeliveryOptimizationJob2_iface);
}

static inline HRESULT result(struct job *job, HRESULT hr)
{
    return dialect_result(job->dialect, hr);
}

/* Copies one value to the caller's out-pointer under the shared lock (E_INVALIDARG for NULL). */
#define LOCKED_GETTER(job, out, value)                                                             \
    do                                                                                             \
    {                                                                                              \
        if (!(out))                                                                                \
            return E_INVALIDARG;                                                                   \
        AcquireSRWLockShared(&(job)->ejob->lock);                                                  \
        *(out) = (value);                                                                          \
        ReleaseSRWLockShared(&(job)->ejob->lock);                                                  \
        return S_OK;                                                                               \
    } while (0)

/* Runs a setter body under the exclusive lock unless the job is final. */
#define LOCKED_SETTER(job, body)                                                                   \
    do                                                                                             \
    {                                                                                              \
        HRESULT hr_ = S_OK;                                                                        \
        AcquireSRWLockExclusive(&(job)->ejob->lock);                                               \
        if (ejob_is_final((job)->ejob))                                                            \
            hr_ = BG_E_INVALID_STATE;                                                              \
        else                                                                                       \
        {                                                                                          \
            body;                                                                                  \
            ejob_touch((job)->ejob);                                                               \
        }                                                                                          \
        ReleaseSRWLockExclusive(&(job)->ejob->lock);                                               \
        return result(job, hr_);                                                                   \
    } while (0)

/* The object's IUnknown, for the other interfaces to forward to. */
HRESULT job_query(struct job *job, REFIID riid, void **out);
ULONG job_addref(struct job *job);
ULONG job_release(struct job *job);

/* Copies a string field to the caller (CoTaskMemAlloc) under the shared lock. */
HRESULT job_get_string(struct job *job, WCHAR *const *field, LPWSTR *out);
/* Replaces a string field unless the job is final; BG_E_STRING_TOO_LONG above max_length. */
HRESULT job_set_string(struct job *job, WCHAR **field, const WCHAR *value, size_t max_length);

extern const IBackgroundCopyJobHttpOptionsVtbl job_http_options_vtbl;
extern const IDeliveryOptimizationJobVtbl job_do_vtbl;
extern const IDeliveryOptimizationJob2Vtbl job_do2_vtbl;

/* IBackgroundCopyJob2 to IBackgroundCopyJob5 (job_ext.c), for the vtable in job.c. */
HRESULT WINAPI job_SetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPCWSTR program,
                                    LPCWSTR parameters);
HRESULT WINAPI job_GetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPWSTR *program,
                                    LPWSTR *parameters);
HRESULT WINAPI job_GetReplyProgress(IBackgroundCopyJob5 *iface, BG_JOB_REPLY_PROGRESS *progress);
HRESULT WINAPI job_GetReplyData(IBackgroundCopyJob5 *iface, byte **buffer, UINT64 *length);
HRESULT WINAPI job_SetReplyFileName(IBackgroundCopyJob5 *iface, LPCWSTR name);
HRESULT WINAPI job_GetReplyFileName(IBackgroundCopyJob5 *iface, LPWSTR *name);
HRESULT WINAPI job_SetCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_CREDENTIALS *credentials);
HRESULT WINAPI job_RemoveCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_TARGET target,
                                     BG_AUTH_SCHEME scheme);
HRESULT WINAPI job_ReplaceRemotePrefix(IBackgroundCopyJob5 *iface, LPCWSTR old_prefix,
                                       LPCWSTR new_prefix);
HRESULT WINAPI job_AddFileWithRanges(IBackgroundCopyJob5 *iface, LPCWSTR remote, LPCWSTR local,
                                     DWORD count, BG_FILE_RANGE *ranges);
HRESULT WINAPI job_SetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD flags);
HRESULT WINAPI job_GetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD *flags);
HRESULT WINAPI job_SetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD flags);
HRESULT WINAPI job_GetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD *flags);
HRESULT WINAPI job_GetOwnerIntegrityLevel(IBackgroundCopyJob5 *iface, ULONG *level);
HRESULT WINAPI job_GetOwnerElevationState(IBackgroundCopyJob5 *iface, BOOL *elevated);
HRESULT WINAPI job_SetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG timeout);
HRESULT WINAPI job_GetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG *timeout);
HRESULT WINAPI job_SetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                               BITS_JOB_PROPERTY_VALUE value);
HRESULT WINAPI job_GetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                               BITS_JOB_PROPERTY_VALUE *value);

#endif /* OPENDO_JOB_H */
