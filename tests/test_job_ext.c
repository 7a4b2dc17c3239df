/* SPDX-License-Identifier: MIT */
/* Tests of the job's IBackgroundCopyJob2 to IBackgroundCopyJob5 methods (src/job_ext.c), with
 * the transfers that show what they do, against the test nginx on loopback. One test function
 * per behaviour. */
#include "testutil.h"

#define MIB (1024 * 1024)
#define TIMEOUT 15000
/* slow/8m.bin comes at 2 MB/s: about 4 s. */
#define SLOW_SIZE (8 * MIB)
#define HELLO "hello, OpenDO\n"

static IBackgroundCopyManager *manager;
/* The running test's jobs and scratch folder, cleaned up by its teardown even when it fails. */
static IBackgroundCopyJob *jobs[16];
static int job_count;
static WCHAR scratch[MAX_PATH];

static int setup_group(void **state)
{
    if (tu_com_setup(state))
        return -1;
    manager = tu_manager();
    return 0;
}

static int teardown_group(void **state)
{
    IBackgroundCopyManager_Release(manager);
    return tu_com_teardown(state);
}

static int teardown(void **state)
{
    while (job_count > 0)
        tu_cancel_release(jobs[--job_count]);
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", NULL);
    if (scratch[0])
        tu_remove_tree(scratch);
    scratch[0] = 0;
    return 0;
}

static void make_scratch(const char *name)
{
    tu_scratch(name, scratch, ARRAY_SIZE(scratch));
}

/* Keeps a job for the teardown. */
static IBackgroundCopyJob *own(IBackgroundCopyJob *job)
{
    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    return jobs[job_count++] = job;
}

/* A job without files. */
static IBackgroundCopyJob *empty_job(void)
{
    IBackgroundCopyJob *job;
    GUID id;

    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"ext", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    return own(job);
}

static void add_file(IBackgroundCopyJob *job, const WCHAR *url, const WCHAR *name)
{
    WCHAR local[MAX_PATH];

    tu_path(local, ARRAY_SIZE(local), scratch, name);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
}

/* A job with one file from url to <scratch>\name. */
static IBackgroundCopyJob *new_job(const WCHAR *url, const WCHAR *name)
{
    IBackgroundCopyJob *job = empty_job();

    add_file(job, url, name);
    return job;
}

static IBackgroundCopyJob5 *job5(IBackgroundCopyJob *job)
{
    IBackgroundCopyJob5 *job5 = NULL;

    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5));
    /* The object stays alive through the reference in jobs[]. */
    IBackgroundCopyJob5_Release(job5);
    return job5;
}

/* Asserts that <scratch>\name holds exactly `expected`. */
static void assert_content(const WCHAR *name, const char *expected)
{
    WCHAR path[MAX_PATH];
    char text[4096] = {0};
    DWORD read = 0;
    HANDLE file;

    tu_path(path, ARRAY_SIZE(path), scratch, name);
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", path, GetLastError());
    ReadFile(file, text, sizeof(text) - 1, &read, NULL);
    CloseHandle(file);
    if (strcmp(text, expected))
        fail_msg("%ls holds \"%s\"; expected \"%s\"", path, text, expected);
}

static void assert_same_as_served(const WCHAR *name, const WCHAR *served)
{
    WCHAR path[MAX_PATH], www[MAX_PATH];

    tu_path(path, ARRAY_SIZE(path), scratch, name);
    tu_www(www, ARRAY_SIZE(www), served);
    if (!tu_same_file(path, www))
        fail_msg("%ls differs from %ls", path, www);
}

static void run_to_completion(IBackgroundCopyJob *job)
{
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
}

static void expect_error(IBackgroundCopyJob *job, BG_ERROR_CONTEXT context, HRESULT code)
{
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, context, code);
}

/* ---- IBackgroundCopyJob2::SetCredentials / RemoveCredentials ---- */

static HRESULT set_credentials(IBackgroundCopyJob *job, BG_AUTH_TARGET target,
                               BG_AUTH_SCHEME scheme, const WCHAR *user, const WCHAR *password)
{
    BG_AUTH_CREDENTIALS credentials = {target, scheme};

    credentials.Credentials.Basic.UserName = (WCHAR *)user;
    credentials.Credentials.Basic.Password = (WCHAR *)password;
    return IBackgroundCopyJob5_SetCredentials(job5(job), &credentials);
}

