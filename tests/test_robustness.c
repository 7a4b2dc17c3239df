/* SPDX-License-Identifier: MIT */
/* Bad input through the DLL, one test per row (or small group of rows) of docs/robustness.md. */

/*
 * Every test here calls the COM interfaces as a client would, with one kind of bad input, and
 * asserts the HRESULT and that nothing happened: no file added to the job, no temporary file
 * left in the destination folder, no property changed. No job is ever resumed, so the remote
 * names never need to answer.
 */

#include <stdlib.h>
#include "testutil.h"

#define REMOTE L"http://127.0.0.1:1/file.bin"
#define E_PATH_NOT_FOUND HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)

struct fixture
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJobHttpOptions *http;
    IDeliveryOptimizationJob *do_job;
    IDeliveryOptimizationJob2 *do_job2;
    /* File 0 of the job: added with REMOTE and `probe`, for SetRemoteName. */
    IBackgroundCopyFile2 *probe_file;
    /* File 1: a DO file without a sink yet, for DownloadSinkFilePath. */
    IDeliveryOptimizationFile2 *sinkless;
    BOOL do_dialect;
    ULONG files;         /* files the job had after setup */
    int temporary_files; /* BIT*.tmp in dir after setup */
    WCHAR dir[MAX_PATH];
    WCHAR probe[MAX_PATH];
    WCHAR local[MAX_PATH]; /* a good local name that no file uses */
};

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

static ULONG files_total(IBackgroundCopyJob *job)
{
    return tu_progress(job).FilesTotal;
}

static void setup_dialect(struct fixture *f, const char *scratch, BOOL do_dialect)
{
    IBackgroundCopyFile *file;
    GUID id;

    memset(f, 0, sizeof(*f));
    f->do_dialect = do_dialect;
    f->manager = manager_of(do_dialect);
    tu_scratch(scratch, f->dir, ARRAY_SIZE(f->dir));
    tu_path(f->probe, ARRAY_SIZE(f->probe), f->dir, L"probe.bin");
    tu_path(f->local, ARRAY_SIZE(f->local), f->dir, L"out.bin");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(f->manager, L"robustness",
                                                     BG_JOB_TYPE_DOWNLOAD, &id, &f->job));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f->job, &IID_IBackgroundCopyJob3,
                                                      (void **)&f->job3));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f->job, &IID_IBackgroundCopyJobHttpOptions,
                                                      (void **)&f->http));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f->job, &IID_IDeliveryOptimizationJob,
                                                      (void **)&f->do_job));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f->job, &IID_IDeliveryOptimizationJob2,
                                                      (void **)&f->do_job2));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f->job, REMOTE, f->probe));
    file = tu_job_file(f->job, 0);
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2,
                                                       (void **)&f->probe_file));
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, IDeliveryOptimizationJob2_AddFile(f->do_job2, L"sinkless", REMOTE, 0, NULL,
                                                      &IID_IDeliveryOptimizationFile2,
                                                      (void **)&f->sinkless));
    f->files = files_total(f->job);
    f->temporary_files = tu_count(f->dir, L"BIT*.tmp");
    assert_int_equal(f->files, 2);
    assert_int_equal(f->temporary_files, 0);
}

static void setup(struct fixture *f, const char *scratch)
{
    setup_dialect(f, scratch, FALSE);
}

static void teardown(struct fixture *f)
{
    IDeliveryOptimizationFile2_Release(f->sinkless);
    IBackgroundCopyFile2_Release(f->probe_file);
    IDeliveryOptimizationJob2_Release(f->do_job2);
    IDeliveryOptimizationJob_Release(f->do_job);
    IBackgroundCopyJobHttpOptions_Release(f->http);
    IBackgroundCopyJob3_Release(f->job3);
    tu_cancel_release(f->job);
    IBackgroundCopyManager_Release(f->manager);
    tu_remove_tree(f->dir);
}

/* The code a dialect gives for an engine (BITS) code. */
static HRESULT code(const struct fixture *f, HRESULT bits, HRESULT dos)
{
    return f->do_dialect ? dos : bits;
}

/* The job still has only the files of setup, and the folder only their temporary file. */
static void assert_nothing_added(const struct fixture *f, const WCHAR *what)
{
    ULONG files = files_total(f->job);
    int temporary = tu_count(f->dir, L"BIT*.tmp");

    if (files != f->files)
        fail_msg("refusing \"%ls\" left %lu files in the job, expected %lu", what, files, f->files);
    if (temporary != f->temporary_files)
        fail_msg("refusing \"%ls\" left %d temporary files, expected %d", what, temporary,
                 f->temporary_files);
}

static void assert_remote_name(IBackgroundCopyFile2 *file, const WCHAR *expected)
{
    LPWSTR name = NULL;

    assert_hr(S_OK, IBackgroundCopyFile2_GetRemoteName(file, &name));
    assert_cotask_str(expected, name);
}

/* Sets DownloadSinkFilePath of the fixture's sinkless DO file. */
static HRESULT set_sink_path(struct fixture *f, const WCHAR *path)
{
    VARIANT value;
    HRESULT hr;

    V_VT(&value) = VT_BSTR;
    V_BSTR(&value) = path ? SysAllocString(path) : NULL;
    hr = IDeliveryOptimizationFile2_SetProperty(f->sinkless, DOFilePropertyId_DownloadSinkFilePath,
                                                &value);
    SysFreeString(V_BSTR(&value));
    return hr;
}

/* Every way of naming a remote file refuses `url` with `expected`: AddFile, AddFileSet,
 * AddFileWithRanges (BITS and DO), IDeliveryOptimizationJob2::AddFile and SetRemoteName. The
 * line is the caller's, for the failure message. */
#define check_url_refused(f, url, expected) check_url_refused_at(f, url, expected, __LINE__)
static void check_url_refused_at(struct fixture *f, const WCHAR *url, HRESULT expected, int line)
{
    BG_FILE_RANGE range = {0, 10};
    BG_FILE_INFO info = {(WCHAR *)url, f->local};
    IDeliveryOptimizationFile2 *file = NULL;
    HRESULT got[6];

    got[0] = IBackgroundCopyJob_AddFile(f->job, url, f->local);
    got[1] = IBackgroundCopyJob_AddFileSet(f->job, 1, &info);
    got[2] = IBackgroundCopyJob3_AddFileWithRanges(f->job3, url, f->local, 1, &range);
    got[3] = IDeliveryOptimizationJob_AddFileWithRanges(f->do_job, L"id", url, f->local, 0, NULL,
                                                        DO_UNKNOWN_FILE_SIZE);
    got[4] = IDeliveryOptimizationJob2_AddFile(f->do_job2, L"id", url, 0, NULL,
                                               &IID_IDeliveryOptimizationFile2, (void **)&file);
    got[5] = IBackgroundCopyFile2_SetRemoteName(f->probe_file, url);
    for (size_t i = 0; i < ARRAY_SIZE(got); i++)
    {
        if (got[i] != expected)
            fail_msg("line %d: \"%.80ls\": call %u answered 0x%08lx, expected 0x%08lx", line, url,
                     (unsigned int)i, (unsigned long)got[i], (unsigned long)expected);
    }
    assert_null(file);
    assert_nothing_added(f, url);
    assert_remote_name(f->probe_file, REMOTE);
}

/* `url` is a good remote name: SetRemoteName takes it as it is (and the probe gets REMOTE back),
 * and IDeliveryOptimizationJob2::AddFile adds a file with it. */
