/* SPDX-License-Identifier: MIT */
/* Tests of the engine driven directly, without COM objects (src/engine/engine.c, jobs.c and
 * the engine side of notify.c): jobs, files, control operations, the job table, events. */
#include "enginetest.h"

#define MIB (1024 * 1024)
#define TIMEOUT 15000
/* slow/8m.bin comes at 2 MB/s: about 4 s, plus slack for a loaded machine. */
#define SLOW_TIMEOUT 60000
#define SLOW_SIZE (8 * MIB)

/* ---- a client of the engine's events ---- */

/* What a test's sink received, in order: a FileTransferred of file n is logged as n, a
 * JobTransferred as LOG_TRANSFERRED, a JobError as LOG_ERROR. */
#define LOG_TRANSFERRED 1000
#define LOG_ERROR 1001
#define LOG_SIZE 32

struct test_sink
{
    struct notify_sink sink;
    HANDLE destroyed; /* set by destroy: the engine let go of its last reference */
    SRWLOCK lock;
    ULONG log[LOG_SIZE]; /* lock */
    ULONG log_count;     /* lock */
    HRESULT code;        /* lock: the last JobError's code, context and file */
    BG_ERROR_CONTEXT context;
    LONG file_index;
};

/* Sinks are never reused or freed: a job that a failed test left behind may still release one
 * on the notifier thread after the next test has begun. */
static struct test_sink sinks[8];
static LONG sinks_used;

static void sink_destroy(struct notify_sink *sink)
{
    SetEvent(CONTAINING_RECORD(sink, struct test_sink, sink)->destroyed);
}

/* A new sink with one reference, the caller's. */
static struct test_sink *new_sink(void)
{
    LONG n = InterlockedIncrement(&sinks_used) - 1;
    struct test_sink *sink;

    assert_true(n < (LONG)ARRAY_SIZE(sinks));
    sink = &sinks[n];
    sink->sink.refs = 1;
    sink->sink.destroy = sink_destroy;
    sink->destroyed = CreateEventW(NULL, TRUE, FALSE, NULL);
    InitializeSRWLock(&sink->lock);
    return sink;
}

static void log_event(struct test_sink *sink, ULONG entry)
{
    if (sink->log_count < LOG_SIZE)
        sink->log[sink->log_count] = entry;
    sink->log_count++;
}

/* engine_events.deliver: as the COM layer does, FileTransferred first, then the job's event;
 * every TRANSFERRED/ERROR is taken. */
static void deliver(struct ejob *job, struct notify_sink *notify_sink,
                    struct notify_delivery *delivery)
{
    struct test_sink *sink;

    if (!notify_sink || notify_sink->destroy != sink_destroy)
        return;
    sink = CONTAINING_RECORD(notify_sink, struct test_sink, sink);
    AcquireSRWLockExclusive(&sink->lock);
    for (ULONG i = 0; i < delivery->file_count; i++)
        log_event(sink, delivery->files[i]);
    if (delivery->events & NOTIFY_EVENT_TRANSFERRED)
        log_event(sink, LOG_TRANSFERRED);
    if (delivery->events & NOTIFY_EVENT_ERROR)
    {
        log_event(sink, LOG_ERROR);
        sink->code = delivery->code;
        sink->context = delivery->context;
        sink->file_index = delivery->file_index;
    }
    ReleaseSRWLockExclusive(&sink->lock);
    delivery->delivered |= delivery->events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
}

static const struct engine_events events = {deliver};

/* Registers a new sink for the job's events (and FileTransferred) and hands the test's
 * reference to the job: destroy runs once the job lets go. */
static struct test_sink *register_sink(struct ejob *job)
{
    struct test_sink *sink = new_sink();

    AcquireSRWLockExclusive(&job->lock);
    job->notify_flags |= BG_NOTIFY_FILE_TRANSFERRED;
    ReleaseSRWLockExclusive(&job->lock);
    assert_hr(S_OK, notify_set_sink(job, &sink->sink));
    /* The job's reference, and the notifier's while it delivers an event that was due (a sink
     * registered after the job's state event hears of it at once). */
    assert_in_range(sink->sink.refs, 2, 3);
    notify_sink_release(&sink->sink);
    return sink;
}

/* Polls until the sink has logged `count` entries; fails after timeout_ms. */
static void wait_log(struct test_sink *sink, ULONG count, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    ULONG now;

    for (;;)
    {
        AcquireSRWLockShared(&sink->lock);
        now = sink->log_count;
        ReleaseSRWLockShared(&sink->lock);
        if (now >= count)
            return;
        if (GetTickCount64() > deadline)
            fail_msg("the sink received %lu events in %lu ms, expected %lu", now, timeout_ms,
                     count);
        Sleep(10);
    }
}

/* Waits until the job has let go of the sink, then checks everything it received. */
static void check_log(struct test_sink *sink, const ULONG *expected, ULONG count)
{
    if (WaitForSingleObject(sink->destroyed, TIMEOUT))
        fail_msg("the sink was not released within %u ms of the job becoming final", TIMEOUT);
    /* No delivery runs once the sink is gone: the log is complete. */
    if (sink->log_count != count)
        fail_msg("the sink received %lu events, expected %lu", sink->log_count, count);
    for (ULONG i = 0; i < count; i++)
    {
        if (sink->log[i] != expected[i])
            fail_msg("event %lu is %lu, expected %lu (files are their index, JobTransferred "
                     "%u, JobError %u)",
                     i, sink->log[i], expected[i], LOG_TRANSFERRED, LOG_ERROR);
    }
}

/* ---- helpers ---- */