static void credentials_arguments(void **state)
{
    IBackgroundCopyJob *job = empty_job();
    WCHAR name[302];

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetCredentials(job5(job), NULL));
    assert_hr(BG_E_INVALID_AUTH_TARGET,
              set_credentials(job, 0, BG_AUTH_SCHEME_BASIC, L"user", L"password"));
    assert_hr(BG_E_INVALID_AUTH_TARGET,
              set_credentials(job, BG_AUTH_TARGET_PROXY + 1, BG_AUTH_SCHEME_BASIC, L"u", L"p"));
    assert_hr(BG_E_INVALID_AUTH_SCHEME,
              set_credentials(job, BG_AUTH_TARGET_SERVER, 0, L"user", L"password"));
    assert_hr(BG_E_INVALID_AUTH_SCHEME,
              set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_PASSPORT + 1, L"u", L"p"));
    /* User names and passwords of up to 300 characters. */
    wmemset(name, L'u', 300);
    name[300] = 0;
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, name, name));
    name[300] = L'u';
    name[301] = 0;
    assert_hr(BG_E_USERNAME_TOO_LARGE,
              set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, name, L"p"));
    assert_hr(BG_E_PASSWORD_TOO_LARGE,
              set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"u", name));
    /* Basic and Digest need both; NTLM and Negotiate take NULL for the implicit credentials. */
    assert_hr(E_INVALIDARG,
              set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, NULL, L"p"));
    assert_hr(E_INVALIDARG,
              set_credentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_DIGEST, L"u", NULL));
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_NTLM, NULL, NULL));
    assert_hr(S_OK,
              set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_NEGOTIATE, NULL, NULL));
    assert_hr(S_OK,
              set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_PASSPORT, L"u", L"p"));

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE,
              set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"u", L"p"));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob5_RemoveCredentials(
                                      job5(job), BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC));
}

static void credentials_removed(void **state)
{
    IBackgroundCopyJob *job = empty_job();
    IBackgroundCopyJob5 *j = job5(job);

    /* S_FALSE for a pair that was never set, S_OK once for one that was. */
    assert_hr(S_FALSE, IBackgroundCopyJob5_RemoveCredentials(j, BG_AUTH_TARGET_SERVER,
                                                             BG_AUTH_SCHEME_BASIC));
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"u", L"p"));
    assert_hr(S_FALSE,
              IBackgroundCopyJob5_RemoveCredentials(j, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_BASIC));
    assert_hr(S_FALSE, IBackgroundCopyJob5_RemoveCredentials(j, BG_AUTH_TARGET_SERVER,
                                                             BG_AUTH_SCHEME_DIGEST));
    assert_hr(S_OK, IBackgroundCopyJob5_RemoveCredentials(j, BG_AUTH_TARGET_SERVER,
                                                          BG_AUTH_SCHEME_BASIC));
    assert_hr(S_FALSE, IBackgroundCopyJob5_RemoveCredentials(j, BG_AUTH_TARGET_SERVER,
                                                             BG_AUTH_SCHEME_BASIC));
    assert_hr(BG_E_INVALID_AUTH_TARGET,
              IBackgroundCopyJob5_RemoveCredentials(j, 3, BG_AUTH_SCHEME_BASIC));
    assert_hr(BG_E_INVALID_AUTH_SCHEME,
              IBackgroundCopyJob5_RemoveCredentials(j, BG_AUTH_TARGET_SERVER, 6));
    /* Setting a pair again replaces it: one removal clears it. */
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_NTLM, L"a", L"b"));
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_NTLM, L"c", L"d"));
    assert_hr(S_OK,
              IBackgroundCopyJob5_RemoveCredentials(j, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_NTLM));
    assert_hr(S_FALSE,
              IBackgroundCopyJob5_RemoveCredentials(j, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_NTLM));
}

static void server_credentials_missing(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_auth_missing");
    /* /auth/ wants Basic opendo:secret. */
    tu_url(url, ARRAY_SIZE(url), L"auth/hello.txt");
    job = new_job(url, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_FROM_STATUS(401));
}

static void server_credentials_wrong(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_auth_wrong");
    tu_unique_url(url, ARRAY_SIZE(url), L"auth/hello.txt");
    job = new_job(url, L"hello.txt");
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"opendo",
                                    L"wrong"));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_FROM_STATUS(401));
    /* It tried, a bounded number of times. */
    assert_true(tu_access_count_wait(url, 401, 2) >= 2);
    assert_true(tu_access_count(url, 401) <= 4);
}

