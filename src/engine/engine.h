/* SPDX-License-Identifier: MIT */
/* The engine: job model, state machine, scheduler and transports. No COM objects live here. */
#ifndef OPENDO_ENGINE_H
#define OPENDO_ENGINE_H

#include <stdint.h>
#include "base.h"
#include <wincrypt.h>

/*
 * Lock order, outermost first (never take an outer lock while holding an inner one):
 *   ejob.op_lock  ->  ejob.lock  ->  engine queue lock, notifier queue lock
 * ejob.op_lock serialises the control operations that may do file I/O (AddFile, Suspend,
 * Resume, Cancel, Complete) without blocking readers; ejob.lock guards the fields and is held
 * only for a few instructions, never across I/O or calls into client code. The job table's
 * lock (jobs.c) is a leaf: taken under any of these, it is never held while taking another.
 */

/* Longest validator (ETag or Last-Modified) kept to check a resumed source, with its 0. */
#define VALIDATOR_SIZE 128

/* What tells one file from another on its volume: a temporary file is reopened, renamed and
 * deleted only while its name leads to the file the engine created. All zero: not known (the
 * file is then taken if it is a plain file with one link). */
struct file_identity
{
    DWORD volume; /* the volume's serial number, from records of older versions; now 0 */
    UINT64 index; /* the file's index on its volume */
};

/* Bytes [first, end) of a temporary file. */
struct file_extent
{
    UINT64 first;
    UINT64 end;
};

struct ejob_file
{
    WCHAR *remote;                   /* lock; NULL for a DO file added without a URL */
    WCHAR *local;                    /* lock, set once (NULL -> a path, never changed after): NULL
                                      * while a DO file has no sink or has a stream sink */
    WCHAR *temp;                     /* lock, set once with `local`: created in the destination
                                      * directory by AddFile or DownloadSinkFilePath */
    struct file_identity temp_id;    /* lock: the temporary file's identity, set with `temp` and
                                      * again when a worker creates the file anew (tempfile.c) */
    BG_FILE_PROGRESS progress;       /* lock; BytesTotal is BG_SIZE_UNKNOWN until the source says */
    BOOL temp_deleted;               /* lock: the temporary file was removed or renamed (TRUE while
                                      * there is none, as before its transfer made it) */
    UINT64 durable;                  /* lock: the bytes [0, durable) are on disk (flushed): what
                                      * the job's record holds and a restarted process continues
                                      * from, with `extents` */
    struct file_extent *extents;     /* lock: further parts of the file that are on disk, beyond
                                      * `durable` (a file fetched in segments), sorted, disjoint,
                                      * none touching another or the prefix; NULL when none */
    ULONG extent_count;              /* lock */
    BOOL finished;                   /* lock: the file is done: all its bytes are in and flushed,
                                      * the source's ACLs copied; set by the worker in the same
                                      * lock hold that counts it in FilesTransferred and queues
                                      * FileTransferred. Bytes all counted but not finished: the
                                      * next run finishes the file without fetching it again. */
    BOOL announced;                  /* lock: FileTransferred was queued for the file (files
                                      * fetched at once finish in any order; they are announced
                                      * in the order of the job's files, as BITS does) */
    WCHAR validator[VALIDATOR_SIZE]; /* lock: what identified the source of the bytes in the
                                      * temporary file (an ETag, a date), or empty */

    /* Byte ranges (AddFileWithRanges): the bytes of these ranges of the remote file, stored
     * back to back in the order given. */
    BG_FILE_RANGE *ranges; /* immutable; NULL: the whole file */
    ULONG range_count;     /* immutable */
    UINT64 remote_size;    /* lock: the remote file's size once a source told it, else
                            * BG_SIZE_UNKNOWN (BytesTotal is the ranges' sum) */
    /* A stream sink (DOFilePropertyId_DownloadSinkInterface): the bytes go to it in order
     * instead of a temporary file. The stream is kept in the Global Interface Table, registered
     * from the apartment of the thread that set it, so that each thread gets it in a form it
     * may call (a proxy to a single-threaded apartment); efile_free revokes it. */
    DWORD sink_cookie;    /* lock, set once: the stream's registration, or 0 for none */
    UINT64 sink_position; /* lock: bytes written to the sink so far */

    /* The DO interfaces' view of the file. */
    WCHAR *file_id;               /* immutable: DO fileId, NULL for files added through BITS */
    UINT64 size_hint;             /* lock: fileSize / TotalSizeBytes, or DO_UNKNOWN_FILE_SIZE */
    BOOL size_hint_set;           /* lock */
    WCHAR *decryption_info;       /* lock: DOFilePropertyId_DecryptionInfo, or NULL */
    WCHAR *integrity_info;        /* lock: DOFilePropertyId_IntegrityCheckInfo, or NULL */
    BOOL integrity_mandatory;     /* lock: DOFilePropertyId_IntegrityCheckMandatory */
    BOOL integrity_mandatory_set; /* lock */
    BOOL validation_state;        /* lock: IBackgroundCopyFile3::SetValidationState's last value */

    /* What the transfer saw, for GetStats, GetPeerDownloadStats and File5's properties. */
    WCHAR *response_headers; /* lock: raw headers of the latest HTTP response, or NULL */
    DWORD http_status;       /* lock: status of the latest HTTP response, or 0 */
    UINT64 bytes_downloaded; /* lock: bytes received from any source, restarts included */
    UINT64 bytes_from_http;  /* lock: the part of bytes_downloaded that came over HTTP */
    ULONG http_connections;  /* lock: HTTP connections opened for this file */
    ULONGLONG download_ms;   /* lock: time spent fetching this file */
    UINT64 bytes_from_cache; /* lock: the part of bytes_from_http that cache hosts served */
    ULONG cache_connections; /* lock: the part of http_connections made to cache hosts */

    /* Cache hosts (cachehost.c); not stored: a new process starts again with the first host. */
    ULONG cache_source;     /* lock: the cache host serving the file (an index into the
                             * policy's list), or past the list's end: the origin */
    ULONGLONG cache_failed; /* lock: tick at which the last cache host failed, or 0 */

    /* The notifier's queue of files waiting for FileTransferred (notify.c): linked through the
     * files, so that queueing one under the lock allocates nothing. */
    struct ejob_file *notify_next; /* lock */
    ULONG notify_index;            /* lock: the file's index, while queued */
    BOOL notify_queued;            /* lock */
};

/* The user a job belongs to, as read from the creator's (or new owner's) token. */
struct owner
{
    WCHAR *sid;            /* string form, e.g. S-1-5-21-... */
    ULONG integrity_level; /* SECURITY_MANDATORY_*_RID */
    BOOL elevated;
};

/* A job's notification registration and the events waiting for the notifier (notify.c). */
struct notify_state
{
    struct notify_sink *sink;     /* lock: the registered client (a reference), or NULL */
    WCHAR *program;               /* lock: SetNotifyCmdLine's program, or NULL */
    WCHAR *parameters;            /* lock: its parameters (the whole command line), or NULL */
    ULONG pending;                /* lock: NOTIFY_EVENT_* bits waiting for delivery */
    struct ejob_file *files;      /* lock: transferred files waiting for FileTransferred, oldest
                                   * first, linked through ejob_file.notify_next */
    struct ejob_file *files_tail; /* lock */
    ULONG file_count;             /* lock: files in that queue */
    ULONGLONG modification_due;   /* lock: tick before which no JobModification is delivered */
    ULONGLONG retry_due;          /* lock: tick before which a failed JobTransferred/JobError (or
                                   * its command line) is not tried again */
    ULONG attempts;               /* lock: failed deliveries of the current TRANSFERRED/ERROR */
    BOOL queued;                  /* notifier queue lock: the job is in the notifier's queue */
    ULONGLONG ready_at;           /* notifier queue lock: when the notifier should look at it */
    struct ejob *queue_next;      /* notifier queue lock */
};

