/* SPDX-License-Identifier: MIT */
/* One job's transfer on a worker thread: file after file into the temporary files, with exact
 * progress accounting. */
#include "engine/engine.h"
#include "core/url.h"
#include "core/ranges.h"
#include <winternl.h>

/* ntdll's positional write. WriteFile at an offset takes an OVERLAPPED, and a synchronous
 * WriteFile with one reports the write to the file's completion port: under Wine that is a call
 * to its server per write, port or none (measured: one add_fd_completion per write, about 1,100
 * per GiB and one per small file). NtWriteFile with no event, APC or context reports nothing. */
NTSTATUS NTAPI NtWriteFile(HANDLE file, HANDLE event, PIO_APC_ROUTINE apc, void *apc_context,
                           IO_STATUS_BLOCK *io, const void *buffer, ULONG length,
                           LARGE_INTEGER *offset, ULONG *key);

/* ---- the parts of a file, and what is on disk ---- */

/* A checkpoint: transferred bytes count in the job's record only once they are on disk, so a
 * file is flushed at least this often while it is written (a file fetched over several
 * connections fills fast: what a crash loses is what came since). */
#define CHECKPOINT_MS 500
#define CHECKPOINT_BYTES (64 * 1024 * 1024)
/* A file is fetched in parts only from twice this size: below it, another request costs more
 * than the bytes it would bring sooner. Each request asks for a bounded part (a chunk) of
 * between SPLIT_MIN_BYTES and MAX_CHUNK_BYTES, smaller towards the end so that the connections
 * finish together; a request is never cut short, which would cost its connection (and, with
 * WinINet, the rest of its answer, which WinINet reads before it lets go). */
#define SPLIT_MIN_BYTES (8 * 1024 * 1024)
#define MAX_CHUNK_BYTES (64 * 1024 * 1024)
/* Chunks start at multiples of this (the disk's and the page cache's friend). */
#define SPLIT_ALIGN (64 * 1024)
#define MAX_SEGMENTS 64

/* Connections (fetches at once) of one job, and of all the jobs of the process. Settings: the
 * environment variables OPENDO_JOB_CONNECTIONS and OPENDO_PROCESS_CONNECTIONS (1 to 64), read
 * once; the defaults were measured (docs/benchmarks.md). */
#define DEFAULT_JOB_CONNECTIONS 8
/* Of those, the fetches one file in parts takes at once: its parts' writes go into one file, and
 * wait for one another (the file's write_lock, before it the file's lock in the kernel). Measured
 * under Wine 8 on 2 cores, one 1 GiB file over 4 connections against 8, alternating: 13% less CPU
 * (0.83 s against 0.96, medians of 8 pairs, 7 of them lower) in as much or less time. The other
 * connections fetch the job's other files. */
#define FILE_CONNECTIONS 4
#define DEFAULT_PROCESS_CONNECTIONS 16
#define MAX_CONNECTIONS 64

/* One part of a file being fetched: bytes [start, end) of the temporary file. */
struct segment
{
    UINT64 start;
    UINT64 pos;     /* [start, pos) are written and counted */
    UINT64 end;     /* BG_SIZE_UNKNOWN until the file's size is known */
    UINT64 flushed; /* [start, flushed) are on disk and in the file's record */
    BOOL busy;      /* a fetch fills it */
};

/* A file that the run is fetching. Guarded by job->lock, except `out`, which its opener sets
 * before the file is `ready` and its finisher closes after the last user left. */
struct live_file
{
    struct live_file *next;
    ULONG index;
    HANDLE out; /* the temporary file, shared by the file's fetches (positional writes);
                 * INVALID_HANDLE_VALUE for a stream sink */
    BOOL ready; /* opened: its parts may be claimed */
    LONG users; /* fetches working on the file, its opener included */
    struct segment segments[MAX_SEGMENTS];
    ULONG segment_count;
    BOOL split;      /* fetched in parts: every fetch of it is a ranged request */
    BOOL splittable; /* the source takes ranges and enough is left: parts may be split off */
    BOOL no_split;   /* the source refused a ranged request: one connection from the start */
    BOOL reset;      /* the parts are unusable (another version of the source, no ranges): the
                      * fetches stop and the last one out starts the file over */
    HRESULT reset_reason;
    ULONG resets;         /* in this run */
    BOOL checkpointing;   /* a fetch is flushing the file */
    ULONGLONG flushed_at; /* the last checkpoint */
    UINT64 unflushed;     /* bytes written since */
    /* Taken around each write to `out`: the file's fetches write one at a time (see
     * transfer_write). */
    SRWLOCK write_lock;
};

/* One worker run of a job: the worker and the fetchers it started share the files. */
struct fetch_run
{
    struct ejob *job;
    LONG generation;
    CONDITION_VARIABLE changed; /* with job->lock: work may be there, or the run is over */
    struct live_file *live;     /* lock: the files being fetched */
    ULONG next_file;            /* lock: the files before it are finished, live or reset */
    ULONG fetchers;             /* lock: threads of the run, the worker included */
    ULONG busy;                 /* lock: of them, those with a part claimed */
    ULONG limit;                /* the job's connections */
    ULONG halt_index;           /* lock: a fetch of this file failed (ULONG_MAX: none): the run
                                 * ends once the files before it are done, as they would be if
                                 * the files were fetched one after the other */
    HRESULT failure;            /* lock: that failure, with where it happened */
    BG_ERROR_CONTEXT failure_context;
    BOOL failure_transient;
    ULONGLONG failure_retry_after;
    ULONG failure_index;
    HANDLE threads[MAX_CONNECTIONS]; /* the fetchers started, joined by the worker */
    ULONG thread_count;              /* lock */
    ULONG announced;                 /* lock: files before it are announced (announce) */
};

/* Are all the file's bytes counted? The file is done only once it is finished as well
 * (ejob_file.finished). Caller holds job->lock. */
static BOOL bytes_complete(const struct ejob_file *file)
{
    return file->progress.BytesTotal != BG_SIZE_UNKNOWN &&
           file->progress.BytesTransferred == file->progress.BytesTotal;
}

/* Adds [first, end) to what the file's record says is on disk. Caller holds job->lock
 * exclusively. */
static void add_durable(struct ejob_file *file, UINT64 first, UINT64 end)
{
    struct file_extent *list = file->extents, *grown;
    ULONG count = file->extent_count, i, j;

    if (first >= end)
        return;
    if (first <= file->durable)
    {
        file->durable = max(file->durable, end);
        /* The prefix may now reach the extents that follow it. */
        for (i = 0; i < count && list[i].first <= file->durable; i++)
            file->durable = max(file->durable, list[i].end);
        memmove(list, list + i, (count - i) * sizeof(*list));
        file->extent_count = count - i;
        return;
    }
    /* Merge with every extent it touches, then insert in order. */
    for (i = 0, j = 0; i < count; i++)
    {
        if (list[i].end < first || list[i].first > end)
            list[j++] = list[i];
        else
        {
            first = min(first, list[i].first);
            end = max(end, list[i].end);
        }
    }
    count = j;
    if (!(grown = HeapReAlloc(GetProcessHeap(), 0, list, (count + 1) * sizeof(*list))) && list)
    {
        /* Not recorded: the bytes count as not on disk, and come again after a restart. */
        file->extent_count = count;
        return;
    }
    if (!list && !(grown = HeapAlloc(GetProcessHeap(), 0, sizeof(*list))))
    {
        file->extent_count = 0;
        return;
    }
    list = grown;
    for (i = count; i > 0 && list[i - 1].first > first; i--)
        list[i] = list[i - 1];
    list[i].first = first;
    list[i].end = end;
    file->extents = list;
    file->extent_count = count + 1;
}

