/* SPDX-License-Identifier: MIT */
/* The COM file object: names, progress, the temporary file, ranges, QueryInterface and gaps. */
#include "testutil.h"

#define HELLO_SIZE 14 /* "hello, OpenDO\n" */
#define URL_MAX 2200  /* the longest remote name */

struct fixture
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    IBackgroundCopyFile *file;
    WCHAR dir[MAX_PATH];
    WCHAR remote[MAX_PATH];
    WCHAR local[MAX_PATH];
};

/* A job with hello.txt (not started) and its file object. */
static void setup(struct fixture *f, const char *scratch)
{
    f->manager = tu_manager();
    tu_scratch(scratch, f->dir, ARRAY_SIZE(f->dir));
    tu_url(f->remote, ARRAY_SIZE(f->remote), L"hello.txt");
    tu_path(f->local, ARRAY_SIZE(f->local), f->dir, L"hello.txt");
    f->job = tu_job_with_file(f->manager, f->remote, f->local);
    f->file = tu_job_file(f->job, 0);
}

static void teardown(struct fixture *f)
{
    IBackgroundCopyFile_Release(f->file);
    tu_cancel_release(f->job);
    IBackgroundCopyManager_Release(f->manager);
    tu_remove_tree(f->dir);
}

static WCHAR *temporary_name(IBackgroundCopyFile *file)
{
    IBackgroundCopyFile3 *file3;
    LPWSTR name = NULL;

    assert_hr(S_OK,
              IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile3, (void **)&file3));
    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(file3, &name));
    assert_non_null(name);
    IBackgroundCopyFile3_Release(file3);
    return name;
}

static void test_names(void **state)
{
    struct fixture f;
    LPWSTR name;

    setup(&f, "file_names");
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(f.remote, name);
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(f.file, &name));
    assert_cotask_str(f.local, name);
    /* Each call returns a fresh copy. */
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(f.file, &name));
    assert_cotask_str(f.local, name);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile_GetRemoteName(f.file, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile_GetLocalName(f.file, NULL));
    teardown(&f);
}

static void test_progress_new(void **state)
{
    struct fixture f;
    BG_FILE_PROGRESS progress;

    setup(&f, "file_progress_new");
    memset(&progress, 0xcc, sizeof(progress));
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(f.file, &progress));
    assert_true(progress.BytesTotal == BG_SIZE_UNKNOWN);
    assert_int_equal(progress.BytesTransferred, 0);
    assert_false(progress.Completed);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile_GetProgress(f.file, NULL));
    teardown(&f);
}

static void test_download_and_complete(void **state)
{
    WCHAR served[MAX_PATH], *temp;
    BG_FILE_PROGRESS progress;
    BG_JOB_PROGRESS job_progress;
    ULONGLONG completion, creation;
    BG_JOB_TIMES times;
    struct fixture f;
    DWORD attrs;

    setup(&f, "file_download");
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    temp = temporary_name(f.file);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);

    /* Transferred, not yet completed: the bytes are in the hidden temporary file only. */
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(f.file, &progress));
    assert_int_equal(progress.BytesTotal, HELLO_SIZE);
    assert_int_equal(progress.BytesTransferred, HELLO_SIZE);
    assert_false(progress.Completed);
    assert_false(tu_exists(f.local));
    attrs = GetFileAttributesW(temp);
    assert_true(attrs != INVALID_FILE_ATTRIBUTES);
    assert_true(attrs & FILE_ATTRIBUTE_HIDDEN);
    assert_true(tu_same_file(temp, served));

    /* The job records when it got there. */
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(f.job, &times));
    completion = ((ULONGLONG)times.TransferCompletionTime.dwHighDateTime << 32) |
                 times.TransferCompletionTime.dwLowDateTime;
    creation =
        ((ULONGLONG)times.CreationTime.dwHighDateTime << 32) | times.CreationTime.dwLowDateTime;
    assert_true(completion >= creation);

    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(f.file, &progress));
    assert_int_equal(progress.BytesTotal, HELLO_SIZE);
    assert_int_equal(progress.BytesTransferred, HELLO_SIZE);
    assert_true(progress.Completed);
    assert_true(tu_same_file(f.local, served));
    assert_false(tu_exists(temp));
    assert_int_equal(tu_count(f.dir, L"*"), 1);

    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(f.job, &job_progress));
    assert_int_equal(job_progress.BytesTotal, HELLO_SIZE);
    assert_int_equal(job_progress.BytesTransferred, HELLO_SIZE);
    assert_int_equal(job_progress.FilesTotal, 1);
    assert_int_equal(job_progress.FilesTransferred, 1);

    CoTaskMemFree(temp);
    teardown(&f);
}

