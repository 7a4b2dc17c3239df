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
#define assert_hr(expected, actual) \
    do \
    { \
        HRESULT expected_ = (expected), actual_ = (actual); \
        if (expected_ != actual_) \
            fail_msg("%s:%d: expected hr 0x%08lx, got 0x%08lx", __FILE__, __LINE__, \
                     (unsigned long)expected_, (unsigned long)actual_); \
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
/* Joins dir and name with a backslash. */
void tu_path(WCHAR *out, size_t size, const WCHAR *dir, const WCHAR *name);

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

#endif
