/* SPDX-License-Identifier: MIT */
/* The COM file object: IBackgroundCopyFile to IBackgroundCopyFile5 and
 * IDeliveryOptimizationFile/2 over one file of an engine job. */
#include "engine/engine.h"

struct file
{
    IBackgroundCopyFile5 IBackgroundCopyFile5_iface;
    IDeliveryOptimizationFile IDeliveryOptimizationFile_iface;
    IDeliveryOptimizationFile2 IDeliveryOptimizationFile2_iface;
    LONG refs;
    IUnknown *ftm;
    struct ejob *ejob;  /* counted reference: the file lives in the job */
    ULONG index;
};

static inline struct file *impl_from_IBackgroundCopyFile5(IBackgroundCopyFile5 *iface)
{
    return CONTAINING_RECORD(iface, struct file, IBackgroundCopyFile5_iface);
}

static inline struct file *impl_from_IDeliveryOptimizationFile(IDeliveryOptimizationFile *iface)
{
    return CONTAINING_RECORD(iface, struct file, IDeliveryOptimizationFile_iface);
}

static inline struct file *impl_from_IDeliveryOptimizationFile2(IDeliveryOptimizationFile2 *iface)
{
    return CONTAINING_RECORD(iface, struct file, IDeliveryOptimizationFile2_iface);
}

/* The engine's file record. Caller holds the job's lock (the array may be reallocated). */
static struct ejob_file *locked_file(struct file *file)
{
    return file->ejob->files[file->index];
}

static HRESULT WINAPI file_QueryInterface(IBackgroundCopyFile5 *iface, REFIID riid, void **out)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);

    TRACE("%p %s %p", iface, debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyFile) ||
        IsEqualIID(riid, &IID_IBackgroundCopyFile2) || IsEqualIID(riid, &IID_IBackgroundCopyFile3) ||
        IsEqualIID(riid, &IID_IBackgroundCopyFile4) || IsEqualIID(riid, &IID_IBackgroundCopyFile5))
        *out = &file->IBackgroundCopyFile5_iface;
    else if (IsEqualIID(riid, &IID_IDeliveryOptimizationFile))
        *out = &file->IDeliveryOptimizationFile_iface;
    else if (IsEqualIID(riid, &IID_IDeliveryOptimizationFile2))
        *out = &file->IDeliveryOptimizationFile2_iface;
    else if (IsEqualIID(riid, &IID_IMarshal))
        return ftm_query((IUnknown *)&file->IBackgroundCopyFile5_iface, &file->ftm, riid, out);
    else
    {
        *out = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
}

static ULONG WINAPI file_AddRef(IBackgroundCopyFile5 *iface)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);
    return InterlockedIncrement(&file->refs);
}

static ULONG WINAPI file_Release(IBackgroundCopyFile5 *iface)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);
    ULONG refs = InterlockedDecrement(&file->refs);

    if (!refs)
    {
        ftm_release(&file->ftm);
        ejob_release(file->ejob);
        heap_free(file);
        module_unlock();
    }
    return refs;
}

static HRESULT get_name(struct file *file, size_t offset, LPWSTR *out)
{
    HRESULT hr;

    if (!out)
        return E_INVALIDARG;
    AcquireSRWLockShared(&file->ejob->lock);
    hr = cotask_strdup(*(WCHAR **)((char *)locked_file(file) + offset), out);
    ReleaseSRWLockShared(&file->ejob->lock);
    return hr;
}

static HRESULT WINAPI file_GetRemoteName(IBackgroundCopyFile5 *iface, LPWSTR *name)
{
    TRACE("%p %p", iface, name);
    return get_name(impl_from_IBackgroundCopyFile5(iface), offsetof(struct ejob_file, remote), name);
}

static HRESULT WINAPI file_GetLocalName(IBackgroundCopyFile5 *iface, LPWSTR *name)
{
    TRACE("%p %p", iface, name);
    return get_name(impl_from_IBackgroundCopyFile5(iface), offsetof(struct ejob_file, local), name);
}

static HRESULT WINAPI file_GetProgress(IBackgroundCopyFile5 *iface, BG_FILE_PROGRESS *progress)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);

    TRACE("%p %p", iface, progress);
    if (!progress)
        return E_INVALIDARG;
    AcquireSRWLockShared(&file->ejob->lock);
    *progress = locked_file(file)->progress;
    ReleaseSRWLockShared(&file->ejob->lock);
    return S_OK;
}

static HRESULT WINAPI file_GetFileRanges(IBackgroundCopyFile5 *iface, DWORD *count,
                                         BG_FILE_RANGE **ranges)
{
    TRACE("%p %p %p", iface, count, ranges);
    if (!count || !ranges)
        return E_INVALIDARG;
    /* Files added without ranges: BITS answers S_FALSE with nothing. */
    *count = 0;
    *ranges = NULL;
    return S_FALSE;
}

static HRESULT WINAPI file_SetRemoteName(IBackgroundCopyFile5 *iface, LPCWSTR name)
{
    FIXME("%p %s: not implemented yet", iface, debugstr_w(name));
    return E_NOTIMPL;
}

