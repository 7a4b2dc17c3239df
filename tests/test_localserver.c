/* SPDX-License-Identifier: MIT */
/* OpenDO out of process: CLSCTX_LOCAL_SERVER activation through the COM surrogate (dllhost.exe
 * hosting opendo.dll), every interface through the DLL's proxies and stubs, callbacks into an
 * STA client, jobs shared with in-process clients, and the surrogate's lifetime rule. Needs the
 * DLL registered in the prefix (scripts/test.sh does it; test_register leaves it so). */
#include "testutil.h"
#include <tlhelp32.h>

#define TRANSFER_TIMEOUT 30000
/* The surrogate ends 2 s after it became idle (src/surrogate.c), checking every 250 ms. */
#define SURROGATE_END_MS 10000

/* ---- the surrogate process ---- */

/* Number of running dllhost.exe processes. Only this test starts them in the test prefix. */
static int surrogates(void)
{
    PROCESSENTRY32W entry = {.dwSize = sizeof(entry)};
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    int count = 0;

    assert_true(snapshot != INVALID_HANDLE_VALUE);
    for (BOOL more = Process32FirstW(snapshot, &entry); more;
         more = Process32NextW(snapshot, &entry))
        count += !_wcsicmp(entry.szExeFile, L"dllhost.exe");
    CloseHandle(snapshot);
    return count;
}

static void wait_no_surrogate(DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    while (surrogates())
    {
        if (GetTickCount64() > deadline)
            fail_msg("the surrogate did not end within %lu ms of its last client", timeout_ms);
        Sleep(50);
    }
}

/* A manager from the local server. Proves it is one: only a proxy answers IClientSecurity. */
static IBackgroundCopyManager *local_manager(const CLSID *clsid)
{
    IBackgroundCopyManager *manager = NULL;
    IUnknown *security = NULL;

    assert_hr(S_OK, CoCreateInstance(clsid, NULL, CLSCTX_LOCAL_SERVER, &IID_IBackgroundCopyManager,
                                     (void **)&manager));
    assert_non_null(manager);
    assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(manager, &IID_IClientSecurity,
                                                          (void **)&security));
    IUnknown_Release(security);
    assert_int_equal(1, surrogates());
    return manager;
}

/* Ends the surrogates still running. */
static void end_surrogates(void)
{
    PROCESSENTRY32W entry = {.dwSize = sizeof(entry)};
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0), process;

    assert_true(snapshot != INVALID_HANDLE_VALUE);
    for (BOOL more = Process32FirstW(snapshot, &entry); more;
         more = Process32NextW(snapshot, &entry))
    {
        if (_wcsicmp(entry.szExeFile, L"dllhost.exe") ||
            !(process = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, entry.th32ProcessID)))
            continue;
        TerminateProcess(process, 1);
        WaitForSingleObject(process, 5000);
        CloseHandle(process);
    }
    CloseHandle(snapshot);
}

/* Every test starts with no surrogate running, so that it starts its own with this test's
 * environment (its job store), and ends checking that its surrogate ended by itself. A test
 * that failed half way leaves references behind (and Wine never runs down the references of
 * a client that is gone), so the next one ends what is left first. */
static int setup(void **state)
{
    end_surrogates();
    return 0;
}

static int teardown(void **state)
{
    wait_no_surrogate(SURROGATE_END_MS);
    return 0;
}

/* ---- a download through the local server ---- */

