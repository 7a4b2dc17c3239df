/* SPDX-License-Identifier: MIT */
/* Operations on single files of a job: remote names, sinks, validation, freeing a record. */

/*
 * A file record (struct ejob_file) never moves or goes while its job lives. Most of these
 * operations only change fields under job->lock; those that create or need the temporary file
 * (a new sink path, a rejected file) also hold job->op_lock, as the control operations in
 * engine.c do, so that no Resume, Complete or Cancel runs in between. No client code (a
 * stream's AddRef or Release) runs under job->lock.
 *
 * A stream sink may live in a single-threaded apartment (a GUI client's thread) or be a proxy:
 * it may only be called in the apartment it came from. It is kept in the Global Interface Table,
 * registered from the thread that sets it; whoever calls it (the worker, GetProperty) takes it
 * from there, for its own apartment, and lets it go again. The registration lasts as long as
 * the file record and holds the stream alive.
 */

#include <string.h>
#include <wctype.h>
#include "engine/engine.h"
#include "core/url.h"

static BOOL valid_remote(const WCHAR *url)
{
    return url && wcslen(url) <= URL_MAX_LENGTH && url_classify(url) != URL_INVALID;
}

void efile_free(struct ejob_file *file)
{
    if (!file)
        return;
    free_str(file->remote);
    free_str(file->local);
    free_str(file->temp);
    heap_free(file->ranges);
    heap_free(file->extents);
    free_str(file->file_id);
    free_str(file->decryption_info);
    free_str(file->integrity_info);
    free_str(file->response_headers);
    /* The last reference to a job may go on any thread. */
    git_revoke(file->sink_cookie);
    heap_free(file);
}

HRESULT efile_check_ready(struct ejob *job)
{
    for (ULONG i = 0; i < job->file_count; i++)
    {
        const struct ejob_file *file = job->files[i];
        /* As Resume counts work: what is not finished yet. */
        if (file->finished)
            continue;
        if (!file->remote)
            return DO_E_DOWNLOAD_NO_URI;
        if (!file->local && !file->sink_cookie)
            return DO_E_FILE_DOWNLOADSINK_UNSPECIFIED;
    }
    return S_OK;
}

