/* SPDX-License-Identifier: MIT */
/* The automation interfaces for scripts (IOpenDOManager, IOpenDOJob, IOpenDOFile,
 * IOpenDOCollection), the IEnumVARIANT behind For Each, and the errors scripts see. */

/*
 * Scripts call IDispatch. GetIDsOfNames and Invoke go to the type library embedded in the DLL
 * (loaded once per process from the module's own TYPELIB resource, never from the registry),
 * whose ITypeInfo_Invoke calls the dual interface's vtable methods below. Those do no work of
 * their own: each calls the vtable object's method (manager.c, job.c, file.c) and converts
 * types, so the checks, locks and dialect of those objects hold for scripts too.
 *
 * Objects: the manager object embeds its automation face (struct manager_dispatch), so the
 * object that CreateObject("OpenDO.Manager") returns answers IDispatch. Jobs and files that
 * scripts see are small objects of their own wrapping a counted IBackgroundCopyJob5 or
 * IBackgroundCopyFile5 (the vtable objects keep their interfaces exactly as they were). A
 * collection holds a snapshot of such objects taken when the property was read; its
 * enumerators share it.
 *
 * Errors: a method that fails records an IErrorInfo (SetErrorInfo) with the text of its code
 * (errordesc.c: our message table, HTTP statuses, the system's messages) and returns the code;
 * ITypeInfo_Invoke turns that into DISP_E_EXCEPTION with an EXCEPINFO, which VBScript shows as
 * Err.Number and Err.Description and JScript as the exception's number and description.
 *
 * Sizes: VBScript has no 64-bit integers, so byte counts are doubles (VT_R8): exact up to
 * 2^53 bytes (8 PiB); a size that is not known yet (BG_SIZE_UNKNOWN) is -1.
 */

#include <stdint.h>
#include <stdio.h>
#include "automation.h"

/* ---- the type library ---- */

static const IID *const typeinfo_iids[] = {
    &IID_IOpenDOManager,
    &IID_IOpenDOJob,
    &IID_IOpenDOFile,
    &IID_IOpenDOCollection,
};

/* Loaded on first use and kept for the life of the process: the type library does not run our
 * code, and a script may hold a type info (PowerShell's Get-Member) past any of our objects. */
static ITypeLib *typelib;
static ITypeInfo *typeinfos[ARRAY_SIZE(typeinfo_iids)];

/* The type info of a dual interface (its dispatch description), AddRef'ed. */
static HRESULT get_typeinfo(const IID *iid, ITypeInfo **out)
{
    WCHAR path[MAX_PATH];
    ITypeLib *loaded;
    ITypeInfo *info;
    size_t i;
    HRESULT hr;

    *out = NULL;
    for (i = 0; i < ARRAY_SIZE(typeinfo_iids) && !IsEqualIID(iid, typeinfo_iids[i]); i++)
        ;
    if (i == ARRAY_SIZE(typeinfo_iids))
        return E_NOINTERFACE;
    if (!typeinfos[i])
    {
        if (!typelib)
        {
            if (!GetModuleFileNameW(module_handle(), path, ARRAY_SIZE(path)) ||
                GetLastError() == ERROR_INSUFFICIENT_BUFFER)
                return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
            if (FAILED(hr = LoadTypeLibEx(path, REGKIND_NONE, &loaded)))
            {
                ERR("cannot load the type library of %s: %08lx", debugstr_w(path), hr);
                return hr;
            }
            if (InterlockedCompareExchangePointer((void **)&typelib, loaded, NULL))
                ITypeLib_Release(loaded);
        }
        if (FAILED(hr = ITypeLib_GetTypeInfoOfGuid(typelib, iid, &info)))
            return hr;
        if (InterlockedCompareExchangePointer((void **)&typeinfos[i], info, NULL))
            ITypeInfo_Release(info);
    }
    *out = typeinfos[i];
    ITypeInfo_AddRef(*out);
    return S_OK;
}

/* ---- errors ---- */

/* Records the error info of a failed call (with `text`, or the code's own description when
 * NULL) and returns hr; success passes unchanged. */
static HRESULT fail_text(struct dispatch *dispatch, HRESULT hr, const WCHAR *text)
{
    ICreateErrorInfo *create;
    IErrorInfo *info;
    WCHAR *described = NULL, fallback[64];

    if (SUCCEEDED(hr))
        return hr;
    if (!text && FAILED(errordesc_get(hr, LANGIDFROMLCID(GetThreadLocale()), &described)))
    {
        swprintf(fallback, ARRAY_SIZE(fallback), L"OpenDO error 0x%08lx.", (unsigned long)hr);
        text = fallback;
    }
    if (SUCCEEDED(CreateErrorInfo(&create)))
    {
        ICreateErrorInfo_SetGUID(create, dispatch->iid);
        ICreateErrorInfo_SetSource(create, (WCHAR *)OPENDO_PROGID);
        ICreateErrorInfo_SetDescription(create, (WCHAR *)(text ? text : described));
        if (SUCCEEDED(ICreateErrorInfo_QueryInterface(create, &IID_IErrorInfo, (void **)&info)))
        {
            SetErrorInfo(0, info);
            IErrorInfo_Release(info);
        }
        ICreateErrorInfo_Release(create);
    }
    CoTaskMemFree(described);
    return hr;
}

static HRESULT fail(struct dispatch *dispatch, HRESULT hr)
{
    return fail_text(dispatch, hr, NULL);
}

/* ---- the common part: IUnknown, IDispatch, ISupportErrorInfo ---- */

static inline struct dispatch *impl_from_IDispatch(IDispatch *iface)
{
    return CONTAINING_RECORD(iface, struct dispatch, IDispatch_iface);
}

static inline struct dispatch *impl_from_ISupportErrorInfo(ISupportErrorInfo *iface)
{
    return CONTAINING_RECORD(iface, struct dispatch, ISupportErrorInfo_iface);
}

/* The interfaces of the automation face itself. */
static HRESULT query_face(struct dispatch *dispatch, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IDispatch) || IsEqualIID(riid, dispatch->iid))
        *out = &dispatch->IDispatch_iface;
    else if (IsEqualIID(riid, &IID_ISupportErrorInfo))
        *out = &dispatch->ISupportErrorInfo_iface;
    else
        return E_NOINTERFACE;
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
}

