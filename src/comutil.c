/* SPDX-License-Identifier: MIT */
/* Small COM helpers: the free-threaded marshaler and string allocation. */
#include <string.h>
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

HRESULT cotask_strdup(const WCHAR *s, WCHAR **out)
{
    SIZE_T size = (wcslen(s ? s : L"") + 1) * sizeof(WCHAR);

    if (!(*out = CoTaskMemAlloc(size)))
        return E_OUTOFMEMORY;
    memcpy(*out, s ? s : L"", size);
    return S_OK;
}

void *heap_alloc_zero(SIZE_T size)
{
    return HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size);
}

void heap_free(void *p)
{
    if (p)
        HeapFree(GetProcessHeap(), 0, p);
}

WCHAR *heap_strdup(const WCHAR *s)
{
    WCHAR *copy;
    SIZE_T size;

    if (!s)
        return NULL;
    size = (wcslen(s) + 1) * sizeof(WCHAR);
    if ((copy = HeapAlloc(GetProcessHeap(), 0, size)))
        memcpy(copy, s, size);
    return copy;
}

void free_str(WCHAR *s)
{
    heap_free(s);
}
