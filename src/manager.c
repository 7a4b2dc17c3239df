/* SPDX-License-Identifier: MIT */
/* IBackgroundCopyManager and the process-wide table of live jobs; IOpenDOManager for scripts;
 * IDOManager, the modern DO API. */
#include "engine/engine.h"
#include "automation.h"

#define MAX_DISPLAY_NAME 256
#define DO_RETENTION_DAYS 30

struct manager
{
    IBackgroundCopyManager IBackgroundCopyManager_iface;
    IDOManager IDOManager_iface;      /* the modern DO API (download.c) */
    struct manager_dispatch dispatch; /* IDispatch, IOpenDOManager, ISupportErrorInfo */
    LONG refs;
    IUnknown *ftm;
    enum dialect dialect;
};

static inline struct manager *impl_from_IBackgroundCopyManager(IBackgroundCopyManager *iface)
{
    return CONTAINING_RECORD(iface, struct manager, IBackgroundCopyManager_iface);
}

static HRESULT WINAPI manager_QueryInterface(IBackgroundCopyManager *iface, REFIID riid, void **out)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);

    TRACE("%p %s %p", iface, debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyManager))
    {
        *out = iface;
        IBackgroundCopyManager_AddRef(iface);
        return S_OK;
    }
    /* Both classes serve the modern API: it has DO's codes whichever class was created. */
    if (IsEqualIID(riid, &IID_IDOManager))
    {
        *out = &manager->IDOManager_iface;
        IBackgroundCopyManager_AddRef(iface);
        return S_OK;
    }
    /* Scripts: CreateObject("OpenDO.Manager") hands them this object's IDispatch. */
    if (automation_manager_query(&manager->dispatch, riid, out) == S_OK)
        return S_OK;
    if (IsEqualIID(riid, &IID_IMarshal))
        return ftm_query((IUnknown *)iface, &manager->ftm, riid, out);
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI manager_AddRef(IBackgroundCopyManager *iface)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    return InterlockedIncrement(&manager->refs);
}

static ULONG WINAPI manager_Release(IBackgroundCopyManager *iface)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    ULONG refs = InterlockedDecrement(&manager->refs);

    if (!refs)
    {
        ftm_release(&manager->ftm);
        heap_free(manager);
        /* A client that lets go of its manager may be about to exit: what it changed is on
         * disk before this returns. */
        store_flush();
        object_unlock();
    }
    return refs;
}

static HRESULT WINAPI manager_CreateJob(IBackgroundCopyManager *iface, LPCWSTR name,
                                        BG_JOB_TYPE type, GUID *id, IBackgroundCopyJob **out)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    IBackgroundCopyJob *job;
    struct ejob *ejob;
    HRESULT hr;

    TRACE("%p %s %d %p %p", iface, debugstr_w(name), type, id, out);
    if (out)
        *out = NULL;
    if (!name || !id || !out)
        return E_INVALIDARG;
    if (wcslen(name) > MAX_DISPLAY_NAME)
        return E_INVALIDARG;
    if (type != BG_JOB_TYPE_DOWNLOAD)
    {
        /* Every job is a download job: no other method needs to check the type. */
        FIXME("upload job types are not supported (type %d)", type);
        return E_NOTIMPL;
    }
    if (FAILED(hr = engine_create_job(name, type,
                                      manager->dialect == DIALECT_DO
                                          ? do_default_no_progress_timeout(BG_JOB_PRIORITY_NORMAL)
                                          : 0,
                                      &ejob)))
        return hr;
    if (manager->dialect == DIALECT_DO)
    {
        /* DO drops jobs after 30 days without change (BITS: 90, the engine's default). */
        AcquireSRWLockExclusive(&ejob->lock);
        ejob->retention_days = DO_RETENTION_DAYS;
        store_mark_dirty(ejob);
        ReleaseSRWLockExclusive(&ejob->lock);
    }
    if (FAILED(hr = job_create(ejob, manager->dialect, &job)))
    {
        /* Nobody saw the job: it goes as it came. */
        ejob_cancel(ejob);
        ejob_release(ejob);
        return hr;
    }
    *id = ejob->id;
    *out = job;
    ejob_release(ejob);
    return S_OK;
}

static HRESULT WINAPI manager_GetJob(IBackgroundCopyManager *iface, REFGUID id,
                                     IBackgroundCopyJob **out)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    struct ejob *found;
    HRESULT hr;

    TRACE("%p %s %p", iface, debugstr_guid(id), out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if (!id)
        return E_INVALIDARG;
    if (FAILED(hr = engine_get_job(id, &found)))
        return dialect_result(manager->dialect, hr);
    hr = job_create(found, manager->dialect, out);
    ejob_release(found);
    return hr;
}

