/* SPDX-License-Identifier: MIT */
/* The engine's error paths, reached through its fault points (engine_fault, src/engine/engine.h):
 * allocation failures, threads that cannot start, a full disk, a failed flush. Each ends in the
 * documented state with nothing lost (the bytes on disk, the temporary files, the events) and
 * nothing leaked (no job left in the table, no module reference left).
 *
 * The engine is linked into this program (ENGINE): its scheduler and notifier are this
 * program's own, so the thread tests, which come first, start with no worker and no notifier
 * running. */
#include "enginetest.h"

#define MIB (1024 * 1024)
#define TIMEOUT 15000
/* The notifier tries a pass that could not allocate again after this (NOTIFY_RETRY_MS). */
#define NOTIFY_TIMEOUT 20000

/* ---- fault points ---- */

static const char *const fault_points[] = {
    "WRITE",       "FINISH",      "FLUSH",        "ACL",           "ALLOC_JOB",    "ALLOC_FILE",
    "ALLOC_FILES", "ALLOC_QUEUE", "ALLOC_NOTIFY", "THREAD_WORKER", "THREAD_NOTIFY"};

/* Set when an armed point has failed ("fail:<hex>:<event>"). */
static HANDLE failed;
/* A "block" fault's events: reached when a thread arrives, go to let it on. */
static HANDLE reached, go;

static void set_fault(const char *point, const char *value)
{
    char variable[64];

    snprintf(variable, sizeof(variable), "OPENDO_FAULT_%s", point);
    assert_true(SetEnvironmentVariableA(variable, value));
}

static void clear_fault(const char *point)
{
    char variable[64];

    snprintf(variable, sizeof(variable), "OPENDO_FAULT_%s", point);
    SetEnvironmentVariableA(variable, NULL);
}

/* A unique event name for this process. */
static void event_name(char *out, size_t size)
{
    static LONG serial;

    snprintf(out, size, "opendo-faults-%lu-%ld", GetCurrentProcessId(),
             InterlockedIncrement(&serial));
}

/* Arms `point` to fail with `hr` and to set `failed` each time it does. */
static void fail_at(const char *point, HRESULT hr)
{
    char name[64], value[100];

    event_name(name, sizeof(name));
    if (failed)
        CloseHandle(failed);
    failed = CreateEventA(NULL, FALSE, FALSE, name);
    assert_non_null(failed);
    snprintf(value, sizeof(value), "fail:%08lx:%s", (unsigned long)hr, name);
    set_fault(point, value);
}

/* Waits until the armed point has failed. */
static void wait_failed(const char *what)
{
    if (WaitForSingleObject(failed, TIMEOUT) != WAIT_OBJECT_0)
        fail_msg("%s never failed", what);
}

/* Arms a "block" fault at `point`. */
static void block_at(const char *point)
{
    char name[64], event[80], value[80];

    event_name(name, sizeof(name));
    snprintf(event, sizeof(event), "%s.reached", name);
    reached = CreateEventA(NULL, TRUE, FALSE, event);
    snprintf(event, sizeof(event), "%s.go", name);
    go = CreateEventA(NULL, TRUE, FALSE, event);
    assert_non_null(reached);
    assert_non_null(go);
    snprintf(value, sizeof(value), "block:%s", name);
    set_fault(point, value);
}

static void release_faults(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(fault_points); i++)
        clear_fault(fault_points[i]);
    if (go)
    {
        SetEvent(go);
        CloseHandle(go);
        CloseHandle(reached);
        go = reached = NULL;
    }
}

static int teardown(void **state)
{
    release_faults();
    return et_cleanup(state);
}

/* Nothing leaked: no job is left in the table and nothing holds the module (the table's jobs,
 * WinHTTP requests whose last callback has not come yet). */
