/* SPDX-License-Identifier: MIT */
/* doadmin: the manager, finding a job by GUID or display name, names of states and priorities. */
#include <stdio.h>
#include <stdlib.h>
#include "doadmin.h"

/* Finds the manager: through the registry, or from opendo.dll next to this program. */
HRESULT create_manager(IBackgroundCopyManager **manager)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IClassFactory *factory;
    WCHAR path[MAX_PATH], *slash;
    HMODULE dll;
    HRESULT hr;

    hr = CoCreateInstance(&CLSID_OpenDOManager, NULL, CLSCTX_INPROC_SERVER,
                          &IID_IBackgroundCopyManager, (void **)manager);
    if (hr != REGDB_E_CLASSNOTREG)
        return hr;
    GetModuleFileNameW(NULL, path, ARRAYSIZE(path));
    if ((slash = wcsrchr(path, L'\\')))
        wcscpy(slash + 1, L"opendo.dll");
    if (!(dll = LoadLibraryW(path)))
        return hr;
    get_class_object = (void *)GetProcAddress(dll, "DllGetClassObject");
    if (!get_class_object)
        return hr;
    if (FAILED(hr = get_class_object(&CLSID_OpenDOManager, &IID_IClassFactory, (void **)&factory)))
        return hr;
    hr = IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager, (void **)manager);
    IClassFactory_Release(factory);
    return hr;
}

void free_jobs(IBackgroundCopyJob **jobs, ULONG count)
{
    for (ULONG i = 0; i < count; i++)
        IBackgroundCopyJob_Release(jobs[i]);
    free(jobs);
}

int list_jobs(struct cli *cli, BOOL all_users, IBackgroundCopyJob ***out_jobs, ULONG *out_count)
{
    IEnumBackgroundCopyJobs *jobs_enum;
    IBackgroundCopyJob **jobs = NULL;
    ULONG count = 0, fetched = 0;
    HRESULT hr;

    *out_jobs = NULL;
    *out_count = 0;
    if (FAILED(hr = IBackgroundCopyManager_EnumJobs(
                   cli->manager, all_users ? BG_JOB_ENUM_ALL_USERS : 0, &jobs_enum)))
        return fail_hr(cli, hr, L"cannot list the jobs");
    if (FAILED(hr = IEnumBackgroundCopyJobs_GetCount(jobs_enum, &count)))
        goto err;
    if (count && !(jobs = calloc(count, sizeof(*jobs))))
    {
        hr = E_OUTOFMEMORY;
        goto err;
    }
    if (count && FAILED(hr = IEnumBackgroundCopyJobs_Next(jobs_enum, count, jobs, &fetched)))
        goto err;
    IEnumBackgroundCopyJobs_Release(jobs_enum);
    *out_jobs = jobs;
    *out_count = fetched;
    return EXIT_OK;

err:
    free(jobs);
    IEnumBackgroundCopyJobs_Release(jobs_enum);
    return fail_hr(cli, hr, L"cannot list the jobs");
}

int find_job(struct cli *cli, const WCHAR *name_or_id, IBackgroundCopyJob **job)
{
    IBackgroundCopyJob **jobs, *found = NULL;
    ULONG count, matches = 0;
    GUID id;
    HRESULT hr;
    int status;

    *job = NULL;
    if (name_or_id[0] == L'{' && SUCCEEDED(IIDFromString(name_or_id, &id)))
    {
        if (FAILED(hr = IBackgroundCopyManager_GetJob(cli->manager, &id, job)))
            return fail_hr(cli, hr, L"no job %ls", name_or_id);
        return EXIT_OK;
    }
    if ((status = list_jobs(cli, FALSE, &jobs, &count)))
        return status;
    for (ULONG i = 0; i < count; i++)
    {
        WCHAR *name;

        if (FAILED(IBackgroundCopyJob_GetDisplayName(jobs[i], &name)))
            continue;
        if (!wcscmp(name, name_or_id) && !matches++)
        {
            found = jobs[i];
            IBackgroundCopyJob_AddRef(found);
        }
        CoTaskMemFree(name);
    }
    free_jobs(jobs, count);
    if (matches == 1)
    {
        *job = found;
        return EXIT_OK;
    }
    if (found)
        IBackgroundCopyJob_Release(found);
    if (matches)
        out_error(L"doadmin: %lu jobs are named '%ls': name the job by its GUID\n",
                  (unsigned long)matches, name_or_id);
    else
        out_error(L"doadmin: no job is named '%ls'\n", name_or_id);
    return EXIT_NOT_FOUND;
}

BOOL full_local_path(const WCHAR *arg, WCHAR *buf, DWORD size)
{
    DWORD length = GetFullPathNameW(arg, size, buf, NULL);

    if (!length || length >= size)
    {
        out_error(L"doadmin: bad local path '%ls'\n", arg);
        return FALSE;
    }
    return TRUE;
}

static const WCHAR *const state_names[] = {
    L"QUEUED",          L"CONNECTING",  L"TRANSFERRING", L"SUSPENDED", L"ERROR",
    L"TRANSIENT_ERROR", L"TRANSFERRED", L"ACKNOWLEDGED", L"CANCELLED",
};

const WCHAR *state_name(BG_JOB_STATE state)
{
    return (unsigned int)state < ARRAYSIZE(state_names) ? state_names[state] : L"UNKNOWN";
}

static const WCHAR *const priority_names[] = {L"FOREGROUND", L"HIGH", L"NORMAL", L"LOW"};

const WCHAR *priority_name(BG_JOB_PRIORITY priority)
{
    return (unsigned int)priority < ARRAYSIZE(priority_names) ? priority_names[priority]
                                                              : L"UNKNOWN";
}

BOOL parse_priority(const WCHAR *text, BG_JOB_PRIORITY *priority)
{
    for (unsigned int i = 0; i < ARRAYSIZE(priority_names); i++)
    {
        if (!_wcsicmp(text, priority_names[i]))
        {
            *priority = (BG_JOB_PRIORITY)i;
            return TRUE;
        }
    }
    return FALSE;
}

BOOL parse_ulong(const WCHAR *text, ULONG *value)
{
    unsigned long long parsed;
    WCHAR *end;

    if (!text[0] || text[0] == L'-' || text[0] == L'+' || iswspace(text[0]))
        return FALSE;
    parsed = wcstoull(text, &end, 0);
    if (*end || parsed > 0xFFFFFFFFull)
        return FALSE;
    *value = (ULONG)parsed;
    return TRUE;
}
