/* SPDX-License-Identifier: MIT */
/* Tests of notifications (src/engine/notify.c): IBackgroundCopyCallback(2) calls, their
 * apartment, retries, and SetNotifyCmdLine programs, after real transfers. */
#include "testutil.h"

#define FAST_TIMEOUT 15000
#define SLOW_TIMEOUT 30000
/* The notifier tries a failed JobTransferred/JobError again after 5 s. */
#define RETRY_MS 5000
/* BITS' minimum notification interval, the default of every job. */
#define INTERVAL_MS 500
#define MAX_CALLS 64

/* ---- a client's callback object ---- */

struct callback
{
    IBackgroundCopyCallback2 IBackgroundCopyCallback2_iface;
    LONG refs;
    BOOL free_threaded; /* aggregates the free-threaded marshaler */
    BOOL v1_only;       /* answers IBackgroundCopyCallback but not ...Callback2 */
    IUnknown *ftm;
    HANDLE event; /* set after every call */
    SRWLOCK lock;
    /* What the test asks for (set before the callback is registered). */
    LONG fail_transferred; /* the first this many JobTransferred calls return E_FAIL */
    BOOL complete;         /* JobTransferred calls Complete */
    /* What was seen (lock). */
    LONG transferred, errors, modifications, files;
    char order[MAX_CALLS + 1]; /* T, E, M, F in call order */
    ULONG calls;
    DWORD thread;                   /* thread of the last call */
    ULONGLONG ticks[MAX_CALLS];     /* GetTickCount64 of each call */
    GUID job_id;                    /* id of the last call's job */
    BG_JOB_STATE state;             /* state of the last call's job, at the call */
    HRESULT complete_hr;            /* Complete from JobTransferred */
    HRESULT probe_hr;               /* GetError on the job in JobTransferred (its dialect) */
    BG_ERROR_CONTEXT error_context; /* JobError's IBackgroundCopyError */
    HRESULT error_code;
    WCHAR file_names[4][MAX_PATH];
    /* What the objects handed to the callback answered (the last FileTransferred/JobError). */
    HRESULT file_qi[6];     /* QI of the file for File2..File5, the two DO file interfaces */
    HRESULT file_name_hr;   /* IBackgroundCopyFile2::GetRemoteName through the File2 QI */
    HRESULT description_hr; /* IBackgroundCopyError::GetErrorDescription */
    HRESULT context_hr;     /* IBackgroundCopyError::GetErrorContextDescription */
    WCHAR description[64];  /* its first characters */
};

static inline struct callback *impl_from_IBackgroundCopyCallback2(IBackgroundCopyCallback2 *iface)
{
    return CONTAINING_RECORD(iface, struct callback, IBackgroundCopyCallback2_iface);
}

static HRESULT WINAPI callback_QueryInterface(IBackgroundCopyCallback2 *iface, REFIID riid,
                                              void **out)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);

    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyCallback) ||
        (IsEqualIID(riid, &IID_IBackgroundCopyCallback2) && !callback->v1_only))
    {
        *out = iface;
        IBackgroundCopyCallback2_AddRef(iface);
        return S_OK;
    }
    if (IsEqualIID(riid, &IID_IMarshal) && callback->free_threaded)
    {
        if (!callback->ftm &&
            FAILED(CoCreateFreeThreadedMarshaler((IUnknown *)iface, &callback->ftm)))
            return E_NOINTERFACE;
        return IUnknown_QueryInterface(callback->ftm, riid, out);
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI callback_AddRef(IBackgroundCopyCallback2 *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyCallback2(iface)->refs);
}

static ULONG WINAPI callback_Release(IBackgroundCopyCallback2 *iface)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);
    ULONG refs = InterlockedDecrement(&callback->refs);

    if (!refs)
    {
        if (callback->ftm)
            IUnknown_Release(callback->ftm);
        CloseHandle(callback->event);
        free(callback);
    }
    return refs;
}

/* Records a call of kind `kind` on `job`. */
static void record(struct callback *callback, char kind, IBackgroundCopyJob *job)
{
    BG_JOB_STATE state = 0;
    GUID id = {0};

    IBackgroundCopyJob_GetId(job, &id);
    IBackgroundCopyJob_GetState(job, &state);
    AcquireSRWLockExclusive(&callback->lock);
    if (callback->calls < MAX_CALLS)
    {
        callback->ticks[callback->calls] = GetTickCount64();
        callback->order[callback->calls++] = kind;
    }
    callback->thread = GetCurrentThreadId();
    callback->job_id = id;
    callback->state = state;
    ReleaseSRWLockExclusive(&callback->lock);
}

static HRESULT WINAPI callback_JobTransferred(IBackgroundCopyCallback2 *iface,
                                              IBackgroundCopyJob *job)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);
    IBackgroundCopyError *error = NULL;
    HRESULT hr = S_OK, probe, complete = S_OK;

    record(callback, 'T', job);
    probe = IBackgroundCopyJob_GetError(job, &error);
    if (error)
        IBackgroundCopyError_Release(error);
    AcquireSRWLockExclusive(&callback->lock);
    if (callback->transferred < callback->fail_transferred)
        hr = E_FAIL;
    ReleaseSRWLockExclusive(&callback->lock);
    if (hr == S_OK && callback->complete)
        complete = IBackgroundCopyJob_Complete(job);
    AcquireSRWLockExclusive(&callback->lock);
    callback->probe_hr = probe;
    callback->complete_hr = complete;
    callback->transferred++;
    ReleaseSRWLockExclusive(&callback->lock);
    SetEvent(callback->event);
    return hr;
}

