/* SPDX-License-Identifier: MIT */
/* widl's proxies and stubs (DeliveryOptimization_p.c), compiled with what MinGW's C headers leave
 * out: rpcrt4's IUnknown proxies, which the generated vtables name, are declared there for C++
 * only. */
#include <objbase.h>

HRESULT STDMETHODCALLTYPE IUnknown_QueryInterface_Proxy(IUnknown *This, REFIID riid, void **out);
ULONG STDMETHODCALLTYPE IUnknown_AddRef_Proxy(IUnknown *This);
ULONG STDMETHODCALLTYPE IUnknown_Release_Proxy(IUnknown *This);

#include "DeliveryOptimization_p.c"