/* Is the job in the table? Checked with both engine_find_job and engine_enum_jobs, which must
 * agree. */
static BOOL in_table(struct ejob *job)
{
    struct ejob *found = engine_find_job(&job->id), **jobs;
    BOOL listed = FALSE;
    ULONG count;

    if (found)
    {
        assert_ptr_equal(job, found);
        ejob_release(found);
    }
    assert_hr(S_OK, engine_enum_jobs(&jobs, &count));
    for (ULONG i = 0; i < count; i++)
    {
        listed |= jobs[i] == job;
        ejob_release(jobs[i]);
    }
    if (count)
        assert_non_null(jobs);
    else
        assert_null(jobs);
    HeapFree(GetProcessHeap(), 0, jobs);
    if (listed != (found != NULL))
        fail_msg("engine_find_job %s the job but engine_enum_jobs %s it",
                 found ? "finds" : "does not find", listed ? "lists" : "does not list");
    return listed;
}

/* The file's temporary file name, read under the job's lock. */
static void temp_name(struct ejob *job, ULONG index, WCHAR *out, size_t size)
{
    AcquireSRWLockShared(&job->lock);
    assert_non_null(job->files[index]->temp);
    swprintf(out, size, L"%ls", job->files[index]->temp);
    ReleaseSRWLockShared(&job->lock);
}

static void check_progress(struct ejob *job, UINT64 bytes, ULONG files)
{
    BG_JOB_PROGRESS p = et_progress(job);

    if (p.BytesTotal != bytes || p.BytesTransferred != bytes || p.FilesTotal != files ||
        p.FilesTransferred != files)
        fail_msg("progress %llu/%llu bytes, %lu/%lu files; expected %llu bytes, %lu files",
                 (unsigned long long)p.BytesTransferred, (unsigned long long)p.BytesTotal,
                 p.FilesTransferred, p.FilesTotal, (unsigned long long)bytes, files);
}

static int setup_group(void **state)
{
    engine_set_events(&events);
    return 0;
}

/* ---- tests ---- */

static void engine_transfers_local_files(void **state)
{
    WCHAR dir[MAX_PATH], source[2][MAX_PATH], local[2][MAX_PATH], url[MAX_PATH * 4];
    BG_FILE_INFO infos[2];
    static const ULONG expected[] = {0, 1, LOG_TRANSFERRED};
    struct test_sink *sink;
    struct ejob *job;

    tu_scratch("engine_local", dir, ARRAY_SIZE(dir));
    tu_path(source[0], MAX_PATH, dir, L"source0.bin");
    tu_path(source[1], MAX_PATH, dir, L"source 1.bin");
    tu_path(local[0], MAX_PATH, dir, L"copy0.bin");
    tu_path(local[1], MAX_PATH, dir, L"copy1.bin");
    tu_write_seeded_file(source[0], 3 * MIB, 1);
    tu_write_seeded_file(source[1], 12345, 2);
    /* One source as a plain path, the other as a file:// URL. */
    tu_file_url(url, ARRAY_SIZE(url), source[1]);
    infos[0].RemoteName = source[0];
    infos[0].LocalName = local[0];
    infos[1].RemoteName = url;
    infos[1].LocalName = local[1];

    job = et_job();
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    assert_true(in_table(job));
    sink = register_sink(job);
    assert_hr(S_OK, ejob_add_files(job, 2, infos));
    /* The temporary files are made when the transfer starts. */
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);

    check_progress(job, 3 * MIB + 12345, 2);
    assert_int_equal(3 * MIB, et_file_progress(job, 0).BytesTransferred);
    assert_int_equal(12345, et_file_progress(job, 1).BytesTotal);
    assert_false(et_file_progress(job, 0).Completed);
    assert_false(tu_exists(local[0]));
    assert_false(tu_exists(local[1]));
    wait_log(sink, ARRAY_SIZE(expected), TIMEOUT);
    assert_true(in_table(job));

    assert_hr(S_OK, ejob_complete(job));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, et_state(job));
    assert_true(et_file_progress(job, 1).Completed);
    if (!tu_same_file(source[0], local[0]) || !tu_same_file(source[1], local[1]))
        fail_msg("the copies differ from their sources after Complete");
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_false(in_table(job));
    check_log(sink, expected, ARRAY_SIZE(expected));
    assert_hr(BG_E_INVALID_STATE, ejob_complete(job));
}

static void engine_transfers_over_http(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    static const ULONG expected[] = {0, LOG_TRANSFERRED};
    struct test_sink *sink;
    struct ejob *job;

    tu_scratch("engine_http", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    job = et_job_with_file(url, local);
    sink = register_sink(job);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    check_progress(job, 4 * MIB, 1);
    assert_false(tu_exists(local));
    assert_hr(S_OK, ejob_complete(job));
    if (!tu_same_file(www, local))
        fail_msg("%ls is missing or differs from %ls", local, www);
    check_log(sink, expected, ARRAY_SIZE(expected));
}

static void engine_missing_source_is_an_error(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH], temp[MAX_PATH];
    static const ULONG expected[] = {LOG_ERROR};
    struct test_sink *sink;
    struct ejob *job;

    tu_scratch("engine_missing", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"missing.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    job = et_job_with_file(source, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    sink = register_sink(job);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);

    AcquireSRWLockShared(&job->lock);
    assert_true(job->error.present);
    assert_hr(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), job->error.code);
    assert_int_equal(BG_ERROR_CONTEXT_REMOTE_FILE, job->error.context);
    assert_int_equal(0, job->error.file_index);
    assert_int_equal(1, job->error_count);
    ReleaseSRWLockShared(&job->lock);
    wait_log(sink, 1, TIMEOUT);
    assert_hr(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), sink->code);
    assert_int_equal(BG_ERROR_CONTEXT_REMOTE_FILE, sink->context);
    assert_int_equal(0, sink->file_index);

    assert_true(tu_exists(temp));
    assert_hr(S_OK, ejob_cancel(job));
    assert_int_equal(BG_JOB_STATE_CANCELLED, et_state(job));
    assert_false(tu_exists(temp));
    assert_false(tu_exists(local));
    assert_false(in_table(job));
    check_log(sink, expected, ARRAY_SIZE(expected));
}

