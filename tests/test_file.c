/* SPDX-License-Identifier: MIT */
/* The COM file object: names, progress, the temporary file, ranges, QueryInterface and gaps. */
#include "testutil.h"

#define HELLO_SIZE 14   /* "hello, OpenDO\n" */

struct fixture
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    IBackgroundCopyFile *file;
    WCHAR dir[MAX_PATH];
    WCHAR remote[MAX_PATH];
    WCHAR local[MAX_PATH];
};

/* A job with hello.txt (not started) and its file object. */
static void setup(struct fixture *f, const char *scratch)
{
    f->manager = tu_manager();
    tu_scratch(scratch, f->dir, ARRAY_SIZE(f->dir));
    tu_url(f->remote, ARRAY_SIZE(f->remote), L"hello.txt");
    tu_path(f->local, ARRAY_SIZE(f->local), f->dir, L"hello.txt");
    f->job = tu_job_with_file(f->manager, f->remote, f->local);
    f->file = tu_job_file(f->job, 0);
}

static void teardown(struct fixture *f)
{
    IBackgroundCopyFile_Release(f->file);
    tu_cancel_release(f->job);
    IBackgroundCopyManager_Release(f->manager);
    tu_remove_tree(f->dir);
}

static WCHAR *temporary_name(IBackgroundCopyFile *file)
{
    IBackgroundCopyFile3 *file3;
    LPWSTR name = NULL;

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile3,
                                                       (void **)&file3));
    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(file3, &name));
    assert_non_null(name);
    IBackgroundCopyFile3_Release(file3);
    return name;
}

static void test_names(void **state)
{
    struct fixture f;
    LPWSTR name;

    setup(&f, "file_names");
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(f.remote, name);
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(f.file, &name));
    assert_cotask_str(f.local, name);
    /* Each call returns a fresh copy. */
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(f.file, &name));
    assert_cotask_str(f.local, name);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile_GetRemoteName(f.file, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile_GetLocalName(f.file, NULL));
    teardown(&f);
}

static void test_progress_new(void **state)
{
    struct fixture f;
    BG_FILE_PROGRESS progress;

    setup(&f, "file_progress_new");
    memset(&progress, 0xcc, sizeof(progress));
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(f.file, &progress));
    assert_true(progress.BytesTotal == BG_SIZE_UNKNOWN);
    assert_int_equal(progress.BytesTransferred, 0);
    assert_false(progress.Completed);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile_GetProgress(f.file, NULL));
    teardown(&f);
}

static void test_download_and_complete(void **state)
{
    WCHAR served[MAX_PATH], *temp;
    BG_FILE_PROGRESS progress;
    BG_JOB_PROGRESS job_progress;
    ULONGLONG completion, creation;
    BG_JOB_TIMES times;
    struct fixture f;
    DWORD attrs;

    setup(&f, "file_download");
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    temp = temporary_name(f.file);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);

    /* Transferred, not yet completed: the bytes are in the hidden temporary file only. */
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(f.file, &progress));
    assert_int_equal(progress.BytesTotal, HELLO_SIZE);
    assert_int_equal(progress.BytesTransferred, HELLO_SIZE);
    assert_false(progress.Completed);
    assert_false(tu_exists(f.local));
    attrs = GetFileAttributesW(temp);
    assert_true(attrs != INVALID_FILE_ATTRIBUTES);
    assert_true(attrs & FILE_ATTRIBUTE_HIDDEN);
    assert_true(tu_same_file(temp, served));

    /* The job records when it got there. */
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(f.job, &times));
    completion = ((ULONGLONG)times.TransferCompletionTime.dwHighDateTime << 32) |
                 times.TransferCompletionTime.dwLowDateTime;
    creation = ((ULONGLONG)times.CreationTime.dwHighDateTime << 32) |
               times.CreationTime.dwLowDateTime;
    assert_true(completion >= creation);

    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(f.file, &progress));
    assert_int_equal(progress.BytesTotal, HELLO_SIZE);
    assert_int_equal(progress.BytesTransferred, HELLO_SIZE);
    assert_true(progress.Completed);
    assert_true(tu_same_file(f.local, served));
    assert_false(tu_exists(temp));
    assert_int_equal(tu_count(f.dir, L"*"), 1);

    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(f.job, &job_progress));
    assert_int_equal(job_progress.BytesTotal, HELLO_SIZE);
    assert_int_equal(job_progress.BytesTransferred, HELLO_SIZE);
    assert_int_equal(job_progress.FilesTotal, 1);
    assert_int_equal(job_progress.FilesTransferred, 1);

    CoTaskMemFree(temp);
    teardown(&f);
}

