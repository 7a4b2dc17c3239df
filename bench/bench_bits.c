/* SPDX-License-Identifier: MIT */
/* The job-model benchmark client: the same code drives OpenDO and Wine's builtin BITS, the
 * class chosen by --server. One workload per run, one JSON object on stdout.
 *
 *   bench_bits --server opendo|bits --workload big|poll|small|jobs --base <url/> --out <dir>
 *              [--count N] [--pollers N] [--sync]
 *
 *   big    one job, one file <base>big.bin -> <out>\big.bin; callback JobTransferred, Complete.
 *   poll   the same while --pollers threads (4) call GetProgress in a loop until the transfer
 *          ends; reports the calls, their wall time and the pollers' CPU time.
 *   small  one job of --count files <base>small/f00000.bin ... (AddFileSet) -> <out>\small\.
 *   jobs   --count jobs of one file each: CreateJob+AddFile each, EnumJobs of all, Cancel each,
 *          and this process's private bytes and working set before and after creating them.
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
    SetEvent(impl_from_IBackgroundCopyCallback(iface)->done);
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
static HRESULT wait_transferred(struct callback *callback, IBackgroundCopyJob *job)
{
    BG_JOB_STATE state;
    DWORD timeout_ms = 30 * 60 * 1000;

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
    hr = wait_transferred(&callback, job);
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
    json_num("client_private_bytes_per_job",
             ((double)private_after - (double)private_before) / (double)count);
    json_num("client_working_set_bytes_per_job",
             ((double)ws_after - (double)ws_before) / (double)count);
    json_end();
    return seen >= (ULONG)count ? 0 : 1;
}

int wmain(int argc, WCHAR **argv)
{
    const WCHAR *server = bench_arg(argc, argv, L"--server", L"opendo");
    const WCHAR *workload = bench_arg(argc, argv, L"--workload", L"big");
    const WCHAR *base = bench_arg(argc, argv, L"--base", NULL);
    const WCHAR *out = bench_arg(argc, argv, L"--out", NULL);
    long count = bench_arg_long(argc, argv, L"--count", 1000);
    long pollers = bench_arg_long(argc, argv, L"--pollers", 4);
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
    else
        status = bench_fail("unknown workload", E_INVALIDARG);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return status;
}
