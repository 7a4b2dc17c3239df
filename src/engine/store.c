/* SPDX-License-Identifier: MIT */
/* The job store: one record per job in a per-user folder, written atomically, loaded and
 * adopted by the next process, so that jobs outlive the process that made them. */

/*
 * Design
 * ------
 * The store is a folder of the user's (%LOCALAPPDATA%\OpenDO, or OPENDO_STATE_DIR), readable
 * and writable by that user only. Each job has its record there, named after its id, in a
 * subfolder named after the id's first two hex digits (job_path):
 *   {id}.job   its record (core/record.h: versioned, checksummed), replaced atomically: written
 *              to {id}.new, flushed, then moved over the old one with write-through.
 * The one process that owns a job holds its lock, a named mutex (take_lock), made by the first
 * to ask for it: the lock dies with its owner, whatever way the owner ends. It is no file, so
 * that a new job costs no file until its record is written (under Wine every file made is work
 * for the one server thread and for the file system: a lock file per job made CreateJob
 * about four times slower). Earlier versions held {id}.lock files instead (opened without sharing,
 * deleted on close): a job whose lock file is held is owned by such a process.
 * A process owns the jobs it creates and the ones it adopts: when it opens the store, and then
 * every STORE_SCAN_MS, the store thread looks for records whose lock it can take (their owner
 * is gone, or there never was one) and loads them (reading the folder only when another
 * process changed a record since the last look: must_walk). Jobs that were queued or transferring
 * are queued again and go on from their checkpoint; the transports check that the source is
 * unchanged (ETag, Last-Modified, size) before they continue.
 *
 * When things reach the disk:
 *   - Cancel and Complete remove the record before they return (final jobs leave the store);
 *   - any other change marks the job dirty (ejob_touch), and the store thread writes the dirty
 *     jobs at most STORE_COMMIT_MS later, all in one pass (group commit);
 *   - transferred bytes are recorded only once the data is flushed: the worker flushes its file
 *     at least every 500 ms or 64 MiB (transfer.c) and adds the parts flushed to the file's
 *     `durable` prefix or its extents,
 *     which is what the record holds; a restart continues from there.
 * A record that cannot be read (corrupt, truncated, from a newer version) is moved aside to
 * {id}.bad with its reason logged; it never stops the others from loading.
 *
 * Sharing: a record whose lock another live process holds is loaded as a mirror (ejob.remote),
 * so that EnumJobs and GetJob show it. The owner rewrites its records with live progress at
 * least every STORE_PROGRESS_MS while it transfers, and a process that has mirrors looks at
 * the folder every STORE_REFRESH_MS, reading again the records whose time or size changed:
 * a view is at most about a second old. Control operations on a mirror go to the owner
 * (share.c) and come back with the job's record; setters change the mirror, which the store
 * thread sends to the owner (SHARE_SETTINGS) with its next batch. When the owner's process is
 * gone (its id and creation time are in the record), the next look takes the lock and adopts
 * the job; when its record is gone, the owner cancelled or completed it.
 *
 * Locks: store_lock guards the dirty list and is innermost (taken under job->lock by
 * store_mark_dirty; nothing is taken while it is held). The store thread takes a job's lock
 * shared to serialise it, and no lock for the file I/O. scan_lock serialises the looks at the
 * folder; it is taken under a job's op_lock (share_forward adopting a mirror), so a look only
 * tries op_lock and leaves a busy mirror for the next look.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>
#include <shlobj.h>
#include <aclapi.h>
#include <sddl.h>
#include "engine/engine.h"
#include "core/record.h"
#include "core/ranges.h"
#include "engine/storetags.h"

/* How long a change may wait before it is written, and how often the store looks for jobs
 * whose owner is gone. */
#define STORE_COMMIT_MS 200
#define STORE_SCAN_MS 1000
/* While this process shows jobs that other processes own, it looks this often, and a client's
 * EnumJobs looks again if the last look is older: views are at most about a second old. */
#define STORE_REFRESH_MS 250
/* Live progress rewrites a transferring job's record this often (the owner's side of it). */
#define STORE_PROGRESS_MS 500
/* A look reads the folder when another process changed a record since the last one (the
 * shared count of changes says so), and at least this often in any case: processes that
 * cannot share the count (another session, an older OpenDO) are seen that late at worst. */
#define STORE_WALK_MS 10000
/* BITS and DO drop jobs that did not change for this long. */
#define RETENTION_DAYS_DEFAULT 90

static SRWLOCK store_lock = SRWLOCK_INIT;
/* Held while a record is put in place or removed, so that a write that began before a job
 * became final cannot bring its record back after the removal. Taken before job->lock, never
 * under it; not held while a record's bytes are written and flushed (a Cancel does not wait
 * for another job's record to reach the disk). */
static SRWLOCK write_lock = SRWLOCK_INIT;
/* Held for the whole of a record's write, taken before write_lock: one write at a time, so that
 * of two writes of a job the newer is put in place last. */
static SRWLOCK save_lock = SRWLOCK_INIT;
/* Held while a batch of dirty jobs is written (commit). */
static SRWLOCK commit_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE store_cond = CONDITION_VARIABLE_INIT;
static struct ejob *dirty_head; /* store_lock: jobs to write, linked through store_next */
static BOOL store_open;         /* set once by store_init */
static WCHAR store_dir[MAX_PATH];
static WCHAR *user_sid; /* the process's user: records of others are ignored */
static INIT_ONCE init_once = INIT_ONCE_STATIC_INIT;

/* ---- the count of changes ---- */

/*
 * Reading the folder costs about 30 ms per 1,000 jobs under Wine, and finds something new only
 * when another process wrote or removed a record since the last read. So the processes that
 * use a store count the records they write and remove in memory they share (a named mapping,
 * per store folder and session), and a look reads the folder only when the count moved by
 * more than this process's own changes (or STORE_WALK_MS after the last read). A count read
 * just before a change someone else makes only causes one read too many, never one too few.
 */
static WCHAR names_prefix[48]; /* set once by open_changes: "Local\\OpenDO-<store hash>-" */
static volatile LONG *changes; /* set once by open_changes: the shared count, or NULL */
static LONG changes_seen;      /* the count as of the last read, plus this process's changes */
static ULONGLONG last_walk;    /* scan_lock: when a look last read the folder, or 0 */

/* The prefix of the store's named objects (the count, the jobs' locks: per store folder and
 * session), and the shared count of this store folder; without the count every look reads the
 * folder. */
static void open_changes(void)
{
    WCHAR full[MAX_PATH], name[64];
    UINT64 hash = 14695981039346656037ull; /* FNV-1a of the folder's full path, any case */
    HANDLE mapping;

    if (!GetFullPathNameW(store_dir, ARRAY_SIZE(full), full, NULL))
        wcscpy(full, store_dir);
    for (const WCHAR *c = full; *c; c++)
    {
        hash ^= towupper(*c);
        hash *= 1099511628211ull;
    }
    swprintf(names_prefix, ARRAY_SIZE(names_prefix), L"Local\\OpenDO-%016llx-",
             (unsigned long long)hash);
    swprintf(name, ARRAY_SIZE(name), L"%lschanges", names_prefix);
    if (!(mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, name)))
    {
        WARN("no shared count of changes (%lu): every look reads the store folder", GetLastError());
        return;
    }
    /* Kept for the life of the process, like the store itself. */
    if (!(changes = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, sizeof(LONG))))
        CloseHandle(mapping);
}

/* A record was written, moved or removed: counted for the other processes' looks. */
static void note_change(void)
{
    LONG now;

    if (!changes)
        return;
    now = InterlockedIncrement(changes);
    /* Up to date before this change, this process is up to date after it. */
    InterlockedCompareExchange(&changes_seen, now, now - 1);
}

/* Whether a look must read the folder; if so, the count is taken as seen from now. Caller
 * holds scan_lock. */
static BOOL must_walk(void)
{
    LONG now;

    if (!changes || !last_walk || GetTickCount64() - last_walk >= STORE_WALK_MS)
        now = changes ? InterlockedCompareExchange(changes, 0, 0) : 0;
    else if ((now = InterlockedCompareExchange(changes, 0, 0)) ==
             InterlockedCompareExchange(&changes_seen, 0, 0))
        return FALSE;
    InterlockedExchange(&changes_seen, now);
    last_walk = GetTickCount64();
    return TRUE;
}

/* ---- paths ---- */

/* A job's files are in a subfolder named after the first two hex digits of its id ("{1A2B...}"
 * is in "1A"), so that no folder holds more than a few of them: Wine looks for a name that is
 * not there yet (every file made) by reading the whole folder, and a store of 10,000 jobs in
 * one folder made each CreateJob read 20,000 names. */
static BOOL job_path(const GUID *id, const WCHAR *extension, WCHAR *out, size_t size)
{
    WCHAR guid[40];

    StringFromGUID2(id, guid, ARRAY_SIZE(guid));
    return swprintf(out, size, L"%ls\\%lc%lc\\%ls%ls", store_dir, guid[1], guid[2], guid,
                    extension) > 0;
}

/* Makes the subfolder that holds `path`; TRUE if it is there now. Its security comes from the
 * store folder's inheritable entry. */
static BOOL make_shard(const WCHAR *path)
{
    WCHAR folder[MAX_PATH], *slash;

    wcscpy(folder, path);
    if (!(slash = wcsrchr(folder, '\\')))
        return FALSE;
    *slash = 0;
    return CreateDirectoryW(folder, NULL) || GetLastError() == ERROR_ALREADY_EXISTS;
}

/* CreateFileW, making the job's subfolder first when it is not there. */
static HANDLE create_in_shard(const WCHAR *path, DWORD access, DWORD share, DWORD disposition,
                              DWORD flags)
{
    HANDLE file = CreateFileW(path, access, share, NULL, disposition, flags, NULL);

    if (file == INVALID_HANDLE_VALUE && GetLastError() == ERROR_PATH_NOT_FOUND && make_shard(path))
        file = CreateFileW(path, access, share, NULL, disposition, flags, NULL);
    return file;
}