static void server_credentials_right(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_auth_right");
    tu_url(url, ARRAY_SIZE(url), L"auth/hello.txt");
    job = new_job(url, L"hello.txt");
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"opendo",
                                    L"secret"));
    run_to_completion(job);
    assert_content(L"hello.txt", HELLO);

    /* Every file of the job gets them: a large one too. */
    tu_url(url, ARRAY_SIZE(url), L"auth/4m.bin");
    job = new_job(url, L"4m.bin");
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"opendo",
                                    L"secret"));
    run_to_completion(job);
    assert_same_as_served(L"4m.bin", L"4m.bin");
}

static void server_credentials_other_scheme(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_auth_scheme");
    /* The server offers Basic only: Digest and proxy credentials do not answer it. */
    tu_url(url, ARRAY_SIZE(url), L"auth/hello.txt");
    job = new_job(url, L"hello.txt");
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_DIGEST, L"opendo",
                                    L"secret"));
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_BASIC, L"opendo",
                                    L"secret"));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_FROM_STATUS(401));

    /* Fixed and resumed, as BITS tells clients to do after a 401. */
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"opendo",
                                    L"secret"));
    run_to_completion(job);
    assert_content(L"hello.txt", HELLO);
}

static void server_credentials_removed(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_auth_removed");
    tu_url(url, ARRAY_SIZE(url), L"auth/hello.txt");
    job = new_job(url, L"hello.txt");
    assert_hr(S_OK, set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"opendo",
                                    L"secret"));
    assert_hr(S_OK, IBackgroundCopyJob5_RemoveCredentials(job5(job), BG_AUTH_TARGET_SERVER,
                                                          BG_AUTH_SCHEME_BASIC));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_FROM_STATUS(401));
}

/* ---- IBackgroundCopyJob4::SetMaximumDownloadTime ---- */

static void maximum_download_time_round_trip(void **state)
{
    IBackgroundCopyJob *job = empty_job();
    IBackgroundCopyJob5 *j = job5(job);
    ULONG seconds = 0;

    /* BITS' documented default: 90 days. */
    assert_hr(S_OK, IBackgroundCopyJob5_GetMaximumDownloadTime(j, &seconds));
    assert_int_equal(seconds, 7776000);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_GetMaximumDownloadTime(j, NULL));
    assert_hr(S_OK, IBackgroundCopyJob5_SetMaximumDownloadTime(j, 30));
    assert_hr(S_OK, IBackgroundCopyJob5_GetMaximumDownloadTime(j, &seconds));
    assert_int_equal(seconds, 30);
    assert_hr(S_OK, IBackgroundCopyJob5_SetMaximumDownloadTime(j, 0));
    assert_hr(S_OK, IBackgroundCopyJob5_GetMaximumDownloadTime(j, &seconds));
    assert_int_equal(seconds, 0);
    assert_hr(S_OK, IBackgroundCopyJob5_SetMaximumDownloadTime(j, ~0u));
    assert_hr(S_OK, IBackgroundCopyJob5_GetMaximumDownloadTime(j, &seconds));
    assert_int_equal(seconds, ~0u);

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob5_SetMaximumDownloadTime(j, 5));
    assert_hr(S_OK, IBackgroundCopyJob5_GetMaximumDownloadTime(j, &seconds));
    assert_int_equal(seconds, ~0u);
}

static void maximum_download_time_expires(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;
    UINT64 first, second;
    ULONGLONG started;

    make_scratch("job_ext_max_time");
    tu_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    job = new_job(url, L"8m.bin");
    assert_hr(S_OK, IBackgroundCopyJob5_SetMaximumDownloadTime(job5(job), 1));
    started = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    /* A fatal error in the middle of the file, about a second later. */
    expect_error(job, BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER, BG_E_MAXDOWNLOAD_TIMEOUT);
    assert_true(GetTickCount64() - started >= 1000);
    first = tu_progress(job).BytesTransferred;
    assert_true(first > 0);
    assert_true(first < SLOW_SIZE);

    /* Resume starts the count again: the job transfers for another second. */
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER, BG_E_MAXDOWNLOAD_TIMEOUT);
    second = tu_progress(job).BytesTransferred;
    assert_true(second > first);
    assert_true(second < SLOW_SIZE);

    /* Without a limit the rest comes in. */
    assert_hr(S_OK, IBackgroundCopyJob5_SetMaximumDownloadTime(job5(job), 0));
    run_to_completion(job);
    assert_same_as_served(L"8m.bin", L"slow\\8m.bin");
}