static void test_temporary_name(void **state)
{
    IBackgroundCopyFile3 *file3;
    WCHAR dir_prefix[MAX_PATH], *temp;
    struct fixture f;
    DWORD attrs;

    setup(&f, "file_temporary");
    temp = temporary_name(f.file);

    /* A name directly in the destination folder, where the file is made when its transfer
     * starts: nothing is there yet. */
    swprintf(dir_prefix, ARRAY_SIZE(dir_prefix), L"%ls\\", f.dir);
    assert_int_equal(_wcsnicmp(temp, dir_prefix, wcslen(dir_prefix)), 0);
    assert_null(wcschr(temp + wcslen(dir_prefix), L'\\'));
    assert_true(_wcsicmp(temp, f.local));
    attrs = GetFileAttributesW(temp);
    assert_true(attrs == INVALID_FILE_ATTRIBUTES);

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IBackgroundCopyFile3,
                                                       (void **)&file3));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile3_GetTemporaryName(file3, NULL));
    IBackgroundCopyFile3_Release(file3);

    /* The transfer makes it there, hidden, and Cancel removes it. */
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    attrs = GetFileAttributesW(temp);
    assert_true(attrs != INVALID_FILE_ATTRIBUTES);
    assert_true(attrs & FILE_ATTRIBUTE_HIDDEN);
    assert_false(attrs & FILE_ATTRIBUTE_DIRECTORY);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_false(tu_exists(temp));
    assert_int_equal(tu_count(f.dir, L"*"), 0);

    CoTaskMemFree(temp);
    teardown(&f);
}

static void test_file_ranges(void **state)
{
    IBackgroundCopyFile2 *file2;
    BG_FILE_RANGE *ranges;
    struct fixture f;
    DWORD count;

    setup(&f, "file_ranges");
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IBackgroundCopyFile2,
                                                       (void **)&file2));
    count = 99;
    ranges = (void *)0xdeadbeef;
    assert_hr(S_FALSE, IBackgroundCopyFile2_GetFileRanges(file2, &count, &ranges));
    assert_int_equal(count, 0);
    assert_null(ranges);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_GetFileRanges(file2, NULL, &ranges));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_GetFileRanges(file2, &count, NULL));
    IBackgroundCopyFile2_Release(file2);
    teardown(&f);
}

