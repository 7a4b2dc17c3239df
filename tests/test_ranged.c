/* SPDX-License-Identifier: MIT */
/* Files with byte ranges end to end (AddFileWithRanges over http and file://): the bytes on
 * disk, progress, many ranges, servers without ranges, ranges past the end, Suspend/Resume. */
#include <stdlib.h>
#include "testutil.h"

#define RANGES_SIZE (8 << 20) /* ranges.bin: every 4-byte word holds its index */

struct fixture
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    IBackgroundCopyJob3 *job3;
    WCHAR dir[MAX_PATH];
    WCHAR remote[MAX_PATH];
    WCHAR local[MAX_PATH];
};

static void setup(struct fixture *f, const char *scratch, const WCHAR *remote_path)
{
    GUID id;

    f->manager = tu_manager();
    tu_scratch(scratch, f->dir, ARRAY_SIZE(f->dir));
    tu_unique_url(f->remote, ARRAY_SIZE(f->remote), remote_path);
    tu_path(f->local, ARRAY_SIZE(f->local), f->dir, L"out.bin");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(f->manager, L"ranged", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &f->job));
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(f->job, &IID_IBackgroundCopyJob3,
                                                      (void **)&f->job3));
}

static void teardown(struct fixture *f)
{
    IBackgroundCopyJob3_Release(f->job3);
    tu_cancel_release(f->job);
    IBackgroundCopyManager_Release(f->manager);
    tu_remove_tree(f->dir);
}

/* The whole of a file, read into memory. */
static BYTE *read_all(const WCHAR *path, UINT64 *size)
{
    LARGE_INTEGER length;
    DWORD read;
    HANDLE file;
    BYTE *data;

    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                       0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", path, GetLastError());
    assert_true(GetFileSizeEx(file, &length));
    data = malloc(length.QuadPart + 1);
    assert_non_null(data);
    assert_true(ReadFile(file, data, (DWORD)length.QuadPart, &read, NULL));
    assert_int_equal(read, length.QuadPart);
    CloseHandle(file);
    *size = length.QuadPart;
    return data;
}

/* Asserts that `path` holds the ranges of the served file `name`, back to back in the order
 * given (BG_LENGTH_TO_EOF up to its end). */
static void assert_ranges_file(const WCHAR *path, const WCHAR *name, const BG_FILE_RANGE *ranges,
                               ULONG count)
{
    WCHAR served[MAX_PATH];
    UINT64 served_size, size, at = 0;
    BYTE *source, *data;

    tu_www(served, ARRAY_SIZE(served), name);
    source = read_all(served, &served_size);
    data = read_all(path, &size);
    for (ULONG i = 0; i < count; i++)
    {
        UINT64 length = ranges[i].Length == BG_LENGTH_TO_EOF ? served_size - ranges[i].InitialOffset
                                                             : ranges[i].Length;
        if (at + length > size)
            fail_msg("range %lu: the file ends at %I64u, before %I64u", i, size, at + length);
        if (memcmp(data + at, source + ranges[i].InitialOffset, length))
            fail_msg("range %lu (%I64u+%I64u) differs at local offset %I64u", i,
                     ranges[i].InitialOffset, ranges[i].Length, at);
        at += length;
    }
    if (at != size)
        fail_msg("the file has %I64u bytes, the ranges %I64u", size, at);
    free(source);
    free(data);
}

/* Runs the job to TRANSFERRED and completes it. */
static void transfer_and_complete(struct fixture *f, DWORD timeout_ms)
{
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f->job));
    tu_wait_state(f->job, BG_JOB_STATE_TRANSFERRED, timeout_ms);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f->job));
}

static void test_arguments(void **state)
{
    BG_FILE_RANGE one = {0, 10}, bad[2] = {{100, 5}, {100, 0}};
    BG_FILE_RANGE eof_offset = {BG_LENGTH_TO_EOF, 10}, empty = {10, 0};
    BG_JOB_PROGRESS progress;
    struct fixture f;

    setup(&f, "ranged_arguments", L"ranges.bin");
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 0, &one));
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 1, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_AddFileWithRanges(f.job3, NULL, f.local, 1, &one));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, NULL, 1, &one));
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, L"nowhere", f.local, 1, &one));
    assert_hr(E_INVALIDARG,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, L"out.bin", 1, &one));
    assert_hr(BG_E_INVALID_RANGE,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 1, &eof_offset));
    assert_hr(BG_E_INVALID_RANGE,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 1, &empty));
    /* The documented case: equal offsets, the longer first. */
    assert_hr(BG_E_OVERLAPPING_RANGES,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 2, bad));
    /* Nothing was added by the failures, not even a temporary file. */
    progress = tu_progress(f.job);
    assert_int_equal(progress.FilesTotal, 0);
    assert_int_equal(tu_count(f.dir, L"*"), 0);

    /* A known sum is the file's and the job's size at once. */
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 1, &one));
    progress = tu_progress(f.job);
    assert_int_equal(progress.FilesTotal, 1);
    assert_int_equal(progress.BytesTotal, 10);

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_hr(BG_E_INVALID_STATE,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 1, &one));
    teardown(&f);
}

