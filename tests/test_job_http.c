/* SPDX-License-Identifier: MIT */
/* Tests of the job's IBackgroundCopyJobHttpOptions (src/job_http.c) and what the http transport
 * does with them, against the test nginx on loopback. */
#include "testutil.h"
#include <wincrypt.h>
#include <winhttp.h>

#define TIMEOUT 15000
#define E_NULL_REF HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER)
#define E_NO_CERTIFICATE HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA)
#define TEST_CERT_SUBJECT L"CN=OpenDO Test Client, O=OpenDO Tests"

static IBackgroundCopyManager *manager;
/* The running test's jobs and scratch folder, cleaned up by its teardown even when it fails. */
static IBackgroundCopyJob *jobs[8];
static int job_count;
static WCHAR scratch[MAX_PATH];
/* A certificate the running test put into the user's MY store, removed by its teardown. */
static BYTE test_cert_hash[20];
static BOOL test_cert_added;

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

static void remove_test_cert(void);

static int teardown(void **state)
{
    while (job_count > 0)
        tu_cancel_release(jobs[--job_count]);
    if (scratch[0])
        tu_remove_tree(scratch);
    scratch[0] = 0;
    remove_test_cert();
    return 0;
}

/* A fresh scratch folder for the test, removed by the teardown. */
static void make_scratch(const char *name)
{
    tu_scratch(name, scratch, ARRAY_SIZE(scratch));
}

/* A job with one file from url to <scratch>\name, owned by the teardown. */
static IBackgroundCopyJob *new_job(const WCHAR *url, const WCHAR *name)
{
    WCHAR local[MAX_PATH];

    tu_path(local, ARRAY_SIZE(local), scratch, name);
    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    return jobs[job_count++] = tu_job_with_file(manager, url, local);
}

/* A job without files, owned by the teardown. */
static IBackgroundCopyJob *empty_job(void)
{
    IBackgroundCopyJob *job;
    GUID id;

    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"http options", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    return jobs[job_count++] = job;
}

static IBackgroundCopyJobHttpOptions *http_options(IBackgroundCopyJob *job)
{
    IBackgroundCopyJobHttpOptions *options = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                                      (void **)&options));
    return options;
}

/* Resumes the job, waits for TRANSFERRED and completes it. */
static void run_to_completion(IBackgroundCopyJob *job)
{
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
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

static void https_url(WCHAR *out, size_t size, const WCHAR *path)
{
    swprintf(out, size, L"https://127.0.0.1:%d/%ls", tu_nginx_port(L"https_port"), path);
}

static WCHAR *remote_name(IBackgroundCopyJob *job)
{
    IBackgroundCopyFile *file = tu_job_file(job, 0);
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &name));
    IBackgroundCopyFile_Release(file);
    return name;
}

/* ---- custom headers ---- */

static void custom_headers_round_trip(void **state)
{
    IBackgroundCopyJob *job = empty_job();
    IBackgroundCopyJobHttpOptions *options = http_options(job);
    WCHAR *headers = (WCHAR *)0xdeadbeef, *big;

    /* None by default: S_FALSE and no string, as BITS documents. */
    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &headers));
    assert_null(headers);
    assert_hr(E_NULL_REF, IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, NULL));

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(options,
                                                                   L"X-One: 1\r\nX-Two: two\r\n"));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &headers));
    assert_cotask_str(L"X-One: 1\r\nX-Two: two\r\n", headers);

    /* NULL removes them. */
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, NULL));
    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &headers));
    assert_null(headers);

    /* At most 16,384 characters with the terminator. */
    big = malloc(16384 * sizeof(WCHAR));
    wmemset(big, L'a', 16383);
    big[16383] = 0;
    /* One header: "X:aaa...". */
    big[0] = L'X';
    big[1] = L':';
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, big));
    big[16383] = L'a';
    big = realloc(big, 16385 * sizeof(WCHAR));
    big[16384] = 0;
    assert_hr(BG_E_STRING_TOO_LONG, IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, big));
    free(big);
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &headers));
    assert_int_equal(wcslen(headers), 16383);
    CoTaskMemFree(headers);

    /* A cancelled job takes no more changes but still tells what it had. */
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE,
              IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, L"X-Late: 1\r\n"));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, NULL));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetCustomHeaders(options, &headers));
    CoTaskMemFree(headers);
    IBackgroundCopyJobHttpOptions_Release(options);
}

