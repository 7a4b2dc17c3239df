/* SPDX-License-Identifier: MIT */
/* The job's DO interfaces: IDeliveryOptimizationJob::AddFileWithRanges and
 * IDeliveryOptimizationJob2 (AddFile without a sink, the extended error property), in both
 * dialects. */
#include "testutil.h"

#define HELLO_SIZE 14 /* "hello, OpenDO\n" */

static IBackgroundCopyManager *manager_of(BOOL do_dialect)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IBackgroundCopyManager *manager = NULL;
    IClassFactory *factory;

    if (!do_dialect)
        return tu_manager();
    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(get_class_object);
    assert_hr(S_OK,
              get_class_object(&CLSID_DeliveryOptimization, &IID_IClassFactory, (void **)&factory));
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager,
                                                 (void **)&manager));
    IClassFactory_Release(factory);
    return manager;
}

struct fixture
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    IDeliveryOptimizationJob *do_job;
    IDeliveryOptimizationJob2 *do_job2;
    WCHAR dir[MAX_PATH];
    WCHAR remote[MAX_PATH];
    WCHAR local[MAX_PATH];
    BOOL do_dialect;
};

static void setup(struct fixture *f, const char *scratch, BOOL do_dialect)
{
    GUID id;

    f->do_dialect = do_dialect;
    f->manager = manager_of(do_dialect);
    tu_scratch(scratch, f->dir, ARRAY_SIZE(f->dir));
    tu_url(f->remote, ARRAY_SIZE(f->remote), L"hello.txt");
    tu_path(f->local, ARRAY_SIZE(f->local), f->dir, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(f->manager, L"do job", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &f->job));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f->job, &IID_IDeliveryOptimizationJob,
                                                      (void **)&f->do_job));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f->job, &IID_IDeliveryOptimizationJob2,
                                                      (void **)&f->do_job2));
}

static void teardown(struct fixture *f)
{
    IDeliveryOptimizationJob_Release(f->do_job);
    IDeliveryOptimizationJob2_Release(f->do_job2);
    tu_cancel_release(f->job);
    IBackgroundCopyManager_Release(f->manager);
    tu_remove_tree(f->dir);
}

/* The code a dialect gives for an engine (BITS) code. */
static HRESULT code(const struct fixture *f, HRESULT bits, HRESULT dos)
{
    return f->do_dialect ? dos : bits;
}

static ULONG file_count(IBackgroundCopyJob *job)
{
    return tu_progress(job).FilesTotal;
}

/* The local file holds exactly `expected` (size bytes). */
static void assert_file_bytes(const WCHAR *path, const char *expected, DWORD size)
{
    char buffer[256];
    DWORD read = 0;
    HANDLE h;

    h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_true(ReadFile(h, buffer, sizeof(buffer), &read, NULL));
    CloseHandle(h);
    assert_int_equal(read, size);
    assert_memory_equal(buffer, expected, size);
}

/* ---- IDeliveryOptimizationJob::AddFileWithRanges ---- */

static void check_add_file_with_ranges_arguments(BOOL do_dialect)
{
    BG_FILE_RANGE one = {0, 5}, invalid = {BG_LENGTH_TO_EOF, 5}, empty = {3, 0};
    BG_FILE_RANGE overlapping[] = {{100, 5}, {100, 0}};
    struct fixture f;

    setup(&f, do_dialect ? "do_afwr_args_do" : "do_afwr_args_bits", do_dialect);
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, L"id", f.remote, NULL, 1, &one, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, L"id", f.remote, L"", 1, &one, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, L"id", NULL, f.local, 1, &one, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, L"id", f.remote, f.local, 1, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, L"id", L"ftp://x/y", f.local, 0, NULL, 14));
    assert_hr(code(&f, BG_E_INVALID_RANGE, DO_E_INVALID_RANGE),
              IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"id", f.remote, f.local, 1,
                                                         &invalid, DO_UNKNOWN_FILE_SIZE));
    assert_hr(code(&f, BG_E_INVALID_RANGE, DO_E_INVALID_RANGE),
              IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"id", f.remote, f.local, 1,
                                                         &empty, DO_UNKNOWN_FILE_SIZE));
    assert_hr(code(&f, BG_E_OVERLAPPING_RANGES, DO_E_OVERLAPPING_RANGES),
              IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"id", f.remote, f.local, 2,
                                                         overlapping, DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(file_count(f.job), 0);
    assert_int_equal(tu_count(f.dir, L"*"), 0);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_hr(code(&f, BG_E_INVALID_STATE, DO_E_INVALID_STATE),
              IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"id", f.remote, f.local, 1,
                                                         &one, DO_UNKNOWN_FILE_SIZE));
    teardown(&f);
}

static void test_add_file_with_ranges_arguments_bits(void **state)
{
    check_add_file_with_ranges_arguments(FALSE);
}

static void test_add_file_with_ranges_arguments_do(void **state)
{
    check_add_file_with_ranges_arguments(TRUE);
}

