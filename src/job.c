/* SPDX-License-Identifier: MIT */
/* The COM job object over one engine job: its lifetime, IUnknown and IBackgroundCopyJob. The
 * other interfaces live in job_ext.c, job_http.c and job_do.c (see job.h). */

/*
 * A job object is a thin wrapper: it checks arguments, takes the engine job's lock for the
 * few fields it reads or writes, calls one engine function for anything that changes state,
 * and translates the engine's BITS code into its dialect. Every interface shares one
 * reference count; the object holds one reference to the engine job. Several job objects
 * may wrap the same engine job (GetJob, EnumJobs), one per dialect and call.
 */

#include "job.h"

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
        /* As for the manager, when it was the client's last object: the client may be about to
         * exit. (Not for every job: releasing the jobs of an enumeration would write every
         * change still queued for the store's next batch.) */
        object_unlock_flushing();
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

    TRACE("%p %s %s", iface, debugstr_url(remote), debugstr_w(local));
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
        hr = file_create(job->ejob, made, job->dialect, &files[made]);
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

    TRACE("%p", iface);
    return result(job, ejob_cancel(job->ejob));
}

static HRESULT WINAPI job_Complete(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p", iface);
    return result(job, ejob_complete(job->ejob));
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
    ejob_read_progress(job->ejob, progress);
    return S_OK;
}

static HRESULT WINAPI job_GetTimes(IBackgroundCopyJob5 *iface, BG_JOB_TIMES *times)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, times);
    LOCKED_GETTER(job, times, job->ejob->times);
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
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, owner);
    return job_get_string(job, &job->ejob->owner.sid, owner);
}
HRESULT job_get_string(struct job *job, WCHAR *const *field, LPWSTR *out)
{
    struct locked_string string = {field, out};

    if (!out)
        return E_INVALIDARG;
    return cotask_strdup_locked(&job->ejob->lock, &string, 1, NULL, NULL);
}

HRESULT job_set_string(struct job *job, WCHAR **field, const WCHAR *value, size_t max_length)
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
    return job_set_string(job, &job->ejob->display_name, name, MAX_DISPLAY_NAME);
}

static HRESULT WINAPI job_GetDisplayName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, name);
    return job_get_string(job, &job->ejob->display_name, name);
}

static HRESULT WINAPI job_SetDescription(IBackgroundCopyJob5 *iface, LPCWSTR description)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %s", iface, debugstr_w(description));
    return job_set_string(job, &job->ejob->description, description, MAX_DESCRIPTION);
}

static HRESULT WINAPI job_GetDescription(IBackgroundCopyJob5 *iface, LPWSTR *description)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, description);
    return job_get_string(job, &job->ejob->description, description);
}

static HRESULT WINAPI job_SetPriority(IBackgroundCopyJob5 *iface, BG_JOB_PRIORITY priority)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %d", iface, priority);
    if ((unsigned int)priority > BG_JOB_PRIORITY_LOW)
        return E_NOTIMPL;
    LOCKED_SETTER(job, {
        job->ejob->priority = priority;
        /* DO's default no-progress timeout follows the priority until the client sets one. */
        if (job->dialect == DIALECT_DO && !job->ejob->no_progress_timeout_set)
            job->ejob->no_progress_timeout = do_default_no_progress_timeout(priority);
        ejob_check_retry_window(job->ejob);
    });
}

static HRESULT WINAPI job_GetPriority(IBackgroundCopyJob5 *iface, BG_JOB_PRIORITY *priority)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, priority);
    LOCKED_GETTER(job, priority, job->ejob->priority);
}

#define ALL_NOTIFY_FLAGS                                                                           \
    (BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR | BG_NOTIFY_DISABLE |                         \
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
    LOCKED_GETTER(job, flags, job->ejob->notify_flags);
}

static HRESULT WINAPI job_SetNotifyInterface(IBackgroundCopyJob5 *iface, IUnknown *callback)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, callback);
    /* The callback's IBackgroundCopyJob argument speaks the dialect of this object. */
    return result(job, callback_register(job->ejob, callback, job->dialect));
}

static HRESULT WINAPI job_GetNotifyInterface(IBackgroundCopyJob5 *iface, IUnknown **callback)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, callback);
    if (!callback)
        return E_INVALIDARG;
    return callback_registered(job->ejob, callback);
}

static HRESULT WINAPI job_SetMinimumRetryDelay(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %lu", iface, seconds);
    LOCKED_SETTER(job, {
        job->ejob->min_retry_delay = max(seconds, MIN_RETRY_DELAY);
        /* A retry already queued follows the new delay. */
        ejob_check_retry_window(job->ejob);
    });
}

static HRESULT WINAPI job_GetMinimumRetryDelay(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, seconds);
    LOCKED_GETTER(job, seconds, job->ejob->min_retry_delay);
}

static HRESULT WINAPI job_SetNoProgressTimeout(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %lu", iface, seconds);
    LOCKED_SETTER(job, {
        job->ejob->no_progress_timeout = seconds;
        job->ejob->no_progress_timeout_set = TRUE;
        ejob_check_retry_window(job->ejob);
    });
}

static HRESULT WINAPI job_GetNoProgressTimeout(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, seconds);
    LOCKED_GETTER(job, seconds, job->ejob->no_progress_timeout);
}

static HRESULT WINAPI job_GetErrorCount(IBackgroundCopyJob5 *iface, ULONG *errors)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, errors);
    LOCKED_GETTER(job, errors, job->ejob->error_count);
}

/* BITS: a proxy list or bypass list may not exceed 32 KB; we read that as 32,768 characters
 * with the terminator. */