static HRESULT WINAPI callback_JobError(IBackgroundCopyCallback2 *iface, IBackgroundCopyJob *job,
                                        IBackgroundCopyError *error)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);
    BG_ERROR_CONTEXT context = 0;
    HRESULT code = S_OK;

    WCHAR *description = NULL, *context_text = NULL;
    HRESULT description_hr, context_hr;

    record(callback, 'E', job);
    IBackgroundCopyError_GetError(error, &context, &code);
    description_hr = IBackgroundCopyError_GetErrorDescription(
        error, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), &description);
    context_hr = IBackgroundCopyError_GetErrorContextDescription(
        error, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), &context_text);
    AcquireSRWLockExclusive(&callback->lock);
    callback->error_context = context;
    callback->error_code = code;
    callback->description_hr = description_hr;
    callback->context_hr = context_hr;
    if (description)
        wcsncpy(callback->description, description, ARRAY_SIZE(callback->description) - 1);
    callback->errors++;
    ReleaseSRWLockExclusive(&callback->lock);
    CoTaskMemFree(description);
    CoTaskMemFree(context_text);
    SetEvent(callback->event);
    return S_OK;
}

static HRESULT WINAPI callback_JobModification(IBackgroundCopyCallback2 *iface,
                                               IBackgroundCopyJob *job, DWORD reserved)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);

    record(callback, 'M', job);
    AcquireSRWLockExclusive(&callback->lock);
    callback->modifications++;
    ReleaseSRWLockExclusive(&callback->lock);
    SetEvent(callback->event);
    return S_OK;
}

static HRESULT WINAPI callback_FileTransferred(IBackgroundCopyCallback2 *iface,
                                               IBackgroundCopyJob *job, IBackgroundCopyFile *file)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);
    static const IID *const iids[] = {
        &IID_IBackgroundCopyFile2, &IID_IBackgroundCopyFile3,      &IID_IBackgroundCopyFile4,
        &IID_IBackgroundCopyFile5, &IID_IDeliveryOptimizationFile, &IID_IDeliveryOptimizationFile2,
    };
    HRESULT qi[ARRAY_SIZE(iids)], name_hr = E_NOINTERFACE;
    WCHAR *name = NULL, *remote = NULL;
    IUnknown *other;

    record(callback, 'F', job);
    IBackgroundCopyFile_GetLocalName(file, &name);
    for (ULONG i = 0; i < ARRAY_SIZE(iids); i++)
    {
        if (SUCCEEDED(qi[i] = IBackgroundCopyFile_QueryInterface(file, iids[i], (void **)&other)))
        {
            if (iids[i] == &IID_IBackgroundCopyFile2)
                name_hr =
                    IBackgroundCopyFile2_GetRemoteName((IBackgroundCopyFile2 *)other, &remote);
            IUnknown_Release(other);
        }
    }
    CoTaskMemFree(remote);
    AcquireSRWLockExclusive(&callback->lock);
    memcpy(callback->file_qi, qi, sizeof(qi));
    callback->file_name_hr = name_hr;
    if (name && callback->files < (LONG)ARRAY_SIZE(callback->file_names))
        wcsncpy(callback->file_names[callback->files], name, MAX_PATH - 1);
    callback->files++;
    ReleaseSRWLockExclusive(&callback->lock);
    CoTaskMemFree(name);
    SetEvent(callback->event);
    return S_OK;
}

static const IBackgroundCopyCallback2Vtbl callback_vtbl = {
    callback_QueryInterface,  callback_AddRef,   callback_Release,
    callback_JobTransferred,  callback_JobError, callback_JobModification,
    callback_FileTransferred,
};

static struct callback *callback_create(BOOL free_threaded)
{
    struct callback *callback = calloc(1, sizeof(*callback));

    assert_non_null(callback);
    callback->IBackgroundCopyCallback2_iface.lpVtbl = &callback_vtbl;
    callback->refs = 1;
    callback->free_threaded = free_threaded;
    callback->event = CreateEventW(NULL, FALSE, FALSE, NULL);
    InitializeSRWLock(&callback->lock);
    return callback;
}

static IUnknown *unk(struct callback *callback)
{
    return (IUnknown *)&callback->IBackgroundCopyCallback2_iface;
}

static LONG count(struct callback *callback, const LONG *counter)
{
    LONG value;

    AcquireSRWLockShared(&callback->lock);
    value = *counter;
    ReleaseSRWLockShared(&callback->lock);
    return value;
}

/* Waits until *counter reaches `wanted`; fails naming what was seen. */
#define wait_calls(callback, field, wanted, timeout)                                               \
    wait_calls_(callback, &(callback)->field, #field, wanted, timeout, __LINE__)
static void wait_calls_(struct callback *callback, const LONG *counter, const char *what,
                        LONG wanted, DWORD timeout_ms, int line)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    while (count(callback, counter) < wanted)
    {
        if (GetTickCount64() >= deadline)
            fail_msg("line %d: expected %ld %s call(s) within %lu ms, got %ld (calls \"%s\")", line,
                     wanted, what, timeout_ms, count(callback, counter), callback->order);
        WaitForSingleObject(callback->event, 50);
    }
}

/* The calls so far, as a string of T, E, M, F. */
static void order(struct callback *callback, char *out, size_t size)
{
    AcquireSRWLockShared(&callback->lock);
    snprintf(out, size, "%s", callback->order);
    ReleaseSRWLockShared(&callback->lock);
}

/* ---- jobs ---- */

static IBackgroundCopyManager *manager;
static IBackgroundCopyJob *jobs[6];
static int job_count;
static struct callback *callbacks[6];
static int callback_count;

static int setup_group(void **state)
{
    if (tu_com_setup(state))
        return -1;
    manager = tu_manager();
    return 0;
}

static int teardown_group(void **state)
{
    IBackgroundCopyManager_Release(manager);
    return tu_com_teardown(state);
}

static int teardown(void **state)
{
    while (job_count > 0)
        tu_cancel_release(jobs[--job_count]);
    while (callback_count > 0)
    {
        struct callback *callback = callbacks[--callback_count];
        IBackgroundCopyCallback2_Release(&callback->IBackgroundCopyCallback2_iface);
    }
    return 0;
}

/* A callback released by the test's teardown. */
static struct callback *new_callback(BOOL free_threaded)
{
    assert_true(callback_count < (int)ARRAY_SIZE(callbacks));
    return callbacks[callback_count++] = callback_create(free_threaded);
}