static void custom_headers_reach_the_server(void **state)
{
    IBackgroundCopyJobHttpOptions *options;
    IBackgroundCopyJob *job;
    WCHAR url[MAX_PATH];

    make_scratch("job_http_headers");
    /* /echo/header answers with the X-OpenDO-Test header it received. */
    tu_url(url, ARRAY_SIZE(url), L"echo/header");
    job = new_job(url, L"echo.txt");
    options = http_options(job);
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(
                        options, L"X-Other: 1\r\nX-OpenDO-Test: hello from the job\r\n"));
    IBackgroundCopyJobHttpOptions_Release(options);
    run_to_completion(job);
    assert_content(L"echo.txt", "hello from the job\n");

    /* Without custom headers the server sees none. */
    job = new_job(url, L"plain.txt");
    run_to_completion(job);
    assert_content(L"plain.txt", "\n");
}

static void custom_headers_on_every_request(void **state)
{
    IBackgroundCopyJobHttpOptions *options;
    WCHAR url[MAX_PATH], small[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    IBackgroundCopyJob *job;
    ULONGLONG deadline;

    make_scratch("job_http_every_request");
    /* /needs-header/ serves files only to requests with "X-OpenDO-Test: yes", throttled: the
     * job is suspended in the middle and resumed with a Range request, which must carry the
     * header too, as must the request of the second file. */
    tu_unique_url(url, ARRAY_SIZE(url), L"needs-header/slow/8m.bin");
    tu_unique_url(small, ARRAY_SIZE(small), L"needs-header/hello.txt");
    job = new_job(url, L"8m.bin");
    tu_path(local, ARRAY_SIZE(local), scratch, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, small, local));
    options = http_options(job);
    assert_hr(S_OK,
              IBackgroundCopyJobHttpOptions_SetCustomHeaders(options, L"X-OpenDO-Test: yes\r\n"));
    IBackgroundCopyJobHttpOptions_Release(options);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    /* The files are fetched side by side. The small one is done first, and the job suspended
     * once the big one is past nginx's first second (its throttle lets that much through at
     * once): a Suspend that stopped the small file's request would make it asked twice. */
    tu_wait_bytes(job, 3 * 1024 * 1024, TIMEOUT);
    deadline = GetTickCount64() + TIMEOUT;
    while (tu_progress(job).FilesTransferred < 1)
    {
        assert_true(tu_progress(job).BytesTransferred < 8 * 1024 * 1024);
        assert_true(GetTickCount64() < deadline);
        Sleep(5);
    }
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_true(tu_progress(job).BytesTransferred < 8 * 1024 * 1024);
    run_to_completion(job);

    tu_www(www, ARRAY_SIZE(www), L"slow\\8m.bin");
    tu_path(local, ARRAY_SIZE(local), scratch, L"8m.bin");
    assert_true(tu_same_file(www, local));
    assert_content(L"hello.txt", "hello, OpenDO\n");
    assert_int_equal(tu_access_count_wait(url, 200, 1), 1);
    assert_int_equal(tu_access_count_wait(url, 206, 1), 1);
    assert_int_equal(tu_access_count(url, 403), 0);
    assert_int_equal(tu_access_count_wait(small, 200, 1), 1);

    /* The location really wants the header. */
    job = new_job(small, L"refused.txt");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_FROM_STATUS(403));
}

/* ---- security flags ---- */