#define MAX_PROXY_LIST 32768

static HRESULT WINAPI job_SetProxySettings(IBackgroundCopyJob5 *iface, BG_JOB_PROXY_USAGE usage,
                                           const WCHAR *list, const WCHAR *bypass)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    WCHAR *new_list = NULL, *new_bypass = NULL;
    HRESULT hr = S_OK;

    TRACE("%p %d %s %s", iface, usage, debugstr_url(list), debugstr_w(bypass));
    if ((unsigned int)usage > BG_JOB_PROXY_USAGE_AUTODETECT)
        return E_NOTIMPL;
    /* The lists belong to OVERRIDE, which needs one. */
    if (usage == BG_JOB_PROXY_USAGE_OVERRIDE ? !list : list || bypass)
        return E_INVALIDARG;
    if (list && wcslen(list) >= MAX_PROXY_LIST)
        return result(job, BG_E_PROXY_LIST_TOO_LARGE);
    if (bypass && wcslen(bypass) >= MAX_PROXY_LIST)
        return result(job, BG_E_PROXY_BYPASS_LIST_TOO_LARGE);
    if ((list && !(new_list = heap_strdup(list))) ||
        (bypass && !(new_bypass = heap_strdup(bypass))))
    {
        free_str(new_list);
        return E_OUTOFMEMORY;
    }
    AcquireSRWLockExclusive(&job->ejob->lock);
    if (ejob_is_final(job->ejob))
        hr = BG_E_INVALID_STATE;
    else
    {
        struct ejob_options *options = &job->ejob->options;
        WCHAR *old;

        options->proxy_usage = usage;
        old = options->proxy_list;
        options->proxy_list = new_list;
        new_list = old;
        old = options->proxy_bypass;
        options->proxy_bypass = new_bypass;
        new_bypass = old;
        http_forget_proxy(job->ejob);
        ejob_touch(job->ejob);
    }
    ReleaseSRWLockExclusive(&job->ejob->lock);
    free_str(new_list);
    free_str(new_bypass);
    return result(job, hr);
}

struct proxy_usage_read
{
    const struct ejob *ejob;
    BG_JOB_PROXY_USAGE usage;
};

/* Reads the proxy usage in the lock hold that copies the lists. */
static void read_proxy_usage(void *context)
{
    struct proxy_usage_read *read = context;

    read->usage = read->ejob->options.proxy_usage;
}

static HRESULT WINAPI job_GetProxySettings(IBackgroundCopyJob5 *iface, BG_JOB_PROXY_USAGE *usage,
                                           LPWSTR *list, LPWSTR *bypass)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct locked_string strings[] = {
        {&job->ejob->options.proxy_list, list, TRUE},
        {&job->ejob->options.proxy_bypass, bypass, TRUE},
    };
    struct proxy_usage_read read = {job->ejob};
    HRESULT hr;

    TRACE("%p %p %p %p", iface, usage, list, bypass);
    if (!usage || !list || !bypass)
        return E_INVALIDARG;
    if (SUCCEEDED(hr = cotask_strdup_locked(&job->ejob->lock, strings, ARRAY_SIZE(strings),
                                            read_proxy_usage, &read)))
        *usage = read.usage;
    return hr;
}

static HRESULT WINAPI job_TakeOwnership(IBackgroundCopyJob5 *iface)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct owner caller, previous;
    BOOL final, same;
    HRESULT hr;

    TRACE("%p", iface);
    if (FAILED(hr = owner_of_caller(&caller)))
        return hr;
    AcquireSRWLockShared(&job->ejob->lock);
    same = !wcscmp(caller.sid, job->ejob->owner.sid);
    ReleaseSRWLockShared(&job->ejob->lock);
    /* Taking another user's job is for administrators only, as in BITS. */
    if (!same && !owner_caller_is_admin())
    {
        owner_clear(&caller);
        return E_ACCESSDENIED;
    }
    AcquireSRWLockExclusive(&job->ejob->lock);
    if (!(final = ejob_is_final(job->ejob)))
    {
        previous = job->ejob->owner;
        job->ejob->owner = caller;
        caller = previous;
        ejob_touch(job->ejob);
    }
    ReleaseSRWLockExclusive(&job->ejob->lock);
    owner_clear(&caller);
    return final ? result(job, BG_E_INVALID_STATE) : S_OK;
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

HRESULT job_query(struct job *job, REFIID riid, void **out)
{
    return job_QueryInterface(&job->IBackgroundCopyJob5_iface, riid, out);
}

ULONG job_addref(struct job *job)
{
    return job_AddRef(&job->IBackgroundCopyJob5_iface);
}

ULONG job_release(struct job *job)
{
    return job_Release(&job->IBackgroundCopyJob5_iface);
}

HRESULT job_create(struct ejob *ejob, enum dialect dialect, IBackgroundCopyJob **out)
{
    struct job *job;

    if (!(job = heap_alloc_zero(sizeof(*job))))
        return E_OUTOFMEMORY;
    job->IBackgroundCopyJob5_iface.lpVtbl = &job_vtbl;
    job->IBackgroundCopyJobHttpOptions_iface.lpVtbl = &job_http_options_vtbl;
    job->IDeliveryOptimizationJob_iface.lpVtbl = &job_do_vtbl;
    job->IDeliveryOptimizationJob2_iface.lpVtbl = &job_do2_vtbl;
    job->refs = 1;
    job->dialect = dialect;
    job->ejob = ejob;
    ejob_addref(ejob);
    object_lock();
    *out = (IBackgroundCopyJob *)&job->IBackgroundCopyJob5_iface;
    return S_OK;
}