static void test_query_interface(void **state)
{
    static const IID *const iids[] = {
        &IID_IUnknown,
        &IID_IBackgroundCopyFile,
        &IID_IBackgroundCopyFile2,
        &IID_IBackgroundCopyFile3,
        &IID_IBackgroundCopyFile4,
        &IID_IBackgroundCopyFile5,
        &IID_IDeliveryOptimizationFile,
        &IID_IDeliveryOptimizationFile2,
    };
    static const IID *const refused[] = {
        &IID_IBackgroundCopyJob,
        &IID_IDeliveryOptimizationJob,
        &IID_IBackgroundCopyError,
        &IID_IDispatch,
    };
    IUnknown *identity, *iface, *unknown, *back;
    IMarshal *marshal;
    struct fixture f;
    ULONG base;
    void *out;

    setup(&f, "file_qi");
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IUnknown, (void **)&identity));
    base = tu_refcount(f.file);
    for (size_t i = 0; i < ARRAY_SIZE(iids); i++)
    {
        iface = NULL;
        assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, iids[i], (void **)&iface));
        assert_non_null(iface);
        assert_int_equal(tu_refcount(f.file), base + 1);
        IUnknown_AddRef(iface);
        assert_int_equal(tu_refcount(f.file), base + 2);
        IUnknown_Release(iface);
        assert_hr(S_OK, IUnknown_QueryInterface(iface, &IID_IUnknown, (void **)&unknown));
        assert_ptr_equal(unknown, identity);
        IUnknown_Release(unknown);
        for (size_t j = 0; j < ARRAY_SIZE(iids); j++)
        {
            assert_hr(S_OK, IUnknown_QueryInterface(iface, iids[j], (void **)&back));
            IUnknown_Release(back);
        }
        IUnknown_Release(iface);
        assert_int_equal(tu_refcount(f.file), base);
    }
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
    {
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IBackgroundCopyFile_QueryInterface(f.file, refused[i], &out));
        assert_null(out);
    }
    assert_hr(E_POINTER, IBackgroundCopyFile_QueryInterface(f.file, &IID_IUnknown, NULL));
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(f.file, &IID_IMarshal, (void **)&marshal));
    assert_hr(S_OK, IMarshal_QueryInterface(marshal, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, identity);
    IUnknown_Release(unknown);
    IMarshal_Release(marshal);
    IUnknown_Release(identity);
    teardown(&f);
}

static void test_file_outlives_job(void **state)
{
    struct fixture f;
    LPWSTR name;

    setup(&f, "file_outlives");
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    IBackgroundCopyJob_Release(f.job);
    f.job = NULL;
    IBackgroundCopyManager_Release(f.manager);
    f.manager = tu_manager();
    /* The file object keeps what it needs of the job. */
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(f.file, &name));
    assert_cotask_str(f.local, name);
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(f.remote, name);
    teardown(&f);
}

/* ---- ranges, remote names, File3 to File5 ---- */

static IBackgroundCopyFile2 *file2_of(IBackgroundCopyFile *file)
{
    IBackgroundCopyFile2 *file2;

    assert_hr(S_OK,
              IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2, (void **)&file2));
    return file2;
}

static void test_file_ranges_copy(void **state)
{
    BG_FILE_RANGE given[] = {{900, 100}, {100, 50}, {2000, BG_LENGTH_TO_EOF}};
    IBackgroundCopyFile *file;
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyFile2 *file2;
    BG_FILE_RANGE *ranges, *again;
    WCHAR local[MAX_PATH];
    struct fixture f;
    DWORD count;

    setup(&f, "file_ranges_copy");
    /* File 0 has f.local; two files of a job never share a local name. */
    tu_path(local, ARRAY_SIZE(local), f.dir, L"ranges.bin");
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(f.job, &IID_IBackgroundCopyJob3, (void **)&job3));
    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(job3, f.remote, local, ARRAY_SIZE(given),
                                                          given));
    IBackgroundCopyJob3_Release(job3);
    file = tu_job_file(f.job, 1);
    file2 = file2_of(file);
    IBackgroundCopyFile_Release(file);
    /* [in,out] count: what comes in does not matter. */
    count = 1;
    ranges = NULL;
    assert_hr(S_OK, IBackgroundCopyFile2_GetFileRanges(file2, &count, &ranges));
    assert_int_equal(count, ARRAY_SIZE(given));
    assert_non_null(ranges);
    assert_memory_equal(ranges, given, sizeof(given));
    /* A fresh copy each time, the caller's to free. */
    assert_hr(S_OK, IBackgroundCopyFile2_GetFileRanges(file2, &count, &again));
    assert_ptr_not_equal(ranges, again);
    ranges[0].Length = 1;
    assert_int_equal(again[0].Length, 100);
    CoTaskMemFree(ranges);
    CoTaskMemFree(again);
    IBackgroundCopyFile2_Release(file2);
    teardown(&f);
}

