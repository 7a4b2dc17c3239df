/* SPDX-License-Identifier: MIT */
/* The class factories: one static object per class of the table below. */
#include "private.h"

struct class_factory
{
    IClassFactory IClassFactory_iface;
    const CLSID *clsid;
    HRESULT (*create)(enum dialect dialect, REFIID riid, void **out);
    enum dialect dialect;
};

static inline struct class_factory *impl_from_IClassFactory(IClassFactory *iface)
{
    return CONTAINING_RECORD(iface, struct class_factory, IClassFactory_iface);
}

static HRESULT WINAPI factory_QueryInterface(IClassFactory *iface, REFIID riid, void **out)
{
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory))
    {
        *out = iface;
        IClassFactory_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

/* The factories are static: their references keep the module, not the object, alive. */
static ULONG WINAPI factory_AddRef(IClassFactory *iface)
{
    module_lock();
    return 2;
}

static ULONG WINAPI factory_Release(IClassFactory *iface)
{
    module_unlock();
    return 1;
}

static HRESULT WINAPI factory_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid,
                                             void **out)
{
    struct class_factory *factory = impl_from_IClassFactory(iface);

    TRACE("%p %s %p", outer, debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    *out = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    return factory->create(factory->dialect, riid, out);
}

static HRESULT WINAPI factory_LockServer(IClassFactory *iface, BOOL lock)
{
    if (lock)
        object_lock();
    else
        object_unlock();
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    factory_QueryInterface, factory_AddRef,     factory_Release,
    factory_CreateInstance, factory_LockServer,
};

static struct class_factory factories[] = {
    {{&factory_vtbl}, &CLSID_OpenDOManager, manager_create, DIALECT_BITS},
    {{&factory_vtbl}, &CLSID_DeliveryOptimization, manager_create, DIALECT_DO},
    /* Served only where `regsvr32 /n /i:bits` pointed the system's BITS classes at us. */
    {{&factory_vtbl}, &CLSID_SystemBits, manager_create, DIALECT_BITS},
    {{&factory_vtbl}, &CLSID_SystemBits5_0, manager_create, DIALECT_BITS},
    {{&factory_vtbl}, &CLSID_SystemBits10_1, manager_create, DIALECT_BITS},
    {{&factory_vtbl}, &CLSID_SystemBits10_2, manager_create, DIALECT_BITS},
    {{&factory_vtbl}, &CLSID_SystemBits10_3, manager_create, DIALECT_BITS},
};

HRESULT factory_get_class_object(REFCLSID clsid, REFIID riid, void **out)
{
    for (size_t i = 0; i < ARRAY_SIZE(factories); i++)
    {
        if (IsEqualCLSID(clsid, factories[i].clsid))
            return factory_QueryInterface(&factories[i].IClassFactory_iface, riid, out);
    }
    return CLASS_E_CLASSNOTAVAILABLE;
}
