/* SPDX-License-Identifier: MIT */
/* Tests of the local transport (src/engine/localfile.c): copies from paths and file:// URLs. */
#include "testutil.h"

#define MIB (1024 * 1024)
#define SOURCE_SIZE (3 * MIB)
#define TIMEOUT 15000

static IBackgroundCopyManager *manager;
/* The running test's jobs: cancelled and released by its teardown, even when it fails. */
static IBackgroundCopyJob *jobs[4];
static int job_count;

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
    return 0;
}

/* A resumed job with one file from remote to local, owned by the test's teardown. */
static IBackgroundCopyJob *start(const WCHAR *remote, const WCHAR *local)
{
    IBackgroundCopyJob *job;

    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    job = jobs[job_count++] = tu_job_with_file(manager, remote, local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    return job;
}

/* Copies `source` (as written) through `remote` into dir\copy.bin and checks every number. */
static void check_copy(const WCHAR *dir, const WCHAR *remote, const WCHAR *source, UINT64 size)
{
    WCHAR local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;

    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    job = start(remote, local);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    p = tu_progress(job);
    if (p.BytesTotal != size || p.BytesTransferred != size || p.FilesTotal != 1 ||
        p.FilesTransferred != 1)
        fail_msg("copying %ls: progress %llu/%llu bytes, %lu/%lu files; expected %llu bytes",
                 remote, (unsigned long long)p.BytesTransferred, (unsigned long long)p.BytesTotal,
                 p.FilesTransferred, p.FilesTotal, (unsigned long long)size);
    assert_false(tu_exists(local));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    if (!tu_same_file(source, local))
        fail_msg("the copy of %ls differs from %ls", remote, source);
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
}

static void copy_from_local_path(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH];

    tu_scratch("localfile_path", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_write_file(source, SOURCE_SIZE);
    check_copy(dir, source, source, SOURCE_SIZE);
}

static void copy_from_file_url(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], url[MAX_PATH * 4];

    tu_scratch("localfile_url", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_write_file(source, SOURCE_SIZE);
    tu_file_url(url, ARRAY_SIZE(url), source);
    assert_true(!wcsncmp(url, L"file:///Z:/", 11));
    check_copy(dir, url, source, SOURCE_SIZE);
}

static void copy_from_file_url_with_localhost(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], url[MAX_PATH * 4];

    tu_scratch("localfile_localhost", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_write_file(source, 12345);
    tu_file_url(url, ARRAY_SIZE(url), source);
    /* file:///Z:/... becomes file://localhost/Z:/... */
    memmove(url + 16, url + 7, (wcslen(url + 7) + 1) * sizeof(WCHAR));
    memcpy(url + 7, L"localhost", 9 * sizeof(WCHAR));
    assert_true(!wcsncmp(url, L"file://localhost/Z:/", 20));
    check_copy(dir, url, source, 12345);
}

static void copy_from_url_with_escapes(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], url[MAX_PATH * 4];

    tu_scratch("localfile_escapes", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"a source file.bin");
    tu_write_file(source, SOURCE_SIZE);
    tu_file_url(url, ARRAY_SIZE(url), source);
    assert_non_null(wcsstr(url, L"/a%20source%20file.bin"));
    check_copy(dir, url, source, SOURCE_SIZE);

    /* Beyond ASCII, a file URL carries the UTF-8 bytes: caf\xe9 is caf%C3%A9. */
    tu_scratch("localfile_escapes_utf8", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"caf\x00e9 \x20ac.bin");
    tu_write_seeded_file(source, 54321, 3);
    tu_file_url(url, ARRAY_SIZE(url), source);
    assert_non_null(wcsstr(url, L"/caf%C3%A9%20%E2%82%AC.bin"));
    check_copy(dir, url, source, 54321);
}

/* file://Z:\dir\name from tu_file_url's file:///Z:/dir/name: no third slash, and backslashes
 * as separators unless `slashes`. Escapes stay as they are. */