/* The store folder, made readable and writable by its user only. */
static HRESULT open_folder(void)
{
    WCHAR sddl[256], base[MAX_PATH];
    SECURITY_ATTRIBUTES sa = {sizeof(sa)};
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD len;
    int err;

    len = GetEnvironmentVariableW(L"OPENDO_STATE_DIR", store_dir, ARRAY_SIZE(store_dir));
    if (len >= ARRAY_SIZE(store_dir))
        return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    if (!len)
    {
        if (FAILED(
                SHGetFolderPathW(NULL, CSIDL_LOCAL_APPDATA | CSIDL_FLAG_CREATE, NULL, 0, base)) ||
            swprintf(store_dir, ARRAY_SIZE(store_dir), L"%ls\\OpenDO", base) < 0)
            return E_FAIL;
    }
    /* Protected (no inherited entries), full control for the user alone. */
    swprintf(sddl, ARRAY_SIZE(sddl), L"D:P(A;OICI;FA;;;%ls)", user_sid);
    if (ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL))
        sa.lpSecurityDescriptor = sd;
    /* Its parents are made too (OPENDO_STATE_DIR may name a folder that is not there yet). */
    err = SHCreateDirectoryExW(NULL, store_dir, &sa);
    LocalFree(sd);
    if (err != ERROR_SUCCESS && err != ERROR_ALREADY_EXISTS && err != ERROR_FILE_EXISTS)
        return HRESULT_FROM_WIN32(err);
    return S_OK;
}

/* ---- writing ---- */

static void put_time(struct record_writer *w, uint16_t tag, const FILETIME *time)
{
    record_put_u64(w, tag, ((UINT64)time->dwHighDateTime << 32) | time->dwLowDateTime);
}

static void put_credentials(struct record_writer *w, const struct ejob_options *options)
{
    for (int t = 0; t < EJOB_AUTH_TARGETS; t++)
    {
        for (int s = 0; s < EJOB_AUTH_SCHEMES; s++)
        {
            const struct ejob_credential *c = &options->credentials[t][s];
            DATA_BLOB plain, sealed;

            if (!c->present)
                continue;
            record_begin(w, TAG_CREDENTIAL);
            record_put_u32(w, TAG_CRED_TARGET, t + 1);
            record_put_u32(w, TAG_CRED_SCHEME, s + 1);
            record_put_str(w, TAG_CRED_USER, c->user);
            /* Bound to the user: another account cannot read it back. */
            if (c->password)
            {
                plain.pbData = (BYTE *)c->password;
                plain.cbData = (wcslen(c->password) + 1) * sizeof(WCHAR);
                if (CryptProtectData(&plain, L"OpenDO", NULL, NULL, NULL, CRYPTPROTECT_UI_FORBIDDEN,
                                     &sealed))
                {
                    record_put_bytes(w, TAG_CRED_PASSWORD, sealed.pbData, sealed.cbData);
                    LocalFree(sealed.pbData);
                }
                else
                    WARN("cannot protect a password (%lu): it is not stored", GetLastError());
            }
            record_end(w);
        }
    }
}

static void put_file(struct record_writer *w, const struct ejob_file *file)
{
    record_begin(w, TAG_FILE);
    record_put_str(w, TAG_FILE_REMOTE, file->remote);
    record_put_str(w, TAG_FILE_LOCAL, file->local);
    record_put_str(w, TAG_FILE_TEMP, file->temp);
    record_put_bytes(w, TAG_FILE_TEMP_ID, &file->temp_id, sizeof(file->temp_id));
    record_put_u64(w, TAG_FILE_TOTAL, file->progress.BytesTotal);
    record_put_u64(w, TAG_FILE_DURABLE,
                   file->finished ? file->progress.BytesTransferred : file->durable);
    record_put_u64(w, TAG_FILE_LIVE, file->progress.BytesTransferred);
    for (ULONG i = 0; !file->finished && i < file->extent_count; i++)
        record_put_bytes(w, TAG_FILE_EXTENT, &file->extents[i], sizeof(file->extents[i]));
    record_put_u32(w, TAG_FILE_FINISHED, file->finished);
    record_put_u32(w, TAG_FILE_COMPLETED, file->progress.Completed);
    record_put_u32(w, TAG_FILE_TEMP_DELETED, file->temp_deleted);
    record_put_str(w, TAG_FILE_VALIDATOR, file->validator);
    for (ULONG i = 0; i < file->range_count; i++)
        record_put_bytes(w, TAG_FILE_RANGE, &file->ranges[i], sizeof(file->ranges[i]));
    record_put_u64(w, TAG_FILE_REMOTE_SIZE, file->remote_size);
    record_put_str(w, TAG_FILE_ID, file->file_id);
    record_put_u64(w, TAG_FILE_SIZE_HINT, file->size_hint);
    record_put_u32(w, TAG_FILE_SIZE_HINT_SET, file->size_hint_set);
    record_put_str(w, TAG_FILE_DECRYPTION_INFO, file->decryption_info);
    record_put_str(w, TAG_FILE_INTEGRITY_INFO, file->integrity_info);
    record_put_u32(w, TAG_FILE_INTEGRITY_MANDATORY, file->integrity_mandatory);
    record_put_u32(w, TAG_FILE_INTEGRITY_MANDATORY_SET, file->integrity_mandatory_set);
    record_put_u32(w, TAG_FILE_VALIDATION_STATE, file->validation_state);
    record_put_u32(w, TAG_FILE_HTTP_STATUS, file->http_status);
    record_put_u64(w, TAG_FILE_BYTES_DOWNLOADED, file->bytes_downloaded);
    record_put_u64(w, TAG_FILE_BYTES_FROM_HTTP, file->bytes_from_http);
    record_put_u32(w, TAG_FILE_HTTP_CONNECTIONS, file->http_connections);
    record_put_u64(w, TAG_FILE_BYTES_FROM_CACHE, file->bytes_from_cache);
    record_put_u32(w, TAG_FILE_CACHE_CONNECTIONS, file->cache_connections);
    record_put_u64(w, TAG_FILE_DOWNLOAD_MS, file->download_ms);
    record_end(w);
}

/* An IDODownload's own properties. The stream sink, a live object, is not kept. Caller holds
 * job->lock (shared is enough). */
static void put_download(struct record_writer *w, const struct ejob_download *d)
{
    record_put_u32(w, TAG_DOWNLOAD, 1);
    record_put_u32(w, TAG_DL_SET_MASK, d->set_mask);
    record_put_str(w, TAG_DL_URI, d->uri);
    record_put_str(w, TAG_DL_LOCAL_PATH, d->local_path);
    record_put_str(w, TAG_DL_CONTENT_ID, d->content_id);
    record_put_str(w, TAG_DL_CORRELATION_VECTOR, d->correlation_vector);
    record_put_str(w, TAG_DL_AUTH_HEADERS, d->auth_headers);
    record_put_str(w, TAG_DL_DECRYPTION_INFO, d->decryption_info);
    record_put_str(w, TAG_DL_INTEGRITY_INFO, d->integrity_info);
    if (d->security_context)
        record_put_bytes(w, TAG_DL_SECURITY_CONTEXT, d->security_context, d->security_context_size);
    record_put_u64(w, TAG_DL_TOTAL_SIZE, d->total_size);
    record_put_u32(w, TAG_DL_COST_POLICY, d->cost_policy);
    record_put_u32(w, TAG_DL_SECURITY_FLAGS, d->security_flags);
    record_put_u32(w, TAG_DL_CALLBACK_PERCENT, d->callback_percent);
    record_put_u32(w, TAG_DL_CALLBACK_SECONDS, d->callback_seconds);
    record_put_u32(w, TAG_DL_FLAGS, d->flags);
}

/* The job's record. Caller holds job->lock (shared is enough). */
static void put_job(struct record_writer *w, const struct ejob *job)
{
    const struct ejob_options *o = &job->options;

    DWORD pid;
    UINT64 started;

    share_self(&pid, &started);
    record_put_bytes(w, TAG_ID, &job->id, sizeof(job->id));
    record_put_u32(w, TAG_TYPE, job->type);
    record_put_u32(w, TAG_OWNER_PID, pid);
    record_put_u64(w, TAG_OWNER_STARTED, started);
    record_put_str(w, TAG_OWNER_SID, job->owner.sid);
    record_put_u32(w, TAG_STATE, job->state);
    record_put_str(w, TAG_DISPLAY_NAME, job->display_name);
    record_put_str(w, TAG_DESCRIPTION, job->description);
    record_put_u32(w, TAG_PRIORITY, job->priority);
    record_put_u32(w, TAG_NOTIFY_FLAGS, job->notify_flags);
    record_put_str(w, TAG_NOTIFY_PROGRAM, job->notify.program);
    record_put_str(w, TAG_NOTIFY_PARAMETERS, job->notify.parameters);
    record_put_u32(w, TAG_MIN_RETRY_DELAY, job->min_retry_delay);
    record_put_u32(w, TAG_NO_PROGRESS_TIMEOUT, job->no_progress_timeout);
    record_put_u32(w, TAG_NO_PROGRESS_TIMEOUT_SET, job->no_progress_timeout_set);
    put_time(w, TAG_CREATION_TIME, &job->times.CreationTime);
    put_time(w, TAG_MODIFICATION_TIME, &job->times.ModificationTime);
    put_time(w, TAG_COMPLETION_TIME, &job->times.TransferCompletionTime);
    record_put_u32(w, TAG_ERROR_COUNT, job->error_count);
    if (job->error.present)
    {
        record_put_u32(w, TAG_ERROR_CODE, job->error.code);
        record_put_u32(w, TAG_ERROR_CONTEXT, job->error.context);
        record_put_u32(w, TAG_ERROR_FILE, job->error.file_index);
    }
    record_put_u32(w, TAG_ACL_FLAGS, job->file_acl_flags);
    record_put_u32(w, TAG_PEER_FLAGS, job->peer_caching_flags);
    record_put_u32(w, TAG_RESUMED, job->resumed);
    record_put_u32(w, TAG_RETENTION_DAYS, job->retention_days);
    record_put_u32(w, TAG_PROXY_USAGE, o->proxy_usage);
    record_put_str(w, TAG_PROXY_LIST, o->proxy_list);
    record_put_str(w, TAG_PROXY_BYPASS, o->proxy_bypass);
    record_put_str(w, TAG_CUSTOM_HEADERS, o->custom_headers);
    record_put_u32(w, TAG_SECURITY_FLAGS, o->security_flags);
    record_put_u32(w, TAG_MAX_DOWNLOAD_TIME, o->max_download_time);
    record_put_u32(w, TAG_COST_FLAGS, o->cost_flags);
    record_put_bytes(w, TAG_NOTIFICATION_CLSID, &o->notification_clsid,
                     sizeof(o->notification_clsid));
    record_put_u32(w, TAG_DYNAMIC_CONTENT, o->dynamic_content);
    record_put_u32(w, TAG_HIGH_PERFORMANCE, o->high_performance);
    record_put_u64(w, TAG_MAX_DOWNLOAD_SIZE, o->max_download_size);
    record_put_u32(w, TAG_STORED_CREDENTIALS, o->stored_credentials);
    record_put_u32(w, TAG_NOTIFICATION_INTERVAL, o->notification_interval_ms);
    record_put_u32(w, TAG_ON_DEMAND, o->on_demand);
    if (o->client_cert.present)
    {
        record_put_u32(w, TAG_CERT_LOCATION, o->client_cert.location);
        record_put_str(w, TAG_CERT_STORE, o->client_cert.store);
        record_put_u32(w, TAG_CERT_BY_NAME, o->client_cert.by_name);
        record_put_bytes(w, TAG_CERT_HASH, o->client_cert.hash, sizeof(o->client_cert.hash));
        record_put_str(w, TAG_CERT_SUBJECT, o->client_cert.subject);
    }
    put_credentials(w, o);
    for (ULONG i = 0; i < job->file_count; i++)
        put_file(w, job->files[i]);
    if (job->download.present)
        put_download(w, &job->download);
}