/* The bytes the file's record says are on disk. Caller holds job->lock. */
static UINT64 durable_bytes(const struct ejob_file *file)
{
    UINT64 sum = file->durable;

    for (ULONG i = 0; i < file->extent_count; i++)
        sum += file->extents[i].end - file->extents[i].first;
    return sum;
}

/* Forgets every byte of the file: counters, record and validator. Caller holds job->lock
 * exclusively. */
static void forget_bytes(struct ejob *job, struct ejob_file *file)
{
    job->progress.BytesTransferred -= file->progress.BytesTransferred;
    file->progress.BytesTransferred = 0;
    file->durable = 0;
    heap_free(file->extents);
    file->extents = NULL;
    file->extent_count = 0;
    file->validator[0] = 0;
    ejob_publish_progress(job);
}

/* Is the worker still wanted? Caller holds job->lock. */
static BOOL still_current(const struct transfer_ctx *ctx)
{
    return ctx->job->generation == ctx->generation &&
           !(ctx->run && ctx->index >= ctx->run->halt_index) && !(ctx->live && ctx->live->reset);
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

    /* A HEAD that was redirected: the GET that follows meets the redirect again, and reports
     * it. */
    if (ctx->probe)
        return S_OK;
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

static void maybe_spawn(struct fetch_run *run);
static void run_fail(struct fetch_run *run, const struct transfer_ctx *ctx, HRESULT hr);

/* BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE with files fetched at once: the first file whose bytes
 * (its size, with `sizes`, or what it has so far), with those of the files before it, exceed
 * the job's maximum, or ULONG_MAX. Files after it would come after it in BITS, which fetches
 * one file after the other: that one fails, the ones before it go on. Caller holds
 * job->lock. */
static ULONG first_over_limit(const struct ejob *job, BOOL sizes)
{
    UINT64 sum = 0, bytes;

    for (ULONG i = 0; i < job->file_count; i++)
    {
        bytes =
            sizes ? job->files[i]->progress.BytesTotal : job->files[i]->progress.BytesTransferred;
        if (bytes != BG_SIZE_UNKNOWN && (sum += bytes) > job->options.max_download_size)
            return i;
    }
    return ULONG_MAX;
}

HRESULT transfer_set_size(struct transfer_ctx *ctx, UINT64 total)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    HRESULT hr = S_OK;
    BOOL spawn = FALSE;

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
    /* Known before a byte of it is fetched: a file that the job's maximum cannot hold, with the
     * files before it (those after it, fetched at the same time, would come after it in BITS,
     * which fetches one file after the other). */
    if (SUCCEEDED(hr) && job->options.max_download_size &&
        job->known_bytes > job->options.max_download_size)
    {
        ULONG over = first_over_limit(job, TRUE);
        if (over == ctx->index || (over < ctx->index && !ctx->run))
            hr = size_limit_failure(ctx);
        else if (over != ULONG_MAX && ctx->run)
        {
            /* Another file does not fit: it fails; this one stops if it comes after it. */
            struct transfer_ctx failed = {.index = over, .context = BG_ERROR_CONTEXT_REMOTE_FILE};
            run_fail(ctx->run, &failed, BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED);
            if (over < ctx->index)
                hr = E_ABORT;
        }
    }
    if (SUCCEEDED(hr) && ctx->live && !ctx->live->split)
    {
        /* A file in one part: the part ends with the file. Large enough, from a source that
         * takes ranges, it may now be split for more connections. */
        ctx->segment->end = total;
        ctx->live->splittable = !ctx->live->no_split && ctx->accepts_ranges &&
                                total > ctx->segment->pos &&
                                total - ctx->segment->pos >= 2 * SPLIT_MIN_BYTES;
        /* With a maximum download size, the next file may wait for this size (next_to_start). */
        spawn = ctx->live->splittable || job->options.max_download_size;
        WakeAllConditionVariable(&ctx->run->changed);
    }
    ReleaseSRWLockExclusive(&job->lock);
    if (spawn)
        maybe_spawn(ctx->run);
    return hr;
}

HRESULT transfer_restart(struct transfer_ctx *ctx)
{
    struct ejob *job = ctx->job;
    struct ejob_file *file;
    LARGE_INTEGER zero = {0};
    HRESULT hr = S_OK;

    if (ctx->live && ctx->live->split)
    {
        /* Other parts are in flight: the file starts over once they stopped (transfer.c's
         * reset), not under their feet. */
        AcquireSRWLockExclusive(&job->lock);
        ctx->live->reset = TRUE;
        ctx->live->reset_reason = BG_E_REMOTE_FILE_CHANGED;
        ReleaseSRWLockExclusive(&job->lock);
        return E_ABORT;
    }
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
        forget_bytes(job, file);
        if (ctx->segment)
        {
            ctx->segment->start = ctx->segment->pos = ctx->segment->flushed = 0;
        }
    }
    else
    {
        /* A stopped worker leaves the counters alone; the next run finds the temporary file
         * shorter than they say (or the sink elsewhere) and starts over itself. */
        hr = E_ABORT;
    }
    ReleaseSRWLockExclusive(&job->lock);
    ctx->offset = ctx->position = 0;
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
    ctx->job->files[ctx->index]->cache_connections += ctx->from_cache_host ? 1 : 0;
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

static LONG process_fetchers; /* fetches running in the process (interlocked) */

static LONG read_setting(const char *name, LONG fallback)
{
    char value[16];
    DWORD len = GetEnvironmentVariableA(name, value, sizeof(value));
    long n;

    if (!len || len >= sizeof(value))
        return fallback;
    n = strtol(value, NULL, 10);
    return n >= 1 && n <= MAX_CONNECTIONS ? n : fallback;
}

static LONG connections_setting(BOOL process)
{
    static LONG job_value, process_value; /* 0: not read yet */
    LONG *slot = process ? &process_value : &job_value;
    LONG value = InterlockedCompareExchange(slot, 0, 0);

    if (!value)
    {
        value = process ? read_setting("OPENDO_PROCESS_CONNECTIONS", DEFAULT_PROCESS_CONNECTIONS)
                        : read_setting("OPENDO_JOB_CONNECTIONS", DEFAULT_JOB_CONNECTIONS);
        InterlockedExchange(slot, value);
    }
    return value;
}

/* Flushes the file when a checkpoint is due (or always, with `force`), then records the parts
 * that were written before the flush as on disk. One fetch flushes at a time. Caller holds no
 * lock. */
