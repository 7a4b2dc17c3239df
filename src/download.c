/* SPDX-License-Identifier: MIT */
/* IDODownload, the modern DO API's download, and the delivery of IDODownloadStatusCallback. */

/*
 * A download is an engine job with one file, marked as a download (ejob.download.present) so
 * that IDOManager::EnumDownloads lists it and IBackgroundCopyManager::EnumJobs does not. Being a
 * job, it is in the job store like any other: it survives a crash, is seen by the user's other
 * processes and adopted by one of them when its owner ends. The properties without a BITS twin
 * live in ejob.download and are kept in the job's record; the others map onto the job (display
 * name, priority, no-progress timeout, custom headers).
 *
 * The file is added by the first Start, which is the first moment the ranges are known (the
 * engine's ranges are fixed when a file is added). Until then the URI and the local path are
 * kept in ejob.download, and a stream sink in the Global Interface Table.
 *
 * The DO states are read off the job (download_state): no file yet is Created; QUEUED and
 * TRANSFERRING are Transferring; TRANSFERRED is Transferred; ACKNOWLEDGED is Finalized; CANCELLED
 * is Aborted; SUSPENDED, ERROR and TRANSIENT_ERROR are Paused, with Error (ERROR) or
 * ExtendedError (TRANSIENT_ERROR, which the engine retries by itself) set as spec section 7 says.
 *
 * Status callbacks: one monitor thread per download with a registered callback, per process.
 * It looks at the status every MONITOR_TICK_MS (and at once when a method of this file changes
 * the state), calls OnStatusChange when the state or the errors change and, while transferring,
 * every CallbackFreqSeconds (default 1) or CallbackFreqPercent. It holds no lock while calling,
 * and calls through an agent made in the client's apartment (agent.c), so that a client in a
 * single-threaded apartment is called on its own thread, as BITS callbacks are. The monitor
 * ends after it delivered a final state, when the callback is cleared, or when the client is
 * gone (RPC_E_DISCONNECTED and its kin). It samples the status: two changes within one look
 * are reported as the last.
 */

#include "engine/engine.h"
#include "private.h"
#include "core/headers.h"
#include "core/url.h"

/* E_NOT_SET: a property that was never set (GetProperty). */
#define E_NOT_SET HRESULT_FROM_WIN32(ERROR_NOT_FOUND)
/* The last DODownloadProperty of the SDK header; 26-29 are newer and unknown here. */
#define LAST_PROPERTY DODownloadProperty_NonVolatile
#define MAX_DISPLAY_NAME 256
#define MAX_CUSTOM_HEADERS 16384
#define MIN_NO_PROGRESS_TIMEOUT 60
#define MONITOR_TICK_MS 100
#define BLOCKING_TICK_MS 50

struct download
{
    IDODownload IDODownload_iface;
    LONG refs;
    IUnknown *ftm;
    struct ejob *ejob;
};

static inline struct download *impl_from_IDODownload(IDODownload *iface)
{
    return CONTAINING_RECORD(iface, struct download, IDODownload_iface);
}

/* ---- status ---- */

/* The download's DO status, read off its job. */
static void download_status(struct ejob *job, DO_DOWNLOAD_STATUS *status)
{
    BG_JOB_STATE state;
    HRESULT code;
    BOOL error;

    memset(status, 0, sizeof(*status));
    AcquireSRWLockShared(&job->lock);
    state = job->state;
    error = job->error.present;
    code = job->error.code;
    status->BytesTransferred = job->progress.BytesTransferred;
    /* DO says 0 while the size is not known. */
    status->BytesTotal = job->progress.BytesTotal == BG_SIZE_UNKNOWN ? 0 : job->progress.BytesTotal;
    if (!job->file_count && !ejob_is_final(job))
        status->State = DODownloadState_Created;
    else if (state == BG_JOB_STATE_CANCELLED)
        status->State = DODownloadState_Aborted;
    else if (state == BG_JOB_STATE_ACKNOWLEDGED)
        status->State = DODownloadState_Finalized;
    else if (state == BG_JOB_STATE_TRANSFERRED)
        status->State = DODownloadState_Transferred;
    else if (state == BG_JOB_STATE_SUSPENDED || state == BG_JOB_STATE_ERROR ||
             state == BG_JOB_STATE_TRANSIENT_ERROR)
        status->State = DODownloadState_Paused;
    else
        status->State = DODownloadState_Transferring;
    ReleaseSRWLockShared(&job->lock);
    if (error && state == BG_JOB_STATE_ERROR)
        status->Error = dialect_result(DIALECT_DO, code);
    else if (error && state == BG_JOB_STATE_TRANSIENT_ERROR)
        status->ExtendedError = dialect_result(DIALECT_DO, code);
}

static BOOL state_is_final(DODownloadState state)
{
    return state == DODownloadState_Finalized || state == DODownloadState_Aborted;
}

/* ---- status callbacks ---- */

/*
 * As for BITS callbacks (callback.c), the client's callback is called from inside its own
 * apartment, through an agent (agent.c) made there at registration, with a download object made
 * there: no proxy of IDODownloadStatusCallback or IDODownload is needed in process. Only the
 * monitor thread posts work, one call at a time.
 */

/* What a status callback's agent works with. */
struct target
{
    IDODownloadStatusCallback *callback; /* immutable: the client's object, in its apartment */
    DWORD home;                          /* immutable: the thread of an STA client, else 0 */
    struct ejob *job;                    /* immutable; a reference */
};

/* agent_run_fn: in the client's apartment, `work` is the status. */
static HRESULT run_in_apartment(void *context, void *work)
{
    struct target *target = context;
    IDODownload *download;
    HRESULT hr;

    if (FAILED(hr = download_create(target->job, &download)))
        return hr;
    if (FAILED(hr = IDODownloadStatusCallback_OnStatusChange(target->callback, download, work)))
        TRACE("OnStatusChange returned %08lx", hr);
    IDODownload_Release(download);
    /* What the client answers is its own business, unless it is no longer there. */
    return client_gone(hr) ? hr : S_OK;
}

static void target_free(void *context)
{
    struct target *target = context;

    IDODownloadStatusCallback_Release(target->callback);
    ejob_release(target->job);
    heap_free(target);
}