/* Writes `data` to the scratch file, flushed. */
static HRESULT write_scratch(const WCHAR *scratch, const void *data, size_t size)
{
    HRESULT hr = S_OK;
    DWORD written;
    HANDLE file;

    if (FAILED(hr = engine_fault("STORE")))
        return hr;
    file = create_in_shard(scratch, GENERIC_WRITE, 0, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL);
    if (file == INVALID_HANDLE_VALUE)
        return HRESULT_FROM_WIN32(GetLastError());
    if (!WriteFile(file, data, (DWORD)size, &written, NULL) || written != size ||
        !FlushFileBuffers(file))
        hr = HRESULT_FROM_WIN32(GetLastError() ? GetLastError() : ERROR_WRITE_FAULT);
    CloseHandle(file);
    if (FAILED(hr))
        DeleteFileW(scratch);
    return hr;
}

/* Writes the job's record now, atomically: a new file, flushed, moved over the old one. Caller
 * holds no lock. */
static HRESULT save(struct ejob *job)
{
    WCHAR path[MAX_PATH], scratch[MAX_PATH];
    struct record_writer w;
    enum record_status status;
    uint8_t *data = NULL;
    size_t size = 0;
    BOOL final;
    HRESULT hr;

    record_writer_init(&w);
    AcquireSRWLockExclusive(&save_lock);
    AcquireSRWLockShared(&job->lock);
    /* A final job has left the store already: nothing is written for it again. */
    if (!(final = ejob_is_final(job) || !job->store_lock))
        put_job(&w, job);
    ReleaseSRWLockShared(&job->lock);
    if (final)
        hr = S_OK;
    else if ((status = record_finish(&w, &data, &size)) != RECORD_OK)
        hr = E_OUTOFMEMORY;
    else if (!job_path(&job->id, L".job", path, ARRAY_SIZE(path)) ||
             !job_path(&job->id, L".new", scratch, ARRAY_SIZE(scratch)))
        hr = E_FAIL;
    else if (SUCCEEDED(hr = write_scratch(scratch, data, size)))
    {
        /* Put in place only if the job is still in the store: a removal meanwhile wins. */
        AcquireSRWLockExclusive(&write_lock);
        AcquireSRWLockShared(&job->lock);
        final = ejob_is_final(job) || !job->store_lock;
        ReleaseSRWLockShared(&job->lock);
        if (!final &&
            !MoveFileExW(scratch, path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
            hr = HRESULT_FROM_WIN32(GetLastError());
        else if (!final)
            note_change();
        if (final || FAILED(hr))
            DeleteFileW(scratch);
        ReleaseSRWLockExclusive(&write_lock);
    }
    ReleaseSRWLockExclusive(&save_lock);
    record_writer_free(&w);
    free(data);
    if (FAILED(hr))
        WARN("job %s: cannot write its record: %08lx", debugstr_guid(&job->id), hr);
    return hr;
}

/* ---- reading ---- */

WCHAR *store_get_str(const struct record_field *f)
{
    size_t len = record_str_len(f);
    WCHAR *s = HeapAlloc(GetProcessHeap(), 0, (len + 1) * sizeof(WCHAR));

    if (s && !record_get_str(f, (uint16_t *)s, len + 1))
    {
        heap_free(s);
        s = NULL;
    }
    return s;
}

static ULONG get_u32(const struct record_field *f)
{
    uint32_t value = 0;

    record_get_u32(f, &value);
    return value;
}

static UINT64 get_u64(const struct record_field *f)
{
    uint64_t value = 0;

    record_get_u64(f, &value);
    return value;
}

static void get_time(const struct record_field *f, FILETIME *time)
{
    UINT64 value = get_u64(f);

    time->dwLowDateTime = (DWORD)value;
    time->dwHighDateTime = (DWORD)(value >> 32);
}

static void get_bytes(const struct record_field *f, void *out, size_t size)
{
    if (f->size == size)
        memcpy(out, f->data, size);
}

/* Replaces *field with a copy of the string field. */
static void set_str(WCHAR **field, const struct record_field *f)
{
    free_str(*field);
    *field = store_get_str(f);
}

static void read_credential(struct ejob_options *options, struct record_reader *r)
{
    struct ejob_credential c = {TRUE};
    struct record_field f;
    ULONG target = 0, scheme = 0;
    DATA_BLOB sealed, plain;

    while (record_next(r, &f))
    {
        switch (f.tag)
        {
        case TAG_CRED_TARGET:
            target = get_u32(&f);
            break;
        case TAG_CRED_SCHEME:
            scheme = get_u32(&f);
            break;
        case TAG_CRED_USER:
            set_str(&c.user, &f);
            break;
        case TAG_CRED_PASSWORD:
            sealed.pbData = (BYTE *)f.data;
            sealed.cbData = (DWORD)f.size;
            if (CryptUnprotectData(&sealed, NULL, NULL, NULL, NULL, CRYPTPROTECT_UI_FORBIDDEN,
                                   &plain))
            {
                if (plain.cbData >= sizeof(WCHAR) && !(plain.cbData % sizeof(WCHAR)) &&
                    !((WCHAR *)plain.pbData)[plain.cbData / sizeof(WCHAR) - 1])
                    c.password = heap_strdup((WCHAR *)plain.pbData);
                SecureZeroMemory(plain.pbData, plain.cbData);
                LocalFree(plain.pbData);
            }
            break;
        }
    }
    if (target < 1 || target > EJOB_AUTH_TARGETS || scheme < 1 || scheme > EJOB_AUTH_SCHEMES)
    {
        ejob_credential_clear(&c);
        return;
    }
    ejob_credential_clear(&options->credentials[target - 1][scheme - 1]);
    options->credentials[target - 1][scheme - 1] = c;
}

/* A TAG_FILE_EXTENT field: appended to the file's parts on disk (checked by extents_valid). */
static void add_extent(struct ejob_file *file, const struct record_field *f)
{
    struct file_extent extent, *grown;

    if (f->size != sizeof(extent))
        return;
    memcpy(&extent, f->data, sizeof(extent));
    if (!(grown = HeapAlloc(GetProcessHeap(), 0, (file->extent_count + 1) * sizeof(*grown))))
        return;
    if (file->extent_count)
        memcpy(grown, file->extents, file->extent_count * sizeof(*grown));
    heap_free(file->extents);
    file->extents = grown;
    file->extents[file->extent_count++] = extent;
}

/* Are the parts in order, apart from each other and from the prefix, and inside the file? */
static BOOL extents_valid(const struct ejob_file *file)
{
    UINT64 at = file->durable;

    for (ULONG i = 0; i < file->extent_count; i++)
    {
        if (file->extents[i].first <= at || file->extents[i].end <= file->extents[i].first)
            return FALSE;
        at = file->extents[i].end;
    }
    return !file->extent_count ||
           (file->progress.BytesTotal != BG_SIZE_UNKNOWN && at <= file->progress.BytesTotal);
}

/* A file from its group; NULL without memory. `mirror`: its progress is what the owner
 * counted (TAG_FILE_LIVE), else what was flushed. */
static struct ejob_file *read_file(struct record_reader *r, BOOL mirror)
{
    struct ejob_file *file;
    struct record_field f;
    BG_FILE_RANGE range, *grown;
    UINT64 live = 0, on_disk;
    BOOL live_set = FALSE;

    if (!(file = heap_alloc_zero(sizeof(*file))))
        return NULL;
    file->progress.BytesTotal = BG_SIZE_UNKNOWN;
    file->remote_size = BG_SIZE_UNKNOWN;
    file->size_hint = DO_UNKNOWN_FILE_SIZE;
    while (record_next(r, &f))
    {
        switch (f.tag)
        {
        case TAG_FILE_REMOTE:
            set_str(&file->remote, &f);
            break;
        case TAG_FILE_LOCAL:
            set_str(&file->local, &f);
            break;
        case TAG_FILE_TEMP:
            set_str(&file->temp, &f);
            break;
        case TAG_FILE_TEMP_ID:
            get_bytes(&f, &file->temp_id, sizeof(file->temp_id));
            break;
        case TAG_FILE_TOTAL:
            file->progress.BytesTotal = get_u64(&f);
            break;
        case TAG_FILE_DURABLE:
            file->durable = get_u64(&f);
            break;
        case TAG_FILE_LIVE:
            live = get_u64(&f);
            live_set = TRUE;
            break;
        case TAG_FILE_EXTENT:
            add_extent(file, &f);
            break;
        case TAG_FILE_FINISHED:
            file->finished = file->announced = !!get_u32(&f);
            break;
        case TAG_FILE_COMPLETED:
            file->progress.Completed = !!get_u32(&f);
            break;
        case TAG_FILE_TEMP_DELETED:
            file->temp_deleted = !!get_u32(&f);
            break;
        case TAG_FILE_VALIDATOR:
            if (record_str_len(&f) < VALIDATOR_SIZE)
                record_get_str(&f, (uint16_t *)file->validator, VALIDATOR_SIZE);
            break;
        case TAG_FILE_RANGE:
            if (f.size != sizeof(range))
                break;
            memcpy(&range, f.data, sizeof(range));
            if (!(grown = HeapAlloc(GetProcessHeap(), 0, (file->range_count + 1) * sizeof(*grown))))
                break;
            if (file->range_count)
                memcpy(grown, file->ranges, file->range_count * sizeof(*grown));
            heap_free(file->ranges);
            file->ranges = grown;
            file->ranges[file->range_count++] = range;
            break;
        case TAG_FILE_REMOTE_SIZE:
            file->remote_size = get_u64(&f);
            break;
        case TAG_FILE_ID:
            set_str(&file->file_id, &f);
            break;
        case TAG_FILE_SIZE_HINT:
            file->size_hint = get_u64(&f);
            break;
        case TAG_FILE_SIZE_HINT_SET:
            file->size_hint_set = !!get_u32(&f);
            break;
        case TAG_FILE_DECRYPTION_INFO:
            set_str(&file->decryption_info, &f);
            break;
        case TAG_FILE_INTEGRITY_INFO:
            set_str(&file->integrity_info, &f);
            break;
        case TAG_FILE_INTEGRITY_MANDATORY:
            file->integrity_mandatory = !!get_u32(&f);
            break;
        case TAG_FILE_INTEGRITY_MANDATORY_SET:
            file->integrity_mandatory_set = !!get_u32(&f);
            break;
        case TAG_FILE_VALIDATION_STATE:
            file->validation_state = !!get_u32(&f);
            break;
        case TAG_FILE_HTTP_STATUS:
            file->http_status = get_u32(&f);
            break;
        case TAG_FILE_BYTES_DOWNLOADED:
            file->bytes_downloaded = get_u64(&f);
            break;
        case TAG_FILE_BYTES_FROM_HTTP:
            file->bytes_from_http = get_u64(&f);
            break;
        case TAG_FILE_HTTP_CONNECTIONS:
            file->http_connections = get_u32(&f);
            break;
        case TAG_FILE_BYTES_FROM_CACHE:
            file->bytes_from_cache = get_u64(&f);
            break;
        case TAG_FILE_CACHE_CONNECTIONS:
            file->cache_connections = get_u32(&f);
            break;
        case TAG_FILE_DOWNLOAD_MS:
            file->download_ms = get_u64(&f);
            break;
        }
    }
    /* What was flushed is what the file holds; the rest comes again. A view of a job that
     * another process transfers shows what that process counted. */
    on_disk = file->durable;
    for (ULONG i = 0; i < file->extent_count; i++)
        on_disk += file->extents[i].end - file->extents[i].first;
    if (!extents_valid(file))
    {
        heap_free(file->extents);
        file->extents = NULL;
        file->extent_count = 0;
        on_disk = file->durable;
    }
    file->progress.BytesTransferred = mirror && live_set && live >= on_disk ? live : on_disk;
    if (file->progress.BytesTotal != BG_SIZE_UNKNOWN &&
        file->progress.BytesTransferred > file->progress.BytesTotal)
    {
        file->progress.BytesTransferred = file->durable = 0;
        heap_free(file->extents);
        file->extents = NULL;
        file->extent_count = 0;
    }
    if (!file->local)
        file->temp_deleted = TRUE;
    return file;
}

/* Appends a file to a job that nobody else sees yet. */
static BOOL append_file(struct ejob *job, struct ejob_file *file)
{
    struct ejob_file **grown;

    if (job->file_count == job->file_capacity)
    {
        ULONG capacity = max(16, job->file_capacity * 2);
        if (!(grown = HeapAlloc(GetProcessHeap(), 0, capacity * sizeof(*grown))))
            return FALSE;
        if (job->file_count)
            memcpy(grown, job->files, job->file_count * sizeof(*grown));
        heap_free(job->files);
        job->files = grown;
        job->file_capacity = capacity;
    }
    job->files[job->file_count++] = file;
    return TRUE;
}

/* Builds a job from its record: the counters are computed again from the files. */
static HRESULT read_job(struct record_reader *r, struct ejob *job, BOOL mirror)
{
    struct ejob_options *o = &job->options;
    struct record_reader inner;
    struct record_field f;
    struct ejob_file *file;
    WCHAR *sid = NULL;
    int checked;

    while (record_next(r, &f))
    {
        switch (f.tag)
        {
        case TAG_ID:
            get_bytes(&f, &job->id, sizeof(job->id));
            break;
        case TAG_TYPE:
            job->type = get_u32(&f);
            break;
        case TAG_OWNER_PID:
            job->remote_pid = get_u32(&f);
            break;
        case TAG_OWNER_STARTED:
            job->remote_started = get_u64(&f);
            break;
        case TAG_DOWNLOAD:
            job->download.present = !!get_u32(&f);
            break;
        case TAG_DL_SET_MASK:
            job->download.set_mask = get_u32(&f);
            break;
        case TAG_DL_URI:
            set_str(&job->download.uri, &f);
            break;
        case TAG_DL_LOCAL_PATH:
            set_str(&job->download.local_path, &f);
            break;
        case TAG_DL_CONTENT_ID:
            set_str(&job->download.content_id, &f);
            break;
        case TAG_DL_CORRELATION_VECTOR:
            set_str(&job->download.correlation_vector, &f);
            break;
        case TAG_DL_AUTH_HEADERS:
            set_str(&job->download.auth_headers, &f);
            break;
        case TAG_DL_DECRYPTION_INFO:
            set_str(&job->download.decryption_info, &f);
            break;
        case TAG_DL_INTEGRITY_INFO:
            set_str(&job->download.integrity_info, &f);
            break;
        case TAG_DL_SECURITY_CONTEXT:
            heap_free(job->download.security_context);
            job->download.security_context_size = 0;
            if ((job->download.security_context = heap_alloc_zero(f.size ? f.size : 1)))
            {
                memcpy(job->download.security_context, f.data, f.size);
                job->download.security_context_size = f.size;
            }
            break;
        case TAG_DL_TOTAL_SIZE:
            job->download.total_size = get_u64(&f);
            break;
        case TAG_DL_COST_POLICY:
            job->download.cost_policy = get_u32(&f);
            break;
        case TAG_DL_SECURITY_FLAGS:
            job->download.security_flags = get_u32(&f);
            break;
        case TAG_DL_CALLBACK_PERCENT:
            job->download.callback_percent = get_u32(&f);
            break;
        case TAG_DL_CALLBACK_SECONDS:
            job->download.callback_seconds = get_u32(&f);
            break;
        case TAG_DL_FLAGS:
            job->download.flags = get_u32(&f);
            break;
        case TAG_OWNER_SID:
            set_str(&sid, &f);
            break;
        case TAG_STATE:
            job->state = get_u32(&f);
            break;
        case TAG_DISPLAY_NAME:
            set_str(&job->display_name, &f);
            break;
        case TAG_DESCRIPTION:
            set_str(&job->description, &f);
            break;
        case TAG_PRIORITY:
            job->priority = get_u32(&f);
            break;
        case TAG_NOTIFY_FLAGS:
            job->notify_flags = get_u32(&f);
            break;
        case TAG_NOTIFY_PROGRAM:
            set_str(&job->notify.program, &f);
            break;
        case TAG_NOTIFY_PARAMETERS:
            set_str(&job->notify.parameters, &f);
            break;
        case TAG_MIN_RETRY_DELAY:
            job->min_retry_delay = get_u32(&f);
            break;
        case TAG_NO_PROGRESS_TIMEOUT:
            job->no_progress_timeout = get_u32(&f);
            break;
        case TAG_NO_PROGRESS_TIMEOUT_SET:
            job->no_progress_timeout_set = !!get_u32(&f);
            break;
        case TAG_CREATION_TIME:
            get_time(&f, &job->times.CreationTime);
            break;
        case TAG_MODIFICATION_TIME:
            get_time(&f, &job->times.ModificationTime);
            break;
        case TAG_COMPLETION_TIME:
            get_time(&f, &job->times.TransferCompletionTime);
            break;
        case TAG_ERROR_COUNT:
            job->error_count = get_u32(&f);
            break;
        case TAG_ERROR_CODE:
            job->error.present = TRUE;
            job->error.code = get_u32(&f);
            break;
        case TAG_ERROR_CONTEXT:
            job->error.context = get_u32(&f);
            break;
        case TAG_ERROR_FILE:
            job->error.file_index = (LONG)get_u32(&f);
            break;
        case TAG_ACL_FLAGS:
            job->file_acl_flags = get_u32(&f);
            break;
        case TAG_PEER_FLAGS:
            job->peer_caching_flags = get_u32(&f);
            break;
        case TAG_RESUMED:
            job->resumed = !!get_u32(&f);
            break;
        case TAG_RETENTION_DAYS:
            job->retention_days = get_u32(&f);
            break;
        case TAG_PROXY_USAGE:
            o->proxy_usage = get_u32(&f);
            break;
        case TAG_PROXY_LIST:
            set_str(&o->proxy_list, &f);
            break;
        case TAG_PROXY_BYPASS:
            set_str(&o->proxy_bypass, &f);
            break;
        case TAG_CUSTOM_HEADERS:
            set_str(&o->custom_headers, &f);
            break;
        case TAG_SECURITY_FLAGS:
            o->security_flags = get_u32(&f);
            break;
        case TAG_MAX_DOWNLOAD_TIME:
            o->max_download_time = get_u32(&f);
            break;
        case TAG_COST_FLAGS:
            o->cost_flags = get_u32(&f);
            break;
        case TAG_NOTIFICATION_CLSID:
            get_bytes(&f, &o->notification_clsid, sizeof(o->notification_clsid));
            break;
        case TAG_DYNAMIC_CONTENT:
            o->dynamic_content = !!get_u32(&f);
            break;
        case TAG_HIGH_PERFORMANCE:
            o->high_performance = !!get_u32(&f);
            break;
        case TAG_MAX_DOWNLOAD_SIZE:
            o->max_download_size = get_u64(&f);
            break;
        case TAG_STORED_CREDENTIALS:
            o->stored_credentials = get_u32(&f);
            break;
        case TAG_NOTIFICATION_INTERVAL:
            o->notification_interval_ms = get_u32(&f);
            break;
        case TAG_ON_DEMAND:
            o->on_demand = !!get_u32(&f);
            break;
        case TAG_CERT_LOCATION:
            o->client_cert.present = TRUE;
            o->client_cert.location = get_u32(&f);
            break;
        case TAG_CERT_STORE:
            set_str(&o->client_cert.store, &f);
            break;
        case TAG_CERT_BY_NAME:
            o->client_cert.by_name = !!get_u32(&f);
            break;
        case TAG_CERT_HASH:
            get_bytes(&f, o->client_cert.hash, sizeof(o->client_cert.hash));
            break;
        case TAG_CERT_SUBJECT:
            set_str(&o->client_cert.subject, &f);
            break;
        case TAG_CREDENTIAL:
            if (record_enter(&f, &inner))
                read_credential(o, &inner);
            break;
        case TAG_FILE:
            if (!record_enter(&f, &inner))
                break;
            if (!(file = read_file(&inner, mirror)) || !append_file(job, file))
            {
                efile_free(file);
                free_str(sid);
                return E_OUTOFMEMORY;
            }
            /* The transports trust a file's ranges: these come from disk, so they are checked
             * as AddFileWithRanges checks them. */
            if (file->range_count &&
                (checked = ranges_check((const struct byte_range *)file->ranges,
                                        file->range_count)) != RANGES_OK)
            {
                free_str(sid);
                return checked == RANGES_INVALID || checked == RANGES_OVERLAPPING
                           ? HRESULT_FROM_WIN32(ERROR_INVALID_DATA)
                           : E_OUTOFMEMORY;
            }
            break;
        }
    }
    /* A record of another user is not ours to run. */
    if (!sid || !user_sid || wcscmp(sid, user_sid))
    {
        free_str(sid);
        return E_ACCESSDENIED;
    }
    free_str(sid);
    /* A record that passed its checksum but says what no job can be (written by hand, or by a
     * bug): set aside rather than handed to clients and the engine. Final jobs are never
     * stored. */
    if (job->type != BG_JOB_TYPE_DOWNLOAD || job->state > BG_JOB_STATE_TRANSFERRED ||
        job->priority > BG_JOB_PRIORITY_LOW ||
        (job->error.present && job->error.file_index >= (LONG)job->file_count) ||
        job->error.file_index < -1)
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    if (!job->description)
        job->description = heap_strdup(L"");
    if (!job->display_name || !job->description)
        return E_OUTOFMEMORY;
    job->progress.FilesTotal = job->file_count;
    for (ULONG i = 0; i < job->file_count; i++)
    {
        file = job->files[i];
        job->progress.BytesTransferred += file->progress.BytesTransferred;
        job->progress.FilesTransferred += file->finished;
        if (file->progress.BytesTotal == BG_SIZE_UNKNOWN)
            job->unknown_sizes++;
        else
            job->known_bytes += file->progress.BytesTotal;
    }
    job->progress.BytesTotal = job->unknown_sizes ? BG_SIZE_UNKNOWN : job->known_bytes;
    ejob_publish_progress(job);
    return S_OK;
}

/* Moves an unreadable record out of the way, with the reason in the log. */
static void set_aside(const WCHAR *path, const char *reason)
{
    WCHAR aside[MAX_PATH];

    ERR("the job record %s is %s: moved aside", debugstr_w(path), reason);
    if (swprintf(aside, ARRAY_SIZE(aside), L"%ls.bad", path) < 0 ||
        !MoveFileExW(path, aside, MOVEFILE_REPLACE_EXISTING))
        DeleteFileW(path);
    note_change();
}

/* The name of a job's lock. */
static void lock_name(const GUID *id, WCHAR *out, size_t size)
{
    WCHAR guid[40];

    StringFromGUID2(id, guid, ARRAY_SIZE(guid));
    swprintf(out, size, L"%ls%ls", names_prefix, guid);
}

/* Takes the job's lock: INVALID_HANDLE_VALUE when another live process owns the job. A job
 * made now (`fresh`) cannot have a lock file of an earlier OpenDO: only the others are looked
 * for one (a stale one goes). */
static HANDLE take_lock(const GUID *id, BOOL fresh)
{
    WCHAR name[96], path[MAX_PATH];
    HANDLE lock, file;

    lock_name(id, name, ARRAY_SIZE(name));
    if (!(lock = CreateMutexW(NULL, FALSE, name)))
        return INVALID_HANDLE_VALUE;
    if (GetLastError() == ERROR_ALREADY_EXISTS)
    {
        CloseHandle(lock);
        SetLastError(ERROR_SHARING_VIOLATION);
        return INVALID_HANDLE_VALUE;
    }
    if (fresh || !job_path(id, L".lock", path, ARRAY_SIZE(path)))
        return lock;
    file =
        CreateFileW(path, GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (file != INVALID_HANDLE_VALUE)
        CloseHandle(file);
    else if (GetLastError() == ERROR_SHARING_VIOLATION)
    {
        CloseHandle(lock);
        SetLastError(ERROR_SHARING_VIOLATION);
        return INVALID_HANDLE_VALUE;
    }
    return lock;
}

/* Whether a live process holds the job's lock (or lock file). */
static BOOL lock_held(const GUID *id)
{
    WCHAR name[96], path[MAX_PATH];
    HANDLE lock;

    lock_name(id, name, ARRAY_SIZE(name));
    if ((lock = OpenMutexW(SYNCHRONIZE, FALSE, name)))
    {
        CloseHandle(lock);
        return TRUE;
    }
    if (GetLastError() == ERROR_ACCESS_DENIED)
        return TRUE;
    return job_path(id, L".lock", path, ARRAY_SIZE(path)) &&
           GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

/* A job from a record in memory; *reason names what is wrong with a record that cannot be
 * read (for the log), else NULL. */
static HRESULT decode(const uint8_t *data, size_t size, BOOL mirror, struct ejob **out,
                      const char **reason)
{
    enum record_status status;
    struct record_reader r;
    struct ejob *job;
    HRESULT hr;

    *out = NULL;
    *reason = NULL;
    if ((status = record_open(data, size, &r)) != RECORD_OK)
    {
        *reason = record_status_name(status);
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    }
    if (FAILED(hr = ejob_create(L"", BG_JOB_TYPE_DOWNLOAD, &job)))
        return hr;
    /* ejob_create gave it a new id and the caller as owner: the record says otherwise. */
    free_str(job->description);
    job->description = NULL;
    if (FAILED(hr = read_job(&r, job, mirror)))
    {
        ejob_release(job);
        if (hr == HRESULT_FROM_WIN32(ERROR_INVALID_DATA))
            *reason = "inconsistent";
        return hr;
    }
    *out = job;
    return S_OK;
}

HRESULT store_decode(const uint8_t *data, size_t size, BOOL mirror, struct ejob **out)
{
    const char *reason;

    return decode(data, size, mirror, out, &reason);
}

struct ejob_file *store_decode_file(const struct record_field *group)
{
    struct record_reader inner;

    if (group->tag != TAG_FILE || !record_enter(group, &inner))
        return NULL;
    return read_file(&inner, FALSE);
}

HRESULT store_encode(struct ejob *job, uint8_t **data, size_t *size)
{
    struct record_writer w;
    enum record_status status;

    *data = NULL;
    *size = 0;
    record_writer_init(&w);
    AcquireSRWLockShared(&job->lock);
    put_job(&w, job);
    ReleaseSRWLockShared(&job->lock);
    status = record_finish(&w, data, size);
    record_writer_free(&w);
    return status == RECORD_OK ? S_OK : E_OUTOFMEMORY;
}

/* Reads the record at `path`: a job owned here when the caller holds its lock (`lock`, which
 * the job then keeps), else a mirror of another process's job (`lock` NULL). An unreadable
 * record is moved aside. */
static HRESULT load(const WCHAR *path, HANDLE lock, struct ejob **out)
{
    LARGE_INTEGER size;
    FILETIME written;
    const char *reason;
    struct ejob *job;
    uint8_t *data;
    DWORD read;
    HANDLE file;
    HRESULT hr;

    *out = NULL;
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                       0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        return HRESULT_FROM_WIN32(GetLastError());
    /* Size and time from the handle alone (GetFileInformationByHandle would ask Wine's mount
     * manager for the volume too: a round trip to another process). */
    if (!GetFileSizeEx(file, &size) || !GetFileTime(file, NULL, NULL, &written) ||
        size.QuadPart > 64 * 1024 * 1024)
    {
        CloseHandle(file);
        set_aside(path, "too large");
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    }
    if (!(data = HeapAlloc(GetProcessHeap(), 0, size.LowPart ? size.LowPart : 1)))
    {
        CloseHandle(file);
        return E_OUTOFMEMORY;
    }
    if (!ReadFile(file, data, size.LowPart, &read, NULL) || read != size.LowPart)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        CloseHandle(file);
        heap_free(data);
        return hr;
    }
    CloseHandle(file);
    hr = decode(data, read, !lock, &job, &reason);
    heap_free(data);
    if (FAILED(hr))
    {
        /* Another user's record is left alone; without memory, the next scan tries again. */
        if (reason)
            set_aside(path, reason);
        return hr;
    }
    job->store_lock = lock;
    job->remote = !lock;
    job->record_time = written;
    job->record_size = size.LowPart;
    *out = job;
    return S_OK;
}

/* A loaded job that was on its way goes on by itself, as BITS jobs do after a reboot. Caller
 * holds no lock. */
static void restart(struct ejob *job)
{
    BOOL queue = FALSE;
    LONG generation;

    AcquireSRWLockExclusive(&job->lock);
    switch (job->state)
    {
    case BG_JOB_STATE_QUEUED:
    case BG_JOB_STATE_CONNECTING:
    case BG_JOB_STATE_TRANSFERRING:
    case BG_JOB_STATE_TRANSIENT_ERROR:
        job->state = BG_JOB_STATE_QUEUED;
        job->generation++;
        generation = job->generation;
        queue = TRUE;
        break;
    default:
        break;
    }
    ReleaseSRWLockExclusive(&job->lock);
    if (queue)
        engine_submit(job, generation, job->priority, 0);
}

/* Too old: BITS cancels jobs that did not change for 90 days (DO: 30). */
static BOOL expired(const struct ejob *job)
{
    ULARGE_INTEGER now, changed;
    FILETIME ft;
    ULONG days = job->retention_days ? job->retention_days : RETENTION_DAYS_DEFAULT;

    GetSystemTimeAsFileTime(&ft);
    now.LowPart = ft.dwLowDateTime;
    now.HighPart = ft.dwHighDateTime;
    changed.LowPart = job->times.ModificationTime.dwLowDateTime;
    changed.HighPart = job->times.ModificationTime.dwHighDateTime;
    return now.QuadPart > changed.QuadPart &&
           (now.QuadPart - changed.QuadPart) / 10000000 / 86400 >= days;
}

/* The events a job owned here needs once it is in the table: its command line or notification
 * class wants the notifier, and a job that was on its way goes on. */
static void start_owned(struct ejob *job)
{
    BOOL events;

    AcquireSRWLockExclusive(&job->lock);
    events = job->notify.program || !IsEqualGUID(&job->options.notification_clsid, &GUID_NULL);
    /* The record names its new owner: other processes know whom to ask. */
    store_mark_dirty(job);
    ReleaseSRWLockExclusive(&job->lock);
    if (events && FAILED(notify_start()))
        WARN("job %s: its events wait for the notifier", debugstr_guid(&job->id));
    restart(job);
}

/* ---- merging a record into a job that others see ---- */

static void swap_str(WCHAR **a, WCHAR **b)
{
    WCHAR *t = *a;
    *a = *b;
    *b = t;
}

static void merge_file(struct ejob_file *to, struct ejob_file *from, ULONG what)
{
    if (what & MERGE_STATUS)
    {
        swap_str(&to->remote, &from->remote);
        /* A local name and its temporary name are set once and then read without the lock. */
        if (!to->local && from->local)
        {
            swap_str(&to->local, &from->local);
            swap_str(&to->temp, &from->temp);
        }
        to->temp_id = from->temp_id;
        to->progress = from->progress;
        to->durable = from->durable;
        {
            struct file_extent *extents = to->extents;
            ULONG count = to->extent_count;
            to->extents = from->extents;
            to->extent_count = from->extent_count;
            from->extents = extents;
            from->extent_count = count;
        }
        to->finished = to->announced = from->finished;
        to->temp_deleted = from->temp_deleted;
        memcpy(to->validator, from->validator, sizeof(to->validator));
        to->remote_size = from->remote_size;
        to->http_status = from->http_status;
        to->bytes_downloaded = from->bytes_downloaded;
        to->bytes_from_http = from->bytes_from_http;
        to->http_connections = from->http_connections;
        to->bytes_from_cache = from->bytes_from_cache;
        to->cache_connections = from->cache_connections;
        to->download_ms = from->download_ms;
    }
    if (what & MERGE_SETTINGS)
    {
        to->size_hint = from->size_hint;
        to->size_hint_set = from->size_hint_set;
        swap_str(&to->decryption_info, &from->decryption_info);
        swap_str(&to->integrity_info, &from->integrity_info);
        to->integrity_mandatory = from->integrity_mandatory;
        to->integrity_mandatory_set = from->integrity_mandatory_set;
        to->validation_state = from->validation_state;
    }
}

/* Computes the job's progress again from its files. Caller holds job->lock exclusively. */
static void recount(struct ejob *job)
{
    job->progress.FilesTotal = job->file_count;
    job->progress.FilesTransferred = 0;
    job->progress.BytesTransferred = 0;
    job->unknown_sizes = 0;
    job->known_bytes = 0;
    for (ULONG i = 0; i < job->file_count; i++)
    {
        struct ejob_file *file = job->files[i];
        job->progress.BytesTransferred += file->progress.BytesTransferred;
        job->progress.FilesTransferred += file->finished;
        if (file->progress.BytesTotal == BG_SIZE_UNKNOWN)
            job->unknown_sizes++;
        else
            job->known_bytes += file->progress.BytesTotal;
    }
    job->progress.BytesTotal = job->unknown_sizes ? BG_SIZE_UNKNOWN : job->known_bytes;
    ejob_publish_progress(job);
}

/* Makes room for `count` files in the job's array, allocating outside the lock. Caller holds
 * no lock. */
static BOOL reserve_files(struct ejob *job, ULONG count)
{
    struct ejob_file **grown, **old;

    for (;;)
    {
        AcquireSRWLockShared(&job->lock);
        if (job->file_capacity >= count)
        {
            ReleaseSRWLockShared(&job->lock);
            return TRUE;
        }
        ReleaseSRWLockShared(&job->lock);
        if (!(grown = HeapAlloc(GetProcessHeap(), 0, count * sizeof(*grown))))
            return FALSE;
        AcquireSRWLockExclusive(&job->lock);
        old = grown;
        if (job->file_capacity < count)
        {
            if (job->file_count)
                memcpy(grown, job->files, job->file_count * sizeof(*grown));
            old = job->files;
            job->files = grown;
            job->file_capacity = count;
        }
        ReleaseSRWLockExclusive(&job->lock);
        heap_free(old);
    }
}

/* See store_merge. Caller holds job->lock exclusively and made room for from's files. */
static void merge_locked(struct ejob *job, struct ejob *from, ULONG what)
{
    BG_JOB_STATE old_state = job->state;
    FILETIME old_time = job->times.ModificationTime;
    UINT64 old_bytes = job->progress.BytesTransferred;
    ULONG old_count = job->file_count, common = min(job->file_count, from->file_count);
    BOOL changed;

    for (ULONG i = 0; i < common; i++)
    {
        BOOL was_finished = job->files[i]->finished;
        merge_file(job->files[i], from->files[i], what);
        if (job->remote && !was_finished && job->files[i]->finished)
            notify_file_transferred(job, i);
    }
    if (what & MERGE_STATUS)
    {
        /* New files are taken over whole: `from` lets go of them. */
        for (ULONG i = common; i < from->file_count && job->file_count < job->file_capacity; i++)
        {
            job->files[job->file_count++] = from->files[i];
            from->files[i] = NULL;
            if (job->remote && job->files[i]->finished)
                notify_file_transferred(job, i);
        }
        from->file_count = common;
        job->state = from->state;
        job->error.present = from->error.present;
        job->error.code = from->error.code;
        job->error.context = from->error.context;
        job->error.file_index = from->error.file_index;
        job->error_count = from->error_count;
        job->times = from->times;
        job->resumed = from->resumed;
        job->retention_days = from->retention_days;
        job->remote_pid = from->remote_pid;
        job->remote_started = from->remote_started;
        recount(job);
    }
    if (what & MERGE_SETTINGS)
    {
        struct ejob_options options = job->options;

        swap_str(&job->display_name, &from->display_name);
        swap_str(&job->description, &from->description);
        job->priority = from->priority;
        job->notify_flags = from->notify_flags;
        job->min_retry_delay = from->min_retry_delay;
        job->no_progress_timeout = from->no_progress_timeout;
        job->no_progress_timeout_set = from->no_progress_timeout_set;
        job->file_acl_flags = from->file_acl_flags;
        job->peer_caching_flags = from->peer_caching_flags;
        job->options = from->options;
        from->options = options;
        {
            /* The stream sink is this process's own: it stays. */
            struct ejob_download download = job->download;
            DWORD cookie = job->download.stream_cookie;

            job->download = from->download;
            job->download.stream_cookie = cookie;
            from->download = download;
            from->download.stream_cookie = 0;
        }
        http_forget_proxy(job);
        /* Another process shortened the no-progress timeout: the owner applies it. */
        ejob_check_retry_window(job);
    }
    if (what & MERGE_CMDLINE)
    {
        swap_str(&job->notify.program, &from->notify.program);
        swap_str(&job->notify.parameters, &from->notify.parameters);
    }
    if (!job->remote)
        return;
    /* This process's callbacks hear of what the owner did. */
    changed = job->state != old_state || CompareFileTime(&job->times.ModificationTime, &old_time) ||
              job->progress.BytesTransferred != old_bytes || job->file_count != old_count;
    if (job->state != old_state &&
        (job->state == BG_JOB_STATE_TRANSFERRED || job->state == BG_JOB_STATE_ERROR))
        notify_state_entered(job);
    else if (changed)
        notify_modified(job);
}

BOOL store_merge(struct ejob *job, struct ejob *from, ULONG what)
{
    if ((what & MERGE_STATUS) && !reserve_files(job, from->file_count))
        return FALSE;
    AcquireSRWLockExclusive(&job->lock);
    merge_locked(job, from, what);
    ReleaseSRWLockExclusive(&job->lock);
    return TRUE;
}

/* ---- mirrors of other processes' jobs ---- */

/* Serialises the looks at the store folder (the store thread's, EnumJobs' and GetJob's) and
 * what they change in mirrors. Taken before job->lock; under job->op_lock (share_forward), so
 * a look only tries op_lock, never waits for it. */
static SRWLOCK scan_lock = SRWLOCK_INIT;
static ULONGLONG last_scan; /* scan_lock: when the last look was */

BOOL store_is_mirror(struct ejob *job)
{
    BOOL remote;

    AcquireSRWLockShared(&job->lock);
    remote = job->remote;
    ReleaseSRWLockShared(&job->lock);
    return remote;
}

/* The record of a mirror is gone: its owner cancelled or completed it (a job that was
 * TRANSFERRED is taken as completed). Caller holds scan_lock and job->op_lock. */
static void finish_mirror(struct ejob *job, const WCHAR *path)
{
    /* A record being replaced is never missing, but a listing may pass it by: look again. */
    if (GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES)
        return;
    AcquireSRWLockExclusive(&job->lock);
    if (!job->remote || ejob_is_final(job))
    {
        ReleaseSRWLockExclusive(&job->lock);
        return;
    }
    TRACE("job %s: its owner let it go", debugstr_guid(&job->id));
    job->state =
        job->state == BG_JOB_STATE_TRANSFERRED ? BG_JOB_STATE_ACKNOWLEDGED : BG_JOB_STATE_CANCELLED;
    job->remote = FALSE;
    job->generation++;
    notify_modified(job);
    ReleaseSRWLockExclusive(&job->lock);
    engine_forget_job(job);
}

/* Reads a mirror's changed record into it. Nothing is taken over from a record read while this
 * process changed the mirror (a setter, or a forwarded operation's answer): the next look
 * reads it again. Caller holds scan_lock. */
static void refresh_mirror(struct ejob *job, const WCHAR *path)
{
    struct ejob *from;
    LONG serial;
    HRESULT hr;

    AcquireSRWLockShared(&job->lock);
    serial = job->remote_serial;
    ReleaseSRWLockShared(&job->lock);
    if (FAILED(hr = load(path, NULL, &from)))
    {
        if (hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) &&
            TryAcquireSRWLockExclusive(&job->op_lock))
        {
            finish_mirror(job, path);
            ReleaseSRWLockExclusive(&job->op_lock);
        }
        return;
    }
    if (reserve_files(job, from->file_count))
    {
        AcquireSRWLockExclusive(&job->lock);
        if (job->remote && !ejob_is_final(job) && job->remote_serial == serial)
        {
            merge_locked(job, from,
                         MERGE_STATUS | MERGE_CMDLINE | (job->remote_dirty ? 0 : MERGE_SETTINGS));
            job->record_time = from->record_time;
            job->record_size = from->record_size;
        }
        ReleaseSRWLockExclusive(&job->lock);
    }
    ejob_release(from);
}

/* Turns a mirror whose lock the caller took (`lock`) into a job owned here: its record is read
 * again (what was flushed, not what the owner counted), the settings changed here and not yet
 * sent win, and it goes on from its checkpoint. Caller holds scan_lock and job->op_lock. */
static HRESULT adopt_mirror(struct ejob *job, HANDLE lock)
{
    WCHAR path[MAX_PATH];
    struct ejob *from;
    BOOL dirty;
    HRESULT hr;

    if (!store_is_mirror(job))
    {
        CloseHandle(lock);
        return S_OK;
    }
    if (!job_path(&job->id, L".job", path, ARRAY_SIZE(path)))
    {
        CloseHandle(lock);
        return E_FAIL;
    }
    if (FAILED(hr = load(path, lock, &from)))
    {
        CloseHandle(lock);
        if (hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND))
        {
            finish_mirror(job, path);
            return S_OK;
        }
        return hr;
    }
    from->store_lock = NULL;
    if (!reserve_files(job, from->file_count))
    {
        CloseHandle(lock);
        ejob_release(from);
        return E_OUTOFMEMORY;
    }
    AcquireSRWLockExclusive(&job->lock);
    merge_locked(job, from,
                 MERGE_STATUS | MERGE_CMDLINE | (job->remote_dirty ? 0 : MERGE_SETTINGS));
    job->record_time = from->record_time;
    job->record_size = from->record_size;
    job->remote = FALSE;
    job->store_lock = lock;
    dirty = job->remote_dirty;
    job->remote_dirty = FALSE;
    if (dirty)
        store_mark_dirty(job);
    ReleaseSRWLockExclusive(&job->lock);
    ejob_release(from);
    TRACE("job %s: adopted from a process that ended", debugstr_guid(&job->id));
    start_owned(job);
    return S_OK;
}

HRESULT store_take_over(struct ejob *job)
{
    HANDLE lock;
    HRESULT hr;

    if (!store_is_mirror(job))
        return S_OK;
    if ((lock = take_lock(&job->id, FALSE)) == INVALID_HANDLE_VALUE)
        return S_FALSE;
    AcquireSRWLockExclusive(&scan_lock);
    hr = adopt_mirror(job, lock);
    ReleaseSRWLockExclusive(&scan_lock);
    return hr;
}

HRESULT store_reload_mirror(struct ejob *job)
{
    WCHAR path[MAX_PATH];

    if (!job_path(&job->id, L".job", path, ARRAY_SIZE(path)))
        return E_FAIL;
    AcquireSRWLockExclusive(&scan_lock);
    refresh_mirror(job, path);
    ReleaseSRWLockExclusive(&scan_lock);
    return store_is_mirror(job) ? S_OK : BG_E_NOT_FOUND;
}

/* ---- looking at the store ---- */

/* A job in the table at the start of a look, and whether its record was seen. */
struct known
{
    GUID id;
    struct ejob *job; /* a reference */
    BOOL seen;
};

static int compare_known(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(GUID));
}