static void test_ranges_in_given_order(void **state)
{
    /* Out of order, odd offsets and lengths, one range to the end of the file. */
    BG_FILE_RANGE ranges[] = {
        {100, 100}, {900, 100},        {400, 50}, {RANGES_SIZE - 1001, BG_LENGTH_TO_EOF},
        {1001, 3},  {5000000, 123457},
    };
    IBackgroundCopyFile *file;
    BG_FILE_PROGRESS progress;
    BG_JOB_PROGRESS job_progress;
    UINT64 total = 100 + 100 + 50 + 1001 + 3 + 123457;
    struct fixture f;

    setup(&f, "ranged_order", L"ranges.bin");
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local,
                                                          ARRAY_SIZE(ranges), ranges));
    file = tu_job_file(f.job, 0);
    /* The size of a range to the end is not known before the server says. */
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(file, &progress));
    assert_true(progress.BytesTotal == BG_SIZE_UNKNOWN);
    transfer_and_complete(&f, 20000);
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(file, &progress));
    assert_int_equal(progress.BytesTotal, total);
    assert_int_equal(progress.BytesTransferred, total);
    assert_true(progress.Completed);
    job_progress = tu_progress(f.job);
    assert_int_equal(job_progress.BytesTotal, total);
    assert_int_equal(job_progress.BytesTransferred, total);
    assert_ranges_file(f.local, L"ranges.bin", ranges, ARRAY_SIZE(ranges));
    IBackgroundCopyFile_Release(file);
    teardown(&f);
}

static void test_many_ranges(void **state)
{
    enum
    {
        COUNT = 3000
    };
    BG_FILE_RANGE *ranges = malloc(COUNT * sizeof(*ranges));
    ULONGLONG started;
    struct fixture f;

    assert_non_null(ranges);
    /* Every other 1 KiB block of 6 MiB, no cap on the count. */
    for (ULONG i = 0; i < COUNT; i++)
    {
        ranges[i].InitialOffset = (UINT64)i * 2048;
        ranges[i].Length = 1024;
    }
    setup(&f, "ranged_many", L"ranges.bin");
    assert_hr(S_OK,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, COUNT, ranges));
    started = GetTickCount64();
    transfer_and_complete(&f, 15000);
    print_message("3,000 ranges in %I64u ms\n", GetTickCount64() - started);
    assert_ranges_file(f.local, L"ranges.bin", ranges, COUNT);
    /* Neighbouring ranges share requests: far fewer requests than ranges. */
    assert_true(tu_access_count(f.remote, 206) < 10);
    free(ranges);
    teardown(&f);
}

static void test_distant_ranges(void **state)
{
    enum
    {
        COUNT = 60
    };
    BG_FILE_RANGE ranges[COUNT];
    struct fixture f;

    /* Too far apart to share a request: one request each, on one kept-alive connection. */
    for (ULONG i = 0; i < COUNT; i++)
    {
        ranges[i].InitialOffset = (UINT64)i * 131072 + i;
        ranges[i].Length = 100 + i;
    }
    setup(&f, "ranged_distant", L"ranges.bin");
    assert_hr(S_OK,
              IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, COUNT, ranges));
    transfer_and_complete(&f, 15000);
    assert_ranges_file(f.local, L"ranges.bin", ranges, COUNT);
    assert_int_equal(tu_access_count_wait(f.remote, 206, COUNT), COUNT);
    teardown(&f);
}

static void test_to_end_of_file(void **state)
{
    BG_FILE_RANGE range = {RANGES_SIZE - 4097, BG_LENGTH_TO_EOF};
    struct fixture f;

    setup(&f, "ranged_eof", L"ranges.bin");
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 1, &range));
    transfer_and_complete(&f, 10000);
    assert_int_equal(tu_file_size(f.local), 4097);
    assert_ranges_file(f.local, L"ranges.bin", &range, 1);
    teardown(&f);
}

