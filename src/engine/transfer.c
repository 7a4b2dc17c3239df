/* SPDX-License-Identifier: MIT */
/* One job's transfer on a worker thread: file after file into the temporary files, with exact
 * progress accounting. */
#include "engine/engine.h"
#include "core/url.h"
#include "core/ranges.h"

/* Are all the file's bytes counted? The file is done only once it is finished as well
 * (ejob_file.finished). Caller holds job->lock. */
static BOOL bytes_complete(const struct ejob_file *file)
{
    return file->progress.BytesTotal != BG_SIZE_UNKNOWN &&
           file->progress.BytesTransferred == file->progress.BytesTotal;
}

/* Is the worker still wanted? Caller holds job->lock. */
static BOOL still_current(const struct transfer_ctx *ctx)
{
    return ctx->job->generation == ctx->generation;
}

/* Has the job spent its maximum download time (IBackgroundCopyJob4) transferring? Only the
 * time with a worker counts, as in BITS; Resume starts the count again. Caller holds job->lock. */
static BOOL out_of_time(const struct ejob *job)
{
    ULONGLONG limit = (ULONGLONG)job->options.max_download_time * 1000;

    if (!limit || !job->transfer_since)
        return FALSE;
    return job->transfer_ms + (GetTickCount64() - job->transfer_since) >= limit;
}

static HRESULT time_limit_failure(struct transfer_ctx *ctx)
{
    ctx->context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
    ctx->transient = FALSE;
    return BG_E_MAXDOWNLOAD_TIMEOUT;
}

/* BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE: more bytes than the job may download in all. */
static HRESULT size_limit_failure(struct transfer_ctx *ctx)
{
    ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
    ctx->transient = FALSE;
    return BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED;
}

HRESULT transfer_check(struct transfer_ctx *ctx)
{
    HRESULT hr = S_OK;

    AcquireSRWLockShared(&ctx->job->lock);
    if (!still_current(ctx))
        hr = E_ABORT;
    else if (out_of_time(ctx->job))
        hr = time_limit_failure(ctx);
    ReleaseSRWLockShared(&ctx->job->lock);
    return hr;
}

ULONGLONG transfer_progress_deadline(struct transfer_ctx *ctx)
{
    ULONGLONG deadline = (ULONGLONG)-1;

    AcquireSRWLockShared(&ctx->job->lock);
    if (ctx->job->no_progress_timeout && ctx->job->no_progress_since)
        deadline = ctx->job->no_progress_since + (ULONGLONG)ctx->job->no_progress_timeout * 1000;
    ReleaseSRWLockShared(&ctx->job->lock);
    return deadline;
}

HRESULT transfer_set_remote(struct transfer_ctx *ctx, const WCHAR *url)
{
    struct ejob *job = ctx->job;
    WCHAR *copy, *old = NULL;
    HRESULT hr = S_OK;

    if (!(copy = heap_strdup(url)))
        return E_OUTOFMEMORY;
    AcquireSRWLockExclusive(&job->lock);
    if (still_current(ctx))
    {
        old = job->files[ctx->index]->remote;
        job->files[ctx->index]->remote = copy;
        copy = NULL;
        ejob_touch(job);
    }
    else
        hr = E_ABORT;
    ReleaseSRWLockExclusive(&job->lock);
    free_str(old);
    free_str(copy);
    return hr;
}

BOOL transfer_stopped(struct transfer_ctx *ctx)
{
    BOOL stopped;

    AcquireSRWLockShared(&ctx->job->lock);
    stopped = !still_current(ctx);
    ReleaseSRWLockShared(&ctx->job->lock);
    return stopped;
}

HRESULT transfer_set_size(struct transfer_ctx *ctx, UINT64 total)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    HRESULT hr = S_OK;

    AcquireSRWLockExclusive(&job->lock);
    file = job->files[ctx->index];
    if (!still_current(ctx))
        hr = E_ABORT;
    else if (!file->ranges)
        file->remote_size = total;
    if (SUCCEEDED(hr) && file->progress.BytesTotal != total)
    {
        if (file->progress.BytesTotal == BG_SIZE_UNKNOWN)
            job->unknown_sizes--;
        else
            job->known_bytes -= file->progress.BytesTotal;
        file->progress.BytesTotal = total;
        job->known_bytes += total;
        job->progress.BytesTotal = job->unknown_sizes ? BG_SIZE_UNKNOWN : job->known_bytes;
        ejob_touch(job);
    }
    /* Known before a byte of it is fetched: a file that the job's maximum cannot hold. */
    if (SUCCEEDED(hr) && job->options.max_download_size &&
        job->known_bytes > job->options.max_download_size)
        hr = size_limit_failure(ctx);
    ReleaseSRWLockExclusive(&job->lock);
    return hr;
}

