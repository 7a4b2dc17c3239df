/* SPDX-License-Identifier: MIT */
/* Tests of SetFileACLFlags at work (src/engine/acl.c): the source's owner, group and ACLs on
 * the copy, on real files, alone and through a job.
 *
 * What Wine 8 keeps of a file's security: it stores no security descriptor, it maps the DACL
 * onto the Unix mode bits and builds the DACL it reports from them. Of a DACL set with
 * SetNamedSecurityInfoW, only whether Everyone may write survives (Everyone's entry reads back
 * as 0x1301ff instead of 0x1200a9); the user's and SYSTEM's entries always read back as full
 * access. Every file's owner and group are the user and the user's primary group, and a new
 * owner or group is accepted without effect. A file's SACL cannot be read at all, with or
 * without SeSecurityPrivilege, when asked for alone; asked for with another part, it is
 * silently left out. The tests below assert what Wine really keeps: the DACL through
 * the Everyone-may-write bit, the owner and group only as "the same as the source's". */
#include "enginetest.h"
#include <aclapi.h>
#include <sddl.h>

#define TIMEOUT 15000

/* A DACL that Wine can tell from a new file's: Everyone may do anything. */
#define OPEN_DACL L"D:P(A;;FA;;;WD)(A;;FA;;;SY)"
/* One that it cannot tell from a new file's: Everyone may read. */
#define CLOSED_DACL L"D:P(A;;FA;;;SY)(A;;FR;;;WD)"

static void set_dacl(const WCHAR *path, const WCHAR *sddl)
{
    PSECURITY_DESCRIPTOR descriptor;
    BOOL present, defaulted;
    PACL dacl;
    DWORD err;

    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &descriptor,
                                                              NULL))
        fail_msg("cannot parse %ls: %lu", sddl, GetLastError());
    assert_true(GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted) && present);
    err = SetNamedSecurityInfoW((WCHAR *)path, SE_FILE_OBJECT,
                                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                NULL, NULL, dacl, NULL);
    if (err)
        fail_msg("cannot set the DACL of %ls: %lu", path, err);
    LocalFree(descriptor);
}

/* The explicit (not inherited) entries of the file's DACL in SDDL, "D:(...)(...)": what acl_copy
 * promises to carry over (inheritable entries come from the destination's folder). */
static void explicit_dacl(const WCHAR *path, WCHAR *out, size_t size)
{
    PSECURITY_DESCRIPTOR descriptor = NULL;
    SECURITY_DESCRIPTOR explicit_only;
    BYTE buffer[4096];
    PACL dacl = NULL, copy = (PACL)buffer;
    WCHAR *text;
    DWORD err;
    void *ace;

    err = GetNamedSecurityInfoW(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
                                NULL, &descriptor);
    if (err)
        fail_msg("cannot read the DACL of %ls: %lu", path, err);
    assert_non_null(dacl);
    assert_true(InitializeAcl(copy, sizeof(buffer), ACL_REVISION));
    for (DWORD i = 0; i < dacl->AceCount; i++)
    {
        assert_true(GetAce(dacl, i, &ace));
        if (!(((ACE_HEADER *)ace)->AceFlags & INHERITED_ACE))
            assert_true(AddAce(copy, ACL_REVISION, MAXDWORD, ace, ((ACE_HEADER *)ace)->AceSize));
    }
    assert_true(InitializeSecurityDescriptor(&explicit_only, SECURITY_DESCRIPTOR_REVISION));
    assert_true(SetSecurityDescriptorDacl(&explicit_only, TRUE, copy, FALSE));
    assert_true(ConvertSecurityDescriptorToStringSecurityDescriptorW(
        &explicit_only, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text, NULL));
    swprintf(out, size, L"%ls", text);
    LocalFree(text);
    LocalFree(descriptor);
}

/* The file's owner (or group) as a SID string. */
static void sid_of(const WCHAR *path, SECURITY_INFORMATION what, WCHAR *out, size_t size)
{
    PSECURITY_DESCRIPTOR descriptor = NULL;
    PSID owner = NULL, group = NULL;
    WCHAR *text;
    DWORD err;

    err =
        GetNamedSecurityInfoW(path, SE_FILE_OBJECT, what, &owner, &group, NULL, NULL, &descriptor);
    if (err)
        fail_msg("cannot read the owner or group of %ls: %lu", path, err);
    assert_true(ConvertSidToStringSidW(what == OWNER_SECURITY_INFORMATION ? owner : group, &text));
    swprintf(out, size, L"%ls", text);
    LocalFree(text);
    LocalFree(descriptor);
}