static void test_set_remote_name(void **state)
{
    WCHAR served[MAX_PATH], missing[MAX_PATH], long_url[URL_MAX + 16];
    IBackgroundCopyFile2 *file2;
    struct fixture f;
    LPWSTR name;
    size_t len;

    setup(&f, "file_set_remote");
    file2 = file2_of(f.file);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_SetRemoteName(file2, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_SetRemoteName(file2, L""));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_SetRemoteName(file2, L"not a url"));
    /* 2,200 characters at most. */
    tu_url(long_url, ARRAY_SIZE(long_url), L"hello.txt?");
    for (len = wcslen(long_url); len < URL_MAX + 1; len++)
        long_url[len] = L'a';
    long_url[len] = 0;
    assert_hr(E_INVALIDARG, IBackgroundCopyFile2_SetRemoteName(file2, long_url));
    long_url[URL_MAX] = 0;
    assert_hr(S_OK, IBackgroundCopyFile2_SetRemoteName(file2, long_url));
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(long_url, name);

    /* A file that failed is fetched from its new name on Resume. */
    tu_url(missing, ARRAY_SIZE(missing), L"status/404");
    assert_hr(S_OK, IBackgroundCopyFile2_SetRemoteName(file2, missing));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    tu_assert_job_error(f.job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_FROM_STATUS(404));
    assert_hr(S_OK, IBackgroundCopyFile2_SetRemoteName(file2, f.remote));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);

    /* A finished file stays as it is: the new name is only recorded. */
    tu_url(served, ARRAY_SIZE(served), L"4m.bin");
    assert_hr(S_OK, IBackgroundCopyFile2_SetRemoteName(file2, served));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 0);
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(served, name);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    assert_true(tu_same_file(f.local, served));

    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyFile2_SetRemoteName(file2, f.remote));
    IBackgroundCopyFile2_Release(file2);
    teardown(&f);
}

static void test_set_remote_name_partial(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyFile2 *file2;
    struct fixture f;

    /* Half of slow/8m.bin, then the name changes to another file: its validator differs, so
     * the file starts over and ends as the new file, whole. */
    setup(&f, "file_set_remote_partial");
    IBackgroundCopyFile_Release(f.file);
    tu_cancel_release(f.job);
    tu_unique_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    f.job = tu_job_with_file(f.manager, url, f.local);
    f.file = tu_job_file(f.job, 0);
    file2 = file2_of(f.file);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_bytes(f.job, 1 << 20, 15000);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(f.job));
    tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
    assert_hr(S_OK, IBackgroundCopyFile2_SetRemoteName(file2, url));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 20000);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    assert_true(tu_same_file(f.local, served));
    IBackgroundCopyFile2_Release(file2);
    teardown(&f);
}

static void test_replace_remote_prefix(void **state)
{
    WCHAR base[MAX_PATH], other[MAX_PATH], expected[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyFile *file;
    struct fixture f;
    LPWSTR name;

    setup(&f, "file_replace_prefix");
    tu_url(base, ARRAY_SIZE(base), L"");
    tu_path(local, ARRAY_SIZE(local), f.dir, L"second.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, L"\\\\server\\share\\file.bin", local));
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(f.job, &IID_IBackgroundCopyJob3, (void **)&job3));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, NULL, L"http://x/"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, base, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, L"", L"http://x/"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, base, L""));
    /* Case-sensitive, from the start of the name only. */
    assert_hr(S_FALSE, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, L"HTTP://", L"http://a/"));
    assert_hr(S_FALSE, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, L"hello.txt", L"x"));
    /* A result that is no URL changes nothing. */
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, L"http://", L"bad"));
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(f.remote, name);

    swprintf(other, ARRAY_SIZE(other), L"http://localhost:%ls", wcschr(base + 7, L':') + 1);
    assert_hr(S_OK, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, base, other));
    swprintf(expected, ARRAY_SIZE(expected), L"%lshello.txt", other);
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(f.file, &name));
    assert_cotask_str(expected, name);
    /* The other file did not match and kept its name. */
    file = tu_job_file(f.job, 1);
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &name));
    assert_cotask_str(L"\\\\server\\share\\file.bin", name);
    IBackgroundCopyFile_Release(file);

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob3_ReplaceRemotePrefix(job3, other, base));
    IBackgroundCopyJob3_Release(job3);
    teardown(&f);
}

