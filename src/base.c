/* SPDX-License-Identifier: MIT */
/* The module-wide count of live objects and locks, and memory helpers, shared by every layer. */
#include <string.h>
#include "base.h"

static LONG module_refs;

void module_lock(void)
{
    InterlockedIncrement(&module_refs);
}

void module_unlock(void)
{
    InterlockedDecrement(&module_refs);
}

BOOL module_in_use(void)
{
    return InterlockedCompareExchange(&module_refs, 0, 0) != 0;
}

HMODULE module_handle(void)
{
    static HMODULE module;
    HMODULE found;

    if (!module && GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                          GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                                      (const WCHAR *)module_handle, &found))
        module = found;
    return module;
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

HRESULT cotask_strdup(const WCHAR *s, WCHAR **out)
{
    SIZE_T size = (wcslen(s ? s : L"") + 1) * sizeof(WCHAR);

    if (!(*out = CoTaskMemAlloc(size)))
        return E_OUTOFMEMORY;
    memcpy(*out, s ? s : L"", size);
    return S_OK;
}
