/* SPDX-License-Identifier: MIT */
/* Helpers shared by the CMocka tests: the DLL, scratch folders, the test web server, waiting. */
#include "testutil.h"

static const char *const state_names[] = {
    "QUEUED",          "CONNECTING",  "TRANSFERRING", "SUSPENDED", "ERROR",
    "TRANSIENT_ERROR", "TRANSFERRED", "ACKNOWLEDGED", "CANCELLED",
};

static const char *state_name(BG_JOB_STATE state)
{
    return (unsigned int)state < ARRAY_SIZE(state_names) ? state_names[state] : "?";
}

/* Each test program starts with an empty job store of its own (OPENDO_STATE_DIR, set by
 * tests/CMakeLists.txt under OPENDO_TEST_STATE_ROOT): jobs that an earlier run left must not be
 * adopted. The helper processes a test starts share the test's store and leave it alone. */
static void __attribute__((constructor)) fresh_store(void)
{
    WCHAR dir[MAX_PATH], root[MAX_PATH];
    size_t root_len;

    if (GetEnvironmentVariableW(L"OPENDO_TEST_CHILD", NULL, 0) ||
        !GetEnvironmentVariableW(L"OPENDO_STATE_DIR", dir, ARRAY_SIZE(dir)) ||
        !GetEnvironmentVariableW(L"OPENDO_TEST_STATE_ROOT", root, ARRAY_SIZE(root)))
        return;
    root_len = wcslen(root);
    if (_wcsnicmp(dir, root, root_len) || dir[root_len] != '\\')
        return;
    tu_remove_tree(dir);
}

HMODULE tu_dll(void)
{
    static HMODULE dll;

    if (!dll)
        dll = LoadLibraryW(L"opendo.dll");
    if (!dll)
        fail_msg("cannot load opendo.dll from the working directory: %lu", GetLastError());
    return dll;
}

IBackgroundCopyManager *tu_manager(void)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IBackgroundCopyManager *manager = NULL;
    IClassFactory *factory;

    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(get_class_object);
    assert_hr(S_OK, get_class_object(&CLSID_OpenDOManager, &IID_IClassFactory, (void **)&factory));
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager,
                                                 (void **)&manager));
    IClassFactory_Release(factory);
    return manager;
}

int tu_com_setup(void **state)
{
    return FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)) ? -1 : 0;
}

int tu_com_teardown(void **state)
{
    CoUninitialize();
    return 0;
}

static void test_root(WCHAR *out, size_t size)
{
    if (!GetEnvironmentVariableW(L"OPENDO_TEST_ROOT", out, size))
        fail_msg("OPENDO_TEST_ROOT is not set: run the tests through ctest");
}

void tu_path(WCHAR *out, size_t size, const WCHAR *dir, const WCHAR *name)
{
    swprintf(out, size, L"%ls\\%ls", dir, name);
}

void tu_remove_tree(const WCHAR *dir)
{
    WIN32_FIND_DATAW data;
    WCHAR pattern[MAX_PATH], path[MAX_PATH];
    HANDLE find;

    tu_path(pattern, ARRAY_SIZE(pattern), dir, L"*");
    if ((find = FindFirstFileW(pattern, &data)) != INVALID_HANDLE_VALUE)
    {
        do
        {
            if (!wcscmp(data.cFileName, L".") || !wcscmp(data.cFileName, L".."))
                continue;
            tu_path(path, ARRAY_SIZE(path), dir, data.cFileName);
            if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
                tu_remove_tree(path);
            else
            {
                SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
                DeleteFileW(path);
            }
        } while (FindNextFileW(find, &data));
        FindClose(find);
    }
    RemoveDirectoryW(dir);
}

void tu_scratch(const char *name, WCHAR *dir, size_t size)
{
    WCHAR root[MAX_PATH], tmp[MAX_PATH];

    test_root(root, ARRAY_SIZE(root));
    tu_path(tmp, ARRAY_SIZE(tmp), root, L"tmp");
    CreateDirectoryW(tmp, NULL);
    swprintf(dir, size, L"%ls\\%hs", tmp, name);
    tu_remove_tree(dir);
    if (!CreateDirectoryW(dir, NULL))
        fail_msg("cannot create scratch folder %ls: %lu", dir, GetLastError());
}