struct monitor
{
    struct monitor *next; /* monitors_lock */
    struct ejob *job;     /* immutable; a reference */
    struct agent *agent;  /* monitors_lock: a reference, or NULL once the callback is cleared */
    DWORD cookie;         /* monitors_lock: the agent in the Global Interface Table, or 0 */
    HANDLE wake;          /* immutable: set to look at the status now */
};

static SRWLOCK monitors_lock = SRWLOCK_INIT;
static struct monitor *monitors; /* monitors_lock */

/* The monitor of `job`, or NULL. Caller holds monitors_lock. */
static struct monitor *find_monitor(struct ejob *job)
{
    for (struct monitor *m = monitors; m; m = m->next)
    {
        if (m->job == job)
            return m;
    }
    return NULL;
}

/* A method changed the state: the monitor reports it without waiting for its next look. */
static void wake_monitor(struct ejob *job)
{
    struct monitor *m;

    AcquireSRWLockShared(&monitors_lock);
    if ((m = find_monitor(job)))
        SetEvent(m->wake);
    ReleaseSRWLockShared(&monitors_lock);
}

/* Takes the monitor out of the list if its download is final or its callback was cleared:
 * TRUE if it did (the caller frees it). */
static BOOL monitor_leave_if_idle(struct monitor *m, BOOL final)
{
    struct monitor **p;
    BOOL leave;

    AcquireSRWLockExclusive(&monitors_lock);
    leave = final || !m->cookie;
    if (leave)
    {
        for (p = &monitors; *p != m; p = &(*p)->next)
            ;
        *p = m->next;
    }
    ReleaseSRWLockExclusive(&monitors_lock);
    return leave;
}

/* Has the registered callback called with `status`, holding no lock. */
static void deliver(struct monitor *m, const DO_DOWNLOAD_STATUS *status)
{
    struct agent *agent = NULL;
    DWORD cookie;
    HRESULT hr;

    AcquireSRWLockShared(&monitors_lock);
    cookie = m->cookie;
    if ((agent = m->agent))
        agent_addref(agent);
    ReleaseSRWLockShared(&monitors_lock);
    /* A callback cleared meanwhile is simply not found. */
    if (!cookie || !agent ||
        SUCCEEDED(hr = agent_call(agent, cookie, (DO_DOWNLOAD_STATUS *)status)))
        goto out;
    TRACE("the status callback's apartment answered %08lx", hr);
    /* A client that is gone gets no more calls: the monitor ends at its next look. */
    if (client_gone(hr))
    {
        AcquireSRWLockExclusive(&monitors_lock);
        if (m->cookie == cookie)
            m->cookie = 0;
        else
            cookie = 0;
        ReleaseSRWLockExclusive(&monitors_lock);
        git_revoke(cookie);
    }
out:
    agent_release(agent);
}

/* Whether the periodic rule asks for a callback now (while transferring). */
static BOOL periodic_due(struct ejob *job, const DO_DOWNLOAD_STATUS *status,
                         const DO_DOWNLOAD_STATUS *last, ULONGLONG last_at, ULONGLONG now)
{
    ULONG percent, seconds, mask;

    AcquireSRWLockShared(&job->lock);
    percent = job->download.callback_percent;
    seconds = job->download.callback_seconds;
    mask = job->download.set_mask;
    ReleaseSRWLockShared(&job->lock);
    /* Every second unless the client asked for something else; asking for percent only means
     * no callbacks by time. */
    if (!(mask & (1u << DODownloadProperty_CallbackFreqSeconds)))
        seconds = (mask & (1u << DODownloadProperty_CallbackFreqPercent)) ? 0 : 1;
    if (seconds && now - last_at >= seconds * 1000ull)
        return TRUE;
    if (percent && status->BytesTotal && status->BytesTransferred != last->BytesTransferred)
    {
        UINT64 before = last->BytesTransferred * 100 / status->BytesTotal / percent;
        UINT64 after = status->BytesTransferred * 100 / status->BytesTotal / percent;
        return after != before;
    }
    return FALSE;
}

static DWORD WINAPI monitor_thread(void *arg)
{
    struct monitor *m = arg;
    DO_DOWNLOAD_STATUS last = {0}, status;
    ULONGLONG last_at = 0;
    BOOL first = TRUE;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    for (;;)
    {
        ULONGLONG now = GetTickCount64();
        BOOL changed;

        download_status(m->job, &status);
        changed = first || status.State != last.State || status.Error != last.Error ||
                  status.ExtendedError != last.ExtendedError;
        if (changed || (status.State == DODownloadState_Transferring &&
                        periodic_due(m->job, &status, &last, last_at, now)))
        {
            deliver(m, &status);
            last = status;
            last_at = now;
            first = FALSE;
        }
        if (monitor_leave_if_idle(m, state_is_final(status.State)))
            break;
        WaitForSingleObject(m->wake, MONITOR_TICK_MS);
    }
    git_revoke(m->cookie);
    agent_release(m->agent);
    CloseHandle(m->wake);
    ejob_release(m->job);
    heap_free(m);
    CoUninitialize();
    module_unlock();
    return 0;
}

/* An agent for `callback` in the caller's apartment, registered in the Global Interface
 * Table. */
static HRESULT make_agent(struct ejob *job, IUnknown *callback, struct agent **out, DWORD *cookie)
{
    APTTYPEQUALIFIER qualifier;
    struct target *target;
    APTTYPE type;

    if (!(target = heap_alloc_zero(sizeof(*target))))
        return E_OUTOFMEMORY;
    if (FAILED(IUnknown_QueryInterface(callback, &IID_IDODownloadStatusCallback,
                                       (void **)&target->callback)))
    {
        heap_free(target);
        return E_INVALIDARG;
    }
    target->job = job;
    ejob_addref(job);
    if (SUCCEEDED(CoGetApartmentType(&type, &qualifier)) &&
        (type == APTTYPE_STA || type == APTTYPE_MAINSTA))
        target->home = GetCurrentThreadId();
    return agent_create(run_in_apartment, target_free, target, out, cookie);
}