static void test_add_file_with_ranges_whole(void **state)
{
    IBackgroundCopyFile2 *file2;
    IBackgroundCopyFile *file;
    BG_FILE_RANGE *ranges = (void *)0xdeadbeef;
    WCHAR served[MAX_PATH];
    struct fixture f;
    DWORD count = 5;

    /* No ranges: the whole file, as any AddFile. */
    setup(&f, "do_afwr_whole", TRUE);
    assert_hr(S_OK, IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"whole", f.remote,
                                                               f.local, 0, NULL, HELLO_SIZE));
    file = tu_job_file(f.job, 0);
    assert_hr(S_OK,
              IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2, (void **)&file2));
    assert_hr(S_FALSE, IBackgroundCopyFile2_GetFileRanges(file2, &count, &ranges));
    assert_int_equal(count, 0);
    assert_null(ranges);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    assert_true(tu_same_file(f.local, served));
    IBackgroundCopyFile2_Release(file2);
    IBackgroundCopyFile_Release(file);
    teardown(&f);
}

static void test_add_file_with_ranges_ranged(void **state)
{
    BG_FILE_RANGE ranges[] = {{7, 6}, {0, 5}};
    struct fixture f;

    setup(&f, "do_afwr_ranged", TRUE);
    assert_hr(S_OK, IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"ranged", f.remote,
                                                               f.local, ARRAY_SIZE(ranges), ranges,
                                                               DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(tu_progress(f.job).BytesTotal, 11);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    assert_file_bytes(f.local, "OpenDOhello", 11);
    teardown(&f);
}

/* ---- IDeliveryOptimizationJob2::AddFile ---- */

static void check_add_file(BOOL do_dialect)
{
    static const IID *const accepted[] = {
        &IID_IDeliveryOptimizationFile, &IID_IDeliveryOptimizationFile2,
        &IID_IBackgroundCopyFile,       &IID_IBackgroundCopyFile2,
        &IID_IBackgroundCopyFile3,      &IID_IBackgroundCopyFile4,
        &IID_IBackgroundCopyFile5,      &IID_IUnknown,
    };
    BG_FILE_RANGE bad = {BG_LENGTH_TO_EOF, 1};
    IBackgroundCopyFile *file;
    IUnknown *object;
    struct fixture f;
    LPWSTR name;

    setup(&f, do_dialect ? "do_addfile_do" : "do_addfile_bits", do_dialect);
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", f.remote, 0, NULL,
                                                &IID_IDeliveryOptimizationFile, NULL));
    object = (void *)0xdeadbeef;
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", f.remote, 1, NULL,
                                                &IID_IDeliveryOptimizationFile, (void **)&object));
    assert_null(object);
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", L"nowhere", 0, NULL,
                                                &IID_IDeliveryOptimizationFile, (void **)&object));
    assert_hr(code(&f, BG_E_INVALID_RANGE, DO_E_INVALID_RANGE),
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", f.remote, 1, &bad,
                                                &IID_IDeliveryOptimizationFile, (void **)&object));
    /* Not a file interface: refused, and nothing is added. */
    object = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", f.remote, 0, NULL,
                                                &IID_IBackgroundCopyJob, (void **)&object));
    assert_null(object);
    assert_int_equal(file_count(f.job), 0);

    for (ULONG i = 0; i < ARRAY_SIZE(accepted); i++)
    {
        WCHAR id[16];

        /* File ids are unique within a job. */
        swprintf(id, ARRAY_SIZE(id), L"id%lu", i);
        object = NULL;
        assert_hr(S_OK, IDeliveryOptimizationJob2_AddFile(f.do_job2, id, f.remote, 0, NULL,
                                                          accepted[i], (void **)&object));
        assert_non_null(object);
        assert_int_equal(file_count(f.job), i + 1);
        /* The new file object, with no sink yet. */
        assert_hr(S_OK, IUnknown_QueryInterface(object, &IID_IBackgroundCopyFile, (void **)&file));
        assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &name));
        assert_cotask_str(L"", name);
        assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &name));
        assert_cotask_str(f.remote, name);
        IBackgroundCopyFile_Release(file);
        IUnknown_Release(object);
    }
    /* They are the job's files for everyone else too. */
    file = tu_job_file(f.job, ARRAY_SIZE(accepted) - 1);
    IBackgroundCopyFile_Release(file);
    assert_int_equal(tu_count(f.dir, L"*"), 0);

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_hr(code(&f, BG_E_INVALID_STATE, DO_E_INVALID_STATE),
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", f.remote, 0, NULL,
                                                &IID_IDeliveryOptimizationFile, (void **)&object));
    teardown(&f);
}

static void test_add_file_bits(void **state)
{
    check_add_file(FALSE);
}

static void test_add_file_do(void **state)
{
    check_add_file(TRUE);
}

static HRESULT set_sink_path(IUnknown *object, const WCHAR *path)
{
    IDeliveryOptimizationFile2 *file2;
    VARIANT v;
    HRESULT hr;

    assert_hr(S_OK,
              IUnknown_QueryInterface(object, &IID_IDeliveryOptimizationFile2, (void **)&file2));
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(path);
    hr = IDeliveryOptimizationFile2_SetProperty(file2, DOFilePropertyId_DownloadSinkFilePath, &v);
    VariantClear(&v);
    IDeliveryOptimizationFile2_Release(file2);
    return hr;
}