int tu_count(const WCHAR *dir, const WCHAR *pattern)
{
    WIN32_FIND_DATAW data;
    WCHAR path[MAX_PATH];
    HANDLE find;
    int count = 0;

    tu_path(path, ARRAY_SIZE(path), dir, pattern);
    if ((find = FindFirstFileW(path, &data)) == INVALID_HANDLE_VALUE)
        return 0;
    do
    {
        if (wcscmp(data.cFileName, L".") && wcscmp(data.cFileName, L".."))
            count++;
    } while (FindNextFileW(find, &data));
    FindClose(find);
    return count;
}

void tu_wait_count(const WCHAR *dir, const WCHAR *pattern, int expected, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    int seen;

    while ((seen = tu_count(dir, pattern)) != expected)
    {
        if (GetTickCount64() >= deadline)
            fail_msg("%ls holds %d entries matching %ls after %lu ms, expected %d", dir, seen,
                     pattern, timeout_ms, expected);
        Sleep(20);
    }
}

int tu_nginx_port(const WCHAR *name)
{
    WCHAR root[MAX_PATH], portfile[MAX_PATH];
    char text[16] = {0};
    DWORD read = 0;
    HANDLE file;

    test_root(root, ARRAY_SIZE(root));
    swprintf(portfile, ARRAY_SIZE(portfile), L"%ls\\nginx\\%ls", root, name);
    file = CreateFileW(portfile, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("the test web server is not running (no %ls)", portfile);
    ReadFile(file, text, sizeof(text) - 1, &read, NULL);
    CloseHandle(file);
    return atoi(text);
}

void tu_url(WCHAR *out, size_t size, const WCHAR *path)
{
    swprintf(out, size, L"http://127.0.0.1:%d/%ls", tu_nginx_port(L"port"), path);
}

void tu_www(WCHAR *out, size_t size, const WCHAR *name)
{
    WCHAR root[MAX_PATH];

    test_root(root, ARRAY_SIZE(root));
    swprintf(out, size, L"%ls\\www\\%ls", root, name);
}

BOOL tu_exists(const WCHAR *path)
{
    return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

BOOL tu_same_file(const WCHAR *a, const WCHAR *b)
{
    HANDLE fa, fb;
    static BYTE ba[65536], bb[65536];
    DWORD ra, rb;
    BOOL same = FALSE;

    fa = CreateFileW(a, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    fb = CreateFileW(b, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (fa != INVALID_HANDLE_VALUE && fb != INVALID_HANDLE_VALUE)
    {
        for (;;)
        {
            if (!ReadFile(fa, ba, sizeof(ba), &ra, NULL) ||
                !ReadFile(fb, bb, sizeof(bb), &rb, NULL))
                break;
            if (ra != rb || memcmp(ba, bb, ra))
                break;
            if (!ra)
            {
                same = TRUE;
                break;
            }
        }
    }
    if (fa != INVALID_HANDLE_VALUE)
        CloseHandle(fa);
    if (fb != INVALID_HANDLE_VALUE)
        CloseHandle(fb);
    return same;
}

void tu_write_file(const WCHAR *path, size_t size)
{
    BYTE buffer[4096];
    HANDLE file;
    DWORD written;

    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot create %ls: %lu", path, GetLastError());
    for (size_t done = 0; done < size; done += written)
    {
        DWORD chunk = (DWORD)min(sizeof(buffer), size - done);
        for (DWORD i = 0; i < chunk; i++)
            buffer[i] = (BYTE)((done + i) * 7 + (done + i) / 251);
        if (!WriteFile(file, buffer, chunk, &written, NULL))
            fail_msg("cannot write %ls: %lu", path, GetLastError());
    }
    CloseHandle(file);
}

void tu_wait_state(IBackgroundCopyJob *job, BG_JOB_STATE state, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BG_JOB_STATE now;

    for (;;)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &now));
        if (now == state)
            return;
        if (GetTickCount64() >= deadline)
            fail_msg("job did not reach %s within %lu ms; it is %s", state_name(state), timeout_ms,
                     state_name(now));
        Sleep(10);
    }
}

IBackgroundCopyJob *tu_job_with_file(IBackgroundCopyManager *manager, const WCHAR *remote,
                                     const WCHAR *local)
{
    IBackgroundCopyJob *job;
    GUID id;

    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"test", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, remote, local));
    return job;
}

