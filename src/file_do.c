/* SPDX-License-Identifier: MIT */
/* The file's IDeliveryOptimizationFile and IDeliveryOptimizationFile2. */
#include "file.h"

static HRESULT WINAPI do_file_QueryInterface(IDeliveryOptimizationFile *iface, REFIID riid,
                                             void **out)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_query(file, riid, out);
}

static ULONG WINAPI do_file_AddRef(IDeliveryOptimizationFile *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_addref(file);
}

static ULONG WINAPI do_file_Release(IDeliveryOptimizationFile *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile(iface);
    return file_release(file);
}

static HRESULT WINAPI do_file_GetStats(IDeliveryOptimizationFile *iface, DOSwarmStats *stats)
{
    FIXME("%p %p: not implemented yet", iface, stats);
    return E_NOTIMPL;
}

const IDeliveryOptimizationFileVtbl file_do_vtbl = {
    do_file_QueryInterface,
    do_file_AddRef,
    do_file_Release,
    do_file_GetStats,
};

static HRESULT WINAPI do_file2_QueryInterface(IDeliveryOptimizationFile2 *iface, REFIID riid,
                                              void **out)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_query(file, riid, out);
}

static ULONG WINAPI do_file2_AddRef(IDeliveryOptimizationFile2 *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_addref(file);
}

static ULONG WINAPI do_file2_Release(IDeliveryOptimizationFile2 *iface)
{
    struct file *file = impl_from_IDeliveryOptimizationFile2(iface);
    return file_release(file);
}

static HRESULT WINAPI do_file2_GetProperty(IDeliveryOptimizationFile2 *iface, DOFilePropertyId id,
                                           VARIANT *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

static HRESULT WINAPI do_file2_SetProperty(IDeliveryOptimizationFile2 *iface, DOFilePropertyId id,
                                           const VARIANT *value)
{
    FIXME("%p %d %p: not implemented yet", iface, id, value);
    return E_NOTIMPL;
}

const IDeliveryOptimizationFile2Vtbl file_do2_vtbl = {
    do_file2_QueryInterface, do_file2_AddRef,      do_file2_Release,
    do_file2_GetProperty,    do_file2_SetProperty,
};
