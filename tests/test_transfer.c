/* SPDX-License-Identifier: MIT */
/* Tests of the transfer engine (src/engine/transfer.c) and of the control operations of
 * src/engine/engine.c, driven through the COM API. */
#include <stdlib.h>
#include "testutil.h"

#define MIB (1024 * 1024)
#define SLOW_SIZE (8 * MIB)
#define SLOW_TIMEOUT 30000
#define FAST_TIMEOUT 15000
/* A control operation that stops a worker returns within this many milliseconds. */
#define PROMPT_MS 2000

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

/* ---- fault injection (engine_fault, src/engine/engine.h) ---- */

/* Fault points a test may have armed; the teardown disarms them all. */
static const char *const fault_points[] = {"WRITE", "FINISH", "ACL", "TEMP_MADE", "RUN_END"};

/* A "block" fault: the engine signals `reached` when a thread arrives at the point and holds
 * it there until `go` is set (or 10 s pass). */
struct blocker
{
    HANDLE reached, go;
};
static struct blocker blocker;

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

/* Arms a "block" fault at `point`, with events no other test or process uses. */
static void block_at(const char *point)
{
    static LONG serial;
    char name[64], event[80], value[80];

    snprintf(name, sizeof(name), "opendo-test-%lu-%ld", GetCurrentProcessId(),
             InterlockedIncrement(&serial));
    snprintf(event, sizeof(event), "%s.reached", name);
    blocker.reached = CreateEventA(NULL, TRUE, FALSE, event);
    snprintf(event, sizeof(event), "%s.go", name);
    blocker.go = CreateEventA(NULL, TRUE, FALSE, event);
    assert_non_null(blocker.reached);
    assert_non_null(blocker.go);
    snprintf(value, sizeof(value), "block:%s", name);
    set_fault(point, value);
}

/* Waits until a thread is held at the blocked point. */
static void wait_blocked(const char *what)
{
    if (WaitForSingleObject(blocker.reached, FAST_TIMEOUT) != WAIT_OBJECT_0)
        fail_msg("the worker never reached %s", what);
}

/* Disarms every fault and lets every held thread go on. */
static void release_faults(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(fault_points); i++)
        clear_fault(fault_points[i]);
    if (blocker.go)
    {
        SetEvent(blocker.go);
        CloseHandle(blocker.go);
        CloseHandle(blocker.reached);
        blocker.go = blocker.reached = NULL;
    }
}

static int teardown(void **state)
{
    release_faults();
    while (job_count > 0)
        tu_cancel_release(jobs[--job_count]);
    return 0;
}

/* An empty job owned by the test's teardown. */
static IBackgroundCopyJob *new_job(void)
{
    IBackgroundCopyJob *job;
    GUID id;

    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"transfer", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    return jobs[job_count++] = job;
}

/* Adds the test server's `path` as dir\name. */
static void add(IBackgroundCopyJob *job, const WCHAR *path, const WCHAR *dir, const WCHAR *name)
{
    WCHAR url[MAX_PATH], local[MAX_PATH];

    tu_url(url, ARRAY_SIZE(url), path);
    tu_path(local, ARRAY_SIZE(local), dir, name);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
}

/* A job (not resumed) whose one file, dir\file.bin in the scratch folder `scratch`, the test
 * server answers with `status` (a path such as status/503), retried after `retry_delay`
 * seconds. */
static IBackgroundCopyJob *failing_job(const char *scratch, const WCHAR *status, ULONG retry_delay,
                                       WCHAR *dir)
{
    IBackgroundCopyJob *job;

    tu_scratch(scratch, dir, MAX_PATH);
    job = new_job();
    add(job, status, dir, L"file.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, retry_delay));
    return job;
}

/* Waits until the job counted `count` errors; fails with `what` after timeout_ms. */
static void wait_errors(IBackgroundCopyJob *job, ULONG count, DWORD timeout_ms, const char *what)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    ULONG errors;

    for (;;)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &errors));
        if (errors >= count)
            return;
        if (GetTickCount64() > deadline)
            fail_msg("%s (%lu errors after %lu ms)", what, errors, timeout_ms);
        Sleep(5);
    }
}

/* A resumed job with one file. */
static IBackgroundCopyJob *start(const WCHAR *path, const WCHAR *dir, const WCHAR *name)
{
    IBackgroundCopyJob *job = new_job();

    add(job, path, dir, name);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    return job;
}

/* Asserts that dir\name holds the same bytes as the served file `served`. */
static void check_served(const WCHAR *dir, const WCHAR *name, const WCHAR *served)
{
    WCHAR local[MAX_PATH], www[MAX_PATH];

    tu_path(local, ARRAY_SIZE(local), dir, name);
    tu_www(www, ARRAY_SIZE(www), served);
    if (!tu_same_file(www, local))
        fail_msg("%ls is missing or differs from the served %ls", local, served);
}

/* Asserts that the job's bytes stay where they are: its worker is gone. */
static void check_stopped(IBackgroundCopyJob *job)
{
    UINT64 before = tu_progress(job).BytesTransferred;

    Sleep(300);
    if (tu_progress(job).BytesTransferred != before)
        fail_msg("bytes still arrive after the job was stopped");
}

