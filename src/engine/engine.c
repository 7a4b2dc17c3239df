/* SPDX-License-Identifier: MIT */
/* The job model, its state machine and the scheduler that hands queued jobs to workers. */

/*
 * Design
 * ------
 * A job (struct ejob) is plain C. The job table (jobs.c) owns it from its creation until it
 * is final; COM job objects in job.c wrap it and hold a reference; the scheduler queue and a
 * running worker hold references of their own, so a job outlives every COM pointer that still
 * transfers.
 *
 * State machine (BITS): CreateJob -> SUSPENDED. Resume -> QUEUED; a worker takes the job ->
 * TRANSFERRING -> TRANSFERRED when every file is on disk, ERROR on a fatal failure, or
 * TRANSIENT_ERROR, from which the scheduler retries after the minimum retry delay until the
 * no-progress timeout turns it into ERROR. Suspend stops work; Cancel and Complete are final
 * (CANCELLED, ACKNOWLEDGED).
 *
 * Stopping a worker: control operations change the state and bump job->generation under the
 * job lock; the worker compares its generation with the job's after every buffer and gives up
 * at the first mismatch. The control operation then waits on worker_idle until the worker has
 * closed its files, but only for ENGINE_STOP_WAIT_MS: a worker can be stuck where no generation
 * is looked at (synchronous proxy detection, a ReadFile on a hung share, FlushFileBuffers, a
 * client's IStream::Write), and Suspend, Cancel and Complete must return all the same. Nothing
 * is lost by not waiting: a stopped worker changes neither the state nor the counters again,
 * and it keeps worker_active set until it is gone, so no second worker starts on the job's
 * files (a queue entry that comes up meanwhile sets job->rerun, and the stopped worker queues
 * the job again as it leaves). Cancel and Complete delete the temporary files of unfinished
 * files even while the stuck worker holds one open (it opened it with FILE_SHARE_DELETE); the
 * worker deletes it again when it returns, in case it created it anew. Complete renames only
 * finished files, and a worker never writes to a finished file again.
 *
 * A file is finished (ejob_file.finished) when its bytes are all in, flushed to disk and the
 * source's ACLs copied; the worker then counts it in FilesTransferred and queues FileTransferred
 * in the same lock hold. A file whose bytes all arrived but whose finishing failed or was
 * interrupted is finished by the next run without asking its source again.
 *
 * The scheduler is a list of (job, generation, priority, ready time) entries and a small pool
 * of worker threads that start on demand and leave after a few idle seconds. A stale entry
 * (its generation is no longer the job's) is dropped when it comes up. Workers hold a module
 * reference while they run, so the DLL cannot be unloaded under them. Jobs with
 * BITS_JOB_PROPERTY_HIGH_PERFORMANCE have a larger connection budget: up to MAX_HP_WORKERS more
 * workers that serve only such jobs, so that they do not wait behind the ordinary ones. The
 * same extra workers serve FOREGROUND jobs, which BITS and DO run beside the background ones:
 * a foreground job does not wait for background jobs to end (a bandwidth cap can make those
 * last hours).
 *
 * Nothing slow happens under job->lock: queue entries are allocated and worker threads started
 * outside it (Resume allocates its entry before it takes any lock, so that it fails without a
 * change; engine_submit is reached after the job's locks were dropped); file I/O happens under
 * op_lock only (control operations) or under no lock (workers). A job that cannot be queued
 * for want of memory goes to ERROR; a worker that cannot start leaves its entry queued for the
 * next worker that does.
 *
 * Lock order: see engine.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/engine.h"
#include "core/url.h"
#include "core/ranges.h"

#define MAX_WORKERS 4
/* Extra workers that take only HIGH_PERFORMANCE and FOREGROUND jobs, beyond MAX_WORKERS. */
#define MAX_HP_WORKERS 4
#define WORKER_IDLE_MS 5000
#define DEFAULT_MIN_RETRY_DELAY 600
#define DEFAULT_NO_PROGRESS_TIMEOUT 1209600
#define MAX_DISPLAY_NAME 256

struct queue_entry
{
    struct queue_entry *next;
    struct ejob *job;
    LONG generation;
    BG_JOB_PRIORITY priority;
    ULONGLONG ready_at;    /* GetTickCount64() value */
    ULONGLONG sequence;    /* FIFO order within a priority */
    BOOL high_performance; /* the job's HIGH_PERFORMANCE property, or a FOREGROUND job: the
                            * extra workers take it */
};

static SRWLOCK queue_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE queue_cond = CONDITION_VARIABLE_INIT;
static struct queue_entry *queue_head; /* queue_lock */
static ULONGLONG queue_sequence;       /* queue_lock */
static LONG worker_count;              /* queue_lock */
static LONG idle_workers;              /* queue_lock */
static LONG wakes_pending; /* queue_lock: idle workers woken that have not woken up yet */
static CONDITION_VARIABLE hp_queue_cond = CONDITION_VARIABLE_INIT; /* wakes the extra workers */
static LONG hp_worker_count;  /* queue_lock: extra workers (HIGH_PERFORMANCE, FOREGROUND) */
static LONG idle_hp_workers;  /* queue_lock */
static LONG hp_wakes_pending; /* queue_lock */

static struct queue_entry *new_entry(void);
static void submit_entry(struct queue_entry *entry, struct ejob *job, LONG generation,
                         BG_JOB_PRIORITY priority, ULONGLONG delay_ms);