#define check_url_accepted(f, url) check_url_accepted_at(f, url, __LINE__)
static void check_url_accepted_at(struct fixture *f, const WCHAR *url, int line)
{
    IDeliveryOptimizationFile2 *file = NULL;
    HRESULT hr;

    if ((hr = IBackgroundCopyFile2_SetRemoteName(f->probe_file, url)) != S_OK)
        fail_msg("line %d: SetRemoteName(\"%.80ls\") = 0x%08lx, expected S_OK", line, url,
                 (unsigned long)hr);
    assert_remote_name(f->probe_file, url);
    assert_hr(S_OK, IBackgroundCopyFile2_SetRemoteName(f->probe_file, REMOTE));
    if ((hr = IDeliveryOptimizationJob2_AddFile(f->do_job2, L"", url, 0, NULL,
                                                &IID_IDeliveryOptimizationFile2, (void **)&file)) !=
        S_OK)
        fail_msg("line %d: AddFile(\"%.80ls\") = 0x%08lx, expected S_OK", line, url,
                 (unsigned long)hr);
    IDeliveryOptimizationFile2_Release(file);
    f->files++;
}

/* Every way of naming a local file refuses `local` with `expected`: AddFile, AddFileSet,
 * AddFileWithRanges (BITS and DO) and DownloadSinkFilePath; nothing is added or created. */
#define check_local_refused(f, local, expected) check_local_refused_at(f, local, expected, __LINE__)
static void check_local_refused_at(struct fixture *f, const WCHAR *local, HRESULT expected,
                                   int line)
{
    BG_FILE_RANGE range = {0, 10};
    BG_FILE_INFO info = {(WCHAR *)REMOTE, (WCHAR *)local};
    HRESULT got[5];

    got[0] = IBackgroundCopyJob_AddFile(f->job, REMOTE, local);
    got[1] = IBackgroundCopyJob_AddFileSet(f->job, 1, &info);
    got[2] = IBackgroundCopyJob3_AddFileWithRanges(f->job3, REMOTE, local, 1, &range);
    got[3] = IDeliveryOptimizationJob_AddFileWithRanges(f->do_job, L"id", REMOTE, local, 0, NULL,
                                                        DO_UNKNOWN_FILE_SIZE);
    got[4] = set_sink_path(f, local);
    for (size_t i = 0; i < ARRAY_SIZE(got); i++)
    {
        if (got[i] != expected)
            fail_msg("line %d: local name \"%ls\": call %u answered 0x%08lx, expected 0x%08lx",
                     line, local, (unsigned int)i, (unsigned long)got[i], (unsigned long)expected);
    }
    assert_nothing_added(f, local);
}

/* A string of `count` copies of c after prefix, in buffer (of `size` characters). */
static WCHAR *repeat(WCHAR *buffer, size_t size, const WCHAR *prefix, WCHAR c, size_t count)
{
    size_t len = wcslen(prefix);

    assert_true(len + count < size);
    wcscpy(buffer, prefix);
    for (size_t i = 0; i < count; i++)
        buffer[len + i] = c;
    buffer[len + count] = 0;
    return buffer;
}

/* ---- NULL pointers ---- */

static void null_create_job(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = (void *)0xdeadbeef;
    GUID id;

    assert_hr(E_INVALIDARG,
              IBackgroundCopyManager_CreateJob(manager, NULL, BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_null(job);
    job = (void *)0xdeadbeef;
    assert_hr(E_INVALIDARG,
              IBackgroundCopyManager_CreateJob(manager, L"x", BG_JOB_TYPE_DOWNLOAD, NULL, &job));
    assert_null(job);
    assert_hr(E_INVALIDARG,
              IBackgroundCopyManager_CreateJob(manager, L"x", BG_JOB_TYPE_DOWNLOAD, &id, NULL));
    IBackgroundCopyManager_Release(manager);
}

static void null_get_job(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = (void *)0xdeadbeef;
    GUID id;

    assert_hr(E_INVALIDARG, IBackgroundCopyManager_GetJob(manager, NULL, &job));
    assert_null(job);
    assert_hr(S_OK, CoCreateGuid(&id));
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_GetJob(manager, &id, NULL));
    IBackgroundCopyManager_Release(manager);
}

static void null_add_file(void **state)
{
    BG_FILE_RANGE range = {0, 10};
    BG_FILE_INFO set[2];
    struct fixture f;

    setup(&f, "rb_null_add_file");
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(f.job, NULL, f.local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(f.job, REMOTE, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(f.job, NULL, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(f.job, 1, NULL));
    /* A NULL name anywhere in the set refuses all of it. */
    set[0].RemoteName = (WCHAR *)REMOTE;
    set[0].LocalName = f.local;
    set[1].RemoteName = NULL;
    set[1].LocalName = f.probe;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(f.job, 2, set));
    set[1].RemoteName = (WCHAR *)REMOTE;
    set[1].LocalName = NULL;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(f.job, 2, set));
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, NULL, f.local, 1, &range));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_AddFileWithRanges(f.job3, REMOTE, NULL, 1, &range));
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, REMOTE, f.local, 1, NULL));
    assert_nothing_added(&f, L"NULL");
    teardown(&f);
}

