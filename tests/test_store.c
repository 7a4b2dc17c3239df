/* SPDX-License-Identifier: MIT */
/* Tests of the job store (src/engine/store.c): jobs outlive their process, a killed download
 * goes on in the next process from its checkpoint, unreadable records are set aside, and final
 * jobs leave the store at once. Helper processes are this program started again with a verb. */
#include <stdio.h>
#include "testutil.h"
#include <shellapi.h>
#include "core/record.h"
#include "engine/storetags.h"

#define TIMEOUT 20000
#define KILL_SIZE (96u << 20)

static IBackgroundCopyManager *manager;

/* ---- helper processes ---- */

/* Writes the job's id to path: the helper's answer. */
static void write_id(const WCHAR *path, const GUID *id)
{
    WCHAR text[40];
    HANDLE file;
    DWORD written;

    StringFromGUID2(id, text, ARRAY_SIZE(text));
    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot write %ls: %lu", path, GetLastError());
    WriteFile(file, text, (DWORD)(wcslen(text) * sizeof(WCHAR)), &written, NULL);
    CloseHandle(file);
}

/* Reads what write_id wrote, waiting for it; FALSE if nothing came in time. */
static BOOL read_id(const WCHAR *path, GUID *id, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    WCHAR text[40] = {0};
    DWORD read;
    HANDLE file;

    for (;;)
    {
        file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
        if (file != INVALID_HANDLE_VALUE)
        {
            ReadFile(file, text, sizeof(text) - sizeof(WCHAR), &read, NULL);
            CloseHandle(file);
            if (read == 38 * sizeof(WCHAR) && SUCCEEDED(CLSIDFromString(text, id)))
                return TRUE;
        }
        if (GetTickCount64() > deadline)
            return FALSE;
        Sleep(20);
    }
}

/* A helper's job: `name`, with url copied to local. */
static IBackgroundCopyJob *helper_job(IBackgroundCopyManager *own, const WCHAR *name,
                                      const WCHAR *url, const WCHAR *local, GUID *id)
{
    IBackgroundCopyJob *job = NULL;

    IBackgroundCopyManager_CreateJob(own, name, BG_JOB_TYPE_DOWNLOAD, id, &job);
    IBackgroundCopyJob_AddFile(job, url, local);
    return job;
}

/* A helper's job with a description, HIGH priority, and a command line that runs
 * `cmd.exe /c <command>` when the job is transferred, in whatever process. */
static IBackgroundCopyJob *helper_notifying_job(IBackgroundCopyManager *own, const WCHAR *name,
                                                const WCHAR *description, const WCHAR *url,
                                                const WCHAR *local, const WCHAR *command, GUID *id)
{
    IBackgroundCopyJob *job = helper_job(own, name, url, local, id);
    WCHAR parameters[MAX_PATH + 60];
    IBackgroundCopyJob2 *job2;

    IBackgroundCopyJob_SetDescription(job, description);
    IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_HIGH);
    swprintf(parameters, ARRAY_SIZE(parameters), L"cmd.exe /c %ls", command);
    IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2);
    IBackgroundCopyJob2_SetNotifyCmdLine(job2, L"C:\\windows\\system32\\cmd.exe", parameters);
    IBackgroundCopyJob2_Release(job2);
    return job;
}

/* helper create <url> <local> <answer>: makes a job with one file and leaves it there; its
 * command line writes <local>.done. */
static int helper_create(WCHAR **argv)
{
    IBackgroundCopyManager *own = tu_manager();
    WCHAR command[MAX_PATH + 30];
    IBackgroundCopyJob *job;
    GUID id;

    swprintf(command, ARRAY_SIZE(command), L"echo done > \"%ls.done\"", argv[1]);
    job = helper_notifying_job(own, L"stored", L"made by another process", argv[0], argv[1],
                               command, &id);
    write_id(argv[2], &id);
    /* No Cancel, no Complete: the job stays for the next process. */
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(own);
    return 0;
}

/* helper own|ownrun <url> <local> <answer>: makes a job whose command line appends a line to
 * <local>.cmd, resumes it (ownrun), answers, and keeps running until <answer>.release exists;
 * then exits without Cancel or Complete. */
static int helper_own(WCHAR **argv, BOOL resume)
{
    IBackgroundCopyManager *own = tu_manager();
    WCHAR command[MAX_PATH + 30], release[MAX_PATH + 10];
    ULONGLONG deadline = GetTickCount64() + 3 * TIMEOUT;
    IBackgroundCopyJob *job;
    GUID id;

    swprintf(command, ARRAY_SIZE(command), L"echo ran>> \"%ls.cmd\"", argv[1]);
    job = helper_notifying_job(own, L"shared", L"owned by another process", argv[0], argv[1],
                               command, &id);
    if (resume)
        IBackgroundCopyJob_Resume(job);
    write_id(argv[2], &id);
    swprintf(release, ARRAY_SIZE(release), L"%ls.release", argv[2]);
    while (!tu_exists(release) && GetTickCount64() < deadline)
        Sleep(20);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(own);
    return 0;
}

/* helper start <url> <local> <answer>: makes a job, resumes it and exits at once, as
 * `bitsadmin /create`, `/addfile` and `/resume` do one process each. */
static int helper_start(WCHAR **argv)
{
    IBackgroundCopyManager *own = tu_manager();
    IBackgroundCopyJob *job;
    GUID id;

    job = helper_job(own, L"started", argv[0], argv[1], &id);
    IBackgroundCopyJob_Resume(job);
    write_id(argv[2], &id);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(own);
    return 0;
}

/* helper transfer <url> <local> <answer>: starts the job and answers once half of it is in,
 * then waits to be killed. */
