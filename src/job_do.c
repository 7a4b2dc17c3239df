/* SPDX-License-Identifier: MIT */
/* The job's IDeliveryOptimizationJob and IDeliveryOptimizationJob2. */

/*
 * These DO-only interfaces answer in the job object's dialect like every other interface of
 * it: DO_E_* codes through CLSID_DeliveryOptimization, BG_E_* through OpenDO's own class (as
 * docs/architecture.md says of the BITS personality). DO codes without a BITS twin
 * (DO_E_FILE_DOWNLOADSINK_*, DO_E_DOWNLOAD_NO_URI) are the same in both.
 */

#include <stdio.h>
#include "job.h"

/* ---- IDeliveryOptimizationJob ---- */

static HRESULT WINAPI do_job_QueryInterface(IDeliveryOptimizationJob *iface, REFIID riid,
                                            void **out)
{
    struct job *job = impl_from_IDeliveryOptimizationJob(iface);
    return job_query(job, riid, out);
}

static ULONG WINAPI do_job_AddRef(IDeliveryOptimizationJob *iface)
{
    struct job *job = impl_from_IDeliveryOptimizationJob(iface);
    return job_addref(job);
}

static ULONG WINAPI do_job_Release(IDeliveryOptimizationJob *iface)
{
    struct job *job = impl_from_IDeliveryOptimizationJob(iface);
    return job_release(job);
}

static HRESULT WINAPI do_job_AddFileWithRanges(IDeliveryOptimizationJob *iface, LPCWSTR file_id,
                                               LPCWSTR remote, LPCWSTR local, DWORD count,
                                               BG_FILE_RANGE *ranges, UINT64 size)
{
    struct job *job = impl_from_IDeliveryOptimizationJob(iface);
    struct efile_spec spec = {remote, local, ranges, count, file_id, size};

    TRACE("%p %s %s %s %lu %p %I64u", iface, debugstr_w(file_id), debugstr_url(remote),
          debugstr_w(local), count, ranges, size);
    /* Unlike BITS' AddFileWithRanges, no ranges (count 0) means the whole file. The file id is
     * an [in] string like the names: it must be there, if empty. */
    if (!file_id || !remote || !local || !*local || (count && !ranges))
        return E_INVALIDARG;
    if (!count)
        spec.ranges = NULL;
    return result(job, ejob_add_file(job->ejob, &spec, NULL));
}

const IDeliveryOptimizationJobVtbl job_do_vtbl = {
    do_job_QueryInterface,
    do_job_AddRef,
    do_job_Release,
    do_job_AddFileWithRanges,
};

/* ---- IDeliveryOptimizationJob2 ---- */

static HRESULT WINAPI do_job2_QueryInterface(IDeliveryOptimizationJob2 *iface, REFIID riid,
                                             void **out)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);
    return job_query(job, riid, out);
}

static ULONG WINAPI do_job2_AddRef(IDeliveryOptimizationJob2 *iface)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);
    return job_addref(job);
}

static ULONG WINAPI do_job2_Release(IDeliveryOptimizationJob2 *iface)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);
    return job_release(job);
}

/* The interfaces of a file object that AddFile hands out. */
static BOOL file_iid(REFIID riid)
{
    return IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDeliveryOptimizationFile) ||
           IsEqualIID(riid, &IID_IDeliveryOptimizationFile2) ||
           IsEqualIID(riid, &IID_IBackgroundCopyFile) ||
           IsEqualIID(riid, &IID_IBackgroundCopyFile2) ||
           IsEqualIID(riid, &IID_IBackgroundCopyFile3) ||
           IsEqualIID(riid, &IID_IBackgroundCopyFile4) ||
           IsEqualIID(riid, &IID_IBackgroundCopyFile5);
}

