/* SPDX-License-Identifier: MIT */
/* The file's IDeliveryOptimizationFile and IDeliveryOptimizationFile2. */
#include "file.h"

static HRESULT WINAPI do_file_QueryInterface(IDeliveryOptimizationFile *iface, REFIID riid,
                                             void **out)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_query(file, riid, out);
}

static ULONG WINAPI do_file_AddRef(IDeliveryOptimizationFile *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_addref(file);
}

static ULONG WINAPI do_file_Release(IDeliveryOptimizationFile *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_release(file);
}

/* The remote file's size as far as it is known: what a source said, else what the client
 * said (fileSize, TotalSizeBytes), else DO_UNKNOWN_FILE_SIZE. Caller holds the job's lock. */
static UINT64 known_size(const struct ejob_file *file)
{
    if (file->remote_size != BG_SIZE_UNKNOWN)
        return file->remote_size;
    if (!file->ranges && file->progress.BytesTotal != BG_SIZE_UNKNOWN)
        return file->progress.BytesTotal;
    return file->size_hint_set ? file->size_hint : DO_UNKNOWN_FILE_SIZE;
}

static HRESULT WINAPI do_file_GetStats(IDeliveryOptimizationFile *iface, DOSwarmStats *stats)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    const struct ejob_file *record;
    WCHAR *file_id = NULL, *url = NULL;
    struct locked_string strings[2] = {0};
    BG_JOB_STATE state;
    HRESULT hr;

    TRACE("%p %p", iface, stats);
    if (!stats)
        return E_INVALIDARG;
    memset(stats, 0, sizeof(*stats));
    record = file_record(file);
    /* Files added through the BITS interfaces have no DO fileId: "". */
    strings[0].field = &record->file_id;
    strings[0].out = &file_id;
    strings[1].field = &record->remote;
    strings[1].out = &url;
    hr = cotask_strdup_locked(&file->ejob->lock, strings, ARRAY_SIZE(strings), NULL, NULL);
    AcquireSRWLockShared(&file->ejob->lock);
    stats->fileSize = known_size(record);
    stats->totalBytesDownloaded = record->bytes_downloaded;
    /* Bytes from cache hosts are DO's "DOINC" (in-network cache) bytes, as Connected Cache's
     * are on Windows; bytesFromHttp is what came from the origin. */
    stats->bytesFromHttp =
        record->bytes_from_http - min(record->bytes_from_cache, record->bytes_from_http);
    stats->bytesFromDoinc = record->bytes_from_cache;
    stats->httpConnectionCount =
        record->http_connections - min(record->cache_connections, record->http_connections);
    stats->doincConnectionCount = record->cache_connections;
    stats->downloadDuration = (UINT)min(record->download_ms, 0xffffffff);
    state = file->ejob->state;
    if (record->finished)
        stats->status = SwarmStatus_Complete;
    else if (state == BG_JOB_STATE_QUEUED || state == BG_JOB_STATE_CONNECTING ||
             state == BG_JOB_STATE_TRANSFERRING)
        stats->status = SwarmStatus_Downloading;
    else
        stats->status = SwarmStatus_Paused;
    stats->isBackground = file->ejob->priority != BG_JOB_PRIORITY_FOREGROUND;
    ReleaseSRWLockShared(&file->ejob->lock);
    if (FAILED(hr))
    {
        CoTaskMemFree(file_id);
        memset(stats, 0, sizeof(*stats));
        return hr;
    }
    stats->fileId = file_id;
    stats->sourceURL = url;
    /* No peers and no DO cloud services: the "simple" mode, every byte from its source. */
    stats->downloadMode = DownloadMode_Simple;
    return S_OK;
}

const IDeliveryOptimizationFileVtbl file_do_vtbl = {
    do_file_QueryInterface,
    do_file_AddRef,
    do_file_Release,
    do_file_GetStats,
};

static HRESULT WINAPI do_file2_QueryInterface(IDeliveryOptimizationFile2 *iface, REFIID riid,
                                              void **out)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_query(file, riid, out);
}

static ULONG WINAPI do_file2_AddRef(IDeliveryOptimizationFile2 *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_addref(file);
}

static ULONG WINAPI do_file2_Release(IDeliveryOptimizationFile2 *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_release(file);
}

/* E_NOT_SET: a property that was never set (GetProperty). */
#define E_NOT_SET HRESULT_FROM_WIN32(ERROR_NOT_FOUND)

static BOOL known_property(DOFilePropertyId id)
{
    return id >= DOFilePropertyId_DecryptionInfo && id <= DOFilePropertyId_TotalSizeBytes;
}