static int helper_transfer(WCHAR **argv)
{
    IBackgroundCopyManager *own = tu_manager();
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;
    GUID id;

    job = helper_job(own, L"killed", argv[0], argv[1], &id);
    IBackgroundCopyJob_Resume(job);
    do
    {
        Sleep(20);
        IBackgroundCopyJob_GetProgress(job, &p);
    } while (p.BytesTransferred < KILL_SIZE / 2);
    write_id(argv[2], &id);
    Sleep(INFINITE);
    return 1;
}

/* helper list <answer> [<release>]: writes how many jobs EnumJobs sees, after making and
 * cancelling a new one (the store must keep working whatever it found); with <release>, keeps
 * its jobs until that file exists. */
static int helper_list(WCHAR **argv)
{
    IBackgroundCopyManager *own = tu_manager();
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    ULONG count = 99;
    GUID id = {0};
    HRESULT hr;

    if (FAILED(hr = IBackgroundCopyManager_CreateJob(own, L"new", BG_JOB_TYPE_DOWNLOAD, &id, &job)))
        return 2;
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_EnumJobs(own, 0, &jobs);
    IEnumBackgroundCopyJobs_GetCount(jobs, &count);
    id.Data1 = count;
    write_id(argv[0], &id);
    /* With a second path: the jobs stay loaded here until that file exists. */
    if (argv[1][0])
    {
        ULONGLONG deadline = GetTickCount64() + TIMEOUT;
        while (!tu_exists(argv[1]) && GetTickCount64() < deadline)
            Sleep(20);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    IBackgroundCopyManager_Release(own);
    return 0;
}

static void wait_helper(HANDLE process, DWORD expected_exit)
{
    DWORD code = 0;

    if (WaitForSingleObject(process, TIMEOUT) != WAIT_OBJECT_0)
        fail_msg("the helper process did not end within %u ms", TIMEOUT);
    GetExitCodeProcess(process, &code);
    CloseHandle(process);
    assert_int_equal(expected_exit, code);
}

/* GetJob, polling: the store adopts a job whose owner ended within about a second. */
static IBackgroundCopyJob *wait_job(const GUID *id, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    IBackgroundCopyJob *job = NULL;
    WCHAR text[40];
    HRESULT hr;

    while (FAILED(hr = IBackgroundCopyManager_GetJob(manager, id, &job)))
    {
        if (hr != (HRESULT)BG_E_NOT_FOUND || GetTickCount64() > deadline)
        {
            StringFromGUID2(id, text, ARRAY_SIZE(text));
            fail_msg("GetJob(%ls) answered %08lx for %lu ms", text, hr, timeout_ms);
        }
        Sleep(50);
    }
    return job;
}

static void state_dir(WCHAR *out, size_t size)
{
    if (!GetEnvironmentVariableW(L"OPENDO_STATE_DIR", out, (DWORD)size))
        fail_msg("OPENDO_STATE_DIR is not set");
}

/* The record's path in the store folder `dir`: in the subfolder named after the id's first two
 * hex digits, which is made if it is not there. */
static void record_path(WCHAR *out, size_t size, const WCHAR *dir, const GUID *id,
                        const WCHAR *extension)
{
    WCHAR name[60], shard[MAX_PATH];

    StringFromGUID2(id, name, 40);
    wcscat(name, extension);
    swprintf(shard, ARRAY_SIZE(shard), L"%ls\\%lc%lc", dir, name[1], name[2]);
    CreateDirectoryW(shard, NULL);
    tu_path(out, size, shard, name);
}

/* How many files of the store folder `dir` match `pattern`, in all its subfolders. */
static int count_records(const WCHAR *dir, const WCHAR *pattern)
{
    WCHAR all[MAX_PATH], shard[MAX_PATH];
    WIN32_FIND_DATAW data;
    HANDLE find;
    int count = 0;

    tu_path(all, ARRAY_SIZE(all), dir, L"*");
    if ((find = FindFirstFileW(all, &data)) == INVALID_HANDLE_VALUE)
        return 0;
    do
    {
        if (!(data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || data.cFileName[0] == '.')
            continue;
        tu_path(shard, ARRAY_SIZE(shard), dir, data.cFileName);
        count += tu_count(shard, pattern);
    } while (FindNextFileW(find, &data));
    FindClose(find);
    return count;
}

/* A helper process (in the store `store`, or NULL for the test's) starts a job on `url` and is
 * killed once half of it is in; *id is the job's. */
static void kill_halfway(const WCHAR *store, const WCHAR *url, const WCHAR *local,
                         const WCHAR *answer, GUID *id)
{
    HANDLE helper = tu_start_helper(store, L"transfer", url, local, answer);

    if (!read_id(answer, id, TIMEOUT))
    {
        TerminateProcess(helper, 1);
        CloseHandle(helper);
        fail_msg("the helper did not get half of the file within %u ms", TIMEOUT);
    }
    TerminateProcess(helper, 9);
    wait_helper(helper, 9);
}

/* ---- tests ---- */

/* A job made and left by a process that ended is there, as it was, for the next one. */
static void job_outlives_its_process(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH], store[MAX_PATH];
    WCHAR *text = NULL, *program = NULL, *parameters = NULL, path[MAX_PATH];
    WCHAR expected[MAX_PATH + 40], done[MAX_PATH + 8];
    ULONGLONG deadline;
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob *job;
    IBackgroundCopyFile *file;
    BG_JOB_PRIORITY priority;
    BG_JOB_STATE job_state;
    GUID id;

    tu_scratch("store_outlives", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    wait_helper(tu_start_helper(NULL, L"create", url, local, answer), 0);
    assert_true(read_id(answer, &id, 0));

    job = wait_job(&id, 3000);
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(L"stored", text);
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(L"made by another process", text);
    assert_hr(S_OK, IBackgroundCopyJob_GetPriority(job, &priority));
    assert_int_equal(BG_JOB_PRIORITY_HIGH, priority);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, job_state);
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2));
    assert_hr(S_OK, IBackgroundCopyJob2_GetNotifyCmdLine(job2, &program, &parameters));
    assert_cotask_str(L"C:\\windows\\system32\\cmd.exe", program);
    swprintf(expected, ARRAY_SIZE(expected), L"cmd.exe /c echo done > \"%ls.done\"", local);
    assert_cotask_str(expected, parameters);
    IBackgroundCopyJob2_Release(job2);
    file = tu_job_file(job, 0);
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &text));
    assert_cotask_str(url, text);
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &text));
    assert_cotask_str(local, text);
    IBackgroundCopyFile_Release(file);

    /* It works as any job: it transfers, runs the command line that another process set, and
     * Complete takes it out of the store at once. */
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    swprintf(done, ARRAY_SIZE(done), L"%ls.done", local);
    deadline = GetTickCount64() + TIMEOUT;
    while (!tu_exists(done))
    {
        if (GetTickCount64() > deadline)
            fail_msg("the stored command line did not run within %u ms", TIMEOUT);
        Sleep(50);
    }
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_www(path, ARRAY_SIZE(path), L"hello.txt");
    assert_true(tu_same_file(path, local));
    state_dir(store, ARRAY_SIZE(store));
    record_path(path, ARRAY_SIZE(path), store, &id, L".job");
    assert_false(tu_exists(path));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    IBackgroundCopyJob_Release(job);
    tu_remove_tree(dir);
}

