/* SPDX-License-Identifier: MIT */
/* Helpers shared by the CMocka tests: the DLL, scratch folders, the test web server, waiting. */
#ifndef OPENDO_TESTUTIL_H
#define OPENDO_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <cmocka.h>

#include "opendo.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Asserts an HRESULT with both values printed in hex on failure. */
#define assert_hr(expected, actual)                                                                \
    do                                                                                             \
    {                                                                                              \
        HRESULT expected_ = (expected), actual_ = (actual);                                        \
        if (expected_ != actual_)                                                                  \
            fail_msg("%s:%d: expected hr 0x%08lx, got 0x%08lx", __FILE__, __LINE__,                \
                     (unsigned long)expected_, (unsigned long)actual_);                            \
    } while (0)

/* opendo.dll from the test's working directory, loaded without the registry. */
HMODULE tu_dll(void);
/* A new manager through DllGetClassObject (BITS dialect). */
IBackgroundCopyManager *tu_manager(void);
/* CoInitializeEx(MTA) for the calling thread, as a CMocka group setup/teardown. */
int tu_com_setup(void **state);
int tu_com_teardown(void **state);

/* A fresh, empty scratch folder for the running test: <OPENDO_TEST_ROOT>\tmp\<name>. */
void tu_scratch(const char *name, WCHAR *dir, size_t size);
/* Deletes a folder tree. */
void tu_remove_tree(const WCHAR *dir);
/* Number of entries in dir matching the pattern (hidden files included). */
int tu_count(const WCHAR *dir, const WCHAR *pattern);
/* Waits until `dir` holds `expected` entries matching `pattern`; fails naming the count seen. */
void tu_wait_count(const WCHAR *dir, const WCHAR *pattern, int expected, DWORD timeout_ms);
/* Joins dir and name with a backslash. */
void tu_path(WCHAR *out, size_t size, const WCHAR *dir, const WCHAR *name);

/* A port the test nginx's fixture wrote (scripts/nginx.sh): "port", "https_port", "proxy_port",
 * "cache_port", "dead_port". */
int tu_nginx_port(const WCHAR *name);
/* http://127.0.0.1:<port>/<path> of the test nginx. */
void tu_url(WCHAR *out, size_t size, const WCHAR *path);
/* Path of a file the test nginx serves (to compare bytes). */
void tu_www(WCHAR *out, size_t size, const WCHAR *name);

/* TRUE if both files exist with identical bytes. */
BOOL tu_same_file(const WCHAR *a, const WCHAR *b);
BOOL tu_exists(const WCHAR *path);
/* Writes size bytes of a counting pattern to path. */
void tu_write_file(const WCHAR *path, size_t size);

/* Polls the job state every 10 ms until it is `state` or `timeout_ms` passes; fails the test
 * with both states named otherwise. */
void tu_wait_state(IBackgroundCopyJob *job, BG_JOB_STATE state, DWORD timeout_ms);
/* Creates a job with one file. */
IBackgroundCopyJob *tu_job_with_file(IBackgroundCopyManager *manager, const WCHAR *remote,
                                     const WCHAR *local);

/* ---- COM surface helpers (test_register .. test_error) ---- */

/* DllCanUnloadNow of the loaded opendo.dll: S_OK once no object and no server lock is left. */
HRESULT tu_can_unload_now(void);
/* The current reference count of a COM object (AddRef followed by Release). */
ULONG tu_refcount(void *iface);
/* Cancels the job (unless it is final already) and releases it; NULL is ignored. */
void tu_cancel_release(IBackgroundCopyJob *job);
/* File `index` of the job, through EnumFiles and Skip/Next; fails the test if it is missing. */
IBackgroundCopyFile *tu_job_file(IBackgroundCopyJob *job, ULONG index);
/* Asserts that a CoTaskMemAlloc'ed string equals `expected`, then frees it. */
#define assert_cotask_str(expected, actual)                                                        \
    tu_assert_cotask_str((expected), (actual), __FILE__, __LINE__)
void tu_assert_cotask_str(const WCHAR *expected, WCHAR *actual, const char *file, int line);

/* ---- transfer helpers (test_transfer, test_http, test_localfile) ---- */

/* Printable name of a job state. */
const char *tu_state_name(BG_JOB_STATE state);
/* The job's progress (asserts that GetProgress succeeds). */
BG_JOB_PROGRESS tu_progress(IBackgroundCopyJob *job);
/* Size of a file, or (UINT64)-1 if it does not exist. */
UINT64 tu_file_size(const WCHAR *path);
/* Polls until the job has transferred at least `bytes`; fails the test, naming the state and
 * the count, if the job stops transferring first or timeout_ms passes. */
void tu_wait_bytes(IBackgroundCopyJob *job, UINT64 bytes, DWORD timeout_ms);
/* Asserts the job's last error (GetError, then IBackgroundCopyError::GetError). */
void tu_assert_job_error(IBackgroundCopyJob *job, BG_ERROR_CONTEXT context, HRESULT code);
/* Writes size bytes of pseudo-random data that depend on seed (tu_write_file's bytes depend on
 * the position only, so two of its files agree wherever they overlap). */
void tu_write_seeded_file(const WCHAR *path, size_t size, unsigned int seed);
/* Sets the last write time of path to now plus `seconds`. */
void tu_date_file(const WCHAR *path, int seconds);
/* file:///Z:/dir/name for Z:\dir\name; every character outside A-Z a-z 0-9 - . _ ~ / : is
 * escaped as the %XX of its UTF-8 bytes. */
void tu_file_url(WCHAR *out, size_t size, const WCHAR *path);
/* tu_url(path) with a query string that no other call, test or earlier run uses, so that the
 * access log tells its requests apart. */
void tu_unique_url(WCHAR *out, size_t size, const WCHAR *path);
/* Number of GET requests for url (from tu_url or tu_unique_url) in the test nginx's access log
 * that were answered with `status`. nginx writes a line when a request ends. */
int tu_access_count(const WCHAR *url, int status);
/* tu_access_count once it reaches `expected`, or after 5 s: the line of a request that the
 * client dropped (a job that gave up on an answer) comes when nginx notices, which may be after
 * the client moved on. */
int tu_access_count_wait(const WCHAR *url, int status, int expected);
/* Body bytes the test nginx sent for url, over every request for it (its access log). */
UINT64 tu_access_bytes(const WCHAR *url);

/* An impersonation token made from the process's, with Administrators as a deny-only
 * group: for the checks that need an administrator. The caller closes it. */
HANDLE tu_token_without_admins(void);

/* Starts this program again as a helper: `"<exe>" helper <verb> "<a>" "<b>" "<c>"` (NULL
 * arguments as ""), with OPENDO_TEST_CHILD set so that it does not empty the store, in the same
 * store unless `state_dir` names another. Returns the process handle; fails the test if the
 * process cannot start. */
HANDLE tu_start_helper(const WCHAR *state_dir, const WCHAR *verb, const WCHAR *a, const WCHAR *b,
                       const WCHAR *c);
/* How many of the jobs are in state `wanted`. */
int tu_count_in_state(IBackgroundCopyJob **list, int count, BG_JOB_STATE wanted);

#endif
