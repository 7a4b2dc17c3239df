/* SPDX-License-Identifier: MIT */
/* Enumerators over a fixed array of interface pointers: IEnumBackgroundCopyFiles,
 * IEnumBackgroundCopyJobs and IEnumUnknown (IDOManager::EnumDownloads) share one implementation
 * and differ only in their vtables. */
#include "private.h"

struct enumerator
{
    IEnumBackgroundCopyFiles IEnumBackgroundCopyFiles_iface;
    IEnumBackgroundCopyJobs IEnumBackgroundCopyJobs_iface;
    IEnumUnknown IEnumUnknown_iface;
    const IID *iid; /* which of the three interfaces this enumerator is */
    LONG refs;
    IUnknown *ftm;
    IUnknown **items; /* owned references */
    ULONG count;
    LONG position; /* shared by Next/Skip/Reset; atomic updates */
};

static HRESULT enumerator_create(const IID *iid, IUnknown **items, ULONG count, ULONG position,
                                 struct enumerator **out);

static HRESULT enumerator_query(struct enumerator *e, IUnknown *self, REFIID riid, void **out)
{
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, e->iid))
    {
        *out = self;
        IUnknown_AddRef(self);
        return S_OK;
    }
    if (IsEqualIID(riid, &IID_IMarshal))
        return ftm_query(self, &e->ftm, riid, out);
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG enumerator_release(struct enumerator *e)
{
    ULONG refs = InterlockedDecrement(&e->refs);

    if (!refs)
    {
        for (ULONG i = 0; i < e->count; i++)
            IUnknown_Release(e->items[i]);
        heap_free(e->items);
        ftm_release(&e->ftm);
        heap_free(e);
        object_unlock();
    }
    return refs;
}

/* Claims up to `wanted` items from the current position; returns the first claimed index. */
static ULONG claim(struct enumerator *e, ULONG wanted, ULONG *got)
{
    LONG start, end;

    do
    {
        start = e->position;
        /* Count what is left rather than add to the position: a huge `wanted` must not wrap. */
        if ((ULONG)start >= e->count)
            end = start;
        else
            end = start + (LONG)min(wanted, e->count - (ULONG)start);
    } while (InterlockedCompareExchange(&e->position, end, start) != start);
    *got = end - start;
    return start;
}

static HRESULT enumerator_next(struct enumerator *e, ULONG wanted, IUnknown **items, ULONG *fetched)
{
    ULONG first, got;

    if (!items || (wanted != 1 && !fetched))
        return E_INVALIDARG;
    if (fetched)
        *fetched = 0;
    first = claim(e, wanted, &got);
    for (ULONG i = 0; i < got; i++)
    {
        items[i] = e->items[first + i];
        IUnknown_AddRef(items[i]);
    }
    if (fetched)
        *fetched = got;
    return got == wanted ? S_OK : S_FALSE;
}

static HRESULT enumerator_skip(struct enumerator *e, ULONG wanted)
{
    ULONG got;

    claim(e, wanted, &got);
    return got == wanted ? S_OK : S_FALSE;
}

/* ---- IEnumBackgroundCopyFiles ---- */

static inline struct enumerator *impl_from_IEnumBackgroundCopyFiles(IEnumBackgroundCopyFiles *iface)
{
    return CONTAINING_RECORD(iface, struct enumerator, IEnumBackgroundCopyFiles_iface);
}

static HRESULT WINAPI files_QueryInterface(IEnumBackgroundCopyFiles *iface, REFIID riid, void **out)
{
    return enumerator_query(impl_from_IEnumBackgroundCopyFiles(iface), (IUnknown *)iface, riid,
                            out);
}

static ULONG WINAPI files_AddRef(IEnumBackgroundCopyFiles *iface)
{
    return InterlockedIncrement(&impl_from_IEnumBackgroundCopyFiles(iface)->refs);
}

static ULONG WINAPI files_Release(IEnumBackgroundCopyFiles *iface)
{
    return enumerator_release(impl_from_IEnumBackgroundCopyFiles(iface));
}

static HRESULT WINAPI files_Next(IEnumBackgroundCopyFiles *iface, ULONG count,
                                 IBackgroundCopyFile **items, ULONG *fetched)
{
    TRACE("%p %lu %p %p", iface, count, items, fetched);
    return enumerator_next(impl_from_IEnumBackgroundCopyFiles(iface), count, (IUnknown **)items,
                           fetched);
}

