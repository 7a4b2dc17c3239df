/* SPDX-License-Identifier: MIT */
/* The file's DO interfaces: IDeliveryOptimizationFile::GetStats and IDeliveryOptimizationFile2's
 * properties, with their sinks (a path, an IStream that receives the bytes in order). */
#include <stdlib.h>
#include "testutil.h"

#define HELLO_SIZE 14 /* "hello, OpenDO\n" */
#define E_NOT_SET_HR HRESULT_FROM_WIN32(ERROR_NOT_FOUND)

/* ---- a stream sink that appends to memory ---- */

struct sink
{
    IStream IStream_iface;
    LONG refs;
    BYTE *data;
    SIZE_T size, capacity;
    LONG writing;    /* a Write is running: two at once would be a bug */
    LONG overlapped; /* Writes that found another one running */
    LONG seeks;      /* Seek calls (they fail: the stream only appends) */
    LONG writes;
    DWORD home;          /* the thread of the stream's apartment, if it lives in an STA, or 0 */
    LONG foreign_writes; /* Writes that came on another thread than `home` */
    DWORD foreign;       /* the thread of the last such Write */
};

static struct sink *impl_from_IStream(IStream *iface)
{
    return CONTAINING_RECORD(iface, struct sink, IStream_iface);
}

static HRESULT WINAPI sink_QueryInterface(IStream *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ISequentialStream) ||
        IsEqualIID(riid, &IID_IStream))
    {
        *out = iface;
        IStream_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI sink_AddRef(IStream *iface)
{
    return InterlockedIncrement(&impl_from_IStream(iface)->refs);
}

static ULONG WINAPI sink_Release(IStream *iface)
{
    return InterlockedDecrement(&impl_from_IStream(iface)->refs);
}

static HRESULT WINAPI sink_Read(IStream *iface, void *buffer, ULONG size, ULONG *read)
{
    return E_NOTIMPL;
}

static HRESULT WINAPI sink_Write(IStream *iface, const void *buffer, ULONG size, ULONG *written)
{
    struct sink *sink = impl_from_IStream(iface);

    if (InterlockedExchange(&sink->writing, 1))
        InterlockedIncrement(&sink->overlapped);
    if (sink->home && GetCurrentThreadId() != sink->home)
    {
        sink->foreign = GetCurrentThreadId();
        InterlockedIncrement(&sink->foreign_writes);
    }
    if (sink->size + size > sink->capacity)
    {
        sink->capacity = max(sink->capacity * 2, sink->size + size);
        sink->data = realloc(sink->data, sink->capacity);
    }
    /* Appends at the end: a Write is only in order if it continues the bytes before it. */
    memcpy(sink->data + sink->size, buffer, size);
    sink->size += size;
    sink->writes++;
    if (written)
        *written = size;
    InterlockedExchange(&sink->writing, 0);
    return S_OK;
}

static HRESULT WINAPI sink_Seek(IStream *iface, LARGE_INTEGER move, DWORD origin,
                                ULARGE_INTEGER *position)
{
    InterlockedIncrement(&impl_from_IStream(iface)->seeks);
    return STG_E_INVALIDFUNCTION;
}

static HRESULT WINAPI sink_SetSize(IStream *iface, ULARGE_INTEGER size)
{
    return E_NOTIMPL;
}

static HRESULT WINAPI sink_CopyTo(IStream *iface, IStream *to, ULARGE_INTEGER size,
                                  ULARGE_INTEGER *read, ULARGE_INTEGER *written)
{
    return E_NOTIMPL;
}

static HRESULT WINAPI sink_Commit(IStream *iface, DWORD flags)
{
    return E_NOTIMPL;
}

static HRESULT WINAPI sink_Revert(IStream *iface)
{
    return E_NOTIMPL;
}

static HRESULT WINAPI sink_LockRegion(IStream *iface, ULARGE_INTEGER offset, ULARGE_INTEGER size,
                                      DWORD type)
{
    return E_NOTIMPL;
}

static HRESULT WINAPI sink_UnlockRegion(IStream *iface, ULARGE_INTEGER offset, ULARGE_INTEGER size,
                                        DWORD type)
{
    return E_NOTIMPL;
}

static HRESULT WINAPI sink_Stat(IStream *iface, STATSTG *stat, DWORD flags)
{
    return E_NOTIMPL;
}

static HRESULT WINAPI sink_Clone(IStream *iface, IStream **out)
{
    return E_NOTIMPL;
}

static const IStreamVtbl sink_vtbl = {
    sink_QueryInterface, sink_AddRef,       sink_Release, sink_Read,   sink_Write,
    sink_Seek,           sink_SetSize,      sink_CopyTo,  sink_Commit, sink_Revert,
    sink_LockRegion,     sink_UnlockRegion, sink_Stat,    sink_Clone,
};

static void sink_init(struct sink *sink)
{
    memset(sink, 0, sizeof(*sink));
    sink->IStream_iface.lpVtbl = &sink_vtbl;
    sink->refs = 1;
}

/* ---- fixtures ---- */

static IBackgroundCopyManager *manager_of(const CLSID *clsid)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IBackgroundCopyManager *manager = NULL;
    IClassFactory *factory;

    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(get_class_object);
    assert_hr(S_OK, get_class_object(clsid, &IID_IClassFactory, (void **)&factory));
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager,
                                                 (void **)&manager));
    IClassFactory_Release(factory);
    return manager;
}

