/* SPDX-License-Identifier: MIT */
/* The notifier: IBackgroundCopyCallback(2) calls and SetNotifyCmdLine programs, delivered by
 * one thread outside every lock, in the client's apartment. */

/*
 * Design
 * ------
 * The engine never calls client code. Where a job changes, a hook (notify_modified,
 * notify_state_entered, notify_file_transferred) runs under the job's lock: it marks the event
 * in job->notify and puts the job into the notifier's queue. Nothing else happens there.
 *
 * One notifier thread, started on demand and gone after a few idle seconds, takes a job from
 * the queue when it is due, copies what it needs under the job's lock (flags, the callback's
 * cookie, the command line, the error), drops the lock and makes the calls:
 *   FileTransferred for each finished file (IBackgroundCopyCallback2 only), then JobTransferred
 *   or JobError, then JobModification, which is coalesced to one per minimum notification
 *   interval and never sent for the transitions into TRANSFERRED or ERROR themselves.
 * JobTransferred and JobError fall back to the command line when there is no callback, when
 * the callback failed (BITS then does not call it again), or when its object is gone. A failed
 * JobTransferred/JobError without a command line is retried every NOTIFY_RETRY_MS, a bounded
 * number of times, for as long as the job stays in that state. BG_NOTIFY_DISABLE silences all.
 *
 * Apartments: SetNotifyInterface registers the callback in the Global Interface Table on the
 * caller's thread; the notifier (an MTA thread) gets it back from there, so a single-threaded
 * apartment's callback is reached through a proxy, on its own thread, and a free-threaded or
 * MTA object directly. A callback whose apartment is gone (RPC_E_DISCONNECTED and friends) is
 * dropped. Registrations are revoked by the thread that replaces them, or by the notifier when
 * the job is final or freed. A single-threaded apartment must pump messages while it is
 * registered: a call into it (under Wine even a proxy's Release) waits until it does, and
 * meanwhile holds up every other notification.
 *
 * Locks: queue_lock is innermost: the hooks take it under job->lock; nothing is taken while it
 * is held. The notifier takes job->lock only without queue_lock, and holds no lock while it
 * calls the client, the Global Interface Table or CreateProcess.
 */

#include <string.h>
#include "engine/engine.h"

#define NOTIFY_IDLE_MS 5000
#define NOTIFY_RETRY_MS 5000
#define NOTIFY_MAX_ATTEMPTS 60
#define MAX_PROGRAM MAX_PATH
#define MAX_PARAMETERS 4000

/* A registration waiting for the notifier to revoke it. */
struct revocation
{
    struct revocation *next;
    DWORD cookie;
};

static SRWLOCK queue_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE queue_cond = CONDITION_VARIABLE_INIT;
static struct ejob *queue_head;        /* queue_lock: linked through notify.queue_next */
static struct revocation *revocations; /* queue_lock */
static BOOL notifier_running;          /* queue_lock */

static DWORD WINAPI notifier_main(void *arg);

/* ---- the queue ---- */

static void start_notifier(void)
{
    HMODULE module;
    HANDLE thread;

    /* The thread keeps the DLL loaded until it leaves with FreeLibraryAndExitThread. */
    if (GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)notifier_main,
                           &module))
    {
        if ((thread = CreateThread(NULL, 0, notifier_main, module, 0, NULL)))
        {
            CloseHandle(thread);
            return;
        }
        FreeLibrary(module);
    }
    ERR("cannot start the notifier: %lu", GetLastError());
    /* The next event tries again. */
    AcquireSRWLockExclusive(&queue_lock);
    notifier_running = FALSE;
    ReleaseSRWLockExclusive(&queue_lock);
}

/* Wakes the notifier, or tells the caller to start it. Caller holds queue_lock. */
static BOOL wake_locked(void)
{
    if (notifier_running)
    {
        WakeConditionVariable(&queue_cond);
        return FALSE;
    }
    notifier_running = TRUE;
    return TRUE;
}