static void test_temporary_name(void **state)
{
    IBackgroundCopyFile3 *file3;
    WCHAR dir_prefix[MAX_PATH], *temp;
    struct fixture f;
    DWORD attrs;

    setup(&f, "file_temporary");
    temp = temporary_name(f.file);

    /* A hidden file that already exists, directly in the destination folder. */
    swprintf(dir_prefix, ARRAY_SIZE(dir_prefix), L"%ls\\", f.dir);
    assert_int_equal(_wcsnicmp(temp, dir_prefix, wcslen(dir_prefix)), 0);
    assert_null(wcschr(temp + wcslen(dir_prefix), L'\\'));
    assert_true(_wcsicmp(temp, f.local));
    attrs = GetFileAttributesW(temp);
    assert_true(attrs != INVALID_FILE_ATTRIBUTES);
    assert_true(attrs & FILE_ATTRIBUTE_HIDDEN);
    assert_false(attrs & FILE_ATTRIBUTE_DIRECTORY);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IBackgroundCopyFile3,
                                                       (void **)&file3));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile3_GetTemporaryName(file3, NULL));
    IBackgroundCopyFile3_Release(file3);

    /* Cancel removes it. */
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_false(tu_exists(temp));
    assert_int_equal(tu_count(f.dir, L"*"), 0);

    CoTaskMemFree(temp);
    teardown(&f);
}

static void test_file_ranges(void **state)
{
    IBackgroundCopyFile2 *file2;
    BG_FILE_RANGE *ranges;
    struct fixture f;
    DWORD count;

    setup(&f, "file_ranges");
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IBackgroundCopyFile2,
                                                       (void **)&file2));
    count = 99;
    ranges = (void *)0xdeadbeef;
    assert_hr(S_FALSE, IBackgroundCopyFile2_GetFileRanges(file2, &count, &ranges));
    assert_int_equal(count, 0);
    assert_null(ranges);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_GetFileRanges(file2, NULL, &ranges));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_GetFileRanges(file2, &count, NULL));
    IBackgroundCopyFile2_Release(file2);
    teardown(&f);
}

static void test_query_interface(void **state)
{
    static const IID *const iids[] = {
        &IID_IUnknown,
        &IID_IBackgroundCopyFile,
        &IID_IBackgroundCopyFile2,
        &IID_IBackgroundCopyFile3,
        &IID_IBackgroundCopyFile4,
        &IID_IBackgroundCopyFile5,
        &IID_IDeliveryOptimizationFile,
        &IID_IDeliveryOptimizationFile2,
    };
    static const IID *const refused[] = {
        &IID_IBackgroundCopyJob, &IID_IDeliveryOptimizationJob, &IID_IBackgroundCopyError,
        &IID_IDispatch,
    };
    IUnknown *identity, *iface, *unknown, *back;
    IMarshal *marshal;
    struct fixture f;
    ULONG base;
    void *out;

    setup(&f, "file_qi");
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IUnknown, (void **)&identity));
    base = tu_refcount(f.file);
    for (size_t i = 0; i < ARRAY_SIZE(iids); i++)
    {
        iface = NULL;
        assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, iids[i], (void **)&iface));
        assert_non_null(iface);
        assert_int_equal(tu_refcount(f.file), base + 1);
        IUnknown_AddRef(iface);
        assert_int_equal(tu_refcount(f.file), base + 2);
        IUnknown_Release(iface);
        assert_hr(S_OK, IUnknown_QueryInterface(iface, &IID_IUnknown, (void **)&unknown));
        assert_ptr_equal(unknown, identity);
        IUnknown_Release(unknown);
        for (size_t j = 0; j < ARRAY_SIZE(iids); j++)
        {
            assert_hr(S_OK, IUnknown_QueryInterface(iface, iids[j], (void **)&back));
            IUnknown_Release(back);
        }
        IUnknown_Release(iface);
        assert_int_equal(tu_refcount(f.file), base);
    }
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
    {
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IBackgroundCopyFile_QueryInterface(f.file, refused[i], &out));
        assert_null(out);
    }
    assert_hr(E_POINTER, IBackgroundCopyFile_QueryInterface(f.file, &IID_IUnknown, NULL));
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IMarshal, (void **)&marshal));
    assert_hr(S_OK, IMarshal_QueryInterface(marshal, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, identity);
    IUnknown_Release(unknown);
    IMarshal_Release(marshal);
    IUnknown_Release(identity);
    teardown(&f);
}

static void test_file_outlives_job(void **state)
{
    struct fixture f;
    LPWSTR name;

    setup(&f, "file_outlives");
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    IBackgroundCopyJob_Release(f.job);
    f.job = NULL;
    IBackgroundCopyManager_Release(f.manager);
    f.manager = tu_manager();
    /* The file object keeps what it needs of the job. */
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(f.file, &name));
    assert_cotask_str(f.local, name);
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(f.remote, name);
    teardown(&f);
}

/* ---- the gaps ---- */

struct file_ifaces
{
    IBackgroundCopyFile5 *file;
    IDeliveryOptimizationFile *do_file;
    IDeliveryOptimizationFile2 *do_file2;
    const WCHAR *remote;
};