struct fixture
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    IDeliveryOptimizationJob2 *job2;
    WCHAR dir[MAX_PATH];
    WCHAR remote[MAX_PATH];
    WCHAR local[MAX_PATH];
    BOOL do_dialect;
};

static void setup(struct fixture *f, const char *scratch, BOOL do_dialect)
{
    GUID id;

    f->do_dialect = do_dialect;
    f->manager = do_dialect ? manager_of(&CLSID_DeliveryOptimization) : tu_manager();
    tu_scratch(scratch, f->dir, ARRAY_SIZE(f->dir));
    tu_url(f->remote, ARRAY_SIZE(f->remote), L"hello.txt");
    tu_path(f->local, ARRAY_SIZE(f->local), f->dir, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(f->manager, L"do file", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &f->job));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f->job, &IID_IDeliveryOptimizationJob2,
                                                      (void **)&f->job2));
}

static void teardown(struct fixture *f)
{
    IDeliveryOptimizationJob2_Release(f->job2);
    tu_cancel_release(f->job);
    IBackgroundCopyManager_Release(f->manager);
    tu_remove_tree(f->dir);
}

/* A file added through IDeliveryOptimizationJob2::AddFile (no sink yet). */
static IDeliveryOptimizationFile2 *add_do_file(struct fixture *f, const WCHAR *id,
                                               const WCHAR *remote, DWORD count,
                                               BG_FILE_RANGE *ranges)
{
    IDeliveryOptimizationFile2 *file2 = NULL;

    assert_hr(S_OK,
              IDeliveryOptimizationJob2_AddFile(f->job2, id, remote, count, ranges,
                                                &IID_IDeliveryOptimizationFile2, (void **)&file2));
    assert_non_null(file2);
    return file2;
}

static DOSwarmStats stats_of(void *file)
{
    IDeliveryOptimizationFile *do_file;
    DOSwarmStats stats;

    assert_hr(S_OK, IUnknown_QueryInterface((IUnknown *)file, &IID_IDeliveryOptimizationFile,
                                            (void **)&do_file));
    memset(&stats, 0xcc, sizeof(stats));
    assert_hr(S_OK, IDeliveryOptimizationFile_GetStats(do_file, &stats));
    IDeliveryOptimizationFile_Release(do_file);
    return stats;
}

static void free_stats(DOSwarmStats *stats)
{
    CoTaskMemFree(stats->fileId);
    CoTaskMemFree(stats->sourceURL);
}

static HRESULT set_prop(IDeliveryOptimizationFile2 *file2, DOFilePropertyId id, VARTYPE type,
                        const void *value)
{
    VARIANT v;
    HRESULT hr;

    VariantInit(&v);
    V_VT(&v) = type;
    switch (type)
    {
    case VT_BSTR:
        V_BSTR(&v) = SysAllocString(value);
        break;
    case VT_BOOL:
        V_BOOL(&v) = *(const VARIANT_BOOL *)value;
        break;
    case VT_UI8:
        V_UI8(&v) = *(const UINT64 *)value;
        break;
    case VT_I4:
        V_I4(&v) = *(const LONG *)value;
        break;
    case VT_UNKNOWN:
        V_UNKNOWN(&v) = (IUnknown *)value;
        break;
    }
    hr = IDeliveryOptimizationFile2_SetProperty(file2, id, &v);
    if (type == VT_BSTR)
        VariantClear(&v);
    return hr;
}

/* ---- GetStats ---- */