static void checkpoint(struct transfer_ctx *ctx, BOOL force)
{
    struct live_file *live = ctx->live;
    struct ejob *job = ctx->job;
    UINT64 written[MAX_SEGMENTS], starts[MAX_SEGMENTS];
    ULONGLONG now = GetTickCount64();
    struct ejob_file *file;
    ULONG count, i;
    BOOL flushed;

    if (!live || live->out == INVALID_HANDLE_VALUE)
        return;
    AcquireSRWLockExclusive(&job->lock);
    if (live->checkpointing || !live->unflushed ||
        (!force && live->unflushed < CHECKPOINT_BYTES && now - live->flushed_at < CHECKPOINT_MS))
    {
        ReleaseSRWLockExclusive(&job->lock);
        return;
    }
    live->checkpointing = TRUE;
    live->unflushed = 0;
    live->flushed_at = now;
    count = live->segment_count;
    for (i = 0; i < count; i++)
    {
        starts[i] = live->segments[i].start;
        written[i] = live->segments[i].pos;
    }
    ReleaseSRWLockExclusive(&job->lock);

    if (!(flushed = FlushFileBuffers(live->out)))
        WARN("cannot flush %lu: %lu", live->index, GetLastError());

    AcquireSRWLockExclusive(&job->lock);
    live->checkpointing = FALSE;
    file = job->files[live->index];
    /* A reset or a Cancel meanwhile: those bytes are no longer the file's. */
    if (flushed && !live->reset && !ejob_is_final(job) && !file->finished)
    {
        for (i = 0; i < count; i++)
        {
            struct segment *seg = &live->segments[i];
            /* (A slot given to another part meanwhile has another start.) */
            if (seg->start == starts[i] && written[i] > seg->flushed)
            {
                add_durable(file, seg->flushed, written[i]);
                seg->flushed = written[i];
            }
        }
        TRACE("file %lu: %I64u on disk from 0, %lu parts beyond", live->index, file->durable,
              file->extent_count);
        store_mark_dirty(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
}

HRESULT transfer_write(struct transfer_ctx *ctx, const void *data, DWORD size)
{
    struct ejob *job = ctx->job;
    struct segment *seg = ctx->segment;
    struct ejob_file *file;
    LARGE_INTEGER at;
    IO_STATUS_BLOCK io;
    NTSTATUS status;
    HRESULT hr = S_OK;
    BOOL cut = FALSE;

    /* A failing WRITE point stands for the write's failure (ERROR_DISK_FULL, say). */
    if (FAILED(hr = engine_fault("WRITE")))
    {
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return hr;
    }
    if (seg)
    {
        /* Only up to the part's end: the rest of an answer that brings more is not this
         * part's. */
        AcquireSRWLockExclusive(&job->lock);
        if (!still_current(ctx))
            hr = E_ABORT;
        else if (seg->end != BG_SIZE_UNKNOWN && ctx->position + size > seg->end)
        {
            size = (DWORD)(seg->end > ctx->position ? seg->end - ctx->position : 0);
            cut = TRUE;
        }
        ReleaseSRWLockExclusive(&job->lock);
        if (FAILED(hr))
            return hr;
        if (!size)
            return S_FALSE;
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
    else
    {
        /* The handle is synchronous: the write is done when the call returns. The fetches of
         * one file write one at a time. Linux's buffered writes to one file take its inode's
         * lock anyway, and there a waiting writer spins while the holder copies; here it
         * sleeps. The benchmark's 1 GiB file (FILE_CONNECTIONS fetches), 16 alternating pairs:
         * client CPU median 1.93 s without this lock, 1.20 s with it; wall 1.65 s and 1.29 s, lower
         * in 12 pairs of 16 (perf: 14% of the client's CPU in rwsem_spin_on_owner before). */
        at.QuadPart = (LONGLONG)ctx->position;
        if (ctx->live)
            AcquireSRWLockExclusive(&ctx->live->write_lock);
        status = NtWriteFile(ctx->out, NULL, NULL, NULL, &io, data, size, &at, NULL);
        if (ctx->live)
            ReleaseSRWLockExclusive(&ctx->live->write_lock);
        if (status || io.Information != size)
        {
            DWORD err = status ? RtlNtStatusToDosError(status) : 0;
            ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
            return HRESULT_FROM_WIN32(err ? err : ERROR_WRITE_FAULT);
        }
    }
    AcquireSRWLockExclusive(&job->lock);
    if (still_current(ctx))
    {
        file = job->files[ctx->index];
        file->progress.BytesTransferred += size;
        file->sink_position += ctx->sink ? size : 0;
        file->bytes_downloaded += size;
        file->bytes_from_http += ctx->http ? size : 0;
        file->bytes_from_cache += ctx->http && ctx->from_cache_host ? size : 0;
        job->progress.BytesTransferred += size;
        ejob_publish_progress(job);
        job->no_progress_since = GetTickCount64();
        if (seg)
            seg->pos = ctx->position + size;
        if (ctx->live)
            ctx->live->unflushed += ctx->sink ? 0 : size;
        notify_modified(job);
        store_mark_progress(job);
        if (job->options.max_download_size &&
            job->progress.BytesTransferred > job->options.max_download_size &&
            first_over_limit(job, FALSE) <= ctx->index)
            hr = size_limit_failure(ctx);
        else if (out_of_time(job))
            hr = time_limit_failure(ctx);
    }
    else
    {
        hr = E_ABORT;
    }
    ReleaseSRWLockExclusive(&job->lock);
    if (FAILED(hr))
        return hr;
    ctx->position += size;
    checkpoint(ctx, FALSE);
    /* A cost policy changed, or a network that changed, stops the fetch at once. */
    if (FAILED(hr = bandwidth_take(ctx, size)) || FAILED(hr = cost_check(ctx)))
        return hr;
    return cut ? S_FALSE : S_OK;
}

/* A file's last step once all its bytes are in: they reach the disk, the file gets what its
 * folder gives new files (through `folder_acl`), and the source's owner and ACLs go onto the
 * temporary file (SetFileACLFlags), which the rename on Complete carries to the destination.
 * `source` is the local source's path, or NULL. Closes live->out. */
static HRESULT finish_temp(struct transfer_ctx *ctx, const WCHAR *source, const WCHAR *temp,
                           struct folder_acl *folder_acl)
{
    HANDLE out = ctx->live->out;
    HRESULT hr;

    ctx->live->out = INVALID_HANDLE_VALUE;
    if (SUCCEEDED(hr = engine_fault("FLUSH")) && !FlushFileBuffers(out))
        hr = HRESULT_FROM_WIN32(GetLastError());
    if (FAILED(hr))
    {
        CloseHandle(out);
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return hr;
    }
    /* Private while partial, the file now gets what its folder gives new files. */
    hr = tempfile_inherit_acl(out, temp, folder_acl);
    CloseHandle(out);
    if (FAILED(hr))
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

/* Opens the temporary file for the file's fetches: makes it when the file's transfer starts
 * (AddFile only reserved its name), or opens the one made before. The parts the record says are
 * on disk are kept if the file really holds them; otherwise the file starts over. Only the file
 * the engine made is opened (tempfile_open); one made anew has its identity recorded. *temp is
 * the fetcher's pointer to the file's name, which making the file may change. */
static HRESULT open_temp(struct transfer_ctx *ctx, const WCHAR **temp)
{
    struct ejob *job = ctx->job;
    struct live_file *live = ctx->live;
    struct ejob_file *file;
    struct file_identity id;
    WCHAR *made = NULL;
    LARGE_INTEGER size;
    UINT64 needed;
    BOOL current, keep, make;
    HANDLE out;
    HRESULT hr;

    AcquireSRWLockShared(&job->lock);
    file = job->files[ctx->index];
    id = file->temp_id;
    make = file->temp_deleted;
    ReleaseSRWLockShared(&job->lock);
    /* Only this fetch changes the file's name meanwhile: the other parts wait until it opened. */
    if (make)
        hr = (made = heap_strdup(*temp)) ? tempfile_make(&made, &id, &out) : E_OUTOFMEMORY;
    else
        hr = tempfile_open(*temp, &id, &out);
    if (FAILED(hr))
    {
        free_str(made);
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
        return hr;
    }
    if (!GetFileSizeEx(out, &size))
        size.QuadPart = 0;
    engine_fault("TEMP_MADE");
    AcquireSRWLockExclusive(&job->lock);
    current = still_current(ctx);
    /* A Suspend (or a restart) that came while the file was being made leaves it to the job,
     * as a file made a moment earlier would be: only a final job's files go. */
    if ((keep = current || !ejob_is_final(job)))
    {
        file->temp_id = id;
        if (make)
        {
            /* The name (another one if the reserved one was taken) and the file go into the
             * record with the next batch. */
            WCHAR *old = file->temp;
            file->temp = made;
            made = old;
            file->temp_deleted = FALSE;
            store_mark_dirty(job);
        }
        /* The caller's pointer follows the name: the old one goes below. */
        *temp = file->temp;
    }
    if (current)
    {
        needed = file->extent_count ? file->extents[file->extent_count - 1].end
                                    : file->progress.BytesTransferred;
        if ((UINT64)size.QuadPart < needed)
        {
            /* Less than the record says is there: nothing of it can be trusted. */
            WARN("temporary file of %lu is shorter than its record: starting over", ctx->index);
            forget_bytes(job, file);
            live->segments[0].start = live->segments[0].pos = live->segments[0].flushed = 0;
            live->segment_count = 1;
            live->split = FALSE;
            ctx->offset = ctx->position = 0;
            ctx->validator[0] = 0;
        }
        live->out = out;
        live->flushed_at = GetTickCount64();
    }
    ReleaseSRWLockExclusive(&job->lock);
    if (!current)
    {
        /* Stopped meanwhile. When the job ended (Cancel, Complete), its files may have been
         * deleted already, so one made anew here goes again. */
        CloseHandle(out);
        if (!keep && (hr == S_FALSE || make))
            tempfile_delete(make ? made : *temp, &id);
        free_str(made);
        return E_ABORT;
    }
    free_str(made);
    ctx->out = out;
    return S_OK;
}

/* A stream sink continues where its bytes end; it is only asked to seek when that is not where
 * it stands (a restart, a rejected file). */
static HRESULT open_sink(struct transfer_ctx *ctx, UINT64 counted, UINT64 position)
{
    LARGE_INTEGER pos;
    HRESULT hr;

    ctx->out = INVALID_HANDLE_VALUE;
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

/* Fetches the claimed part from the source; `local` and `path` say whether it is a local or
 * UNC file and its path. */
static HRESULT fetch_part(struct transfer_ctx *ctx, const WCHAR *remote, BOOL local,
                          const WCHAR *path)
{
    /* All the bytes arrived in an earlier run, whose finishing failed or was interrupted: only
     * the finishing is left, and the source is not asked again. */
    if (ctx->segment->end != BG_SIZE_UNKNOWN && ctx->offset >= ctx->segment->end)
        return S_OK;
    return local ? localfile_fetch(ctx, path) : net_fetch(ctx, remote);
}

/* A stream sink is called in its own apartment. The fetch joins the multithreaded apartment
 * and takes the stream from the Global Interface Table: a stream that lives in a
 * single-threaded apartment comes as a proxy, so that every call on it runs on that
 * apartment's thread (which must pump messages); any other comes as it is. */
static HRESULT fetch_to_sink(struct transfer_ctx *ctx, const WCHAR *remote, BOOL local,
                             const WCHAR *path, UINT64 sink_position)
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
        if (SUCCEEDED(hr = open_sink(ctx, ctx->offset, sink_position)))
            hr = fetch_part(ctx, remote, local, path);
        IStream_Release(ctx->sink);
        ctx->sink = NULL;
    }
    CoUninitialize();
    return hr;
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
static void record_failure(struct ejob *job, const struct fetch_run *run, struct requeue *requeue)
{
    ULONGLONG now = GetTickCount64();
    ULONGLONG timeout_ms = (ULONGLONG)job->no_progress_timeout * 1000;
    ULONGLONG delay_ms = max((ULONGLONG)job->min_retry_delay * 1000, run->failure_retry_after);

    job->error.present = TRUE;
    job->error.code = run->failure;
    job->error.context = run->failure_context;
    job->error.file_index = run->failure_index;
    job->error_count++;
    ejob_touch(job);
    if (run->failure_transient)
    {
        if (!job->no_progress_since)
            job->no_progress_since = now;
        /* Retry while the next attempt still falls inside the no-progress timeout. */
        if (now + delay_ms < job->no_progress_since + timeout_ms)
        {
            job->state = BG_JOB_STATE_TRANSIENT_ERROR;
            job->retry_at = now + delay_ms;
            job->failed_at = now;
            job->retry_after_ms = run->failure_retry_after;
            want_requeue(requeue, job, delay_ms);
            return;
        }
    }
    job->state = BG_JOB_STATE_ERROR;
    notify_state_entered(job);
}

/* The run fails with hr, unless a file before this one failed already; the fetches of this
 * file and of those after it stop. Caller holds job->lock exclusively. */
static void run_fail(struct fetch_run *run, const struct transfer_ctx *ctx, HRESULT hr)
{
    if (ctx->index < run->halt_index)
    {
        run->halt_index = ctx->index;
        run->failure = hr;
        run->failure_context = ctx->context;
        run->failure_transient = ctx->transient;
        run->failure_retry_after = ctx->retry_after_ms;
        run->failure_index = ctx->index;
    }
    WakeAllConditionVariable(&run->changed);
}

/* Zeroes and frees a block of option strings (it holds passwords). NULL is ignored. */
static void wipe(WCHAR *block, SIZE_T chars)
{
    if (!block)
        return;
    SecureZeroMemory(block, chars * sizeof(WCHAR));
    heap_free(block);
}

/* One thread's fetching: its context, the copy of the job's options it fetches with, and the
 * connections it keeps from one part to the next. */
struct fetcher
{
    struct fetch_run *run;
    struct transfer_ctx ctx;
    WCHAR *options_block;
    SIZE_T options_capacity;
    SIZE_T options_need; /* what the block must hold after a CLAIM_GROW */
    struct fetch_cache cache;
    struct folder_acl folder_acl;     /* what the last file's folder gives its files */
    WCHAR remote[URL_MAX_LENGTH + 1]; /* the remote name as the fetch starts */
    const WCHAR *temp;                /* the file's temporary name (lives with it; the opener's
                                       * changes when the reserved name was taken: open_temp) */
    UINT64 sink_position;
    BOOL opener; /* this fetch opens the file */
};

static BOOL is_live(const struct fetch_run *run, ULONG index)
{
    for (const struct live_file *live = run->live; live; live = live->next)
    {
        if (live->index == index)
            return TRUE;
    }
    return FALSE;
}

/* What a claim found. */
enum claim
{
    CLAIM_PART, /* a part to fetch, in f->ctx */
    CLAIM_WAIT, /* nothing now; other fetches may bring some */
    CLAIM_DONE, /* nothing left, or the run is over */
    CLAIM_GROW, /* the options need a bigger block: f->options_need characters */
};

static BOOL is_http(const WCHAR *remote)
{
    enum url_kind kind = url_classify(remote);

    return kind == URL_HTTP || kind == URL_HTTPS;
}

/* The next file that is neither finished nor live, or file_count. Moves the run's cursor past
 * finished files. Caller holds job->lock. */
static ULONG next_unstarted(struct fetch_run *run)
{
    struct ejob *job = run->job;
    ULONG i;

    while (run->next_file < job->file_count && job->files[run->next_file]->finished)
        run->next_file++;
    for (i = run->next_file; i < job->file_count; i++)
    {
        if (!job->files[i]->finished && !is_live(run, i))
            return i;
    }
    return job->file_count;
}

/* The next file the run may start, or job->file_count. With BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE
 * a file starts only once the sizes of the files before it are known: its own size then tells,
 * before its first byte, whether it fits with theirs, as in BITS, which fetches one file after
 * the other (a file started sooner could fetch bytes that a file before it, larger than the
 * maximum allows, would have kept it from fetching). Caller holds job->lock. */
static ULONG next_to_start(struct fetch_run *run)
{
    struct ejob *job = run->job;
    ULONG index = next_unstarted(run);

    if (index >= min(job->file_count, run->halt_index))
        return job->file_count;
    if (job->options.max_download_size)
    {
        for (ULONG i = run->next_file; i < index; i++)
        {
            if (job->files[i]->progress.BytesTotal == BG_SIZE_UNKNOWN)
                return job->file_count;
        }
    }
    return index;
}

/* Sets up the context for `seg` of `live`. Caller holds job->lock exclusively. */
static void aim(struct fetcher *f, struct live_file *live, struct segment *seg)
{
    struct ejob_file *file = f->run->job->files[live->index];
    struct transfer_ctx *ctx = &f->ctx;

    seg->busy = TRUE;
    live->users++;
    f->run->busy++;
    ctx->index = live->index;
    ctx->live = live;
    ctx->segment = seg;
    ctx->offset = ctx->position = seg->pos;
    /* A file in parts asks for each part; one that is not asks from where it stands to the end,
     * as a server without ranges can only answer. */
    ctx->end = live->split ? seg->end : BG_SIZE_UNKNOWN;
    ctx->out = live->out;
    ctx->total = file->progress.BytesTotal;
    wcscpy(ctx->validator, file->validator);
    ctx->remote_size = file->remote_size;
    ctx->sink_cookie = file->sink_cookie;
    ctx->ranges = file->ranges;
    ctx->range_count = file->range_count;
    f->sink_position = file->sink_position;
    ctx->acl_flags = f->run->job->file_acl_flags;
    wcscpy(f->remote, file->remote);
    f->temp = file->temp;
    f->opener = FALSE;
    ctx->probe = FALSE;
}

/* A new live file for file `index`, its parts the gaps between what is on disk. Caller holds
 * job->lock exclusively. */
static struct live_file *make_live(struct fetch_run *run, ULONG index)
{
    struct ejob *job = run->job;
    struct ejob_file *file = job->files[index];
    struct live_file *live;
    UINT64 at, total = file->progress.BytesTotal;
    ULONG i;

    if (!(live = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*live))))
        return NULL;
    TRACE("file %lu: %I64u counted, %I64u on disk from 0, %lu parts beyond", index,
          file->progress.BytesTransferred, file->durable, file->extent_count);
    live->index = index;
    live->out = INVALID_HANDLE_VALUE;
    live->no_split = file->ranges || file->sink_cookie || job->options.dynamic_content;
    /* Dynamic content cannot be resumed: BITS fetches it from the start every time. Bytes that
     * are all in are kept, though: such a file only waits to be finished. A file in one part
     * continues after the bytes counted (open_temp checks that the file holds them); one in
     * parts counted beyond what is on disk (a flush that failed) goes back to what is. */
    if (job->options.dynamic_content && !bytes_complete(file))
        forget_bytes(job, file);
    else if (file->extent_count && file->progress.BytesTransferred != durable_bytes(file))
    {
        job->progress.BytesTransferred -= file->progress.BytesTransferred;
        file->progress.BytesTransferred = durable_bytes(file);
        job->progress.BytesTransferred += file->progress.BytesTransferred;
        ejob_publish_progress(job);
    }
    if (file->sink_cookie || file->ranges)
    {
        /* Written in order: one part from what is counted. */
        live->segments[0].start = live->segments[0].pos = live->segments[0].flushed =
            file->progress.BytesTransferred;
        live->segments[0].end = total;
        live->segment_count = 1;
        live->ready = file->sink_cookie != 0;
        return live;
    }
    /* The gaps: after the prefix, and between the extents (a file fetched in parts before). */
    at = file->extent_count ? file->durable : file->progress.BytesTransferred;
    for (i = 0; i <= file->extent_count && live->segment_count < MAX_SEGMENTS; i++)
    {
        UINT64 gap_end = i < file->extent_count ? file->extents[i].first : total;
        if (gap_end == BG_SIZE_UNKNOWN || gap_end > at || !live->segment_count)
        {
            struct segment *seg = &live->segments[live->segment_count++];
            seg->start = seg->pos = seg->flushed = at;
            seg->end = gap_end;
        }
        if (i < file->extent_count)
            at = file->extents[i].end;
    }
    /* Parts on disk beyond the prefix: the source took ranges, and the gaps are fetched in
     * chunks as a new file's parts are. */
    live->split = live->splittable = file->extent_count > 0;
    return live;
}

/* A slot for a new part: a free one, or one whose part is done and on disk. NULL when all are
 * taken. Caller holds job->lock exclusively. */
static struct segment *new_segment(struct live_file *live)
{
    struct segment *seg;

    for (ULONG i = 0; i < live->segment_count; i++)
    {
        seg = &live->segments[i];
        if (!seg->busy && seg->end != BG_SIZE_UNKNOWN && seg->pos == seg->end &&
            seg->flushed == seg->end)
            return seg;
    }
    if (live->segment_count == MAX_SEGMENTS)
        return NULL;
    return &live->segments[live->segment_count++];
}

/* Cuts the first chunk off an unclaimed part of a file fetched in parts: the part becomes the
 * chunk, the rest a new unclaimed part. Caller holds job->lock exclusively. */
static void take_chunk(struct fetch_run *run, struct live_file *live, struct segment *seg)
{
    UINT64 left = seg->end - seg->pos, chunk;
    struct segment *rest;

    chunk = left / (2 * min(run->limit, FILE_CONNECTIONS));
    chunk = min(max(chunk, SPLIT_MIN_BYTES), MAX_CHUNK_BYTES);
    chunk = (seg->pos + chunk + SPLIT_ALIGN - 1) / SPLIT_ALIGN * SPLIT_ALIGN - seg->pos;
    if (left < chunk + SPLIT_MIN_BYTES || !(rest = new_segment(live)))
        return;
    rest->start = rest->pos = rest->flushed = seg->pos + chunk;
    rest->end = seg->end;
    rest->busy = FALSE;
    seg->end = rest->start;
}

/* Whether another fetch may take a part of the file: fewer than FILE_CONNECTIONS are at it.
 * Caller holds job->lock. */
static BOOL part_wanted(const struct live_file *live)
{
    ULONG busy = 0;

    for (ULONG i = 0; i < live->segment_count; i++)
        busy += live->segments[i].busy ? 1 : 0;
    return busy < FILE_CONNECTIONS;
}

/* Is there work a new fetcher would find at once? Caller holds job->lock. */
static BOOL work_waiting(struct fetch_run *run)
{
    for (struct live_file *live = run->live; live; live = live->next)
    {
        if (!live->ready || live->reset || live->index >= run->halt_index || !part_wanted(live))
            continue;
        for (ULONG i = 0; i < live->segment_count; i++)
        {
            const struct segment *seg = &live->segments[i];
            if (!seg->busy && (seg->end == BG_SIZE_UNKNOWN || seg->pos < seg->end))
                return TRUE;
        }
    }
    return next_to_start(run) < run->job->file_count;
}

/* Takes the next part to fetch: an unclaimed part of a live file, the next file, or half of the
 * largest part in flight. Caller holds job->lock exclusively. */
static enum claim claim(struct fetcher *f)
{
    struct fetch_run *run = f->run;
    struct ejob *job = run->job;
    struct transfer_ctx *ctx = &f->ctx;
    struct live_file *live;
    struct ejob_file *file;
    struct segment *seg;
    SIZE_T need;
    ULONG index;
    HRESULT hr;

    if (job->generation != run->generation)
        return CLAIM_DONE;
    /* Options as they are now: a setter may have changed them since the last part. */
    if ((need = ejob_options_copy(&ctx->options, &job->options, f->options_block,
                                  f->options_capacity)))
    {
        f->options_need = need;
        return CLAIM_GROW;
    }
    for (live = run->live; live; live = live->next)
    {
        if (!live->ready || live->reset || live->index >= run->halt_index || !part_wanted(live))
            continue;
        for (ULONG i = 0; i < live->segment_count; i++)
        {
            seg = &live->segments[i];
            if (!seg->busy && (seg->end == BG_SIZE_UNKNOWN || seg->pos < seg->end))
            {
                if (live->splittable)
                {
                    live->split = TRUE;
                    take_chunk(run, live, seg);
                }
                aim(f, live, seg);
                return CLAIM_PART;
            }
        }
    }
    if ((index = next_to_start(run)) < job->file_count)
    {
        file = job->files[index];
        ctx->index = index;
        ctx->context = BG_ERROR_CONTEXT_NONE;
        ctx->transient = FALSE;
        ctx->retry_after_ms = 0;
        if (out_of_time(job))
            hr = time_limit_failure(ctx);
        /* A DO file added while the job ran may lack what Resume checks for. */
        else if (!file->remote)
            hr = DO_E_DOWNLOAD_NO_URI;
        else if (!file->local && !file->sink_cookie)
            hr = DO_E_FILE_DOWNLOADSINK_UNSPECIFIED;
        else if (wcslen(file->remote) >= ARRAY_SIZE(f->remote))
        {
            ctx->context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
            hr = E_INVALIDARG;
        }
        else if (!(live = make_live(run, index)))
        {
            ctx->context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
            ctx->transient = TRUE;
            hr = E_OUTOFMEMORY;
        }
        else
            hr = S_OK;
        if (FAILED(hr))
        {
            run_fail(run, ctx, hr);
            return CLAIM_DONE;
        }
        live->next = run->live;
        run->live = live;
        if (live->split)
            take_chunk(run, live, &live->segments[0]);
        aim(f, live, &live->segments[0]);
        f->opener = !live->ready;
        /* A new file with idle connections to spare: its size, asked first (HEAD), tells
         * whether it is worth fetching in parts. Many files keep the connections busy as they
         * are, and skip the extra request. */
        ctx->probe = file->progress.BytesTotal == BG_SIZE_UNKNOWN && !live->no_split &&
                     !file->progress.BytesTransferred && is_http(file->remote) &&
                     job->file_count - index < run->limit;
        return CLAIM_PART;
    }
    return run->busy ? CLAIM_WAIT : CLAIM_DONE;
}

/* Starts another fetcher when there is work for it and the connection budgets allow (and the
 * bandwidth policy: a capped job needs few connections). Caller holds no lock. */
static DWORD WINAPI fetcher_main(void *arg);
static void maybe_spawn(struct fetch_run *run)
{
    struct ejob *job = run->job;
    ULONG capped = bandwidth_connections(job);
    struct fetcher *f;
    HANDLE thread;
    BOOL wanted;

    AcquireSRWLockExclusive(&job->lock);
    wanted = job->generation == run->generation && run->busy == run->fetchers &&
             run->fetchers < run->limit && (!capped || run->fetchers < capped) &&
             run->thread_count < ARRAY_SIZE(run->threads) && work_waiting(run);
    if (wanted && InterlockedIncrement(&process_fetchers) > connections_setting(TRUE))
    {
        InterlockedDecrement(&process_fetchers);
        wanted = FALSE;
    }
    if (wanted)
        run->fetchers++;
    ReleaseSRWLockExclusive(&job->lock);
    if (!wanted)
        return;
    if ((f = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*f))))
    {
        f->run = run;
        if (SUCCEEDED(engine_fault("THREAD_WORKER")) &&
            (thread = CreateThread(NULL, 0, fetcher_main, f, 0, NULL)))
        {
            AcquireSRWLockExclusive(&job->lock);
            run->threads[run->thread_count++] = thread;
            ReleaseSRWLockExclusive(&job->lock);
            return;
        }
        heap_free(f);
    }
    /* No thread: the run goes on with the fetchers it has. */
    InterlockedDecrement(&process_fetchers);
    AcquireSRWLockExclusive(&job->lock);
    run->fetchers--;
    WakeAllConditionVariable(&run->changed);
    ReleaseSRWLockExclusive(&job->lock);
}

