/* SPDX-License-Identifier: MIT */
/* The error object: a snapshot of a job's last failure (code, context, file). */
#include "engine/engine.h"
#include "private.h"
#include "core/url.h"

struct error
{
    IBackgroundCopyError IBackgroundCopyError_iface;
    LONG refs;
    IUnknown *ftm;
    enum dialect dialect;
    struct ejob *ejob;
    BG_ERROR_CONTEXT context;
    HRESULT code;
    LONG file_index;
};

static inline struct error *impl_from_IBackgroundCopyError(IBackgroundCopyError *iface)
{
    return CONTAINING_RECORD(iface, struct error, IBackgroundCopyError_iface);
}

static HRESULT WINAPI error_QueryInterface(IBackgroundCopyError *iface, REFIID riid, void **out)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("%p %s %p", iface, debugstr_guid(riid), out);
    if (!out)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyError))
    {
        *out = iface;
        IBackgroundCopyError_AddRef(iface);
        return S_OK;
    }
    if (IsEqualIID(riid, &IID_IMarshal))
        return ftm_query((IUnknown *)iface, &error->ftm, riid, out);
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI error_AddRef(IBackgroundCopyError *iface)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);
    return InterlockedIncrement(&error->refs);
}

static ULONG WINAPI error_Release(IBackgroundCopyError *iface)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);
    ULONG refs = InterlockedDecrement(&error->refs);

    if (!refs)
    {
        ftm_release(&error->ftm);
        ejob_release(error->ejob);
        heap_free(error);
        object_unlock();
    }
    return refs;
}

static HRESULT WINAPI error_GetError(IBackgroundCopyError *iface, BG_ERROR_CONTEXT *context,
                                     HRESULT *code)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("%p %p %p", iface, context, code);
    if (!context || !code)
        return E_INVALIDARG;
    *context = error->context;
    *code = error->code;
    return S_OK;
}

static HRESULT WINAPI error_GetFile(IBackgroundCopyError *iface, IBackgroundCopyFile **file)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("%p %p", iface, file);
    if (!file)
        return E_INVALIDARG;
    *file = NULL;
    if (error->file_index < 0)
        return dialect_result(error->dialect, BG_E_FILE_NOT_AVAILABLE);
    return file_create(error->ejob, error->file_index, error->dialect, file);
}

static HRESULT WINAPI error_GetErrorDescription(IBackgroundCopyError *iface, DWORD langid,
                                                LPWSTR *description)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("%p %#lx %p", iface, langid, description);
    if (!description)
        return E_INVALIDARG;
    return errordesc_get(error->code, langid, description);
}

static HRESULT WINAPI error_GetErrorContextDescription(IBackgroundCopyError *iface, DWORD langid,
                                                       LPWSTR *description)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);

    TRACE("%p %#lx %p", iface, langid, description);
    if (!description)
        return E_INVALIDARG;
    return errordesc_context(error->context, langid, description);
}

static HRESULT WINAPI error_GetProtocol(IBackgroundCopyError *iface, LPWSTR *protocol)
{
    struct error *error = impl_from_IBackgroundCopyError(iface);
    const WCHAR *name = NULL;
    enum url_kind kind = URL_INVALID;

    TRACE("%p %p", iface, protocol);
    if (!protocol)
        return E_INVALIDARG;
    *protocol = NULL;
    if (error->file_index < 0)
        return BG_E_PROTOCOL_NOT_AVAILABLE;
    AcquireSRWLockShared(&error->ejob->lock);
    kind = url_classify(error->ejob->files[error->file_index]->remote);
    ReleaseSRWLockShared(&error->ejob->lock);
    switch (kind)
    {
    case URL_HTTP:
        name = L"http";
        break;
    case URL_HTTPS:
        name = L"https";
        break;
    case URL_FILE:
    case URL_LOCAL_PATH:
        name = L"file";
        break;
    default:
        return BG_E_PROTOCOL_NOT_AVAILABLE;
    }
    return cotask_strdup(name, protocol);
}

static const IBackgroundCopyErrorVtbl error_vtbl = {
    error_QueryInterface,
    error_AddRef,
    error_Release,
    error_GetError,
    error_GetFile,
    error_GetErrorDescription,
    error_GetErrorContextDescription,
    error_GetProtocol,
};

HRESULT error_create(struct ejob *ejob, enum dialect dialect, BG_ERROR_CONTEXT context,
                     HRESULT code, LONG file_index, IBackgroundCopyError **out)
{
    struct error *error;

    if (!(error = heap_alloc_zero(sizeof(*error))))
        return E_OUTOFMEMORY;
    error->IBackgroundCopyError_iface.lpVtbl = &error_vtbl;
    error->refs = 1;
    error->ejob = ejob;
    error->dialect = dialect;
    error->context = context;
    error->code = code;
    error->file_index = file_index;
    ejob_addref(ejob);
    object_lock();
    *out = &error->IBackgroundCopyError_iface;
    return S_OK;
}
