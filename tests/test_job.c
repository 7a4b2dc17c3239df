/* SPDX-License-Identifier: MIT */
/* The COM job object: defaults, getters and setters, AddFile validation, final states, QI, gaps. */
#include "testutil.h"
#include <sddl.h>

/* The web server is never contacted here: these jobs are not resumed (or have no files). */
#define REMOTE L"http://127.0.0.1:1/file.bin"

static IBackgroundCopyJob *new_job(IBackgroundCopyManager *manager, const WCHAR *name, GUID *id)
{
    IBackgroundCopyJob *job = NULL;
    GUID ignored;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, name, BG_JOB_TYPE_DOWNLOAD,
                                                     id ? id : &ignored, &job));
    return job;
}

static void fill(WCHAR *buffer, size_t length)
{
    for (size_t i = 0; i < length; i++)
        buffer[i] = L'A' + (WCHAR)(i % 26);
    buffer[length] = 0;
}

static ULONGLONG filetime(const FILETIME *ft)
{
    return ((ULONGLONG)ft->dwHighDateTime << 32) | ft->dwLowDateTime;
}

static ULONGLONG now(void)
{
    FILETIME ft;

    GetSystemTimeAsFileTime(&ft);
    return filetime(&ft);
}

/* Waits (bounded) until the system clock has moved past `since`, so a new time stamp differs. */
static ULONGLONG clock_after(ULONGLONG since)
{
    ULONGLONG deadline = GetTickCount64() + 2000, t;

    while ((t = now()) <= since)
    {
        if (GetTickCount64() > deadline)
            fail_msg("the system clock did not advance");
        Sleep(1);
    }
    return t;
}

static ULONG files_total(IBackgroundCopyJob *job)
{
    BG_JOB_PROGRESS progress;

    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    return progress.FilesTotal;
}