static void test_stats_new_file(void **state)
{
    IDeliveryOptimizationFile *do_file;
    IBackgroundCopyFile *file;
    DOSwarmStats stats;
    struct fixture f;

    setup(&f, "do_stats_new", FALSE);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, f.remote, f.local));
    file = tu_job_file(f.job, 0);
    stats = stats_of(file);
    /* Added through BITS: no fileId. */
    assert_cotask_str(L"", stats.fileId);
    assert_cotask_str(f.remote, stats.sourceURL);
    assert_true(stats.fileSize == DO_UNKNOWN_FILE_SIZE);
    assert_int_equal(stats.totalBytesDownloaded, 0);
    assert_int_equal(stats.bytesFromHttp, 0);
    assert_int_equal(stats.bytesFromLanPeers + stats.bytesFromGroupPeers +
                         stats.bytesFromInternetPeers + stats.bytesFromDoinc +
                         stats.bytesToLanPeers + stats.bytesToGroupPeers +
                         stats.bytesToInternetPeers,
                     0);
    assert_int_equal(stats.httpConnectionCount, 0);
    assert_int_equal(stats.downloadDuration, 0);
    assert_int_equal(stats.downloadMode, DownloadMode_Simple);
    assert_int_equal(stats.status, SwarmStatus_Paused);
    assert_true(stats.isBackground);

    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(f.job, BG_JOB_PRIORITY_FOREGROUND));
    stats = stats_of(file);
    assert_false(stats.isBackground);
    free_stats(&stats);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IDeliveryOptimizationFile,
                                                       (void **)&do_file));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationFile_GetStats(do_file, NULL));
    IDeliveryOptimizationFile_Release(do_file);
    IBackgroundCopyFile_Release(file);
    teardown(&f);
}

static void test_stats_after_download(void **state)
{
    BG_FILE_RANGE ranges[] = {{100, 1 << 20}, {2000000, 2 << 20}};
    IDeliveryOptimizationJob *do_job;
    IBackgroundCopyFile *file;
    DOSwarmStats stats;
    WCHAR url[MAX_PATH];
    struct fixture f;

    /* 3 MiB at 2 MB/s (after nginx's first second's worth) from an 8 MiB file, with a fileId
     * and a size the caller knew. */
    setup(&f, "do_stats_download", TRUE);
    tu_unique_url(url, ARRAY_SIZE(url), L"throttled/ranges.bin");
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f.job, &IID_IDeliveryOptimizationJob,
                                                      (void **)&do_job));
    assert_hr(S_OK, IDeliveryOptimizationJob_AddFileWithRanges(
                        do_job, L"content-1", url, f.local, ARRAY_SIZE(ranges), ranges, 8 << 20));
    IDeliveryOptimizationJob_Release(do_job);
    file = tu_job_file(f.job, 0);
    stats = stats_of(file);
    assert_cotask_str(L"content-1", stats.fileId);
    assert_cotask_str(url, stats.sourceURL);
    assert_int_equal(stats.fileSize, 8 << 20);
    assert_int_equal(stats.status, SwarmStatus_Paused);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_bytes(f.job, 100000, 10000);
    stats = stats_of(file);
    assert_int_equal(stats.status, SwarmStatus_Downloading);
    free_stats(&stats);
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 15000);

    stats = stats_of(file);
    assert_int_equal(stats.fileSize, 8 << 20);
    assert_int_equal(stats.totalBytesDownloaded, 3 << 20);
    assert_int_equal(stats.bytesFromHttp, 3 << 20);
    assert_true(stats.httpConnectionCount >= 1);
    /* Beyond its burst of one second's worth, nginx sends 2 MB/s: 3 MiB take a while. */
    assert_true(stats.downloadDuration >= 300);
    assert_true(stats.downloadDuration < 15000);
    assert_int_equal(stats.status, SwarmStatus_Complete);
    assert_int_equal(stats.downloadMode, DownloadMode_Simple);
    free_stats(&stats);
    IBackgroundCopyFile_Release(file);
    teardown(&f);
}

static void test_stats_local_source(void **state)
{
    WCHAR served[MAX_PATH], url[MAX_PATH];
    IBackgroundCopyFile *file;
    DOSwarmStats stats;
    struct fixture f;

    setup(&f, "do_stats_local", FALSE);
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    tu_file_url(url, ARRAY_SIZE(url), served);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, url, f.local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    file = tu_job_file(f.job, 0);
    stats = stats_of(file);
    assert_int_equal(stats.fileSize, 4 << 20);
    assert_int_equal(stats.totalBytesDownloaded, 4 << 20);
    assert_int_equal(stats.bytesFromHttp, 0);
    assert_int_equal(stats.httpConnectionCount, 0);
    assert_int_equal(stats.status, SwarmStatus_Complete);
    free_stats(&stats);
    IBackgroundCopyFile_Release(file);
    teardown(&f);
}