/* A process killed in the middle of a download in parts: the next process adopts the job,
 * which goes on by itself from its last checkpoint, fetching only the parts that are not on
 * disk (most of the file is not fetched again). */
static void killed_download_goes_on(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;
    UINT64 sent;
    GUID id;

    tu_scratch("store_killed", dir, ARRAY_SIZE(dir));
    tu_unique_url(url, ARRAY_SIZE(url), L"throttled/96m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"96m.bin");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    kill_halfway(NULL, url, local, answer, &id);

    /* Adopted within about a second of the owner's end, and on its way again by itself. */
    job = wait_job(&id, 3000);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, 2 * TIMEOUT);
    assert_int_equal(KILL_SIZE, tu_progress(job).BytesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_www(served, ARRAY_SIZE(served), L"96m.bin");
    assert_true(tu_same_file(served, local));
    /* Fetched in parts (four connections of 2 MB/s), before and after the kill: never the
     * whole file in one answer. What the kill loses is what came since the last checkpoint
     * that reached the record, and what the parts in flight had on their way (here about two
     * seconds, 16 MB): less than half again. */
    assert_int_equal(0, tu_access_count(url, 200));
    assert_true(tu_access_count_wait(url, 206, 4) >= 4);
    sent = tu_access_bytes(url);
    if (sent > KILL_SIZE + KILL_SIZE / 2)
        fail_msg("the server sent %llu bytes for a file of %u", (unsigned long long)sent,
                 KILL_SIZE);
    IBackgroundCopyJob_Release(job);
    tu_remove_tree(dir);
}

/* Loads a record into memory; NULL while the store is replacing it (`optional`). */
static BYTE *read_file(const WCHAR *path, DWORD *size, BOOL optional)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL,
                              OPEN_EXISTING, 0, NULL);
    BYTE *data;

    if (file == INVALID_HANDLE_VALUE && optional)
        return NULL;
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", path, GetLastError());
    *size = GetFileSize(file, NULL);
    data = malloc(*size);
    assert_non_null(data);
    assert_true(ReadFile(file, data, *size, size, NULL));
    CloseHandle(file);
    return data;
}

static void write_all(const WCHAR *path, const void *data, DWORD size)
{
    HANDLE file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    DWORD written;

    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot write %ls: %lu", path, GetLastError());
    assert_true(WriteFile(file, data, size, &written, NULL));
    CloseHandle(file);
}

/* Corrupt, truncated and future-version records are set aside; the good one loads and new
 * jobs keep working. */
static void unreadable_records_set_aside(void **state)
{
    WCHAR dir[MAX_PATH], store[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH];
    WCHAR good[MAX_PATH], bad[MAX_PATH];
    BYTE *data, *copy;
    DWORD size;
    GUID id, other;
    uint32_t crc;

    tu_scratch("store_unreadable", dir, ARRAY_SIZE(dir));
    tu_path(store, ARRAY_SIZE(store), dir, L"store");
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    wait_helper(tu_start_helper(store, L"create", url, local, answer), 0);
    assert_true(read_id(answer, &id, 0));
    record_path(good, ARRAY_SIZE(good), store, &id, L".job");
    data = read_file(good, &size, FALSE);
    copy = malloc(size);
    assert_non_null(copy);

    /* Truncated. */
    assert_hr(S_OK, CoCreateGuid(&other));
    record_path(bad, ARRAY_SIZE(bad), store, &other, L".job");
    write_all(bad, data, size / 2);
    /* One byte changed. */
    memcpy(copy, data, size);
    copy[size / 2] ^= 0x40;
    assert_hr(S_OK, CoCreateGuid(&other));
    record_path(bad, ARRAY_SIZE(bad), store, &other, L".job");
    write_all(bad, copy, size);
    /* From a newer OpenDO: the version after the magic, with a checksum that fits. */
    memcpy(copy, data, size);
    copy[4] = RECORD_VERSION + 1;
    crc = record_crc32(copy, size - 4);
    memcpy(copy + size - 4, &crc, 4);
    assert_hr(S_OK, CoCreateGuid(&other));
    record_path(bad, ARRAY_SIZE(bad), store, &other, L".job");
    write_all(bad, copy, size);
    /* Not a record at all. */
    assert_hr(S_OK, CoCreateGuid(&other));
    record_path(bad, ARRAY_SIZE(bad), store, &other, L".job");
    write_all(bad, "garbage", 7);

    DeleteFileW(answer);
    wait_helper(tu_start_helper(store, L"list", answer, NULL, NULL), 0);
    assert_true(read_id(answer, &other, 0));
    /* Only the good job is there; the four others were moved aside, none loaded. */
    assert_int_equal(1, other.Data1);
    assert_int_equal(4, count_records(store, L"*.bad"));
    assert_int_equal(1, count_records(store, L"*.job"));
    free(copy);
    free(data);
    tu_remove_tree(dir);
}