static void assert_nothing_left(void)
{
    ULONGLONG deadline = GetTickCount64() + TIMEOUT;
    struct ejob **jobs;
    ULONG count;

    assert_hr(S_OK, engine_enum_jobs(&jobs, &count));
    for (ULONG i = 0; i < count; i++)
        ejob_release(jobs[i]);
    HeapFree(GetProcessHeap(), 0, jobs);
    if (count)
        fail_msg("%lu jobs are still in the table", count);
    while (module_in_use())
    {
        if (GetTickCount64() > deadline)
            fail_msg("the module is still in use %u ms after the last job ended", TIMEOUT);
        Sleep(10);
    }
}

/* ---- a client of the engine's events (as in test_engine.c) ---- */

#define LOG_TRANSFERRED 1000
#define LOG_SIZE 16

struct test_sink
{
    struct notify_sink sink;
    SRWLOCK lock;
    ULONG log[LOG_SIZE]; /* lock: FileTransferred of file n as n, JobTransferred */
    ULONG log_count;     /* lock */
};

/* Never freed: a job a failed test left behind may release one later. */
static struct test_sink sinks[4];
static LONG sinks_used;

static void sink_destroy(struct notify_sink *sink)
{
}

static void deliver(struct ejob *job, struct notify_sink *notify_sink,
                    struct notify_delivery *delivery)
{
    struct test_sink *sink;

    if (!notify_sink || notify_sink->destroy != sink_destroy)
        return;
    sink = CONTAINING_RECORD(notify_sink, struct test_sink, sink);
    AcquireSRWLockExclusive(&sink->lock);
    for (ULONG i = 0; i < delivery->file_count; i++)
    {
        if (sink->log_count < LOG_SIZE)
            sink->log[sink->log_count++] = delivery->files[i];
    }
    if ((delivery->events & NOTIFY_EVENT_TRANSFERRED) && sink->log_count < LOG_SIZE)
        sink->log[sink->log_count++] = LOG_TRANSFERRED;
    ReleaseSRWLockExclusive(&sink->lock);
    delivery->delivered |= delivery->events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
}

static const struct engine_events events = {deliver};

/* Registers a new sink for the job's JobTransferred and FileTransferred. */
static struct test_sink *register_sink(struct ejob *job)
{
    LONG n = InterlockedIncrement(&sinks_used) - 1;
    struct test_sink *sink;

    assert_true(n < (LONG)ARRAY_SIZE(sinks));
    sink = &sinks[n];
    sink->sink.refs = 1;
    sink->sink.destroy = sink_destroy;
    InitializeSRWLock(&sink->lock);
    AcquireSRWLockExclusive(&job->lock);
    job->notify_flags |= BG_NOTIFY_FILE_TRANSFERRED;
    ReleaseSRWLockExclusive(&job->lock);
    assert_hr(S_OK, notify_set_sink(job, &sink->sink));
    notify_sink_release(&sink->sink);
    return sink;
}

static ULONG log_count(struct test_sink *sink)
{
    ULONG count;

    AcquireSRWLockShared(&sink->lock);
    count = sink->log_count;
    ReleaseSRWLockShared(&sink->lock);
    return count;
}

/* Waits for FileTransferred of file 0 and then JobTransferred, and for nothing else. */
static void wait_file_then_job(struct test_sink *sink, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    while (log_count(sink) < 2)
    {
        if (GetTickCount64() > deadline)
            fail_msg("the sink received %lu events in %lu ms, expected 2", log_count(sink),
                     timeout_ms);
        Sleep(10);
    }
    AcquireSRWLockShared(&sink->lock);
    if (sink->log_count != 2 || sink->log[0] != 0 || sink->log[1] != LOG_TRANSFERRED)
        fail_msg("the sink received %lu events: %lu, %lu; expected FileTransferred(0), then "
                 "JobTransferred (%u)",
                 sink->log_count, sink->log[0], sink->log[1], LOG_TRANSFERRED);
    ReleaseSRWLockShared(&sink->lock);
}

/* ---- helpers ---- */