static void test_server_without_ranges(void **state)
{
    BG_FILE_RANGE ranges[] = {{10, 10}, {100, 10}};
    IBackgroundCopyFile *file;
    IBackgroundCopyFile3 *file3;
    BG_FILE_PROGRESS progress;
    WCHAR *temp;
    struct fixture f;

    setup(&f, "ranged_norange", L"norange/ranges.bin");
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local,
                                                          ARRAY_SIZE(ranges), ranges));
    file = tu_job_file(f.job, 0);
    assert_hr(S_OK,
              IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile3, (void **)&file3));
    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(file3, &temp));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    tu_assert_job_error(f.job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_INSUFFICIENT_RANGE_SUPPORT);
    /* The server answered 200 with the whole file: none of it was stored. */
    assert_int_equal(tu_access_count_wait(f.remote, 200, 1), 1);
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(file, &progress));
    assert_int_equal(progress.BytesTransferred, 0);
    assert_int_equal(tu_file_size(temp), 0);
    CoTaskMemFree(temp);
    IBackgroundCopyFile3_Release(file3);
    IBackgroundCopyFile_Release(file);
    teardown(&f);
}

static void test_range_past_the_end(void **state)
{
    BG_FILE_RANGE beyond = {RANGES_SIZE + 10, 5};
    BG_FILE_RANGE across[] = {{0, 10}, {RANGES_SIZE - 10, 20}};
    struct fixture f;

    /* Wholly past the end: the server answers 416. */
    setup(&f, "ranged_beyond", L"ranges.bin");
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local, 1, &beyond));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    tu_assert_job_error(f.job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_INVALID_RANGE);
    assert_int_equal(tu_access_count_wait(f.remote, 416, 1), 1);
    teardown(&f);

    /* Partly past the end: the file's size says it does not fit. */
    setup(&f, "ranged_across", L"ranges.bin");
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local,
                                                          ARRAY_SIZE(across), across));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    tu_assert_job_error(f.job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_INVALID_RANGE);
    teardown(&f);
}

static void test_suspend_and_resume(void **state)
{
    /* About 4 MiB at 2 MB/s, in an order that is not the file's. */
    BG_FILE_RANGE ranges[] = {
        {6000000, 1000001},
        {12345, 1500000},
        {3000000, 1000000},
        {7500000, 600000},
    };
    UINT64 total = 1000001 + 1500000 + 1000000 + 600000;
    IDeliveryOptimizationFile *do_file;
    IBackgroundCopyFile *file;
    BG_JOB_PROGRESS progress;
    DOSwarmStats stats;
    struct fixture f;

    setup(&f, "ranged_suspend", L"throttled/ranges.bin");
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local,
                                                          ARRAY_SIZE(ranges), ranges));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    /* Stop inside the second range. */
    tu_wait_bytes(f.job, 1200000, 15000);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(f.job));
    progress = tu_progress(f.job);
    assert_true(progress.BytesTransferred >= 1200000);
    assert_true(progress.BytesTransferred < total);
    assert_int_equal(progress.BytesTotal, total);
    transfer_and_complete(&f, 20000);
    assert_ranges_file(f.local, L"ranges.bin", ranges, ARRAY_SIZE(ranges));
    /* It went on where it stopped: no byte was fetched twice. */
    file = tu_job_file(f.job, 0);
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IDeliveryOptimizationFile,
                                                       (void **)&do_file));
    assert_hr(S_OK, IDeliveryOptimizationFile_GetStats(do_file, &stats));
    assert_int_equal(stats.totalBytesDownloaded, total);
    CoTaskMemFree(stats.fileId);
    CoTaskMemFree(stats.sourceURL);
    IDeliveryOptimizationFile_Release(do_file);
    IBackgroundCopyFile_Release(file);
    teardown(&f);
}

static void test_local_source(void **state)
{
    BG_FILE_RANGE ranges[] = {{4000, 4}, {8, 3992}, {RANGES_SIZE - 3, BG_LENGTH_TO_EOF}};
    BG_FILE_RANGE beyond = {RANGES_SIZE, 1};
    WCHAR served[MAX_PATH];
    struct fixture f;

    setup(&f, "ranged_local", L"ranges.bin");
    tu_www(served, ARRAY_SIZE(served), L"ranges.bin");
    tu_file_url(f.remote, ARRAY_SIZE(f.remote), served);
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, f.remote, f.local,
                                                          ARRAY_SIZE(ranges), ranges));
    transfer_and_complete(&f, 10000);
    assert_ranges_file(f.local, L"ranges.bin", ranges, ARRAY_SIZE(ranges));
    teardown(&f);

    setup(&f, "ranged_local_beyond", L"ranges.bin");
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(f.job3, served, f.local, 1, &beyond));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    tu_assert_job_error(f.job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_INVALID_RANGE);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arguments),          cmocka_unit_test(test_ranges_in_given_order),
        cmocka_unit_test(test_many_ranges),        cmocka_unit_test(test_distant_ranges),
        cmocka_unit_test(test_to_end_of_file),     cmocka_unit_test(test_server_without_ranges),
        cmocka_unit_test(test_range_past_the_end), cmocka_unit_test(test_suspend_and_resume),
        cmocka_unit_test(test_local_source),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
