/* SPDX-License-Identifier: MIT */
/* The job-model benchmark client: the same code drives OpenDO and Wine's builtin BITS, the
 * class chosen by --server. One workload per run, one JSON object on stdout.
 *
 *   bench_bits --server opendo|bits --workload big|poll|small|jobs|throttle --base <url/>
 *              --out <dir> [--count N] [--pollers N] [--sync]
 *              [--cap-kib N] [--warmup-ms N] [--window-ms N] [--deadline-ms N]
 *
 *   big    one job, one file <base>big.bin -> <out>\big.bin; callback JobTransferred, Complete.
 *   poll   the same while --pollers threads (4) call GetProgress in a loop until the transfer
 *          ends; reports the calls, their wall time and the pollers' CPU time.
 *   small  one job of --count files <base>small/f00000.bin ... (AddFileSet) -> <out>\small\.
 *   jobs   --count jobs of one file each: CreateJob+AddFile each, EnumJobs of all, Cancel each,
 *          and this process's private bytes and working set before and after creating them.
 *   throttle  OpenDO's bandwidth policy. The background cap OPENDO_MAX_BACKGROUND_BANDWIDTH is
 *          set to --cap-kib KiB/s (4096) in this process's environment, every other cap to
 *          none. --count background jobs (BG_JOB_PRIORITY_NORMAL) download <base>throttle.bin
 *          -> <out>\bg<i>.bin; after --warmup-ms (1000) their summed BytesTransferred is read
 *          over --window-ms (5000). A quarter into the window a foreground job
 *          (BG_JOB_PRIORITY_FOREGROUND) downloads <base>big.bin -> <out>\fg.bin, timed from
 *          CreateJob to JobTransferred; the background jobs run until it ends, unless it has
 *          no byte when the window ends (it would be waiting behind them): they are then
 *          cancelled, and the wait counts in its time. Then the same foreground download runs
 *          alone -> <out>\alone.bin. Both foreground jobs are completed, so that the driver can
 *          compare their bytes; the cancelled background jobs must leave no file. A job that
 *          fails, a background job that ends within the window or a foreground job that does
 *          not end within --deadline-ms (120000) of its start fails the run.
 *
 * Times are QueryPerformanceCounter intervals; `wall_s` of a transfer runs from CreateJob to the
 * return of Complete (the file is in place). */
#include <stdio.h>
#include <stdlib.h>
#include "opendo.h"
#include "benchutil.h"

static const CLSID clsid_bits = {
    0x4991d34b, 0x80a1, 0x4291, {0x83, 0xb6, 0x33, 0x28, 0x36, 0x6b, 0x90, 0x97}};

/* The notification sink: free-threaded, it only signals an event. */
struct callback
{
    IBackgroundCopyCallback IBackgroundCopyCallback_iface;
    LONG refcount;
    HANDLE done;
    volatile LONG failed;
    /* bench_now() when JobTransferred came: the moment the job reached TRANSFERRED, not the
     * moment a waiting thread woke up. */
    double transferred_at;
};

static inline struct callback *impl_from_IBackgroundCopyCallback(IBackgroundCopyCallback *iface)
{
    return CONTAINING_RECORD(iface, struct callback, IBackgroundCopyCallback_iface);
}

static HRESULT WINAPI callback_QueryInterface(IBackgroundCopyCallback *iface, REFIID riid,
                                              void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyCallback))
    {
        *out = iface;
        IBackgroundCopyCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI callback_AddRef(IBackgroundCopyCallback *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyCallback(iface)->refcount);
}

static ULONG WINAPI callback_Release(IBackgroundCopyCallback *iface)
{
    /* The object lives on main's stack for the whole run: nothing to free. */
    return InterlockedDecrement(&impl_from_IBackgroundCopyCallback(iface)->refcount);
}

static HRESULT WINAPI callback_JobTransferred(IBackgroundCopyCallback *iface,
                                              IBackgroundCopyJob *job)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback(iface);

    callback->transferred_at = bench_now();
    SetEvent(callback->done);
    return S_OK;
}

static HRESULT WINAPI callback_JobError(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job,
                                        IBackgroundCopyError *error)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback(iface);

    InterlockedExchange(&callback->failed, 1);
    SetEvent(callback->done);
    return S_OK;
}