static HRESULT WINAPI do_file2_GetProperty(IDeliveryOptimizationFile2 *iface, DOFilePropertyId id,
                                           VARIANT *value)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    const struct ejob_file *record;
    IStream *sink = NULL;
    HRESULT hr = S_OK;

    TRACE("%p %d %p", iface, id, value);
    if (!known_property(id))
        return file_result(file, BG_E_UNKNOWN_PROPERTY_ID);
    if (!value)
        return E_INVALIDARG;
    VariantInit(value);
    switch (id)
    {
    case DOFilePropertyId_DecryptionInfo:
    case DOFilePropertyId_IntegrityCheckInfo:
        /* Secrets and locations the client gave: never handed out again. */
        return DO_E_WRITE_ONLY_PROPERTY;
    case DOFilePropertyId_DownloadSinkMemoryStream:
        return DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED;
    case DOFilePropertyId_DownloadSinkInterface:
        /* The stream as this apartment may call it: itself or a proxy. */
        if ((hr = efile_get_sink(file->ejob, file->index, &sink)) == S_FALSE)
            return E_NOT_SET;
        if (SUCCEEDED(hr))
        {
            V_VT(value) = VT_UNKNOWN;
            V_UNKNOWN(value) = (IUnknown *)sink;
        }
        return hr;
    default:
        break;
    }
    AcquireSRWLockShared(&file->ejob->lock);
    record = locked_file(file);
    switch (id)
    {
    case DOFilePropertyId_IntegrityCheckMandatory:
        if (!record->integrity_mandatory_set)
            hr = E_NOT_SET;
        V_VT(value) = VT_BOOL;
        V_BOOL(value) = record->integrity_mandatory ? VARIANT_TRUE : VARIANT_FALSE;
        break;
    case DOFilePropertyId_DownloadSinkFilePath:
        if (!record->local)
            hr = E_NOT_SET;
        else if (!(V_BSTR(value) = SysAllocString(record->local)))
            hr = E_OUTOFMEMORY;
        else
            V_VT(value) = VT_BSTR;
        break;
    default: /* DOFilePropertyId_TotalSizeBytes */
        if (!record->size_hint_set && record->remote_size == BG_SIZE_UNKNOWN)
            hr = E_NOT_SET;
        V_VT(value) = VT_UI8;
        V_UI8(value) = record->size_hint_set ? record->size_hint : record->remote_size;
        break;
    }
    ReleaseSRWLockShared(&file->ejob->lock);
    if (FAILED(hr))
        VariantInit(value);
    return hr;
}

/* Replaces one of the file's strings unless the job is final. */
static HRESULT set_string(struct file *file, size_t offset, const WCHAR *value)
{
    WCHAR *copy, **field;
    HRESULT hr = S_OK;

    if (!(copy = heap_strdup(value ? value : L"")))
        return E_OUTOFMEMORY;
    AcquireSRWLockExclusive(&file->ejob->lock);
    if (ejob_is_final(file->ejob))
        hr = BG_E_INVALID_STATE;
    else
    {
        field = (WCHAR **)((char *)locked_file(file) + offset);
        free_str(*field);
        *field = copy;
        copy = NULL;
        ejob_touch(file->ejob);
    }
    ReleaseSRWLockExclusive(&file->ejob->lock);
    free_str(copy);
    return hr;
}

static HRESULT set_sink(struct file *file, IUnknown *unknown)
{
    IStream *stream;
    HRESULT hr;

    /* DO QIs for IStream although it only writes, in order (ISequentialStream::Write). */
    if (!unknown || FAILED(IUnknown_QueryInterface(unknown, &IID_IStream, (void **)&stream)))
        return E_INVALIDARG;
    hr = efile_set_sink(file->ejob, file->index, stream);
    IStream_Release(stream);
    return hr;
}

static HRESULT WINAPI do_file2_SetProperty(IDeliveryOptimizationFile2 *iface, DOFilePropertyId id,
                                           const VARIANT *value)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    struct ejob_file *record;
    HRESULT hr = S_OK;

    TRACE("%p %d %p", iface, id, value);
    if (!known_property(id))
        return file_result(file, BG_E_UNKNOWN_PROPERTY_ID);
    if (id == DOFilePropertyId_DownloadSinkMemoryStream)
        return DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED;
    if (!value)
        return E_INVALIDARG;
    switch (id)
    {
    case DOFilePropertyId_DecryptionInfo:
    case DOFilePropertyId_IntegrityCheckInfo:
        if (V_VT(value) != VT_BSTR)
            return E_INVALIDARG;
        hr = set_string(file,
                        id == DOFilePropertyId_DecryptionInfo
                            ? offsetof(struct ejob_file, decryption_info)
                            : offsetof(struct ejob_file, integrity_info),
                        V_BSTR(value));
        break;
    case DOFilePropertyId_DownloadSinkInterface:
        if (V_VT(value) != VT_UNKNOWN && V_VT(value) != VT_DISPATCH)
            return E_INVALIDARG;
        hr = set_sink(file, V_UNKNOWN(value));
        break;
    case DOFilePropertyId_DownloadSinkFilePath:
        if (V_VT(value) != VT_BSTR || !V_BSTR(value))
            return E_INVALIDARG;
        hr = efile_set_local(file->ejob, file->index, V_BSTR(value));
        break;
    default: /* IntegrityCheckMandatory and TotalSizeBytes: plain values */
        if (V_VT(value) != (id == DOFilePropertyId_TotalSizeBytes ? VT_UI8 : VT_BOOL))
            return E_INVALIDARG;
        AcquireSRWLockExclusive(&file->ejob->lock);
        record = locked_file(file);
        if (ejob_is_final(file->ejob))
            hr = BG_E_INVALID_STATE;
        else if (id == DOFilePropertyId_TotalSizeBytes)
        {
            record->size_hint = V_UI8(value);
            record->size_hint_set = TRUE;
        }
        else
        {
            record->integrity_mandatory = V_BOOL(value) != VARIANT_FALSE;
            record->integrity_mandatory_set = TRUE;
        }
        if (SUCCEEDED(hr))
            ejob_touch(file->ejob);
        ReleaseSRWLockExclusive(&file->ejob->lock);
        break;
    }
    return file_result(file, hr);
}

const IDeliveryOptimizationFile2Vtbl file_do2_vtbl = {
    do_file2_QueryInterface, do_file2_AddRef,      do_file2_Release,
    do_file2_GetProperty,    do_file2_SetProperty,
};