/* Registers `callback` (NULL clears) for the job's status, in the caller's apartment. */
static HRESULT set_callback(struct ejob *job, IUnknown *callback)
{
    struct agent *agent = NULL, *old_agent = NULL;
    struct monitor *m, *fresh = NULL;
    DWORD cookie = 0, old = 0;
    HANDLE thread;
    HRESULT hr = S_OK;

    if (callback)
    {
        if (FAILED(hr = make_agent(job, callback, &agent, &cookie)))
            return hr;
        if (!(fresh = heap_alloc_zero(sizeof(*fresh))) ||
            !(fresh->wake = CreateEventW(NULL, FALSE, FALSE, NULL)))
        {
            heap_free(fresh);
            git_revoke(cookie);
            agent_release(agent);
            return E_OUTOFMEMORY;
        }
    }

    AcquireSRWLockExclusive(&monitors_lock);
    if ((m = find_monitor(job)))
    {
        old = m->cookie;
        old_agent = m->agent;
        m->cookie = cookie;
        m->agent = agent;
        SetEvent(m->wake);
    }
    else if (fresh)
    {
        fresh->job = job;
        fresh->cookie = cookie;
        fresh->agent = agent;
        ejob_addref(job);
        /* A module reference, not an object one: the surrogate's rule counts what clients
         * hold, and a monitor is no reason to keep the process. */
        module_lock();
        if ((thread = CreateThread(NULL, 0, monitor_thread, fresh, 0, NULL)))
        {
            CloseHandle(thread);
            fresh->next = monitors;
            monitors = fresh;
            fresh = NULL;
        }
        else
        {
            hr = HRESULT_FROM_WIN32(GetLastError());
            ejob_release(job);
            module_unlock();
            old = cookie;
            old_agent = agent;
        }
    }
    ReleaseSRWLockExclusive(&monitors_lock);
    if (fresh)
    {
        CloseHandle(fresh->wake);
        heap_free(fresh);
    }
    git_revoke(old);
    agent_release(old_agent);
    return hr;
}

/* The registered callback, for a caller in its apartment; S_FALSE and NULL if there is none,
 * RPC_E_WRONG_THREAD for a caller in another apartment. */
static HRESULT get_callback(struct ejob *job, IUnknown **out)
{
    APTTYPEQUALIFIER qualifier;
    struct monitor *m;
    DWORD home = 0;
    APTTYPE type;
    HRESULT hr = S_FALSE;

    *out = NULL;
    if (SUCCEEDED(CoGetApartmentType(&type, &qualifier)) &&
        (type == APTTYPE_STA || type == APTTYPE_MAINSTA))
        home = GetCurrentThreadId();
    AcquireSRWLockShared(&monitors_lock);
    if ((m = find_monitor(job)) && m->agent)
    {
        const struct target *target = agent_context(m->agent);

        if (target->home != home)
            hr = RPC_E_WRONG_THREAD;
        else
        {
            *out = (IUnknown *)target->callback;
            IUnknown_AddRef(*out);
            hr = S_OK;
        }
    }
    ReleaseSRWLockShared(&monitors_lock);
    return hr;
}

/* ---- control ---- */

/* BlockingMode: waits until the download is no longer transferring, pumping the messages of a
 * single-threaded apartment meanwhile (its own callbacks arrive through them). */
static void wait_while_transferring(struct ejob *job)
{
    DO_DOWNLOAD_STATUS status;
    HANDLE never = CreateEventW(NULL, TRUE, FALSE, NULL);
    DWORD index;

    for (;;)
    {
        download_status(job, &status);
        if (status.State != DODownloadState_Transferring)
            break;
        if (!never || FAILED(CoWaitForMultipleHandles(0, BLOCKING_TICK_MS, 1, &never, &index)))
            Sleep(BLOCKING_TICK_MS);
    }
    if (never)
        CloseHandle(never);
}

static BOOL blocking(struct ejob *job)
{
    BOOL on;

    AcquireSRWLockShared(&job->lock);
    on = !!(job->download.flags & EJOB_DL_BLOCKING);
    ReleaseSRWLockShared(&job->lock);
    return on;
}

/* The stream set before Start, as this apartment may use it, or NULL. */
static IStream *pending_stream(struct ejob *job)
{
    IGlobalInterfaceTable *git;
    IStream *stream = NULL;
    DWORD cookie;

    AcquireSRWLockShared(&job->lock);
    cookie = job->download.stream_cookie;
    ReleaseSRWLockShared(&job->lock);
    if (cookie && SUCCEEDED(git_get(&git)))
    {
        IGlobalInterfaceTable_GetInterfaceFromGlobal(git, cookie, &IID_IStream, (void **)&stream);
        IGlobalInterfaceTable_Release(git);
    }
    return stream;
}

/* Start in Created: adds the job's one file with what the properties say, and resumes it.
 * Serialised by start_lock so that two first Starts add one file. */
static SRWLOCK start_lock = SRWLOCK_INIT;

static HRESULT first_start(struct ejob *job, const DO_DOWNLOAD_RANGES_INFO *ranges)
{
    struct efile_spec spec = {0};
    WCHAR *uri = NULL, *local = NULL;
    IStream *stream = NULL;
    BOOL has_content_id, started, copied;
    HRESULT hr;

    AcquireSRWLockExclusive(&start_lock);
    AcquireSRWLockShared(&job->lock);
    started = job->file_count != 0;
    uri = heap_strdup(job->download.uri);
    local = heap_strdup(job->download.local_path);
    copied = (!job->download.uri || uri) && (!job->download.local_path || local);
    has_content_id = job->download.content_id != NULL;
    spec.size_hint = (job->download.set_mask & (1u << DODownloadProperty_TotalSizeBytes))
                         ? job->download.total_size
                         : DO_UNKNOWN_FILE_SIZE;
    ReleaseSRWLockShared(&job->lock);
    if (started)
    {
        /* Another thread's Start came first. */
        hr = S_FALSE;
        goto out;
    }
    if (!copied)
    {
        hr = E_OUTOFMEMORY;
        goto out;
    }
    if (!uri)
    {
        /* OpenDO has no content service to turn a content id into sources. */
        if (has_content_id)
            FIXME("a download by content id alone is not supported");
        hr = DO_E_DOWNLOAD_NO_URI;
        goto out;
    }
    stream = pending_stream(job);
    if (!local && !stream)
    {
        hr = DO_E_FILE_DOWNLOADSINK_UNSPECIFIED;
        goto out;
    }
    spec.remote = uri;
    spec.local = local;
    if (ranges && ranges->RangeCount)
    {
        /* DO_DOWNLOAD_RANGE and BG_FILE_RANGE are both an offset and a length of 64 bits, and
         * DO_LENGTH_TO_EOF is BG_LENGTH_TO_EOF. */
        spec.ranges = (const BG_FILE_RANGE *)ranges->Ranges;
        spec.range_count = ranges->RangeCount;
    }
    if (FAILED(hr = ejob_add_file(job, &spec, NULL)))
        goto out;
    if (stream && FAILED(hr = efile_set_sink(job, 0, stream)))
        goto out;
    hr = ejob_resume(job);
out:
    ReleaseSRWLockExclusive(&start_lock);
    if (stream)
        IStream_Release(stream);
    free_str(uri);
    free_str(local);
    return hr;
}