static HRESULT WINAPI dispatch_QueryInterface(IDispatch *iface, REFIID riid, void **out)
{
    struct dispatch *dispatch = impl_from_IDispatch(iface);

    TRACE("%p %s %p", iface, debugstr_guid(riid), out);
    if (dispatch->outer)
        return IUnknown_QueryInterface(dispatch->outer, riid, out);
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown))
    {
        *out = &dispatch->IDispatch_iface;
        IDispatch_AddRef(iface);
        return S_OK;
    }
    if (SUCCEEDED(query_face(dispatch, riid, out)))
        return S_OK;
    if (IsEqualIID(riid, &IID_IMarshal))
        return ftm_query((IUnknown *)&dispatch->IDispatch_iface, &dispatch->ftm, riid, out);
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI dispatch_AddRef(IDispatch *iface)
{
    struct dispatch *dispatch = impl_from_IDispatch(iface);

    if (dispatch->outer)
        return IUnknown_AddRef(dispatch->outer);
    return InterlockedIncrement(&dispatch->refs);
}

static ULONG WINAPI dispatch_Release(IDispatch *iface)
{
    struct dispatch *dispatch = impl_from_IDispatch(iface);
    ULONG refs;

    if (dispatch->outer)
        return IUnknown_Release(dispatch->outer);
    if (!(refs = InterlockedDecrement(&dispatch->refs)))
    {
        ftm_release(&dispatch->ftm);
        dispatch->destroy(dispatch);
        object_unlock();
    }
    return refs;
}

static HRESULT WINAPI dispatch_GetTypeInfoCount(IDispatch *iface, UINT *count)
{
    TRACE("%p %p", iface, count);
    if (!count)
        return E_INVALIDARG;
    *count = 1;
    return S_OK;
}

static HRESULT WINAPI dispatch_GetTypeInfo(IDispatch *iface, UINT index, LCID lcid, ITypeInfo **out)
{
    struct dispatch *dispatch = impl_from_IDispatch(iface);

    TRACE("%p %u %#lx %p", iface, index, lcid, out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if (index)
        return DISP_E_BADINDEX;
    return get_typeinfo(dispatch->iid, out);
}

static HRESULT WINAPI dispatch_GetIDsOfNames(IDispatch *iface, REFIID riid, LPOLESTR *names,
                                             UINT count, LCID lcid, DISPID *ids)
{
    struct dispatch *dispatch = impl_from_IDispatch(iface);
    ITypeInfo *info;
    HRESULT hr;

    TRACE("%p %s %u %#lx %p", iface, names && count ? debugstr_w(names[0]) : "", count, lcid, ids);
    if (!IsEqualIID(riid, &IID_NULL))
        return DISP_E_UNKNOWNINTERFACE;
    if (!names || !ids)
        return E_INVALIDARG;
    if (FAILED(hr = get_typeinfo(dispatch->iid, &info)))
        return hr;
    hr = ITypeInfo_GetIDsOfNames(info, names, count, ids);
    ITypeInfo_Release(info);
    return hr;
}

static HRESULT WINAPI dispatch_Invoke(IDispatch *iface, DISPID member, REFIID riid, LCID lcid,
                                      WORD flags, DISPPARAMS *params, VARIANT *result,
                                      EXCEPINFO *excepinfo, UINT *argerr)
{
    struct dispatch *dispatch = impl_from_IDispatch(iface);
    ITypeInfo *info;
    HRESULT hr;

    TRACE("%p %ld %#lx %#x %p %p %p %p", iface, member, lcid, flags, params, result, excepinfo,
          argerr);
    if (!IsEqualIID(riid, &IID_NULL))
        return DISP_E_UNKNOWNINTERFACE;
    if (FAILED(hr = get_typeinfo(dispatch->iid, &info)))
        return hr;
    hr = ITypeInfo_Invoke(info, iface, member, flags, params, result, excepinfo, argerr);
    /* Script engines call some properties as methods (JScript's Enumerator asks _NewEnum with
     * DISPATCH_METHOD alone, as can coll.Item(0)): such a call reads the property. */
    if (hr == DISP_E_MEMBERNOTFOUND && flags == DISPATCH_METHOD)
        hr = ITypeInfo_Invoke(info, iface, member, DISPATCH_PROPERTYGET, params, result, excepinfo,
                              argerr);
    ITypeInfo_Release(info);
    return hr;
}

static HRESULT WINAPI support_QueryInterface(ISupportErrorInfo *iface, REFIID riid, void **out)
{
    struct dispatch *dispatch = impl_from_ISupportErrorInfo(iface);
    return dispatch_QueryInterface(&dispatch->IDispatch_iface, riid, out);
}

static ULONG WINAPI support_AddRef(ISupportErrorInfo *iface)
{
    struct dispatch *dispatch = impl_from_ISupportErrorInfo(iface);
    return dispatch_AddRef(&dispatch->IDispatch_iface);
}

static ULONG WINAPI support_Release(ISupportErrorInfo *iface)
{
    struct dispatch *dispatch = impl_from_ISupportErrorInfo(iface);
    return dispatch_Release(&dispatch->IDispatch_iface);
}

static HRESULT WINAPI support_InterfaceSupportsErrorInfo(ISupportErrorInfo *iface, REFIID riid)
{
    struct dispatch *dispatch = impl_from_ISupportErrorInfo(iface);

    TRACE("%p %s", iface, debugstr_guid(riid));
    /* Only the automation methods record error info; the vtable interfaces do not. */
    return IsEqualIID(riid, dispatch->iid) || IsEqualIID(riid, &IID_IDispatch) ? S_OK : S_FALSE;
}

static const ISupportErrorInfoVtbl support_vtbl = {
    support_QueryInterface,
    support_AddRef,
    support_Release,
    support_InterfaceSupportsErrorInfo,
};

/* The first seven methods of a dual interface's vtable, for interface type `type`: they are
 * the common ones above, called through the IDispatch that every dual interface starts with. */
#define DISPATCH_THUNKS(prefix, type)                                                              \
    static HRESULT WINAPI prefix##_QueryInterface(type *iface, REFIID riid, void **out)            \
    {                                                                                              \
        return dispatch_QueryInterface((IDispatch *)iface, riid, out);                             \
    }                                                                                              \
    static ULONG WINAPI prefix##_AddRef(type *iface)                                               \
    {                                                                                              \
        return dispatch_AddRef((IDispatch *)iface);                                                \
    }                                                                                              \
    static ULONG WINAPI prefix##_Release(type *iface)                                              \
    {                                                                                              \
        return dispatch_Release((IDispatch *)iface);                                               \
    }                                                                                              \
    static HRESULT WINAPI prefix##_GetTypeInfoCount(type *iface, UINT *count)                      \
    {                                                                                              \
        return dispatch_GetTypeInfoCount((IDispatch *)iface, count);                               \
    }                                                                                              \
    static HRESULT WINAPI prefix##_GetTypeInfo(type *iface, UINT index, LCID lcid,                 \
                                               ITypeInfo **out)                                    \
    {                                                                                              \
        return dispatch_GetTypeInfo((IDispatch *)iface, index, lcid, out);                         \
    }                                                                                              \
    static HRESULT WINAPI prefix##_GetIDsOfNames(type *iface, REFIID riid, LPOLESTR *names,        \
                                                 UINT count, LCID lcid, DISPID *ids)               \
    {                                                                                              \
        return dispatch_GetIDsOfNames((IDispatch *)iface, riid, names, count, lcid, ids);          \
    }                                                                                              \
    static HRESULT WINAPI prefix##_Invoke(type *iface, DISPID member, REFIID riid, LCID lcid,      \
                                          WORD flags, DISPPARAMS *params, VARIANT *result,         \
                                          EXCEPINFO *excepinfo, UINT *argerr)                      \
    {                                                                                              \
        return dispatch_Invoke((IDispatch *)iface, member, riid, lcid, flags, params, result,      \
                               excepinfo, argerr);                                                 \
    }