HRESULT ejob_create(const WCHAR *display_name, BG_JOB_TYPE type, struct ejob **out)
{
    struct ejob *job;
    HRESULT hr;

    if (FAILED(engine_fault("ALLOC_JOB")) || !(job = heap_alloc_zero(sizeof(*job))))
        return E_OUTOFMEMORY;
    job->refs = 1;
    InitializeSRWLock(&job->op_lock);
    InitializeSRWLock(&job->lock);
    InitializeConditionVariable(&job->worker_idle);
    if (FAILED(hr = CoCreateGuid(&job->id)))
    {
        heap_free(job);
        return hr;
    }
    job->type = type;
    if (FAILED(hr = owner_of_caller(&job->owner)))
    {
        heap_free(job);
        return hr;
    }
    job->state = BG_JOB_STATE_SUSPENDED;
    job->priority = BG_JOB_PRIORITY_NORMAL;
    job->notify_flags = BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR;
    job->min_retry_delay = DEFAULT_MIN_RETRY_DELAY;
    job->no_progress_timeout = DEFAULT_NO_PROGRESS_TIMEOUT;
    job->error.file_index = -1;
    ejob_options_init(&job->options);
    job->display_name = heap_strdup(display_name);
    job->description = heap_strdup(L"");
    if (!job->display_name || !job->description)
    {
        ejob_release(job);
        return E_OUTOFMEMORY;
    }
    GetSystemTimeAsFileTime(&job->times.CreationTime);
    job->times.ModificationTime = job->times.CreationTime;
    *out = job;
    return S_OK;
}

void ejob_addref(struct ejob *job)
{
    InterlockedIncrement(&job->refs);
}

void ejob_release(struct ejob *job)
{
    if (InterlockedDecrement(&job->refs))
        return;
    for (ULONG i = 0; i < job->file_count; i++)
        efile_free(job->files[i]);
    heap_free(job->files);
    notify_job_release(job);
    free_str(job->display_name);
    free_str(job->description);
    owner_clear(&job->owner);
    ejob_options_clear(&job->options);
    ejob_download_clear(&job->download);
    free_str(job->detected_proxy.origin);
    free_str(job->detected_proxy.proxy);
    if (job->store_lock)
        CloseHandle(job->store_lock);
    heap_free(job);
}

void ejob_download_clear(struct ejob_download *download)
{
    BOOL present = download->present;

    free_str(download->uri);
    free_str(download->local_path);
    free_str(download->content_id);
    free_str(download->correlation_vector);
    free_str(download->auth_headers);
    free_str(download->decryption_info);
    free_str(download->integrity_info);
    heap_free(download->security_context);
    git_revoke(download->stream_cookie);
    memset(download, 0, sizeof(*download));
    download->present = present;
}

void ejob_publish_progress(struct ejob *job)
{
    struct progress_view *view = &job->view;

    /* One writer at a time (the lock): odd while the copy changes. */
    __atomic_store_n(&view->seq, view->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&view->value.BytesTotal, job->progress.BytesTotal, __ATOMIC_RELAXED);
    __atomic_store_n(&view->value.BytesTransferred, job->progress.BytesTransferred,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&view->value.FilesTotal, job->progress.FilesTotal, __ATOMIC_RELAXED);
    __atomic_store_n(&view->value.FilesTransferred, job->progress.FilesTransferred,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&view->seq, view->seq + 1, __ATOMIC_RELEASE);
}