static void test_download(void **state)
{
    IBackgroundCopyManager *manager = local_manager(&CLSID_OpenDOManager);
    WCHAR dir[MAX_PATH], remote[300], local[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS progress;
    GUID id;

    /* A client that holds only the manager keeps the surrogate well past its 2 idle seconds. */
    Sleep(3500);
    assert_int_equal(1, surrogates());
    tu_scratch("localserver_download", dir, ARRAY_SIZE(dir));
    tu_url(remote, ARRAY_SIZE(remote), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"local server", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, remote, local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    assert_int_equal(progress.BytesTotal, 4 << 20);
    assert_int_equal(progress.BytesTransferred, 4 << 20);
    assert_false(tu_exists(local));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_true(tu_same_file(local, served));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

/* ---- the modern DO API through the local server ---- */

/* Counts OnStatusChange calls (from the surrogate, through the proxies) and the last state. */
struct do_callback
{
    IDODownloadStatusCallback iface;
    LONG refs;
    LONG calls;
    LONG last_state;
};

static struct do_callback *do_callback_from(IDODownloadStatusCallback *iface)
{
    return CONTAINING_RECORD(iface, struct do_callback, iface);
}

static HRESULT WINAPI do_callback_QueryInterface(IDODownloadStatusCallback *iface, REFIID riid,
                                                 void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDODownloadStatusCallback))
    {
        *out = iface;
        IDODownloadStatusCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI do_callback_AddRef(IDODownloadStatusCallback *iface)
{
    return InterlockedIncrement(&do_callback_from(iface)->refs);
}

static ULONG WINAPI do_callback_Release(IDODownloadStatusCallback *iface)
{
    return InterlockedDecrement(&do_callback_from(iface)->refs);
}

static HRESULT WINAPI do_callback_OnStatusChange(IDODownloadStatusCallback *iface,
                                                 IDODownload *download,
                                                 const DO_DOWNLOAD_STATUS *status)
{
    struct do_callback *callback = do_callback_from(iface);

    InterlockedExchange(&callback->last_state, status->State);
    InterlockedIncrement(&callback->calls);
    return S_OK;
}

static const IDODownloadStatusCallbackVtbl do_callback_vtbl = {
    do_callback_QueryInterface,
    do_callback_AddRef,
    do_callback_Release,
    do_callback_OnStatusChange,
};

static HRESULT set_bstr(IDODownload *download, DODownloadProperty id, const WCHAR *text)
{
    VARIANT value;
    HRESULT hr;

    V_VT(&value) = VT_BSTR;
    V_BSTR(&value) = SysAllocString(text);
    hr = IDODownload_SetProperty(download, id, &value);
    VariantClear(&value);
    return hr;
}

/* What winget does, out of process: IDOManager, a download with a URI, a local path and a status
 * callback, Start with RangeCount 0, GetStatus until it is transferred, Finalize. The prefix has
 * OpenDO's own class registered (CLSID_DeliveryOptimization only with regsvr32 /i:dosvc, which
 * test_register undoes); both serve IDOManager. */
static void test_modern_api(void **state)
{
    struct do_callback callback = {{&do_callback_vtbl}, 1};
    WCHAR dir[MAX_PATH], remote[300], local[MAX_PATH], served[MAX_PATH];
    DO_DOWNLOAD_RANGES_INFO whole = {0};
    ULONGLONG deadline = GetTickCount64() + TRANSFER_TIMEOUT;
    DO_DOWNLOAD_STATUS status;
    IEnumUnknown *downloads;
    IDODownload *download, *listed;
    IUnknown *security;
    IDOManager *manager;
    VARIANT value;
    IUnknown *item;

    assert_hr(S_OK, CoCreateInstance(&CLSID_OpenDOManager, NULL, CLSCTX_LOCAL_SERVER,
                                     &IID_IDOManager, (void **)&manager));
    assert_hr(S_OK, IDOManager_QueryInterface(manager, &IID_IClientSecurity, (void **)&security));
    IUnknown_Release(security);
    assert_int_equal(1, surrogates());
    tu_scratch("localserver_modern", dir, ARRAY_SIZE(dir));
    tu_url(remote, ARRAY_SIZE(remote), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");

    assert_hr(S_OK, IDOManager_CreateDownload(manager, &download));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, remote));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_LocalPath, local));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_DisplayName, L"out of process"));
    V_VT(&value) = VT_UNKNOWN;
    V_UNKNOWN(&value) = (IUnknown *)&callback.iface;
    assert_hr(S_OK,
              IDODownload_SetProperty(download, DODownloadProperty_CallbackInterface, &value));
    assert_hr(DO_E_READ_ONLY_PROPERTY, set_bstr(download, DODownloadProperty_Id, L"x"));
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    do
    {
        assert_hr(S_OK, IDODownload_GetStatus(download, &status));
        if (GetTickCount64() > deadline)
            fail_msg("the download is in state %d after %u ms", status.State, TRANSFER_TIMEOUT);
        Sleep(20);
    } while (status.State != DODownloadState_Transferred);
    assert_int_equal(4 << 20, status.BytesTotal);
    assert_int_equal(4 << 20, status.BytesTransferred);

    /* EnumDownloads hands out downloads through the proxies too. */
    assert_hr(S_OK, IDOManager_EnumDownloads(manager, NULL, &downloads));
    /* Wine's own proxy of IEnumUnknown (ole32's, which OpenDO does not replace as it does its
     * enumerators') garbles Next's HRESULT and count out of process; the element itself comes
     * through, and is a download. */
    item = NULL;
    IEnumUnknown_Next(downloads, 1, &item, NULL);
    assert_non_null(item);
    assert_hr(S_OK, IUnknown_QueryInterface(item, &IID_IDODownload, (void **)&listed));
    IDODownload_Release(listed);
    IUnknown_Release(item);
    IEnumUnknown_Release(downloads);

    assert_false(tu_exists(local));
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_true(tu_same_file(local, served));
    while (callback.last_state != DODownloadState_Finalized && GetTickCount64() < deadline)
        Sleep(20);
    assert_true(callback.calls >= 2);
    assert_int_equal(DODownloadState_Finalized, callback.last_state);
    IDODownload_Release(download);
    IDOManager_Release(manager);
    tu_remove_tree(dir);
}

/* ---- every interface, in process and through the proxies: the same answers ---- */

#define MAX_STEPS 160

/* What one run of exercise() saw: each step's HRESULT, number and string. */
struct run
{
    const char *names[MAX_STEPS];
    HRESULT hr[MAX_STEPS];
    UINT64 number[MAX_STEPS];
    WCHAR text[MAX_STEPS][128];
    int steps;
};

static int record(struct run *run, const char *name, HRESULT hr)
{
    int step = run->steps++;

    assert_true(step < MAX_STEPS);
    run->names[step] = name;
    run->hr[step] = hr;
    return step;
}

/* Records a step's result, and a number the step read. */
#define STEP(name, call) record(run, name, (call))
#define NUMBER(name, call, value)                                                                  \
    do                                                                                             \
    {                                                                                              \
        int step_ = record(run, name, (call));                                                     \
        run->number[step_] = (UINT64)(value);                                                      \
    } while (0)

/* Records a step and the string it returned (CoTaskMemFree'd here; NULL stays empty). */
static void text_step(struct run *run, const char *name, HRESULT hr, WCHAR *text)
{
    int step = record(run, name, hr);

    if (text)
        lstrcpynW(run->text[step], text, ARRAY_SIZE(run->text[step]));
    CoTaskMemFree(text);
}
#define STRING(name, call, out)                                                                    \
    do                                                                                             \
    {                                                                                              \
        HRESULT hr_;                                                                               \
        out = NULL;                                                                                \
        hr_ = (call);                                                                              \
        text_step(run, name, hr_, out);                                                            \
    } while (0)

/* Whether a string ends with a suffix, as a number to record (local paths differ by run). */
static BOOL ends_with(const WCHAR *text, const WCHAR *suffix)
{
    size_t len = text ? wcslen(text) : 0, suffix_len = wcslen(suffix);

    return len >= suffix_len && !_wcsicmp(text + len - suffix_len, suffix);
}

