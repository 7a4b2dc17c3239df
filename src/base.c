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

/* Bytes a copy of the string needs; 0 for a NULL that stays NULL. */
static SIZE_T copy_size(const struct locked_string *string)
{
    const WCHAR *s = *string->field;

    if (!s && string->keep_null)
        return 0;
    return (wcslen(s ? s : L"") + 1) * sizeof(WCHAR);
}

HRESULT cotask_strdup_locked(SRWLOCK *lock, const struct locked_string *strings, ULONG count,
                             void (*also)(void *context), void *context)
{
    SIZE_T sizes[8] = {0}, need[8];
    BOOL fits;
    ULONG i;

    if (count > ARRAY_SIZE(sizes))
        return E_INVALIDARG;
    for (i = 0; i < count; i++)
        *strings[i].out = NULL;
    for (;;)
    {
        AcquireSRWLockShared(lock);
        fits = TRUE;
        for (i = 0; i < count; i++)
        {
            need[i] = copy_size(&strings[i]);
            fits = fits && (!need[i] || (*strings[i].out && need[i] <= sizes[i]));
        }
        if (fits)
        {
            for (i = 0; i < count; i++)
            {
                if (need[i])
                    memcpy(*strings[i].out, *strings[i].field ? *strings[i].field : L"", need[i]);
            }
            if (also)
                also(context);
            ReleaseSRWLockShared(lock);
            /* What a NULL field does not need is given back outside the lock. */
            for (i = 0; i < count; i++)
            {
                if (!need[i])
                {
                    CoTaskMemFree(*strings[i].out);
                    *strings[i].out = NULL;
                }
            }
            return S_OK;
        }
        ReleaseSRWLockShared(lock);
        for (i = 0; i < count; i++)
        {
            if (need[i] <= sizes[i])
                continue;
            sizes[i] = need[i];
            CoTaskMemFree(*strings[i].out);
            if (!(*strings[i].out = CoTaskMemAlloc(sizes[i])))
            {
                for (i = 0; i < count; i++)
                {
                    CoTaskMemFree(*strings[i].out);
                    *strings[i].out = NULL;
                }
                return E_OUTOFMEMORY;
            }
        }
    }
}

HRESULT git_get(IGlobalInterfaceTable **git)
{
    return CoCreateInstance(&CLSID_StdGlobalInterfaceTable, NULL, CLSCTX_INPROC_SERVER,
                            &IID_IGlobalInterfaceTable, (void **)git);
}

void git_revoke(DWORD cookie)
{
    IGlobalInterfaceTable *git;
    HRESULT init, hr;

    if (!cookie)
        return;
    /* In an apartment already, CoInitializeEx fails (or counts once more) and COM is there. */
    init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (SUCCEEDED(hr = git_get(&git)))
    {
        hr = IGlobalInterfaceTable_RevokeInterfaceFromGlobal(git, cookie);
        IGlobalInterfaceTable_Release(git);
    }
    if (FAILED(hr))
        WARN("cannot revoke %#lx from the Global Interface Table: %08lx", cookie, hr);
    if (SUCCEEDED(init))
        CoUninitialize();
}
