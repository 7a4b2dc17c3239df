/* SPDX-License-Identifier: MIT */
/* Tests of the single-file operations of the engine (src/engine/efile.c), driven without COM:
 * remote names, ReplaceRemotePrefix, DO sinks (paths and streams), validation, readiness. */
#include "enginetest.h"
#include "core/url.h"

#define TIMEOUT 15000

/* The file's remote name (or "(null)"), copied under the job's lock. */
static void remote_of(struct ejob *job, ULONG index, WCHAR *out, size_t size)
{
    AcquireSRWLockShared(&job->lock);
    swprintf(out, size, L"%ls", job->files[index]->remote ? job->files[index]->remote : L"(null)");
    ReleaseSRWLockShared(&job->lock);
}

#define assert_remote(expected, job, index)                                                        \
    do                                                                                             \
    {                                                                                              \
        WCHAR remote_[URL_MAX_LENGTH + 200];                                                       \
        remote_of((job), (index), remote_, ARRAY_SIZE(remote_));                                   \
        if (wcscmp((expected), remote_))                                                           \
            fail_msg("%s:%d: file %lu's remote name is %ls, expected %ls", __FILE__, __LINE__,     \
                     (ULONG)(index), remote_, (const WCHAR *)(expected));                          \
    } while (0)

/* Clears ModificationTime, so that the next ejob_touch shows. */
static void clear_modification_time(struct ejob *job)
{
    AcquireSRWLockExclusive(&job->lock);
    memset(&job->times.ModificationTime, 0, sizeof(job->times.ModificationTime));
    ReleaseSRWLockExclusive(&job->lock);
}

static BOOL touched(struct ejob *job)
{
    BOOL set;

    AcquireSRWLockShared(&job->lock);
    set = job->times.ModificationTime.dwLowDateTime || job->times.ModificationTime.dwHighDateTime;
    ReleaseSRWLockShared(&job->lock);
    return set;
}

/* Adds a DO-style file (IDeliveryOptimizationJob2::AddFile): either name may be NULL. Each
 * gets an id of its own: ids are unique within a job. */
static ULONG add_do_file(struct ejob *job, const WCHAR *remote, const WCHAR *local)
{
    static LONG serial;
    WCHAR id[32];
    struct efile_spec spec = {remote, local, NULL, 0, id, DO_UNKNOWN_FILE_SIZE};
    ULONG index = ~0u;

    swprintf(id, ARRAY_SIZE(id), L"file-id-%ld", InterlockedIncrement(&serial));

    assert_hr(S_OK, ejob_add_file(job, &spec, &index));
    return index;
}

static HRESULT check_ready(struct ejob *job)
{
    HRESULT hr;

    AcquireSRWLockShared(&job->lock);
    hr = efile_check_ready(job);
    ReleaseSRWLockShared(&job->lock);
    return hr;
}

static ULONG refcount(IUnknown *object)
{
    IUnknown_AddRef(object);
    return IUnknown_Release(object);
}

/* ---- remote names ---- */

static void engine_efile_set_remote_checks(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], url[URL_MAX_LENGTH + 2];
    const WCHAR *first = L"http://example.invalid/first";
    struct ejob *job;
    size_t len;

    tu_scratch("efile_remote_checks", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    job = et_job_with_file(first, local);
    clear_modification_time(job);

    assert_hr(E_INVALIDARG, efile_set_remote(job, 0, NULL));
    assert_hr(E_INVALIDARG, efile_set_remote(job, 0, L""));
    assert_hr(E_INVALIDARG, efile_set_remote(job, 0, L"relative\\name"));
    assert_hr(E_INVALIDARG, efile_set_remote(job, 0, L"ftp://example.invalid/x"));
    assert_hr(E_INVALIDARG, efile_set_remote(job, 0, L"http://"));
    /* Longer than the 2,200 characters BITS accepts; one less is fine. */
    wcscpy(url, L"http://example.invalid/");
    len = wcslen(url);
    while (len < URL_MAX_LENGTH + 1)
        url[len++] = 'a';
    url[len] = 0;
    assert_hr(E_INVALIDARG, efile_set_remote(job, 0, url));
    assert_remote(first, job, 0);
    assert_false(touched(job));

    url[URL_MAX_LENGTH] = 0;
    assert_hr(S_OK, efile_set_remote(job, 0, url));
    assert_remote(url, job, 0);
    assert_true(touched(job));

    /* A final job keeps its names. */
    assert_hr(S_OK, ejob_cancel(job));
    assert_hr(BG_E_INVALID_STATE, efile_set_remote(job, 0, first));
    assert_remote(url, job, 0);
}

