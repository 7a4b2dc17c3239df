/* SPDX-License-Identifier: MIT */
/* Sharing jobs between the processes of a user: each process answers on a named pipe for the
 * jobs it owns, and sends there the control operations on the jobs it only mirrors. */

/*
 * Design
 * ------
 * The job store (store.c) shows every process the jobs of the others, as mirrors refreshed
 * from their records. What changes a job goes to the one process that owns it:
 *   - each process that opens the store creates \\.\pipe\OpenDO.<store>.<pid>, where <store>
 *     is a checksum of the store folder's path (processes of two stores never meet) and <pid>
 *     the process's id, which its records carry. The pipe admits the user alone (its DACL)
 *     and no remote client;
 *   - one call is one connection: a request (struct share_header, then a record of the
 *     operation's arguments) and an answer (the operation's HRESULT, then the job's record as
 *     it is afterwards, which the caller merges into its mirror at once: a Suspend in one
 *     process is seen by GetState in the same process when it returns);
 *   - the owner runs the operation through the very functions a client of its own would call,
 *     and writes the job's record before it answers, so that a look at the record after the
 *     answer never shows the job as it was before;
 *   - an owner that cannot be reached (gone, or no longer the owner) makes the caller try to
 *     adopt the job (its lock file is free once the owner's process ended) and then do the
 *     operation itself; while another process holds the lock, the caller reads the record
 *     again (it may name a new owner) and retries for SHARE_ATTEMPTS * SHARE_RETRY_MS.
 * A stream sink cannot go to another process: setting one on a mirror answers E_NOTIMPL.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/engine.h"
#include <sddl.h>
#include "core/record.h"
#include "engine/storetags.h"

#define SHARE_MAGIC 0x5251444fu /* "ODQR" */
#define SHARE_MAX_PAYLOAD (64u * 1024 * 1024)
/* An owner answers within this, or is taken for gone (the slowest operation, a Cancel, waits
 * ENGINE_STOP_WAIT_MS for its worker; AddFileSet creates a file per file). */
#define SHARE_IO_MS 30000
#define SHARE_RETRY_MS 100
#define SHARE_ATTEMPTS 30
/* The answer of a process that does not own the job (any more). */
#define SHARE_E_NOT_OWNER HRESULT_FROM_WIN32(ERROR_NOT_OWNER)

/* What precedes a request and an answer on the pipe. Fixed sizes, no padding: 32-bit and
 * 64-bit processes read it alike. */
struct share_header
{
    uint32_t magic;
    uint32_t code;  /* request: enum share_op; answer: the operation's HRESULT */
    GUID id;        /* the job */
    uint32_t index; /* request: a file's index; answer: SHARE_ADD_FILE's new index */
    uint32_t size;  /* bytes of the record that follows, 0 for none */
};

static WCHAR pipe_prefix[64];        /* \\.\pipe\OpenDO.<store>. */
static PSECURITY_DESCRIPTOR pipe_sd; /* the user alone */
static DWORD self_pid;
static UINT64 self_started;
static INIT_ONCE self_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK init_self(INIT_ONCE *once, void *param, void **context)
{
    FILETIME creation, exit_time, kernel, user;

    self_pid = GetCurrentProcessId();
    if (GetProcessTimes(GetCurrentProcess(), &creation, &exit_time, &kernel, &user))
        self_started = ((UINT64)creation.dwHighDateTime << 32) | creation.dwLowDateTime;
    return TRUE;
}

void share_self(DWORD *pid, UINT64 *started)
{
    InitOnceExecuteOnce(&self_once, init_self, NULL, NULL);
    *pid = self_pid;
    *started = self_started;
}

BOOL share_process_alive(DWORD pid, UINT64 started)
{
    FILETIME creation, exit_time, kernel, user;
    HANDLE process;
    BOOL alive;

    /* A process of another user (or none) at that id is not the owner. */
    if (!(process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid)))
        return FALSE;
    alive = WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
    /* The id may have been given to a new process since. */
    if (alive && started && GetProcessTimes(process, &creation, &exit_time, &kernel, &user))
        alive = (((UINT64)creation.dwHighDateTime << 32) | creation.dwLowDateTime) == started;
    CloseHandle(process);
    return alive;
}