/* Puts the job into the queue, due at `due` (a GetTickCount64 value), or moves its entry
 * earlier. The queue holds a reference. Caller holds job->lock. */
static void schedule(struct ejob *job, ULONGLONG due)
{
    BOOL start = FALSE;

    AcquireSRWLockExclusive(&queue_lock);
    if (!job->notify.queued)
    {
        ejob_addref(job);
        job->notify.queued = TRUE;
        job->notify.ready_at = due;
        job->notify.queue_next = queue_head;
        queue_head = job;
        start = wake_locked();
    }
    else if (due < job->notify.ready_at)
    {
        job->notify.ready_at = due;
        start = wake_locked();
    }
    ReleaseSRWLockExclusive(&queue_lock);
    if (start)
        start_notifier();
}

/* Hands a registration to the notifier for revoking (the caller's thread may have no COM). */
static void queue_revocation(DWORD cookie)
{
    struct revocation *revocation;
    BOOL start;

    if (!(revocation = heap_alloc_zero(sizeof(*revocation))))
    {
        ERR("out of memory: the callback registration %#lx stays", cookie);
        return;
    }
    revocation->cookie = cookie;
    AcquireSRWLockExclusive(&queue_lock);
    revocation->next = revocations;
    revocations = revocation;
    start = wake_locked();
    ReleaseSRWLockExclusive(&queue_lock);
    if (start)
        start_notifier();
}

/* Takes the first job that is due, or tells how long until one is. Caller holds queue_lock. */
static struct ejob *pick_locked(DWORD *wait_ms)
{
    ULONGLONG now = GetTickCount64(), soonest = ~0ull;
    struct ejob **link;

    for (link = &queue_head; *link; link = &(*link)->notify.queue_next)
    {
        struct ejob *job = *link;
        if (job->notify.ready_at <= now)
        {
            *link = job->notify.queue_next;
            job->notify.queue_next = NULL;
            job->notify.queued = FALSE;
            return job;
        }
        soonest = min(soonest, job->notify.ready_at);
    }
    *wait_ms = soonest == ~0ull ? NOTIFY_IDLE_MS : (DWORD)min(soonest - now, NOTIFY_IDLE_MS);
    return NULL;
}

/* ---- hooks (caller holds job->lock exclusively) ---- */

/* The minimum time between two JobModification calls: IBackgroundCopyJob5's
 * BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS (default 500 ms; 0 does not coalesce). */
static ULONG modification_interval(const struct ejob *job)
{
    return job->options.notification_interval_ms;
}

static BOOL silenced(const struct ejob *job)
{
    return (job->notify_flags & BG_NOTIFY_DISABLE) != 0;
}

/* The TRANSFERRED/ERROR event of the job's current state, or 0. */
static ULONG state_event(const struct ejob *job)
{
    if (job->state == BG_JOB_STATE_TRANSFERRED)
        return (job->notify_flags & BG_NOTIFY_JOB_TRANSFERRED) ? NOTIFY_EVENT_TRANSFERRED : 0;
    if (job->state == BG_JOB_STATE_ERROR)
        return (job->notify_flags & BG_NOTIFY_JOB_ERROR) ? NOTIFY_EVENT_ERROR : 0;
    return 0;
}

/* Queues the event of the job's current state for whoever is registered now. */
static void arm_state_event(struct ejob *job)
{
    ULONG event = state_event(job);

    if (!event || silenced(job) ||
        (!job->notify.cookie && !job->notify.program &&
         IsEqualGUID(&job->options.notification_clsid, &GUID_NULL)))
        return;
    job->notify.pending |= event;
    job->notify.attempts = 0;
    job->notify.retry_due = 0;
    schedule(job, GetTickCount64());
}

void notify_modified(struct ejob *job)
{
    struct notify_state *notify = &job->notify;

    if (ejob_is_final(job))
    {
        /* Nothing more is delivered: the notifier lets go of the callback. */
        if (notify->cookie)
            schedule(job, GetTickCount64());
        return;
    }
    if ((notify->pending & NOTIFY_EVENT_MODIFICATION) || !notify->cookie || silenced(job) ||
        !(job->notify_flags & BG_NOTIFY_JOB_MODIFICATION))
        return;
    notify->pending |= NOTIFY_EVENT_MODIFICATION;
    schedule(job, max(GetTickCount64(), notify->modification_due));
}