static HRESULT WINAPI file_GetTemporaryName(IBackgroundCopyFile5 *iface, LPWSTR *name)
{
    TRACE("%p %p", iface, name);
    return get_name(impl_from_IBackgroundCopyFile5(iface), offsetof(struct ejob_file, temp), name);
}

static HRESULT WINAPI file_SetValidationState(IBackgroundCopyFile5 *iface, BOOL state)
{
    FIXME("%p %d: not implemented yet", iface, state);
    return E_NOTIMPL;
}

static HRESULT WINAPI file_GetValidationState(IBackgroundCopyFile5 *iface, BOOL *state)
{
    FIXME("%p %p: not implemented yet", iface, state);
    return E_NOTIMPL;
}

static HRESULT WINAPI file_IsDownloadedFromPeer(IBackgroundCopyFile5 *iface, BOOL *from_peer)
{
    FIXME("%p %p: not implemented yet", iface, from_peer);
    return E_NOTIMPL;
}

static HRESULT WINAPI file_GetPeerDownloadStats(IBackgroundCopyFile5 *iface, UINT64 *from_origin,
                                                UINT64 *from_peers)
{
    FIXME("%p %p %p: not implemented yet", iface, from_origin, from_peers);
    return E_NOTIMPL;
}

static HRESULT WINAPI file_SetProperty(IBackgroundCopyFile5 *iface, BITS_FILE_PROPERTY_ID id,
                                       BITS_FILE_PROPERTY_VALUE value)
{
    FIXME("%p %d: not implemented yet", iface, id);
    return E_NOTIMPL;
}

static HRESULT WINAPI file_GetProperty(IBackgroundCopyFile5 *iface, BITS_FILE_PROPERTY_ID id,
                                       BITS_FILE_PROPERTY_VALUE *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

static const IBackgroundCopyFile5Vtbl file_vtbl = {
    file_QueryInterface,
    file_AddRef,
    file_Release,
    file_GetRemoteName,
    file_GetLocalName,
    file_GetProgress,
    file_GetFileRanges,
    file_SetRemoteName,
    file_GetTemporaryName,
    file_SetValidationState,
    file_GetValidationState,
    file_IsDownloadedFromPeer,
    file_GetPeerDownloadStats,
    file_SetProperty,
    file_GetProperty,
};

static HRESULT WINAPI do_file_QueryInterface(IDeliveryOptimizationFile *iface, REFIID riid,
                                             void **out)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_QueryInterface(&file->IBackgroundCopyFile5_iface, riid, out);
}

static ULONG WINAPI do_file_AddRef(IDeliveryOptimizationFile *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_AddRef(&file->IBackgroundCopyFile5_iface);
}

static ULONG WINAPI do_file_Release(IDeliveryOptimizationFile *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_Release(&file->IBackgroundCopyFile5_iface);
}

static HRESULT WINAPI do_file_GetStats(IDeliveryOptimizationFile *iface, DOSwarmStats *stats)
{
    FIXME("%p %p: not implemented yet", iface, stats);
    return E_NOTIMPL;
}

static const IDeliveryOptimizationFileVtbl do_file_vtbl = {
    do_file_QueryInterface,
    do_file_AddRef,
    do_file_Release,
    do_file_GetStats,
};

static HRESULT WINAPI do_file2_QueryInterface(IDeliveryOptimizationFile2 *iface, REFIID riid,
                                              void **out)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_QueryInterface(&file->IBackgroundCopyFile5_iface, riid, out);
}

static ULONG WINAPI do_file2_AddRef(IDeliveryOptimizationFile2 *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_AddRef(&file->IBackgroundCopyFile5_iface);
}

static ULONG WINAPI do_file2_Release(IDeliveryOptimizationFile2 *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_Release(&file->IBackgroundCopyFile5_iface);
}

static HRESULT WINAPI do_file2_GetProperty(IDeliveryOptimizationFile2 *iface, DOFilePropertyId id,
                                           VARIANT *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

static HRESULT WINAPI do_file2_SetProperty(IDeliveryOptimizationFile2 *iface, DOFilePropertyId id,
                                           const VARIANT *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

static const IDeliveryOptimizationFile2Vtbl do_file2_vtbl = {
    do_file2_QueryInterface,
    do_file2_AddRef,
    do_file2_Release,
    do_file2_GetProperty,
    do_file2_SetProperty,
};

HRESULT file_create(struct ejob *ejob, ULONG index, IBackgroundCopyFile **out)
{
    struct file *file;

    if (!(file = heap_alloc_zero(sizeof(*file))))
        return E_OUTOFMEMORY;
    file->IBackgroundCopyFile5_iface.lpVtbl = &file_vtbl;
    file->IDeliveryOptimizationFile_iface.lpVtbl = &do_file_vtbl;
    file->IDeliveryOptimizationFile2_iface.lpVtbl = &do_file2_vtbl;
    file->refs = 1;
    file->ejob = ejob;
    file->index = index;
    ejob_addref(ejob);
    module_lock();
    *out = (IBackgroundCopyFile *)&file->IBackgroundCopyFile5_iface;
    return S_OK;
}