/* ---- IBackgroundCopyJob5::SetProperty / GetProperty ---- */

static BITS_JOB_PROPERTY_VALUE get_property(IBackgroundCopyJob *job, BITS_JOB_PROPERTY_ID id)
{
    BITS_JOB_PROPERTY_VALUE value;

    memset(&value, 0xcc, sizeof(value));
    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job5(job), id, &value));
    return value;
}

static HRESULT set_dword(IBackgroundCopyJob *job, BITS_JOB_PROPERTY_ID id, DWORD dword)
{
    BITS_JOB_PROPERTY_VALUE value = {0};

    value.Dword = dword;
    return IBackgroundCopyJob5_SetProperty(job5(job), id, value);
}

static HRESULT set_enable(IBackgroundCopyJob *job, BITS_JOB_PROPERTY_ID id, BOOL enable)
{
    BITS_JOB_PROPERTY_VALUE value = {0};

    value.Enable = enable;
    return IBackgroundCopyJob5_SetProperty(job5(job), id, value);
}

static HRESULT set_uint64(IBackgroundCopyJob *job, BITS_JOB_PROPERTY_ID id, UINT64 number)
{
    BITS_JOB_PROPERTY_VALUE value = {0};

    value.Uint64 = number;
    return IBackgroundCopyJob5_SetProperty(job5(job), id, value);
}

static void properties_defaults(void **state)
{
    IBackgroundCopyJob *job = empty_job();
    BITS_JOB_PROPERTY_VALUE value;

    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_ID_COST_FLAGS).Dword,
                     BITS_COST_STATE_TRANSFER_ALWAYS);
    value = get_property(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID);
    assert_true(IsEqualGUID(&value.ClsID, &GUID_NULL));
    assert_false(get_property(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT).Enable);
    assert_false(get_property(job, BITS_JOB_PROPERTY_HIGH_PERFORMANCE).Enable);
    /* 0: no maximum. */
    assert_true(get_property(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE).Uint64 == 0);
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS).Target, 0);
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS).Dword,
                     500);
    assert_false(get_property(job, BITS_JOB_PROPERTY_ON_DEMAND_MODE).Enable);
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob5_GetProperty(job5(job), BITS_JOB_PROPERTY_ID_COST_FLAGS, NULL));
}

static void properties_round_trip(void **state)
{
    static const GUID clsid = {0x12345678, 0x9abc, 0xdef0, {1, 2, 3, 4, 5, 6, 7, 8}};
    IBackgroundCopyJob *job = empty_job();
    BITS_JOB_PROPERTY_VALUE value = {0};

    assert_hr(S_OK, set_dword(job, BITS_JOB_PROPERTY_ID_COST_FLAGS,
                              BITS_COST_STATE_UNRESTRICTED | BITS_COST_STATE_BELOW_CAP));
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_ID_COST_FLAGS).Dword, 0x5);
    assert_hr(S_OK, set_dword(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, 0x80000067));
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_ID_COST_FLAGS).Dword, 0x80000067);

    value.ClsID = clsid;
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job5(job), BITS_JOB_PROPERTY_NOTIFICATION_CLSID,
                                                    value));
    value = get_property(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID);
    assert_true(IsEqualGUID(&value.ClsID, &clsid));
    /* GUID_NULL clears it. */
    memset(&value, 0, sizeof(value));
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job5(job), BITS_JOB_PROPERTY_NOTIFICATION_CLSID,
                                                    value));
    value = get_property(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID);
    assert_true(IsEqualGUID(&value.ClsID, &GUID_NULL));

    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    assert_true(get_property(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT).Enable);
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, FALSE));
    assert_false(get_property(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT).Enable);

    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_HIGH_PERFORMANCE, TRUE));
    assert_true(get_property(job, BITS_JOB_PROPERTY_HIGH_PERFORMANCE).Enable);

    assert_hr(S_OK, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, 0x123456789ull));
    assert_true(get_property(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE).Uint64 == 0x123456789ull);

    value.Target = BG_AUTH_TARGET_PROXY;
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(
                        job5(job), BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS, value));
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS).Target,
                     BG_AUTH_TARGET_PROXY);
    value.Target = 0;
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(
                        job5(job), BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS, value));
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS).Target, 0);

    assert_hr(S_OK, set_dword(job, BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS, 1234));
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS).Dword,
                     1234);

    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_ON_DEMAND_MODE, TRUE));
    assert_true(get_property(job, BITS_JOB_PROPERTY_ON_DEMAND_MODE).Enable);
}

