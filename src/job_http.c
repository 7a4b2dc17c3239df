/* SPDX-License-Identifier: MIT */
/* The job's IBackgroundCopyJobHttpOptions: client certificate, custom headers, security flags. */

/*
 * The options live in the engine job (struct ejob_options, under ejob.lock); the HTTP transport
 * applies them to every request (engine/http.c). Where the BITS pages name the code of a NULL
 * argument, we return it: BITS is out of process, so its callers see what the RPC proxy says,
 * RPC_X_NULL_REF_POINTER, as an HRESULT.
 */

#include <string.h>
#include "core/headers.h"
#include "job.h"

/* BITS: store names and subject names hold at most 256 characters with the terminator; custom
 * headers 16,384. */
#define MAX_CERT_NAME 256
#define MAX_CUSTOM_HEADERS 16384

#define E_NULL_REF HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER)
#define E_NO_CERTIFICATE HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA)

#define ALL_SSL_FLAGS                                                                              \
    (BG_SSL_ENABLE_CRL_CHECK | BG_SSL_IGNORE_CERT_CN_INVALID | BG_SSL_IGNORE_CERT_DATE_INVALID |   \
     BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_WRONG_USAGE)

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

static BOOL job_final(struct job *job)
{
    BOOL final;

    AcquireSRWLockShared(&job->ejob->lock);
    final = ejob_is_final(job->ejob);
    ReleaseSRWLockShared(&job->ejob->lock);
    return final;
}

/* Checks the arguments both SetClientCertificateBy* take. */
static HRESULT check_cert_store(BG_CERT_STORE_LOCATION location, LPCWSTR store)
{
    if ((unsigned int)location > BG_CERT_STORE_LOCATION_LOCAL_MACHINE_ENTERPRISE)
        return E_NOTIMPL;
    if (!store)
        return E_NULL_REF;
    if (wcslen(store) >= MAX_CERT_NAME)
        return BG_E_STRING_TOO_LONG;
    return S_OK;
}

/* Finds the certificate `cert` designates, completes the record with what the lookup did not
 * start from (the hash or the subject), and makes it the job's. Takes ownership of the
 * strings in `cert`. */
static HRESULT set_client_cert(struct job *job, struct ejob_client_cert *cert)
{
    const CERT_CONTEXT *context;
    DWORD size;
    HRESULT hr;

    /* Searching a store is I/O: it happens before the lock, and only for a job that can still
     * change. */
    if (job_final(job))
        hr = BG_E_INVALID_STATE;
    else if (SUCCEEDED(hr = http_find_client_cert(cert, &context)))
    {
        if (cert->by_name)
        {
            size = sizeof(cert->hash);
            if (!CertGetCertificateContextProperty(context, CERT_HASH_PROP_ID, cert->hash, &size))
                hr = HRESULT_FROM_WIN32(GetLastError());
        }
        else
        {
            /* The simple name, its RDNs in the reverse of the displayed order, as BITS gives it. */
            DWORD format = CERT_SIMPLE_NAME_STR | CERT_NAME_STR_REVERSE_FLAG;
            size = CertNameToStrW(context->dwCertEncodingType, &context->pCertInfo->Subject, format,
                                  NULL, 0);
            if (!(cert->subject = heap_alloc_zero(size * sizeof(WCHAR))))
                hr = E_OUTOFMEMORY;
            else
                CertNameToStrW(context->dwCertEncodingType, &context->pCertInfo->Subject, format,
                               cert->subject, size);
        }
        CertFreeCertificateContext(context);
    }
    if (SUCCEEDED(hr))
    {
        struct ejob_client_cert old;

        AcquireSRWLockExclusive(&job->ejob->lock);
        if (ejob_is_final(job->ejob))
            hr = BG_E_INVALID_STATE;
        else
        {
            old = job->ejob->options.client_cert;
            job->ejob->options.client_cert = *cert;
            *cert = old;
            ejob_touch(job->ejob);
        }
        ReleaseSRWLockExclusive(&job->ejob->lock);
    }
    free_str(cert->store);
    free_str(cert->subject);
    return result(job, hr);
}

static HRESULT WINAPI http_options_SetClientCertificateByID(IBackgroundCopyJobHttpOptions *iface,
                                                            BG_CERT_STORE_LOCATION location,
                                                            LPCWSTR store, BYTE *hash)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    struct ejob_client_cert cert = {TRUE, location};
    HRESULT hr;

    TRACE("%p %d %s %p", iface, location, debugstr_w(store), hash);
    if (FAILED(hr = check_cert_store(location, store)))
        return result(job, hr);
    if (!hash)
        return E_NULL_REF;
    memcpy(cert.hash, hash, sizeof(cert.hash));
    if (!(cert.store = heap_strdup(store)))
        return E_OUTOFMEMORY;
    return set_client_cert(job, &cert);
}

static HRESULT WINAPI http_options_SetClientCertificateByName(IBackgroundCopyJobHttpOptions *iface,
                                                              BG_CERT_STORE_LOCATION location,
                                                              LPCWSTR store, LPCWSTR subject)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    struct ejob_client_cert cert = {TRUE, location};
    HRESULT hr;

    TRACE("%p %d %s %s", iface, location, debugstr_w(store), debugstr_w(subject));
    if (FAILED(hr = check_cert_store(location, store)))
        return result(job, hr);
    if (!subject)
        return E_NULL_REF;
    if (!subject[0])
        return E_INVALIDARG;
    if (wcslen(subject) >= MAX_CERT_NAME)
        return result(job, BG_E_STRING_TOO_LONG);
    cert.by_name = TRUE;
    cert.store = heap_strdup(store);
    cert.subject = heap_strdup(subject);
    if (!cert.store || !cert.subject)
    {
        free_str(cert.store);
        free_str(cert.subject);
        return E_OUTOFMEMORY;
    }
    return set_client_cert(job, &cert);
}