static BOOL pipe_name(DWORD pid, WCHAR *name, size_t size)
{
    return swprintf(name, size, L"%ls%lu", pipe_prefix, pid) > 0;
}

/* Reads or writes exactly `size` bytes, giving up after SHARE_IO_MS. The handle is
 * overlapped. */
static BOOL pipe_io(HANDLE pipe, BOOL write, void *buffer, DWORD size)
{
    OVERLAPPED ov = {0};
    BYTE *p = buffer;
    DWORD done;
    BOOL ok = TRUE;

    if (!size)
        return TRUE;
    if (!(ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL)))
        return FALSE;
    while (ok && size)
    {
        ResetEvent(ov.hEvent);
        ok = write ? WriteFile(pipe, p, size, NULL, &ov) : ReadFile(pipe, p, size, NULL, &ov);
        if (!ok && GetLastError() == ERROR_IO_PENDING)
        {
            if (WaitForSingleObject(ov.hEvent, SHARE_IO_MS) != WAIT_OBJECT_0)
            {
                CancelIo(pipe);
                GetOverlappedResult(pipe, &ov, &done, TRUE);
                break;
            }
            ok = TRUE;
        }
        if (ok && (!(ok = GetOverlappedResult(pipe, &ov, &done, TRUE)) || !done))
            ok = FALSE;
        if (ok)
        {
            p += done;
            size -= done;
        }
    }
    CloseHandle(ov.hEvent);
    return ok && !size;
}

/* ---- the owner's side ---- */

/* A request's arguments. */
struct request
{
    WCHAR *a, *b;
    struct ejob_file **files; /* the files of ADD_FILES and ADD_FILE */
    ULONG count;
};

static void request_free(struct request *req)
{
    free_str(req->a);
    free_str(req->b);
    for (ULONG i = 0; i < req->count; i++)
        efile_free(req->files[i]);
    heap_free(req->files);
}

/* Reads a request's arguments (SHARE_SETTINGS has none: its record is a job's). */
static HRESULT parse_request(const uint8_t *data, uint32_t size, struct request *req)
{
    struct record_reader r;
    struct record_field f;
    ULONG files = 0;

    if (!size)
        return S_OK;
    if (record_open(data, size, &r) != RECORD_OK)
        return E_INVALIDARG;
    while (record_next(&r, &f))
        files += f.tag == TAG_FILE;
    if (files && !(req->files = heap_alloc_zero(files * sizeof(*req->files))))
        return E_OUTOFMEMORY;
    record_open(data, size, &r);
    while (record_next(&r, &f))
    {
        WCHAR **s = f.tag == TAG_REQ_A ? &req->a : f.tag == TAG_REQ_B ? &req->b : NULL;

        if (s && !*s && !(*s = store_get_str(&f)))
            return E_OUTOFMEMORY;
        if (f.tag == TAG_FILE && req->count < files &&
            !(req->files[req->count++] = store_decode_file(&f)))
            return E_OUTOFMEMORY;
    }
    return S_OK;
}

/* SHARE_ADD_FILES: the files as AddFileSet takes them. */
static HRESULT add_files(struct ejob *job, const struct request *req)
{
    BG_FILE_INFO *infos;
    HRESULT hr;

    if (!req->count)
        return ejob_add_files(job, 0, NULL);
    if (!(infos = heap_alloc_zero(req->count * sizeof(*infos))))
        return E_OUTOFMEMORY;
    for (ULONG i = 0; i < req->count; i++)
    {
        infos[i].RemoteName = req->files[i]->remote;
        infos[i].LocalName = req->files[i]->local;
    }
    hr = ejob_add_files(job, req->count, infos);
    heap_free(infos);
    return hr;
}