static void test_add_file_then_sink(void **state)
{
    IBackgroundCopyFile2 *file2;
    WCHAR served[MAX_PATH];
    BG_JOB_STATE job_state;
    struct fixture f;

    setup(&f, "do_addfile_sink", TRUE);
    assert_hr(S_OK, IDeliveryOptimizationJob2_AddFile(f.do_job2, L"hello", NULL, 0, NULL,
                                                      &IID_IBackgroundCopyFile2, (void **)&file2));
    /* Resume wants a URL and a sink for every file; the job stays as it was. */
    assert_hr(DO_E_DOWNLOAD_NO_URI, IBackgroundCopyJob_Resume(f.job));
    assert_hr(S_OK, set_sink_path((IUnknown *)file2, f.local));
    assert_hr(DO_E_DOWNLOAD_NO_URI, IBackgroundCopyJob_Resume(f.job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(f.job, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_SUSPENDED);
    assert_hr(S_OK, IBackgroundCopyFile2_SetRemoteName(file2, f.remote));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    assert_true(tu_same_file(f.local, served));
    IBackgroundCopyFile2_Release(file2);
    teardown(&f);
}

static void test_add_file_without_sink_while_running(void **state)
{
    WCHAR url[MAX_PATH];
    IUnknown *object;
    struct fixture f;

    /* A file without a sink added to a running job stops it when its turn comes. */
    setup(&f, "do_addfile_running", TRUE);
    tu_unique_url(url, ARRAY_SIZE(url), L"throttled/4m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, url, f.local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_bytes(f.job, 1, 10000);
    assert_hr(S_OK, IDeliveryOptimizationJob2_AddFile(f.do_job2, L"late", f.remote, 0, NULL,
                                                      &IID_IUnknown, (void **)&object));
    IUnknown_Release(object);
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 15000);
    tu_assert_job_error(f.job, BG_ERROR_CONTEXT_NONE, DO_E_FILE_DOWNLOADSINK_UNSPECIFIED);
    assert_int_equal(tu_progress(f.job).FilesTransferred, 1);
    teardown(&f);
}

/* ---- IDeliveryOptimizationJob2 properties ---- */

static BSTR extended_error(struct fixture *f)
{
    VARIANT v;

    VariantInit(&v);
    assert_hr(S_OK, IDeliveryOptimizationJob2_GetProperty(f->do_job2,
                                                          DOJobPropertyId_ExtendedErrorInfo, &v));
    assert_int_equal(V_VT(&v), VT_BSTR);
    return V_BSTR(&v);
}

static void check_properties(BOOL do_dialect)
{
    WCHAR missing[MAX_PATH];
    struct fixture f;
    VARIANT v;
    BSTR info;

    setup(&f, do_dialect ? "do_job_props_do" : "do_job_props_bits", do_dialect);
    VariantInit(&v);
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob2_GetProperty(
                                f.do_job2, DOJobPropertyId_ExtendedErrorInfo, NULL));
    assert_hr(code(&f, BG_E_UNKNOWN_PROPERTY_ID, DO_E_UNKNOWN_PROPERTY_ID),
              IDeliveryOptimizationJob2_GetProperty(f.do_job2, (DOJobPropertyId)1, &v));
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = NULL;
    assert_hr(
        code(&f, BG_E_READ_ONLY_PROPERTY, DO_E_READ_ONLY_PROPERTY),
        IDeliveryOptimizationJob2_SetProperty(f.do_job2, DOJobPropertyId_ExtendedErrorInfo, &v));
    assert_hr(code(&f, BG_E_UNKNOWN_PROPERTY_ID, DO_E_UNKNOWN_PROPERTY_ID),
              IDeliveryOptimizationJob2_SetProperty(f.do_job2, (DOJobPropertyId)5, &v));

    /* No error yet. */
    info = extended_error(&f);
    assert_non_null(wcsstr(info, L"\"hresult\":\"0x00000000\""));
    SysFreeString(info);

    /* A 404: the code, the context and the status. */
    tu_url(missing, ARRAY_SIZE(missing), L"status/404");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, missing, f.local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    info = extended_error(&f);
    assert_int_equal(info[0], L'{');
    assert_non_null(wcsstr(info, L"\"hresult\":\"0x80190194\""));
    assert_non_null(wcsstr(info, L"\"context\":5"));
    assert_non_null(wcsstr(info, L"\"httpStatus\":404"));
    assert_non_null(wcsstr(info, L"\"fileIndex\":0"));
    SysFreeString(info);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_file_with_ranges_arguments_bits),
        cmocka_unit_test(test_add_file_with_ranges_arguments_do),
        cmocka_unit_test(test_add_file_with_ranges_whole),
        cmocka_unit_test(test_add_file_with_ranges_ranged),
        cmocka_unit_test(test_add_file_bits),
        cmocka_unit_test(test_add_file_do),
        cmocka_unit_test(test_add_file_then_sink),
        cmocka_unit_test(test_add_file_without_sink_while_running),
        cmocka_unit_test(test_properties_bits),
        cmocka_unit_test(test_properties_do),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