HRESULT transfer_restart(struct transfer_ctx *ctx)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    LARGE_INTEGER zero = {0};
    HRESULT hr = S_OK;

    if (ctx->sink)
    {
        /* A stream sink can only start over if it can seek back. */
        if (FAILED(hr = IStream_Seek(ctx->sink, zero, STREAM_SEEK_SET, NULL)))
        {
            ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
            return hr;
        }
    }
    else if (!SetFilePointerEx(ctx->out, zero, NULL, FILE_BEGIN) || !SetEndOfFile(ctx->out))
        return HRESULT_FROM_WIN32(GetLastError());
    AcquireSRWLockExclusive(&job->lock);
    file = job->files[ctx->index];
    /* Where the sink stands is a fact, whoever moved it. */
    file->sink_position = 0;
    if (still_current(ctx))
    {
        job->progress.BytesTransferred -= file->progress.BytesTransferred;
        file->progress.BytesTransferred = 0;
        file->durable = 0;
        file->validator[0] = 0;
    }
    else
    {
        /* A stopped worker leaves the counters alone; the next run finds the temporary file
         * shorter than they say (or the sink elsewhere) and starts over itself. */
        hr = E_ABORT;
    }
    ReleaseSRWLockExclusive(&job->lock);
    ctx->offset = 0;
    ctx->validator[0] = 0;
    return hr;
}

HRESULT transfer_set_remote_size(struct transfer_ctx *ctx, UINT64 size)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    UINT64 total;
    HRESULT hr = S_OK;

    AcquireSRWLockExclusive(&job->lock);
    file = job->files[ctx->index];
    if (!still_current(ctx))
        hr = E_ABORT;
    else
    {
        file->remote_size = size;
        if (!ranges_fit((const struct byte_range *)ctx->ranges, ctx->range_count, size))
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            ctx->transient = FALSE;
            hr = BG_E_INVALID_RANGE;
        }
    }
    ReleaseSRWLockExclusive(&job->lock);
    ctx->remote_size = size;
    if (FAILED(hr))
        return hr;
    total = ranges_total((const struct byte_range *)ctx->ranges, ctx->range_count, size);
    return transfer_set_size(ctx, total);
}

void transfer_set_response(struct transfer_ctx *ctx, WCHAR *headers, DWORD status)
{
    struct ejob *job = ctx->job;
    WCHAR *old;

    AcquireSRWLockExclusive(&job->lock);
    old = job->files[ctx->index]->response_headers;
    job->files[ctx->index]->response_headers = headers;
    job->files[ctx->index]->http_status = status;
    ReleaseSRWLockExclusive(&job->lock);
    free_str(old);
}

void transfer_count_connection(struct transfer_ctx *ctx)
{
    AcquireSRWLockExclusive(&ctx->job->lock);
    ctx->job->files[ctx->index]->http_connections++;
    ReleaseSRWLockExclusive(&ctx->job->lock);
}

HRESULT transfer_set_validator(struct transfer_ctx *ctx, const WCHAR *validator)
{
    struct ejob *job = ctx->job;
    HRESULT hr = S_OK;

    if (!validator || wcslen(validator) >= VALIDATOR_SIZE)
        validator = L"";
    wcscpy(ctx->validator, validator);
    AcquireSRWLockExclusive(&job->lock);
    if (still_current(ctx))
        wcscpy(job->files[ctx->index]->validator, validator);
    else
        hr = E_ABORT;
    ReleaseSRWLockExclusive(&job->lock);
    return hr;
}

/* A checkpoint: transferred bytes count in the job's record only once they are on disk, so the
 * file is flushed at least this often while it is written. */
#define CHECKPOINT_MS 1000
#define CHECKPOINT_BYTES (64 * 1024 * 1024)

/* Flushes the temporary file when a checkpoint is due, then lets the record hold `counted`
 * bytes. Caller holds no lock. */