/* ---- IDeliveryOptimizationFile2 ---- */

static void check_properties(BOOL do_dialect)
{
    VARIANT_BOOL yes = VARIANT_TRUE;
    IDeliveryOptimizationFile2 *file2;
    IBackgroundCopyFile *file;
    UINT64 size = 12345;
    LONG four = 4;
    struct sink sink;
    struct fixture f;
    VARIANT v;

    setup(&f, do_dialect ? "do_props_do" : "do_props_bits", do_dialect);
    sink_init(&sink);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, f.remote, f.local));
    file = tu_job_file(f.job, 0);
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IDeliveryOptimizationFile2,
                                                       (void **)&file2));
    IBackgroundCopyFile_Release(file);

    VariantInit(&v);
    assert_hr(do_dialect ? DO_E_UNKNOWN_PROPERTY_ID : BG_E_UNKNOWN_PROPERTY_ID,
              IDeliveryOptimizationFile2_GetProperty(file2, (DOFilePropertyId)7, &v));
    assert_hr(do_dialect ? DO_E_UNKNOWN_PROPERTY_ID : BG_E_UNKNOWN_PROPERTY_ID,
              set_prop(file2, (DOFilePropertyId)-1, VT_UI8, &size));
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationFile2_GetProperty(file2, DOFilePropertyId_TotalSizeBytes, NULL));
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationFile2_SetProperty(file2, DOFilePropertyId_TotalSizeBytes, NULL));

    /* Write-only strings. */
    assert_hr(DO_E_WRITE_ONLY_PROPERTY,
              IDeliveryOptimizationFile2_GetProperty(file2, DOFilePropertyId_DecryptionInfo, &v));
    assert_hr(S_OK,
              set_prop(file2, DOFilePropertyId_DecryptionInfo, VT_BSTR, L"{\"KeyData\":\"00\"}"));
    assert_hr(DO_E_WRITE_ONLY_PROPERTY,
              IDeliveryOptimizationFile2_GetProperty(file2, DOFilePropertyId_DecryptionInfo, &v));
    assert_hr(E_INVALIDARG, set_prop(file2, DOFilePropertyId_DecryptionInfo, VT_I4, &four));
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_IntegrityCheckInfo, VT_BSTR,
                             L"{\"PiecesHashFileUrl\":\"http://x/phf\"}"));
    assert_hr(DO_E_WRITE_ONLY_PROPERTY, IDeliveryOptimizationFile2_GetProperty(
                                            file2, DOFilePropertyId_IntegrityCheckInfo, &v));

    /* Read/write values, unset until set. */
    assert_hr(E_NOT_SET_HR, IDeliveryOptimizationFile2_GetProperty(
                                file2, DOFilePropertyId_IntegrityCheckMandatory, &v));
    assert_int_equal(V_VT(&v), VT_EMPTY);
    assert_hr(E_INVALIDARG,
              set_prop(file2, DOFilePropertyId_IntegrityCheckMandatory, VT_I4, &four));
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_IntegrityCheckMandatory, VT_BOOL, &yes));
    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(
                        file2, DOFilePropertyId_IntegrityCheckMandatory, &v));
    assert_int_equal(V_VT(&v), VT_BOOL);
    assert_int_equal(V_BOOL(&v), VARIANT_TRUE);

    assert_hr(E_NOT_SET_HR,
              IDeliveryOptimizationFile2_GetProperty(file2, DOFilePropertyId_TotalSizeBytes, &v));
    assert_hr(E_INVALIDARG, set_prop(file2, DOFilePropertyId_TotalSizeBytes, VT_I4, &four));
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_TotalSizeBytes, VT_UI8, &size));
    assert_hr(S_OK,
              IDeliveryOptimizationFile2_GetProperty(file2, DOFilePropertyId_TotalSizeBytes, &v));
    assert_int_equal(V_VT(&v), VT_UI8);
    assert_int_equal(V_UI8(&v), 12345);

    /* A BITS file's sink is its local name; no second kind, no other path. */
    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(
                        file2, DOFilePropertyId_DownloadSinkFilePath, &v));
    assert_int_equal(V_VT(&v), VT_BSTR);
    assert_true(!wcscmp(V_BSTR(&v), f.local));
    VariantClear(&v);
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, f.local));
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET,
              set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, L"C:\\other.bin"));
    assert_hr(E_INVALIDARG,
              set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, L"relative.bin"));
    assert_hr(E_NOT_SET_HR, IDeliveryOptimizationFile2_GetProperty(
                                file2, DOFilePropertyId_DownloadSinkInterface, &v));
    assert_hr(
        DO_E_FILE_DOWNLOADSINK_ALREADY_SET,
        set_prop(file2, DOFilePropertyId_DownloadSinkInterface, VT_UNKNOWN, &sink.IStream_iface));
    assert_int_equal(sink.refs, 1);

    /* Deprecated. */
    assert_hr(DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED,
              IDeliveryOptimizationFile2_GetProperty(
                  file2, DOFilePropertyId_DownloadSinkMemoryStream, &v));
    assert_hr(DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED,
              set_prop(file2, DOFilePropertyId_DownloadSinkMemoryStream, VT_UI8, &size));

    /* Final: read still, set no more. */
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_hr(do_dialect ? DO_E_INVALID_STATE : (HRESULT)BG_E_INVALID_STATE,
              set_prop(file2, DOFilePropertyId_TotalSizeBytes, VT_UI8, &size));
    assert_hr(do_dialect ? DO_E_INVALID_STATE : (HRESULT)BG_E_INVALID_STATE,
              set_prop(file2, DOFilePropertyId_IntegrityCheckMandatory, VT_BOOL, &yes));
    assert_hr(do_dialect ? DO_E_INVALID_STATE : (HRESULT)BG_E_INVALID_STATE,
              set_prop(file2, DOFilePropertyId_DecryptionInfo, VT_BSTR, L"{}"));
    assert_hr(S_OK,
              IDeliveryOptimizationFile2_GetProperty(file2, DOFilePropertyId_TotalSizeBytes, &v));
    IDeliveryOptimizationFile2_Release(file2);
    teardown(&f);
}