static void null_job_strings(void **state)
{
    BG_AUTH_CREDENTIALS credentials = {BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC};
    BG_JOB_PROXY_USAGE usage;
    LPWSTR text, list, bypass;
    struct fixture f;

    setup(&f, "rb_null_job_strings");
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetDisplayName(f.job, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(f.job, &text));
    assert_cotask_str(L"robustness", text);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetDescription(f.job, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(f.job, &text));
    assert_cotask_str(L"", text);

    /* Proxy lists belong to OVERRIDE, which needs one; the bypass list may be NULL. */
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob_SetProxySettings(f.job, BG_JOB_PROXY_USAGE_OVERRIDE, NULL, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetProxySettings(f.job, BG_JOB_PROXY_USAGE_OVERRIDE,
                                                                NULL, L"<local>"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetProxySettings(f.job, BG_JOB_PROXY_USAGE_NO_PROXY,
                                                                L"proxy:80", NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetProxySettings(f.job, &usage, &list, &bypass));
    assert_int_equal(usage, BG_JOB_PROXY_USAGE_PRECONFIG);
    assert_null(list);
    assert_null(bypass);
    assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(f.job, BG_JOB_PROXY_USAGE_OVERRIDE,
                                                        L"proxy:80", NULL));

    /* Basic and Digest need both names; NULL credentials are no credentials. */
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob2_SetCredentials((IBackgroundCopyJob2 *)f.job3, NULL));
    credentials.Credentials.Basic.UserName = NULL;
    credentials.Credentials.Basic.Password = (WCHAR *)L"secret";
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob2_SetCredentials((IBackgroundCopyJob2 *)f.job3, &credentials));
    credentials.Scheme = BG_AUTH_SCHEME_DIGEST;
    credentials.Credentials.Basic.UserName = (WCHAR *)L"user";
    credentials.Credentials.Basic.Password = NULL;
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob2_SetCredentials((IBackgroundCopyJob2 *)f.job3, &credentials));
    /* Nothing was stored: there is nothing to remove. */
    assert_hr(S_FALSE,
              IBackgroundCopyJob2_RemoveCredentials((IBackgroundCopyJob2 *)f.job3,
                                                    BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_DIGEST));

    /* No program with parameters; NULL and NULL clear the command line. */
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob2_SetNotifyCmdLine((IBackgroundCopyJob2 *)f.job3, NULL, L"x"));
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine((IBackgroundCopyJob2 *)f.job3,
                                                         L"C:\\windows\\notepad.exe", L"a"));
    assert_hr(S_OK,
              IBackgroundCopyJob2_SetNotifyCmdLine((IBackgroundCopyJob2 *)f.job3, NULL, NULL));
    assert_hr(S_OK,
              IBackgroundCopyJob2_GetNotifyCmdLine((IBackgroundCopyJob2 *)f.job3, &list, &bypass));
    assert_cotask_str(L"", list);
    assert_cotask_str(L"", bypass);

    /* NULL custom headers remove them. */
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(f.http, L"X-A: 1\r\n"));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(f.http, NULL));
    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_GetCustomHeaders(f.http, &text));
    assert_null(text);

    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_SetRemoteName(f.probe_file, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(f.job3, NULL, L"http://x/"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(f.job3, L"http://", NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(f.job3, L"", L"http://x/"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(f.job3, L"http://", L""));
    assert_remote_name(f.probe_file, REMOTE);
    teardown(&f);
}

static void null_do_methods(void **state)
{
    IDeliveryOptimizationFile2 *file = (void *)0xdeadbeef;
    LPWSTR remote;
    VARIANT value;
    struct fixture f;

    setup(&f, "rb_null_do");
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, L"id", NULL, f.local, 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, L"id", REMOTE, NULL, 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, L"id", REMOTE, f.local, 2, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", REMOTE, 0, NULL,
                                                              NULL, (void **)&file));
    assert_null(file);
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", REMOTE, 0, NULL,
                                                &IID_IDeliveryOptimizationFile2, NULL));
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"id", REMOTE, 3, NULL,
                                                &IID_IDeliveryOptimizationFile2, (void **)&file));
    assert_nothing_added(&f, L"NULL");

    /* A NULL remote name is allowed here: SetRemoteName gives it later. */
    assert_hr(S_OK,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"later", NULL, 0, NULL,
                                                &IID_IDeliveryOptimizationFile2, (void **)&file));
    IDeliveryOptimizationFile2_Release(file);

    assert_hr(E_INVALIDARG, IDeliveryOptimizationFile2_SetProperty(
                                f.sinkless, DOFilePropertyId_DownloadSinkFilePath, NULL));
    assert_hr(E_INVALIDARG, set_sink_path(&f, NULL));
    /* A NULL BSTR is the empty string (Automation's rule). */
    V_VT(&value) = VT_BSTR;
    V_BSTR(&value) = NULL;
    assert_hr(S_OK, IDeliveryOptimizationFile2_SetProperty(
                        f.sinkless, DOFilePropertyId_IntegrityCheckInfo, &value));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationFile2_GetProperty(
                                f.sinkless, DOFilePropertyId_DownloadSinkFilePath, NULL));
    assert_hr(S_OK, IBackgroundCopyFile2_GetRemoteName(f.probe_file, &remote));
    assert_cotask_str(REMOTE, remote);
    teardown(&f);
}

/* The DO file id is an [in] string, like the names: it must be there. */
static void null_do_file_id(void **state)
{
    IDeliveryOptimizationFile2 *file = (void *)0xdeadbeef;
    struct fixture f;

    setup(&f, "rb_null_file_id");
    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(
                                f.do_job, NULL, REMOTE, f.local, 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, NULL, REMOTE, 0, NULL,
                                                &IID_IDeliveryOptimizationFile2, (void **)&file));
    assert_null(file);
    assert_nothing_added(&f, L"NULL file id");
    teardown(&f);
}

/* ---- remote names ---- */

static void url_empty_relative_and_schemes(void **state)
{
    static const WCHAR *const refused[] = {
        L"",
        L" ",
        L"file.bin",
        L"dir/file.bin",
        L"/file.bin",
        L"//127.0.0.1/file.bin",
        L"ftp://127.0.0.1/file.bin",
        L"gopher://127.0.0.1/file.bin",
        L"javascript:alert(1)",
        L"mailto:someone@example.com",
        L"data:text/plain,hello",
        L"ldap://127.0.0.1/x",
        L"http:/127.0.0.1/file.bin",
        L"http:127.0.0.1/file.bin",
        L"httpx://127.0.0.1/file.bin",
        L"smb://server/share/file.bin",
    };
    struct fixture f;

    setup(&f, "rb_url_schemes");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    check_url_accepted(&f, L"HTTP://127.0.0.1/file.bin");
    check_url_accepted(&f, L"https://127.0.0.1/file.bin");
    teardown(&f);
}

static void url_without_host(void **state)
{
    static const WCHAR *const refused[] = {
        L"http://",        L"https://",         L"http:///file.bin", L"http://:80/file.bin",
        L"https://?query", L"http://#fragment",
    };
    struct fixture f;

    setup(&f, "rb_url_host");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    check_url_accepted(&f, L"http://host");
    check_url_accepted(&f, L"http://[::1]/x");
    teardown(&f);
}

static void url_bad_port(void **state)
{
    static const WCHAR *const refused[] = {
        L"http://127.0.0.1:0/file.bin",
        L"http://127.0.0.1:65536/file.bin",
        L"http://127.0.0.1:99999999999/x",
        L"http://127.0.0.1:abc/file.bin",
        L"http://127.0.0.1:8a/file.bin",
        L"http://127.0.0.1:-1/file.bin",
        L"http://127.0.0.1:/file.bin",
        L"http://127.0.0.1: 80/file.bin",
        L"http://127.0.0.1:80:80/file.bin",
        L"http://[::1]:0/x",
        L"http://[::1]x/x",
        L"https://127.0.0.1:+443/x",
        L"http://[]/x",
        L"http://[/x",
        L"http://[::1/x",
        L"http://[fe80::1%eth0]/x",
    };
    struct fixture f;

    setup(&f, "rb_url_port");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    check_url_accepted(&f, L"http://127.0.0.1:1/x");
    check_url_accepted(&f, L"http://127.0.0.1:65535/x");
    check_url_accepted(&f, L"http://[::1]:8080/x");
    check_url_accepted(&f, L"https://127.0.0.1:443");
    teardown(&f);
}

static void url_illegal_characters(void **state)
{
    static const WCHAR *const refused[] = {
        L"http://127.0.0.1/a b",  L"http://127.0.0.1/a%20b c", L"http://host name/x",
        L"http://127.0.0.1/a\"b", L"http://127.0.0.1/a<b",     L"http://127.0.0.1/a>b",
        L"http://127.0.0.1/a\\b", L"http://127.0.0.1\\a",      L"http://127.0.0.1/a^b",
        L"http://127.0.0.1/a`b",  L"http://127.0.0.1/a{b",     L"http://127.0.0.1/a|b",
        L"http://127.0.0.1/a}b",  L"http://127.0.0.1/100%",    L"http://127.0.0.1/a%2",
        L"http://127.0.0.1/a%zz", L"http://127.0.0.1/?q=%g0",  L"http://ho<st/x",
    };
    struct fixture f;

    setup(&f, "rb_url_chars");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    check_url_accepted(&f, L"http://127.0.0.1/a%20b%2F%7e");
    check_url_accepted(&f, L"http://127.0.0.1/a-b_c.d~e/f?g=h&i=j;k,l+m*n!o$p'q(r)s@t:u#v/w?x");
    check_url_accepted(&f, L"http://127.0.0.1/caf\x00e9");
    check_url_accepted(&f, L"http://xn--caf-dma.example/x");
    teardown(&f);
}