static void checkpoint(struct transfer_ctx *ctx, UINT64 counted)
{
    ULONGLONG now = GetTickCount64();
    struct ejob_file *file;

    if (ctx->out == INVALID_HANDLE_VALUE ||
        (ctx->unflushed < CHECKPOINT_BYTES && now - ctx->flushed_at < CHECKPOINT_MS))
        return;
    ctx->unflushed = 0;
    ctx->flushed_at = now;
    if (!FlushFileBuffers(ctx->out))
    {
        WARN("cannot flush %lu: %lu", ctx->index, GetLastError());
        return;
    }
    AcquireSRWLockExclusive(&ctx->job->lock);
    file = ctx->job->files[ctx->index];
    if (still_current(ctx) && counted > file->durable && counted <= file->progress.BytesTransferred)
    {
        file->durable = counted;
        store_mark_dirty(ctx->job);
    }
    ReleaseSRWLockExclusive(&ctx->job->lock);
}

HRESULT transfer_write(struct transfer_ctx *ctx, const void *data, DWORD size)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    HRESULT hr = S_OK;
    UINT64 counted = 0;
    DWORD written;

    /* A failing WRITE point stands for the write's failure (ERROR_DISK_FULL, say). */
    if (FAILED(hr = engine_fault("WRITE")))
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return hr;
    }
    if (ctx->sink)
    {
        /* The client's stream, called outside every lock; it must take all the bytes. */
        ULONG done = 0;
        if (FAILED(hr = IStream_Write(ctx->sink, data, size, &done)) || done != size)
        {
            ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
            return FAILED(hr) ? hr : STG_E_MEDIUMFULL;
        }
    }
    else if (!WriteFile(ctx->out, data, size, &written, NULL) || written != size)
    {
        DWORD err = GetLastError();
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return HRESULT_FROM_WIN32(err ? err : ERROR_WRITE_FAULT);
    }
    AcquireSRWLockExclusive(&job->lock);
    if (still_current(ctx))
    {
        file = job->files[ctx->index];
        file->progress.BytesTransferred += size;
        file->sink_position += ctx->sink ? size : 0;
        file->bytes_downloaded += size;
        file->bytes_from_http += ctx->http ? size : 0;
        job->progress.BytesTransferred += size;
        job->no_progress_since = GetTickCount64();
        counted = file->progress.BytesTransferred;
        notify_modified(job);
        store_mark_progress(job);
        if (job->options.max_download_size &&
            job->progress.BytesTransferred > job->options.max_download_size)
            hr = size_limit_failure(ctx);
        else if (out_of_time(job))
            hr = time_limit_failure(ctx);
    }
    else
    {
        hr = E_ABORT;
    }
    ReleaseSRWLockExclusive(&job->lock);
    if (SUCCEEDED(hr) && !ctx->sink)
    {
        ctx->unflushed += size;
        ctx->counted = counted;
        checkpoint(ctx, counted);
    }
    return hr;
}

/* When a fetch stops, for whatever reason (Suspend, an error, the end of the data), what it
 * wrote becomes durable: the progress a client saw after Suspend is the progress the next
 * process starts from. Unlike checkpoint(), this runs after the job's generation moved on, so
 * it checks instead that the file still counts those bytes (no restart, no Cancel). Caller
 * holds no lock. */
static void settle(struct transfer_ctx *ctx)
{
    struct ejob_file *file;

    if (!ctx->counted || !ctx->unflushed || !FlushFileBuffers(ctx->out))
        return;
    ctx->unflushed = 0;
    AcquireSRWLockExclusive(&ctx->job->lock);
    file = ctx->index < ctx->job->file_count ? ctx->job->files[ctx->index] : NULL;
    if (file && !ejob_is_final(ctx->job) && ctx->counted > file->durable &&
        ctx->counted <= file->progress.BytesTransferred)
    {
        file->durable = ctx->counted;
        store_mark_dirty(ctx->job);
    }
    ReleaseSRWLockExclusive(&ctx->job->lock);
}

/* Opens the temporary file for writing and decides where the fetch continues: at the bytes
 * already counted, if the file really holds them, otherwise from the start. Only the file the
 * engine created is opened (tempfile_open); one made anew has its identity recorded. */