static void test_properties_bits(void **state)
{
    check_properties(FALSE);
}

static void test_properties_do(void **state)
{
    check_properties(TRUE);
}

static void test_sink_file_path(void **state)
{
    IDeliveryOptimizationFile2 *file2;
    IBackgroundCopyFile *file;
    WCHAR served[MAX_PATH], missing[MAX_PATH];
    struct sink sink;
    struct fixture f;
    LPWSTR name;
    VARIANT v;

    setup(&f, "do_sink_path", TRUE);
    sink_init(&sink);
    file2 = add_do_file(&f, L"hello", f.remote, 0, NULL);
    /* No sink yet, and no temporary file either. */
    VariantInit(&v);
    assert_hr(E_NOT_SET_HR, IDeliveryOptimizationFile2_GetProperty(
                                file2, DOFilePropertyId_DownloadSinkFilePath, &v));
    assert_int_equal(tu_count(f.dir, L"*"), 0);
    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, IBackgroundCopyJob_Resume(f.job));

    assert_hr(E_INVALIDARG,
              set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, L"hello.txt"));
    tu_path(missing, ARRAY_SIZE(missing), f.dir, L"no\\such\\dir.bin");
    assert_true(FAILED(set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, missing)));
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, f.local));
    /* Its temporary file is made next to the destination when the transfer starts. */
    assert_int_equal(tu_count(f.dir, L"BIT*.tmp"), 0);
    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(
                        file2, DOFilePropertyId_DownloadSinkFilePath, &v));
    assert_true(!wcscmp(V_BSTR(&v), f.local));
    VariantClear(&v);
    assert_hr(
        DO_E_FILE_DOWNLOADSINK_ALREADY_SET,
        set_prop(file2, DOFilePropertyId_DownloadSinkInterface, VT_UNKNOWN, &sink.IStream_iface));

    assert_hr(S_OK, IDeliveryOptimizationFile2_QueryInterface(file2, &IID_IBackgroundCopyFile,
                                                              (void **)&file));
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &name));
    assert_cotask_str(f.local, name);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    assert_true(tu_same_file(f.local, served));
    IBackgroundCopyFile_Release(file);
    IDeliveryOptimizationFile2_Release(file2);
    teardown(&f);
}

