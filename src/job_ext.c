/* SPDX-License-Identifier: MIT */
/* The job's IBackgroundCopyJob2 to IBackgroundCopyJob5 methods (the vtable is in job.c). */
#include <string.h>
#include "job.h"

/* ---- IBackgroundCopyJob2 ---- */

/* The program runs when the job enters TRANSFERRED or ERROR (with the matching notify flag)
 * and no callback took the event; see engine/notify.c. */
HRESULT WINAPI job_SetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPCWSTR program, LPCWSTR parameters)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %s %s", iface, debugstr_w(program), debugstr_w(parameters));
    return result(job, notify_set_cmdline(job->ejob, program, parameters));
}

HRESULT WINAPI job_GetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPWSTR *program, LPWSTR *parameters)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p %p", iface, program, parameters);
    if (!program || !parameters)
        return E_INVALIDARG;
    return notify_get_cmdline(job->ejob, program, parameters);
}

/* The reply methods belong to upload-reply jobs. OpenDO has download jobs only, for which BITS
 * documents E_NOTIMPL ("not implemented for jobs of type BG_JOB_TYPE_DOWNLOAD"): that is the
 * documented answer here, not a gap. */
HRESULT WINAPI job_GetReplyProgress(IBackgroundCopyJob5 *iface, BG_JOB_REPLY_PROGRESS *progress)
{
    TRACE("%p %p", iface, progress);
    if (!progress)
        return E_INVALIDARG;
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetReplyData(IBackgroundCopyJob5 *iface, byte **buffer, UINT64 *length)
{
    TRACE("%p %p %p", iface, buffer, length);
    if (!buffer || !length)
        return E_INVALIDARG;
    *buffer = NULL;
    *length = 0;
    return E_NOTIMPL;
}

HRESULT WINAPI job_SetReplyFileName(IBackgroundCopyJob5 *iface, LPCWSTR name)
{
    TRACE("%p %s", iface, debugstr_w(name));
    return E_NOTIMPL;
}

HRESULT WINAPI job_GetReplyFileName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    TRACE("%p %p", iface, name);
    if (!name)
        return E_INVALIDARG;
    *name = NULL;
    return E_NOTIMPL;
}

/* Validates a target and a scheme of SetCredentials/RemoveCredentials. */
static HRESULT check_auth_pair(BG_AUTH_TARGET target, BG_AUTH_SCHEME scheme)
{
    if (target < BG_AUTH_TARGET_SERVER || target > BG_AUTH_TARGET_PROXY)
        return BG_E_INVALID_AUTH_TARGET;
    if (scheme < BG_AUTH_SCHEME_BASIC || scheme > BG_AUTH_SCHEME_PASSPORT)
        return BG_E_INVALID_AUTH_SCHEME;
    return S_OK;
}

HRESULT WINAPI job_SetCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_CREDENTIALS *credentials)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct ejob_credential credential = {TRUE}, *slot;
    const WCHAR *user, *password;
    HRESULT hr;

    /* The password is never logged. */
    TRACE("%p %p", iface, credentials);
    if (!credentials)
        return E_INVALIDARG;
    if (FAILED(hr = check_auth_pair(credentials->Target, credentials->Scheme)))
        return result(job, hr);
    user = credentials->Credentials.Basic.UserName;
    password = credentials->Credentials.Basic.Password;
    /* Nor is the user name: a log never holds any part of a credential. */
    TRACE("target %d scheme %d, %s user name", credentials->Target, credentials->Scheme,
          user ? "a" : "no");
    if (user && wcslen(user) > EJOB_MAX_CREDENTIAL)
        return result(job, BG_E_USERNAME_TOO_LARGE);
    if (password && wcslen(password) > EJOB_MAX_CREDENTIAL)
        return result(job, BG_E_PASSWORD_TOO_LARGE);
    /* Basic and Digest need both; NULL names for the other schemes mean the implicit (logged-on
     * user's) credentials. */
    if ((credentials->Scheme == BG_AUTH_SCHEME_BASIC ||
         credentials->Scheme == BG_AUTH_SCHEME_DIGEST) &&
        (!user || !password))
        return E_INVALIDARG;
    if (user && (!(credential.user = heap_strdup(user)) ||
                 !(credential.password = heap_strdup(password ? password : L""))))
    {
        ejob_credential_clear(&credential);
        return E_OUTOFMEMORY;
    }
    AcquireSRWLockExclusive(&job->ejob->lock);
    if (ejob_is_final(job->ejob))
        hr = BG_E_INVALID_STATE;
    else
    {
        struct ejob_credential old;

        slot = &job->ejob->options.credentials[credentials->Target - 1][credentials->Scheme - 1];
        old = *slot;
        *slot = credential;
        credential = old;
        ejob_touch(job->ejob);
    }
    ReleaseSRWLockExclusive(&job->ejob->lock);
    ejob_credential_clear(&credential);
    return result(job, hr);
}

