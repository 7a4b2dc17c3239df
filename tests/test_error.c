/* SPDX-License-Identifier: MIT */
/* The error object of failed jobs: HTTP 404 (fatal), 503 (transient, or fatal with no retries). */
#include "testutil.h"

#define HTTP_404 ((HRESULT)0x80190194)
#define HTTP_403 ((HRESULT)0x80190193)
#define HTTP_503 ((HRESULT)0x801901F7)

struct fixture
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];
    WCHAR remote[MAX_PATH];
    WCHAR local[MAX_PATH];
};

/* A job (not started) for one file of the test server. */
static void setup(struct fixture *f, const char *scratch, const WCHAR *path)
{
    f->manager = tu_manager();
    tu_scratch(scratch, f->dir, ARRAY_SIZE(f->dir));
    tu_url(f->remote, ARRAY_SIZE(f->remote), path);
    tu_path(f->local, ARRAY_SIZE(f->local), f->dir, L"out.bin");
    f->job = tu_job_with_file(f->manager, f->remote, f->local);
}

static void teardown(struct fixture *f)
{
    tu_cancel_release(f->job);
    IBackgroundCopyManager_Release(f->manager);
    tu_remove_tree(f->dir);
}

static void check_error(IBackgroundCopyError *error, BG_ERROR_CONTEXT context, HRESULT code)
{
    BG_ERROR_CONTEXT got_context = -1;
    HRESULT got_code = S_OK;

    assert_hr(S_OK, IBackgroundCopyError_GetError(error, &got_context, &got_code));
    assert_int_equal(got_context, context);
    assert_hr(code, got_code);
}

static void test_http_404(void **state)
{
    IBackgroundCopyError *error = NULL;
    IBackgroundCopyFile *file = NULL;
    BG_ERROR_CONTEXT context;
    BG_JOB_PROGRESS progress;
    struct fixture f;
    HRESULT code;
    LPWSTR text;
    ULONG count;

    setup(&f, "error_404", L"status/404");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);

    assert_hr(S_OK, IBackgroundCopyJob_GetError(f.job, &error));
    assert_non_null(error);
    check_error(error, BG_ERROR_CONTEXT_REMOTE_FILE, HTTP_404);
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetError(error, NULL, &code));
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetError(error, &context, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(f.job, &count));
    assert_int_equal(count, 1);

    assert_hr(S_OK, IBackgroundCopyError_GetFile(error, &file));
    assert_non_null(file);
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &text));
    assert_cotask_str(f.remote, text);
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &text));
    assert_cotask_str(f.local, text);
    IBackgroundCopyFile_Release(file);
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetFile(error, NULL));

    assert_hr(S_OK, IBackgroundCopyError_GetProtocol(error, &text));
    assert_cotask_str(L"http", text);
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetProtocol(error, NULL));

    /* The descriptions of the code and of the context. */
    text = NULL;
    assert_hr(S_OK, IBackgroundCopyError_GetErrorDescription(
                        error, MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT), &text));
    assert_non_null(wcsstr(text, L"HTTP status 404"));
    CoTaskMemFree(text);
    text = NULL;
    assert_hr(S_OK, IBackgroundCopyError_GetErrorContextDescription(
                        error, MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT), &text));
    assert_non_null(wcsstr(text, L"remote file"));
    CoTaskMemFree(text);
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetErrorDescription(error, 0, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetErrorContextDescription(error, 0, NULL));

    /* Nothing arrived, nothing was written at the destination. */
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(f.job, &progress));
    assert_int_equal(progress.BytesTransferred, 0);
    assert_int_equal(progress.FilesTransferred, 0);
    assert_false(tu_exists(f.local));

    /* Cancel leaves no temporary file, and the job has no current error any more; the error
     * object itself is a snapshot and keeps answering. */
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_int_equal(tu_count(f.dir, L"*"), 0);
    check_error(error, BG_ERROR_CONTEXT_REMOTE_FILE, HTTP_404);
    IBackgroundCopyError_Release(error);
    error = (void *)0xdeadbeef;
    assert_hr(BG_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(f.job, &error));
    assert_null(error);
    teardown(&f);
}

static void test_error_object(void **state)
{
    IBackgroundCopyError *error, *again;
    IBackgroundCopyFile *file;
    IUnknown *unknown;
    IMarshal *marshal;
    struct fixture f;
    LPWSTR text;
    void *out;

    setup(&f, "error_object", L"status/403");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    assert_hr(S_OK, IBackgroundCopyJob_GetError(f.job, &error));
    check_error(error, BG_ERROR_CONTEXT_REMOTE_FILE, HTTP_403);

    assert_hr(S_OK, IBackgroundCopyError_QueryInterface(error, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, error);
    IUnknown_Release(unknown);
    assert_hr(S_OK, IBackgroundCopyError_QueryInterface(error, &IID_IBackgroundCopyError,
                                                        (void **)&again));
    assert_ptr_equal(again, error);
    assert_int_equal(tu_refcount(error), 2);
    IBackgroundCopyError_Release(again);
    assert_hr(S_OK, IBackgroundCopyError_QueryInterface(error, &IID_IMarshal, (void **)&marshal));
    IMarshal_Release(marshal);
    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              IBackgroundCopyError_QueryInterface(error, &IID_IBackgroundCopyFile, &out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              IBackgroundCopyError_QueryInterface(error, &IID_IBackgroundCopyJob, &out));
    assert_null(out);

    /* The error object and its file outlive the job, its manager and the job table entry. */
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    IBackgroundCopyJob_Release(f.job);
    f.job = NULL;
    IBackgroundCopyManager_Release(f.manager);
    f.manager = tu_manager();
    check_error(error, BG_ERROR_CONTEXT_REMOTE_FILE, HTTP_403);
    assert_hr(S_OK, IBackgroundCopyError_GetFile(error, &file));
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &text));
    assert_cotask_str(f.remote, text);
    IBackgroundCopyFile_Release(file);
    assert_int_equal(IBackgroundCopyError_Release(error), 0);
    teardown(&f);
}

static void test_http_503_transient(void **state)
{
    IBackgroundCopyError *error;
    BG_JOB_STATE job_state;
    struct fixture f;
    ULONG count;

    setup(&f, "error_503_transient", L"status/503");
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(f.job, 5));
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(f.job, 3600));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSIENT_ERROR, 10000);

    assert_hr(S_OK, IBackgroundCopyJob_GetError(f.job, &error));
    check_error(error, BG_ERROR_CONTEXT_REMOTE_FILE, HTTP_503);
    IBackgroundCopyError_Release(error);
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(f.job, &count));
    assert_true(count >= 1);

    /* Suspended, the job has no current error (it is neither ERROR nor TRANSIENT_ERROR). */
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(f.job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(f.job, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_SUSPENDED);
    error = (void *)0xdeadbeef;
    assert_hr(BG_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(f.job, &error));
    assert_null(error);
    assert_false(tu_exists(f.local));
    teardown(&f);
}

static void test_http_503_no_retries(void **state)
{
    IBackgroundCopyError *error;
    struct fixture f;

    setup(&f, "error_503_fatal", L"status/503");
    /* A no-progress timeout of 0 means no retries: every error is final. */
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(f.job, 0));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    assert_hr(S_OK, IBackgroundCopyJob_GetError(f.job, &error));
    check_error(error, BG_ERROR_CONTEXT_REMOTE_FILE, HTTP_503);
    IBackgroundCopyError_Release(error);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_404),
        cmocka_unit_test(test_error_object),
        cmocka_unit_test(test_http_503_transient),
        cmocka_unit_test(test_http_503_no_retries),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
