/* SPDX-License-Identifier: MIT */
/* Tests of the job's proxy settings (IBackgroundCopyJob::SetProxySettings in src/job.c) and how
 * the http transport uses them, with the test nginx's proxy server: it answers every request
 * itself with "proxied <URI>", so the downloaded bytes tell whether the proxy was used. */
#include "testutil.h"

#define TIMEOUT 15000
#define HELLO "hello, OpenDO\n"

static IBackgroundCopyManager *manager;
/* The running test's jobs and scratch folder, cleaned up by its teardown even when it fails. */
static IBackgroundCopyJob *jobs[8];
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
    if (scratch[0])
        tu_remove_tree(scratch);
    scratch[0] = 0;
    return 0;
}

/* A job with one file from url to <scratch>\name, owned by the teardown. */
static IBackgroundCopyJob *new_job(const WCHAR *url, const WCHAR *name)
{
    WCHAR local[MAX_PATH];

    tu_path(local, ARRAY_SIZE(local), scratch, name);
    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    return jobs[job_count++] = tu_job_with_file(manager, url, local);
}

static IBackgroundCopyJob *empty_job(void)
{
    IBackgroundCopyJob *job;
    GUID id;

    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"proxy", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    return jobs[job_count++] = job;
}

static void set_proxy(IBackgroundCopyJob *job, BG_JOB_PROXY_USAGE usage, const WCHAR *list,
                      const WCHAR *bypass)
{
    assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(job, usage, list, bypass));
}

/* Runs the job to TRANSFERRED, completes it and asserts what <scratch>\name holds. */
static void expect_content(IBackgroundCopyJob *job, const WCHAR *name, const char *expected)
{
    WCHAR path[MAX_PATH];
    char text[4096] = {0};
    DWORD read = 0;
    HANDLE file;

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_path(path, ARRAY_SIZE(path), scratch, name);
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", path, GetLastError());
    ReadFile(file, text, sizeof(text) - 1, &read, NULL);
    CloseHandle(file);
    if (strcmp(text, expected))
        fail_msg("%ls holds \"%s\"; expected \"%s\"", path, text, expected);
}

static void check_settings(IBackgroundCopyJob *job, BG_JOB_PROXY_USAGE usage, const WCHAR *list,
                           const WCHAR *bypass)
{
    BG_JOB_PROXY_USAGE actual = -1;
    WCHAR *actual_list = (WCHAR *)0xdeadbeef, *actual_bypass = (WCHAR *)0xdeadbeef;

    assert_hr(S_OK,
              IBackgroundCopyJob_GetProxySettings(job, &actual, &actual_list, &actual_bypass));
    assert_int_equal(actual, usage);
    if (list)
        assert_cotask_str(list, actual_list);
    else
        assert_null(actual_list);
    if (bypass)
        assert_cotask_str(bypass, actual_bypass);
    else
        assert_null(actual_bypass);
}

/* ---- arguments ---- */