/* ---- IDODownload ---- */

static HRESULT WINAPI download_QueryInterface(IDODownload *iface, REFIID riid, void **out)
{
    struct download *download = impl_from_IDODownload(iface);

    TRACE("%p %s %p", iface, debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDODownload))
    {
        *out = iface;
        IDODownload_AddRef(iface);
        return S_OK;
    }
    if (IsEqualIID(riid, &IID_IMarshal))
        return ftm_query((IUnknown *)iface, &download->ftm, riid, out);
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI download_AddRef(IDODownload *iface)
{
    return InterlockedIncrement(&impl_from_IDODownload(iface)->refs);
}

static ULONG WINAPI download_Release(IDODownload *iface)
{
    struct download *download = impl_from_IDODownload(iface);
    ULONG refs = InterlockedDecrement(&download->refs);

    if (!refs)
    {
        ejob_release(download->ejob);
        ftm_release(&download->ftm);
        heap_free(download);
        object_unlock_flushing();
    }
    return refs;
}

static HRESULT WINAPI download_Start(IDODownload *iface, const DO_DOWNLOAD_RANGES_INFO *ranges)
{
    struct download *download = impl_from_IDODownload(iface);
    struct ejob *job = download->ejob;
    DO_DOWNLOAD_STATUS status;
    BOOL with_ranges = ranges && ranges->RangeCount;
    HRESULT hr = S_OK;

    TRACE("%p %p (%u ranges)", iface, ranges, ranges ? ranges->RangeCount : 0);
    download_status(job, &status);
    switch (status.State)
    {
    case DODownloadState_Created:
        hr = first_start(job, ranges);
        break;
    case DODownloadState_Paused:
        /* The ranges were fixed by the first Start; a later Start continues them. */
        if (with_ranges)
            return DO_E_DOWNLOAD_RANGES_UNEXPECTED;
        hr = ejob_resume(job);
        break;
    case DODownloadState_Transferring:
        if (with_ranges)
            return DO_E_DOWNLOAD_RANGES_UNEXPECTED;
        return S_OK;
    case DODownloadState_Transferred:
        /* Windows may fetch another portion of a transferred file; OpenDO's files keep the
         * ranges they were added with, so only a Start without ranges (nothing to do) is
         * taken, as the reference agent does. */
        if (with_ranges)
        {
            FIXME("another portion of a transferred download is not supported");
            return DO_E_INVALID_STATE;
        }
        return S_OK;
    default:
        return DO_E_INVALID_STATE;
    }
    if (FAILED(hr))
        return dialect_result(DIALECT_DO, hr);
    wake_monitor(job);
    if (blocking(job))
        wait_while_transferring(job);
    return S_OK;
}

static HRESULT WINAPI download_Pause(IDODownload *iface)
{
    struct download *download = impl_from_IDODownload(iface);
    DO_DOWNLOAD_STATUS status;
    HRESULT hr;

    TRACE("%p", iface);
    download_status(download->ejob, &status);
    if (state_is_final(status.State))
        return DO_E_INVALID_STATE;
    /* Paused by an error, a download would be retried by the engine: Pause keeps it paused. */
    if (status.State == DODownloadState_Created || status.State == DODownloadState_Transferred)
        return S_OK;
    if (FAILED(hr = ejob_suspend(download->ejob)))
        return dialect_result(DIALECT_DO, hr);
    wake_monitor(download->ejob);
    return S_OK;
}

static HRESULT WINAPI download_Abort(IDODownload *iface)
{
    struct download *download = impl_from_IDODownload(iface);
    DO_DOWNLOAD_STATUS status;
    HRESULT hr;

    TRACE("%p", iface);
    download_status(download->ejob, &status);
    if (status.State == DODownloadState_Aborted)
        return S_OK;
    if (status.State == DODownloadState_Finalized)
        return DO_E_INVALID_STATE;
    if (FAILED(hr = ejob_cancel(download->ejob)))
        return dialect_result(DIALECT_DO, hr);
    wake_monitor(download->ejob);
    return S_OK;
}

static HRESULT WINAPI download_Finalize(IDODownload *iface)
{
    struct download *download = impl_from_IDODownload(iface);
    DO_DOWNLOAD_STATUS status;
    HRESULT hr;

    TRACE("%p", iface);
    download_status(download->ejob, &status);
    if (status.State == DODownloadState_Finalized)
        return S_OK;
    if (status.State == DODownloadState_Transferring && blocking(download->ejob))
    {
        wait_while_transferring(download->ejob);
        download_status(download->ejob, &status);
    }
    if (status.State != DODownloadState_Transferred)
        return DO_E_INVALID_STATE;
    if (FAILED(hr = ejob_complete(download->ejob)))
        return dialect_result(DIALECT_DO, hr);
    wake_monitor(download->ejob);
    return S_OK;
}

static HRESULT WINAPI download_GetStatus(IDODownload *iface, DO_DOWNLOAD_STATUS *status)
{
    struct download *download = impl_from_IDODownload(iface);

    TRACE("%p %p", iface, status);
    if (!status)
        return E_INVALIDARG;
    download_status(download->ejob, status);
    return S_OK;
}

/* ---- properties ---- */

enum access
{
    READ_WRITE,
    READ_ONLY,
    WRITE_ONLY,
};

/* Spec 8.11: each property's VARIANT type and access. Ids 22-25 have no documented type: the
 * types the header's descriptions suggest are taken. SecurityFlags is called write-only and
 * "set or get" by the docs: write-only, as its table row says. */