static void drive_url(WCHAR *url, BOOL slashes)
{
    assert_true(!wcsncmp(url, L"file:///", 8));
    memmove(url + 7, url + 8, (wcslen(url + 8) + 1) * sizeof(WCHAR));
    for (WCHAR *p = url + 7; *p && !slashes; p++)
    {
        if (*p == L'/')
            *p = L'\\';
    }
}

static void copy_from_file_url_without_third_slash(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], url[MAX_PATH * 4];

    /* file://Z:\dir\name: the path as it is, after two slashes. */
    tu_scratch("localfile_two_slashes", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_write_file(source, SOURCE_SIZE);
    swprintf(url, ARRAY_SIZE(url), L"file://%ls", source);
    assert_true(!wcsncmp(url, L"file://Z:\\", 10));
    check_copy(dir, url, source, SOURCE_SIZE);

    /* The same with forward slashes, and with escapes (caf\xe9 \x20ac is caf%C3%A9%20%E2%82%AC). */
    tu_scratch("localfile_two_slashes_escaped", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"caf\x00e9 \x20ac.bin");
    tu_write_seeded_file(source, 23456, 7);
    tu_file_url(url, ARRAY_SIZE(url), source);
    drive_url(url, TRUE);
    assert_true(!wcsncmp(url, L"file://Z:/", 10));
    check_copy(dir, url, source, 23456);
    tu_file_url(url, ARRAY_SIZE(url), source);
    drive_url(url, FALSE);
    assert_non_null(wcsstr(url, L"\\caf%C3%A9%20%E2%82%AC.bin"));
    tu_scratch("localfile_two_slashes_backslashes", dir, ARRAY_SIZE(dir));
    check_copy(dir, url, source, 23456);
}

/* Wine serves \\server\share from <prefix>\dosdevices\unc\server\share: makes that folder for
 * `server` and returns its UNC name; skips the test where there is no Wine prefix. */
static void make_unc_share(const WCHAR *server, WCHAR *unc, size_t size, WCHAR *backing,
                           size_t backing_size)
{
    WCHAR prefix[MAX_PATH], part[MAX_PATH];
    DWORD len;

    len = GetEnvironmentVariableW(L"WINEPREFIX", prefix, ARRAY_SIZE(prefix));
    if (!len || len >= ARRAY_SIZE(prefix))
        skip();
    for (WCHAR *p = prefix; *p; p++)
    {
        if (*p == L'/')
            *p = L'\\';
    }
    swprintf(part, ARRAY_SIZE(part), L"Z:%ls\\dosdevices\\unc", prefix);
    CreateDirectoryW(part, NULL);
    swprintf(part + wcslen(part), ARRAY_SIZE(part) - wcslen(part), L"\\%ls", server);
    tu_remove_tree(part);
    if (!CreateDirectoryW(part, NULL))
        fail_msg("cannot create %ls: %lu", part, GetLastError());
    swprintf(backing, backing_size, L"%ls\\share", part);
    if (!CreateDirectoryW(backing, NULL))
        fail_msg("cannot create %ls: %lu", backing, GetLastError());
    swprintf(unc, size, L"\\\\%ls\\share", server);
    if (GetFileAttributesW(unc) == INVALID_FILE_ATTRIBUTES)
        fail_msg("Wine does not show %ls as %ls", backing, unc);
}