#define DISPATCH_VTBL_ENTRIES(prefix)                                                              \
    prefix##_QueryInterface, prefix##_AddRef, prefix##_Release, prefix##_GetTypeInfoCount,         \
        prefix##_GetTypeInfo, prefix##_GetIDsOfNames, prefix##_Invoke

/* Sets up an automation object of its own (one reference, counted as a client's object). */
static void dispatch_init(struct dispatch *dispatch, const IID *iid,
                          void (*destroy)(struct dispatch *dispatch))
{
    dispatch->ISupportErrorInfo_iface.lpVtbl = &support_vtbl;
    dispatch->iid = iid;
    dispatch->refs = 1;
    dispatch->destroy = destroy;
    object_lock();
}

/* ---- conversions ---- */

/* A BSTR as a string: NULL is the empty string. */
static const WCHAR *text(BSTR s)
{
    return s ? s : L"";
}

/* Turns a CoTaskMemAlloc'ed string (hr: what produced it) into a BSTR, freeing it. */
static HRESULT to_bstr(HRESULT hr, WCHAR *s, BSTR *out)
{
    if (SUCCEEDED(hr) && !(*out = SysAllocString(s ? s : L"")))
        hr = E_OUTOFMEMORY;
    CoTaskMemFree(s);
    return hr;
}

/* A byte count for scripts: exact up to 2^53, -1 for a size not known. */
static double size_value(UINT64 size)
{
    return size == BG_SIZE_UNKNOWN ? -1.0 : (double)size;
}

/* ---- collections and their enumerators ---- */

struct collection
{
    struct dispatch dispatch;
    ULONG count;
    IDispatch *items[]; /* counted; never change after the collection is made */
};

struct enumerator
{
    IEnumVARIANT IEnumVARIANT_iface;
    LONG refs;
    IUnknown *ftm;
    struct collection *collection; /* counted */
    SRWLOCK lock;
    ULONG position; /* guarded by lock */
};

static inline struct collection *impl_from_IOpenDOCollection(IOpenDOCollection *iface)
{
    return CONTAINING_RECORD(iface, struct collection, dispatch.IOpenDOCollection_iface);
}

static inline struct enumerator *impl_from_IEnumVARIANT(IEnumVARIANT *iface)
{
    return CONTAINING_RECORD(iface, struct enumerator, IEnumVARIANT_iface);
}

static HRESULT enumerator_create(struct collection *collection, ULONG position, IEnumVARIANT **out);

static HRESULT WINAPI enumerator_QueryInterface(IEnumVARIANT *iface, REFIID riid, void **out)
{
    struct enumerator *enumerator = impl_from_IEnumVARIANT(iface);

    TRACE("%p %s %p", iface, debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IEnumVARIANT))
    {
        *out = iface;
        IEnumVARIANT_AddRef(iface);
        return S_OK;
    }
    if (IsEqualIID(riid, &IID_IMarshal))
        return ftm_query((IUnknown *)iface, &enumerator->ftm, riid, out);
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI enumerator_AddRef(IEnumVARIANT *iface)
{
    struct enumerator *enumerator = impl_from_IEnumVARIANT(iface);
    return InterlockedIncrement(&enumerator->refs);
}

static ULONG WINAPI enumerator_Release(IEnumVARIANT *iface)
{
    struct enumerator *enumerator = impl_from_IEnumVARIANT(iface);
    ULONG refs = InterlockedDecrement(&enumerator->refs);

    if (!refs)
    {
        ftm_release(&enumerator->ftm);
        IOpenDOCollection_Release(&enumerator->collection->dispatch.IOpenDOCollection_iface);
        heap_free(enumerator);
        object_unlock();
    }
    return refs;
}

static HRESULT WINAPI enumerator_Next(IEnumVARIANT *iface, ULONG count, VARIANT *items,
                                      ULONG *fetched)
{
    struct enumerator *enumerator = impl_from_IEnumVARIANT(iface);
    struct collection *collection = enumerator->collection;
    ULONG done = 0;

    TRACE("%p %lu %p %p", iface, count, items, fetched);
    if (fetched)
        *fetched = 0;
    if (!count)
        return S_OK;
    if (!items)
        return E_INVALIDARG;
    AcquireSRWLockExclusive(&enumerator->lock);
    for (; done < count && enumerator->position < collection->count; done++)
    {
        VariantInit(&items[done]);
        V_VT(&items[done]) = VT_DISPATCH;
        V_DISPATCH(&items[done]) = collection->items[enumerator->position++];
        IDispatch_AddRef(V_DISPATCH(&items[done]));
    }
    ReleaseSRWLockExclusive(&enumerator->lock);
    if (fetched)
        *fetched = done;
    return done == count ? S_OK : S_FALSE;
}

