/* SPDX-License-Identifier: MIT */
/* The bandwidth policy (src/engine/bandwidth.c) seen through BITS jobs: which jobs a cap holds,
 * that jobs and processes share it, and that a paced job still stops and delivers whole files. */

/*
 * The caps are set through the environment (OPENDO_MAX_*_BANDWIDTH, read at every read) and
 * once through DO's policy key in the prefix's registry, which every process reads: this test
 * runs alone (RUN_SERIAL). A cap's effect is asserted as a lower bound on the time a transfer
 * takes (bytes / cap, less the 50 ms a class may take at once), which a slow machine cannot
 * break; a job that must not be capped gets a bound far above what it needs uncapped and far
 * below what the cap would make it take.
 */
#include "testutil.h"
#include <shellapi.h>

#define POLICY_KEY L"SOFTWARE\\Policies\\Microsoft\\Windows\\DeliveryOptimization"
#define TIMEOUT 60000
#define MIB (1024 * 1024)
/* How long the engine keeps what it read from the registry. */
#define POLICY_TTL_MS 2000

static IBackgroundCopyManager *manager;
static IBackgroundCopyJob *jobs[8];
static int job_count;

static int setup(void **state)
{
    manager = tu_manager();
    return 0;
}

static int teardown(void **state)
{
    HKEY key;

    while (job_count)
        tu_cancel_release(jobs[--job_count]);
    IBackgroundCopyManager_Release(manager);
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", NULL);
    SetEnvironmentVariableW(L"OPENDO_MAX_FOREGROUND_BANDWIDTH", NULL);
    if (!RegOpenKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, KEY_SET_VALUE, &key))
    {
        RegDeleteValueW(key, L"DOMaxBackgroundDownloadBandwidth");
        RegCloseKey(key);
    }
    return 0;
}

/* A suspended job with `path` of the test server as dir\name, at `priority`. */
static IBackgroundCopyJob *new_job(const WCHAR *path, const WCHAR *dir, const WCHAR *name,
                                   BG_JOB_PRIORITY priority)
{
    WCHAR url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    tu_url(url, ARRAY_SIZE(url), path);
    tu_path(local, ARRAY_SIZE(local), dir, name);
    job = tu_job_with_file(manager, url, local);
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, priority));
    return jobs[job_count++] = job;
}

/* Resumes the jobs, waits for each to be transferred, completes them and checks their bytes
 * against 4m.bin; returns the milliseconds from the first Resume to the last transfer. */
