/* SPDX-License-Identifier: MIT */
/* IBackgroundCopyManager: CreateJob, GetJob, EnumJobs, GetErrorDescription and QueryInterface. */
#include "testutil.h"

#define assert_string_equal_w(a, b) assert_int_equal(0, wcscmp((a), (b)))

static const GUID unknown_id = {
    0x0badc0de, 0x1234, 0x5678, {0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78}};

/* {0000033a-0000-0000-c000-000000000046}: CLSID_InProcFreeMarshaler, spelled out because
 * MinGW's libuuid carries a wrong value for it. */
static const CLSID clsid_free_marshaler = {
    0x0000033a, 0x0000, 0x0000, {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};

static void fill(WCHAR *buffer, size_t length)
{
    for (size_t i = 0; i < length; i++)
        buffer[i] = L'a' + (WCHAR)(i % 26);
    buffer[length] = 0;
}

/* Is the job with this id among the jobs EnumJobs lists? Also returns the total count. */
static BOOL enum_jobs_has(IBackgroundCopyManager *manager, const GUID *id, ULONG *total)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    BOOL found = FALSE;
    ULONG count, seen = 0;
    GUID job_id;

    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &job_id));
        if (IsEqualGUID(&job_id, id))
            found = TRUE;
        IBackgroundCopyJob_Release(job);
        seen++;
    }
    assert_int_equal(seen, count);
    IEnumBackgroundCopyJobs_Release(jobs);
    if (total)
        *total = count;
    return found;
}

static void test_create_job_arguments(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job;
    WCHAR name[300];
    GUID id;
    ULONG before, after;
    LPWSTR text;

    enum_jobs_has(manager, &unknown_id, &before);

    job = (void *)0xdeadbeef;
    assert_hr(E_INVALIDARG,
              IBackgroundCopyManager_CreateJob(manager, NULL, BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_null(job);
    job = (void *)0xdeadbeef;
    assert_hr(E_INVALIDARG,
              IBackgroundCopyManager_CreateJob(manager, L"x", BG_JOB_TYPE_DOWNLOAD, NULL, &job));
    assert_null(job);
    assert_hr(E_INVALIDARG,
              IBackgroundCopyManager_CreateJob(manager, L"x", BG_JOB_TYPE_DOWNLOAD, &id, NULL));

    fill(name, 257);
    job = (void *)0xdeadbeef;
    assert_hr(E_INVALIDARG,
              IBackgroundCopyManager_CreateJob(manager, name, BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_null(job);

    /* Upload jobs are a gap, reported as one. */
    job = (void *)0xdeadbeef;
    assert_hr(E_NOTIMPL,
              IBackgroundCopyManager_CreateJob(manager, L"x", BG_JOB_TYPE_UPLOAD, &id, &job));
    assert_null(job);
    job = (void *)0xdeadbeef;
    assert_hr(E_NOTIMPL,
              IBackgroundCopyManager_CreateJob(manager, L"x", BG_JOB_TYPE_UPLOAD_REPLY, &id, &job));
    assert_null(job);

    /* None of the refused calls created a job. */
    enum_jobs_has(manager, &unknown_id, &after);
    assert_int_equal(after, before);

    fill(name, 256);
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, name, BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(name, text);
    tu_cancel_release(job);

    /* An empty name is a name. */
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(L"", text);
    tu_cancel_release(job);

    IBackgroundCopyManager_Release(manager);
}

static void test_create_job_new(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job1, *job2;
    BG_JOB_STATE job_state;
    BG_JOB_TYPE type;
    GUID id1, id2, got;

    memset(&id1, 0, sizeof(id1));
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"one", BG_JOB_TYPE_DOWNLOAD, &id1, &job1));
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"two", BG_JOB_TYPE_DOWNLOAD, &id2, &job2));
    assert_false(IsEqualGUID(&id1, &GUID_NULL));
    assert_false(IsEqualGUID(&id2, &GUID_NULL));
    assert_false(IsEqualGUID(&id1, &id2));

    assert_hr(S_OK, IBackgroundCopyJob_GetId(job1, &got));
    assert_true(IsEqualGUID(&got, &id1));
    assert_hr(S_OK, IBackgroundCopyJob_GetId(job2, &got));
    assert_true(IsEqualGUID(&got, &id2));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job1, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_SUSPENDED);
    assert_hr(S_OK, IBackgroundCopyJob_GetType(job1, &type));
    assert_int_equal(type, BG_JOB_TYPE_DOWNLOAD);

    tu_cancel_release(job1);
    tu_cancel_release(job2);
    IBackgroundCopyManager_Release(manager);
}