static void exercise_files(struct run *run, IBackgroundCopyJob *job)
{
    IEnumBackgroundCopyFiles *files, *clone;
    IBackgroundCopyFile *file[4] = {0};
    IBackgroundCopyFile2 *file2;
    IBackgroundCopyFile3 *file3;
    IBackgroundCopyFile4 *file4;
    IBackgroundCopyFile5 *file5;
    IDeliveryOptimizationFile *do_file;
    IDeliveryOptimizationFile2 *do_file2;
    BITS_FILE_PROPERTY_VALUE value;
    BG_FILE_PROGRESS progress;
    BG_FILE_RANGE *ranges = NULL;
    DOSwarmStats stats;
    UINT64 origin = 0, peers = 0;
    ULONG count = 0, fetched = 0;
    DWORD range_count = 0;
    BOOL flag = FALSE;
    VARIANT variant;
    WCHAR *text;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    NUMBER("files GetCount", IEnumBackgroundCopyFiles_GetCount(files, &count), count);
    NUMBER("files Next(4)", IEnumBackgroundCopyFiles_Next(files, 4, file, &fetched), fetched);
    assert_int_equal(fetched, 3);
    STEP("files Reset", IEnumBackgroundCopyFiles_Reset(files));
    STEP("files Skip(2)", IEnumBackgroundCopyFiles_Skip(files, 2));
    NUMBER("files Clone", IEnumBackgroundCopyFiles_Clone(files, &clone), 0);
    NUMBER("clone Next(2)", IEnumBackgroundCopyFiles_Next(clone, 2, &file[3], &fetched), fetched);
    if (fetched)
        IBackgroundCopyFile_Release(file[3]);
    IEnumBackgroundCopyFiles_Release(clone);
    IEnumBackgroundCopyFiles_Release(files);

    STRING("file GetRemoteName", IBackgroundCopyFile_GetRemoteName(file[1], &text), text);
    NUMBER("file GetLocalName", IBackgroundCopyFile_GetLocalName(file[1], &text),
           ends_with(text, L"\\4m.bin"));
    CoTaskMemFree(text);
    NUMBER("file GetProgress", IBackgroundCopyFile_GetProgress(file[1], &progress),
           progress.BytesTransferred + progress.Completed);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file[2], &IID_IBackgroundCopyFile2,
                                                       (void **)&file2));
    NUMBER("File2 GetFileRanges", IBackgroundCopyFile2_GetFileRanges(file2, &range_count, &ranges),
           range_count * 1000 + (ranges ? ranges[1].InitialOffset + ranges[1].Length : 0));
    CoTaskMemFree(ranges);
    STEP("File2 SetRemoteName", IBackgroundCopyFile2_SetRemoteName(file2, L"ftp://nowhere/x"));
    IBackgroundCopyFile2_Release(file2);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file[1], &IID_IBackgroundCopyFile3,
                                                       (void **)&file3));
    NUMBER("File3 GetTemporaryName", IBackgroundCopyFile3_GetTemporaryName(file3, &text),
           text && wcsstr(text, L"\\BIT") != NULL);
    CoTaskMemFree(text);
    NUMBER("File3 GetValidationState", IBackgroundCopyFile3_GetValidationState(file3, &flag), flag);
    NUMBER("File3 IsDownloadedFromPeer", IBackgroundCopyFile3_IsDownloadedFromPeer(file3, &flag),
           flag);
    IBackgroundCopyFile3_Release(file3);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file[1], &IID_IBackgroundCopyFile4,
                                                       (void **)&file4));
    NUMBER("File4 GetPeerDownloadStats",
           IBackgroundCopyFile4_GetPeerDownloadStats(file4, &origin, &peers), origin + peers);
    IBackgroundCopyFile4_Release(file4);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file[1], &IID_IBackgroundCopyFile5,
                                                       (void **)&file5));
    value.String = NULL;
    NUMBER("File5 GetProperty",
           IBackgroundCopyFile5_GetProperty(file5, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS,
                                            &value),
           value.String && wcsstr(value.String, L"Content-Length: 4194304"));
    CoTaskMemFree(value.String);
    range_count = 0;
    ranges = NULL;
    NUMBER("File5 GetFileRanges", IBackgroundCopyFile5_GetFileRanges(file5, &range_count, &ranges),
           range_count);
    CoTaskMemFree(ranges);
    NUMBER("File5 GetLocalName", IBackgroundCopyFile5_GetLocalName(file5, &text),
           ends_with(text, L"\\4m.bin"));
    CoTaskMemFree(text);
    value.String = (WCHAR *)L"X: y";
    STEP("File5 SetProperty", IBackgroundCopyFile5_SetProperty(
                                  file5, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, value));
    IBackgroundCopyFile5_Release(file5);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file[1], &IID_IDeliveryOptimizationFile,
                                                       (void **)&do_file));
    memset(&stats, 0, sizeof(stats));
    NUMBER("DOFile GetStats", IDeliveryOptimizationFile_GetStats(do_file, &stats),
           stats.bytesFromHttp + stats.downloadMode * 7);
    text_step(run, "DOFile stats.sourceURL", S_OK, stats.sourceURL);
    CoTaskMemFree(stats.fileId);
    IDeliveryOptimizationFile_Release(do_file);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file[1], &IID_IDeliveryOptimizationFile2,
                                                       (void **)&do_file2));
    VariantInit(&variant);
    NUMBER(
        "DOFile2 GetProperty",
        IDeliveryOptimizationFile2_GetProperty(do_file2, DOFilePropertyId_TotalSizeBytes, &variant),
        V_VT(&variant) * 1000000000ull + (V_VT(&variant) == VT_UI8 ? V_UI8(&variant) : 0));
    VariantClear(&variant);
    IDeliveryOptimizationFile2_Release(do_file2);

    for (int i = 0; i < 3; i++)
        IBackgroundCopyFile_Release(file[i]);
}

static void exercise_error(struct run *run, IBackgroundCopyManager *manager, const WCHAR *dir)
{
    WCHAR remote[300], local[MAX_PATH], *text;
    IBackgroundCopyError *error;
    IBackgroundCopyFile *file;
    IBackgroundCopyJob *job;
    BG_ERROR_CONTEXT context = 0;
    HRESULT code = 0;
    GUID id;

    tu_url(remote, ARRAY_SIZE(remote), L"status/403");
    tu_path(local, ARRAY_SIZE(local), dir, L"forbidden.bin");
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"fails", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, remote, local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, TRANSFER_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_GetError(job, &error));
    NUMBER("Error GetError", IBackgroundCopyError_GetError(error, &context, &code),
           ((UINT64)context << 32) | (ULONG)code);
    STRING("Error GetErrorDescription",
           IBackgroundCopyError_GetErrorDescription(error, 0x409, &text), text);
    STRING("Error GetErrorContextDescription",
           IBackgroundCopyError_GetErrorContextDescription(error, 0x409, &text), text);
    STRING("Error GetProtocol", IBackgroundCopyError_GetProtocol(error, &text), text);
    NUMBER("Error GetFile", IBackgroundCopyError_GetFile(error, &file), 0);
    STRING("Error file GetRemoteName", IBackgroundCopyFile_GetRemoteName(file, &text), text);
    IBackgroundCopyFile_Release(file);
    IBackgroundCopyError_Release(error);
    STEP("Cancel failed job", IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
}

