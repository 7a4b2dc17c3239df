/* SPDX-License-Identifier: MIT */
/* The job's IDeliveryOptimizationJob and IDeliveryOptimizationJob2. */
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
    FIXME("%p %s %s %s %lu %p: not implemented yet", iface, debugstr_w(file_id), debugstr_w(remote),
          debugstr_w(local), count, ranges);
    return E_NOTIMPL;
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

static HRESULT WINAPI do_job2_AddFile(IDeliveryOptimizationJob2 *iface, LPCWSTR file_id,
                                      LPCWSTR remote, DWORD count, BG_FILE_RANGE *ranges,
                                      REFIID riid, void **out)
{
    FIXME("%p %s %s %lu %p %s %p: not implemented yet", iface, debugstr_w(file_id),
          debugstr_w(remote), count, ranges, debugstr_guid(riid), out);
    return E_NOTIMPL;
}

static HRESULT WINAPI do_job2_GetProperty(IDeliveryOptimizationJob2 *iface, DOJobPropertyId id,
                                          VARIANT *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

static HRESULT WINAPI do_job2_SetProperty(IDeliveryOptimizationJob2 *iface, DOJobPropertyId id,
                                          const VARIANT *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

const IDeliveryOptimizationJob2Vtbl job_do2_vtbl = {
    do_job2_QueryInterface, do_job2_AddRef,      do_job2_Release,
    do_job2_AddFile,        do_job2_GetProperty, do_job2_SetProperty,
};