HRESULT WINAPI job_RemoveCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_TARGET target,
                                     BG_AUTH_SCHEME scheme)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct ejob_credential old = {0};
    HRESULT hr;

    TRACE("%p %d %d", iface, target, scheme);
    if (FAILED(hr = check_auth_pair(target, scheme)))
        return result(job, hr);
    AcquireSRWLockExclusive(&job->ejob->lock);
    if (ejob_is_final(job->ejob))
        hr = BG_E_INVALID_STATE;
    else if (!job->ejob->options.credentials[target - 1][scheme - 1].present)
        hr = S_FALSE;
    else
    {
        old = job->ejob->options.credentials[target - 1][scheme - 1];
        memset(&job->ejob->options.credentials[target - 1][scheme - 1], 0, sizeof(old));
        ejob_touch(job->ejob);
    }
    ReleaseSRWLockExclusive(&job->ejob->lock);
    ejob_credential_clear(&old);
    return result(job, hr);
}

/* ---- IBackgroundCopyJob3 ---- */

HRESULT WINAPI job_ReplaceRemotePrefix(IBackgroundCopyJob5 *iface, LPCWSTR old_prefix,
                                       LPCWSTR new_prefix)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %s %s", iface, debugstr_url(old_prefix), debugstr_url(new_prefix));
    if (!old_prefix || !new_prefix || !*old_prefix || !*new_prefix)
        return E_INVALIDARG;
    return result(job, ejob_replace_remote_prefix(job->ejob, old_prefix, new_prefix));
}

HRESULT WINAPI job_AddFileWithRanges(IBackgroundCopyJob5 *iface, LPCWSTR remote, LPCWSTR local,
                                     DWORD count, BG_FILE_RANGE *ranges)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    struct efile_spec spec = {remote, local, ranges, count, NULL, DO_UNKNOWN_FILE_SIZE};

    TRACE("%p %s %s %lu %p", iface, debugstr_url(remote), debugstr_w(local), count, ranges);
    /* BITS needs at least one range here (the whole file is AddFile's); no cap on the count. */
    if (!remote || !local || !count || !ranges)
        return E_INVALIDARG;
    return result(job, ejob_add_file(job->ejob, &spec, NULL));
}

HRESULT WINAPI job_SetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr = S_OK;

    TRACE("%p %#lx", iface, flags);
    if (flags & ~BG_COPY_FILE_ALL)
        return E_INVALIDARG;
    AcquireSRWLockExclusive(&job->ejob->lock);
    /* The flags apply as each file finishes: they must be set before the job is transferred. */
    if (ejob_is_final(job->ejob) || job->ejob->state == BG_JOB_STATE_TRANSFERRED)
        hr = BG_E_INVALID_STATE;
    else
    {
        job->ejob->file_acl_flags = flags;
        ejob_touch(job->ejob);
    }
    ReleaseSRWLockExclusive(&job->ejob->lock);
    return result(job, hr);
}

HRESULT WINAPI job_GetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, flags);
    LOCKED_GETTER(job, flags, job->ejob->file_acl_flags);
}

/* ---- IBackgroundCopyJob4 ---- */