static void security_flags_round_trip(void **state)
{
    static const ULONG valid[] = {
        BG_SSL_ENABLE_CRL_CHECK,
        BG_SSL_IGNORE_CERT_CN_INVALID,
        BG_SSL_IGNORE_CERT_DATE_INVALID,
        BG_SSL_IGNORE_UNKNOWN_CA,
        BG_SSL_IGNORE_CERT_WRONG_USAGE,
        BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT,
        BG_HTTP_REDIRECT_POLICY_DISALLOW,
        BG_HTTP_REDIRECT_POLICY_ALLOW_SILENT | BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP,
        BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT | BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP |
            BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID,
        0x1f | BG_HTTP_REDIRECT_POLICY_DISALLOW,
        0,
    };
    /* Undefined bits, and redirect policies beyond DISALLOW inside the mask. */
    static const ULONG invalid[] = {0x20, 0x80, 0x300, 0x400, 0x700, 0x1000, 0x80000000};
    IBackgroundCopyJob *job = empty_job();
    IBackgroundCopyJobHttpOptions *options = http_options(job);
    ULONG flags = 0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, &flags));
    assert_int_equal(flags, 0);
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, NULL));
    for (size_t i = 0; i < ARRAY_SIZE(valid); i++)
    {
        assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, valid[i]));
        assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, &flags));
        assert_int_equal(flags, valid[i]);
    }
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, 0x1f));
    for (size_t i = 0; i < ARRAY_SIZE(invalid); i++)
    {
        assert_hr(E_NOTIMPL, IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, invalid[i]));
        assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetSecurityFlags(options, &flags));
        assert_int_equal(flags, 0x1f);
    }
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, 0));
    IBackgroundCopyJobHttpOptions_Release(options);
}

static void set_flags(IBackgroundCopyJob *job, ULONG flags)
{
    IBackgroundCopyJobHttpOptions *options = http_options(job);

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, flags));
    IBackgroundCopyJobHttpOptions_Release(options);
}

static void redirect_followed_by_default(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_http_redirect_silent");
    /* /redirect/hello.txt answers 302 to /hello.txt. */
    tu_url(url, ARRAY_SIZE(url), L"redirect/hello.txt");
    job = new_job(url, L"hello.txt");
    run_to_completion(job);
    assert_content(L"hello.txt", "hello, OpenDO\n");
    /* ALLOW_SILENT keeps the remote name. */
    assert_cotask_str(url, remote_name(job));
}

static void redirect_reported(void **state)
{
    static const WCHAR *const paths[] = {L"redirect/hello.txt", L"redirect-relative/hello.txt"};
    WCHAR url[MAX_PATH], target[MAX_PATH], name[32];
    IBackgroundCopyJob *job;

    make_scratch("job_http_redirect_report");
    tu_url(target, ARRAY_SIZE(target), L"hello.txt");
    /* With an absolute and with a relative Location. */
    for (int i = 0; i < (int)ARRAY_SIZE(paths); i++)
    {
        tu_url(url, ARRAY_SIZE(url), paths[i]);
        swprintf(name, ARRAY_SIZE(name), L"hello%d.txt", i);
        job = new_job(url, name);
        set_flags(job, BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT);
        assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
        tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
        /* BITS updates the remote name with the final URL. */
        assert_cotask_str(target, remote_name(job));
        assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
        assert_content(name, "hello, OpenDO\n");
    }
}

static void redirect_disallowed(void **state)
{
    static const WCHAR *const prefixes[] = {L"redirect/", L"redirect-relative/"};
    WCHAR url[MAX_PATH], path[MAX_PATH], target[MAX_PATH], local[MAX_PATH], name[32];
    IBackgroundCopyJob *job;

    make_scratch("job_http_redirect_disallow");
    for (int i = 0; i < (int)ARRAY_SIZE(prefixes); i++)
    {
        swprintf(path, ARRAY_SIZE(path), L"%lshello.txt", prefixes[i]);
        tu_unique_url(url, ARRAY_SIZE(url), path);
        /* The same URL without the prefix (the query string stays). */
        wcscpy(target, url);
        wcscpy(wcsstr(target, prefixes[i]), wcsstr(url, prefixes[i]) + wcslen(prefixes[i]));
        swprintf(name, ARRAY_SIZE(name), L"hello%d.txt", i);
        job = new_job(url, name);
        set_flags(job, BG_HTTP_REDIRECT_POLICY_DISALLOW);
        assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
        /* A fatal error with HRESULT_FROM_WIN32(HTTP_STATUS_REDIRECT), as BITS documents, and
         * the remote name now names where the server pointed. */
        tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
        tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, HRESULT_FROM_WIN32(302));
        assert_cotask_str(target, remote_name(job));
        assert_int_equal(tu_access_count_wait(url, 302, 1), 1);
        /* Nothing was downloaded. */
        assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob_Complete(job));
        tu_path(local, ARRAY_SIZE(local), scratch, name);
        assert_false(tu_exists(local));
    }
}