/* A record where an older OpenDO kept it, in the store folder itself, is moved into its
 * subfolder and loaded. */
static void flat_record_moved_in(void **state)
{
    WCHAR dir[MAX_PATH], store[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH];
    WCHAR path[MAX_PATH], flat[MAX_PATH], name[60];
    GUID id, count;

    tu_scratch("store_flat", dir, ARRAY_SIZE(dir));
    tu_path(store, ARRAY_SIZE(store), dir, L"store");
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    wait_helper(tu_start_helper(store, L"create", url, local, answer), 0);
    assert_true(read_id(answer, &id, 0));
    record_path(path, ARRAY_SIZE(path), store, &id, L".job");
    StringFromGUID2(&id, name, 40);
    wcscat(name, L".job");
    tu_path(flat, ARRAY_SIZE(flat), store, name);
    assert_true(MoveFileW(path, flat));

    DeleteFileW(answer);
    wait_helper(tu_start_helper(store, L"list", answer, NULL, NULL), 0);
    assert_true(read_id(answer, &count, 0));
    assert_int_equal(1, count.Data1);
    assert_int_equal(INVALID_FILE_ATTRIBUTES, GetFileAttributesW(flat));
    assert_int_not_equal(INVALID_FILE_ATTRIBUTES, GetFileAttributesW(path));
    tu_remove_tree(dir);
}

/* Rewrites a record with field `tag` set to `text`, or else (a u32 or u64 field) to `value`. */
static void rewrite_field(const WCHAR *path, uint16_t tag, uint64_t value, BOOL wide,
                          const WCHAR *text)
{
    struct record_writer w;
    struct record_reader r;
    struct record_field f;
    uint8_t *out;
    size_t out_size;
    DWORD size;
    BYTE *data = read_file(path, &size, FALSE);

    assert_int_equal(RECORD_OK, record_open(data, size, &r));
    record_writer_init(&w);
    while (record_next(&r, &f))
    {
        if (f.tag != tag)
            record_put_field(&w, &f);
        else if (text)
            record_put_str(&w, tag, (const uint16_t *)text);
        else if (wide)
            record_put_u64(&w, tag, value);
        else
            record_put_u32(&w, tag, (uint32_t)value);
    }
    assert_int_equal(RECORD_OK, record_finish(&w, &out, &out_size));
    record_writer_free(&w);
    write_all(path, out, (DWORD)out_size);
    free(out);
    free(data);
}

/* Rewrites a record with its ModificationTime `days` in the past. */
static void age_record(const WCHAR *path, unsigned int days)
{
    ULARGE_INTEGER when;
    FILETIME now;

    GetSystemTimeAsFileTime(&now);
    when.LowPart = now.dwLowDateTime;
    when.HighPart = now.dwHighDateTime;
    when.QuadPart -= (ULONGLONG)days * 86400 * 10000000;
    rewrite_field(path, TAG_MODIFICATION_TIME, when.QuadPart, TRUE, NULL);
}

/* BITS drops jobs that did not change for 90 days: the next process cancels such a job when it
 * finds it, temporary file included; a younger one stays. */
static void old_jobs_are_dropped(void **state)
{
    WCHAR dir[MAX_PATH], store[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH];
    WCHAR path[MAX_PATH];
    GUID id, count;

    tu_scratch("store_retention", dir, ARRAY_SIZE(dir));
    tu_path(store, ARRAY_SIZE(store), dir, L"store");
    tu_unique_url(url, ARRAY_SIZE(url), L"throttled/96m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"96m.bin");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    /* A job on its way (its temporary file made), whose owner is killed. */
    kill_halfway(store, url, local, answer, &id);
    record_path(path, ARRAY_SIZE(path), store, &id, L".job");
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));

    /* 89 days: kept. */
    age_record(path, 89);
    DeleteFileW(answer);
    wait_helper(tu_start_helper(store, L"list", answer, NULL, NULL), 0);
    assert_true(read_id(answer, &count, 0));
    assert_int_equal(1, count.Data1);
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));

    /* 90 days: cancelled on sight. */
    age_record(path, 90);
    DeleteFileW(answer);
    wait_helper(tu_start_helper(store, L"list", answer, NULL, NULL), 0);
    assert_true(read_id(answer, &count, 0));
    assert_int_equal(0, count.Data1);
    assert_false(tu_exists(path));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    tu_remove_tree(dir);
}

/* A record whose checksum holds but which says what no job can be (a state of 99) is set aside
 * as well; the good record beside it loads. */
