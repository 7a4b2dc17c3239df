/* SPDX-License-Identifier: MIT */
/* Helpers shared by the CMocka tests: the DLL, scratch folders, the test web server, waiting. */
#include "testutil.h"

static const char *const state_names[] = {
    "QUEUED",      "CONNECTING",   "TRANSFERRING", "SUSPENDED", "ERROR",
    "TRANSIENT_ERROR", "TRANSFERRED", "ACKNOWLEDGED", "CANCELLED",
};

static const char *state_name(BG_JOB_STATE state)
{
    return (unsigned int)state < ARRAY_SIZE(state_names) ? state_names[state] : "?";
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
    HRESULT (WINAPI *get_class_object)(REFCLSID, REFIID, void **);
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

void tu_url(WCHAR *out, size_t size, const WCHAR *path)
{
    WCHAR root[MAX_PATH], portfile[MAX_PATH];
    char text[16] = {0};
    DWORD read = 0;
    HANDLE file;

    test_root(root, ARRAY_SIZE(root));
    tu_path(portfile, ARRAY_SIZE(portfile), root, L"nginx\\port");
    file = CreateFileW(portfile, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("the test web server is not running (no %ls)", portfile);
    ReadFile(file, text, sizeof(text) - 1, &read, NULL);
    CloseHandle(file);
    swprintf(out, size, L"http://127.0.0.1:%d/%ls", atoi(text), path);
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
            if (!ReadFile(fa, ba, sizeof(ba), &ra, NULL) || !ReadFile(fb, bb, sizeof(bb), &rb, NULL))
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

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"test", BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &job));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, remote, local));
    return job;
}
