/* SPDX-License-Identifier: MIT */
/* The modern DO API (src/download.c): IDOManager, IDODownload's methods, properties and state
 * machine, IDODownloadStatusCallback, BlockingMode, stream sinks and ranges, against the test
 * nginx. */
#include <stdlib.h>
#include "testutil.h"
#include <shellapi.h>

#define HELLO_SIZE 14 /* "hello, OpenDO\n" */
#define E_NOT_SET_HR HRESULT_FROM_WIN32(ERROR_NOT_FOUND)
#define TIMEOUT 60000
#define SIZE_64M (64u << 20)

static IClassFactory *factory_of(REFCLSID clsid)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IClassFactory *factory = NULL;

    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(get_class_object);
    assert_hr(S_OK, get_class_object(clsid, &IID_IClassFactory, (void **)&factory));
    return factory;
}

/* IDOManager of CLSID_DeliveryOptimization, as winget creates it. */
static IDOManager *do_manager(void)
{
    IClassFactory *factory = factory_of(&CLSID_DeliveryOptimization);
    IDOManager *manager = NULL;

    assert_hr(S_OK,
              IClassFactory_CreateInstance(factory, NULL, &IID_IDOManager, (void **)&manager));
    IClassFactory_Release(factory);
    return manager;
}

static IDODownload *new_download(IDOManager *manager)
{
    IDODownload *download = NULL;

    assert_hr(S_OK, IDOManager_CreateDownload(manager, &download));
    assert_non_null(download);
    return download;
}

static HRESULT set_str(IDODownload *download, DODownloadProperty id, const WCHAR *text)
{
    VARIANT value;
    HRESULT hr;

    V_VT(&value) = VT_BSTR;
    V_BSTR(&value) = SysAllocString(text);
    hr = IDODownload_SetProperty(download, id, &value);
    VariantClear(&value);
    return hr;
}

static HRESULT set_ui4(IDODownload *download, DODownloadProperty id, ULONG number)
{
    VARIANT value;

    V_VT(&value) = VT_UI4;
    V_UI4(&value) = number;
    return IDODownload_SetProperty(download, id, &value);
}

static HRESULT set_bool(IDODownload *download, DODownloadProperty id, BOOL on)
{
    VARIANT value;

    V_VT(&value) = VT_BOOL;
    V_BOOL(&value) = on ? VARIANT_TRUE : VARIANT_FALSE;
    return IDODownload_SetProperty(download, id, &value);
}

static HRESULT set_unknown(IDODownload *download, DODownloadProperty id, IUnknown *object)
{
    VARIANT value;

    V_VT(&value) = VT_UNKNOWN;
    V_UNKNOWN(&value) = object;
    return IDODownload_SetProperty(download, id, &value);
}

/* Asserts that a BSTR property reads `expected`. */
static void assert_str_property(IDODownload *download, DODownloadProperty id, const WCHAR *expected)
{
    VARIANT value;

    assert_hr(S_OK, IDODownload_GetProperty(download, id, &value));
    assert_int_equal(VT_BSTR, V_VT(&value));
    if (wcscmp(expected, V_BSTR(&value)))
        fail_msg("property %d is %ls, not %ls", id, V_BSTR(&value), expected);
    VariantClear(&value);
}

static DO_DOWNLOAD_STATUS status_of(IDODownload *download)
{
    DO_DOWNLOAD_STATUS status;

    assert_hr(S_OK, IDODownload_GetStatus(download, &status));
    return status;
}

/* Polls the status until the download is in `state`; fails naming the state it is in. */
static DO_DOWNLOAD_STATUS wait_state(IDODownload *download, DODownloadState state)
{
    ULONGLONG end = GetTickCount64() + TIMEOUT;
    DO_DOWNLOAD_STATUS status;

    for (;;)
    {
        status = status_of(download);
        if (status.State == state)
            return status;
        if (GetTickCount64() > end)
            fail_msg("download in state %d (error %08lx, extended %08lx), expected %d",
                     status.State, (unsigned long)status.Error, (unsigned long)status.ExtendedError,
                     state);
        Sleep(10);
    }
}

/* A download of `path` on the test nginx into dir\name. */
static IDODownload *download_to(IDOManager *manager, const WCHAR *path, const WCHAR *dir,
                                const WCHAR *name, WCHAR *local, size_t size)
{
    IDODownload *download = new_download(manager);
    WCHAR url[MAX_PATH];

    tu_url(url, ARRAY_SIZE(url), path);
    tu_path(local, size, dir, name);
    assert_hr(S_OK, set_str(download, DODownloadProperty_Uri, url));
    assert_hr(S_OK, set_str(download, DODownloadProperty_LocalPath, local));
    return download;
}

/* ---- a stream sink that appends to memory ---- */

struct sink
{
    IStream IStream_iface;
    LONG refs;
    BYTE *data;
    SIZE_T size, capacity;
};

static struct sink *sink_from(IStream *iface)
{
    return CONTAINING_RECORD(iface, struct sink, IStream_iface);
}