static HRESULT WINAPI callback_JobModification(IBackgroundCopyCallback *iface,
                                               IBackgroundCopyJob *job, DWORD reserved)
{
    return S_OK;
}

static const IBackgroundCopyCallbackVtbl callback_vtbl = {
    callback_QueryInterface, callback_AddRef,   callback_Release,
    callback_JobTransferred, callback_JobError, callback_JobModification,
};

/* One GetProgress poller of the `poll` workload. */
struct poller
{
    IBackgroundCopyJob *job;
    volatile LONG *stop;
    HANDLE thread;
    LONGLONG calls;
    double wall;
    double cpu;
    HRESULT hr;
};

static DWORD WINAPI poller_main(void *arg)
{
    struct poller *poller = arg;
    BG_JOB_PROGRESS progress;
    double start, cpu_start;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    cpu_start = bench_thread_cpu(GetCurrentThread());
    start = bench_now();
    while (!*poller->stop)
    {
        if (FAILED(poller->hr = IBackgroundCopyJob_GetProgress(poller->job, &progress)))
            break;
        poller->calls++;
    }
    poller->wall = bench_now() - start;
    poller->cpu = bench_thread_cpu(GetCurrentThread()) - cpu_start;
    CoUninitialize();
    return 0;
}

/* Waits for the callback's event, but never longer than the deadline: a server that stopped
 * calling back fails the run instead of hanging it. */
static HRESULT wait_transferred(struct callback *callback, IBackgroundCopyJob *job,
                                DWORD timeout_ms)
{
    BG_JOB_STATE state;

    if (WaitForSingleObject(callback->done, timeout_ms) != WAIT_OBJECT_0)
        return HRESULT_FROM_WIN32(ERROR_TIMEOUT);
    if (callback->failed)
    {
        IBackgroundCopyError *error;
        HRESULT code = E_FAIL;
        BG_ERROR_CONTEXT context;

        if (SUCCEEDED(IBackgroundCopyJob_GetError(job, &error)))
        {
            IBackgroundCopyError_GetError(error, &context, &code);
            IBackgroundCopyError_Release(error);
        }
        return code;
    }
    IBackgroundCopyJob_GetState(job, &state);
    return state == BG_JOB_STATE_TRANSFERRED ? S_OK : E_UNEXPECTED;
}