static HRESULT WINAPI enumerator_Skip(IEnumVARIANT *iface, ULONG count)
{
    struct enumerator *enumerator = impl_from_IEnumVARIANT(iface);
    ULONG left;

    TRACE("%p %lu", iface, count);
    AcquireSRWLockExclusive(&enumerator->lock);
    left = enumerator->collection->count - enumerator->position;
    enumerator->position += min(count, left);
    ReleaseSRWLockExclusive(&enumerator->lock);
    return count <= left ? S_OK : S_FALSE;
}

static HRESULT WINAPI enumerator_Reset(IEnumVARIANT *iface)
{
    struct enumerator *enumerator = impl_from_IEnumVARIANT(iface);

    TRACE("%p", iface);
    AcquireSRWLockExclusive(&enumerator->lock);
    enumerator->position = 0;
    ReleaseSRWLockExclusive(&enumerator->lock);
    return S_OK;
}

static HRESULT WINAPI enumerator_Clone(IEnumVARIANT *iface, IEnumVARIANT **out)
{
    struct enumerator *enumerator = impl_from_IEnumVARIANT(iface);
    ULONG position;

    TRACE("%p %p", iface, out);
    if (!out)
        return E_INVALIDARG;
    AcquireSRWLockShared(&enumerator->lock);
    position = enumerator->position;
    ReleaseSRWLockShared(&enumerator->lock);
    return enumerator_create(enumerator->collection, position, out);
}

static const IEnumVARIANTVtbl enumerator_vtbl = {
    enumerator_QueryInterface, enumerator_AddRef, enumerator_Release, enumerator_Next,
    enumerator_Skip,           enumerator_Reset,  enumerator_Clone,
};

static HRESULT enumerator_create(struct collection *collection, ULONG position, IEnumVARIANT **out)
{
    struct enumerator *enumerator;

    *out = NULL;
    if (!(enumerator = heap_alloc_zero(sizeof(*enumerator))))
        return E_OUTOFMEMORY;
    enumerator->IEnumVARIANT_iface.lpVtbl = &enumerator_vtbl;
    enumerator->refs = 1;
    enumerator->collection = collection;
    IOpenDOCollection_AddRef(&collection->dispatch.IOpenDOCollection_iface);
    InitializeSRWLock(&enumerator->lock);
    enumerator->position = position;
    object_lock();
    *out = &enumerator->IEnumVARIANT_iface;
    return S_OK;
}

DISPATCH_THUNKS(collection, IOpenDOCollection)

static HRESULT WINAPI collection_get_Count(IOpenDOCollection *iface, LONG *count)
{
    struct collection *collection = impl_from_IOpenDOCollection(iface);

    TRACE("%p %p", iface, count);
    if (!count)
        return E_POINTER;
    *count = collection->count;
    return S_OK;
}

static HRESULT WINAPI collection_get_Item(IOpenDOCollection *iface, LONG index, IDispatch **item)
{
    struct collection *collection = impl_from_IOpenDOCollection(iface);

    TRACE("%p %ld %p", iface, index, item);
    if (!item)
        return E_POINTER;
    *item = NULL;
    if (index < 0 || (ULONG)index >= collection->count)
        return fail_text(&collection->dispatch, DISP_E_BADINDEX,
                         L"The index is outside the collection (the first item is 0).");
    *item = collection->items[index];
    IDispatch_AddRef(*item);
    return S_OK;
}

static HRESULT WINAPI collection_get__NewEnum(IOpenDOCollection *iface, IUnknown **out)
{
    struct collection *collection = impl_from_IOpenDOCollection(iface);

    TRACE("%p %p", iface, out);
    if (!out)
        return E_POINTER;
    return fail(&collection->dispatch, enumerator_create(collection, 0, (IEnumVARIANT **)out));
}

static const IOpenDOCollectionVtbl collection_vtbl = {
    DISPATCH_VTBL_ENTRIES(collection),
    collection_get_Count,
    collection_get_Item,
    collection_get__NewEnum,
};

static void collection_destroy(struct dispatch *dispatch)
{
    struct collection *collection = CONTAINING_RECORD(dispatch, struct collection, dispatch);

    for (ULONG i = 0; i < collection->count; i++)
    {
        if (collection->items[i])
            IDispatch_Release(collection->items[i]);
    }
    heap_free(collection);
}

/* An empty collection for `count` items, which the caller fills (a slot left NULL is
 * released as nothing). */
static HRESULT collection_create(ULONG count, struct collection **out)
{
    struct collection *collection;

    *out = NULL;
    if (!(collection = heap_alloc_zero(offsetof(struct collection, items[count]))))
        return E_OUTOFMEMORY;
    collection->dispatch.IOpenDOCollection_iface.lpVtbl = &collection_vtbl;
    dispatch_init(&collection->dispatch, &IID_IOpenDOCollection, collection_destroy);
    collection->count = count;
    *out = collection;
    return S_OK;
}

/* ---- files ---- */

struct file_dispatch
{
    struct dispatch dispatch;
    IBackgroundCopyFile5 *file; /* counted */
};

static inline struct file_dispatch *impl_from_IOpenDOFile(IOpenDOFile *iface)
{
    return CONTAINING_RECORD(iface, struct file_dispatch, dispatch.IOpenDOFile_iface);
}

DISPATCH_THUNKS(autofile, IOpenDOFile)

static HRESULT WINAPI autofile_get_RemoteName(IOpenDOFile *iface, BSTR *name)
{
    struct file_dispatch *file = impl_from_IOpenDOFile(iface);
    WCHAR *value = NULL;
    HRESULT hr;

    TRACE("%p %p", iface, name);
    if (!name)
        return E_POINTER;
    *name = NULL;
    hr = IBackgroundCopyFile5_GetRemoteName(file->file, &value);
    return fail(&file->dispatch, to_bstr(hr, value, name));
}

