/* SPDX-License-Identifier: MIT */
/* The job's IBackgroundCopyJobHttpOptions. */
#include "job.h"

/* ---- IBackgroundCopyJobHttpOptions ---- */

static HRESULT WINAPI http_options_QueryInterface(IBackgroundCopyJobHttpOptions *iface, REFIID riid,
                                                  void **out)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return job_query(job, riid, out);
}

static ULONG WINAPI http_options_AddRef(IBackgroundCopyJobHttpOptions *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return job_addref(job);
}

static ULONG WINAPI http_options_Release(IBackgroundCopyJobHttpOptions *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return job_release(job);
}

static HRESULT WINAPI http_options_SetClientCertificateByID(IBackgroundCopyJobHttpOptions *iface,
                                                            BG_CERT_STORE_LOCATION location,
                                                            LPCWSTR store, BYTE *hash)
{
    FIXME("%p %d %s %p: not implemented yet", iface, location, debugstr_w(store), hash);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_SetClientCertificateByName(IBackgroundCopyJobHttpOptions *iface,
                                                              BG_CERT_STORE_LOCATION location,
                                                              LPCWSTR store, LPCWSTR subject)
{
    FIXME("%p %d %s %s: not implemented yet", iface, location, debugstr_w(store),
          debugstr_w(subject));
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_RemoveClientCertificate(IBackgroundCopyJobHttpOptions *iface)
{
    FIXME("%p: not implemented yet", iface);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_GetClientCertificate(IBackgroundCopyJobHttpOptions *iface,
                                                        BG_CERT_STORE_LOCATION *location,
                                                        LPWSTR *store, BYTE **hash, LPWSTR *subject)
{
    FIXME("%p %p %p %p %p: not implemented yet", iface, location, store, hash, subject);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_SetCustomHeaders(IBackgroundCopyJobHttpOptions *iface,
                                                    LPCWSTR headers)
{
    FIXME("%p %s: not implemented yet", iface, debugstr_w(headers));
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_GetCustomHeaders(IBackgroundCopyJobHttpOptions *iface,
                                                    LPWSTR *headers)
{
    FIXME("%p %p: not implemented yet", iface, headers);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_SetSecurityFlags(IBackgroundCopyJobHttpOptions *iface,
                                                    ULONG flags)
{
    FIXME("%p %#lx: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

static HRESULT WINAPI http_options_GetSecurityFlags(IBackgroundCopyJobHttpOptions *iface,
                                                    ULONG *flags)
{
    FIXME("%p %p: not implemented yet", iface, flags);
    return E_NOTIMPL;
}

const IBackgroundCopyJobHttpOptionsVtbl job_http_options_vtbl = {
    http_options_QueryInterface,
    http_options_AddRef,
    http_options_Release,
    http_options_SetClientCertificateByID,
    http_options_SetClientCertificateByName,
    http_options_RemoveClientCertificate,
    http_options_GetClientCertificate,
    http_options_SetCustomHeaders,
    http_options_GetCustomHeaders,
    http_options_SetSecurityFlags,
    http_options_GetSecurityFlags,
};