static HRESULT WINAPI sink_QueryInterface(IStream *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ISequentialStream) ||
        IsEqualIID(riid, &IID_IStream))
    {
        *out = iface;
        IStream_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI sink_AddRef(IStream *iface)
{
    return InterlockedIncrement(&sink_from(iface)->refs);
}

static ULONG WINAPI sink_Release(IStream *iface)
{
    return InterlockedDecrement(&sink_from(iface)->refs);
}

static HRESULT WINAPI sink_Write(IStream *iface, const void *buffer, ULONG size, ULONG *written)
{
    struct sink *sink = sink_from(iface);

    if (sink->size + size > sink->capacity)
    {
        sink->capacity = max(sink->capacity * 2, sink->size + size);
        sink->data = realloc(sink->data, sink->capacity);
    }
    memcpy(sink->data + sink->size, buffer, size);
    sink->size += size;
    if (written)
        *written = size;
    return S_OK;
}

static HRESULT WINAPI sink_unsupported(void)
{
    return E_NOTIMPL;
}

static const IStreamVtbl sink_vtbl = {
    sink_QueryInterface,
    sink_AddRef,
    sink_Release,
    (void *)sink_unsupported, /* Read */
    sink_Write,
    (void *)sink_unsupported, /* Seek */
    (void *)sink_unsupported, /* SetSize */
    (void *)sink_unsupported, /* CopyTo */
    (void *)sink_unsupported, /* Commit */
    (void *)sink_unsupported, /* Revert */
    (void *)sink_unsupported, /* LockRegion */
    (void *)sink_unsupported, /* UnlockRegion */
    (void *)sink_unsupported, /* Stat */
    (void *)sink_unsupported, /* Clone */
};

/* ---- a status callback that records what it is told ---- */

#define MAX_CALLS 4096

struct recorder
{
    IDODownloadStatusCallback iface;
    LONG refs;
    CRITICAL_SECTION lock;
    DO_DOWNLOAD_STATUS calls[MAX_CALLS];
    DWORD threads[MAX_CALLS];
    LONG count;
    BOOL bad_download; /* a call's download did not answer GetStatus */
    BOOL gone;         /* answer as a client whose process ended */
    HANDLE final;      /* set when a final or Transferred state arrives */
};

static struct recorder *recorder_from(IDODownloadStatusCallback *iface)
{
    return CONTAINING_RECORD(iface, struct recorder, iface);
}

static HRESULT WINAPI recorder_QueryInterface(IDODownloadStatusCallback *iface, REFIID riid,
                                              void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDODownloadStatusCallback))
    {
        *out = iface;
        IDODownloadStatusCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI recorder_AddRef(IDODownloadStatusCallback *iface)
{
    return InterlockedIncrement(&recorder_from(iface)->refs);
}

static ULONG WINAPI recorder_Release(IDODownloadStatusCallback *iface)
{
    return InterlockedDecrement(&recorder_from(iface)->refs);
}

static HRESULT WINAPI recorder_OnStatusChange(IDODownloadStatusCallback *iface,
                                              IDODownload *download,
                                              const DO_DOWNLOAD_STATUS *status)
{
    struct recorder *r = recorder_from(iface);
    DO_DOWNLOAD_STATUS now;

    /* The download handed in is usable (no lock of the server is held during the call). */
    if (FAILED(IDODownload_GetStatus(download, &now)))
        r->bad_download = TRUE;
    EnterCriticalSection(&r->lock);
    if (r->count < MAX_CALLS)
    {
        r->threads[r->count] = GetCurrentThreadId();
        r->calls[r->count++] = *status;
    }
    LeaveCriticalSection(&r->lock);
    if (status->State == DODownloadState_Transferred || status->State == DODownloadState_Aborted ||
        status->State == DODownloadState_Finalized)
        SetEvent(r->final);
    return r->gone ? RPC_E_DISCONNECTED : S_OK;
}

static const IDODownloadStatusCallbackVtbl recorder_vtbl = {
    recorder_QueryInterface,
    recorder_AddRef,
    recorder_Release,
    recorder_OnStatusChange,
};

static void recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof(*r));
    r->iface.lpVtbl = &recorder_vtbl;
    r->refs = 1;
    InitializeCriticalSection(&r->lock);
    r->final = CreateEventW(NULL, TRUE, FALSE, NULL);
}

/* Waits until nothing but the test holds the recorder: a download lets go of its callback
 * from its monitor thread, a moment after it stops using it, and a call in flight when the
 * callback was cleared may still arrive. */
static void recorder_wait_free(struct recorder *r)
{
    ULONGLONG end = GetTickCount64() + TIMEOUT;

    while (InterlockedCompareExchange(&r->refs, 0, 0) != 1)
    {
        if (GetTickCount64() > end)
            fail_msg("the callback is still held (%ld references)", r->refs);
        Sleep(10);
    }
}

/* Ends a recorder, which lives on the test's stack: once nothing holds it. */
static void recorder_clear(struct recorder *r)
{
    recorder_wait_free(r);
    DeleteCriticalSection(&r->lock);
    CloseHandle(r->final);
}

/* ---- IDOManager ---- */

static void test_manager(void **state)
{
    IClassFactory *factory = factory_of(&CLSID_OpenDOManager);
    IBackgroundCopyManager *bits;
    IDOManager *manager, *other;
    IEnumUnknown *downloads;

    /* Both classes serve the modern API; it is one object with the BITS-style manager. */
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IDOManager, (void **)&other));
    IClassFactory_Release(factory);
    IDOManager_Release(other);
    manager = do_manager();
    assert_hr(S_OK,
              IDOManager_QueryInterface(manager, &IID_IBackgroundCopyManager, (void **)&bits));
    assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(bits, &IID_IDOManager, (void **)&other));
    assert_ptr_equal(manager, other);
    IDOManager_Release(other);
    IBackgroundCopyManager_Release(bits);

    assert_hr(E_INVALIDARG, IDOManager_CreateDownload(manager, NULL));
    assert_hr(E_INVALIDARG, IDOManager_EnumDownloads(manager, NULL, NULL));
    {
        DO_DOWNLOAD_ENUM_CATEGORY bad = {DODownloadProperty_CostPolicy, L"1"};
        DO_DOWNLOAD_ENUM_CATEGORY no_value = {DODownloadProperty_Uri, NULL};
        assert_hr(E_INVALIDARG, IDOManager_EnumDownloads(manager, &bad, &downloads));
        assert_hr(E_INVALIDARG, IDOManager_EnumDownloads(manager, &no_value, &downloads));
    }
    IDOManager_Release(manager);
}

/* Counts the downloads EnumDownloads lists for `category`; each element is an IDODownload. */
static ULONG count_downloads(IDOManager *manager, DODownloadProperty property, const WCHAR *value)
{
    DO_DOWNLOAD_ENUM_CATEGORY category = {property, value};
    IEnumUnknown *downloads;
    IUnknown *item;
    IDODownload *download;
    ULONG count = 0, fetched;

    assert_hr(S_OK, IDOManager_EnumDownloads(manager, value ? &category : NULL, &downloads));
    while (IEnumUnknown_Next(downloads, 1, &item, &fetched) == S_OK)
    {
        assert_int_equal(1, fetched);
        assert_hr(S_OK, IUnknown_QueryInterface(item, &IID_IDODownload, (void **)&download));
        IDODownload_Release(download);
        IUnknown_Release(item);
        count++;
    }
    IEnumUnknown_Release(downloads);
    return count;
}