/* BITS limits and sizes of the job options. */
#define EJOB_MAX_CREDENTIAL 300 /* characters of a user name or a password */
#define EJOB_CERT_HASH_SIZE 20  /* a SHA-1 thumbprint */
#define EJOB_AUTH_TARGETS 2     /* BG_AUTH_TARGET_SERVER (1) and _PROXY (2) */
#define EJOB_AUTH_SCHEMES 5     /* BG_AUTH_SCHEME_BASIC (1) to _PASSPORT (5) */
/* BITS' documented default of IBackgroundCopyJob4::SetMaximumDownloadTime: 90 days. */
#define EJOB_DEFAULT_MAX_DOWNLOAD_TIME 7776000
/* BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS default. */
#define EJOB_DEFAULT_NOTIFICATION_INTERVAL 500

/* One IBackgroundCopyJob2::SetCredentials pair. */
struct ejob_credential
{
    BOOL present;
    WCHAR *user;     /* NULL: the implicit (logged-on user's) credentials */
    WCHAR *password; /* never logged; zeroed before it is freed */
};

/* IBackgroundCopyJobHttpOptions::SetClientCertificateByID/ByName. */
struct ejob_client_cert
{
    BOOL present;
    BG_CERT_STORE_LOCATION location;
    WCHAR *store;                   /* system store name, e.g. MY */
    BOOL by_name;                   /* found again by subject at each fetch, else by hash */
    BYTE hash[EJOB_CERT_HASH_SIZE]; /* SHA-1 of the certificate */
    WCHAR *subject;                 /* ByName: as given; ByID: the certificate's simple name */
};

/* What the client set on the job beyond the basics: proxy, credentials, HTTP options, Job4
 * and Job5 properties. Lives in struct ejob under ejob.lock; a worker fetches with a copy
 * (ejob_options_copy) taken under the lock when the fetch starts. */
struct ejob_options
{
    BG_JOB_PROXY_USAGE proxy_usage;
    WCHAR *proxy_list;   /* OVERRIDE only, else NULL */
    WCHAR *proxy_bypass; /* OVERRIDE only, may be NULL */
    struct ejob_credential credentials[EJOB_AUTH_TARGETS][EJOB_AUTH_SCHEMES]; /* [target-1]
                                                                               * [scheme-1] */
    WCHAR *custom_headers; /* CRLF-terminated lines sent with every request, or NULL */
    ULONG security_flags;  /* BG_SSL_* | BG_HTTP_REDIRECT_POLICY_* */
    struct ejob_client_cert client_cert;
    ULONG max_download_time;  /* seconds of TRANSFERRING allowed since Resume; 0: no limit */
    DWORD cost_flags;         /* BITS_COST_STATE_* */
    GUID notification_clsid;  /* GUID_NULL: none */
    BOOL dynamic_content;     /* no resume: every fetch starts at byte 0 */
    BOOL high_performance;    /* may also run on the scheduler's extra workers */
    UINT64 max_download_size; /* bytes the job may download in all; 0: no limit */
    BG_AUTH_TARGET stored_credentials; /* 0 or BG_AUTH_TARGET_PROXY */
    DWORD notification_interval_ms;
    BOOL on_demand;
};

/* What proxy auto-detection (BG_JOB_PROXY_USAGE_AUTODETECT) found for a job, so that a job with
 * many files asks WPAD once and not once per file. One origin is kept: WPAD's answer may differ
 * between servers, and a job's files usually come from one. */
struct proxy_cache
{
    WCHAR *origin;     /* "scheme://host:port" the proxy was found for, or NULL: nothing cached */
    WCHAR *proxy;      /* "host:port", or "" when detection found none (a direct connection) */
    LONG found_serial; /* `serial` when they were found: they hold only while it is current */
    LONG serial;       /* bumped when the job's proxy settings change */
};

/* A copy of a job's BG_JOB_PROGRESS that readers take without the job's lock (a sequence lock):
 * GetProgress is polled, often by several threads, while a worker counts every buffer. The
 * writer, who holds job->lock exclusively, makes `seq` odd, copies, and makes it even again; a
 * reader copies between two equal even readings of `seq`. It has cache lines of its own, so that
 * the lock's traffic does not disturb the readers. */
struct progress_view
{
    char before[64];
    LONG seq;
    BG_JOB_PROGRESS value;
    char after[64];
};

/* What an IDODownload (the modern DO API, src/download.c) keeps beyond its job's one file: the
 * properties that have no BITS twin. A download is a job with `present` set; its file is added by
 * its first Start, so until then its URI and local path are kept here. Most of these are only
 * meaningful on Windows (cost policy, cellular, network token, security context): they are stored
 * and returned, and the transfer does not look at them. */
struct ejob_download
{
    BOOL present;                /* immutable once the job is made: the job is an IDODownload */
    ULONG set_mask;              /* lock: bit n: DODownloadProperty n was set (else E_NOT_SET) */
    WCHAR *uri;                  /* lock: DODownloadProperty_Uri */
    WCHAR *local_path;           /* lock: DODownloadProperty_LocalPath */
    WCHAR *content_id;           /* lock */
    WCHAR *correlation_vector;   /* lock */
    WCHAR *auth_headers;         /* lock: HttpCustomAuthHeaders */
    WCHAR *decryption_info;      /* lock */
    WCHAR *integrity_info;       /* lock */
    BYTE *security_context;      /* lock: a serialized CERT_CONTEXT, or NULL */
    ULONG security_context_size; /* lock */
    UINT64 total_size;           /* lock: TotalSizeBytes */
    ULONG cost_policy;           /* lock: a DODownloadCostPolicy */
    ULONG security_flags;        /* lock: WinHTTP SECURITY_FLAG_* as given */
    ULONG callback_percent;      /* lock: CallbackFreqPercent, 0: not by percent */
    ULONG callback_seconds;      /* lock: CallbackFreqSeconds */
    ULONG flags;                 /* lock: EJOB_DL_* */
    DWORD stream_cookie;         /* lock: the StreamInterface set before Start, in the Global
                                  * Interface Table (0: none); never stored in the record */
};
#define EJOB_DL_BLOCKING 0x1            /* BlockingMode */
#define EJOB_DL_NETWORK_TOKEN 0x2       /* NetworkToken */
#define EJOB_DL_INTEGRITY_MANDATORY 0x4 /* IntegrityCheckMandatory */
#define EJOB_DL_NO_CELLULAR 0x8         /* DisallowOnCellular */
#define EJOB_DL_REDIRECT_TO_HTTP 0x10   /* HttpAllowSecureToNonSecureRedirect */
#define EJOB_DL_NON_VOLATILE 0x20       /* NonVolatile */
/* Frees what `download` holds (revoking its stream) and zeroes it but for `present`. */
void ejob_download_clear(struct ejob_download *download);

struct ejob
{
    LONG refs;
    SRWLOCK op_lock;
    SRWLOCK lock;
    CONDITION_VARIABLE worker_idle; /* signalled (with lock) when worker_active drops */

    GUID id;                  /* immutable */
    BG_JOB_TYPE type;         /* immutable */
    struct owner owner;       /* lock (changed by TakeOwnership) */
    DWORD file_acl_flags;     /* lock: BG_COPY_FILE_* */
    DWORD peer_caching_flags; /* lock: BG_JOB_ENABLE_PEERCACHING_*, ..._BRANCH_CACHE */

