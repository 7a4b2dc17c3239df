/* SPDX-License-Identifier: MIT */
/* Proxies and stubs: widl's marshaling code for every interface of DeliveryOptimization.idl,
 * served by one factory class, so that a client in another process (the COM surrogate's)
 * reaches every object. Registered only for the interfaces that have no proxy yet: Windows and
 * Wine already register some BITS interfaces, and theirs stay. */
#include <stdio.h>
#include "private.h"
#include <rpcproxy.h>

/* Written by widl -p (DeliveryOptimization_p.c). */
extern const ExtendedProxyFileInfo DeliveryOptimization_ProxyFileInfo;

static const ProxyFileInfo *proxy_files[] = {
    (const ProxyFileInfo *)&DeliveryOptimization_ProxyFileInfo,
    NULL,
};
static CStdPSFactoryBuffer ps_factory;

/* The stubs' Release, which every proxy DLL defines for its own factory. */
CSTDSTUBBUFFERRELEASE(&ps_factory)
CSTDSTUBBUFFER2RELEASE(&ps_factory)

HRESULT proxy_get_class_object(REFCLSID clsid, REFIID riid, void **out)
{
    return NdrDllGetClassObject(clsid, riid, out, proxy_files, &CLSID_OpenDOProxyStub, &ps_factory);
}

BOOL proxy_in_use(void)
{
    return NdrDllCanUnloadNow(&ps_factory) != S_OK;
}

static void interface_key(const IID *iid, WCHAR *key, size_t size)
{
    WCHAR text[40];

    StringFromGUID2(iid, text, ARRAY_SIZE(text));
    swprintf(key, size, L"Interface\\%ls", text);
}

/* The proxy class registered for an interface; FALSE if there is none. */
static BOOL registered_proxy(const IID *iid, CLSID *clsid)
{
    WCHAR key[80], sub[120], text[40];
    DWORD size = sizeof(text);

    interface_key(iid, key, ARRAY_SIZE(key));
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\ProxyStubClsid32", key);
    return !RegGetValueW(HKEY_CLASSES_ROOT, sub, NULL, RRF_RT_REG_SZ, NULL, text, &size) &&
           SUCCEEDED(CLSIDFromString(text, clsid));
}

/* Wine's BITS proxies (qmgrprxy.dll, registered under this class) lose the count and the
 * HRESULT of the enumerators' Next, and fail the error object's strings, out of process. In a
 * Wine prefix ours replace them for these three interfaces only; the class they named is kept
 * in REPLACED_VALUE and put back. */
static const CLSID wine_bits_proxies = {
    0x5ce34c0d, 0x0dc9, 0x4c1f, {0x89, 0x7c, 0xda, 0xa1, 0xb7, 0x8c, 0xee, 0x7c}};
#define REPLACED_VALUE L"OpenDO.Replaced"

static BOOL replaces_wine_proxy(const IID *iid, const CLSID *current)
{
    return (IsEqualIID(iid, &IID_IEnumBackgroundCopyFiles) ||
            IsEqualIID(iid, &IID_IEnumBackgroundCopyJobs) ||
            IsEqualIID(iid, &IID_IBackgroundCopyError)) &&
           IsEqualCLSID(current, &wine_bits_proxies) && reg_on_wine();
}

HRESULT proxy_register(const WCHAR *module_path)
{
    const ProxyFileInfo *info = proxy_files[0];
    WCHAR key[80], sub[120], clsid_text[40], count[16], name[64], current_text[40];
    CLSID current;
    HRESULT hr;

    StringFromGUID2(&CLSID_OpenDOProxyStub, clsid_text, ARRAY_SIZE(clsid_text));
    swprintf(key, ARRAY_SIZE(key), L"CLSID\\%ls", clsid_text);
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, key, NULL, L"OpenDO proxies and stubs")))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\InprocServer32", key);
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, module_path)) ||
        FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, L"ThreadingModel", L"Both")))
        return hr;
    for (ULONG i = 0; info->pNamesArray[i]; i++)
    {
        const CInterfaceStubHeader *stub = &info->pStubVtblList[i]->header;

        interface_key(stub->piid, key, ARRAY_SIZE(key));
        swprintf(sub, ARRAY_SIZE(sub), L"%ls\\ProxyStubClsid32", key);
        if (registered_proxy(stub->piid, &current) &&
            !IsEqualCLSID(&current, &CLSID_OpenDOProxyStub))
        {
            if (!replaces_wine_proxy(stub->piid, &current))
            {
                TRACE("%s keeps its proxy %s", info->pNamesArray[i], debugstr_guid(&current));
                continue;
            }
            StringFromGUID2(&current, current_text, ARRAY_SIZE(current_text));
            if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, REPLACED_VALUE, current_text)))
                return hr;
        }
        swprintf(name, ARRAY_SIZE(name), L"%hs", info->pNamesArray[i]);
        swprintf(count, ARRAY_SIZE(count), L"%lu", stub->DispatchTableCount);
        if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, key, NULL, name)) ||
            FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, clsid_text)))
            return hr;
        swprintf(sub, ARRAY_SIZE(sub), L"%ls\\NumMethods", key);
        if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, count)))
            return hr;
    }
    return S_OK;
}