/* The same calls on a manager from either side; local paths under dir. */
static void exercise(struct run *run, IBackgroundCopyManager *manager, const WCHAR *dir)
{
    WCHAR remote[3][300], local[3][MAX_PATH], served[MAX_PATH], *text, *text2;
    BG_FILE_RANGE ranges[2] = {{16, 64}, {4096, 1000}};
    IBackgroundCopyJobHttpOptions *http;
    IDeliveryOptimizationJob2 *do_job2;
    IDeliveryOptimizationJob *do_job;
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job, *found, *listed[8] = {0};
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJob4 *job4;
    IBackgroundCopyJob5 *job5;
    BITS_JOB_PROPERTY_VALUE value;
    BG_AUTH_CREDENTIALS credentials = {BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC};
    BG_FILE_INFO set[2];
    BG_JOB_PROXY_USAGE usage = 0;
    BG_JOB_PROGRESS progress;
    BG_JOB_PRIORITY priority = 0;
    BG_JOB_TYPE type = 0;
    BG_JOB_TIMES times;
    BG_JOB_STATE job_state;
    BG_CERT_STORE_LOCATION location;
    BYTE *hash = NULL;
    ULONG number = 0, fetched = 0;
    DWORD dword = 0;
    BOOL flag = FALSE;
    VARIANT variant;
    HRESULT hr;
    GUID id, got;

    tu_url(remote[0], ARRAY_SIZE(remote[0]), L"hello.txt");
    tu_url(remote[1], ARRAY_SIZE(remote[1]), L"4m.bin");
    tu_url(remote[2], ARRAY_SIZE(remote[2]), L"ranges.bin");
    tu_path(local[0], ARRAY_SIZE(local[0]), dir, L"hello.txt");
    tu_path(local[1], ARRAY_SIZE(local[1]), dir, L"4m.bin");
    tu_path(local[2], ARRAY_SIZE(local[2]), dir, L"ranges.part");

    /* The manager. */
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"exercise", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    NUMBER("Manager GetJob", IBackgroundCopyManager_GetJob(manager, &id, &found), 0);
    NUMBER("GetJob is the same job", IBackgroundCopyJob_GetId(found, &got), IsEqualGUID(&got, &id));
    IBackgroundCopyJob_Release(found);
    found = (void *)0xdeadbeef;
    STEP("Manager GetJob unknown", IBackgroundCopyManager_GetJob(manager, &IID_IUnknown, &found));
    assert_null(found);
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    NUMBER("Jobs GetCount", IEnumBackgroundCopyJobs_GetCount(jobs, &number), number);
    NUMBER("Jobs Next(8)", IEnumBackgroundCopyJobs_Next(jobs, 8, listed, &fetched), fetched);
    for (ULONG i = 0; i < fetched; i++)
        IBackgroundCopyJob_Release(listed[i]);
    IEnumBackgroundCopyJobs_Release(jobs);
    STRING("Manager GetErrorDescription",
           IBackgroundCopyManager_GetErrorDescription(manager, BG_E_NOT_FOUND, 0x409, &text), text);

    /* IBackgroundCopyJob. */
    STEP("SetDisplayName", IBackgroundCopyJob_SetDisplayName(job, L"exercise \u00e9\u2713"));
    STRING("GetDisplayName", IBackgroundCopyJob_GetDisplayName(job, &text), text);
    STEP("SetDescription", IBackgroundCopyJob_SetDescription(job, L"through the proxies"));
    STRING("GetDescription", IBackgroundCopyJob_GetDescription(job, &text), text);
    NUMBER("GetType", IBackgroundCopyJob_GetType(job, &type), type);
    STRING("GetOwner", IBackgroundCopyJob_GetOwner(job, &text), text);
    STEP("SetPriority", IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND));
    NUMBER("GetPriority", IBackgroundCopyJob_GetPriority(job, &priority), priority);
    STEP("SetNotifyFlags", IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_ERROR));
    NUMBER("GetNotifyFlags", IBackgroundCopyJob_GetNotifyFlags(job, &number), number);
    STEP("SetNotifyFlags bad", IBackgroundCopyJob_SetNotifyFlags(job, 0x100));
    STEP("SetMinimumRetryDelay", IBackgroundCopyJob_SetMinimumRetryDelay(job, 120));
    NUMBER("GetMinimumRetryDelay", IBackgroundCopyJob_GetMinimumRetryDelay(job, &number), number);
    STEP("SetNoProgressTimeout", IBackgroundCopyJob_SetNoProgressTimeout(job, 600));
    NUMBER("GetNoProgressTimeout", IBackgroundCopyJob_GetNoProgressTimeout(job, &number), number);
    STEP("SetProxySettings", IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE,
                                                                 L"127.0.0.1:9", L"<local>"));
    text = text2 = NULL;
    NUMBER("GetProxySettings", IBackgroundCopyJob_GetProxySettings(job, &usage, &text, &text2),
           usage);
    text_step(run, "GetProxySettings list", S_OK, text);
    text_step(run, "GetProxySettings bypass", S_OK, text2);
    STEP("SetProxySettings NULL",
         IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL));
    NUMBER("GetErrorCount", IBackgroundCopyJob_GetErrorCount(job, &number), number);
    STEP("GetError none", IBackgroundCopyJob_GetError(job, (IBackgroundCopyError **)&found));
    set[0].RemoteName = remote[0];
    set[0].LocalName = local[0];
    set[1].RemoteName = remote[1];
    set[1].LocalName = local[1];
    STEP("AddFileSet", IBackgroundCopyJob_AddFileSet(job, 2, set));
    STEP("AddFile bad", IBackgroundCopyJob_AddFile(job, L"gopher://x/", local[2]));
    NUMBER("GetTimes", IBackgroundCopyJob_GetTimes(job, &times),
           times.CreationTime.dwHighDateTime != 0);

    /* IBackgroundCopyJob2. */
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2));
    STEP("SetNotifyCmdLine", IBackgroundCopyJob2_SetNotifyCmdLine(
                                 job2, L"C:\\windows\\system32\\cmd.exe", L"cmd.exe /c exit 0"));
    text = text2 = NULL;
    STEP("GetNotifyCmdLine", IBackgroundCopyJob2_GetNotifyCmdLine(job2, &text, &text2));
    text_step(run, "GetNotifyCmdLine program", S_OK, text);
    text_step(run, "GetNotifyCmdLine parameters", S_OK, text2);
    STEP("SetNotifyCmdLine NULL", IBackgroundCopyJob2_SetNotifyCmdLine(job2, NULL, NULL));
    STRING("GetReplyFileName", IBackgroundCopyJob2_GetReplyFileName(job2, &text), text);
    credentials.Credentials.Basic.UserName = (WCHAR *)L"user";
    credentials.Credentials.Basic.Password = (WCHAR *)L"secret";
    STEP("SetCredentials", IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    STEP("RemoveCredentials",
         IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC));
    STEP("RemoveCredentials again",
         IBackgroundCopyJob2_RemoveCredentials(job2, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC));
    IBackgroundCopyJob2_Release(job2);

    /* IBackgroundCopyJob3. */
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3));
    STEP("AddFileWithRanges",
         IBackgroundCopyJob3_AddFileWithRanges(job3, remote[2], local[2], 2, ranges));
    STEP("ReplaceRemotePrefix",
         IBackgroundCopyJob3_ReplaceRemotePrefix(job3, L"http://127.0.0.1:", L"http://127.0.0.1:"));
    STEP("SetFileACLFlags", IBackgroundCopyJob3_SetFileACLFlags(job3, BG_COPY_FILE_OWNER));
    NUMBER("GetFileACLFlags", IBackgroundCopyJob3_GetFileACLFlags(job3, &dword), dword);
    STEP("SetFileACLFlags 0", IBackgroundCopyJob3_SetFileACLFlags(job3, 0));
    IBackgroundCopyJob3_Release(job3);

    /* IBackgroundCopyJob4. */
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4, (void **)&job4));
    STEP("SetPeerCachingFlags", IBackgroundCopyJob4_SetPeerCachingFlags(job4, 0));
    NUMBER("GetPeerCachingFlags", IBackgroundCopyJob4_GetPeerCachingFlags(job4, &dword), dword);
    NUMBER("GetOwnerIntegrityLevel", IBackgroundCopyJob4_GetOwnerIntegrityLevel(job4, &number),
           number);
    NUMBER("GetOwnerElevationState", IBackgroundCopyJob4_GetOwnerElevationState(job4, &flag), flag);
    STEP("SetMaximumDownloadTime", IBackgroundCopyJob4_SetMaximumDownloadTime(job4, 3600));
    NUMBER("GetMaximumDownloadTime", IBackgroundCopyJob4_GetMaximumDownloadTime(job4, &number),
           number);
    IBackgroundCopyJob4_Release(job4);

    /* IBackgroundCopyJob5: each arm of the property union. */
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5));
    memset(&value, 0, sizeof(value));
    value.Dword = BITS_COST_STATE_TRANSFER_ALWAYS;
    STEP("Job5 Set COST_FLAGS",
         IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, value));
    NUMBER("Job5 Get COST_FLAGS",
           IBackgroundCopyJob5_GetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, &value),
           value.Dword);
    memset(&value, 0, sizeof(value));
    value.Uint64 = 1ull << 40;
    STEP("Job5 Set MAX_DOWNLOAD_SIZE",
         IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, value));
    NUMBER("Job5 Get MAX_DOWNLOAD_SIZE",
           IBackgroundCopyJob5_GetProperty(job5, BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, &value),
           value.Uint64);
    memset(&value, 0, sizeof(value));
    value.ClsID = CLSID_OpenDOManager;
    STEP("Job5 Set NOTIFICATION_CLSID",
         IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, value));
    memset(&value, 0, sizeof(value));
    NUMBER("Job5 Get NOTIFICATION_CLSID",
           IBackgroundCopyJob5_GetProperty(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value),
           IsEqualCLSID(&value.ClsID, &CLSID_OpenDOManager));
    NUMBER("Job5 Get HIGH_PERFORMANCE",
           IBackgroundCopyJob5_GetProperty(job5, BITS_JOB_PROPERTY_HIGH_PERFORMANCE, &value),
           value.Enable);
    NUMBER("Job5 Get USE_STORED_CREDENTIALS",
           IBackgroundCopyJob5_GetProperty(job5, BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS, &value),
           value.Target);
    /* The first interfaces' methods through the newest one: OpenDO's proxy, not Wine's. */
    STRING("Job5 GetDisplayName", IBackgroundCopyJob5_GetDisplayName(job5, &text), text);
    STRING("Job5 GetDescription", IBackgroundCopyJob5_GetDescription(job5, &text), text);
    text = text2 = NULL;
    NUMBER("Job5 GetProxySettings",
           IBackgroundCopyJob5_GetProxySettings(job5, &usage, &text, &text2), usage);
    text_step(run, "Job5 GetProxySettings list", S_OK, text);
    text_step(run, "Job5 GetProxySettings bypass", S_OK, text2);
    IBackgroundCopyJob5_Release(job5);

    /* IBackgroundCopyJobHttpOptions. */
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                                      (void **)&http));
    STEP("SetCustomHeaders",
         IBackgroundCopyJobHttpOptions_SetCustomHeaders(http, L"X-OpenDO-Test: yes\r\nX-Two: 2"));
    STRING("GetCustomHeaders", IBackgroundCopyJobHttpOptions_GetCustomHeaders(http, &text), text);
    STEP("SetSecurityFlags",
         IBackgroundCopyJobHttpOptions_SetSecurityFlags(http, BG_SSL_IGNORE_CERT_CN_INVALID));
    NUMBER("GetSecurityFlags", IBackgroundCopyJobHttpOptions_GetSecurityFlags(http, &number),
           number);
    STEP("SetSecurityFlags 0", IBackgroundCopyJobHttpOptions_SetSecurityFlags(http, 0));
    text = text2 = NULL;
    /* With no certificate this fails in marshaling terms: RPC_X_BAD_STUB_DATA in process, as
     * Windows answers, and whatever the proxy in between makes of the empty out-parameters
     * out of process (RPC_X_NULL_REF_POINTER with Wine's). Failing is what must agree. */
    hr = IBackgroundCopyJobHttpOptions_GetClientCertificate(http, &location, &text, &hash, &text2);
    NUMBER("GetClientCertificate none", S_OK, FAILED(hr));
    CoTaskMemFree(text);
    CoTaskMemFree(hash);
    CoTaskMemFree(text2);
    STEP("RemoveClientCertificate", IBackgroundCopyJobHttpOptions_RemoveClientCertificate(http));
    IBackgroundCopyJobHttpOptions_Release(http);

    /* The DO job interfaces. */
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(job, &IID_IDeliveryOptimizationJob,
                                                      (void **)&do_job));
    STEP("DOJob AddFileWithRanges bad", IDeliveryOptimizationJob_AddFileWithRanges(
                                            do_job, L"id", L"gopher://x/", local[2], 0, NULL, 0));
    IDeliveryOptimizationJob_Release(do_job);
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(job, &IID_IDeliveryOptimizationJob2,
                                                      (void **)&do_job2));
    VariantInit(&variant);
    NUMBER(
        "DOJob2 GetProperty",
        IDeliveryOptimizationJob2_GetProperty(do_job2, DOJobPropertyId_ExtendedErrorInfo, &variant),
        V_VT(&variant));
    VariantClear(&variant);
    IDeliveryOptimizationJob2_Release(do_job2);

    /* The transfer, then the files' interfaces, then the error object of a failed job. */
    NUMBER("GetProgress before", IBackgroundCopyJob_GetProgress(job, &progress),
           progress.FilesTotal);
    STEP("Resume", IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT);
    NUMBER("GetProgress after", IBackgroundCopyJob_GetProgress(job, &progress),
           progress.BytesTransferred);
    exercise_files(run, job);
    STEP("Complete", IBackgroundCopyJob_Complete(job));
    NUMBER("GetState", IBackgroundCopyJob_GetState(job, &job_state), job_state);
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    assert_true(tu_same_file(local[1], served));
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    assert_true(tu_same_file(local[0], served));
    IBackgroundCopyJob_Release(job);
    exercise_error(run, manager, dir);
}

