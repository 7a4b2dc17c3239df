/* SPDX-License-Identifier: MIT */
/* Tests of the temporary files (src/engine/tempfile.c): created exclusively and privately,
 * reopened, renamed and deleted only while they are still the file the engine created. Driven
 * through the engine, with real files and the test nginx.
 *
 * What Wine 8 keeps of a file's security: it maps the DACL onto the Unix mode bits and builds
 * the DACL it reports from them (see test_acl.c). A private file reads back with entries for
 * the user and SYSTEM only; a file that others may read reads back with an entry for Everyone
 * as well. That entry is what the tests below look at. */
#include "enginetest.h"
#include <aclapi.h>
#include <sddl.h>

#define TIMEOUT 15000

/* ---- helpers ---- */

static void set_fault(const char *point, const char *value)
{
    char variable[64];

    snprintf(variable, sizeof(variable), "OPENDO_FAULT_%s", point);
    assert_true(SetEnvironmentVariableA(variable, value));
}

static int teardown(void **state)
{
    SetEnvironmentVariableA("OPENDO_FAULT_TEMP_NAME", NULL);
    return et_cleanup(state);
}

/* The calling user's SID. */
static void user_sid(PSID sid, DWORD size)
{
    BYTE buffer[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    HANDLE token;
    DWORD needed;

    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    assert_true(GetTokenInformation(token, TokenUser, buffer, sizeof(buffer), &needed));
    CloseHandle(token);
    assert_true(CopySid(size, sid, ((TOKEN_USER *)buffer)->User.Sid));
}

/* The access the file's DACL allows `sid` (the sum of its allow entries), and whether it names
 * the SID at all. */
static ACCESS_MASK allowed(const WCHAR *path, PSID sid, BOOL *named)
{
    PSECURITY_DESCRIPTOR descriptor = NULL;
    ACCESS_MASK mask = 0;
    PACL dacl = NULL;
    DWORD err;
    void *ace;

    *named = FALSE;
    err = GetNamedSecurityInfoW(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
                                NULL, &descriptor);
    if (err)
        fail_msg("cannot read the DACL of %ls: %lu", path, err);
    assert_non_null(dacl);
    for (DWORD i = 0; i < dacl->AceCount; i++)
    {
        ACCESS_ALLOWED_ACE *entry;

        assert_true(GetAce(dacl, i, &ace));
        entry = ace;
        if (entry->Header.AceType != ACCESS_ALLOWED_ACE_TYPE ||
            !EqualSid((PSID)&entry->SidStart, sid))
            continue;
        *named = TRUE;
        mask |= entry->Mask;
    }
    LocalFree(descriptor);
    return mask;
}

/* Does the file's DACL let Everyone read it? */
static BOOL everyone_reads(const WCHAR *path)
{
    BYTE everyone[SECURITY_MAX_SID_SIZE];
    DWORD size = sizeof(everyone);
    BOOL named;

    assert_true(CreateWellKnownSid(WinWorldSid, NULL, everyone, &size));
    return (allowed(path, everyone, &named) & FILE_READ_DATA) != 0;
}

/* Asserts that the file holds exactly `text`. */
/* The file's DACL in SDDL. (Wine reports a file's DACL as its Unix mode bits say, with no
 * inheritance flags: under Wine this compares what the two files let whom do.) */
static void dacl_of(const WCHAR *path, WCHAR *sddl, size_t size)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    WCHAR *text = NULL;

    assert_int_equal(ERROR_SUCCESS,
                     GetNamedSecurityInfoW(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL,
                                           NULL, NULL, NULL, &sd));
    assert_true(ConvertSecurityDescriptorToStringSecurityDescriptorW(
        sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text, NULL));
    assert_true(wcslen(text) < size);
    wcscpy(sddl, text);
    LocalFree(text);
    LocalFree(sd);
}

static void assert_content(const WCHAR *path, const char *text)
{
    char buffer[256];
    DWORD read = 0;
    HANDLE file;

    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", path, GetLastError());
    assert_true(ReadFile(file, buffer, sizeof(buffer) - 1, &read, NULL));
    CloseHandle(file);
    buffer[read] = 0;
    if (strcmp(buffer, text))
        fail_msg("%ls holds \"%s\", expected \"%s\"", path, buffer, text);
}