static void impossible_records_set_aside(void **state)
{
    WCHAR dir[MAX_PATH], store[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH];
    WCHAR path[MAX_PATH];
    GUID id, count;

    tu_scratch("store_impossible", dir, ARRAY_SIZE(dir));
    tu_path(store, ARRAY_SIZE(store), dir, L"store");
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"good.txt");
    wait_helper(tu_start_helper(store, L"create", url, local, answer), 0);
    DeleteFileW(answer);
    tu_path(local, ARRAY_SIZE(local), dir, L"bad.txt");
    wait_helper(tu_start_helper(store, L"create", url, local, answer), 0);
    assert_true(read_id(answer, &id, 0));
    record_path(path, ARRAY_SIZE(path), store, &id, L".job");
    rewrite_field(path, TAG_STATE, 99, FALSE, NULL);

    DeleteFileW(answer);
    wait_helper(tu_start_helper(store, L"list", answer, NULL, NULL), 0);
    assert_true(read_id(answer, &count, 0));
    assert_int_equal(1, count.Data1);
    assert_int_equal(1, count_records(store, L"*.bad"));
    tu_remove_tree(dir);
}

/* A process resumes a job and exits at once; the next process finds it on its way (or done),
 * and completes it. */
static void job_resumed_by_a_process_that_exited(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH], served[MAX_PATH];
    IBackgroundCopyJob *job;
    GUID id;

    tu_scratch("store_started", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    wait_helper(tu_start_helper(NULL, L"start", url, local, answer), 0);
    assert_true(read_id(answer, &id, 0));
    job = wait_job(&id, 3000);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    assert_true(tu_same_file(served, local));
    IBackgroundCopyJob_Release(job);
    tu_remove_tree(dir);
}

/* The process that owns a job, as its record says (0 if the record cannot be read now). */
static DWORD record_owner(const WCHAR *path)
{
    struct record_reader r;
    struct record_field f;
    uint32_t pid = 0;
    DWORD size;
    BYTE *data = read_file(path, &size, TRUE);

    if (!data)
        return 0;
    if (record_open(data, size, &r) == RECORD_OK)
    {
        while (record_next(&r, &f))
        {
            if (f.tag == TAG_OWNER_PID)
                record_get_u32(&f, &pid);
        }
    }
    free(data);
    return pid;
}

/* Two processes that open one store at the same moment: each job is owned by exactly one, and
 * both see all of them. */
static void two_processes_start_at_once(void **state)
{
    WCHAR dir[MAX_PATH], store[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[2][MAX_PATH];
    WCHAR name[32], release[MAX_PATH];
    HANDLE helpers[2];
    GUID count[2], ids[3];
    ULONGLONG deadline;
    int jobs = 3;

    tu_scratch("store_at_once", dir, ARRAY_SIZE(dir));
    tu_path(store, ARRAY_SIZE(store), dir, L"store");
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    for (int i = 0; i < jobs; i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"file%d.txt", i);
        tu_path(local, ARRAY_SIZE(local), dir, name);
        tu_path(answer[0], MAX_PATH, dir, L"answer.txt");
        DeleteFileW(answer[0]);
        wait_helper(tu_start_helper(store, L"create", url, local, answer[0]), 0);
        assert_true(read_id(answer[0], &ids[i], 0));
    }
    tu_path(release, ARRAY_SIZE(release), dir, L"release.txt");
    for (int i = 0; i < 2; i++)
    {
        swprintf(name, ARRAY_SIZE(name), L"count%d.txt", i);
        tu_path(answer[i], MAX_PATH, dir, name);
        helpers[i] = tu_start_helper(store, L"list", answer[i], release, NULL);
    }
    /* Both answer while both are alive: each sees every job. */
    for (int i = 0; i < 2; i++)
        assert_true(read_id(answer[i], &count[i], TIMEOUT));
    if (count[0].Data1 != (ULONG)jobs || count[1].Data1 != (ULONG)jobs)
        fail_msg("the two processes saw %lu and %lu of %d jobs", count[0].Data1, count[1].Data1,
                 jobs);
    /* Each job was adopted by one of them (an adopter writes the record again, as its own); a
     * second adopter would have found the lock taken. */
    for (int i = 0; i < jobs; i++)
    {
        DWORD owner;

        record_path(local, ARRAY_SIZE(local), store, &ids[i], L".job");
        deadline = GetTickCount64() + 3000;
        while ((owner = record_owner(local)) != GetProcessId(helpers[0]) &&
               owner != GetProcessId(helpers[1]))
        {
            if (GetTickCount64() > deadline)
                fail_msg("job %d is owned by process %04lx, neither helper", i, owner);
            Sleep(50);
        }
    }
    write_all(release, "go", 2);
    for (int i = 0; i < 2; i++)
        wait_helper(helpers[i], 0);
    assert_int_equal(jobs, count_records(store, L"*.job"));
    assert_int_equal(0, count_records(store, L"*.bad"));
    tu_remove_tree(dir);
}

/* Waits until the record at `path` names `pid` as its owner (an adopter writes it again). */
static void wait_owner(const WCHAR *path, DWORD pid, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    DWORD owner;

    while ((owner = record_owner(path)) != pid)
    {
        if (GetTickCount64() > deadline)
            fail_msg("the record's owner is %04lx, not %04lx", owner, pid);
        Sleep(50);
    }
}

/* Jobs are owned through named locks; earlier versions held a lock file per job instead. A
 * job whose lock file is held stays with that process until it lets go; a lock file nobody
 * holds is left over, and goes when the job is adopted. */