static IBackgroundCopyManager *manager_of(const CLSID *clsid)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IBackgroundCopyManager *result = NULL;
    IClassFactory *factory;

    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(get_class_object);
    assert_hr(S_OK, get_class_object(clsid, &IID_IClassFactory, (void **)&factory));
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager,
                                                 (void **)&result));
    IClassFactory_Release(factory);
    return result;
}

/* An empty job of `from` owned by the test's teardown. */
static IBackgroundCopyJob *new_job_of(IBackgroundCopyManager *from)
{
    IBackgroundCopyJob *job;
    GUID id;

    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(from, L"notify", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    return jobs[job_count++] = job;
}

static IBackgroundCopyJob *new_job(void)
{
    return new_job_of(manager);
}

/* Adds the test server's `path` as dir\name. */
static void add(IBackgroundCopyJob *job, const WCHAR *path, const WCHAR *dir, const WCHAR *name)
{
    WCHAR url[MAX_PATH], local[MAX_PATH];

    tu_url(url, ARRAY_SIZE(url), path);
    tu_path(local, ARRAY_SIZE(local), dir, name);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
}

static GUID job_id(IBackgroundCopyJob *job)
{
    GUID id;

    assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &id));
    return id;
}

/* Proves that nothing else is on its way to `callback`: turns JobModification on, which makes
 * a change (the flags), and waits for that one call. An event raised before would have been
 * delivered first: the notifier sends a job's events in order, modifications last. */
static void sentinel(IBackgroundCopyJob *job, struct callback *callback)
{
    LONG before = count(callback, &callback->modifications);
    ULONG flags;

    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyFlags(job, &flags));
    flags = (flags | BG_NOTIFY_JOB_MODIFICATION) & ~BG_NOTIFY_DISABLE;
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, flags));
    wait_calls(callback, modifications, before + 1, FAST_TIMEOUT);
}

/* Waits until the file exists. */
static void wait_file(const WCHAR *path, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    while (!tu_exists(path))
    {
        if (GetTickCount64() >= deadline)
            fail_msg("%ls did not appear within %lu ms", path, timeout_ms);
        Sleep(20);
    }
}

/* Polls until the object's reference count is `refs`. */
static void wait_refcount(void *iface, ULONG refs, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    ULONG now;

    while ((now = tu_refcount(iface)) != refs)
    {
        if (GetTickCount64() >= deadline)
            fail_msg("the reference count stayed %lu, expected %lu", now, refs);
        Sleep(10);
    }
}

/* cmd.exe of the prefix with a command line that writes "done" to path. */
static void echo_command(WCHAR *program, WCHAR *parameters, size_t size, const WCHAR *path)
{
    WCHAR system[MAX_PATH];

    assert_true(GetSystemDirectoryW(system, ARRAY_SIZE(system)) > 0);
    swprintf(program, MAX_PATH, L"%ls\\cmd.exe", system);
    swprintf(parameters, size, L"cmd.exe /c echo done > \"%ls\"", path);
}

/* ---- SetNotifyInterface / GetNotifyInterface ---- */

static void interface_arguments(void **state)
{
    struct callback *first = new_callback(TRUE), *second = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job();
    IUnknown *got = (IUnknown *)0xdeadbeef;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetNotifyInterface(job, NULL));
    /* Default: none. */
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyInterface(job, &got));
    assert_null(got);
    /* An object that is no callback (the manager) is refused and not kept. */
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetNotifyInterface(job, (IUnknown *)manager));
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyInterface(job, &got));
    assert_null(got);

    /* The registered pointer comes back AddRef'ed; the job holds the object meanwhile. */
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(first)));
    assert_true(tu_refcount(unk(first)) > 1);
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyInterface(job, &got));
    assert_ptr_equal(got, unk(first));
    IUnknown_Release(got);

    /* The last registration wins, and the previous object is let go. */
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(second)));
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyInterface(job, &got));
    assert_ptr_equal(got, unk(second));
    IUnknown_Release(got);
    assert_int_equal(1, tu_refcount(unk(first)));

    /* NULL clears. */
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyInterface(job, &got));
    assert_null(got);
    assert_int_equal(1, tu_refcount(unk(second)));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, NULL));

    /* A final job refuses both, keeps answering the getter, and lets its callback go. */
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(first)));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    wait_refcount(unk(first), 1, FAST_TIMEOUT);
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_SetNotifyInterface(job, unk(second)));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_SetNotifyInterface(job, NULL));
    assert_int_equal(1, tu_refcount(unk(second)));
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyInterface(job, &got));
    assert_null(got);
}

/* DO-dialect objects map BG_E_INVALID_STATE. */
static void interface_do_dialect(void **state)
{
    IBackgroundCopyManager *dos = manager_of(&CLSID_DeliveryOptimization);
    struct callback *callback = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job_of(dos);

    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    IBackgroundCopyManager_Release(dos);
}

/* ---- SetNotifyCmdLine / GetNotifyCmdLine ---- */