static void url_control_characters(void **state)
{
    static const WCHAR *const refused[] = {
        L"http://127.0.0.1/a\r\nHost: evil",
        L"http://127.0.0.1/a\rb",
        L"http://127.0.0.1/a\nb",
        L"http://127.0.0.1/a\tb",
        L"\thttp://127.0.0.1/x",
        L"http://127.0.0.1/x\n",
        L"http://127.0.0.1/\x01",
        L"http://127.0.0.1\r/x",
        L"C:\\dir\\a\rb",
    };
    struct fixture f;

    setup(&f, "rb_url_controls");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    teardown(&f);
}

/* DEL and the C1 controls (U+0080 to U+009F) are control characters too. */
static void url_del_and_c1_controls(void **state)
{
    static const WCHAR *const refused[] = {
        L"http://127.0.0.1/a\x007f", L"http://127.0.0.1/a\x0085", L"http://127.0.0.1/a\x009f",
        L"http://127.0.0.1\x0080/a", L"C:\\dir\\a\x007f",
    };
    struct fixture f;

    setup(&f, "rb_url_del");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    check_url_accepted(&f, L"http://127.0.0.1/a\x00a0"
                           L"b");
    teardown(&f);
}

static void url_overlong(void **state)
{
    static WCHAR url[3000];
    size_t prefix = wcslen(L"http://127.0.0.1/");
    LPWSTR name;
    struct fixture f;

    setup(&f, "rb_url_long");
    /* 2,200 characters is BITS' limit, not counting the terminator. */
    check_url_accepted(&f, repeat(url, ARRAY_SIZE(url), L"http://127.0.0.1/", L'a', 2200 - prefix));
    check_url_refused(&f, repeat(url, ARRAY_SIZE(url), L"http://127.0.0.1/", L'a', 2201 - prefix),
                      E_INVALIDARG);
    check_url_refused(&f, repeat(url, ARRAY_SIZE(url), L"http://127.0.0.1/", L'a', 2900),
                      E_INVALIDARG);
    /* ReplaceRemotePrefix: the name it would make is too long, so nothing changes. */
    repeat(url, ARRAY_SIZE(url), L"http://127.0.0.1/", L'b', 2200 - prefix - 10);
    assert_hr(S_OK, IBackgroundCopyFile2_SetRemoteName(f.probe_file, url));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(
                                f.job3, L"http://127.0.0.1/", L"http://127.0.0.1:8080/abcdefgh/"));
    assert_hr(S_OK, IBackgroundCopyFile2_GetRemoteName(f.probe_file, &name));
    assert_cotask_str(url, name);
    teardown(&f);
}

static void url_userinfo(void **state)
{
    static const WCHAR *const refused[] = {
        L"http://user:password@127.0.0.1/file.bin",
        L"https://user@127.0.0.1/file.bin",
        L"http://@127.0.0.1/file.bin",
        L"http://user:pw@[::1]:80/file.bin",
    };
    struct fixture f;

    setup(&f, "rb_url_userinfo");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    /* An '@' after the host is only a character of the path or the query. */
    check_url_accepted(&f, L"http://127.0.0.1/a@b?c=d@e");
    /* ReplaceRemotePrefix cannot put credentials in either. */
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_ReplaceRemotePrefix(f.job3, L"http://", L"http://user:pw@"));
    assert_remote_name(f.probe_file, REMOTE);
    teardown(&f);
}

static void url_host_too_long(void **state)
{
    WCHAR url[400];
    struct fixture f;

    setup(&f, "rb_url_long_host");
    /* DNS names have at most 255 characters; WinHTTP's host buffer holds no more. */
    repeat(url, ARRAY_SIZE(url), L"http://", L'h', 255);
    wcscat(url, L"/x");
    check_url_accepted(&f, url);
    repeat(url, ARRAY_SIZE(url), L"http://", L'h', 256);
    wcscat(url, L"/x");
    check_url_refused(&f, url, E_INVALIDARG);
    teardown(&f);
}

/* Remote names that are paths: the rules of local names (below) hold for them, too. */
static void url_paths_to_devices(void **state)
{
    static const WCHAR *const refused[] = {
        L"\\\\.\\pipe\\name",
        L"\\\\server\\pipe\\name",
        L"\\\\.\\C:\\dir\\file.bin",
        L"\\\\?\\C:\\dir\\file.bin",
        L"C:\\dir\\CON",
        L"C:\\dir\\nul.txt",
        L"file:///C:/dir/COM1",
        L"file:////./C:/dir/file.bin",
    };
    struct fixture f;

    setup(&f, "rb_url_devices");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    check_url_accepted(&f, L"\\\\server\\share\\dir\\file.bin");
    check_url_accepted(&f, L"file:///C:/dir/console.txt");
    teardown(&f);
}

/* ---- custom headers ---- */

static void assert_headers(IBackgroundCopyJobHttpOptions *http, const WCHAR *expected)
{
    LPWSTR headers = NULL;

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetCustomHeaders(http, &headers));
    assert_cotask_str(expected, headers);
}

static void headers_valid(void **state)
{
    static const WCHAR *const good[] = {
        L"X-One: 1\r\n",
        L"X-One: 1\r\nX-Two: two words\r\n",
        L"X-One: 1",
        L"X-One: 1\r\nX-Two: 2",
        L"X-Empty:\r\n",
        L"X-Tab: a\tb\r\n",
        L"X-Unicode: caf\x00e9\r\n",
        L"",
    };
    struct fixture f;

    setup(&f, "rb_headers_valid");
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
    {
        assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(f.http, good[i]));
        assert_headers(f.http, good[i]);
    }
    teardown(&f);
}

static void headers_bare_cr_lf_and_malformed(void **state)
{
    static const WCHAR *const bad[] = {
        L"X-One: a\rX-Two: b\r\n",
        L"X-One: a\nX-Two: b\r\n",
        L"X-One: a\n",
        L"X-One: a\r",
        L"X-One: a\r\r\n",
        L"X-One: a\r\n\r\nX-Two: b\r\n",
        L"X-One: a\r\n\r\n",
        L"\r\n",
        L"\r\nX-One: a\r\n",
        L"X-One: a\r\n b\r\n",
        L"X-One: a\r\n\tb\r\n",
        L" X-One: a\r\n",
        L"X-One a\r\n",
        L": a\r\n",
        L"X-One : a\r\n",
        L"X One: a\r\n",
        L"X(One): a\r\n",
        L"X-One\x01: a\r\n",
        L"X-One: a\x01z\r\n",
        L"X-One: a\x007f\r\n",
        L"X-One: a\r\nX-Two\r\n",
    };
    struct fixture f;

    setup(&f, "rb_headers_bad");
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(f.http, L"X-Kept: 1\r\n"));
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    {
        HRESULT hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(f.http, bad[i]);
        if (hr != E_INVALIDARG)
            fail_msg("SetCustomHeaders(header %u) = 0x%08lx, expected E_INVALIDARG",
                     (unsigned int)i, (unsigned long)hr);
        assert_headers(f.http, L"X-Kept: 1\r\n");
    }
    teardown(&f);
}