static HRESULT WINAPI autofile_get_LocalName(IOpenDOFile *iface, BSTR *name)
{
    struct file_dispatch *file = impl_from_IOpenDOFile(iface);
    WCHAR *value = NULL;
    HRESULT hr;

    TRACE("%p %p", iface, name);
    if (!name)
        return E_POINTER;
    *name = NULL;
    hr = IBackgroundCopyFile5_GetLocalName(file->file, &value);
    return fail(&file->dispatch, to_bstr(hr, value, name));
}

static HRESULT file_progress(struct file_dispatch *file, BG_FILE_PROGRESS *progress)
{
    return fail(&file->dispatch, IBackgroundCopyFile5_GetProgress(file->file, progress));
}

static HRESULT WINAPI autofile_get_BytesTotal(IOpenDOFile *iface, double *bytes)
{
    struct file_dispatch *file = impl_from_IOpenDOFile(iface);
    BG_FILE_PROGRESS progress;
    HRESULT hr;

    TRACE("%p %p", iface, bytes);
    if (!bytes)
        return E_POINTER;
    if (SUCCEEDED(hr = file_progress(file, &progress)))
        *bytes = size_value(progress.BytesTotal);
    return hr;
}

static HRESULT WINAPI autofile_get_BytesTransferred(IOpenDOFile *iface, double *bytes)
{
    struct file_dispatch *file = impl_from_IOpenDOFile(iface);
    BG_FILE_PROGRESS progress;
    HRESULT hr;

    TRACE("%p %p", iface, bytes);
    if (!bytes)
        return E_POINTER;
    if (SUCCEEDED(hr = file_progress(file, &progress)))
        *bytes = size_value(progress.BytesTransferred);
    return hr;
}

static HRESULT WINAPI autofile_get_Completed(IOpenDOFile *iface, VARIANT_BOOL *completed)
{
    struct file_dispatch *file = impl_from_IOpenDOFile(iface);
    BG_FILE_PROGRESS progress;
    HRESULT hr;

    TRACE("%p %p", iface, completed);
    if (!completed)
        return E_POINTER;
    if (SUCCEEDED(hr = file_progress(file, &progress)))
        *completed = progress.Completed ? VARIANT_TRUE : VARIANT_FALSE;
    return hr;
}

static const IOpenDOFileVtbl file_dispatch_vtbl = {
    DISPATCH_VTBL_ENTRIES(autofile), autofile_get_RemoteName,       autofile_get_LocalName,
    autofile_get_BytesTotal,         autofile_get_BytesTransferred, autofile_get_Completed,
};

static void file_dispatch_destroy(struct dispatch *dispatch)
{
    struct file_dispatch *file = CONTAINING_RECORD(dispatch, struct file_dispatch, dispatch);

    IBackgroundCopyFile5_Release(file->file);
    heap_free(file);
}

/* The automation face of a vtable file object (any of its interfaces). */
static HRESULT file_dispatch_create(IUnknown *object, IDispatch **out)
{
    struct file_dispatch *file;
    HRESULT hr;

    *out = NULL;
    if (!(file = heap_alloc_zero(sizeof(*file))))
        return E_OUTOFMEMORY;
    if (FAILED(
            hr = IUnknown_QueryInterface(object, &IID_IBackgroundCopyFile5, (void **)&file->file)))
    {
        heap_free(file);
        return hr;
    }
    file->dispatch.IOpenDOFile_iface.lpVtbl = &file_dispatch_vtbl;
    dispatch_init(&file->dispatch, &IID_IOpenDOFile, file_dispatch_destroy);
    *out = &file->dispatch.IDispatch_iface;
    return S_OK;
}

/* ---- jobs ---- */

struct job_dispatch
{
    struct dispatch dispatch;
    IBackgroundCopyJob5 *job; /* counted */
};

static inline struct job_dispatch *impl_from_IOpenDOJob(IOpenDOJob *iface)
{
    return CONTAINING_RECORD(iface, struct job_dispatch, dispatch.IOpenDOJob_iface);
}

static const WCHAR *const state_names[] = {
    [BG_JOB_STATE_QUEUED] = L"QUEUED",
    [BG_JOB_STATE_CONNECTING] = L"CONNECTING",
    [BG_JOB_STATE_TRANSFERRING] = L"TRANSFERRING",
    [BG_JOB_STATE_SUSPENDED] = L"SUSPENDED",
    [BG_JOB_STATE_ERROR] = L"ERROR",
    [BG_JOB_STATE_TRANSIENT_ERROR] = L"TRANSIENT_ERROR",
    [BG_JOB_STATE_TRANSFERRED] = L"TRANSFERRED",
    [BG_JOB_STATE_ACKNOWLEDGED] = L"ACKNOWLEDGED",
    [BG_JOB_STATE_CANCELLED] = L"CANCELLED",
};

/* Reads one unsigned decimal number at *p (no sign, no overflow), moving *p past it. */
static BOOL parse_number(const WCHAR **p, UINT64 *value)
{
    const WCHAR *s = *p;
    UINT64 v = 0;

    if (*s < '0' || *s > '9')
        return FALSE;
    for (; *s >= '0' && *s <= '9'; s++)
    {
        unsigned int digit = *s - '0';
        if (v > (UINT64_MAX - digit) / 10)
            return FALSE;
        v = v * 10 + digit;
    }
    *p = s;
    *value = v;
    return TRUE;
}