static void write_text(const WCHAR *path, const char *text)
{
    DWORD written;
    HANDLE file;

    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot create %ls: %lu", path, GetLastError());
    assert_true(WriteFile(file, text, strlen(text), &written, NULL));
    CloseHandle(file);
}

/* The file's temporary file name, read under the job's lock. */
static void temp_name(struct ejob *job, ULONG index, WCHAR *out, size_t size)
{
    AcquireSRWLockShared(&job->lock);
    assert_non_null(job->files[index]->temp);
    swprintf(out, size, L"%ls", job->files[index]->temp);
    ReleaseSRWLockShared(&job->lock);
}

/* Deletes the file at `temp` (the engine's) and puts `planted` in its place, under its name: a
 * file that existed while the engine's did, so that it cannot be mistaken for it. */
static void swap_in(const WCHAR *temp, const WCHAR *planted)
{
    SetFileAttributesW(temp, FILE_ATTRIBUTE_NORMAL);
    if (!DeleteFileW(temp))
        fail_msg("cannot delete %ls: %lu", temp, GetLastError());
    if (!MoveFileW(planted, temp))
        fail_msg("cannot move %ls to %ls: %lu", planted, temp, GetLastError());
}

/* The job's last error, which must be present. */
static void assert_error(struct ejob *job, HRESULT code, BG_ERROR_CONTEXT context)
{
    AcquireSRWLockShared(&job->lock);
    assert_true(job->error.present);
    assert_hr(code, job->error.code);
    assert_int_equal(context, job->error.context);
    ReleaseSRWLockShared(&job->lock);
}

/* ---- creation ---- */

/* A new temporary file is hidden, owned by the user and private to the user and SYSTEM; once
 * its bytes are all in, it gets what a file created in the folder gets. */