static void test_get_job(void **state)
{
    IBackgroundCopyManager *manager = tu_manager(), *other = tu_manager();
    IBackgroundCopyJob *job, *found, *found_other, *missing;
    LPWSTR text;
    GUID id, got;

    assert_ptr_not_equal(manager, other);
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"findme", BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &job));

    found = NULL;
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_non_null(found);
    assert_hr(S_OK, IBackgroundCopyJob_GetId(found, &got));
    assert_true(IsEqualGUID(&got, &id));

    /* The job table is process-wide: another manager finds the same job. */
    found_other = NULL;
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(other, &id, &found_other));
    assert_non_null(found_other);
    assert_hr(S_OK, IBackgroundCopyJob_GetId(found_other, &got));
    assert_true(IsEqualGUID(&got, &id));

    /* Same job, not a copy: a change through one pointer shows through the others. */
    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(found_other, L"changed"));
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(L"changed", text);
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(found, &text));
    assert_cotask_str(L"findme", text);

    missing = (void *)0xdeadbeef;
    assert_hr(BG_E_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &unknown_id, &missing));
    assert_null(missing);
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_GetJob(manager, &id, NULL));

    IBackgroundCopyJob_Release(found_other);
    tu_cancel_release(job);
    IBackgroundCopyJob_Release(found);
    IBackgroundCopyManager_Release(other);
    IBackgroundCopyManager_Release(manager);
}

static void test_get_job_after_cancel_and_complete(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *cancelled, *completed, *found;
    GUID cancel_id, complete_id;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"cancel", BG_JOB_TYPE_DOWNLOAD,
                                                     &cancel_id, &cancelled));
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"complete", BG_JOB_TYPE_DOWNLOAD,
                                                     &complete_id, &completed));
    assert_true(enum_jobs_has(manager, &cancel_id, NULL));
    assert_true(enum_jobs_has(manager, &complete_id, NULL));

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(cancelled));
    found = (void *)0xdeadbeef;
    assert_hr(BG_E_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &cancel_id, &found));
    assert_null(found);
    assert_false(enum_jobs_has(manager, &cancel_id, NULL));
    assert_true(enum_jobs_has(manager, &complete_id, NULL));

    /* An empty job completes at once (nothing to keep) and is acknowledged. */
    assert_hr(S_OK, IBackgroundCopyJob_Complete(completed));
    found = (void *)0xdeadbeef;
    assert_hr(BG_E_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &complete_id, &found));
    assert_null(found);
    assert_false(enum_jobs_has(manager, &complete_id, NULL));

    IBackgroundCopyJob_Release(cancelled);
    IBackgroundCopyJob_Release(completed);
    IBackgroundCopyManager_Release(manager);
}

static void test_enum_jobs(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *created[3];
    GUID ids[3];
    ULONG before, after, count;
    void *out;

    enum_jobs_has(manager, &unknown_id, &before);
    for (int i = 0; i < 3; i++)
        assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"listed", BG_JOB_TYPE_DOWNLOAD,
                                                         &ids[i], &created[i]));
    for (int i = 0; i < 3; i++)
        assert_true(enum_jobs_has(manager, &ids[i], &after));
    assert_int_equal(after, before + 3);

    /* BG_JOB_ENUM_ALL_USERS is the only flag. */
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, BG_JOB_ENUM_ALL_USERS, &jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(count, before + 3);
    IEnumBackgroundCopyJobs_Release(jobs);

    out = (void *)0xdeadbeef;
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_EnumJobs(manager, 2, (void *)&out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_EnumJobs(manager, 0x80000001, (void *)&out));
    assert_null(out);
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_EnumJobs(manager, 0, NULL));

    /* An enumeration is a snapshot: cancelling afterwards does not change it. */
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    for (int i = 0; i < 3; i++)
        tu_cancel_release(created[i]);
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(count, before + 3);
    IEnumBackgroundCopyJobs_Release(jobs);

    enum_jobs_has(manager, &unknown_id, &after);
    assert_int_equal(after, before);
    IBackgroundCopyManager_Release(manager);
}