static HRESULT WINAPI files_Skip(IEnumBackgroundCopyFiles *iface, ULONG count)
{
    TRACE("%p %lu", iface, count);
    return enumerator_skip(impl_from_IEnumBackgroundCopyFiles(iface), count);
}

static HRESULT WINAPI files_Reset(IEnumBackgroundCopyFiles *iface)
{
    TRACE("%p", iface);
    InterlockedExchange(&impl_from_IEnumBackgroundCopyFiles(iface)->position, 0);
    return S_OK;
}

static HRESULT WINAPI files_Clone(IEnumBackgroundCopyFiles *iface, IEnumBackgroundCopyFiles **out)
{
    struct enumerator *e = impl_from_IEnumBackgroundCopyFiles(iface), *clone;
    HRESULT hr;

    TRACE("%p %p", iface, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if (FAILED(hr = enumerator_create(e->iid, e->items, e->count, e->position, &clone)))
        return hr;
    *out = &clone->IEnumBackgroundCopyFiles_iface;
    return S_OK;
}

static HRESULT WINAPI files_GetCount(IEnumBackgroundCopyFiles *iface, ULONG *count)
{
    TRACE("%p %p", iface, count);
    if (!count)
        return E_INVALIDARG;
    *count = impl_from_IEnumBackgroundCopyFiles(iface)->count;
    return S_OK;
}

static const IEnumBackgroundCopyFilesVtbl files_vtbl = {
    files_QueryInterface, files_AddRef, files_Release, files_Next,
    files_Skip,           files_Reset,  files_Clone,   files_GetCount,
};

/* ---- IEnumBackgroundCopyJobs ---- */

static inline struct enumerator *impl_from_IEnumBackgroundCopyJobs(IEnumBackgroundCopyJobs *iface)
{
    return CONTAINING_RECORD(iface, struct enumerator, IEnumBackgroundCopyJobs_iface);
}

static HRESULT WINAPI jobs_QueryInterface(IEnumBackgroundCopyJobs *iface, REFIID riid, void **out)
{
    return enumerator_query(impl_from_IEnumBackgroundCopyJobs(iface), (IUnknown *)iface, riid, out);
}

static ULONG WINAPI jobs_AddRef(IEnumBackgroundCopyJobs *iface)
{
    return InterlockedIncrement(&impl_from_IEnumBackgroundCopyJobs(iface)->refs);
}

static ULONG WINAPI jobs_Release(IEnumBackgroundCopyJobs *iface)
{
    return enumerator_release(impl_from_IEnumBackgroundCopyJobs(iface));
}

static HRESULT WINAPI jobs_Next(IEnumBackgroundCopyJobs *iface, ULONG count,
                                IBackgroundCopyJob **items, ULONG *fetched)
{
    TRACE("%p %lu %p %p", iface, count, items, fetched);
    return enumerator_next(impl_from_IEnumBackgroundCopyJobs(iface), count, (IUnknown **)items,
                           fetched);
}

static HRESULT WINAPI jobs_Skip(IEnumBackgroundCopyJobs *iface, ULONG count)
{
    TRACE("%p %lu", iface, count);
    return enumerator_skip(impl_from_IEnumBackgroundCopyJobs(iface), count);
}

static HRESULT WINAPI jobs_Reset(IEnumBackgroundCopyJobs *iface)
{
    TRACE("%p", iface);
    InterlockedExchange(&impl_from_IEnumBackgroundCopyJobs(iface)->position, 0);
    return S_OK;
}

static HRESULT WINAPI jobs_Clone(IEnumBackgroundCopyJobs *iface, IEnumBackgroundCopyJobs **out)
{
    struct enumerator *e = impl_from_IEnumBackgroundCopyJobs(iface), *clone;
    HRESULT hr;

    TRACE("%p %p", iface, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if (FAILED(hr = enumerator_create(e->iid, e->items, e->count, e->position, &clone)))
        return hr;
    *out = &clone->IEnumBackgroundCopyJobs_iface;
    return S_OK;
}

static HRESULT WINAPI jobs_GetCount(IEnumBackgroundCopyJobs *iface, ULONG *count)
{
    TRACE("%p %p", iface, count);
    if (!count)
        return E_INVALIDARG;
    *count = impl_from_IEnumBackgroundCopyJobs(iface)->count;
    return S_OK;
}

static const IEnumBackgroundCopyJobsVtbl jobs_vtbl = {
    jobs_QueryInterface, jobs_AddRef, jobs_Release, jobs_Next,
    jobs_Skip,           jobs_Reset,  jobs_Clone,   jobs_GetCount,
};

/* ---- IEnumUnknown ---- */

static inline struct enumerator *impl_from_IEnumUnknown(IEnumUnknown *iface)
{
    return CONTAINING_RECORD(iface, struct enumerator, IEnumUnknown_iface);
}

static HRESULT WINAPI unknowns_QueryInterface(IEnumUnknown *iface, REFIID riid, void **out)
{
    return enumerator_query(impl_from_IEnumUnknown(iface), (IUnknown *)iface, riid, out);
}

static ULONG WINAPI unknowns_AddRef(IEnumUnknown *iface)
{
    return InterlockedIncrement(&impl_from_IEnumUnknown(iface)->refs);
}

static ULONG WINAPI unknowns_Release(IEnumUnknown *iface)
{
    return enumerator_release(impl_from_IEnumUnknown(iface));
}

static HRESULT WINAPI unknowns_Next(IEnumUnknown *iface, ULONG count, IUnknown **items,
                                    ULONG *fetched)
{
    TRACE("%p %lu %p %p", iface, count, items, fetched);
    return enumerator_next(impl_from_IEnumUnknown(iface), count, items, fetched);
}

static HRESULT WINAPI unknowns_Skip(IEnumUnknown *iface, ULONG count)
{
    TRACE("%p %lu", iface, count);
    return enumerator_skip(impl_from_IEnumUnknown(iface), count);
}

static HRESULT WINAPI unknowns_Reset(IEnumUnknown *iface)
{
    TRACE("%p", iface);
    InterlockedExchange(&impl_from_IEnumUnknown(iface)->position, 0);
    return S_OK;
}

static HRESULT WINAPI unknowns_Clone(IEnumUnknown *iface, IEnumUnknown **out)
{
    struct enumerator *e = impl_from_IEnumUnknown(iface), *clone;
    HRESULT hr;

    TRACE("%p %p", iface, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if (FAILED(hr = enumerator_create(e->iid, e->items, e->count, e->position, &clone)))
        return hr;
    *out = &clone->IEnumUnknown_iface;
    return S_OK;
}

static const IEnumUnknownVtbl unknowns_vtbl = {
    unknowns_QueryInterface, unknowns_AddRef, unknowns_Release, unknowns_Next,
    unknowns_Skip,           unknowns_Reset,  unknowns_Clone,
};

static HRESULT enumerator_create(const IID *iid, IUnknown **items, ULONG count, ULONG position,
                                 struct enumerator **out)
{
    struct enumerator *e;

    if (!(e = heap_alloc_zero(sizeof(*e))))
        return E_OUTOFMEMORY;
    if (count && !(e->items = HeapAlloc(GetProcessHeap(), 0, count * sizeof(*items))))
    {
        heap_free(e);
        return E_OUTOFMEMORY;
    }
    e->IEnumBackgroundCopyFiles_iface.lpVtbl = &files_vtbl;
    e->IEnumBackgroundCopyJobs_iface.lpVtbl = &jobs_vtbl;
    e->IEnumUnknown_iface.lpVtbl = &unknowns_vtbl;
    e->iid = iid;
    e->refs = 1;
    e->count = count;
    e->position = position;
    for (ULONG i = 0; i < count; i++)
    {
        e->items[i] = items[i];
        IUnknown_AddRef(items[i]);
    }
    object_lock();
    *out = e;
    return S_OK;
}

HRESULT enum_files_create(IBackgroundCopyFile **files, ULONG count, IEnumBackgroundCopyFiles **out)
{
    struct enumerator *e;
    HRESULT hr;

    if (FAILED(hr = enumerator_create(&IID_IEnumBackgroundCopyFiles, (IUnknown **)files, count, 0,
                                      &e)))
        return hr;
    *out = &e->IEnumBackgroundCopyFiles_iface;
    return S_OK;
}

HRESULT enum_jobs_create(IBackgroundCopyJob **jobs, ULONG count, IEnumBackgroundCopyJobs **out)
{
    struct enumerator *e;
    HRESULT hr;

    if (FAILED(
            hr = enumerator_create(&IID_IEnumBackgroundCopyJobs, (IUnknown **)jobs, count, 0, &e)))
        return hr;
    *out = &e->IEnumBackgroundCopyJobs_iface;
    return S_OK;
}

HRESULT enum_unknown_create(IUnknown **items, ULONG count, IEnumUnknown **out)
{
    struct enumerator *e;
    HRESULT hr;

    if (FAILED(hr = enumerator_create(&IID_IEnumUnknown, items, count, 0, &e)))
        return hr;
    *out = &e->IEnumUnknown_iface;
    return S_OK;
}