static void temp_file_is_private(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], plain[MAX_PATH], *temp = NULL;
    BYTE user[SECURITY_MAX_SID_SIZE], system[SECURITY_MAX_SID_SIZE];
    WCHAR expected[1024], got[1024];
    struct folder_acl cache = {0};
    DWORD size = sizeof(system);
    struct file_identity id;
    ULONGLONG read_at;
    BOOL named;
    HANDLE file;

    tu_scratch("tempfile_private", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    tu_path(plain, ARRAY_SIZE(plain), dir, L"plain.bin");
    user_sid(user, sizeof(user));
    assert_true(CreateWellKnownSid(WinLocalSystemSid, NULL, system, &size));

    et_make_temp(local, &temp, &id);
    assert_true(GetFileAttributesW(temp) & FILE_ATTRIBUTE_HIDDEN);
    assert_true(id.volume || id.index);
    assert_int_equal(FILE_ALL_ACCESS, allowed(temp, user, &named) & FILE_ALL_ACCESS);
    assert_true(named);
    assert_int_equal(FILE_ALL_ACCESS, allowed(temp, system, &named) & FILE_ALL_ACCESS);
    /* A file created there the ordinary way may be read by Everyone (Wine: mode 0644). */
    file = CreateFileW(plain, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    CloseHandle(file);
    assert_true(everyone_reads(plain));
    if (everyone_reads(temp))
        fail_msg("Everyone may read the new temporary file %ls", temp);

    /* Complete: the folder's rules, like the ordinary file's: the same DACL, inherited. */
    file = CreateFileW(temp, WRITE_DAC, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0,
                       NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_hr(S_OK, tempfile_inherit_acl(file, temp, &cache));
    CloseHandle(file);
    assert_true(everyone_reads(temp));
    assert_int_equal(FILE_ALL_ACCESS, allowed(temp, user, &named) & FILE_ALL_ACCESS);
    dacl_of(plain, expected, ARRAY_SIZE(expected));
    dacl_of(temp, got, ARRAY_SIZE(got));
    if (wcscmp(expected, got))
        fail_msg("the delivered file's DACL is %ls, a new file's %ls", got, expected);
    /* The folder is read once for its files: a second file there is served from the cache. */
    read_at = cache.read_at;
    file = CreateFileW(temp, WRITE_DAC, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0,
                       NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_hr(S_OK, tempfile_inherit_acl(file, temp, &cache));
    CloseHandle(file);
    assert_int_equal(read_at, cache.read_at);
    tempfile_acl_clear(&cache);
    assert_null(cache.dacl);

    assert_hr(S_OK, tempfile_delete(temp, &id));
    assert_false(tu_exists(temp));
    HeapFree(GetProcessHeap(), 0, temp);
}

/* Writes `text` into the temporary file (hidden: opened, not created). */
static void fill_temp(const WCHAR *temp, const char *text)
{
    DWORD written;
    HANDLE file;

    file = CreateFileW(temp, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL,
                       OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", temp, GetLastError());
    assert_true(WriteFile(file, text, strlen(text), &written, NULL));
    CloseHandle(file);
}

/* How many names in `dir` are `name`, in any case. */
static int names_like(const WCHAR *dir, const WCHAR *name)
{
    WCHAR pattern[MAX_PATH];
    WIN32_FIND_DATAW data;
    HANDLE find;
    int count = 0;

    tu_path(pattern, ARRAY_SIZE(pattern), dir, L"*");
    find = FindFirstFileW(pattern, &data);
    assert_true(find != INVALID_HANDLE_VALUE);
    do
    {
        if (!_wcsicmp(data.cFileName, name))
            count++;
    } while (FindNextFileW(find, &data));
    FindClose(find);
    return count;
}

/* Complete replaces a file whose name differs only in case, as Windows does, in each folder of
 * the job: under Wine the renames look names up exactly unless the folder (listed once per
 * folder) holds the name in another case. */
static void commit_replaces_a_name_in_another_case(void **state)
{
    WCHAR dir1[MAX_PATH], dir2[MAX_PATH], local[MAX_PATH], planted[MAX_PATH], *temp = NULL;
    struct folder_names names = {0};
    struct file_identity id;

    tu_scratch("tempfile_case1", dir1, ARRAY_SIZE(dir1));
    tu_scratch("tempfile_case2", dir2, ARRAY_SIZE(dir2));
    /* A new name in the first folder... */
    tu_path(local, ARRAY_SIZE(local), dir1, L"New Name.Bin");
    et_make_temp(local, &temp, &id);
    fill_temp(temp, "first");
    assert_hr(S_OK, tempfile_commit(temp, &id, local, &names));
    HeapFree(GetProcessHeap(), 0, temp);
    assert_int_equal(1, names_like(dir1, L"New Name.Bin"));
    assert_content(local, "first");
    /* ...then, with the same listing in hand, one in the second folder that replaces another
     * case of its name. */
    tu_path(planted, ARRAY_SIZE(planted), dir2, L"REPORT.BIN");
    write_text(planted, "old");
    tu_path(local, ARRAY_SIZE(local), dir2, L"report.bin");
    et_make_temp(local, &temp, &id);
    fill_temp(temp, "new");
    assert_hr(S_OK, tempfile_commit(temp, &id, local, &names));
    HeapFree(GetProcessHeap(), 0, temp);
    if (names_like(dir2, L"report.bin") != 1)
        fail_msg("%d files named report.bin in some case", names_like(dir2, L"report.bin"));
    assert_content(local, "new");
    tempfile_names_clear(&names);
    assert_null(names.names);
}

/* Names already taken, by a file, a folder or a hard link, are skipped and left alone. */
static void temp_names_never_reuse_what_exists(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], name[MAX_PATH], victim[MAX_PATH], *temp = NULL;
    struct file_identity id;

    tu_scratch("tempfile_names", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    tu_path(victim, ARRAY_SIZE(victim), dir, L"victim.txt");
    write_text(victim, "victim");
    /* Names then count from BIT0000000000000000.tmp. */
    set_fault("TEMP_NAME", "fail:80004005");
    tu_path(name, ARRAY_SIZE(name), dir, L"BIT0000000000000000.tmp");
    write_text(name, "planted");
    tu_path(name, ARRAY_SIZE(name), dir, L"BIT0000000000000001.tmp");
    assert_true(CreateDirectoryW(name, NULL));
    tu_path(name, ARRAY_SIZE(name), dir, L"BIT0000000000000002.tmp");
    assert_true(CreateHardLinkW(name, victim, NULL));

    et_make_temp(local, &temp, &id);
    tu_path(name, ARRAY_SIZE(name), dir, L"BIT0000000000000003.tmp");
    if (_wcsicmp(temp, name))
        fail_msg("the temporary file is %ls, expected %ls", temp, name);
    tu_path(name, ARRAY_SIZE(name), dir, L"BIT0000000000000000.tmp");
    assert_content(name, "planted");
    assert_content(victim, "victim");
    /* Deleting a name that is not ours leaves it alone. */
    assert_hr(S_FALSE, tempfile_delete(name, &id));
    assert_content(name, "planted");
    assert_hr(S_OK, tempfile_delete(temp, &id));
    HeapFree(GetProcessHeap(), 0, temp);
}

/* ---- a job's temporary file ---- */

/* Starts the job's transfer of a throttled file, waits until its temporary file is made, and
 * suspends it. */
static void start_then_suspend(struct ejob *job, const WCHAR *temp)
{
    ULONGLONG deadline = GetTickCount64() + TIMEOUT;

    assert_hr(S_OK, ejob_resume(job));
    while (!tu_exists(temp))
    {
        if (GetTickCount64() > deadline)
            fail_msg("the transfer did not make %ls", temp);
        Sleep(5);
    }
    assert_hr(S_OK, ejob_suspend(job));
    et_wait_idle(job, TIMEOUT);
}

/* AddFile only reserves the temporary name: a file that someone puts there before the transfer
 * starts is left alone, and the transfer makes its file under another name. */
static void reserved_name_taken_meanwhile(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], temp[MAX_PATH], made[MAX_PATH];
    struct ejob *job;

    tu_scratch("tempfile_taken", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    job = et_job_with_file(url, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    assert_false(tu_exists(temp));
    write_text(temp, "planted");

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    temp_name(job, 0, made, ARRAY_SIZE(made));
    assert_true(_wcsicmp(temp, made));
    /* The file the job made is the user's alone until its bytes are in; then its folder's. */
    assert_true(everyone_reads(made));
    assert_hr(S_OK, ejob_complete(job));
    assert_content(local, "hello, OpenDO\n");
    assert_content(temp, "planted");
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));
}

/* A process that made a file's temporary file and ended before the job's record learned it
 * leaves the file at the reserved name: the next process's Cancel deletes it (and a transfer
 * would make it anew there). */
static void cancel_clears_a_leftover(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], temp[MAX_PATH], *made;
    struct file_identity id;
    struct ejob *job;
    HANDLE file;

    tu_scratch("tempfile_leftover", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    job = et_job_with_file(url, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    made = HeapAlloc(GetProcessHeap(), 0, sizeof(temp));
    wcscpy(made, temp);
    assert_hr(S_OK, tempfile_make(&made, &id, &file));
    CloseHandle(file);
    assert_true(!wcscmp(made, temp));
    HeapFree(GetProcessHeap(), 0, made);
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));

    assert_hr(S_OK, ejob_cancel(job));
    assert_int_equal(0, tu_count(dir, L"*"));
}

/* A job whose temporary file was replaced by another file does not write into it: it fails, and
 * Cancel leaves that file alone. */
static void job_refuses_a_planted_file(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], temp[MAX_PATH], planted[MAX_PATH];
    struct ejob *job;

    tu_scratch("tempfile_planted", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    tu_path(planted, ARRAY_SIZE(planted), dir, L"planted.txt");
    job = et_job_with_file(url, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    start_then_suspend(job, temp);
    /* The partial file is the user's alone. */
    if (everyone_reads(temp))
        fail_msg("Everyone may read the new temporary file %ls", temp);
    write_text(planted, "planted");
    swap_in(temp, planted);

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    assert_error(job, HRESULT_FROM_WIN32(ERROR_FILE_EXISTS), BG_ERROR_CONTEXT_LOCAL_FILE);
    assert_content(temp, "planted");
    assert_false(tu_exists(local));

    assert_hr(S_OK, ejob_cancel(job));
    assert_content(temp, "planted");
    assert_false(tu_exists(local));
}

/* A hard link planted at the temporary name is not followed: the file it leads to keeps its
 * bytes. */
static void job_refuses_a_hard_link(void **state)
{
    WCHAR dir[MAX_PATH], other[MAX_PATH], url[MAX_PATH], local[MAX_PATH], temp[MAX_PATH];
    WCHAR victim[MAX_PATH], link[MAX_PATH];
    struct ejob *job;

    tu_scratch("tempfile_link", dir, ARRAY_SIZE(dir));
    tu_scratch("tempfile_link_victim", other, ARRAY_SIZE(other));
    tu_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    tu_path(victim, ARRAY_SIZE(victim), other, L"victim.txt");
    tu_path(link, ARRAY_SIZE(link), dir, L"link.txt");
    write_text(victim, "victim");
    assert_true(CreateHardLinkW(link, victim, NULL));
    job = et_job_with_file(url, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    start_then_suspend(job, temp);
    swap_in(temp, link);

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_ERROR, TIMEOUT);
    assert_error(job, HRESULT_FROM_WIN32(ERROR_FILE_EXISTS), BG_ERROR_CONTEXT_LOCAL_FILE);
    assert_content(victim, "victim");
    assert_hr(S_OK, ejob_cancel(job));
    assert_content(victim, "victim");
}

/* A temporary file that disappeared is made again (exclusively, privately) and the job goes on
 * from the start. */
static void job_recreates_a_missing_file(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], temp[MAX_PATH], www[MAX_PATH];
    struct file_identity id;
    struct ejob *job;

    tu_scratch("tempfile_missing", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    tu_www(www, ARRAY_SIZE(www), L"slow\\8m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    job = et_job_with_file(url, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    start_then_suspend(job, temp);
    SetFileAttributesW(temp, FILE_ATTRIBUTE_NORMAL);
    assert_true(DeleteFileW(temp));

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    /* The new file's identity is the one that counts now. */
    AcquireSRWLockShared(&job->lock);
    id = job->files[0]->temp_id;
    ReleaseSRWLockShared(&job->lock);
    assert_true(id.volume || id.index);
    assert_hr(S_OK, ejob_complete(job));
    if (!tu_same_file(www, local))
        fail_msg("%ls differs from the served file", local);
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
}

/* Complete renames only the file the job wrote: another file swapped in at the temporary name
 * is neither delivered nor deleted, and the job stays for another Complete or a Cancel. The
 * file it does deliver has its folder's ACL. */
static void complete_refuses_a_swapped_file(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], temp[MAX_PATH], planted[MAX_PATH];
    WCHAR saved[MAX_PATH];
    struct ejob *job;

    tu_scratch("tempfile_swapped", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    tu_path(planted, ARRAY_SIZE(planted), dir, L"planted.txt");
    tu_path(saved, ARRAY_SIZE(saved), dir, L"saved.tmp");
    job = et_job_with_file(url, local);
    temp_name(job, 0, temp, ARRAY_SIZE(temp));
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    /* The job's own file is kept aside, and another one takes its name. */
    assert_true(MoveFileW(temp, saved));
    write_text(planted, "planted");
    assert_true(MoveFileW(planted, temp));

    assert_hr(HRESULT_FROM_WIN32(ERROR_FILE_EXISTS), ejob_complete(job));
    assert_int_equal(BG_JOB_STATE_TRANSFERRED, et_state(job));
    assert_false(tu_exists(local));
    assert_content(temp, "planted");

    /* The job's file back at its name: Complete delivers it, readable as its folder says. */
    assert_true(DeleteFileW(temp));
    assert_true(MoveFileW(saved, temp));
    assert_hr(S_OK, ejob_complete(job));
    assert_content(local, "hello, OpenDO\n");
    assert_false(GetFileAttributesW(local) & FILE_ATTRIBUTE_HIDDEN);
    assert_true(everyone_reads(local));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(temp_file_is_private, teardown),
        cmocka_unit_test_teardown(temp_names_never_reuse_what_exists, teardown),
        cmocka_unit_test_teardown(commit_replaces_a_name_in_another_case, teardown),
        cmocka_unit_test_teardown(reserved_name_taken_meanwhile, teardown),
        cmocka_unit_test_teardown(cancel_clears_a_leftover, teardown),
        cmocka_unit_test_teardown(job_refuses_a_planted_file, teardown),
        cmocka_unit_test_teardown(job_refuses_a_hard_link, teardown),
        cmocka_unit_test_teardown(job_recreates_a_missing_file, teardown),
        cmocka_unit_test_teardown(complete_refuses_a_swapped_file, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
