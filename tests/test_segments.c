/* SPDX-License-Identifier: MIT */
/* Large files fetched in parts over several connections: the bytes are the source's whatever
 * happens to the parts (a Suspend, a server without ranges, a file that shrinks meanwhile). */

#include "testutil.h"

#define MIB (1024 * 1024)
#define TIMEOUT 60000

static WCHAR scratch[MAX_PATH];

static IBackgroundCopyJob *new_job(const WCHAR *url, const WCHAR *name)
{
    WCHAR local[MAX_PATH];

    tu_path(local, ARRAY_SIZE(local), scratch, name);
    return tu_job_with_file(tu_manager(), url, local);
}

/* A job for a new file of `size` bytes (made from `seed`), served throttled (2 MiB/s per
 * connection) as <stem>-<process id>.bin: `served` (MAX_PATH) is its path in the server's
 * folder, which the caller deletes, and `url` (MAX_PATH) its address. */
static IBackgroundCopyJob *throttled_job(const WCHAR *stem, size_t size, unsigned int seed,
                                         const WCHAR *local_name, WCHAR *served, WCHAR *url)
{
    WCHAR name[64], path[80];

    swprintf(name, ARRAY_SIZE(name), L"%ls-%lu.bin", stem, GetCurrentProcessId());
    tu_www(served, MAX_PATH, name);
    tu_write_seeded_file(served, size, seed);
    swprintf(path, ARRAY_SIZE(path), L"throttled/%ls", name);
    tu_unique_url(url, MAX_PATH, path);
    return new_job(url, local_name);
}

static void complete_and_compare(IBackgroundCopyJob *job, const WCHAR *served, const WCHAR *name)
{
    WCHAR local[MAX_PATH];

    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_path(local, ARRAY_SIZE(local), scratch, name);
    if (!tu_same_file(served, local))
        fail_msg("%ls differs from %ls", local, served);
    assert_int_equal(0, tu_count(scratch, L"BIT*.tmp"));
    IBackgroundCopyJob_Release(job);
}

/* A 24 MiB file alone in its job: its size asked first, then fetched in ranged parts at once,
 * never in one answer; the bytes are the file's. */
static void large_file_in_parts(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("segments_parts", scratch, ARRAY_SIZE(scratch));
    tu_unique_url(url, ARRAY_SIZE(url), L"24m.bin");
    tu_www(served, ARRAY_SIZE(served), L"24m.bin");
    job = new_job(url, L"24m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_int_equal(24 * MIB, tu_progress(job).BytesTransferred);
    assert_int_equal(0, tu_access_count(url, 200));
    assert_true(tu_access_count_wait(url, 206, 2) >= 2);
    assert_int_equal(24 * MIB, tu_access_bytes(url));
    complete_and_compare(job, served, L"24m.bin");
}

/* Suspended while its parts are in flight (2 MB/s each), the file keeps what they brought,
 * and Resume fetches only the rest, again in parts. */
static void suspend_resume_in_parts(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;
    UINT64 kept;

    tu_scratch("segments_suspend", scratch, ARRAY_SIZE(scratch));
    tu_unique_url(url, ARRAY_SIZE(url), L"throttled/24m.bin");
    tu_www(served, ARRAY_SIZE(served), L"24m.bin");
    job = new_job(url, L"24m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, 4 * MIB, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    kept = tu_progress(job).BytesTransferred;
    assert_true(kept >= 4 * MIB && kept < 24 * MIB);
    Sleep(300);
    /* Stopped means stopped: no part goes on counting. */
    assert_int_equal(kept, tu_progress(job).BytesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_int_equal(24 * MIB, tu_progress(job).BytesTransferred);
    assert_int_equal(0, tu_access_count(url, 200));
    /* What was kept is not fetched again (each stopped part may lose what was on its way). */
    if (tu_access_bytes(url) > 24 * MIB + 4 * MIB)
        fail_msg("the server sent %I64u bytes for a file of 24 MiB", tu_access_bytes(url));
    complete_and_compare(job, served, L"24m.bin");
}

/* A large file alone in its job takes at most 4 of the job's 8 connections at once (more
 * writers into one file cost CPU). Its parts (20 MiB each, sent at 2 MiB/s: 10 s a part) are all
 * in flight when the job is cancelled, which ends them: the server logs each then. */
static void at_most_four_parts_at_once(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;
    ULONGLONG started;
    int parts;

    tu_scratch("segments_four", scratch, ARRAY_SIZE(scratch));
    job = throttled_job(L"wide", 160 * MIB, 11, L"wide.bin", served, url);
    started = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, 4 * MIB, TIMEOUT);
    /* Every fetch that would start has started. */
    Sleep(500);
    /* No part can have ended yet, so each request logged below was in flight at once. */
    if (GetTickCount64() - started >= 9000)
        fail_msg("too slow to tell: %I64u ms to the Cancel", GetTickCount64() - started);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
    /* Up to 5 s for a fifth part, which must not come. */
    tu_access_count_wait(url, 206, 5);
    parts = tu_access_count(url, 206);
    if (parts < 2 || parts > 4)
        fail_msg("%d parts were fetched at once", parts);
    DeleteFileW(served);
}

/* A server that ignores Range: the file comes in one answer, on one connection. */
static void server_without_ranges(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("segments_norange", scratch, ARRAY_SIZE(scratch));
    tu_unique_url(url, ARRAY_SIZE(url), L"norange/24m.bin");
    tu_www(served, ARRAY_SIZE(served), L"24m.bin");
    job = new_job(url, L"24m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_int_equal(24 * MIB, tu_progress(job).BytesTransferred);
    assert_int_equal(0, tu_access_count(url, 206));
    assert_true(tu_access_count_wait(url, 200, 1) >= 1);
    complete_and_compare(job, served, L"24m.bin");
}

/* The file shrinks on the server while its parts are fetched: a part asked for beyond its new
 * end is answered 416, one asked for after the change 200 (If-Range sees another version);
 * either way the parts no longer fit together and the file is fetched again whole: the result
 * is the new file, not a mix of both. */
static void file_shrinking_meanwhile(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;
    HANDLE file;
    LARGE_INTEGER size;

    tu_scratch("segments_416", scratch, ARRAY_SIZE(scratch));
    job = throttled_job(L"shrinking", 32 * MIB, 7, L"shrinking.bin", served, url);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, 2 * MIB, TIMEOUT);
    /* Cut in place to 4 MiB (the same file: nginx's open answers see it end early). */
    file = CreateFileW(served, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                       OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    size.QuadPart = 4 * MIB;
    assert_true(SetFilePointerEx(file, size, NULL, FILE_BEGIN) && SetEndOfFile(file));
    CloseHandle(file);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_true(tu_access_count(url, 416) + tu_access_count(url, 200) >= 1);
    assert_int_equal(4 * MIB, tu_progress(job).BytesTransferred);
    complete_and_compare(job, served, L"shrinking.bin");
    DeleteFileW(served);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(large_file_in_parts),        cmocka_unit_test(suspend_resume_in_parts),
        cmocka_unit_test(at_most_four_parts_at_once), cmocka_unit_test(server_without_ranges),
        cmocka_unit_test(file_shrinking_meanwhile),
    };

    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