/* ---- COM surface helpers (test_register .. test_error) ---- */

HRESULT tu_can_unload_now(void)
{
    HRESULT(WINAPI * can_unload_now)(void);

    can_unload_now = (void *)GetProcAddress(tu_dll(), "DllCanUnloadNow");
    assert_non_null(can_unload_now);
    return can_unload_now();
}

ULONG tu_refcount(void *iface)
{
    IUnknown *unknown = iface;

    IUnknown_AddRef(unknown);
    return IUnknown_Release(unknown);
}

void tu_cancel_release(IBackgroundCopyJob *job)
{
    BG_JOB_STATE state;

    if (!job)
        return;
    if (SUCCEEDED(IBackgroundCopyJob_GetState(job, &state)) && state != BG_JOB_STATE_CANCELLED &&
        state != BG_JOB_STATE_ACKNOWLEDGED)
        IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
}

IBackgroundCopyFile *tu_job_file(IBackgroundCopyJob *job, ULONG index)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file = NULL;
    ULONG fetched = 0;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    if (index)
        assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, index));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 1);
    assert_non_null(file);
    IEnumBackgroundCopyFiles_Release(files);
    return file;
}

void tu_assert_cotask_str(const WCHAR *expected, WCHAR *actual, const char *file, int line)
{
    BOOL same = actual && !wcscmp(expected, actual);

    if (!same)
    {
        char text[512];
        snprintf(text, sizeof(text), "%ls", actual ? actual : L"(null)");
        CoTaskMemFree(actual);
        fail_msg("%s:%d: expected string \"%ls\", got \"%s\"", file, line, expected, text);
    }
    CoTaskMemFree(actual);
}

/* ---- transfer helpers (test_transfer, test_http, test_localfile) ---- */

const char *tu_state_name(BG_JOB_STATE state)
{
    return state_name(state);
}

BG_JOB_PROGRESS tu_progress(IBackgroundCopyJob *job)
{
    BG_JOB_PROGRESS progress;

    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    return progress;
}

UINT64 tu_file_size(const WCHAR *path)
{
    WIN32_FILE_ATTRIBUTE_DATA data;

    if (!GetFileAttributesExW(path, GetFileExInfoStandard, &data))
        return (UINT64)-1;
    return (UINT64)data.nFileSizeHigh << 32 | data.nFileSizeLow;
}

void tu_wait_bytes(IBackgroundCopyJob *job, UINT64 bytes, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;

    for (;;)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &state));
        progress = tu_progress(job);
        if (progress.BytesTransferred >= bytes)
            return;
        if (state != BG_JOB_STATE_QUEUED && state != BG_JOB_STATE_CONNECTING &&
            state != BG_JOB_STATE_TRANSFERRING)
            fail_msg("job stopped in state %s after %llu bytes; expected it to transfer %llu",
                     state_name(state), (unsigned long long)progress.BytesTransferred,
                     (unsigned long long)bytes);
        if (GetTickCount64() >= deadline)
            fail_msg("job transferred %llu bytes in %lu ms (state %s); expected %llu",
                     (unsigned long long)progress.BytesTransferred, timeout_ms, state_name(state),
                     (unsigned long long)bytes);
        Sleep(5);
    }
}

void tu_assert_job_error(IBackgroundCopyJob *job, BG_ERROR_CONTEXT context, HRESULT code)
{
    IBackgroundCopyError *error = NULL;
    BG_ERROR_CONTEXT actual_context;
    HRESULT actual_code;

    assert_hr(S_OK, IBackgroundCopyJob_GetError(job, &error));
    assert_non_null(error);
    assert_hr(S_OK, IBackgroundCopyError_GetError(error, &actual_context, &actual_code));
    IBackgroundCopyError_Release(error);
    if (actual_context != context || actual_code != code)
        fail_msg("job error is context %d code 0x%08lx; expected context %d code 0x%08lx",
                 actual_context, (unsigned long)actual_code, context, (unsigned long)code);
}