static void cancel_mid_transfer(void **state)
{
    WCHAR dir[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    ULONGLONG start_tick;
    DWORD elapsed;

    tu_scratch("transfer_cancel", dir, ARRAY_SIZE(dir));
    job = start(L"slow/8m.bin", dir, L"8m.bin");
    tu_wait_bytes(job, MIB / 2, SLOW_TIMEOUT);
    start_tick = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    elapsed = (DWORD)(GetTickCount64() - start_tick);
    if (elapsed > PROMPT_MS)
        fail_msg("Cancel took %lu ms; expected it to stop the transfer within %u ms", elapsed,
                 PROMPT_MS);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_CANCELLED, job_state);
    /* Neither the hidden temporary file nor the destination is left. Cancel deleted the file;
     * under Wine its name stays until the worker, which Cancel waits for 1.5 s at most (a loaded
     * machine may need more), has closed it. */
    tu_wait_count(dir, L"*", 0, 5000);
    check_stopped(job);
    assert_int_equal(0, tu_count(dir, L"*"));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_Cancel(job));
}

static void cancel_suspended_job_deletes_temporary_file(void **state)
{
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];

    tu_scratch("transfer_cancel_new", dir, ARRAY_SIZE(dir));
    job = new_job();
    add(job, L"slow/8m.bin", dir, L"8m.bin");
    /* AddFile only reserves the temporary file's name; the transfer makes it in the
     * destination's folder, and it stays while the job is suspended. */
    assert_int_equal(0, tu_count(dir, L"*"));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_count(dir, L"BIT*.tmp", 1, FAST_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_int_equal(1, tu_count(dir, L"*"));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    /* Cancel deletes the file; a worker that Suspend did not see stop in time (a flush under
     * heavy writeback) still holds it open, and the name goes when the worker closes it. */
    tu_wait_count(dir, L"*", 0, FAST_TIMEOUT);
}

static DWORD WINAPI release_blocker_later(void *arg)
{
    Sleep(300);
    SetEvent(blocker.go);
    return 0;
}

static void suspend_as_the_temporary_file_is_made_keeps_it(void **state)
{
    WCHAR dir[MAX_PATH];
    IBackgroundCopyJob *job;
    HANDLE thread;

    /* Suspend lands after the worker made the file and before the worker looked at the job
     * again: the file stays with the suspended job, as one made a moment earlier does. */
    tu_scratch("transfer_suspend_at_make", dir, ARRAY_SIZE(dir));
    job = new_job();
    add(job, L"hello.txt", dir, L"hello.txt");
    block_at("TEMP_MADE");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_blocked("the point after making the temporary file");
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));
    /* Suspend waits for the worker, which goes on while Suspend waits. */
    thread = CreateThread(NULL, 0, release_blocker_later, NULL, 0, NULL);
    assert_non_null(thread);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));
    /* The file is the job's: Resume goes on with it, and the file comes whole. */
    release_faults();
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"hello.txt", L"hello.txt");
    assert_int_equal(1, tu_count(dir, L"*"));
}

static void complete_while_transferring(void **state)
{
    WCHAR dir[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    ULONGLONG start_tick;
    DWORD elapsed;

    tu_scratch("transfer_complete_early", dir, ARRAY_SIZE(dir));
    job = start(L"slow/8m.bin", dir, L"8m.bin");
    tu_wait_bytes(job, MIB / 2, SLOW_TIMEOUT);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRING, 1000);
    start_tick = GetTickCount64();
    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob_Complete(job));
    elapsed = (DWORD)(GetTickCount64() - start_tick);
    if (elapsed > PROMPT_MS)
        fail_msg("Complete took %lu ms; expected at most %u ms", elapsed, PROMPT_MS);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, job_state);
    /* The unfinished file is not kept, under either name (once the worker let go of it, as in
     * cancel_mid_transfer). */
    tu_wait_count(dir, L"*", 0, 5000);
    check_stopped(job);
    assert_int_equal(0, tu_count(dir, L"*"));
}