static HRESULT open_temp(struct transfer_ctx *ctx, const WCHAR *temp, UINT64 counted)
{
    struct ejob_file *file;
    struct file_identity id;
    LARGE_INTEGER size, pos;
    BOOL current;
    HRESULT hr;

    AcquireSRWLockShared(&ctx->job->lock);
    file = ctx->job->files[ctx->index];
    id = file->temp_id;
    ReleaseSRWLockShared(&ctx->job->lock);
    if (FAILED(hr = tempfile_open(temp, &id, &ctx->out)))
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return hr;
    }
    AcquireSRWLockExclusive(&ctx->job->lock);
    if ((current = still_current(ctx)))
        file->temp_id = id;
    ReleaseSRWLockExclusive(&ctx->job->lock);
    if (!current)
    {
        /* Stopped meanwhile: Cancel may have deleted the file already, so one made anew here
         * goes again. */
        CloseHandle(ctx->out);
        ctx->out = INVALID_HANDLE_VALUE;
        if (hr == S_FALSE)
            tempfile_delete(temp, &id);
        return E_ABORT;
    }
    ctx->flushed_at = GetTickCount64();
    ctx->unflushed = 0;
    if (!GetFileSizeEx(ctx->out, &size))
        size.QuadPart = 0;
    if (counted > 0 && (UINT64)size.QuadPart >= counted)
    {
        pos.QuadPart = counted;
        if (SetFilePointerEx(ctx->out, pos, NULL, FILE_BEGIN) && SetEndOfFile(ctx->out))
        {
            ctx->offset = counted;
            return S_OK;
        }
    }
    ctx->offset = 0;
    if (FAILED(hr = transfer_restart(ctx)))
    {
        CloseHandle(ctx->out);
        ctx->out = INVALID_HANDLE_VALUE;
    }
    return hr;
}

/* A stream sink continues where its bytes end; it is only asked to seek when that is not where
 * it stands (a restart, a rejected file). */
static HRESULT open_sink(struct transfer_ctx *ctx, UINT64 counted, UINT64 position)
{
    LARGE_INTEGER pos;
    HRESULT hr;

    ctx->out = INVALID_HANDLE_VALUE;
    ctx->offset = counted;
    if (position == counted)
        return S_OK;
    pos.QuadPart = counted;
    if (FAILED(hr = IStream_Seek(ctx->sink, pos, STREAM_SEEK_SET, NULL)))
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return hr;
    }
    AcquireSRWLockExclusive(&ctx->job->lock);
    ctx->job->files[ctx->index]->sink_position = counted;
    ReleaseSRWLockExclusive(&ctx->job->lock);
    return S_OK;
}

/* A file's last step once all its bytes are in: they reach the disk, and the source's owner
 * and ACLs go onto the temporary file (SetFileACLFlags), which the rename on Complete carries to
 * the destination. `source` is the local source's path, or NULL. Closes ctx->out. */
static HRESULT finish_temp(struct transfer_ctx *ctx, const WCHAR *source, const WCHAR *temp)
{
    HRESULT hr;

    if (SUCCEEDED(hr = engine_fault("FLUSH")) && !FlushFileBuffers(ctx->out))
        hr = HRESULT_FROM_WIN32(GetLastError());
    CloseHandle(ctx->out);
    ctx->out = INVALID_HANDLE_VALUE;
    if (FAILED(hr))
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return hr;
    }
    /* Private while partial, the file now gets what its folder gives new files. */
    if (FAILED(hr = tempfile_inherit_acl(temp)))
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        ctx->transient = TRUE;
        return hr;
    }
    if (source && ctx->acl_flags &&
        (FAILED(hr = engine_fault("ACL")) || FAILED(hr = acl_copy(source, temp, ctx->acl_flags))))
    {
        /* The bytes stay: the next attempt only repeats this step. */
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        ctx->transient = TRUE;
    }
    return hr;
}

/* Fetches the rest of the file into the temporary file or the stream sink, both ready at
 * ctx->offset, and finishes a temporary file (finish_temp). Returns S_OK when the file is ready
 * to be counted as finished, or when the source ended its answer early (the file's bytes are
 * then not all in, which the caller checks). Closes ctx->out. */