static void headers_too_long(void **state)
{
    static WCHAR headers[17000];
    size_t prefix = wcslen(L"X-Long: ");
    struct fixture f;

    setup(&f, "rb_headers_long");
    /* 16,384 characters with the terminator. */
    repeat(headers, ARRAY_SIZE(headers), L"X-Long: ", L'v', 16383 - prefix);
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(f.http, headers));
    repeat(headers, ARRAY_SIZE(headers), L"X-Long: ", L'v', 16384 - prefix);
    assert_hr(BG_E_STRING_TOO_LONG,
              IBackgroundCopyJobHttpOptions_SetCustomHeaders(f.http, headers));
    teardown(&f);
}

/* ---- local names ---- */

static void local_relative_and_roots(void **state)
{
    static const WCHAR *const refused[] = {
        L"",
        L"out.bin",
        L"dir\\out.bin",
        L".\\out.bin",
        L"..\\out.bin",
        L"\\out.bin",
        L"C:out.bin",
        L"C:",
        L"C:\\",
        L"C:/out.bin",
        L"\\\\server\\share",
        L"\\\\server\\share\\",
        L"\\\\server",
        L"http://127.0.0.1/out.bin",
        L"file:///C:/out.bin",
    };
    struct fixture f;

    setup(&f, "rb_local_relative");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_local_refused(&f, refused[i], E_INVALIDARG);
    teardown(&f);
}

static void local_folder(void **state)
{
    WCHAR folder[MAX_PATH], name[MAX_PATH];
    struct fixture f;

    setup(&f, "rb_local_folder");
    tu_path(folder, ARRAY_SIZE(folder), f.dir, L"sub");
    assert_true(CreateDirectoryW(folder, NULL));
    check_local_refused(&f, folder, E_INVALIDARG);
    swprintf(name, ARRAY_SIZE(name), L"%ls\\", folder);
    check_local_refused(&f, name, E_INVALIDARG);
    swprintf(name, ARRAY_SIZE(name), L"%ls\\..", folder);
    check_local_refused(&f, name, E_INVALIDARG);
    teardown(&f);
}

static void local_missing_folder(void **state)
{
    WCHAR name[MAX_PATH], file[MAX_PATH];
    struct fixture f;

    setup(&f, "rb_local_missing");
    /* What CreateFile says of a path through a folder that is not there. */
    tu_path(name, ARRAY_SIZE(name), f.dir, L"missing\\out.bin");
    check_local_refused(&f, name, E_PATH_NOT_FOUND);
    tu_path(name, ARRAY_SIZE(name), f.dir, L"missing\\deeper\\out.bin");
    check_local_refused(&f, name, E_PATH_NOT_FOUND);
    /* A "folder" that is a file. */
    tu_path(file, ARRAY_SIZE(file), f.dir, L"plain.txt");
    tu_write_file(file, 10);
    f.temporary_files = tu_count(f.dir, L"BIT*.tmp");
    swprintf(name, ARRAY_SIZE(name), L"%ls\\out.bin", file);
    check_local_refused(&f, name, E_INVALIDARG);
    assert_int_equal(tu_file_size(file), 10);
    teardown(&f);
}

static void local_device_names(void **state)
{
    static const WCHAR *const devices[] = {
        L"CON",    L"con",      L"NUL",         L"nul.txt",     L"PRN",      L"AUX.dat",
        L"COM1",   L"COM1.txt", L"com9.tar.gz", L"LPT1",        L"lpt3.log", L"COM0",
        L"CONIN$", L"CONOUT$",  L"COM\x00b9",   L"LPT\x00b3.x", L"NUL .txt",
    };
    static const WCHAR *const refused[] = {
        L"\\\\.\\PhysicalDrive0",
        L"\\\\.\\C:\\out.bin",
        L"\\\\.\\pipe\\out.bin",
        L"\\\\?\\GLOBALROOT\\Device\\HarddiskVolume1\\out.bin",
        L"\\\\?\\UNC\\server\\share\\out.bin",
        L"\\\\?\\Volume{00000000-0000-0000-0000-000000000000}\\out.bin",
        L"\\\\server\\pipe\\out.bin",
    };
    WCHAR name[MAX_PATH];
    struct fixture f;

    setup(&f, "rb_local_devices");
    for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
    {
        tu_path(name, ARRAY_SIZE(name), f.dir, devices[i]);
        check_local_refused(&f, name, E_INVALIDARG);
        /* A device in the middle of the path, too. */
        swprintf(name, ARRAY_SIZE(name), L"%ls\\%ls\\out.bin", f.dir, devices[i]);
        check_local_refused(&f, name, E_INVALIDARG);
    }
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_local_refused(&f, refused[i], E_INVALIDARG);
    /* Names that only start like devices are names. */
    tu_path(name, ARRAY_SIZE(name), f.dir, L"CONSOLE.txt");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, REMOTE, name));
    tu_path(name, ARRAY_SIZE(name), f.dir, L"COM10");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, REMOTE, name));
    tu_path(name, ARRAY_SIZE(name), f.dir, L"xNUL");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, REMOTE, name));
    teardown(&f);
}

static void local_long_paths(void **state)
{
    WCHAR name[MAX_PATH + 20], folder[MAX_PATH];
    size_t len;
    struct fixture f;

    setup(&f, "rb_local_long");
    /* 259 characters is the longest name; 260 is MAX_PATH with the terminator. */
    len = wcslen(f.dir) + 1;
    assert_true(len < 200);
    swprintf(name, ARRAY_SIZE(name), L"%ls\\", f.dir);
    repeat(name, ARRAY_SIZE(name), name, L'n', 260 - len);
    assert_int_equal(wcslen(name), 260);
    check_local_refused(&f, name, E_INVALIDARG);
    name[259] = 0;
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, REMOTE, name));
    f.files++;
    /* A folder so long that no temporary name fits beside the file: 235 characters leave room
     * for \BIT<16 hex digits>.tmp within MAX_PATH, 236 do not. */
    swprintf(folder, ARRAY_SIZE(folder), L"%ls\\", f.dir);
    repeat(folder, ARRAY_SIZE(folder), folder, L'd', 236 - len);
    assert_int_equal(wcslen(folder), 236);
    if (!CreateDirectoryW(folder, NULL))
        fail_msg("cannot create %ls: %lu", folder, GetLastError());
    swprintf(name, ARRAY_SIZE(name), L"%ls\\x", folder);
    check_local_refused(&f, name, E_INVALIDARG);
    assert_int_equal(tu_count(folder, L"*"), 0);
    folder[235] = 0;
    if (!CreateDirectoryW(folder, NULL))
        fail_msg("cannot create %ls: %lu", folder, GetLastError());
    swprintf(name, ARRAY_SIZE(name), L"%ls\\x", folder);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, REMOTE, name));
    /* Its name is reserved; the file is made when the transfer starts. */
    assert_int_equal(tu_count(folder, L"BIT*.tmp"), 0);
    teardown(&f);
}

/* The \\?\ prefix: BITS says not to use it, and MAX_PATH holds anyway. */
static void local_long_path_prefix(void **state)
{
    WCHAR name[MAX_PATH + 20];
    struct fixture f;

    setup(&f, "rb_local_prefix");
    swprintf(name, ARRAY_SIZE(name), L"\\\\?\\%ls\\out.bin", f.dir);
    check_local_refused(&f, name, E_INVALIDARG);
    swprintf(name, ARRAY_SIZE(name), L"\\\\.\\%ls\\out.bin", f.dir);
    check_local_refused(&f, name, E_INVALIDARG);
    teardown(&f);
}