static void properties_validation(void **state)
{
    static const BITS_JOB_PROPERTY_ID unknown[] = {0, 6, 8, 11, 0x7fffffff};
    IBackgroundCopyJob *job = empty_job();
    BITS_JOB_PROPERTY_VALUE value = {0};

    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
    {
        assert_hr(BG_E_UNKNOWN_PROPERTY_ID,
                  IBackgroundCopyJob5_SetProperty(job5(job), unknown[i], value));
        assert_hr(BG_E_UNKNOWN_PROPERTY_ID,
                  IBackgroundCopyJob5_GetProperty(job5(job), unknown[i], &value));
    }
    /* Cost flags are BITS_COST_STATE_* bits. */
    assert_hr(E_INVALIDARG, set_dword(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, 0x100));
    assert_hr(E_INVALIDARG, set_dword(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, 0x20000000));
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_ID_COST_FLAGS).Dword,
                     BITS_COST_STATE_TRANSFER_ALWAYS);
    assert_hr(BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE,
              set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, 0));
    /* Stored credentials are for proxies only. */
    value.Target = BG_AUTH_TARGET_SERVER;
    assert_hr(BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED,
              IBackgroundCopyJob5_SetProperty(job5(job), BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS,
                                              value));
    value.Target = 3;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetProperty(
                                job5(job), BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS, value));
    /* On-demand jobs cannot be dynamic, nor the other way round. */
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    assert_hr(BG_E_UNSUPPORTED_JOB_CONFIGURATION,
              set_enable(job, BITS_JOB_PROPERTY_ON_DEMAND_MODE, TRUE));
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, FALSE));
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_ON_DEMAND_MODE, TRUE));
    assert_hr(BG_E_UNSUPPORTED_JOB_CONFIGURATION,
              set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
}

static void properties_read_only_after_add_file_or_resume(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_read_only");
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"hello.txt");
    /* HIGH_PERFORMANCE only before the first file; DYNAMIC_CONTENT and MAX_DOWNLOAD_SIZE only
     * before the first Resume. */
    assert_hr(BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE,
              set_enable(job, BITS_JOB_PROPERTY_HIGH_PERFORMANCE, TRUE));
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    assert_hr(S_OK, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, MIB));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(BG_E_READ_ONLY_PROPERTY_AFTER_RESUME,
              set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, FALSE));
    assert_hr(BG_E_READ_ONLY_PROPERTY_AFTER_RESUME,
              set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, 2 * MIB));
    assert_true(get_property(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT).Enable);
    assert_true(get_property(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE).Uint64 == MIB);
    /* Cost flags may change at any time. */
    assert_hr(S_OK, set_dword(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, 0x80000021));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    /* A final job takes nothing. */
    assert_hr(BG_E_INVALID_STATE, set_dword(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, 0x1));
    assert_hr(BG_E_INVALID_STATE,
              set_dword(job, BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS, 10));
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_ID_COST_FLAGS).Dword, 0x80000021);
}

static void properties_in_the_do_dialect(void **state)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IBackgroundCopyManager *dos = NULL;
    IClassFactory *factory;
    IBackgroundCopyJob *job;
    GUID id;

    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_hr(S_OK,
              get_class_object(&CLSID_DeliveryOptimization, &IID_IClassFactory, (void **)&factory));
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager,
                                                 (void **)&dos));
    IClassFactory_Release(factory);
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(dos, L"do", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    IBackgroundCopyManager_Release(dos);
    own(job);
    /* DO supports COST_FLAGS and NOTIFICATION_CLSID only. */
    assert_hr(S_OK, set_dword(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, 0x8000007f));
    assert_int_equal(get_property(job, BITS_JOB_PROPERTY_ID_COST_FLAGS).Dword, 0x8000007f);
    get_property(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID);
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, MIB));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_dword(job, 42, 0));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(DO_E_INVALID_STATE, set_dword(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, 0x1));
}

