/* SPDX-License-Identifier: MIT */
/* doadmin: a command-line client of OpenDO (like bitsadmin) with a live progress bar. */
#include <stdio.h>
#include <wchar.h>
#include "opendo.h"

#define POLL_MS 100

/* Ctrl-C and Ctrl-Break arrive on a thread of their own, while the main thread may be
 * completing or releasing the job, so the handler never touches the job: it only sets this
 * manual-reset event, and the main loop, which owns the job, cancels it. The event lives as
 * long as the process (it is never closed) because a handler thread can still be running
 * after the handler is removed. */
static HANDLE cancel_requested;

static void usage(void)
{
    fwprintf(stderr,
             L"usage:\n"
             L"  doadmin /transfer <display name> <remote url> <local path>\n"
             L"      downloads one file with a progress bar and completes the job;\n"
             L"      the exit code is 0 on success, 1 on a failed transfer, 2 on bad usage\n");
}

/* Finds the manager: through the registry, or from opendo.dll next to this program. */
static HRESULT create_manager(IBackgroundCopyManager **manager)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IClassFactory *factory;
    WCHAR path[MAX_PATH], *slash;
    HMODULE dll;
    HRESULT hr;

    hr = CoCreateInstance(&CLSID_OpenDOManager, NULL, CLSCTX_INPROC_SERVER,
                          &IID_IBackgroundCopyManager, (void **)manager);
    if (hr != REGDB_E_CLASSNOTREG)
        return hr;
    GetModuleFileNameW(NULL, path, ARRAYSIZE(path));
    if ((slash = wcsrchr(path, L'\\')))
        wcscpy(slash + 1, L"opendo.dll");
    if (!(dll = LoadLibraryW(path)))
        return hr;
    get_class_object = (void *)GetProcAddress(dll, "DllGetClassObject");
    if (!get_class_object)
        return hr;
    if (FAILED(hr = get_class_object(&CLSID_OpenDOManager, &IID_IClassFactory, (void **)&factory)))
        return hr;
    hr = IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager, (void **)manager);
    IClassFactory_Release(factory);
    return hr;
}

static void describe(HRESULT code, WCHAR *buf, size_t size)
{
    if ((code & 0xFFFF0000) == 0x80190000)
    {
        swprintf(buf, size, L"the server answered HTTP %u", code & 0xFFF);
        return;
    }
    if (FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0,
                       buf, (DWORD)size, NULL))
    {
        WCHAR *end = buf + wcslen(buf);
        while (end > buf && (end[-1] == L'\n' || end[-1] == L'\r' || end[-1] == L' '))
            *--end = 0;
        return;
    }
    swprintf(buf, size, L"error 0x%08lx", (unsigned long)code);
}

static void format_bytes(UINT64 bytes, WCHAR *buf, size_t size)
{
    if (bytes == BG_SIZE_UNKNOWN)
        swprintf(buf, size, L"?");
    else if (bytes >= 1024 * 1024)
        swprintf(buf, size, L"%.1f MiB", bytes / 1048576.0);
    else
        swprintf(buf, size, L"%.1f KiB", bytes / 1024.0);
}

static void draw(const BG_JOB_PROGRESS *p, BG_JOB_STATE state, double rate, BOOL final)
{
    static const WCHAR *const states[] = {L"queued",      L"connecting",   L"transferring",
                                          L"suspended",   L"error",        L"retrying",
                                          L"transferred", L"acknowledged", L"cancelled"};
    WCHAR done[32], total[32], bar[31], eta[32] = L"";
    double fraction = 0;
    int filled;

    format_bytes(p->BytesTransferred, done, ARRAYSIZE(done));
    format_bytes(p->BytesTotal, total, ARRAYSIZE(total));
    if (p->BytesTotal != BG_SIZE_UNKNOWN && p->BytesTotal > 0)
        fraction = (double)p->BytesTransferred / p->BytesTotal;
    else if (p->BytesTotal == 0 && state == BG_JOB_STATE_TRANSFERRED)
        fraction = 1;
    filled = (int)(fraction * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < filled ? L'#' : L'.';
    bar[30] = 0;
    if (rate > 0 && p->BytesTotal != BG_SIZE_UNKNOWN && p->BytesTotal > p->BytesTransferred)
    {
        double seconds = (p->BytesTotal - p->BytesTransferred) / rate;
        /* A rate near zero would give an ETA of years: beyond 100 hours none is shown. */
        if (seconds < 100.0 * 3600)
        {
            unsigned int whole = (unsigned int)seconds;
            swprintf(eta, ARRAYSIZE(eta), L"ETA %u:%02u", whole / 60, whole % 60);
        }
    }
    wprintf(L"\r[%ls] %5.1f%%  %ls / %ls  %.1f MB/s  %-12ls %-13ls", bar, fraction * 100, done,
            total, rate / 1e6, eta, state <= BG_JOB_STATE_CANCELLED ? states[state] : L"?");
    if (final)
        wprintf(L"\n");
    fflush(stdout);
}

/* Installed only while a transfer runs; outside it Ctrl-C ends the program as usual. */
static BOOL WINAPI on_ctrl_c(DWORD type)
{
    if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT)
    {
        SetEvent(cancel_requested);
        return TRUE;
    }
    return FALSE;
}