/* big, poll and small: one job, callbacks on, Complete at the end. */
static int run_transfer(IBackgroundCopyManager *manager, const WCHAR *workload, const WCHAR *base,
                        const WCHAR *out, long count, long pollers_count)
{
    struct callback callback = {{&callback_vtbl}, 1, NULL, 0};
    struct poller pollers[64] = {0};
    volatile LONG stop = 0;
    BOOL small = !wcscmp(workload, L"small");
    BOOL poll = !wcscmp(workload, L"poll");
    BG_FILE_INFO *files = NULL;
    IBackgroundCopyJob *job = NULL;
    BG_JOB_PROGRESS progress = {0};
    double start, added, transferred, end, cpu_start;
    LONGLONG calls = 0;
    double poll_wall = 0, poll_cpu = 0;
    HRESULT hr;
    GUID id;

    if (pollers_count > 64)
        pollers_count = 64;
    callback.done = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (small)
    {
        files = calloc(count, sizeof(*files));
        for (long i = 0; i < count; i++)
        {
            WCHAR name[64];

            files[i].RemoteName = malloc(1024 * sizeof(WCHAR));
            files[i].LocalName = malloc(MAX_PATH * sizeof(WCHAR));
            _snwprintf(files[i].RemoteName, 1024, L"%ssmall/f%05ld.bin", base, i);
            _snwprintf(name, 64, L"small\\f%05ld.bin", i);
            bench_path(files[i].LocalName, out, name);
        }
    }

    bench_mark("start");
    cpu_start = bench_process_cpu();
    start = bench_now();
    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, L"bench", BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &job)))
        return bench_fail("CreateJob", hr);
    if (FAILED(hr = IBackgroundCopyJob_SetNotifyInterface(
                   job, (IUnknown *)&callback.IBackgroundCopyCallback_iface)))
        return bench_fail("SetNotifyInterface", hr);
    if (FAILED(hr = IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED |
                                                               BG_NOTIFY_JOB_ERROR)))
        return bench_fail("SetNotifyFlags", hr);
    if (small)
        hr = IBackgroundCopyJob_AddFileSet(job, (ULONG)count, files);
    else
    {
        WCHAR url[1024], local[MAX_PATH];

        _snwprintf(url, 1024, L"%sbig.bin", base);
        bench_path(local, out, L"big.bin");
        hr = IBackgroundCopyJob_AddFile(job, url, local);
    }
    if (FAILED(hr))
        return bench_fail("AddFile", hr);
    added = bench_now();
    if (FAILED(hr = IBackgroundCopyJob_Resume(job)))
        return bench_fail("Resume", hr);
    for (long i = 0; poll && i < pollers_count; i++)
    {
        pollers[i].job = job;
        pollers[i].stop = &stop;
        pollers[i].thread = CreateThread(NULL, 0, poller_main, &pollers[i], 0, NULL);
    }
    hr = wait_transferred(&callback, job, 30 * 60 * 1000);
    transferred = bench_now();
    InterlockedExchange(&stop, 1);
    for (long i = 0; poll && i < pollers_count; i++)
    {
        WaitForSingleObject(pollers[i].thread, INFINITE);
        CloseHandle(pollers[i].thread);
        calls += pollers[i].calls;
        poll_wall += pollers[i].wall;
        poll_cpu += pollers[i].cpu;
        if (FAILED(pollers[i].hr))
            return bench_fail("GetProgress", pollers[i].hr);
    }
    if (FAILED(hr))
    {
        IBackgroundCopyJob_Cancel(job);
        return bench_fail("the transfer", hr);
    }
    IBackgroundCopyJob_GetProgress(job, &progress);
    if (FAILED(hr = IBackgroundCopyJob_Complete(job)))
        return bench_fail("Complete", hr);
    end = bench_now();
    bench_mark("end");

    json_bool("ok", 1);
    json_int("bytes", (long long)progress.BytesTransferred);
    json_int("files", (long long)progress.FilesTransferred);
    json_num("wall_s", end - start);
    json_num("add_s", added - start);
    json_num("transfer_s", transferred - start);
    json_num("client_cpu_s", bench_process_cpu() - cpu_start);
    if (poll)
    {
        json_int("pollers", pollers_count);
        json_int("poll_calls", calls);
        /* Per call: the pollers' summed loop time (wall) or CPU time, over all their calls. */
        json_num("poll_wall_ns_per_call", calls ? poll_wall * 1e9 / (double)calls : 0);
        json_num("poll_cpu_ns_per_call", calls ? poll_cpu * 1e9 / (double)calls : 0);
    }
    json_end();
    IBackgroundCopyJob_Release(job);
    return 0;
}

/* jobs: many idle jobs, created, enumerated and cancelled. */
/* One call to Wine's server from this process, in µs: the mean of CreateEvent and CloseHandle
 * (one server call each), over `pairs` pairs. Every job operation that the server must see (a
 * job's named lock, a token, a file) costs at least this. */
static double server_call_us(long pairs)
{
    double t0 = bench_now();

    for (long i = 0; i < pairs; i++)
        CloseHandle(CreateEventW(NULL, FALSE, FALSE, NULL));
    return (bench_now() - t0) * 1e6 / (2.0 * (double)pairs);
}