    BG_JOB_STATE state;           /* lock */
    LONG generation;              /* lock: bumped by every control operation that stops work */
    BOOL worker_active;           /* lock: a worker is transferring this job (maybe one that a
                                   * control operation stopped and did not wait for) */
    BOOL rerun;                   /* lock: the job came up in the queue while a stopped worker
                                   * had not returned: that worker queues it again as it leaves */
    WCHAR *display_name;          /* lock */
    WCHAR *description;           /* lock */
    BG_JOB_PRIORITY priority;     /* lock */
    ULONG notify_flags;           /* lock */
    struct notify_state notify;   /* lock, except the fields marked otherwise */
    ULONG min_retry_delay;        /* lock; seconds */
    ULONG no_progress_timeout;    /* lock; seconds */
    BOOL no_progress_timeout_set; /* lock: set by the client, not a dialect's default */
    BG_JOB_PROGRESS progress;     /* lock: the exact sums, updated with every buffer */
    struct progress_view view;    /* `progress` for readers that take no lock (GetProgress) */
    ULONG unknown_sizes;          /* lock: files whose BytesTotal is not known yet */
    UINT64 known_bytes;           /* lock: sum of the known BytesTotal values */
    BG_JOB_TIMES times;           /* lock */
    ULONGLONG no_progress_since;  /* lock: where the no-progress window starts: the tick of the
                                   * last progress (a byte, a finished file), or when the first
                                   * worker after Resume began; 0 until then */
    ULONGLONG retry_at;           /* lock: in TRANSIENT_ERROR, the tick its retry is queued for */
    ULONGLONG failed_at;          /* lock: the tick of the transient failure that queued it (0
                                   * before any: a loaded job in TRANSIENT_ERROR is queued again
                                   * at once, store.c restart) */
    ULONGLONG retry_after_ms;     /* lock: what the source asked for (Retry-After), 0 for none */
    ULONG error_count;            /* lock */
    struct
    {
        BOOL present;
        HRESULT code;
        BG_ERROR_CONTEXT context;
        LONG file_index; /* -1 when the error is not tied to a file */
    } error;             /* lock */

    struct ejob_file **files; /* lock: the array may grow; entries never move or go */
    ULONG file_count;         /* lock */
    ULONG file_capacity;      /* lock */

    struct ejob_options options; /* lock */
    BOOL resumed;                /* lock: Resume has queued the job at least once */
    ULONGLONG transfer_ms;       /* lock: time spent TRANSFERRING since the last Resume,
                                  * not counting the running worker's stretch */
    ULONGLONG transfer_since;    /* lock: tick when the running worker's stretch began
                                  * (or Resume restarted the count), 0 without worker */

    /* lock: what AUTODETECT found (http.c); freed with the job. */
    struct proxy_cache detected_proxy;

    struct ejob_download download; /* lock, except `present` */

    /* The job store (store.c). */
    HANDLE store_lock;           /* lock: the job's lock (store.c), held while this process owns
                                  * the job; NULL when it is not stored (final, or no store) */
    BOOL store_dirty;            /* lock: the job is in the store's dirty list */
    struct ejob *store_next;     /* store's lock: the dirty list */
    ULONG retention_days;        /* lock: days without change before the job is dropped; 0: BITS'
                                  * 90 */
    ULONGLONG saved_progress_at; /* lock: when live progress last marked the record dirty */

    /* Sharing (store.c, share.c). A job that another live process owns is a mirror here: a
     * view loaded from its record and refreshed as the owner rewrites it. Its control
     * operations are forwarded to the owner; its setters change the mirror and are sent to
     * the owner by the store thread; it has no worker, command line or notification class of
     * its own, only the callbacks registered in this process. When the owner ends, the store
     * thread adopts it: it becomes an owned job like any other. */
    BOOL remote;           /* lock: a mirror of another process's job */
    DWORD remote_pid;      /* lock: the owner's process id, from its record (0: unknown) */
    UINT64 remote_started; /* lock: the owner's creation time, as a FILETIME value */
    BOOL remote_dirty;     /* lock: settings changed here are not with the owner yet */
    LONG remote_serial;    /* lock: bumped by every such change */
    FILETIME record_time;  /* store's scan lock: the record's write time when last read */
    UINT64 record_size;    /* store's scan lock: its size then */
};

/* ---- owners (engine/owner.c) ---- */

/* Reads the calling thread's user (its impersonation token, else the process's). The caller
 * frees the result with owner_clear. */
HRESULT owner_of_caller(struct owner *owner);
void owner_clear(struct owner *owner);
/* TRUE if the calling thread's token is a member of the Administrators group. */
BOOL owner_caller_is_admin(void);

/* ---- security information (engine/acl.c) ---- */

/* Copies what flags (BG_COPY_FILE_*) select of the source file's owner, group, DACL and SACL
 * to the destination file (by name: the transfer's handle has no WRITE_DAC access). Caller
 * holds no lock. */
HRESULT acl_copy(const WCHAR *source, const WCHAR *destination, DWORD flags);

/* ---- temporary files (engine/tempfile.c) ---- */

/* Chooses the name of the hidden temporary file for `local` in its folder (HeapAlloc'ed in
 * *temp), without making it: AddFile checks the destination, and the file is made when its
 * transfer starts (tempfile_make). E_INVALIDARG if that folder is no folder, `local` is an
 * existing folder or the temporary name would not fit in MAX_PATH, the Win32 error of a folder
 * that is not there (ERROR_PATH_NOT_FOUND), E_ACCESSDENIED if the folder's DACL does not let
 * the caller make files. `checked` (MAX_PATH characters, or NULL) is the folder a previous call
 * checked: the same folder is not checked again, and a new one is stored there. Caller holds no
 * lock. */
HRESULT tempfile_reserve(const WCHAR *local, WCHAR *checked, WCHAR **temp);
/* Makes the temporary file at *temp, exclusively (never over anything that exists at a name)
 * and private to the process's user and SYSTEM, opened for writing (sharing read and delete):
 * S_OK with the handle in *out and its identity. When something is at the name already, another
 * name in the same folder is taken, and *temp (freed and allocated again) says which.
 * E_ACCESSDENIED or the Win32 error. Called on the engine's own threads (which impersonate
 * nobody), holding no lock. */
HRESULT tempfile_make(WCHAR **temp, struct file_identity *id, HANDLE *out);
/* A file whose temporary file the record does not know (AddFile reserved the name) may have
 * one all the same: its transfer made it in a process that ended before the record learned it.
 * Deletes it if it is that (hidden, the caller's, one link): S_OK; S_FALSE if nothing or
 * something else is at the name. Caller holds no lock. */
HRESULT tempfile_clear_reserved(const WCHAR *temp);
/* Opens the temporary file for writing (sharing read and delete) if it is still the file `id`
 * names (or, `id` unknown, a plain file with one link: `id` learns it): S_OK.
 * HRESULT_FROM_WIN32(ERROR_FILE_EXISTS) if something else is at the name, which is left alone.
 * A name with nothing at it is made again as tempfile_make does: S_FALSE, and `id` is the
 * new file's. The caller closes *out. Called on the engine's own threads, holding no lock. */
HRESULT tempfile_open(const WCHAR *temp, struct file_identity *id, HANDLE *out);
/* Deletes the temporary file if its name leads to the file `id` names; the name goes when the
 * last handle to it closes. S_FALSE if there is nothing at the name, or something that is not
 * ours (left alone). Caller holds no lock. */
HRESULT tempfile_delete(const WCHAR *temp, const struct file_identity *id);
/* A folder's names as Complete last listed them, without regard to case (tempfile_commit):
 * zeroed to start, tempfile_names_clear after. Complete's renaming threads share one. */