static void cmdline_arguments(void **state)
{
    IBackgroundCopyJob *job = new_job();
    IBackgroundCopyJob2 *job2;
    WCHAR *program, *parameters, longer[4002];

    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob2_GetNotifyCmdLine(job2, NULL, &parameters));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, NULL));
    /* Unset: two empty strings. */
    assert_hr(S_OK, IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, &parameters));
    assert_cotask_str(L"", program);
    assert_cotask_str(L"", parameters);

    /* Parameters without a program fail. */
    assert_hr(E_INVALIDARG, IBackgroundCopyJob2_SetNotifyCmdLine(job2, NULL, L"x.exe /y"));

    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, L"C:\\tools\\x.exe", L"x.exe /y"));
    assert_hr(S_OK, IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, &parameters));
    assert_cotask_str(L"C:\\tools\\x.exe", program);
    assert_cotask_str(L"x.exe /y", parameters);
    /* Parameters may be NULL. */
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, L"C:\\tools\\z.exe", NULL));
    assert_hr(S_OK, IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, &parameters));
    assert_cotask_str(L"C:\\tools\\z.exe", program);
    assert_cotask_str(L"", parameters);

    /* Limits: MAX_PATH characters of program, 4,000 of parameters; a refused call changes
     * nothing. */
    wmemset(longer, L'a', ARRAY_SIZE(longer));
    longer[MAX_PATH + 1] = 0;
    assert_hr(BG_E_STRING_TOO_LONG, IBackgroundCopyJob2_SetNotifyCmdLine(job2, longer, NULL));
    longer[MAX_PATH] = 0;
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, longer, NULL));
    wmemset(longer, L'b', ARRAY_SIZE(longer));
    longer[4001] = 0;
    assert_hr(BG_E_STRING_TOO_LONG,
              IBackgroundCopyJob2_SetNotifyCmdLine(job2, L"C:\\tools\\x.exe", longer));
    longer[4000] = 0;
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, L"C:\\tools\\x.exe", longer));
    assert_hr(S_OK, IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, &parameters));
    assert_cotask_str(L"C:\\tools\\x.exe", program);
    assert_cotask_str(longer, parameters);

    /* Both NULL clears. */
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, NULL, NULL));
    assert_hr(S_OK, IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, &parameters));
    assert_cotask_str(L"", program);
    assert_cotask_str(L"", parameters);

    /* A final job refuses changes and still answers. */
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, L"C:\\tools\\x.exe", L"x.exe"));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob2_SetNotifyCmdLine(job2, NULL, NULL));
    assert_hr(S_OK, IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, &parameters));
    assert_cotask_str(L"C:\\tools\\x.exe", program);
    assert_cotask_str(L"x.exe", parameters);
    IBackgroundCopyJob2_Release(job2);
}

/* ---- callbacks after real transfers ---- */

/* JobTransferred comes once, on the notifier's thread, with the job in TRANSFERRED and a job
 * object of the registering dialect; no other call comes with the default flags. */
static void transferred_once(void **state)
{
    struct callback *callback = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job();
    WCHAR dir[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    char calls[MAX_CALLS + 1];
    GUID id;

    tu_scratch("notify_once", dir, ARRAY_SIZE(dir));
    add(job, L"hello.txt", dir, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_calls(callback, transferred, 1, FAST_TIMEOUT);
    sentinel(job, callback);

    order(callback, calls, sizeof(calls));
    assert_string_equal("TM", calls);
    assert_int_equal(1, count(callback, &callback->transferred));
    id = job_id(job);
    assert_memory_equal(&id, &callback->job_id, sizeof(id));
    assert_int_not_equal(GetCurrentThreadId(), callback->thread);
    assert_hr(BG_E_ERROR_INFORMATION_UNAVAILABLE, callback->probe_hr);

    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    tu_www(www, ARRAY_SIZE(www), L"hello.txt");
    assert_true(tu_same_file(www, local));
    /* The job is final: its callback is let go. */
    wait_refcount(unk(callback), 1, FAST_TIMEOUT);
    tu_remove_tree(dir);
}

/* The client may call Complete from JobTransferred; the job handed to a DO-dialect
 * registration speaks DO. */
static void complete_from_callback(void **state)
{
    IBackgroundCopyManager *dos = manager_of(&CLSID_DeliveryOptimization);
    struct callback *callback = new_callback(TRUE), *do_callback = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job(), *do_job = new_job_of(dos);
    WCHAR dir[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    BG_JOB_STATE job_state;

    tu_scratch("notify_complete", dir, ARRAY_SIZE(dir));
    add(job, L"hello.txt", dir, L"bits.txt");
    add(do_job, L"hello.txt", dir, L"do.txt");
    callback->complete = do_callback->complete = TRUE;
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(do_job, unk(do_callback)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(do_job));
    wait_calls(callback, transferred, 1, FAST_TIMEOUT);
    wait_calls(do_callback, transferred, 1, FAST_TIMEOUT);

    assert_hr(S_OK, callback->complete_hr);
    assert_hr(S_OK, do_callback->complete_hr);
    assert_int_equal(BG_JOB_STATE_TRANSFERRED, callback->state);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, job_state);
    tu_www(www, ARRAY_SIZE(www), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"bits.txt");
    assert_true(tu_same_file(www, local));
    tu_path(local, ARRAY_SIZE(local), dir, L"do.txt");
    assert_true(tu_same_file(www, local));
    assert_hr(BG_E_ERROR_INFORMATION_UNAVAILABLE, callback->probe_hr);
    assert_hr(DO_E_ERROR_INFORMATION_UNAVAILABLE, do_callback->probe_hr);
    wait_refcount(unk(callback), 1, FAST_TIMEOUT);
    wait_refcount(unk(do_callback), 1, FAST_TIMEOUT);
    IBackgroundCopyManager_Release(dos);
    tu_remove_tree(dir);
}

/* A 404 ends in ERROR: JobError with the job's error. */
static void error_on_404(void **state)
{
    struct callback *callback = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job();
    WCHAR dir[MAX_PATH];
    char calls[MAX_CALLS + 1];

    tu_scratch("notify_404", dir, ARRAY_SIZE(dir));
    add(job, L"status/404", dir, L"missing.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_calls(callback, errors, 1, FAST_TIMEOUT);
    sentinel(job, callback);
    order(callback, calls, sizeof(calls));
    assert_string_equal("EM", calls);
    assert_hr(BG_E_HTTP_ERROR_404, callback->error_code);
    assert_int_equal(BG_ERROR_CONTEXT_REMOTE_FILE, callback->error_context);
    assert_int_equal(0, count(callback, &callback->transferred));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    tu_remove_tree(dir);
}

/* A 503 is transient: TRANSIENT_ERROR brings no JobError. */
static void no_error_when_transient(void **state)
{
    struct callback *callback = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job();
    WCHAR dir[MAX_PATH];

    tu_scratch("notify_503", dir, ARRAY_SIZE(dir));
    add(job, L"status/503", dir, L"busy.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    sentinel(job, callback);
    assert_int_equal(0, count(callback, &callback->errors));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    tu_remove_tree(dir);
}

/* A job waiting in TRANSIENT_ERROR enters ERROR, with JobError, once its no-progress timeout is
 * shortened so that its queued retry falls outside the window; a timeout that still holds the
 * retry leaves it waiting. */
static void error_when_the_timeout_is_shortened(void **state)
{
    struct callback *callback = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job();
    BG_JOB_STATE job_state;
    WCHAR dir[MAX_PATH];
    ULONG errors;

    tu_scratch("notify_shortened", dir, ARRAY_SIZE(dir));
    add(job, L"status/503", dir, L"busy.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 600));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);

    /* The retry, 600 s after the failure, is inside an hour. */
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 3600));
    sentinel(job, callback);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_TRANSIENT_ERROR, job_state);
    assert_int_equal(0, count(callback, &callback->errors));

    /* It is not inside five minutes: the job gives up now, not when the retry fails. */
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 300));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ERROR, job_state);
    wait_calls(callback, errors, 1, FAST_TIMEOUT);
    assert_hr(BG_E_HTTP_ERROR_503, callback->error_code);
    assert_int_equal(BG_ERROR_CONTEXT_REMOTE_FILE, callback->error_context);
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &errors));
    assert_int_equal(1, errors);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    tu_remove_tree(dir);
}