static HRESULT call_SetRemoteName(struct file_ifaces *f)
{
    return IBackgroundCopyFile5_SetRemoteName(f->file, f->remote);
}

static HRESULT call_SetValidationState(struct file_ifaces *f)
{
    return IBackgroundCopyFile5_SetValidationState(f->file, TRUE);
}

static HRESULT call_GetValidationState(struct file_ifaces *f)
{
    BOOL valid;
    return IBackgroundCopyFile5_GetValidationState(f->file, &valid);
}

static HRESULT call_IsDownloadedFromPeer(struct file_ifaces *f)
{
    BOOL from_peer;
    return IBackgroundCopyFile5_IsDownloadedFromPeer(f->file, &from_peer);
}

static HRESULT call_GetPeerDownloadStats(struct file_ifaces *f)
{
    UINT64 origin, peers;
    return IBackgroundCopyFile5_GetPeerDownloadStats(f->file, &origin, &peers);
}

static HRESULT call_File5_SetProperty(struct file_ifaces *f)
{
    BITS_FILE_PROPERTY_VALUE value;

    value.String = (WCHAR *)L"X-Test: 1";
    return IBackgroundCopyFile5_SetProperty(f->file, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS,
                                            value);
}

static HRESULT call_File5_GetProperty(struct file_ifaces *f)
{
    BITS_FILE_PROPERTY_VALUE value = {NULL};
    HRESULT hr = IBackgroundCopyFile5_GetProperty(f->file,
                                                  BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS,
                                                  &value);
    if (SUCCEEDED(hr))
        CoTaskMemFree(value.String);
    return hr;
}

static HRESULT call_GetStats(struct file_ifaces *f)
{
    DOSwarmStats stats;
    HRESULT hr;

    memset(&stats, 0, sizeof(stats));
    hr = IDeliveryOptimizationFile_GetStats(f->do_file, &stats);
    CoTaskMemFree(stats.fileId);
    CoTaskMemFree(stats.sourceURL);
    return hr;
}

static HRESULT call_DO2_GetProperty(struct file_ifaces *f)
{
    VARIANT value;
    HRESULT hr;

    VariantInit(&value);
    hr = IDeliveryOptimizationFile2_GetProperty(f->do_file2, DOFilePropertyId_TotalSizeBytes,
                                                &value);
    VariantClear(&value);
    return hr;
}

static HRESULT call_DO2_SetProperty(struct file_ifaces *f)
{
    VARIANT value;

    VariantInit(&value);
    V_VT(&value) = VT_UI8;
    V_UI8(&value) = HELLO_SIZE;
    return IDeliveryOptimizationFile2_SetProperty(f->do_file2, DOFilePropertyId_TotalSizeBytes,
                                                  &value);
}

#define GAP(name) {#name, call_##name}

static void test_not_implemented(void **state)
{
    static const struct
    {
        const char *name;
        HRESULT (*call)(struct file_ifaces *f);
    } gaps[] = {
        GAP(SetRemoteName),
        GAP(SetValidationState),
        GAP(GetValidationState),
        GAP(IsDownloadedFromPeer),
        GAP(GetPeerDownloadStats),
        GAP(File5_SetProperty),
        GAP(File5_GetProperty),
        GAP(GetStats),
        GAP(DO2_GetProperty),
        GAP(DO2_SetProperty),
    };
    struct file_ifaces ifaces;
    struct fixture f;
    int wrong = 0;
    LPWSTR name;

    setup(&f, "file_not_implemented");
    ifaces.remote = f.remote;
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IBackgroundCopyFile5,
                                                       (void **)&ifaces.file));
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IDeliveryOptimizationFile,
                                                       (void **)&ifaces.do_file));
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IDeliveryOptimizationFile2,
                                                       (void **)&ifaces.do_file2));
    for (size_t i = 0; i < ARRAY_SIZE(gaps); i++)
    {
        HRESULT hr = gaps[i].call(&ifaces);
        if (hr != E_NOTIMPL)
        {
            print_error("%s: expected E_NOTIMPL, got 0x%08lx (implemented now? update this "
                        "table and test the method for real)\n", gaps[i].name, (unsigned long)hr);
            wrong++;
        }
    }
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(f.remote, name);

    IBackgroundCopyFile5_Release(ifaces.file);
    IDeliveryOptimizationFile_Release(ifaces.do_file);
    IDeliveryOptimizationFile2_Release(ifaces.do_file2);
    teardown(&f);
    assert_int_equal(wrong, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_progress_new),
        cmocka_unit_test(test_download_and_complete),
        cmocka_unit_test(test_temporary_name),
        cmocka_unit_test(test_file_ranges),
        cmocka_unit_test(test_query_interface),
        cmocka_unit_test(test_file_outlives_job),
        cmocka_unit_test(test_not_implemented),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