void ejob_read_progress(struct ejob *job, BG_JOB_PROGRESS *progress)
{
    struct progress_view *view = &job->view;
    LONG before, after;

    for (;;)
    {
        before = __atomic_load_n(&view->seq, __ATOMIC_ACQUIRE);
        if (!(before & 1))
        {
            progress->BytesTotal = __atomic_load_n(&view->value.BytesTotal, __ATOMIC_RELAXED);
            progress->BytesTransferred =
                __atomic_load_n(&view->value.BytesTransferred, __ATOMIC_RELAXED);
            progress->FilesTotal = __atomic_load_n(&view->value.FilesTotal, __ATOMIC_RELAXED);
            progress->FilesTransferred =
                __atomic_load_n(&view->value.FilesTransferred, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            after = __atomic_load_n(&view->seq, __ATOMIC_RELAXED);
            if (before == after)
                return;
        }
        YieldProcessor();
    }
}

void ejob_enter_transferred(struct ejob *job)
{
    job->state = BG_JOB_STATE_TRANSFERRED;
    GetSystemTimeAsFileTime(&job->times.TransferCompletionTime);
    job->times.ModificationTime = job->times.TransferCompletionTime;
    notify_state_entered(job);
}

/* The job's queued retry (of its current generation) becomes ready at `ready_at`; idle workers
 * look at the queue again. Caller holds job->lock (taken before queue_lock, never after). */
static void retime_retry(struct ejob *job, ULONGLONG ready_at)
{
    AcquireSRWLockExclusive(&queue_lock);
    for (struct queue_entry *entry = queue_head; entry; entry = entry->next)
    {
        if (entry->job == job && entry->generation == job->generation)
            entry->ready_at = ready_at;
    }
    WakeAllConditionVariable(&queue_cond);
    WakeAllConditionVariable(&hp_queue_cond);
    ReleaseSRWLockExclusive(&queue_lock);
}

void ejob_check_retry_window(struct ejob *job)
{
    ULONGLONG window_end, retry_at;

    if (job->remote || job->state != BG_JOB_STATE_TRANSIENT_ERROR)
        return;
    retry_at = job->failed_at + max((ULONGLONG)job->min_retry_delay * 1000, job->retry_after_ms);
    if (job->failed_at && retry_at != job->retry_at)
    {
        TRACE("job %s: retry in %I64d ms", debugstr_guid(&job->id),
              (LONGLONG)(retry_at - GetTickCount64()));
        job->retry_at = retry_at;
        retime_retry(job, retry_at);
    }
    window_end = job->no_progress_since + (ULONGLONG)job->no_progress_timeout * 1000;
    if (max(job->retry_at, GetTickCount64()) < window_end)
        return;
    job->state = BG_JOB_STATE_ERROR;
    job->generation++;
    ejob_touch(job);
    notify_state_entered(job);
}

void ejob_touch(struct ejob *job)
{
    ejob_publish_progress(job);
    GetSystemTimeAsFileTime(&job->times.ModificationTime);
    notify_modified(job);
    store_mark_dirty(job);
}

/* Waits until no worker transfers the job, for ENGINE_STOP_WAIT_MS at most; FALSE if the
 * worker is still there (stuck: see the design notes above). Caller holds job->lock exclusively
 * and has already bumped the generation, so the worker is on its way out. */
static BOOL wait_worker_idle(struct ejob *job)
{
    ULONGLONG deadline = GetTickCount64() + ENGINE_STOP_WAIT_MS, now;

    while (job->worker_active)
    {
        if ((now = GetTickCount64()) >= deadline)
            return FALSE;
        SleepConditionVariableSRW(&job->worker_idle, &job->lock, (DWORD)(deadline - now), 0);
    }
    return TRUE;
}

/* Logs that a control operation did not wait for a stuck worker. Caller holds no lock: the log
 * may go to a file. */
static void warn_not_waited(const struct ejob *job, const char *operation)
{
    WARN("job %s: %s did not wait for the worker, which did not stop within %u ms",
         debugstr_guid(&job->id), operation, ENGINE_STOP_WAIT_MS);
}

/* ---- adding files ---- */

static void free_new_files(struct ejob_file **files, ULONG count)
{
    for (ULONG i = 0; i < count; i++)
    {
        if (!files[i])
            continue;
        efile_free(files[i]);
    }
    heap_free(files);
}

/* Fills a new file record with what AddFileWithRanges and the DO interfaces add. */
static HRESULT init_file_extras(struct ejob_file *file, const struct efile_spec *spec)
{
    file->remote_size = BG_SIZE_UNKNOWN;
    file->size_hint = DO_UNKNOWN_FILE_SIZE;
    file->temp_deleted = TRUE;
    if (!spec)
        return S_OK;
    file->size_hint = spec->size_hint;
    file->size_hint_set = spec->size_hint != DO_UNKNOWN_FILE_SIZE;
    if (spec->file_id && !(file->file_id = heap_strdup(spec->file_id)))
        return E_OUTOFMEMORY;
    if (spec->range_count)
    {
        if (!(file->ranges =
                  HeapAlloc(GetProcessHeap(), 0, spec->range_count * sizeof(*file->ranges))))
            return E_OUTOFMEMORY;
        memcpy(file->ranges, spec->ranges, spec->range_count * sizeof(*file->ranges));
        file->range_count = spec->range_count;
        /* Without a range to the end, the size is known at once: the sum of the ranges. */
        file->progress.BytesTotal = ranges_total((const struct byte_range *)file->ranges,
                                                 file->range_count, RANGE_SIZE_UNKNOWN);
    }
    return S_OK;
}

/* Appends files, all or nothing. `spec` (for a single file, NULL for AddFile/AddFileSet) may
 * leave the remote or the local name NULL and adds ranges; *index gets the first new index. */
static HRESULT add_files(struct ejob *job, ULONG count, const BG_FILE_INFO *infos,
                         const struct efile_spec *spec, ULONG *index)
{
    struct ejob_file **files, **grown, **old_files = NULL;
    WCHAR checked[MAX_PATH] = {0};
    ULONG i, capacity, unknown = 0;
    UINT64 known = 0;
    HRESULT hr = S_OK;

    for (i = 0; i < count; i++)
    {
        if ((infos[i].RemoteName || !spec) && url_classify(infos[i].RemoteName) == URL_INVALID)
            return E_INVALIDARG;
        if ((infos[i].LocalName || !spec) &&
            (!path_is_absolute(infos[i].LocalName) || wcslen(infos[i].LocalName) >= MAX_PATH))
            return E_INVALIDARG;
        /* One local name for two files of the set: Complete would put one over the other. */
        for (ULONG j = 0; j < i && infos[i].LocalName; j++)
        {
            if (infos[j].LocalName && efile_same_local_name(infos[i].LocalName, infos[j].LocalName))
                return E_INVALIDARG;
        }
    }
    if (spec && spec->range_count)
    {
        switch (ranges_check((const struct byte_range *)spec->ranges, spec->range_count))
        {
        case RANGES_OK:
            break;
        case RANGES_INVALID:
            return BG_E_INVALID_RANGE;
        case RANGES_OVERLAPPING:
            return BG_E_OVERLAPPING_RANGES;
        default:
            return E_OUTOFMEMORY;
        }
    }
    if (!(files = heap_alloc_zero(count * sizeof(*files))))
        return E_OUTOFMEMORY;

    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockShared(&job->lock);
    if (ejob_is_final(job))
        hr = BG_E_INVALID_STATE;
    ReleaseSRWLockShared(&job->lock);
    if (FAILED(hr))
        goto out;
    /* Nor one local name for a new file and a file the job has (op_lock keeps both lists as
     * they are until the new files are in). */
    for (i = 0; i < count; i++)
    {
        if (infos[i].LocalName && efile_local_name_taken(job, infos[i].LocalName, ULONG_MAX))
        {
            hr = E_INVALIDARG;
            goto out;
        }
    }
    /* A DO file id is unique within its job (it is how the client tells the files apart);
     * the empty id is no id. */
    for (i = 0; spec && spec->file_id && *spec->file_id && i < job->file_count; i++)
    {
        if (job->files[i]->file_id && !wcscmp(job->files[i]->file_id, spec->file_id))
        {
            hr = E_INVALIDARG;
            goto out;
        }
    }

    for (i = 0; i < count; i++)
    {
        if (FAILED(engine_fault("ALLOC_FILE")) || !(files[i] = heap_alloc_zero(sizeof(**files))))
        {
            hr = E_OUTOFMEMORY;
            goto out;
        }
        files[i]->remote = heap_strdup(infos[i].RemoteName);
        files[i]->local = heap_strdup(infos[i].LocalName);
        files[i]->progress.BytesTotal = BG_SIZE_UNKNOWN;
        if ((infos[i].RemoteName && !files[i]->remote) || (infos[i].LocalName && !files[i]->local))
        {
            hr = E_OUTOFMEMORY;
            goto out;
        }
        if (FAILED(hr = init_file_extras(files[i], spec)))
            goto out;
        /* The temporary file is made when the file's transfer starts; until then its name is
         * reserved and there is nothing to delete. The files of a set share a folder, mostly:
         * it is checked once. */
        if (files[i]->local &&
            FAILED(hr = tempfile_reserve(infos[i].LocalName, checked, &files[i]->temp)))
            goto out;
        if (files[i]->progress.BytesTotal == BG_SIZE_UNKNOWN)
            unknown++;
        else
            known += files[i]->progress.BytesTotal;
    }

    /* Only this function changes the file count and the array, under op_lock, which we hold:
     * both can be read without the data lock, and a bigger array allocated outside it. */
    capacity = job->file_capacity;
    grown = NULL;
    if (job->file_count + count > capacity)
    {
        capacity = max(16, max(capacity * 2, job->file_count + count));
        if (FAILED(engine_fault("ALLOC_FILES")) ||
            !(grown = HeapAlloc(GetProcessHeap(), 0, capacity * sizeof(*grown))))
        {
            hr = E_OUTOFMEMORY;
            goto out;
        }
    }
    AcquireSRWLockExclusive(&job->lock);
    if (grown)
    {
        if (job->file_count)
            memcpy(grown, job->files, job->file_count * sizeof(*grown));
        /* Readers only look at files[] under the lock, so swapping it here is safe. */
        old_files = job->files;
        job->files = grown;
        job->file_capacity = capacity;
    }
    if (index)
        *index = job->file_count;
    for (i = 0; i < count; i++)
    {
        job->files[job->file_count++] = files[i];
        files[i] = NULL;
    }
    job->progress.FilesTotal += count;
    job->unknown_sizes += unknown;
    job->known_bytes += known;
    job->progress.BytesTotal = job->unknown_sizes ? BG_SIZE_UNKNOWN : job->known_bytes;
    ejob_touch(job);
    ReleaseSRWLockExclusive(&job->lock);
    heap_free(old_files);

out:
    ReleaseSRWLockExclusive(&job->op_lock);
    free_new_files(files, count);
    return hr;
}

HRESULT ejob_add_files(struct ejob *job, ULONG count, const BG_FILE_INFO *infos)
{
    const struct share_args args = {.count = count, .files = infos};
    HRESULT hr;

    if (count && !infos)
        return E_INVALIDARG;
    if (share_forward(job, SHARE_ADD_FILES, &args, &hr))
        return hr;
    return add_files(job, count, infos, NULL, NULL);
}

HRESULT ejob_add_file(struct ejob *job, const struct efile_spec *spec, ULONG *index)
{
    BG_FILE_INFO info = {(WCHAR *)spec->remote, (WCHAR *)spec->local};
    const struct share_args args = {.spec = spec, .out_index = index};
    HRESULT hr;

    if (share_forward(job, SHARE_ADD_FILE, &args, &hr))
        return hr;
    return add_files(job, 1, &info, spec, index);
}

/* ---- control operations ---- */

/* BITS: every call to Resume starts the count of the maximum download time again. Caller holds
 * job->lock exclusively. */
static void restart_download_time(struct ejob *job)
{
    job->transfer_ms = 0;
    if (job->transfer_since)
        job->transfer_since = GetTickCount64();
}

HRESULT ejob_resume(struct ejob *job)
{
    struct queue_entry *entry;
    HRESULT hr = S_OK;
    BOOL pending = FALSE, queue = FALSE;
    BG_JOB_PRIORITY priority;
    LONG generation;

    if (share_forward(job, SHARE_RESUME, NULL, &hr))
        return hr;
    /* The scheduler's entry is made first, outside the locks: a Resume that cannot queue the
     * job fails before it changes anything. */
    if (!(entry = new_entry()))
        return E_OUTOFMEMORY;
    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockExclusive(&job->lock);
    /* A file whose bytes are all in but which is not finished yet is work too. */
    for (ULONG i = 0; i < job->file_count && !pending; i++)
        pending = !job->files[i]->finished;
    switch (job->state)
    {
    case BG_JOB_STATE_ACKNOWLEDGED:
    case BG_JOB_STATE_CANCELLED:
        hr = BG_E_INVALID_STATE;
        break;
    case BG_JOB_STATE_QUEUED:
    case BG_JOB_STATE_CONNECTING:
    case BG_JOB_STATE_TRANSFERRING:
        restart_download_time(job);
        break;
    default:
        /* A job with no file, and a transferred one, have nothing to do (as Wine's BITS says). */
        if (!job->file_count || (!pending && job->state == BG_JOB_STATE_TRANSFERRED))
        {
            hr = BG_E_EMPTY;
            break;
        }
        if (!pending)
        {
            /* Suspended (or failed) after its last file was in, before its worker called it
             * transferred: it is transferred now, as that worker would have left it. */
            job->generation++;
            ejob_enter_transferred(job);
            ejob_publish_progress(job);
            store_mark_dirty(job);
            break;
        }
        if (FAILED(hr = efile_check_ready(job)))
            break;
        job->state = BG_JOB_STATE_QUEUED;
        job->generation++;
        job->no_progress_since = 0;
        job->resumed = TRUE;
        restart_download_time(job);
        ejob_touch(job);
        queue = TRUE;
        generation = job->generation;
        priority = job->priority;
        break;
    }
    ReleaseSRWLockExclusive(&job->lock);
    ReleaseSRWLockExclusive(&job->op_lock);
    /* Outside the locks: a worker may start. If another control operation came in between,
     * the entry's generation is stale and it is dropped. */
    if (queue)
        submit_entry(entry, job, generation, priority, 0);
    else
        heap_free(entry);
    return hr;
}

HRESULT ejob_suspend(struct ejob *job)
{
    HRESULT hr = S_OK;
    BOOL waited = TRUE;

    if (share_forward(job, SHARE_SUSPEND, NULL, &hr))
        return hr;
    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockExclusive(&job->lock);
    switch (job->state)
    {
    case BG_JOB_STATE_ACKNOWLEDGED:
    case BG_JOB_STATE_CANCELLED:
        hr = BG_E_INVALID_STATE;
        break;
    case BG_JOB_STATE_QUEUED:
    case BG_JOB_STATE_CONNECTING:
    case BG_JOB_STATE_TRANSFERRING:
    case BG_JOB_STATE_TRANSIENT_ERROR:
        job->state = BG_JOB_STATE_SUSPENDED;
        job->generation++;
        ejob_touch(job);
        /* A worker that does not stop in time finishes on its own: the job is SUSPENDED now. */
        waited = wait_worker_idle(job);
        break;
    default:
        /* SUSPENDED, ERROR and TRANSFERRED jobs do not transfer already. */
        break;
    }
    ReleaseSRWLockExclusive(&job->lock);
    ReleaseSRWLockExclusive(&job->op_lock);
    if (!waited)
        warn_not_waited(job, "Suspend");
    return hr;
}

/* Moves the job to a final state and waits (a bounded time) for its worker; returns FALSE if
 * already final. */
static BOOL finish(struct ejob *job, BG_JOB_STATE final_state)
{
    BOOL waited;

    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
    {
        ReleaseSRWLockExclusive(&job->lock);
        return FALSE;
    }
    job->generation++;
    job->state = final_state;
    ejob_touch(job);
    waited = wait_worker_idle(job);
    ReleaseSRWLockExclusive(&job->lock);
    if (!waited)
        warn_not_waited(job, "Cancel");
    return TRUE;
}

HRESULT ejob_cancel(struct ejob *job)
{
    HRESULT hr = S_OK;

    if (share_forward(job, SHARE_CANCEL, NULL, &hr))
        return hr;
    AcquireSRWLockExclusive(&job->op_lock);
    if (!finish(job, BG_JOB_STATE_CANCELLED))
    {
        hr = BG_E_INVALID_STATE;
        goto out;
    }
    /* Only the temporary files are ours to delete: the destination was never touched. Files
     * and their names no longer change once the job is final, so no lock is needed to read.
     * A worker that did not stop in time may still hold its temporary file open: it opened it
     * with FILE_SHARE_DELETE, so the delete succeeds and the name goes when the worker closes
     * it; the worker deletes it once more as it leaves, in case it created it anew. */
    for (ULONG i = 0; i < job->file_count; i++)
    {
        struct ejob_file *file = job->files[i];
        if (file->temp_deleted)
        {
            /* Reserved only, as far as the record knows. */
            if (file->temp && FAILED(tempfile_clear_reserved(file->temp)))
                hr = BG_S_UNABLE_TO_DELETE_FILES;
            continue;
        }
        if (SUCCEEDED(tempfile_delete(file->temp, &file->temp_id)))
            file->temp_deleted = TRUE;
        else
            hr = BG_S_UNABLE_TO_DELETE_FILES;
    }
    engine_forget_job(job);
out:
    ReleaseSRWLockExclusive(&job->op_lock);
    return hr;
}

/* Complete's renames. One rename costs a handful of calls to Wine's server (open, identity,
 * rename, close), each a round trip that mostly waits for the two processes to wake each other,
 * not for the disk. A job of many files therefore renames them on several threads at once:
 * with the benchmark's 1,000 files of 4 KiB, Complete took a median 0.30 s on one thread and
 * 0.21 s on eight (4 alternating runs each). Below COMMIT_FILES_PER_THREAD files per thread, a
 * thread costs more than it saves. */
#define COMMIT_THREADS 8
#define COMMIT_FILES_PER_THREAD 32

struct commit_run
{
    struct ejob *job;
    const ULONG *todo; /* the indexes of the files to rename */
    ULONG count;
    LONG taken;       /* entries of todo taken so far */
    HRESULT *results; /* per entry of todo */
    /* The folder listing of tempfile_commit, shared by the threads: with 8 threads listing for
     * themselves, a folder of 2,000 names (1,000 files and their temporary files) was listed 8
     * times, about 170 ms of the threads' time in a Complete of 120 ms. */
    struct folder_names names;
};

/* Renames files of the run until none is left. */
static void commit_files(struct commit_run *run)
{
    LONG at;

    while ((at = InterlockedIncrement(&run->taken) - 1) < (LONG)run->count)
    {
        struct ejob_file *file = run->job->files[run->todo[at]];
        HRESULT hr = tempfile_commit(file->temp, &file->temp_id, file->local, &run->names);

        if (SUCCEEDED(hr))
        {
            AcquireSRWLockExclusive(&run->job->lock);
            file->temp_deleted = TRUE;
            file->progress.Completed = TRUE;
            ReleaseSRWLockExclusive(&run->job->lock);
        }
        run->results[at] = hr;
    }
}

static DWORD WINAPI commit_thread(void *arg)
{
    commit_files(arg);
    return 0;
}

/* Renames the files `todo` lists, on the calling thread and up to COMMIT_THREADS - 1 others
 * (fewer if they cannot be started: the calling thread does the rest). results[i] is the
 * rename's result for todo[i]. */
static void commit_all(struct ejob *job, const ULONG *todo, ULONG count, HRESULT *results)
{
    struct commit_run run = {job, todo, count, 0, results};
    HANDLE threads[COMMIT_THREADS - 1];
    ULONG wanted = min(count / COMMIT_FILES_PER_THREAD, COMMIT_THREADS), started = 0;

    while (started + 1 < wanted &&
           (threads[started] = CreateThread(NULL, 0, commit_thread, &run, 0, NULL)))
        started++;
    commit_files(&run);
    if (started)
        WaitForMultipleObjects(started, threads, TRUE, INFINITE);
    for (ULONG i = 0; i < started; i++)
        CloseHandle(threads[i]);
    tempfile_names_clear(&run.names);
}

HRESULT ejob_complete(struct ejob *job)
{
    HRESULT hr = S_OK, rename_hr = S_OK, *results = NULL;
    BG_JOB_STATE previous;
    BOOL partial = FALSE, undeleted = FALSE, waited;
    ULONG i, *todo, count = 0;

    if (share_forward(job, SHARE_COMPLETE, NULL, &hr))
        return hr;
    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
    {
        ReleaseSRWLockExclusive(&job->lock);
        ReleaseSRWLockExclusive(&job->op_lock);
        return BG_E_INVALID_STATE;
    }
    /* Stop the worker first. Only finished files are renamed below, and a worker never writes
     * to a finished file again, so a worker that does not stop in time cannot write into a
     * renamed file: its own file is unfinished and is discarded (see the design notes). */
    previous = job->state;
    if (previous != BG_JOB_STATE_TRANSFERRED && previous != BG_JOB_STATE_ERROR &&
        previous != BG_JOB_STATE_SUSPENDED)
    {
        job->state = BG_JOB_STATE_SUSPENDED;
        previous = BG_JOB_STATE_SUSPENDED;
    }
    job->generation++;
    waited = wait_worker_idle(job);
    ReleaseSRWLockExclusive(&job->lock);
    if (!waited)
        warn_not_waited(job, "Complete");

    /* No current worker runs (a stopped one no longer changes anything) and op_lock keeps
     * other control operations out: the file list and which files are finished cannot change
     * now, so the renames below run without the data lock. */
    if (!(todo = heap_alloc_zero(job->file_count * (sizeof(*todo) + sizeof(*results)) + 1)))
        rename_hr = E_OUTOFMEMORY;
    else
        results = (HRESULT *)(todo + job->file_count);
    for (i = 0; todo && i < job->file_count; i++)
    {
        struct ejob_file *file = job->files[i];
        if (!file->temp)
        {
            /* A stream sink has nothing to rename: its bytes are the client's already. */
            AcquireSRWLockExclusive(&job->lock);
            if (file->sink_cookie && file->finished)
                file->progress.Completed = TRUE;
            else
                partial = TRUE;
            ReleaseSRWLockExclusive(&job->lock);
            continue;
        }
        /* A file that did not finish is left out (its temporary file, if it was made, goes
         * below); one whose temporary file is gone was delivered by an earlier Complete. */
        if (!file->finished)
        {
            partial = TRUE;
            continue;
        }
        if (file->temp_deleted)
            continue;
        todo[count++] = i;
    }
    /* Renamed through a handle, and only if the name still leads to our file. */
    if (count)
        commit_all(job, todo, count, results);
    for (i = 0; i < count; i++)
    {
        struct ejob_file *file = job->files[todo[i]];
        if (FAILED(results[i]))
        {
            rename_hr = results[i];
            WARN("cannot rename %s to %s: %08lx", debugstr_w(file->temp), debugstr_w(file->local),
                 rename_hr);
        }
    }
    heap_free(todo);

    AcquireSRWLockExclusive(&job->lock);
    if (FAILED(rename_hr))
    {
        /* As BITS does: the job stays so that the caller can retry Complete or Cancel. */
        job->state = previous;
        hr = rename_hr;
    }
    else
    {
        job->state = BG_JOB_STATE_ACKNOWLEDGED;
        job->generation++;
    }
    ejob_touch(job);
    ReleaseSRWLockExclusive(&job->lock);

    if (SUCCEEDED(hr))
    {
        for (i = 0; i < job->file_count; i++)
        {
            struct ejob_file *file = job->files[i];
            if (file->temp_deleted)
            {
                /* Delivered, or (not finished) reserved only as far as the record knows. */
                if (!file->finished && file->temp && FAILED(tempfile_clear_reserved(file->temp)))
                    undeleted = TRUE;
                continue;
            }
            if (SUCCEEDED(tempfile_delete(file->temp, &file->temp_id)))
                file->temp_deleted = TRUE;
            else
                undeleted = TRUE;
        }
        if (undeleted)
            hr = BG_S_UNABLE_TO_DELETE_FILES;
        else if (partial)
            hr = BG_S_PARTIAL_COMPLETE;
        engine_forget_job(job);
    }
    ReleaseSRWLockExclusive(&job->op_lock);
    return hr;
}

/* ---- job options ---- */

void ejob_options_init(struct ejob_options *options)
{
    memset(options, 0, sizeof(*options));
    options->proxy_usage = BG_JOB_PROXY_USAGE_PRECONFIG;
    options->max_download_time = EJOB_DEFAULT_MAX_DOWNLOAD_TIME;
    /* OpenDO knows no costed networks: every connection is one the job may use. */
    options->cost_flags = BITS_COST_STATE_TRANSFER_ALWAYS;
    options->notification_interval_ms = EJOB_DEFAULT_NOTIFICATION_INTERVAL;
}

void ejob_credential_clear(struct ejob_credential *credential)
{
    if (credential->password)
        SecureZeroMemory(credential->password, wcslen(credential->password) * sizeof(WCHAR));
    free_str(credential->user);
    free_str(credential->password);
    memset(credential, 0, sizeof(*credential));
}

void ejob_options_clear(struct ejob_options *options)
{
    free_str(options->proxy_list);
    free_str(options->proxy_bypass);
    for (int t = 0; t < EJOB_AUTH_TARGETS; t++)
    {
        for (int s = 0; s < EJOB_AUTH_SCHEMES; s++)
            ejob_credential_clear(&options->credentials[t][s]);
    }
    free_str(options->custom_headers);
    free_str(options->client_cert.store);
    free_str(options->client_cert.subject);
    ejob_options_init(options);
}

/* The string fields of an options struct, in one order. Returns how many. */
static ULONG option_strings(struct ejob_options *options, WCHAR ***fields)
{
    ULONG n = 0;

    fields[n++] = &options->proxy_list;
    fields[n++] = &options->proxy_bypass;
    fields[n++] = &options->custom_headers;
    fields[n++] = &options->client_cert.store;
    fields[n++] = &options->client_cert.subject;
    for (int t = 0; t < EJOB_AUTH_TARGETS; t++)
    {
        for (int s = 0; s < EJOB_AUTH_SCHEMES; s++)
        {
            fields[n++] = &options->credentials[t][s].user;
            fields[n++] = &options->credentials[t][s].password;
        }
    }
    return n;
}

#define OPTION_STRINGS (5 + 2 * EJOB_AUTH_TARGETS * EJOB_AUTH_SCHEMES)

SIZE_T ejob_options_copy(struct ejob_options *dst, const struct ejob_options *src, WCHAR *block,
                         SIZE_T capacity)
{
    WCHAR **from[OPTION_STRINGS], **to[OPTION_STRINGS];
    SIZE_T need = 0, used = 0;
    ULONG n;

    n = option_strings((struct ejob_options *)src, from);
    for (ULONG i = 0; i < n; i++)
        need += *from[i] ? wcslen(*from[i]) + 1 : 0;
    if (need > capacity)
        return need;
    *dst = *src;
    option_strings(dst, to);
    for (ULONG i = 0; i < n; i++)
    {
        if (!*from[i])
            continue;
        *to[i] = block + used;
        wcscpy(*to[i], *from[i]);
        used += wcslen(*from[i]) + 1;
    }
    return 0;
}

/* ---- fault injection ---- */

/* Longest time a "block" fault holds a thread, so that a failing test cannot hang forever. */
#define FAULT_BLOCK_MS 10000

/* Reads OPENDO_FAULT_<name> into value; FALSE if it is unset (or too long). */
static BOOL fault_setting(const char *name, size_t name_len, char *value, DWORD size)
{
    char variable[64];
    DWORD len;

    snprintf(variable, sizeof(variable), "OPENDO_FAULT_%.*s", (int)name_len, name);
    len = GetEnvironmentVariableA(variable, value, size);
    return len && len < size;
}

static void signal_event(const char *name)
{
    HANDLE event;

    if ((event = OpenEventA(EVENT_MODIFY_STATE, FALSE, name)))
    {
        SetEvent(event);
        CloseHandle(event);
    }
}

HRESULT engine_fault(const char *point)
{
    char value[MAX_PATH], event[MAX_PATH + 16], *end;
    const char *family = strchr(point, '_');
    HANDLE go;
    HRESULT hr;

    if (!fault_setting(point, strlen(point), value, sizeof(value)) &&
        (!family || !fault_setting(point, family - point, value, sizeof(value))))
        return S_OK;
    if (!strncmp(value, "fail:", 5))
    {
        hr = (HRESULT)strtoul(value + 5, &end, 16);
        /* The test learns that the failure happened. */
        if (*end == ':')
            signal_event(end + 1);
        TRACE("fault point %s: %s", point, value);
        return hr;
    }
    if (strncmp(value, "block:", 6))
        return S_OK;
    snprintf(event, sizeof(event), "%s.reached", value + 6);
    signal_event(event);
    snprintf(event, sizeof(event), "%s.go", value + 6);
    if ((go = OpenEventA(SYNCHRONIZE, FALSE, event)))
    {
        WaitForSingleObject(go, FAULT_BLOCK_MS);
        CloseHandle(go);
    }
    TRACE("fault point %s: %s", point, value);
    return S_OK;
}

/* ---- scheduler ---- */

static DWORD WINAPI worker_main(void *arg);
static DWORD WINAPI hp_worker_main(void *arg);

/* Starts an ordinary worker, or one of the extra workers that take only HIGH_PERFORMANCE
 * jobs, whose place the caller has counted in worker_count or hp_worker_count already; gives
 * the place back if the thread cannot start. Caller holds no lock: starting a thread is slow. */
static void start_worker(BOOL hp)
{
    LPTHREAD_START_ROUTINE start = hp ? hp_worker_main : worker_main;
    HMODULE module;
    HANDLE thread;

    /* The worker keeps the DLL loaded until it leaves with FreeLibraryAndExitThread. */
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)worker_main,
                            &module))
    {
        ERR("cannot pin the module: %lu", GetLastError());
        goto err_unreserve;
    }
    if (FAILED(engine_fault("THREAD_WORKER")) ||
        !(thread = CreateThread(NULL, 0, start, module, 0, NULL)))
    {
        ERR("cannot start a worker: %lu", GetLastError());
        FreeLibrary(module);
        goto err_unreserve;
    }
    CloseHandle(thread);
    return;