static void test_sink_file_path_folder(void **state)
{
    IDeliveryOptimizationFile2 *file2;
    IDeliveryOptimizationJob *do_job;
    WCHAR folder[MAX_PATH], name[MAX_PATH + 4];
    struct fixture f;
    VARIANT v;

    setup(&f, "do_sink_folder", TRUE);
    tu_path(folder, ARRAY_SIZE(folder), f.dir, L"existing");
    assert_true(CreateDirectoryW(folder, NULL));
    file2 = add_do_file(&f, L"folder", f.remote, 0, NULL);

    /* A folder, or a name ending in a backslash, is no file to download into. */
    assert_hr(E_INVALIDARG,
              set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, folder));
    swprintf(name, ARRAY_SIZE(name), L"%ls\\", folder);
    assert_hr(E_INVALIDARG, set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, name));
    swprintf(name, ARRAY_SIZE(name), L"%ls\\..", folder);
    assert_hr(E_INVALIDARG, set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, name));
    VariantInit(&v);
    assert_hr(E_NOT_SET_HR, IDeliveryOptimizationFile2_GetProperty(
                                file2, DOFilePropertyId_DownloadSinkFilePath, &v));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f.job, &IID_IDeliveryOptimizationJob,
                                                      (void **)&do_job));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                do_job, L"folder2", f.remote, folder, 0, NULL, HELLO_SIZE));
    IDeliveryOptimizationJob_Release(do_job);
    /* Nothing was written next to it or into it. */
    assert_int_equal(tu_count(f.dir, L"*"), 1);
    assert_int_equal(tu_count(folder, L"*"), 0);

    /* The file still takes a good path. */
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, f.local));
    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(
                        file2, DOFilePropertyId_DownloadSinkFilePath, &v));
    assert_true(!wcscmp(V_BSTR(&v), f.local));
    VariantClear(&v);
    IDeliveryOptimizationFile2_Release(file2);
    teardown(&f);
}

static void test_sink_stream(void **state)
{
    IDeliveryOptimizationFile2 *file2;
    IBackgroundCopyFile *file;
    BG_FILE_PROGRESS progress;
    WCHAR served[MAX_PATH], url[MAX_PATH];
    struct sink sink;
    struct fixture f;
    BYTE *expected;
    LPWSTR name;
    DWORD read;
    HANDLE h;
    VARIANT v;
    LONG held;

    setup(&f, "do_sink_stream", TRUE);
    sink_init(&sink);
    tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
    file2 = add_do_file(&f, L"stream", url, 0, NULL);
    /* Something that is no IStream is refused. */
    assert_hr(E_INVALIDARG, set_prop(file2, DOFilePropertyId_DownloadSinkInterface, VT_UNKNOWN,
                                     (IUnknown *)f.job));
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_DownloadSinkInterface, VT_UNKNOWN,
                             &sink.IStream_iface));
    /* The job holds the stream (through the Global Interface Table: how many references that
     * takes is COM's business). */
    held = sink.refs;
    assert_true(held > 1);
    /* The same stream again is no change; a path or another kind is refused. */
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_DownloadSinkInterface, VT_UNKNOWN,
                             &sink.IStream_iface));
    assert_int_equal(sink.refs, held);
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET,
              set_prop(file2, DOFilePropertyId_DownloadSinkFilePath, VT_BSTR, f.local));
    VariantInit(&v);
    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(
                        file2, DOFilePropertyId_DownloadSinkInterface, &v));
    assert_int_equal(V_VT(&v), VT_UNKNOWN);
    assert_ptr_equal(V_UNKNOWN(&v), &sink.IStream_iface);
    VariantClear(&v);
    assert_hr(E_NOT_SET_HR, IDeliveryOptimizationFile2_GetProperty(
                                file2, DOFilePropertyId_DownloadSinkFilePath, &v));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 15000);
    /* Every byte, in order, one Write at a time, never a Seek. */
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    expected = malloc(4 << 20);
    h = CreateFileW(served, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(ReadFile(h, expected, 4 << 20, &read, NULL));
    CloseHandle(h);
    assert_int_equal(sink.size, 4 << 20);
    assert_memory_equal(sink.data, expected, 4 << 20);
    assert_int_equal(sink.overlapped, 0);
    assert_int_equal(sink.seeks, 0);
    assert_true(sink.writes >= 1);

    /* Nothing to rename: Complete hands the file over as it is, and no file appears. */
    assert_hr(S_OK, IDeliveryOptimizationFile2_QueryInterface(file2, &IID_IBackgroundCopyFile,
                                                              (void **)&file));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(file, &progress));
    assert_true(progress.Completed);
    assert_int_equal(progress.BytesTransferred, 4 << 20);
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &name));
    assert_cotask_str(L"", name);
    assert_int_equal(tu_count(f.dir, L"*"), 0);
    IBackgroundCopyFile_Release(file);
    IDeliveryOptimizationFile2_Release(file2);
    teardown(&f);
    /* The job let go of the stream with its last reference. */
    assert_int_equal(sink.refs, 1);
    free(expected);
    free(sink.data);
}