static HRESULT WINAPI do_job2_AddFile(IDeliveryOptimizationJob2 *iface, LPCWSTR file_id,
                                      LPCWSTR remote, DWORD count, BG_FILE_RANGE *ranges,
                                      REFIID riid, void **out)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);
    struct efile_spec spec = {remote, NULL,    count ? ranges : NULL,
                              count,  file_id, DO_UNKNOWN_FILE_SIZE};
    IBackgroundCopyFile *file;
    ULONG index;
    HRESULT hr;

    TRACE("%p %s %s %lu %p %s %p", iface, debugstr_w(file_id), debugstr_url(remote), count, ranges,
          debugstr_guid(riid), out);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if (!file_id || !riid || (count && !ranges))
        return E_INVALIDARG;
    /* Refused before the file is added, so that a wrong riid adds nothing. */
    if (!file_iid(riid))
        return E_NOINTERFACE;
    /* No sink yet (DownloadSinkFilePath or DownloadSinkInterface come next); the URL may come
     * later too (SetRemoteName). Resume checks that both are there. */
    if (FAILED(hr = ejob_add_file(job->ejob, &spec, &index)))
        return result(job, hr);
    if (FAILED(hr = file_create(job->ejob, index, job->dialect, &file)))
        return hr;
    hr = IBackgroundCopyFile_QueryInterface(file, riid, out);
    IBackgroundCopyFile_Release(file);
    return hr;
}

/* DOJobPropertyId_ExtendedErrorInfo: the last error as a small JSON object, e.g.
 * {"hresult":"0x80190194","context":5,"httpStatus":404,"fileIndex":0}; all zero (fileIndex
 * -1) while the job has no error. */
static HRESULT extended_error(struct job *job, VARIANT *value)
{
    struct ejob *ejob = job->ejob;
    WCHAR text[160];
    HRESULT code = S_OK;
    BG_ERROR_CONTEXT context = BG_ERROR_CONTEXT_NONE;
    LONG index = -1;
    DWORD status = 0;

    AcquireSRWLockShared(&ejob->lock);
    if (ejob->error.present)
    {
        code = ejob->error.code;
        context = ejob->error.context;
        index = ejob->error.file_index;
        if (index >= 0 && (ULONG)index < ejob->file_count)
            status = ejob->files[index]->http_status;
    }
    ReleaseSRWLockShared(&ejob->lock);
    /* An HTTP error code names its status; otherwise the file's last response tells. */
    if ((code & 0xffff0000) == 0x80190000)
        status = code & 0xfff;
    swprintf(text, ARRAY_SIZE(text),
             L"{\"hresult\":\"0x%08lx\",\"context\":%d,\"httpStatus\":%lu,\"fileIndex\":%ld}",
             (unsigned long)result(job, code), context, status, index);
    if (!(V_BSTR(value) = SysAllocString(text)))
        return E_OUTOFMEMORY;
    V_VT(value) = VT_BSTR;
    return S_OK;
}

static HRESULT WINAPI do_job2_GetProperty(IDeliveryOptimizationJob2 *iface, DOJobPropertyId id,
                                          VARIANT *value)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);

    TRACE("%p %d %p", iface, id, value);
    if (id != DOJobPropertyId_ExtendedErrorInfo)
        return result(job, BG_E_UNKNOWN_PROPERTY_ID);
    if (!value)
        return E_INVALIDARG;
    VariantInit(value);
    return extended_error(job, value);
}

static HRESULT WINAPI do_job2_SetProperty(IDeliveryOptimizationJob2 *iface, DOJobPropertyId id,
                                          const VARIANT *value)
{
    struct job *job = impl_from_IDeliveryOptimizationJob2(iface);

    TRACE("%p %d %p", iface, id, value);
    /* The only job property is the extended error, which the engine writes. */
    if (id != DOJobPropertyId_ExtendedErrorInfo)
        return result(job, BG_E_UNKNOWN_PROPERTY_ID);
    return result(job, BG_E_READ_ONLY_PROPERTY);
}

const IDeliveryOptimizationJob2Vtbl job_do2_vtbl = {
    do_job2_QueryInterface, do_job2_AddRef,      do_job2_Release,
    do_job2_AddFile,        do_job2_GetProperty, do_job2_SetProperty,
};