void tu_write_seeded_file(const WCHAR *path, size_t size, unsigned int seed)
{
    BYTE buffer[4096];
    UINT32 x = seed * 2654435761u + 1;
    HANDLE file;
    DWORD written;

    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot create %ls: %lu", path, GetLastError());
    for (size_t done = 0; done < size; done += written)
    {
        DWORD chunk = (DWORD)min(sizeof(buffer), size - done);
        for (DWORD i = 0; i < chunk; i++)
        {
            /* xorshift32 */
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buffer[i] = (BYTE)(x >> 24);
        }
        if (!WriteFile(file, buffer, chunk, &written, NULL))
            fail_msg("cannot write %ls: %lu", path, GetLastError());
    }
    CloseHandle(file);
}

void tu_date_file(const WCHAR *path, int seconds)
{
    ULARGE_INTEGER t;
    FILETIME when;
    HANDLE file;

    GetSystemTimeAsFileTime(&when);
    t.LowPart = when.dwLowDateTime;
    t.HighPart = when.dwHighDateTime;
    t.QuadPart += (LONGLONG)seconds * 10000000;
    when.dwLowDateTime = t.LowPart;
    when.dwHighDateTime = t.HighPart;
    file = CreateFileW(path, FILE_WRITE_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                       OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE || !SetFileTime(file, NULL, NULL, &when))
        fail_msg("cannot set the date of %ls: %lu", path, GetLastError());
    CloseHandle(file);
}

void tu_file_url(WCHAR *out, size_t size, const WCHAR *path)
{
    char utf8[4 * MAX_PATH];
    size_t n;

    if (!WideCharToMultiByte(CP_UTF8, 0, path, -1, utf8, sizeof(utf8), NULL, NULL))
        fail_msg("cannot convert %ls to UTF-8", path);
    n = swprintf(out, size, L"file:///");
    for (const unsigned char *p = (const unsigned char *)utf8; *p; p++)
    {
        if (n + 4 >= size)
            fail_msg("the file URL of %ls does not fit in %lu characters", path,
                     (unsigned long)size);
        if (*p == '\\')
            out[n++] = L'/';
        else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                 strchr("-._~/:", *p))
            out[n++] = *p;
        else
            n += swprintf(out + n, size - n, L"%%%02X", *p);
    }
    out[n] = 0;
}

void tu_unique_url(WCHAR *out, size_t size, const WCHAR *path)
{
    static LONG counter;
    WCHAR tagged[MAX_PATH];
    FILETIME now;

    GetSystemTimeAsFileTime(&now);
    swprintf(tagged, ARRAY_SIZE(tagged), L"%ls?t=%lx.%lx.%lx.%lx", path, GetCurrentProcessId(),
             now.dwHighDateTime, now.dwLowDateTime, InterlockedIncrement(&counter));
    tu_url(out, size, tagged);
}