static void test_enum_downloads(void **state)
{
    IDOManager *manager = do_manager();
    IDODownload *a = new_download(manager), *b = new_download(manager);
    IBackgroundCopyManager *bits;
    IEnumBackgroundCopyJobs *jobs;
    VARIANT id;
    ULONG before, count;
    WCHAR *bare;

    before = count_downloads(manager, 0, NULL);
    assert_true(before >= 2);
    assert_hr(S_OK, set_str(a, DODownloadProperty_Uri, L"http://example.invalid/enum-a"));
    assert_hr(S_OK, set_str(b, DODownloadProperty_Uri, L"http://example.invalid/enum-b"));
    assert_hr(S_OK, set_str(a, DODownloadProperty_DisplayName, L"enum display"));
    assert_hr(S_OK, set_str(b, DODownloadProperty_DisplayName, L"enum display"));
    assert_hr(S_OK, set_str(a, DODownloadProperty_ContentId, L"enum-content"));
    assert_hr(S_OK, set_str(b, DODownloadProperty_LocalPath, L"C:\\enum\\b.bin"));

    assert_int_equal(
        1, count_downloads(manager, DODownloadProperty_Uri, L"http://example.invalid/enum-a"));
    assert_int_equal(
        0, count_downloads(manager, DODownloadProperty_Uri, L"http://example.invalid/enum-c"));
    assert_int_equal(2, count_downloads(manager, DODownloadProperty_DisplayName, L"enum display"));
    assert_int_equal(1, count_downloads(manager, DODownloadProperty_ContentId, L"enum-content"));
    assert_int_equal(1, count_downloads(manager, DODownloadProperty_LocalPath, L"C:\\enum\\b.bin"));
    assert_hr(S_OK, IDODownload_GetProperty(a, DODownloadProperty_Id, &id));
    assert_int_equal(1, count_downloads(manager, DODownloadProperty_Id, V_BSTR(&id)));
    /* Without braces as well. */
    bare = _wcsdup(V_BSTR(&id) + 1);
    bare[wcslen(bare) - 1] = 0;
    assert_int_equal(1, count_downloads(manager, DODownloadProperty_Id, bare));
    free(bare);

    /* Downloads are not BITS jobs: EnumJobs does not list them. */
    assert_hr(S_OK,
              IDOManager_QueryInterface(manager, &IID_IBackgroundCopyManager, (void **)&bits));
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(bits, 0, &jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(0, count);
    IEnumBackgroundCopyJobs_Release(jobs);
    IBackgroundCopyManager_Release(bits);

    /* They live on without their manager and their objects: a new manager finds them. */
    IDODownload_Release(b);
    IDOManager_Release(manager);
    manager = do_manager();
    assert_int_equal(2, count_downloads(manager, DODownloadProperty_DisplayName, L"enum display"));

    /* An aborted download is gone. */
    assert_hr(S_OK, IDODownload_Abort(a));
    assert_int_equal(0, count_downloads(manager, DODownloadProperty_Id, V_BSTR(&id)));
    assert_int_equal(1, count_downloads(manager, DODownloadProperty_DisplayName, L"enum display"));
    VariantClear(&id);
    IDODownload_Release(a);
    {
        DO_DOWNLOAD_ENUM_CATEGORY category = {DODownloadProperty_LocalPath, L"C:\\enum\\b.bin"};
        IEnumUnknown *downloads;
        IUnknown *item;

        assert_hr(S_OK, IDOManager_EnumDownloads(manager, &category, &downloads));
        assert_hr(S_OK, IEnumUnknown_Next(downloads, 1, &item, NULL));
        assert_hr(S_OK, IUnknown_QueryInterface(item, &IID_IDODownload, (void **)&b));
        assert_hr(S_OK, IDODownload_Abort(b));
        IDODownload_Release(b);
        IUnknown_Release(item);
        IEnumUnknown_Release(downloads);
    }
    IDOManager_Release(manager);
}

/* ---- properties ---- */

static void test_property_rules(void **state)
{
    IDOManager *manager = do_manager();
    IDODownload *download = new_download(manager);
    VARIANT value;
    GUID guid;

    /* Id: a GUID, read-only. */
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_Id, &value));
    assert_int_equal(VT_BSTR, V_VT(&value));
    assert_hr(S_OK, CLSIDFromString(V_BSTR(&value), &guid));
    VariantClear(&value);
    assert_hr(DO_E_READ_ONLY_PROPERTY, set_str(download, DODownloadProperty_Id, L"x"));

    /* Unknown ids, both ways; ids past the SDK header's are unknown too. */
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDODownload_GetProperty(download, 26, &value));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDODownload_GetProperty(download, 1000, &value));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_ui4(download, 1000, 1));
    assert_hr(E_INVALIDARG, IDODownload_GetProperty(download, DODownloadProperty_Uri, NULL));
    assert_hr(E_INVALIDARG, IDODownload_SetProperty(download, DODownloadProperty_Uri, NULL));

    /* Write-only properties. */
    assert_hr(DO_E_WRITE_ONLY_PROPERTY,
              IDODownload_GetProperty(download, DODownloadProperty_SecurityFlags, &value));
    assert_hr(DO_E_WRITE_ONLY_PROPERTY,
              IDODownload_GetProperty(download, DODownloadProperty_SecurityContext, &value));
    assert_hr(DO_E_WRITE_ONLY_PROPERTY,
              IDODownload_GetProperty(download, DODownloadProperty_NetworkToken, &value));
    assert_hr(DO_E_WRITE_ONLY_PROPERTY,
              IDODownload_GetProperty(download, DODownloadProperty_DecryptionInfo, &value));
    assert_hr(DO_E_WRITE_ONLY_PROPERTY,
              IDODownload_GetProperty(download, DODownloadProperty_IntegrityCheckInfo, &value));

    /* Never set. */
    assert_hr(E_NOT_SET_HR, IDODownload_GetProperty(download, DODownloadProperty_Uri, &value));
    assert_hr(E_NOT_SET_HR,
              IDODownload_GetProperty(download, DODownloadProperty_DisplayName, &value));
    assert_hr(E_NOT_SET_HR,
              IDODownload_GetProperty(download, DODownloadProperty_LocalPath, &value));
    assert_hr(E_NOT_SET_HR,
              IDODownload_GetProperty(download, DODownloadProperty_CallbackInterface, &value));
    assert_hr(E_NOT_SET_HR,
              IDODownload_GetProperty(download, DODownloadProperty_StreamInterface, &value));
    assert_hr(E_NOT_SET_HR,
              IDODownload_GetProperty(download, DODownloadProperty_TotalSizeBytes, &value));

    /* Defaults. */
    assert_hr(S_OK,
              IDODownload_GetProperty(download, DODownloadProperty_CallbackFreqSeconds, &value));
    assert_int_equal(VT_UI4, V_VT(&value));
    assert_int_equal(1, V_UI4(&value));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_BlockingMode, &value));
    assert_int_equal(VT_BOOL, V_VT(&value));
    assert_int_equal(VARIANT_FALSE, V_BOOL(&value));
    assert_hr(S_OK,
              IDODownload_GetProperty(download, DODownloadProperty_ForegroundPriority, &value));
    assert_int_equal(VARIANT_FALSE, V_BOOL(&value));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_NoProgressTimeoutSeconds,
                                            &value));
    assert_int_equal(86400, V_UI4(&value));

    /* Wrong VARIANT types and refused values. */
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_Uri, 1));
    assert_hr(E_INVALIDARG, set_str(download, DODownloadProperty_CostPolicy, L"1"));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_BlockingMode, 1));
    assert_hr(E_INVALIDARG, set_bool(download, DODownloadProperty_TotalSizeBytes, TRUE));
    assert_hr(E_INVALIDARG, set_str(download, DODownloadProperty_Uri, L""));
    assert_hr(E_INVALIDARG, set_str(download, DODownloadProperty_Uri, L"not a url"));
    assert_hr(E_INVALIDARG, set_str(download, DODownloadProperty_LocalPath, L"relative.bin"));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_NoProgressTimeoutSeconds, 59));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_CostPolicy, 6));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_CallbackFreqPercent, 101));
    assert_hr(E_INVALIDARG,
              set_unknown(download, DODownloadProperty_CallbackInterface, (IUnknown *)download));
    assert_hr(E_INVALIDARG,
              set_unknown(download, DODownloadProperty_StreamInterface, (IUnknown *)download));
    assert_hr(E_INVALIDARG,
              set_str(download, DODownloadProperty_HttpCustomHeaders, L"no colon here\r\n"));

    assert_hr(S_OK, IDODownload_Abort(download));
    IDODownload_Release(download);
    IDOManager_Release(manager);
}

