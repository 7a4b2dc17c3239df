/* SPDX-License-Identifier: MIT */
/* IBackgroundCopyJob3::SetFileACLFlags at work: the source file's owner and ACLs on the copy. */
#include "engine/engine.h"
#include <aclapi.h>

HRESULT acl_copy(const WCHAR *source, const WCHAR *destination, DWORD flags)
{
    SECURITY_INFORMATION wanted = 0;
    PSECURITY_DESCRIPTOR descriptor = NULL;
    PSID owner = NULL, group = NULL;
    PACL dacl = NULL, sacl = NULL;
    DWORD err;

    if (flags & BG_COPY_FILE_OWNER)
        wanted |= OWNER_SECURITY_INFORMATION;
    if (flags & BG_COPY_FILE_GROUP)
        wanted |= GROUP_SECURITY_INFORMATION;
    if (flags & BG_COPY_FILE_DACL)
        wanted |= DACL_SECURITY_INFORMATION;
    if (flags & BG_COPY_FILE_SACL)
        wanted |= SACL_SECURITY_INFORMATION;
    if (!wanted)
        return S_OK;
    err = GetNamedSecurityInfoW(source, SE_FILE_OBJECT, wanted, &owner, &group, &dacl, &sacl,
                                &descriptor);
    if (err)
        return HRESULT_FROM_WIN32(err);
    /* The DACL's explicit entries come from the source; inheritable ones from the folder. */
    if (wanted & DACL_SECURITY_INFORMATION)
        wanted |= UNPROTECTED_DACL_SECURITY_INFORMATION;
    if (wanted & SACL_SECURITY_INFORMATION)
        wanted |= UNPROTECTED_SACL_SECURITY_INFORMATION;
    err = SetNamedSecurityInfoW((WCHAR *)destination, SE_FILE_OBJECT, wanted, owner, group, dacl,
                                sacl);
    LocalFree(descriptor);
    return HRESULT_FROM_WIN32(err);
}