static void complete_keeps_only_finished_files(void **state)
{
    ULONGLONG deadline = GetTickCount64() + SLOW_TIMEOUT;
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    BG_JOB_PROGRESS p;
    WCHAR dir[MAX_PATH], local[MAX_PATH];

    tu_scratch("transfer_complete_partial", dir, ARRAY_SIZE(dir));
    job = new_job();
    add(job, L"hello.txt", dir, L"hello.txt");
    add(job, L"slow/8m.bin", dir, L"8m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    /* Wait until the first file is done and the second is on its way. */
    for (;;)
    {
        p = tu_progress(job);
        if (p.FilesTransferred == 1 && p.BytesTransferred > 14 + MIB / 4)
            break;
        if (p.FilesTransferred > 1 || GetTickCount64() > deadline)
            fail_msg("expected hello.txt done and 8m.bin in flight; %lu files and %llu bytes",
                     p.FilesTransferred, (unsigned long long)p.BytesTransferred);
        Sleep(5);
    }
    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob_Complete(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, job_state);
    check_served(dir, L"hello.txt", L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    assert_false(tu_exists(local));
    assert_int_equal(1, tu_count(dir, L"*"));
}

static void complete_replaces_existing_destination(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], old[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("transfer_replace", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_path(old, ARRAY_SIZE(old), dir, L"old.bin");
    tu_write_seeded_file(local, 1000, 1);
    tu_write_seeded_file(old, 1000, 1);
    job = start(L"4m.bin", dir, L"4m.bin");
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    /* Until Complete, the old file stays as it was. */
    if (!tu_same_file(old, local))
        fail_msg("%ls changed before Complete", local);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"4m.bin", L"4m.bin");
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_int_equal(2, tu_count(dir, L"*"));
}

static void cancel_keeps_existing_destination(void **state)
{
    WCHAR dir[MAX_PATH], local[2][MAX_PATH], old[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("transfer_cancel_keeps", dir, ARRAY_SIZE(dir));
    tu_path(local[0], ARRAY_SIZE(local[0]), dir, L"8m.bin");
    tu_path(local[1], ARRAY_SIZE(local[1]), dir, L"hello.txt");
    tu_path(old, ARRAY_SIZE(old), dir, L"old.bin");
    tu_write_seeded_file(local[0], 1000, 2);
    tu_write_seeded_file(local[1], 1000, 2);
    tu_write_seeded_file(old, 1000, 2);

    /* Cancelled in flight. */
    job = start(L"slow/8m.bin", dir, L"8m.bin");
    tu_wait_bytes(job, MIB / 2, SLOW_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    if (!tu_same_file(old, local[0]))
        fail_msg("Cancel in flight deleted or changed %ls, which the job did not create", local[0]);

    /* Cancelled when the whole file was there, waiting for Complete. */
    job = start(L"hello.txt", dir, L"hello.txt");
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    if (!tu_same_file(old, local[1]))
        fail_msg("Cancel of a TRANSFERRED job deleted or changed %ls", local[1]);
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_int_equal(3, tu_count(dir, L"*"));
}

static void resume_transferred_job_is_empty(void **state)
{
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    WCHAR dir[MAX_PATH];

    tu_scratch("transfer_resume_empty", dir, ARRAY_SIZE(dir));
    job = start(L"hello.txt", dir, L"hello.txt");
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    assert_hr(BG_E_EMPTY, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_TRANSFERRED, job_state);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"hello.txt", L"hello.txt");
}

static void add_file_to_transferred_job(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    BG_JOB_PROGRESS p;

    tu_scratch("transfer_add_later", dir, ARRAY_SIZE(dir));
    tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    job = new_job();
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);

    add(job, L"hello.txt", dir, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_TRANSFERRED, job_state);
    p = tu_progress(job);
    assert_int_equal(2, p.FilesTotal);
    assert_int_equal(1, p.FilesTransferred);
    assert_true(p.BytesTotal == BG_SIZE_UNKNOWN);
    assert_int_equal(4 * MIB, p.BytesTransferred);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    p = tu_progress(job);
    assert_int_equal(4 * MIB + 14, p.BytesTotal);
    assert_int_equal(4 * MIB + 14, p.BytesTransferred);
    assert_int_equal(2, p.FilesTransferred);
    /* The first file was not fetched again. */
    assert_int_equal(1, tu_access_count_wait(url, 200, 1));
    assert_int_equal(0, tu_access_count(url, 206));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"4m.bin", L"4m.bin");
    check_served(dir, L"hello.txt", L"hello.txt");
    assert_int_equal(2, tu_count(dir, L"*"));
}

static void transfer_completion_time(void **state)
{
    FILETIME before, after;
    IBackgroundCopyJob *job;
    BG_JOB_TIMES times;
    WCHAR dir[MAX_PATH];

    tu_scratch("transfer_times", dir, ARRAY_SIZE(dir));
    job = new_job();
    add(job, L"hello.txt", dir, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(job, &times));
    assert_int_equal(0, times.TransferCompletionTime.dwLowDateTime);
    assert_int_equal(0, times.TransferCompletionTime.dwHighDateTime);

    GetSystemTimeAsFileTime(&before);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    GetSystemTimeAsFileTime(&after);
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(job, &times));
    if (CompareFileTime(&times.TransferCompletionTime, &before) < 0 ||
        CompareFileTime(&times.TransferCompletionTime, &after) > 0)
        fail_msg("TransferCompletionTime %08lx%08lx is outside the transfer [%08lx%08lx, "
                 "%08lx%08lx]",
                 times.TransferCompletionTime.dwHighDateTime,
                 times.TransferCompletionTime.dwLowDateTime, before.dwHighDateTime,
                 before.dwLowDateTime, after.dwHighDateTime, after.dwLowDateTime);
    assert_true(CompareFileTime(&times.CreationTime, &times.TransferCompletionTime) <= 0);
    assert_true(CompareFileTime(&times.TransferCompletionTime, &times.ModificationTime) <= 0);
}

static void resume_after_error_retries(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    IBackgroundCopyError *error;

    tu_scratch("transfer_retry", dir, ARRAY_SIZE(dir));
    tu_path(source, ARRAY_SIZE(source), dir, L"source.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    job = new_job();
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, source, local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE,
                        HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));

    /* The cause goes away; Resume tries again at once and the error is gone. */
    tu_write_file(source, 100000);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    assert_hr(BG_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(job, &error));
    assert_int_equal(100000, tu_progress(job).BytesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_true(tu_same_file(source, local));
}