/* The jobs in the table, sorted by id if `sort`: a look that reads the folder finds each
 * record's job in it, so that a store of many jobs costs n log n, not n squared. NULL (and 0)
 * without memory or jobs. */
static struct known *known_jobs(ULONG *count, BOOL sort)
{
    struct known *known = NULL;
    struct ejob **jobs;

    if (FAILED(engine_snapshot_jobs(&jobs, count)) || !*count)
        return NULL;
    if ((known = HeapAlloc(GetProcessHeap(), 0, *count * sizeof(*known))))
    {
        for (ULONG i = 0; i < *count; i++)
        {
            known[i].id = jobs[i]->id;
            known[i].job = jobs[i];
            known[i].seen = FALSE;
        }
        if (sort)
            qsort(known, *count, sizeof(*known), compare_known);
    }
    else
    {
        for (ULONG i = 0; i < *count; i++)
            ejob_release(jobs[i]);
        *count = 0;
    }
    heap_free(jobs);
    return known;
}

/* A record of a job this process does not have: adopted if its owner is gone (or it never had
 * one), else mirrored. S_OK once the job is in the table, E_ACCESSDENIED for another user's
 * record. Caller holds scan_lock. */
static HRESULT found_record(const GUID *id, const WCHAR *path)
{
    struct ejob *job;
    HANDLE lock;
    HRESULT hr;

    if ((job = engine_find_loaded_job(id)))
    {
        ejob_release(job);
        return S_OK;
    }
    lock = take_lock(id, FALSE);
    if (FAILED(hr = load(path, lock == INVALID_HANDLE_VALUE ? NULL : lock, &job)))
    {
        if (lock != INVALID_HANDLE_VALUE)
            CloseHandle(lock);
        return hr;
    }
    if (!IsEqualGUID(&job->id, id))
    {
        set_aside(path, "misnamed");
        ejob_release(job);
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    }
    if (job->remote)
    {
        DWORD pid;
        UINT64 started;

        /* A job this process is making: its record is written before it enters the table. */
        share_self(&pid, &started);
        if (job->remote_pid == pid && job->remote_started == started)
        {
            ejob_release(job);
            return BG_E_NOT_FOUND;
        }
        TRACE("job %s: owned by process %04lx", debugstr_guid(id), job->remote_pid);
        hr = engine_adopt_job(job);
        ejob_release(job);
        return hr;
    }
    if (expired(job))
    {
        TRACE("job %s: expired", debugstr_guid(&job->id));
        engine_adopt_job(job);
        ejob_cancel(job);
        ejob_release(job);
        return BG_E_NOT_FOUND;
    }
    TRACE("job %s: adopted", debugstr_guid(&job->id));
    if (FAILED(hr = engine_adopt_job(job)))
    {
        ejob_release(job);
        return hr;
    }
    start_owned(job);
    ejob_release(job);
    return S_OK;
}