/* Asserts that successive JobModification calls came at least `interval` ms apart. */
static void check_spacing(struct callback *callback, ULONG interval)
{
    for (ULONG i = 1; i < callback->calls; i++)
    {
        if (callback->order[i] != 'M' || callback->order[i - 1] != 'M')
            continue;
        if (callback->ticks[i] - callback->ticks[i - 1] < interval - 50)
            fail_msg("modifications %lu and %lu came %llu ms apart, expected %lu", i - 1, i,
                     callback->ticks[i] - callback->ticks[i - 1], interval);
    }
}

/* JobModification comes during a slow transfer when asked for, at most once per minimum
 * notification interval (500 ms, or the job's BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS),
 * and never for the transition into TRANSFERRED; it does not come when not asked for. */
static void modifications(void **state)
{
    struct callback *asked = new_callback(TRUE), *unasked = new_callback(TRUE);
    struct callback *spaced = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job(), *quiet = new_job(), *spaced_job = new_job();
    const ULONG flags = BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_MODIFICATION;
    BITS_JOB_PROPERTY_VALUE value = {.Dword = 1000};
    IBackgroundCopyJob5 *job5;
    WCHAR dir[MAX_PATH];
    char calls[MAX_CALLS + 1];
    ULONG i, n;

    tu_scratch("notify_modification", dir, ARRAY_SIZE(dir));
    add(job, L"slow/8m.bin", dir, L"asked.bin");
    add(quiet, L"slow/8m.bin", dir, L"unasked.bin");
    add(spaced_job, L"slow/8m.bin", dir, L"spaced.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, flags));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(quiet, BG_NOTIFY_JOB_TRANSFERRED));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(spaced_job, flags));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(spaced_job, &IID_IBackgroundCopyJob5,
                                                      (void **)&job5));
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(
                        job5, BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS, value));
    IBackgroundCopyJob5_Release(job5);
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(asked)));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(quiet, unk(unasked)));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(spaced_job, unk(spaced)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(quiet));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(spaced_job));

    /* The transfers take about 4 s. */
    wait_calls(asked, transferred, 1, SLOW_TIMEOUT);
    wait_calls(unasked, transferred, 1, SLOW_TIMEOUT);
    wait_calls(spaced, transferred, 1, SLOW_TIMEOUT);

    /* Modifications while the bytes came in, then JobTransferred last. */
    order(asked, calls, sizeof(calls));
    n = (ULONG)strlen(calls);
    if (n < 6)
        fail_msg("expected at least 5 modifications in about 4 s, got calls \"%s\"", calls);
    assert_int_equal('T', calls[n - 1]);
    for (i = 0; i + 1 < n; i++)
        assert_int_equal('M', calls[i]);
    check_spacing(asked, INTERVAL_MS);
    order(spaced, calls, sizeof(calls));
    n = (ULONG)strlen(calls);
    if (n < 3 || calls[n - 1] != 'T')
        fail_msg("expected modifications, then JobTransferred, got calls \"%s\"", calls);
    check_spacing(spaced, 1000);
    order(unasked, calls, sizeof(calls));
    assert_string_equal("T", calls);
    tu_remove_tree(dir);
}

/* FileTransferred comes for each file, in order, with the right file, before JobTransferred;
 * a callback without IBackgroundCopyCallback2 gets JobTransferred only. */
static void file_transferred(void **state)
{
    struct callback *callback = new_callback(TRUE), *v1 = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job(), *v1_job = new_job();
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    char calls[MAX_CALLS + 1];
    const ULONG flags = BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_FILE_TRANSFERRED;

    tu_scratch("notify_files", dir, ARRAY_SIZE(dir));
    add(job, L"hello.txt", dir, L"first.txt");
    add(job, L"4m.bin", dir, L"second.bin");
    add(v1_job, L"hello.txt", dir, L"v1.txt");
    v1->v1_only = TRUE;
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, flags));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(v1_job, flags));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(v1_job, unk(v1)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(v1_job));
    wait_calls(callback, transferred, 1, FAST_TIMEOUT);
    wait_calls(v1, transferred, 1, FAST_TIMEOUT);

    order(callback, calls, sizeof(calls));
    assert_string_equal("FFT", calls);
    tu_path(local, ARRAY_SIZE(local), dir, L"first.txt");
    assert_true(!wcscmp(local, callback->file_names[0]));
    tu_path(local, ARRAY_SIZE(local), dir, L"second.bin");
    assert_true(!wcscmp(local, callback->file_names[1]));
    order(v1, calls, sizeof(calls));
    assert_string_equal("T", calls);
    tu_remove_tree(dir);
}

