/* SPDX-License-Identifier: MIT */
/* Operations on single files of a job: remote names, sinks, validation, freeing a record. */

/*
 * A file record (struct ejob_file) never moves or goes while its job lives. Most of these
 * operations only change fields under job->lock; those that create or need the temporary file
 * (a new sink path, a rejected file) also hold job->op_lock, as the control operations in
 * engine.c do, so that no Resume, Complete or Cancel runs in between. No client code (a
 * stream's AddRef or Release) runs under job->lock.
 */

#include <string.h>
#include "engine/engine.h"
#include "core/url.h"

/* Are all the file's bytes in its sink? Caller holds job->lock. */
static BOOL file_done(const struct ejob_file *file)
{
    return file->progress.BytesTotal != BG_SIZE_UNKNOWN &&
           file->progress.BytesTransferred == file->progress.BytesTotal;
}

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
    free_str(file->file_id);
    free_str(file->decryption_info);
    free_str(file->integrity_info);
    free_str(file->response_headers);
    if (file->sink)
        IStream_Release(file->sink);
    heap_free(file);
}

HRESULT efile_check_ready(struct ejob *job)
{
    for (ULONG i = 0; i < job->file_count; i++)
    {
        const struct ejob_file *file = job->files[i];
        if (file_done(file))
            continue;
        if (!file->remote)
            return DO_E_DOWNLOAD_NO_URI;
        if (!file->local && !file->sink)
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

HRESULT ejob_replace_remote_prefix(struct ejob *job, const WCHAR *old_prefix,
                                   const WCHAR *new_prefix)
{
    size_t old_len, new_len;
    WCHAR **names = NULL;
    ULONG i, count, matched = 0;
    HRESULT hr = S_OK;

    if (!old_prefix || !new_prefix || !*old_prefix || !*new_prefix)
        return E_INVALIDARG;
    old_len = wcslen(old_prefix);
    new_len = wcslen(new_prefix);

    /* The new names are built under the lock, so that they replace exactly the names they
     * were made from; they are short allocations. */
    AcquireSRWLockExclusive(&job->lock);
    if (ejob_is_final(job))
    {
        hr = BG_E_INVALID_STATE;
        goto out;
    }
    count = job->file_count;
    if (count && !(names = heap_alloc_zero(count * sizeof(*names))))
    {
        hr = E_OUTOFMEMORY;
        goto out;
    }
    for (i = 0; i < count; i++)
    {
        const WCHAR *remote = job->files[i]->remote;
        size_t rest;

        if (!remote || wcsncmp(remote, old_prefix, old_len))
            continue;
        rest = wcslen(remote + old_len);
        if (new_len + rest > URL_MAX_LENGTH)
        {
            hr = E_INVALIDARG;
            goto out;
        }
        if (!(names[i] = HeapAlloc(GetProcessHeap(), 0, (new_len + rest + 1) * sizeof(WCHAR))))
        {
            hr = E_OUTOFMEMORY;
            goto out;
        }
        memcpy(names[i], new_prefix, new_len * sizeof(WCHAR));
        memcpy(names[i] + new_len, remote + old_len, (rest + 1) * sizeof(WCHAR));
        if (!valid_remote(names[i]))
        {
            hr = E_INVALIDARG;
            goto out;
        }
        matched++;
    }
    /* All names are good: swap them in (the old ones are freed below). */
    for (i = 0; i < count; i++)
    {
        if (!names[i])
            continue;
        WCHAR *old = job->files[i]->remote;
        job->files[i]->remote = names[i];
        names[i] = old;
    }
    if (matched)
        ejob_touch(job);
    else
        hr = S_FALSE;
out:
    ReleaseSRWLockExclusive(&job->lock);
    if (names)
    {
        for (i = 0; i < count; i++)
            free_str(names[i]);
        heap_free(names);
    }
    return hr;
}

HRESULT efile_set_local(struct ejob *job, ULONG index, const WCHAR *path)
{
    struct ejob_file *file;
    WCHAR *local = NULL, *temp = NULL;
    HRESULT hr = S_OK;

    if (!path_is_absolute(path) || wcslen(path) >= MAX_PATH)
        return E_INVALIDARG;
    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockShared(&job->lock);
    file = job->files[index];
    if (ejob_is_final(job))
        hr = BG_E_INVALID_STATE;
    else if (file->sink)
        hr = DO_E_FILE_DOWNLOADSINK_ALREADY_SET;
    else if (file->local)
        hr = _wcsicmp(file->local, path) ? DO_E_FILE_DOWNLOADSINK_ALREADY_SET : S_FALSE;
    ReleaseSRWLockShared(&job->lock);
    if (hr != S_OK)
        goto out;

    /* op_lock keeps any other sink setter and the control operations out meanwhile. */
    if (FAILED(hr = engine_make_temp_file(path, &temp)))
        goto out;
    if (!(local = heap_strdup(path)))
    {
        DeleteFileW(temp);
        free_str(temp);
        hr = E_OUTOFMEMORY;
        goto out;
    }
    AcquireSRWLockExclusive(&job->lock);
    file->local = local;
    file->temp = temp;
    file->temp_deleted = FALSE;
    ejob_touch(job);
    ReleaseSRWLockExclusive(&job->lock);
out:
    ReleaseSRWLockExclusive(&job->op_lock);
    return hr == S_FALSE ? S_OK : hr;
}

HRESULT efile_set_sink(struct ejob *job, ULONG index, IStream *stream)
{
    struct ejob_file *file;
    HRESULT hr = S_OK;

    IStream_AddRef(stream);
    AcquireSRWLockExclusive(&job->op_lock);
    AcquireSRWLockExclusive(&job->lock);
    file = job->files[index];
    if (ejob_is_final(job))
        hr = BG_E_INVALID_STATE;
    else if (file->local || (file->sink && file->sink != stream))
        hr = DO_E_FILE_DOWNLOADSINK_ALREADY_SET;
    else if (!file->sink)
    {
        file->sink = stream;
        stream = NULL;
        ejob_touch(job);
    }
    ReleaseSRWLockExclusive(&job->lock);
    ReleaseSRWLockExclusive(&job->op_lock);
    if (stream)
        IStream_Release(stream);
    return hr;
}

HRESULT efile_invalidate(struct ejob *job, ULONG index)
{
    struct ejob_file *file;
    HRESULT hr = S_OK;

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
         * bytes; Resume fetches it again. Stop a worker busy with another file first. */
        job->generation++;
        while (job->worker_active)
            SleepConditionVariableSRW(&job->worker_idle, &job->lock, INFINITE, 0);
        job->progress.BytesTransferred -= file->progress.BytesTransferred;
        job->progress.FilesTransferred--;
        file->progress.BytesTransferred = 0;
        file->progress.Completed = FALSE;
        file->finished = FALSE;
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