/* Makes the scratch folder `name` (MAX_PATH `dir`) with a file source.bin of `size` bytes:
 * `source` and `local` (MAX_PATH each) get its path and that of copy.bin beside it. */
static void scratch_source(const char *name, DWORD size, WCHAR *dir, WCHAR *source, WCHAR *local)
{
    tu_scratch(name, dir, MAX_PATH);
    tu_path(source, MAX_PATH, dir, L"source.bin");
    tu_path(local, MAX_PATH, dir, L"copy.bin");
    tu_write_file(source, size);
}

static void engine_control_codes(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH], temp[MAX_PATH];
    BG_FILE_INFO info;
    struct test_sink *sink;
    struct ejob *job;

    scratch_source("engine_codes", 1000, dir, source, local);
    info.RemoteName = source;
    info.LocalName = local;

    /* Nothing to do: Resume refuses, Suspend of a suspended job is no error. */
    job = et_job();
    assert_hr(BG_E_EMPTY, ejob_resume(job));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    assert_hr(S_OK, ejob_suspend(job));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));

    /* A transferred job has nothing left to do either. */
    assert_hr(S_OK, ejob_add_files(job, 1, &info));
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(BG_E_EMPTY, ejob_resume(job));
    assert_hr(S_OK, ejob_suspend(job));
    assert_int_equal(BG_JOB_STATE_TRANSFERRED, et_state(job));

    /* Cancel deletes the temporary file and never touches the destination. */
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    assert_true(tu_exists(temp));
    assert_hr(S_OK, ejob_cancel(job));
    assert_int_equal(BG_JOB_STATE_CANCELLED, et_state(job));
    assert_false(tu_exists(temp));
    assert_false(tu_exists(local));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));

    /* After a final state every control operation answers BG_E_INVALID_STATE. */
    assert_hr(BG_E_INVALID_STATE, ejob_resume(job));
    assert_hr(BG_E_INVALID_STATE, ejob_suspend(job));
    assert_hr(BG_E_INVALID_STATE, ejob_cancel(job));
    assert_hr(BG_E_INVALID_STATE, ejob_complete(job));
    assert_hr(BG_E_INVALID_STATE, ejob_add_files(job, 1, &info));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    sink = new_sink();
    assert_hr(BG_E_INVALID_STATE, notify_set_sink(job, &sink->sink));
    assert_int_equal(1, sink->sink.refs);
    assert_int_equal(BG_JOB_STATE_CANCELLED, et_state(job));
    AcquireSRWLockShared(&job->lock);
    assert_int_equal(1, job->file_count);
    ReleaseSRWLockShared(&job->lock);

    /* Complete is final too. */
    job = et_job();
    assert_hr(S_OK, ejob_complete(job));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, et_state(job));
    assert_hr(BG_E_INVALID_STATE, ejob_resume(job));
    assert_hr(BG_E_INVALID_STATE, ejob_suspend(job));
    assert_hr(BG_E_INVALID_STATE, ejob_cancel(job));
}

static void engine_partial_complete(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH], temp[MAX_PATH];
    struct ejob *job;

    scratch_source("engine_partial", 1000, dir, source, local);
    job = et_job_with_file(source, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    /* Never resumed: nothing of the file is there, so Complete leaves no file behind. */
    assert_hr(BG_S_PARTIAL_COMPLETE, ejob_complete(job));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, et_state(job));
    assert_false(tu_exists(local));
    assert_false(tu_exists(temp));
    assert_false(et_file_progress(job, 0).Completed);
    assert_false(in_table(job));
}

static void engine_table_follows_jobs(void **state)
{
    struct ejob *first, *second, *third, **jobs;
    ULONG count, at[3] = {~0u, ~0u, ~0u};

    first = et_job();
    second = et_job();
    third = et_job();
    assert_false(IsEqualGUID(&first->id, &second->id));
    /* New jobs wait for the store's next batch, which holds a reference until it is written. */
    store_flush();

    /* The snapshot lists live jobs in creation order, one reference each. */
    assert_hr(S_OK, engine_enum_jobs(&jobs, &count));
    for (ULONG i = 0; i < count; i++)
    {
        if (jobs[i] == first)
            at[0] = i;
        else if (jobs[i] == second)
            at[1] = i;
        else if (jobs[i] == third)
            at[2] = i;
    }
    if (at[0] == ~0u || at[1] == ~0u || at[2] == ~0u)
        fail_msg("engine_enum_jobs misses a job (%lu jobs listed)", count);
    assert_true(at[0] < at[1] && at[1] < at[2]);
    /* The table's, the test's and the snapshot's. */
    assert_int_equal(3, second->refs);
    for (ULONG i = 0; i < count; i++)
        ejob_release(jobs[i]);
    HeapFree(GetProcessHeap(), 0, jobs);

    assert_hr(S_OK, ejob_cancel(second));
    assert_false(in_table(second));
    assert_true(in_table(first));
    assert_true(in_table(third));
    assert_hr(S_OK, ejob_complete(first));
    assert_false(in_table(first));
    assert_true(in_table(third));
    assert_null(engine_find_job(&first->id));

    /* Forgetting a job that is not in the table changes nothing. */
    engine_forget_job(first);
    assert_true(in_table(third));
}