static int run_jobs(IBackgroundCopyManager *manager, const WCHAR *base, const WCHAR *out,
                    long count)
{
    IBackgroundCopyJob **jobs = calloc(count, sizeof(*jobs));
    IEnumBackgroundCopyJobs *enumerator;
    SIZE_T private_before, private_after, ws_before, ws_after;
    double t0, t1, t2, t3, in_create = 0, before;
    ULONG total = 0, seen = 0;
    HRESULT hr;

    if (!jobs)
        return bench_fail("calloc", E_OUTOFMEMORY);
    bench_memory(&private_before, &ws_before);
    bench_mark("before");
    t0 = bench_now();
    for (long i = 0; i < count; i++)
    {
        WCHAR url[1024], name[64], local[MAX_PATH];
        GUID id;

        _snwprintf(url, 1024, L"%ssmall/f%05ld.bin", base, i % 1000);
        _snwprintf(name, 64, L"jobs\\j%06ld.bin", i);
        bench_path(local, out, name);
        before = bench_now();
        if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, L"bench idle job",
                                                         BG_JOB_TYPE_DOWNLOAD, &id, &jobs[i])))
            return bench_fail("CreateJob", hr);
        in_create += bench_now() - before;
        if (FAILED(hr = IBackgroundCopyJob_AddFile(jobs[i], url, local)))
            return bench_fail("AddFile", hr);
    }
    t1 = bench_now();
    bench_memory(&private_after, &ws_after);
    bench_mark("created");

    t2 = bench_now();
    if (FAILED(hr = IBackgroundCopyManager_EnumJobs(manager, 0, &enumerator)))
        return bench_fail("EnumJobs", hr);
    IEnumBackgroundCopyJobs_GetCount(enumerator, &total);
    for (;;)
    {
        IBackgroundCopyJob *batch[256];
        ULONG fetched = 0;

        hr = IEnumBackgroundCopyJobs_Next(enumerator, 256, batch, &fetched);
        for (ULONG i = 0; i < fetched; i++)
            IBackgroundCopyJob_Release(batch[i]);
        seen += fetched;
        if (hr != S_OK || !fetched)
            break;
    }
    IEnumBackgroundCopyJobs_Release(enumerator);
    t3 = bench_now();
    if (FAILED(hr))
        return bench_fail("IEnumBackgroundCopyJobs::Next", hr);
    bench_mark("enumerated");

    double c0 = bench_now();
    for (long i = 0; i < count; i++)
    {
        if (FAILED(hr = IBackgroundCopyJob_Cancel(jobs[i])))
            return bench_fail("Cancel", hr);
    }
    double c1 = bench_now();
    for (long i = 0; i < count; i++)
        IBackgroundCopyJob_Release(jobs[i]);
    free(jobs);
    bench_mark("end");

    json_bool("ok", seen >= (ULONG)count);
    json_int("jobs", count);
    json_int("enum_count", total);
    json_int("enum_seen", seen);
    json_num("create_us_per_job", (t1 - t0) * 1e6 / (double)count);
    /* Of which CreateJob alone (the rest is AddFile). */
    json_num("createjob_us_per_job", in_create * 1e6 / (double)count);
    json_num("enum_ms", (t3 - t2) * 1e3);
    json_num("cancel_us_per_job", (c1 - c0) * 1e6 / (double)count);
    json_num("server_call_us", server_call_us(10000));
    json_num("client_private_bytes_per_job",
             ((double)private_after - (double)private_before) / (double)count);
    json_num("client_working_set_bytes_per_job",
             ((double)ws_after - (double)ws_before) / (double)count);
    json_end();
    return seen >= (ULONG)count ? 0 : 1;
}

/* The throttle workload's settings (see the header). */
struct throttle
{
    long jobs;
    long cap_kib;
    long warmup_ms;
    long window_ms;
    long deadline_ms;
};

#define MAX_THROTTLE_JOBS 16
/* How often the background jobs' progress is read, and the slices whose rates are reported. */
#define SAMPLE_MS 100
#define SLICE_S 1.0

/* The bandwidth policy of this process. The environment replaces the machine's policy values
 * of the same names, so setting all four leaves nothing to a policy in the prefix's registry;
 * 0 is no cap. The DLL runs in this process and reads this environment at every network read,
 * so it must be set before the first job starts, not necessarily before CoCreateInstance. */
static void set_caps(long background_kib)
{
    WCHAR text[16];

    _snwprintf(text, ARRAYSIZE(text), L"%ld", background_kib);
    text[ARRAYSIZE(text) - 1] = 0;
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", text);
    SetEnvironmentVariableW(L"OPENDO_MAX_FOREGROUND_BANDWIDTH", L"0");
    SetEnvironmentVariableW(L"OPENDO_PERCENTAGE_MAX_BACKGROUND_BANDWIDTH", L"0");
    SetEnvironmentVariableW(L"OPENDO_PERCENTAGE_MAX_FOREGROUND_BANDWIDTH", L"0");
}

/* Creates a job of one file at the given priority, with callbacks to `callback` unless it is
 * NULL, and resumes it. *out is the job as soon as it exists, also when a later step fails (the
 * caller cancels it); *what names the step that failed. */