HRESULT efile_set_remote(struct ejob *job, ULONG index, const WCHAR *url)
{
    struct ejob_file *file;
    WCHAR *copy, *old = NULL;
    HRESULT hr = S_OK;

    if (!valid_remote(url))
        return E_INVALIDARG;
    if (share_forward(job, SHARE_SET_REMOTE, &(struct share_args){.index = index, .a = url}, &hr))
        return hr;
    if (!(copy = heap_strdup(url)))
        return E_OUTOFMEMORY;
    AcquireSRWLockExclusive(&job->lock);
    file = job->files[index];
    if (ejob_is_final(job))
    {
        hr = BG_E_INVALID_STATE;
        old = copy;
    }
    else
    {
        /* The worker fetches from a copy it took when the fetch began: the new name counts
         * from the next fetch on, which checks (as any resume does) that the bytes fetched
         * so far still belong to the file the name now designates. */
        old = file->remote;
        file->remote = copy;
        ejob_touch(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
    free_str(old);
    return hr;
}

/* Characters (with the 0) of `remote` with old_prefix replaced by one of new_len characters:
 * 0 if it does not start with old_prefix. */
static size_t replaced_size(const WCHAR *remote, const WCHAR *old_prefix, size_t old_len,
                            size_t new_len)
{
    if (!remote || wcsncmp(remote, old_prefix, old_len))
        return 0;
    return new_len + wcslen(remote + old_len) + 1;
}

HRESULT ejob_replace_remote_prefix(struct ejob *job, const WCHAR *old_prefix,
                                   const WCHAR *new_prefix)
{
    size_t old_len, new_len, *have = NULL, *want = NULL, need;
    WCHAR **names = NULL;
    ULONG i, count = 0, capacity = 0, matched;
    BOOL ready;
    HRESULT hr = S_OK;

    if (!old_prefix || !new_prefix || !*old_prefix || !*new_prefix)
        return E_INVALIDARG;
    if (share_forward(job, SHARE_REPLACE_PREFIX,
                      &(struct share_args){.a = old_prefix, .b = new_prefix}, &hr))
        return hr;
    old_len = wcslen(old_prefix);
    new_len = wcslen(new_prefix);

    /* The new names are built under the lock, so that they replace exactly the names they
     * were made from, in buffers allocated without it: their sizes are measured under the lock,
     * the buffers made outside, and the names built once every buffer is large enough. */
    for (;;)
    {
        AcquireSRWLockExclusive(&job->lock);
        if (ejob_is_final(job))
        {
            hr = BG_E_INVALID_STATE;
            goto out_unlock;
        }
        count = job->file_count;
        ready = count <= capacity;
        for (i = 0; i < count && ready; i++)
        {
            need = replaced_size(job->files[i]->remote, old_prefix, old_len, new_len);
            if (need > URL_MAX_LENGTH + 1)
            {
                hr = E_INVALIDARG;
                goto out_unlock;
            }
            want[i] = need;
            ready = need <= have[i];
        }
        if (ready)
            break;
        if (count <= capacity)
        {
            /* Measure the rest too, so that one more round suffices. */
            for (; i < count; i++)
                want[i] = replaced_size(job->files[i]->remote, old_prefix, old_len, new_len);
        }
        ReleaseSRWLockExclusive(&job->lock);

        if (count > capacity)
        {
            WCHAR **grown_names = heap_alloc_zero(count * sizeof(*names));
            size_t *grown_have = heap_alloc_zero(count * sizeof(*have));
            size_t *grown_want = heap_alloc_zero(count * sizeof(*want));
            if (!grown_names || !grown_have || !grown_want)
            {
                heap_free(grown_names);
                heap_free(grown_have);
                heap_free(grown_want);
                hr = E_OUTOFMEMORY;
                goto out;
            }
            if (capacity)
            {
                memcpy(grown_names, names, capacity * sizeof(*names));
                memcpy(grown_have, have, capacity * sizeof(*have));
            }
            heap_free(names);
            heap_free(have);
            heap_free(want);
            names = grown_names;
            have = grown_have;
            want = grown_want;
            capacity = count;
            continue;
        }
        for (i = 0; i < count; i++)
        {
            if (want[i] <= have[i])
                continue;
            free_str(names[i]);
            have[i] = 0;
            if (!(names[i] = HeapAlloc(GetProcessHeap(), 0, want[i] * sizeof(WCHAR))))
            {
                hr = E_OUTOFMEMORY;
                goto out;
            }
            have[i] = want[i];
        }
    }

    /* Every buffer is large enough: build the names, check them all, then swap them in. */
    matched = 0;
    for (i = 0; i < count; i++)
    {
        const WCHAR *remote = job->files[i]->remote;

        if (!want[i])
            continue;
        memcpy(names[i], new_prefix, new_len * sizeof(WCHAR));
        memcpy(names[i] + new_len, remote + old_len, (want[i] - new_len) * sizeof(WCHAR));
        if (!valid_remote(names[i]))
        {
            hr = E_INVALIDARG;
            goto out_unlock;
        }
        matched++;
    }
    for (i = 0; i < count; i++)
    {
        if (!want[i])
            continue;
        WCHAR *old = job->files[i]->remote;
        job->files[i]->remote = names[i];
        names[i] = old;
    }
    if (matched)
        ejob_touch(job);
    else
        hr = S_FALSE;
out_unlock:
    ReleaseSRWLockExclusive(&job->lock);
out:
    for (i = 0; i < capacity; i++)
        free_str(names[i]);
    heap_free(names);
    heap_free(have);
    heap_free(want);
    return hr;
}

/* A character of a local name as names are compared: '/' is '\\', case is folded (ASCII
 * without a call). */
static WCHAR fold(WCHAR c)
{
    if (c == L'/')
        return L'\\';
    if (c < 0x80)
        return c >= L'A' && c <= L'Z' ? c + (L'a' - L'A') : c;
    return towlower(c);
}

BOOL efile_same_local_name(const WCHAR *a, const WCHAR *b)
{
    /* Names of one set share a long folder prefix: equal characters are passed without
     * folding, which a set of 1,000 files, each compared with the others, felt. */
    for (;; a++, b++)
    {
        if (*a != *b && fold(*a) != fold(*b))
            return FALSE;
        if (!*a)
            return TRUE;
    }
}

BOOL efile_local_name_taken(const struct ejob *job, const WCHAR *path, ULONG except)
{
    for (ULONG i = 0; i < job->file_count; i++)
    {
        if (i != except && job->files[i]->local &&
            efile_same_local_name(job->files[i]->local, path))
            return TRUE;
    }
    return FALSE;
}

HRESULT efile_set_local(struct ejob *job, ULONG index, const WCHAR *path)
{
    struct ejob_file *file;
    WCHAR *local = NULL, *temp = NULL;
    HRESULT hr = S_OK;

    if (!path_is_absolute(path) || wcslen(path) >= MAX_PATH)
        return E_INVALIDARG;
    if (share_forward(job, SHARE_SET_LOCAL, &(struct share_args){.index = index, .a = path}, &hr))
        return hr;
    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockShared(&job->lock);
    file = job->files[index];
    if (ejob_is_final(job))
        hr = BG_E_INVALID_STATE;
    else if (file->sink_cookie)
        hr = DO_E_FILE_DOWNLOADSINK_ALREADY_SET;
    else if (file->local)
        hr = _wcsicmp(file->local, path) ? DO_E_FILE_DOWNLOADSINK_ALREADY_SET : S_FALSE;
    /* Two files of a job with one local name: Complete would put one over the other. */
    else if (efile_local_name_taken(job, path, index))
        hr = E_INVALIDARG;
    ReleaseSRWLockShared(&job->lock);
    if (hr != S_OK)
        goto out;

    /* op_lock keeps any other sink setter and the control operations out meanwhile. The
     * temporary file is made when the transfer starts (tempfile_make). */
    if (FAILED(hr = tempfile_reserve(path, NULL, &temp)))
        goto out;
    if (!(local = heap_strdup(path)))
    {
        free_str(temp);
        hr = E_OUTOFMEMORY;
        goto out;
    }
    AcquireSRWLockExclusive(&job->lock);
    file->local = local;
    file->temp = temp;
    memset(&file->temp_id, 0, sizeof(file->temp_id));
    file->temp_deleted = TRUE;
    ejob_touch(job);
    ReleaseSRWLockExclusive(&job->lock);
out:
    ReleaseSRWLockExclusive(&job->op_lock);
    return hr == S_FALSE ? S_OK : hr;
}

/* Are a and b the same object? COM's identity rule: the same IUnknown. */
static BOOL same_object(IUnknown *a, IUnknown *b)
{
    IUnknown *ua, *ub;
    BOOL same = FALSE;

    if (SUCCEEDED(IUnknown_QueryInterface(a, &IID_IUnknown, (void **)&ua)))
    {
        if (SUCCEEDED(IUnknown_QueryInterface(b, &IID_IUnknown, (void **)&ub)))
        {
            same = ua == ub;
            IUnknown_Release(ub);
        }
        IUnknown_Release(ua);
    }
    return same;
}

HRESULT efile_set_sink(struct ejob *job, ULONG index, IStream *stream)
{
    IGlobalInterfaceTable *git;
    struct ejob_file *file;
    DWORD cookie = 0, existing = 0;
    IStream *held;
    HRESULT hr;

    /* The stream lives in this process; the job's bytes arrive in the one that owns it. */
    if (store_is_mirror(job))
    {
        FIXME("job %s: a stream sink for a job another process owns", debugstr_guid(&job->id));
        return E_NOTIMPL;
    }
    /* Registered here, on the caller's thread, so that the table knows the stream's apartment.
     * This may call the stream (QueryInterface for marshaling): it happens before any lock. */
    if (FAILED(hr = git_get(&git)))
        return hr;
    if (FAILED(hr = IGlobalInterfaceTable_RegisterInterfaceInGlobal(git, (IUnknown *)stream,
                                                                    &IID_IStream, &cookie)))
    {
        WARN("cannot register the stream sink: %08lx", hr);
        goto out;
    }

    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockExclusive(&job->lock);
    file = job->files[index];
    if (ejob_is_final(job))
        hr = BG_E_INVALID_STATE;
    else if (file->local)
        hr = DO_E_FILE_DOWNLOADSINK_ALREADY_SET;
    else if (file->sink_cookie)
        existing = file->sink_cookie;
    else
    {
        file->sink_cookie = cookie;
        cookie = 0;
        ejob_touch(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
    ReleaseSRWLockExclusive(&job->op_lock);

    /* A sink is set once: the same stream again is no change, another is refused. They are
     * compared in this apartment, outside the locks; `existing` stays registered meanwhile,
     * since the caller's file object keeps the record alive. */
    if (existing)
    {
        hr = DO_E_FILE_DOWNLOADSINK_ALREADY_SET;
        if (SUCCEEDED(IGlobalInterfaceTable_GetInterfaceFromGlobal(git, existing, &IID_IStream,
                                                                   (void **)&held)))
        {
            if (same_object((IUnknown *)held, (IUnknown *)stream))
                hr = S_OK;
            IStream_Release(held);
        }
    }
    if (cookie)
        IGlobalInterfaceTable_RevokeInterfaceFromGlobal(git, cookie);
out:
    IGlobalInterfaceTable_Release(git);
    return hr;
}

HRESULT efile_get_sink(struct ejob *job, ULONG index, IStream **out)
{
    IGlobalInterfaceTable *git;
    DWORD cookie;
    HRESULT hr;

    *out = NULL;
    AcquireSRWLockShared(&job->lock);
    cookie = job->files[index]->sink_cookie;
    ReleaseSRWLockShared(&job->lock);
    /* Set once and revoked only with the record, which the caller's file object keeps. */
    if (!cookie)
        return S_FALSE;
    if (FAILED(hr = git_get(&git)))
        return hr;
    hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(git, cookie, &IID_IStream, (void **)out);
    IGlobalInterfaceTable_Release(git);
    if (FAILED(hr))
        *out = NULL;
    return hr;
}

HRESULT efile_invalidate(struct ejob *job, ULONG index)
{
    struct ejob_file *file;
    HRESULT hr = S_OK;

    if (share_forward(job, SHARE_INVALIDATE, &(struct share_args){.index = index}, &hr))
        return hr;
    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockExclusive(&job->lock);
    file = job->files[index];
    if (ejob_is_final(job))
        hr = BG_E_INVALID_STATE;
    else if (!file->finished)
        hr = E_PENDING;
    else
    {
        /* BITS: the job goes to ERROR with BG_E_VALIDATION_FAILED and the file back to zero
         * bytes; Resume fetches it again. A worker busy with another file is stopped without
         * waiting: once the generation moved it changes neither the job nor its counters, it
         * never touches a finished file, and no new worker starts before it has left. */
        job->generation++;
        job->progress.BytesTransferred -= file->progress.BytesTransferred;
        job->progress.FilesTransferred--;
        file->progress.BytesTransferred = 0;
        file->durable = 0;
        heap_free(file->extents);
        file->extents = NULL;
        file->extent_count = 0;
        file->progress.Completed = FALSE;
        file->finished = file->announced = FALSE;
        file->validator[0] = 0;
        file->validation_state = FALSE;
        job->state = BG_JOB_STATE_ERROR;
        job->error.present = TRUE;
        job->error.code = BG_E_VALIDATION_FAILED;
        job->error.context = BG_ERROR_CONTEXT_REMOTE_FILE;
        job->error.file_index = index;
        job->error_count++;
        ejob_touch(job);
        notify_state_entered(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
    ReleaseSRWLockExclusive(&job->op_lock);
    return hr;
}