/* Every code OpenDO returns has a description of its own (not the system's, not nothing). */
static const HRESULT own_codes[] = {
    BG_E_NOT_FOUND,
    BG_E_INVALID_STATE,
    BG_E_EMPTY,
    BG_E_FILE_NOT_AVAILABLE,
    BG_E_PROTOCOL_NOT_AVAILABLE,
    BG_E_ERROR_INFORMATION_UNAVAILABLE,
    BG_E_INSUFFICIENT_RANGE_SUPPORT,
    BG_S_PARTIAL_COMPLETE,
    BG_E_PROXY_LIST_TOO_LARGE,
    BG_E_PROXY_BYPASS_LIST_TOO_LARGE,
    BG_S_UNABLE_TO_DELETE_FILES,
    BG_E_INVALID_SERVER_RESPONSE,
    BG_E_STRING_TOO_LONG,
    BG_E_NO_PROGRESS,
    BG_E_USERNAME_TOO_LARGE,
    BG_E_PASSWORD_TOO_LARGE,
    BG_E_INVALID_AUTH_TARGET,
    BG_E_INVALID_AUTH_SCHEME,
    BG_E_INVALID_RANGE,
    BG_E_OVERLAPPING_RANGES,
    BG_E_CONNECT_FAILURE,
    BG_E_CONNECTION_CLOSED,
    BG_E_TIMEOUT,
    BG_E_UNKNOWN_PROPERTY_ID,
    BG_E_READ_ONLY_PROPERTY,
    BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE,
    BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED,
    BG_E_REMOTE_FILE_CHANGED,
    BG_E_INVALID_PROXY_INFO,
    BG_E_VALIDATION_FAILED,
    BG_E_MAXDOWNLOAD_TIMEOUT,
    BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY,
    BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE,
    BG_E_READ_ONLY_PROPERTY_AFTER_RESUME,
    BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED,
    BG_E_UNSUPPORTED_JOB_CONFIGURATION,
    DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED,
    DO_E_NO_SERVICE,
    DO_E_DOWNLOAD_NO_PROGRESS,
    DO_E_JOB_NOT_FOUND,
    DO_E_JOB_EMPTY,
    DO_E_FILE_NOT_AVAILABLE,
    DO_E_UNKNOWN_PROPERTY_ID,
    DO_E_READ_ONLY_PROPERTY,
    DO_E_INVALID_STATE,
    DO_E_ERROR_INFORMATION_UNAVAILABLE,
    DO_E_WRITE_ONLY_PROPERTY,
    DO_E_FILE_DOWNLOADSINK_UNSPECIFIED,
    DO_E_FILE_DOWNLOADSINK_ALREADY_SET,
    DO_E_DOWNLOAD_NO_URI,
    DO_E_HTTP_BLOCKSIZE_MISMATCH,
    DO_E_INVALID_RANGE,
    DO_E_INSUFFICIENT_RANGE_SUPPORT,
    DO_E_OVERLAPPING_RANGES,
};

static void test_get_error_description(void **state)
{
    const DWORD english = MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT);
    IBackgroundCopyManager *manager = tu_manager();
    LPWSTR text = NULL, other = NULL;

    for (size_t i = 0; i < ARRAY_SIZE(own_codes); i++)
    {
        HRESULT hr =
            IBackgroundCopyManager_GetErrorDescription(manager, own_codes[i], english, &text);
        if (hr != S_OK || !text || wcslen(text) < 10)
            fail_msg("no description of 0x%08lx: hr 0x%08lx", (unsigned long)own_codes[i],
                     (unsigned long)hr);
        /* One line, no trailing line break. */
        assert_null(wcschr(text, L'\n'));
        CoTaskMemFree(text);
        text = NULL;
    }

    assert_hr(S_OK,
              IBackgroundCopyManager_GetErrorDescription(manager, BG_E_NOT_FOUND, english, &text));
    assert_non_null(wcsstr(text, L"No job"));
    /* The neutral language and a language we have no texts in fall back to English. */
    assert_hr(S_OK, IBackgroundCopyManager_GetErrorDescription(manager, BG_E_NOT_FOUND, 0, &other));
    assert_string_equal_w(text, other);
    CoTaskMemFree(other);
    assert_hr(S_OK, IBackgroundCopyManager_GetErrorDescription(
                        manager, BG_E_NOT_FOUND, MAKELANGID(LANG_GERMAN, SUBLANG_DEFAULT), &other));
    assert_string_equal_w(text, other);
    CoTaskMemFree(other);
    CoTaskMemFree(text);

    /* HTTP statuses are described with their number. */
    assert_hr(S_OK, IBackgroundCopyManager_GetErrorDescription(manager, BG_E_HTTP_ERROR_404,
                                                               english, &text));
    assert_non_null(wcsstr(text, L"404"));
    CoTaskMemFree(text);
    /* Windows' own codes get the system's text. */
    assert_hr(S_OK,
              IBackgroundCopyManager_GetErrorDescription(manager, E_ACCESSDENIED, english, &text));
    assert_true(wcslen(text) > 0);
    CoTaskMemFree(text);

    text = (LPWSTR)0xdeadbeef;
    assert_hr(HRESULT_FROM_WIN32(ERROR_MR_MID_NOT_FOUND),
              IBackgroundCopyManager_GetErrorDescription(manager, 0x8020FFF0, english, &text));
    assert_null(text);
    assert_hr(E_INVALIDARG,
              IBackgroundCopyManager_GetErrorDescription(manager, BG_E_NOT_FOUND, english, NULL));
    IBackgroundCopyManager_Release(manager);
}

