/* SPDX-License-Identifier: MIT */
/* The COM job object: IBackgroundCopyJob to IBackgroundCopyJob5, IBackgroundCopyJobHttpOptions
 * and IDeliveryOptimizationJob/2 over one engine job. */

/*
 * A job object is a thin wrapper: it checks arguments, takes the engine job's lock for the
 * few fields it reads or writes, calls one engine function for anything that changes state,
 * and translates the engine's BITS code into its dialect. Every interface shares one
 * reference count; the object holds one reference to the engine job. Several job objects
 * may wrap the same engine job (GetJob, EnumJobs), one per dialect and call.
 */

#include "engine/engine.h"

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

static inline struct job *impl_from_IBackgroundCopyJobHttpOptions(IBackgroundCopyJobHttpOptions *iface)
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

static HRESULT result(struct job *job, HRESULT hr)
{
    return dialect_result(job->dialect, hr);
}

/* Runs a setter body under the exclusive lock unless the job is final. */
#define LOCKED_SETTER(job, body) \
    do \
    { \
        HRESULT hr_ = S_OK; \
        AcquireSRWLockExclusive(&(job)->ejob->lock); \
        if (ejob_is_final((job)->ejob)) \
            hr_ = BG_E_INVALID_STATE; \
        else \
        { \
            body; \
            ejob_touch((job)->ejob); \
        } \
        ReleaseSRWLockExclusive(&(job)->ejob->lock); \
        return result(job, hr_); \
    } while (0)

/* ---- IUnknown ---- */

static HRESULT WINAPI job_QueryInterface(IBackgroundCopyJob5 *iface, REFIID riid, void **out)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %s %p", iface, debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyJob) ||
        IsEqualIID(riid, &IID_IBackgroundCopyJob2) || IsEqualIID(riid, &IID_IBackgroundCopyJob3) ||
        IsEqualIID(riid, &IID_IBackgroundCopyJob4) || IsEqualIID(riid, &IID_IBackgroundCopyJob5))
        *out = &job->IBackgroundCopyJob5_iface;
    else if (IsEqualIID(riid, &IID_IBackgroundCopyJobHttpOptions))
        *out = &job->IBackgroundCopyJobHttpOptions_iface;
    else if (IsEqualIID(riid, &IID_IDeliveryOptimizationJob))
        *out = &job->IDeliveryOptimizationJob_iface;
    else if (IsEqualIID(riid, &IID_IDeliveryOptimizationJob2))
        *out = &job->IDeliveryOptimizationJob2_iface;
    else if (IsEqualIID(riid, &IID_IMarshal))
        return ftm_query((IUnknown *)&job->IBackgroundCopyJob5_iface, &job->ftm, riid, out);
    else
    {
        *out = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
}

static ULONG WINAPI job_AddRef(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    return InterlockedIncrement(&job->refs);
}

static ULONG WINAPI job_Release(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    ULONG refs = InterlockedDecrement(&job->refs);

    if (!refs)
    {
        ftm_release(&job->ftm);
        ejob_release(job->ejob);
        heap_free(job);
        module_unlock();
    }
    return refs;
}

/* ---- IBackgroundCopyJob ---- */

static HRESULT WINAPI job_AddFileSet(IBackgroundCopyJob5 *iface, ULONG count, BG_FILE_INFO *files)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %lu %p", iface, count, files);
    if (!count || !files)
        return E_INVALIDARG;
    return result(job, ejob_add_files(job->ejob, count, files));
}

static HRESULT WINAPI job_AddFile(IBackgroundCopyJob5 *iface, LPCWSTR remote, LPCWSTR local)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    BG_FILE_INFO info = {(WCHAR *)remote, (WCHAR *)local};

    TRACE("%p %s %s", iface, debugstr_w(remote), debugstr_w(local));
    if (!remote || !local)
        return E_INVALIDARG;
    return result(job, ejob_add_files(job->ejob, 1, &info));
}