static int transfer(const WCHAR *name, const WCHAR *remote, const WCHAR *local_arg)
{
    IBackgroundCopyManager *manager = NULL;
    IBackgroundCopyJob *job = NULL;
    IBackgroundCopyError *error;
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;
    WCHAR local[MAX_PATH], message[512];
    ULONGLONG start, last_tick;
    UINT64 last_bytes = 0;
    double rate = 0;
    GUID id;
    HRESULT hr, code;
    BG_ERROR_CONTEXT context;
    BOOL handler = FALSE;
    int status = 1;

    if (!GetFullPathNameW(local_arg, ARRAYSIZE(local), local, NULL))
    {
        fwprintf(stderr, L"doadmin: bad local path %ls\n", local_arg);
        return 2;
    }
    if (FAILED(hr = create_manager(&manager)))
    {
        describe(hr, message, ARRAYSIZE(message));
        fwprintf(stderr, L"doadmin: cannot create the OpenDO manager: %ls (0x%08lx)\n", message,
                 (unsigned long)hr);
        return 1;
    }
    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, name, BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &job)) ||
        FAILED(hr = IBackgroundCopyJob_AddFile(job, remote, local)))
    {
        describe(hr, message, ARRAYSIZE(message));
        fwprintf(stderr, L"doadmin: cannot set up the job: %ls (0x%08lx)\n", message,
                 (unsigned long)hr);
        goto out;
    }
    /* An interactive transfer retries quickly and gives up after a minute without progress. */
    IBackgroundCopyJob_SetMinimumRetryDelay(job, 5);
    IBackgroundCopyJob_SetNoProgressTimeout(job, 60);
    IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND);
    handler = SetConsoleCtrlHandler(on_ctrl_c, TRUE);
    if (FAILED(hr = IBackgroundCopyJob_Resume(job)))
    {
        describe(hr, message, ARRAYSIZE(message));
        fwprintf(stderr, L"doadmin: cannot start the job: %ls (0x%08lx)\n", message,
                 (unsigned long)hr);
        goto out;
    }
    start = last_tick = GetTickCount64();
    for (;;)
    {
        ULONGLONG now;

        IBackgroundCopyJob_GetState(job, &state);
        IBackgroundCopyJob_GetProgress(job, &progress);
        now = GetTickCount64();
        if (now - last_tick >= 500)
        {
            double current = (progress.BytesTransferred - last_bytes) * 1000.0 / (now - last_tick);
            rate = rate > 0 ? 0.5 * rate + 0.5 * current : current;
            last_tick = now;
            last_bytes = progress.BytesTransferred;
        }
        if (state == BG_JOB_STATE_TRANSFERRED || state == BG_JOB_STATE_ERROR ||
            state == BG_JOB_STATE_CANCELLED)
            break;
        draw(&progress, state, rate, FALSE);
        /* The poll interval doubles as the wait for Ctrl-C; the next turn sees CANCELLED. */
        if (WaitForSingleObject(cancel_requested, POLL_MS) == WAIT_OBJECT_0)
            IBackgroundCopyJob_Cancel(job);
    }
    /* A Ctrl-C that came after the last look at the state still wins over Complete. */
    if (state == BG_JOB_STATE_TRANSFERRED &&
        WaitForSingleObject(cancel_requested, 0) == WAIT_OBJECT_0 &&
        SUCCEEDED(IBackgroundCopyJob_Cancel(job)))
        state = BG_JOB_STATE_CANCELLED;
    rate = progress.BytesTransferred * 1000.0 / max(1, GetTickCount64() - start);
    draw(&progress, state, rate, TRUE);
    if (state == BG_JOB_STATE_TRANSFERRED)
    {
        if (FAILED(hr = IBackgroundCopyJob_Complete(job)))
        {
            describe(hr, message, ARRAYSIZE(message));
            fwprintf(stderr, L"doadmin: cannot complete the job: %ls (0x%08lx)\n", message,
                     (unsigned long)hr);
            goto out;
        }
        wprintf(L"done: %ls\n", local);
        status = 0;
    }
    else if (state == BG_JOB_STATE_ERROR)
    {
        if (SUCCEEDED(IBackgroundCopyJob_GetError(job, &error)))
        {
            IBackgroundCopyError_GetError(error, &context, &code);
            describe(code, message, ARRAYSIZE(message));
            fwprintf(stderr, L"doadmin: transfer failed: %ls (0x%08lx, context %d)\n", message,
                     (unsigned long)code, context);
            IBackgroundCopyError_Release(error);
        }
        IBackgroundCopyJob_Cancel(job);
    }
    else
    {
        fwprintf(stderr, L"doadmin: transfer cancelled\n");
    }
out:
    if (handler)
        SetConsoleCtrlHandler(on_ctrl_c, FALSE);
    if (job)
    {
        if (status)
            IBackgroundCopyJob_Cancel(job);
        IBackgroundCopyJob_Release(job);
    }
    IBackgroundCopyManager_Release(manager);
    return status;
}

int wmain(int argc, WCHAR **argv)
{
    int status;

    if (argc == 5 && !_wcsicmp(argv[1], L"/transfer"))
    {
        if (!(cancel_requested = CreateEventW(NULL, TRUE, FALSE, NULL)))
        {
            fwprintf(stderr, L"doadmin: cannot create an event (error %lu)\n", GetLastError());
            return 1;
        }
        CoInitializeEx(NULL, COINIT_MULTITHREADED);
        status = transfer(argv[2], argv[3], argv[4]);
        CoUninitialize();
        return status;
    }
    usage();
    return 2;
}