static void transient_error_retries_until_timeout(void **state)
{
    ULONGLONG start_tick, deadline;
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    WCHAR dir[MAX_PATH];
    ULONG errors;

    /* Retry after 5 s; give up when 6 s pass without progress: one retry, then ERROR. */
    job = failing_job("transfer_no_progress", L"status/503", 5, dir);
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 6));
    start_tick = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &errors));
    assert_int_equal(1, errors);

    deadline = GetTickCount64() + FAST_TIMEOUT;
    for (;;)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
        if (job_state == BG_JOB_STATE_ERROR)
            break;
        if (job_state != BG_JOB_STATE_TRANSIENT_ERROR && job_state != BG_JOB_STATE_QUEUED &&
            job_state != BG_JOB_STATE_TRANSFERRING)
            fail_msg("job went to %s while retrying", tu_state_name(job_state));
        if (GetTickCount64() > deadline)
            fail_msg("job still %s after the no-progress timeout", tu_state_name(job_state));
        Sleep(20);
    }
    if (GetTickCount64() - start_tick < 4500)
        fail_msg("job gave up after %llu ms, before its 5 s retry",
                 (unsigned long long)(GetTickCount64() - start_tick));
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &errors));
    assert_int_equal(2, errors);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_503);
}

static void resume_retries_transient_error_at_once(void **state)
{
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];

    job = failing_job("transfer_retry_now", L"status/500", 600, dir);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_errors(job, 2, FAST_TIMEOUT, "Resume did not retry a TRANSIENT_ERROR job at once");
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);

    /* Suspend stops the retries. */
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    tu_wait_state(job, BG_JOB_STATE_SUSPENDED, 0);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_int_equal(0, tu_count(dir, L"*"));
}

static void long_retry_delay_is_kept(void **state)
{
    ULONGLONG deadline;
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];
    ULONG errors;

    /* 4294968 s is just over 2^32 ms: the retry must wait that long, not its remainder. */
    job = failing_job("transfer_long_delay", L"status/503", 4294968, dir);
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 0xffffffff));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    /* A wrapped delay would retry after 704 ms; nothing may happen for two seconds. */
    deadline = GetTickCount64() + 2000;
    while (GetTickCount64() < deadline)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &errors));
        if (errors != 1)
            fail_msg("the job retried within 2 s of a retry delay of 4294968 s");
        Sleep(20);
    }
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, 0);
}

/* SetMinimumRetryDelay in TRANSIENT_ERROR moves the retry already queued: to the failure plus
 * the new delay, or, when that falls outside the no-progress window, to ERROR at once. */
static void retry_follows_a_new_retry_delay(void **state)
{
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    WCHAR dir[MAX_PATH];
    ULONGLONG failed;
    ULONG errors;

    job = failing_job("transfer_new_delay", L"status/503", 600, dir);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    failed = GetTickCount64();
    /* 5 s (the least there is) instead of 600: the retry comes about 5 s after the failure. */
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 5));
    wait_errors(job, 2, 5000 + FAST_TIMEOUT, "no retry after a retry delay of 5 s was set");
    if (GetTickCount64() - failed < 4000)
        fail_msg("the job retried %llu ms after its failure, before its 5 s",
                 (unsigned long long)(GetTickCount64() - failed));

    /* Failed again: a delay beyond the no-progress window ends the retries now. */
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 60));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_TRANSIENT_ERROR, job_state);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 600));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ERROR, job_state);
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &errors));
    assert_int_equal(2, errors);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_503);
}

/* A folder sits at `local`, where a file of the transferred job goes: Complete fails, and the
 * job stays transferred with that file's temporary file, waiting for another try. */
static void complete_fails_at_folder(IBackgroundCopyJob *job, const WCHAR *dir, const WCHAR *local)
{
    BG_JOB_STATE job_state;
    HRESULT hr;

    assert_true(CreateDirectoryW(local, NULL));
    hr = IBackgroundCopyJob_Complete(job);
    if (SUCCEEDED(hr))
        fail_msg("Complete returned 0x%08lx with a folder in the way", (unsigned long)hr);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_TRANSFERRED, job_state);
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));
}

static void complete_retries_after_rename_failure(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;

    /* A folder sits where the file goes: Complete fails, and the job waits for another try. */
    tu_scratch("transfer_rename_fails", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    job = start(L"hello.txt", dir, L"hello.txt");
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    complete_fails_at_folder(job, dir, local);

    assert_true(RemoveDirectoryW(local));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, job_state);
    check_served(dir, L"hello.txt", L"hello.txt");
    assert_int_equal(1, tu_count(dir, L"*"));
}