static IBackgroundCopyFile5 *file5_of(IBackgroundCopyFile *file)
{
    IBackgroundCopyFile5 *file5;

    assert_hr(S_OK,
              IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile5, (void **)&file5));
    return file5;
}

static void test_validation_state(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyFile5 *file5;
    BG_FILE_PROGRESS progress;
    BG_JOB_PROGRESS job_progress;
    struct fixture f;
    BOOL valid;

    setup(&f, "file_validation");
    IBackgroundCopyFile_Release(f.file);
    tu_cancel_release(f.job);
    tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
    f.job = tu_job_with_file(f.manager, url, f.local);
    f.file = tu_job_file(f.job, 0);
    file5 = file5_of(f.file);

    valid = TRUE;
    assert_hr(S_OK, IBackgroundCopyFile5_GetValidationState(file5, &valid));
    assert_false(valid);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetValidationState(file5, NULL));
    /* Only a transferred file can be judged. */
    assert_hr(E_PENDING, IBackgroundCopyFile5_SetValidationState(file5, TRUE));
    assert_hr(E_PENDING, IBackgroundCopyFile5_SetValidationState(file5, FALSE));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    assert_hr(S_OK, IBackgroundCopyFile5_SetValidationState(file5, TRUE));
    assert_hr(S_OK, IBackgroundCopyFile5_GetValidationState(file5, &valid));
    assert_true(valid);

    /* Rejected: the job goes to ERROR, the file back to zero, and Resume fetches it again. */
    assert_hr(S_OK, IBackgroundCopyFile5_SetValidationState(file5, FALSE));
    assert_hr(S_OK, IBackgroundCopyFile5_GetValidationState(file5, &valid));
    assert_false(valid);
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 1000);
    tu_assert_job_error(f.job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_VALIDATION_FAILED);
    assert_hr(S_OK, IBackgroundCopyFile5_GetProgress(file5, &progress));
    assert_int_equal(progress.BytesTransferred, 0);
    assert_int_equal(progress.BytesTotal, HELLO_SIZE);
    job_progress = tu_progress(f.job);
    assert_int_equal(job_progress.BytesTransferred, 0);
    assert_int_equal(job_progress.FilesTransferred, 0);
    assert_int_equal(tu_access_count_wait(url, 200, 1), 1);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    assert_int_equal(tu_access_count_wait(url, 200, 2), 2);
    job_progress = tu_progress(f.job);
    assert_int_equal(job_progress.BytesTransferred, HELLO_SIZE);
    assert_int_equal(job_progress.FilesTransferred, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(f.job));
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    assert_true(tu_same_file(f.local, served));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyFile5_SetValidationState(file5, TRUE));
    IBackgroundCopyFile5_Release(file5);
    teardown(&f);
}