static void copy_from_unc_share(void **state)
{
    WCHAR dir[MAX_PATH], share[MAX_PATH], backing[MAX_PATH], source[MAX_PATH];
    WCHAR url[MAX_PATH * 4];

    make_unc_share(L"opendo-localfile", share, ARRAY_SIZE(share), backing, ARRAY_SIZE(backing));
    tu_path(source, ARRAY_SIZE(source), share, L"source.bin");
    tu_write_file(source, SOURCE_SIZE);

    /* \\server\share\name, file://server/share/name and file:////server/share/name. */
    tu_scratch("localfile_unc_path", dir, ARRAY_SIZE(dir));
    check_copy(dir, source, source, SOURCE_SIZE);
    tu_scratch("localfile_unc_url", dir, ARRAY_SIZE(dir));
    check_copy(dir, L"file://opendo-localfile/share/source.bin", source, SOURCE_SIZE);
    tu_scratch("localfile_unc_four_slashes", dir, ARRAY_SIZE(dir));
    check_copy(dir, L"file:////opendo-localfile/share/source.bin", source, SOURCE_SIZE);

    tu_path(source, ARRAY_SIZE(source), share, L"caf\x00e9 \x20ac.bin");
    tu_write_seeded_file(source, 4321, 8);
    swprintf(url, ARRAY_SIZE(url),
             L"file://opendo-localfile/share/caf%%C3%%A9%%20%%E2%%82%%AC.bin");
    tu_scratch("localfile_unc_escapes", dir, ARRAY_SIZE(dir));
    check_copy(dir, url, source, 4321);
    tu_remove_tree(backing);
}

static void copy_from_path_with_percent_sign(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], decoy[MAX_PATH];

    /* A plain path is a name, not a URL: "a%20b.bin" is not "a b.bin". */
    tu_scratch("localfile_percent", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"a%20b.bin");
    tu_path(decoy, ARRAY_SIZE(decoy), dir, L"a b.bin");
    tu_write_seeded_file(source, 4000, 4);
    tu_write_seeded_file(decoy, 5000, 5);
    check_copy(dir, source, source, 4000);
}

static void copy_empty_file(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH];

    tu_scratch("localfile_empty", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"empty.bin");
    tu_write_file(source, 0);
    check_copy(dir, source, source, 0);
}

/* A big source that reads fast: size bytes of zeros (sparse where the file system can). */
static void write_zeros(const WCHAR *path, LONGLONG size)
{
    LARGE_INTEGER end;
    HANDLE file;

    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    end.QuadPart = size;
    assert_true(SetFilePointerEx(file, end, NULL, FILE_BEGIN));
    assert_true(SetEndOfFile(file));
    CloseHandle(file);
}

/* Suspends the job as soon as it has counted some bytes, checks that the copy is still partial
 * and returns how many bytes it kept. */
static UINT64 suspend_early(IBackgroundCopyJob *job, UINT64 size)
{
    ULONGLONG deadline = GetTickCount64() + TIMEOUT;
    BG_JOB_STATE job_state;
    UINT64 kept;

    while (tu_progress(job).BytesTransferred == 0)
    {
        if (GetTickCount64() > deadline)
            fail_msg("no bytes were copied within %u ms", TIMEOUT);
    }
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    kept = tu_progress(job).BytesTransferred;
    if (job_state != BG_JOB_STATE_SUSPENDED || kept >= size)
        fail_msg("the copy finished before Suspend (%s, %llu bytes); the test needs a partial "
                 "copy",
                 tu_state_name(job_state), (unsigned long long)kept);
    return kept;
}

/* Writes 64 KiB of other bytes at the start of path and dates it an hour later. */
static void change_start(const WCHAR *path)
{
    BYTE data[65536];
    DWORD written;
    HANDLE file;

    for (int i = 0; i < (int)sizeof(data); i++)
        data[i] = (BYTE)(i * 13 + 5);
    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(WriteFile(file, data, sizeof(data), &written, NULL));
    CloseHandle(file);
    tu_date_file(path, 3600);
}