static const struct
{
    VARTYPE type;
    enum access access;
} properties[LAST_PROPERTY + 1] = {
    [DODownloadProperty_Id] = {VT_BSTR, READ_ONLY},
    [DODownloadProperty_Uri] = {VT_BSTR, READ_WRITE},
    [DODownloadProperty_ContentId] = {VT_BSTR, READ_WRITE},
    [DODownloadProperty_DisplayName] = {VT_BSTR, READ_WRITE},
    [DODownloadProperty_LocalPath] = {VT_BSTR, READ_WRITE},
    [DODownloadProperty_HttpCustomHeaders] = {VT_BSTR, READ_WRITE},
    [DODownloadProperty_CostPolicy] = {VT_UI4, READ_WRITE},
    [DODownloadProperty_SecurityFlags] = {VT_UI4, WRITE_ONLY},
    [DODownloadProperty_CallbackFreqPercent] = {VT_UI4, READ_WRITE},
    [DODownloadProperty_CallbackFreqSeconds] = {VT_UI4, READ_WRITE},
    [DODownloadProperty_NoProgressTimeoutSeconds] = {VT_UI4, READ_WRITE},
    [DODownloadProperty_ForegroundPriority] = {VT_BOOL, READ_WRITE},
    [DODownloadProperty_BlockingMode] = {VT_BOOL, READ_WRITE},
    [DODownloadProperty_CallbackInterface] = {VT_UNKNOWN, READ_WRITE},
    [DODownloadProperty_StreamInterface] = {VT_UNKNOWN, READ_WRITE},
    [DODownloadProperty_SecurityContext] = {VT_ARRAY | VT_UI1, WRITE_ONLY},
    [DODownloadProperty_NetworkToken] = {VT_BOOL, WRITE_ONLY},
    [DODownloadProperty_CorrelationVector] = {VT_BSTR, READ_WRITE},
    [DODownloadProperty_DecryptionInfo] = {VT_BSTR, WRITE_ONLY},
    [DODownloadProperty_IntegrityCheckInfo] = {VT_BSTR, WRITE_ONLY},
    [DODownloadProperty_IntegrityCheckMandatory] = {VT_BOOL, READ_WRITE},
    [DODownloadProperty_TotalSizeBytes] = {VT_UI8, READ_WRITE},
    [DODownloadProperty_DisallowOnCellular] = {VT_BOOL, READ_WRITE},
    [DODownloadProperty_HttpCustomAuthHeaders] = {VT_BSTR, READ_WRITE},
    [DODownloadProperty_HttpAllowSecureToNonSecureRedirect] = {VT_BOOL, READ_WRITE},
    [DODownloadProperty_NonVolatile] = {VT_BOOL, READ_WRITE},
};

/* The string field of ejob.download a BSTR property is kept in, or NULL for the others. */
static WCHAR **string_field(struct ejob *job, DODownloadProperty id)
{
    struct ejob_download *d = &job->download;

    switch (id)
    {
    case DODownloadProperty_Uri:
        return &d->uri;
    case DODownloadProperty_LocalPath:
        return &d->local_path;
    case DODownloadProperty_ContentId:
        return &d->content_id;
    case DODownloadProperty_CorrelationVector:
        return &d->correlation_vector;
    case DODownloadProperty_HttpCustomAuthHeaders:
        return &d->auth_headers;
    case DODownloadProperty_DecryptionInfo:
        return &d->decryption_info;
    case DODownloadProperty_IntegrityCheckInfo:
        return &d->integrity_info;
    case DODownloadProperty_DisplayName:
        return &job->display_name;
    case DODownloadProperty_HttpCustomHeaders:
        return &job->options.custom_headers;
    default:
        return NULL;
    }
}

/* The EJOB_DL_ flag a VT_BOOL property is kept in, or 0. */
static ULONG flag_of(DODownloadProperty id)
{
    switch (id)
    {
    case DODownloadProperty_BlockingMode:
        return EJOB_DL_BLOCKING;
    case DODownloadProperty_NetworkToken:
        return EJOB_DL_NETWORK_TOKEN;
    case DODownloadProperty_IntegrityCheckMandatory:
        return EJOB_DL_INTEGRITY_MANDATORY;
    case DODownloadProperty_DisallowOnCellular:
        return EJOB_DL_NO_CELLULAR;
    case DODownloadProperty_HttpAllowSecureToNonSecureRedirect:
        return EJOB_DL_REDIRECT_TO_HTTP;
    case DODownloadProperty_NonVolatile:
        return EJOB_DL_NON_VOLATILE;
    default:
        return 0;
    }
}

/* The ULONG field a VT_UI4 property is kept in, or NULL. */
/* DO's SecurityFlags are WinHTTP's (winhttp.h values); the engine takes BITS' BG_SSL_* flags.
 * WINHTTP_ENABLE_SSL_REVOCATION overrides the others, as the SDK documents. */
#define DO_SECURITY_IGNORE_UNKNOWN_CA 0x00000100
#define DO_SECURITY_IGNORE_CERT_WRONG_USAGE 0x00000200
#define DO_SECURITY_IGNORE_CERT_CN_INVALID 0x00001000
#define DO_SECURITY_IGNORE_CERT_DATE_INVALID 0x00002000
#define DO_SECURITY_ENABLE_SSL_REVOCATION 0x00000001

static DWORD ssl_flags_of(ULONG security_flags)
{
    DWORD ssl = 0;

    if (security_flags & DO_SECURITY_ENABLE_SSL_REVOCATION)
        return BG_SSL_ENABLE_CRL_CHECK;
    if (security_flags & DO_SECURITY_IGNORE_UNKNOWN_CA)
        ssl |= BG_SSL_IGNORE_UNKNOWN_CA;
    if (security_flags & DO_SECURITY_IGNORE_CERT_WRONG_USAGE)
        ssl |= BG_SSL_IGNORE_CERT_WRONG_USAGE;
    if (security_flags & DO_SECURITY_IGNORE_CERT_CN_INVALID)
        ssl |= BG_SSL_IGNORE_CERT_CN_INVALID;
    if (security_flags & DO_SECURITY_IGNORE_CERT_DATE_INVALID)
        ssl |= BG_SSL_IGNORE_CERT_DATE_INVALID;
    return ssl;
}