/* Queues FileTransferred for the finished files, in the order of the job's files: those from
 * the run's cursor on that are finished, up to the first one that is not, or, at the end of the
 * run (`all`), every one. Caller holds job->lock exclusively. */
static void announce(struct fetch_run *run, BOOL all)
{
    struct ejob *job = run->job;
    struct ejob_file *file;

    for (ULONG i = run->announced; i < job->file_count; i++)
    {
        file = job->files[i];
        if (!file->finished && !all)
            break;
        if (file->finished && !file->announced)
        {
            file->announced = TRUE;
            notify_file_transferred(job, i);
        }
        if (!all)
            run->announced = i + 1;
    }
}

/* Takes the live file off the run's list. Caller holds job->lock exclusively. */
static void unlink_live(struct fetch_run *run, struct live_file *live)
{
    for (struct live_file **p = &run->live; *p; p = &(*p)->next)
    {
        if (*p == live)
        {
            *p = live->next;
            return;
        }
    }
}

/* The last fetch of a file left and all its parts are in: the file is finished (flushed with
 * its ACLs), counted and announced, in one step. Caller holds no lock. */
static void finish_file(struct fetcher *f, BOOL local, const WCHAR *path)
{
    struct transfer_ctx *ctx = &f->ctx;
    struct live_file *live = ctx->live;
    struct fetch_run *run = f->run;
    struct ejob *job = run->job;
    struct ejob_file *file;
    HRESULT hr = S_OK;

    if (FAILED(hr = engine_fault("FINISH")))
        ctx->context = BG_ERROR_CONTEXT_LOCAL_FILE;
    else if (live->out != INVALID_HANDLE_VALUE)
        hr = finish_temp(ctx, local ? path : NULL, f->temp, &f->folder_acl);
    AcquireSRWLockExclusive(&job->lock);
    file = job->files[live->index];
    if (job->generation != run->generation)
        hr = E_ABORT;
    else if (FAILED(hr))
        run_fail(run, ctx, hr);
    else
    {
        unlink_live(run, live);
        file->finished = TRUE;
        file->durable = file->progress.BytesTransferred;
        heap_free(file->extents);
        file->extents = NULL;
        file->extent_count = 0;
        job->progress.FilesTransferred++;
        /* A finished file is progress, even one without bytes. */
        job->no_progress_since = GetTickCount64();
        ejob_touch(job);
        announce(run, FALSE);
    }
    WakeAllConditionVariable(&run->changed);
    ReleaseSRWLockExclusive(&job->lock);
    /* Not finished: the file stays with the run, which keeps what was written for the next
     * run, or deletes the temporary file of a job that became final (leave_files). */
    if (SUCCEEDED(hr))
        heap_free(live);
}

