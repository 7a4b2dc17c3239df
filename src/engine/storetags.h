/* SPDX-License-Identifier: MIT */
/* The tags of a job record's fields (store.c), shared with the tests that read records. */
#ifndef OPENDO_STORETAGS_H
#define OPENDO_STORETAGS_H

/* Record tags. Job fields are at the top level; each file is a group of file fields. New tags
 * may be added; a reader skips the ones it does not know. The numbers are part of the format
 * on disk: never renumber. */
enum
{
    TAG_ID = 1,
    TAG_TYPE,
    TAG_OWNER_SID,
    TAG_STATE,
    TAG_DISPLAY_NAME,
    TAG_DESCRIPTION,
    TAG_PRIORITY,
    TAG_NOTIFY_FLAGS,
    TAG_NOTIFY_PROGRAM,
    TAG_NOTIFY_PARAMETERS,
    TAG_MIN_RETRY_DELAY,
    TAG_NO_PROGRESS_TIMEOUT,
    TAG_NO_PROGRESS_TIMEOUT_SET,
    TAG_CREATION_TIME,
    TAG_MODIFICATION_TIME,
    TAG_COMPLETION_TIME,
    TAG_ERROR_COUNT,
    TAG_ERROR_CODE,
    TAG_ERROR_CONTEXT,
    TAG_ERROR_FILE,
    TAG_ACL_FLAGS,
    TAG_PEER_FLAGS,
    TAG_RESUMED,
    TAG_RETENTION_DAYS,
    TAG_PROXY_USAGE,
    TAG_PROXY_LIST,
    TAG_PROXY_BYPASS,
    TAG_CUSTOM_HEADERS,
    TAG_SECURITY_FLAGS,
    TAG_MAX_DOWNLOAD_TIME,
    TAG_COST_FLAGS,
    TAG_NOTIFICATION_CLSID,
    TAG_DYNAMIC_CONTENT,
    TAG_HIGH_PERFORMANCE,
    TAG_MAX_DOWNLOAD_SIZE,
    TAG_STORED_CREDENTIALS,
    TAG_NOTIFICATION_INTERVAL,
    TAG_ON_DEMAND,
    TAG_CERT_LOCATION,
    TAG_CERT_STORE,
    TAG_CERT_BY_NAME,
    TAG_CERT_HASH,
    TAG_CERT_SUBJECT,
    TAG_CREDENTIAL,    /* group: target, scheme, user, protected password */
    TAG_FILE,          /* group */
    TAG_OWNER_PID,     /* the owning process's id */
    TAG_OWNER_STARTED, /* u64: its creation time (a FILETIME value) */
    TAG_DOWNLOAD,      /* u32: the job is an IDODownload; the TAG_DL_ fields follow */
    TAG_DL_SET_MASK,
    TAG_DL_URI,
    TAG_DL_LOCAL_PATH,
    TAG_DL_CONTENT_ID,
    TAG_DL_CORRELATION_VECTOR,
    TAG_DL_AUTH_HEADERS,
    TAG_DL_DECRYPTION_INFO,
    TAG_DL_INTEGRITY_INFO,
    TAG_DL_SECURITY_CONTEXT, /* bytes */
    TAG_DL_TOTAL_SIZE,       /* u64 */
    TAG_DL_COST_POLICY,
    TAG_DL_SECURITY_FLAGS,
    TAG_DL_CALLBACK_PERCENT,
    TAG_DL_CALLBACK_SECONDS,
    TAG_DL_FLAGS,

    TAG_CRED_TARGET = 100,
    TAG_CRED_SCHEME,
    TAG_CRED_USER,
    TAG_CRED_PASSWORD, /* CryptProtectData'ed, bound to the user */

    TAG_FILE_REMOTE = 200,
    TAG_FILE_LOCAL,
    TAG_FILE_TEMP,
    TAG_FILE_TOTAL,
    TAG_FILE_DURABLE,
    TAG_FILE_FINISHED,
    TAG_FILE_COMPLETED,
    TAG_FILE_TEMP_DELETED,
    TAG_FILE_VALIDATOR,
    TAG_FILE_RANGE, /* bytes: offset and length, 16 bytes */
    TAG_FILE_REMOTE_SIZE,
    TAG_FILE_ID,
    TAG_FILE_SIZE_HINT,
    TAG_FILE_SIZE_HINT_SET,
    TAG_FILE_DECRYPTION_INFO,
    TAG_FILE_INTEGRITY_INFO,
    TAG_FILE_INTEGRITY_MANDATORY,
    TAG_FILE_INTEGRITY_MANDATORY_SET,
    TAG_FILE_VALIDATION_STATE,
    TAG_FILE_HTTP_STATUS,
    TAG_FILE_BYTES_DOWNLOADED,
    TAG_FILE_BYTES_FROM_HTTP,
    TAG_FILE_HTTP_CONNECTIONS,
    TAG_FILE_DOWNLOAD_MS,
    TAG_FILE_TEMP_ID, /* bytes: struct file_identity of the temporary file */
    TAG_FILE_LIVE,    /* u64: bytes counted, flushed or not (for other processes' views) */
    TAG_FILE_EXTENT,  /* bytes: a part on disk beyond TAG_FILE_DURABLE's prefix (first and end,
                       * 16 bytes), in order; readers that skip it keep only the prefix */
    TAG_FILE_BYTES_FROM_CACHE,
    TAG_FILE_CACHE_CONNECTIONS,

    /* Fields of a request between processes (share.c), not of a stored record. */
    TAG_REQ_A = 300,
    TAG_REQ_B,
};

#endif /* OPENDO_STORETAGS_H */
