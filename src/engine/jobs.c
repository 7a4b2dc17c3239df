/* SPDX-License-Identifier: MIT */
/* The table of live jobs: the engine owns every job from CreateJob to Cancel or Complete. */
#include <string.h>
#include "engine/engine.h"

static SRWLOCK table_lock = SRWLOCK_INIT;
static struct ejob **table;  /* table_lock: live jobs in creation order, one reference each */
static ULONG table_count;    /* table_lock */
static ULONG table_capacity; /* table_lock */

/* Appends the job, taking a reference. A full array is grown outside the lock and swapped in
 * under it, so that nothing is allocated while the lock is held. */
static HRESULT table_add(struct ejob *job)
{
    struct ejob **grown = NULL;
    ULONG capacity = 0;

    for (;;)
    {
        AcquireSRWLockExclusive(&table_lock);
        if (grown && table_capacity < capacity)
        {
            struct ejob **old = table;
            if (table_count)
                memcpy(grown, table, table_count * sizeof(*grown));
            table = grown;
            table_capacity = capacity;
            grown = old;
        }
        if (table_count < table_capacity)
        {
            ejob_addref(job);
            table[table_count++] = job;
            ReleaseSRWLockExclusive(&table_lock);
            heap_free(grown);
            /* A live job keeps the DLL loaded even when no client holds a pointer to it. */
            module_lock();
            return S_OK;
        }
        capacity = max(16, table_capacity * 2);
        ReleaseSRWLockExclusive(&table_lock);
        heap_free(grown);
        if (!(grown = HeapAlloc(GetProcessHeap(), 0, capacity * sizeof(*grown))))
            return E_OUTOFMEMORY;
    }
}

/* engine_create_job, and for engine_create_download a job marked as a download before its
 * record is first written. */
static HRESULT create_job(const WCHAR *display_name, BG_JOB_TYPE type, ULONG no_progress_timeout,
                          ULONG retention_days, BOOL download, struct ejob **out)
{
    struct ejob *job;
    HRESULT hr;

    *out = NULL;
    if (FAILED(hr = ejob_create(display_name, type, &job)))
        return hr;
    if (no_progress_timeout)
        job->no_progress_timeout = no_progress_timeout;
    job->retention_days = retention_days;
    job->download.present = download;
    engine_init();
    /* Owned (its lock) before anyone can see it; its record follows with the store's next
     * batch. */
    if (FAILED(hr = store_add_job(job)))
        WARN("job %s is not stored: %08lx", debugstr_guid(&job->id), hr);
    if (FAILED(hr = table_add(job)))
    {
        store_remove_job(job);
        ejob_release(job);
        return hr;
    }
    *out = job;
    return S_OK;
}

HRESULT engine_create_job(const WCHAR *display_name, BG_JOB_TYPE type, ULONG no_progress_timeout,
                          struct ejob **out)
{
    return create_job(display_name, type, no_progress_timeout, 0, FALSE, out);
}

HRESULT engine_create_download(ULONG no_progress_timeout, ULONG retention_days, struct ejob **out)
{
    return create_job(L"", BG_JOB_TYPE_DOWNLOAD, no_progress_timeout, retention_days, TRUE, out);
}

void engine_init(void)
{
    store_init();
}

HRESULT engine_adopt_job(struct ejob *job)
{
    return table_add(job);
}

struct ejob *engine_find_job(const GUID *id)
{
    struct ejob *job;

    engine_get_job(id, &job);
    return job;
}

HRESULT engine_get_job(const GUID *id, struct ejob **out)
{
    HRESULT hr = S_OK;

    engine_init();
    /* Made by another process a moment ago, perhaps. */
    if (!(*out = engine_find_loaded_job(id)) &&
        (FAILED(hr = store_probe(id)) || !(*out = engine_find_loaded_job(id))))
        return FAILED(hr) ? hr : (HRESULT)BG_E_NOT_FOUND;
    /* Another process's job is shown as it is there now, not as its record was a moment ago
     * (a client that hands a job's id to another usually changed it just before). */
    if (share_forward(*out, SHARE_SNAPSHOT, NULL, &hr) && FAILED(hr))
        WARN("job %s: its owner does not answer: %08lx", debugstr_guid(id), hr);
    return S_OK;
}

struct ejob *engine_find_loaded_job(const GUID *id)
{
    struct ejob *found = NULL;

    AcquireSRWLockShared(&table_lock);
    for (ULONG i = 0; i < table_count; i++)
    {
        if (IsEqualGUID(&table[i]->id, id))
        {
            found = table[i];
            ejob_addref(found);
            break;
        }
    }
    ReleaseSRWLockShared(&table_lock);
    return found;
}

HRESULT engine_enum_jobs(struct ejob ***jobs, ULONG *count)
{
    engine_init();
    store_refresh();
    return engine_snapshot_jobs(jobs, count);
}

HRESULT engine_snapshot_jobs(struct ejob ***jobs, ULONG *count)
{
    struct ejob **snapshot = NULL;
    ULONG wanted = 0;

    *jobs = NULL;
    *count = 0;
    /* Sized outside the lock; a table that grew meanwhile is measured again. */
    for (;;)
    {
        AcquireSRWLockShared(&table_lock);
        if (table_count <= wanted)
        {
            for (ULONG i = 0; i < table_count; i++)
            {
                ejob_addref(table[i]);
                snapshot[i] = table[i];
            }
            *count = table_count;
            ReleaseSRWLockShared(&table_lock);
            break;
        }
        wanted = table_count;
        ReleaseSRWLockShared(&table_lock);
        heap_free(snapshot);
        if (!(snapshot = HeapAlloc(GetProcessHeap(), 0, wanted * sizeof(*snapshot))))
            return E_OUTOFMEMORY;
    }
    if (!*count)
    {
        heap_free(snapshot);
        snapshot = NULL;
    }
    *jobs = snapshot;
    return S_OK;
}

BOOL engine_owns_active_jobs(void)
{
    struct ejob **jobs;
    ULONG count;
    BOOL active = FALSE;

    if (FAILED(engine_snapshot_jobs(&jobs, &count)))
        return TRUE; /* cannot tell: assume work is left */
    for (ULONG i = 0; i < count; i++)
    {
        AcquireSRWLockShared(&jobs[i]->lock);
        if (!jobs[i]->remote && (jobs[i]->worker_active || jobs[i]->state == BG_JOB_STATE_QUEUED ||
                                 jobs[i]->state == BG_JOB_STATE_CONNECTING ||
                                 jobs[i]->state == BG_JOB_STATE_TRANSFERRING ||
                                 jobs[i]->state == BG_JOB_STATE_TRANSIENT_ERROR))
            active = TRUE;
        ReleaseSRWLockShared(&jobs[i]->lock);
        ejob_release(jobs[i]);
    }
    heap_free(jobs);
    return active;
}

void engine_forget_job(struct ejob *job)
{
    BOOL found = FALSE;

    AcquireSRWLockExclusive(&table_lock);
    for (ULONG i = 0; i < table_count; i++)
    {
        if (table[i] == job)
        {
            /* Creation order is kept: EnumJobs lists jobs as they were made. */
            memmove(&table[i], &table[i + 1], (table_count - i - 1) * sizeof(*table));
            table_count--;
            found = TRUE;
            break;
        }
    }
    ReleaseSRWLockExclusive(&table_lock);
    store_remove_job(job);
    if (found)
    {
        ejob_release(job);
        module_unlock();
    }
}
