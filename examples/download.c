/* SPDX-License-Identifier: MIT */
/* The smallest complete OpenDO client in C: one file, with progress, every HRESULT checked. */

/*
 *   download.exe <url> <absolute local path>
 *
 * Build (as examples/CMakeLists.txt does): include/ and the generated headers on the include
 * path, link libopendo_uuid.a (the IIDs and CLSIDs) and ole32. The DLL must be registered
 * (`regsvr32 opendo.dll`); CoCreateInstance finds it through the registry.
 */

/* The C macros for the methods, IBackgroundCopyJob_AddFile(job, ...) and the like. */
#ifndef COBJMACROS
#define COBJMACROS
#endif

#include <stdio.h>

#include "opendo.h"

/* Prints what failed with its code and the text the manager has for it, and passes hr on. */
static HRESULT report(IBackgroundCopyManager *manager, const char *what, HRESULT hr)
{
    WCHAR *text = NULL;

    if (SUCCEEDED(hr))
        return hr;
    if (manager && SUCCEEDED(IBackgroundCopyManager_GetErrorDescription(
                       manager, hr, GetUserDefaultUILanguage(), &text)))
    {
        fprintf(stderr, "%s failed: 0x%08lx %ls\n", what, (unsigned long)hr, text);
        CoTaskMemFree(text);
    }
    else
    {
        fprintf(stderr, "%s failed: 0x%08lx\n", what, (unsigned long)hr);
    }
    return hr;
}

/* Polls the job until it is transferred or has failed, printing its progress. */
static HRESULT wait_for_job(IBackgroundCopyManager *manager, IBackgroundCopyJob *job)
{
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;
    HRESULT hr;

    for (;;)
    {
        if (FAILED(hr = IBackgroundCopyJob_GetState(job, &state)))
            return report(manager, "GetState", hr);
        if (FAILED(hr = IBackgroundCopyJob_GetProgress(job, &progress)))
            return report(manager, "GetProgress", hr);
        /* BytesTotal is BG_SIZE_UNKNOWN until the server has told the size. */
        if (progress.BytesTotal != BG_SIZE_UNKNOWN)
            printf("%llu of %llu bytes\n", (unsigned long long)progress.BytesTransferred,
                   (unsigned long long)progress.BytesTotal);
        if (state == BG_JOB_STATE_TRANSFERRED)
            return S_OK;
        if (state == BG_JOB_STATE_ERROR)
        {
            IBackgroundCopyError *error;
            BG_ERROR_CONTEXT context;
            HRESULT code;

            if (FAILED(hr = IBackgroundCopyJob_GetError(job, &error)))
                return report(manager, "GetError", hr);
            hr = IBackgroundCopyError_GetError(error, &context, &code);
            IBackgroundCopyError_Release(error);
            if (FAILED(hr))
                return report(manager, "IBackgroundCopyError::GetError", hr);
            return report(manager, "the transfer", code);
        }
        Sleep(100);
    }
}

int wmain(int argc, WCHAR **argv)
{
    IBackgroundCopyManager *manager = NULL;
    IBackgroundCopyJob *job = NULL;
    BG_JOB_PROGRESS progress;
    GUID id;
    HRESULT hr;

    if (argc != 3)
    {
        fprintf(stderr, "usage: download <url> <absolute local path>\n");
        return 2;
    }
    if (FAILED(hr = CoInitializeEx(NULL, COINIT_MULTITHREADED)))
    {
        report(NULL, "CoInitializeEx", hr);
        return 1;
    }

    if (FAILED(hr = CoCreateInstance(&CLSID_OpenDOManager, NULL, CLSCTX_INPROC_SERVER,
                                     &IID_IBackgroundCopyManager, (void **)&manager)))
    {
        report(NULL, "CoCreateInstance (is opendo.dll registered?)", hr);
        goto out_uninit;
    }
    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, L"OpenDO C example",
                                                     BG_JOB_TYPE_DOWNLOAD, &id, &job)))
    {
        report(manager, "CreateJob", hr);
        goto out_release_manager;
    }
    if (FAILED(hr = IBackgroundCopyJob_AddFile(job, argv[1], argv[2])))
    {
        report(manager, "AddFile", hr);
        goto out_cancel;
    }
    if (FAILED(hr = IBackgroundCopyJob_Resume(job)))
    {
        report(manager, "Resume", hr);
        goto out_cancel;
    }
    if (FAILED(hr = wait_for_job(manager, job)))
        goto out_cancel;
    if (FAILED(hr = IBackgroundCopyJob_GetProgress(job, &progress)))
    {
        report(manager, "GetProgress", hr);
        goto out_cancel;
    }
    /* The file appears at its local name only now, renamed from its temporary name. */
    if (FAILED(hr = IBackgroundCopyJob_Complete(job)))
    {
        report(manager, "Complete", hr);
        goto out_cancel;
    }
    printf("done: %llu bytes in %ls\n", (unsigned long long)progress.BytesTransferred, argv[2]);
    goto out_release_job;

out_cancel:
    /* Nothing is left behind: Cancel deletes the temporary files. */
    IBackgroundCopyJob_Cancel(job);
out_release_job:
    IBackgroundCopyJob_Release(job);
out_release_manager:
    IBackgroundCopyManager_Release(manager);
out_uninit:
    CoUninitialize();
    return FAILED(hr) ? 1 : 0;
}
