/* SPDX-License-Identifier: MIT */
/* Who owns a job: the calling user's SID, integrity level and elevation, read from its token. */
#include <string.h>
#include "engine/engine.h"
#include <sddl.h>

static HANDLE open_caller_token(void)
{
    HANDLE token;

    /* A thread that impersonates acts for its client; otherwise the process's user acts. */
    if (OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token))
        return token;
    if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return token;
    return NULL;
}

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

HRESULT owner_of_caller(struct owner *owner)
{
    TOKEN_MANDATORY_LABEL *label;
    TOKEN_ELEVATION elevation;
    TOKEN_USER *user;
    WCHAR *sid_text;
    HANDLE token;
    DWORD size;
    HRESULT hr = S_OK;

    memset(owner, 0, sizeof(*owner));
    if (!(token = open_caller_token()))
        return HRESULT_FROM_WIN32(GetLastError());
    if (!(user = token_info(token, TokenUser)))
    {
        hr = HRESULT_FROM_WIN32(GetLastError() ? GetLastError() : ERROR_NO_TOKEN);
        goto out;
    }
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
out:
    CloseHandle(token);
    return hr;
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
