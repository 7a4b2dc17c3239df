/* SPDX-License-Identifier: MIT */
/* Helpers for the tests that drive the engine directly: jobs, states, waiting. */
#include "enginetest.h"

/* The running test's jobs, cancelled and released by its teardown even when it fails. */
static struct ejob *jobs[16];
static int job_count;

BG_JOB_STATE et_state(struct ejob *job)
{
    BG_JOB_STATE state;

    AcquireSRWLockShared(&job->lock);
    state = job->state;
    ReleaseSRWLockShared(&job->lock);
    return state;
}

BG_JOB_PROGRESS et_progress(struct ejob *job)
{
    BG_JOB_PROGRESS progress;

    AcquireSRWLockShared(&job->lock);
    progress = job->progress;
    ReleaseSRWLockShared(&job->lock);
    return progress;
}

BG_FILE_PROGRESS et_file_progress(struct ejob *job, ULONG index)
{
    BG_FILE_PROGRESS progress;

    AcquireSRWLockShared(&job->lock);
    assert_true(index < job->file_count);
    progress = job->files[index]->progress;
    ReleaseSRWLockShared(&job->lock);
    return progress;
}

/* States a job leaves only when a client acts. */
static BOOL resting(BG_JOB_STATE state)
{
    return state == BG_JOB_STATE_ERROR || state == BG_JOB_STATE_TRANSFERRED ||
           state == BG_JOB_STATE_SUSPENDED || state == BG_JOB_STATE_ACKNOWLEDGED ||
           state == BG_JOB_STATE_CANCELLED;
}

void et_wait_state(struct ejob *job, BG_JOB_STATE state, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BG_JOB_STATE now;
    HRESULT code;
    BOOL error;

    for (;;)
    {
        AcquireSRWLockShared(&job->lock);
        now = job->state;
        error = job->error.present;
        code = job->error.code;
        ReleaseSRWLockShared(&job->lock);
        if (now == state)
            return;
        if (resting(now))
            fail_msg("waiting for %s: the job is %s (error %s 0x%08lx)", tu_state_name(state),
                     tu_state_name(now), error ? "present" : "absent", (unsigned long)code);
        if (GetTickCount64() > deadline)
            fail_msg("the job is still %s after %lu ms, expected %s", tu_state_name(now),
                     timeout_ms, tu_state_name(state));
        Sleep(10);
    }
}

void et_wait_idle(struct ejob *job, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    BOOL active;

    for (;;)
    {
        AcquireSRWLockShared(&job->lock);
        active = job->worker_active;
        ReleaseSRWLockShared(&job->lock);
        if (!active)
            return;
        if (GetTickCount64() > deadline)
            fail_msg("a worker still transfers the job after %lu ms", timeout_ms);
        Sleep(10);
    }
}

void et_make_temp(const WCHAR *local, WCHAR **temp, struct file_identity *id)
{
    HANDLE file;

    assert_hr(S_OK, tempfile_reserve(local, NULL, temp));
    assert_hr(S_OK, tempfile_make(temp, id, &file));
    CloseHandle(file);
}

struct ejob *et_job(void)
{
    struct ejob *job;

    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    assert_hr(S_OK, engine_create_job(L"engine test", BG_JOB_TYPE_DOWNLOAD, 0, &job));
    assert_non_null(job);
    jobs[job_count++] = job;
    return job;
}

struct ejob *et_job_with_file(const WCHAR *remote, const WCHAR *local)
{
    BG_FILE_INFO info = {(WCHAR *)remote, (WCHAR *)local};
    struct ejob *job = et_job();

    assert_hr(S_OK, ejob_add_files(job, 1, &info));
    return job;
}

int et_cleanup(void **state)
{
    while (job_count > 0)
    {
        struct ejob *job = jobs[--job_count];
        /* A final job answers BG_E_INVALID_STATE and is left alone. */
        ejob_cancel(job);
        ejob_release(job);
    }
    return 0;
}