/* The test nginx's access log, 0-terminated (malloc'ed). */
static char *read_access_log(void)
{
    WCHAR root[MAX_PATH], log[MAX_PATH];
    LARGE_INTEGER size;
    DWORD read = 0;
    HANDLE file;
    char *text;

    test_root(root, ARRAY_SIZE(root));
    tu_path(log, ARRAY_SIZE(log), root, L"nginx\\access.log");
    file = CreateFileW(log, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open the access log %ls: %lu", log, GetLastError());
    if (!GetFileSizeEx(file, &size) || !(text = malloc(size.QuadPart + 1)))
        fail_msg("cannot read the access log %ls", log);
    ReadFile(file, text, (DWORD)size.QuadPart, &read, NULL);
    CloseHandle(file);
    text[read] = 0;
    return text;
}

UINT64 tu_access_bytes(const WCHAR *url)
{
    char needle[1024], *text, *p;
    const WCHAR *path;
    UINT64 total = 0;
    int status;
    unsigned long long bytes;

    if (wcsncmp(url, L"http://", 7) || !(path = wcschr(url + 7, L'/')))
        fail_msg("not a URL of the test web server: %ls", url);
    /* Combined log format: "GET <path> HTTP/1.1" <status> <body bytes> ... */
    snprintf(needle, sizeof(needle), "\"GET %ls HTTP/1.1\" ", path);
    text = read_access_log();
    for (p = text; (p = strstr(p, needle)); p += strlen(needle))
    {
        if (sscanf(p + strlen(needle), "%d %llu", &status, &bytes) == 2)
            total += bytes;
    }
    free(text);
    return total;
}

int tu_access_count(const WCHAR *url, int status)
{
    WCHAR root[MAX_PATH], log[MAX_PATH];
    char needle[1024], *text, *p;
    const WCHAR *path;
    LARGE_INTEGER size;
    DWORD read = 0;
    HANDLE file;
    int count = 0;

    if (wcsncmp(url, L"http://", 7) || !(path = wcschr(url + 7, L'/')))
        fail_msg("not a URL of the test web server: %ls", url);
    snprintf(needle, sizeof(needle), "\"GET %ls HTTP/1.1\" %d ", path, status);
    test_root(root, ARRAY_SIZE(root));
    tu_path(log, ARRAY_SIZE(log), root, L"nginx\\access.log");
    file = CreateFileW(log, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open the access log %ls: %lu", log, GetLastError());
    if (!GetFileSizeEx(file, &size) || !(text = malloc(size.QuadPart + 1)))
        fail_msg("cannot read the access log %ls", log);
    ReadFile(file, text, (DWORD)size.QuadPart, &read, NULL);
    CloseHandle(file);
    text[read] = 0;
    for (p = text; (p = strstr(p, needle)); p += strlen(needle))
        count++;
    free(text);
    return count;
}

int tu_access_count_wait(const WCHAR *url, int status, int expected)
{
    ULONGLONG deadline = GetTickCount64() + 5000;
    int count;

    while ((count = tu_access_count(url, status)) < expected && GetTickCount64() < deadline)
        Sleep(20);
    return count;
}

/* An impersonation token made from the process's, with Administrators turned into a
 * deny-only group (CreateRestrictedToken's SidsToDisable). */
HANDLE tu_token_without_admins(void)
{
    SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
    SID_AND_ATTRIBUTES disable = {0};
    HANDLE process, restricted, impersonation;

    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_ALL_ACCESS, &process));
    assert_true(AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                         DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &disable.Sid));
    if (!CreateRestrictedToken(process, 0, 1, &disable, 0, NULL, 0, NULL, &restricted))
        fail_msg("CreateRestrictedToken: %lu", GetLastError());
    if (!DuplicateTokenEx(restricted, TOKEN_ALL_ACCESS, NULL, SecurityImpersonation,
                          TokenImpersonation, &impersonation))
        fail_msg("DuplicateTokenEx: %lu", GetLastError());
    FreeSid(disable.Sid);
    CloseHandle(restricted);
    CloseHandle(process);
    return impersonation;
}

HANDLE tu_start_helper(const WCHAR *state_dir, const WCHAR *verb, const WCHAR *a, const WCHAR *b,
                       const WCHAR *c)
{
    WCHAR self[MAX_PATH], line[3 * MAX_PATH + 200], saved[MAX_PATH] = L"";
    STARTUPINFOW startup = {sizeof(startup)};
    PROCESS_INFORMATION process;
    BOOL ok;

    GetModuleFileNameW(NULL, self, ARRAY_SIZE(self));
    swprintf(line, ARRAY_SIZE(line), L"\"%ls\" helper %ls \"%ls\" \"%ls\" \"%ls\"", self, verb,
             a ? a : L"", b ? b : L"", c ? c : L"");
    SetEnvironmentVariableW(L"OPENDO_TEST_CHILD", L"1");
    if (state_dir)
    {
        GetEnvironmentVariableW(L"OPENDO_STATE_DIR", saved, ARRAY_SIZE(saved));
        SetEnvironmentVariableW(L"OPENDO_STATE_DIR", state_dir);
    }
    ok = CreateProcessW(self, line, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &process);
    SetEnvironmentVariableW(L"OPENDO_TEST_CHILD", NULL);
    if (state_dir)
        SetEnvironmentVariableW(L"OPENDO_STATE_DIR", saved);
    if (!ok)
        fail_msg("cannot start %ls: %lu", self, GetLastError());
    CloseHandle(process.hThread);
    return process.hProcess;
}

int tu_count_in_state(IBackgroundCopyJob **list, int count, BG_JOB_STATE wanted)
{
    BG_JOB_STATE job_state;
    int n = 0;

    for (int i = 0; i < count; i++)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetState(list[i], &job_state));
        n += job_state == wanted;
    }
    return n;
}