static HRESULT WINAPI job_EnumFiles(IBackgroundCopyJob5 *iface, IEnumBackgroundCopyFiles **out)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    IBackgroundCopyFile **files = NULL;
    ULONG count, made = 0;
    HRESULT hr = S_OK;

    TRACE("%p %p", iface, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    /* Files are only ever appended: the first `count` stay valid after the lock is gone. */
    AcquireSRWLockShared(&job->ejob->lock);
    count = job->ejob->file_count;
    ReleaseSRWLockShared(&job->ejob->lock);
    if (count && !(files = heap_alloc_zero(count * sizeof(*files))))
        return E_OUTOFMEMORY;
    for (; made < count && SUCCEEDED(hr); made++)
        hr = file_create(job->ejob, made, &files[made]);
    if (SUCCEEDED(hr))
        hr = enum_files_create(files, count, out);
    for (ULONG i = 0; i < count; i++)
    {
        if (files[i])
            IBackgroundCopyFile_Release(files[i]);
    }
    heap_free(files);
    return hr;
}

static HRESULT WINAPI job_Suspend(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p", iface);
    return result(job, ejob_suspend(job->ejob));
}

static HRESULT WINAPI job_Resume(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p", iface);
    return result(job, ejob_resume(job->ejob));
}

static HRESULT WINAPI job_Cancel(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("%p", iface);
    if (SUCCEEDED(hr = ejob_cancel(job->ejob)))
        manager_forget_job(&job->ejob->id);
    return result(job, hr);
}

static HRESULT WINAPI job_Complete(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("%p", iface);
    if (SUCCEEDED(hr = ejob_complete(job->ejob)))
        manager_forget_job(&job->ejob->id);
    return result(job, hr);
}

static HRESULT WINAPI job_GetId(IBackgroundCopyJob5 *iface, GUID *id)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, id);
    if (!id)
        return E_INVALIDARG;
    *id = job->ejob->id;
    return S_OK;
}

static HRESULT WINAPI job_GetType(IBackgroundCopyJob5 *iface, BG_JOB_TYPE *type)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, type);
    if (!type)
        return E_INVALIDARG;
    *type = job->ejob->type;
    return S_OK;
}

static HRESULT WINAPI job_GetProgress(IBackgroundCopyJob5 *iface, BG_JOB_PROGRESS *progress)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, progress);
    if (!progress)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    *progress = job->ejob->progress;
    ReleaseSRWLockShared(&job->ejob->lock);
    return S_OK;
}

static HRESULT WINAPI job_GetTimes(IBackgroundCopyJob5 *iface, BG_JOB_TIMES *times)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, times);
    if (!times)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    *times = job->ejob->times;
    ReleaseSRWLockShared(&job->ejob->lock);
    return S_OK;
}

static HRESULT WINAPI job_GetState(IBackgroundCopyJob5 *iface, BG_JOB_STATE *state)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, state);
    if (!state)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    *state = job->ejob->state;
    ReleaseSRWLockShared(&job->ejob->lock);
    /* DO never reports CONNECTING; the engine does not produce it either. */
    return S_OK;
}

static HRESULT WINAPI job_GetError(IBackgroundCopyJob5 *iface, IBackgroundCopyError **out)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    BG_ERROR_CONTEXT context;
    LONG file_index;
    BOOL present;
    HRESULT code;

    TRACE("%p %p", iface, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    AcquireSRWLockShared(&job->ejob->lock);
    /* The last failure is the job's current error only while the job is stuck on it (spec
     * 10.3/10.5): a suspended, re-queued or final job has none, although the record stays. */
    present = job->ejob->error.present && (job->ejob->state == BG_JOB_STATE_ERROR ||
                                           job->ejob->state == BG_JOB_STATE_TRANSIENT_ERROR);
    context = job->ejob->error.context;
    code = job->ejob->error.code;
    file_index = job->ejob->error.file_index;
    ReleaseSRWLockShared(&job->ejob->lock);
    if (!present)
        return result(job, BG_E_ERROR_INFORMATION_UNAVAILABLE);
    return error_create(job->ejob, job->dialect, context, code, file_index, out);
}

static HRESULT WINAPI job_GetOwner(IBackgroundCopyJob5 *iface, LPWSTR *owner)
{
    FIXME("%p %p: not implemented yet", iface, owner);
    return E_NOTIMPL;
}

static HRESULT get_string(struct job *job, WCHAR *const *field, LPWSTR *out)
{
    HRESULT hr;

    if (!out)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    hr = cotask_strdup(*field, out);
    ReleaseSRWLockShared(&job->ejob->lock);
    return hr;
}