static void lock_files_of_earlier_versions(void **state)
{
    WCHAR dir[MAX_PATH], store[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH];
    WCHAR release[MAX_PATH], record[2][MAX_PATH], lock[2][MAX_PATH];
    HANDLE held, stale, helper;
    GUID ids[2], count;
    DWORD pid;

    tu_scratch("store_lock_files", dir, ARRAY_SIZE(dir));
    tu_path(store, ARRAY_SIZE(store), dir, L"store");
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    for (int i = 0; i < 2; i++)
    {
        tu_path(local, ARRAY_SIZE(local), dir, i ? L"two.txt" : L"one.txt");
        DeleteFileW(answer);
        wait_helper(tu_start_helper(store, L"create", url, local, answer), 0);
        assert_true(read_id(answer, &ids[i], 0));
        record_path(record[i], MAX_PATH, store, &ids[i], L".job");
        record_path(lock[i], MAX_PATH, store, &ids[i], L".lock");
    }
    /* The first job's lock file is held, as a running earlier version would; the second's is
     * there, held by nobody. */
    held = CreateFileW(lock[0], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE,
                       NULL);
    assert_true(held != INVALID_HANDLE_VALUE);
    stale = CreateFileW(lock[1], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(stale != INVALID_HANDLE_VALUE);
    CloseHandle(stale);

    DeleteFileW(answer);
    tu_path(release, ARRAY_SIZE(release), dir, L"release.txt");
    helper = tu_start_helper(store, L"list", answer, release, NULL);
    pid = GetProcessId(helper);
    assert_true(read_id(answer, &count, TIMEOUT));
    assert_int_equal(2, count.Data1);
    /* The job with no live owner is adopted, and its old lock file goes. */
    wait_owner(record[1], pid, 3000);
    assert_int_equal(INVALID_FILE_ATTRIBUTES, GetFileAttributesW(lock[1]));
    /* The other stays with the holder of its lock file, looked at several times meanwhile. */
    Sleep(1500);
    assert_int_not_equal(pid, record_owner(record[0]));
    /* Once the holder lets go, the next look adopts it. */
    CloseHandle(held);
    wait_owner(record[0], pid, 3000);

    write_all(release, "go", 2);
    wait_helper(helper, 0);
    assert_int_equal(2, count_records(store, L"*.job"));
    assert_int_equal(0, count_records(store, L"*.lock"));
    tu_remove_tree(dir);
}

/* Cancel and Complete take the record away before they return; other changes reach it
 * within a second. */
static void records_follow_the_job(void **state)
{
    WCHAR dir[MAX_PATH], store[MAX_PATH], path[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    static const WCHAR marker[] = L"a description to look for";
    ULONGLONG deadline;
    IBackgroundCopyJob *job;
    BYTE *data;
    DWORD size;
    GUID id;
    BOOL found;

    tu_scratch("store_follow", dir, ARRAY_SIZE(dir));
    state_dir(store, ARRAY_SIZE(store));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"follow", BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &job));
    record_path(path, ARRAY_SIZE(path), store, &id, L".job");
    /* On disk with the store's next batch, as every change. */
    deadline = GetTickCount64() + 1000;
    while (!tu_exists(path))
    {
        assert_true(GetTickCount64() < deadline);
        Sleep(10);
    }
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, marker));
    deadline = GetTickCount64() + 1500;
    for (;;)
    {
        found = FALSE;
        if ((data = read_file(path, &size, TRUE)))
        {
            for (DWORD i = 0; i + sizeof(marker) - 2 <= size && !found; i++)
                found = !memcmp(data + i, marker, sizeof(marker) - 2);
            free(data);
        }
        if (found)
            break;
        if (GetTickCount64() > deadline)
            fail_msg("the record did not get the new description within 1.5 s");
        Sleep(50);
    }
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_false(tu_exists(path));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    IBackgroundCopyJob_Release(job);
    tu_remove_tree(dir);
}

/* ---- sharing between live processes ---- */

/* A callback that counts what it is told. */
struct events
{
    IBackgroundCopyCallback IBackgroundCopyCallback_iface;
    LONG transferred;
    LONG errors;
    LONG modifications;
    HANDLE transferred_event;
};

static struct events *impl_from_callback(IBackgroundCopyCallback *iface)
{
    return CONTAINING_RECORD(iface, struct events, IBackgroundCopyCallback_iface);
}