void notify_state_entered(struct ejob *job)
{
    /* BITS sends no JobModification for the transitions that have their own callback; a
     * new entry supersedes a retry of the previous one. */
    job->notify.pending &=
        ~(NOTIFY_EVENT_MODIFICATION | NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
    arm_state_event(job);
}

void notify_file_transferred(struct ejob *job, ULONG index)
{
    struct notify_state *notify = &job->notify;

    if (!notify->cookie || silenced(job) || !(job->notify_flags & BG_NOTIFY_FILE_TRANSFERRED))
        return;
    if (notify->file_count == notify->file_capacity)
    {
        ULONG capacity = max(8, notify->file_capacity * 2);
        ULONG *grown = HeapAlloc(GetProcessHeap(), 0, capacity * sizeof(*grown));
        if (!grown)
        {
            WARN("out of memory: no FileTransferred for file %lu", index);
            return;
        }
        if (notify->file_count)
            memcpy(grown, notify->files, notify->file_count * sizeof(*grown));
        heap_free(notify->files);
        notify->files = grown;
        notify->file_capacity = capacity;
    }
    notify->files[notify->file_count++] = index;
    schedule(job, GetTickCount64());
}

void notify_job_release(struct ejob *job)
{
    /* The queue holds a reference, so a job being freed is in no queue. */
    if (job->notify.cookie)
        queue_revocation(job->notify.cookie);
    free_str(job->notify.program);
    free_str(job->notify.parameters);
    heap_free(job->notify.files);
}

/* ---- registration (client threads, no lock held) ---- */

static HRESULT get_git(IGlobalInterfaceTable **git)
{
    return CoCreateInstance(&CLSID_StdGlobalInterfaceTable, NULL, CLSCTX_INPROC_SERVER,
                            &IID_IGlobalInterfaceTable, (void **)git);
}

/* Revokes a registration from this thread if it can use COM, else from the notifier. */
static void revoke(DWORD cookie)
{
    IGlobalInterfaceTable *git;

    if (SUCCEEDED(get_git(&git)))
    {
        IGlobalInterfaceTable_RevokeInterfaceFromGlobal(git, cookie);
        IGlobalInterfaceTable_Release(git);
    }
    else
    {
        queue_revocation(cookie);
    }
}

HRESULT notify_set_callback(struct ejob *job, IUnknown *callback, enum dialect dialect)
{
    IBackgroundCopyCallback *typed;
    IGlobalInterfaceTable *git;
    DWORD cookie = 0, old = 0;
    HRESULT hr = S_OK;

    if (callback)
    {
        /* BITS documents no code for an object that is no callback; it is a bad argument. */
        if (FAILED(
                IUnknown_QueryInterface(callback, &IID_IBackgroundCopyCallback, (void **)&typed)))
            return E_INVALIDARG;
        if (SUCCEEDED(hr = get_git(&git)))
        {
            hr = IGlobalInterfaceTable_RegisterInterfaceInGlobal(
                git, (IUnknown *)typed, &IID_IBackgroundCopyCallback, &cookie);
            IGlobalInterfaceTable_Release(git);
        }
        IBackgroundCopyCallback_Release(typed);
        if (FAILED(hr))
        {
            WARN("cannot register the callback: %08lx", hr);
            return hr;
        }
    }

    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
    {
        hr = BG_E_INVALID_STATE;
        old = cookie;
    }
    else
    {
        old = job->notify.cookie;
        job->notify.cookie = cookie;
        job->notify.dialect = dialect;
        /* The files already announced were meant for the previous callback. */
        job->notify.file_count = 0;
        job->notify.pending &= ~NOTIFY_EVENT_MODIFICATION;
        ejob_touch(job);
        /* BITS calls a new callback even for an event that happened before it came. */
        if (cookie)
            arm_state_event(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
    if (old)
        revoke(old);
    return hr;
}

HRESULT notify_get_callback(struct ejob *job, IUnknown **out)
{
    IGlobalInterfaceTable *git;
    DWORD cookie, now;
    HRESULT hr;

    *out = NULL;
    AcquireSRWLockShared(&job->lock);
    cookie = job->notify.cookie;
    ReleaseSRWLockShared(&job->lock);
    if (!cookie)
        return S_OK;
    if (FAILED(hr = get_git(&git)))
        return hr;
    for (;;)
    {
        hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(git, cookie, &IID_IBackgroundCopyCallback,
                                                          (void **)out);
        if (SUCCEEDED(hr))
            break;
        *out = NULL;
        /* Another thread may have replaced the registration meanwhile: answer for the new one. */
        AcquireSRWLockShared(&job->lock);
        now = job->notify.cookie;
        ReleaseSRWLockShared(&job->lock);
        if (now == cookie)
            break;
        if (!(cookie = now))
        {
            hr = S_OK;
            break;
        }
    }
    IGlobalInterfaceTable_Release(git);
    return hr;
}

HRESULT notify_set_cmdline(struct ejob *job, const WCHAR *program, const WCHAR *parameters)
{
    WCHAR *new_program = NULL, *new_parameters = NULL;
    HRESULT hr = S_OK;

    if (!program && parameters)
        return E_INVALIDARG;
    if (program && wcslen(program) > MAX_PROGRAM)
        return BG_E_STRING_TOO_LONG;
    if (parameters && wcslen(parameters) > MAX_PARAMETERS)
        return BG_E_STRING_TOO_LONG;
    /* GetNotifyCmdLine reports an unset command line as two empty strings: setting those
     * unsets it. */
    if (program && !*program)
    {
        if (parameters && *parameters)
            return E_INVALIDARG;
        program = parameters = NULL;
    }
    if (program && !(new_program = heap_strdup(program)))
        return E_OUTOFMEMORY;
    if (parameters && !(new_parameters = heap_strdup(parameters)))
    {
        free_str(new_program);
        return E_OUTOFMEMORY;
    }

    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
        hr = BG_E_INVALID_STATE;
    else
    {
        WCHAR *swap = job->notify.program;
        job->notify.program = new_program;
        new_program = swap;
        swap = job->notify.parameters;
        job->notify.parameters = new_parameters;
        new_parameters = swap;
        ejob_touch(job);
        /* BITS runs the command line even when it is set after the event. */
        if (job->notify.program)
            arm_state_event(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
    free_str(new_program);
    free_str(new_parameters);
    return hr;
}

HRESULT notify_get_cmdline(struct ejob *job, WCHAR **program, WCHAR **parameters)
{
    HRESULT hr;

    *program = *parameters = NULL;
    AcquireSRWLockShared(&job->lock);
    if (SUCCEEDED(hr = cotask_strdup(job->notify.program, program)) &&
        FAILED(hr = cotask_strdup(job->notify.parameters, parameters)))
    {
        CoTaskMemFree(*program);
        *program = NULL;
    }
    ReleaseSRWLockShared(&job->lock);
    return hr;
}

HRESULT notify_run_program(const WCHAR *program, const WCHAR *parameters)
{
    STARTUPINFOW startup = {sizeof(startup)};
    PROCESS_INFORMATION process;
    WCHAR *command_line = NULL;
    HRESULT hr = S_OK;

    /* As BITS does: the program is the application name and the parameters are the whole
     * command line, so that they usually start with the program's name. */
    TRACE("%s %s", debugstr_w(program), debugstr_w(parameters));
    if (parameters && !(command_line = heap_strdup(parameters)))
        return E_OUTOFMEMORY;
    if (CreateProcessW(program, command_line, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL,
                       &startup, &process))
    {
        CloseHandle(process.hThread);
        CloseHandle(process.hProcess);
    }
    else
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        WARN("cannot start %s: %08lx", debugstr_w(program), hr);
    }
    free_str(command_line);
    return hr;
}

/* ---- delivery (the notifier thread, no lock held unless said) ---- */

/* What one pass over a job delivers, copied under the job's lock. */
struct delivery
{
    ULONG flags;
    DWORD cookie;
    enum dialect dialect;
    ULONG events; /* NOTIFY_EVENT_* due now */
    ULONG *files; /* FileTransferred indices (owned) */
    ULONG file_count;
    GUID clsid;     /* NOTIFICATION_CLSID: made when no live callback is registered */
    WCHAR *program; /* copies, for TRANSFERRED/ERROR */
    WCHAR *parameters;
    BG_ERROR_CONTEXT context; /* the job's error, for ERROR */
    HRESULT code;
    LONG file_index;
    /* results */
    BOOL dropped; /* the callback's object is gone */
    ULONG retry;  /* events to try again later */
};

static BOOL disconnected(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == CO_E_OBJNOTCONNECTED || hr == RPC_E_SERVER_DIED ||
           hr == RPC_E_SERVER_DIED_DNE || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
}

/* Copies what is due under the lock. Returns the registration to revoke (final job), or 0. */
static DWORD take(struct ejob *job, struct delivery *d, ULONGLONG now)
{
    struct notify_state *notify = &job->notify;
    DWORD revoked = 0;

    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
    {
        revoked = notify->cookie;
        notify->cookie = 0;
        notify->pending = 0;
        notify->file_count = 0;
        goto out;
    }
    if (silenced(job))
    {
        notify->pending = 0;
        notify->file_count = 0;
        goto out;
    }
    /* A JobTransferred/JobError is only due while the job is still in that state. */
    if (job->state != BG_JOB_STATE_TRANSFERRED)
        notify->pending &= ~NOTIFY_EVENT_TRANSFERRED;
    if (job->state != BG_JOB_STATE_ERROR)
        notify->pending &= ~NOTIFY_EVENT_ERROR;

    d->flags = job->notify_flags;
    d->cookie = notify->cookie;
    d->dialect = notify->dialect;
    if ((notify->pending & NOTIFY_EVENT_MODIFICATION) && now >= notify->modification_due)
    {
        d->events |= NOTIFY_EVENT_MODIFICATION;
        notify->modification_due = now + modification_interval(job);
    }
    if ((notify->pending & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR)) &&
        now >= notify->retry_due)
    {
        d->events |= notify->pending & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
        d->clsid = job->options.notification_clsid;
        d->program = heap_strdup(notify->program);
        d->parameters = heap_strdup(notify->parameters);
        d->context = job->error.context;
        d->code = job->error.code;
        d->file_index = job->error.file_index;
    }
    notify->pending &= ~d->events;
    if (notify->file_count)
    {
        d->files = notify->files;
        d->file_count = notify->file_count;
        notify->files = NULL;
        notify->file_count = notify->file_capacity = 0;
    }
out:
    ReleaseSRWLockExclusive(&job->lock);
    return revoked;
}

/* JobTransferred or JobError, with the command line as the fallback. Returns the HRESULT that
 * decides a retry: S_OK when nothing needs trying again. */
static HRESULT deliver_state(struct ejob *job, struct delivery *d,
                             IBackgroundCopyCallback *callback, IBackgroundCopyJob *iface,
                             ULONG event)
{
    IBackgroundCopyError *error = NULL;
    HRESULT hr;

    if (callback && !d->dropped)
    {
        TRACE("job %s: event %#lx", debugstr_guid(&job->id), event);
        if (event == NOTIFY_EVENT_TRANSFERRED)
            hr = IBackgroundCopyCallback_JobTransferred(callback, iface);
        else if (SUCCEEDED(hr = error_create(job, d->dialect, d->context, d->code, d->file_index,
                                             &error)))
        {
            hr = IBackgroundCopyCallback_JobError(callback, iface, error);
            IBackgroundCopyError_Release(error);
        }
        if (hr == S_OK)
            return S_OK;
        TRACE("job %s: the callback answered %08lx", debugstr_guid(&job->id), hr);
        if (disconnected(hr))
            d->dropped = TRUE;
        else if (!d->program)
            return hr;
        /* BITS runs the command line when the callback fails, and then does not call it
         * again for this event. */
    }
    if (!d->program)
        return S_OK;
    return notify_run_program(d->program, d->parameters);
}

static void deliver(IGlobalInterfaceTable *git, struct ejob *job, struct delivery *d)
{
    IBackgroundCopyCallback *callback = NULL;
    IBackgroundCopyCallback2 *callback2;
    IBackgroundCopyFile *file;
    IBackgroundCopyJob *iface;
    HRESULT hr;

    if (FAILED(hr = job_create(job, d->dialect, &iface)))
    {
        d->retry = d->events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
        return;
    }
    if (d->cookie && git)
    {
        hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(
            git, d->cookie, &IID_IBackgroundCopyCallback, (void **)&callback);
        if (FAILED(hr))
        {
            /* A revoked cookie means that a new registration replaced it: that one has its
             * own events queued. */
            WARN("job %s: no callback (%08lx)", debugstr_guid(&job->id), hr);
            callback = NULL;
            if (disconnected(hr))
                d->dropped = TRUE;
        }
    }

    /* No live callback object: as BITS does, a registered notification class is created (out
     * of process) for JobTransferred/JobError. */
    if (!callback && (d->events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR)) &&
        !IsEqualGUID(&d->clsid, &GUID_NULL))
    {
        hr = CoCreateInstance(&d->clsid, NULL, CLSCTX_LOCAL_SERVER, &IID_IBackgroundCopyCallback,
                              (void **)&callback);
        if (FAILED(hr))
        {
            WARN("job %s: cannot create the notification class %s: %08lx", debugstr_guid(&job->id),
                 debugstr_guid(&d->clsid), hr);
            callback = NULL;
        }
    }
    if (callback && d->file_count && (d->flags & BG_NOTIFY_FILE_TRANSFERRED) &&
        SUCCEEDED(IBackgroundCopyCallback_QueryInterface(callback, &IID_IBackgroundCopyCallback2,
                                                         (void **)&callback2)))
    {
        for (ULONG i = 0; i < d->file_count && !d->dropped; i++)
        {
            if (FAILED(file_create(job, d->files[i], d->dialect, &file)))
                continue;
            hr = IBackgroundCopyCallback2_FileTransferred(callback2, iface, file);
            IBackgroundCopyFile_Release(file);
            if (disconnected(hr))
                d->dropped = TRUE;
        }
        IBackgroundCopyCallback2_Release(callback2);
    }
    if (d->events & NOTIFY_EVENT_TRANSFERRED && (d->flags & BG_NOTIFY_JOB_TRANSFERRED) &&
        FAILED(deliver_state(job, d, callback, iface, NOTIFY_EVENT_TRANSFERRED)))
        d->retry |= NOTIFY_EVENT_TRANSFERRED;
    if (d->events & NOTIFY_EVENT_ERROR && (d->flags & BG_NOTIFY_JOB_ERROR) &&
        FAILED(deliver_state(job, d, callback, iface, NOTIFY_EVENT_ERROR)))
        d->retry |= NOTIFY_EVENT_ERROR;
    /* Changes that come with a JobTransferred/JobError happened after it: modifications last. */
    if (callback && !d->dropped && (d->events & NOTIFY_EVENT_MODIFICATION) &&
        (d->flags & BG_NOTIFY_JOB_MODIFICATION))
    {
        hr = IBackgroundCopyCallback_JobModification(callback, iface, 0);
        if (disconnected(hr))
            d->dropped = TRUE;
    }
    if (callback)
        IBackgroundCopyCallback_Release(callback);
    IBackgroundCopyJob_Release(iface);
}

/* Records the outcome and queues what is left. Returns a registration to revoke, or 0. */
static DWORD settle(struct ejob *job, struct delivery *d)
{
    struct notify_state *notify = &job->notify;
    ULONGLONG now = GetTickCount64(), due = ~0ull;
    DWORD revoked = 0;

    AcquireSRWLockExclusive(&job->lock);
    if (d->dropped && notify->cookie == d->cookie)
    {
        WARN("job %s: the callback's object is gone", debugstr_guid(&job->id));
        revoked = notify->cookie;
        notify->cookie = 0;
    }
    if (d->retry && !(notify->pending & d->retry) && (d->retry & state_event(job)) &&
        !silenced(job))
    {
        if (++notify->attempts < NOTIFY_MAX_ATTEMPTS)
        {
            notify->pending |= d->retry & state_event(job);
            notify->retry_due = now + NOTIFY_RETRY_MS;
        }
        else
            WARN("job %s: giving up after %lu deliveries", debugstr_guid(&job->id),
                 notify->attempts);
    }
    else if (d->events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR))
    {
        notify->attempts = 0;
    }
    if (ejob_is_final(job) && notify->cookie)
        due = now;
    if (notify->file_count)
        due = now;
    if (notify->pending & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR))
        due = min(due, max(now, notify->retry_due));
    if (notify->pending & NOTIFY_EVENT_MODIFICATION)
        due = min(due, max(now, notify->modification_due));
    if (due != ~0ull)
        schedule(job, due);
    ReleaseSRWLockExclusive(&job->lock);
    return revoked;
}