static void test_defaults(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS progress;
    BG_JOB_PRIORITY priority;
    BG_JOB_STATE job_state;
    BG_JOB_TIMES times;
    BG_JOB_TYPE type;
    ULONGLONG before, after;
    ULONG value;
    LPWSTR text;
    GUID id, got;

    before = now();
    job = new_job(manager, L"defaults", &id);
    after = now();

    assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &got));
    assert_true(IsEqualGUID(&got, &id));
    assert_hr(S_OK, IBackgroundCopyJob_GetType(job, &type));
    assert_int_equal(type, BG_JOB_TYPE_DOWNLOAD);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_SUSPENDED);
    assert_hr(S_OK, IBackgroundCopyJob_GetPriority(job, &priority));
    assert_int_equal(priority, BG_JOB_PRIORITY_NORMAL);
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyFlags(job, &value));
    assert_int_equal(value, BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR);
    assert_hr(S_OK, IBackgroundCopyJob_GetMinimumRetryDelay(job, &value));
    assert_int_equal(value, 600);
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &value));
    assert_int_equal(value, 1209600);
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &value));
    assert_int_equal(value, 0);
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(L"", text);
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(L"defaults", text);

    memset(&progress, 0xcc, sizeof(progress));
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    assert_int_equal(progress.BytesTotal, 0);
    assert_int_equal(progress.BytesTransferred, 0);
    assert_int_equal(progress.FilesTotal, 0);
    assert_int_equal(progress.FilesTransferred, 0);

    memset(&times, 0xcc, sizeof(times));
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(job, &times));
    assert_in_range(filetime(&times.CreationTime), before, after);
    assert_true(filetime(&times.ModificationTime) >= filetime(&times.CreationTime));
    assert_int_equal(filetime(&times.TransferCompletionTime), 0);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_progress_after_add_file(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job = new_job(manager, L"progress", NULL);
    BG_JOB_PROGRESS progress;

    tu_scratch("job_progress", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"one.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, REMOTE, local));
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    assert_int_equal(progress.FilesTotal, 1);
    assert_true(progress.BytesTotal == BG_SIZE_UNKNOWN);
    assert_int_equal(progress.BytesTransferred, 0);
    assert_int_equal(progress.FilesTransferred, 0);

    tu_path(local, ARRAY_SIZE(local), dir, L"two.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, REMOTE, local));
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    assert_int_equal(progress.FilesTotal, 2);
    assert_true(progress.BytesTotal == BG_SIZE_UNKNOWN);
    assert_int_equal(progress.BytesTransferred, 0);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_modification_time(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"times", NULL);
    BG_JOB_TIMES first, times;
    ULONGLONG mark;

    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(job, &first));

    /* Getters do not touch the job. */
    mark = clock_after(filetime(&first.ModificationTime));
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(job, &times));
    assert_true(filetime(&times.ModificationTime) == filetime(&first.ModificationTime));

    /* Each setter does, and leaves CreationTime alone. */
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_HIGH));
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(job, &times));
    assert_true(filetime(&times.ModificationTime) >= mark);
    assert_true(filetime(&times.CreationTime) == filetime(&first.CreationTime));
    assert_int_equal(filetime(&times.TransferCompletionTime), 0);

    mark = clock_after(filetime(&times.ModificationTime));
    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, L"touched"));
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(job, &times));
    assert_true(filetime(&times.ModificationTime) >= mark);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_null_out_pointers(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"nulls", NULL);

    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetId(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetType(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetProgress(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetTimes(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetState(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetError(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetDisplayName(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetDescription(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetPriority(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetNotifyFlags(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetMinimumRetryDelay(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetNoProgressTimeout(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetErrorCount(job, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_EnumFiles(job, NULL));

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_display_name(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"before", NULL);
    WCHAR name[300];
    LPWSTR text;

    assert_hr(S_OK, IBackgroundCopyJob_SetDisplayName(job, L"after"));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(L"after", text);

    fill(name, 256);
    assert_hr(S_OK, IBackgroundCopyJob_SetDisplayName(job, name));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(name, text);

    assert_hr(S_OK, IBackgroundCopyJob_SetDisplayName(job, L"kept"));
    fill(name, 257);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetDisplayName(job, name));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetDisplayName(job, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(L"kept", text);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_description(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"description", NULL);
    WCHAR text_in[1100];
    LPWSTR text;

    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, L"what this job is for"));
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(L"what this job is for", text);

    fill(text_in, 1024);
    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, text_in));
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(text_in, text);

    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, L"kept"));
    fill(text_in, 1025);
    assert_hr(BG_E_STRING_TOO_LONG, IBackgroundCopyJob_SetDescription(job, text_in));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_SetDescription(job, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(L"kept", text);

    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, L""));
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(L"", text);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_priority(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"priority", NULL);
    BG_JOB_PRIORITY priority;

    for (int value = BG_JOB_PRIORITY_FOREGROUND; value <= BG_JOB_PRIORITY_LOW; value++)
    {
        assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, value));
        assert_hr(S_OK, IBackgroundCopyJob_GetPriority(job, &priority));
        assert_int_equal(priority, value);
    }
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetPriority(job, 4));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetPriority(job, (BG_JOB_PRIORITY)-1));
    assert_hr(S_OK, IBackgroundCopyJob_GetPriority(job, &priority));
    assert_int_equal(priority, BG_JOB_PRIORITY_LOW);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_notify_flags(void **state)
{
    static const ULONG valid[] = {0, BG_NOTIFY_JOB_MODIFICATION, BG_NOTIFY_FILE_TRANSFERRED,
                                  BG_NOTIFY_DISABLE | BG_NOTIFY_JOB_ERROR, 0x3f};
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"notify", NULL);
    ULONG flags;

    for (size_t i = 0; i < ARRAY_SIZE(valid); i++)
    {
        assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, valid[i]));
        assert_hr(S_OK, IBackgroundCopyJob_GetNotifyFlags(job, &flags));
        assert_int_equal(flags, valid[i]);
    }
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetNotifyFlags(job, 0x40));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob_SetNotifyFlags(job, 0x41));
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyFlags(job, &flags));
    assert_int_equal(flags, BG_NOTIFY_JOB_TRANSFERRED);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_retry_delay_and_timeout(void **state)
{
    static const struct
    {
        ULONG set, expect;
    } delays[] = {{0, 5}, {4, 5}, {5, 5}, {6, 6}, {60, 60}, {0xffffffff, 0xffffffff}};
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"retry", NULL);
    ULONG value;

    for (size_t i = 0; i < ARRAY_SIZE(delays); i++)
    {
        assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, delays[i].set));
        assert_hr(S_OK, IBackgroundCopyJob_GetMinimumRetryDelay(job, &value));
        assert_int_equal(value, delays[i].expect);
    }
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 0));
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &value));
    assert_int_equal(value, 0);
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 1234));
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &value));
    assert_int_equal(value, 1234);
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &value));
    assert_int_equal(value, 0);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_add_file_validation(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"addfile", NULL);
    WCHAR dir[MAX_PATH], local[MAX_PATH], missing[MAX_PATH], readonly[MAX_PATH];
    WCHAR temp_pattern[] = L"BIT*.tmp", denied[MAX_PATH];
    SECURITY_ATTRIBUTES sa = {sizeof(sa)};

    tu_scratch("job_add_file", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"out.bin");
    tu_path(missing, ARRAY_SIZE(missing), dir, L"no such folder\\out.bin");

    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, NULL, local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, REMOTE, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, REMOTE, L"out.bin"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, REMOTE, L"dir\\out.bin"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, REMOTE, L""));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"ftp://x/y", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"http://", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"relative/name", local));
    /* Malformed file URLs: no path, a relative one, a folder, no server or share, a bad escape. */
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file://C:", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file://C:name", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file://C:\\dir\\", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file:///C:/dir/", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file://localhost/", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file://localhost/etc/x", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file:////server", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file://server/share", local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, L"file://C:\\100%\\x", local));
    assert_int_equal(tu_count(dir, L"*"), 0);

    /* A destination folder that does not exist: refused, and no trace of it anywhere. */
    assert_true(FAILED(IBackgroundCopyJob_AddFile(job, REMOTE, missing)));
    assert_int_equal(files_total(job), 0);
    assert_int_equal(tu_count(dir, L"*"), 0);

    /* A folder whose DACL does not let the caller make files: refused as BITS does. */
    tu_path(readonly, ARRAY_SIZE(readonly), dir, L"read only");
    assert_true(ConvertStringSecurityDescriptorToSecurityDescriptorW(
        L"D:P(A;;FRFX;;;WD)", SDDL_REVISION_1, &sa.lpSecurityDescriptor, NULL));
    assert_true(CreateDirectoryW(readonly, &sa));
    LocalFree(sa.lpSecurityDescriptor);
    tu_path(denied, ARRAY_SIZE(denied), readonly, L"out.bin");
    assert_hr(E_ACCESSDENIED, IBackgroundCopyJob_AddFile(job, REMOTE, denied));
    assert_int_equal(files_total(job), 0);
    tu_remove_tree(readonly);

    /* A good file reserves a hidden temporary name in the destination folder; the file itself
     * is made when the transfer starts. */
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, REMOTE, local));
    assert_int_equal(files_total(job), 1);
    assert_int_equal(tu_count(dir, temp_pattern), 0);
    assert_false(tu_exists(local));

    tu_cancel_release(job);
    assert_int_equal(tu_count(dir, L"*"), 0);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