/* Enough jobs to make the table grow several times. */
#define MANY_JOBS 40

static void engine_table_grows(void **state)
{
    struct ejob *jobs[MANY_JOBS], **listed;
    ULONG count, next = 0;

    for (int i = 0; i < MANY_JOBS; i++)
        assert_hr(S_OK, engine_create_job(L"many", BG_JOB_TYPE_DOWNLOAD, 0, &jobs[i]));
    /* Every job once, in creation order. */
    assert_hr(S_OK, engine_enum_jobs(&listed, &count));
    for (ULONG i = 0; i < count; i++)
    {
        if (next < MANY_JOBS && listed[i] == jobs[next])
            next++;
        ejob_release(listed[i]);
    }
    HeapFree(GetProcessHeap(), 0, listed);
    if (next != MANY_JOBS)
        fail_msg("engine_enum_jobs lists %lu of the %u jobs in creation order", next, MANY_JOBS);
    /* Taking jobs out of the middle keeps the others and their order. */
    for (int i = 0; i < MANY_JOBS; i += 2)
        assert_hr(S_OK, ejob_cancel(jobs[i]));
    for (int i = 0; i < MANY_JOBS; i++)
    {
        if (in_table(jobs[i]) != (i % 2))
            fail_msg("job %d is %s the table", i, i % 2 ? "missing from" : "still in");
    }
    for (int i = 1; i < MANY_JOBS; i += 2)
        assert_hr(S_OK, ejob_complete(jobs[i]));
    for (int i = 0; i < MANY_JOBS; i++)
    {
        assert_false(in_table(jobs[i]));
        ejob_release(jobs[i]);
    }
}

#define THREADS 4
#define JOBS_PER_THREAD 25

/* Creates jobs, checks each can be found, and cancels them, while other threads do the same. */
static DWORD WINAPI churn(void *arg)
{
    LONG *failures = arg;

    for (int i = 0; i < JOBS_PER_THREAD; i++)
    {
        struct ejob *job, *found;
        if (FAILED(engine_create_job(L"churn", BG_JOB_TYPE_DOWNLOAD, 0, &job)))
        {
            InterlockedIncrement(failures);
            continue;
        }
        if ((found = engine_find_job(&job->id)) != job)
            InterlockedIncrement(failures);
        if (found)
            ejob_release(found);
        if (i % 2 ? ejob_cancel(job) != S_OK : ejob_complete(job) != S_OK)
            InterlockedIncrement(failures);
        if (engine_find_job(&job->id))
            InterlockedIncrement(failures);
        ejob_release(job);
    }
    return 0;
}

static void engine_table_under_concurrency(void **state)
{
    HANDLE threads[THREADS];
    LONG failures = 0;
    struct ejob *mine = et_job(), **listed;
    ULONG count;
    BOOL seen;

    for (int i = 0; i < THREADS; i++)
    {
        threads[i] = CreateThread(NULL, 0, churn, &failures, 0, NULL);
        assert_non_null(threads[i]);
    }
    /* Meanwhile, every snapshot holds this job, and references that can be released. */
    while (WaitForMultipleObjects(THREADS, threads, TRUE, 0) == WAIT_TIMEOUT)
    {
        assert_hr(S_OK, engine_enum_jobs(&listed, &count));
        seen = FALSE;
        for (ULONG i = 0; i < count; i++)
        {
            seen |= listed[i] == mine;
            ejob_release(listed[i]);
        }
        HeapFree(GetProcessHeap(), 0, listed);
        assert_true(seen);
    }
    for (int i = 0; i < THREADS; i++)
        CloseHandle(threads[i]);
    assert_int_equal(0, failures);
    /* Only the job of this test is left of the ones it made. */
    assert_hr(S_OK, engine_enum_jobs(&listed, &count));
    for (ULONG i = 0; i < count; i++)
    {
        AcquireSRWLockShared(&listed[i]->lock);
        if (!wcscmp(listed[i]->display_name, L"churn"))
            fail_msg("a job of the threads is still in the table");
        ReleaseSRWLockShared(&listed[i]->lock);
        ejob_release(listed[i]);
    }
    HeapFree(GetProcessHeap(), 0, listed);
    assert_true(in_table(mine));
}

static void engine_new_sink_gets_the_state_event(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    static const ULONG first_expected[] = {0, LOG_TRANSFERRED};
    static const ULONG second_expected[] = {LOG_TRANSFERRED};
    struct test_sink *first, *second;
    struct ejob *job;

    scratch_source("engine_new_sink", 1000, dir, source, local);
    job = et_job_with_file(source, local);
    first = register_sink(job);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    wait_log(first, ARRAY_SIZE(first_expected), TIMEOUT);

    /* A client that registers after the event still hears of it, once; the one it replaces
     * is let go and hears nothing more. */
    second = register_sink(job);
    check_log(first, first_expected, ARRAY_SIZE(first_expected));
    wait_log(second, 1, TIMEOUT);
    assert_hr(S_OK, ejob_complete(job));
    check_log(second, second_expected, ARRAY_SIZE(second_expected));
    assert_true(tu_same_file(source, local));
}