static void local_trailing_dots_and_spaces(void **state)
{
    static const WCHAR *const refused[] = {
        L"new.", L"new ", L"new. ", L"new .", L"new...", L"sub.\\x", L"sub \\x",
    };
    WCHAR name[MAX_PATH];
    struct fixture f;

    setup(&f, "rb_local_dots");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
    {
        tu_path(name, ARRAY_SIZE(name), f.dir, refused[i]);
        check_local_refused(&f, name, E_INVALIDARG);
    }
    /* Dots and spaces inside a name, and steps through "." and "..", are fine. */
    tu_path(name, ARRAY_SIZE(name), f.dir, L" a. b .c");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, REMOTE, name));
    swprintf(name, ARRAY_SIZE(name), L"%ls\\.\\..\\%ls\\dotted.bin", f.dir,
             wcsrchr(f.dir, L'\\') + 1);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, REMOTE, name));
    teardown(&f);
}

static void local_invalid_characters(void **state)
{
    static const WCHAR *const refused[] = {
        L"a<b",
        L"a>b",
        L"a\"b",
        L"a|b",
        L"a?b",
        L"a*b",
        L"*",
        L"a:b",
        L"out.bin:stream",
        L"out.bin::$DATA",
        L"a\x0001"
        L"b",
        L"a\tb",
        L"sub|x\\out.bin",
    };
    WCHAR name[MAX_PATH];
    struct fixture f;

    setup(&f, "rb_local_chars");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
    {
        tu_path(name, ARRAY_SIZE(name), f.dir, refused[i]);
        check_local_refused(&f, name, E_INVALIDARG);
    }
    teardown(&f);
}

static void local_duplicate_names(void **state)
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *other;
    WCHAR upper[MAX_PATH], a[MAX_PATH], b[MAX_PATH];
    BG_FILE_INFO set[2];
    struct fixture f;
    GUID id;

    setup(&f, "rb_local_duplicate");
    /* The probe's name again, as it is and in other case. */
    check_local_refused(&f, f.probe, E_INVALIDARG);
    wcscpy(upper, f.probe);
    _wcsupr(upper);
    check_local_refused(&f, upper, E_INVALIDARG);
    /* Twice in one AddFileSet: nothing is added. */
    tu_path(a, ARRAY_SIZE(a), f.dir, L"a.bin");
    tu_path(b, ARRAY_SIZE(b), f.dir, L"A.BIN");
    set[0].RemoteName = set[1].RemoteName = (WCHAR *)REMOTE;
    set[0].LocalName = a;
    set[1].LocalName = b;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(f.job, 2, set));
    assert_nothing_added(&f, b);
    /* Another job may name the same file: the last to complete wins, as in BITS. */
    manager = tu_manager();
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"other", BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &other));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(other, REMOTE, f.probe));
    tu_cancel_release(other);
    IBackgroundCopyManager_Release(manager);
    teardown(&f);
}

/* A file URL's escapes spell a path, which must be a good one. */
static void url_file_escapes_to_bad_path(void **state)
{
    static const WCHAR *const refused[] = {
        L"file:///C:/dir/a%0Ab", L"file:///C:/dir/a%0db",          L"file:///C:/dir/a%3Cb",
        L"file:///C:/dir/a%3Fb", L"file:///C:/dir/a%7Cb",          L"file:///C:/dir/a%2A",
        L"file:///C:/dir/a%22b", L"file:///C:/dir/x.bin%3Astream",
    };
    struct fixture f;

    setup(&f, "rb_url_file_escapes");
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        check_url_refused(&f, refused[i], E_INVALIDARG);
    check_url_accepted(&f, L"file:///C:/dir/a%20b%25c");
    teardown(&f);
}

/* ---- ranges ---- */

/* Both AddFileWithRanges (BITS and DO) answer `expected` for the ranges, in the fixture's
 * dialect, and add nothing. */
static void check_ranges_refused(struct fixture *f, DWORD count, BG_FILE_RANGE *ranges,
                                 HRESULT expected)
{
    assert_hr(expected,
              IBackgroundCopyJob3_AddFileWithRanges(f->job3, REMOTE, f->local, count, ranges));
    assert_hr(expected,
              IDeliveryOptimizationJob_AddFileWithRanges(f->do_job, L"id", REMOTE, f->local, count,
                                                         ranges, DO_UNKNOWN_FILE_SIZE));
    assert_nothing_added(f, L"ranges");
}

static void check_ranges_overflow(BOOL do_dialect)
{
    BG_FILE_RANGE past_end = {UINT64_MAX - 10, 20}, huge = {1, UINT64_MAX - 1};
    BG_FILE_RANGE to_max = {UINT64_MAX - 10, 10}, eof_offset = {BG_LENGTH_TO_EOF, 1};
    BG_FILE_RANGE second[] = {{0, 10}, {UINT64_MAX / 2 + 1, UINT64_MAX / 2 + 1}};
    struct fixture f;
    HRESULT invalid;

    setup_dialect(&f, do_dialect ? "rb_ranges_overflow_do" : "rb_ranges_overflow", do_dialect);
    invalid = code(&f, BG_E_INVALID_RANGE, DO_E_INVALID_RANGE);
    check_ranges_refused(&f, 1, &past_end, invalid);
    check_ranges_refused(&f, 1, &huge, invalid);
    /* An end of 2^64 - 1 would be the "size unknown" value: refused too. */
    check_ranges_refused(&f, 1, &to_max, invalid);
    check_ranges_refused(&f, 1, &eof_offset, invalid);
    check_ranges_refused(&f, 2, second, invalid);
    teardown(&f);
}

static void ranges_overflow_bits(void **state)
{
    check_ranges_overflow(FALSE);
}

static void ranges_overflow_do(void **state)
{
    check_ranges_overflow(TRUE);
}

static void ranges_zero_length(void **state)
{
    BG_FILE_RANGE empty = {3, 0}, among[] = {{0, 10}, {20, 0}, {30, 5}};
    struct fixture f;

    setup(&f, "rb_ranges_empty");
    check_ranges_refused(&f, 1, &empty, BG_E_INVALID_RANGE);
    check_ranges_refused(&f, 3, among, BG_E_INVALID_RANGE);
    teardown(&f);
}

static void ranges_to_eof_in_the_middle(void **state)
{
    BG_FILE_RANGE first[] = {{0, BG_LENGTH_TO_EOF}, {100, 10}};
    BG_FILE_RANGE given_first[] = {{200, BG_LENGTH_TO_EOF}, {0, 10}, {50, 10}};
    BG_FILE_RANGE two[] = {{200, BG_LENGTH_TO_EOF}, {300, BG_LENGTH_TO_EOF}};
    BG_FILE_RANGE *ranges = NULL;
    DWORD count = 0;
    IBackgroundCopyFile *file;
    IBackgroundCopyFile2 *file2;
    struct fixture f;

    setup(&f, "rb_ranges_eof");
    /* A range to the end overlaps every range after it by offset... */
    check_ranges_refused(&f, 2, first, BG_E_OVERLAPPING_RANGES);
    check_ranges_refused(&f, 2, two, BG_E_OVERLAPPING_RANGES);
    /* ...but it may come anywhere in the list if its offset is the highest. */
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, REMOTE, f.local,
                                                          ARRAY_SIZE(given_first), given_first));
    file = tu_job_file(f.job, f.files);
    assert_hr(S_OK,
              IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2, (void **)&file2));
    assert_hr(S_OK, IBackgroundCopyFile2_GetFileRanges(file2, &count, &ranges));
    assert_int_equal(count, 3);
    assert_memory_equal(ranges, given_first, sizeof(given_first));
    CoTaskMemFree(ranges);
    IBackgroundCopyFile2_Release(file2);
    IBackgroundCopyFile_Release(file);
    teardown(&f);
}