/* What SecurityFlags and HttpAllowSecureToNonSecureRedirect mean for the engine: the job's
 * BITS security flags (IBackgroundCopyJobHttpOptions' own), whose redirect policy stays as
 * it is. Caller holds job->lock exclusively. */
static void apply_security(struct ejob *job)
{
    DWORD flags = job->options.security_flags & BG_HTTP_REDIRECT_POLICY_MASK;

    flags |= ssl_flags_of(job->download.security_flags);
    if (job->download.flags & EJOB_DL_REDIRECT_TO_HTTP)
        flags |= BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP;
    job->options.security_flags = flags;
}

static ULONG *ulong_field(struct ejob *job, DODownloadProperty id)
{
    switch (id)
    {
    case DODownloadProperty_CostPolicy:
        return &job->download.cost_policy;
    case DODownloadProperty_SecurityFlags:
        return &job->download.security_flags;
    case DODownloadProperty_CallbackFreqPercent:
        return &job->download.callback_percent;
    case DODownloadProperty_CallbackFreqSeconds:
        return &job->download.callback_seconds;
    case DODownloadProperty_NoProgressTimeoutSeconds:
        return &job->no_progress_timeout;
    default:
        return NULL;
    }
}

/* Whether property `id` may be set in `state` (spec section 11 and its notes). */
static BOOL settable_in(DODownloadProperty id, DODownloadState state)
{
    if (state_is_final(state))
        return FALSE;
    switch (id)
    {
    case DODownloadProperty_LocalPath:
    case DODownloadProperty_StreamInterface:
    case DODownloadProperty_TotalSizeBytes:
        /* What the file is added with, at the first Start. */
        return state == DODownloadState_Created;
    case DODownloadProperty_Uri:
        return state == DODownloadState_Created || state == DODownloadState_Paused;
    default:
        return TRUE;
    }
}

static HRESULT get_stream(struct ejob *job, IUnknown **out)
{
    IStream *stream = NULL;
    BOOL added;
    HRESULT hr;

    AcquireSRWLockShared(&job->lock);
    added = job->file_count != 0;
    ReleaseSRWLockShared(&job->lock);
    if (!added)
        stream = pending_stream(job);
    else if (FAILED(hr = efile_get_sink(job, 0, &stream)))
        return hr;
    *out = (IUnknown *)stream;
    return stream ? S_OK : S_FALSE;
}

static HRESULT WINAPI download_GetProperty(IDODownload *iface, DODownloadProperty id,
                                           VARIANT *value)
{
    struct download *download = impl_from_IDODownload(iface);
    struct ejob *job = download->ejob;
    WCHAR **field, *copy = NULL;
    BOOL set, present = FALSE;
    IUnknown *unknown;
    ULONG *number;
    HRESULT hr;

    TRACE("%p %d %p", iface, id, value);
    if (!value)
        return E_INVALIDARG;
    VariantInit(value);
    if ((ULONG)id > LAST_PROPERTY)
        return DO_E_UNKNOWN_PROPERTY_ID;
    if (properties[id].access == WRITE_ONLY)
        return DO_E_WRITE_ONLY_PROPERTY;

    switch (id)
    {
    case DODownloadProperty_Id:
    {
        WCHAR text[40];
        StringFromGUID2(&job->id, text, ARRAY_SIZE(text));
        if (!(V_BSTR(value) = SysAllocString(text)))
            return E_OUTOFMEMORY;
        V_VT(value) = VT_BSTR;
        return S_OK;
    }
    case DODownloadProperty_CallbackInterface:
    case DODownloadProperty_StreamInterface:
        hr = id == DODownloadProperty_CallbackInterface ? get_callback(job, &unknown)
                                                        : get_stream(job, &unknown);
        if (FAILED(hr))
            return hr;
        if (hr == S_FALSE)
            return E_NOT_SET;
        V_VT(value) = VT_UNKNOWN;
        V_UNKNOWN(value) = unknown;
        return S_OK;
    default:
        break;
    }

    AcquireSRWLockShared(&job->lock);
    set = !!(job->download.set_mask & (1u << id));
    if ((field = string_field(job, id)))
    {
        /* The job's display name is there from the start, empty: only set, it is the
         * download's DisplayName. */
        present = *field != NULL && (id != DODownloadProperty_DisplayName || set);
        copy = heap_strdup(*field);
    }
    else if (flag_of(id))
    {
        V_VT(value) = VT_BOOL;
        V_BOOL(value) = (job->download.flags & flag_of(id)) ? VARIANT_TRUE : VARIANT_FALSE;
    }
    else if ((number = ulong_field(job, id)))
    {
        V_VT(value) = VT_UI4;
        V_UI4(value) = *number;
    }
    else if (id == DODownloadProperty_ForegroundPriority)
    {
        V_VT(value) = VT_BOOL;
        V_BOOL(value) = job->priority == BG_JOB_PRIORITY_FOREGROUND ? VARIANT_TRUE : VARIANT_FALSE;
    }
    else if (id == DODownloadProperty_TotalSizeBytes)
    {
        V_VT(value) = VT_UI8;
        V_UI8(value) = job->download.total_size;
    }
    ReleaseSRWLockShared(&job->lock);

    if (field)
    {
        if (!present)
            return E_NOT_SET;
        if (!copy)
            return E_OUTOFMEMORY;
        V_BSTR(value) = SysAllocString(copy);
        free_str(copy);
        if (!V_BSTR(value))
            return E_OUTOFMEMORY;
        V_VT(value) = VT_BSTR;
        return S_OK;
    }
    /* Properties without a default answer E_NOT_SET until set. */
    if (!set &&
        (id == DODownloadProperty_CallbackFreqPercent || id == DODownloadProperty_TotalSizeBytes))
    {
        VariantInit(value);
        return E_NOT_SET;
    }
    /* CallbackFreqSeconds' default is one second. */
    if (!set && id == DODownloadProperty_CallbackFreqSeconds)
        V_UI4(value) = 1;
    return S_OK;
}

