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
 * One notifier thread, started by the first registration for events (notify_start: never from
 * a hook, which runs under a job lock) and kept for the life of the process, takes a job from
 * the queue when it is due, copies what it needs under the job's lock (flags, the registered
 * sink, the command line, the error), drops the lock and hands the events to the layer above
 * (engine_events.deliver: the COM layer calls FileTransferred for each finished file, then
 * JobTransferred or JobError, then JobModification, in the client's apartment). JobModification
 * is coalesced to one per minimum notification interval and never sent for the transitions
 * into TRANSFERRED or ERROR themselves. JobTransferred and JobError fall back to the command
 * line when nobody took them (no sink, a sink whose client failed, or one that is gone). A
 * failed JobTransferred/JobError without a command line is retried every NOTIFY_RETRY_MS, a
 * bounded number of times, for as long as the job stays in that state. BG_NOTIFY_DISABLE
 * silences all.
 *
 * The sink is reference-counted: the job holds one while it is registered, a delivery holds
 * one while it runs. The last release frees it through the layer above, on whatever thread
 * that happens.
 *
 * Locks: queue_lock is innermost: the hooks take it under job->lock; nothing is taken while it
 * is held. The notifier takes job->lock only without queue_lock, and holds no lock while it
 * delivers, releases a sink or calls CreateProcess.
 */

#include <string.h>
#include "engine/engine.h"

#define NOTIFY_RETRY_MS 5000
#define NOTIFY_MAX_ATTEMPTS 60
#define MAX_PROGRAM MAX_PATH
#define MAX_PARAMETERS 4000

static SRWLOCK queue_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE queue_cond = CONDITION_VARIABLE_INIT;
static struct ejob *queue_head;            /* queue_lock: linked through notify.queue_next */
static BOOL notifier_running;              /* queue_lock */
static const struct engine_events *events; /* set once by the layer above */

static DWORD WINAPI notifier_main(void *arg);

/* ---- the queue ---- */

HRESULT notify_start(void)
{
    HMODULE module;
    HANDLE thread;
    HRESULT hr;

    AcquireSRWLockExclusive(&queue_lock);
    if (notifier_running)
    {
        ReleaseSRWLockExclusive(&queue_lock);
        return S_OK;
    }
    notifier_running = TRUE;
    ReleaseSRWLockExclusive(&queue_lock);

    /* The thread keeps the DLL loaded for as long as the process lives. */
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)notifier_main,
                            &module))
        hr = HRESULT_FROM_WIN32(GetLastError());
    else if (FAILED(hr = engine_fault("THREAD_NOTIFY")) ||
             !(thread = CreateThread(NULL, 0, notifier_main, module, 0, NULL)))
    {
        if (SUCCEEDED(hr))
            hr = HRESULT_FROM_WIN32(GetLastError());
        FreeLibrary(module);
    }
    else
    {
        CloseHandle(thread);
        return S_OK;
    }
    ERR("cannot start the notifier: %08lx", hr);
    /* The registration that asked fails; the next one tries again. */
    AcquireSRWLockExclusive(&queue_lock);
    notifier_running = FALSE;
    ReleaseSRWLockExclusive(&queue_lock);
    return hr;
}

/* Puts the job into the queue, due at `due` (a GetTickCount64 value), or moves its entry
 * earlier. The queue holds a reference. Caller holds job->lock. */