/* SHARE_ADD_FILE: one file with what AddFileWithRanges or the DO AddFile give. */
static HRESULT add_file(struct ejob *job, const struct request *req, ULONG *index)
{
    struct efile_spec spec = {0};
    const struct ejob_file *file;

    if (req->count != 1)
        return E_INVALIDARG;
    file = req->files[0];
    spec.remote = file->remote;
    spec.local = file->local;
    spec.ranges = file->ranges;
    spec.range_count = file->range_count;
    spec.file_id = file->file_id;
    spec.size_hint = file->size_hint;
    return ejob_add_file(job, &spec, index);
}

/* SHARE_SETTINGS: what setters changed in another process's mirror. */
static HRESULT apply_settings(struct ejob *job, const uint8_t *data, uint32_t size)
{
    struct ejob *from;
    BOOL final, clsid;
    HRESULT hr;

    /* The record is checked as a stored one is: the caller's user must be the store's. */
    if (FAILED(hr = store_decode(data, size, TRUE, &from)))
        return hr;
    store_merge(job, from, MERGE_SETTINGS);
    ejob_release(from);
    AcquireSRWLockExclusive(&job->lock);
    if (!(final = ejob_is_final(job)))
        ejob_touch(job);
    clsid = !IsEqualGUID(&job->options.notification_clsid, &GUID_NULL);
    ReleaseSRWLockExclusive(&job->lock);
    if (final)
        return BG_E_INVALID_STATE;
    /* A notification class set in the other process is served here. */
    return clsid ? notify_start() : S_OK;
}

/* Runs a request for a job this process owns. */
static HRESULT run(struct ejob *job, const struct share_header *h, const uint8_t *data,
                   ULONG *index)
{
    struct request req = {0};
    HRESULT hr;

    if (h->code != SHARE_SETTINGS && FAILED(hr = parse_request(data, h->size, &req)))
    {
        request_free(&req);
        return hr;
    }
    switch (h->code)
    {
    case SHARE_RESUME:
        hr = ejob_resume(job);
        break;
    case SHARE_SUSPEND:
        hr = ejob_suspend(job);
        break;
    case SHARE_CANCEL:
        hr = ejob_cancel(job);
        break;
    case SHARE_COMPLETE:
        hr = ejob_complete(job);
        break;
    case SHARE_ADD_FILES:
        hr = add_files(job, &req);
        break;
    case SHARE_ADD_FILE:
        hr = add_file(job, &req, index);
        break;
    case SHARE_SET_REMOTE:
        hr = efile_set_remote(job, h->index, req.a);
        break;
    case SHARE_REPLACE_PREFIX:
        hr = ejob_replace_remote_prefix(job, req.a, req.b);
        break;
    case SHARE_SET_LOCAL:
        hr = efile_set_local(job, h->index, req.a);
        break;
    case SHARE_INVALIDATE:
        hr = efile_invalidate(job, h->index);
        break;
    case SHARE_SET_CMDLINE:
        hr = notify_set_cmdline(job, req.a, req.b);
        break;
    case SHARE_SETTINGS:
        hr = apply_settings(job, data, h->size);
        break;
    case SHARE_SNAPSHOT:
        hr = S_OK;
        break;
    default:
        hr = E_INVALIDARG;
        break;
    }
    request_free(&req);
    return hr;
}

