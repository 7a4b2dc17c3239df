/* SPDX-License-Identifier: MIT */
/* Who owns a job: the calling user's SID, integrity level and elevation, read from its token. */
#include <string.h>
#include "engine/engine.h"
#include <sddl.h>

static void *token_info(HANDLE token, TOKEN_INFORMATION_CLASS type)
{
    DWORD size = 0;
    void *info;

    GetTokenInformation(token, type, NULL, 0, &size);
    if (!size || !(info = heap_alloc_zero(size)))
        return NULL;
    if (!GetTokenInformation(token, type, info, size, &size))
    {
        heap_free(info);
        return NULL;
    }
    return info;
}

/* The owner facts of `token`. */
static HRESULT owner_of_token(HANDLE token, struct owner *owner)
{
    TOKEN_MANDATORY_LABEL *label;
    TOKEN_ELEVATION elevation;
    TOKEN_USER *user;
    WCHAR *sid_text;
    DWORD size;
    HRESULT hr = S_OK;

    memset(owner, 0, sizeof(*owner));
    if (!(user = token_info(token, TokenUser)))
        return HRESULT_FROM_WIN32(GetLastError() ? GetLastError() : ERROR_NO_TOKEN);
    if (!ConvertSidToStringSidW(user->User.Sid, &sid_text))
        hr = HRESULT_FROM_WIN32(GetLastError());
    else
    {
        if (!(owner->sid = heap_strdup(sid_text)))
            hr = E_OUTOFMEMORY;
        LocalFree(sid_text);
    }
    heap_free(user);

    /* Without a label (older systems, some Wine versions) the user runs at medium level. */
    owner->integrity_level = SECURITY_MANDATORY_MEDIUM_RID;
    if ((label = token_info(token, TokenIntegrityLevel)))
    {
        PSID sid = label->Label.Sid;
        UCHAR count = *GetSidSubAuthorityCount(sid);
        if (count)
            owner->integrity_level = *GetSidSubAuthority(sid, count - 1);
        heap_free(label);
    }
    if (GetTokenInformation(token, TokenElevation, &elevation, sizeof(elevation), &size))
        owner->elevated = elevation.TokenIsElevated != 0;
    return hr;
}

/* The process's own user does not change while it runs: read once. */
static INIT_ONCE process_once = INIT_ONCE_STATIC_INIT;
static struct owner process_owner;
static HRESULT process_hr;

static BOOL CALLBACK read_process_owner(INIT_ONCE *once, void *param, void **context)
{
    HANDLE token;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
    {
        process_hr = HRESULT_FROM_WIN32(GetLastError());
        return TRUE;
    }
    process_hr = owner_of_token(token, &process_owner);
    CloseHandle(token);
    return TRUE;
}

HRESULT owner_of_caller(struct owner *owner)
{
    HANDLE token;
    HRESULT hr;

    /* A thread that impersonates acts for its client; otherwise the process's user acts. */
    if (OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token))
    {
        hr = owner_of_token(token, owner);
        CloseHandle(token);
        return hr;
    }
    memset(owner, 0, sizeof(*owner));
    InitOnceExecuteOnce(&process_once, read_process_owner, NULL, NULL);
    if (FAILED(process_hr))
        return process_hr;
    *owner = process_owner;
    if (process_owner.sid && !(owner->sid = heap_strdup(process_owner.sid)))
        return E_OUTOFMEMORY;
    return S_OK;
}

void owner_clear(struct owner *owner)
{
    free_str(owner->sid);
    memset(owner, 0, sizeof(*owner));
}

BOOL owner_caller_is_admin(void)
{
    SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
    PSID admins;
    BOOL member = FALSE;

    if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0,
                                  0, 0, 0, 0, 0, &admins))
        return FALSE;
    if (!CheckTokenMembership(NULL, admins, &member))
        member = FALSE;
    FreeSid(admins);
    return member;
}