static void schedule(struct ejob *job, ULONGLONG due)
{
    AcquireSRWLockExclusive(&queue_lock);
    if (!job->notify.queued)
    {
        ejob_addref(job);
        job->notify.queued = TRUE;
        job->notify.ready_at = due;
        job->notify.queue_next = queue_head;
        queue_head = job;
        WakeConditionVariable(&queue_cond);
    }
    else if (due < job->notify.ready_at)
    {
        job->notify.ready_at = due;
        WakeConditionVariable(&queue_cond);
    }
    ReleaseSRWLockExclusive(&queue_lock);
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
    *wait_ms = soonest == ~0ull ? INFINITE : (DWORD)min(soonest - now, INFINITE - 1);
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

    /* A mirror's command line and notification class are its owner's to serve. */
    if (!event || silenced(job) ||
        (!job->notify.sink &&
         (job->remote ||
          (!job->notify.program && IsEqualGUID(&job->options.notification_clsid, &GUID_NULL)))))
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
        if (notify->sink)
            schedule(job, GetTickCount64());
        return;
    }
    if ((notify->pending & NOTIFY_EVENT_MODIFICATION) || !notify->sink || silenced(job) ||
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

/* Takes up to `max` files off the FileTransferred queue, writing their indices to `indices`
 * (NULL: drops them). Returns how many. Caller holds job->lock exclusively. */
static ULONG dequeue_files(struct notify_state *notify, ULONG *indices, ULONG max)
{
    ULONG n = 0;

    while (notify->files && n < max)
    {
        struct ejob_file *file = notify->files;
        notify->files = file->notify_next;
        file->notify_next = NULL;
        file->notify_queued = FALSE;
        if (indices)
            indices[n] = file->notify_index;
        n++;
    }
    if (!notify->files)
        notify->files_tail = NULL;
    notify->file_count -= n;
    return n;
}

void notify_file_transferred(struct ejob *job, ULONG index)
{
    struct notify_state *notify = &job->notify;
    struct ejob_file *file = job->files[index];

    if (!notify->sink || silenced(job) || !(job->notify_flags & BG_NOTIFY_FILE_TRANSFERRED))
        return;
    /* A file transferred again (after SetValidationState(FALSE)) before its first call went
     * out gets one call. */
    if (file->notify_queued)
        return;
    file->notify_queued = TRUE;
    file->notify_index = index;
    file->notify_next = NULL;
    if (notify->files_tail)
        notify->files_tail->notify_next = file;
    else
        notify->files = file;
    notify->files_tail = file;
    notify->file_count++;
    schedule(job, GetTickCount64());
}

void notify_job_release(struct ejob *job)
{
    /* The queue holds a reference, so a job being freed is in no queue. */
    notify_sink_release(job->notify.sink);
    free_str(job->notify.program);
    free_str(job->notify.parameters);
}

/* ---- registration (client threads, no lock held) ---- */

void engine_set_events(const struct engine_events *table)
{
    InterlockedExchangePointer((void **)&events, (void *)table);
}

HRESULT notify_set_sink(struct ejob *job, struct notify_sink *sink)
{
    struct notify_sink *old;
    HRESULT hr = S_OK;

    /* The thread that will deliver the events first: a registration nobody would serve is
     * refused. */
    if (sink && FAILED(hr = notify_start()))
        return hr;
    if (sink)
        notify_sink_addref(sink);
    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
    {
        hr = BG_E_INVALID_STATE;
        old = sink;
    }
    else
    {
        old = job->notify.sink;
        job->notify.sink = sink;
        /* The files already announced were meant for the previous client. */
        dequeue_files(&job->notify, NULL, ~0u);
        job->notify.pending &= ~NOTIFY_EVENT_MODIFICATION;
        /* A callback is this process's affair: the owner of a mirrored job hears nothing. */
        if (job->remote)
            notify_modified(job);
        else
            ejob_touch(job);
        /* BITS calls a new callback even for an event that happened before it came. */
        if (sink)
            arm_state_event(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
    notify_sink_release(old);
    return hr;
}

struct notify_sink *notify_get_sink(struct ejob *job)
{
    struct notify_sink *sink;

    AcquireSRWLockShared(&job->lock);
    if ((sink = job->notify.sink))
        notify_sink_addref(sink);
    ReleaseSRWLockShared(&job->lock);
    return sink;
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
    /* A mirror's command line is set, and run, by the process that owns the job. */
    if (share_forward(job, SHARE_SET_CMDLINE, &(struct share_args){.a = program, .b = parameters},
                      &hr))
        return hr;
    if (program && FAILED(hr = notify_start()))
        return hr;
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
    const struct locked_string strings[] = {
        {&job->notify.program, program},
        {&job->notify.parameters, parameters},
    };

    return cotask_strdup_locked(&job->lock, strings, ARRAY_SIZE(strings), NULL, NULL);
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
struct pass
{
    struct notify_sink *sink; /* a reference, or NULL */
    struct notify_delivery delivery;
    ULONG *files; /* owned: delivery.files */
    ULONG retry;  /* events to try again later */
    BOOL mirror;  /* the job is another process's: its command line runs there */
};

/* Copies what is due under the lock. Returns the sink to let go of (final or silenced job). */
static struct notify_sink *take(struct ejob *job, struct pass *pass, ULONGLONG now)
{
    struct notify_state *notify = &job->notify;
    struct notify_delivery *d = &pass->delivery;
    struct notify_sink *released = NULL;
    ULONG due, queued;

    d->file_index = -1;
    /* The array for the files is made before the lock is taken: no allocation under it. Files
     * queued meanwhile wait for the next pass. */
    AcquireSRWLockShared(&job->lock);
    queued = notify->file_count;
    ReleaseSRWLockShared(&job->lock);
    if (queued && (FAILED(engine_fault("ALLOC_NOTIFY")) ||
                   !(pass->files = HeapAlloc(GetProcessHeap(), 0, queued * sizeof(*pass->files)))))
    {
        /* Nothing goes out without its files, or a JobTransferred would overtake the last
         * FileTransferred: the whole pass waits. */
        AcquireSRWLockExclusive(&job->lock);
        schedule(job, GetTickCount64() + NOTIFY_RETRY_MS);
        ReleaseSRWLockExclusive(&job->lock);
        return NULL;
    }
    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
    {
        released = notify->sink;
        notify->sink = NULL;
        notify->pending = 0;
        dequeue_files(notify, NULL, ~0u);
        goto out;
    }
    if (silenced(job))
    {
        notify->pending = 0;
        dequeue_files(notify, NULL, ~0u);
        goto out;
    }
    /* A JobTransferred/JobError is only due while the job is still in that state. */
    if (job->state != BG_JOB_STATE_TRANSFERRED)
        notify->pending &= ~NOTIFY_EVENT_TRANSFERRED;
    if (job->state != BG_JOB_STATE_ERROR)
        notify->pending &= ~NOTIFY_EVENT_ERROR;

    if ((pass->sink = notify->sink))
        notify_sink_addref(pass->sink);
    due = 0;
    if ((notify->pending & NOTIFY_EVENT_MODIFICATION) && now >= notify->modification_due)
    {
        due |= NOTIFY_EVENT_MODIFICATION;
        notify->modification_due = now + modification_interval(job);
    }
    if ((notify->pending & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR)) &&
        now >= notify->retry_due)
    {
        due |= notify->pending & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
        d->clsid = job->remote ? GUID_NULL : job->options.notification_clsid;
        pass->mirror = job->remote;
        d->context = job->error.context;
        d->code = job->error.code;
        d->file_index = job->error.file_index;
    }
    notify->pending &= ~due;
    /* The flags may have changed since the events were marked. */
    if (!(job->notify_flags & BG_NOTIFY_JOB_TRANSFERRED))
        due &= ~NOTIFY_EVENT_TRANSFERRED;
    if (!(job->notify_flags & BG_NOTIFY_JOB_ERROR))
        due &= ~NOTIFY_EVENT_ERROR;
    if (!(job->notify_flags & BG_NOTIFY_JOB_MODIFICATION))
        due &= ~NOTIFY_EVENT_MODIFICATION;
    d->events = due;
    if (!(job->notify_flags & BG_NOTIFY_FILE_TRANSFERRED))
        dequeue_files(notify, NULL, ~0u);
    else if (pass->files)
    {
        d->files = pass->files;
        d->file_count = dequeue_files(notify, pass->files, queued);
    }
out:
    ReleaseSRWLockExclusive(&job->lock);
    return released;
}

/* Hands the pass to the layer above, then runs the command line for a JobTransferred/JobError
 * that no client took. Records in pass->retry what must be tried again. */
static void deliver(struct ejob *job, struct pass *pass)
{
    struct notify_delivery *d = &pass->delivery;
    const struct engine_events *table = events;
    const ULONG state_events = d->events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
    WCHAR *program, *parameters;
    const struct locked_string strings[] = {
        {&job->notify.program, &program, TRUE},
        {&job->notify.parameters, &parameters, TRUE},
    };

    if (table &&
        (pass->sink || d->file_count || (state_events && !IsEqualGUID(&d->clsid, &GUID_NULL))))
        table->deliver(job, pass->sink, d);
    if (!state_events || (d->delivered & state_events) == state_events)
        return;
    /* BITS runs the command line when no callback took the event (none, or one that failed),
     * and then does not call the callback again for this event. */
    if (FAILED(cotask_strdup_locked(&job->lock, strings, ARRAY_SIZE(strings), NULL, NULL)))
    {
        pass->retry = state_events & ~d->delivered;
        return;
    }
    if (program && !pass->mirror)
    {
        if (FAILED(notify_run_program(program, parameters)))
            pass->retry = state_events & ~d->delivered;
    }
    else if (!d->dropped)
        pass->retry = d->failed & state_events;
    CoTaskMemFree(program);
    CoTaskMemFree(parameters);
}

/* Records the outcome and queues what is left. Returns the sink to let go of, or NULL. */
static struct notify_sink *settle(struct ejob *job, struct pass *pass)
{
    struct notify_state *notify = &job->notify;
    ULONGLONG now = GetTickCount64(), due = ~0ull;
    struct notify_sink *released = NULL;

    AcquireSRWLockExclusive(&job->lock);
    if (pass->delivery.dropped && pass->sink && notify->sink == pass->sink)
    {
        WARN("job %s: the callback's object is gone", debugstr_guid(&job->id));
        released = notify->sink;
        notify->sink = NULL;
    }
    if (pass->retry && !(notify->pending & pass->retry) && (pass->retry & state_event(job)) &&
        !silenced(job))
    {
        if (++notify->attempts < NOTIFY_MAX_ATTEMPTS)
        {
            notify->pending |= pass->retry & state_event(job);
            notify->retry_due = now + NOTIFY_RETRY_MS;
        }
        else
            WARN("job %s: giving up after %lu deliveries", debugstr_guid(&job->id),
                 notify->attempts);
    }
    else if (pass->delivery.events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR))
    {
        notify->attempts = 0;
    }
    if (ejob_is_final(job) && notify->sink)
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
    return released;
}

static void process(struct ejob *job)
{
    struct pass pass = {0};
    struct notify_sink *released;

    if (!(released = take(job, &pass, GetTickCount64())) &&
        (pass.delivery.events || pass.delivery.file_count))
    {
        deliver(job, &pass);
        released = settle(job, &pass);
    }
    TRACE("job %s: events %#lx, %lu files, releasing %p", debugstr_guid(&job->id),
          pass.delivery.events, pass.delivery.file_count, released);
    notify_sink_release(released);
    notify_sink_release(pass.sink);
    heap_free(pass.files);
}

static DWORD WINAPI notifier_main(void *arg)
{
    struct ejob *job;
    DWORD wait_ms;

    /* The layer above calls clients from this thread: it lives in the multithreaded apartment,
     * which reaches a single-threaded apartment's objects through proxies. It never leaves:
     * the hooks that queue events run under job locks, where no thread may be started, so the
     * thread is started once, by the first registration (notify_start), and stays. */
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    AcquireSRWLockExclusive(&queue_lock);
    for (;;)
    {
        if (!(job = pick_locked(&wait_ms)))
        {
            SleepConditionVariableSRW(&queue_cond, &queue_lock, wait_ms, 0);
            continue;
        }
        ReleaseSRWLockExclusive(&queue_lock);

        process(job);
        /* The last reference may go here, and the sink's with it. */
        ejob_release(job);

        AcquireSRWLockExclusive(&queue_lock);
    }
    return 0;
}