static DWORD run_jobs(IBackgroundCopyJob **list, int count, const WCHAR *dir)
{
    WCHAR name[32], local[MAX_PATH], www[MAX_PATH];
    ULONGLONG start = GetTickCount64();
    DWORD elapsed;

    for (int i = 0; i < count; i++)
        assert_hr(S_OK, IBackgroundCopyJob_Resume(list[i]));
    for (int i = 0; i < count; i++)
        tu_wait_state(list[i], BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    elapsed = (DWORD)(GetTickCount64() - start);
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    for (int i = 0; i < count; i++)
    {
        assert_hr(S_OK, IBackgroundCopyJob_Complete(list[i]));
        swprintf(name, ARRAY_SIZE(name), L"%d.bin", i);
        tu_path(local, ARRAY_SIZE(local), dir, name);
        if (!tu_same_file(www, local))
            fail_msg("%ls differs from the served 4m.bin", local);
    }
    return elapsed;
}

/* Fails unless `elapsed` ms is at least what `bytes` take at `kib_per_s`, less the burst. */
static void assert_paced(DWORD elapsed, UINT64 bytes, UINT64 kib_per_s, const char *what)
{
    DWORD least = (DWORD)(bytes * 1000 / (kib_per_s * 1024)) - 100;

    if (elapsed < least)
        fail_msg("%s took %lu ms; a cap of %llu KB/s allows no less than %lu ms", what, elapsed,
                 (unsigned long long)kib_per_s, least);
}

static void background_jobs_share_the_background_cap(void **state)
{
    IBackgroundCopyJob *list[2];
    WCHAR dir[MAX_PATH];
    DWORD elapsed;

    /* Two jobs of 4 MiB under one cap of 2 MiB/s: 4 s together (2 s each if each had the cap,
     * a fraction of a second uncapped). */
    tu_scratch("bandwidth_background", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", L"2048");
    list[0] = new_job(L"4m.bin", dir, L"0.bin", BG_JOB_PRIORITY_NORMAL);
    list[1] = new_job(L"4m.bin", dir, L"1.bin", BG_JOB_PRIORITY_LOW);
    elapsed = run_jobs(list, 2, dir);
    assert_paced(elapsed, 8 * MIB, 2048, "two background jobs of 4 MiB");
}

static void foreground_job_is_not_under_the_background_cap(void **state)
{
    IBackgroundCopyJob *list[1];
    WCHAR dir[MAX_PATH];
    DWORD elapsed;

    /* 64 s under the background cap; well under a second without it. */
    tu_scratch("bandwidth_foreground_free", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", L"64");
    list[0] = new_job(L"4m.bin", dir, L"0.bin", BG_JOB_PRIORITY_FOREGROUND);
    elapsed = run_jobs(list, 1, dir);
    if (elapsed > 20000)
        fail_msg("a foreground job took %lu ms for 4 MiB under a background cap of 64 KB/s",
                 elapsed);
}

static void foreground_job_does_not_wait_for_capped_ones(void **state)
{
    IBackgroundCopyJob *background[5], *foreground[1];
    WCHAR dir[MAX_PATH], name[32];
    ULONGLONG deadline;
    DWORD elapsed;

    /* Background jobs on every ordinary worker, kept there by a cap (a minute each at least):
     * a foreground job starts beside them at once, as in BITS and DO. */
    tu_scratch("bandwidth_foreground_beside", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", L"64");
    for (int i = 0; i < (int)ARRAY_SIZE(background); i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"background%d.bin", i);
        background[i] = new_job(L"4m.bin", dir, name, BG_JOB_PRIORITY_NORMAL);
        assert_hr(S_OK, IBackgroundCopyJob_Resume(background[i]));
    }
    deadline = GetTickCount64() + TIMEOUT;
    while (tu_count_in_state(background, ARRAY_SIZE(background), BG_JOB_STATE_TRANSFERRING) < 4)
    {
        if (GetTickCount64() > deadline)
            fail_msg("four background jobs did not start transferring");
        Sleep(10);
    }
    assert_int_equal(1, tu_count_in_state(background, ARRAY_SIZE(background), BG_JOB_STATE_QUEUED));

    foreground[0] = new_job(L"4m.bin", dir, L"0.bin", BG_JOB_PRIORITY_FOREGROUND);
    elapsed = run_jobs(foreground, 1, dir);
    if (elapsed > 20000)
        fail_msg("a foreground job took %lu ms for 4 MiB beside capped background jobs", elapsed);
}

static void foreground_cap_holds_foreground_jobs(void **state)
{
    IBackgroundCopyJob *list[1];
    WCHAR dir[MAX_PATH];
    DWORD elapsed;

    tu_scratch("bandwidth_foreground", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_MAX_FOREGROUND_BANDWIDTH", L"2048");
    list[0] = new_job(L"4m.bin", dir, L"0.bin", BG_JOB_PRIORITY_FOREGROUND);
    elapsed = run_jobs(list, 1, dir);
    assert_paced(elapsed, 4 * MIB, 2048, "a foreground job of 4 MiB");
}

/* ---- another process under the same cap ---- */

/* The child: downloads `url` to `local` as a background job, completes it; 0 on success. */
static int helper_download(const WCHAR *url, const WCHAR *local)
{
    ULONGLONG deadline = GetTickCount64() + TIMEOUT;
    IBackgroundCopyManager *child_manager;
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    GUID id;
    int result = 1;

    child_manager = tu_manager();
    if (FAILED(IBackgroundCopyManager_CreateJob(child_manager, L"child", BG_JOB_TYPE_DOWNLOAD, &id,
                                                &job)))
        return 2;
    if (SUCCEEDED(IBackgroundCopyJob_AddFile(job, url, local)) &&
        SUCCEEDED(IBackgroundCopyJob_Resume(job)))
    {
        while (SUCCEEDED(IBackgroundCopyJob_GetState(job, &job_state)) &&
               job_state != BG_JOB_STATE_TRANSFERRED && job_state != BG_JOB_STATE_ERROR &&
               GetTickCount64() < deadline)
            Sleep(10);
        if (job_state == BG_JOB_STATE_TRANSFERRED && IBackgroundCopyJob_Complete(job) == S_OK)
            result = 0;
    }
    if (result)
        IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(child_manager);
    return result;
}

static void processes_share_the_cap(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    IBackgroundCopyJob *list[1];
    ULONGLONG start;
    HANDLE helper;
    DWORD code, elapsed;

    /* This process and another one each fetch 4 MiB under a cap of 2 MiB/s that both read
     * from the environment: 4 s for both if they share the cap, 2 s if each had its own. */
    tu_scratch("bandwidth_processes", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", L"2048");
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"child.bin");
    list[0] = new_job(L"4m.bin", dir, L"0.bin", BG_JOB_PRIORITY_NORMAL);
    start = GetTickCount64();
    /* The child shares the test's store, and so its clocks. */
    helper = tu_start_helper(NULL, L"download", url, local, NULL);
    run_jobs(list, 1, dir);
    assert_int_equal(WAIT_OBJECT_0, WaitForSingleObject(helper, TIMEOUT));
    elapsed = (DWORD)(GetTickCount64() - start);
    assert_true(GetExitCodeProcess(helper, &code));
    CloseHandle(helper);
    assert_int_equal(0, code);
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    assert_true(tu_same_file(www, local));
    assert_paced(elapsed, 8 * MIB, 2048, "two processes' jobs of 4 MiB");
}

static void paced_job_stops_and_resumes(void **state)
{
    WCHAR dir[MAX_PATH], www[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    ULONGLONG start;
    UINT64 before;
    DWORD took;

    /* At 32 KB/s a fetch spends its time waiting for the cap: Suspend stops it within the
     * engine's wait slices (100 ms), not the 1.5 s after which Suspend stops waiting. */
    tu_scratch("bandwidth_stop", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", L"32");
    job = new_job(L"4m.bin", dir, L"0.bin", BG_JOB_PRIORITY_NORMAL);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, 64 * 1024, TIMEOUT);
    start = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    took = (DWORD)(GetTickCount64() - start);
    if (took >= 1400)
        fail_msg("Suspend of a paced job took %lu ms", took);
    before = tu_progress(job).BytesTransferred;
    Sleep(300);
    assert_true(tu_progress(job).BytesTransferred == before);
    /* Uncapped, it goes on from there and the file comes whole. */
    SetEnvironmentVariableW(L"OPENDO_MAX_BACKGROUND_BANDWIDTH", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"0.bin");
    assert_true(tu_same_file(www, local));
}

static void policy_key_caps_background_jobs(void **state)
{
    IBackgroundCopyJob *list[1];
    DWORD value = 2048, elapsed;
    WCHAR dir[MAX_PATH];
    HKEY key;

    /* DO's group policy, as an administrator sets it; the engine reads it within 2 s. */
    tu_scratch("bandwidth_policy", dir, ARRAY_SIZE(dir));
    assert_int_equal(ERROR_SUCCESS, RegCreateKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, NULL, 0,
                                                    KEY_SET_VALUE, NULL, &key, NULL));
    assert_int_equal(ERROR_SUCCESS, RegSetValueExW(key, L"DOMaxBackgroundDownloadBandwidth", 0,
                                                   REG_DWORD, (const BYTE *)&value, sizeof(value)));
    RegCloseKey(key);
    Sleep(POLICY_TTL_MS + 100);
    list[0] = new_job(L"4m.bin", dir, L"0.bin", BG_JOB_PRIORITY_HIGH);
    elapsed = run_jobs(list, 1, dir);
    assert_paced(elapsed, 4 * MIB, 2048, "a background job of 4 MiB under the policy key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(background_jobs_share_the_background_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(foreground_job_is_not_under_the_background_cap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(foreground_job_does_not_wait_for_capped_ones, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(foreground_cap_holds_foreground_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(processes_share_the_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(paced_job_stops_and_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(policy_key_caps_background_jobs, setup, teardown),
    };
    int argc, result;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);

    if (argc >= 5 && !wcscmp(argv[1], L"helper") && !wcscmp(argv[2], L"download"))
    {
        CoInitializeEx(NULL, COINIT_MULTITHREADED);
        result = helper_download(argv[3], argv[4]);
        CoUninitialize();
        return result;
    }
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