/* Answers one connection: a request, then the answer with the job's record. */
static DWORD WINAPI serve_main(void *arg)
{
    struct share_header h, answer = {SHARE_MAGIC};
    HANDLE pipe = arg;
    uint8_t *data = NULL, *record = NULL;
    size_t record_size = 0;
    struct ejob *job = NULL;
    ULONG index = 0;
    BYTE end;

    if (!pipe_io(pipe, FALSE, &h, sizeof(h)) || h.magic != SHARE_MAGIC ||
        h.size > SHARE_MAX_PAYLOAD || !(data = malloc(h.size ? h.size : 1)) ||
        !pipe_io(pipe, FALSE, data, h.size))
        goto out;
    answer.id = h.id;
    if (!(job = engine_find_loaded_job(&h.id)) || store_is_mirror(job))
        answer.code = SHARE_E_NOT_OWNER;
    else
    {
        BOOL final;

        answer.code = run(job, &h, data, &index);
        AcquireSRWLockShared(&job->lock);
        final = ejob_is_final(job);
        ReleaseSRWLockShared(&job->lock);
        /* On disk before the answer: the caller's next look at the record sees the change. */
        if (!final)
        {
            store_save_now(job);
            if (FAILED(store_encode(job, &record, &record_size)))
                record_size = 0;
        }
    }
    answer.index = index;
    answer.size = (uint32_t)record_size;
    if (pipe_io(pipe, TRUE, &answer, sizeof(answer)) && pipe_io(pipe, TRUE, record, answer.size))
        pipe_io(pipe, FALSE, &end, 1); /* returns when the caller, done reading, closes */
out:
    if (job)
        ejob_release(job);
    free(data);
    free(record);
    CloseHandle(pipe);
    return 0;
}

static HANDLE new_instance(BOOL first)
{
    SECURITY_ATTRIBUTES sa = {sizeof(sa), pipe_sd, FALSE};
    WCHAR name[96];
    DWORD pid;
    UINT64 started;

    share_self(&pid, &started);
    if (!pipe_name(pid, name, ARRAY_SIZE(name)))
        return INVALID_HANDLE_VALUE;
    return CreateNamedPipeW(
        name,
        PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
        PIPE_UNLIMITED_INSTANCES, 65536, 65536, 0, &sa);
}

/* Waits for callers, one connection at a time, and gives each its own thread. */
static DWORD WINAPI listen_main(void *arg)
{
    HANDLE pipe = arg, next, thread;
    OVERLAPPED ov = {0};
    DWORD done;
    BOOL connected;

    if (!(ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL)))
        return 1;
    for (;;)
    {
        ResetEvent(ov.hEvent);
        if (!(connected = ConnectNamedPipe(pipe, &ov)))
        {
            if (GetLastError() == ERROR_IO_PENDING)
                connected = GetOverlappedResult(pipe, &ov, &done, TRUE);
            else
                connected = GetLastError() == ERROR_PIPE_CONNECTED;
        }
        /* The next instance first, so that callers always find the name. */
        while ((next = new_instance(FALSE)) == INVALID_HANDLE_VALUE)
        {
            WARN("cannot make the next pipe instance: %lu", GetLastError());
            Sleep(1000);
        }
        if (!connected || !(thread = CreateThread(NULL, 0, serve_main, pipe, 0, NULL)))
            CloseHandle(pipe);
        else
            CloseHandle(thread);
        pipe = next;
    }
}

HRESULT share_start(const WCHAR *dir, const WCHAR *sid)
{
    WCHAR upper[MAX_PATH], sddl[256];
    HMODULE module;
    HANDLE pipe, thread;
    size_t len = wcslen(dir);

    if (len >= ARRAY_SIZE(upper))
        return E_INVALIDARG;
    memcpy(upper, dir, (len + 1) * sizeof(WCHAR));
    CharUpperBuffW(upper, (DWORD)len);
    swprintf(pipe_prefix, ARRAY_SIZE(pipe_prefix), L"\\\\.\\pipe\\OpenDO.%08x.",
             record_crc32(upper, len * sizeof(WCHAR)));
    /* Protected, the user alone. */
    swprintf(sddl, ARRAY_SIZE(sddl), L"D:P(A;;GA;;;%ls)", sid);
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &pipe_sd,
                                                              NULL))
        return HRESULT_FROM_WIN32(GetLastError());
    if ((pipe = new_instance(TRUE)) == INVALID_HANDLE_VALUE)
        return HRESULT_FROM_WIN32(GetLastError());
    /* The thread keeps the DLL loaded: it answers for as long as the process runs. */
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)listen_main,
                            &module))
        module = NULL;
    if (!(thread = CreateThread(NULL, 0, listen_main, pipe, 0, NULL)))
    {
        CloseHandle(pipe);
        if (module)
            FreeLibrary(module);
        return HRESULT_FROM_WIN32(GetLastError());
    }
    CloseHandle(thread);
    return S_OK;
}