static void max_download_size_known_size(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_max_size");
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    /* The size comes with the headers: the job fails before a byte of the file is fetched. */
    job = new_job(url, L"small_limit.bin");
    assert_hr(S_OK, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, MIB));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED);
    assert_true(tu_progress(job).BytesTransferred == 0);

    job = new_job(url, L"large_limit.bin");
    assert_hr(S_OK, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, 8 * MIB));
    run_to_completion(job);
    assert_same_as_served(L"large_limit.bin", L"4m.bin");

    /* The maximum is for the job in all: two files of 4 MiB do not fit in 6 MiB. */
    job = new_job(url, L"first.bin");
    add_file(job, url, L"second.bin");
    assert_hr(S_OK, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, 6 * MIB));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED);
    assert_true(tu_progress(job).BytesTransferred == 4 * MIB);
    assert_int_equal(tu_progress(job).FilesTransferred, 1);
}

static void max_download_size_unknown_size(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;
    UINT64 transferred;

    make_scratch("job_ext_max_size_chunked");
    /* /chunked/ sends no Content-Length: the job fails as soon as it has more than it may. */
    tu_url(url, ARRAY_SIZE(url), L"chunked/4m.bin");
    job = new_job(url, L"chunked.bin");
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    assert_hr(S_OK, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, MIB));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED);
    transferred = tu_progress(job).BytesTransferred;
    assert_true(transferred > MIB);
    assert_true(transferred < 4 * MIB);

    job = new_job(url, L"whole.bin");
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    assert_hr(S_OK, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, 4 * MIB));
    run_to_completion(job);
    assert_same_as_served(L"whole.bin", L"4m.bin");

    /* As in BITS, which fetches one file after the other: the file after one of unknown size
     * waits for that size, then fails on its own size, before its first byte. */
    job = new_job(url, L"unknown_first.bin");
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    add_file(job, url, L"known_second.bin");
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    assert_hr(S_OK, set_uint64(job, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, 6 * MIB));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED);
    assert_true(tu_progress(job).BytesTransferred == 4 * MIB);
    assert_int_equal(tu_progress(job).FilesTransferred, 1);
}

/* Content without a length is refused unless the job says it expects dynamic content. */
static void dynamic_content_allows_missing_length(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_dynamic_length");
    tu_url(url, ARRAY_SIZE(url), L"chunked/4m.bin");
    job = new_job(url, L"refused.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    expect_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_MISSING_FILE_SIZE);
    assert_true(tu_progress(job).BytesTransferred == 0);

    job = new_job(url, L"dynamic.bin");
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    run_to_completion(job);
    assert_same_as_served(L"dynamic.bin", L"4m.bin");
}

static void dynamic_content_restarts_from_zero(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_ext_dynamic");
    /* Interrupted and resumed: a dynamic job asks for the whole file again, no Range. */
    tu_unique_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    job = new_job(url, L"8m.bin");
    assert_hr(S_OK, set_enable(job, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, TRUE));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, MIB, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, 30000);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_same_as_served(L"8m.bin", L"slow\\8m.bin");
    assert_int_equal(tu_access_count(url, 206), 0);
    assert_int_equal(tu_access_count_wait(url, 200, 2), 2);
}

static void high_performance_gets_more_workers(void **state)
{
    IBackgroundCopyJob *normal[12], *fast;
    WCHAR url[MAX_PATH], name[32];
    ULONGLONG deadline;

    make_scratch("job_ext_high_performance");
    /* More slow jobs than the scheduler has ordinary workers: some stay QUEUED. A bandwidth cap
     * keeps them on their workers (8 MiB in ranged parts would otherwise end within seconds
     * and free a worker); the high-performance job is under the same cap, which does not keep
     * it from starting. */
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", L"64");
    for (int i = 0; i < (int)ARRAY_SIZE(normal); i++)
    {
        tu_unique_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
        swprintf(name, ARRAY_SIZE(name), L"normal%d.bin", i);
        normal[i] = new_job(url, name);
    }
    fast = empty_job();
    assert_hr(S_OK, set_enable(fast, BITS_JOB_PROPERTY_HIGH_PERFORMANCE, TRUE));
    tu_unique_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    add_file(fast, url, L"fast.bin");
    for (int i = 0; i < (int)ARRAY_SIZE(normal); i++)
        assert_hr(S_OK, IBackgroundCopyJob_Resume(normal[i]));
    deadline = GetTickCount64() + TIMEOUT;
    while (!tu_count_in_state(normal, ARRAY_SIZE(normal), BG_JOB_STATE_TRANSFERRING))
    {
        if (GetTickCount64() > deadline)
            fail_msg("no job started transferring");
        Sleep(10);
    }
    assert_true(tu_count_in_state(normal, ARRAY_SIZE(normal), BG_JOB_STATE_QUEUED) > 0);

    /* The high-performance job does not wait for them. */
    assert_hr(S_OK, IBackgroundCopyJob_Resume(fast));
    tu_wait_state(fast, BG_JOB_STATE_TRANSFERRING, 5000);
    assert_true(tu_count_in_state(normal, ARRAY_SIZE(normal), BG_JOB_STATE_QUEUED) > 0);
}