/* Every property that can be set, set and (unless write-only) read back. */
static void test_property_values(void **state)
{
    static const struct
    {
        DODownloadProperty id;
        const WCHAR *text;
    } strings[] = {
        {DODownloadProperty_Uri, L"http://example.invalid/file.bin"},
        {DODownloadProperty_ContentId, L"content-1"},
        {DODownloadProperty_DisplayName, L"a display name"},
        {DODownloadProperty_LocalPath, L"C:\\values\\file.bin"},
        {DODownloadProperty_HttpCustomHeaders, L"X-One: 1\r\nX-Two: 2\r\n"},
        {DODownloadProperty_CorrelationVector, L"cv.1.2"},
        {DODownloadProperty_HttpCustomAuthHeaders, L"Authorization: Bearer x\r\n"},
    };
    static const struct
    {
        DODownloadProperty id;
        ULONG number;
    } numbers[] = {
        {DODownloadProperty_CostPolicy, DODownloadCostPolicy_NoCellular},
        {DODownloadProperty_CallbackFreqPercent, 25},
        {DODownloadProperty_CallbackFreqSeconds, 7},
        {DODownloadProperty_NoProgressTimeoutSeconds, 600},
    };
    static const DODownloadProperty flags[] = {
        DODownloadProperty_ForegroundPriority,
        DODownloadProperty_BlockingMode,
        DODownloadProperty_IntegrityCheckMandatory,
        DODownloadProperty_DisallowOnCellular,
        DODownloadProperty_HttpAllowSecureToNonSecureRedirect,
        DODownloadProperty_NonVolatile,
    };
    IDOManager *manager = do_manager();
    IDODownload *download = new_download(manager);
    struct recorder recorder;
    struct sink sink = {{&sink_vtbl}, 1};
    SAFEARRAY *array;
    VARIANT value;
    ULONG i;

    recorder_init(&recorder);
    for (i = 0; i < ARRAY_SIZE(strings); i++)
    {
        assert_hr(S_OK, set_str(download, strings[i].id, strings[i].text));
        assert_str_property(download, strings[i].id, strings[i].text);
    }
    for (i = 0; i < ARRAY_SIZE(numbers); i++)
    {
        assert_hr(S_OK, set_ui4(download, numbers[i].id, numbers[i].number));
        assert_hr(S_OK, IDODownload_GetProperty(download, numbers[i].id, &value));
        assert_int_equal(VT_UI4, V_VT(&value));
        assert_int_equal(numbers[i].number, V_UI4(&value));
    }
    /* A foreground download's default no-progress timeout is DO's hour, not its day. */
    {
        IDODownload *foreground = new_download(manager);
        assert_hr(S_OK, set_bool(foreground, DODownloadProperty_ForegroundPriority, TRUE));
        assert_hr(S_OK, IDODownload_GetProperty(
                            foreground, DODownloadProperty_NoProgressTimeoutSeconds, &value));
        assert_int_equal(3600, V_UI4(&value));
        assert_hr(S_OK, IDODownload_Abort(foreground));
        IDODownload_Release(foreground);
    }
    for (i = 0; i < ARRAY_SIZE(flags); i++)
    {
        assert_hr(S_OK, set_bool(download, flags[i], TRUE));
        assert_hr(S_OK, IDODownload_GetProperty(download, flags[i], &value));
        assert_int_equal(VT_BOOL, V_VT(&value));
        assert_int_equal(VARIANT_TRUE, V_BOOL(&value));
        assert_hr(S_OK, set_bool(download, flags[i], FALSE));
        assert_hr(S_OK, IDODownload_GetProperty(download, flags[i], &value));
        assert_int_equal(VARIANT_FALSE, V_BOOL(&value));
    }
    V_VT(&value) = VT_UI8;
    V_UI8(&value) = 0x123456789ull;
    assert_hr(S_OK, IDODownload_SetProperty(download, DODownloadProperty_TotalSizeBytes, &value));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_TotalSizeBytes, &value));
    assert_int_equal(VT_UI8, V_VT(&value));
    assert_true(V_UI8(&value) == 0x123456789ull);

    /* Write-only ones are taken. */
    assert_hr(S_OK, set_ui4(download, DODownloadProperty_SecurityFlags, 0x3300));
    assert_hr(S_OK, set_bool(download, DODownloadProperty_NetworkToken, TRUE));
    assert_hr(S_OK, set_str(download, DODownloadProperty_DecryptionInfo, L"{\"KeyData\":\"\"}"));
    assert_hr(S_OK, set_str(download, DODownloadProperty_IntegrityCheckInfo,
                            L"{\"PiecesHashFileUrl\":\"\"}"));
    array = SafeArrayCreateVector(VT_UI1, 0, 4);
    V_VT(&value) = VT_ARRAY | VT_UI1;
    V_ARRAY(&value) = array;
    assert_hr(S_OK, IDODownload_SetProperty(download, DODownloadProperty_SecurityContext, &value));
    SafeArrayDestroy(array);

    /* The callback reads back as the object given; clearing it makes it unset again. */
    assert_hr(S_OK, set_unknown(download, DODownloadProperty_CallbackInterface,
                                (IUnknown *)&recorder.iface));
    assert_hr(S_OK,
              IDODownload_GetProperty(download, DODownloadProperty_CallbackInterface, &value));
    assert_int_equal(VT_UNKNOWN, V_VT(&value));
    assert_ptr_equal(&recorder.iface, V_UNKNOWN(&value));
    VariantClear(&value);
    assert_hr(S_OK, set_unknown(download, DODownloadProperty_CallbackInterface, NULL));
    assert_hr(E_NOT_SET_HR,
              IDODownload_GetProperty(download, DODownloadProperty_CallbackInterface, &value));

    /* A stream and a local path exclude each other. */
    assert_hr(
        DO_E_FILE_DOWNLOADSINK_ALREADY_SET,
        set_unknown(download, DODownloadProperty_StreamInterface, (IUnknown *)&sink.IStream_iface));
    IDODownload_Abort(download);
    IDODownload_Release(download);

    download = new_download(manager);
    assert_hr(S_OK, set_unknown(download, DODownloadProperty_StreamInterface,
                                (IUnknown *)&sink.IStream_iface));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_StreamInterface, &value));
    assert_ptr_equal(&sink.IStream_iface, V_UNKNOWN(&value));
    VariantClear(&value);
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET,
              set_str(download, DODownloadProperty_LocalPath, L"C:\\values\\other.bin"));
    assert_hr(S_OK, IDODownload_Abort(download));
    IDODownload_Release(download);
    assert_int_equal(1, sink.refs);
    recorder_clear(&recorder);
    IDOManager_Release(manager);
}

