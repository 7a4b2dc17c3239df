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
        object_unlock();
    }
    return refs;
}

static HRESULT get_name(struct file *file, size_t offset, LPWSTR *out)
{
    struct locked_string name = {0};

    if (!out)
        return E_INVALIDARG;
    name.field = (WCHAR **)((char *)file_record(file) + offset);
    name.out = out;
    return cotask_strdup_locked(&file->ejob->lock, &name, 1, NULL, NULL);
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
    struct file *file = impl_from_IBackgroundCopyFile5(iface);
    const BG_FILE_RANGE *source;
    ULONG n;

    TRACE("%p %p %p", iface, count, ranges);
    if (!count || !ranges)
        return E_INVALIDARG;
    /* The [in] value of *count means nothing: the whole list comes back. */
    *count = 0;
    *ranges = NULL;
    AcquireSRWLockShared(&file->ejob->lock);
    source = locked_file(file)->ranges;
    n = locked_file(file)->range_count;
    ReleaseSRWLockShared(&file->ejob->lock);
    /* Files added without ranges: BITS answers S_FALSE with nothing. */
    if (!n)
        return S_FALSE;
    /* The ranges never change once the file is added: copy them without the lock. */
    if (!(*ranges = CoTaskMemAlloc(n * sizeof(**ranges))))
        return E_OUTOFMEMORY;
    memcpy(*ranges, source, n * sizeof(**ranges));
    *count = n;
    return S_OK;
}

static HRESULT WINAPI file_SetRemoteName(IBackgroundCopyFile5 *iface, LPCWSTR name)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);

    TRACE("%p %s", iface, debugstr_url(name));
    if (!name)
        return E_INVALIDARG;
    return file_result(file, efile_set_remote(file->ejob, file->index, name));
}

static HRESULT WINAPI file_GetTemporaryName(IBackgroundCopyFile5 *iface, LPWSTR *name)
{
    TRACE("%p %p", iface, name);
    return get_name(impl_from_IBackgroundCopyFile5(iface), offsetof(struct ejob_file, temp), name);
}

/* Are all the file's bytes there? Caller holds the job's lock. */
static BOOL locked_file_done(struct file *file)
{
    const BG_FILE_PROGRESS *progress = &locked_file(file)->progress;
    return progress->BytesTotal != BG_SIZE_UNKNOWN &&
           progress->BytesTransferred == progress->BytesTotal;
}

static HRESULT WINAPI file_SetValidationState(IBackgroundCopyFile5 *iface, BOOL state)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);
    HRESULT hr = S_OK;

    TRACE("%p %d", iface, state);
    /* FALSE: the file's bytes are rejected; the engine stops the job and starts the file over. */
    if (!state)
        return file_result(file, efile_invalidate(file->ejob, file->index));
    AcquireSRWLockExclusive(&file->ejob->lock);
    if (ejob_is_final(file->ejob))
        hr = BG_E_INVALID_STATE;
    else if (!locked_file_done(file))
        hr = E_PENDING;
    else
        locked_file(file)->validation_state = TRUE;
    ReleaseSRWLockExclusive(&file->ejob->lock);
    return file_result(file, hr);
}

static HRESULT WINAPI file_GetValidationState(IBackgroundCopyFile5 *iface, BOOL *state)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);

    TRACE("%p %p", iface, state);
    if (!state)
        return E_INVALIDARG;
    /* FALSE also means "never validated", as in BITS. */
    AcquireSRWLockShared(&file->ejob->lock);
    *state = locked_file(file)->validation_state;
    ReleaseSRWLockShared(&file->ejob->lock);
    return S_OK;
}

static HRESULT WINAPI file_IsDownloadedFromPeer(IBackgroundCopyFile5 *iface, BOOL *from_peer)
{
    TRACE("%p %p", iface, from_peer);
    if (!from_peer)
        return E_INVALIDARG;
    /* No peer caching: every byte comes from the origin. */
    *from_peer = FALSE;
    return S_OK;
}

static HRESULT WINAPI file_GetPeerDownloadStats(IBackgroundCopyFile5 *iface, UINT64 *from_origin,
                                                UINT64 *from_peers)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);

    TRACE("%p %p %p", iface, from_origin, from_peers);
    if (!from_origin || !from_peers)
        return E_INVALIDARG;
    AcquireSRWLockShared(&file->ejob->lock);
    *from_origin = locked_file(file)->progress.BytesTransferred;
    ReleaseSRWLockShared(&file->ejob->lock);
    *from_peers = 0;
    return S_OK;
}

static HRESULT WINAPI file_SetProperty(IBackgroundCopyFile5 *iface, BITS_FILE_PROPERTY_ID id,
                                       BITS_FILE_PROPERTY_VALUE value)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);

    TRACE("%p %d", iface, id);
    /* The response headers are what the server sent: nothing to set. */
    if (id == BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS)
        return file_result(file, BG_E_READ_ONLY_PROPERTY);
    return file_result(file, BG_E_UNKNOWN_PROPERTY_ID);
}

static HRESULT WINAPI file_GetProperty(IBackgroundCopyFile5 *iface, BITS_FILE_PROPERTY_ID id,
                                       BITS_FILE_PROPERTY_VALUE *value)
{
    struct file *file = impl_from_IBackgroundCopyFile5(iface);
    struct locked_string headers = {0};

    TRACE("%p %d %p", iface, id, value);
    if (!value)
        return E_INVALIDARG;
    if (id != BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS)
        return file_result(file, BG_E_UNKNOWN_PROPERTY_ID);
    /* The status line and headers of the latest HTTP response, "" before there was one. */
    headers.field = &file_record(file)->response_headers;
    headers.out = &value->String;
    return cotask_strdup_locked(&file->ejob->lock, &headers, 1, NULL, NULL);
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

HRESULT file_create(struct ejob *ejob, ULONG index, enum dialect dialect, IBackgroundCopyFile **out)
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
    file->dialect = dialect;
    ejob_addref(ejob);
    object_lock();
    *out = (IBackgroundCopyFile *)&file->IBackgroundCopyFile5_iface;
    return S_OK;
}