static void assert_error(struct ejob *job, HRESULT code, BG_ERROR_CONTEXT context)
{
    AcquireSRWLockShared(&job->lock);
    assert_true(job->error.present);
    if (job->error.code != code || job->error.context != context)
        fail_msg("the job's error is 0x%08lx (context %d), expected 0x%08lx (context %d)",
                 (unsigned long)job->error.code, job->error.context, (unsigned long)code, context);
    ReleaseSRWLockShared(&job->lock);
}

static ULONG file_count(struct ejob *job)
{
    ULONG count;

    AcquireSRWLockShared(&job->lock);
    count = job->file_count;
    ReleaseSRWLockShared(&job->lock);
    return count;
}

/* Completes a TRANSFERRED job and checks the file against the served one. */
static void complete_and_check(struct ejob *job, const WCHAR *local, const WCHAR *served)
{
    WCHAR www[MAX_PATH];

    assert_hr(S_OK, ejob_complete(job));
    tu_www(www, ARRAY_SIZE(www), served);
    if (!tu_same_file(www, local))
        fail_msg("%ls differs from %ls", local, www);
}

static int setup_group(void **state)
{
    engine_set_events(&events);
    return 0;
}

/* ---- threads that cannot start (these come first: no worker, no notifier runs yet) ---- */