/* Whether a mirror's owner still runs; asked once per owner in a look. */
struct owner_seen
{
    DWORD pid;
    UINT64 started;
    BOOL alive;
};

static BOOL owner_alive(struct ejob *job, struct owner_seen *seen, ULONG *seen_count, ULONG max)
{
    DWORD pid;
    UINT64 started;
    BOOL alive;

    AcquireSRWLockShared(&job->lock);
    pid = job->remote_pid;
    started = job->remote_started;
    ReleaseSRWLockShared(&job->lock);
    if (!pid)
        return FALSE;
    for (ULONG i = 0; i < *seen_count; i++)
    {
        if (seen[i].pid == pid && seen[i].started == started)
            return seen[i].alive;
    }
    alive = share_process_alive(pid, started);
    if (*seen_count < max)
    {
        seen[*seen_count].pid = pid;
        seen[*seen_count].started = started;
        seen[*seen_count].alive = alive;
        (*seen_count)++;
    }
    return alive;
}

/* Is `name` a subfolder of the store's (two hex digits)? */
static BOOL is_shard(const WIN32_FIND_DATAW *data)
{
    return (data->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) && wcslen(data->cFileName) == 2 &&
           iswxdigit(data->cFileName[0]) && iswxdigit(data->cFileName[1]);
}