struct folder_names
{
    SRWLOCK lock; /* over the rest: shared to look a name up, exclusive to list */
    WCHAR folder[MAX_PATH];
    WCHAR **names; /* heap, sorted without regard to case */
    ULONG count;
    BOOL listed;
};
void tempfile_names_clear(struct folder_names *names);
/* Complete's rename: the temporary file, if its name still leads to the file `id` names,
 * becomes `local` (replacing a file there) and is no longer hidden. Under Wine, `names` (or
 * NULL) lists `local`'s folder once for a job's files: a name that nothing there matches in
 * another case is renamed to exactly (see tempfile.c).
 * HRESULT_FROM_WIN32(ERROR_FILE_EXISTS) if something else is at the temporary name,
 * HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) if nothing is; the file stays hidden at its name
 * when the rename fails. Caller holds no lock. */
HRESULT tempfile_commit(const WCHAR *temp, const struct file_identity *id, const WCHAR *local,
                        struct folder_names *names);
/* What a folder gives its new files, as tempfile_inherit_acl last read it: kept by a fetching
 * thread for its next files in that folder (for up to two seconds). Zeroed to start. */
struct folder_acl
{
    WCHAR folder[MAX_PATH];
    ACL *dacl;           /* heap; NULL: nothing read */
    BOOL auto_inherited; /* the folder's DACL says SE_DACL_AUTO_INHERITED */
    ULONGLONG read_at;   /* GetTickCount64 */
};
/* Frees what the cache holds and zeroes it. */
void tempfile_acl_clear(struct folder_acl *cache);
/* All of the file's bytes are in: the DACL of `file` (the temporary file `temp`, open with
 * WRITE_DAC) becomes what its folder gives a new file: the folder's inheritable entries, marked
 * inherited, or the user's default DACL if there are none, as BITS delivers files. The folder
 * is read through `cache`. Caller holds no lock. */
HRESULT tempfile_inherit_acl(HANDLE file, const WCHAR *temp, struct folder_acl *cache);

/* ---- the job table (engine/jobs.c) ---- */

/*
 * The engine owns every job's life: the table holds one reference to each job that has not
 * reached a final state (and one module lock for each, so that the DLL stays loaded while a job
 * lives without any client pointer). Cancel and Complete take the job out. The table lock is
 * outermost (see the lock order above).
 */

/* Creates a SUSPENDED job with BITS defaults (a no-progress timeout of `no_progress_timeout`
 * seconds when not 0: a dialect's default) and puts it into the table; *out holds one
 * reference for the caller. */
HRESULT engine_create_job(const WCHAR *display_name, BG_JOB_TYPE type, ULONG no_progress_timeout,
                          struct ejob **out);
/* engine_create_job for an IDODownload: a job without a display name, marked as a download
 * (ejob.download.present) from the start, kept `retention_days` without change (0: BITS' 90). */
HRESULT engine_create_download(ULONG no_progress_timeout, ULONG retention_days, struct ejob **out);
/* The live (non-final) job with this id, with a reference for the caller, or NULL. Looks in
 * the store for a job that another process made. */
struct ejob *engine_find_job(const GUID *id);
/* engine_find_job with the reason: BG_E_NOT_FOUND, or E_ACCESSDENIED for another user's. */
HRESULT engine_get_job(const GUID *id, struct ejob **out);
/* A snapshot of the live jobs, in creation order: *jobs (HeapAlloc'ed, NULL when *count is 0)
 * holds a reference to each; the caller releases them and frees the array. */
HRESULT engine_enum_jobs(struct ejob ***jobs, ULONG *count);
/* Takes a job that became final out of the table (nothing if it is not there) and out of the
 * store. Caller holds no job lock (op_lock may be held). */
void engine_forget_job(struct ejob *job);
/* Opens the job store (once): loads the jobs it holds whose owner is gone and starts the
 * thread that writes changes and adopts the jobs of processes that end. The COM layer calls it
 * when it makes a manager; engine_create_job, engine_find_job and engine_enum_jobs too. Caller
 * holds no lock. */
void engine_init(void);
/* Puts a job loaded from the store into the table (store.c), taking a reference. */
HRESULT engine_adopt_job(struct ejob *job);
/* engine_find_job and engine_enum_jobs without opening the store: for the store itself. */
struct ejob *engine_find_loaded_job(const GUID *id);
HRESULT engine_snapshot_jobs(struct ejob ***jobs, ULONG *count);
/* TRUE while a job this process owns (not a mirror) is queued, transferring or waiting to retry:
 * work that goes on with no client attached. Caller holds no lock. */
BOOL engine_owns_active_jobs(void);

/* ---- the job store (engine/store.c) ---- */

/* Opens the store once (see engine_init). */
void store_init(void);
/* The store's folder, or NULL when the process has no store (it could not be opened). Constant
 * once store_init returned. */
const WCHAR *store_folder(void);
/* A new job: takes its lock file and writes its record. Caller holds no lock. */
HRESULT store_add_job(struct ejob *job);
/* The job changed: its record is written within a second. Caller holds job->lock
 * exclusively; takes only the store's innermost lock. */
void store_mark_dirty(struct ejob *job);
/* Writes every change not written yet, before it returns: a client that lets go of its last
 * object may be about to exit. Caller holds no lock. */
void store_flush(void);
/* The job became final: its record goes and its lock file is let go, before this returns.
 * Caller holds no job lock (op_lock may be held). */
void store_remove_job(struct ejob *job);

/* TRUE if the job is a mirror of another process's job. Takes job->lock. */
BOOL store_is_mirror(struct ejob *job);
/* Live progress changed: the record is written again at most every STORE_PROGRESS_MS, so that
 * other processes see progress at most a second old. Caller holds job->lock exclusively. */
void store_mark_progress(struct ejob *job);
/* Looks for records that appeared or changed since the last look (at most every 250 ms), as
 * the store thread does: EnumJobs and GetJob see what other processes did a moment ago.
 * Caller holds no lock. */
void store_refresh(void);
/* GetJob of a job this process does not know: loads its record if there is one (as a mirror
 * when its owner lives, else adopted). S_OK, BG_E_NOT_FOUND, or E_ACCESSDENIED for another
 * user's record. Caller holds no lock. */
HRESULT store_probe(const GUID *id);

/* What the sharing code needs of the store's records. */
/* The job's record (its live progress too); the caller frees *data with free(). Takes
 * job->lock shared. */
HRESULT store_encode(struct ejob *job, uint8_t **data, size_t *size);
/* A job from a record: seen by nobody, in no table. `mirror`: progress is the owner's live
 * count, else what was flushed. E_ACCESSDENIED for another user's record,
 * HRESULT_FROM_WIN32(ERROR_INVALID_DATA) for one that cannot be read. */
HRESULT store_decode(const uint8_t *data, size_t size, BOOL mirror, struct ejob **out);
/* A file from a record's file group (TAG_FILE), for a forwarded AddFile: NULL if it is no
 * group, or without memory. */
struct record_field;
struct ejob_file *store_decode_file(const struct record_field *group);
/* A string field's value (HeapAlloc'ed, freed with free_str), NULL without memory. */
WCHAR *store_get_str(const struct record_field *f);
#define MERGE_STATUS 0x1   /* state, times, error, progress and the files' transfer state */
#define MERGE_SETTINGS 0x2 /* what the client sets: names, priority, flags, options */
#define MERGE_CMDLINE 0x4  /* the notification command line */
/* Copies `what` of `from` (seen by nobody else; it receives the replaced values, freed with
 * it) into `job`, appending the files it has and `job` has not; a mirror's registered
 * callbacks get the events the changes mean. FALSE without memory for new files (nothing is
 * changed then). Takes job->lock exclusively. */
BOOL store_merge(struct ejob *job, struct ejob *from, ULONG what);
/* A mirror whose owner does not answer: adopts it if its lock can be taken (the owner is gone).
 * S_OK once the job is owned here, S_FALSE while another process still holds its lock, or the
 * failure. Caller holds job->op_lock exclusively. */