/* Flags 0, or BG_NOTIFY_DISABLE with everything else, deliver nothing. */
static void silent_flags(void **state)
{
    struct callback *none = new_callback(TRUE), *disabled = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job(), *disabled_job = new_job();
    WCHAR dir[MAX_PATH];
    char calls[MAX_CALLS + 1];

    tu_scratch("notify_silent", dir, ARRAY_SIZE(dir));
    add(job, L"hello.txt", dir, L"none.txt");
    add(disabled_job, L"4m.bin", dir, L"disabled.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, 0));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(
                        disabled_job, BG_NOTIFY_DISABLE | BG_NOTIFY_JOB_TRANSFERRED |
                                          BG_NOTIFY_JOB_ERROR | BG_NOTIFY_JOB_MODIFICATION |
                                          BG_NOTIFY_FILE_TRANSFERRED));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(none)));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(disabled_job, unk(disabled)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(disabled_job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    tu_wait_state(disabled_job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);

    sentinel(job, none);
    order(none, calls, sizeof(calls));
    assert_string_equal("M", calls);
    sentinel(disabled_job, disabled);
    order(disabled, calls, sizeof(calls));
    assert_string_equal("M", calls);
    tu_remove_tree(dir);
}

/* A callback registered after the event still gets it. */
static void registered_late(void **state)
{
    struct callback *late = new_callback(TRUE), *late_error = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job(), *failing = new_job();
    WCHAR dir[MAX_PATH];

    tu_scratch("notify_late", dir, ARRAY_SIZE(dir));
    add(job, L"hello.txt", dir, L"late.txt");
    add(failing, L"status/404", dir, L"late.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(failing));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    tu_wait_state(failing, BG_JOB_STATE_ERROR, FAST_TIMEOUT);

    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(late)));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(failing, unk(late_error)));
    wait_calls(late, transferred, 1, FAST_TIMEOUT);
    wait_calls(late_error, errors, 1, FAST_TIMEOUT);
    assert_hr(BG_E_HTTP_ERROR_404, late_error->error_code);
    tu_remove_tree(dir);
}

/* A JobTransferred that fails is called again later, while the job stays TRANSFERRED. */
static void failed_callback_is_retried(void **state)
{
    struct callback *callback = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job();
    WCHAR dir[MAX_PATH];
    char calls[MAX_CALLS + 1];

    tu_scratch("notify_retry", dir, ARRAY_SIZE(dir));
    add(job, L"hello.txt", dir, L"retry.txt");
    callback->fail_transferred = 1;
    callback->complete = TRUE;
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(callback)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_calls(callback, transferred, 2, FAST_TIMEOUT + RETRY_MS);
    order(callback, calls, sizeof(calls));
    assert_string_equal("TT", calls);
    if (callback->ticks[1] - callback->ticks[0] < RETRY_MS - 500)
        fail_msg("the retry came after %llu ms", callback->ticks[1] - callback->ticks[0]);
    /* The second call succeeded and completed the job. */
    assert_hr(S_OK, callback->complete_hr);
    tu_wait_state(job, BG_JOB_STATE_ACKNOWLEDGED, FAST_TIMEOUT);
    tu_remove_tree(dir);
}

/* ---- a single-threaded apartment client ---- */

struct sta_client
{
    IBackgroundCopyJob *job;
    struct callback *callback;
    BOOL unregister; /* SetNotifyInterface(NULL) before leaving the apartment */
    HANDLE ready;    /* set once registered */
    HANDLE done;     /* set by the test: stop pumping */
    DWORD thread;
    HRESULT set_hr;
    IUnknown *got; /* GetNotifyInterface on the STA thread (released) */
};

static DWORD WINAPI sta_main(void *arg)
{
    struct sta_client *client = arg;
    MSG msg;

    CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
    client->thread = GetCurrentThreadId();
    client->set_hr = IBackgroundCopyJob_SetNotifyInterface(client->job, unk(client->callback));
    if (SUCCEEDED(IBackgroundCopyJob_GetNotifyInterface(client->job, &client->got)) && client->got)
        IUnknown_Release(client->got);
    SetEvent(client->ready);
    /* Calls into the apartment arrive as window messages. */
    while (MsgWaitForMultipleObjects(1, &client->done, FALSE, SLOW_TIMEOUT, QS_ALLINPUT) ==
           WAIT_OBJECT_0 + 1)
    {
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
            DispatchMessageW(&msg);
    }
    if (client->unregister)
        IBackgroundCopyJob_SetNotifyInterface(client->job, NULL);
    CoUninitialize();
    return 0;
}

static HANDLE start_sta(struct sta_client *client)
{
    HANDLE thread;

    client->ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    client->done = CreateEventW(NULL, TRUE, FALSE, NULL);
    thread = CreateThread(NULL, 0, sta_main, client, 0, NULL);
    assert_non_null(thread);
    assert_int_equal(WAIT_OBJECT_0, WaitForSingleObject(client->ready, FAST_TIMEOUT));
    return thread;
}

static void stop_sta(struct sta_client *client, HANDLE thread)
{
    SetEvent(client->done);
    assert_int_equal(WAIT_OBJECT_0, WaitForSingleObject(thread, FAST_TIMEOUT));
    CloseHandle(thread);
    CloseHandle(client->ready);
    CloseHandle(client->done);
}

/* An STA client gets its callbacks on its own thread, and may call Complete there. */
static void sta_client_thread(void **state)
{
    struct callback *callback = new_callback(FALSE);
    struct sta_client client = {.job = new_job(), .callback = callback, .unregister = TRUE};
    WCHAR dir[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    HANDLE thread;

    tu_scratch("notify_sta", dir, ARRAY_SIZE(dir));
    add(client.job, L"hello.txt", dir, L"sta.txt");
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(client.job, BG_NOTIFY_JOB_TRANSFERRED |
                                                                      BG_NOTIFY_FILE_TRANSFERRED));
    callback->complete = TRUE;
    thread = start_sta(&client);
    assert_hr(S_OK, client.set_hr);
    /* On its own thread the client gets its own object back. */
    assert_ptr_equal(unk(callback), client.got);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(client.job));
    wait_calls(callback, transferred, 1, FAST_TIMEOUT);
    assert_int_equal(client.thread, callback->thread);
    assert_int_equal(1, count(callback, &callback->files));
    assert_hr(S_OK, callback->complete_hr);
    tu_path(local, ARRAY_SIZE(local), dir, L"sta.txt");
    tu_www(www, ARRAY_SIZE(www), L"hello.txt");
    assert_true(tu_same_file(www, local));
    /* The job is final: the notifier lets the callback go. An STA client keeps pumping until
     * then, as COM wants: under Wine a call into an apartment that stops pumping never
     * returns (even a proxy's Release), and would block the notifier. */
    wait_refcount(unk(callback), 1, FAST_TIMEOUT);
    stop_sta(&client, thread);
    tu_remove_tree(dir);
}