static HRESULT fetch_source(struct transfer_ctx *ctx, const WCHAR *remote, const WCHAR *temp)
{
    WCHAR path[URL_MAX_LENGTH + 1];
    BOOL local = FALSE, complete;
    HRESULT hr = S_OK;

    switch (url_classify(remote))
    {
    case URL_HTTP:
    case URL_HTTPS:
        ctx->http = TRUE;
        break;
    case URL_FILE:
    case URL_LOCAL_PATH:
        local = TRUE;
        if (url_to_path(remote, path, ARRAY_SIZE(path)))
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            hr = E_INVALIDARG;
        }
        break;
    default:
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        hr = BG_E_PROTOCOL_NOT_AVAILABLE;
        break;
    }
    /* All the bytes arrived in an earlier run, whose finishing failed or was interrupted: only
     * the finishing is left, and the source is not asked again. */
    if (SUCCEEDED(hr) && (ctx->total == BG_SIZE_UNKNOWN || ctx->offset != ctx->total))
        hr = local ? localfile_fetch(ctx, path) : net_fetch(ctx, remote);
    if (SUCCEEDED(hr))
    {
        AcquireSRWLockShared(&ctx->job->lock);
        complete = bytes_complete(ctx->job->files[ctx->index]);
        if (!still_current(ctx))
            hr = E_ABORT;
        ReleaseSRWLockShared(&ctx->job->lock);
        if (SUCCEEDED(hr) && complete && FAILED(hr = engine_fault("FINISH")))
            ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        if (SUCCEEDED(hr) && complete && !ctx->sink)
            return finish_temp(ctx, local ? path : NULL, temp);
    }
    if (!ctx->sink)
    {
        settle(ctx);
        CloseHandle(ctx->out);
        ctx->out = INVALID_HANDLE_VALUE;
    }
    return hr;
}

/* A stream sink is called in its own apartment. The worker joins the multithreaded apartment
 * for the fetch and takes the stream from the Global Interface Table: a stream that lives in a
 * single-threaded apartment comes as a proxy, so that every call on it runs on that
 * apartment's thread (which must pump messages); any other comes as it is. */
static HRESULT fetch_to_sink(struct transfer_ctx *ctx, const WCHAR *remote, UINT64 counted,
                             UINT64 sink_position)
{
    IGlobalInterfaceTable *git;
    HRESULT hr;

    if (FAILED(hr = CoInitializeEx(NULL, COINIT_MULTITHREADED)))
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return hr;
    }
    if (SUCCEEDED(hr = git_get(&git)))
    {
        hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(git, ctx->sink_cookie, &IID_IStream,
                                                          (void **)&ctx->sink);
        IGlobalInterfaceTable_Release(git);
    }
    if (FAILED(hr))
    {
        ctx->sink = NULL;
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
    }
    else
    {
        if (SUCCEEDED(hr = open_sink(ctx, counted, sink_position)))
            hr = fetch_source(ctx, remote, NULL);
        IStream_Release(ctx->sink);
        ctx->sink = NULL;
    }
    CoUninitialize();
    return hr;
}

static HRESULT fetch_file(struct transfer_ctx *ctx, const WCHAR *remote, const WCHAR *temp,
                          UINT64 counted, UINT64 sink_position)
{
    HRESULT hr;

    if (ctx->sink_cookie)
        return fetch_to_sink(ctx, remote, counted, sink_position);
    if (FAILED(hr = open_temp(ctx, temp, counted)))
        return hr;
    return fetch_source(ctx, remote, temp);
}

/* What a worker does with the job once it has dropped the lock: queue it again. */
struct requeue
{
    BOOL wanted;
    LONG generation;
    BG_JOB_PRIORITY priority;
    ULONGLONG delay_ms;
};

/* Asks for the job to be queued again after delay_ms. Caller holds job->lock. */
static void want_requeue(struct requeue *requeue, const struct ejob *job, ULONGLONG delay_ms)
{
    requeue->wanted = TRUE;
    requeue->generation = job->generation;
    requeue->priority = job->priority;
    requeue->delay_ms = delay_ms;
}

/* Records a failure and picks ERROR or TRANSIENT_ERROR. A transient failure is retried (through
 * `requeue`) after the minimum retry delay, or later if the source asked so (Retry-After), as
 * long as the retry still falls inside the no-progress window: that window runs from the last
 * progress, so a stall that used all of it ends in ERROR here. Caller holds job->lock
 * exclusively. */
