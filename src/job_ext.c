/* SPDX-License-Identifier: MIT */
/* The job's IBackgroundCopyJob2 to IBackgroundCopyJob5 methods (the vtable is in job.c). */
#include "job.h"

/* ---- IBackgroundCopyJob2 ---- */

HRESULT WINAPI job_SetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPCWSTR program, LPCWSTR parameters)
{
    FIXME("%p %s %s: not implemented yet", iface, debugstr_w(program), debugstr_w(parameters));
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPWSTR *program, LPWSTR *parameters)
{
    FIXME("%p %p %p: not implemented yet", iface, program, parameters);
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetReplyProgress(IBackgroundCopyJob5 *iface, BG_JOB_REPLY_PROGRESS *progress)
{
    FIXME("%p %p: not implemented yet", iface, progress);
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetReplyData(IBackgroundCopyJob5 *iface, byte **buffer, UINT64 *length)
{
    FIXME("%p %p %p: not implemented yet", iface, buffer, length);
    return E_NOTIMPL;
}

HRESULT WINAPI job_SetReplyFileName(IBackgroundCopyJob5 *iface, LPCWSTR name)
{
    FIXME("%p %s: not implemented yet", iface, debugstr_w(name));
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetReplyFileName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    FIXME("%p %p: not implemented yet", iface, name);
    return E_NOTIMPL;
}

HRESULT WINAPI job_SetCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_CREDENTIALS *credentials)
{
    FIXME("%p %p: not implemented yet", iface, credentials);
    return E_NOTIMPL;
}

HRESULT WINAPI job_RemoveCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_TARGET target,
                                     BG_AUTH_SCHEME scheme)
{
    FIXME("%p %d %d: not implemented yet", iface, target, scheme);
    return E_NOTIMPL;
}

/* ---- IBackgroundCopyJob3 ---- */

HRESULT WINAPI job_ReplaceRemotePrefix(IBackgroundCopyJob5 *iface, LPCWSTR old_prefix,
                                       LPCWSTR new_prefix)
{
    FIXME("%p %s %s: not implemented yet", iface, debugstr_w(old_prefix), debugstr_w(new_prefix));
    return E_NOTIMPL;
}

HRESULT WINAPI job_AddFileWithRanges(IBackgroundCopyJob5 *iface, LPCWSTR remote, LPCWSTR local,
                                     DWORD count, BG_FILE_RANGE *ranges)
{
    FIXME("%p %s %s %lu %p: not implemented yet", iface, debugstr_w(remote), debugstr_w(local),
          count, ranges);
    return E_NOTIMPL;
}

HRESULT WINAPI job_SetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    FIXME("%p %#lx: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    FIXME("%p %p: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

/* ---- IBackgroundCopyJob4 ---- */

HRESULT WINAPI job_SetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    FIXME("%p %#lx: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    FIXME("%p %p: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetOwnerIntegrityLevel(IBackgroundCopyJob5 *iface, ULONG *level)
{
    FIXME("%p %p: not implemented yet", iface, level);
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetOwnerElevationState(IBackgroundCopyJob5 *iface, BOOL *elevated)
{
    FIXME("%p %p: not implemented yet", iface, elevated);
    return E_NOTIMPL;
}

HRESULT WINAPI job_SetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG timeout)
{
    FIXME("%p %lu: not implemented yet", iface, timeout);
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG *timeout)
{
    FIXME("%p %p: not implemented yet", iface, timeout);
    return E_NOTIMPL;
}

/* ---- IBackgroundCopyJob5 ---- */

HRESULT WINAPI job_SetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                               BITS_JOB_PROPERTY_VALUE value)
{
    FIXME("%p %d: not implemented yet", iface, id);
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                               BITS_JOB_PROPERTY_VALUE *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}