static HRESULT set_string(struct job *job, WCHAR **field, const WCHAR *value, size_t max_length)
{
    WCHAR *copy, *old = NULL;
    BOOL final;

    if (!value)
        return E_INVALIDARG;
    if (wcslen(value) > max_length)
        return result(job, BG_E_STRING_TOO_LONG);
    if (!(copy = heap_strdup(value)))
        return E_OUTOFMEMORY;
    AcquireSRWLockExclusive(&job->ejob->lock);
    if (!(final = ejob_is_final(job->ejob)))
    {
        old = *field;
        *field = copy;
        copy = NULL;
        ejob_touch(job->ejob);
    }
    ReleaseSRWLockExclusive(&job->ejob->lock);
    free_str(old);
    free_str(copy);
    return final ? result(job, BG_E_INVALID_STATE) : S_OK;
}

static HRESULT WINAPI job_SetDisplayName(IBackgroundCopyJob5 *iface, LPCWSTR name)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %s", iface, debugstr_w(name));
    if (name && wcslen(name) > MAX_DISPLAY_NAME)
        return E_INVALIDARG;
    return set_string(job, &job->ejob->display_name, name, MAX_DISPLAY_NAME);
}

static HRESULT WINAPI job_GetDisplayName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, name);
    return get_string(job, &job->ejob->display_name, name);
}

static HRESULT WINAPI job_SetDescription(IBackgroundCopyJob5 *iface, LPCWSTR description)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %s", iface, debugstr_w(description));
    return set_string(job, &job->ejob->description, description, MAX_DESCRIPTION);
}

static HRESULT WINAPI job_GetDescription(IBackgroundCopyJob5 *iface, LPWSTR *description)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, description);
    return get_string(job, &job->ejob->description, description);
}

static HRESULT WINAPI job_SetPriority(IBackgroundCopyJob5 *iface, BG_JOB_PRIORITY priority)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %d", iface, priority);
    if ((unsigned int)priority > BG_JOB_PRIORITY_LOW)
        return E_NOTIMPL;
    LOCKED_SETTER(job, job->ejob->priority = priority);
}

static HRESULT WINAPI job_GetPriority(IBackgroundCopyJob5 *iface, BG_JOB_PRIORITY *priority)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, priority);
    if (!priority)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    *priority = job->ejob->priority;
    ReleaseSRWLockShared(&job->ejob->lock);
    return S_OK;
}

#define ALL_NOTIFY_FLAGS \
    (BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR | BG_NOTIFY_DISABLE | \
     BG_NOTIFY_JOB_MODIFICATION | BG_NOTIFY_FILE_TRANSFERRED | BG_NOTIFY_FILE_RANGES_TRANSFERRED)

static HRESULT WINAPI job_SetNotifyFlags(IBackgroundCopyJob5 *iface, ULONG flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %#lx", iface, flags);
    if (flags & ~ALL_NOTIFY_FLAGS)
        return E_NOTIMPL;
    LOCKED_SETTER(job, job->ejob->notify_flags = flags);
}

static HRESULT WINAPI job_GetNotifyFlags(IBackgroundCopyJob5 *iface, ULONG *flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, flags);
    if (!flags)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    *flags = job->ejob->notify_flags;
    ReleaseSRWLockShared(&job->ejob->lock);
    return S_OK;
}

static HRESULT WINAPI job_SetNotifyInterface(IBackgroundCopyJob5 *iface, IUnknown *callback)
{
    FIXME("%p %p: callbacks are not delivered yet", iface, callback);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetNotifyInterface(IBackgroundCopyJob5 *iface, IUnknown **callback)
{
    FIXME("%p %p: callbacks are not delivered yet", iface, callback);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_SetMinimumRetryDelay(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %lu", iface, seconds);
    LOCKED_SETTER(job, job->ejob->min_retry_delay = max(seconds, MIN_RETRY_DELAY));
}

static HRESULT WINAPI job_GetMinimumRetryDelay(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, seconds);
    if (!seconds)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    *seconds = job->ejob->min_retry_delay;
    ReleaseSRWLockShared(&job->ejob->lock);
    return S_OK;
}

static HRESULT WINAPI job_SetNoProgressTimeout(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %lu", iface, seconds);
    LOCKED_SETTER(job, job->ejob->no_progress_timeout = seconds);
}

static HRESULT WINAPI job_GetNoProgressTimeout(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, seconds);
    if (!seconds)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    *seconds = job->ejob->no_progress_timeout;
    ReleaseSRWLockShared(&job->ejob->lock);
    return S_OK;
}

static HRESULT WINAPI job_GetErrorCount(IBackgroundCopyJob5 *iface, ULONG *errors)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, errors);
    if (!errors)
        return E_INVALIDARG;
    AcquireSRWLockShared(&job->ejob->lock);
    *errors = job->ejob->error_count;
    ReleaseSRWLockShared(&job->ejob->lock);
    return S_OK;
}