static void process(IGlobalInterfaceTable *git, struct ejob *job)
{
    struct delivery d = {0};
    DWORD revoked;

    if ((revoked = take(job, &d, GetTickCount64())))
        goto out;
    if (d.events || d.file_count)
    {
        deliver(git, job, &d);
        revoked = settle(job, &d);
    }
out:
    TRACE("job %s: events %#lx, %lu files, revoking %#lx", debugstr_guid(&job->id), d.events,
          d.file_count, revoked);
    if (revoked && git)
        IGlobalInterfaceTable_RevokeInterfaceFromGlobal(git, revoked);
    free_str(d.program);
    free_str(d.parameters);
    heap_free(d.files);
}

static DWORD WINAPI notifier_main(void *arg)
{
    HMODULE module = arg;
    IGlobalInterfaceTable *git = NULL;
    struct revocation *revoking;
    struct ejob *job;
    DWORD wait_ms;
    HRESULT init;

    /* An MTA thread: the Global Interface Table gives it proxies to single-threaded
     * apartments and direct pointers to everything else. */
    init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(get_git(&git)))
    {
        ERR("no Global Interface Table: callbacks cannot be delivered");
        git = NULL;
    }

    AcquireSRWLockExclusive(&queue_lock);
    for (;;)
    {
        if ((revoking = revocations))
        {
            revocations = NULL;
            ReleaseSRWLockExclusive(&queue_lock);
            while (revoking)
            {
                struct revocation *next = revoking->next;
                TRACE("revoking %#lx", revoking->cookie);
                if (git)
                    IGlobalInterfaceTable_RevokeInterfaceFromGlobal(git, revoking->cookie);
                heap_free(revoking);
                revoking = next;
            }
            AcquireSRWLockExclusive(&queue_lock);
            continue;
        }
        if (!(job = pick_locked(&wait_ms)))
        {
            if (!SleepConditionVariableSRW(&queue_cond, &queue_lock, wait_ms, 0) && !queue_head &&
                !revocations)
                break;
            continue;
        }
        ReleaseSRWLockExclusive(&queue_lock);

        process(git, job);
        /* The last reference may go here: ejob_release queues the job's revocation. */
        ejob_release(job);

        AcquireSRWLockExclusive(&queue_lock);
    }
    notifier_running = FALSE;
    ReleaseSRWLockExclusive(&queue_lock);

    if (git)
        IGlobalInterfaceTable_Release(git);
    if (SUCCEEDED(init))
        CoUninitialize();
    FreeLibraryAndExitThread(module, 0);
    return 0;
}