/* Asserts that `local` is refused as a local name with E_INVALIDARG by AddFile, AddFileSet and
 * AddFileWithRanges, and that nothing was added or created in dir. */
static void check_refused_local(IBackgroundCopyJob *job, const WCHAR *dir, const WCHAR *local)
{
    BG_FILE_RANGE range = {0, 10};
    IBackgroundCopyJob3 *job3;
    BG_FILE_INFO info = {(WCHAR *)REMOTE, (WCHAR *)local};

    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, REMOTE, local));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(job, 1, &info));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob3_AddFileWithRanges(job3, REMOTE, local, 1, &range));
    IBackgroundCopyJob3_Release(job3);
    assert_int_equal(files_total(job), 0);
    if (tu_count(dir, L"BIT*.tmp"))
        fail_msg("refusing %ls left a temporary file in %ls", local, dir);
}

static void test_add_file_folder_as_local_name(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"folder", NULL);
    WCHAR dir[MAX_PATH], folder[MAX_PATH], name[MAX_PATH + 4], inside[MAX_PATH];

    tu_scratch("job_add_folder", dir, ARRAY_SIZE(dir));
    tu_path(folder, ARRAY_SIZE(folder), dir, L"existing");
    assert_true(CreateDirectoryW(folder, NULL));
    tu_path(inside, ARRAY_SIZE(inside), folder, L"kept.bin");
    tu_write_file(inside, 100);

    /* An existing folder, also through a name that Win32 reads as the same folder. */
    check_refused_local(job, dir, folder);
    swprintf(name, ARRAY_SIZE(name), L"%ls.", folder);
    check_refused_local(job, dir, name);
    /* A trailing backslash (or slash), "." or "..": a folder's name, whether it exists or not. */
    swprintf(name, ARRAY_SIZE(name), L"%ls\\", folder);
    check_refused_local(job, dir, name);
    swprintf(name, ARRAY_SIZE(name), L"%ls/", folder);
    check_refused_local(job, dir, name);
    swprintf(name, ARRAY_SIZE(name), L"%ls\\new folder\\", dir);
    check_refused_local(job, dir, name);
    swprintf(name, ARRAY_SIZE(name), L"%ls\\.", folder);
    check_refused_local(job, dir, name);
    swprintf(name, ARRAY_SIZE(name), L"%ls\\..", folder);
    check_refused_local(job, dir, name);
    check_refused_local(job, folder, name);

    /* Nothing was written: the folder holds what it held, and the job still takes a file. */
    assert_int_equal(tu_count(dir, L"*"), 1);
    assert_int_equal(tu_count(folder, L"*"), 1);
    assert_int_equal(tu_file_size(inside), 100);
    tu_path(name, ARRAY_SIZE(name), folder, L"new.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, REMOTE, name));
    assert_int_equal(files_total(job), 1);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_add_file_set(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"fileset", NULL);
    WCHAR dir[MAX_PATH], a[MAX_PATH], b[MAX_PATH], c[MAX_PATH], missing[MAX_PATH];
    BG_FILE_INFO set[3];

    tu_scratch("job_add_file_set", dir, ARRAY_SIZE(dir));
    tu_path(a, ARRAY_SIZE(a), dir, L"a.bin");
    tu_path(b, ARRAY_SIZE(b), dir, L"b.bin");
    tu_path(c, ARRAY_SIZE(c), dir, L"c.bin");
    tu_path(missing, ARRAY_SIZE(missing), dir, L"missing\\c.bin");

    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(job, 0, set));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(job, 1, NULL));

    /* One bad URL in the middle: nothing is added. */
    set[0].RemoteName = (WCHAR *)REMOTE;
    set[0].LocalName = a;
    set[1].RemoteName = (WCHAR *)L"ftp://x/y";
    set[1].LocalName = b;
    set[2].RemoteName = (WCHAR *)REMOTE;
    set[2].LocalName = c;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(job, 3, set));
    assert_int_equal(files_total(job), 0);

    /* A relative local name last. */
    set[1].RemoteName = (WCHAR *)REMOTE;
    set[2].LocalName = (WCHAR *)L"c.bin";
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFileSet(job, 3, set));
    assert_int_equal(files_total(job), 0);

    /* The last destination folder is missing: nothing is added. */
    set[2].LocalName = missing;
    assert_true(FAILED(IBackgroundCopyJob_AddFileSet(job, 3, set)));
    assert_int_equal(files_total(job), 0);
    assert_int_equal(tu_count(dir, L"*"), 0);

    set[2].LocalName = c;
    assert_hr(S_OK, IBackgroundCopyJob_AddFileSet(job, 3, set));
    assert_int_equal(files_total(job), 3);
    assert_int_equal(tu_count(dir, L"BIT*.tmp"), 0);

    tu_cancel_release(job);
    assert_int_equal(tu_count(dir, L"*"), 0);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_resume_empty_and_suspend(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"empty", NULL);
    BG_JOB_STATE job_state;

    assert_hr(BG_E_EMPTY, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_SUSPENDED);

    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_SUSPENDED);

    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