/* Puts back the proxy class that proxy_register replaced; FALSE if it replaced none. */
static BOOL restore_proxy(const WCHAR *key, HRESULT *hr)
{
    WCHAR sub[120], text[40];
    DWORD size = sizeof(text);
    LSTATUS status;

    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\ProxyStubClsid32", key);
    if (RegGetValueW(HKEY_CLASSES_ROOT, sub, REPLACED_VALUE, RRF_RT_REG_SZ, NULL, text, &size))
        return FALSE;
    if (SUCCEEDED(*hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, text)) &&
        (status = RegDeleteKeyValueW(HKEY_CLASSES_ROOT, sub, REPLACED_VALUE)))
        *hr = HRESULT_FROM_WIN32(status);
    return TRUE;
}

HRESULT proxy_unregister(void)
{
    const ProxyFileInfo *info = proxy_files[0];
    WCHAR key[80], clsid_text[40];
    HRESULT hr = S_OK, result = S_OK;
    CLSID current;

    for (ULONG i = 0; info->pNamesArray[i]; i++)
    {
        const IID *iid = info->pStubVtblList[i]->header.piid;

        /* Only what points at our proxies was written by us. */
        if (!registered_proxy(iid, &current) || !IsEqualCLSID(&current, &CLSID_OpenDOProxyStub))
            continue;
        interface_key(iid, key, ARRAY_SIZE(key));
        if (!restore_proxy(key, &hr))
            hr = reg_delete_tree(HKEY_CLASSES_ROOT, key);
        if (FAILED(hr))
            result = hr;
    }
    StringFromGUID2(&CLSID_OpenDOProxyStub, clsid_text, ARRAY_SIZE(clsid_text));
    swprintf(key, ARRAY_SIZE(key), L"CLSID\\%ls", clsid_text);
    if (FAILED(hr = reg_delete_tree(HKEY_CLASSES_ROOT, key)))
        result = hr;
    return result;
}

/* ---- the enumerators' Next, one item per call out of process ----
 *
 * Wine 8's NDR engine returns S_OK and a count of 0 (and at times a stray HRESULT) for a
 * method that sends back an array of interface pointers followed by a count, so Next is
 * [local] in the IDL and crosses processes as RemoteNext, which carries one item. Next_Proxy
 * runs in the client and calls RemoteNext until it has what was asked for or the enumerator
 * is at its end; Next_Stub runs in the server and takes one item from the real enumerator. */

typedef HRESULT (*fetch_one)(void *enumerator, void **item);

static HRESULT next_by_one(void *enumerator, fetch_one fetch, ULONG wanted, void **items,
                           ULONG *fetched)
{
    HRESULT hr = S_OK;
    ULONG got = 0;

    /* The same checks as the enumerator itself (enum.c), before anything crosses. */
    if (!items || (wanted != 1 && !fetched))
        return E_INVALIDARG;
    if (fetched)
        *fetched = 0;
    while (got < wanted)
    {
        hr = fetch(enumerator, &items[got]);
        if (hr != S_OK)
            break;
        got++;
    }
    if (FAILED(hr))
    {
        for (ULONG i = 0; i < got; i++)
            IUnknown_Release((IUnknown *)items[i]);
        return hr;
    }
    if (fetched)
        *fetched = got;
    return got == wanted ? S_OK : S_FALSE;
}

static HRESULT fetch_file(void *enumerator, void **item)
{
    return IEnumBackgroundCopyFiles_RemoteNext_Proxy(enumerator, (IBackgroundCopyFile **)item);
}

static HRESULT fetch_job(void *enumerator, void **item)
{
    return IEnumBackgroundCopyJobs_RemoteNext_Proxy(enumerator, (IBackgroundCopyJob **)item);
}

HRESULT CALLBACK IEnumBackgroundCopyFiles_Next_Proxy(IEnumBackgroundCopyFiles *files, ULONG celt,
                                                     IBackgroundCopyFile **rgelt,
                                                     ULONG *pceltFetched)
{
    return next_by_one(files, fetch_file, celt, (void **)rgelt, pceltFetched);
}