/* ---- the state machine (spec section 11) ---- */

static void test_state_machine(void **state)
{
    IDOManager *manager = do_manager();
    IDODownload *download = new_download(manager);
    WCHAR dir[MAX_PATH], local[MAX_PATH], url[MAX_PATH];
    DO_DOWNLOAD_STATUS status;

    tu_scratch("dl_states", dir, ARRAY_SIZE(dir));
    status = status_of(download);
    assert_int_equal(DODownloadState_Created, status.State);
    assert_int_equal(0, status.BytesTransferred);
    assert_hr(E_INVALIDARG, IDODownload_GetStatus(download, NULL));

    /* Created: Finalize is illegal, Pause does nothing, Start checks what it needs. */
    assert_hr(DO_E_INVALID_STATE, IDODownload_Finalize(download));
    assert_hr(S_OK, IDODownload_Pause(download));
    assert_int_equal(DODownloadState_Created, status_of(download).State);
    assert_hr(DO_E_DOWNLOAD_NO_URI, IDODownload_Start(download, NULL));
    tu_url(url, ARRAY_SIZE(url), L"/hello.txt");
    assert_hr(S_OK, set_str(download, DODownloadProperty_Uri, url));
    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, IDODownload_Start(download, NULL));
    assert_int_equal(DODownloadState_Created, status_of(download).State);

    /* Aborted: everything but Abort is illegal, and nothing can be set. */
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_int_equal(DODownloadState_Aborted, status_of(download).State);
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Start(download, NULL));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Pause(download));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Finalize(download));
    assert_hr(DO_E_INVALID_STATE, set_str(download, DODownloadProperty_DisplayName, L"late"));
    IDODownload_Release(download);

    /* Created -> Transferring -> Transferred -> Finalized. */
    download = download_to(manager, L"/hello.txt", dir, L"hello.txt", local, ARRAY_SIZE(local));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_state(download, DODownloadState_Transferred);
    assert_int_equal(HELLO_SIZE, status.BytesTotal);
    assert_int_equal(HELLO_SIZE, status.BytesTransferred);
    assert_hr(S_OK, status.Error);
    assert_hr(S_OK, status.ExtendedError);
    /* Transferred: Start and Pause do nothing; the sink is fixed now. */
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_hr(S_OK, IDODownload_Pause(download));
    assert_int_equal(DODownloadState_Transferred, status_of(download).State);
    assert_hr(DO_E_INVALID_STATE,
              set_str(download, DODownloadProperty_LocalPath, L"C:\\elsewhere.txt"));
    assert_hr(DO_E_INVALID_STATE, set_str(download, DODownloadProperty_Uri, url));
    /* Until Finalize, the file is not there. */
    assert_false(tu_exists(local));
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_int_equal(DODownloadState_Finalized, status_of(download).State);
    assert_int_equal(HELLO_SIZE, tu_file_size(local));
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Start(download, NULL));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Pause(download));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Abort(download));
    IDODownload_Release(download);
    IDOManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_pause_resume(void **state)
{
    IDOManager *manager = do_manager();
    WCHAR dir[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    DO_DOWNLOAD_RANGES_INFO whole = {0};
    DO_DOWNLOAD_RANGES_INFO one = {1, {{0, 10}}};
    DO_DOWNLOAD_STATUS status;
    IDODownload *download;

    tu_scratch("dl_pause", dir, ARRAY_SIZE(dir));
    download = download_to(manager, L"/throttled/4m.bin", dir, L"4m.bin", local, ARRAY_SIZE(local));
    /* RangeCount 0 is the whole file, as winget passes it. */
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    assert_int_equal(DODownloadState_Transferring, status_of(download).State);
    assert_hr(DO_E_DOWNLOAD_RANGES_UNEXPECTED, IDODownload_Start(download, &one));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Finalize(download));
    assert_hr(S_OK, IDODownload_Pause(download));
    status = status_of(download);
    assert_int_equal(DODownloadState_Paused, status.State);
    assert_hr(S_OK, status.Error);
    assert_hr(DO_E_INVALID_STATE, IDODownload_Finalize(download));
    assert_hr(S_OK, IDODownload_Pause(download));
    assert_hr(DO_E_DOWNLOAD_RANGES_UNEXPECTED, IDODownload_Start(download, &one));
    /* Paused, the URI may change (the same file, another name). */
    {
        WCHAR url[MAX_PATH];
        tu_url(url, ARRAY_SIZE(url), L"/4m.bin");
        assert_hr(S_OK, set_str(download, DODownloadProperty_Uri, url));
        assert_str_property(download, DODownloadProperty_Uri, url);
    }
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_state(download, DODownloadState_Transferred);
    assert_int_equal(4 << 20, status.BytesTotal);
    assert_int_equal(4 << 20, status.BytesTransferred);
    assert_hr(S_OK, IDODownload_Finalize(download));
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    assert_true(tu_same_file(www, local));
    IDODownload_Release(download);
    IDOManager_Release(manager);
    tu_remove_tree(dir);
}

/* ---- ranges, streams, blocking mode ---- */