/* Everything that changes a job fails on a final job; everything that reads it still works. */
static void check_final_job(IBackgroundCopyJob *job, BG_JOB_STATE final_state, const WCHAR *dir)
{
    IEnumBackgroundCopyFiles *files;
    WCHAR local[MAX_PATH];
    BG_FILE_INFO info;
    BG_JOB_PROGRESS progress;
    BG_JOB_PRIORITY priority;
    BG_JOB_STATE job_state;
    BG_JOB_TIMES times;
    ULONG value;
    LPWSTR text;
    GUID id;

    tu_path(local, ARRAY_SIZE(local), dir, L"late.bin");
    info.RemoteName = (WCHAR *)REMOTE;
    info.LocalName = local;

    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_Complete(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_Resume(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_Suspend(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_AddFile(job, REMOTE, local));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_AddFileSet(job, 1, &info));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_SetDisplayName(job, L"late"));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_SetDescription(job, L"late"));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_LOW));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_SetNotifyFlags(job, 0));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_SetMinimumRetryDelay(job, 60));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_SetNoProgressTimeout(job, 60));
    /* The failed AddFile calls left no temporary file behind. */
    assert_int_equal(tu_count(dir, L"BIT*.tmp"), 0);

    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(job_state, final_state);
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &text));
    assert_cotask_str(L"final", text);
    assert_hr(S_OK, IBackgroundCopyJob_GetDescription(job, &text));
    assert_cotask_str(L"", text);
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    assert_int_equal(progress.FilesTotal, 1);
    assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &id));
    assert_hr(S_OK, IBackgroundCopyJob_GetTimes(job, &times));
    assert_hr(S_OK, IBackgroundCopyJob_GetPriority(job, &priority));
    assert_int_equal(priority, BG_JOB_PRIORITY_NORMAL);
    assert_hr(S_OK, IBackgroundCopyJob_GetNotifyFlags(job, &value));
    assert_int_equal(value, 3);
    assert_hr(S_OK, IBackgroundCopyJob_GetMinimumRetryDelay(job, &value));
    assert_int_equal(value, 600);
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &value));
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &value));
    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &value));
    assert_int_equal(value, 1);
    IEnumBackgroundCopyFiles_Release(files);
}