static void test_every_interface(void **state)
{
    IBackgroundCopyManager *manager;
    static struct run inproc, local;
    WCHAR dir[MAX_PATH];
    int mismatches = 0;

    tu_scratch("localserver_inproc", dir, ARRAY_SIZE(dir));
    manager = tu_manager();
    exercise(&inproc, manager, dir);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);

    tu_scratch("localserver_local", dir, ARRAY_SIZE(dir));
    manager = local_manager(&CLSID_OpenDOManager);
    exercise(&local, manager, dir);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);

    assert_int_equal(inproc.steps, local.steps);
    for (int i = 0; i < inproc.steps; i++)
    {
        if (inproc.hr[i] != local.hr[i] || inproc.number[i] != local.number[i] ||
            wcscmp(inproc.text[i], local.text[i]))
            mismatches++;
        if (inproc.hr[i] != local.hr[i] || inproc.number[i] != local.number[i] ||
            wcscmp(inproc.text[i], local.text[i]))
            print_error(
                "%s: in process 0x%08lx %llu \"%ls\", through the local server 0x%08lx %llu "
                "\"%ls\"\n",
                inproc.names[i], inproc.hr[i], (unsigned long long)inproc.number[i], inproc.text[i],
                local.hr[i], (unsigned long long)local.number[i], local.text[i]);
    }
    assert_int_equal(mismatches, 0);
    /* And the answers are the real ones, not two matching failures. */
    for (int i = 0; i < local.steps; i++)
    {
        if (!strcmp(local.names[i], "GetDisplayName") ||
            !strcmp(local.names[i], "Job5 GetDisplayName"))
            assert_int_equal(0, wcscmp(local.text[i], L"exercise \u00e9\u2713"));
        else if (!strcmp(local.names[i], "GetProgress after"))
            assert_int_equal(local.number[i], 14 + (4 << 20) + 1064);
        else if (!strcmp(local.names[i], "Job5 Get MAX_DOWNLOAD_SIZE"))
            assert_int_equal(local.number[i], 1ull << 40);
        else if (!strcmp(local.names[i], "File5 GetLocalName"))
            assert_true(local.number[i]);
        else if (!strcmp(local.names[i], "File2 GetFileRanges"))
            assert_int_equal(local.number[i], 2 * 1000 + 4096 + 1000);
        else if (!strcmp(local.names[i], "GetCustomHeaders"))
            assert_int_equal(0, wcscmp(local.text[i], L"X-OpenDO-Test: yes\r\nX-Two: 2"));
        else if (!strcmp(local.names[i], "Error GetError"))
            assert_int_equal(local.number[i], ((UINT64)BG_ERROR_CONTEXT_REMOTE_FILE << 32) |
                                                  (ULONG)BG_E_HTTP_ERROR_403);
        else if (!strcmp(local.names[i], "Error GetErrorDescription"))
            assert_true(local.text[i][0]);
        else if (!strcmp(local.names[i], "File5 GetProperty"))
            assert_int_equal(local.number[i], 1);
        else if (!strcmp(local.names[i], "GetState"))
            assert_int_equal(local.number[i], BG_JOB_STATE_ACKNOWLEDGED);
        else if (!strcmp(local.names[i], "Complete"))
            assert_hr(S_OK, local.hr[i]);
    }
}

