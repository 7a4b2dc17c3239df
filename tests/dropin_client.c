/* SPDX-License-Identifier: MIT */
/* A BITS client as BITS' own samples write it: CLSID_BackgroundCopyManager, CLSCTX_LOCAL_SERVER.
 * `dropin_client who` prints which server answered ("opendo" when the job answers OpenDO's
 * IDeliveryOptimizationJob, which Wine's BITS does not have, "other" otherwise);
 * `dropin_client download <url> <path>` downloads one file and completes the job.
 * Exit code 0 on success. Run by tests/test_dropin.sh in a prefix of its own. */
#include <stdio.h>
#include "opendo.h"

static const CLSID clsid_bits = {
    0x4991d34b, 0x80a1, 0x4291, {0x83, 0xb6, 0x33, 0x28, 0x36, 0x6b, 0x90, 0x97}};

static int fail(const char *what, HRESULT hr)
{
    printf("%s failed: 0x%08lx\n", what, (unsigned long)hr);
    return 1;
}

int wmain(int argc, WCHAR **argv)
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    BG_JOB_STATE state = BG_JOB_STATE_QUEUED;
    IUnknown *unknown;
    HRESULT hr;
    GUID id;

    if (argc < 2)
        return 2;
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr = CoCreateInstance(&clsid_bits, NULL, CLSCTX_LOCAL_SERVER,
                                     &IID_IBackgroundCopyManager, (void **)&manager)))
        return fail("CoCreateInstance", hr);
    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, L"drop-in", BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &job)))
        return fail("CreateJob", hr);
    if (!wcscmp(argv[1], L"who"))
    {
        hr = IBackgroundCopyJob_QueryInterface(job, &IID_IDeliveryOptimizationJob,
                                               (void **)&unknown);
        printf("%s\n", SUCCEEDED(hr) ? "opendo" : "other");
        if (SUCCEEDED(hr))
            IUnknown_Release(unknown);
        IBackgroundCopyJob_Cancel(job);
    }
    else if (!wcscmp(argv[1], L"download") && argc == 4)
    {
        if (FAILED(hr = IBackgroundCopyJob_AddFile(job, argv[2], argv[3])) ||
            FAILED(hr = IBackgroundCopyJob_Resume(job)))
            return fail("AddFile/Resume", hr);
        for (int i = 0;
             i < 3000 && state != BG_JOB_STATE_TRANSFERRED && state != BG_JOB_STATE_ERROR; i++)
        {
            Sleep(10);
            IBackgroundCopyJob_GetState(job, &state);
        }
        if (state != BG_JOB_STATE_TRANSFERRED)
            return fail("the transfer", (HRESULT)state);
        if (FAILED(hr = IBackgroundCopyJob_Complete(job)))
            return fail("Complete", hr);
        printf("downloaded\n");
    }
    else
        return 2;
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return 0;
}