static void complete_renames_many_files(void **state)
{
    WCHAR dir[MAX_PATH], name[32], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;

    /* Enough files for Complete to rename them on several threads; a folder in the way of one
     * of them fails that one alone, and the job waits for another try as with one file. */
    tu_scratch("transfer_complete_many", dir, ARRAY_SIZE(dir));
    job = new_job();
    for (int i = 0; i < 100; i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"f%03d.txt", i);
        add(job, L"hello.txt", dir, name);
    }
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    tu_path(local, ARRAY_SIZE(local), dir, L"f057.txt");
    complete_fails_at_folder(job, dir, local);
    assert_int_equal(100, tu_count(dir, L"f*.txt"));

    assert_true(RemoveDirectoryW(local));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, job_state);
    assert_int_equal(100, tu_count(dir, L"*"));
    for (int i = 0; i < 100; i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"f%03d.txt", i);
        check_served(dir, name, L"hello.txt");
    }
}

static void cancel_reports_undeletable_temporary_file(void **state)
{
    WCHAR dir[MAX_PATH], temp[MAX_PATH];
    WIN32_FIND_DATAW data;
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    HANDLE find, file;

    tu_scratch("transfer_cancel_locked", dir, ARRAY_SIZE(dir));
    job = new_job();
    add(job, L"slow/8m.bin", dir, L"8m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_count(dir, L"BIT*.tmp", 1, FAST_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    tu_path(temp, ARRAY_SIZE(temp), dir, L"BIT*.tmp");
    find = FindFirstFileW(temp, &data);
    assert_true(find != INVALID_HANDLE_VALUE);
    FindClose(find);
    tu_path(temp, ARRAY_SIZE(temp), dir, data.cFileName);
    /* Opened without FILE_SHARE_DELETE, the temporary file cannot go. */
    file = CreateFileW(temp, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_hr(BG_S_UNABLE_TO_DELETE_FILES, IBackgroundCopyJob_Cancel(job));
    CloseHandle(file);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_CANCELLED, job_state);
    assert_true(tu_exists(temp));
}

static void add_file_while_transferring(void **state)
{
    WCHAR dir[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;

    /* A file added to a running job comes in the same run, without another Resume. */
    tu_scratch("transfer_add_running", dir, ARRAY_SIZE(dir));
    job = start(L"slow/8m.bin", dir, L"8m.bin");
    tu_wait_bytes(job, MIB / 4, SLOW_TIMEOUT);
    add(job, L"hello.txt", dir, L"hello.txt");
    p = tu_progress(job);
    assert_int_equal(2, p.FilesTotal);
    assert_true(p.BytesTotal == BG_SIZE_UNKNOWN);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    p = tu_progress(job);
    assert_int_equal(SLOW_SIZE + 14, p.BytesTotal);
    assert_int_equal(SLOW_SIZE + 14, p.BytesTransferred);
    assert_int_equal(2, p.FilesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"8m.bin", L"slow\\8m.bin");
    check_served(dir, L"hello.txt", L"hello.txt");
}

static void suspend_resume_storm(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    UINT64 kept = 0, now;
    int pairs = 0;

    /* Many quick Suspend/Resume pairs: every pair stops a worker and starts another one, and
     * none may lose, repeat or mix up bytes. */
    tu_scratch("transfer_storm", dir, ARRAY_SIZE(dir));
    tu_unique_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    job = new_job();
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    for (int i = 0; i < 20; i++)
    {
        if (i % 4 == 0)
            tu_wait_bytes(job, kept + 1, SLOW_TIMEOUT);
        assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
        assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
        /* A loaded machine may run the pairs slower than the file comes: the storm is over. */
        if (job_state == BG_JOB_STATE_TRANSFERRED)
            break;
        assert_int_equal(BG_JOB_STATE_SUSPENDED, job_state);
        now = tu_progress(job).BytesTransferred;
        if (now < kept)
            fail_msg("BytesTransferred went back from %llu to %llu", (unsigned long long)kept,
                     (unsigned long long)now);
        kept = now;
        assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
        pairs++;
    }
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    assert_int_equal(SLOW_SIZE, tu_progress(job).BytesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"8m.bin", L"slow\\8m.bin");
    assert_int_equal(1, tu_count(dir, L"*"));
    /* Resumed with ranges, not started over: at most one whole-file answer (none when the first
     * request that went out was already a ranged part of the file). */
    if (tu_access_count(url, 200) > 1)
        fail_msg("the file was asked for whole %d times", tu_access_count(url, 200));
    if (pairs)
        assert_true(tu_access_count_wait(url, 206, 1) >= 1);
}

/* ---- a file's completion is one step ---- */

/* A client's callback that counts FileTransferred calls. */
struct file_counter
{
    IBackgroundCopyCallback2 IBackgroundCopyCallback2_iface;
    LONG refs;
    LONG files;       /* FileTransferred calls */
    LONG transferred; /* JobTransferred calls */
};

static inline struct file_counter *impl_from_callback(IBackgroundCopyCallback2 *iface)
{
    return CONTAINING_RECORD(iface, struct file_counter, IBackgroundCopyCallback2_iface);
}

static HRESULT WINAPI counter_QueryInterface(IBackgroundCopyCallback2 *iface, REFIID riid,
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

static ULONG WINAPI counter_AddRef(IBackgroundCopyCallback2 *iface)
{
    return InterlockedIncrement(&impl_from_callback(iface)->refs);
}

static ULONG WINAPI counter_Release(IBackgroundCopyCallback2 *iface)
{
    struct file_counter *counter = impl_from_callback(iface);
    ULONG refs = InterlockedDecrement(&counter->refs);

    if (!refs)
        free(counter);
    return refs;
}

static HRESULT WINAPI counter_JobTransferred(IBackgroundCopyCallback2 *iface,
                                             IBackgroundCopyJob *job)
{
    InterlockedIncrement(&impl_from_callback(iface)->transferred);
    return S_OK;
}

static HRESULT WINAPI counter_JobError(IBackgroundCopyCallback2 *iface, IBackgroundCopyJob *job,
                                       IBackgroundCopyError *error)
{
    return S_OK;
}

static HRESULT WINAPI counter_JobModification(IBackgroundCopyCallback2 *iface,
                                              IBackgroundCopyJob *job, DWORD reserved)
{
    return S_OK;
}

static HRESULT WINAPI counter_FileTransferred(IBackgroundCopyCallback2 *iface,
                                              IBackgroundCopyJob *job, IBackgroundCopyFile *file)
{
    InterlockedIncrement(&impl_from_callback(iface)->files);
    return S_OK;
}

static const IBackgroundCopyCallback2Vtbl counter_vtbl = {
    counter_QueryInterface,  counter_AddRef,   counter_Release,
    counter_JobTransferred,  counter_JobError, counter_JobModification,
    counter_FileTransferred,
};

/* Registers a new counter on the job for FileTransferred and JobTransferred. The job holds
 * the counter; the test keeps a reference of its own, which it releases. */
static struct file_counter *count_files(IBackgroundCopyJob *job)
{
    struct file_counter *counter = calloc(1, sizeof(*counter));

    assert_non_null(counter);
    counter->IBackgroundCopyCallback2_iface.lpVtbl = &counter_vtbl;
    counter->refs = 1;
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED |
                                                               BG_NOTIFY_JOB_ERROR |
                                                               BG_NOTIFY_FILE_TRANSFERRED));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(
                        job, (IUnknown *)&counter->IBackgroundCopyCallback2_iface));
    return counter;
}