HRESULT __RPC_STUB IEnumBackgroundCopyFiles_Next_Stub(IEnumBackgroundCopyFiles *files,
                                                      IBackgroundCopyFile **item)
{
    *item = NULL;
    return IEnumBackgroundCopyFiles_Next(files, 1, item, NULL);
}

HRESULT CALLBACK IEnumBackgroundCopyJobs_Next_Proxy(IEnumBackgroundCopyJobs *jobs, ULONG celt,
                                                    IBackgroundCopyJob **rgelt, ULONG *pceltFetched)
{
    return next_by_one(jobs, fetch_job, celt, (void **)rgelt, pceltFetched);
}

HRESULT __RPC_STUB IEnumBackgroundCopyJobs_Next_Stub(IEnumBackgroundCopyJobs *jobs,
                                                     IBackgroundCopyJob **item)
{
    *item = NULL;
    return IEnumBackgroundCopyJobs_Next(jobs, 1, item, NULL);
}

/* ---- returned strings and ranges, carried in structs out of process ----
 *
 * Wine 8's NDR engine hands back NULL (or RPC_X_NULL_REF_POINTER) for an [out] LPWSTR * or
 * an [out] BG_FILE_RANGE ** of these proxies, but carries them inside a struct. Each method
 * below crosses as its Remote twin with its results in an OPENDO_WIRE_STRING (or
 * OPENDO_WIRE_RANGES); the _Proxy half runs in the client, the _Stub half calls the real
 * method in the server. */

/* What a proxy answers for a NULL [ref] out parameter, before anything crosses. */
#define E_NULL_REF HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER)

/* An [out] LPWSTR * method with no other parameter: Method_Proxy in the client sends
 * RemoteMethod, Method_Stub in the server calls the real Method. */
#define STRING_METHOD(iface, method)                                                               \
    HRESULT CALLBACK iface##_##method##_Proxy(iface *object, LPWSTR *text)                         \
    {                                                                                              \
        OPENDO_WIRE_STRING wire = {NULL};                                                          \
        HRESULT hr;                                                                                \
                                                                                                   \
        if (!text)                                                                                 \
            return E_NULL_REF;                                                                     \
        hr = iface##_Remote##method##_Proxy(object, &wire);                                        \
        *text = wire.text;                                                                         \
        return hr;                                                                                 \
    }                                                                                              \
    HRESULT __RPC_STUB iface##_##method##_Stub(iface *object, OPENDO_WIRE_STRING *wire)            \
    {                                                                                              \
        wire->text = NULL;                                                                         \
        return iface##_##method(object, &wire->text);                                              \
    }

/* The same with a language id before the string (the error's descriptions). */
#define LANGUAGE_STRING_METHOD(iface, method)                                                      \
    HRESULT CALLBACK iface##_##method##_Proxy(iface *object, DWORD language, LPWSTR *text)         \
    {                                                                                              \
        OPENDO_WIRE_STRING wire = {NULL};                                                          \
        HRESULT hr;                                                                                \
                                                                                                   \
        if (!text)                                                                                 \
            return E_NULL_REF;                                                                     \
        hr = iface##_Remote##method##_Proxy(object, language, &wire);                              \
        *text = wire.text;                                                                         \
        return hr;                                                                                 \
    }                                                                                              \
    HRESULT __RPC_STUB iface##_##method##_Stub(iface *object, DWORD language,                      \
                                               OPENDO_WIRE_STRING *wire)                           \
    {                                                                                              \
        wire->text = NULL;                                                                         \
        return iface##_##method(object, language, &wire->text);                                    \
    }

LANGUAGE_STRING_METHOD(IBackgroundCopyError, GetErrorDescription)
LANGUAGE_STRING_METHOD(IBackgroundCopyError, GetErrorContextDescription)
STRING_METHOD(IBackgroundCopyError, GetProtocol)
STRING_METHOD(IBackgroundCopyFile3, GetTemporaryName)
STRING_METHOD(IBackgroundCopyFile, GetRemoteName)
STRING_METHOD(IBackgroundCopyFile, GetLocalName)
STRING_METHOD(IBackgroundCopyJob, GetOwner)
STRING_METHOD(IBackgroundCopyJob, GetDisplayName)
STRING_METHOD(IBackgroundCopyJob, GetDescription)
STRING_METHOD(IBackgroundCopyJob2, GetReplyFileName)
STRING_METHOD(IBackgroundCopyJobHttpOptions, GetCustomHeaders)

/* BITS_FILE_PROPERTY_VALUE has one member, the response headers' string. */
HRESULT CALLBACK IBackgroundCopyFile5_SetProperty_Proxy(IBackgroundCopyFile5 *file,
                                                        BITS_FILE_PROPERTY_ID id,
                                                        BITS_FILE_PROPERTY_VALUE value)
{
    return IBackgroundCopyFile5_RemoteSetProperty_Proxy(file, id, value.String);
}