static HRESULT WINAPI http_options_RemoveClientCertificate(IBackgroundCopyJobHttpOptions *iface)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    struct ejob_client_cert old = {0};
    HRESULT hr = S_OK;

    TRACE("%p", iface);
    AcquireSRWLockExclusive(&job->ejob->lock);
    if (ejob_is_final(job->ejob))
        hr = BG_E_INVALID_STATE;
    else if (!job->ejob->options.client_cert.present)
        hr = S_FALSE;
    else
    {
        old = job->ejob->options.client_cert;
        memset(&job->ejob->options.client_cert, 0, sizeof(old));
        ejob_touch(job->ejob);
    }
    ReleaseSRWLockExclusive(&job->ejob->lock);
    free_str(old.store);
    free_str(old.subject);
    return result(job, hr);
}

struct cert_read
{
    const struct ejob_client_cert *cert;
    BOOL present;
    BG_CERT_STORE_LOCATION location;
    BYTE hash[EJOB_CERT_HASH_SIZE];
};

/* Reads the certificate's other fields in the lock hold that copies its names. */
static void read_cert(void *context)
{
    struct cert_read *read = context;

    read->present = read->cert->present;
    read->location = read->cert->location;
    memcpy(read->hash, read->cert->hash, sizeof(read->hash));
}

static HRESULT WINAPI http_options_GetClientCertificate(IBackgroundCopyJobHttpOptions *iface,
                                                        BG_CERT_STORE_LOCATION *location,
                                                        LPWSTR *store, BYTE **hash, LPWSTR *subject)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    struct cert_read read = {&job->ejob->options.client_cert};
    struct locked_string strings[] = {
        {&read.cert->store, store},
        {&read.cert->subject, subject},
    };
    HRESULT hr;

    TRACE("%p %p %p %p %p", iface, location, store, hash, subject);
    if (!location || !store || !hash || !subject)
        return E_NULL_REF;
    *hash = NULL;
    if (FAILED(hr = cotask_strdup_locked(&job->ejob->lock, strings, ARRAY_SIZE(strings), read_cert,
                                         &read)))
        return hr;
    if (!read.present)
        hr = E_NO_CERTIFICATE;
    else if ((*hash = CoTaskMemAlloc(sizeof(read.hash))))
    {
        memcpy(*hash, read.hash, sizeof(read.hash));
        *location = read.location;
        return S_OK;
    }
    else
        hr = E_OUTOFMEMORY;
    CoTaskMemFree(*store);
    CoTaskMemFree(*subject);
    *store = *subject = NULL;
    return hr;
}

static HRESULT WINAPI http_options_SetCustomHeaders(IBackgroundCopyJobHttpOptions *iface,
                                                    LPCWSTR headers)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    WCHAR *copy = NULL, *old = NULL;
    HRESULT hr = S_OK;

    /* Headers may carry secrets (tokens): only their length is logged. */
    TRACE("%p %lu characters", iface, headers ? (unsigned long)wcslen(headers) : 0ul);
    if (headers && wcslen(headers) >= MAX_CUSTOM_HEADERS)
        return result(job, BG_E_STRING_TOO_LONG);
    /* WinHTTP splits the block into lines by itself: a bare CR or LF, an empty line or a line
     * that is no header would put something else on the wire than the block we were given. */
    if (headers && !headers_valid(headers))
        return E_INVALIDARG;
    if (headers && !(copy = heap_strdup(headers)))
        return E_OUTOFMEMORY;
    AcquireSRWLockExclusive(&job->ejob->lock);
    if (ejob_is_final(job->ejob))
    {
        hr = BG_E_INVALID_STATE;
        old = copy;
    }
    else
    {
        old = job->ejob->options.custom_headers;
        job->ejob->options.custom_headers = copy;
        ejob_touch(job->ejob);
    }
    ReleaseSRWLockExclusive(&job->ejob->lock);
    free_str(old);
    return result(job, hr);
}

static HRESULT WINAPI http_options_GetCustomHeaders(IBackgroundCopyJobHttpOptions *iface,
                                                    LPWSTR *headers)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    struct locked_string string = {&job->ejob->options.custom_headers, headers, TRUE};
    HRESULT hr;

    TRACE("%p %p", iface, headers);
    if (!headers)
        return E_NULL_REF;
    *headers = NULL;
    if (FAILED(hr = cotask_strdup_locked(&job->ejob->lock, &string, 1, NULL, NULL)))
        return hr;
    return *headers ? S_OK : S_FALSE;
}

static HRESULT WINAPI http_options_SetSecurityFlags(IBackgroundCopyJobHttpOptions *iface,
                                                    ULONG flags)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);
    ULONG policy = flags & BG_HTTP_REDIRECT_POLICY_MASK;

    TRACE("%p %#lx", iface, flags);
    if (flags & ~(ALL_SSL_FLAGS | BG_HTTP_REDIRECT_POLICY_MASK |
                  BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP))
        return E_NOTIMPL;
    if (policy != BG_HTTP_REDIRECT_POLICY_ALLOW_SILENT &&
        policy != BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT &&
        policy != BG_HTTP_REDIRECT_POLICY_DISALLOW)
        return E_NOTIMPL;
    LOCKED_SETTER(job, job->ejob->options.security_flags = flags);
}

static HRESULT WINAPI http_options_GetSecurityFlags(IBackgroundCopyJobHttpOptions *iface,
                                                    ULONG *flags)
{
    struct job *job = impl_from_IBackgroundCopyJobHttpOptions(iface);

    TRACE("%p %p", iface, flags);
    LOCKED_GETTER(job, flags, job->ejob->options.security_flags);
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