static void engine_efile_set_remote_changes_source(void **state)
{
    WCHAR dir[MAX_PATH], a[MAX_PATH], b[MAX_PATH], b_url[MAX_PATH * 4], local[MAX_PATH];
    struct ejob *job;

    tu_scratch("efile_remote_source", dir, ARRAY_SIZE(dir));
    tu_path(a, ARRAY_SIZE(a), dir, L"a.bin");
    tu_path(b, ARRAY_SIZE(b), dir, L"b.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    tu_write_seeded_file(a, 5000, 1);
    tu_write_seeded_file(b, 7000, 2);
    tu_file_url(b_url, ARRAY_SIZE(b_url), b);

    job = et_job_with_file(a, local);
    assert_hr(S_OK, efile_set_remote(job, 0, b_url));
    assert_remote(b_url, job, 0);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_int_equal(7000, et_progress(job).BytesTransferred);
    assert_hr(S_OK, ejob_complete(job));
    if (!tu_same_file(b, local))
        fail_msg("%ls does not hold the bytes of the new remote name", local);
}

static void engine_replace_remote_prefix_rules(void **state)
{
    WCHAR dir[MAX_PATH], locals[3][MAX_PATH], long_name[URL_MAX_LENGTH + 1],
        long_prefix[URL_MAX_LENGTH + 1];
    BG_FILE_INFO infos[3];
    struct ejob *job;
    size_t len;

    tu_scratch("efile_prefix", dir, ARRAY_SIZE(dir));
    for (int i = 0; i < 3; i++)
    {
        WCHAR name[16];
        swprintf(name, ARRAY_SIZE(name), L"%d.bin", i);
        tu_path(locals[i], MAX_PATH, dir, name);
        infos[i].LocalName = locals[i];
    }
    infos[0].RemoteName = L"http://a.example/x/0";
    infos[1].RemoteName = L"http://a.example/x/1";
    infos[2].RemoteName = L"http://b.example/a.example/x/2";
    job = et_job();
    assert_hr(S_OK, ejob_add_files(job, 3, infos));
    /* A DO file without a remote name is left out. */
    add_do_file(job, NULL, NULL);

    assert_hr(E_INVALIDARG, ejob_replace_remote_prefix(job, NULL, L"http://c.example/"));
    assert_hr(E_INVALIDARG, ejob_replace_remote_prefix(job, L"http://a.example/", NULL));
    assert_hr(E_INVALIDARG, ejob_replace_remote_prefix(job, L"", L"http://c.example/"));
    assert_hr(E_INVALIDARG, ejob_replace_remote_prefix(job, L"http://a.example/", L""));

    /* Nothing matches: S_FALSE, nothing changes. The match is case-sensitive and at the start
     * only. */
    clear_modification_time(job);
    assert_hr(S_FALSE, ejob_replace_remote_prefix(job, L"http://z.example/", L"http://c.example/"));
    assert_hr(S_FALSE, ejob_replace_remote_prefix(job, L"HTTP://A.EXAMPLE/", L"http://c.example/"));
    assert_hr(S_FALSE, ejob_replace_remote_prefix(job, L"a.example/", L"c.example/"));
    assert_false(touched(job));

    /* A result that is no URL refuses the whole call. */
    assert_hr(E_INVALIDARG, ejob_replace_remote_prefix(job, L"http://a.example/", L"ftp://c/"));
    assert_remote(L"http://a.example/x/0", job, 0);
    assert_remote(L"http://a.example/x/1", job, 1);
    assert_false(touched(job));

    assert_hr(S_OK, ejob_replace_remote_prefix(job, L"http://a.example/", L"https://c.example/"));
    assert_remote(L"https://c.example/x/0", job, 0);
    assert_remote(L"https://c.example/x/1", job, 1);
    assert_remote(L"http://b.example/a.example/x/2", job, 2);
    assert_remote(L"(null)", job, 3);
    assert_true(touched(job));

    /* All or nothing: a name made too long by the new prefix keeps every other name as it was.
     * File 4's name grows past 2,200 characters, file 0's does not. */
    wcscpy(long_name, L"https://c.example/");
    len = wcslen(long_name);
    while (len < URL_MAX_LENGTH - 50)
        long_name[len++] = 'n';
    long_name[len] = 0;
    add_do_file(job, long_name, NULL);
    wcscpy(long_prefix, L"https://c.example/");
    len = wcslen(long_prefix);
    while (len < 100)
        long_prefix[len++] = 'p';
    long_prefix[len] = 0;
    clear_modification_time(job);
    assert_hr(E_INVALIDARG, ejob_replace_remote_prefix(job, L"https://c.example/", long_prefix));
    assert_remote(L"https://c.example/x/0", job, 0);
    assert_remote(L"https://c.example/x/1", job, 1);
    assert_remote(long_name, job, 4);
    assert_false(touched(job));

    assert_hr(S_OK, ejob_cancel(job));
    assert_hr(BG_E_INVALID_STATE,
              ejob_replace_remote_prefix(job, L"https://c.example/", L"http://d.example/"));
    assert_remote(L"https://c.example/x/0", job, 0);
}

/* ---- DO sinks ---- */

static void engine_efile_set_local_rules(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH], other[MAX_PATH], upper[MAX_PATH],
        missing[MAX_PATH], too_long[MAX_PATH + 10];
    IStream *stream;
    struct ejob *job;
    ULONG index;

    tu_scratch("efile_set_local", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    tu_path(other, ARRAY_SIZE(other), dir, L"other.bin");
    tu_path(upper, ARRAY_SIZE(upper), dir, L"COPY.BIN");
    tu_path(missing, ARRAY_SIZE(missing), dir, L"none\\copy.bin");
    tu_write_seeded_file(source, 4321, 3);
    job = et_job();
    index = add_do_file(job, source, NULL);
    assert_int_equal(0, index);
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, check_ready(job));

    assert_hr(E_INVALIDARG, efile_set_local(job, index, L"relative.bin"));
    assert_hr(E_INVALIDARG, efile_set_local(job, index, NULL));
    wcscpy(too_long, L"Z:\\");
    for (size_t i = 3; i < MAX_PATH; i++)
        too_long[i] = 'x';
    too_long[MAX_PATH] = 0;
    assert_hr(E_INVALIDARG, efile_set_local(job, index, too_long));
    assert_hr(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND), efile_set_local(job, index, missing));
    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, check_ready(job));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));

    /* The path gives the file its temporary name (the file is made when the transfer
     * starts); the same path again changes nothing. */
    clear_modification_time(job);
    assert_hr(S_OK, efile_set_local(job, index, local));
    assert_true(touched(job));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_hr(S_OK, check_ready(job));
    assert_hr(S_OK, efile_set_local(job, index, upper));
    AcquireSRWLockShared(&job->lock);
    assert_true(!wcscmp(job->files[index]->local, local));
    assert_non_null(job->files[index]->temp);
    assert_true(job->files[index]->temp_deleted);
    ReleaseSRWLockShared(&job->lock);

    /* Another sink is refused. */
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET, efile_set_local(job, index, other));
    assert_hr(S_OK, CreateStreamOnHGlobal(NULL, TRUE, &stream));
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET, efile_set_sink(job, index, stream));
    assert_int_equal(1, refcount((IUnknown *)stream));
    IStream_Release(stream);
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, ejob_complete(job));
    if (!tu_same_file(source, local))
        fail_msg("%ls does not hold the source's bytes", local);
    assert_false(tu_exists(other));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_hr(BG_E_INVALID_STATE, efile_set_local(job, index, other));
}