/* ---- the caller's side ---- */

static void put_file(struct record_writer *w, const WCHAR *remote, const WCHAR *local,
                     const struct efile_spec *spec)
{
    record_begin(w, TAG_FILE);
    record_put_str(w, TAG_FILE_REMOTE, remote);
    record_put_str(w, TAG_FILE_LOCAL, local);
    if (spec)
    {
        for (ULONG i = 0; i < spec->range_count; i++)
            record_put_bytes(w, TAG_FILE_RANGE, &spec->ranges[i], sizeof(spec->ranges[i]));
        record_put_str(w, TAG_FILE_ID, spec->file_id);
        record_put_u64(w, TAG_FILE_SIZE_HINT, spec->size_hint);
    }
    record_end(w);
}

/* The request's record: its arguments, or the mirror's for SHARE_SETTINGS. */
static HRESULT build_request(struct ejob *job, enum share_op op, const struct share_args *args,
                             uint8_t **data, size_t *size)
{
    struct record_writer w;
    enum record_status status;

    *data = NULL;
    *size = 0;
    if (op == SHARE_SETTINGS)
        return store_encode(job, data, size);
    if (!args)
        return S_OK;
    record_writer_init(&w);
    record_put_str(&w, TAG_REQ_A, args->a);
    record_put_str(&w, TAG_REQ_B, args->b);
    if (op == SHARE_ADD_FILES)
    {
        for (ULONG i = 0; i < args->count; i++)
            put_file(&w, args->files[i].RemoteName, args->files[i].LocalName, NULL);
    }
    else if (op == SHARE_ADD_FILE)
        put_file(&w, args->spec->remote, args->spec->local, args->spec);
    status = record_finish(&w, data, size);
    record_writer_free(&w);
    if (status == RECORD_TOO_LARGE || *size > SHARE_MAX_PAYLOAD)
    {
        free(*data);
        *data = NULL;
        return HRESULT_FROM_WIN32(ERROR_BUFFER_OVERFLOW);
    }
    return status == RECORD_OK ? S_OK : E_OUTOFMEMORY;
}

/* One call to the process `pid`. S_OK once an answer came (*answer, and *record to free with
 * free()), else why the owner could not be reached. */
static HRESULT call(DWORD pid, const struct share_header *request, const uint8_t *data,
                    struct share_header *answer, uint8_t **record)
{
    WCHAR name[96];
    HANDLE pipe;
    ULONG server;
    HRESULT hr = S_OK;

    *record = NULL;
    if (!pipe_name(pid, name, ARRAY_SIZE(name)))
        return E_FAIL;
    for (int i = 0;; i++)
    {
        pipe = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
                           NULL);
        if (pipe != INVALID_HANDLE_VALUE)
            break;
        if (GetLastError() != ERROR_PIPE_BUSY || i == 10)
            return HRESULT_FROM_WIN32(GetLastError());
        WaitNamedPipeW(name, 1000);
    }
    /* Only the process the record names answers for its jobs. */
    if (GetNamedPipeServerProcessId(pipe, &server) && server != pid)
        hr = E_ACCESSDENIED;
    else if (!pipe_io(pipe, TRUE, (void *)request, sizeof(*request)) ||
             !pipe_io(pipe, TRUE, (void *)data, request->size) ||
             !pipe_io(pipe, FALSE, answer, sizeof(*answer)) || answer->magic != SHARE_MAGIC ||
             answer->size > SHARE_MAX_PAYLOAD)
        hr = HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE);
    else if (answer->size &&
             (!(*record = malloc(answer->size)) || !pipe_io(pipe, FALSE, *record, answer->size)))
        hr = *record ? HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE) : E_OUTOFMEMORY;
    CloseHandle(pipe);
    if (FAILED(hr))
    {
        free(*record);
        *record = NULL;
    }
    return hr;
}