static HRESULT WINAPI events_QueryInterface(IBackgroundCopyCallback *iface, REFIID riid, void **out)
{
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IBackgroundCopyCallback))
    {
        *out = iface;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

/* The object lives on the test's stack, for longer than any job holds it. */
static ULONG WINAPI events_AddRef(IBackgroundCopyCallback *iface)
{
    return 2;
}

static ULONG WINAPI events_Release(IBackgroundCopyCallback *iface)
{
    return 1;
}

static HRESULT WINAPI events_JobTransferred(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job)
{
    struct events *events = impl_from_callback(iface);

    InterlockedIncrement(&events->transferred);
    SetEvent(events->transferred_event);
    return S_OK;
}

static HRESULT WINAPI events_JobError(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job,
                                      IBackgroundCopyError *error)
{
    InterlockedIncrement(&impl_from_callback(iface)->errors);
    return S_OK;
}

static HRESULT WINAPI events_JobModification(IBackgroundCopyCallback *iface,
                                             IBackgroundCopyJob *job, DWORD reserved)
{
    InterlockedIncrement(&impl_from_callback(iface)->modifications);
    return S_OK;
}

static const IBackgroundCopyCallbackVtbl events_vtbl = {
    events_QueryInterface, events_AddRef,   events_Release,
    events_JobTransferred, events_JobError, events_JobModification,
};

/* Waits until the record at path holds the string `text`, for timeout_ms at most. */
static void wait_record_text(const WCHAR *path, const WCHAR *text, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    size_t len = wcslen(text) * sizeof(WCHAR);
    BOOL found = FALSE;
    BYTE *data;
    DWORD size;

    while (!found)
    {
        if ((data = read_file(path, &size, TRUE)))
        {
            for (DWORD i = 0; i + len <= size && !found; i++)
                found = !memcmp(data + i, text, len);
            free(data);
        }
        if (!found && GetTickCount64() > deadline)
            fail_msg("the record did not get %ls within %lu ms", text, timeout_ms);
        Sleep(20);
    }
}

/* Lines in a text file, 0 if there is none. */
static int count_lines(const WCHAR *path)
{
    DWORD size;
    BYTE *data = read_file(path, &size, TRUE);
    int lines = 0;

    if (!data)
        return 0;
    for (DWORD i = 0; i < size; i++)
        lines += data[i] == '\n';
    free(data);
    return lines;
}

/* A job that another live process owns: seen here at once with its properties, controlled
 * from here (setters, AddFile, Resume, Complete), transferred by its owner, whose command line
 * runs once; the callback registered here fires here. */
static void live_processes_share_jobs(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], url2[MAX_PATH], local[MAX_PATH], local2[MAX_PATH];
    WCHAR answer[MAX_PATH], release[MAX_PATH + 10], store[MAX_PATH], record[MAX_PATH];
    WCHAR served[MAX_PATH], cmd[MAX_PATH + 8], *text;
    static const WCHAR marker[] = L"described in the other process";
    struct events events = {{&events_vtbl}};
    IEnumBackgroundCopyJobs *jobs;
    IDeliveryOptimizationFile2 *do_file;
    IBackgroundCopyJob *job, *listed;
    IBackgroundCopyFile *file;
    BG_JOB_PRIORITY priority;
    BG_JOB_STATE job_state;
    BG_JOB_PROGRESS progress;
    IStream *stream;
    VARIANT v;
    HANDLE helper;
    BOOL seen = FALSE;
    GUID id, other;

    tu_scratch("store_shared", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_url(url2, ARRAY_SIZE(url2), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    tu_path(local2, ARRAY_SIZE(local2), dir, L"4m.bin");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    swprintf(release, ARRAY_SIZE(release), L"%ls.release", answer);
    swprintf(cmd, ARRAY_SIZE(cmd), L"%ls.cmd", local);
    helper = tu_start_helper(NULL, L"own", url, local, answer);
    assert_true(read_id(answer, &id, TIMEOUT));
    state_dir(store, ARRAY_SIZE(store));
    record_path(record, ARRAY_SIZE(record), store, &id, L".job");

    /* Seen at once, as its owner made it. */
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(L"shared", text);
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(L"owned by another process", text);
    assert_hr(S_OK, IBackgroundCopyJob_GetPriority(job, &priority));
    assert_int_equal(BG_JOB_PRIORITY_HIGH, priority);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, job_state);
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &listed, NULL) == S_OK)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetId(listed, &other));
        seen |= IsEqualGUID(&id, &other);
        IBackgroundCopyJob_Release(listed);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    assert_true(seen);
    /* Its bytes arrive in the other process: a stream of this one cannot take them. */
    file = tu_job_file(job, 0);
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IDeliveryOptimizationFile2,
                                                       (void **)&do_file));
    assert_hr(S_OK, CreateStreamOnHGlobal(NULL, TRUE, &stream));
    V_VT(&v) = VT_UNKNOWN;
    V_UNKNOWN(&v) = (IUnknown *)stream;
    assert_hr(E_NOTIMPL, IDeliveryOptimizationFile2_SetProperty(
                             do_file, DOFilePropertyId_DownloadSinkInterface, &v));
    IStream_Release(stream);
    IDeliveryOptimizationFile2_Release(do_file);
    IBackgroundCopyFile_Release(file);

    /* A setter here reaches the owner (and its record) within a second; AddFile and Resume
     * are done by the owner before they return. */
    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, marker));
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(marker, text);
    wait_record_text(record, marker, 1500);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url2, local2));
    progress = tu_progress(job);
    assert_int_equal(2, progress.FilesTotal);
    events.transferred_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(
                        job, (IUnknown *)&events.IBackgroundCopyCallback_iface));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_not_equal(BG_JOB_STATE_SUSPENDED, job_state);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    /* The owner did the transfer; this process's callback heard of it. */
    assert_int_equal(GetProcessId(helper), record_owner(record));
    assert_int_equal(WAIT_OBJECT_0, WaitForSingleObject(events.transferred_event, TIMEOUT));
    /* The command line ran in the owner, once. */
    tu_wait_count(dir, L"hello.txt.cmd", 1, TIMEOUT);
    Sleep(1500);
    assert_int_equal(1, count_lines(cmd));
    assert_int_equal(1, events.transferred);

    /* Complete, done by the owner: the files are there, the record and the temporary files
     * are gone. */
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_ACKNOWLEDGED, job_state);
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    assert_true(tu_same_file(served, local));
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    assert_true(tu_same_file(served, local2));
    assert_false(tu_exists(record));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_hr(BG_E_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &id, &listed));
    IBackgroundCopyJob_Release(job);
    write_all(release, "go", 2);
    wait_helper(helper, 0);
    CloseHandle(events.transferred_event);
    tu_remove_tree(dir);
}

/* The owner of a transferring job exits: this process, which shows the job, adopts it within
 * two seconds and goes on from the owner's checkpoint. */