HRESULT __RPC_STUB IBackgroundCopyFile5_SetProperty_Stub(IBackgroundCopyFile5 *file,
                                                         BITS_FILE_PROPERTY_ID id, LPCWSTR text)
{
    BITS_FILE_PROPERTY_VALUE value = {.String = (WCHAR *)text};

    return IBackgroundCopyFile5_SetProperty(file, id, value);
}

HRESULT CALLBACK IBackgroundCopyFile5_GetProperty_Proxy(IBackgroundCopyFile5 *file,
                                                        BITS_FILE_PROPERTY_ID id,
                                                        BITS_FILE_PROPERTY_VALUE *value)
{
    OPENDO_WIRE_STRING wire = {NULL};
    HRESULT hr;

    if (!value)
        return E_NULL_REF;
    hr = IBackgroundCopyFile5_RemoteGetProperty_Proxy(file, id, &wire);
    value->String = wire.text;
    return hr;
}

HRESULT __RPC_STUB IBackgroundCopyFile5_GetProperty_Stub(IBackgroundCopyFile5 *file,
                                                         BITS_FILE_PROPERTY_ID id,
                                                         OPENDO_WIRE_STRING *wire)
{
    BITS_FILE_PROPERTY_VALUE value = {NULL};
    HRESULT hr = IBackgroundCopyFile5_GetProperty(file, id, &value);

    wire->text = value.String;
    return hr;
}

/* The methods with more than one result. */

HRESULT CALLBACK IBackgroundCopyJob_GetProxySettings_Proxy(IBackgroundCopyJob *job,
                                                           BG_JOB_PROXY_USAGE *usage, LPWSTR *list,
                                                           LPWSTR *bypass)
{
    OPENDO_WIRE_STRING wire_list = {NULL}, wire_bypass = {NULL};
    HRESULT hr;

    if (!usage || !list || !bypass)
        return E_NULL_REF;
    hr = IBackgroundCopyJob_RemoteGetProxySettings_Proxy(job, usage, &wire_list, &wire_bypass);
    *list = wire_list.text;
    *bypass = wire_bypass.text;
    return hr;
}

HRESULT __RPC_STUB IBackgroundCopyJob_GetProxySettings_Stub(IBackgroundCopyJob *job,
                                                            BG_JOB_PROXY_USAGE *usage,
                                                            OPENDO_WIRE_STRING *list,
                                                            OPENDO_WIRE_STRING *bypass)
{
    list->text = bypass->text = NULL;
    return IBackgroundCopyJob_GetProxySettings(job, usage, &list->text, &bypass->text);
}

HRESULT CALLBACK IBackgroundCopyJob2_GetNotifyCmdLine_Proxy(IBackgroundCopyJob2 *job,
                                                            LPWSTR *program, LPWSTR *parameters)
{
    OPENDO_WIRE_STRING wire_program = {NULL}, wire_parameters = {NULL};
    HRESULT hr;

    if (!program || !parameters)
        return E_NULL_REF;
    hr = IBackgroundCopyJob2_RemoteGetNotifyCmdLine_Proxy(job, &wire_program, &wire_parameters);
    *program = wire_program.text;
    *parameters = wire_parameters.text;
    return hr;
}

HRESULT __RPC_STUB IBackgroundCopyJob2_GetNotifyCmdLine_Stub(IBackgroundCopyJob2 *job,
                                                             OPENDO_WIRE_STRING *program,
                                                             OPENDO_WIRE_STRING *parameters)
{
    program->text = parameters->text = NULL;
    return IBackgroundCopyJob2_GetNotifyCmdLine(job, &program->text, &parameters->text);
}

HRESULT CALLBACK IBackgroundCopyFile2_GetFileRanges_Proxy(IBackgroundCopyFile2 *file, DWORD *count,
                                                          BG_FILE_RANGE **ranges)
{
    OPENDO_WIRE_RANGES wire = {0, NULL};
    HRESULT hr;

    /* The same check as the file object itself (file.c), before anything crosses. */
    if (!count || !ranges)
        return E_INVALIDARG;
    hr = IBackgroundCopyFile2_RemoteGetFileRanges_Proxy(file, &wire);
    *count = wire.count;
    *ranges = wire.ranges;
    return hr;
}

HRESULT __RPC_STUB IBackgroundCopyFile2_GetFileRanges_Stub(IBackgroundCopyFile2 *file,
                                                           OPENDO_WIRE_RANGES *wire)
{
    wire->count = 0;
    wire->ranges = NULL;
    return IBackgroundCopyFile2_GetFileRanges(file, &wire->count, &wire->ranges);
}