/* In an STA client, the job, file and error objects a callback gets are OpenDO's own: they
 * answer every interface and method as they do outside callbacks, on the client's thread. */
static void sta_client_objects(void **state)
{
    struct callback *callback = new_callback(FALSE);
    struct sta_client client = {.job = new_job(), .callback = callback, .unregister = TRUE};
    struct sta_client failing = {.job = new_job(), .callback = callback, .unregister = TRUE};
    const ULONG flags =
        BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR | BG_NOTIFY_FILE_TRANSFERRED;
    WCHAR dir[MAX_PATH];
    HANDLE thread, failing_thread;

    tu_scratch("notify_sta_objects", dir, ARRAY_SIZE(dir));
    add(client.job, L"hello.txt", dir, L"sta.txt");
    add(failing.job, L"status/404", dir, L"missing.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(client.job, flags));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(failing.job, flags));
    callback->complete = TRUE;
    thread = start_sta(&client);
    failing_thread = start_sta(&failing);
    assert_hr(S_OK, client.set_hr);
    assert_hr(S_OK, failing.set_hr);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(client.job));
    wait_calls(callback, transferred, 1, FAST_TIMEOUT);
    assert_int_equal(client.thread, callback->thread);
    assert_int_equal(1, count(callback, &callback->files));
    for (ULONG i = 0; i < ARRAY_SIZE(callback->file_qi); i++)
        assert_hr(S_OK, callback->file_qi[i]);
    assert_hr(S_OK, callback->file_name_hr);
    /* Complete from inside JobTransferred, on the client's thread. */
    assert_hr(S_OK, callback->complete_hr);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(failing.job));
    wait_calls(callback, errors, 1, FAST_TIMEOUT);
    assert_int_equal(failing.thread, callback->thread);
    assert_int_equal(BG_ERROR_CONTEXT_REMOTE_FILE, callback->error_context);
    assert_hr(BG_E_HTTP_ERROR_404, callback->error_code);
    assert_hr(S_OK, callback->description_hr);
    assert_hr(S_OK, callback->context_hr);
    assert_true(callback->description[0] != 0);

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(failing.job));
    wait_refcount(unk(callback), 1, FAST_TIMEOUT);
    stop_sta(&client, thread);
    stop_sta(&failing, failing_thread);
    tu_remove_tree(dir);
}

/* ---- command lines ---- */

/* The program runs when the job is transferred and nothing else takes the event; not when the
 * flags exclude it, and again when set after the event. */
static void cmdline_runs(void **state)
{
    IBackgroundCopyJob *job = new_job(), *excluded = new_job();
    IBackgroundCopyJob2 *job2, *excluded2;
    WCHAR dir[MAX_PATH], program[MAX_PATH], parameters[2 * MAX_PATH];
    WCHAR marker[MAX_PATH], unwanted[MAX_PATH], later[MAX_PATH];

    tu_scratch("notify_cmdline", dir, ARRAY_SIZE(dir));
    tu_path(marker, ARRAY_SIZE(marker), dir, L"notified.txt");
    tu_path(unwanted, ARRAY_SIZE(unwanted), dir, L"unwanted.txt");
    tu_path(later, ARRAY_SIZE(later), dir, L"later.txt");
    add(job, L"hello.txt", dir, L"hello.txt");
    add(excluded, L"hello.txt", dir, L"excluded.txt");
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(excluded, &IID_IBackgroundCopyJob2,
                                                      (void **)&excluded2));
    echo_command(program, parameters, ARRAY_SIZE(parameters), marker);
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, parameters));
    echo_command(program, parameters, ARRAY_SIZE(parameters), unwanted);
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(excluded2, program, parameters));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(excluded, BG_NOTIFY_JOB_ERROR));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(excluded));
    wait_file(marker, SLOW_TIMEOUT);

    /* The excluded job is transferred too; allowing the event and setting a command line now
     * runs that one (BITS runs it even after the event); the first one never ran. */
    tu_wait_state(excluded, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(excluded, BG_NOTIFY_JOB_TRANSFERRED));
    echo_command(program, parameters, ARRAY_SIZE(parameters), later);
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(excluded2, program, parameters));
    wait_file(later, SLOW_TIMEOUT);
    assert_false(tu_exists(unwanted));

    IBackgroundCopyJob2_Release(job2);
    IBackgroundCopyJob2_Release(excluded2);
    tu_remove_tree(dir);
}

/* With a callback and a command line, the program runs only when the callback fails. */
static void cmdline_after_failed_callback(void **state)
{
    struct callback *failing = new_callback(TRUE), *working = new_callback(TRUE);
    IBackgroundCopyJob *job = new_job(), *ok_job = new_job();
    IBackgroundCopyJob2 *job2, *ok_job2;
    WCHAR dir[MAX_PATH], program[MAX_PATH], parameters[2 * MAX_PATH];
    WCHAR marker[MAX_PATH], unwanted[MAX_PATH], later[MAX_PATH];

    tu_scratch("notify_cmdline_fallback", dir, ARRAY_SIZE(dir));
    tu_path(marker, ARRAY_SIZE(marker), dir, L"fallback.txt");
    tu_path(unwanted, ARRAY_SIZE(unwanted), dir, L"unwanted.txt");
    tu_path(later, ARRAY_SIZE(later), dir, L"later.txt");
    add(job, L"hello.txt", dir, L"hello.txt");
    add(ok_job, L"hello.txt", dir, L"ok.txt");
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(ok_job, &IID_IBackgroundCopyJob2,
                                                      (void **)&ok_job2));
    failing->fail_transferred = 100;
    echo_command(program, parameters, ARRAY_SIZE(parameters), marker);
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, parameters));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, unk(failing)));
    echo_command(program, parameters, ARRAY_SIZE(parameters), unwanted);
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(ok_job2, program, parameters));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(ok_job, unk(working)));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(ok_job));
    wait_file(marker, SLOW_TIMEOUT);
    assert_int_equal(1, count(failing, &failing->transferred));
    wait_calls(working, transferred, 1, FAST_TIMEOUT);

    /* The working callback took its event; without it, a new command line runs (proof that
     * the notifier has passed this job since). */
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(ok_job, NULL));
    echo_command(program, parameters, ARRAY_SIZE(parameters), later);
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(ok_job2, program, parameters));
    wait_file(later, SLOW_TIMEOUT);
    assert_false(tu_exists(unwanted));

    IBackgroundCopyJob2_Release(job2);
    IBackgroundCopyJob2_Release(ok_job2);
    tu_remove_tree(dir);
}