static void proxy_settings_round_trip(void **state)
{
    IBackgroundCopyJob *job = empty_job();
    BG_JOB_PROXY_USAGE usage;
    WCHAR *list, *bypass, *big;

    /* BITS' default: the user's settings, no lists. */
    check_settings(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetProxySettings(job, NULL, &list, &bypass));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetProxySettings(job, &usage, NULL, &bypass));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetProxySettings(job, &usage, &list, NULL));

    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy1:8080 https=proxy2:8443",
              L"*.example.com <local>");
    check_settings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy1:8080 https=proxy2:8443",
                   L"*.example.com <local>");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy3:3128", NULL);
    check_settings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy3:3128", NULL);
    /* The other usages drop the lists. */
    set_proxy(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL);
    check_settings(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL);
    set_proxy(job, BG_JOB_PROXY_USAGE_AUTODETECT, NULL, NULL);
    check_settings(job, BG_JOB_PROXY_USAGE_AUTODETECT, NULL, NULL);
    set_proxy(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);
    check_settings(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);

    /* Lists only with OVERRIDE, which needs one; unknown usages are not implemented. */
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, NULL, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE,
                                                                NULL, L"bypass"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_PRECONFIG,
                                                                L"proxy:1", NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_NO_PROXY,
                                                                NULL, L"bypass"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_AUTODETECT,
                                                                L"proxy:1", NULL));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_AUTODETECT + 1,
                                                             NULL, NULL));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetProxySettings(job, -1, NULL, NULL));

    /* 32 KB each: 32,768 characters with the terminator. */
    big = malloc(32769 * sizeof(WCHAR));
    wmemset(big, L'p', 32768);
    big[32767] = 0;
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, big, big);
    big[32767] = L'p';
    big[32768] = 0;
    assert_hr(BG_E_PROXY_LIST_TOO_LARGE,
              IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, big, NULL));
    assert_hr(BG_E_PROXY_BYPASS_LIST_TOO_LARGE,
              IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"p:1", big));
    free(big);
    assert_hr(S_OK, IBackgroundCopyJob_GetProxySettings(job, &usage, &list, &bypass));
    assert_int_equal(usage, BG_JOB_PROXY_USAGE_OVERRIDE);
    assert_int_equal(wcslen(list), 32767);
    assert_int_equal(wcslen(bypass), 32767);
    CoTaskMemFree(list);
    CoTaskMemFree(bypass);

    /* Final jobs keep their settings and take no new ones. */
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE,
              IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetProxySettings(job, &usage, &list, &bypass));
    assert_int_equal(usage, BG_JOB_PROXY_USAGE_OVERRIDE);
    CoTaskMemFree(list);
    CoTaskMemFree(bypass);
}

/* ---- what the transfer does with them ---- */