#define assert_same_dacl(a, b)                                                                     \
    do                                                                                             \
    {                                                                                              \
        WCHAR da_[1024], db_[1024];                                                                \
        explicit_dacl((a), da_, ARRAY_SIZE(da_));                                                  \
        explicit_dacl((b), db_, ARRAY_SIZE(db_));                                                  \
        if (wcscmp(da_, db_))                                                                      \
            fail_msg("%s:%d: DACL %ls of %ls differs from %ls of %ls", __FILE__, __LINE__, da_,    \
                     (a), db_, (b));                                                               \
    } while (0)

#define assert_different_dacl(a, b)                                                                \
    do                                                                                             \
    {                                                                                              \
        WCHAR da_[1024], db_[1024];                                                                \
        explicit_dacl((a), da_, ARRAY_SIZE(da_));                                                  \
        explicit_dacl((b), db_, ARRAY_SIZE(db_));                                                  \
        if (!wcscmp(da_, db_))                                                                     \
            fail_msg("%s:%d: %ls and %ls both have DACL %ls", __FILE__, __LINE__, (a), (b), da_);  \
    } while (0)

/* dir\name, created with `size` bytes. */
static void new_file(WCHAR *path, const WCHAR *dir, const WCHAR *name, size_t size)
{
    tu_path(path, MAX_PATH, dir, name);
    tu_write_file(path, size);
}

static void engine_acl_copy_dacl(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], destination[MAX_PATH], fresh[MAX_PATH];

    tu_scratch("acl_dacl", dir, ARRAY_SIZE(dir));
    new_file(source, dir, L"source.bin", 10);
    new_file(destination, dir, L"destination.bin", 10);
    new_file(fresh, dir, L"fresh.bin", 10);
    set_dacl(source, OPEN_DACL);
    /* The distinctive DACL shows (see the top of the file for what Wine keeps). */
    assert_different_dacl(source, destination);

    assert_hr(S_OK, acl_copy(source, destination, BG_COPY_FILE_DACL));
    assert_same_dacl(source, destination);

    /* The other way: a destination more open than its source becomes as closed. */
    set_dacl(source, CLOSED_DACL);
    assert_different_dacl(source, destination);
    assert_hr(S_OK, acl_copy(source, destination, BG_COPY_FILE_DACL));
    assert_same_dacl(source, destination);
    assert_same_dacl(fresh, destination);
}

static void engine_acl_copy_only_what_flags_select(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], destination[MAX_PATH], fresh[MAX_PATH],
        missing[MAX_PATH];

    tu_scratch("acl_flags", dir, ARRAY_SIZE(dir));
    new_file(source, dir, L"source.bin", 10);
    new_file(destination, dir, L"destination.bin", 10);
    new_file(fresh, dir, L"fresh.bin", 10);
    tu_path(missing, ARRAY_SIZE(missing), dir, L"missing.bin");
    set_dacl(source, OPEN_DACL);

    /* Owner and group without the DACL leave the DACL alone. */
    assert_hr(S_OK, acl_copy(source, destination, BG_COPY_FILE_OWNER | BG_COPY_FILE_GROUP));
    assert_same_dacl(fresh, destination);
    assert_different_dacl(source, destination);

    /* No flag: nothing is read or written, not even the source. */
    assert_hr(S_OK, acl_copy(missing, destination, 0));
    assert_hr(S_OK, acl_copy(source, missing, 0));
    assert_same_dacl(fresh, destination);
    assert_false(tu_exists(missing));
}

static void engine_acl_copy_owner_and_group(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], destination[MAX_PATH], a[256], b[256];

    tu_scratch("acl_owner", dir, ARRAY_SIZE(dir));
    new_file(source, dir, L"source.bin", 10);
    new_file(destination, dir, L"destination.bin", 10);

    /* Under Wine both files belong to the user and its primary group already, and no other
     * owner can be set: only the result and the agreement are observable. */
    assert_hr(S_OK, acl_copy(source, destination, BG_COPY_FILE_OWNER));
    sid_of(source, OWNER_SECURITY_INFORMATION, a, ARRAY_SIZE(a));
    sid_of(destination, OWNER_SECURITY_INFORMATION, b, ARRAY_SIZE(b));
    assert_true(!wcscmp(a, b));
    assert_hr(S_OK, acl_copy(source, destination, BG_COPY_FILE_GROUP));
    sid_of(source, GROUP_SECURITY_INFORMATION, a, ARRAY_SIZE(a));
    sid_of(destination, GROUP_SECURITY_INFORMATION, b, ARRAY_SIZE(b));
    assert_true(!wcscmp(a, b));
}