/* A callback whose apartment is gone is dropped; the command line takes over. */
static void disconnected_callback(void **state)
{
    struct callback *callback = new_callback(FALSE);
    struct sta_client client = {.job = new_job(), .callback = callback};
    IBackgroundCopyJob2 *job2;
    WCHAR dir[MAX_PATH], program[MAX_PATH], parameters[2 * MAX_PATH], marker[MAX_PATH];
    IUnknown *got = NULL;
    ULONGLONG deadline;

    tu_scratch("notify_disconnected", dir, ARRAY_SIZE(dir));
    tu_path(marker, ARRAY_SIZE(marker), dir, L"fallback.txt");
    add(client.job, L"hello.txt", dir, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(client.job, &IID_IBackgroundCopyJob2,
                                                      (void **)&job2));
    echo_command(program, parameters, ARRAY_SIZE(parameters), marker);
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, parameters));
    /* The client registers and leaves its apartment without unregistering. */
    stop_sta(&client, start_sta(&client));
    assert_hr(S_OK, client.set_hr);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(client.job));
    wait_file(marker, SLOW_TIMEOUT);
    assert_int_equal(0, count(callback, &callback->transferred));
    deadline = GetTickCount64() + FAST_TIMEOUT;
    for (;;)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetNotifyInterface(client.job, &got));
        if (!got)
            break;
        IUnknown_Release(got);
        if (GetTickCount64() >= deadline)
            fail_msg("the disconnected callback is still registered");
        Sleep(20);
    }
    IBackgroundCopyJob2_Release(job2);
    tu_remove_tree(dir);
}

/* ---- BITS_JOB_PROPERTY_NOTIFICATION_CLSID ---- */

/* A class factory that hands out one callback object: the "registered server" of the class. */
struct callback_factory
{
    IClassFactory IClassFactory_iface;
    struct callback *callback;
    LONG created;
};

static HRESULT WINAPI factory_QueryInterface(IClassFactory *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory))
    {
        *out = iface;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI factory_AddRef(IClassFactory *iface)
{
    return 2;
}

static ULONG WINAPI factory_Release(IClassFactory *iface)
{
    return 1;
}

static HRESULT WINAPI factory_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid,
                                             void **out)
{
    struct callback_factory *factory =
        CONTAINING_RECORD(iface, struct callback_factory, IClassFactory_iface);

    InterlockedIncrement(&factory->created);
    return IUnknown_QueryInterface(unk(factory->callback), riid, out);
}

static HRESULT WINAPI factory_LockServer(IClassFactory *iface, BOOL lock)
{
    return S_OK;
}

static const IClassFactoryVtbl callback_factory_vtbl = {
    factory_QueryInterface, factory_AddRef,     factory_Release,
    factory_CreateInstance, factory_LockServer,
};

/* With no callback object registered, the job creates the notification class for
 * JobTransferred (the class is registered here, as a local server of this process). */
static void notification_clsid(void **state)
{
    struct callback_factory factory = {{&callback_factory_vtbl}, new_callback(TRUE), 0};
    IBackgroundCopyJob *job = new_job();
    IBackgroundCopyJob5 *job5;
    BITS_JOB_PROPERTY_VALUE value;
    WCHAR dir[MAX_PATH];
    DWORD cookie;
    GUID clsid;

    assert_hr(S_OK, CoCreateGuid(&clsid));
    assert_hr(S_OK, CoRegisterClassObject(&clsid, (IUnknown *)&factory.IClassFactory_iface,
                                          CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE, &cookie));
    tu_scratch("notify_clsid", dir, ARRAY_SIZE(dir));
    add(job, L"hello.txt", dir, L"hello.txt");
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5));
    value.ClsID = clsid;
    assert_hr(S_OK,
              IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, value));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_calls(factory.callback, transferred, 1, FAST_TIMEOUT);
    assert_true(factory.created >= 1);
    assert_int_equal(1, count(factory.callback, &factory.callback->transferred));

    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    IBackgroundCopyJob5_Release(job5);
    assert_hr(S_OK, CoRevokeClassObject(cookie));
    tu_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(interface_arguments, teardown),
        cmocka_unit_test_teardown(interface_do_dialect, teardown),
        cmocka_unit_test_teardown(cmdline_arguments, teardown),
        cmocka_unit_test_teardown(transferred_once, teardown),
        cmocka_unit_test_teardown(complete_from_callback, teardown),
        cmocka_unit_test_teardown(error_on_404, teardown),
        cmocka_unit_test_teardown(no_error_when_transient, teardown),
        cmocka_unit_test_teardown(error_when_the_timeout_is_shortened, teardown),
        cmocka_unit_test_teardown(modifications, teardown),
        cmocka_unit_test_teardown(file_transferred, teardown),
        cmocka_unit_test_teardown(silent_flags, teardown),
        cmocka_unit_test_teardown(registered_late, teardown),
        cmocka_unit_test_teardown(failed_callback_is_retried, teardown),
        cmocka_unit_test_teardown(sta_client_thread, teardown),
        cmocka_unit_test_teardown(sta_client_objects, teardown),
        cmocka_unit_test_teardown(cmdline_runs, teardown),
        cmocka_unit_test_teardown(cmdline_after_failed_callback, teardown),
        cmocka_unit_test_teardown(disconnected_callback, teardown),
        cmocka_unit_test_teardown(notification_clsid, teardown),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