/* The owner's answer: its record goes into the mirror, a final job leaves the table. Caller
 * holds job->op_lock. */
static void take_answer(struct ejob *job, enum share_op op, LONG serial,
                        const struct share_header *answer, const uint8_t *record)
{
    struct ejob *from;
    BOOL final = FALSE;

    AcquireSRWLockExclusive(&job->lock);
    /* The settings sent are the owner's now, unless a setter changed them meanwhile. */
    if (op == SHARE_SETTINGS && job->remote_serial == serial)
        job->remote_dirty = FALSE;
    if ((op == SHARE_CANCEL || op == SHARE_COMPLETE) && SUCCEEDED((HRESULT)answer->code))
    {
        job->state = op == SHARE_CANCEL ? BG_JOB_STATE_CANCELLED : BG_JOB_STATE_ACKNOWLEDGED;
        job->remote = FALSE;
        job->generation++;
        notify_modified(job);
        final = TRUE;
    }
    ReleaseSRWLockExclusive(&job->lock);
    if (final)
    {
        engine_forget_job(job);
        return;
    }
    if (answer->size && SUCCEEDED(store_decode(record, answer->size, TRUE, &from)))
    {
        AcquireSRWLockShared(&job->lock);
        BOOL dirty = job->remote_dirty;
        ReleaseSRWLockShared(&job->lock);
        store_merge(job, from, MERGE_STATUS | MERGE_CMDLINE | (dirty ? 0 : MERGE_SETTINGS));
        ejob_release(from);
        /* A look at the folder that read the record before this answer is not taken. */
        AcquireSRWLockExclusive(&job->lock);
        job->remote_serial++;
        ReleaseSRWLockExclusive(&job->lock);
    }
}

BOOL share_forward(struct ejob *job, enum share_op op, const struct share_args *args, HRESULT *hr)
{
    struct share_header request = {SHARE_MAGIC}, answer;
    uint8_t *data = NULL, *record = NULL;
    size_t size;
    DWORD pid;
    LONG serial;
    BOOL remote;

    if (!store_is_mirror(job))
        return FALSE;
    AcquireSRWLockExclusive(&job->op_lock);
    for (int attempt = 1;; attempt++)
    {
        AcquireSRWLockShared(&job->lock);
        remote = job->remote;
        pid = job->remote_pid;
        serial = job->remote_serial;
        ReleaseSRWLockShared(&job->lock);
        if (!remote)
        {
            ReleaseSRWLockExclusive(&job->op_lock);
            return FALSE;
        }
        if (FAILED(*hr = build_request(job, op, args, &data, &size)))
            break;
        request.code = op;
        request.id = job->id;
        request.index = args ? args->index : 0;
        request.size = (uint32_t)size;
        *hr = call(pid, &request, data, &answer, &record);
        free(data);
        data = NULL;
        if (SUCCEEDED(*hr) && answer.code != (uint32_t)SHARE_E_NOT_OWNER)
        {
            TRACE("job %s: operation %u done by process %04lx: %08x", debugstr_guid(&job->id), op,
                  pid, answer.code);
            take_answer(job, op, serial, &answer, record);
            *hr = (HRESULT)answer.code;
            if (op == SHARE_ADD_FILE && args && args->out_index)
                *args->out_index = answer.index;
            free(record);
            break;
        }
        free(record);
        record = NULL;
        if (SUCCEEDED(*hr))
            *hr = SHARE_E_NOT_OWNER;
        WARN("job %s: process %04lx does not answer (%08lx)", debugstr_guid(&job->id), pid, *hr);
        /* Gone: the job is this process's now, and the operation is done here. */
        if (store_take_over(job) == S_OK)
        {
            ReleaseSRWLockExclusive(&job->op_lock);
            return FALSE;
        }
        if (attempt >= SHARE_ATTEMPTS)
            break;
        Sleep(SHARE_RETRY_MS);
        /* Its record may name another owner by now. */
        store_reload_mirror(job);
    }
    ReleaseSRWLockExclusive(&job->op_lock);
    return TRUE;
}
