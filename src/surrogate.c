/* SPDX-License-Identifier: MIT */
/* The surrogate's lifetime: when the COM surrogate (dllhost.exe) hosts the DLL for
 * CLSCTX_LOCAL_SERVER clients, the process ends once no client holds an object and no job it
 * owns is left to transfer.
 *
 * The rule, checked every SURROGATE_CHECK_MS: the process stays while a client holds any of
 * our objects (or a LockServer lock), and while a job it owns is queued, connecting,
 * transferring or waiting to retry, as the BITS service keeps transferring with no client
 * attached. When neither has been true for SURROGATE_GRACE_MS, it stops serving new
 * activations, writes the job store, and exits. Suspended, failed and transferred jobs stay in
 * the store; the next process of the user that makes a manager (or the next surrogate) finds
 * them there and adopts them.
 *
 * The surrogate cannot be left to end the process: Wine's dllhost waits for a FreeSurrogate
 * that Wine's COM never calls, and Windows' ends it once its clients are gone even if a job is
 * still transferring. So the watch thread ends it itself, and only in a process whose program
 * is dllhost.exe: a client that loaded the DLL in process is never ended. */
#include "engine/engine.h"
#include "private.h"

#define SURROGATE_CHECK_MS 250
#define SURROGATE_GRACE_MS 2000

static LONG client_objects; /* interlocked: objects handed to clients and server locks */

void object_lock(void)
{
    InterlockedIncrement(&client_objects);
    module_lock();
}

void object_unlock(void)
{
    InterlockedDecrement(&client_objects);
    module_unlock();
}

void object_unlock_flushing(void)
{
    /* A client that lets go of the last object may be about to exit. */
    if (!InterlockedDecrement(&client_objects))
        store_flush();
    module_unlock();
}

static BOOL clients_attached(void)
{
    return InterlockedCompareExchange(&client_objects, 0, 0) != 0;
}

/* TRUE when the process's program is a COM surrogate (dllhost.exe). */
static BOOL hosted_by_surrogate(void)
{
    WCHAR path[MAX_PATH];
    const WCHAR *name;
    DWORD len = GetModuleFileNameW(NULL, path, ARRAY_SIZE(path));

    if (!len || len == ARRAY_SIZE(path))
        return FALSE;
    name = wcsrchr(path, L'\\');
    return !_wcsicmp(name ? name + 1 : path, L"dllhost.exe");
}

static BOOL busy(void)
{
    return clients_attached() || engine_owns_active_jobs();
}

static DWORD WINAPI watch_main(void *arg)
{
    ULONGLONG idle_since = 0, now;

    for (;;)
    {
        Sleep(SURROGATE_CHECK_MS);
        now = GetTickCount64();
        if (busy())
        {
            idle_since = 0;
            continue;
        }
        if (!idle_since)
            idle_since = now;
        if (now - idle_since < SURROGATE_GRACE_MS)
            continue;
        /* New activations go to a new surrogate from here on; one that arrived in between
         * keeps this one. */
        CoSuspendClassObjects();
        if (busy())
        {
            CoResumeClassObjects();
            idle_since = 0;
            continue;
        }
        TRACE("no client and no transfer left: the surrogate ends");
        store_flush();
        ExitProcess(0);
    }
}

void surrogate_watch(void)
{
    static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
    HMODULE pinned;
    HANDLE thread;
    BOOL pending;

    if (!InitOnceBeginInitialize(&once, 0, &pending, NULL) || !pending)
        return;
    /* The thread lives as long as the process: the DLL stays loaded under it. */
    if (hosted_by_surrogate() &&
        GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                           (const WCHAR *)watch_main, &pinned))
    {
        if ((thread = CreateThread(NULL, 0, watch_main, NULL, 0, NULL)))
            CloseHandle(thread);
        else
            ERR("the surrogate's watch thread did not start (%lu): it will not end by itself",
                GetLastError());
    }
    InitOnceComplete(&once, 0, NULL);
}