/* The id a record's file name ("{id}.job") gives, or FALSE for another name. */
static BOOL record_id(const WIN32_FIND_DATAW *data, GUID *id)
{
    WCHAR name[40];

    if (wcslen(data->cFileName) != 42 || (data->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
        return FALSE;
    memcpy(name, data->cFileName, 38 * sizeof(WCHAR));
    name[38] = 0;
    return SUCCEEDED(CLSIDFromString(name, id));
}

/* Looks at the records of one subfolder: those of jobs in the table are marked seen (and a
 * mirror whose record changed is read again), the others are adopted or mirrored. Caller holds
 * scan_lock. */
static void scan_shard(const WCHAR *shard, struct known *known, ULONG known_count)
{
    WCHAR pattern[MAX_PATH], path[MAX_PATH];
    WIN32_FIND_DATAW data;
    struct known *k;
    HANDLE find;
    GUID id;

    if (swprintf(pattern, ARRAY_SIZE(pattern), L"%ls\\%ls\\*.job", store_dir, shard) < 0 ||
        (find = FindFirstFileW(pattern, &data)) == INVALID_HANDLE_VALUE)
        return;
    do
    {
        if (!record_id(&data, &id) || swprintf(path, ARRAY_SIZE(path), L"%ls\\%ls\\%ls", store_dir,
                                               shard, data.cFileName) < 0)
            continue;
        if (known && (k = bsearch(&id, known, known_count, sizeof(*known), compare_known)))
        {
            k->seen = TRUE;
            if (store_is_mirror(k->job) &&
                (CompareFileTime(&data.ftLastWriteTime, &k->job->record_time) ||
                 data.nFileSizeLow != k->job->record_size))
                refresh_mirror(k->job, path);
            continue;
        }
        found_record(&id, path);
    } while (FindNextFileW(find, &data));
    FindClose(find);
}

/* Looks at every record (when must_walk says the folder may hold something new): adopts the
 * ones whose owner is gone, mirrors the ones other processes own, refreshes the mirrors whose
 * record changed and lets go of those whose record went; and adopts the mirrors whose owner
 * ended. Returns TRUE if the table holds mirrors. Caller holds scan_lock. */
static BOOL scan_locked(void)
{
    WCHAR pattern[MAX_PATH], path[MAX_PATH];
    struct owner_seen owners[16];
    ULONG known_count, owner_count = 0;
    WIN32_FIND_DATAW data;
    struct known *known;
    BOOL mirrors = FALSE, walk;
    HANDLE find, lock;

    last_scan = GetTickCount64();
    if (swprintf(pattern, ARRAY_SIZE(pattern), L"%ls\\*", store_dir) < 0)
        return FALSE;
    walk = must_walk();
    known = known_jobs(&known_count, walk);
    if (walk && (find = FindFirstFileW(pattern, &data)) != INVALID_HANDLE_VALUE)
    {
        do
        {
            if (is_shard(&data))
                scan_shard(data.cFileName, known, known_count);
        } while (FindNextFileW(find, &data));
        FindClose(find);
    }
    for (ULONG i = 0; i < known_count; i++)
    {
        struct ejob *job = known[i].job;

        if (store_is_mirror(job) && TryAcquireSRWLockExclusive(&job->op_lock))
        {
            if (walk && !known[i].seen && job_path(&job->id, L".job", path, ARRAY_SIZE(path)))
                finish_mirror(job, path);
            else if (!owner_alive(job, owners, &owner_count, ARRAY_SIZE(owners)) &&
                     (lock = take_lock(&job->id, FALSE)) != INVALID_HANDLE_VALUE)
                adopt_mirror(job, lock);
            ReleaseSRWLockExclusive(&job->op_lock);
        }
        mirrors |= store_is_mirror(job);
        ejob_release(job);
    }
    heap_free(known);
    return mirrors;
}

/* Records from an OpenDO that kept every job's files in the store folder itself go into their
 * subfolders, each once its lock is free: one that a running process of that version owns
 * stays (the first process to open the store after that one ended moves it). */
static void move_flat_records(void)
{
    WCHAR pattern[MAX_PATH], flat[MAX_PATH], lock_path[MAX_PATH], path[MAX_PATH];
    WIN32_FIND_DATAW data;
    HANDLE find, lock;
    GUID id;

    if (swprintf(pattern, ARRAY_SIZE(pattern), L"%ls\\*.job", store_dir) < 0 ||
        (find = FindFirstFileW(pattern, &data)) == INVALID_HANDLE_VALUE)
        return;
    do
    {
        if (!record_id(&data, &id) ||
            swprintf(flat, ARRAY_SIZE(flat), L"%ls\\%ls", store_dir, data.cFileName) < 0 ||
            swprintf(lock_path, ARRAY_SIZE(lock_path), L"%ls\\%.38ls.lock", store_dir,
                     data.cFileName) < 0 ||
            !job_path(&id, L".job", path, ARRAY_SIZE(path)))
            continue;
        lock = CreateFileW(lock_path, GENERIC_WRITE, 0, NULL, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_HIDDEN | FILE_FLAG_DELETE_ON_CLOSE, NULL);
        if (lock == INVALID_HANDLE_VALUE)
        {
            WARN("%s: a running process owns it; it stays where it is", debugstr_w(flat));
            continue;
        }
        /* A record in the subfolder already is the newer one. */
        if (!make_shard(path) || !MoveFileExW(flat, path, MOVEFILE_WRITE_THROUGH))
        {
            if (GetLastError() == ERROR_ALREADY_EXISTS || GetLastError() == ERROR_FILE_EXISTS)
                DeleteFileW(flat);
            else
                WARN("cannot move %s: %lu", debugstr_w(flat), GetLastError());
        }
        else
            note_change();
        CloseHandle(lock);
    } while (FindNextFileW(find, &data));
    FindClose(find);
}

static BOOL scan(void)
{
    BOOL mirrors;

    AcquireSRWLockExclusive(&scan_lock);
    mirrors = scan_locked();
    ReleaseSRWLockExclusive(&scan_lock);
    return mirrors;
}

void store_refresh(void)
{
    if (!store_open)
        return;
    AcquireSRWLockExclusive(&scan_lock);
    if (GetTickCount64() - last_scan >= STORE_REFRESH_MS)
        scan_locked();
    ReleaseSRWLockExclusive(&scan_lock);
}

/* A job another process made a moment ago has its lock before its record (store_add_job): the
 * record comes with that process's next batch. TRUE once `path`, the record, is there. */
static BOOL await_record(const GUID *id, const WCHAR *path)
{
    ULONGLONG deadline = GetTickCount64() + 4 * STORE_COMMIT_MS;

    while (lock_held(id) && GetTickCount64() < deadline)
    {
        Sleep(10);
        if (GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES)
            return TRUE;
    }
    return FALSE;
}

HRESULT store_probe(const GUID *id)
{
    WCHAR path[MAX_PATH];
    HRESULT hr;

    if (!store_open || !job_path(id, L".job", path, ARRAY_SIZE(path)))
        return BG_E_NOT_FOUND;
    if (GetFileAttributesW(path) == INVALID_FILE_ATTRIBUTES && !await_record(id, path))
        return BG_E_NOT_FOUND;
    AcquireSRWLockExclusive(&scan_lock);
    hr = found_record(id, path);
    ReleaseSRWLockExclusive(&scan_lock);
    if (hr == E_ACCESSDENIED)
        return hr;
    return SUCCEEDED(hr) ? S_OK : BG_E_NOT_FOUND;
}

/* ---- the store thread ---- */

/* Writes every dirty job now, and sends the settings changed in mirrors to their owners. The
 * whole batch runs under commit_lock, so that store_flush, which takes it too, returns only
 * once a batch the store thread started is written. */
static void commit(void)
{
    struct ejob *job, *next;
    BOOL remote;
    HRESULT hr;

    AcquireSRWLockExclusive(&commit_lock);
    AcquireSRWLockExclusive(&store_lock);
    job = dirty_head;
    dirty_head = NULL;
    ReleaseSRWLockExclusive(&store_lock);
    for (; job; job = next)
    {
        AcquireSRWLockExclusive(&job->lock);
        next = job->store_next;
        job->store_next = NULL;
        job->store_dirty = FALSE;
        remote = job->remote;
        ReleaseSRWLockExclusive(&job->lock);
        if (remote && share_forward(job, SHARE_SETTINGS, NULL, &hr))
        {
            /* An owner that cannot be reached is tried again with the next batch (its job is
             * adopted meanwhile if it is gone); one that refused keeps its settings. */
            if (FAILED(hr) && HRESULT_FACILITY(hr) == FACILITY_WIN32)
            {
                AcquireSRWLockExclusive(&job->lock);
                if (job->remote_dirty)
                    store_mark_dirty(job);
                ReleaseSRWLockExclusive(&job->lock);
            }
        }
        else if (FAILED(save(job)))
        {
            /* Tried again with the next batch: a reader may have held the record open, or the
             * disk may be full for a moment. */
            AcquireSRWLockExclusive(&job->lock);
            store_mark_dirty(job);
            ReleaseSRWLockExclusive(&job->lock);
        }
        ejob_release(job);
    }
    ReleaseSRWLockExclusive(&commit_lock);
}

static DWORD WINAPI store_main(void *arg)
{
    ULONGLONG next_scan = GetTickCount64() + STORE_SCAN_MS, now;
    BOOL dirty, mirrors = FALSE;

    for (;;)
    {
        AcquireSRWLockExclusive(&store_lock);
        while (!dirty_head && (now = GetTickCount64()) < next_scan)
            SleepConditionVariableSRW(&store_cond, &store_lock, (DWORD)(next_scan - now), 0);
        dirty = dirty_head != NULL;
        ReleaseSRWLockExclusive(&store_lock);

        if (dirty)
        {
            /* Group commit: the changes that come within this time are written in one pass. */
            Sleep(STORE_COMMIT_MS);
            commit();
        }
        if (GetTickCount64() >= next_scan)
        {
            mirrors = scan();
            /* Other processes' jobs are looked at more often: their views stay fresh. */
            next_scan = GetTickCount64() + (mirrors ? STORE_REFRESH_MS : STORE_SCAN_MS);
        }
    }
    return 0;
}

static BOOL CALLBACK init(INIT_ONCE *once, void *param, void **context)
{
    struct owner owner;
    HMODULE module;
    HANDLE thread;
    HRESULT hr;

    if (FAILED(hr = owner_of_caller(&owner)))
    {
        ERR("cannot read the user: %08lx; jobs are not stored", hr);
        return TRUE;
    }
    user_sid = owner.sid;
    owner.sid = NULL;
    owner_clear(&owner);
    if (FAILED(hr = open_folder()))
    {
        ERR("cannot open the job store %s: %08lx; jobs are not stored", debugstr_w(store_dir), hr);
        return TRUE;
    }
    store_open = TRUE;
    open_changes();
    /* Other processes reach the jobs of this one from now on. */
    if (FAILED(hr = share_start(store_dir, user_sid)))
        WARN("other processes cannot reach this process's jobs: %08lx", hr);
    /* The jobs that wait in the store are there before the first call returns. */
    move_flat_records();
    scan();
    if (GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)store_main,
                           &module))
    {
        if ((thread = CreateThread(NULL, 0, store_main, module, 0, NULL)))
            CloseHandle(thread);
        else
        {
            ERR("cannot start the store thread: %lu", GetLastError());
            FreeLibrary(module);
        }
    }
    return TRUE;
}