static void test_ranges(void **state)
{
    IDOManager *manager = do_manager();
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    struct
    {
        UINT RangeCount;
        DO_DOWNLOAD_RANGE Ranges[2];
    } ranges = {2, {{4096, 64}, {40000, 8}}}, overlapping = {2, {{0, 100}, {50, 100}}},
      empty = {1, {{0, 0}}};
    DO_DOWNLOAD_STATUS status;
    IDODownload *download;
    UINT32 words[18];
    HANDLE file;
    DWORD read;

    tu_scratch("dl_ranges", dir, ARRAY_SIZE(dir));
    download = download_to(manager, L"/ranges.bin", dir, L"r.bin", local, ARRAY_SIZE(local));
    assert_hr(DO_E_OVERLAPPING_RANGES,
              IDODownload_Start(download, (DO_DOWNLOAD_RANGES_INFO *)&overlapping));
    assert_hr(DO_E_INVALID_RANGE, IDODownload_Start(download, (DO_DOWNLOAD_RANGES_INFO *)&empty));
    assert_int_equal(DODownloadState_Created, status_of(download).State);
    assert_hr(S_OK, IDODownload_Start(download, (DO_DOWNLOAD_RANGES_INFO *)&ranges));
    status = wait_state(download, DODownloadState_Transferred);
    assert_int_equal(72, status.BytesTotal);
    assert_int_equal(72, status.BytesTransferred);
    /* Another portion of a transferred file is not supported. */
    assert_hr(DO_E_INVALID_STATE, IDODownload_Start(download, (DO_DOWNLOAD_RANGES_INFO *)&ranges));
    assert_hr(S_OK, IDODownload_Finalize(download));

    /* ranges.bin holds each 4-byte word's index: the ranges' bytes, back to back. */
    file = CreateFileW(local, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(ReadFile(file, words, sizeof(words), &read, NULL));
    CloseHandle(file);
    assert_int_equal(72, read);
    for (int i = 0; i < 16; i++)
        assert_int_equal(4096 / 4 + i, words[i]);
    assert_int_equal(40000 / 4, words[16]);
    assert_int_equal(40000 / 4 + 1, words[17]);
    IDODownload_Release(download);
    IDOManager_Release(manager);
    tu_remove_tree(dir);
}

static BYTE *read_whole(const WCHAR *path, SIZE_T *size)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    LARGE_INTEGER length;
    BYTE *data;
    DWORD read;

    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(GetFileSizeEx(file, &length));
    data = malloc(length.QuadPart ? length.QuadPart : 1);
    assert_true(ReadFile(file, data, (DWORD)length.QuadPart, &read, NULL));
    CloseHandle(file);
    *size = read;
    return data;
}

static void test_stream(void **state)
{
    IDOManager *manager = do_manager();
    struct sink sink = {{&sink_vtbl}, 1};
    WCHAR dir[MAX_PATH], url[MAX_PATH], www[MAX_PATH];
    DO_DOWNLOAD_STATUS status;
    IDODownload *download;
    SIZE_T size;
    BYTE *expected;

    tu_scratch("dl_stream", dir, ARRAY_SIZE(dir));
    download = new_download(manager);
    tu_url(url, ARRAY_SIZE(url), L"/4m.bin");
    assert_hr(S_OK, set_str(download, DODownloadProperty_Uri, url));
    assert_hr(S_OK, set_unknown(download, DODownloadProperty_StreamInterface,
                                (IUnknown *)&sink.IStream_iface));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_state(download, DODownloadState_Transferred);
    assert_int_equal(4 << 20, status.BytesTransferred);
    assert_hr(DO_E_INVALID_STATE, set_unknown(download, DODownloadProperty_StreamInterface, NULL));
    assert_hr(S_OK, IDODownload_Finalize(download));

    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    expected = read_whole(www, &size);
    assert_int_equal(size, sink.size);
    assert_memory_equal(expected, sink.data, size);
    free(expected);
    free(sink.data);
    /* Nothing on disk. */
    assert_int_equal(0, tu_count(dir, L"*"));
    IDODownload_Release(download);
    IDOManager_Release(manager);
    assert_int_equal(1, sink.refs);
    tu_remove_tree(dir);
}

