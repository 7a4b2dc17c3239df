/* SPDX-License-Identifier: MIT */
/* Declarations shared by the COM layer of opendo.dll: COM helpers, dialects, object constructors.
 */
#ifndef OPENDO_PRIVATE_H
#define OPENDO_PRIVATE_H

#include "base.h"

struct ejob;

/* ---- COM helpers (comutil.c) ---- */

/* Answers QueryInterface(IID_IMarshal) through a free-threaded marshaler created on first use
 * and stored in *ftm (released by ftm_release). */
HRESULT ftm_query(IUnknown *outer, IUnknown **ftm, REFIID riid, void **out);
void ftm_release(IUnknown **ftm);

/* ---- error descriptions (errordesc.c) ---- */

/* A CoTaskMemAlloc'ed description of code in langid (English when we have no such language):
 * our message table, HTTP statuses, then the system's messages.
 * HRESULT_FROM_WIN32(ERROR_MR_MID_NOT_FOUND) when nothing describes it. */
HRESULT errordesc_get(HRESULT code, DWORD langid, LPWSTR *out);
/* The same for an error context. E_INVALIDARG for an unknown context. */
HRESULT errordesc_context(BG_ERROR_CONTEXT context, DWORD langid, LPWSTR *out);

/* ---- dialects ---- */

/* Objects created through our own CLSID speak BITS; through CLSID_DeliveryOptimization, DO. */
enum dialect
{
    DIALECT_BITS,
    DIALECT_DO,
};

/* DO's no-progress timeout defaults (spec 10.4): an hour for foreground jobs, a day otherwise. */
static inline ULONG do_default_no_progress_timeout(BG_JOB_PRIORITY priority)
{
    return priority == BG_JOB_PRIORITY_FOREGROUND ? 3600 : 86400;
}

/* dialect.c: translates an engine (BITS) code into the dialect's code; success codes pass. */
HRESULT dialect_result(enum dialect dialect, HRESULT hr);

/* ---- COM objects ---- */

/* guids.c: the system's BITS classes (CLSID_BackgroundCopyManager and its versions). */
extern const CLSID CLSID_SystemBits, CLSID_SystemBits5_0, CLSID_SystemBits10_1,
    CLSID_SystemBits10_2, CLSID_SystemBits10_3;

/* register.c: registry helpers. */
HRESULT reg_set_value(HKEY root, const WCHAR *subkey, const WCHAR *name, const WCHAR *value);
/* Deletes subkey and everything under it; S_OK if it is not there. */
HRESULT reg_delete_tree(HKEY root, const WCHAR *subkey);
/* TRUE in a Wine prefix (ntdll says so). */
BOOL reg_on_wine(void);

/* proxy.c: the proxies and stubs of the IDL's interfaces. */
HRESULT proxy_get_class_object(REFCLSID clsid, REFIID riid, void **out);
/* TRUE while a proxy or stub made here lives. */
BOOL proxy_in_use(void);
/* Registers the proxies for the interfaces that have none (and, in a Wine prefix, for the two
 * enumerators that Wine's own proxies get wrong, keeping what they replace), and the proxy
 * class. */
HRESULT proxy_register(const WCHAR *module_path);
/* Removes the registrations that name our proxy class (putting back what they replaced), and
 * the class. */
HRESULT proxy_unregister(void);

/* surrogate.c: objects handed to clients (and server locks), counted apart from the module's
 * other references: the surrogate process ends when none is left and no job of its own is
 * transferring. object_lock/object_unlock also take and drop a module reference. */
void object_lock(void);
void object_unlock(void);
/* object_unlock that, for the last object clients held, writes what the jobs changed to the job
 * store first (store_flush). */
void object_unlock_flushing(void);
/* In a COM surrogate process (dllhost.exe), starts (once) the thread that ends the process by
 * the rule in surrogate.c; does nothing in any other process. */
void surrogate_watch(void);

/* factory.c */
HRESULT factory_get_class_object(REFCLSID clsid, REFIID riid, void **out);
/* manager.c: creates a manager object (the class factory's constructor). */
HRESULT manager_create(enum dialect dialect, REFIID riid, void **out);
/* job.c: wraps an engine job in a COM job object, AddRef'ed. */
HRESULT job_create(struct ejob *ejob, enum dialect dialect, IBackgroundCopyJob **out);
/* file.c: a COM file object for file `index` of the engine job (takes its own job reference),
 * answering in `dialect`. */
HRESULT file_create(struct ejob *ejob, ULONG index, enum dialect dialect,
                    IBackgroundCopyFile **out);
/* enum.c: enumerators over arrays of interface pointers; they AddRef each element. */
HRESULT enum_files_create(IBackgroundCopyFile **files, ULONG count, IEnumBackgroundCopyFiles **out);
HRESULT enum_jobs_create(IBackgroundCopyJob **jobs, ULONG count, IEnumBackgroundCopyJobs **out);
HRESULT enum_unknown_create(IUnknown **items, ULONG count, IEnumUnknown **out);
/* download.c: an IDODownload object for the engine job (a download: ejob->download.present),
 * taking its own job reference. */
HRESULT download_create(struct ejob *ejob, IDODownload **out);
/* download.c: IDOManager::CreateDownload and EnumDownloads, for the manager object. */
HRESULT download_new(IDODownload **out);
HRESULT download_enum(const DO_DOWNLOAD_ENUM_CATEGORY *category, IEnumUnknown **out);
/* agent.c: calls made in a client's apartment (see there). `run` runs in the apartment that
 * made the agent, with the agent's `context` and the caller's `work`; what it answers is what
 * agent_call answers. */
struct agent;
typedef HRESULT (*agent_run_fn)(void *context, void *work);
/* Makes an agent in the calling thread's apartment and registers it in the Global Interface
 * Table (*cookie; git_revoke it). `release` (or NULL) frees `context` when the agent goes, also
 * when this fails. */
HRESULT agent_create(agent_run_fn run, void (*release)(void *context), void *context,
                     struct agent **out, DWORD *cookie);
void *agent_context(const struct agent *agent);
void agent_addref(struct agent *agent);
/* Drops a reference (NULL: nothing). */
void agent_release(struct agent *agent);
/* Runs `work` in the agent's apartment (the multithreaded one: reached through `cookie`; a
 * single-threaded one: through its window); one call at a time per agent. The table's failure
 * or RPC_E_DISCONNECTED (a client apartment that is gone), or what `run` answered. */
HRESULT agent_call(struct agent *agent, DWORD cookie, void *work);
/* Does a call's answer say that the client (or its apartment) is gone? */
BOOL client_gone(HRESULT hr);
/* callback.c: SetNotifyInterface: registers `callback` (NULL clears) for the job's events, to be
 * called in the caller's apartment with job, file and error objects of `dialect`.
 * E_INVALIDARG if it is no IBackgroundCopyCallback. Returns BITS codes. */
HRESULT callback_register(struct ejob *ejob, IUnknown *callback, enum dialect dialect);
/* callback.c: GetNotifyInterface: the registered callback, usable in the caller's apartment
 * (AddRef'ed), or NULL. */
HRESULT callback_registered(struct ejob *ejob, IUnknown **out);
/* callback.c: hands the engine the table through which it delivers events (idempotent). */
void callback_init(void);
/* error.c: an error object that snapshots code and context; file_index is -1 for none. */
HRESULT error_create(struct ejob *ejob, enum dialect dialect, BG_ERROR_CONTEXT context,
                     HRESULT code, LONG file_index, IBackgroundCopyError **out);

#endif /* OPENDO_PRIVATE_H */