static void skip_spaces(const WCHAR **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* Parses "offset:length,offset:length,...": decimal numbers, spaces around them allowed, a
 * length of "eof" (any case) for BG_LENGTH_TO_EOF. The array is the caller's (heap_free). What
 * the ranges mean (order, overlaps, zero lengths) is AddFileWithRanges' to check. */
static HRESULT parse_ranges(const WCHAR *s, BG_FILE_RANGE **out, DWORD *count)
{
    BG_FILE_RANGE *ranges;
    DWORD n = 1, i;

    *out = NULL;
    *count = 0;
    for (const WCHAR *c = s; *c; c++)
        n += *c == ',';
    if (!(ranges = heap_alloc_zero(n * sizeof(*ranges))))
        return E_OUTOFMEMORY;
    for (i = 0; i < n; i++)
    {
        skip_spaces(&s);
        if (!parse_number(&s, &ranges[i].InitialOffset))
            break;
        skip_spaces(&s);
        if (*s++ != ':')
            break;
        skip_spaces(&s);
        if (!_wcsnicmp(s, L"eof", 3))
        {
            ranges[i].Length = BG_LENGTH_TO_EOF;
            s += 3;
        }
        else if (!parse_number(&s, &ranges[i].Length))
            break;
        skip_spaces(&s);
        if (*s != (i + 1 < n ? ',' : 0))
            break;
        s++;
    }
    if (i < n)
    {
        heap_free(ranges);
        return E_INVALIDARG;
    }
    *out = ranges;
    *count = n;
    return S_OK;
}

DISPATCH_THUNKS(autojob, IOpenDOJob)

static HRESULT WINAPI autojob_AddFile(IOpenDOJob *iface, BSTR remote, BSTR local)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);

    TRACE("%p %s %s", iface, debugstr_url(remote), debugstr_w(local));
    return fail(&job->dispatch, IBackgroundCopyJob5_AddFile(job->job, text(remote), text(local)));
}

static HRESULT WINAPI autojob_AddFileWithRanges(IOpenDOJob *iface, BSTR remote, BSTR local,
                                                BSTR ranges_text)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    BG_FILE_RANGE *ranges;
    DWORD count;
    HRESULT hr;

    TRACE("%p %s %s %s", iface, debugstr_url(remote), debugstr_w(local), debugstr_w(ranges_text));
    if (FAILED(hr = parse_ranges(text(ranges_text), &ranges, &count)))
        return fail_text(&job->dispatch, hr,
                         hr == E_INVALIDARG ? L"The ranges are not of the form "
                                              L"\"offset:length,offset:length\" (decimal "
                                              L"numbers; a length of \"eof\" runs to the end "
                                              L"of the file)."
                                            : NULL);
    hr = IBackgroundCopyJob5_AddFileWithRanges(job->job, text(remote), text(local), count, ranges);
    heap_free(ranges);
    return fail(&job->dispatch, hr);
}

static HRESULT WINAPI autojob_Resume(IOpenDOJob *iface)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);

    TRACE("%p", iface);
    return fail(&job->dispatch, IBackgroundCopyJob5_Resume(job->job));
}

static HRESULT WINAPI autojob_Suspend(IOpenDOJob *iface)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);

    TRACE("%p", iface);
    return fail(&job->dispatch, IBackgroundCopyJob5_Suspend(job->job));
}

static HRESULT WINAPI autojob_Cancel(IOpenDOJob *iface)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);

    TRACE("%p", iface);
    return fail(&job->dispatch, IBackgroundCopyJob5_Cancel(job->job));
}

static HRESULT WINAPI autojob_Complete(IOpenDOJob *iface)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);

    TRACE("%p", iface);
    return fail(&job->dispatch, IBackgroundCopyJob5_Complete(job->job));
}

static HRESULT WINAPI autojob_get_Id(IOpenDOJob *iface, BSTR *id)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    WCHAR value[40];
    GUID guid;
    HRESULT hr;

    TRACE("%p %p", iface, id);
    if (!id)
        return E_POINTER;
    *id = NULL;
    if (FAILED(hr = IBackgroundCopyJob5_GetId(job->job, &guid)))
        return fail(&job->dispatch, hr);
    StringFromGUID2(&guid, value, ARRAY_SIZE(value));
    return fail(&job->dispatch, (*id = SysAllocString(value)) ? S_OK : E_OUTOFMEMORY);
}

static HRESULT WINAPI autojob_get_DisplayName(IOpenDOJob *iface, BSTR *name)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    WCHAR *value = NULL;
    HRESULT hr;

    TRACE("%p %p", iface, name);
    if (!name)
        return E_POINTER;
    *name = NULL;
    hr = IBackgroundCopyJob5_GetDisplayName(job->job, &value);
    return fail(&job->dispatch, to_bstr(hr, value, name));
}

static HRESULT WINAPI autojob_put_DisplayName(IOpenDOJob *iface, BSTR name)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);

    TRACE("%p %s", iface, debugstr_w(name));
    return fail(&job->dispatch, IBackgroundCopyJob5_SetDisplayName(job->job, text(name)));
}

static HRESULT WINAPI autojob_get_State(IOpenDOJob *iface, LONG *state)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    BG_JOB_STATE value;
    HRESULT hr;

    TRACE("%p %p", iface, state);
    if (!state)
        return E_POINTER;
    if (SUCCEEDED(hr = IBackgroundCopyJob5_GetState(job->job, &value)))
        *state = value;
    return fail(&job->dispatch, hr);
}

static HRESULT WINAPI autojob_get_StateName(IOpenDOJob *iface, BSTR *name)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    BG_JOB_STATE value;
    HRESULT hr;

    TRACE("%p %p", iface, name);
    if (!name)
        return E_POINTER;
    *name = NULL;
    if (FAILED(hr = IBackgroundCopyJob5_GetState(job->job, &value)))
        return fail(&job->dispatch, hr);
    *name = SysAllocString((unsigned int)value < ARRAY_SIZE(state_names) ? state_names[value]
                                                                         : L"UNKNOWN");
    return fail(&job->dispatch, *name ? S_OK : E_OUTOFMEMORY);
}

static HRESULT WINAPI autojob_get_Priority(IOpenDOJob *iface, LONG *priority)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    BG_JOB_PRIORITY value;
    HRESULT hr;

    TRACE("%p %p", iface, priority);
    if (!priority)
        return E_POINTER;
    if (SUCCEEDED(hr = IBackgroundCopyJob5_GetPriority(job->job, &value)))
        *priority = value;
    return fail(&job->dispatch, hr);
}

static HRESULT WINAPI autojob_put_Priority(IOpenDOJob *iface, LONG priority)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);

    TRACE("%p %ld", iface, priority);
    return fail(&job->dispatch, IBackgroundCopyJob5_SetPriority(job->job, priority));
}