static void resume_checks_source(void **state)
{
    const LONGLONG size = 32 * MIB;
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    ULONGLONG deadline;
    IBackgroundCopyJob *job;
    UINT64 kept, now;

    tu_scratch("localfile_resume", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    write_zeros(source, size);
    job = start(source, local);

    /* Unchanged source: the copy goes on from where it stopped. */
    kept = suspend_early(job, size);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    deadline = GetTickCount64() + TIMEOUT;
    while ((now = tu_progress(job).BytesTransferred) == kept)
    {
        if (GetTickCount64() > deadline)
            fail_msg("the copy did not go on after Resume");
    }
    if (now < kept)
        fail_msg("an unchanged source was copied again from the start: %llu bytes after %llu",
                 (unsigned long long)now, (unsigned long long)kept);
    suspend_early(job, size);

    /* The source changes where we already copied: all of it again. */
    change_start(source);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT * 4);
    assert_int_equal(size, tu_progress(job).BytesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    if (!tu_same_file(source, local))
        fail_msg("the copy mixes the old and the new source");
    tu_remove_tree(dir);
}

static void missing_source_is_an_error(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;

    tu_scratch("localfile_missing", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"missing.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    job = start(source, local);
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, 0x80070002 /* ERROR_FILE_NOT_FOUND */);
    p = tu_progress(job);
    assert_int_equal(0, p.BytesTransferred);
    assert_int_equal(0, p.FilesTransferred);
    assert_false(tu_exists(local));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_int_equal(0, tu_count(dir, L"*"));
}

static void missing_source_folder_is_an_error(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH], url[MAX_PATH * 4];
    IBackgroundCopyJob *job;

    tu_scratch("localfile_missing_folder", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"no such folder\\missing.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    tu_file_url(url, ARRAY_SIZE(url), source);
    job = start(url, local);
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE,
                        HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND));
    assert_false(tu_exists(local));
}

static void folder_as_source_is_an_error(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("localfile_folder", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"folder");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    assert_true(CreateDirectoryW(source, NULL));
    job = start(source, local);
    tu_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, E_ACCESSDENIED);
    assert_false(tu_exists(local));
}

static void bytes_total_is_source_size(void **state)
{
    WCHAR dir[MAX_PATH], source[2][MAX_PATH], local[2][MAX_PATH];
    BG_FILE_INFO files[2];
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;
    GUID id;

    tu_scratch("localfile_total", dir, ARRAY_SIZE(dir));
    for (int i = 0; i < 2; i++)
    {
        WCHAR name[32];
        swprintf(name, ARRAY_SIZE(name), L"source%d.bin", i);
        tu_path(source[i], ARRAY_SIZE(source[i]), dir, name);
        swprintf(name, ARRAY_SIZE(name), L"copy%d.bin", i);
        tu_path(local[i], ARRAY_SIZE(local[i]), dir, name);
        files[i].RemoteName = source[i];
        files[i].LocalName = local[i];
    }
    tu_write_file(source[0], SOURCE_SIZE + 1);
    tu_write_seeded_file(source[1], 777, 6);
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"total", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    jobs[job_count++] = job;
    assert_hr(S_OK, IBackgroundCopyJob_AddFileSet(job, 2, files));
    /* Unknown until the sources are opened. */
    p = tu_progress(job);
    assert_true(p.BytesTotal == BG_SIZE_UNKNOWN);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    p = tu_progress(job);
    assert_int_equal(SOURCE_SIZE + 1 + 777, p.BytesTotal);
    assert_int_equal(SOURCE_SIZE + 1 + 777, p.BytesTransferred);
    assert_int_equal(2, p.FilesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_true(tu_same_file(source[0], local[0]));
    assert_true(tu_same_file(source[1], local[1]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(copy_from_local_path, teardown),
        cmocka_unit_test_teardown(copy_from_file_url, teardown),
        cmocka_unit_test_teardown(copy_from_file_url_with_localhost, teardown),
        cmocka_unit_test_teardown(copy_from_url_with_escapes, teardown),
        cmocka_unit_test_teardown(copy_from_file_url_without_third_slash, teardown),
        cmocka_unit_test_teardown(copy_from_unc_share, teardown),
        cmocka_unit_test_teardown(copy_from_path_with_percent_sign, teardown),
        cmocka_unit_test_teardown(copy_empty_file, teardown),
        cmocka_unit_test_teardown(resume_checks_source, teardown),
        cmocka_unit_test_teardown(missing_source_is_an_error, teardown),
        cmocka_unit_test_teardown(missing_source_folder_is_an_error, teardown),
        cmocka_unit_test_teardown(folder_as_source_is_an_error, teardown),
        cmocka_unit_test_teardown(bytes_total_is_source_size, teardown),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
