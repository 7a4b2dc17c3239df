/* SPDX-License-Identifier: MIT */
/* Small COM helpers: the free-threaded marshaler. */
#include "private.h"

HRESULT ftm_query(IUnknown *outer, IUnknown **ftm, REFIID riid, void **out)
{
    IUnknown *created;
    HRESULT hr;

    if (!*ftm)
    {
        if (FAILED(hr = CoCreateFreeThreadedMarshaler(outer, &created)))
            return hr;
        if (InterlockedCompareExchangePointer((void **)ftm, created, NULL))
            IUnknown_Release(created);
    }
    return IUnknown_QueryInterface(*ftm, riid, out);
}

void ftm_release(IUnknown **ftm)
{
    if (*ftm)
        IUnknown_Release(*ftm);
    *ftm = NULL;
}