static HRESULT job_progress(struct job_dispatch *job, BG_JOB_PROGRESS *progress)
{
    return fail(&job->dispatch, IBackgroundCopyJob5_GetProgress(job->job, progress));
}

static HRESULT WINAPI autojob_get_BytesTotal(IOpenDOJob *iface, double *bytes)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    BG_JOB_PROGRESS progress;
    HRESULT hr;

    TRACE("%p %p", iface, bytes);
    if (!bytes)
        return E_POINTER;
    if (SUCCEEDED(hr = job_progress(job, &progress)))
        *bytes = size_value(progress.BytesTotal);
    return hr;
}

static HRESULT WINAPI autojob_get_BytesTransferred(IOpenDOJob *iface, double *bytes)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    BG_JOB_PROGRESS progress;
    HRESULT hr;

    TRACE("%p %p", iface, bytes);
    if (!bytes)
        return E_POINTER;
    if (SUCCEEDED(hr = job_progress(job, &progress)))
        *bytes = size_value(progress.BytesTransferred);
    return hr;
}

static HRESULT WINAPI autojob_get_FilesTotal(IOpenDOJob *iface, LONG *files)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    BG_JOB_PROGRESS progress;
    HRESULT hr;

    TRACE("%p %p", iface, files);
    if (!files)
        return E_POINTER;
    if (SUCCEEDED(hr = job_progress(job, &progress)))
        *files = progress.FilesTotal;
    return hr;
}

static HRESULT WINAPI autojob_get_FilesTransferred(IOpenDOJob *iface, LONG *files)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    BG_JOB_PROGRESS progress;
    HRESULT hr;

    TRACE("%p %p", iface, files);
    if (!files)
        return E_POINTER;
    if (SUCCEEDED(hr = job_progress(job, &progress)))
        *files = progress.FilesTransferred;
    return hr;
}

/* The job's current error object, or NULL (S_OK) when it has none. */
static HRESULT job_error(struct job_dispatch *job, IBackgroundCopyError **error)
{
    HRESULT hr = IBackgroundCopyJob5_GetError(job->job, error);

    if (hr == (HRESULT)BG_E_ERROR_INFORMATION_UNAVAILABLE ||
        hr == (HRESULT)DO_E_ERROR_INFORMATION_UNAVAILABLE)
    {
        *error = NULL;
        return S_OK;
    }
    return fail(&job->dispatch, hr);
}

static HRESULT WINAPI autojob_get_ErrorCode(IOpenDOJob *iface, LONG *code)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    IBackgroundCopyError *error;
    BG_ERROR_CONTEXT context;
    HRESULT hr, value = S_OK;

    TRACE("%p %p", iface, code);
    if (!code)
        return E_POINTER;
    if (FAILED(hr = job_error(job, &error)))
        return hr;
    if (error)
    {
        hr = IBackgroundCopyError_GetError(error, &context, &value);
        IBackgroundCopyError_Release(error);
    }
    if (SUCCEEDED(hr))
        *code = value;
    return fail(&job->dispatch, hr);
}

static HRESULT WINAPI autojob_get_ErrorDescription(IOpenDOJob *iface, BSTR *description)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    IBackgroundCopyError *error;
    WCHAR *value = NULL;
    HRESULT hr;

    TRACE("%p %p", iface, description);
    if (!description)
        return E_POINTER;
    *description = NULL;
    if (FAILED(hr = job_error(job, &error)))
        return hr;
    if (error)
    {
        hr = IBackgroundCopyError_GetErrorDescription(error, LANGIDFROMLCID(GetThreadLocale()),
                                                      &value);
        IBackgroundCopyError_Release(error);
    }
    return fail(&job->dispatch, to_bstr(hr, value, description));
}

static HRESULT WINAPI autojob_get_Files(IOpenDOJob *iface, IDispatch **out)
{
    struct job_dispatch *job = impl_from_IOpenDOJob(iface);
    struct collection *collection = NULL;
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    ULONG count = 0;
    HRESULT hr;

    TRACE("%p %p", iface, out);
    if (!out)
        return E_POINTER;
    *out = NULL;
    if (FAILED(hr = IBackgroundCopyJob5_EnumFiles(job->job, &files)))
        return fail(&job->dispatch, hr);
    if (SUCCEEDED(hr = IEnumBackgroundCopyFiles_GetCount(files, &count)))
        hr = collection_create(count, &collection);
    for (ULONG i = 0; SUCCEEDED(hr) && i < count; i++)
    {
        if ((hr = IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL)) != S_OK)
            break;
        hr = file_dispatch_create((IUnknown *)file, &collection->items[i]);
        IBackgroundCopyFile_Release(file);
    }
    IEnumBackgroundCopyFiles_Release(files);
    /* The enumerator counted its files when it was made: fewer is a broken promise. */
    if (hr == S_FALSE)
        hr = E_UNEXPECTED;
    if (FAILED(hr))
    {
        if (collection)
            IOpenDOCollection_Release(&collection->dispatch.IOpenDOCollection_iface);
        return fail(&job->dispatch, hr);
    }
    *out = &collection->dispatch.IDispatch_iface;
    return S_OK;
}

static const IOpenDOJobVtbl job_dispatch_vtbl = {
    DISPATCH_VTBL_ENTRIES(autojob),
    autojob_AddFile,
    autojob_AddFileWithRanges,
    autojob_Resume,
    autojob_Suspend,
    autojob_Cancel,
    autojob_Complete,
    autojob_get_Id,
    autojob_get_DisplayName,
    autojob_put_DisplayName,
    autojob_get_State,
    autojob_get_StateName,
    autojob_get_Priority,
    autojob_put_Priority,
    autojob_get_BytesTotal,
    autojob_get_BytesTransferred,
    autojob_get_FilesTotal,
    autojob_get_FilesTransferred,
    autojob_get_ErrorCode,
    autojob_get_ErrorDescription,
    autojob_get_Files,
};

static void job_dispatch_destroy(struct dispatch *dispatch)
{
    struct job_dispatch *job = CONTAINING_RECORD(dispatch, struct job_dispatch, dispatch);

    IBackgroundCopyJob5_Release(job->job);
    heap_free(job);
}