/* Waits until the counter has seen JobTransferred, then asserts `files` FileTransferred calls
 * (each is delivered before the JobTransferred that follows it). */
static void check_file_events(struct file_counter *counter, LONG files)
{
    ULONGLONG deadline = GetTickCount64() + FAST_TIMEOUT;

    while (!InterlockedCompareExchange(&counter->transferred, 0, 0))
    {
        if (GetTickCount64() > deadline)
            fail_msg("JobTransferred was not delivered");
        Sleep(10);
    }
    if (counter->files != files)
        fail_msg("FileTransferred was delivered %ld times; expected %ld", counter->files, files);
}

/* Total bytes fetched for file `index` from any source, restarts included (DO GetStats). */
static UINT64 bytes_fetched(IBackgroundCopyJob *job, ULONG index)
{
    IBackgroundCopyFile *file = tu_job_file(job, index);
    IDeliveryOptimizationFile *do_file;
    DOSwarmStats stats;

    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IDeliveryOptimizationFile,
                                                       (void **)&do_file));
    assert_hr(S_OK, IDeliveryOptimizationFile_GetStats(do_file, &stats));
    CoTaskMemFree(stats.fileId);
    CoTaskMemFree(stats.sourceURL);
    IDeliveryOptimizationFile_Release(do_file);
    IBackgroundCopyFile_Release(file);
    return stats.totalBytesDownloaded;
}

static void suspend_as_last_byte_arrives(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    struct file_counter *counter;
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    BG_JOB_PROGRESS p;

    /* Suspend lands after the file's last byte is counted and before the file is finished
     * (flushed, counted in FilesTransferred): the next run must finish it, without fetching
     * it again. */
    tu_scratch("transfer_finish_window", dir, ARRAY_SIZE(dir));
    tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    job = new_job();
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
    counter = count_files(job);
    block_at("FINISH");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_blocked("the end of the file");
    p = tu_progress(job);
    assert_int_equal(4 * MIB, p.BytesTransferred);
    assert_int_equal(0, p.FilesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, job_state);
    release_faults();

    /* Not every file is done: Resume has work and finishes the file. */
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    p = tu_progress(job);
    assert_int_equal(1, p.FilesTotal);
    assert_int_equal(1, p.FilesTransferred);
    assert_int_equal(4 * MIB, p.BytesTransferred);
    check_file_events(counter, 1);
    IBackgroundCopyCallback2_Release(&counter->IBackgroundCopyCallback2_iface);
    /* Fetched once, never asked for again. */
    assert_int_equal(1, tu_access_count_wait(url, 200, 1));
    assert_int_equal(0, tu_access_count(url, 206));
    assert_int_equal(4 * MIB, bytes_fetched(job, 0));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"4m.bin", L"4m.bin");
    assert_int_equal(1, tu_count(dir, L"*"));
}