/* ---- callbacks into an STA client ---- */

struct callback
{
    IBackgroundCopyCallback2 IBackgroundCopyCallback2_iface;
    LONG refs;
    HANDLE event;       /* set when JobTransferred or JobError has run */
    DWORD wrong_thread; /* calls that arrived on another thread than the apartment's */
    DWORD thread;
    LONG transferred, errors, files;
    HRESULT complete_hr;  /* Complete, called inside JobTransferred */
    HRESULT file3_hr;     /* the FileTransferred file's QI for File3 */
    HRESULT temp_name_hr; /* and its GetTemporaryName */
    HRESULT remote_name_hr;
    WCHAR file_remote[300];
    BG_ERROR_CONTEXT context;
    HRESULT code;
    WCHAR description[128], context_description[128], error_file[300];
};

static inline struct callback *impl_from_IBackgroundCopyCallback2(IBackgroundCopyCallback2 *iface)
{
    return CONTAINING_RECORD(iface, struct callback, IBackgroundCopyCallback2_iface);
}

static HRESULT WINAPI callback_QueryInterface(IBackgroundCopyCallback2 *iface, REFIID riid,
                                              void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyCallback) ||
        IsEqualIID(riid, &IID_IBackgroundCopyCallback2))
    {
        *out = iface;
        IBackgroundCopyCallback2_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI callback_AddRef(IBackgroundCopyCallback2 *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyCallback2(iface)->refs);
}

static ULONG WINAPI callback_Release(IBackgroundCopyCallback2 *iface)
{
    return InterlockedDecrement(&impl_from_IBackgroundCopyCallback2(iface)->refs);
}

static void note_thread(struct callback *callback)
{
    if (GetCurrentThreadId() != callback->thread)
        callback->wrong_thread++;
}

static HRESULT WINAPI callback_JobTransferred(IBackgroundCopyCallback2 *iface,
                                              IBackgroundCopyJob *job)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);

    note_thread(callback);
    callback->transferred++;
    callback->complete_hr = IBackgroundCopyJob_Complete(job);
    SetEvent(callback->event);
    return S_OK;
}