err_unreserve:
    AcquireSRWLockExclusive(&queue_lock);
    if (hp)
        hp_worker_count--;
    else
        worker_count--;
    ReleaseSRWLockExclusive(&queue_lock);
}

/* A new scheduler entry, or NULL. Caller holds no lock. */
static struct queue_entry *new_entry(void)
{
    if (FAILED(engine_fault("ALLOC_QUEUE")))
        return NULL;
    return heap_alloc_zero(sizeof(struct queue_entry));
}

/* Puts the entry (taken over) into the queue for the job and starts a worker if none is idle.
 * A worker that cannot start leaves the entry queued: the next submit starts one, which takes
 * it. Caller holds none of the job's locks (it takes job->lock briefly). */
static void submit_entry(struct queue_entry *entry, struct ejob *job, LONG generation,
                         BG_JOB_PRIORITY priority, ULONGLONG delay_ms)
{
    struct queue_entry **link;
    BOOL start = FALSE, start_hp = FALSE, hp;

    ejob_addref(job);
    entry->job = job;
    entry->generation = generation;
    entry->priority = priority;
    entry->ready_at = GetTickCount64() + delay_ms;
    AcquireSRWLockShared(&job->lock);
    hp = entry->high_performance =
        job->options.high_performance || priority == BG_JOB_PRIORITY_FOREGROUND;
    ReleaseSRWLockShared(&job->lock);

    AcquireSRWLockExclusive(&queue_lock);
    entry->sequence = queue_sequence++;
    /* Sorted by priority, then by arrival; ready times are checked when picking. */
    for (link = &queue_head; *link && (*link)->priority <= priority; link = &(*link)->next)
        ;
    entry->next = *link;
    *link = entry;
    /* A high-performance or foreground job has workers of its own, besides the ordinary ones
     * (an ordinary one serves it when those are all busy). A new worker's place is counted now
     * and its thread started once the queue lock is dropped. An idle worker woken for an
     * earlier entry counts as idle until it runs: the wakes pending tell the idle workers that
     * are still free (else jobs submitted in a row would all wake the same one, start no
     * other, and wait in the queue while workers could take them). */
    if (hp && idle_hp_workers > hp_wakes_pending)
    {
        hp_wakes_pending++;
        WakeConditionVariable(&hp_queue_cond);
    }
    else if (hp && hp_worker_count < MAX_HP_WORKERS)
    {
        hp_worker_count++;
        start = start_hp = TRUE;
    }
    else if (idle_workers > wakes_pending)
    {
        wakes_pending++;
        WakeConditionVariable(&queue_cond);
    }
    else if (worker_count < MAX_WORKERS)
    {
        worker_count++;
        start = TRUE;
    }
    ReleaseSRWLockExclusive(&queue_lock);
    /* The entry may be taken and freed by now: only the locals are used. */
    if (start)
        start_worker(start_hp);
}