static void record_failure(struct ejob *job, const struct transfer_ctx *ctx, HRESULT hr,
                           struct requeue *requeue)
{
    ULONGLONG now = GetTickCount64();
    ULONGLONG timeout_ms = (ULONGLONG)job->no_progress_timeout * 1000;
    ULONGLONG delay_ms = max((ULONGLONG)job->min_retry_delay * 1000, ctx->retry_after_ms);

    job->error.present = TRUE;
    job->error.code = hr;
    job->error.context = ctx->context;
    job->error.file_index = ctx->index;
    job->error_count++;
    ejob_touch(job);
    if (ctx->transient)
    {
        if (!job->no_progress_since)
            job->no_progress_since = now;
        /* Retry while the next attempt still falls inside the no-progress timeout. */
        if (now + delay_ms < job->no_progress_since + timeout_ms)
        {
            job->state = BG_JOB_STATE_TRANSIENT_ERROR;
            want_requeue(requeue, job, delay_ms);
            return;
        }
    }
    job->state = BG_JOB_STATE_ERROR;
    notify_state_entered(job);
}

/* Zeroes and frees a block of option strings (it holds passwords). NULL is ignored. */
static void wipe(WCHAR *block, SIZE_T chars)
{
    if (!block)
        return;
    SecureZeroMemory(block, chars * sizeof(WCHAR));
    heap_free(block);
}