static void ranges_count(void **state)
{
    BG_FILE_RANGE one = {0, 10}, *many;
    WCHAR other[MAX_PATH];
    struct fixture f;

    setup(&f, "rb_ranges_count");
    /* BITS: at least one range (the whole file is AddFile's); DO: none means the whole file. */
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, REMOTE, f.local, 0, &one));
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, REMOTE, f.local, 0, NULL));
    assert_nothing_added(&f, L"no ranges");
    assert_hr(S_OK, IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"whole", REMOTE, f.local,
                                                               0, NULL, DO_UNKNOWN_FILE_SIZE));
    /* No cap on the count (BITS' MaxRangesPerFile is a policy OpenDO does not have). */
    many = calloc(5000, sizeof(*many));
    assert_non_null(many);
    for (int i = 0; i < 5000; i++)
    {
        many[i].InitialOffset = (UINT64)i * 100;
        many[i].Length = 10;
    }
    tu_path(other, ARRAY_SIZE(other), f.dir, L"many.bin");
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, REMOTE, other, 5000, many));
    free(many);
    teardown(&f);
}

/* ---- identifiers ---- */

static void check_get_job_unknown_ids(BOOL do_dialect)
{
    IBackgroundCopyManager *manager = manager_of(do_dialect);
    HRESULT not_found = do_dialect ? DO_E_JOB_NOT_FOUND : (HRESULT)BG_E_NOT_FOUND;
    IBackgroundCopyJob *job, *found = (void *)0xdeadbeef;
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    GUID id;

    assert_hr(not_found, IBackgroundCopyManager_GetJob(manager, &GUID_NULL, &found));
    assert_null(found);
    assert_hr(S_OK, CoCreateGuid(&id));
    assert_hr(not_found, IBackgroundCopyManager_GetJob(manager, &id, &found));
    /* A cancelled job's id, and an acknowledged job's id, name no job any more. */
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"gone", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
    assert_hr(not_found, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_null(found);
    tu_scratch(do_dialect ? "rb_ids_do" : "rb_ids", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"x.bin");
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"done", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, REMOTE, local));
    assert_true(SUCCEEDED(IBackgroundCopyJob_Complete(job)));
    IBackgroundCopyJob_Release(job);
    assert_hr(not_found, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_null(found);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void get_job_unknown_ids_bits(void **state)
{
    check_get_job_unknown_ids(FALSE);
}

static void get_job_unknown_ids_do(void **state)
{
    check_get_job_unknown_ids(TRUE);
}

static void duplicate_display_names(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *a, *b;
    GUID ida, idb;

    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"same", BG_JOB_TYPE_DOWNLOAD, &ida, &a));
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"same", BG_JOB_TYPE_DOWNLOAD, &idb, &b));
    assert_false(IsEqualGUID(&ida, &idb));
    assert_false(IsEqualGUID(&ida, &GUID_NULL));
    tu_cancel_release(a);
    tu_cancel_release(b);
    IBackgroundCopyManager_Release(manager);
}

