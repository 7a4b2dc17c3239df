/* SPDX-License-Identifier: MIT */
/* Tests of who owns a job (src/engine/owner.c): the caller's SID, integrity level, elevation
 * and membership of Administrators, each compared with what the token itself says. */
#include "enginetest.h"
#include <sddl.h>

/* What the test reads from a token on its own, to compare with owner.c's answers. */
struct token_facts
{
    WCHAR sid[256];
    ULONG integrity_level; /* SECURITY_MANDATORY_MEDIUM_RID when the token has no label */
    BOOL elevated;
    BOOL admin; /* S-1-5-32-544 is an enabled group, not deny-only */
};

static void *token_info(HANDLE token, TOKEN_INFORMATION_CLASS type)
{
    DWORD size = 0;
    void *info;

    GetTokenInformation(token, type, NULL, 0, &size);
    if (!size)
        return NULL;
    info = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size);
    assert_non_null(info);
    if (!GetTokenInformation(token, type, info, size, &size))
    {
        HeapFree(GetProcessHeap(), 0, info);
        return NULL;
    }
    return info;
}

static void read_token(HANDLE token, struct token_facts *facts)
{
    SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
    TOKEN_MANDATORY_LABEL *label;
    TOKEN_ELEVATION elevation;
    TOKEN_GROUPS *groups;
    TOKEN_USER *user;
    PSID admins;
    WCHAR *text;
    DWORD size;

    memset(facts, 0, sizeof(*facts));
    user = token_info(token, TokenUser);
    assert_non_null(user);
    assert_true(ConvertSidToStringSidW(user->User.Sid, &text));
    wcsncpy(facts->sid, text, ARRAY_SIZE(facts->sid) - 1);
    LocalFree(text);
    HeapFree(GetProcessHeap(), 0, user);

    facts->integrity_level = SECURITY_MANDATORY_MEDIUM_RID;
    if ((label = token_info(token, TokenIntegrityLevel)))
    {
        UCHAR count = *GetSidSubAuthorityCount(label->Label.Sid);
        assert_true(count > 0);
        facts->integrity_level = *GetSidSubAuthority(label->Label.Sid, count - 1);
        HeapFree(GetProcessHeap(), 0, label);
    }
    if (GetTokenInformation(token, TokenElevation, &elevation, sizeof(elevation), &size))
        facts->elevated = elevation.TokenIsElevated != 0;

    assert_true(AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                         DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &admins));
    groups = token_info(token, TokenGroups);
    assert_non_null(groups);
    for (DWORD i = 0; i < groups->GroupCount; i++)
    {
        DWORD attributes = groups->Groups[i].Attributes;
        if (EqualSid(groups->Groups[i].Sid, admins) && (attributes & SE_GROUP_ENABLED) &&
            !(attributes & SE_GROUP_USE_FOR_DENY_ONLY))
            facts->admin = TRUE;
    }
    HeapFree(GetProcessHeap(), 0, groups);
    FreeSid(admins);
}

static void process_facts(struct token_facts *facts)
{
    HANDLE token;

    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    read_token(token, facts);
    CloseHandle(token);
}

static void check_owner(const struct owner *owner, const struct token_facts *facts)
{
    assert_non_null(owner->sid);
    if (wcscmp(owner->sid, facts->sid))
        fail_msg("owner_of_caller gives %ls, the token's user is %ls", owner->sid, facts->sid);
    assert_int_equal(facts->integrity_level, owner->integrity_level);
    assert_int_equal(facts->elevated, owner->elevated);
}

static void engine_owner_of_caller_reads_the_token(void **state)
{
    struct token_facts facts;
    struct owner owner;

    process_facts(&facts);
    /* A user's SID, whatever the machine: S-1-5-21-... on Windows and under Wine. */
    assert_true(!wcsncmp(facts.sid, L"S-1-5-", 6));
    /* Wine 8 answers success to SetTokenInformation(TokenIntegrityLevel) but keeps the level,
     * so no test can lower it: the level is compared with the token's as it is (HIGH under
     * Wine, whose user is an elevated administrator). */
    assert_hr(S_OK, owner_of_caller(&owner));
    check_owner(&owner, &facts);
    owner_clear(&owner);
    assert_null(owner.sid);
    assert_int_equal(0, owner.integrity_level);
    assert_false(owner.elevated);
    /* Clearing twice is harmless. */
    owner_clear(&owner);
}

static void engine_owner_of_caller_while_impersonating(void **state)
{
    struct token_facts facts;
    struct owner owner;
    HANDLE token;

    /* The thread's own token, the process's user at the impersonation level. */
    assert_true(ImpersonateSelf(SecurityImpersonation));
    assert_true(OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token));
    read_token(token, &facts);
    CloseHandle(token);
    assert_hr(S_OK, owner_of_caller(&owner));
    RevertToSelf();
    check_owner(&owner, &facts);
    owner_clear(&owner);

    /* The restricted token still names the same user. */
    token = tu_token_without_admins();
    read_token(token, &facts);
    assert_true(SetThreadToken(NULL, token));
    assert_hr(S_OK, owner_of_caller(&owner));
    RevertToSelf();
    CloseHandle(token);
    check_owner(&owner, &facts);
    owner_clear(&owner);
}

static void engine_owner_caller_is_admin_follows_the_token(void **state)
{
    struct token_facts process, restricted;
    HANDLE token;
    BOOL admin;

    /* Under Wine the user is an administrator; elsewhere perhaps not: the answer must be the
     * token's either way. */
    process_facts(&process);
    assert_int_equal(process.admin, owner_caller_is_admin());

    /* The thread's token counts, not the process's: with Administrators deny-only, the caller
     * is no administrator. */
    token = tu_token_without_admins();
    read_token(token, &restricted);
    assert_false(restricted.admin);
    assert_true(SetThreadToken(NULL, token));
    admin = owner_caller_is_admin();
    RevertToSelf();
    CloseHandle(token);
    assert_false(admin);
    assert_int_equal(process.admin, owner_caller_is_admin());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(engine_owner_of_caller_reads_the_token),
        cmocka_unit_test(engine_owner_of_caller_while_impersonating),
        cmocka_unit_test(engine_owner_caller_is_admin_follows_the_token),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