static HRESULT WINAPI callback_JobError(IBackgroundCopyCallback2 *iface, IBackgroundCopyJob *job,
                                        IBackgroundCopyError *error)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);
    IBackgroundCopyFile *file;
    WCHAR *text;

    note_thread(callback);
    callback->errors++;
    IBackgroundCopyError_GetError(error, &callback->context, &callback->code);
    if (SUCCEEDED(IBackgroundCopyError_GetErrorDescription(error, 0x409, &text)))
    {
        lstrcpynW(callback->description, text, ARRAY_SIZE(callback->description));
        CoTaskMemFree(text);
    }
    if (SUCCEEDED(IBackgroundCopyError_GetErrorContextDescription(error, 0x409, &text)))
    {
        lstrcpynW(callback->context_description, text, ARRAY_SIZE(callback->context_description));
        CoTaskMemFree(text);
    }
    if (SUCCEEDED(IBackgroundCopyError_GetFile(error, &file)))
    {
        if (SUCCEEDED(IBackgroundCopyFile_GetRemoteName(file, &text)))
        {
            lstrcpynW(callback->error_file, text, ARRAY_SIZE(callback->error_file));
            CoTaskMemFree(text);
        }
        IBackgroundCopyFile_Release(file);
    }
    IBackgroundCopyJob_Cancel(job);
    SetEvent(callback->event);
    return S_OK;
}

static HRESULT WINAPI callback_JobModification(IBackgroundCopyCallback2 *iface,
                                               IBackgroundCopyJob *job, DWORD reserved)
{
    note_thread(impl_from_IBackgroundCopyCallback2(iface));
    return S_OK;
}

static HRESULT WINAPI callback_FileTransferred(IBackgroundCopyCallback2 *iface,
                                               IBackgroundCopyJob *job, IBackgroundCopyFile *file)
{
    struct callback *callback = impl_from_IBackgroundCopyCallback2(iface);
    IBackgroundCopyFile3 *file3;
    WCHAR *text;

    note_thread(callback);
    callback->files++;
    if (SUCCEEDED(callback->file3_hr = IBackgroundCopyFile_QueryInterface(
                      file, &IID_IBackgroundCopyFile3, (void **)&file3)))
    {
        if (SUCCEEDED(callback->temp_name_hr = IBackgroundCopyFile3_GetTemporaryName(file3, &text)))
            CoTaskMemFree(text);
        if (SUCCEEDED(callback->remote_name_hr = IBackgroundCopyFile3_GetRemoteName(file3, &text)))
        {
            lstrcpynW(callback->file_remote, text, ARRAY_SIZE(callback->file_remote));
            CoTaskMemFree(text);
        }
        IBackgroundCopyFile3_Release(file3);
    }
    return S_OK;
}

static const IBackgroundCopyCallback2Vtbl callback_vtbl = {
    callback_QueryInterface,  callback_AddRef,   callback_Release,
    callback_JobTransferred,  callback_JobError, callback_JobModification,
    callback_FileTransferred,
};

/* Pumps the STA (the calls arrive as window messages) until the callback ran, or fails. */
static void pump_until(struct callback *callback, DWORD timeout_ms)
{
    DWORD index;
    HRESULT hr;

    hr = CoWaitForMultipleHandles(COWAIT_DISPATCH_CALLS, timeout_ms, 1, &callback->event, &index);
    if (hr != S_OK)
        fail_msg("no callback within %lu ms (0x%08lx)", timeout_ms, hr);
}

/* A job that calls `callback` back, resumed. With `fatal`, its first error is final (no
 * retries), set before it starts. */
static IBackgroundCopyJob *notifying_job(IBackgroundCopyManager *manager, struct callback *callback,
                                         const WCHAR *remote, const WCHAR *local, BOOL fatal)
{
    IBackgroundCopyJob *job;
    GUID id;

    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"sta", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, remote, local));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED |
                                                               BG_NOTIFY_JOB_ERROR |
                                                               BG_NOTIFY_FILE_TRANSFERRED));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(
                        job, (IUnknown *)&callback->IBackgroundCopyCallback2_iface));
    if (fatal)
        assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 0));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    return job;
}

/* Runs on a thread of its own, an STA; results go back in the callback struct. */
static void sta_client(struct callback *callback, const WCHAR *dir)
{
    WCHAR remote[300], local[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyManager *manager = local_manager(&CLSID_OpenDOManager);
    IBackgroundCopyJob *job;

    callback->thread = GetCurrentThreadId();
    tu_url(remote, ARRAY_SIZE(remote), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    job = notifying_job(manager, callback, remote, local, FALSE);
    pump_until(callback, TRANSFER_TIMEOUT);
    assert_int_equal(callback->transferred, 1);
    assert_int_equal(callback->files, 1);
    assert_hr(S_OK, callback->file3_hr);
    assert_hr(S_OK, callback->temp_name_hr);
    assert_hr(S_OK, callback->remote_name_hr);
    if (wcscmp(callback->file_remote, remote))
        fail_msg("FileTransferred's file is \"%ls\", expected \"%ls\"", callback->file_remote,
                 remote);
    assert_hr(S_OK, callback->complete_hr);
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    assert_true(tu_same_file(local, served));
    IBackgroundCopyJob_Release(job);

    tu_url(remote, ARRAY_SIZE(remote), L"status/500");
    tu_path(local, ARRAY_SIZE(local), dir, L"error.bin");
    job = notifying_job(manager, callback, remote, local, TRUE);
    pump_until(callback, TRANSFER_TIMEOUT);
    assert_int_equal(callback->errors, 1);
    assert_int_equal(callback->context, BG_ERROR_CONTEXT_REMOTE_FILE);
    assert_hr(BG_E_HTTP_ERROR_500, callback->code);
    assert_true(callback->description[0]);
    assert_true(callback->context_description[0]);
    assert_int_equal(0, wcscmp(callback->error_file, remote));
    tu_wait_state(job, BG_JOB_STATE_CANCELLED, TRANSFER_TIMEOUT);
    IBackgroundCopyJob_Release(job);
    assert_int_equal(callback->wrong_thread, 0);
    IBackgroundCopyManager_Release(manager);
}

static void test_sta_callbacks(void **state)
{
    /* Static: a test that fails half way leaves it registered with a job. */
    static struct callback callback;
    WCHAR dir[MAX_PATH];

    /* The group runs in the MTA: this test's thread becomes an STA for its duration. */
    CoUninitialize();
    assert_hr(S_OK, CoInitializeEx(NULL, COINIT_APARTMENTTHREADED));
    memset(&callback, 0, sizeof(callback));
    callback.IBackgroundCopyCallback2_iface.lpVtbl = &callback_vtbl;
    callback.refs = 1;
    callback.event = CreateEventW(NULL, FALSE, FALSE, NULL);
    tu_scratch("localserver_sta", dir, ARRAY_SIZE(dir));
    sta_client(&callback, dir);
    CloseHandle(callback.event);
    tu_remove_tree(dir);
    CoUninitialize();
    assert_hr(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
}

/* ---- one job store for in-process clients and the local server ---- */

static BG_JOB_STATE state_of(IBackgroundCopyJob *job)
{
    BG_JOB_STATE state;

    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &state));
    return state;
}

static void assert_same_job(IBackgroundCopyManager *manager, const GUID *id, const WCHAR *name)
{
    IBackgroundCopyJob *job = NULL;
    WCHAR *text;

    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(name, text);
    IBackgroundCopyJob_Release(job);
}

static BOOL listed(IBackgroundCopyManager *manager, const GUID *id)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    BOOL found = FALSE;
    GUID got;

    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &got));
        found |= IsEqualGUID(&got, id);
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    return found;
}