static void acl_copy_failure_is_retried(void **state)
{
    WCHAR dir[MAX_PATH], source_dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;

    /* The ACL copy fails after the last byte: a transient error, and the retry copies the ACL
     * and counts the file, without fetching its bytes again. */
    tu_scratch("transfer_acl_retry", dir, ARRAY_SIZE(dir));
    tu_scratch("transfer_acl_retry_source", source_dir, ARRAY_SIZE(source_dir));
    tu_path(source, ARRAY_SIZE(source), source_dir, L"source.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"copy.bin");
    tu_write_file(source, 300000);
    job = new_job();
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3));
    assert_hr(S_OK, IBackgroundCopyJob3_SetFileACLFlags(job3, BG_COPY_FILE_DACL));
    IBackgroundCopyJob3_Release(job3);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, source, local));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 5));
    set_fault("ACL", "fail:80070005");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_LOCAL_FILE, E_ACCESSDENIED);
    p = tu_progress(job);
    assert_int_equal(300000, p.BytesTransferred);
    assert_int_equal(0, p.FilesTransferred);

    /* The scheduler retries after the minimum retry delay, and the retry copies the ACL. */
    block_at("ACL");
    if (WaitForSingleObject(blocker.reached, 5000 + FAST_TIMEOUT) != WAIT_OBJECT_0)
        fail_msg("the retry did not copy the ACL");
    release_faults();
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    p = tu_progress(job);
    assert_int_equal(1, p.FilesTransferred);
    assert_int_equal(300000, p.BytesTransferred);
    assert_int_equal(300000, bytes_fetched(job, 0));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_true(tu_same_file(source, local));
}

/* ---- control operations return promptly, whatever the worker does ---- */

/* Runs `op` on the job and asserts that it returns `expected` within PROMPT_MS (+ 500 ms). */
#define assert_prompt(expected, op)                                                                \
    do                                                                                             \
    {                                                                                              \
        ULONGLONG start_ = GetTickCount64();                                                       \
        HRESULT hr_ = (op);                                                                        \
        DWORD elapsed_ = (DWORD)(GetTickCount64() - start_);                                       \
        if (elapsed_ > PROMPT_MS + 500)                                                            \
            fail_msg("%s took %lu ms with the worker stuck; expected at most %u ms", #op,          \
                     elapsed_, PROMPT_MS + 500);                                                   \
        assert_hr(expected, hr_);                                                                  \
    } while (0)

/* Polls until dir holds exactly `count` entries, none of them a temporary file. */
static void wait_entries(const WCHAR *dir, int count)
{
    ULONGLONG deadline = GetTickCount64() + FAST_TIMEOUT;

    while (tu_count(dir, L"*") != count || tu_count(dir, L"BIT*.tmp"))
    {
        if (GetTickCount64() > deadline)
            fail_msg("%ls holds %d entries (%d temporary) once the worker returned; expected %d "
                     "and no temporary file",
                     dir, tu_count(dir, L"*"), tu_count(dir, L"BIT*.tmp"), count);
        Sleep(20);
    }
}

/* A job copying an 8 MiB local file whose worker is held before it writes the first buffer. */
static IBackgroundCopyJob *start_stuck(const char *name, WCHAR *dir, WCHAR *source, WCHAR *local)
{
    WCHAR source_dir[MAX_PATH];
    char source_name[64];
    IBackgroundCopyJob *job;

    snprintf(source_name, sizeof(source_name), "%s_source", name);
    tu_scratch(name, dir, MAX_PATH);
    tu_scratch(source_name, source_dir, ARRAY_SIZE(source_dir));
    tu_path(source, MAX_PATH, source_dir, L"source.bin");
    tu_path(local, MAX_PATH, dir, L"copy.bin");
    tu_write_file(source, SLOW_SIZE);
    job = new_job();
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, source, local));
    block_at("WRITE");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_blocked("its first write");
    return job;
}

static void suspend_returns_while_worker_stuck(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;

    job = start_stuck("transfer_stuck_suspend", dir, source, local);
    assert_prompt(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, job_state);
    /* Resumed while the stopped worker is still away: the job runs once that worker is back. */
    assert_prompt(S_OK, IBackgroundCopyJob_Resume(job));
    release_faults();
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    assert_int_equal(SLOW_SIZE, tu_progress(job).BytesTransferred);
    assert_int_equal(1, tu_progress(job).FilesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_true(tu_same_file(source, local));
    wait_entries(dir, 1);
}

static void resume_after_suspend_at_the_end(void **state)
{
    WCHAR dir[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;

    /* Suspended once its only file is in but before its worker called it transferred: Resume
     * has nothing to fetch, and the job is transferred (it was refused as empty, and stayed
     * suspended for good). */
    tu_scratch("transfer_suspend_at_end", dir, ARRAY_SIZE(dir));
    block_at("RUN_END");
    job = start(L"hello.txt", dir, L"hello.txt");
    wait_blocked("the end of its run");
    assert_prompt(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, job_state);
    assert_int_equal(1, tu_progress(job).FilesTransferred);
    release_faults();
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_TRANSFERRED, job_state);
    assert_hr(BG_E_EMPTY, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"hello.txt", L"hello.txt");
}

static void cancel_returns_while_worker_stuck(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;

    job = start_stuck("transfer_stuck_cancel", dir, source, local);
    assert_prompt(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_CANCELLED, job_state);
    /* The worker comes back, sees the job cancelled and leaves no temporary file. */
    release_faults();
    wait_entries(dir, 0);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_CANCELLED, job_state);
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_Cancel(job));
}