static void test_query_interface(void **state)
{
    IBackgroundCopyManager *manager = tu_manager(), *again;
    IUnknown *unknown, *marshal_unknown;
    IMarshal *marshal;
    CLSID clsid;
    void *out;

    assert_hr(S_OK,
              IBackgroundCopyManager_QueryInterface(manager, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, manager);
    assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(manager, &IID_IBackgroundCopyManager,
                                                          (void **)&again));
    assert_ptr_equal(again, manager);
    assert_int_equal(tu_refcount(manager), 3);
    IBackgroundCopyManager_Release(again);
    IUnknown_Release(unknown);

    /* The free-threaded marshaler: aggregated, so its IUnknown is the manager's. */
    assert_hr(S_OK,
              IBackgroundCopyManager_QueryInterface(manager, &IID_IMarshal, (void **)&marshal));
    assert_hr(S_OK, IMarshal_GetUnmarshalClass(marshal, &IID_IBackgroundCopyManager, manager,
                                               MSHCTX_INPROC, NULL, MSHLFLAGS_NORMAL, &clsid));
    assert_true(IsEqualCLSID(&clsid, &clsid_free_marshaler));
    assert_hr(S_OK, IMarshal_QueryInterface(marshal, &IID_IUnknown, (void **)&marshal_unknown));
    assert_ptr_equal(marshal_unknown, manager);
    IUnknown_Release(marshal_unknown);
    IMarshal_Release(marshal);

    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              IBackgroundCopyManager_QueryInterface(manager, &IID_IBackgroundCopyJob, &out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              IBackgroundCopyManager_QueryInterface(manager, &IID_IClassFactory, &out));
    assert_null(out);
    assert_hr(E_POINTER, IBackgroundCopyManager_QueryInterface(manager, &IID_IUnknown, NULL));

    assert_int_equal(IBackgroundCopyManager_Release(manager), 0);
}

/* A manager of the DO class, straight from the class factory (no registry). */
static IBackgroundCopyManager *do_manager(void)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IBackgroundCopyManager *manager = NULL;
    IClassFactory *factory;

    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(get_class_object);
    assert_hr(S_OK,
              get_class_object(&CLSID_DeliveryOptimization, &IID_IClassFactory, (void **)&factory));
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager,
                                                 (void **)&manager));
    IClassFactory_Release(factory);
    return manager;
}

static void test_do_dialect(void **state)
{
    IBackgroundCopyManager *manager = do_manager(), *bits = tu_manager();
    IBackgroundCopyJob *job, *bits_job, *found = (void *)0xdeadbeef;
    IBackgroundCopyError *error = (void *)0xdeadbeef;
    GUID id;

    /* Objects made through the DO class answer with DO codes... */
    assert_hr(DO_E_JOB_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &unknown_id, &found));
    assert_null(found);
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"do", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(DO_E_JOB_EMPTY, IBackgroundCopyJob_Resume(job));
    assert_hr(DO_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(job, &error));
    assert_null(error);
    /* ...argument errors stay the standard ones... */
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetState(job, NULL));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetPriority(job, 4));

    /* ...while the same job seen through the BITS class answers with BITS codes. */
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(bits, &id, &bits_job));
    assert_hr(BG_E_EMPTY, IBackgroundCopyJob_Resume(bits_job));

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyJob_Cancel(job));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyJob_SetDescription(job, L"late"));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyJob_SetNoProgressTimeout(job, 60));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_Cancel(bits_job));
    assert_hr(DO_E_JOB_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_hr(BG_E_NOT_FOUND, IBackgroundCopyManager_GetJob(bits, &id, &found));

    IBackgroundCopyJob_Release(bits_job);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(bits);
    IBackgroundCopyManager_Release(manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_job_arguments),
        cmocka_unit_test(test_create_job_new),
        cmocka_unit_test(test_get_job),
        cmocka_unit_test(test_get_job_after_cancel_and_complete),
        cmocka_unit_test(test_enum_jobs),
        cmocka_unit_test(test_get_error_description),
        cmocka_unit_test(test_query_interface),
        cmocka_unit_test(test_do_dialect),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