/* ---- owner, ACL and peer-caching flags, upload-only methods (the lead's part) ---- */

static IBackgroundCopyJob5 *lead_job5(IBackgroundCopyManager *manager, IBackgroundCopyJob **job)
{
    IBackgroundCopyJob5 *job5;
    GUID id;

    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"lead", BG_JOB_TYPE_DOWNLOAD, &id, job));
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(*job, &IID_IBackgroundCopyJob5, (void **)&job5));
    return job5;
}

static void test_file_acl_flags(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job;
    IBackgroundCopyJob5 *job5 = lead_job5(manager, &job);
    DWORD flags = 0xdead;

    assert_hr(S_OK, IBackgroundCopyJob5_GetFileACLFlags(job5, &flags));
    assert_int_equal(flags, 0);
    assert_hr(S_OK,
              IBackgroundCopyJob5_SetFileACLFlags(job5, BG_COPY_FILE_OWNER | BG_COPY_FILE_DACL));
    assert_hr(S_OK, IBackgroundCopyJob5_GetFileACLFlags(job5, &flags));
    assert_int_equal(flags, BG_COPY_FILE_OWNER | BG_COPY_FILE_DACL);
    assert_hr(S_OK, IBackgroundCopyJob5_SetFileACLFlags(job5, BG_COPY_FILE_ALL));
    assert_hr(S_OK, IBackgroundCopyJob5_GetFileACLFlags(job5, &flags));
    assert_int_equal(flags, BG_COPY_FILE_ALL);
    /* 0 removes them; bits outside BG_COPY_FILE_ALL are refused and change nothing. */
    assert_hr(S_OK, IBackgroundCopyJob5_SetFileACLFlags(job5, 0));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetFileACLFlags(job5, 0x10));
    assert_hr(S_OK, IBackgroundCopyJob5_GetFileACLFlags(job5, &flags));
    assert_int_equal(flags, 0);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_GetFileACLFlags(job5, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob5_SetFileACLFlags(job5, BG_COPY_FILE_DACL));
    IBackgroundCopyJob5_Release(job5);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
}

/* With the DACL flag, a local copy still arrives byte-identical (the security information is
 * applied to the temporary file and travels with the rename). */
static void test_file_acl_flags_local_copy(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    IBackgroundCopyJob5 *job5 = lead_job5(manager, &job);

    tu_scratch("job_ext_acl_copy", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    tu_write_file(source, 100000);
    assert_hr(S_OK, IBackgroundCopyJob5_SetFileACLFlags(job5, BG_COPY_FILE_DACL));
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job5, source, local));
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job5));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, 20000);
    /* Once transferred, the flags can no longer change. */
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob5_SetFileACLFlags(job5, 0));
    assert_hr(S_OK, IBackgroundCopyJob5_Complete(job5));
    assert_true(tu_same_file(source, local));
    IBackgroundCopyJob5_Release(job5);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_peer_caching_flags(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job;
    IBackgroundCopyJob5 *job5 = lead_job5(manager, &job);
    DWORD flags = 0xdead;

    assert_hr(S_OK, IBackgroundCopyJob5_GetPeerCachingFlags(job5, &flags));
    assert_int_equal(flags, 0);
    assert_hr(S_OK, IBackgroundCopyJob5_SetPeerCachingFlags(job5, BG_JOB_ENABLE_PEERCACHING_CLIENT |
                                                                      BG_JOB_DISABLE_BRANCH_CACHE));
    assert_hr(S_OK, IBackgroundCopyJob5_GetPeerCachingFlags(job5, &flags));
    assert_int_equal(flags, BG_JOB_ENABLE_PEERCACHING_CLIENT | BG_JOB_DISABLE_BRANCH_CACHE);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetPeerCachingFlags(job5, 0x8));
    assert_hr(S_OK, IBackgroundCopyJob5_GetPeerCachingFlags(job5, &flags));
    assert_int_equal(flags, BG_JOB_ENABLE_PEERCACHING_CLIENT | BG_JOB_DISABLE_BRANCH_CACHE);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_GetPeerCachingFlags(job5, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob5_SetPeerCachingFlags(job5, 0));
    IBackgroundCopyJob5_Release(job5);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
}