/* A job of two files in `dir`: hello.txt done, the worker stuck writing slow/8m.bin. */
static IBackgroundCopyJob *start_stuck_on_second(const WCHAR *dir)
{
    ULONGLONG deadline = GetTickCount64() + SLOW_TIMEOUT;
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;

    job = new_job();
    add(job, L"hello.txt", dir, L"hello.txt");
    add(job, L"slow/8m.bin", dir, L"8m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    for (;;)
    {
        p = tu_progress(job);
        if (p.FilesTransferred == 1 && p.BytesTransferred > 14)
            break;
        if (p.FilesTransferred > 1 || GetTickCount64() > deadline)
            fail_msg("expected hello.txt done and 8m.bin in flight; %lu files and %llu bytes",
                     p.FilesTransferred, (unsigned long long)p.BytesTransferred);
        Sleep(5);
    }
    block_at("WRITE");
    wait_blocked("a write of 8m.bin");
    return job;
}

static void complete_returns_while_worker_stuck(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;

    /* hello.txt is done; the worker is stuck writing 8m.bin. Complete keeps the finished file,
     * drops the other one, and does not wait for the worker. */
    tu_scratch("transfer_stuck_complete", dir, ARRAY_SIZE(dir));
    job = start_stuck_on_second(dir);
    assert_prompt(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob_Complete(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, job_state);
    check_served(dir, L"hello.txt", L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    assert_false(tu_exists(local));
    release_faults();
    wait_entries(dir, 1);
    assert_false(tu_exists(local));
    check_served(dir, L"hello.txt", L"hello.txt");
}

/* SetValidationState(FALSE) on a finished file while the worker is stuck on another file. */
static void invalidate_returns_while_worker_stuck(void **state)
{
    IBackgroundCopyFile3 *file3;
    IBackgroundCopyFile *file;
    WCHAR dir[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;

    tu_scratch("transfer_stuck_invalidate", dir, ARRAY_SIZE(dir));
    job = start_stuck_on_second(dir);
    file = tu_job_file(job, 0);
    assert_hr(S_OK,
              IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile3, (void **)&file3));
    assert_prompt(S_OK, IBackgroundCopyFile3_SetValidationState(file3, FALSE));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ERROR, job_state);
    assert_int_equal(0, tu_progress(job).FilesTransferred);
    /* Resumed while the stopped worker is still away: the job runs once that worker is back,
     * fetches both files again and counts each once. */
    assert_prompt(S_OK, IBackgroundCopyJob_Resume(job));
    release_faults();
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    assert_int_equal(2, tu_progress(job).FilesTransferred);
    assert_int_equal(tu_progress(job).BytesTotal, tu_progress(job).BytesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    check_served(dir, L"hello.txt", L"hello.txt");
    check_served(dir, L"8m.bin", L"slow/8m.bin");
    IBackgroundCopyFile3_Release(file3);
    IBackgroundCopyFile_Release(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(cancel_mid_transfer, teardown),
        cmocka_unit_test_teardown(cancel_suspended_job_deletes_temporary_file, teardown),
        cmocka_unit_test_teardown(suspend_as_the_temporary_file_is_made_keeps_it, teardown),
        cmocka_unit_test_teardown(complete_while_transferring, teardown),
        cmocka_unit_test_teardown(complete_keeps_only_finished_files, teardown),
        cmocka_unit_test_teardown(complete_replaces_existing_destination, teardown),
        cmocka_unit_test_teardown(cancel_keeps_existing_destination, teardown),
        cmocka_unit_test_teardown(resume_transferred_job_is_empty, teardown),
        cmocka_unit_test_teardown(add_file_to_transferred_job, teardown),
        cmocka_unit_test_teardown(transfer_completion_time, teardown),
        cmocka_unit_test_teardown(resume_after_error_retries, teardown),
        cmocka_unit_test_teardown(transient_error_retries_until_timeout, teardown),
        cmocka_unit_test_teardown(resume_retries_transient_error_at_once, teardown),
        cmocka_unit_test_teardown(long_retry_delay_is_kept, teardown),
        cmocka_unit_test_teardown(retry_follows_a_new_retry_delay, teardown),
        cmocka_unit_test_teardown(complete_retries_after_rename_failure, teardown),
        cmocka_unit_test_teardown(complete_renames_many_files, teardown),
        cmocka_unit_test_teardown(cancel_reports_undeletable_temporary_file, teardown),
        cmocka_unit_test_teardown(add_file_while_transferring, teardown),
        cmocka_unit_test_teardown(suspend_resume_storm, teardown),
        cmocka_unit_test_teardown(suspend_as_last_byte_arrives, teardown),
        cmocka_unit_test_teardown(acl_copy_failure_is_retried, teardown),
        cmocka_unit_test_teardown(suspend_returns_while_worker_stuck, teardown),
        cmocka_unit_test_teardown(cancel_returns_while_worker_stuck, teardown),
        cmocka_unit_test_teardown(resume_after_suspend_at_the_end, teardown),
        cmocka_unit_test_teardown(complete_returns_while_worker_stuck, teardown),
        cmocka_unit_test_teardown(invalidate_returns_while_worker_stuck, teardown),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