static void engine_suspend_and_resume(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    ULONGLONG deadline = GetTickCount64() + SLOW_TIMEOUT;
    UINT64 stopped_at;
    struct ejob *job;

    tu_scratch("engine_suspend", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    tu_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    tu_www(www, ARRAY_SIZE(www), L"slow\\8m.bin");
    job = et_job_with_file(url, local);
    assert_hr(S_OK, ejob_resume(job));
    while (et_progress(job).BytesTransferred < MIB)
    {
        if (et_state(job) != BG_JOB_STATE_QUEUED && et_state(job) != BG_JOB_STATE_TRANSFERRING)
            fail_msg("the job went %s before its first MiB", tu_state_name(et_state(job)));
        if (GetTickCount64() > deadline)
            fail_msg("no MiB arrived within %u ms", SLOW_TIMEOUT);
        Sleep(10);
    }
    assert_hr(S_OK, ejob_suspend(job));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    et_wait_idle(job, TIMEOUT);
    /* With no worker, the count cannot move. */
    stopped_at = et_progress(job).BytesTransferred;
    assert_true(stopped_at < SLOW_SIZE);
    assert_int_equal(stopped_at, et_file_progress(job, 0).BytesTransferred);
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    check_progress(job, SLOW_SIZE, 1);
    assert_hr(S_OK, ejob_complete(job));
    if (!tu_same_file(www, local))
        fail_msg("%ls differs from slow/8m.bin after Suspend and Resume", local);
}

static void engine_complete_keeps_the_job_when_a_rename_fails(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH], temp[MAX_PATH];
    struct ejob *job;
    HRESULT hr;

    scratch_source("engine_rename", 5000, dir, source, local);
    job = et_job_with_file(source, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);

    /* A folder appeared at the local name since AddFile: the rename cannot replace it. As in
     * BITS, the job stays as it was, so that Complete can be tried again (or Cancel). */
    assert_true(CreateDirectoryW(local, NULL));
    hr = ejob_complete(job);
    if (SUCCEEDED(hr))
        fail_msg("Complete answered 0x%08lx with a folder at the local name", (unsigned long)hr);
    assert_int_equal(BG_JOB_STATE_TRANSFERRED, et_state(job));
    assert_true(in_table(job));
    assert_true(tu_exists(temp));
    assert_false(et_file_progress(job, 0).Completed);

    assert_true(RemoveDirectoryW(local));
    assert_hr(S_OK, ejob_complete(job));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, et_state(job));
    assert_true(tu_same_file(source, local));
    assert_false(tu_exists(temp));
    assert_false(in_table(job));
}

/* Opens path with no sharing at all: the local transport's open fails with
 * ERROR_SHARING_VIOLATION, a transient failure, until the handle is closed. */
static HANDLE lock_file(const WCHAR *path)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);

    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", path, GetLastError());
    return file;
}

/* A job copying `source` (whose handle the test holds without sharing, in *locked) to `local`,
 * retried after one second. */
static struct ejob *job_with_locked_source(const WCHAR *source, const WCHAR *local, HANDLE *locked)
{
    struct ejob *job;

    *locked = lock_file(source);
    job = et_job_with_file(source, local);
    AcquireSRWLockExclusive(&job->lock);
    job->min_retry_delay = 1;
    ReleaseSRWLockExclusive(&job->lock);
    return job;
}

static void engine_transient_error_is_retried(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    struct ejob *job;
    HANDLE locked;

    scratch_source("engine_transient", 5000, dir, source, local);
    job = job_with_locked_source(source, local, &locked);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, TIMEOUT);
    AcquireSRWLockShared(&job->lock);
    assert_true(job->error.present);
    assert_hr(HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION), job->error.code);
    assert_int_equal(BG_ERROR_CONTEXT_REMOTE_FILE, job->error.context);
    ReleaseSRWLockShared(&job->lock);

    /* The scheduler tries again after the minimum retry delay, and the source is free now. */
    CloseHandle(locked);
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    check_progress(job, 5000, 1);
    AcquireSRWLockShared(&job->lock);
    assert_false(job->error.present);
    assert_true(job->error_count >= 1);
    ReleaseSRWLockShared(&job->lock);

    /* Suspend takes a job out of TRANSIENT_ERROR, and its pending retry with it. */
    assert_hr(S_OK, ejob_complete(job));
    assert_true(tu_same_file(source, local));
    job = job_with_locked_source(source, local, &locked);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, TIMEOUT);
    assert_hr(S_OK, ejob_suspend(job));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    CloseHandle(locked);
    et_wait_idle(job, TIMEOUT);
    assert_int_equal(0, et_progress(job).BytesTransferred);
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
}

static void engine_no_progress_timeout_ends_in_error(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    static const ULONG expected[] = {LOG_ERROR};
    struct test_sink *sink;
    struct ejob *job;
    HANDLE locked;

    scratch_source("engine_no_progress", 5000, dir, source, local);
    job = job_with_locked_source(source, local, &locked);
    AcquireSRWLockExclusive(&job->lock);
    job->no_progress_timeout = 3;
    ReleaseSRWLockExclusive(&job->lock);
    sink = register_sink(job);
    assert_hr(S_OK, ejob_resume(job));

    /* Retried while the next try falls within the timeout, then ERROR, and JobError once. */
    et_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    CloseHandle(locked);
    AcquireSRWLockShared(&job->lock);
    assert_hr(HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION), job->error.code);
    assert_true(job->error_count >= 2);
    ReleaseSRWLockShared(&job->lock);
    wait_log(sink, 1, TIMEOUT);
    assert_hr(HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION), sink->code);
    assert_hr(S_OK, ejob_cancel(job));
    check_log(sink, expected, ARRAY_SIZE(expected));
}