void transfer_run(struct ejob *job, LONG generation)
{
    struct transfer_ctx ctx = {.job = job, .generation = generation, .end = BG_SIZE_UNKNOWN};
    struct requeue requeue = {0};
    /* The remote name as the fetch starts: names are never longer (url_classify). */
    WCHAR remote[URL_MAX_LENGTH + 1];
    /* The temporary file of the file being fetched, until it is finished. */
    const WCHAR *working = NULL;
    const WCHAR *temp;
    struct ejob_file *file = NULL;
    /* The block that holds the strings of ctx.options (ejob_options_copy). */
    WCHAR *options_block = NULL, *grown;
    SIZE_T options_capacity = 0, need;
    UINT64 counted, sink_position;
    ULONGLONG started;
    BOOL final;
    HRESULT hr;

    AcquireSRWLockExclusive(&job->lock);
    if (job->generation != generation ||
        (job->state != BG_JOB_STATE_QUEUED && job->state != BG_JOB_STATE_TRANSIENT_ERROR))
    {
        ReleaseSRWLockExclusive(&job->lock);
        return;
    }
    if (job->worker_active)
    {
        /* A worker that a control operation stopped, and did not wait for, has not returned:
         * two workers never write the same files, so that one queues the job again. */
        job->rerun = TRUE;
        ReleaseSRWLockExclusive(&job->lock);
        return;
    }
    job->worker_active = TRUE;
    job->state = BG_JOB_STATE_TRANSFERRING;
    job->error.present = FALSE;
    job->transfer_since = GetTickCount64();
    /* The no-progress window of a resumed job starts with its first worker, not in the queue;
     * retries stay in the window their failure left. */
    if (!job->no_progress_since)
        job->no_progress_since = job->transfer_since;
    ejob_touch(job);

    for (;;)
    {
        ULONG i;

        for (i = 0; i < job->file_count; i++)
        {
            if (!job->files[i]->finished)
                break;
        }
        if (i == job->file_count)
        {
            job->state = BG_JOB_STATE_TRANSFERRED;
            GetSystemTimeAsFileTime(&job->times.TransferCompletionTime);
            job->times.ModificationTime = job->times.TransferCompletionTime;
            notify_state_entered(job);
            break;
        }
        file = job->files[i];
        ctx.index = i;
        if (out_of_time(job))
        {
            record_failure(job, &ctx, time_limit_failure(&ctx), &requeue);
            break;
        }
        /* A DO file added while the job ran may lack what Resume checks for. */
        hr = S_OK;
        if (!file->remote)
            hr = DO_E_DOWNLOAD_NO_URI;
        else if (!file->local && !file->sink_cookie)
            hr = DO_E_FILE_DOWNLOADSINK_UNSPECIFIED;
        if (FAILED(hr))
        {
            ctx.context = BG_ERROR_CONTEXT_NONE;
            ctx.transient = FALSE;
            record_failure(job, &ctx, hr, &requeue);
            break;
        }
        /* The remote name and the options may change under the lock (SetRemoteName, the
         * setters): fetch with copies. */
        ctx.transient = FALSE;
        if (wcslen(file->remote) >= ARRAY_SIZE(remote))
        {
            ctx.context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
            record_failure(job, &ctx, E_INVALIDARG, &requeue);
            break;
        }
        if ((need =
                 ejob_options_copy(&ctx.options, &job->options, options_block, options_capacity)))
        {
            /* The block is grown without the lock; then everything is looked at again. */
            ReleaseSRWLockExclusive(&job->lock);
            grown = HeapAlloc(GetProcessHeap(), 0, need * sizeof(WCHAR));
            if (grown)
            {
                wipe(options_block, options_capacity);
                options_block = grown;
                options_capacity = need;
            }
            AcquireSRWLockExclusive(&job->lock);
            if (job->generation != generation)
                break;
            if (!grown)
            {
                ctx.context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
                ctx.transient = TRUE;
                record_failure(job, &ctx, E_OUTOFMEMORY, &requeue);
                break;
            }
            continue;
        }
        wcscpy(remote, file->remote);
        temp = file->temp;
        /* Dynamic content cannot be resumed: BITS fetches it from the start every time. Bytes
         * that are all in are kept, though: such a file only waits to be finished. */
        counted = ctx.options.dynamic_content && !bytes_complete(file)
                      ? 0
                      : file->progress.BytesTransferred;
        ctx.acl_flags = job->file_acl_flags;
        ctx.total = file->progress.BytesTotal;
        wcscpy(ctx.validator, file->validator);
        ctx.ranges = file->ranges;
        ctx.range_count = file->range_count;
        ctx.remote_size = file->remote_size;
        /* Registered as long as the job lives, and so does the worker. */
        ctx.sink_cookie = file->sink_cookie;
        sink_position = file->sink_position;
        working = ctx.sink_cookie ? NULL : temp;
        ReleaseSRWLockExclusive(&job->lock);

        ctx.context = BG_ERROR_CONTEXT_NONE;
        ctx.transient = FALSE;
        ctx.retry_after_ms = 0;
        ctx.http = FALSE;
        started = GetTickCount64();
        hr = fetch_file(&ctx, remote, temp, counted, sink_position);
        TRACE("job %s file %lu: %08lx", debugstr_guid(&job->id), i, hr);

        AcquireSRWLockExclusive(&job->lock);
        file->download_ms += GetTickCount64() - started;
        if (job->generation != generation)
            break;
        if (SUCCEEDED(hr) && !bytes_complete(file))
        {
            /* The source ended its answer short of the size it announced (a partial range):
             * ask again from there, unless it gave nothing at all. */
            if (file->progress.BytesTransferred != counted)
                continue;
            ctx.context = BG_ERROR_CONTEXT_REMOTE_FILE;
            ctx.transient = TRUE;
            hr = BG_E_INVALID_SERVER_RESPONSE;
        }
        if (FAILED(hr))
        {
            record_failure(job, &ctx, hr, &requeue);
            break;
        }
        /* The file's completion, in one step: flushed with its ACLs, it is done for Resume,
         * for this loop and for Complete, counted, and announced together. */
        file->finished = TRUE;
        file->durable = file->progress.BytesTransferred;
        working = NULL;
        job->progress.FilesTransferred++;
        /* A finished file is progress, even one without bytes. */
        job->no_progress_since = GetTickCount64();
        ejob_touch(job);
        notify_file_transferred(job, i);
    }
    job->transfer_ms += GetTickCount64() - job->transfer_since;
    job->transfer_since = 0;
    job->worker_active = FALSE;
    WakeAllConditionVariable(&job->worker_idle);
    /* A queue entry that came up while this worker, stopped, was still away. (A current
     * worker's own generation needs no second run.) */
    final = ejob_is_final(job);
    if (job->rerun && job->generation != generation && !final)
        want_requeue(&requeue, job, 0);
    job->rerun = FALSE;
    ReleaseSRWLockExclusive(&job->lock);

    /* Cancel or Complete did not wait for this worker: they deleted its unfinished file, which
     * it may have created anew since. Final jobs' files no longer change. */
    if (final && working && FAILED(hr = tempfile_delete(working, &file->temp_id)))
        WARN("cannot delete %s: %08lx", debugstr_w(working), hr);
    wipe(options_block, options_capacity);
    if (requeue.wanted)
        engine_submit(job, requeue.generation, requeue.priority, requeue.delay_ms);
}