static void test_blocking(void **state)
{
    IDOManager *manager = do_manager();
    WCHAR dir[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    DO_DOWNLOAD_STATUS status;
    IDODownload *download;

    tu_scratch("dl_blocking", dir, ARRAY_SIZE(dir));
    download = download_to(manager, L"/throttled/4m.bin", dir, L"b.bin", local, ARRAY_SIZE(local));
    assert_hr(S_OK, set_bool(download, DODownloadProperty_BlockingMode, TRUE));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    /* Start returned: the download is done, not merely started. */
    status = status_of(download);
    assert_int_equal(DODownloadState_Transferred, status.State);
    assert_int_equal(4 << 20, status.BytesTransferred);
    assert_hr(S_OK, IDODownload_Finalize(download));
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    assert_true(tu_same_file(www, local));
    IDODownload_Release(download);
    IDOManager_Release(manager);
    tu_remove_tree(dir);
}

/* SecurityFlags (WinHTTP's values) reach the transfer: the test server's certificate is
 * self-signed and names another host. */
static void test_security_flags(void **state)
{
    IDOManager *manager = do_manager();
    WCHAR dir[MAX_PATH], local[MAX_PATH], url[MAX_PATH];
    DO_DOWNLOAD_STATUS status;
    IDODownload *strict, *lenient;

    tu_scratch("dl_security", dir, ARRAY_SIZE(dir));
    swprintf(url, ARRAY_SIZE(url), L"https://127.0.0.1:%d/hello.txt", tu_nginx_port(L"https_port"));
    strict = new_download(manager);
    tu_path(local, ARRAY_SIZE(local), dir, L"strict.txt");
    assert_hr(S_OK, set_str(strict, DODownloadProperty_Uri, url));
    assert_hr(S_OK, set_str(strict, DODownloadProperty_LocalPath, local));
    assert_hr(S_OK, IDODownload_Start(strict, NULL));
    status = wait_state(strict, DODownloadState_Paused);
    assert_true(FAILED(status.Error));

    lenient = new_download(manager);
    tu_path(local, ARRAY_SIZE(local), dir, L"lenient.txt");
    assert_hr(S_OK, set_str(lenient, DODownloadProperty_Uri, url));
    assert_hr(S_OK, set_str(lenient, DODownloadProperty_LocalPath, local));
    /* SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID */
    assert_hr(S_OK, set_ui4(lenient, DODownloadProperty_SecurityFlags, 0x100 | 0x1000));
    assert_hr(S_OK, IDODownload_Start(lenient, NULL));
    wait_state(lenient, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(lenient));
    assert_int_equal(14, tu_file_size(local));

    assert_hr(S_OK, IDODownload_Abort(strict));
    IDODownload_Release(strict);
    IDODownload_Release(lenient);
    IDOManager_Release(manager);
    tu_remove_tree(dir);
}

/* A redirect to another origin (another host name for the same server) is followed: the
 * answer is read over the connection made for that origin. */
static void test_redirect_to_another_origin(void **state)
{
    IDOManager *manager = do_manager();
    IDODownload *download = new_download(manager);
    WCHAR dir[MAX_PATH], local[MAX_PATH], url[MAX_PATH];

    tu_scratch("dl_other_origin", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"/to-localhost/hello.txt");
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    assert_hr(S_OK, set_str(download, DODownloadProperty_Uri, url));
    assert_hr(S_OK, set_str(download, DODownloadProperty_LocalPath, local));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    wait_state(download, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_int_equal(14, tu_file_size(local));
    IDODownload_Release(download);
    IDOManager_Release(manager);
    tu_remove_tree(dir);
}

/* ---- status callbacks ---- */

/* A real 64 MiB download with a status callback: progress only grows, the last status is
 * exact, the bytes are the served file's. */
static void test_callback_64m(void **state)
{
    IDOManager *manager = do_manager();
    WCHAR dir[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    struct recorder recorder;
    DO_DOWNLOAD_STATUS last;
    IDODownload *download;
    LONG transferring = 0;

    recorder_init(&recorder);
    tu_scratch("dl_64m", dir, ARRAY_SIZE(dir));
    /* Throttled (2 MB/s a connection): long enough for many callbacks by percent and time. */
    download =
        download_to(manager, L"/throttled/64m.bin", dir, L"64m.bin", local, ARRAY_SIZE(local));
    assert_hr(S_OK, set_unknown(download, DODownloadProperty_CallbackInterface,
                                (IUnknown *)&recorder.iface));
    assert_hr(S_OK, set_ui4(download, DODownloadProperty_CallbackFreqPercent, 5));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    if (WaitForSingleObject(recorder.final, TIMEOUT * 2))
        fail_msg("no Transferred status within %u ms (%ld calls)", TIMEOUT * 2, recorder.count);
    assert_false(recorder.bad_download);

    EnterCriticalSection(&recorder.lock);
    assert_true(recorder.count >= 2);
    for (LONG i = 1; i < recorder.count; i++)
    {
        if (recorder.calls[i].BytesTransferred < recorder.calls[i - 1].BytesTransferred)
            fail_msg("progress went back: %I64u after %I64u (call %ld)",
                     recorder.calls[i].BytesTransferred, recorder.calls[i - 1].BytesTransferred, i);
        if (recorder.calls[i].State == DODownloadState_Transferring)
            transferring++;
    }
    last = recorder.calls[recorder.count - 1];
    LeaveCriticalSection(&recorder.lock);
    assert_true(transferring >= 1);
    assert_int_equal(DODownloadState_Transferred, last.State);
    assert_true(last.BytesTotal == SIZE_64M);
    assert_true(last.BytesTransferred == SIZE_64M);
    assert_hr(S_OK, last.Error);
    assert_hr(S_OK, last.ExtendedError);

    assert_hr(S_OK, IDODownload_Finalize(download));
    tu_www(www, ARRAY_SIZE(www), L"64m.bin");
    assert_true(tu_same_file(www, local));
    /* Finalized is reported too, and then the callback is let go. */
    recorder_wait_free(&recorder);
    assert_int_equal(DODownloadState_Finalized, recorder.calls[recorder.count - 1].State);
    IDODownload_Release(download);
    IDOManager_Release(manager);
    recorder_clear(&recorder);
    tu_remove_tree(dir);
}

/* A callback whose client is gone (RPC_E_DISCONNECTED) is dropped: no more calls, and the
 * download lets go of it. */
static void test_callback_gone(void **state)
{
    IDOManager *manager = do_manager();
    IDODownload *download = new_download(manager);
    ULONGLONG end = GetTickCount64() + TIMEOUT;
    struct recorder recorder;
    VARIANT value;
    HRESULT hr;

    recorder_init(&recorder);
    recorder.gone = TRUE;
    assert_hr(S_OK, set_unknown(download, DODownloadProperty_CallbackInterface,
                                (IUnknown *)&recorder.iface));
    while ((hr = IDODownload_GetProperty(download, DODownloadProperty_CallbackInterface, &value)) ==
           S_OK)
    {
        VariantClear(&value);
        if (GetTickCount64() > end)
            fail_msg("the callback was kept after it answered RPC_E_DISCONNECTED");
        Sleep(10);
    }
    assert_hr(E_NOT_SET_HR, hr);
    assert_int_equal(1, recorder.count);
    /* The monitor lets go of the callback as it ends, a moment after the download stops
     * showing it. */
    recorder_wait_free(&recorder);
    assert_hr(S_OK, IDODownload_Abort(download));
    Sleep(300);
    assert_int_equal(1, recorder.count);
    assert_int_equal(1, recorder.refs);
    IDODownload_Release(download);
    IDOManager_Release(manager);
    recorder_clear(&recorder);
}

/* What the STA thread of test_callback_sta works with. */
struct sta_args
{
    struct recorder *recorder;
    const WCHAR *dir;
    DWORD thread;
    HRESULT hr; /* the first failure, checked by the test's own thread */
};

static DWORD WINAPI sta_main(void *arg)
{
    struct sta_args *args = arg;
    ULONGLONG end = GetTickCount64() + TIMEOUT;
    IClassFactory *factory = factory_of(&CLSID_DeliveryOptimization);
    IDOManager *manager = NULL;
    IDODownload *download = NULL;
    WCHAR url[MAX_PATH], local[MAX_PATH];
    HRESULT hr;
    MSG msg;

    /* CMocka's assertions belong to the test's thread: here failures are only recorded. */
    args->thread = GetCurrentThreadId();
    CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
    tu_url(url, ARRAY_SIZE(url), L"/hello.txt");
    tu_path(local, ARRAY_SIZE(local), args->dir, L"sta.txt");
    if (FAILED(
            hr = IClassFactory_CreateInstance(factory, NULL, &IID_IDOManager, (void **)&manager)) ||
        FAILED(hr = IDOManager_CreateDownload(manager, &download)) ||
        FAILED(hr = set_str(download, DODownloadProperty_Uri, url)) ||
        FAILED(hr = set_str(download, DODownloadProperty_LocalPath, local)) ||
        FAILED(hr = set_unknown(download, DODownloadProperty_CallbackInterface,
                                (IUnknown *)&args->recorder->iface)) ||
        FAILED(hr = IDODownload_Start(download, NULL)))
        args->hr = hr;
    /* The callbacks arrive as messages of this apartment. */
    while (SUCCEEDED(args->hr) && WaitForSingleObject(args->recorder->final, 0) &&
           GetTickCount64() < end)
    {
        MsgWaitForMultipleObjects(1, &args->recorder->final, FALSE, 50, QS_ALLINPUT);
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
            DispatchMessageW(&msg);
    }
    if (download)
    {
        IDODownload_Abort(download);
        set_unknown(download, DODownloadProperty_CallbackInterface, NULL);
        IDODownload_Release(download);
    }
    if (manager)
        IDOManager_Release(manager);
    IClassFactory_Release(factory);
    CoUninitialize();
    return 0;
}

/* A client in a single-threaded apartment is called on its own thread, through its messages. */
static void test_callback_sta(void **state)
{
    struct recorder recorder;
    struct sta_args args = {&recorder};
    WCHAR dir[MAX_PATH];
    HANDLE thread;

    recorder_init(&recorder);
    tu_scratch("dl_sta", dir, ARRAY_SIZE(dir));
    args.dir = dir;
    thread = CreateThread(NULL, 0, sta_main, &args, 0, NULL);
    assert_non_null(thread);
    assert_int_equal(WAIT_OBJECT_0, WaitForSingleObject(thread, TIMEOUT * 2));
    CloseHandle(thread);
    assert_hr(S_OK, args.hr);
    assert_true(WaitForSingleObject(recorder.final, 0) == WAIT_OBJECT_0);
    /* The monitor's first look may come after the small file is in: one call at least. */
    assert_true(recorder.count >= 1);
    assert_int_equal(DODownloadState_Transferred, recorder.calls[recorder.count - 1].State);
    for (LONG i = 0; i < recorder.count; i++)
        assert_int_equal(args.thread, recorder.threads[i]);
    recorder_clear(&recorder);
    tu_remove_tree(dir);
}

/* ---- the job store: downloads outlive their process ---- */

/* Helper process: starts a download of `url` into `local` named `name`, with properties the
 * adopting process checks, and dies in the middle of the transfer, as a crash would. */
static int helper_make(WCHAR **args)
{
    IDOManager *manager = do_manager();
    IDODownload *download = new_download(manager);
    ULONGLONG end = GetTickCount64() + TIMEOUT;

    if (FAILED(set_str(download, DODownloadProperty_Uri, args[0])) ||
        FAILED(set_str(download, DODownloadProperty_LocalPath, args[1])) ||
        FAILED(set_str(download, DODownloadProperty_DisplayName, args[2])) ||
        FAILED(set_str(download, DODownloadProperty_ContentId, L"adopted-content")) ||
        FAILED(set_ui4(download, DODownloadProperty_CostPolicy, DODownloadCostPolicy_NoRoaming)) ||
        FAILED(set_ui4(download, DODownloadProperty_CallbackFreqSeconds, 5)) ||
        FAILED(IDODownload_Start(download, NULL)))
        return 3;
    while (status_of(download).BytesTransferred < (1u << 20))
    {
        if (GetTickCount64() > end)
            return 4;
        Sleep(10);
    }
    /* The record is written within a second of a change. */
    Sleep(1500);
    TerminateProcess(GetCurrentProcess(), 0);
    return 5;
}

/* A download whose process died is in the store: another process lists it, with its
 * properties, adopts it and finishes it. */
static void test_adopted(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    DO_DOWNLOAD_ENUM_CATEGORY category = {DODownloadProperty_DisplayName, L"adopt me"};
    ULONGLONG end = GetTickCount64() + TIMEOUT;
    IEnumUnknown *downloads;
    DO_DOWNLOAD_STATUS status;
    IDODownload *download;
    IDOManager *manager;
    IUnknown *item = NULL;
    HANDLE helper;
    VARIANT value;
    DWORD code;

    tu_scratch("dl_adopted", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"/throttled/24m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"24m.bin");
    helper = tu_start_helper(NULL, L"make", url, local, L"adopt me");
    assert_int_equal(WAIT_OBJECT_0, WaitForSingleObject(helper, TIMEOUT));
    GetExitCodeProcess(helper, &code);
    CloseHandle(helper);
    assert_int_equal(0, code);

    manager = do_manager();
    for (;;)
    {
        assert_hr(S_OK, IDOManager_EnumDownloads(manager, &category, &downloads));
        IEnumUnknown_Next(downloads, 1, &item, NULL);
        IEnumUnknown_Release(downloads);
        if (item)
            break;
        if (GetTickCount64() > end)
            fail_msg("the helper's download was not found within %u ms", TIMEOUT);
        Sleep(50);
    }
    assert_hr(S_OK, IUnknown_QueryInterface(item, &IID_IDODownload, (void **)&download));
    IUnknown_Release(item);
    assert_str_property(download, DODownloadProperty_Uri, url);
    assert_str_property(download, DODownloadProperty_LocalPath, local);
    assert_str_property(download, DODownloadProperty_ContentId, L"adopted-content");
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_CostPolicy, &value));
    assert_int_equal(DODownloadCostPolicy_NoRoaming, V_UI4(&value));
    assert_hr(S_OK,
              IDODownload_GetProperty(download, DODownloadProperty_CallbackFreqSeconds, &value));
    assert_int_equal(5, V_UI4(&value));
    /* It goes on here, from where the helper was. */
    status = wait_state(download, DODownloadState_Transferred);
    assert_int_equal(24 << 20, status.BytesTransferred);
    assert_hr(S_OK, IDODownload_Finalize(download));
    tu_www(www, ARRAY_SIZE(www), L"24m.bin");
    assert_true(tu_same_file(www, local));
    IDODownload_Release(download);
    IDOManager_Release(manager);
    tu_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manager),
        cmocka_unit_test(test_enum_downloads),
        cmocka_unit_test(test_property_rules),
        cmocka_unit_test(test_property_values),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_blocking),
        cmocka_unit_test(test_security_flags),
        cmocka_unit_test(test_redirect_to_another_origin),
        cmocka_unit_test(test_callback_64m),
        cmocka_unit_test(test_callback_sta),
        cmocka_unit_test(test_callback_gone),
        cmocka_unit_test(test_adopted),
    };
    int argc;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);

    if (argc >= 6 && !wcscmp(argv[1], L"helper") && !wcscmp(argv[2], L"make"))
    {
        int result;
        CoInitializeEx(NULL, COINIT_MULTITHREADED);
        result = helper_make(argv + 3);
        CoUninitialize();
        return result;
    }
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