/* The owner's integrity level and elevation are those of the creating process's token. */
static void test_owner_integrity_and_elevation(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job;
    IBackgroundCopyJob5 *job5 = lead_job5(manager, &job);
    TOKEN_ELEVATION elevation = {0};
    ULONG level = 0, expected_level = SECURITY_MANDATORY_MEDIUM_RID;
    BOOL elevated = 7;
    HANDLE token;
    DWORD size;
    BYTE label_buffer[256];
    TOKEN_MANDATORY_LABEL *label = (TOKEN_MANDATORY_LABEL *)label_buffer;

    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    if (GetTokenInformation(token, TokenIntegrityLevel, label, sizeof(label_buffer), &size))
        expected_level =
            *GetSidSubAuthority(label->Label.Sid, *GetSidSubAuthorityCount(label->Label.Sid) - 1);
    GetTokenInformation(token, TokenElevation, &elevation, sizeof(elevation), &size);
    CloseHandle(token);

    assert_hr(S_OK, IBackgroundCopyJob5_GetOwnerIntegrityLevel(job5, &level));
    assert_int_equal(level, expected_level);
    assert_hr(S_OK, IBackgroundCopyJob5_GetOwnerElevationState(job5, &elevated));
    assert_int_equal(elevated, elevation.TokenIsElevated != 0);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_GetOwnerIntegrityLevel(job5, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_GetOwnerElevationState(job5, NULL));
    tu_cancel_release(job);
    IBackgroundCopyJob5_Release(job5);
    IBackgroundCopyManager_Release(manager);
}

/* BITS documents E_NOTIMPL for the reply methods on download jobs, the only kind OpenDO makes. */
static void test_upload_only_methods(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job;
    IBackgroundCopyJob5 *job5 = lead_job5(manager, &job);
    BG_JOB_REPLY_PROGRESS progress;
    byte *buffer = (byte *)0xdeadbeef;
    UINT64 length = 77;
    LPWSTR name = (LPWSTR)0xdeadbeef;

    assert_hr(E_NOTIMPL, IBackgroundCopyJob5_GetReplyProgress(job5, &progress));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_GetReplyProgress(job5, NULL));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob5_GetReplyData(job5, &buffer, &length));
    assert_null(buffer);
    assert_int_equal(length, 0);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_GetReplyData(job5, NULL, &length));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob5_SetReplyFileName(job5, L"C:\\reply.bin"));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob5_GetReplyFileName(job5, &name));
    assert_null(name);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_GetReplyFileName(job5, NULL));
    tu_cancel_release(job);
    IBackgroundCopyJob5_Release(job5);
    IBackgroundCopyManager_Release(manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(credentials_arguments, teardown),
        cmocka_unit_test_teardown(credentials_removed, teardown),
        cmocka_unit_test_teardown(server_credentials_missing, teardown),
        cmocka_unit_test_teardown(server_credentials_wrong, teardown),
        cmocka_unit_test_teardown(server_credentials_right, teardown),
        cmocka_unit_test_teardown(server_credentials_other_scheme, teardown),
        cmocka_unit_test_teardown(server_credentials_removed, teardown),
        cmocka_unit_test_teardown(maximum_download_time_round_trip, teardown),
        cmocka_unit_test_teardown(maximum_download_time_expires, teardown),
        cmocka_unit_test_teardown(properties_defaults, teardown),
        cmocka_unit_test_teardown(properties_round_trip, teardown),
        cmocka_unit_test_teardown(properties_validation, teardown),
        cmocka_unit_test_teardown(properties_read_only_after_add_file_or_resume, teardown),
        cmocka_unit_test_teardown(properties_in_the_do_dialect, teardown),
        cmocka_unit_test_teardown(max_download_size_known_size, teardown),
        cmocka_unit_test_teardown(max_download_size_unknown_size, teardown),
        cmocka_unit_test_teardown(dynamic_content_restarts_from_zero, teardown),
        cmocka_unit_test_teardown(dynamic_content_allows_missing_length, teardown),
        cmocka_unit_test_teardown(high_performance_gets_more_workers, teardown),
        cmocka_unit_test(test_file_acl_flags),
        cmocka_unit_test(test_file_acl_flags_local_copy),
        cmocka_unit_test(test_peer_caching_flags),
        cmocka_unit_test(test_owner_integrity_and_elevation),
        cmocka_unit_test(test_upload_only_methods),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