static void engine_add_files_is_all_or_nothing(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], missing[MAX_PATH];
    BG_FILE_INFO infos[2];
    struct ejob *job;

    tu_scratch("engine_add", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"a.bin");
    tu_path(missing, ARRAY_SIZE(missing), dir, L"no such folder\\b.bin");
    job = et_job();

    infos[0].RemoteName = L"http://example.invalid/a";
    infos[0].LocalName = local;
    infos[1].RemoteName = L"http://example.invalid/b";
    infos[1].LocalName = L"relative\\b.bin";
    assert_hr(E_INVALIDARG, ejob_add_files(job, 2, infos));
    infos[1].LocalName = local;
    infos[1].RemoteName = L"ftp://example.invalid/b";
    assert_hr(E_INVALIDARG, ejob_add_files(job, 2, infos));
    infos[1].RemoteName = NULL;
    assert_hr(E_INVALIDARG, ejob_add_files(job, 2, infos));

    /* The first file's temporary file is made before the second one fails: it goes again. */
    infos[1].RemoteName = L"http://example.invalid/b";
    infos[1].LocalName = missing;
    assert_true(FAILED(ejob_add_files(job, 2, infos)));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    AcquireSRWLockShared(&job->lock);
    assert_int_equal(0, job->file_count);
    assert_int_equal(0, job->progress.FilesTotal);
    ReleaseSRWLockShared(&job->lock);

    infos[1].LocalName = local;
    /* Two files of a job never share a local name. */
    assert_hr(E_INVALIDARG, ejob_add_files(job, 2, infos));
    tu_path(missing, ARRAY_SIZE(missing), dir, L"b.bin");
    infos[1].LocalName = missing;
    assert_hr(S_OK, ejob_add_files(job, 2, infos));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    AcquireSRWLockShared(&job->lock);
    assert_int_equal(2, job->file_count);
    assert_int_equal(2, job->progress.FilesTotal);
    assert_true(job->progress.BytesTotal == BG_SIZE_UNKNOWN);
    assert_int_equal(2, job->unknown_sizes);
    ReleaseSRWLockShared(&job->lock);
}

static void tempfile_rules(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], missing[MAX_PATH], *temp = NULL, *reserved;
    struct file_identity id;
    HANDLE file;
    DWORD attrs;

    tu_scratch("engine_temp", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    /* A name in the destination's folder, BIT*.tmp, and nothing made yet. */
    assert_hr(S_OK, tempfile_reserve(local, NULL, &temp));
    assert_non_null(temp);
    assert_true(!_wcsnicmp(temp, dir, wcslen(dir)) && temp[wcslen(dir)] == '\\');
    assert_true(!wcsncmp(temp + wcslen(dir) + 1, L"BIT", 3));
    assert_int_equal(0, tu_count(dir, L"*"));
    /* Made at that name, hidden, open for writing. */
    reserved = temp;
    temp = HeapAlloc(GetProcessHeap(), 0, (wcslen(reserved) + 1) * sizeof(WCHAR));
    wcscpy(temp, reserved);
    assert_hr(S_OK, tempfile_make(&temp, &id, &file));
    assert_true(!wcscmp(reserved, temp));
    assert_true(WriteFile(file, "x", 1, &attrs, NULL));
    CloseHandle(file);
    attrs = GetFileAttributesW(temp);
    assert_true(attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_HIDDEN));
    assert_false(tu_exists(local));
    /* What is there is a leftover of this file (hidden, ours: a process that ended before its
     * record learned the file): it goes, and the name is made again. */
    assert_hr(S_OK, tempfile_make(&temp, &id, &file));
    CloseHandle(file);
    assert_true(!wcscmp(reserved, temp));
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));
    assert_int_equal(0, tu_file_size(temp));
    /* Something else there (not hidden): left alone, and another name in the same folder. */
    assert_true(SetFileAttributesW(temp, FILE_ATTRIBUTE_NORMAL));
    assert_false(GetFileAttributesW(temp) & FILE_ATTRIBUTE_HIDDEN);
    assert_hr(S_OK, tempfile_make(&temp, &id, &file));
    CloseHandle(file);
    assert_true(_wcsicmp(reserved, temp));
    assert_int_equal(2, tu_count(dir, L"BIT*.tmp"));
    /* The reserved name of a job's file that Cancel clears: only a leftover. */
    assert_hr(S_FALSE, tempfile_clear_reserved(reserved));
    assert_true(tu_exists(reserved));
    assert_hr(S_OK, tempfile_clear_reserved(temp));
    assert_false(tu_exists(temp));
    assert_hr(S_FALSE, tempfile_clear_reserved(temp));
    DeleteFileW(reserved);
    HeapFree(GetProcessHeap(), 0, reserved);
    HeapFree(GetProcessHeap(), 0, temp);

    temp = NULL;
    tu_path(missing, ARRAY_SIZE(missing), dir, L"none\\file.bin");
    assert_hr(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND), tempfile_reserve(missing, NULL, &temp));
    assert_null(temp);
    assert_hr(E_INVALIDARG, tempfile_reserve(L"file.bin", NULL, &temp));
    assert_null(temp);
    /* A local name whose folder is a file. */
    tu_write_file(local, 10);
    tu_path(missing, ARRAY_SIZE(missing), local, L"file.bin");
    assert_hr(E_INVALIDARG, tempfile_reserve(missing, NULL, &temp));
    assert_null(temp);
    /* A local name that is a folder. */
    DeleteFileW(local);
    assert_true(CreateDirectoryW(local, NULL));
    assert_hr(E_INVALIDARG, tempfile_reserve(local, NULL, &temp));
    assert_null(temp);
    RemoveDirectoryW(local);
    assert_int_equal(0, tu_count(dir, L"*"));
}