static void owner_that_ends_is_replaced(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH];
    WCHAR release[MAX_PATH + 10], store[MAX_PATH], record[MAX_PATH];
    BG_JOB_PROGRESS before, after;
    IBackgroundCopyJob *job;
    ULONGLONG ended, deadline;
    HANDLE helper;
    GUID id;

    tu_scratch("store_replaced", dir, ARRAY_SIZE(dir));
    tu_unique_url(url, ARRAY_SIZE(url), L"throttled/96m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"96m.bin");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    swprintf(release, ARRAY_SIZE(release), L"%ls.release", answer);
    helper = tu_start_helper(NULL, L"ownrun", url, local, answer);
    assert_true(read_id(answer, &id, TIMEOUT));
    state_dir(store, ARRAY_SIZE(store));
    record_path(record, ARRAY_SIZE(record), store, &id, L".job");
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &job));

    /* The view moves with the owner's transfer: the owner's record has its progress at least
     * every second or so, and this process reads it again within 250 ms of a change. */
    tu_wait_bytes(job, 1 << 20, TIMEOUT);
    before = tu_progress(job);
    deadline = GetTickCount64() + 3000;
    do
    {
        Sleep(50);
        after = tu_progress(job);
    } while (after.BytesTransferred <= before.BytesTransferred && GetTickCount64() < deadline);
    assert_true(after.BytesTransferred > before.BytesTransferred);

    write_all(release, "go", 2);
    wait_helper(helper, 0);
    ended = GetTickCount64();
    while (record_owner(record) != GetCurrentProcessId())
    {
        if (GetTickCount64() - ended > 2000)
            fail_msg("the job was not adopted within 2 s of its owner's exit");
        Sleep(20);
    }
    /* It goes on here. */
    before = tu_progress(job);
    tu_wait_bytes(job, before.BytesTransferred + (2 << 20), TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_false(tu_exists(record));
    tu_wait_count(dir, L"BIT*.tmp", 0, TIMEOUT);
    IBackgroundCopyJob_Release(job);
    tu_remove_tree(dir);
}

/* BITS: the jobs of every user are for administrators. */
static void all_users_needs_an_administrator(void **state)
{
    IEnumBackgroundCopyJobs *jobs = (void *)0xdeadbeef;
    HANDLE token = tu_token_without_admins();

    assert_true(SetThreadToken(NULL, token));
    assert_hr(E_ACCESSDENIED,
              IBackgroundCopyManager_EnumJobs(manager, BG_JOB_ENUM_ALL_USERS, &jobs));
    assert_null(jobs);
    /* Its own jobs a user may always list. */
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    IEnumBackgroundCopyJobs_Release(jobs);
    assert_true(RevertToSelf());
    CloseHandle(token);
}

/* A record of another user in the store is not this user's to see or run. */
static void other_users_jobs_are_refused(void **state)
{
    WCHAR dir[MAX_PATH], store[MAX_PATH], url[MAX_PATH], local[MAX_PATH], answer[MAX_PATH];
    WCHAR path[MAX_PATH];
    IBackgroundCopyJob *job = (void *)0xdeadbeef;
    GUID id;

    tu_scratch("store_other_user", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    tu_path(answer, ARRAY_SIZE(answer), dir, L"answer.txt");
    /* Made in a store of its own, then given to another user and put into ours. */
    tu_path(store, ARRAY_SIZE(store), dir, L"store");
    wait_helper(tu_start_helper(store, L"create", url, local, answer), 0);
    assert_true(read_id(answer, &id, 0));
    record_path(path, ARRAY_SIZE(path), store, &id, L".job");
    rewrite_field(path, TAG_OWNER_SID, 0, FALSE, L"S-1-5-21-1-2-3-1001");
    state_dir(store, ARRAY_SIZE(store));
    record_path(local, ARRAY_SIZE(local), store, &id, L".job");
    assert_true(MoveFileW(path, local));
    assert_hr(E_ACCESSDENIED, IBackgroundCopyManager_GetJob(manager, &id, &job));
    assert_null(job);
    /* Left as it is, for its user. */
    assert_true(tu_exists(local));
    assert_true(DeleteFileW(local));
    tu_remove_tree(dir);
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_follow_the_job),
        cmocka_unit_test(job_outlives_its_process),
        cmocka_unit_test(unreadable_records_set_aside),
        cmocka_unit_test(flat_record_moved_in),
        cmocka_unit_test(old_jobs_are_dropped),
        cmocka_unit_test(impossible_records_set_aside),
        cmocka_unit_test(two_processes_start_at_once),
        cmocka_unit_test(lock_files_of_earlier_versions),
        cmocka_unit_test(job_resumed_by_a_process_that_exited),
        cmocka_unit_test(killed_download_goes_on),
        cmocka_unit_test(live_processes_share_jobs),
        cmocka_unit_test(owner_that_ends_is_replaced),
        cmocka_unit_test(all_users_needs_an_administrator),
        cmocka_unit_test(other_users_jobs_are_refused),
    };
    int argc;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);

    if (argc >= 3 && !wcscmp(argv[1], L"helper"))
    {
        int result = 2;
        CoInitializeEx(NULL, COINIT_MULTITHREADED);
        if (!wcscmp(argv[2], L"create") && argc >= 6)
            result = helper_create(argv + 3);
        else if (!wcscmp(argv[2], L"start") && argc >= 6)
            result = helper_start(argv + 3);
        else if (!wcscmp(argv[2], L"transfer") && argc >= 6)
            result = helper_transfer(argv + 3);
        else if (!wcscmp(argv[2], L"list") && argc >= 5)
            result = helper_list(argv + 3);
        else if (!wcscmp(argv[2], L"own") && argc >= 6)
            result = helper_own(argv + 3, FALSE);
        else if (!wcscmp(argv[2], L"ownrun") && argc >= 6)
            result = helper_own(argv + 3, TRUE);
        CoUninitialize();
        ExitProcess(result);
    }
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