/* The job's error code; asserts the state and the context. */
static HRESULT job_error(IBackgroundCopyJob *job, BG_JOB_STATE state, BG_ERROR_CONTEXT context)
{
    IBackgroundCopyError *error = NULL;
    BG_ERROR_CONTEXT actual;
    HRESULT code;

    tu_wait_state(job, state, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_GetError(job, &error));
    assert_hr(S_OK, IBackgroundCopyError_GetError(error, &actual, &code));
    IBackgroundCopyError_Release(error);
    assert_int_equal(actual, context);
    return code;
}

/* Resumes the job and asserts that it fails on the certificate: a fatal transport error,
 * `windows` as Windows names it, or the failed handshake of Wine's schannel. */
static void assert_certificate_refused(IBackgroundCopyJob *job, DWORD windows)
{
    HRESULT code;

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    code = job_error(job, BG_JOB_STATE_ERROR, BG_ERROR_CONTEXT_GENERAL_TRANSPORT);
    if (code != HRESULT_FROM_WIN32(windows) &&
        code != HRESULT_FROM_WIN32(ERROR_WINHTTP_SECURE_CHANNEL_ERROR))
        fail_msg("unexpected error 0x%08lx", (unsigned long)code);
}

static void https_certificate_errors_ignored(void **state)
{
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_http_https");
    /* The https server's certificate is self-signed and names opendo-test.invalid. */
    https_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"strict.txt");
    assert_certificate_refused(job, ERROR_WINHTTP_SECURE_INVALID_CA);

    /* Ignoring one of the two faults is not enough. */
    job = new_job(url, L"ca.txt");
    set_flags(job, BG_SSL_IGNORE_UNKNOWN_CA);
    assert_certificate_refused(job, ERROR_WINHTTP_SECURE_CERT_CN_INVALID);
    job = new_job(url, L"cn.txt");
    set_flags(job, BG_SSL_IGNORE_CERT_CN_INVALID | BG_SSL_IGNORE_CERT_DATE_INVALID);
    assert_certificate_refused(job, ERROR_WINHTTP_SECURE_INVALID_CA);

    job = new_job(url, L"lenient.txt");
    set_flags(job, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID);
    run_to_completion(job);
    assert_content(L"lenient.txt", "hello, OpenDO\n");

    /* A job that ignores nothing, after the lenient one, to the same server: the certificate
     * is checked again (no connection the lenient job made is used for it). */
    job = new_job(url, L"strict_again.txt");
    assert_certificate_refused(job, ERROR_WINHTTP_SECURE_INVALID_CA);
}

/* ---- client certificate ---- */

/* Creates a self-signed certificate in the user's MY store for the test (the teardown removes
 * it) and returns its SHA-1 hash in test_cert_hash. The store is opened as the registry store it
 * is: Wine forgets deletions made through CERT_STORE_PROV_SYSTEM. */
static void add_test_cert(void)
{
    CERT_NAME_BLOB name = {0};
    const CERT_CONTEXT *cert;
    HCERTSTORE store;
    DWORD size = 0;

    assert_true(CertStrToNameW(X509_ASN_ENCODING, TEST_CERT_SUBJECT, CERT_X500_NAME_STR, NULL, NULL,
                               &size, NULL));
    name.pbData = malloc(size);
    name.cbData = size;
    assert_true(CertStrToNameW(X509_ASN_ENCODING, TEST_CERT_SUBJECT, CERT_X500_NAME_STR, NULL,
                               name.pbData, &name.cbData, NULL));
    cert = CertCreateSelfSignCertificate(0, &name, 0, NULL, NULL, NULL, NULL, NULL);
    free(name.pbData);
    if (!cert)
        fail_msg("cannot create a certificate: %lu", GetLastError());
    size = sizeof(test_cert_hash);
    assert_true(CertGetCertificateContextProperty(cert, CERT_HASH_PROP_ID, test_cert_hash, &size));
    store = CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER,
                          L"MY");
    assert_non_null(store);
    assert_true(
        CertAddCertificateContextToStore(store, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL));
    test_cert_added = TRUE;
    CertCloseStore(store, 0);
    CertFreeCertificateContext(cert);
}