static void engine_ranges_from_local_file(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    static const BG_FILE_RANGE ranges[] = {{10, 100}, {5000, 20}, {9990, BG_LENGTH_TO_EOF}};
    static const BG_FILE_RANGE overlapping[] = {{0, 100}, {50, 100}};
    static const BG_FILE_RANGE empty[] = {{0, 0}};
    struct efile_spec spec = {0};
    BYTE all[10000], copy[200];
    DWORD read;
    HANDLE file;
    ULONG index = ~0u;
    struct ejob *job;

    tu_scratch("engine_ranges", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    tu_write_seeded_file(source, sizeof(all), 7);
    job = et_job();
    spec.remote = source;
    spec.local = local;
    spec.size_hint = DO_UNKNOWN_FILE_SIZE;
    spec.ranges = overlapping;
    spec.range_count = ARRAY_SIZE(overlapping);
    assert_hr(BG_E_OVERLAPPING_RANGES, ejob_add_file(job, &spec, &index));
    spec.ranges = empty;
    spec.range_count = ARRAY_SIZE(empty);
    assert_hr(BG_E_INVALID_RANGE, ejob_add_file(job, &spec, &index));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_int_equal(~0u, index);

    spec.ranges = ranges;
    spec.range_count = ARRAY_SIZE(ranges);
    assert_hr(S_OK, ejob_add_file(job, &spec, &index));
    assert_int_equal(0, index);
    /* A range to the end: the total is known once the source tells its size. */
    assert_true(et_file_progress(job, 0).BytesTotal == BG_SIZE_UNKNOWN);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    check_progress(job, 130, 1);
    assert_hr(S_OK, ejob_complete(job));

    file = CreateFileW(source, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(ReadFile(file, all, sizeof(all), &read, NULL) && read == sizeof(all));
    CloseHandle(file);
    file = CreateFileW(local, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(ReadFile(file, copy, sizeof(copy), &read, NULL));
    CloseHandle(file);
    assert_int_equal(130, read);
    assert_memory_equal(copy, all + 10, 100);
    assert_memory_equal(copy + 100, all + 5000, 20);
    assert_memory_equal(copy + 120, all + 9990, 10);
}

static void engine_job_defaults_and_owner(void **state)
{
    struct owner owner;
    struct ejob *job;

    assert_hr(S_OK, engine_create_job(L"timeout", BG_JOB_TYPE_DOWNLOAD, 1234, &job));
    AcquireSRWLockShared(&job->lock);
    assert_int_equal(1234, job->no_progress_timeout);
    assert_false(job->no_progress_timeout_set);
    ReleaseSRWLockShared(&job->lock);
    assert_hr(S_OK, ejob_cancel(job));
    ejob_release(job);

    job = et_job();
    assert_hr(S_OK, owner_of_caller(&owner));
    AcquireSRWLockShared(&job->lock);
    assert_int_equal(BG_JOB_STATE_SUSPENDED, job->state);
    assert_int_equal(BG_JOB_TYPE_DOWNLOAD, job->type);
    assert_int_equal(BG_JOB_PRIORITY_NORMAL, job->priority);
    assert_int_equal(BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR, job->notify_flags);
    assert_int_equal(600, job->min_retry_delay);
    assert_int_equal(1209600, job->no_progress_timeout);
    assert_int_equal(-1, job->error.file_index);
    assert_false(job->error.present);
    assert_int_equal(0, job->progress.FilesTotal);
    assert_int_equal(0, job->progress.BytesTotal);
    assert_true(!wcscmp(job->display_name, L"engine test"));
    assert_true(!wcscmp(job->description, L""));
    /* The job belongs to whoever created it. */
    assert_true(!wcscmp(job->owner.sid, owner.sid));
    assert_int_equal(owner.integrity_level, job->owner.integrity_level);
    assert_int_equal(owner.elevated, job->owner.elevated);
    assert_int_equal(EJOB_DEFAULT_MAX_DOWNLOAD_TIME, job->options.max_download_time);
    assert_int_equal(BG_JOB_PROXY_USAGE_PRECONFIG, job->options.proxy_usage);
    ReleaseSRWLockShared(&job->lock);
    owner_clear(&owner);
}

static void engine_options_copy_is_deep(void **state)
{
    struct ejob_options src, dst;
    WCHAR small[4], *block;
    SIZE_T need;

    ejob_options_init(&src);
    src.proxy_usage = BG_JOB_PROXY_USAGE_OVERRIDE;
    src.proxy_list = heap_strdup(L"proxy:8080");
    src.custom_headers = heap_strdup(L"X-Test: 1\r\n");
    src.credentials[0][0].present = TRUE;
    src.credentials[0][0].user = heap_strdup(L"user");
    src.credentials[0][0].password = heap_strdup(L"secret");
    src.client_cert.store = heap_strdup(L"MY");
    src.max_download_size = 42;

    /* A block too small is left alone, and the answer says what it must hold: every string
     * with its 0. */
    memset(small, 0x55, sizeof(small));
    need = ejob_options_copy(&dst, &src, small, ARRAY_SIZE(small));
    assert_int_equal(wcslen(L"proxy:8080") + wcslen(L"X-Test: 1\r\n") + wcslen(L"user") +
                         wcslen(L"secret") + wcslen(L"MY") + 5,
                     need);
    assert_int_equal(0x5555, small[0]);
    block = calloc(need, sizeof(WCHAR));
    assert_non_null(block);
    assert_int_equal(0, ejob_options_copy(&dst, &src, block, need));
    assert_int_equal(BG_JOB_PROXY_USAGE_OVERRIDE, dst.proxy_usage);
    assert_int_equal(42, dst.max_download_size);
    assert_true(dst.proxy_list != src.proxy_list && !wcscmp(dst.proxy_list, L"proxy:8080"));
    assert_true(dst.custom_headers != src.custom_headers &&
                !wcscmp(dst.custom_headers, L"X-Test: 1\r\n"));
    assert_true(dst.credentials[0][0].password != src.credentials[0][0].password &&
                !wcscmp(dst.credentials[0][0].password, L"secret"));
    assert_true(!wcscmp(dst.credentials[0][0].user, L"user"));
    assert_true(dst.client_cert.store != src.client_cert.store);
    assert_null(dst.proxy_bypass);
    assert_null(dst.credentials[1][4].user);

    /* The copy's strings live in the block. */
    assert_true(dst.proxy_list >= block && dst.proxy_list < block + need);
    assert_true(dst.credentials[0][0].password >= block &&
                dst.credentials[0][0].password < block + need);

    /* Clearing the source leaves the copy whole, and leaves the source at the defaults. */
    ejob_options_clear(&src);
    assert_null(src.proxy_list);
    assert_null(src.credentials[0][0].password);
    assert_int_equal(BG_JOB_PROXY_USAGE_PRECONFIG, src.proxy_usage);
    assert_int_equal(0, src.max_download_size);
    assert_true(!wcscmp(dst.proxy_list, L"proxy:8080"));
    assert_true(!wcscmp(dst.credentials[0][0].password, L"secret"));
    free(block);
}

/* Jobs queued in a row each get a worker while workers are to spare, even when the idle worker
 * woken for the first has not woken up by the time the next ones come (it still counted as
 * idle: the others waited in the queue behind its one job). First in the group, so that the
 * one idle worker is the one that ran the quick job. */
static void engine_jobs_queued_in_a_row_all_run(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH], url[MAX_PATH], name[32];
    struct ejob *quick, *slow[4];
    LONG generation[ARRAY_SIZE(slow)];
    ULONGLONG deadline;
    ULONG running;

    scratch_source("engine_in_a_row", 1000, dir, source, local);
    quick = et_job_with_file(source, local);
    assert_hr(S_OK, ejob_resume(quick));
    et_wait_state(quick, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    et_wait_idle(quick, TIMEOUT);
    Sleep(200); /* its worker goes back to sleep */

    /* Each slow job takes 4 s (8 MiB at 2 MiB/s). */
    tu_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    for (ULONG i = 0; i < ARRAY_SIZE(slow); i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"slow%lu.bin", i);
        tu_path(local, ARRAY_SIZE(local), dir, name);
        slow[i] = et_job_with_file(url, local);
        AcquireSRWLockExclusive(&slow[i]->lock);
        slow[i]->state = BG_JOB_STATE_QUEUED;
        generation[i] = ++slow[i]->generation;
        ReleaseSRWLockExclusive(&slow[i]->lock);
    }
    /* Queued as Resume queues them, back to back: faster than a woken thread wakes up. */
    for (ULONG i = 0; i < ARRAY_SIZE(slow); i++)
        engine_submit(slow[i], generation[i], BG_JOB_PRIORITY_NORMAL, 0);
    deadline = GetTickCount64() + 2000;
    do
    {
        running = 0;
        for (ULONG i = 0; i < ARRAY_SIZE(slow); i++)
            running += et_state(slow[i]) == BG_JOB_STATE_TRANSFERRING;
        if (running == ARRAY_SIZE(slow))
            break;
        Sleep(10);
    } while (GetTickCount64() < deadline);
    assert_int_equal(ARRAY_SIZE(slow), running);
    for (ULONG i = 0; i < ARRAY_SIZE(slow); i++)
        assert_hr(S_OK, ejob_cancel(slow[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(engine_jobs_queued_in_a_row_all_run, et_cleanup),
        cmocka_unit_test_teardown(engine_transfers_local_files, et_cleanup),
        cmocka_unit_test_teardown(engine_transfers_over_http, et_cleanup),
        cmocka_unit_test_teardown(engine_missing_source_is_an_error, et_cleanup),
        cmocka_unit_test_teardown(engine_control_codes, et_cleanup),
        cmocka_unit_test_teardown(engine_partial_complete, et_cleanup),
        cmocka_unit_test_teardown(engine_table_follows_jobs, et_cleanup),
        cmocka_unit_test(engine_table_grows),
        cmocka_unit_test_teardown(engine_table_under_concurrency, et_cleanup),
        cmocka_unit_test_teardown(engine_new_sink_gets_the_state_event, et_cleanup),
        cmocka_unit_test_teardown(engine_suspend_and_resume, et_cleanup),
        cmocka_unit_test_teardown(engine_complete_keeps_the_job_when_a_rename_fails, et_cleanup),
        cmocka_unit_test_teardown(engine_transient_error_is_retried, et_cleanup),
        cmocka_unit_test_teardown(engine_no_progress_timeout_ends_in_error, et_cleanup),
        cmocka_unit_test_teardown(engine_add_files_is_all_or_nothing, et_cleanup),
        cmocka_unit_test_teardown(tempfile_rules, et_cleanup),
        cmocka_unit_test_teardown(engine_ranges_from_local_file, et_cleanup),
        cmocka_unit_test_teardown(engine_job_defaults_and_owner, et_cleanup),
        cmocka_unit_test(engine_options_copy_is_deep),
    };

    return cmocka_run_group_tests(tests, setup_group, NULL);
}