static HRESULT start_job(IBackgroundCopyManager *manager, const WCHAR *url, const WCHAR *local,
                         BG_JOB_PRIORITY priority, struct callback *callback,
                         IBackgroundCopyJob **out, const char **what)
{
    IBackgroundCopyJob *job;
    HRESULT hr;
    GUID id;

    *what = "CreateJob";
    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, L"bench throttle",
                                                     BG_JOB_TYPE_DOWNLOAD, &id, &job)))
        return hr;
    *out = job;
    *what = "SetPriority";
    if (FAILED(hr = IBackgroundCopyJob_SetPriority(job, priority)))
        return hr;
    if (callback)
    {
        *what = "SetNotifyInterface";
        if (FAILED(hr = IBackgroundCopyJob_SetNotifyInterface(
                       job, (IUnknown *)&callback->IBackgroundCopyCallback_iface)))
            return hr;
        *what = "SetNotifyFlags";
        if (FAILED(hr = IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED |
                                                                   BG_NOTIFY_JOB_ERROR)))
            return hr;
    }
    *what = "AddFile";
    if (FAILED(hr = IBackgroundCopyJob_AddFile(job, url, local)))
        return hr;
    *what = "Resume";
    return IBackgroundCopyJob_Resume(job);
}

/* The background jobs' BytesTransferred, each and summed. */
static HRESULT background_bytes(IBackgroundCopyJob **jobs, long count, UINT64 *each, UINT64 *sum)
{
    BG_JOB_PROGRESS progress;
    HRESULT hr;

    *sum = 0;
    for (long i = 0; i < count; i++)
    {
        if (FAILED(hr = IBackgroundCopyJob_GetProgress(jobs[i], &progress)))
            return hr;
        each[i] = progress.BytesTransferred;
        *sum += progress.BytesTransferred;
    }
    return S_OK;
}

/* How many background jobs are still at work (queued or transferring); a job that failed or,
 * worse for the measurement, finished (its file was too small for the window) fails the run. */
static HRESULT background_running(IBackgroundCopyJob **jobs, long count, long *running,
                                  const char **what)
{
    BG_JOB_STATE state;
    HRESULT hr;

    *running = 0;
    for (long i = 0; i < count; i++)
    {
        *what = "GetState";
        if (FAILED(hr = IBackgroundCopyJob_GetState(jobs[i], &state)))
            return hr;
        *what = "a background job failed";
        if (state == BG_JOB_STATE_ERROR || state == BG_JOB_STATE_TRANSIENT_ERROR)
            return E_FAIL;
        if (state != BG_JOB_STATE_TRANSFERRED)
            (*running)++;
    }
    return S_OK;
}

static double mib_per_s(UINT64 bytes, double seconds)
{
    return seconds > 0 ? (double)bytes / (1024.0 * 1024.0) / seconds : 0;
}

/* Cancels and releases the jobs that are still held (NULL entries are skipped). */
static HRESULT cancel_jobs(IBackgroundCopyJob **jobs, long count)
{
    HRESULT hr, first = S_OK;

    for (long i = 0; i < count; i++)
    {
        if (!jobs[i])
            continue;
        if (FAILED(hr = IBackgroundCopyJob_Cancel(jobs[i])) && first == S_OK)
            first = hr;
        IBackgroundCopyJob_Release(jobs[i]);
        jobs[i] = NULL;
    }
    return first;
}

/* Cancels the background jobs, on a thread of its own when the sampling loop must go on
 * meanwhile: a capped job's Cancel can take a second or more. */
struct canceller
{
    IBackgroundCopyJob **jobs;
    long count;
    HRESULT hr;
    double seconds;
};

static DWORD WINAPI canceller_main(void *arg)
{
    struct canceller *canceller = arg;
    double start = bench_now();

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    canceller->hr = cancel_jobs(canceller->jobs, canceller->count);
    canceller->seconds = bench_now() - start;
    CoUninitialize();
    return 0;
}