/* The last fetch of a reset file left: the file starts over, from one connection if the source
 * refused a range. Caller holds no lock. */
static void reset_file(struct fetcher *f)
{
    struct live_file *live = f->ctx.live;
    struct fetch_run *run = f->run;
    struct ejob *job = run->job;
    LARGE_INTEGER zero = {0};
    BOOL truncated;

    truncated = live->out != INVALID_HANDLE_VALUE &&
                SetFilePointerEx(live->out, zero, NULL, FILE_BEGIN) && SetEndOfFile(live->out);
    AcquireSRWLockExclusive(&job->lock);
    if (job->generation == run->generation && live->index < run->halt_index)
    {
        struct ejob_file *file = job->files[live->index];
        forget_bytes(job, file);
        store_mark_dirty(job);
        if (!truncated && live->out != INVALID_HANDLE_VALUE)
        {
            f->ctx.context = BG_ERROR_CONTEXT_LOCAL_FILE;
            run_fail(run, &f->ctx, HRESULT_FROM_WIN32(GetLastError()));
        }
        else
        {
            /* Made live again with one part from byte 0. */
            live->reset = FALSE;
            live->split = FALSE;
            live->splittable = FALSE;
            live->no_split |= live->reset_reason == (HRESULT)BG_E_INSUFFICIENT_RANGE_SUPPORT;
            live->segment_count = 1;
            memset(&live->segments[0], 0, sizeof(live->segments[0]));
            live->segments[0].end = BG_SIZE_UNKNOWN;
            live->unflushed = 0;
        }
    }
    WakeAllConditionVariable(&run->changed);
    ReleaseSRWLockExclusive(&job->lock);
}