/* A job whose worker could not start stays QUEUED, and runs once a later submit starts one. */
static void worker_start_failure_keeps_the_job(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[2][MAX_PATH];
    struct ejob *first, *second;

    tu_scratch("faults_worker", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local[0], MAX_PATH, dir, L"first.txt");
    tu_path(local[1], MAX_PATH, dir, L"second.txt");
    first = et_job_with_file(url, local[0]);
    second = et_job_with_file(url, local[1]);

    fail_at("THREAD_WORKER", E_FAIL);
    assert_hr(S_OK, ejob_resume(first));
    /* A worker left idle by an earlier test would take the job without a new thread. */
    wait_failed("the worker's start (is a worker of an earlier test still running?)");
    assert_int_equal(BG_JOB_STATE_QUEUED, et_state(first));
    assert_int_equal(0, et_progress(first).BytesTransferred);

    clear_fault("THREAD_WORKER");
    assert_hr(S_OK, ejob_resume(second));
    et_wait_state(second, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    et_wait_state(first, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    complete_and_check(first, local[0], L"hello.txt");
    complete_and_check(second, local[1], L"hello.txt");
    assert_nothing_left();
}

/* Events queued while the notifier could not start are delivered, in order, once the job's next
 * event starts it. */
/* The notifier thread starts with the first registration for events in the process, and
 * stays: a registration whose thread cannot start is refused, registers nothing, and the next
 * one starts it. This test must run first in this program, before any registration. */
static void notifier_start_failure_refuses_the_registration(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    struct test_sink *sink;
    struct ejob *job;

    tu_scratch("faults_notifier", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    job = et_job_with_file(url, local);

    fail_at("THREAD_NOTIFY", E_FAIL);
    assert_hr(E_FAIL, notify_set_cmdline(job, L"C:\\opendo-never-run.exe", NULL));
    wait_failed("the notifier's start");
    AcquireSRWLockShared(&job->lock);
    assert_null(job->notify.program);
    ReleaseSRWLockShared(&job->lock);

    clear_fault("THREAD_NOTIFY");
    sink = register_sink(job);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    wait_file_then_job(sink, TIMEOUT);
    complete_and_check(job, local, L"hello.txt");
    assert_nothing_left();
}

/* ---- allocation failures ---- */

static void job_allocation_failure(void **state)
{
    struct ejob *job = (struct ejob *)1;

    assert_nothing_left();
    fail_at("ALLOC_JOB", E_OUTOFMEMORY);
    assert_hr(E_OUTOFMEMORY, engine_create_job(L"faults", BG_JOB_TYPE_DOWNLOAD, 0, &job));
    assert_null(job);
    assert_nothing_left();
    /* The family name arms every allocation point. */
    clear_fault("ALLOC_JOB");
    fail_at("ALLOC", E_OUTOFMEMORY);
    assert_hr(E_OUTOFMEMORY, engine_create_job(L"faults", BG_JOB_TYPE_DOWNLOAD, 0, &job));
    clear_fault("ALLOC");
    job = et_job();
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    assert_hr(S_OK, ejob_cancel(job));
    assert_nothing_left();
}

/* AddFile and AddFileSet are all or nothing: a failed allocation, before or after the new
 * files' temporary files were made, leaves no file in the job and none on disk. */
static void add_file_allocation_failures(void **state)
{
    static const char *const points[] = {"ALLOC_FILE", "ALLOC_FILES"};
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[3][MAX_PATH];
    BG_FILE_INFO infos[3];
    struct ejob *job;

    tu_scratch("faults_add", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    for (int i = 0; i < 3; i++)
    {
        WCHAR name[16];

        swprintf(name, ARRAY_SIZE(name), L"file%d.txt", i);
        tu_path(local[i], MAX_PATH, dir, name);
        infos[i].RemoteName = url;
        infos[i].LocalName = local[i];
    }
    job = et_job();
    for (size_t p = 0; p < ARRAY_SIZE(points); p++)
    {
        fail_at(points[p], E_OUTOFMEMORY);
        assert_hr(E_OUTOFMEMORY, ejob_add_files(job, 3, infos));
        wait_failed(points[p]);
        clear_fault(points[p]);
        assert_int_equal(0, file_count(job));
        assert_int_equal(0, et_progress(job).FilesTotal);
        assert_int_equal(0, tu_count(dir, L"*"));
        assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    }

    assert_hr(S_OK, ejob_add_files(job, 3, infos));
    /* Temporary files are made when the transfer starts. */
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, ejob_complete(job));
    for (int i = 0; i < 3; i++)
        assert_true(tu_exists(local[i]));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_nothing_left();
}

/* Resume that cannot queue the job fails and changes nothing. */
static void resume_allocation_failure(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    struct ejob *job;

    tu_scratch("faults_resume", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    job = et_job_with_file(url, local);

    fail_at("ALLOC_QUEUE", E_OUTOFMEMORY);
    assert_hr(E_OUTOFMEMORY, ejob_resume(job));
    clear_fault("ALLOC_QUEUE");
    assert_int_equal(BG_JOB_STATE_SUSPENDED, et_state(job));
    AcquireSRWLockShared(&job->lock);
    assert_false(job->error.present);
    ReleaseSRWLockShared(&job->lock);

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    complete_and_check(job, local, L"hello.txt");
    assert_nothing_left();
}

/* A retry that cannot be queued ends in ERROR (E_OUTOFMEMORY), not in a TRANSIENT_ERROR that
 * nothing would ever retry; the bytes stay, and Resume finishes the file without copying it
 * again. */
static void retry_allocation_failure(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    struct ejob *job;

    tu_scratch("faults_retry", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    tu_write_seeded_file(source, MIB, 8);
    job = et_job_with_file(source, local);
    /* Copying the source's ACL is the step that fails, transiently. */
    AcquireSRWLockExclusive(&job->lock);
    job->file_acl_flags = BG_COPY_FILE_DACL;
    ReleaseSRWLockExclusive(&job->lock);

    /* Resume's own entry is made before the fault is armed: the worker waits at FINISH. */
    block_at("FINISH");
    assert_hr(S_OK, ejob_resume(job));
    if (WaitForSingleObject(reached, TIMEOUT) != WAIT_OBJECT_0)
        fail_msg("the worker never reached FINISH");
    clear_fault("FINISH");
    set_fault("ACL", "fail:80070005");
    fail_at("ALLOC_QUEUE", E_OUTOFMEMORY);
    SetEvent(go);

    et_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    assert_error(job, E_OUTOFMEMORY, BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER);
    assert_int_equal(MIB, et_progress(job).BytesTransferred);
    assert_int_equal(0, et_progress(job).FilesTransferred);
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));

    release_faults();
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, ejob_complete(job));
    if (!tu_same_file(source, local))
        fail_msg("the copy differs from its source");
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_nothing_left();
}

/* A notifier pass that cannot allocate its array of files waits and tries again: nothing is
 * lost, and FileTransferred still comes before JobTransferred. */
static void notifier_allocation_failure(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    struct test_sink *sink;
    struct ejob *job;

    tu_scratch("faults_notify", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    job = et_job_with_file(url, local);
    sink = register_sink(job);

    fail_at("ALLOC_NOTIFY", E_OUTOFMEMORY);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    wait_failed("the notifier's allocation");
    clear_fault("ALLOC_NOTIFY");
    wait_file_then_job(sink, NOTIFY_TIMEOUT);
    complete_and_check(job, local, L"hello.txt");
    assert_nothing_left();
}

/* ---- the disk ---- */

/* A full disk: ERROR with the write's code, the temporary file kept; Resume then finishes the
 * file, or Cancel removes it. */
static void disk_full(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[2][MAX_PATH];
    struct ejob *job[2];

    tu_scratch("faults_disk", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_path(local[0], MAX_PATH, dir, L"resumed.bin");
    tu_path(local[1], MAX_PATH, dir, L"cancelled.bin");
    for (int i = 0; i < 2; i++)
    {
        job[i] = et_job_with_file(url, local[i]);
        fail_at("WRITE", HRESULT_FROM_WIN32(ERROR_DISK_FULL));
        assert_hr(S_OK, ejob_resume(job[i]));
        et_wait_state(job[i], BG_JOB_STATE_ERROR, TIMEOUT);
        assert_error(job[i], HRESULT_FROM_WIN32(ERROR_DISK_FULL), BG_ERROR_CONTEXT_LOCAL_FILE);
        assert_int_equal(0, et_progress(job[i]).BytesTransferred);
        clear_fault("WRITE");
    }
    assert_int_equal(2, tu_count(dir, L"BIT*.tmp"));
    assert_false(tu_exists(local[0]));

    assert_hr(S_OK, ejob_resume(job[0]));
    et_wait_state(job[0], BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    complete_and_check(job[0], local[0], L"4m.bin");
    assert_hr(S_OK, ejob_cancel(job[1]));
    assert_false(tu_exists(local[1]));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_nothing_left();
}

/* A flush that fails: ERROR, the bytes kept; Resume finishes the file without fetching it
 * again. */
static void flush_failure(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    struct ejob *job;

    tu_scratch("faults_flush", dir, ARRAY_SIZE(dir));
    tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    job = et_job_with_file(url, local);

    fail_at("FLUSH", HRESULT_FROM_WIN32(ERROR_WRITE_FAULT));
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    assert_error(job, HRESULT_FROM_WIN32(ERROR_WRITE_FAULT), BG_ERROR_CONTEXT_LOCAL_FILE);
    assert_int_equal(4 * MIB, et_progress(job).BytesTransferred);
    assert_int_equal(0, et_progress(job).FilesTransferred);
    clear_fault("FLUSH");

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    complete_and_check(job, local, L"4m.bin");
    assert_int_equal(1, tu_access_count_wait(url, 200, 1));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_nothing_left();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First: no worker may be running yet (and the notifier's test starts one). */
        cmocka_unit_test_teardown(worker_start_failure_keeps_the_job, teardown),
        /* Second: the notifier must not be running yet. */
        cmocka_unit_test_teardown(notifier_start_failure_refuses_the_registration, teardown),

        cmocka_unit_test_teardown(job_allocation_failure, teardown),
        cmocka_unit_test_teardown(add_file_allocation_failures, teardown),
        cmocka_unit_test_teardown(resume_allocation_failure, teardown),
        cmocka_unit_test_teardown(retry_allocation_failure, teardown),
        cmocka_unit_test_teardown(notifier_allocation_failure, teardown),
        cmocka_unit_test_teardown(disk_full, teardown),
        cmocka_unit_test_teardown(flush_failure, teardown),
    };

    return cmocka_run_group_tests(tests, setup_group, NULL);
}