static void do_file_id_reused(void **state)
{
    IDeliveryOptimizationFile2 *file = (void *)0xdeadbeef;
    WCHAR other[MAX_PATH];
    struct fixture f;

    setup(&f, "rb_file_id");
    /* "sinkless" is the id of the fixture's DO file. */
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"sinkless", REMOTE, 0, NULL,
                                                &IID_IDeliveryOptimizationFile2, (void **)&file));
    assert_null(file);
    assert_hr(E_INVALIDARG,
              IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"sinkless", REMOTE, f.local, 0,
                                                         NULL, DO_UNKNOWN_FILE_SIZE));
    assert_nothing_added(&f, L"sinkless");
    /* Ids compare exactly; the empty id is no id and may repeat. */
    assert_hr(S_OK, IDeliveryOptimizationJob_AddFileWithRanges(
                        f.do_job, L"SINKLESS", REMOTE, f.local, 0, NULL, DO_UNKNOWN_FILE_SIZE));
    tu_path(other, ARRAY_SIZE(other), f.dir, L"other.bin");
    assert_hr(S_OK, IDeliveryOptimizationJob_AddFileWithRanges(f.do_job, L"", REMOTE, other, 0,
                                                               NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(S_OK,
              IDeliveryOptimizationJob2_AddFile(f.do_job2, L"", REMOTE, 0, NULL,
                                                &IID_IDeliveryOptimizationFile2, (void **)&file));
    IDeliveryOptimizationFile2_Release(file);
    teardown(&f);
}

/* ---- strings over their limits ---- */

static void strings_over_limits(void **state)
{
    static WCHAR text[40000];
    BG_AUTH_CREDENTIALS credentials = {BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC};
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob *job = (void *)0xdeadbeef;
    struct fixture f;
    LPWSTR got;
    GUID id;

    setup(&f, "rb_strings");
    job2 = (IBackgroundCopyJob2 *)f.job3;
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(f.manager,
                                                     repeat(text, ARRAY_SIZE(text), L"", L'n', 256),
                                                     BG_JOB_TYPE_DOWNLOAD, &id, &job));
    tu_cancel_release(job);
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_CreateJob(
                                f.manager, repeat(text, ARRAY_SIZE(text), L"", L'n', 257),
                                BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_null(job);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetDisplayName(f.job, text));
    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(
                        f.job, repeat(text, ARRAY_SIZE(text), L"", L'd', 1024)));
    assert_hr(BG_E_STRING_TOO_LONG, IBackgroundCopyJob_SetDescription(
                                        f.job, repeat(text, ARRAY_SIZE(text), L"", L'e', 1025)));
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(f.job, &got));
    assert_int_equal(wcslen(got), 1024);
    assert_int_equal(got[0], L'd');
    CoTaskMemFree(got);

    /* The notify program is a path (MAX_PATH), its parameters at most 4,000 characters. */
    assert_hr(BG_E_STRING_TOO_LONG,
              IBackgroundCopyJob2_SetNotifyCmdLine(
                  job2, repeat(text, ARRAY_SIZE(text), L"C:\\", L'p', MAX_PATH - 2), NULL));
    assert_hr(BG_E_STRING_TOO_LONG,
              IBackgroundCopyJob2_SetNotifyCmdLine(
                  job2, L"C:\\p.exe", repeat(text, ARRAY_SIZE(text), L"", L'a', 4001)));
    assert_hr(BG_E_PROXY_LIST_TOO_LARGE,
              IBackgroundCopyJob_SetProxySettings(f.job, BG_JOB_PROXY_USAGE_OVERRIDE,
                                                  repeat(text, ARRAY_SIZE(text), L"", L'x', 32768),
                                                  NULL));
    assert_hr(
        BG_E_PROXY_BYPASS_LIST_TOO_LARGE,
        IBackgroundCopyJob_SetProxySettings(f.job, BG_JOB_PROXY_USAGE_OVERRIDE, L"p:80",
                                            repeat(text, ARRAY_SIZE(text), L"", L'x', 32768)));
    credentials.Credentials.Basic.UserName = repeat(text, ARRAY_SIZE(text), L"", L'u', 301);
    credentials.Credentials.Basic.Password = (WCHAR *)L"pw";
    assert_hr(BG_E_USERNAME_TOO_LARGE, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    credentials.Credentials.Basic.UserName = (WCHAR *)L"user";
    credentials.Credentials.Basic.Password = repeat(text, ARRAY_SIZE(text), L"", L'p', 301);
    assert_hr(BG_E_PASSWORD_TOO_LARGE, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    assert_hr(BG_E_STRING_TOO_LONG,
              IBackgroundCopyJobHttpOptions_SetClientCertificateByName(
                  f.http, BG_CERT_STORE_LOCATION_CURRENT_USER,
                  repeat(text, ARRAY_SIZE(text), L"", L's', 256), L"subject"));
    teardown(&f);
}

/* ---- numbers ---- */

static void numbers_out_of_range(void **state)
{
    BG_AUTH_CREDENTIALS credentials = {0, BG_AUTH_SCHEME_NTLM};
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob *job = (void *)0xdeadbeef;
    IEnumBackgroundCopyJobs *jobs = (void *)0xdeadbeef;
    BG_JOB_PRIORITY priority;
    ULONG value;
    struct fixture f;
    GUID id;

    setup(&f, "rb_numbers");
    job2 = (IBackgroundCopyJob2 *)f.job3;
    /* ULONG seconds: every value is one; (ULONG)-1 is about 136 years, kept as it is. */
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(f.job, (ULONG)-1));
    assert_hr(S_OK, IBackgroundCopyJob_GetMinimumRetryDelay(f.job, &value));
    assert_int_equal(value, 0xffffffff);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(f.job, 0));
    assert_hr(S_OK, IBackgroundCopyJob_GetMinimumRetryDelay(f.job, &value));
    assert_int_equal(value, 5);
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(f.job, (ULONG)-1));
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(f.job, &value));
    assert_int_equal(value, 0xffffffff);
    assert_hr(S_OK,
              IBackgroundCopyJob4_SetMaximumDownloadTime((IBackgroundCopyJob4 *)f.job3, (ULONG)-1));

    /* Enumerations out of range: E_NOTIMPL, BITS' answer for values it does not know. */
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetPriority(f.job, 4));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetPriority(f.job, (BG_JOB_PRIORITY)-1));
    assert_hr(S_OK, IBackgroundCopyJob_GetPriority(f.job, &priority));
    assert_int_equal(priority, BG_JOB_PRIORITY_NORMAL);
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetNotifyFlags(f.job, 0x40));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetNotifyFlags(f.job, 0xffffffff));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetProxySettings(f.job, 4, NULL, NULL));
    assert_hr(E_NOTIMPL,
              IBackgroundCopyJob_SetProxySettings(f.job, (BG_JOB_PROXY_USAGE)-1, NULL, NULL));
    assert_hr(E_NOTIMPL, IBackgroundCopyJobHttpOptions_SetSecurityFlags(f.http, 0x80000000));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_SetFileACLFlags(f.job3, 0x100));
    for (int type = 1; type <= 3; type++)
    {
        assert_hr(E_NOTIMPL, IBackgroundCopyManager_CreateJob(f.manager, L"x", type, &id, &job));
        assert_null(job);
    }
    assert_hr(E_NOTIMPL,
              IBackgroundCopyManager_CreateJob(f.manager, L"x", (BG_JOB_TYPE)-1, &id, &job));
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_EnumJobs(f.manager, 2, &jobs));
    assert_null(jobs);
    assert_hr(BG_E_INVALID_AUTH_TARGET, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    credentials.Target = 3;
    assert_hr(BG_E_INVALID_AUTH_TARGET, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    credentials.Target = BG_AUTH_TARGET_PROXY;
    credentials.Scheme = 0;
    assert_hr(BG_E_INVALID_AUTH_SCHEME, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    credentials.Scheme = 6;
    assert_hr(BG_E_INVALID_AUTH_SCHEME, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(f.job, 0, NULL));
    teardown(&f);
}

/* BITS' MaxFilesPerJob (200 by default) is a group policy; OpenDO has none. */
static void many_files(void **state)
{
    BG_FILE_INFO *set = calloc(201, sizeof(*set));
    WCHAR(*names)[MAX_PATH] = calloc(201, sizeof(*names));
    struct fixture f;

    setup(&f, "rb_many_files");
    assert_non_null(set);
    assert_non_null(names);
    for (int i = 0; i < 201; i++)
    {
        WCHAR leaf[32];
        swprintf(leaf, ARRAY_SIZE(leaf), L"f%03d.bin", i);
        tu_path(names[i], MAX_PATH, f.dir, leaf);
        set[i].RemoteName = (WCHAR *)REMOTE;
        set[i].LocalName = names[i];
    }
    assert_hr(S_OK, IBackgroundCopyJob_AddFileSet(f.job, 201, set));
    assert_int_equal(files_total(f.job), f.files + 201);
    free(set);
    free(names);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_create_job),
        cmocka_unit_test(null_get_job),
        cmocka_unit_test(null_add_file),
        cmocka_unit_test(null_job_strings),
        cmocka_unit_test(null_do_methods),
        cmocka_unit_test(null_do_file_id),
        cmocka_unit_test(url_empty_relative_and_schemes),
        cmocka_unit_test(url_without_host),
        cmocka_unit_test(url_bad_port),
        cmocka_unit_test(url_illegal_characters),
        cmocka_unit_test(url_control_characters),
        cmocka_unit_test(url_del_and_c1_controls),
        cmocka_unit_test(url_overlong),
        cmocka_unit_test(url_userinfo),
        cmocka_unit_test(url_host_too_long),
        cmocka_unit_test(url_paths_to_devices),
        cmocka_unit_test(headers_valid),
        cmocka_unit_test(headers_bare_cr_lf_and_malformed),
        cmocka_unit_test(headers_too_long),
        cmocka_unit_test(local_relative_and_roots),
        cmocka_unit_test(local_folder),
        cmocka_unit_test(local_missing_folder),
        cmocka_unit_test(local_device_names),
        cmocka_unit_test(local_long_paths),
        cmocka_unit_test(local_long_path_prefix),
        cmocka_unit_test(local_trailing_dots_and_spaces),
        cmocka_unit_test(local_invalid_characters),
        cmocka_unit_test(local_duplicate_names),
        cmocka_unit_test(url_file_escapes_to_bad_path),
        cmocka_unit_test(ranges_overflow_bits),
        cmocka_unit_test(ranges_overflow_do),
        cmocka_unit_test(ranges_zero_length),
        cmocka_unit_test(ranges_to_eof_in_the_middle),
        cmocka_unit_test(ranges_count),
        cmocka_unit_test(get_job_unknown_ids_bits),
        cmocka_unit_test(get_job_unknown_ids_do),
        cmocka_unit_test(duplicate_display_names),
        cmocka_unit_test(do_file_id_reused),
        cmocka_unit_test(strings_over_limits),
        cmocka_unit_test(numbers_out_of_range),
        cmocka_unit_test(many_files),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