static void test_sink_stream_ranges(void **state)
{
    BG_FILE_RANGE ranges[] = {{7, 6}, {0, 5}, {13, BG_LENGTH_TO_EOF}};
    IDeliveryOptimizationFile2 *file2;
    struct sink sink;
    struct fixture f;

    setup(&f, "do_sink_ranges", TRUE);
    sink_init(&sink);
    file2 = add_do_file(&f, L"ranges", f.remote, ARRAY_SIZE(ranges), ranges);
    assert_hr(S_OK, set_prop(file2, DOFilePropertyId_DownloadSinkInterface, VT_UNKNOWN,
                             &sink.IStream_iface));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    assert_int_equal(sink.size, 12);
    assert_memory_equal(sink.data, "OpenDOhello\n", 12);
    assert_int_equal(sink.seeks, 0);
    IDeliveryOptimizationFile2_Release(file2);
    teardown(&f);
    free(sink.data);
}

/* ---- a stream that lives in a single-threaded apartment ---- */

struct sta
{
    struct sink sink;
    IDeliveryOptimizationFile2 *file2; /* free-threaded: usable from the STA as it is */
    HANDLE ready;                      /* set once the sink is set (or failed to be) */
    HANDLE stop;                       /* tells the STA to leave */
    HRESULT set_hr;
    HRESULT get_hr;  /* GetProperty(DownloadSinkInterface) in the STA */
    BOOL got_itself; /* ... gave the stream itself, as it must in the stream's apartment */
};

/* An STA thread, as in a GUI client: creates the stream, sets it as the file's sink and pumps
 * messages (which is how calls from other apartments reach it) until told to stop. */
static DWORD WINAPI sta_main(void *arg)
{
    struct sta *sta = arg;
    VARIANT v;
    MSG msg;

    if (FAILED(sta->set_hr = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED)))
    {
        SetEvent(sta->ready);
        return 0;
    }
    sink_init(&sta->sink);
    sta->sink.home = GetCurrentThreadId();
    sta->set_hr = set_prop(sta->file2, DOFilePropertyId_DownloadSinkInterface, VT_UNKNOWN,
                           &sta->sink.IStream_iface);
    VariantInit(&v);
    sta->get_hr = IDeliveryOptimizationFile2_GetProperty(
        sta->file2, DOFilePropertyId_DownloadSinkInterface, &v);
    sta->got_itself = V_VT(&v) == VT_UNKNOWN && V_UNKNOWN(&v) == (IUnknown *)&sta->sink;
    VariantClear(&v);
    SetEvent(sta->ready);
    while (MsgWaitForMultipleObjects(1, &sta->stop, FALSE, INFINITE, QS_ALLINPUT) != WAIT_OBJECT_0)
    {
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
        {
            TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
    }
    CoUninitialize();
    return 0;
}

/* Releases the objects it is given, on a thread of its own that never enters an apartment. */
struct release
{
    IUnknown *unknowns[4];
};

static DWORD WINAPI release_main(void *arg)
{
    struct release *release = arg;

    for (size_t i = 0; i < ARRAY_SIZE(release->unknowns); i++)
        IUnknown_Release(release->unknowns[i]);
    return 0;
}