void store_init(void)
{
    InitOnceExecuteOnce(&init_once, init, NULL, NULL);
}

const WCHAR *store_folder(void)
{
    store_init();
    return store_open ? store_dir : NULL;
}

HRESULT store_add_job(struct ejob *job)
{
    HANDLE lock;

    if (!store_open)
        return S_OK;
    if ((lock = take_lock(&job->id, TRUE)) == INVALID_HANDLE_VALUE)
        return HRESULT_FROM_WIN32(GetLastError());
    /* The record is written with the next batch, as any change is: a new job costs its caller
     * its lock, which tells other processes that the job exists (store_probe), and no file. */
    AcquireSRWLockExclusive(&job->lock);
    job->store_lock = lock;
    store_mark_dirty(job);
    ReleaseSRWLockExclusive(&job->lock);
    return S_OK;
}

void store_mark_dirty(struct ejob *job)
{
    if (job->remote)
    {
        /* A setter changed a mirror: the store thread sends the settings to the owner, and
         * until then no look at the record takes them back. */
        job->remote_dirty = TRUE;
        job->remote_serial++;
    }
    else if (!job->store_lock)
        return;
    if (job->store_dirty || ejob_is_final(job))
        return;
    job->store_dirty = TRUE;
    ejob_addref(job);
    AcquireSRWLockExclusive(&store_lock);
    job->store_next = dirty_head;
    dirty_head = job;
    WakeConditionVariable(&store_cond);
    ReleaseSRWLockExclusive(&store_lock);
}