static void engine_efile_stream_sink(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    ULONGLONG deadline;
    IStream *stream, *other;
    ULONG held;
    LARGE_INTEGER zero = {0};
    STATSTG stat;
    BYTE expected[6000], actual[6000];
    HANDLE file;
    DWORD read;
    ULONG got, index;
    struct ejob *job;

    tu_scratch("efile_stream", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    tu_write_seeded_file(source, sizeof(expected), 4);
    assert_hr(S_OK, CreateStreamOnHGlobal(NULL, TRUE, &stream));
    assert_hr(S_OK, CreateStreamOnHGlobal(NULL, TRUE, &other));

    /* Not et_job: the test holds the only reference besides the table's, and checks that the
     * job lets go of the stream when it goes. */
    assert_hr(S_OK, engine_create_job(L"stream", BG_JOB_TYPE_DOWNLOAD, 0, &job));
    index = add_do_file(job, source, NULL);
    assert_hr(S_OK, efile_set_sink(job, index, stream));
    /* The Global Interface Table holds the stream: how many references is COM's business. */
    held = refcount((IUnknown *)stream);
    assert_true(held > 1);
    assert_hr(S_OK, efile_set_sink(job, index, stream));
    assert_int_equal(held, refcount((IUnknown *)stream));
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET, efile_set_sink(job, index, other));
    assert_int_equal(1, refcount((IUnknown *)other));
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET, efile_set_local(job, index, local));
    assert_hr(S_OK, check_ready(job));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_int_equal(sizeof(expected), et_progress(job).BytesTransferred);
    AcquireSRWLockShared(&job->lock);
    assert_int_equal(sizeof(expected), job->files[index]->sink_position);
    ReleaseSRWLockShared(&job->lock);
    assert_hr(S_OK, IStream_Stat(stream, &stat, STATFLAG_NONAME));
    assert_int_equal(sizeof(expected), stat.cbSize.QuadPart);
    assert_hr(S_OK, IStream_Seek(stream, zero, STREAM_SEEK_SET, NULL));
    assert_hr(S_OK, IStream_Read(stream, actual, sizeof(actual), &got));
    assert_int_equal(sizeof(actual), got);
    file = CreateFileW(source, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(ReadFile(file, expected, sizeof(expected), &read, NULL));
    CloseHandle(file);
    assert_memory_equal(expected, actual, sizeof(expected));

    /* The bytes are the client's already: Complete has nothing to rename and nothing left. */
    assert_hr(S_OK, ejob_complete(job));
    assert_true(et_file_progress(job, index).Completed);
    assert_false(tu_exists(local));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_hr(BG_E_INVALID_STATE, efile_set_sink(job, index, other));
    assert_int_equal(1, refcount((IUnknown *)other));

    /* The last reference to the job takes the stream's with it (the notifier may hold the job
     * for a moment). */
    ejob_release(job);
    deadline = GetTickCount64() + TIMEOUT;
    while (refcount((IUnknown *)stream) != 1)
    {
        if (GetTickCount64() > deadline)
            fail_msg("the engine still holds the stream %u ms after the job went",
                     (unsigned)TIMEOUT);
        Sleep(10);
    }
    IStream_Release(stream);
    IStream_Release(other);
}