static HRESULT WINAPI job_SetProxySettings(IBackgroundCopyJob5 *iface, BG_JOB_PROXY_USAGE usage,
                                           const WCHAR *list, const WCHAR *bypass)
{
    FIXME("%p %d %s %s: not implemented yet", iface, usage, debugstr_w(list), debugstr_w(bypass));
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetProxySettings(IBackgroundCopyJob5 *iface, BG_JOB_PROXY_USAGE *usage,
                                           LPWSTR *list, LPWSTR *bypass)
{
    FIXME("%p %p %p %p: not implemented yet", iface, usage, list, bypass);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_TakeOwnership(IBackgroundCopyJob5 *iface)
{
    FIXME("%p: not implemented yet", iface);
    return E_NOTIMPL;
}

/* ---- IBackgroundCopyJob2 ---- */

static HRESULT WINAPI job_SetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPCWSTR program,
                                           LPCWSTR parameters)
{
    FIXME("%p %s %s: not implemented yet", iface, debugstr_w(program), debugstr_w(parameters));
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPWSTR *program,
                                           LPWSTR *parameters)
{
    FIXME("%p %p %p: not implemented yet", iface, program, parameters);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetReplyProgress(IBackgroundCopyJob5 *iface,
                                           BG_JOB_REPLY_PROGRESS *progress)
{
    FIXME("%p %p: not implemented yet", iface, progress);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetReplyData(IBackgroundCopyJob5 *iface, byte **buffer, UINT64 *length)
{
    FIXME("%p %p %p: not implemented yet", iface, buffer, length);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_SetReplyFileName(IBackgroundCopyJob5 *iface, LPCWSTR name)
{
    FIXME("%p %s: not implemented yet", iface, debugstr_w(name));
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetReplyFileName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    FIXME("%p %p: not implemented yet", iface, name);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_SetCredentials(IBackgroundCopyJob5 *iface,
                                         BG_AUTH_CREDENTIALS *credentials)
{
    FIXME("%p %p: not implemented yet", iface, credentials);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_RemoveCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_TARGET target,
                                            BG_AUTH_SCHEME scheme)
{
    FIXME("%p %d %d: not implemented yet", iface, target, scheme);
    return E_NOTIMPL;
}

/* ---- IBackgroundCopyJob3 ---- */

static HRESULT WINAPI job_ReplaceRemotePrefix(IBackgroundCopyJob5 *iface, LPCWSTR old_prefix,
                                              LPCWSTR new_prefix)
{
    FIXME("%p %s %s: not implemented yet", iface, debugstr_w(old_prefix), debugstr_w(new_prefix));
    return E_NOTIMPL;
}

static HRESULT WINAPI job_AddFileWithRanges(IBackgroundCopyJob5 *iface, LPCWSTR remote,
                                            LPCWSTR local, DWORD count, BG_FILE_RANGE *ranges)
{
    FIXME("%p %s %s %lu %p: not implemented yet", iface, debugstr_w(remote), debugstr_w(local),
          count, ranges);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_SetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    FIXME("%p %#lx: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    FIXME("%p %p: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

/* ---- IBackgroundCopyJob4 ---- */

static HRESULT WINAPI job_SetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    FIXME("%p %#lx: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    FIXME("%p %p: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetOwnerIntegrityLevel(IBackgroundCopyJob5 *iface, ULONG *level)
{
    FIXME("%p %p: not implemented yet", iface, level);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetOwnerElevationState(IBackgroundCopyJob5 *iface, BOOL *elevated)
{
    FIXME("%p %p: not implemented yet", iface, elevated);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_SetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG timeout)
{
    FIXME("%p %lu: not implemented yet", iface, timeout);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG *timeout)
{
    FIXME("%p %p: not implemented yet", iface, timeout);
    return E_NOTIMPL;
}

/* ---- IBackgroundCopyJob5 ---- */

static HRESULT WINAPI job_SetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                                      BITS_JOB_PROPERTY_VALUE value)
{
    FIXME("%p %d: not implemented yet", iface, id);
    return E_NOTIMPL;
}

static HRESULT WINAPI job_GetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                                      BITS_JOB_PROPERTY_VALUE *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

static const IBackgroundCopyJob5Vtbl job_vtbl = {
    job_QueryInterface,
    job_AddRef,
    job_Release,
    job_AddFileSet,
    job_AddFile,
    job_EnumFiles,
    job_Suspend,
    job_Resume,
    job_Cancel,
    job_Complete,
    job_GetId,
    job_GetType,
    job_GetProgress,
    job_GetTimes,
    job_GetState,
    job_GetError,
    job_GetOwner,
    job_SetDisplayName,
    job_GetDisplayName,
    job_SetDescription,
    job_GetDescription,
    job_SetPriority,
    job_GetPriority,
    job_SetNotifyFlags,
    job_GetNotifyFlags,
    job_SetNotifyInterface,
    job_GetNotifyInterface,
    job_SetMinimumRetryDelay,
    job_GetMinimumRetryDelay,
    job_SetNoProgressTimeout,
    job_GetNoProgressTimeout,
    job_GetErrorCount,
    job_SetProxySettings,
    job_GetProxySettings,
    job_TakeOwnership,
    job_SetNotifyCmdLine,
    job_GetNotifyCmdLine,
    job_GetReplyProgress,
    job_GetReplyData,
    job_SetReplyFileName,
    job_GetReplyFileName,
    job_SetCredentials,
    job_RemoveCredentials,
    job_ReplaceRemotePrefix,
    job_AddFileWithRanges,
    job_SetFileACLFlags,
    job_GetFileACLFlags,
    job_SetPeerCachingFlags,
    job_GetPeerCachingFlags,
    job_GetOwnerIntegrityLevel,
    job_GetOwnerElevationState,
    job_SetMaximumDownloadTime,
    job_GetMaximumDownloadTime,
    job_SetProperty,
    job_GetProperty,
};

/* ---- IBackgroundCopyJobHttpOptions ---- */

static HRESULT WINAPI http_options_QueryInterface(IBackgroundCopyJobHttpOptions *iface,
                                                  REFIID riid, void **out)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return job_QueryInterface(&job->IBackgroundCopyJob5_iface, riid, out);
}

static ULONG WINAPI http_options_AddRef(IBackgroundCopyJobHttpOptions *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return job_AddRef(&job->IBackgroundCopyJob5_iface);
}

static ULONG WINAPI http_options_Release(IBackgroundCopyJobHttpOptions *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return job_Release(&job->IBackgroundCopyJob5_iface);
}

static HRESULT WINAPI http_options_SetClientCertificateByID(IBackgroundCopyJobHttpOptions *iface,
                                                            BG_CERT_STORE_LOCATION location,
                                                            LPCWSTR store, BYTE *hash)
{
    FIXME("%p %d %s %p: not implemented yet", iface, location, debugstr_w(store), hash);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_SetClientCertificateByName(IBackgroundCopyJobHttpOptions *iface,
                                                              BG_CERT_STORE_LOCATION location,
                                                              LPCWSTR store, LPCWSTR subject)
{
    FIXME("%p %d %s %s: not implemented yet", iface, location, debugstr_w(store),
          debugstr_w(subject));
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_RemoveClientCertificate(IBackgroundCopyJobHttpOptions *iface)
{
    FIXME("%p: not implemented yet", iface);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_GetClientCertificate(IBackgroundCopyJobHttpOptions *iface,
                                                        BG_CERT_STORE_LOCATION *location,
                                                        LPWSTR *store, BYTE **hash,
                                                        LPWSTR *subject)
{
    FIXME("%p %p %p %p %p: not implemented yet", iface, location, store, hash, subject);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_SetCustomHeaders(IBackgroundCopyJobHttpOptions *iface,
                                                    LPCWSTR headers)
{
    FIXME("%p %s: not implemented yet", iface, debugstr_w(headers));
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_GetCustomHeaders(IBackgroundCopyJobHttpOptions *iface,
                                                    LPWSTR *headers)
{
    FIXME("%p %p: not implemented yet", iface, headers);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_SetSecurityFlags(IBackgroundCopyJobHttpOptions *iface,
                                                    ULONG flags)
{
    FIXME("%p %#lx: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_GetSecurityFlags(IBackgroundCopyJobHttpOptions *iface,
                                                    ULONG *flags)
{
    FIXME("%p %p: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

static const IBackgroundCopyJobHttpOptionsVtbl http_options_vtbl = {
    http_options_QueryInterface,
    http_options_AddRef,
    http_options_Release,
    http_options_SetClientCertificateByID,
    http_options_SetClientCertificateByName,
    http_options_RemoveClientCertificate,
    http_options_GetClientCertificate,
    http_options_SetCustomHeaders,
    http_options_GetCustomHeaders,
    http_options_SetSecurityFlags,
    http_options_GetSecurityFlags,
};

/* ---- IDeliveryOptimizationJob ---- */

static HRESULT WINAPI do_job_QueryInterface(IDeliveryOptimizationJob *iface, REFIID riid,
                                            void **out)
{
    struct job *job = impl_from_IDeliveryOptimizationJob(iface);
    return job_QueryInterface(&job->IBackgroundCopyJob5_iface, riid, out);
}

static ULONG WINAPI do_job_AddRef(IDeliveryOptimizationJob *iface)
{
    struct job *job = impl_from_IDeliveryOptimizationJob(iface);
    return job_AddRef(&job->IBackgroundCopyJob5_iface);
}

static ULONG WINAPI do_job_Release(IDeliveryOptimizationJob *iface)
{
    struct job *job = impl_from_IDeliveryOptimizationJob(iface);
    return job_Release(&job->IBackgroundCopyJob5_iface);
}

static HRESULT WINAPI do_job_AddFileWithRanges(IDeliveryOptimizationJob *iface, LPCWSTR file_id,
                                               LPCWSTR remote, LPCWSTR local, DWORD count,
                                               BG_FILE_RANGE *ranges, UINT64 size)
{
    FIXME("%p %s %s %s %lu %p: not implemented yet", iface, debugstr_w(file_id),
          debugstr_w(remote), debugstr_w(local), count, ranges);
    return E_NOTIMPL;
}

static const IDeliveryOptimizationJobVtbl do_job_vtbl = {
    do_job_QueryInterface,
    do_job_AddRef,
    do_job_Release,
    do_job_AddFileWithRanges,
};

/* ---- IDeliveryOptimizationJob2 ---- */

static HRESULT WINAPI do_job2_QueryInterface(IDeliveryOptimizationJob2 *iface, REFIID riid,
                                             void **out)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);
    return job_QueryInterface(&job->IBackgroundCopyJob5_iface, riid, out);
}

static ULONG WINAPI do_job2_AddRef(IDeliveryOptimizationJob2 *iface)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);
    return job_AddRef(&job->IBackgroundCopyJob5_iface);
}

static ULONG WINAPI do_job2_Release(IDeliveryOptimizationJob2 *iface)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);
    return job_Release(&job->IBackgroundCopyJob5_iface);
}

static HRESULT WINAPI do_job2_AddFile(IDeliveryOptimizationJob2 *iface, LPCWSTR file_id,
                                      LPCWSTR remote, DWORD count, BG_FILE_RANGE *ranges,
                                      REFIID riid, void **out)
{
    FIXME("%p %s %s %lu %p %s %p: not implemented yet", iface, debugstr_w(file_id),
          debugstr_w(remote), count, ranges, debugstr_guid(riid), out);
    return E_NOTIMPL;
}

static HRESULT WINAPI do_job2_GetProperty(IDeliveryOptimizationJob2 *iface, DOJobPropertyId id,
                                          VARIANT *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

static HRESULT WINAPI do_job2_SetProperty(IDeliveryOptimizationJob2 *iface, DOJobPropertyId id,
                                          const VARIANT *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

static const IDeliveryOptimizationJob2Vtbl do_job2_vtbl = {
    do_job2_QueryInterface,
    do_job2_AddRef,
    do_job2_Release,
    do_job2_AddFile,
    do_job2_GetProperty,
    do_job2_SetProperty,
};

HRESULT job_create(struct ejob *ejob, enum dialect dialect, IBackgroundCopyJob **out)
{
    struct job *job;

    if (!(job = heap_alloc_zero(sizeof(*job))))
        return E_OUTOFMEMORY;
    job->IBackgroundCopyJob5_iface.lpVtbl = &job_vtbl;
    job->IBackgroundCopyJobHttpOptions_iface.lpVtbl = &http_options_vtbl;
    job->IDeliveryOptimizationJob_iface.lpVtbl = &do_job_vtbl;
    job->IDeliveryOptimizationJob2_iface.lpVtbl = &do_job2_vtbl;
    job->refs = 1;
    job->dialect = dialect;
    job->ejob = ejob;
    ejob_addref(ejob);
    module_lock();
    *out = (IBackgroundCopyJob *)&job->IBackgroundCopyJob5_iface;
    return S_OK;
}
