/* SPDX-License-Identifier: MIT */
/* DLL entry points. */
#include "private.h"

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(instance);
    return TRUE;
}

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    TRACE("%s %s %p", debugstr_guid(clsid), debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    *out = NULL;
    if (IsEqualCLSID(clsid, &CLSID_OpenDOProxyStub))
        return proxy_get_class_object(clsid, riid, out);
    surrogate_watch();
    return factory_get_class_object(clsid, riid, out);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    /* Counted here: live COM objects, server locks, jobs in the queue (manager.c) and HTTP
     * requests that WinHTTP has not closed yet (http.c). Worker and notifier threads pin the
     * module themselves until they leave. */
    return module_in_use() || proxy_in_use() ? S_FALSE : S_OK;
}