HRESULT store_take_over(struct ejob *job);
/* Reads a mirror's record again (the owner may have changed): S_OK, or BG_E_NOT_FOUND if the
 * record is gone. Caller holds no job lock. */
HRESULT store_reload_mirror(struct ejob *job);
/* Writes the job's record now (a change forwarded by another process, which reads it next).
 * Caller holds no lock. */
void store_save_now(struct ejob *job);

/* ---- sharing between the processes of the user (engine/share.c) ---- */

/*
 * Each process that opens the store answers on a named pipe of its own, private to the user,
 * for the jobs it owns: another process forwards its control operations there and gets the
 * result with the job's record as it is after the operation.
 */
enum share_op
{
    SHARE_RESUME = 1,
    SHARE_SUSPEND,
    SHARE_CANCEL,
    SHARE_COMPLETE,
    SHARE_ADD_FILES,      /* files[count]: AddFile, AddFileSet */
    SHARE_ADD_FILE,       /* spec: AddFileWithRanges, the DO AddFile; *out_index */
    SHARE_SET_REMOTE,     /* index, a: SetRemoteName */
    SHARE_REPLACE_PREFIX, /* a, b */
    SHARE_SET_LOCAL,      /* index, a: DownloadSinkFilePath */
    SHARE_INVALIDATE,     /* index: SetValidationState(FALSE) */
    SHARE_SET_CMDLINE,    /* a, b: SetNotifyCmdLine */
    SHARE_SETTINGS,       /* the mirror's settings, changed by setters here */
    SHARE_SNAPSHOT,       /* nothing: the answer brings the job as it is now */
};
struct share_args
{
    ULONG index;
    const WCHAR *a, *b;
    ULONG count;
    const BG_FILE_INFO *files;
    const struct efile_spec *spec;
    ULONG *out_index;
};
/* If the job is a mirror, sends the operation to its owner, puts the outcome in *hr and returns
 * TRUE; FALSE if the job is owned here (the caller does the operation itself). A mirror whose
 * owner is gone is adopted first (FALSE then). Caller holds no lock. */
BOOL share_forward(struct ejob *job, enum share_op op, const struct share_args *args, HRESULT *hr);
/* Starts answering other processes of the user, for the store at `dir`. Caller holds no lock. */
HRESULT share_start(const WCHAR *dir, const WCHAR *sid);
/* This process's identity in records: its id and creation time. */
void share_self(DWORD *pid, UINT64 *started);
/* TRUE while the process `pid`, created at `started`, runs. */
BOOL share_process_alive(DWORD pid, UINT64 started);

/* ---- job model (engine/engine.c) ---- */

/* Creates a SUSPENDED job with BITS defaults, outside the table (engine_create_job puts it
 * there); *out holds one reference. */
HRESULT ejob_create(const WCHAR *display_name, BG_JOB_TYPE type, struct ejob **out);
void ejob_addref(struct ejob *job);
void ejob_release(struct ejob *job);

/* TRUE for ACKNOWLEDGED and CANCELLED. Caller holds job->lock (shared is enough). */
static inline BOOL ejob_is_final(const struct ejob *job)
{
    return job->state == BG_JOB_STATE_ACKNOWLEDGED || job->state == BG_JOB_STATE_CANCELLED;
}

/* Sets ModificationTime to now, publishes the progress (ejob_publish_progress) and tells the
 * notifier (JobModification). Caller holds job->lock exclusively. */
void ejob_touch(struct ejob *job);
/* The job's files are all in: it enters TRANSFERRED now (TransferCompletionTime, and the
 * notifier's JobTransferred). Caller holds job->lock exclusively. */
void ejob_enter_transferred(struct ejob *job);
/* A job in TRANSIENT_ERROR: its queued retry moves to the failure plus the minimum retry delay
 * (or the source's Retry-After, if later), as it would have been queued under the delay now
 * set; then, if the retry no longer falls inside its no-progress window, the job enters ERROR
 * now, as it would have at the failure: its retry is dropped and the notifier's JobError is
 * due. Call after changing no_progress_timeout or min_retry_delay. A mirror of another process's
 * job is left to its owner. Caller holds job->lock exclusively. */
void ejob_check_retry_window(struct ejob *job);
/* Copies job->progress for lock-free readers: every change of job->progress is published
 * before the lock that made it is released. Caller holds job->lock exclusively. */
void ejob_publish_progress(struct ejob *job);
/* The job's progress, one consistent snapshot of the four fields, without the lock. */
void ejob_read_progress(struct ejob *job, BG_JOB_PROGRESS *progress);

/* Validates and appends files, all or nothing; creates each file's hidden temporary file in
 * its destination directory. Takes the job's locks itself. Returns BITS codes. */
HRESULT ejob_add_files(struct ejob *job, ULONG count, const BG_FILE_INFO *files);
/* What IBackgroundCopyJob3::AddFileWithRanges and the DO interfaces give for a new file. */
struct efile_spec
{
    const WCHAR *remote;         /* NULL only from IDeliveryOptimizationJob2::AddFile */
    const WCHAR *local;          /* NULL: no sink yet (IDeliveryOptimizationJob2::AddFile) */
    const BG_FILE_RANGE *ranges; /* NULL (with range_count 0): the whole file */
    ULONG range_count;
    const WCHAR *file_id; /* the DO fileId, or NULL */
    UINT64 size_hint;     /* the DO fileSize, or DO_UNKNOWN_FILE_SIZE */
};
/* Checks and appends one file: E_INVALIDARG (bad URL or path), BG_E_INVALID_RANGE,
 * BG_E_OVERLAPPING_RANGES (core/ranges.h), BG_E_INVALID_STATE (final job). Creates its
 * temporary file when it has a local name. *index (may be NULL) receives its index. Takes the
 * job's locks itself. Returns BITS codes. */
HRESULT ejob_add_file(struct ejob *job, const struct efile_spec *spec, ULONG *index);
/* The control operations of IBackgroundCopyJob, with BITS semantics and BITS codes. They take
 * the job's locks themselves. Suspend, Cancel and Complete stop the job's worker and wait for it
 * at most ENGINE_STOP_WAIT_MS: a worker stuck in a call that cannot be interrupted is left
 * behind; it never touches the job's state or counters again, and when it returns it deletes the
 * temporary file it was writing if the job became final meanwhile. So Cancel's S_OK means that
 * every temporary file is deleted or will be once that worker closes it (it is open with
 * FILE_SHARE_DELETE), and Complete keeps only the files finished before the call: the file a
 * stuck worker is on is never one of them, and is discarded (BG_S_PARTIAL_COMPLETE). */
#define ENGINE_STOP_WAIT_MS 1500
HRESULT ejob_resume(struct ejob *job);
HRESULT ejob_suspend(struct ejob *job);
HRESULT ejob_cancel(struct ejob *job);
HRESULT ejob_complete(struct ejob *job);

/* ---- single files: remote names, sinks, validation (engine/efile.c) ---- */

/* Frees a file record and everything it holds (not its temporary file), and revokes its stream
 * sink's registration (on any thread: one outside COM joins the multithreaded apartment for
 * that). NULL is ignored. Caller holds no lock. */
void efile_free(struct ejob_file *file);
/* Resume's check, with job->lock held: DO_E_DOWNLOAD_NO_URI if a file that still needs bytes
 * has no remote name, DO_E_FILE_DOWNLOADSINK_UNSPECIFIED if it has no sink (these have no BITS
 * twin and are returned as they are), else S_OK. */
HRESULT efile_check_ready(struct ejob *job);
/* IBackgroundCopyFile2::SetRemoteName: E_INVALIDARG for a bad or too long URL,
 * BG_E_INVALID_STATE for a final job. The next fetch of the file uses the new name and checks
 * that the bytes already fetched still match (as a resume does). Takes the job's lock. */