static void test_peer_statistics(void **state)
{
    IBackgroundCopyFile5 *file5;
    UINT64 origin = 1, peers = 1;
    struct fixture f;
    BOOL from_peer = TRUE;

    setup(&f, "file_peers");
    file5 = file5_of(f.file);
    assert_hr(S_OK, IBackgroundCopyFile5_IsDownloadedFromPeer(file5, &from_peer));
    assert_false(from_peer);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_IsDownloadedFromPeer(file5, NULL));
    assert_hr(S_OK, IBackgroundCopyFile5_GetPeerDownloadStats(file5, &origin, &peers));
    assert_int_equal(origin, 0);
    assert_int_equal(peers, 0);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetPeerDownloadStats(file5, NULL, &peers));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetPeerDownloadStats(file5, &origin, NULL));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    peers = 1;
    assert_hr(S_OK, IBackgroundCopyFile5_GetPeerDownloadStats(file5, &origin, &peers));
    assert_int_equal(origin, HELLO_SIZE);
    assert_int_equal(peers, 0);
    assert_hr(S_OK, IBackgroundCopyFile5_IsDownloadedFromPeer(file5, &from_peer));
    assert_false(from_peer);
    IBackgroundCopyFile5_Release(file5);
    teardown(&f);
}

static void test_response_headers(void **state)
{
    BITS_FILE_PROPERTY_VALUE value;
    IBackgroundCopyFile5 *file5;
    WCHAR missing[MAX_PATH], local[MAX_PATH];
    struct fixture f;

    setup(&f, "file_headers");
    file5 = file5_of(f.file);
    /* Before any response: an empty block. */
    value.String = NULL;
    assert_hr(S_OK, IBackgroundCopyFile5_GetProperty(
                        file5, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, &value));
    assert_cotask_str(L"", value.String);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetProperty(
                                file5, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, NULL));
    assert_hr(BG_E_UNKNOWN_PROPERTY_ID,
              IBackgroundCopyFile5_GetProperty(file5, (BITS_FILE_PROPERTY_ID)2, &value));
    value.String = (WCHAR *)L"X-Test: 1\r\n";
    assert_hr(BG_E_READ_ONLY_PROPERTY,
              IBackgroundCopyFile5_SetProperty(file5, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS,
                                               value));
    assert_hr(BG_E_UNKNOWN_PROPERTY_ID,
              IBackgroundCopyFile5_SetProperty(file5, (BITS_FILE_PROPERTY_ID)7, value));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_TRANSFERRED, 10000);
    assert_hr(S_OK, IBackgroundCopyFile5_GetProperty(
                        file5, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, &value));
    assert_non_null(value.String);
    assert_int_equal(wcsncmp(value.String, L"HTTP/1.1 200", 12), 0);
    assert_non_null(wcsstr(value.String, L"Content-Length: 14\r\n"));
    assert_non_null(wcsstr(value.String, L"\r\n\r\n"));
    CoTaskMemFree(value.String);

    /* The latest response, whatever it was. */
    tu_url(missing, ARRAY_SIZE(missing), L"status/404");
    tu_path(local, ARRAY_SIZE(local), f.dir, L"missing.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(f.job, missing, local));
    IBackgroundCopyFile5_Release(file5);
    IBackgroundCopyFile_Release(f.file);
    f.file = tu_job_file(f.job, 1);
    file5 = file5_of(f.file);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(f.job));
    tu_wait_state(f.job, BG_JOB_STATE_ERROR, 10000);
    assert_hr(S_OK, IBackgroundCopyFile5_GetProperty(
                        file5, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, &value));
    assert_int_equal(wcsncmp(value.String, L"HTTP/1.1 404", 12), 0);
    CoTaskMemFree(value.String);
    IBackgroundCopyFile5_Release(file5);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_progress_new),
        cmocka_unit_test(test_download_and_complete),
        cmocka_unit_test(test_temporary_name),
        cmocka_unit_test(test_file_ranges),
        cmocka_unit_test(test_query_interface),
        cmocka_unit_test(test_file_outlives_job),
        cmocka_unit_test(test_file_ranges_copy),
        cmocka_unit_test(test_set_remote_name),
        cmocka_unit_test(test_set_remote_name_partial),
        cmocka_unit_test(test_replace_remote_prefix),
        cmocka_unit_test(test_validation_state),
        cmocka_unit_test(test_peer_statistics),
        cmocka_unit_test(test_response_headers),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