static void override_goes_through_the_proxy(void **state)
{
    WCHAR url[MAX_PATH], proxy[64];
    char expected[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("job_proxy_override", scratch, ARRAY_SIZE(scratch));
    tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
    snprintf(expected, sizeof(expected), "proxied %ls\n", wcschr(url + 7, L'/'));
    swprintf(proxy, ARRAY_SIZE(proxy), L"127.0.0.1:%d", tu_nginx_port(L"proxy_port"));
    job = new_job(url, L"proxied.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, proxy, NULL);
    expect_content(job, L"proxied.txt", expected);
    /* The origin server never saw the request. */
    assert_int_equal(tu_access_count(url, 200), 0);
}

static void override_with_protocol_entries(void **state)
{
    WCHAR url[MAX_PATH], proxy[128];
    IBackgroundCopyJob *job;

    tu_scratch("job_proxy_protocols", scratch, ARRAY_SIZE(scratch));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    /* BITS' syntax: [protocol=][protocol://]server[:port], space-delimited; the http entry is
     * the one for http URLs. */
    swprintf(proxy, ARRAY_SIZE(proxy), L"https=https://127.0.0.1:1 http=http://127.0.0.1:%d/",
             tu_nginx_port(L"proxy_port"));
    job = new_job(url, L"protocol.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, proxy, NULL);
    expect_content(job, L"protocol.txt", "proxied /hello.txt\n");
}

static void no_proxy_connects_directly(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("job_proxy_none", scratch, ARRAY_SIZE(scratch));
    tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"direct.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL);
    expect_content(job, L"direct.txt", HELLO);
    assert_int_equal(tu_access_count_wait(url, 200, 1), 1);
}

static void bypass_list_connects_directly(void **state)
{
    WCHAR url[MAX_PATH], proxy[64];
    IBackgroundCopyJob *job;

    tu_scratch("job_proxy_bypass", scratch, ARRAY_SIZE(scratch));
    tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
    swprintf(proxy, ARRAY_SIZE(proxy), L"127.0.0.1:%d", tu_nginx_port(L"proxy_port"));
    job = new_job(url, L"bypassed.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, proxy, L"*.example.com 127.0.0.1");
    expect_content(job, L"bypassed.txt", HELLO);
    assert_int_equal(tu_access_count_wait(url, 200, 1), 1);

    /* A bypass list that names another host still sends the request to the proxy. */
    tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"not_bypassed.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, proxy, L"*.example.com");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_int_equal(tu_access_count(url, 200), 0);
}

static void autodetect_without_wpad_connects_directly(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("job_proxy_autodetect", scratch, ARRAY_SIZE(scratch));
    /* Nothing on this machine announces a proxy (no WPAD): the job goes direct. */
    tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"detected.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_AUTODETECT, NULL, NULL);
    expect_content(job, L"detected.txt", HELLO);
    assert_int_equal(tu_access_count_wait(url, 200, 1), 1);
}

static void preconfig_uses_the_system_settings(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("job_proxy_preconfig", scratch, ARRAY_SIZE(scratch));
    /* The test prefix has no system proxy (and no_proxy names 127.0.0.1). */
    tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"preconfig.txt");
    expect_content(job, L"preconfig.txt", HELLO);
    assert_int_equal(tu_access_count_wait(url, 200, 1), 1);
}

static void unusable_override_is_an_error(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("job_proxy_invalid", scratch, ARRAY_SIZE(scratch));
    /* The list has no entry for http. */
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"never.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"https=127.0.0.1:1", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, BG_E_INVALID_PROXY_INFO);
}

/* ---- proxy credentials (IBackgroundCopyJob2::SetCredentials, target PROXY) ---- */

static void set_credentials(IBackgroundCopyJob *job, BG_AUTH_TARGET target, BG_AUTH_SCHEME scheme,
                            const WCHAR *user, const WCHAR *password)
{
    BG_AUTH_CREDENTIALS credentials = {target, scheme};
    IBackgroundCopyJob2 *job2;

    credentials.Credentials.Basic.UserName = (WCHAR *)user;
    credentials.Credentials.Basic.Password = (WCHAR *)password;
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2));
    assert_hr(S_OK, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    IBackgroundCopyJob2_Release(job2);
}

static void proxy_credentials(void **state)
{
    WCHAR url[MAX_PATH], proxy[64];
    IBackgroundCopyJob *job;

    tu_scratch("job_proxy_credentials", scratch, ARRAY_SIZE(scratch));
    /* The proxy wants Basic proxyuser:proxypass for /proxyauth/ (407 otherwise). */
    tu_url(url, ARRAY_SIZE(url), L"proxyauth/file.txt");
    swprintf(proxy, ARRAY_SIZE(proxy), L"127.0.0.1:%d", tu_nginx_port(L"proxy_port"));

    job = new_job(url, L"none.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, proxy, NULL);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_FROM_STATUS(407));

    /* Server credentials do not answer a proxy. */
    job = new_job(url, L"server.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, proxy, NULL);
    set_credentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC, L"proxyuser", L"proxypass");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_FROM_STATUS(407));

    job = new_job(url, L"proxy.txt");
    set_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, proxy, NULL);
    set_credentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_BASIC, L"proxyuser", L"proxypass");
    expect_content(job, L"proxy.txt", "proxied with credentials /proxyauth/file.txt\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(proxy_settings_round_trip, teardown),
        cmocka_unit_test_teardown(override_goes_through_the_proxy, teardown),
        cmocka_unit_test_teardown(override_with_protocol_entries, teardown),
        cmocka_unit_test_teardown(no_proxy_connects_directly, teardown),
        cmocka_unit_test_teardown(bypass_list_connects_directly, teardown),
        cmocka_unit_test_teardown(autodetect_without_wpad_connects_directly, teardown),
        cmocka_unit_test_teardown(preconfig_uses_the_system_settings, teardown),
        cmocka_unit_test_teardown(unusable_override_is_an_error, teardown),
        cmocka_unit_test_teardown(proxy_credentials, teardown),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