/* ---- readiness and validation ---- */

static void engine_efile_check_ready_codes(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    struct ejob *job;

    tu_scratch("efile_ready", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");

    /* No file: nothing is missing (Resume has its own answer, BG_E_EMPTY). */
    job = et_job();
    assert_hr(S_OK, check_ready(job));
    assert_hr(BG_E_EMPTY, ejob_resume(job));

    /* A file without a URL. */
    add_do_file(job, NULL, local);
    assert_hr(DO_E_DOWNLOAD_NO_URI, check_ready(job));
    assert_hr(DO_E_DOWNLOAD_NO_URI, ejob_resume(job));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    assert_hr(S_OK, efile_set_remote(job, 0, L"http://example.invalid/f"));
    assert_hr(S_OK, check_ready(job));

    /* A file without a sink; the first file that lacks something decides. */
    add_do_file(job, L"http://example.invalid/g", NULL);
    add_do_file(job, NULL, NULL);
    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, check_ready(job));
    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, ejob_resume(job));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    tu_path(local, ARRAY_SIZE(local), dir, L"g.bin");
    assert_hr(S_OK, efile_set_local(job, 1, local));
    assert_hr(DO_E_DOWNLOAD_NO_URI, check_ready(job));
}

static void engine_efile_invalidate(void **state)
{
    WCHAR dir[MAX_PATH], source[2][MAX_PATH], local[2][MAX_PATH];
    BG_FILE_INFO infos[2];
    BG_FILE_PROGRESS file;
    BG_JOB_PROGRESS job_progress;
    struct ejob *job;

    tu_scratch("efile_invalidate", dir, ARRAY_SIZE(dir));
    for (int i = 0; i < 2; i++)
    {
        WCHAR name[16];
        swprintf(name, ARRAY_SIZE(name), L"source%d.bin", i);
        tu_path(source[i], MAX_PATH, dir, name);
        swprintf(name, ARRAY_SIZE(name), L"copy%d.bin", i);
        tu_path(local[i], MAX_PATH, dir, name);
        tu_write_seeded_file(source[i], 1000 + 2000 * i, 10 + i);
        infos[i].RemoteName = source[i];
        infos[i].LocalName = local[i];
    }
    job = et_job();
    assert_hr(S_OK, ejob_add_files(job, 2, infos));

    /* Not transferred yet. */
    assert_hr(E_PENDING, efile_invalidate(job, 1));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    AcquireSRWLockShared(&job->lock);
    assert_false(job->error.present);
    ReleaseSRWLockShared(&job->lock);

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, efile_invalidate(job, 1));

    /* ERROR with BG_E_VALIDATION_FAILED on file 1, which is back to zero bytes. */
    assert_int_equal(BG_JOB_STATE_ERROR, et_state(job));
    AcquireSRWLockShared(&job->lock);
    assert_true(job->error.present);
    assert_hr(BG_E_VALIDATION_FAILED, job->error.code);
    assert_int_equal(BG_ERROR_CONTEXT_REMOTE_FILE, job->error.context);
    assert_int_equal(1, job->error.file_index);
    assert_int_equal(1, job->error_count);
    ReleaseSRWLockShared(&job->lock);
    file = et_file_progress(job, 1);
    assert_int_equal(0, file.BytesTransferred);
    assert_int_equal(3000, file.BytesTotal);
    assert_false(file.Completed);
    assert_int_equal(1000, et_file_progress(job, 0).BytesTransferred);
    job_progress = et_progress(job);
    assert_int_equal(1000, job_progress.BytesTransferred);
    assert_int_equal(4000, job_progress.BytesTotal);
    assert_int_equal(1, job_progress.FilesTransferred);
    assert_hr(E_PENDING, efile_invalidate(job, 1));

    /* Resume fetches the file again. */
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    job_progress = et_progress(job);
    assert_int_equal(4000, job_progress.BytesTransferred);
    assert_int_equal(2, job_progress.FilesTransferred);
    assert_hr(S_OK, ejob_complete(job));
    assert_true(tu_same_file(source[0], local[0]));
    assert_true(tu_same_file(source[1], local[1]));
    assert_hr(BG_E_INVALID_STATE, efile_invalidate(job, 0));
    efile_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(engine_efile_set_remote_checks, et_cleanup),
        cmocka_unit_test_teardown(engine_efile_set_remote_changes_source, et_cleanup),
        cmocka_unit_test_teardown(engine_replace_remote_prefix_rules, et_cleanup),
        cmocka_unit_test_teardown(engine_efile_set_local_rules, et_cleanup),
        cmocka_unit_test_teardown(engine_efile_stream_sink, et_cleanup),
        cmocka_unit_test_teardown(engine_efile_check_ready_codes, et_cleanup),
        cmocka_unit_test_teardown(engine_efile_invalidate, et_cleanup),
    };

    /* Stream sinks are kept in the Global Interface Table: the thread must be in an apartment. */
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
