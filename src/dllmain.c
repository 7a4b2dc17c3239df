/* SPDX-License-Identifier: MIT */
/* DLL entry points and the module-wide count of live objects and server locks. */
#include "private.h"

static HMODULE module;
static LONG module_refs;

void module_lock(void)
{
    InterlockedIncrement(&module_refs);
}

void module_unlock(void)
{
    InterlockedDecrement(&module_refs);
}

HMODULE module_handle(void)
{
    return module;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
    {
        module = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    TRACE("%s %s %p", debugstr_guid(clsid), debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    *out = NULL;
    return factory_get_class_object(clsid, riid, out);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    /* Counted here: live COM objects, server locks, jobs in the queue (manager.c) and HTTP
     * requests that WinHTTP has not closed yet (http.c). Worker and notifier threads pin the
     * module themselves until they leave. */
    return module_refs ? S_FALSE : S_OK;
}
