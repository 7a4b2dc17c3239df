/* SPDX-License-Identifier: MIT */
/* One job's transfer on a worker thread: file after file into the temporary files, with exact
 * progress accounting. */
#include "engine/engine.h"
#include "core/url.h"

/* Is the worker still wanted? Caller holds job->lock. */
static BOOL still_current(const struct transfer_ctx *ctx)
{
    return ctx->job->generation == ctx->generation;
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
    else if (file->progress.BytesTotal != total)
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
    ReleaseSRWLockExclusive(&job->lock);
    return hr;
}

HRESULT transfer_restart(struct transfer_ctx *ctx)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    LARGE_INTEGER zero = {0};
    HRESULT hr = S_OK;

    if (!SetFilePointerEx(ctx->out, zero, NULL, FILE_BEGIN) || !SetEndOfFile(ctx->out))
        return HRESULT_FROM_WIN32(GetLastError());
    AcquireSRWLockExclusive(&job->lock);
    file = job->files[ctx->index];
    if (!still_current(ctx))
        hr = E_ABORT;
    job->progress.BytesTransferred -= file->progress.BytesTransferred;
    file->progress.BytesTransferred = 0;
    ReleaseSRWLockExclusive(&job->lock);
    ctx->offset = 0;
    return hr;
}

HRESULT transfer_write(struct transfer_ctx *ctx, const void *data, DWORD size)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    HRESULT hr = S_OK;
    DWORD written;

    if (!WriteFile(ctx->out, data, size, &written, NULL) || written != size)
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
        job->progress.BytesTransferred += size;
        job->transient_since = 0;
    }
    else
    {
        hr = E_ABORT;
    }
    ReleaseSRWLockExclusive(&job->lock);
    return hr;
}

/* Opens the temporary file for writing and decides where the fetch continues: at the bytes
 * already counted, if the file really holds them, otherwise from the start. */
static HRESULT open_temp(struct transfer_ctx *ctx, const WCHAR *temp, UINT64 counted)
{
    LARGE_INTEGER size, pos;

    ctx->out = CreateFileW(temp, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL,
                           OPEN_ALWAYS, FILE_ATTRIBUTE_HIDDEN | FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (ctx->out == INVALID_HANDLE_VALUE)
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return HRESULT_FROM_WIN32(GetLastError());
    }
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
    return transfer_restart(ctx);
}

static HRESULT fetch_file(struct transfer_ctx *ctx, const WCHAR *remote, const WCHAR *temp,
                          UINT64 counted)
{
    WCHAR path[MAX_PATH * 2];
    HRESULT hr;

    if (FAILED(hr = open_temp(ctx, temp, counted)))
        return hr;
    switch (url_classify(remote))
    {
    case URL_HTTP:
    case URL_HTTPS:
        hr = http_fetch(ctx, remote);
        break;
    case URL_FILE:
    case URL_LOCAL_PATH:
        if (url_to_path(remote, path, ARRAY_SIZE(path)))
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            hr = E_INVALIDARG;
            break;
        }
        hr = localfile_fetch(ctx, path);
        break;
    default:
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        hr = BG_E_PROTOCOL_NOT_AVAILABLE;
        break;
    }
    if (SUCCEEDED(hr) && !FlushFileBuffers(ctx->out))
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        hr = HRESULT_FROM_WIN32(GetLastError());
    }
    CloseHandle(ctx->out);
    ctx->out = INVALID_HANDLE_VALUE;
    return hr;
}

/* Records a failure and picks ERROR or TRANSIENT_ERROR. Caller holds job->lock exclusively. */
static void record_failure(struct ejob *job, const struct transfer_ctx *ctx, HRESULT hr)
{
    ULONGLONG now = GetTickCount64();
    ULONGLONG timeout_ms = (ULONGLONG)job->no_progress_timeout * 1000;
    ULONGLONG delay_ms = (ULONGLONG)job->min_retry_delay * 1000;

    job->error.present = TRUE;
    job->error.code = hr;
    job->error.context = ctx->context;
    job->error.file_index = ctx->index;
    job->error_count++;
    ejob_touch(job);
    if (ctx->transient)
    {
        if (!job->transient_since)
            job->transient_since = now;
        /* Retry while the next attempt still falls inside the no-progress timeout. */
        if (now + delay_ms < job->transient_since + timeout_ms)
        {
            job->state = BG_JOB_STATE_TRANSIENT_ERROR;
            engine_submit(job, job->generation, job->priority, (DWORD)delay_ms);
            return;
        }
    }
    job->state = BG_JOB_STATE_ERROR;
}

void transfer_run(struct ejob *job, LONG generation)
{
    struct transfer_ctx ctx = {.job = job, .generation = generation};
    WCHAR *remote = NULL, *temp;
    UINT64 counted;
    HRESULT hr;

    AcquireSRWLockExclusive(&job->lock);
    if (job->generation != generation || job->worker_active ||
        (job->state != BG_JOB_STATE_QUEUED && job->state != BG_JOB_STATE_TRANSIENT_ERROR))
    {
        ReleaseSRWLockExclusive(&job->lock);
        return;
    }
    job->worker_active = TRUE;
    job->state = BG_JOB_STATE_TRANSFERRING;
    job->error.present = FALSE;
    ejob_touch(job);

    for (;;)
    {
        ULONG i;

        for (i = 0; i < job->file_count; i++)
        {
            const BG_FILE_PROGRESS *p = &job->files[i]->progress;
            if (p->BytesTotal == BG_SIZE_UNKNOWN || p->BytesTransferred != p->BytesTotal)
                break;
        }
        if (i == job->file_count)
        {
            job->state = BG_JOB_STATE_TRANSFERRED;
            GetSystemTimeAsFileTime(&job->times.TransferCompletionTime);
            job->times.ModificationTime = job->times.TransferCompletionTime;
            break;
        }
        /* The remote name may change under the lock (SetRemoteName): fetch from a copy. */
        free_str(remote);
        if (!(remote = heap_strdup(job->files[i]->remote)))
        {
            ctx.index = i;
            ctx.context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
            ctx.transient = TRUE;
            record_failure(job, &ctx, E_OUTOFMEMORY);
            break;
        }
        temp = job->files[i]->temp;
        counted = job->files[i]->progress.BytesTransferred;
        ReleaseSRWLockExclusive(&job->lock);

        ctx.index = i;
        ctx.context = BG_ERROR_CONTEXT_NONE;
        ctx.transient = FALSE;
        hr = fetch_file(&ctx, remote, temp, counted);
        TRACE("job %s file %lu: %08lx", debugstr_guid(&job->id), i, hr);

        AcquireSRWLockExclusive(&job->lock);
        if (job->generation != generation)
            break;
        if (FAILED(hr))
        {
            record_failure(job, &ctx, hr);
            break;
        }
        job->progress.FilesTransferred++;
        ejob_touch(job);
    }
    job->worker_active = FALSE;
    WakeAllConditionVariable(&job->worker_idle);
    ReleaseSRWLockExclusive(&job->lock);
    free_str(remote);
}