/* A part's fetch returned hr: the part, the file and the run take note. Returns TRUE when the
 * caller, the file's last fetch, must finish it (finish_file) or start it over (reset_file,
 * live->reset). Caller holds job->lock exclusively. */
static BOOL part_done(struct fetcher *f, HRESULT hr, UINT64 started_at)
{
    struct transfer_ctx *ctx = &f->ctx;
    struct live_file *live = ctx->live;
    struct segment *seg = ctx->segment;
    struct fetch_run *run = f->run;
    struct ejob *job = run->job;
    struct ejob_file *file = job->files[live->index];

    seg->busy = FALSE;
    live->users--;
    run->busy--;
    WakeAllConditionVariable(&run->changed);
    if (job->generation != run->generation)
        return FALSE;
    /* Stopped by the failure of this file or of one before it: nothing more to note. */
    if (live->index >= run->halt_index)
        return FALSE;
    if (ctx->probe && hr != E_ABORT &&
        (SUCCEEDED(hr) || ctx->context == BG_ERROR_CONTEXT_REMOTE_FILE))
    {
        /* The size is known now, or the source would not tell it to a HEAD (whatever it
         * answered, the GET meets it again): either way, the part is fetched next. A source
         * that did not answer at all has failed, though. */
        live->no_split |= FAILED(hr);
        hr = S_OK;
    }
    /* A part whose connection ended early after bringing bytes is asked for again at once, as
     * one the server ended short: the other parts are still coming. */
    if (hr == (HRESULT)BG_E_CONNECTION_CLOSED && live->split && seg->pos > started_at)
        hr = S_OK;
    /* The file starts over anyway: what became of this part no longer matters (another part
     * found the change first, or this one was stopped for it). */
    if (live->reset)
        hr = S_OK;
    else if ((hr == (HRESULT)BG_E_INSUFFICIENT_RANGE_SUPPORT || hr == BG_E_REMOTE_FILE_CHANGED) &&
             live->split && !live->resets)
    {
        /* The parts no longer fit together: the whole file again, once per run. */
        live->reset = TRUE;
        live->reset_reason = hr;
        live->resets++;
        hr = S_OK;
    }
    if (FAILED(hr))
    {
        run_fail(run, ctx, hr);
        return FALSE;
    }
    if (live->reset)
        return !live->users;
    if (seg->end == BG_SIZE_UNKNOWN || seg->pos < seg->end)
    {
        /* The source ended its answer short of the size it announced (a partial range): the
         * part is asked for again from there, unless this answer gave nothing at all. */
        if (seg->pos == started_at && !ctx->probe)
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            ctx->transient = TRUE;
            run_fail(run, ctx, BG_E_INVALID_SERVER_RESPONSE);
        }
        return FALSE;
    }
    if (live->users)
        return FALSE;
    for (ULONG i = 0; i < live->segment_count; i++)
    {
        if (live->segments[i].busy || live->segments[i].pos < live->segments[i].end)
            return FALSE;
    }
    return bytes_complete(file);
}