#define ALL_PEER_CACHING_FLAGS                                                                     \
    (BG_JOB_ENABLE_PEERCACHING_CLIENT | BG_JOB_ENABLE_PEERCACHING_SERVER |                         \
     BG_JOB_DISABLE_BRANCH_CACHE)

/* Peer caching is stored and reported; OpenDO itself always downloads from the origin. */
HRESULT WINAPI job_SetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %#lx", iface, flags);
    if (flags & ~ALL_PEER_CACHING_FLAGS)
        return E_INVALIDARG;
    LOCKED_SETTER(job, job->ejob->peer_caching_flags = flags);
}

HRESULT WINAPI job_GetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, flags);
    LOCKED_GETTER(job, flags, job->ejob->peer_caching_flags);
}

HRESULT WINAPI job_GetOwnerIntegrityLevel(IBackgroundCopyJob5 *iface, ULONG *level)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, level);
    LOCKED_GETTER(job, level, job->ejob->owner.integrity_level);
}

HRESULT WINAPI job_GetOwnerElevationState(IBackgroundCopyJob5 *iface, BOOL *elevated)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, elevated);
    LOCKED_GETTER(job, elevated, job->ejob->owner.elevated);
}

HRESULT WINAPI job_SetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG timeout)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %lu", iface, timeout);
    /* 0 lifts the limit; the worker reads the value as it goes, so it applies at once. */
    LOCKED_SETTER(job, job->ejob->options.max_download_time = timeout);
}

HRESULT WINAPI job_GetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG *timeout)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);

    TRACE("%p %p", iface, timeout);
    LOCKED_GETTER(job, timeout, job->ejob->options.max_download_time);
}

/* ---- IBackgroundCopyJob5 ---- */

/* The BITS_COST_STATE_* bits a cost policy may hold. */
#define ALL_COST_FLAGS                                                                             \
    (BITS_COST_STATE_UNRESTRICTED | BITS_COST_STATE_CAPPED_USAGE_UNKNOWN |                         \
     BITS_COST_STATE_BELOW_CAP | BITS_COST_STATE_NEAR_CAP | BITS_COST_STATE_OVERCAP_CHARGED |      \
     BITS_COST_STATE_OVERCAP_THROTTLED | BITS_COST_STATE_USAGE_BASED | BITS_COST_STATE_ROAMING |   \
     BITS_COST_STATE_RESERVED | BITS_COST_OPTION_IGNORE_CONGESTION)

/* DO documents only COST_FLAGS and NOTIFICATION_CLSID; the others are "not supported" there. */
static BOOL property_known(struct job *job, BITS_JOB_PROPERTY_ID id)
{
    switch (id)
    {
    case BITS_JOB_PROPERTY_ID_COST_FLAGS:
    case BITS_JOB_PROPERTY_NOTIFICATION_CLSID:
        return TRUE;
    case BITS_JOB_PROPERTY_DYNAMIC_CONTENT:
    case BITS_JOB_PROPERTY_HIGH_PERFORMANCE:
    case BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE:
    case BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS:
    case BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS:
    case BITS_JOB_PROPERTY_ON_DEMAND_MODE:
        return job->dialect == DIALECT_BITS;
    default:
        return FALSE;
    }
}

/* Sets one property with BITS' rules on when it may change. Caller holds the job's lock
 * exclusively; the job is not final. */