static void engine_acl_copy_sacl_needs_the_privilege(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], destination[MAX_PATH], fresh[MAX_PATH];
    HRESULT hr;

    tu_scratch("acl_sacl", dir, ARRAY_SIZE(dir));
    new_file(source, dir, L"source.bin", 10);
    new_file(destination, dir, L"destination.bin", 10);
    new_file(fresh, dir, L"fresh.bin", 10);
    set_dacl(source, OPEN_DACL);

    /* Reading a SACL takes SeSecurityPrivilege, which the test does not enable (Windows:
     * ERROR_PRIVILEGE_NOT_HELD; Wine refuses a SACL asked for alone with ERROR_ACCESS_DENIED,
     * even with the privilege). */
    hr = acl_copy(source, destination, BG_COPY_FILE_SACL);
    if (hr != HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED) &&
        hr != HRESULT_FROM_WIN32(ERROR_PRIVILEGE_NOT_HELD))
        fail_msg("acl_copy with BG_COPY_FILE_SACL answered 0x%08lx", (unsigned long)hr);
    assert_same_dacl(fresh, destination);

    /* With the DACL, Windows refuses the same way, while Wine 8 answers the pair without a
     * SACL (and takes a missing SACL back): either way the copy is all or nothing. */
    hr = acl_copy(source, destination, BG_COPY_FILE_DACL | BG_COPY_FILE_SACL);
    if (SUCCEEDED(hr))
        assert_same_dacl(source, destination);
    else
        assert_same_dacl(fresh, destination);
}

static void engine_acl_copy_errors(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], missing[MAX_PATH];

    tu_scratch("acl_errors", dir, ARRAY_SIZE(dir));
    new_file(source, dir, L"source.bin", 10);
    tu_path(missing, ARRAY_SIZE(missing), dir, L"missing.bin");
    assert_hr(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
              acl_copy(missing, source, BG_COPY_FILE_DACL));
    assert_hr(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
              acl_copy(source, missing, BG_COPY_FILE_DACL));
    assert_false(tu_exists(missing));
}

/* A job copies source to dir\name with the given BG_COPY_FILE_* flags. */
static void transfer_with_flags(const WCHAR *source, const WCHAR *local, DWORD flags)
{
    struct ejob *job = et_job_with_file(source, local);

    AcquireSRWLockExclusive(&job->lock);
    job->file_acl_flags = flags;
    ReleaseSRWLockExclusive(&job->lock);
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, ejob_complete(job));
    if (!tu_same_file(source, local))
        fail_msg("%ls differs from %ls", local, source);
}

static void engine_acl_through_a_job(void **state)
{
    WCHAR dir[MAX_PATH], source[MAX_PATH], with[MAX_PATH], without[MAX_PATH], fresh[MAX_PATH];

    tu_scratch("acl_job", dir, ARRAY_SIZE(dir));
    new_file(source, dir, L"source.bin", 100000);
    new_file(fresh, dir, L"fresh.bin", 10);
    tu_path(with, ARRAY_SIZE(with), dir, L"with.bin");
    tu_path(without, ARRAY_SIZE(without), dir, L"without.bin");
    set_dacl(source, OPEN_DACL);

    /* The temporary file gets the source's DACL, and the rename on Complete carries it. */
    transfer_with_flags(source, with, BG_COPY_FILE_DACL);
    assert_same_dacl(source, with);
    transfer_with_flags(source, without, 0);
    assert_same_dacl(fresh, without);
    assert_different_dacl(source, without);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(engine_acl_copy_dacl),
        cmocka_unit_test(engine_acl_copy_only_what_flags_select),
        cmocka_unit_test(engine_acl_copy_owner_and_group),
        cmocka_unit_test(engine_acl_copy_sacl_needs_the_privilege),
        cmocka_unit_test(engine_acl_copy_errors),
        cmocka_unit_test_teardown(engine_acl_through_a_job, et_cleanup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