/* Fetches parts until the run has no more for this thread. */
static void fetch_loop(struct fetcher *f)
{
    struct fetch_run *run = f->run;
    struct ejob *job = run->job;
    struct transfer_ctx *ctx = &f->ctx;
    WCHAR path[URL_MAX_LENGTH + 1];
    ULONGLONG started;
    UINT64 started_at;
    enum claim found;
    WCHAR *grown;
    BOOL local, last;
    HRESULT hr;

    ctx->job = job;
    ctx->generation = run->generation;
    ctx->run = run;
    ctx->cache = &f->cache;
    for (;;)
    {
        AcquireSRWLockExclusive(&job->lock);
        while ((found = claim(f)) == CLAIM_WAIT)
            SleepConditionVariableSRW(&run->changed, &job->lock, INFINITE, 0);
        if (found == CLAIM_GROW)
        {
            /* The block is grown without the lock; then everything is looked at again. */
            ReleaseSRWLockExclusive(&job->lock);
            if (!(grown = HeapAlloc(GetProcessHeap(), 0, f->options_need * sizeof(WCHAR))))
            {
                AcquireSRWLockExclusive(&job->lock);
                ctx->context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
                ctx->transient = TRUE;
                run_fail(run, ctx, E_OUTOFMEMORY);
                ReleaseSRWLockExclusive(&job->lock);
                break;
            }
            wipe(f->options_block, f->options_capacity);
            f->options_block = grown;
            f->options_capacity = f->options_need;
            continue;
        }
        ReleaseSRWLockExclusive(&job->lock);
        if (found == CLAIM_DONE)
            break;
        maybe_spawn(run);

        ctx->context = BG_ERROR_CONTEXT_NONE;
        ctx->transient = FALSE;
        ctx->retry_after_ms = 0;
        ctx->http = FALSE;
        ctx->accepts_ranges = FALSE;
        started = GetTickCount64();
        started_at = ctx->offset;
        hr = S_OK;
        local = FALSE;
        switch (url_classify(f->remote))
        {
        case URL_HTTP:
        case URL_HTTPS:
            ctx->http = TRUE;
            break;
        case URL_FILE:
        case URL_LOCAL_PATH:
            local = TRUE;
            if (url_to_path(f->remote, path, ARRAY_SIZE(path)))
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
        if (SUCCEEDED(hr))
            hr = cost_check(ctx);
        if (SUCCEEDED(hr) && ctx->sink_cookie)
            hr = fetch_to_sink(ctx, f->remote, local, path, f->sink_position);
        else if (SUCCEEDED(hr) && (!f->opener || SUCCEEDED(hr = open_temp(ctx, &f->temp))))
        {
            if (f->opener)
            {
                /* Open: its other parts may be claimed now. */
                AcquireSRWLockExclusive(&job->lock);
                ctx->live->ready = TRUE;
                WakeAllConditionVariable(&run->changed);
                ReleaseSRWLockExclusive(&job->lock);
            }
            ctx->out = ctx->live->out;
            hr = fetch_part(ctx, f->remote, local, path);
        }
        TRACE("job %s file %lu part at %I64u: %08lx", debugstr_guid(&job->id), ctx->index,
              started_at, hr);

        AcquireSRWLockExclusive(&job->lock);
        job->files[ctx->index]->download_ms += GetTickCount64() - started;
        /* It did not open: the run fails or was stopped; nobody waits for it. */
        if (f->opener)
            ctx->live->ready = TRUE;
        last = part_done(f, hr, started_at);
        ReleaseSRWLockExclusive(&job->lock);
        if (last && ctx->live->reset)
            reset_file(f);
        else if (last)
            finish_file(f, local, path);
    }
    fetch_cache_clear(&f->cache);
    tempfile_acl_clear(&f->folder_acl);
    wipe(f->options_block, f->options_capacity);
    f->options_block = NULL;
}

static DWORD WINAPI fetcher_main(void *arg)
{
    struct fetcher *f = arg;
    struct fetch_run *run = f->run;

    fetch_loop(f);
    AcquireSRWLockExclusive(&run->job->lock);
    run->fetchers--;
    WakeAllConditionVariable(&run->changed);
    ReleaseSRWLockExclusive(&run->job->lock);
    InterlockedDecrement(&process_fetchers);
    heap_free(f);
    return 0;
}

/* After the run: the files it left unfinished keep what was written (flushed and recorded), or,
 * when the job became final meanwhile, lose their temporary files: Cancel or Complete did not
 * wait for the run, deleted them, and a fetch may have created one anew since. */
static void leave_files(struct fetch_run *run, BOOL final)
{
    struct ejob *job = run->job;
    struct live_file *live;
    struct transfer_ctx ctx = {.job = job, .generation = job->generation};
    struct file_identity id;
    const WCHAR *temp;
    HRESULT hr;

    while ((live = run->live))
    {
        run->live = live->next;
        if (live->out != INVALID_HANDLE_VALUE)
        {
            ctx.live = live;
            ctx.index = live->index;
            if (!final)
                checkpoint(&ctx, TRUE);
            CloseHandle(live->out);
        }
        AcquireSRWLockShared(&job->lock);
        temp = job->files[live->index]->sink_cookie ? NULL : job->files[live->index]->temp;
        id = job->files[live->index]->temp_id;
        ReleaseSRWLockShared(&job->lock);
        /* A file whose identity is unknown was never made by this engine (its name was only
         * reserved): whatever is at that name is not ours. */
        if (final && temp && (id.volume || id.index) && FAILED(hr = tempfile_delete(temp, &id)))
            WARN("cannot delete %s: %08lx", debugstr_w(temp), hr);
        heap_free(live);
    }
}

void transfer_run(struct ejob *job, LONG generation)
{
    struct fetch_run run = {.job = job, .generation = generation, .halt_index = ULONG_MAX};
    struct fetcher *self;
    struct requeue requeue = {0};
    BOOL final;
    ULONG i;

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
    ReleaseSRWLockExclusive(&job->lock);

    InitializeConditionVariable(&run.changed);
    run.limit = connections_setting(FALSE);
    run.fetchers = 1;
    InterlockedIncrement(&process_fetchers);
    if ((self = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*self))))
    {
        self->run = &run;
        fetch_loop(self);
        heap_free(self);
    }
    else
    {
        struct transfer_ctx ctx = {.context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER,
                                   .transient = TRUE};
        AcquireSRWLockExclusive(&job->lock);
        run_fail(&run, &ctx, E_OUTOFMEMORY);
        ReleaseSRWLockExclusive(&job->lock);
    }
    InterlockedDecrement(&process_fetchers);

    /* The fetchers this thread started end once nothing is left for them. */
    AcquireSRWLockExclusive(&job->lock);
    run.fetchers--;
    while (run.fetchers)
        SleepConditionVariableSRW(&run.changed, &job->lock, INFINITE, 0);
    ReleaseSRWLockExclusive(&job->lock);
    for (i = 0; i < run.thread_count; i++)
    {
        WaitForSingleObject(run.threads[i], INFINITE);
        CloseHandle(run.threads[i]);
    }

    /* A test holds the worker here: its files are done, the job is not transferred yet. */
    engine_fault("RUN_END");
    AcquireSRWLockExclusive(&job->lock);
    /* Files that finished after one that did not are announced now, so that none is missed. */
    announce(&run, TRUE);
    if (job->generation == generation)
    {
        if (run.halt_index != ULONG_MAX)
            record_failure(job, &run, &requeue);
        else if (next_unstarted(&run) == job->file_count && !run.live)
        {
            ejob_enter_transferred(job);
        }
        else
        {
            /* Nothing left to fetch, yet not all done: cannot happen; retried if it does. */
            ERR("job %s: run ended with files unfinished", debugstr_guid(&job->id));
            run.failure = E_UNEXPECTED;
            run.failure_context = BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER;
            run.failure_transient = TRUE;
            record_failure(job, &run, &requeue);
        }
    }
    ReleaseSRWLockExclusive(&job->lock);
    AcquireSRWLockShared(&job->lock);
    final = ejob_is_final(job);
    ReleaseSRWLockShared(&job->lock);
    leave_files(&run, final);

    AcquireSRWLockExclusive(&job->lock);
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

    if (requeue.wanted)
        engine_submit(job, requeue.generation, requeue.priority, requeue.delay_ms);
}