/* Checks a new value of a property; E_INVALIDARG for one DO would refuse. */
static HRESULT check_value(DODownloadProperty id, const VARIANT *value)
{
    const WCHAR *text = V_VT(value) == VT_BSTR ? V_BSTR(value) : NULL;

    switch (id)
    {
    case DODownloadProperty_Uri:
        if (!text || !*text || url_classify(text) == URL_INVALID)
            return E_INVALIDARG;
        return S_OK;
    case DODownloadProperty_LocalPath:
        if (!text || !path_is_absolute(text) || wcslen(text) >= MAX_PATH)
            return E_INVALIDARG;
        return S_OK;
    case DODownloadProperty_DisplayName:
        return text && wcslen(text) > MAX_DISPLAY_NAME ? E_INVALIDARG : S_OK;
    case DODownloadProperty_HttpCustomHeaders:
        if (text && *text && (wcslen(text) >= MAX_CUSTOM_HEADERS || !headers_valid(text)))
            return E_INVALIDARG;
        return S_OK;
    case DODownloadProperty_CostPolicy:
        return V_UI4(value) <= DODownloadCostPolicy_NoCellular ? S_OK : E_INVALIDARG;
    case DODownloadProperty_CallbackFreqPercent:
        return V_UI4(value) <= 100 ? S_OK : E_INVALIDARG;
    case DODownloadProperty_NoProgressTimeoutSeconds:
        return V_UI4(value) >= MIN_NO_PROGRESS_TIMEOUT ? S_OK : E_INVALIDARG;
    case DODownloadProperty_SecurityContext:
        return V_ARRAY(value) && SafeArrayGetDim(V_ARRAY(value)) == 1 ? S_OK : E_INVALIDARG;
    default:
        return S_OK;
    }
}

/* StreamInterface: registered from the caller's apartment; the file gets it at Start. */
static HRESULT set_stream(struct ejob *job, IUnknown *unknown)
{
    IGlobalInterfaceTable *git;
    IStream *stream = NULL;
    DWORD cookie = 0, old;
    HRESULT hr = S_OK;

    if (unknown)
    {
        if (FAILED(IUnknown_QueryInterface(unknown, &IID_IStream, (void **)&stream)))
            return E_INVALIDARG;
        if (SUCCEEDED(hr = git_get(&git)))
        {
            hr = IGlobalInterfaceTable_RegisterInterfaceInGlobal(git, (IUnknown *)stream,
                                                                 &IID_IStream, &cookie);
            IGlobalInterfaceTable_Release(git);
        }
        IStream_Release(stream);
        if (FAILED(hr))
            return hr;
    }
    AcquireSRWLockExclusive(&job->lock);
    if (job->file_count || ejob_is_final(job))
    {
        hr = DO_E_INVALID_STATE;
        old = cookie;
    }
    else if (cookie && job->download.local_path)
    {
        hr = DO_E_FILE_DOWNLOADSINK_ALREADY_SET;
        old = cookie;
    }
    else
    {
        old = job->download.stream_cookie;
        job->download.stream_cookie = cookie;
        if (cookie)
            job->download.set_mask |= 1u << DODownloadProperty_StreamInterface;
        else
            job->download.set_mask &= ~(1u << DODownloadProperty_StreamInterface);
    }
    ReleaseSRWLockExclusive(&job->lock);
    git_revoke(old);
    return hr;
}

/* Applies a checked value under the job's lock. `copy` is the new string of a BSTR property,
 * `bytes` the new security context; what they replace goes back in them, to be freed. */
static HRESULT store_value(struct ejob *job, DODownloadProperty id, const VARIANT *value,
                           WCHAR **copy, BYTE **bytes, ULONG size)
{
    WCHAR **field;
    ULONG *number;

    if (id == DODownloadProperty_StreamInterface)
        return S_OK;
    /* A Start on another thread may have added the file since the state was read. */
    if (job->file_count && !settable_in(id, DODownloadState_Paused))
        return DO_E_INVALID_STATE;
    if (id == DODownloadProperty_LocalPath && job->download.stream_cookie)
        return DO_E_FILE_DOWNLOADSINK_ALREADY_SET;
    if ((field = string_field(job, id)))
    {
        WCHAR *old = *field;
        *field = *copy;
        *copy = old;
    }
    else if (flag_of(id))
    {
        if (V_BOOL(value))
            job->download.flags |= flag_of(id);
        else
            job->download.flags &= ~flag_of(id);
        if (id == DODownloadProperty_HttpAllowSecureToNonSecureRedirect)
            apply_security(job);
    }
    else if ((number = ulong_field(job, id)))
    {
        *number = V_UI4(value);
        if (id == DODownloadProperty_NoProgressTimeoutSeconds)
        {
            job->no_progress_timeout_set = TRUE;
            ejob_check_retry_window(job);
        }
        if (id == DODownloadProperty_SecurityFlags)
            apply_security(job);
    }
    else if (id == DODownloadProperty_ForegroundPriority)
    {
        job->priority = V_BOOL(value) ? BG_JOB_PRIORITY_FOREGROUND : BG_JOB_PRIORITY_NORMAL;
        /* DO's default no-progress timeout depends on the priority (spec 10.4). */
        if (!job->no_progress_timeout_set)
            job->no_progress_timeout = do_default_no_progress_timeout(job->priority);
        ejob_check_retry_window(job);
    }
    else if (id == DODownloadProperty_TotalSizeBytes)
        job->download.total_size = V_UI8(value);
    else if (id == DODownloadProperty_SecurityContext)
    {
        BYTE *old = job->download.security_context;
        job->download.security_context = *bytes;
        job->download.security_context_size = size;
        *bytes = old;
    }
    job->download.set_mask |= 1u << id;
    ejob_touch(job);
    return S_OK;
}

