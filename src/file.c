/* SPDX-License-Identifier: MIT */
/* The COM file object over one file of an engine job: lifetime, IUnknown and
 * IBackgroundCopyFile to IBackgroundCopyFile5 (the DO interfaces are in file_do.c). */
#include "file.h"

static HRESULT WINAPI file_QueryInterface(IBackgroundCopyFile5 *iface, REFIID riid, void **out)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);

    TRACE("%p %s %p", iface, debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyFile) ||
        IsEqualIID(riid, &IID_IBackgroundCopyFile2) ||
        IsEqualIID(riid, &IID_IBackgroundCopyFile3) ||
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
    return get_name(impl_from_IBackgroundCopyFile5(iface), offsetof(struct ejob_file, remote),
                    name);
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

HRESULT file_query(struct file *file, REFIID riid, void **out)
{
    return file_QueryInterface(&file->IBackgroundCopyFile5_iface, riid, out);
}

ULONG file_addref(struct file *file)
{
    return file_AddRef(&file->IBackgroundCopyFile5_iface);
}

ULONG file_release(struct file *file)
{
    return file_Release(&file->IBackgroundCopyFile5_iface);
}

HRESULT file_create(struct ejob *ejob, ULONG index, IBackgroundCopyFile **out)
{
    struct file *file;

    if (!(file = heap_alloc_zero(sizeof(*file))))
        return E_OUTOFMEMORY;
    file->IBackgroundCopyFile5_iface.lpVtbl = &file_vtbl;
    file->IDeliveryOptimizationFile_iface.lpVtbl = &file_do_vtbl;
    file->IDeliveryOptimizationFile2_iface.lpVtbl = &file_do2_vtbl;
    file->refs = 1;
    file->ejob = ejob;
    file->index = index;
    ejob_addref(ejob);
    module_lock();
    *out = (IBackgroundCopyFile *)&file->IBackgroundCopyFile5_iface;
    return S_OK;
}