/* Is the test's certificate in the user's MY store? */
static BOOL test_cert_present(void)
{
    CRYPT_HASH_BLOB blob = {sizeof(test_cert_hash), test_cert_hash};
    const CERT_CONTEXT *cert;
    HCERTSTORE store;

    store = CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER,
                          L"MY");
    if (!store)
        return FALSE;
    cert =
        CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &blob, NULL);
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
    return cert != NULL;
}

static void remove_test_cert(void)
{
    CRYPT_HASH_BLOB blob = {sizeof(test_cert_hash), test_cert_hash};
    const CERT_CONTEXT *cert;
    HCERTSTORE store;

    if (!test_cert_added)
        return;
    test_cert_added = FALSE;
    store = CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER,
                          L"MY");
    if (!store)
        return;
    while ((cert = CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH,
                                              &blob, NULL)))
        CertDeleteCertificateFromStore(cert);
    CertCloseStore(store, 0);
}

static void client_certificate_arguments(void **state)
{
    IBackgroundCopyJob *job = empty_job();
    IBackgroundCopyJobHttpOptions *options = http_options(job);
    BG_CERT_STORE_LOCATION location;
    WCHAR *store, *subject, long_name[300];
    BYTE hash[20] = {1, 2, 3}, *blob;
    HCERTSTORE my;

    /* The user's MY store exists (and holds no certificate with that hash). */
    my = CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER,
                       L"MY");
    assert_non_null(my);
    CertCloseStore(my, 0);

    assert_hr(E_NOTIMPL,
              IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                  options, BG_CERT_STORE_LOCATION_LOCAL_MACHINE_ENTERPRISE + 1, L"MY", hash));
    assert_hr(E_NOTIMPL, IBackgroundCopyJobHttpOptions_SetClientCertificateByName(options, -1,
                                                                                  L"MY", L"name"));
    assert_hr(E_NULL_REF, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                              options, BG_CERT_STORE_LOCATION_CURRENT_USER, NULL, hash));
    assert_hr(E_NULL_REF, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                              options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", NULL));
    assert_hr(E_NULL_REF, IBackgroundCopyJobHttpOptions_SetClientCertificateByName(
                              options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetClientCertificateByName(
                                options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", L""));
    /* Names hold at most 256 characters with the terminator. */
    wmemset(long_name, L'n', 256);
    long_name[256] = 0;
    assert_hr(BG_E_STRING_TOO_LONG,
              IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                  options, BG_CERT_STORE_LOCATION_CURRENT_USER, long_name, hash));
    assert_hr(BG_E_STRING_TOO_LONG,
              IBackgroundCopyJobHttpOptions_SetClientCertificateByName(
                  options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", long_name));
    /* No such store, no such certificate. */
    assert_hr(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
              IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                  options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"OpenDONoSuchStore", hash));
    assert_hr(CRYPT_E_NOT_FOUND, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                                     options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", hash));
    assert_hr(CRYPT_E_NOT_FOUND,
              IBackgroundCopyJobHttpOptions_SetClientCertificateByName(
                  options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", L"OpenDO no such subject"));

    /* Nothing was set. */
    assert_hr(E_NO_CERTIFICATE, IBackgroundCopyJobHttpOptions_GetClientCertificate(
                                    options, &location, &store, &blob, &subject));
    assert_hr(E_NULL_REF, IBackgroundCopyJobHttpOptions_GetClientCertificate(options, NULL, &store,
                                                                             &blob, &subject));
    assert_hr(E_NULL_REF, IBackgroundCopyJobHttpOptions_GetClientCertificate(
                              options, &location, &store, NULL, &subject));
    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_RemoveClientCertificate(options));

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJobHttpOptions_RemoveClientCertificate(options));
    assert_hr(BG_E_INVALID_STATE,
              IBackgroundCopyJobHttpOptions_SetClientCertificateByName(
                  options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", L"OpenDO Test Client"));
    IBackgroundCopyJobHttpOptions_Release(options);
}

static void client_certificate_round_trip(void **state)
{
    IBackgroundCopyJob *job = empty_job();
    IBackgroundCopyJobHttpOptions *options = http_options(job);
    BG_CERT_STORE_LOCATION location = -1;
    WCHAR *store, *subject;
    BYTE *blob;

    add_test_cert();
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                        options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", test_cert_hash));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetClientCertificate(options, &location, &store,
                                                                       &blob, &subject));
    assert_int_equal(location, BG_CERT_STORE_LOCATION_CURRENT_USER);
    assert_cotask_str(L"MY", store);
    assert_memory_equal(blob, test_cert_hash, 20);
    CoTaskMemFree(blob);
    /* The simple subject name, its RDNs in the reverse of the displayed order. */
    assert_cotask_str(L"OpenDO Tests, OpenDO Test Client", subject);

    /* By a part of the subject name: the hash is the certificate's. */
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_RemoveClientCertificate(options));
    assert_hr(S_OK,
              IBackgroundCopyJobHttpOptions_SetClientCertificateByName(
                  options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", L"OpenDO Test Client"));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetClientCertificate(options, &location, &store,
                                                                       &blob, &subject));
    assert_int_equal(location, BG_CERT_STORE_LOCATION_CURRENT_USER);
    assert_cotask_str(L"MY", store);
    assert_memory_equal(blob, test_cert_hash, 20);
    CoTaskMemFree(blob);
    assert_cotask_str(L"OpenDO Test Client", subject);

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_RemoveClientCertificate(options));
    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_RemoveClientCertificate(options));
    assert_hr(E_NO_CERTIFICATE, IBackgroundCopyJobHttpOptions_GetClientCertificate(
                                    options, &location, &store, &blob, &subject));
    IBackgroundCopyJobHttpOptions_Release(options);
}

static void client_certificate_applied(void **state)
{
    IBackgroundCopyJobHttpOptions *options;
    WCHAR url[MAX_PATH];
    IBackgroundCopyJob *job;

    make_scratch("job_http_client_cert");
    add_test_cert();
    /* The certificate goes with https requests (this server does not ask for one) and is not
     * offered to plain http. */
    https_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"https.txt");
    set_flags(job, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID);
    options = http_options(job);
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                        options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", test_cert_hash));
    IBackgroundCopyJobHttpOptions_Release(options);
    run_to_completion(job);
    assert_content(L"https.txt", "hello, OpenDO\n");

    /* A certificate that went away between Set and the transfer fails the job. */
    https_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"gone.txt");
    set_flags(job, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID);
    options = http_options(job);
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(
                        options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", test_cert_hash));
    IBackgroundCopyJobHttpOptions_Release(options);
    remove_test_cert();
    assert_false(test_cert_present());
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, CRYPT_E_NOT_FOUND);

    /* Plain http ignores it. */
    add_test_cert();
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    job = new_job(url, L"http.txt");
    options = http_options(job);
    assert_hr(S_OK,
              IBackgroundCopyJobHttpOptions_SetClientCertificateByName(
                  options, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", L"OpenDO Test Client"));
    IBackgroundCopyJobHttpOptions_Release(options);
    run_to_completion(job);
    assert_content(L"http.txt", "hello, OpenDO\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(custom_headers_round_trip, teardown),
        cmocka_unit_test_teardown(custom_headers_reach_the_server, teardown),
        cmocka_unit_test_teardown(custom_headers_on_every_request, teardown),
        cmocka_unit_test_teardown(security_flags_round_trip, teardown),
        cmocka_unit_test_teardown(redirect_followed_by_default, teardown),
        cmocka_unit_test_teardown(redirect_reported, teardown),
        cmocka_unit_test_teardown(redirect_disallowed, teardown),
        cmocka_unit_test_teardown(https_certificate_errors_ignored, teardown),
        cmocka_unit_test_teardown(client_certificate_arguments, teardown),
        cmocka_unit_test_teardown(client_certificate_round_trip, teardown),
        cmocka_unit_test_teardown(client_certificate_applied, teardown),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