HRESULT efile_set_remote(struct ejob *job, ULONG index, const WCHAR *url);
/* IBackgroundCopyJob3::ReplaceRemotePrefix: replaces old_prefix (case-sensitive) at the start
 * of every file's remote name, all or nothing. S_FALSE if no name matched, E_INVALIDARG if a
 * result is not a valid URL, BG_E_INVALID_STATE for a final job. Takes the job's lock. */
HRESULT ejob_replace_remote_prefix(struct ejob *job, const WCHAR *old_prefix,
                                   const WCHAR *new_prefix);
/* DOFilePropertyId_DownloadSinkFilePath: gives a file without a sink its local name and
 * creates its temporary file; a file that has the same path already is left alone.
 * DO_E_FILE_DOWNLOADSINK_ALREADY_SET if it has a stream sink or another path,
 * E_INVALIDARG for a path that is not absolute, names a folder or is another file's local name,
 * BG_E_INVALID_STATE for a final job. Takes the job's locks itself. */
HRESULT efile_set_local(struct ejob *job, ULONG index, const WCHAR *path);
/* TRUE if `path` is the local name of a file of the job other than file `except` (ULONG_MAX
 * for none): the same name in any case, '/' and '\\' alike. Caller holds job->op_lock, under
 * which alone the file list and the local names change. */
BOOL efile_local_name_taken(const struct ejob *job, const WCHAR *path, ULONG except);
/* TRUE if two local names are the same name (case and separators aside). */
BOOL efile_same_local_name(const WCHAR *a, const WCHAR *b);
/* DOFilePropertyId_DownloadSinkInterface: the file's bytes go to `stream`, in order. The
 * stream is registered in the Global Interface Table from the calling thread, which must be in
 * an apartment (the stream's): CO_E_NOTINITIALIZED otherwise. Setting the same object again
 * changes nothing; DO_E_FILE_DOWNLOADSINK_ALREADY_SET if the file has a local name or another
 * stream, BG_E_INVALID_STATE for a final job. Takes the job's locks itself. */
HRESULT efile_set_sink(struct ejob *job, ULONG index, IStream *stream);
/* DOFilePropertyId_DownloadSinkInterface, read: the file's stream sink as the calling thread's
 * apartment may use it (the stream itself, or a proxy), AddRef'ed; S_FALSE and NULL if the file
 * has none. Takes the job's lock; calls COM without it. */
HRESULT efile_get_sink(struct ejob *job, ULONG index, IStream **out);
/* IBackgroundCopyFile3::SetValidationState(FALSE): the file's bytes were rejected: stops the
 * job, puts it in ERROR (BG_E_VALIDATION_FAILED) and sets the file back to zero bytes, so that
 * Resume fetches it again. E_PENDING if the file is not transferred yet, BG_E_INVALID_STATE for
 * a final job. Takes the job's locks itself. */
HRESULT efile_invalidate(struct ejob *job, ULONG index);

/* ---- job options (engine/engine.c) ---- */

/* Fills `options` with BITS' defaults (nothing to free yet). */
void ejob_options_init(struct ejob_options *options);
/* Frees what `options` holds, zeroing the passwords first, and leaves it initialised. */
void ejob_options_clear(struct ejob_options *options);
/* A worker's snapshot of `src` into `dst`, whose strings go into `block` (capacity characters,
 * owned by the caller), so that nothing is allocated under the lock: returns 0 once copied, or,
 * copying nothing, the characters `block` must hold. `dst` must not be cleared with
 * ejob_options_clear: the caller zeroes the block (it holds passwords). Caller holds the lock
 * that guards `src` (shared is enough). */
SIZE_T ejob_options_copy(struct ejob_options *dst, const struct ejob_options *src, WCHAR *block,
                         SIZE_T capacity);
/* Frees one credential, zeroing its password first. */
void ejob_credential_clear(struct ejob_credential *credential);

/* ---- fault injection (engine/engine.c) ---- */

/*
 * The tests reach error paths and races through named points in the engine. Point "X" reads
 * the environment variable OPENDO_FAULT_X each time it is passed (unset: nothing happens); a
 * point "X_Y" also answers to OPENDO_FAULT_X when OPENDO_FAULT_X_Y is unset, so that
 * OPENDO_FAULT_ALLOC arms every allocation point at once. Values:
 *   "fail:<hex HRESULT>[:<name>]"  the point returns that HRESULT, which the caller treats as
 *                         the failure of the step it guards, and signals the event <name>
 *                         (if given and created by the test) each time it does;
 *   "block:<name>"        the point signals the event "<name>.reached" and waits (at most
 *                         10 s) for the event "<name>.go", both created by the test.
 * Points:
 *   WRITE          transfer_write, before a buffer is stored: a failure is the write's
 *                  (fail:80070070 is ERROR_DISK_FULL);
 *   FINISH         all of a file's bytes are in, before its data is flushed;
 *   FLUSH          the FlushFileBuffers of a file's finishing step: a failure is the flush's;
 *   ACL            the copy of the source's security information;
 *   ALLOC_JOB      the job record (ejob_create);
 *   ALLOC_FILE     a new file's record (AddFile, AddFileSet, AddFileWithRanges, DO AddFile);
 *   ALLOC_FILES    the job's file array growing, after the new files' temporary files exist;
 *   ALLOC_QUEUE    a scheduler entry (Resume, a retry, a rerun);
 *   ALLOC_NOTIFY   the notifier's array of files due for FileTransferred;
 *   THREAD_WORKER  a worker thread's start;
 *   THREAD_NOTIFY  the notifier thread's start;
 *   TEMP_MADE      a temporary file was made or opened for a transfer, before the worker
 *                  looks at the job again (block: a Suspend or Cancel lands in between);
 *   TEMP_NAME      the random first number of temporary names: they count from
 *                  BIT00000000.tmp instead (so tests can plant files at them);
 *   STORE          reserved for the job store's record write.
 * An ALLOC_ point fails as if the allocation had returned NULL, a THREAD_ point as if
 * CreateThread had failed, whatever the HRESULT. Caller holds no lock.
 */
HRESULT engine_fault(const char *point);

/* ---- scheduler (engine/engine.c) ---- */

/* Queues the job for a worker after delay_ms; the queue holds its own reference. The entry is
 * dropped unless the job's generation still equals `generation` when it comes up. Allocates and
 * may start a thread: caller holds none of the job's locks (it takes job->lock briefly). */
void engine_submit(struct ejob *job, LONG generation, BG_JOB_PRIORITY priority, ULONGLONG delay_ms);

/* ---- transfer (engine/transfer.c) ---- */

/* Runs the job's transfer on the calling worker thread until it is done, fails or is stopped. */
void transfer_run(struct ejob *job, LONG generation);

/* What a transport works with: where the bytes go and how progress is counted. */
struct transfer_ctx
{
    struct ejob *job;
    ULONG index;                     /* file index within the job */
    LONG generation;                 /* the job's generation when the transfer started */
    HANDLE out;                      /* the temporary file (written at `position`) */
    UINT64 offset;                   /* bytes already in the temporary file when the fetch starts */
    UINT64 total;                    /* the file's size as known when the fetch starts, or
                                      * BG_SIZE_UNKNOWN */
    WCHAR validator[VALIDATOR_SIZE]; /* the file's validator when the fetch starts */
    BG_ERROR_CONTEXT context;        /* set by a transport with its failure */
    BOOL transient;                  /* set by a transport: the failure may go away by itself */
    ULONGLONG retry_after_ms;        /* set by a transport: the source asked not to be asked
                                      * again before this (Retry-After), or 0 */
    DWORD acl_flags;                 /* the job's BG_COPY_FILE_* flags when the fetch started */
    const BG_FILE_RANGE *ranges;     /* the file's ranges (immutable), NULL for the whole file */
    ULONG range_count;
    UINT64 remote_size;          /* the remote file's size as known when the fetch starts */
    DWORD sink_cookie;           /* the file's stream sink in the Global Interface Table, or 0:
                                  * the bytes go to `out` */
    IStream *sink;               /* that stream for the worker's apartment while fetch_file
                                  * runs (its reference), else NULL */
    BOOL http;                   /* the source is http(s): its bytes count as bytesFromHttp */
    BOOL from_cache_host;        /* set by cachehost.c while a cache host serves the fetch */
    struct ejob_options options; /* the job's options when the fetch started (a copy the
                                  * worker owns) */