static HRESULT set_property_locked(struct ejob *ejob, BITS_JOB_PROPERTY_ID id,
                                   const BITS_JOB_PROPERTY_VALUE *value)
{
    struct ejob_options *options = &ejob->options;

    switch (id)
    {
    case BITS_JOB_PROPERTY_ID_COST_FLAGS:
        options->cost_flags = value->Dword;
        break;
    case BITS_JOB_PROPERTY_NOTIFICATION_CLSID:
        options->notification_clsid = value->ClsID;
        break;
    case BITS_JOB_PROPERTY_DYNAMIC_CONTENT:
        if (ejob->resumed)
            return BG_E_READ_ONLY_PROPERTY_AFTER_RESUME;
        if (value->Enable && options->on_demand)
            return BG_E_UNSUPPORTED_JOB_CONFIGURATION;
        options->dynamic_content = !!value->Enable;
        break;
    case BITS_JOB_PROPERTY_HIGH_PERFORMANCE:
        if (ejob->file_count)
            return BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE;
        options->high_performance = !!value->Enable;
        break;
    case BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE:
        if (ejob->resumed)
            return BG_E_READ_ONLY_PROPERTY_AFTER_RESUME;
        options->max_download_size = value->Uint64;
        break;
    case BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS:
        options->stored_credentials = value->Target;
        break;
    case BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS:
        options->notification_interval_ms = value->Dword;
        break;
    case BITS_JOB_PROPERTY_ON_DEMAND_MODE:
        if (value->Enable && options->dynamic_content)
            return BG_E_UNSUPPORTED_JOB_CONFIGURATION;
        options->on_demand = !!value->Enable;
        break;
    default:
        return BG_E_UNKNOWN_PROPERTY_ID;
    }
    ejob_touch(ejob);
    return S_OK;
}

HRESULT WINAPI job_SetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                               BITS_JOB_PROPERTY_VALUE value)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    TRACE("%p %d", iface, id);
    if (!property_known(job, id))
        return result(job, BG_E_UNKNOWN_PROPERTY_ID);
    switch (id)
    {
    case BITS_JOB_PROPERTY_ID_COST_FLAGS:
        if (value.Dword & ~ALL_COST_FLAGS)
            return E_INVALIDARG;
        break;
    case BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE:
        if (!value.Uint64)
            return result(job, BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE);
        break;
    case BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS:
        /* Only proxies get the user's stored credentials; 0 turns them off again. */
        if (value.Target == BG_AUTH_TARGET_SERVER)
            return result(job, BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED);
        if (value.Target != 0 && value.Target != BG_AUTH_TARGET_PROXY)
            return E_INVALIDARG;
        break;
    default:
        break;
    }
    /* A notification class is a registration for the job's events: the thread that will
     * deliver them first. */
    if (id == BITS_JOB_PROPERTY_NOTIFICATION_CLSID && !IsEqualGUID(&value.ClsID, &GUID_NULL) &&
        FAILED(hr = notify_start()))
        return result(job, hr);
    AcquireSRWLockExclusive(&job->ejob->lock);
    if (ejob_is_final(job->ejob))
        hr = BG_E_INVALID_STATE;
    else
        hr = set_property_locked(job->ejob, id, &value);
    ReleaseSRWLockExclusive(&job->ejob->lock);
    return result(job, hr);
}

HRESULT WINAPI job_GetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                               BITS_JOB_PROPERTY_VALUE *value)
{
    struct job *job = impl_from_IBackgroundCopyJob5(iface);
    const struct ejob_options *options = &job->ejob->options;

    TRACE("%p %d %p", iface, id, value);
    if (!value)
        return E_INVALIDARG;
    if (!property_known(job, id))
        return result(job, BG_E_UNKNOWN_PROPERTY_ID);
    memset(value, 0, sizeof(*value));
    AcquireSRWLockShared(&job->ejob->lock);
    switch (id)
    {
    case BITS_JOB_PROPERTY_ID_COST_FLAGS:
        value->Dword = options->cost_flags;
        break;
    case BITS_JOB_PROPERTY_NOTIFICATION_CLSID:
        value->ClsID = options->notification_clsid;
        break;
    case BITS_JOB_PROPERTY_DYNAMIC_CONTENT:
        value->Enable = options->dynamic_content;
        break;
    case BITS_JOB_PROPERTY_HIGH_PERFORMANCE:
        value->Enable = options->high_performance;
        break;
    case BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE:
        value->Uint64 = options->max_download_size;
        break;
    case BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS:
        value->Target = options->stored_credentials;
        break;
    case BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS:
        value->Dword = options->notification_interval_ms;
        break;
    case BITS_JOB_PROPERTY_ON_DEMAND_MODE:
        value->Enable = options->on_demand;
        break;
    default:
        break;
    }
    ReleaseSRWLockShared(&job->ejob->lock);
    return S_OK;
}