void engine_submit(struct ejob *job, LONG generation, BG_JOB_PRIORITY priority, ULONGLONG delay_ms)
{
    struct queue_entry *entry;

    if ((entry = new_entry()))
    {
        submit_entry(entry, job, generation, priority, delay_ms);
        return;
    }
    /* Without an entry nothing would ever run the job: rather than leave it QUEUED or
     * TRANSIENT_ERROR for good, it goes to ERROR, which the client sees and may Resume. */
    ERR("out of memory: job %s not queued", debugstr_guid(&job->id));
    AcquireSRWLockExclusive(&job->lock);
    if (job->generation == generation &&
        (job->state == BG_JOB_STATE_QUEUED || job->state == BG_JOB_STATE_TRANSIENT_ERROR))
    {
        job->error.present = TRUE;
        job->error.code = E_OUTOFMEMORY;
        job->error.context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
        job->error.file_index = -1;
        job->error_count++;
        job->state = BG_JOB_STATE_ERROR;
        ejob_touch(job);
        notify_state_entered(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
}

/* Takes the first entry that is ready (a HIGH_PERFORMANCE one for an extra worker), or tells
 * how long until one is. Caller holds queue_lock. */
static struct queue_entry *pick_locked(BOOL hp, DWORD *wait_ms)
{
    ULONGLONG now = GetTickCount64(), soonest = ~0ull;
    struct queue_entry **link;

    for (link = &queue_head; *link; link = &(*link)->next)
    {
        struct queue_entry *entry = *link;
        if (hp && !entry->high_performance)
            continue;
        if (entry->ready_at <= now)
        {
            *link = entry->next;
            return entry;
        }
        soonest = min(soonest, entry->ready_at);
    }
    *wait_ms = soonest == ~0ull ? WORKER_IDLE_MS : (DWORD)min(soonest - now, WORKER_IDLE_MS);
    return NULL;
}

/* Is there an entry this kind of worker could take, now or later? Caller holds queue_lock. */
static BOOL has_work_locked(BOOL hp)
{
    for (struct queue_entry *entry = queue_head; entry; entry = entry->next)
    {
        if (!hp || entry->high_performance)
            return TRUE;
    }
    return FALSE;
}

static DWORD worker_loop(HMODULE module, BOOL hp)
{
    CONDITION_VARIABLE *cond = hp ? &hp_queue_cond : &queue_cond;
    LONG *idle = hp ? &idle_hp_workers : &idle_workers;
    LONG *wakes = hp ? &hp_wakes_pending : &wakes_pending;
    struct queue_entry *entry;
    DWORD wait_ms;

    AcquireSRWLockExclusive(&queue_lock);
    for (;;)
    {
        if (!(entry = pick_locked(hp, &wait_ms)))
        {
            BOOL woken;

            (*idle)++;
            woken = SleepConditionVariableSRW(cond, &queue_lock, wait_ms, 0);
            (*idle)--;
            /* Woken, it was one of the wakes pending; and no more wakes are pending than
             * workers sleep (a wake that met none is lost). */
            if (woken && *wakes)
                (*wakes)--;
            if (*wakes > *idle)
                *wakes = *idle;
            if (!woken && !has_work_locked(hp))
                break;
            continue;
        }
        /* Another worker may be idle while entries wait for their ready time. */
        if (queue_head && idle_workers > wakes_pending)
        {
            wakes_pending++;
            WakeConditionVariable(&queue_cond);
        }
        ReleaseSRWLockExclusive(&queue_lock);

        transfer_run(entry->job, entry->generation);
        ejob_release(entry->job);
        heap_free(entry);

        AcquireSRWLockExclusive(&queue_lock);
    }
    if (hp)
        hp_worker_count--;
    else
        worker_count--;
    ReleaseSRWLockExclusive(&queue_lock);
    FreeLibraryAndExitThread(module, 0);
    return 0;
}

static DWORD WINAPI worker_main(void *arg)
{
    return worker_loop(arg, FALSE);
}

static DWORD WINAPI hp_worker_main(void *arg)
{
    return worker_loop(arg, TRUE);
}
