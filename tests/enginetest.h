/* SPDX-License-Identifier: MIT */
/* Helpers for the tests that drive the engine directly (opendo_test ... ENGINE): no DLL, no COM
 * objects, only struct ejob and the functions of src/engine/engine.h. */
#ifndef OPENDO_ENGINETEST_H
#define OPENDO_ENGINETEST_H

#include "testutil.h"
#include "engine/engine.h"

/* The job's state, read under its lock. */
BG_JOB_STATE et_state(struct ejob *job);
/* The job's progress, copied under its lock. */
BG_JOB_PROGRESS et_progress(struct ejob *job);
/* File `index`'s progress, copied under the job's lock. */
BG_FILE_PROGRESS et_file_progress(struct ejob *job, ULONG index);
/* Polls the job's state (under its lock) every 10 ms until it is `state`; fails the test,
 * naming both states and the job's error, once timeout_ms pass or the job reaches a state it
 * cannot leave by itself (ERROR, TRANSFERRED, SUSPENDED or a final one) other than `state`. */
void et_wait_state(struct ejob *job, BG_JOB_STATE state, DWORD timeout_ms);
/* Polls until no worker transfers the job; fails the test after timeout_ms. */
void et_wait_idle(struct ejob *job, DWORD timeout_ms);
/* A new job from engine_create_job, kept for et_cleanup (which cancels and releases it). */
struct ejob *et_job(void);
/* et_job with one file added by ejob_add_files (asserting S_OK). */
struct ejob *et_job_with_file(const WCHAR *remote, const WCHAR *local);
/* A temporary file for `local` as a transfer makes it: tempfile_reserve, then tempfile_make
 * (asserting S_OK); closed. *temp is HeapAlloc'ed. */
void et_make_temp(const WCHAR *local, WCHAR **temp, struct file_identity *id);
/* Cancels (unless final) and releases every job et_job made; for a test's teardown. */
int et_cleanup(void **state);

#endif