/* throttle: capped background jobs, a foreground job among them, the same job alone. */
static int run_throttle(IBackgroundCopyManager *manager, const WCHAR *base, const WCHAR *out,
                        const struct throttle *opts)
{
    struct callback fg_callback = {{&callback_vtbl}, 1, NULL, 0, 0};
    struct callback alone_callback = {{&callback_vtbl}, 1, NULL, 0, 0};
    IBackgroundCopyJob *bg[MAX_THROTTLE_JOBS] = {0}, *fg = NULL, *alone = NULL;
    UINT64 first[MAX_THROTTLE_JOBS], each[MAX_THROTTLE_JOBS];
    UINT64 sum_first, sum, window_bytes = 0, slice_bytes, total_min = 0, total_max = 0;
    double window_start, window_end = 0, fg_due, window_due, fg_start = 0, fg_first_byte = -1;
    double slice_start, slice_min = 0, slice_max = 0, job_min = 0, job_max = 0, alone_start;
    double now, rate;
    BOOL window_closed = FALSE, fg_done = FALSE, fg_end_seen = FALSE, bg_cancelled = FALSE;
    BG_JOB_PROGRESS fg_progress = {0}, alone_progress = {0}, progress;
    long running, running_at_fg_end = 0, slices = 0;
    WCHAR big_url[1024], bg_url[1024], local[MAX_PATH], name[32];
    const char *what = NULL;
    struct canceller canceller = {bg, opts->jobs, S_OK, 0};
    HANDLE cancel_thread = NULL;
    HRESULT hr = S_OK;

    if (opts->jobs <= 0 || opts->jobs > MAX_THROTTLE_JOBS)
        return bench_fail("--count: 1 to 16 background jobs", E_INVALIDARG);
    fg_callback.done = CreateEventW(NULL, TRUE, FALSE, NULL);
    alone_callback.done = CreateEventW(NULL, TRUE, FALSE, NULL);
    _snwprintf(big_url, ARRAYSIZE(big_url), L"%sbig.bin", base);
    _snwprintf(bg_url, ARRAYSIZE(bg_url), L"%sthrottle.bin", base);

    bench_mark("start");
    for (long i = 0; i < opts->jobs; i++)
    {
        _snwprintf(name, ARRAYSIZE(name), L"bg%ld.bin", i);
        bench_path(local, out, name);
        if (FAILED(hr = start_job(manager, bg_url, local, BG_JOB_PRIORITY_NORMAL, NULL, &bg[i],
                                  &what)))
            goto out;
    }
    /* The start is no steady state (connections being made, each job's first read taken before
     * the pacer makes anyone wait): only what follows the warm-up counts. */
    Sleep(opts->warmup_ms);
    what = "GetProgress";
    if (FAILED(hr = background_bytes(bg, opts->jobs, first, &sum_first)))
        goto out;
    window_start = slice_start = bench_now();
    slice_bytes = sum_first;
    fg_due = window_start + opts->window_ms / 4000.0;
    window_due = window_start + opts->window_ms / 1000.0;
    for (;;)
    {
        if (!fg && bench_now() >= fg_due)
        {
            fg_start = bench_now();
            bench_path(local, out, L"fg.bin");
            if (FAILED(hr = start_job(manager, big_url, local, BG_JOB_PRIORITY_FOREGROUND,
                                      &fg_callback, &fg, &what)))
                goto out;
        }
        if (fg && !fg_done)
            fg_done = WaitForSingleObject(fg_callback.done, SAMPLE_MS) == WAIT_OBJECT_0;
        else
            Sleep(SAMPLE_MS);
        now = bench_now();
        /* When the foreground job's first bytes were seen (to SAMPLE_MS): a job that waits
         * for a worker behind the background jobs shows here. */
        if (fg && fg_first_byte < 0 && SUCCEEDED(IBackgroundCopyJob_GetProgress(fg, &progress)) &&
            progress.BytesTransferred > 0)
            fg_first_byte = now - fg_start;
        /* Whether the background jobs were still at work when the foreground job ended: if
         * not, it did not run alongside them all the way. */
        if (fg_done && !fg_end_seen)
        {
            fg_end_seen = TRUE;
            if (!bg_cancelled &&
                FAILED(hr = background_running(bg, opts->jobs, &running_at_fg_end, &what)))
                goto out;
        }
        if (!window_closed)
        {
            what = "GetProgress";
            if (FAILED(hr = background_bytes(bg, opts->jobs, each, &sum)))
                goto out;
            if (now - slice_start >= SLICE_S)
            {
                rate = mib_per_s(sum - slice_bytes, now - slice_start);
                slice_min = slices ? min(slice_min, rate) : rate;
                slice_max = slices ? max(slice_max, rate) : rate;
                slices++;
                slice_start = now;
                slice_bytes = sum;
            }
        }
        if (!window_closed && now >= window_due)
        {
            window_closed = TRUE;
            window_end = now;
            window_bytes = sum - sum_first;
            if (FAILED(hr = background_running(bg, opts->jobs, &running, &what)))
                goto out;
            what = "a background job ended within the window (throttle.bin is too small)";
            if (running < opts->jobs)
            {
                hr = E_FAIL;
                goto out;
            }
            for (long i = 0; i < opts->jobs; i++)
            {
                what = "GetProgress";
                if (FAILED(hr = IBackgroundCopyJob_GetProgress(bg[i], &progress)))
                    goto out;
                total_min = i ? min(total_min, progress.BytesTotal) : progress.BytesTotal;
                total_max = i ? max(total_max, progress.BytesTotal) : progress.BytesTotal;
                rate = mib_per_s(each[i] - first[i], window_end - window_start);
                job_min = i ? min(job_min, rate) : rate;
                job_max = i ? max(job_max, rate) : rate;
            }
        }
        /* A foreground job that got no byte by the end of the window would be waiting behind
         * the background jobs (as it did before foreground jobs had workers of their own), until
         * they end (minutes, at the cap): they are cancelled then, which bounds the run; the wait
         * shows in the job's time. The loop goes on meanwhile, to see when its first bytes come. */
        if (window_closed && !fg_done && fg_first_byte < 0 && !bg_cancelled)
        {
            if (!(cancel_thread = CreateThread(NULL, 0, canceller_main, &canceller, 0, NULL)))
                canceller_main(&canceller);
            bg_cancelled = TRUE;
        }
        if (window_closed && fg_done)
            break;
        what = "the foreground job did not end within --deadline-ms";
        if (fg && now - fg_start > opts->deadline_ms / 1000.0)
        {
            hr = HRESULT_FROM_WIN32(ERROR_TIMEOUT);
            goto out;
        }
    }
    what = "the foreground job";
    if (FAILED(hr = wait_transferred(&fg_callback, fg, 0)))
        goto out;
    IBackgroundCopyJob_GetProgress(fg, &fg_progress);
    if (cancel_thread)
    {
        WaitForSingleObject(cancel_thread, INFINITE);
        CloseHandle(cancel_thread);
        cancel_thread = NULL;
    }
    else if (!bg_cancelled)
        canceller_main(&canceller);
    what = "Cancel";
    if (FAILED(hr = canceller.hr))
        goto out;
    what = "Complete";
    if (FAILED(hr = IBackgroundCopyJob_Complete(fg)))
        goto out;

    /* The same download with no background job: the baseline of the foreground's speed. */
    alone_start = bench_now();
    bench_path(local, out, L"alone.bin");
    if (FAILED(hr = start_job(manager, big_url, local, BG_JOB_PRIORITY_FOREGROUND, &alone_callback,
                              &alone, &what)))
        goto out;
    what = "the foreground job alone";
    if (FAILED(hr = wait_transferred(&alone_callback, alone, (DWORD)opts->deadline_ms)))
        goto out;
    IBackgroundCopyJob_GetProgress(alone, &alone_progress);
    what = "Complete";
    if (FAILED(hr = IBackgroundCopyJob_Complete(alone)))
        goto out;
    what = NULL;
    bench_mark("end");

    double bg_rate = mib_per_s(window_bytes, window_end - window_start);
    double cap_mib = (double)opts->cap_kib / 1024.0;
    double fg_s = fg_callback.transferred_at - fg_start;
    double alone_s = alone_callback.transferred_at - alone_start;
    double fg_rate = mib_per_s(fg_progress.BytesTransferred, fg_s);
    double alone_rate = mib_per_s(alone_progress.BytesTransferred, alone_s);

    json_bool("ok", 1);
    json_int("bg_jobs", opts->jobs);
    json_int("cap_kib", opts->cap_kib);
    json_num("warmup_s", opts->warmup_ms / 1000.0);
    json_num("window_s", window_end - window_start);
    json_int("bg_bytes_total_min", (long long)total_min);
    json_int("bg_bytes_total_max", (long long)total_max);
    json_int("bg_window_bytes", (long long)window_bytes);
    json_num("bg_mib_per_s", bg_rate);
    json_num("bg_cap_ratio", cap_mib > 0 ? bg_rate / cap_mib : 0);
    /* The spread: the slowest and fastest SLICE_S of the sum, the slowest and fastest job over
     * the window. */
    json_num("bg_slice_min_mib_per_s", slice_min);
    json_num("bg_slice_max_mib_per_s", slice_max);
    json_num("bg_job_min_mib_per_s", job_min);
    json_num("bg_job_max_mib_per_s", job_max);
    json_int("fg_bytes", (long long)fg_progress.BytesTransferred);
    json_int("fg_bytes_total", (long long)fg_progress.BytesTotal);
    json_num("fg_s", fg_s);
    json_num("fg_first_byte_s", fg_first_byte);
    json_bool("bg_cancelled_for_fg", bg_cancelled);
    json_int("bg_running_at_fg_end", running_at_fg_end);
    /* The background jobs' Cancel calls, summed: a worker that is slow to stop shows here. */
    json_num("bg_cancel_s", canceller.seconds);
    json_num("fg_mib_per_s", fg_rate);
    json_int("alone_bytes", (long long)alone_progress.BytesTransferred);
    json_int("alone_bytes_total", (long long)alone_progress.BytesTotal);
    json_num("alone_s", alone_s);
    json_num("alone_mib_per_s", alone_rate);
    json_num("fg_ratio", alone_rate > 0 ? fg_rate / alone_rate : 0);
    json_end();

out:
    /* A failed run leaves no job behind: the next run would adopt and transfer it. A
     * completed job is final, and Cancel would only say so. */
    if (cancel_thread)
    {
        WaitForSingleObject(cancel_thread, INFINITE);
        CloseHandle(cancel_thread);
    }
    cancel_jobs(bg, opts->jobs);
    if (what)
    {
        cancel_jobs(&fg, 1);
        cancel_jobs(&alone, 1);
    }
    if (fg)
        IBackgroundCopyJob_Release(fg);
    if (alone)
        IBackgroundCopyJob_Release(alone);
    CloseHandle(fg_callback.done);
    CloseHandle(alone_callback.done);
    return what ? bench_fail(what, hr) : 0;
}