static void test_shared_jobs(void **state)
{
    IBackgroundCopyManager *inproc = tu_manager(), *local = local_manager(&CLSID_OpenDOManager);
    WCHAR remote[300], dir[MAX_PATH], path[MAX_PATH];
    IBackgroundCopyJob *mine, *theirs, *seen;
    GUID mine_id, theirs_id;

    tu_scratch("localserver_shared", dir, ARRAY_SIZE(dir));
    tu_url(remote, ARRAY_SIZE(remote), L"hello.txt");

    /* Made in process, seen through the local server, and the reverse. */
    tu_path(path, ARRAY_SIZE(path), dir, L"mine.txt");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(inproc, L"made in process",
                                                     BG_JOB_TYPE_DOWNLOAD, &mine_id, &mine));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(mine, remote, path));
    tu_path(path, ARRAY_SIZE(path), dir, L"theirs.txt");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(local, L"made by the local server",
                                                     BG_JOB_TYPE_DOWNLOAD, &theirs_id, &theirs));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(theirs, remote, path));
    assert_same_job(local, &mine_id, L"made in process");
    assert_true(listed(local, &mine_id));
    assert_same_job(inproc, &theirs_id, L"made by the local server");
    assert_true(listed(inproc, &theirs_id));

    /* A control call from either side reaches the job's owner. */
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(inproc, &theirs_id, &seen));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(seen));
    tu_wait_state(theirs, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT);
    tu_wait_state(seen, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(seen));
    assert_int_equal(state_of(theirs), BG_JOB_STATE_ACKNOWLEDGED);
    assert_true(tu_exists(path));
    IBackgroundCopyJob_Release(seen);

    assert_hr(S_OK, IBackgroundCopyManager_GetJob(local, &mine_id, &seen));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(seen));
    tu_wait_state(mine, BG_JOB_STATE_TRANSFERRED, TRANSFER_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(seen));
    assert_int_equal(state_of(mine), BG_JOB_STATE_CANCELLED);
    IBackgroundCopyJob_Release(seen);

    IBackgroundCopyJob_Release(mine);
    IBackgroundCopyJob_Release(theirs);
    IBackgroundCopyManager_Release(local);
    IBackgroundCopyManager_Release(inproc);
    tu_remove_tree(dir);
}

/* ---- the surrogate's lifetime ---- */

/* A job of the local server on /throttled/ (2 MB/s), transferring when this returns. */
static IBackgroundCopyJob *throttled_job(IBackgroundCopyManager *manager, const WCHAR *dir,
                                         GUID *id)
{
    WCHAR remote[300], local[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_unique_url(remote, ARRAY_SIZE(remote), L"throttled/96m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"96m.bin");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"outlives its client",
                                                     BG_JOB_TYPE_DOWNLOAD, id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, remote, local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, 1, TRANSFER_TIMEOUT);
    return job;
}

static void test_surrogate_transfers_without_clients(void **state)
{
    IBackgroundCopyManager *manager = local_manager(&CLSID_OpenDOManager);
    WCHAR dir[MAX_PATH], local[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;
    UINT64 before;
    GUID id;

    tu_scratch("localserver_outlives", dir, ARRAY_SIZE(dir));
    job = throttled_job(manager, dir, &id);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);

    /* No client is left, but the surrogate still owns a transferring job: it stays, and the
     * bytes keep coming (read from here, a process that does not own the job). */
    Sleep(3500);
    assert_int_equal(1, surrogates());
    manager = tu_manager();
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &job));
    assert_int_equal(state_of(job), BG_JOB_STATE_TRANSFERRING);
    before = tu_progress(job).BytesTransferred;
    tu_wait_bytes(job, before + (2 << 20), TRANSFER_TIMEOUT);
    assert_int_equal(1, surrogates());
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);

    /* Once the job is transferred the surrogate ends, and the job waits in the store. */
    wait_no_surrogate(TRANSFER_TIMEOUT);
    manager = tu_manager();
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &job));
    assert_int_equal(state_of(job), BG_JOB_STATE_TRANSFERRED);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_path(local, ARRAY_SIZE(local), dir, L"96m.bin");
    tu_www(served, ARRAY_SIZE(served), L"96m.bin");
    assert_true(tu_same_file(local, served));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_surrogate_ends_when_suspended(void **state)
{
    IBackgroundCopyManager *manager = local_manager(&CLSID_OpenDOManager);
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];
    UINT64 done;
    GUID id;

    tu_scratch("localserver_suspended", dir, ARRAY_SIZE(dir));
    job = throttled_job(manager, dir, &id);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    done = tu_progress(job).BytesTransferred;
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    wait_no_surrogate(SURROGATE_END_MS);

    /* A later process finds the job as the surrogate left it, and takes it on. */
    manager = tu_manager();
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &job));
    assert_int_equal(state_of(job), BG_JOB_STATE_SUSPENDED);
    assert_true(tu_progress(job).BytesTransferred >= done);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, done + (1 << 20), TRANSFER_TIMEOUT);
    assert_int_equal(0, surrogates());
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_download, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modern_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_interface, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sta_callbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_surrogate_transfers_without_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_surrogate_ends_when_suspended, setup, teardown),
    };

    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