    /* Segments: a large file is fetched over several connections at once, each fetch writing
     * its own part of the temporary file (transfer.c). */
    UINT64 end;          /* BG_SIZE_UNKNOWN: fetch to the end of the file (the first fetch of a
                          * file, and every fetch of a file that is not split). Otherwise this
                          * fetch is a segment: the transport asks for bytes [offset, end) with
                          * "Range: bytes=offset-(end-1)" (and If-Range with ctx->validator when
                          * there is one), accepts only a 206 that starts at `offset` of a file of
                          * ctx->total bytes, and answers BG_E_INSUFFICIENT_RANGE_SUPPORT,
                          * storing nothing, to a 200. */
    BOOL probe;          /* ask with HEAD: the headers only (size, validator, ranges), through
                          * redirects and authentication as a GET would; no body is read */
    BOOL accepts_ranges; /* set by the transport before transfer_set_size: the answer was a 206,
                          * or a 200 with "Accept-Ranges: bytes" (the file may be split) */
    struct fetch_cache *cache; /* the fetching thread's connections, kept from one fetch to the
                                * next (the transports' business), or NULL */

    /* transfer.c's own. */
    struct fetch_run *run;   /* the worker run this fetch belongs to */
    struct live_file *live;  /* the file's state in that run, NULL for a stream sink */
    struct segment *segment; /* the part of the file this fetch fills, or NULL (a file with
                              * ranges, a stream sink: written in order from `offset`) */
    UINT64 position;         /* where transfer_write stores the next byte */
};

/* What a fetching thread keeps between its fetches: an open session and connection per
 * transport, reused while the next file comes from the same place with the same options. Each
 * transport owns its member; fetch_cache_clear closes them all. */
struct fetch_cache
{
    void *winhttp; /* http.c */
    void *wininet; /* inet.c */
};
/* Closes what the cache holds and zeroes it (transport.c). Caller holds no lock. */
void fetch_cache_clear(struct fetch_cache *cache);

/* TRUE once a control operation stopped the job's transfer: the transport should give up with
 * E_ABORT. For transports that wait on something other than transfer_write. Takes job->lock. */
BOOL transfer_stopped(struct transfer_ctx *ctx);
/* What a waiting transport should do now: S_OK to go on, E_ABORT once the job was stopped, or
 * BG_E_MAXDOWNLOAD_TIMEOUT (with ctx->context set) once the job has spent its maximum download
 * time transferring. Takes job->lock. */
HRESULT transfer_check(struct transfer_ctx *ctx);
/* The tick at which the job's no-progress window closes: the last progress plus the job's
 * no-progress timeout, or (ULONGLONG)-1 for a timeout of 0 (transient errors are fatal then, but
 * no wait is cut short). A transport that waits for its source gives up with a transient error
 * at this tick; the job then goes to ERROR. Takes job->lock. */
ULONGLONG transfer_progress_deadline(struct transfer_ctx *ctx);
/* The source moved (a redirect the job reports): the file's remote name becomes `url`. */
HRESULT transfer_set_remote(struct transfer_ctx *ctx, const WCHAR *url);
/* The source told the file's total size. Returns E_ABORT if the job was stopped meanwhile,
 * BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED if the job's known bytes now exceed its maximum. */
HRESULT transfer_set_size(struct transfer_ctx *ctx, UINT64 total);
/* The source cannot continue at ctx->offset: truncates the temporary file and the counters, and
 * forgets the validator. */
HRESULT transfer_restart(struct transfer_ctx *ctx);
/* A file with ranges: the source told the remote file's size. BG_E_INVALID_RANGE (with
 * ctx->context) if a range does not fit in it; otherwise BytesTotal becomes the ranges' sum
 * (as transfer_set_size). Returns E_ABORT if the job was stopped meanwhile. */
HRESULT transfer_set_remote_size(struct transfer_ctx *ctx, UINT64 size);
/* Records an HTTP response of the file: its status and raw header block (HeapAlloc'ed; taken
 * over, even on failure; may be NULL). Takes job->lock. */
void transfer_set_response(struct transfer_ctx *ctx, WCHAR *headers, DWORD status);
/* Counts one more HTTP connection opened for the file. Takes job->lock. */
void transfer_count_connection(struct transfer_ctx *ctx);
/* Records what identifies the source whose bytes the temporary file holds from its start (an
 * ETag or a date; NULL or too long for none), so that a later resume can check that it is
 * unchanged. */
HRESULT transfer_set_validator(struct transfer_ctx *ctx, const WCHAR *validator);
/* Stores bytes at the fetch's position (ctx->offset plus what this fetch wrote) and counts
 * them. E_ABORT if the job was stopped, BG_E_MAXDOWNLOAD_TIMEOUT or
 * BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED when a job limit is hit. S_FALSE: the fetch's segment is
 * complete (another fetch took over the rest of it, so its end moved): bytes past the end were
 * not stored, and the transport stops reading and returns S_OK. */
HRESULT transfer_write(struct transfer_ctx *ctx, const void *data, DWORD size);

/* ---- notifications (engine/notify.c) ---- */

/*
 * One notifier thread delivers IBackgroundCopyCallback(2) calls and runs SetNotifyCmdLine
 * programs, outside every lock. The engine only marks events and queues the job: the hooks
 * below are called with job->lock held exclusively and take nothing but the notifier's queue
 * lock, which is innermost (nothing is taken while it is held).
 */

#define NOTIFY_EVENT_TRANSFERRED 0x1  /* JobTransferred / the command line */
#define NOTIFY_EVENT_ERROR 0x2        /* JobError / the command line */
#define NOTIFY_EVENT_MODIFICATION 0x4 /* JobModification */

/* Starts the notifier thread unless it runs; the thread's start failure otherwise. Every way
 * of registering for a job's events (notify_set_sink, notify_set_cmdline, NOTIFICATION_CLSID)
 * calls it first, with no lock held, and fails when it fails: the hooks below, which run under
 * the job's lock, only queue. The thread stays for as long as the process. */
HRESULT notify_start(void);
/* The job changed (progress, a file, a property, its state): queues a JobModification,
 * coalesced to one per minimum notification interval. Also queues the job when it became
 * final, so that the notifier lets go of its callback. Caller holds job->lock exclusively. */
void notify_modified(struct ejob *job);
/* The job has just entered TRANSFERRED or ERROR (job->state says which; TRANSIENT_ERROR is no
 * such event): queues JobTransferred / JobError or the command line, and drops a pending
 * JobModification, which BITS does not send for these transitions. Caller holds job->lock
 * exclusively. */
void notify_state_entered(struct ejob *job);
/* File `index` has all its bytes: queues FileTransferred. Caller holds job->lock exclusively. */
void notify_file_transferred(struct ejob *job, ULONG index);
/* Frees the job's notification state when its last reference goes, the sink's reference
 * included. Caller holds no lock. */
void notify_job_release(struct ejob *job);

/* The client that registered for a job's events (SetNotifyInterface), as the layer above made
 * it: the engine only counts references and hands it back to engine_events.deliver. The
 * layer above embeds it in its own record and frees that in `destroy`, which may run on any
 * thread, with no lock held. */