static void test_cancelled_job(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"final", NULL);
    WCHAR dir[MAX_PATH], local[MAX_PATH];

    tu_scratch("job_cancelled", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"out.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, REMOTE, local));
    assert_int_equal(tu_count(dir, L"*"), 0);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    /* No temporary file was made, and the destination was never written. */
    assert_int_equal(tu_count(dir, L"*"), 0);
    check_final_job(job, BG_JOB_STATE_CANCELLED, dir);

    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_acknowledged_job(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"final", NULL);
    WCHAR dir[MAX_PATH], local[MAX_PATH];

    tu_scratch("job_acknowledged", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"out.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, REMOTE, local));
    /* Nothing was transferred, so nothing is kept. */
    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob_Complete(job));
    assert_int_equal(tu_count(dir, L"*"), 0);
    check_final_job(job, BG_JOB_STATE_ACKNOWLEDGED, dir);

    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_query_interface(void **state)
{
    static const IID *const iids[] = {
        &IID_IUnknown,
        &IID_IBackgroundCopyJob,
        &IID_IBackgroundCopyJob2,
        &IID_IBackgroundCopyJob3,
        &IID_IBackgroundCopyJob4,
        &IID_IBackgroundCopyJob5,
        &IID_IBackgroundCopyJobHttpOptions,
        &IID_IDeliveryOptimizationJob,
        &IID_IDeliveryOptimizationJob2,
    };
    static const IID *const refused[] = {
        &IID_IBackgroundCopyFile, &IID_IBackgroundCopyManager,    &IID_IClassFactory,
        &IID_IDispatch,           &IID_IDeliveryOptimizationFile,
    };
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"qi", NULL);
    IUnknown *identity, *iface, *unknown, *back;
    IMarshal *marshal;
    ULONG base;
    void *out;

    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(job, &IID_IUnknown, (void **)&identity));
    base = tu_refcount(job);
    assert_int_equal(base, 2);
    for (size_t i = 0; i < ARRAY_SIZE(iids); i++)
    {
        iface = NULL;
        assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(job, iids[i], (void **)&iface));
        assert_non_null(iface);
        /* One reference count for every interface of the object. */
        assert_int_equal(tu_refcount(job), base + 1);
        assert_int_equal(tu_refcount(iface), base + 1);
        IUnknown_AddRef(iface);
        assert_int_equal(tu_refcount(job), base + 2);
        IUnknown_Release(iface);
        /* One identity, and every interface leads back to the others. */
        assert_hr(S_OK, IUnknown_QueryInterface(iface, &IID_IUnknown, (void **)&unknown));
        assert_ptr_equal(unknown, identity);
        IUnknown_Release(unknown);
        for (size_t j = 0; j < ARRAY_SIZE(iids); j++)
        {
            assert_hr(S_OK, IUnknown_QueryInterface(iface, iids[j], (void **)&back));
            IUnknown_Release(back);
        }
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IUnknown_QueryInterface(iface, &IID_IBackgroundCopyFile, &out));
        assert_null(out);
        IUnknown_Release(iface);
        assert_int_equal(tu_refcount(job), base);
    }
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
    {
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IBackgroundCopyJob_QueryInterface(job, refused[i], &out));
        assert_null(out);
    }
    assert_hr(E_POINTER, IBackgroundCopyJob_QueryInterface(job, &IID_IUnknown, NULL));

    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(job, &IID_IMarshal, (void **)&marshal));
    assert_hr(S_OK, IMarshal_QueryInterface(marshal, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, identity);
    IUnknown_Release(unknown);
    IMarshal_Release(marshal);

    IUnknown_Release(identity);
    assert_int_equal(tu_refcount(job), 1);
    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_get_error_fresh(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"noerror", NULL);
    IBackgroundCopyError *error = (void *)0xdeadbeef;

    assert_hr(BG_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(job, &error));
    assert_null(error);
    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

/* The owner is the creating user's SID; TakeOwnership by that same user keeps it. */
static void test_owner(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IBackgroundCopyJob *job = new_job(manager, L"owner", NULL);
    BYTE buffer[256];
    TOKEN_USER *user = (TOKEN_USER *)buffer;
    WCHAR *expected = NULL;
    LPWSTR owner = NULL;
    HANDLE token;
    DWORD size;

    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    assert_true(GetTokenInformation(token, TokenUser, user, sizeof(buffer), &size));
    CloseHandle(token);
    assert_true(ConvertSidToStringSidW(user->User.Sid, &expected));

    assert_hr(S_OK, IBackgroundCopyJob_GetOwner(job, &owner));
    assert_non_null(owner);
    assert_int_equal(0, wcscmp(owner, expected));
    assert_int_equal(0, wcsncmp(owner, L"S-1-", 4));
    CoTaskMemFree(owner);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetOwner(job, NULL));

    assert_hr(S_OK, IBackgroundCopyJob_TakeOwnership(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetOwner(job, &owner));
    assert_int_equal(0, wcscmp(owner, expected));
    CoTaskMemFree(owner);

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(BG_E_INVALID_STATE, IBackgroundCopyJob_TakeOwnership(job));
    /* Getters still answer on a final job. */
    assert_hr(S_OK, IBackgroundCopyJob_GetOwner(job, &owner));
    CoTaskMemFree(owner);
    LocalFree(expected);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_progress_after_add_file),
        cmocka_unit_test(test_modification_time),
        cmocka_unit_test(test_null_out_pointers),
        cmocka_unit_test(test_display_name),
        cmocka_unit_test(test_description),
        cmocka_unit_test(test_priority),
        cmocka_unit_test(test_notify_flags),
        cmocka_unit_test(test_retry_delay_and_timeout),
        cmocka_unit_test(test_add_file_validation),
        cmocka_unit_test(test_add_file_folder_as_local_name),
        cmocka_unit_test(test_add_file_set),
        cmocka_unit_test(test_resume_empty_and_suspend),
        cmocka_unit_test(test_cancelled_job),
        cmocka_unit_test(test_acknowledged_job),
        cmocka_unit_test(test_query_interface),
        cmocka_unit_test(test_get_error_fresh),
        cmocka_unit_test(test_owner),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