int wmain(int argc, WCHAR **argv)
{
    const WCHAR *server = bench_arg(argc, argv, L"--server", L"opendo");
    const WCHAR *workload = bench_arg(argc, argv, L"--workload", L"big");
    const WCHAR *base = bench_arg(argc, argv, L"--base", NULL);
    const WCHAR *out = bench_arg(argc, argv, L"--out", NULL);
    long count = bench_arg_long(argc, argv, L"--count", 1000);
    long pollers = bench_arg_long(argc, argv, L"--pollers", 4);
    struct throttle throttle = {
        .jobs = count,
        .cap_kib = bench_arg_long(argc, argv, L"--cap-kib", 4096),
        .warmup_ms = bench_arg_long(argc, argv, L"--warmup-ms", 1000),
        .window_ms = bench_arg_long(argc, argv, L"--window-ms", 5000),
        .deadline_ms = bench_arg_long(argc, argv, L"--deadline-ms", 120000),
    };
    IBackgroundCopyManager *manager;
    const CLSID *clsid;
    DWORD context;
    HRESULT hr;
    int status;

    bench_set_sync(argc, argv);
    json_begin();
    json_wstr("client", server);
    json_wstr("workload", workload);
    if (!base || !out || count <= 0)
        return bench_fail("usage", E_INVALIDARG);
    if (!wcscmp(server, L"bits"))
    {
        /* As a BITS client asks: the service, or an in-process server where one is registered. */
        clsid = &clsid_bits;
        context = CLSCTX_LOCAL_SERVER | CLSCTX_INPROC_SERVER;
    }
    else
    {
        clsid = &CLSID_OpenDOManager;
        context = CLSCTX_INPROC_SERVER;
    }
    if (!wcscmp(workload, L"throttle"))
        set_caps(throttle.cap_kib);
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr = CoCreateInstance(clsid, NULL, context, &IID_IBackgroundCopyManager,
                                     (void **)&manager)))
        return bench_fail("CoCreateInstance", hr);
    /* Which server answered: Wine's BITS loaded here means it ran in process. */
    json_bool("in_process", GetModuleHandleW(L"opendo.dll") || GetModuleHandleW(L"qmgr.dll"));

    if (!wcscmp(workload, L"jobs"))
        status = run_jobs(manager, base, out, count);
    else if (!wcscmp(workload, L"big") || !wcscmp(workload, L"poll") || !wcscmp(workload, L"small"))
        status = run_transfer(manager, workload, base, out, count, pollers);
    else if (!wcscmp(workload, L"throttle"))
        status = run_throttle(manager, base, out, &throttle);
    else
        status = bench_fail("unknown workload", E_INVALIDARG);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return status;
}