static HRESULT WINAPI manager_EnumJobs(IBackgroundCopyManager *iface, DWORD flags,
                                       IEnumBackgroundCopyJobs **out)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    IBackgroundCopyJob **jobs = NULL;
    struct ejob **snapshot;
    ULONG count, made = 0;
    HRESULT hr;

    TRACE("%p %#lx %p", iface, flags, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if (flags & ~BG_JOB_ENUM_ALL_USERS)
        return E_INVALIDARG;
    /* As BITS: the jobs of every user are for administrators. */
    if ((flags & BG_JOB_ENUM_ALL_USERS) && !owner_caller_is_admin())
        return E_ACCESSDENIED;

    if (FAILED(hr = engine_enum_jobs(&snapshot, &count)))
        return hr;
    if (count && !(jobs = heap_alloc_zero(count * sizeof(*jobs))))
        hr = E_OUTOFMEMORY;
    for (ULONG i = 0; i < count; i++)
    {
        /* Downloads of the modern API are IDOManager's: a BITS client could not drive them. */
        if (SUCCEEDED(hr) && !snapshot[i]->download.present)
        {
            BOOL final;
            AcquireSRWLockShared(&snapshot[i]->lock);
            final = ejob_is_final(snapshot[i]);
            ReleaseSRWLockShared(&snapshot[i]->lock);
            if (!final && SUCCEEDED(hr = job_create(snapshot[i], manager->dialect, &jobs[made])))
                made++;
        }
        ejob_release(snapshot[i]);
    }
    heap_free(snapshot);
    if (SUCCEEDED(hr))
        hr = enum_jobs_create(jobs, made, out);
    for (ULONG i = 0; i < made; i++)
        IBackgroundCopyJob_Release(jobs[i]);
    heap_free(jobs);
    return hr;
}

static HRESULT WINAPI manager_GetErrorDescription(IBackgroundCopyManager *iface, HRESULT code,
                                                  DWORD langid, LPWSTR *description)
{
    TRACE("%p %08lx %#lx %p", iface, code, langid, description);
    if (!description)
        return E_INVALIDARG;
    return errordesc_get(code, langid, description);
}

static const IBackgroundCopyManagerVtbl manager_vtbl = {
    manager_QueryInterface,      manager_AddRef, manager_Release,
    manager_CreateJob,           manager_GetJob, manager_EnumJobs,
    manager_GetErrorDescription,
};

/* ---- IDOManager ---- */

static inline struct manager *impl_from_IDOManager(IDOManager *iface)
{
    return CONTAINING_RECORD(iface, struct manager, IDOManager_iface);
}

static HRESULT WINAPI do_manager_QueryInterface(IDOManager *iface, REFIID riid, void **out)
{
    struct manager *manager = impl_from_IDOManager(iface);
    return IBackgroundCopyManager_QueryInterface(&manager->IBackgroundCopyManager_iface, riid, out);
}

static ULONG WINAPI do_manager_AddRef(IDOManager *iface)
{
    struct manager *manager = impl_from_IDOManager(iface);
    return IBackgroundCopyManager_AddRef(&manager->IBackgroundCopyManager_iface);
}

static ULONG WINAPI do_manager_Release(IDOManager *iface)
{
    struct manager *manager = impl_from_IDOManager(iface);
    return IBackgroundCopyManager_Release(&manager->IBackgroundCopyManager_iface);
}

static HRESULT WINAPI do_manager_CreateDownload(IDOManager *iface, IDODownload **out)
{
    TRACE("%p %p", iface, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    return download_new(out);
}

static HRESULT WINAPI do_manager_EnumDownloads(IDOManager *iface,
                                               const DO_DOWNLOAD_ENUM_CATEGORY *category,
                                               IEnumUnknown **out)
{
    TRACE("%p %p %p", iface, category, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    return download_enum(category, out);
}

static const IDOManagerVtbl do_manager_vtbl = {
    do_manager_QueryInterface, do_manager_AddRef,        do_manager_Release,
    do_manager_CreateDownload, do_manager_EnumDownloads,
};

HRESULT manager_create(enum dialect dialect, REFIID riid, void **out)
{
    struct manager *manager;
    HRESULT hr;

    if (!(manager = heap_alloc_zero(sizeof(*manager))))
        return E_OUTOFMEMORY;
    manager->IBackgroundCopyManager_iface.lpVtbl = &manager_vtbl;
    manager->IDOManager_iface.lpVtbl = &do_manager_vtbl;
    automation_manager_init(&manager->dispatch, &manager->IBackgroundCopyManager_iface);
    manager->refs = 1;
    manager->dialect = dialect;
    object_lock();
    /* Before the first job exists: its events go through the COM layer. */
    callback_init();
    /* The jobs waiting in the store are found, and go on, when a client makes a manager. */
    engine_init();
    hr = IBackgroundCopyManager_QueryInterface(&manager->IBackgroundCopyManager_iface, riid, out);
    IBackgroundCopyManager_Release(&manager->IBackgroundCopyManager_iface);
    return hr;
}