/* The automation face of a vtable job object (any of its interfaces). */
static HRESULT job_dispatch_create(IUnknown *object, IDispatch **out)
{
    struct job_dispatch *job;
    HRESULT hr;

    *out = NULL;
    if (!(job = heap_alloc_zero(sizeof(*job))))
        return E_OUTOFMEMORY;
    if (FAILED(hr = IUnknown_QueryInterface(object, &IID_IBackgroundCopyJob5, (void **)&job->job)))
    {
        heap_free(job);
        return hr;
    }
    job->dispatch.IOpenDOJob_iface.lpVtbl = &job_dispatch_vtbl;
    dispatch_init(&job->dispatch, &IID_IOpenDOJob, job_dispatch_destroy);
    *out = &job->dispatch.IDispatch_iface;
    return S_OK;
}

/* ---- the manager ---- */

static inline struct manager_dispatch *impl_from_IOpenDOManager(IOpenDOManager *iface)
{
    return CONTAINING_RECORD(iface, struct manager_dispatch, dispatch.IOpenDOManager_iface);
}

/* A job id as scripts write it: a GUID with or without its braces. */
static HRESULT parse_job_id(const WCHAR *s, GUID *id)
{
    WCHAR braced[40];
    size_t length = wcslen(s);

    if (length == 36)
    {
        swprintf(braced, ARRAY_SIZE(braced), L"{%ls}", s);
        s = braced;
    }
    else if (length != 38)
        return E_INVALIDARG;
    return FAILED(IIDFromString(s, id)) ? E_INVALIDARG : S_OK;
}

DISPATCH_THUNKS(automanager, IOpenDOManager)

static HRESULT WINAPI automanager_CreateJob(IOpenDOManager *iface, BSTR name, IDispatch **out)
{
    struct manager_dispatch *manager = impl_from_IOpenDOManager(iface);
    IBackgroundCopyJob *job;
    GUID id;
    HRESULT hr;

    TRACE("%p %s %p", iface, debugstr_w(name), out);
    if (!out)
        return E_POINTER;
    *out = NULL;
    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager->manager, text(name),
                                                     BG_JOB_TYPE_DOWNLOAD, &id, &job)))
        return fail(&manager->dispatch, hr);
    if (FAILED(hr = job_dispatch_create((IUnknown *)job, out)))
        IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    return fail(&manager->dispatch, hr);
}

static HRESULT WINAPI automanager_GetJob(IOpenDOManager *iface, BSTR id_text, IDispatch **out)
{
    struct manager_dispatch *manager = impl_from_IOpenDOManager(iface);
    IBackgroundCopyJob *job;
    GUID id;
    HRESULT hr;

    TRACE("%p %s %p", iface, debugstr_w(id_text), out);
    if (!out)
        return E_POINTER;
    *out = NULL;
    if (FAILED(parse_job_id(text(id_text), &id)))
        return fail_text(&manager->dispatch, E_INVALIDARG,
                         L"The job id is not a GUID such as "
                         L"{01234567-89AB-CDEF-0123-456789ABCDEF}.");
    if (FAILED(hr = IBackgroundCopyManager_GetJob(manager->manager, &id, &job)))
        return fail(&manager->dispatch, hr);
    hr = job_dispatch_create((IUnknown *)job, out);
    IBackgroundCopyJob_Release(job);
    return fail(&manager->dispatch, hr);
}

static HRESULT WINAPI automanager_get_Jobs(IOpenDOManager *iface, IDispatch **out)
{
    struct manager_dispatch *manager = impl_from_IOpenDOManager(iface);
    struct collection *collection = NULL;
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    ULONG count = 0;
    HRESULT hr;

    TRACE("%p %p", iface, out);
    if (!out)
        return E_POINTER;
    *out = NULL;
    if (FAILED(hr = IBackgroundCopyManager_EnumJobs(manager->manager, 0, &jobs)))
        return fail(&manager->dispatch, hr);
    if (SUCCEEDED(hr = IEnumBackgroundCopyJobs_GetCount(jobs, &count)))
        hr = collection_create(count, &collection);
    for (ULONG i = 0; SUCCEEDED(hr) && i < count; i++)
    {
        if ((hr = IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL)) != S_OK)
            break;
        hr = job_dispatch_create((IUnknown *)job, &collection->items[i]);
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    if (hr == S_FALSE)
        hr = E_UNEXPECTED;
    if (FAILED(hr))
    {
        if (collection)
            IOpenDOCollection_Release(&collection->dispatch.IOpenDOCollection_iface);
        return fail(&manager->dispatch, hr);
    }
    *out = &collection->dispatch.IDispatch_iface;
    return S_OK;
}

static HRESULT WINAPI automanager_GetErrorDescription(IOpenDOManager *iface, LONG code,
                                                      BSTR *description)
{
    struct manager_dispatch *manager = impl_from_IOpenDOManager(iface);
    WCHAR *value = NULL;
    HRESULT hr;

    TRACE("%p %08lx %p", iface, code, description);
    if (!description)
        return E_POINTER;
    *description = NULL;
    hr = IBackgroundCopyManager_GetErrorDescription(manager->manager, code,
                                                    LANGIDFROMLCID(GetThreadLocale()), &value);
    return fail(&manager->dispatch, to_bstr(hr, value, description));
}

static const IOpenDOManagerVtbl manager_dispatch_vtbl = {
    DISPATCH_VTBL_ENTRIES(automanager),
    automanager_CreateJob,
    automanager_GetJob,
    automanager_get_Jobs,
    automanager_GetErrorDescription,
};

void automation_manager_init(struct manager_dispatch *dispatch, IBackgroundCopyManager *manager)
{
    dispatch->dispatch.IOpenDOManager_iface.lpVtbl = &manager_dispatch_vtbl;
    dispatch->dispatch.ISupportErrorInfo_iface.lpVtbl = &support_vtbl;
    dispatch->dispatch.iid = &IID_IOpenDOManager;
    dispatch->dispatch.outer = (IUnknown *)manager;
    dispatch->manager = manager;
}

HRESULT automation_manager_query(struct manager_dispatch *dispatch, REFIID riid, void **out)
{
    return query_face(&dispatch->dispatch, riid, out);
}