void store_mark_progress(struct ejob *job)
{
    ULONGLONG now = GetTickCount64();

    if (now - job->saved_progress_at < STORE_PROGRESS_MS)
        return;
    job->saved_progress_at = now;
    store_mark_dirty(job);
}

void store_save_now(struct ejob *job)
{
    if (store_open)
        save(job);
}
void store_remove_job(struct ejob *job)
{
    WCHAR path[MAX_PATH];
    HANDLE lock;

    BOOL dirty;

    AcquireSRWLockExclusive(&job->lock);
    lock = job->store_lock;
    job->store_lock = NULL;
    /* Out of the dirty list too: nothing is written for it again, and the list's reference
     * goes now, not whenever the store thread comes by. */
    if ((dirty = job->store_dirty))
    {
        struct ejob **link;

        AcquireSRWLockExclusive(&store_lock);
        for (link = &dirty_head; *link && *link != job; link = &(*link)->store_next)
            ;
        if (*link)
        {
            *link = job->store_next;
            job->store_next = NULL;
            job->store_dirty = FALSE;
        }
        else
            dirty = FALSE; /* the store thread has taken the list: it lets go itself */
        ReleaseSRWLockExclusive(&store_lock);
    }
    ReleaseSRWLockExclusive(&job->lock);
    if (dirty)
        ejob_release(job);
    if (!lock)
        return;
    AcquireSRWLockExclusive(&write_lock);
    if (job_path(&job->id, L".job", path, ARRAY_SIZE(path)))
    {
        if (DeleteFileW(path))
            note_change();
        else if (GetLastError() != ERROR_FILE_NOT_FOUND)
            WARN("cannot delete %s: %lu", debugstr_w(path), GetLastError());
    }
    ReleaseSRWLockExclusive(&write_lock);
    CloseHandle(lock);
}

void store_flush(void)
{
    if (store_open)
        commit();
}