struct notify_sink
{
    LONG refs;
    void (*destroy)(struct notify_sink *sink);
};

static inline void notify_sink_addref(struct notify_sink *sink)
{
    InterlockedIncrement(&sink->refs);
}

static inline void notify_sink_release(struct notify_sink *sink)
{
    if (sink && !InterlockedDecrement(&sink->refs))
        sink->destroy(sink);
}

/* SetNotifyInterface: `sink` (NULL clears) becomes the job's registered client; the job takes
 * its own reference and drops the previous one. The last registration wins; registering on a
 * job that is TRANSFERRED or in ERROR delivers that event again. BG_E_INVALID_STATE if the job
 * is final. Caller holds no lock. */
HRESULT notify_set_sink(struct ejob *job, struct notify_sink *sink);
/* The registered client, with a reference for the caller, or NULL. Caller holds no lock. */
struct notify_sink *notify_get_sink(struct ejob *job);

/* What one delivery to a job's client carries, and what became of it. */
struct notify_delivery
{
    ULONG events;       /* NOTIFY_EVENT_* due now, already filtered by the job's flags */
    const ULONG *files; /* files whose FileTransferred is due, in order */
    ULONG file_count;   /* 0 unless BG_NOTIFY_FILE_TRANSFERRED is set */
    GUID clsid;         /* NOTIFICATION_CLSID, or GUID_NULL: used when there is no sink */
    HRESULT code;       /* the job's error, with ERROR */
    BG_ERROR_CONTEXT context;
    LONG file_index; /* -1 when the error is not tied to a file */
    /* Set by the deliverer. */
    ULONG delivered; /* TRANSFERRED/ERROR events a client took */
    ULONG failed;    /* TRANSFERRED/ERROR events whose client answered a failure */
    BOOL dropped;    /* the sink's client is gone for good: unregister it */
};

/* How events reach clients: the layer above (the COM layer) registers one table, before it
 * creates its first job. `deliver` runs on the notifier thread (in the multithreaded
 * apartment), with no lock held; `sink` is NULL when nobody is registered and only the
 * NOTIFICATION_CLSID may be tried. Without a table, events go to command lines only. */
struct engine_events
{
    void (*deliver)(struct ejob *job, struct notify_sink *sink, struct notify_delivery *delivery);
};
void engine_set_events(const struct engine_events *events);

/* SetNotifyCmdLine: both NULL (or an empty program) clears; BITS limits (MAX_PATH, 4,000
 * characters) give BG_E_STRING_TOO_LONG. Re-arms TRANSFERRED/ERROR like notify_set_sink.
 * Caller holds no lock. */
HRESULT notify_set_cmdline(struct ejob *job, const WCHAR *program, const WCHAR *parameters);
/* GetNotifyCmdLine: CoTaskMemAlloc'ed copies, "" when unset. Caller holds no lock. */
HRESULT notify_get_cmdline(struct ejob *job, WCHAR **program, WCHAR **parameters);
/* Starts program with parameters as its whole command line, without waiting for it. */
HRESULT notify_run_program(const WCHAR *program, const WCHAR *parameters);

/* ---- transports ---- */

/* transport.c: fetches an http(s) URL through the stack that carries the job's options best:
 * WinINet (inet.c) or WinHTTP (http.c). Same contract as each of them. */
HRESULT net_fetch(struct transfer_ctx *ctx, const WCHAR *url);
/* inet.c: GET over WinINet, same contract as http_fetch. */
HRESULT inet_fetch(struct transfer_ctx *ctx, const WCHAR *url);
/* http.c: GET over WinHTTP (http and https), resuming at ctx->offset with a Range request. */
HRESULT http_fetch(struct transfer_ctx *ctx, const WCHAR *url);
/* http.c: finds the client certificate `cert` designates (by hash, or by subject when
 * cert->by_name) in its system store. HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) when there is no
 * such store, CRYPT_E_NOT_FOUND when it holds no such certificate. The caller frees *out with
 * CertFreeCertificateContext. Takes no lock: `cert` is the caller's. */
HRESULT http_find_client_cert(const struct ejob_client_cert *cert, const CERT_CONTEXT **out);
/* http.c: forgets what proxy auto-detection found for the job, so that its next fetch detects
 * again; for SetProxySettings. Frees nothing (the next detection replaces the strings, the job's
 * release frees them). Caller holds job->lock exclusively. */
void http_forget_proxy(struct ejob *job);
/* cachehost.c: one fetch of an http(s) file through its cache hosts (DOCacheHost policy or
 * OPENDO_CACHE_HOST), then the origin after the fallback delay; `fetch` carries each request
 * (same contract as net_fetch). Without cache hosts, or for another scheme, fetch(ctx, url).
 * Takes job->lock. */
typedef HRESULT (*cachehost_fetch_fn)(struct transfer_ctx *ctx, const WCHAR *url);
HRESULT cachehost_fetch(struct transfer_ctx *ctx, const WCHAR *url, cachehost_fetch_fn fetch);
/* The longest list of cache hosts read, in characters with the 0. */
#define CACHEHOST_MAX_LIST 1024
/* cachehost.c: the cache host's URL for an http(s) `url`: host[:port] (host_len characters,
 * optionally "scheme://" first) in place of the origin, and "cacheHostOrigin=<origin's
 * host[:port]>" added to the query; FALSE for another scheme or when it does not fit `size` or
 * URL_MAX_LENGTH. */
BOOL cachehost_url(const WCHAR *url, const WCHAR *host, size_t host_len, WCHAR *out, size_t size);
/* cachehost.c: reads the policy again on the next fetch (it is otherwise kept for 2 s). */
void cachehost_reload(void);

/* bandwidth.c: the bandwidth policy (DOMax*DownloadBandwidth and the percentage forms, shared
 * by the processes of one store). bandwidth_take counts `bytes` that a fetch just stored against
 * its job's class (foreground or background) and, when the class is over its cap, sleeps until
 * it is not: S_OK, or what transfer_check answers once the job stops meanwhile. Only network
 * fetches (ctx->http) count. Caller holds no lock. */
HRESULT bandwidth_take(struct transfer_ctx *ctx, DWORD bytes);
/* bandwidth.c: `size`, or less while a cap applies to the fetch: what a transport asks for in
 * one read. Caller holds no lock. */
DWORD bandwidth_read_limit(struct transfer_ctx *ctx, DWORD size);
/* bandwidth.c: the cap (bytes per second) that holds the fetch's job now, 0 for none. Caller
 * holds no lock. */
UINT64 bandwidth_cap(struct transfer_ctx *ctx);
/* bandwidth.c: the connections a job under a cap may use at once (one per 8 MiB/s of its
 * class's cap, at least one), or 0 when no cap holds it. Caller holds no lock. */
ULONG bandwidth_connections(struct ejob *job);
/* bandwidth.c: reads the policy again on the next read (it is otherwise kept for 2 s). */
void bandwidth_reload(void);

/* cost.c: S_OK when the job's cost policy (BITS_JOB_PROPERTY_ID_COST_FLAGS, a download's
 * CostPolicy and DisallowOnCellular) allows a network fetch on the network the machine is on;
 * otherwise BG_E_BLOCKED_BY_COST_TRANSFER_POLICY, with ctx->context and ctx->transient set. Only
 * network fetches (ctx->http) are checked. Caller holds no lock. */
HRESULT cost_check(struct transfer_ctx *ctx);
/* cost.c: the receive speed of the fastest network interface that is up (loopback aside), in
 * bytes per second, or 0 when none reports one. A call into the system: caller holds no lock. */
UINT64 network_link_speed(void);
/* localfile.c: copy from a local or UNC path. */
HRESULT localfile_fetch(struct transfer_ctx *ctx, const WCHAR *path);

#endif /* OPENDO_ENGINE_H */
