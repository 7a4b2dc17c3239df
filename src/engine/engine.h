/* SPDX-License-Identifier: MIT */
/* The engine: job model, state machine, scheduler and transports. No COM objects live here. */
#ifndef OPENDO_ENGINE_H
#define OPENDO_ENGINE_H

#include "private.h"

/*
 * Lock order, outermost first (never take an outer lock while holding an inner one):
 *   manager job table  ->  ejob.op_lock  ->  ejob.lock  ->  engine queue lock
 * ejob.op_lock serialises the control operations that may do file I/O (AddFile, Suspend,
 * Resume, Cancel, Complete) without blocking readers; ejob.lock guards the fields and is held
 * only for a few instructions, never across I/O or calls into client code.
 */

struct ejob_file
{
    WCHAR *remote;              /* lock */
    WCHAR *local;               /* immutable */
    WCHAR *temp;                /* immutable: created in the destination directory by AddFile */
    BG_FILE_PROGRESS progress;  /* lock; BytesTotal is BG_SIZE_UNKNOWN until the source says */
    BOOL temp_deleted;          /* lock: the temporary file was removed or renamed */
};

struct ejob
{
    LONG refs;
    SRWLOCK op_lock;
    SRWLOCK lock;
    CONDITION_VARIABLE worker_idle;     /* signalled (with lock) when worker_active drops */

    GUID id;                            /* immutable */
    BG_JOB_TYPE type;                   /* immutable */

    BG_JOB_STATE state;                 /* lock */
    LONG generation;                    /* lock: bumped by every control operation that stops work */
    BOOL worker_active;                 /* lock: a worker is transferring this job */
    WCHAR *display_name;                /* lock */
    WCHAR *description;                 /* lock */
    BG_JOB_PRIORITY priority;           /* lock */
    ULONG notify_flags;                 /* lock */
    IUnknown *notify_iface;             /* lock; owned reference */
    ULONG min_retry_delay;              /* lock; seconds */
    ULONG no_progress_timeout;          /* lock; seconds */
    BG_JOB_PROGRESS progress;           /* lock: the exact sums, updated with every buffer */
    ULONG unknown_sizes;                /* lock: files whose BytesTotal is not known yet */
    UINT64 known_bytes;                 /* lock: sum of the known BytesTotal values */
    BG_JOB_TIMES times;                 /* lock */
    ULONGLONG transient_since;          /* lock: tick of the first transient error without progress */
    ULONG error_count;                  /* lock */
    struct
    {
        BOOL present;
        HRESULT code;
        BG_ERROR_CONTEXT context;
        LONG file_index;                /* -1 when the error is not tied to a file */
    } error;                            /* lock */

    struct ejob_file **files;           /* lock: the array may grow; entries never move or go */
    ULONG file_count;                   /* lock */
    ULONG file_capacity;                /* lock */
};

/* ---- job model (engine/engine.c) ---- */

/* Creates a SUSPENDED job with BITS defaults; *out holds one reference. */
HRESULT ejob_create(const WCHAR *display_name, BG_JOB_TYPE type, struct ejob **out);
void ejob_addref(struct ejob *job);
void ejob_release(struct ejob *job);

/* TRUE for ACKNOWLEDGED and CANCELLED. Caller holds job->lock (shared is enough). */
static inline BOOL ejob_is_final(const struct ejob *job)
{
    return job->state == BG_JOB_STATE_ACKNOWLEDGED || job->state == BG_JOB_STATE_CANCELLED;
}

/* Sets ModificationTime to now. Caller holds job->lock exclusively. */
void ejob_touch(struct ejob *job);

/* Validates and appends files, all or nothing; creates each file's hidden temporary file in
 * its destination directory. Takes the job's locks itself. Returns BITS codes. */
HRESULT ejob_add_files(struct ejob *job, ULONG count, const BG_FILE_INFO *files);
/* The control operations of IBackgroundCopyJob, with BITS semantics and BITS codes. They take
 * the job's locks themselves and wait for the job's worker to stop where they must. */
HRESULT ejob_resume(struct ejob *job);
HRESULT ejob_suspend(struct ejob *job);
HRESULT ejob_cancel(struct ejob *job);
HRESULT ejob_complete(struct ejob *job);

/* ---- scheduler (engine/engine.c) ---- */

/* Queues the job for a worker after delay_ms; the queue holds its own reference. The entry is
 * dropped unless the job's generation still equals `generation` when it comes up.
 * Caller may hold job->lock. */
void engine_submit(struct ejob *job, LONG generation, BG_JOB_PRIORITY priority, DWORD delay_ms);

/* ---- transfer (engine/transfer.c) ---- */

/* Runs the job's transfer on the calling worker thread until it is done, fails or is stopped. */
void transfer_run(struct ejob *job, LONG generation);

/* What a transport works with: where the bytes go and how progress is counted. */
struct transfer_ctx
{
    struct ejob *job;
    ULONG index;                /* file index within the job */
    LONG generation;            /* the job's generation when the transfer started */
    HANDLE out;                 /* the temporary file, positioned at `offset` */
    UINT64 offset;              /* bytes already in the temporary file when the fetch starts */
    BG_ERROR_CONTEXT context;   /* set by a transport with its failure */
    BOOL transient;             /* set by a transport: the failure may go away by itself */
};

/* The source told the file's total size. Returns E_ABORT if the job was stopped meanwhile. */
HRESULT transfer_set_size(struct transfer_ctx *ctx, UINT64 total);
/* The source cannot continue at ctx->offset: truncates the temporary file and the counters. */
HRESULT transfer_restart(struct transfer_ctx *ctx);
/* Appends bytes to the temporary file and counts them. E_ABORT if the job was stopped. */
HRESULT transfer_write(struct transfer_ctx *ctx, const void *data, DWORD size);

/* ---- transports ---- */

/* http.c: GET over WinHTTP (http and https), resuming at ctx->offset with a Range request. */
HRESULT http_fetch(struct transfer_ctx *ctx, const WCHAR *url);
/* localfile.c: copy from a local or UNC path. */
HRESULT localfile_fetch(struct transfer_ctx *ctx, const WCHAR *path);

#endif /* OPENDO_ENGINE_H */