static HRESULT WINAPI download_SetProperty(IDODownload *iface, DODownloadProperty id,
                                           const VARIANT *value)
{
    struct download *download = impl_from_IDODownload(iface);
    struct ejob *job = download->ejob;
    DO_DOWNLOAD_STATUS status;
    WCHAR *copy = NULL;
    BYTE *bytes = NULL;
    ULONG size = 0;
    HRESULT hr;

    TRACE("%p %d %p", iface, id, value);
    if ((ULONG)id > LAST_PROPERTY)
        return DO_E_UNKNOWN_PROPERTY_ID;
    if (properties[id].access == READ_ONLY)
        return DO_E_READ_ONLY_PROPERTY;
    if (!value || V_VT(value) != properties[id].type)
        return E_INVALIDARG;
    download_status(job, &status);
    if (!settable_in(id, status.State))
        return DO_E_INVALID_STATE;
    if (FAILED(hr = check_value(id, value)))
        return hr;

    switch (id)
    {
    case DODownloadProperty_CallbackInterface:
        return set_callback(job, V_UNKNOWN(value));
    case DODownloadProperty_StreamInterface:
        return set_stream(job, V_UNKNOWN(value));
    case DODownloadProperty_Uri:
        /* Paused, the file has the name already: it changes there too. */
        if (status.State == DODownloadState_Paused &&
            FAILED(hr = efile_set_remote(job, 0, V_BSTR(value))))
            return dialect_result(DIALECT_DO, hr);
        break;
    case DODownloadProperty_SecurityContext:
    {
        void *data;
        LONG low, high;
        SafeArrayGetLBound(V_ARRAY(value), 1, &low);
        SafeArrayGetUBound(V_ARRAY(value), 1, &high);
        size = high >= low ? (ULONG)(high - low + 1) : 0;
        if (!(bytes = heap_alloc_zero(size ? size : 1)))
            return E_OUTOFMEMORY;
        if (size && SUCCEEDED(SafeArrayAccessData(V_ARRAY(value), &data)))
        {
            memcpy(bytes, data, size);
            SafeArrayUnaccessData(V_ARRAY(value));
        }
        break;
    }
    default:
        break;
    }
    /* An empty string clears an optional string property; the job's display name is never
     * NULL. */
    if (V_VT(value) == VT_BSTR &&
        ((V_BSTR(value) && *V_BSTR(value)) || id == DODownloadProperty_DisplayName) &&
        !(copy = heap_strdup(V_BSTR(value) ? V_BSTR(value) : L"")))
    {
        heap_free(bytes);
        return E_OUTOFMEMORY;
    }
    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
        hr = DO_E_INVALID_STATE;
    else
        hr = store_value(job, id, value, &copy, &bytes, size);
    ReleaseSRWLockExclusive(&job->lock);
    free_str(copy);
    heap_free(bytes);
    if (SUCCEEDED(hr) && (id == DODownloadProperty_CallbackFreqPercent ||
                          id == DODownloadProperty_CallbackFreqSeconds))
        wake_monitor(job);
    return hr;
}

static const IDODownloadVtbl download_vtbl = {
    download_QueryInterface, download_AddRef,      download_Release,  download_Start,
    download_Pause,          download_Abort,       download_Finalize, download_GetStatus,
    download_GetProperty,    download_SetProperty,
};

HRESULT download_create(struct ejob *ejob, IDODownload **out)
{
    struct download *download;

    if (!(download = heap_alloc_zero(sizeof(*download))))
        return E_OUTOFMEMORY;
    download->IDODownload_iface.lpVtbl = &download_vtbl;
    download->refs = 1;
    download->ejob = ejob;
    ejob_addref(ejob);
    object_lock();
    *out = &download->IDODownload_iface;
    return S_OK;
}

/* ---- IDOManager's methods ---- */

HRESULT download_new(IDODownload **out)
{
    struct ejob *ejob;
    HRESULT hr;

    /* DO drops what was not finished after 30 days (spec 10.4), downloads as jobs. */
    if (FAILED(hr = engine_create_download(do_default_no_progress_timeout(BG_JOB_PRIORITY_NORMAL),
                                           30, &ejob)))
        return hr;
    if (FAILED(hr = download_create(ejob, out)))
        ejob_cancel(ejob);
    ejob_release(ejob);
    return hr;
}

/* Whether a download matches an EnumDownloads category. Caller holds job->lock. */
static BOOL matches(struct ejob *job, const DO_DOWNLOAD_ENUM_CATEGORY *category)
{
    WCHAR text[40], **field;

    if (category->Property == DODownloadProperty_Id)
    {
        GUID id;
        /* The id as GetProperty gives it, with or without braces, in any case. */
        StringFromGUID2(&job->id, text, ARRAY_SIZE(text));
        if (!_wcsicmp(text, category->Value))
            return TRUE;
        if (category->Value[0] != '{')
        {
            WCHAR braced[40];
            if (wcslen(category->Value) != 36)
                return FALSE;
            swprintf(braced, ARRAY_SIZE(braced), L"{%ls}", category->Value);
            return SUCCEEDED(CLSIDFromString(braced, &id)) && IsEqualGUID(&id, &job->id);
        }
        return FALSE;
    }
    field = string_field(job, category->Property);
    return field && *field && !wcscmp(*field, category->Value);
}

HRESULT download_enum(const DO_DOWNLOAD_ENUM_CATEGORY *category, IEnumUnknown **out)
{
    IUnknown **items = NULL;
    struct ejob **snapshot;
    ULONG count, made = 0;
    HRESULT hr;

    if (category)
    {
        switch (category->Property)
        {
        case DODownloadProperty_Id:
        case DODownloadProperty_Uri:
        case DODownloadProperty_ContentId:
        case DODownloadProperty_DisplayName:
        case DODownloadProperty_LocalPath:
            break;
        default:
            return E_INVALIDARG;
        }
        if (!category->Value)
            return E_INVALIDARG;
    }
    if (FAILED(hr = engine_enum_jobs(&snapshot, &count)))
        return hr;
    if (count && !(items = heap_alloc_zero(count * sizeof(*items))))
        hr = E_OUTOFMEMORY;
    for (ULONG i = 0; i < count; i++)
    {
        struct ejob *job = snapshot[i];
        if (SUCCEEDED(hr) && job->download.present)
        {
            BOOL take;
            AcquireSRWLockShared(&job->lock);
            take = !ejob_is_final(job) && (!category || matches(job, category));
            ReleaseSRWLockShared(&job->lock);
            if (take && SUCCEEDED(hr = download_create(job, (IDODownload **)&items[made])))
                made++;
        }
        ejob_release(job);
    }
    heap_free(snapshot);
    if (SUCCEEDED(hr))
        hr = enum_unknown_create(items, made, out);
    for (ULONG i = 0; i < made; i++)
        IUnknown_Release(items[i]);
    heap_free(items);
    return hr;
}