static void test_sink_stream_sta(void **state)
{
    struct release release;
    ULONGLONG deadline;
    HANDLE releaser;
    IDeliveryOptimizationFile2 *file2;
    WCHAR served[MAX_PATH], url[MAX_PATH];
    struct fixture f;
    struct sta sta = {0};
    BYTE *expected;
    HANDLE thread, h;
    DWORD read;
    VARIANT v;

    setup(&f, "do_sink_sta", TRUE);
    tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
    file2 = add_do_file(&f, L"sta", url, 0, NULL);
    sta.file2 = file2;
    sta.ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    sta.stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    thread = CreateThread(NULL, 0, sta_main, &sta, 0, NULL);
    assert_non_null(thread);
    if (WaitForSingleObject(sta.ready, 10000) != WAIT_OBJECT_0)
        fail_msg("the STA thread did not set its sink within 10 s");
    assert_hr(S_OK, sta.set_hr);
    assert_hr(S_OK, sta.get_hr);
    assert_true(sta.got_itself);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 30000);
    /* Every Write came in the stream's apartment, on its thread, and the bytes are right. */
    if (sta.sink.foreign_writes)
        fail_msg("%ld of %ld Writes came on thread %lx, not on the STA thread %lx",
                 sta.sink.foreign_writes, sta.sink.writes, sta.sink.foreign, sta.sink.home);
    assert_true(sta.sink.writes >= 1);
    assert_int_equal(sta.sink.overlapped, 0);
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    expected = malloc(4 << 20);
    h = CreateFileW(served, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(ReadFile(h, expected, 4 << 20, &read, NULL));
    CloseHandle(h);
    assert_int_equal(sta.sink.size, 4 << 20);
    assert_memory_equal(sta.sink.data, expected, 4 << 20);
    /* From this (multithreaded) apartment the property is a proxy, not the STA's object. */
    VariantInit(&v);
    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(
                        file2, DOFilePropertyId_DownloadSinkInterface, &v));
    assert_int_equal(V_VT(&v), VT_UNKNOWN);
    assert_true(V_UNKNOWN(&v) != (IUnknown *)&sta.sink.IStream_iface);
    VariantClear(&v);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));

    /* The job's end revokes the stream's registration, on whatever thread lets go of the job
     * last: here a plain thread that never called CoInitialize (or the notifier). The STA
     * still runs, so only the revocation can give the stream its references back. */
    release.unknowns[0] = (IUnknown *)file2;
    release.unknowns[1] = (IUnknown *)f.job2;
    release.unknowns[2] = (IUnknown *)f.job;
    release.unknowns[3] = (IUnknown *)f.manager;
    releaser = CreateThread(NULL, 0, release_main, &release, 0, NULL);
    assert_non_null(releaser);
    assert_int_equal(WaitForSingleObject(releaser, 10000), WAIT_OBJECT_0);
    CloseHandle(releaser);
    deadline = GetTickCount64() + 10000;
    while (sta.sink.refs != 1)
    {
        if (GetTickCount64() > deadline)
            fail_msg("the job is gone but its sink still has %ld references, not 1", sta.sink.refs);
        Sleep(10);
    }
    tu_remove_tree(f.dir);
    SetEvent(sta.stop);
    assert_int_equal(WaitForSingleObject(thread, 10000), WAIT_OBJECT_0);
    CloseHandle(thread);
    CloseHandle(sta.ready);
    CloseHandle(sta.stop);
    assert_int_equal(sta.sink.refs, 1);
    free(expected);
    free(sta.sink.data);
}

static void test_sink_stream_sta_gone(void **state)
{
    IDeliveryOptimizationFile2 *file2;
    IBackgroundCopyError *error;
    BG_ERROR_CONTEXT context;
    struct fixture f;
    struct sta sta = {0};
    HANDLE thread;
    HRESULT code;

    setup(&f, "do_sink_sta_gone", TRUE);
    file2 = add_do_file(&f, L"sta gone", f.remote, 0, NULL);
    sta.file2 = file2;
    sta.ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    sta.stop = CreateEventW(NULL, TRUE, TRUE, NULL);
    /* The STA sets its sink and leaves at once: its stream can no longer be called. */
    thread = CreateThread(NULL, 0, sta_main, &sta, 0, NULL);
    assert_non_null(thread);
    assert_int_equal(WaitForSingleObject(thread, 10000), WAIT_OBJECT_0);
    CloseHandle(thread);
    assert_hr(S_OK, sta.set_hr);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    /* An error in the local context, not a hang and not a call on the wrong thread. */
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 15000);
    assert_hr(S_OK, IBackgroundCopyJob_GetError(f.job, &error));
    assert_hr(S_OK, IBackgroundCopyError_GetError(error, &context, &code));
    IBackgroundCopyError_Release(error);
    assert_int_equal(context, BG_ERROR_CONTEXT_LOCAL_FILE);
    assert_true(FAILED(code));
    assert_int_equal(sta.sink.writes, 0);
    IDeliveryOptimizationFile2_Release(file2);
    teardown(&f);
    CloseHandle(sta.ready);
    CloseHandle(sta.stop);
    assert_int_equal(sta.sink.refs, 1);
    free(sta.sink.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_new_file),        cmocka_unit_test(test_stats_after_download),
        cmocka_unit_test(test_stats_local_source),    cmocka_unit_test(test_properties_bits),
        cmocka_unit_test(test_properties_do),         cmocka_unit_test(test_sink_file_path),
        cmocka_unit_test(test_sink_file_path_folder), cmocka_unit_test(test_sink_stream),
        cmocka_unit_test(test_sink_stream_ranges),    cmocka_unit_test(test_sink_stream_sta),
        cmocka_unit_test(test_sink_stream_sta_gone),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
